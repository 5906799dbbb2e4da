"""Identity resolution: one member per person, many names.

The resolver keeps an in-memory index of a group's names and decides, for each name a
transcript or roster shows, which member it belongs to — on evidence only:

* the same exact (normalized) name in the same group;
* the two names of a merged-export pair (the strongest evidence there is);
* a bare header name and the one well-formed group nickname of that group whose
  personal-name part it is (``鸽子`` / ``鸽子-支付产品-上海``), as mentions and quotes show;
* a renamed nickname that keeps the person's name and company
  (``程琳Wa-杉德支付-产品-上海`` / ``程琳-杉德支付-PM``);
* the same well-formed nickname (name, company and role) in another group;
* ``我`` as the member who exported the files;
* a quote: its name is a name of whoever sent the quoted message (``importer.quotes``), and an
  announcement: the name it @mentioned is a name of the member who gave the announced talk — both
  through ``link_name``, which merges only when nothing contradicts (a weak name, or both members
  posting in that day under their own names, make a suggestion instead).

Weak names (``王``, ``Daniel``) never merge on their own: a candidate link too weak to
merge is kept as a ``NameLink`` suggestion. Every automatic link is recorded with its
evidence as a ``MemberMerge``.

Evidence never reaches past the uploader's groups. An import started by a user (a web
upload) acts for that user: evidence that points at a member out of their reach
(``community.permissions.members_out_of_reach``: a login, or a role or a seat in a group
they do not run) links nothing and merges nothing; the name gets a member of its own and
the pair is kept as a suggestion (``why_not_merged``: ``OUT_OF_REACH``), which only staff,
or someone who runs every group involved, can confirm. The exact name a member already
has in this group's record is not evidence but the record itself: it resolves as before.
An import from the command line (no user: an operator) and a staff upload are not limited.

Admins' decisions win over evidence. Two members an admin split apart (a ``MemberMerge``
with action split) or whose suggested link an admin rejected are kept apart: never merged
(not even by a merged-export pair), never suggested again; and a name split off a member
never links to that member again. The resolver reads these decisions once, with two
queries, when it loads a group (not per name).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from community.lengths import max_length
from community.models import Member, MemberMerge, Membership, Name, NameLink, NameLinkStatus, NameSource
from community.names import is_weak_name, name_core, normalize_name, parse_nickname
from community.permissions import members_out_of_reach
from community.services import OUT_OF_REACH, member_merge, member_parts_update, name_link_suggest

from .sql import names_counts_update, names_elsewhere, newest_name_id, rows_insert

ME = "我"
# Names cut to what their columns hold (read from the models, never copied).
NAME_MAX = max_length(Name, "name")
DISPLAY_NAME_MAX = max_length(Member, "display_name")
MERGED_NAME_MAX = max_length(MemberMerge, "merged_name")


# The columns a member created from a name is inserted with (``IdentityResolver._create_member``).
_MEMBER_COLUMNS = ("display_name", "name", "company", "position", "city", "import_run")


@dataclass
class NameSeen:
    member_id: int
    name: str
    normalized: str
    source: str
    first: dt.datetime | None
    last: dt.datetime | None
    times: int = 0
    pk: int | None = None
    dirty: bool = False
    run: int | None = None  # the import run that created the row


@dataclass
class ResolverStats:
    members_created: int = 0
    names_created: int = 0
    members_merged: int = 0
    suggestions: int = 0


@dataclass
class IdentityResolver:
    group_id: int
    import_run: int | None = None
    me_name: str = ""
    by_norm: dict[str, int] = field(default_factory=dict)
    by_core: dict[str, set[int]] = field(default_factory=dict)
    company_keys: dict[tuple[str, str], set[int]] = field(default_factory=dict)
    names: dict[tuple[int, str, str], NameSeen] = field(default_factory=dict)
    last_name_id: int = 0
    stats: ResolverStats = field(default_factory=ResolverStats)
    me_member_id: int | None = None
    other_groups: dict[str, list[int]] = field(default_factory=dict)
    owner: int | None = None
    owner_known: bool = False
    # member id -> joined_at of the group's memberships, read once (None: not read yet).
    joined: dict[int, dt.datetime | None] | None = None
    # member ids of the group's pending memberships (accepted applicants), read once.
    pending: set[int] | None = None
    # Admins' decisions: pairs of members to keep apart, and the names split off a member in
    # this group (member id -> normalized names). None: not read yet.
    apart: set[frozenset[int]] | None = None
    split_off: dict[int, set[str]] = field(default_factory=dict)
    # Who the import acts for: the uploading user; None on the command line (an operator, not
    # limited). The members out of that user's reach are read once, when first needed.
    user: object | None = None
    beyond: set[int] | None = None
    # Members the evidence for the name being resolved pointed at, out of reach: (id, rule).
    blocked: list[tuple[int, str]] = field(default_factory=list)
    # Members this run created (undoing it deletes them and their rows: nothing of theirs is journaled).
    created_members: set[int] = field(default_factory=set)
    # The run's journal (``importer.journal.RunJournal``): names of earlier runs are kept in it
    # before their counts change. None: nothing is kept (a dry run of the resolver alone).
    journal: object | None = None
    # Links recorded by evidence (``MemberMerge`` rows), written by ``flush`` in one insert.
    records: list = field(default_factory=list)
    # Members merged away in this run -> the member each lives on in.
    moved: dict[int, int] = field(default_factory=dict)

    # Loading -----------------------------------------------------------------

    def refresh(self) -> None:
        """Read the group's names created since the last refresh (another import may have added some)."""
        if self.last_name_id and newest_name_id(self.group_id) <= self.last_name_id:
            return  # the usual case, checked with one cheap statement
        rows = (
            Name.objects.filter(group_id=self.group_id, id__gt=self.last_name_id)
            .values_list("id", "member_id", "name", "normalized", "source", "first_seen", "last_seen", "times_seen",
                         "import_run")
            .order_by("id")
        )
        for pk, member_id, name, normalized, source, first, last, times, run in rows:
            self.names[(member_id, normalized, source)] = NameSeen(member_id, name, normalized, source, first, last, times, pk,
                                                                   run=run)
            self._index(name, normalized, member_id)
            self.last_name_id = max(self.last_name_id, pk)

    def reload(self) -> None:
        """Forget everything (after a rolled-back file) and read the group's names again."""
        self.by_norm.clear()
        self.by_core.clear()
        self.company_keys.clear()
        self.names.clear()
        self.joined = None
        self.owner_known = False
        self.last_name_id = 0
        self.apart = None
        self.split_off.clear()
        self.beyond = None
        self.created_members.clear()
        self.me_member_id = None
        self.pending = None
        self.other_groups.clear()
        self.records.clear()
        self.moved.clear()
        self.refresh()

    def _load_decisions(self) -> None:
        """The pairs admins kept apart, and the names they split off, in two queries, read
        when first needed (a run of unchanged files never reads them).

        Every split and every rejected link counts, whatever its group: two people are two
        people everywhere. Only the split names of this group bar a name from a member."""
        self.apart = set()
        self.split_off.clear()
        splits = MemberMerge.objects.filter(action=MemberMerge.Action.SPLIT, merged_member_id__isnull=False)
        for new_id, old_id, evidence in splits.order_by().values_list("into_id", "merged_member_id", "evidence"):
            if new_id != old_id:  # merged back together by an admin since
                self.apart.add(frozenset((new_id, old_id)))
            if isinstance(evidence, dict) and evidence.get("group") == self.group_id:
                self.split_off.setdefault(old_id, set()).update(evidence.get("normalized") or ())
        rejected = NameLink.objects.filter(status=NameLinkStatus.REJECTED).values_list("member_id", "other_id")
        self.apart.update(frozenset(pair) for pair in rejected)

    def kept_apart(self, a: int, b: int) -> bool:
        """An admin decided that members ``a`` and ``b`` are two people."""
        if self.apart is None:
            self._load_decisions()
        return bool(self.apart) and frozenset((a, b)) in self.apart

    def split_off_from(self, member_id: int) -> set[str]:
        """The normalized names an admin split off ``member_id`` in this group."""
        if self.apart is None:
            self._load_decisions()
        return self.split_off.get(member_id, set())

    def limited(self) -> bool:
        """The import acts for a user whose reach is limited (a group admin, not staff or an operator)."""
        return self.user is not None and not getattr(self.user, "is_staff", False)

    def out_of_reach(self, member_id: int) -> bool:
        """Member ``member_id`` is out of reach of the user the import acts for (one query, once per run)."""
        if not self.limited():
            return False
        if self.beyond is None:
            self.beyond = members_out_of_reach(user=self.user)
        return member_id in self.beyond

    def suggest_out_of_reach(self, member_id: int, other: int, evidence: dict) -> None:
        """Keep ``member_id`` and ``other`` (out of reach) apart, as a suggestion with its evidence."""
        if other == member_id or self.kept_apart(member_id, other):
            return
        if self._link_suggest(member_id, other, {**evidence, "group": self.group_id, "why_not_merged": OUT_OF_REACH}):
            self.stats.suggestions += 1

    def _index(self, name: str, normalized: str, member_id: int) -> None:
        self.by_norm.setdefault(normalized, member_id)
        core = name_core(name)
        if core and core != normalized:
            # A longer nickname: remember whose personal name its core is.
            self.by_core.setdefault(core, set()).add(member_id)
            parts = parse_nickname(name)
            if parts is not None:
                self.company_keys.setdefault((core, normalize_name(parts.company)), set()).add(member_id)

    # Resolving ---------------------------------------------------------------

    def resolve_me(self, owner_member_id: int | None) -> int:
        """The member behind ``我``: ``--me``, else the group's owner, else a member named ``我``."""
        if self.me_member_id is not None:
            return self.me_member_id
        if self.me_name and normalize_name(self.me_name) != normalize_name(ME):
            self.me_member_id = self.resolve(self.me_name, NameSource.MANUAL, None, create=True)
        elif owner_member_id is not None:
            self.me_member_id = owner_member_id
        else:
            self.me_member_id = self.resolve(ME, NameSource.HEADER, None, create=True)
        return self.me_member_id

    def resolve(self, name: str, source: str, seen_at: dt.datetime | None, *, create: bool = True,
                last: dt.datetime | None = None, times: int = 1) -> int | None:
        """The member id for a name seen in this group; creates a member when ``create`` and nothing links."""
        normalized = normalize_name(name)
        if not normalized:
            return None
        member_id = self.by_norm.get(normalized)
        self.blocked = []
        if member_id is None:
            member_id = self._link_by_evidence(name, normalized)
        if member_id is None:
            if not create:
                return None
            member_id = self._create_member(name)
            self._suggest_weak_links(name, member_id)
            for other, why in self.blocked:
                self.suggest_out_of_reach(member_id, other, {"rule": why, "name": name})
        self.see(member_id, name, normalized, source, seen_at, last=last, times=times)
        return member_id

    def _link_by_evidence(self, name: str, normalized: str, *, record: bool = True) -> int | None:
        """The member the name rules tie ``name`` to (recorded as a link when ``record``), or None."""
        core = name_core(name)
        if core and core != normalized and not is_weak_name(core):
            # A longer nickname (``鸽子-支付产品-上海``, ``唐帆—翼支付-云南``).
            parts = parse_nickname(name)
            if parts is not None:
                # A renamed nickname keeping the person's name and company.
                same = self.company_keys.get((core, normalize_name(parts.company)), set())
                if len(same) == 1:
                    return self._linked(next(iter(same)), name, "same name and company as an earlier nickname", record)
            # The bare header name that is this nickname's personal name, when no other
            # member of the group has a nickname with that personal name.
            bare = self.by_norm.get(core)
            if bare is not None and not (self.by_core.get(core, set()) - {bare}):
                return self._linked(bare, name, "bare name equals the nickname's personal name", record)
            if parts is not None:
                others = self._elsewhere(normalized)
                if len(others) == 1:
                    return self._linked(others[0], name, "the same well-formed nickname in another group", record)
            return None
        if core == normalized and not is_weak_name(normalized):
            # A bare name: the one longer nickname of this group whose personal name it is.
            candidates = self.by_core.get(normalized, set())
            if len(candidates) == 1:
                return self._linked(next(iter(candidates)), name, "the nickname's personal name", record)
        return None

    def elsewhere_prefetch(self, names: Iterable[str]) -> None:
        """Read, in one query, the members that other groups know under these names (evidence for a
        name new to this group, ``_elsewhere``): a day's mentions and quotes cost one query, not one
        per name."""
        # Each distinct name once (a day's mentions repeat), as ``_link_by_evidence`` would look it up;
        # a name known already is not parsed (most of a day's names are).
        wanted = set()
        for name in set(names):
            normalized = normalize_name(name)
            if (normalized and normalized not in self.by_norm and normalized not in self.other_groups
                    and parse_nickname(name) is not None):
                wanted.add(normalized)
        if not wanted:
            return
        found = names_elsewhere(self.group_id, wanted)
        for normalized in wanted:
            self.other_groups[normalized] = sorted(found.get(normalized, ()))[:2]

    def _elsewhere(self, normalized: str) -> list[int]:
        """Members known under this exact name in other groups (looked up once per run)."""
        if normalized not in self.other_groups:
            self.other_groups[normalized] = sorted(names_elsewhere(self.group_id, [normalized]).get(normalized, ()))[:2]
        return self.other_groups[normalized]

    def _linked(self, member_id: int, name: str, why: str, record: bool = True) -> int | None:
        if normalize_name(name) in self.split_off_from(member_id):
            return None  # an admin split this name off that member: the evidence does not count
        if self.out_of_reach(member_id):
            self.blocked.append((member_id, why))  # a member of its own, and a suggestion
            return None
        if record:
            self._merge_record(member_id, name, {"rule": why, "name": name, "group": self.group_id})
            self.stats.members_merged += 1
        return member_id

    # What the resolver writes while it resolves, as methods: the roster's resolver defers them to
    # its chunk's write (``importer.services._RosterResolver``).

    def _merge_record(self, member_id: int, name: str, evidence: dict) -> None:
        """Record that ``name`` was linked to ``member_id`` by evidence (written with the names, by ``flush``)."""
        self.records.append(MemberMerge(into_id=member_id, merged_name=name[:MERGED_NAME_MAX], evidence=evidence))

    def link_name(self, member_id: int, name: str, source: str, seen_at: dt.datetime | None, *, evidence: dict,
                  present: set[int], times: int = 1) -> str:
        """Evidence says that ``name`` is a name of member ``member_id`` (a quote of their message, the
        announcement of the talk they gave). Returns what came of it:

        * ``known``: the name is theirs already (or links to them by the name rules);
        * ``named``: nobody bore the name: it is theirs now, recorded with the evidence;
        * ``merged``: another member bore it: the two are merged, with the evidence;
        * ``suggested``: a link kept for an admin instead: the name is weak (``王``, ``Daniel``: several
          people may bear it), or both members posted in this day under their own names (two people
          the record shows side by side: the evidence is more likely wrong than they are one), or
          a member is out of the uploader's reach (``OUT_OF_REACH``);
        * ``refused``: an admin decided otherwise (the two were split or their link rejected, or the
          name was split off this member), or the name is weak and nobody bears it.

        ``present``: the members who posted in the day the evidence comes from. ``times``: the
        sightings the evidence counts for the name (0: counted by the caller)."""
        normalized = normalize_name(name)
        if not normalized or normalized == ME:
            return "refused"
        evidence = {**evidence, "name": name, "group": self.group_id}
        other = self.by_norm.get(normalized)
        if other is None:
            # A name new to the group: whom the name rules would tie it to (not recorded: this
            # evidence decides, and is recorded below).
            self.blocked = []
            other = self._link_by_evidence(name, normalized, record=False)
            for beyond, _why in self.blocked:
                # The name points at a member out of reach too (the same nickname in another group).
                self.suggest_out_of_reach(member_id, beyond, evidence)
            if other == member_id:
                self._link_by_evidence(name, normalized)  # the name rules agree: recorded as they link it
        if other == member_id:
            self.see(member_id, name, normalized, source, seen_at, times=times)
            return "known"
        if normalized in self.split_off_from(member_id) or (other is not None and self.kept_apart(member_id, other)):
            return "refused"
        weak = is_weak_name(normalized)
        if other is None:
            if weak:
                return "refused"
            if self.out_of_reach(member_id):
                # The name gets a member of its own, and the link is kept for someone who runs both.
                other = self._create_member(name)
                self.see(other, name, normalized, source, seen_at, times=times)
                self.suggest_out_of_reach(other, member_id, evidence)
                return "suggested"
            self._merge_record(member_id, name, evidence)
            self.stats.members_merged += 1
            self.see(member_id, name, normalized, source, seen_at, times=times)
            return "named"
        why_not = ""
        if weak:
            why_not = "a weak name borne by another member"
        elif member_id in present and other in present:
            why_not = "both members posted in the day under their own names"
        if why_not:
            if self._link_suggest(member_id, other, {**evidence, "why_not_merged": why_not}):
                self.stats.suggestions += 1
            return "suggested"
        if self.limited() and members_out_of_reach(user=self.user, member_ids=[member_id, other]):
            # Asked of the database now, not of the run's first reading: a merge moves logins and roles.
            self.suggest_out_of_reach(member_id, other, evidence)
            return "suggested"
        self.flush()  # the names in memory must be rows before they move
        member_merge(into=Member.objects.get(pk=member_id), other=Member.objects.get(pk=other), evidence=evidence)
        if self.me_member_id == other:
            self.me_member_id = member_id
        self.stats.members_merged += 1
        self._absorb(member_id, other)
        self.see(member_id, name, normalized, source, seen_at, times=times)
        return "merged"

    def _link_suggest(self, member_id: int, other: int, evidence: dict) -> bool:
        """Keep a suggested link between two members; True when one was created."""
        return name_link_suggest(member=Member(pk=member_id), other=Member(pk=other), group_id=self.group_id,
                                 evidence=evidence)

    def _suggest_weak_links(self, name: str, member_id: int) -> None:
        """A weak name that matches others' personal names: keep the candidates for an admin."""
        normalized = normalize_name(name)
        core = name_core(name)
        candidates = (self.by_core.get(normalized, set()) | self.by_core.get(core, set())) - {member_id}
        if normalized != core:
            bare = self.by_norm.get(core)
            if bare is not None and bare != member_id:
                candidates.add(bare)
        candidates = {other for other in candidates if not self.kept_apart(member_id, other)}
        for other in sorted(candidates)[:5]:
            if self._link_suggest(member_id, other, {"name": name, "rule": "weak or ambiguous name",
                                                     "group": self.group_id}):
                self.stats.suggestions += 1

    def _create_member(self, name: str) -> int:
        member = Member(display_name=name[:DISPLAY_NAME_MAX], import_run=self.import_run)
        member_parts_update(member=member, nickname=name)
        # A plain insert: ``Model.save`` costs several times the insert itself, once per new name.
        (member_id,) = rows_insert(Member, list(_MEMBER_COLUMNS),
                                   [tuple(getattr(member, column) for column in _MEMBER_COLUMNS)])
        self.stats.members_created += 1
        self.created_members.add(member_id)
        return member_id

    def not_created(self, member_ids) -> set[int]:
        """Those of ``member_ids`` that this run did not create."""
        return set(member_ids) - self.created_members

    def see(self, member_id: int, name: str, normalized: str, source: str, seen_at: dt.datetime | None, *,
            last: dt.datetime | None = None, times: int = 1) -> None:
        """Count ``times`` sightings of a name, the first at ``seen_at`` and the last at ``last``."""
        last = last or seen_at
        key = (member_id, normalized, source)
        seen = self.names.get(key)
        if seen is None:
            seen = NameSeen(member_id, name[:NAME_MAX], normalized, source, seen_at, last, 0, dirty=True, run=self.import_run)
            self.names[key] = seen
            self._index(name, normalized, member_id)
        seen.times += times
        seen.dirty = True
        if seen_at is not None and (seen.first is None or seen_at < seen.first):
            seen.first = seen_at
        if last is not None and (seen.last is None or last > seen.last):
            seen.last = last

    def link_pair(self, kept: str, other: str, seen_at: dt.datetime | None) -> None:
        """A merged-export pair: the two names are one person (merge members if both exist),
        unless the record shows otherwise: both members already carry nicknames with
        different personal names (a bare name several people share), then only a suggestion."""
        a = self.resolve(kept, NameSource.HEADER, seen_at, times=0)  # the message itself counts the sighting
        b_norm = normalize_name(other)
        b = self.by_norm.get(b_norm)
        evidence = {"rule": "merged-export pair", "names": [kept, other]}
        if a is None or (b is not None and self.kept_apart(a, b)) or b_norm in self.split_off_from(a):
            return  # an admin decided these are two people: the pair is no evidence
        if b is not None and b != a:
            cores_a, cores_b = self._cores(a), self._cores(b)
            if cores_a and cores_b and not cores_a & cores_b:
                if name_link_suggest(member=Member(pk=a), other=Member(pk=b), group_id=self.group_id,
                                     evidence={**evidence, "why_not_merged": "the two members carry different names"}):
                    self.stats.suggestions += 1
                return
            if self.limited():
                # Asked of the database now, not of the run's first reading: a merge moves logins and roles.
                beyond = members_out_of_reach(user=self.user, member_ids=[a, b])
                if beyond:
                    self.suggest_out_of_reach(a, b, evidence)
                    return
            self.flush()  # the names in memory must be rows before they move
            member_merge(into=Member.objects.get(pk=a), other=Member.objects.get(pk=b), evidence=evidence)
            if self.me_member_id == b:
                self.me_member_id = a
            self.stats.members_merged += 1
            self._absorb(a, b)
        elif b is None:
            if self.out_of_reach(a):
                return  # no new name for a member out of reach
            MemberMerge.objects.create(into_id=a, merged_name=other, evidence=evidence)
            self.stats.members_merged += 1
        self.see(a, other, b_norm, NameSource.MERGED_EXPORT, seen_at)

    def _absorb(self, into: int, other: int) -> None:
        """Mirror in memory what ``member_merge`` did in the database: ``other``'s names are
        ``into``'s now (a name both had is one row with both histories)."""
        self.moved[other] = into
        for gone, kept in list(self.moved.items()):
            if kept == other:
                self.moved[gone] = into
        for key in [key for key in self.names if key[0] == other]:
            seen = self.names.pop(key)
            mine = self.names.get((into, key[1], key[2]))
            if mine is None:
                seen.member_id = into
                self.names[(into, key[1], key[2])] = seen
                continue
            mine.times += seen.times
            mine.first = min(filter(None, [mine.first, seen.first]), default=None)
            mine.last = max(filter(None, [mine.last, seen.last]), default=None)
        for normalized, member_id in list(self.by_norm.items()):
            if member_id == other:
                self.by_norm[normalized] = into
        for index in (self.by_core, self.company_keys):
            for members in index.values():
                if other in members:
                    members.discard(other)
                    members.add(into)
        if self.apart:
            self.apart = {
                pair for pair in (frozenset(into if m == other else m for m in p) for p in self.apart) if len(pair) == 2
            }
        if other in self.split_off:
            self.split_off.setdefault(into, set()).update(self.split_off.pop(other))
        if self.joined is not None and other in self.joined:
            joined = self.joined.pop(other)
            if into not in self.joined:
                self.joined[into] = joined  # the membership itself moved to ``into``
            elif joined and (self.joined[into] is None or joined < self.joined[into]):
                self.joined[into] = joined

    def _cores(self, member_id: int) -> set[str]:
        """The personal names in a member's nickname-like names (``周明远`` of ``周明远-云汇支付-产品``)."""
        cores = set()
        for seen in self.names.values():
            if seen.member_id == member_id:
                core = name_core(seen.name)
                if core and core != seen.normalized:
                    cores.add(core)
        return cores

    def owner_id(self, group_id: int) -> int | None:
        """The group owner's member id, read once per run."""
        if not self.owner_known:
            self.owner = owner_member_id(group_id)
            self.owner_known = True
        return self.owner

    # Writing -----------------------------------------------------------------

    def flush(self) -> None:
        """Write new names and the counts of known ones: one bulk insert and one bulk update.
        The run's journal keeps the known names of earlier runs before their counts change
        (once per run: names this run created are never kept)."""
        new = [s for s in self.names.values() if s.dirty and s.pk is None]
        old = [s for s in self.names.values() if s.dirty and s.pk is not None]
        if self.records:
            MemberMerge.objects.bulk_create(self.records)
            self.records.clear()
        journal = self.journal
        if journal is not None:
            theirs = [s.pk for s in old if s.run != self.import_run and not journal.is_kept(Name, s.pk)]
            if theirs:
                journal.before(Name.objects.filter(pk__in=theirs))
        if new:
            # Tuples, not model instances: a day's new names cost one statement and no ORM work per row.
            created = rows_insert(
                Name, ["member_id", "group_id", "name", "normalized", "source", "first_seen", "last_seen", "times_seen",
                       "import_run"],
                [(s.member_id, self.group_id, s.name, s.normalized, s.source, s.first, s.last, s.times, self.import_run)
                 for s in new],
            )
            self.stats.names_created += len(created)
            for seen, pk in zip(new, created, strict=True):
                seen.pk = pk
        if old:
            # Not Django's bulk_update: it builds a CASE per row, far slower on this hot path.
            names_counts_update([(s.pk, s.first, s.last, s.times) for s in old])
        for seen in new + old:
            seen.dirty = False
        self.last_name_id = max([self.last_name_id] + [s.pk for s in new if s.pk])

    def group_nicknames(self) -> dict[int, str]:
        """For each member: the latest name others used for them (roster, mention, quote, announcement), else their
        latest header name."""
        return self._latest({NameSource.ROSTER: 3, NameSource.MENTION: 2, NameSource.QUOTE: 2, NameSource.ANNOUNCEMENT: 2,
                             NameSource.HEADER: 1})

    def display_names(self) -> dict[int, str]:
        """For each member: the latest name they posted under (how they present themselves)."""
        return self._latest({NameSource.HEADER: 2, NameSource.ROSTER: 1, NameSource.MANUAL: 1})

    def _latest(self, rank: dict[str, int]) -> dict[int, str]:
        best: dict[int, tuple] = {}
        epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
        for seen in self.names.values():
            if seen.source not in rank or seen.name == ME:
                continue
            score = (rank[seen.source], seen.last or epoch, seen.name)
            if seen.member_id not in best or score > best[seen.member_id]:
                best[seen.member_id] = score
        return {member_id: score[2] for member_id, score in best.items()}


def owner_member_id(group_id: int) -> int | None:
    return (
        Membership.objects.filter(group_id=group_id, role="owner").values_list("member_id", flat=True).first()
    )
