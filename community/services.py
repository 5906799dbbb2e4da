"""Writes of groups, members, names and memberships.

Every write with a rule or a side effect goes through a function here (or in the
services of the app that owns the data). Nothing here imports ``shares`` or ``importer``:
apps that hold rows pointing at a member register a mover with
``register_member_mover`` so that a merge moves them too, in the same transaction; a
splitter with ``register_member_splitter`` so that a split does; a refresher with
``register_facts_refresher`` to recompute the facts they keep on memberships after an
admin's decision; and a counter with ``register_member_counter`` so that the pages can say
what a merge will move.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .access import access_for
from .bulk import rows_update
from .models import (
    AuditEntry,
    Group,
    Invitation,
    Member,
    MemberMerge,
    Membership,
    MembershipPeriod,
    MembershipStatus,
    Message,
    Name,
    NameLink,
    NameLinkStatus,
    NameSource,
)
from .names import normalize_name, parse_nickname
from .permissions import SEAT_STATUSES, member_out_of_reach, members_out_of_reach

MemberMover = Callable[[Member, Member], None]
_member_movers: list[MemberMover] = []
# ``splitter(*, source, new, group, messages, by, reason) -> {label: count}``; see member_split.
MemberSplitter = Callable[..., "dict[str, int] | None"]
_member_splitters: list[MemberSplitter] = []
# ``counter(member_ids) -> {member_id: {label: count}}``: an app's rows that a merge would move.
MemberCounter = Callable[[list[int]], "dict[int, dict[str, int]]"]
_member_counters: list[MemberCounter] = []
# ``refresher(*, group_id)``: recomputes the facts an app keeps on a group's memberships.
FactsRefresher = Callable[..., None]
_facts_refreshers: list[FactsRefresher] = []


def register_member_mover(mover: MemberMover) -> None:
    """Register ``mover(into, other)``: it repoints an app's rows from ``other`` to ``into``."""
    if mover not in _member_movers:
        _member_movers.append(mover)


def register_member_splitter(splitter: MemberSplitter) -> None:
    """Register ``splitter(*, source, new, group, messages, by, reason)``: on a split, it moves
    an app's rows that belong with the ``messages`` now sent by ``new`` (a queryset) from
    ``source`` to ``new``, in the split's transaction, and returns what it moved by label.
    The facts are recomputed afterwards (``register_facts_refresher``)."""
    if splitter not in _member_splitters:
        _member_splitters.append(splitter)


def register_facts_refresher(refresher: FactsRefresher) -> None:
    """Register ``refresher(*, group_id)``: after an admin's merge or split, it recomputes
    the facts its app keeps on the group's memberships (the shares given, the sign-ins).
    The importer's own merges do not call it: an import refreshes every fact once, at its end."""
    if refresher not in _facts_refreshers:
        _facts_refreshers.append(refresher)


def register_member_counter(counter: MemberCounter) -> None:
    """Register ``counter(member_ids)``: for each member, the number of an app's rows that
    point at it, by label (``{"sign_ins": 3, "shares": 1}``), in a constant number of queries."""
    if counter not in _member_counters:
        _member_counters.append(counter)


def member_parts_update(*, member: Member, nickname: str) -> bool:
    """Fill the member's name, company, position and city from a well-formed nickname.

    Returns True when something changed (the caller saves)."""
    parts = parse_nickname(nickname)
    if parts is None:
        return False
    changed = False
    for field, value in (("name", parts.name), ("company", parts.company), ("position", parts.position), ("city", parts.city)):
        if value and getattr(member, field) != value:
            setattr(member, field, value)
            changed = True
    if member.display_name != nickname:
        member.display_name = nickname
        changed = True
    return changed


def _merge_membership(into: Membership, other: Membership) -> None:
    into.message_count += other.message_count
    into.shares_given += other.shares_given
    into.sign_in_count += other.sign_in_count
    if other.last_message_at and (into.last_message_at is None or other.last_message_at > into.last_message_at):
        into.last_message_at = other.last_message_at
    if other.joined_at and (into.joined_at is None or other.joined_at < into.joined_at):
        into.joined_at = other.joined_at
    if other.next_share_at and (into.next_share_at is None or other.next_share_at < into.next_share_at):
        into.next_share_at = other.next_share_at
    if not into.nickname:
        into.nickname = other.nickname
    # The higher role wins: an admin merged with their own alias stays admin.
    rank = {"owner": 0, "admin": 1, "member": 2}
    if rank[other.role] < rank[into.role]:
        into.role = other.role
    into.save()
    other.periods.all().delete()
    other.delete()


def _names_move(into: Member, other: Member) -> None:
    """``other``'s names become ``into``'s; a name both had keeps one row with both histories."""
    mine = {(n.group_id, n.normalized, n.source): n for n in Name.objects.filter(member=into)}
    move, drop, update = [], [], []
    for name in Name.objects.filter(member=other):
        same = mine.get((name.group_id, name.normalized, name.source))
        if same is None:
            move.append(name.pk)
            continue
        same.times_seen += name.times_seen
        same.first_seen = min(filter(None, [same.first_seen, name.first_seen]), default=None)
        same.last_seen = max(filter(None, [same.last_seen, name.last_seen]), default=None)
        update.append(same)
        drop.append(name.pk)
    Name.objects.filter(pk__in=drop).delete()
    Name.objects.filter(pk__in=move).update(member=into)
    Name.objects.bulk_update(update, ["times_seen", "first_seen", "last_seen"])


@transaction.atomic
def member_merge(*, into: Member, other: Member, evidence: dict, reason: str = "", by=None, automatic: bool = True) -> MemberMerge:
    """Merge ``other`` into ``into``: messages, names, memberships, and every app's rows
    (sign-ins, shares, …) move; ``other`` is deleted; the merge and its evidence are recorded."""
    if into.pk == other.pk:
        raise ValueError("A member cannot be merged into itself.")
    Message.objects.filter(sender=other).update(sender=into)
    _names_move(into, other)
    for membership in Membership.objects.filter(member=other):
        existing = Membership.objects.filter(member=into, group=membership.group_id).first()
        if existing is None:
            membership.member = into
            membership.save(update_fields=["member"])
        else:
            _merge_membership(existing, membership)
    NameLink.objects.filter(Q(member=other, other=into) | Q(member=into, other=other)).delete()
    _name_links_move(into, other)
    for mover in _member_movers:
        mover(into, other)
    if other.user_id and not into.user_id:
        into.user_id, other.user_id = other.user_id, None
        other.save(update_fields=["user"])
        into.save(update_fields=["user"])
    record = MemberMerge.objects.create(
        into=into, merged_name=other.display_name, merged_member_id=other.pk,
        evidence=evidence, reason=reason, automatic=automatic, by=by,
    )
    MemberMerge.objects.filter(into=other).update(into=into)
    # A split keeps its two sides apart (the importer reads these records): ``other``'s side is ``into``'s now.
    MemberMerge.objects.filter(action=MemberMerge.Action.SPLIT, merged_member_id=other.pk).update(merged_member_id=into.pk)
    other.delete()
    return record


def _name_links_move(into: Member, other: Member) -> None:
    """``other``'s links become ``into``'s, stored as (lower id, higher id). A third member
    linked to both keeps one link: a decided one (a rejection must survive) over a suggestion."""
    links = list(NameLink.objects.filter(Q(member=other) | Q(other=other)))
    if not links:
        return
    third_of = {link.pk: link.other_id if link.member_id == other.pk else link.member_id for link in links}
    mine = {
        link.other_id if link.member_id == into.pk else link.member_id: link
        for link in NameLink.objects.filter(
            Q(member=into, other_id__in=third_of.values()) | Q(other=into, member_id__in=third_of.values())
        )
    }
    for link in links:
        third = third_of[link.pk]
        existing = mine.get(third)
        if existing is not None:
            if existing.status != NameLinkStatus.SUGGESTED or link.status == NameLinkStatus.SUGGESTED:
                link.delete()
                continue
            existing.delete()
        link.member_id, link.other_id = sorted([into.pk, third])
        link.save(update_fields=["member", "other"])
        mine[third] = link


def name_link_suggest(*, member: Member, other: Member, group_id: int | None, evidence: dict) -> bool:
    """Keep a weak candidate link for an admin to confirm or reject. Never twice for a pair,
    in either order: a pair already linked (suggested, or rejected by an admin) is left as it
    is. Returns True when a suggestion was created."""
    first, second = sorted([member.pk, other.pk])
    if NameLink.objects.filter(Q(member_id=first, other_id=second) | Q(member_id=second, other_id=first)).exists():
        return False
    try:
        with transaction.atomic():
            NameLink.objects.create(member_id=first, other_id=second, group_id=group_id, evidence=evidence,
                                    status=NameLinkStatus.SUGGESTED)
    except IntegrityError:  # suggested meanwhile by another import
        return False
    return True


def membership_facts_refresh(*, group_id: int, member_ids: Iterable[int] | None = None) -> int:
    """Recompute ``message_count`` and ``last_message_at`` from the record, set-based.

    One aggregate query and one bulk update, whatever the number of members."""
    memberships = Membership.objects.filter(group_id=group_id)
    if member_ids is not None:
        memberships = memberships.filter(member_id__in=list(member_ids))
    stats = {
        row["sender_id"]: row
        for row in Message.objects.filter(group_id=group_id, sender_id__in=memberships.values("member_id"))
        .values("sender_id")
        .annotate(n=Count("id"), last=Max("sent_at"))
    }
    changed = []
    for membership in memberships.only("id", "member_id", "message_count", "last_message_at"):
        row = stats.get(membership.member_id)
        count, last = (row["n"], row["last"]) if row else (0, None)
        if (membership.message_count, membership.last_message_at) != (count, last):
            membership.message_count, membership.last_message_at = count, last
            changed.append(membership)
    rows_update(changed, ["message_count", "last_message_at"])
    return len(changed)


def membership_join(*, membership: Membership, joined_at: dt.datetime) -> None:
    """Open a membership period (a returning member gets a new one) and mark it active."""
    if membership.periods.filter(left_at__isnull=True).exists():
        return
    MembershipPeriod.objects.create(membership=membership, joined_at=joined_at)
    membership.status = MembershipStatus.ACTIVE
    membership.left_at = None
    if membership.joined_at is None or joined_at < membership.joined_at:
        membership.joined_at = joined_at
    membership.save(update_fields=["status", "left_at", "joined_at"])


def membership_leave(*, membership: Membership, left_at: dt.datetime | None = None,
                     status: str = MembershipStatus.LEFT) -> None:
    """Close the open period and mark the membership left (or removed), dated."""
    left_at = left_at or timezone.now()
    period = membership.periods.filter(left_at__isnull=True).first()
    if period is not None:
        period.left_at = max(left_at, period.joined_at)
        period.left_reason = status
        period.save(update_fields=["left_at", "left_reason"])
    membership.status = status
    membership.left_at = left_at
    membership.save(update_fields=["status", "left_at"])


# Who is who: a group's admins confirm or reject suggested links, merge and split members.

REASON_MAX_LENGTH = 200  # MemberMerge.reason
_EPOCH = dt.datetime.min.replace(tzinfo=dt.UTC)
# Where a name was seen, as evidence of what others call a member in a group (as the importer ranks them).
_NICKNAME_RANK = {NameSource.ROSTER: 3, NameSource.MENTION: 2, NameSource.QUOTE: 2, NameSource.ANNOUNCEMENT: 2,
                  NameSource.HEADER: 1}


def member_rows_count(member_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """For each member: its messages, names and memberships, and every registered app's rows
    (sign-ins, shares, …): what a merge would move. Three queries plus the apps' counters."""
    ids = list(member_ids)
    counts: dict[int, dict[str, int]] = {pk: {"messages": 0, "names": 0, "memberships": 0} for pk in ids}
    for label, model, column in (("messages", Message, "sender_id"), ("names", Name, "member_id"),
                                 ("memberships", Membership, "member_id")):
        rows = model.objects.filter(**{f"{column}__in": ids}).order_by().values_list(column).annotate(n=Count("id"))
        for pk, n in rows.values_list(column, "n"):
            counts[pk][label] = n
    for counter in _member_counters:
        for pk, found in counter(ids).items():
            counts.setdefault(pk, {}).update(found)
    return counts


def _facts_refresh(*, group_id: int, member_ids: list[int]) -> None:
    membership_facts_refresh(group_id=group_id, member_ids=member_ids)
    for refresher in _facts_refreshers:
        refresher(group_id=group_id)


def _decision_reason(*, group: Group, by, reason: str, required: bool = True) -> str:
    """The rule every decision starts with: only the group's admins (and staff) decide, and
    say why; returns the reason, stripped."""
    if not access_for(by, group).is_admin:
        raise PermissionDenied(_("Only an admin of the group can decide who is who in it."))
    reason = (reason or "").strip()
    if required and not reason:
        raise ValidationError(_("Give a reason: it is kept with the decision."), code="reason_required")
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(_("The reason is too long (at most %(max)d characters)."), code="reason_too_long",
                              params={"max": REASON_MAX_LENGTH})
    return reason


# ``NameLink.evidence["why_not_merged"]`` of a link the importer kept instead of a merge: its
# evidence pointed at a member out of reach of the admin who uploaded the file.
OUT_OF_REACH = "out of the uploader's reach"


def out_of_reach_error(members: Iterable[Member]) -> ValidationError:
    """The refusal of a merge with members out of the deciding admin's reach, naming them."""
    return ValidationError(
        _("Out of your reach: %(members)s has a login, or a role or a membership in a group you do not run. "
          "Ask a site operator."),
        code="out_of_reach", params={"members": "、".join(member.display_name for member in members)},
    )


def _merge_decided(*, group: Group, into_id: int, other_id: int, by, reason: str, evidence: dict,
                   require_membership: bool) -> MemberMerge:
    """The checks and the merge behind both a confirmed link and a merge chosen by hand."""
    if into_id == other_id:
        raise ValidationError(_("Choose two different members: a member cannot be merged with itself."),
                              code="same_member")
    # Locked, so that two admins merging the same member at once do one merge, not two.
    members = {m.pk: m for m in Member.objects.select_for_update().filter(pk__in=[into_id, other_id])}
    if len(members) != 2:
        raise ValidationError(_("One of the two members no longer exists: it was merged meanwhile."),
                              code="member_gone")
    into, other = members[into_id], members[other_id]
    if require_membership and not getattr(by, "is_staff", False):
        found = set(Membership.objects.filter(group=group, member_id__in=[into_id, other_id]).values_list("member_id", flat=True))
        if found != {into_id, other_id}:
            raise ValidationError(_("Both members must be members of this group."), code="not_in_group")
    if into.user_id and other.user_id:
        raise ValidationError(
            _("Both members have a login: a merge would leave one login without its member. Ask a site operator."),
            code="two_logins",
        )
    beyond = members_out_of_reach(user=by, member_ids=[into_id, other_id])
    if beyond:
        raise out_of_reach_error([members[pk] for pk in sorted(beyond)])
    counts = member_rows_count([other_id])[other_id]
    record = member_merge(
        into=into, other=other, evidence={"group": group.pk, "counts": counts, **evidence},
        reason=reason, by=by, automatic=False,
    )
    # The record, not the sums of the two memberships, is the truth of the facts (a sign-in
    # both members had for one share counts once).
    for group_id in Membership.objects.filter(member=into).values_list("group_id", flat=True):
        _facts_refresh(group_id=group_id, member_ids=[into.pk])
    return record


@transaction.atomic
def member_merge_manual(*, group: Group, into: Member, other: Member, by, reason: str) -> MemberMerge:
    """An admin of ``group`` (or staff) merges ``other`` into ``into``, saying why.

    Both must be members of the group (staff: any two members), different, not both
    linked to a login, and, but for staff, both within the admin's reach
    (``community.permissions.members_out_of_reach``: no login, and no role or seat in a
    group the admin does not run; refused with code ``out_of_reach``). In one transaction, ``member_merge`` moves messages, names,
    memberships, sign-ins and shares, and deletes ``other``; the facts of ``into``'s
    memberships are recomputed, the apps' too (``register_facts_refresher``). Recorded as a manual
    ``MemberMerge`` with who, why, the group and the counts of what moved. Raises
    ``PermissionDenied`` or ``ValidationError``, having written nothing."""
    reason = _decision_reason(group=group, by=by, reason=reason)
    return _merge_decided(group=group, into_id=into.pk, other_id=other.pk, by=by, reason=reason,
                          evidence={"rule": "merged by an admin"}, require_membership=True)


def _open_link(link: NameLink, group: Group) -> NameLink:
    found = NameLink.objects.select_for_update().filter(pk=link.pk, group=group).first()
    if found is None:
        raise ValidationError(_("This suggestion no longer exists: its members were merged meanwhile."),
                              code="link_gone")
    if found.status != NameLinkStatus.SUGGESTED:
        raise ValidationError(_("This suggestion was already decided."), code="link_decided")
    return found


@transaction.atomic
def name_link_confirm(*, link: NameLink, group: Group, keep: str, by, reason: str) -> MemberMerge:
    """An admin confirms a suggested link of ``group``: the two members are one person.

    ``keep`` is ``"member"`` or ``"other"``: which side of the link is kept. The other side
    is merged into it as by ``member_merge_manual`` (memberships are not required: the
    link is the group's own evidence; the reach is: a link to a member with a login, or
    with a role or a seat in other groups, is confirmed by staff or by someone who runs
    every one of those groups), and the merge deletes the link; the record keeps it
    (``evidence["name_link"]``: its id, evidence and date) with who and why."""
    reason = _decision_reason(group=group, by=by, reason=reason)
    if keep not in ("member", "other"):
        raise ValidationError(_("Choose which member is kept."), code="keep_required")
    link = _open_link(link, group)
    into_id, other_id = (link.member_id, link.other_id) if keep == "member" else (link.other_id, link.member_id)
    evidence = {
        "rule": "suggested link confirmed",
        "name_link": {"id": link.pk, "evidence": link.evidence, "suggested_at": link.created_at.isoformat()},
    }
    return _merge_decided(group=group, into_id=into_id, other_id=other_id, by=by, reason=reason,
                          evidence=evidence, require_membership=False)


@transaction.atomic
def name_link_reject(*, link: NameLink, group: Group, by, reason: str = "") -> NameLink:
    """An admin rejects a suggested link of ``group``: two people. The link stays, rejected,
    with who and when (and the reason, if given, in ``evidence["reject_reason"]``): the
    importer never suggests the pair again nor merges it."""
    reason = _decision_reason(group=group, by=by, reason=reason, required=False)
    link = _open_link(link, group)
    link.status, link.decided_by, link.decided_at = NameLinkStatus.REJECTED, by, timezone.now()
    if reason:
        link.evidence = {**link.evidence, "reject_reason": reason}
    link.save(update_fields=["status", "decided_by", "decided_at", "evidence"])
    return link


def _best_name(names: Iterable[Name], rank: dict[str, int]) -> Name | None:
    return max(names, key=lambda n: (rank.get(n.source, 0), n.last_seen or _EPOCH, n.times_seen, n.pk), default=None)


@transaction.atomic
def member_split(*, member: Member, names: Iterable[Name], group: Group, by, reason: str) -> MemberMerge:
    """An admin of ``group`` (or staff) splits names that belong to someone else off ``member``.

    ``names`` are ``Name`` rows of ``member`` in ``group``; with each, the member's other rows
    of the same name in that group (other sources) go too. In one transaction: a new member
    (display name and parts from the split names) gets those names, the group's messages sent
    under them (``normalize_name(sender_name)``) and a membership in the group (active,
    joined when first seen); every registered splitter moves its app's rows (sign-ins of
    those messages, talks mostly given under those names); both memberships' facts are
    recomputed. Recorded as ``MemberMerge(action=split, into=the new member,
    merged_member_id=member)`` with the names, the group and the counts: the importer keeps
    the two apart on re-import. Raises ``PermissionDenied`` or ``ValidationError``, having
    written nothing."""
    reason = _decision_reason(group=group, by=by, reason=reason)
    chosen_ids = {name.pk for name in names}
    if not chosen_ids:
        raise ValidationError(_("Choose at least one name to split off."), code="no_names")
    member = Member.objects.select_for_update().filter(pk=member.pk).first()
    if member is None:
        raise ValidationError(_("This member no longer exists: it was merged meanwhile."), code="member_gone")
    chosen = list(Name.objects.filter(pk__in=chosen_ids, member=member, group=group))
    if len(chosen) != len(chosen_ids):
        raise ValidationError(_("Every name to split off must be a name of this member in this group."),
                              code="name_not_of_member")
    normalized = {name.normalized for name in chosen}
    moving = list(Name.objects.filter(member=member, group=group, normalized__in=normalized))
    staying = list(Name.objects.filter(member=member).exclude(pk__in=[name.pk for name in moving]))
    if not staying:
        raise ValidationError(_("These are all the member's names: there is nothing left to split them from."),
                              code="all_names")
    header = _best_name(moving, {NameSource.HEADER: 2, NameSource.ROSTER: 1, NameSource.MANUAL: 1})
    new = Member(display_name=header.name[:200])
    member_parts_update(member=new, nickname=header.name)
    new.save()
    Name.objects.filter(pk__in=[name.pk for name in moving]).update(member=new)

    sender_names = [
        sender_name
        for sender_name in Message.objects.filter(group=group, sender=member).order_by()
        .values_list("sender_name", flat=True).distinct()
        if normalize_name(sender_name) in normalized
    ]
    moved_messages = Message.objects.filter(group=group, sender=member, sender_name__in=sender_names).update(sender=new)
    messages = Message.objects.filter(group=group, sender=new)
    first_message = messages.order_by("sent_at").values_list("sent_at", flat=True).first()
    joined_at = min(filter(None, [first_message, *(name.first_seen for name in moving)]), default=timezone.now())
    nickname = _best_name(moving, _NICKNAME_RANK)
    membership = Membership.objects.create(group=group, member=new, nickname=nickname.name, joined_at=joined_at)
    MembershipPeriod.objects.create(membership=membership, joined_at=joined_at)

    # The member keeps a name of its own: neither its display name nor its group nickname may be a split one.
    old_display_name = member.display_name
    if normalize_name(member.display_name) in normalized:
        best = _best_name(staying, {NameSource.HEADER: 2, NameSource.ROSTER: 1, NameSource.MANUAL: 1})
        # The parts (name, company, …) came from the split name: they are the other person's.
        member.display_name = best.name[:200]
        member.name = member.company = member.position = member.city = ""
        member_parts_update(member=member, nickname=best.name)
        member.save(update_fields=["display_name", "name", "company", "position", "city"])
    source_membership = Membership.objects.filter(group=group, member=member).first()
    if source_membership is not None and normalize_name(source_membership.nickname) in normalized:
        best = _best_name([name for name in staying if name.group_id == group.pk], _NICKNAME_RANK)
        source_membership.nickname = best.name if best is not None else member.display_name
        source_membership.save(update_fields=["nickname"])

    counts = {"names": len(moving), "messages": moved_messages}
    for splitter in _member_splitters:
        counts.update(splitter(source=member, new=new, group=group, messages=messages, by=by, reason=reason) or {})
    _facts_refresh(group_id=group.pk, member_ids=[member.pk, new.pk])
    return MemberMerge.objects.create(
        action=MemberMerge.Action.SPLIT, into=new, merged_name=old_display_name, merged_member_id=member.pk,
        evidence={
            "rule": "split by an admin", "group": group.pk, "from_member": member.pk,
            "names": sorted({name.name for name in moving}), "normalized": sorted(normalized), "counts": counts,
        },
        reason=reason, automatic=False, by=by,
    )


# Logins for members: invitations and accounts created by a group's admins.

INVITATION_DAYS_VALID = 14


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def member_login_authorize(*, member: Member, group: Group, by) -> None:
    """Raise ``PermissionDenied`` unless ``by`` may give ``member`` a login in ``group``:
    ``by`` runs the group (its owner, an admin, or staff); the member has an active or
    pending membership in it (staff: any membership); and, but for staff, the member is
    within ``by``'s reach (``community.permissions.members_out_of_reach``): a login acts
    with every role of its person, in every group. Raise ``ValidationError`` if the member
    already has a login (told before the reach, which a login alone would refuse).

    The one rule behind every way of giving a member a login (the pages ask it too, and an
    invitation is asked again, for the admin who made it, when it is used)."""
    memberships = Membership.objects.filter(group=group, member=member)
    if not getattr(by, "is_staff", False):
        memberships = memberships.filter(status__in=SEAT_STATUSES)
    if not access_for(by, group).is_admin or not memberships.exists():
        raise PermissionDenied(_("Only an admin of the group can give its members a login."))
    if member.user_id is not None:
        raise ValidationError(_("This member already has a login."), code="member_has_login")
    if member_out_of_reach(member, by):
        raise PermissionDenied(_("This member has a role or a membership in a group you do not run: "
                                 "ask a site operator to give them a login."))


@transaction.atomic
def invitation_create(*, member: Member, group: Group, created_by, days_valid: int = INVITATION_DAYS_VALID) -> tuple[Invitation, str]:
    """An invitation for ``member`` and its token, valid ``days_valid`` days.

    Only the token's SHA-256 is stored: the token is returned once, for the link. The
    member's earlier unused invitations are deleted, so only the newest link works."""
    member_login_authorize(member=member, group=group, by=created_by)
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    Invitation.objects.filter(member=member, used_at__isnull=True).delete()
    invitation = Invitation.objects.create(
        member=member, group=group, token_hash=_token_hash(token), created_by=created_by,
        created_at=now, expires_at=now + dt.timedelta(days=days_valid),
    )
    return invitation, token


def invitation_check(*, token: str, lock: bool = False) -> Invitation:
    """The open invitation of ``token`` (with its member and group), or ``ValidationError``
    with code ``invitation_unknown``, ``invitation_used``, ``invitation_expired``,
    ``member_has_login`` (linked meanwhile by other means) or ``invitation_revoked`` (the
    admin who made it may no longer give this member a login: ``member_login_authorize``,
    asked again). A constant number of queries."""
    invitations = Invitation.objects.select_related("member", "group", "created_by")
    if lock:
        invitations = invitations.select_for_update(of=("self",))
    invitation = invitations.filter(token_hash=_token_hash(token)).first()
    if invitation is None:
        raise ValidationError(_("This invitation link is not valid."), code="invitation_unknown")
    if invitation.used_at is not None:
        raise ValidationError(_("This invitation link has already been used."), code="invitation_used")
    if invitation.expires_at <= timezone.now():
        raise ValidationError(_("This invitation link has expired."), code="invitation_expired")
    if invitation.member.user_id is not None:
        raise ValidationError(_("This member already has a login."), code="member_has_login")
    # The rule that let the admin invite still holds now: a member who has since joined (or
    # been given a role in) a group the admin does not run is no longer theirs to give a login.
    try:
        if invitation.group is None:
            if not getattr(invitation.created_by, "is_staff", False):
                raise PermissionDenied
        else:
            member_login_authorize(member=invitation.member, group=invitation.group, by=invitation.created_by)
    except PermissionDenied:
        raise ValidationError(_("This invitation link is no longer valid: ask an admin of the group for a new one."),
                              code="invitation_revoked") from None
    return invitation


def _user_create_for_member(*, member: Member, username: str, password: str, email: str):
    """Create a login with a validated username and password and link it to ``member``.

    Runs inside the caller's transaction; errors are keyed by ``username``, ``email`` and
    ``password``."""
    User = get_user_model()
    user = User(username=username, email=email)
    errors: dict[str, list] = {}
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        errors["password"] = error.error_list
    user.set_password(password)
    try:
        user.full_clean()
    except ValidationError as error:
        errors.update({field: errors.get(field, []) + messages for field, messages in error.error_dict.items()})
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        # Another request took the username between the check and the insert.
        raise ValidationError(
            {"username": [ValidationError(_("This username is already taken."), code="unique")]}
        ) from None
    # Conditional: a login given meanwhile by someone else is never replaced.
    if not Member.objects.filter(pk=member.pk, user__isnull=True).update(user=user):
        raise ValidationError(_("This member already has a login."), code="member_has_login")
    member.user = user
    Invitation.objects.filter(member=member, used_at__isnull=True).delete()
    return user


@transaction.atomic
def invitation_accept(*, token: str, username: str, password: str, email: str = ""):
    """Create the login of the invitation's member and mark the invitation used.

    The invitation row is locked and checked inside the transaction: of two concurrent
    accepts of one token, only one succeeds. Nothing is created when anything is wrong."""
    invitation = invitation_check(token=token, lock=True)
    used_at = timezone.now()
    # Mark the invitation first (conditionally) so that a concurrent accept finds it used.
    if not Invitation.objects.filter(pk=invitation.pk, used_at__isnull=True).update(used_at=used_at):
        raise ValidationError(_("This invitation link has already been used."), code="invitation_used")
    user = _user_create_for_member(member=invitation.member, username=username, password=password, email=email)
    Invitation.objects.filter(pk=invitation.pk).update(used_by=user)
    invitation.used_at, invitation.used_by = used_at, user
    return user


@transaction.atomic
def account_create(*, member: Member, group: Group, username: str, password: str, created_by, email: str = ""):
    """An admin of ``group`` creates a login for ``member`` directly (same rules as an invitation).

    The member's open invitations are deleted: the login exists now."""
    member_login_authorize(member=member, group=group, by=created_by)
    return _user_create_for_member(member=member, username=username, password=password, email=email)


GROUP_RULE_SETTINGS = ("silence_days", "never_shared_grace_days", "hosting_counts_as_sharing", "nickname_reminders",
                       "nickname_grace_days")
GROUP_SETTINGS = ("description", "share_time", "sign_in_lead_minutes", "announcement_template", *GROUP_RULE_SETTINGS)
ANNOUNCEMENT_PLACEHOLDERS = ("{speaker}", "{topic}", "{start}")


@transaction.atomic
def group_settings_update(*, group: Group, by, reason: str = "", **values) -> Group:
    """A group's admins change its rhythm, its announcement template and its rules' parameters
    (nothing else here). A change of the rules is written to the audit log: who, when, from what
    to what, and why (``reason``)."""
    if not access_for(by, group).is_admin:
        raise PermissionDenied
    unknown = set(values) - set(GROUP_SETTINGS)
    if unknown:
        raise ValueError(f"not a group setting: {', '.join(sorted(unknown))}")
    template = values.get("announcement_template", group.announcement_template)
    missing = [p for p in ANNOUNCEMENT_PLACEHOLDERS if p not in template]
    if missing:
        raise ValidationError(
            _("The announcement template must contain %(missing)s."), code="placeholders",
            params={"missing": "、".join(missing)},
        )
    changed_rules = {
        name: [getattr(group, name), value] for name, value in values.items()
        if name in GROUP_RULE_SETTINGS and getattr(group, name) != value
    }
    for name, value in values.items():
        setattr(group, name, value)
    group.full_clean()
    group.save(update_fields=list(values))
    if changed_rules:
        AuditEntry.objects.create(group=group, actor=by, action="rules_changed", target=group.name,
                                  details=changed_rules, reason=reason[:300])
    return group


@transaction.atomic
def application_submit(*, group: Group, **fields):
    """Someone asks for a seat (public form). One waiting application per WeChat id and group."""
    from .models import Application

    application = Application(group=group, **fields)
    application.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError:
        raise ValidationError(
            _("An application with this WeChat id is already waiting for this group."), code="already_waiting"
        ) from None
    return application


@transaction.atomic
def application_decline(*, application, by, reason: str = ""):
    """A group admin declines a waiting application (audited)."""
    from .models import ApplicationStatus

    if not access_for(by, application.group).is_admin:
        raise PermissionDenied(_("Only the group's admins decide applications."))
    if application.status != ApplicationStatus.WAITING:
        raise ValidationError(_("This application was already decided."), code="decided")
    application.status, application.decided_by, application.decided_at, application.reason = (
        ApplicationStatus.DECLINED, by, timezone.now(), reason[:300],
    )
    application.save(update_fields=["status", "decided_by", "decided_at", "reason"])
    AuditEntry.objects.create(group=application.group, actor=by, action="application_declined",
                              target=f"{application.name}-{application.company}", reason=reason[:300])
    return application
