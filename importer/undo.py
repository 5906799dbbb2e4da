"""Undoing an import run: what it would change (the plan, shown before an admin confirms), why
it may be refused, and the undo itself.

Undo gives back the days the run touched exactly as they were: the messages it added go, the
messages it removed (a day replaced) come back with the same ids, and so do the talks, talk
rows, sign-ins, stored images, recorded days, imported files, names and memberships it changed
(``importer.journal``). Members it created go when nothing of theirs is left; member merges it
made stay (see ``importer.journal``). Derived facts (a membership's messages and sign-ins, the
talk search index) are recomputed.

Undo is refused while a later run, or an admin's correction of a talk, touched the same days:
undoing this run under them would undo them too, silently. The refusal names them (runs by id
and day, corrections by share and who) so that they are undone first. Rows outside the days
that a later run changed too (a member's display name, a name's sightings, a membership's
nickname or joining date: who people are, seen again on other days) are left as that later
run made them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.apps import apps
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from community.models import AuditEntry, Member, Membership, Message, Name, RecordedDay, StoredImage
from community.services import membership_facts_refresh
from shares.models import Origin, Share, ShareRevision, SignIn
from shares.services import membership_share_facts_refresh
from shares.tasks import talk_index_refresh_enqueue

from . import sql
from .journal import run_undo_rows
from .models import ImportedFile, ImportKind, ImportRun, ImportStatus, RunChange, RunChangeAction

# A run in one of these has written nothing that undo could take back (or is still writing).
NOT_UNDOABLE = (ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.PREVIEWED, ImportStatus.UNDONE)


@dataclass(frozen=True)
class LaterRun:
    id: int
    kind: str
    days: tuple[dt.date, ...]  # the days it shares with the run to undo


@dataclass(frozen=True)
class Correction:
    share_id: int
    topic: str
    day: dt.date | None
    action: str
    author: str
    at: dt.datetime


class UndoRefused(ValueError):
    """Undo is refused: later runs or corrections touched the same days. ``str()`` names them."""

    def __init__(self, run_id: int, runs: list[LaterRun], corrections: list[Correction]):
        self.run_id, self.runs, self.corrections = run_id, runs, corrections
        parts = [f"run {r.id} ({', '.join(d.isoformat() for d in r.days)})" for r in runs]
        parts += [f"the correction of share {c.share_id} “{c.topic}” by {c.author or '?'} ({c.action})" for c in corrections]
        super().__init__(f"Import run {run_id} cannot be undone: later changes touched the same days. "
                         f"Undo these first: {'; '.join(parts)}.")


@dataclass
class UndoPlan:
    """What undoing a run would do, and what stops it (``blocked``)."""

    run: ImportRun
    days: list[dt.date]
    messages_removed: int = 0
    messages_restored: int = 0
    talks_removed: int = 0
    talks_restored: int = 0
    talk_rows_changed: int = 0
    sign_ins_removed: int = 0
    sign_ins_restored: int = 0
    images_removed: int = 0
    images_restored: int = 0
    names_removed: int = 0
    other_rows_restored: int = 0
    later_runs: list[LaterRun] = field(default_factory=list)
    corrections: list[Correction] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return bool(self.later_runs or self.corrections)


def run_days(runs: list[ImportRun]) -> dict[int, set[dt.date]]:
    """The days each run changed: the days its transcripts were imported into (its report, and
    its imported files), and the days of the messages whose images it stored. Two queries."""
    days: dict[int, set[dt.date]] = {run.pk: set() for run in runs}
    images: dict[int, set[int]] = defaultdict(set)
    for run in runs:
        for report in run.files or ():
            if run.kind == ImportKind.TRANSCRIPTS and report.get("status") == "imported" and report.get("day"):
                days[run.pk].add(dt.date.fromisoformat(report["day"]))
            elif run.kind == ImportKind.IMAGES and report.get("status") in ("stored", "replaced") and report.get("message"):
                images[run.pk].add(report["message"])
    transcripts = [run.pk for run in runs if run.kind == ImportKind.TRANSCRIPTS]
    for run_id, day in ImportedFile.objects.filter(run_id__in=transcripts).order_by().values_list("run_id", "day"):
        days[run_id].add(day)
    wanted = set().union(*images.values()) if images else set()
    if wanted:
        day_of = dict(Message.objects.filter(pk__in=wanted).order_by().values_list("pk", "source_day"))
        for run_id, ids in images.items():
            days[run_id].update(day_of[pk] for pk in ids if day_of.get(pk))
    return days


def _later_runs(run: ImportRun, days: set[dt.date]) -> list[LaterRun]:
    later = list(
        ImportRun.objects.filter(group_id=run.group_id, pk__gt=run.pk, dry_run=False)
        .exclude(status__in=[ImportStatus.QUEUED, ImportStatus.PREVIEWED, ImportStatus.UNDONE])
        .only("id", "kind", "files").order_by("id")
    )
    if not later:
        return []
    their_days = run_days(later)
    found = []
    for other in later:
        shared = tuple(sorted(their_days[other.pk] & days))
        if shared:
            found.append(LaterRun(id=other.pk, kind=other.kind, days=shared))
    return found


def _corrections(run: ImportRun, days: set[dt.date]) -> list[Correction]:
    """Admins' corrections of the days' talks since the run started (a revision with an author)."""
    if not days:
        return []
    revisions = (
        ShareRevision.objects.filter(share__group_id=run.group_id, share__day__in=days, author__isnull=False,
                                     created_at__gte=run.started_at)
        .select_related("share", "author").order_by("created_at", "id")
    )
    return [Correction(share_id=r.share_id, topic=r.share.topic, day=r.share.day, action=r.action,
                       author=r.author.get_username(), at=r.created_at) for r in revisions]


def import_run_undo_plan(*, run: ImportRun) -> UndoPlan:
    """What undoing ``run`` would remove and restore, per kind of row, and the later runs and
    corrections that stop it. A constant number of queries."""
    days = run_days([run])[run.pk]
    plan = UndoPlan(run=run, days=sorted(days))
    if run.status in NOT_UNDOABLE or run.dry_run:
        return plan
    journal = defaultdict(int)
    for table, action, n in (RunChange.objects.filter(run=run).order_by().values_list("table", "action")
                             .annotate(n=Count("id")).values_list("table", "action", "n")):
        journal[table, action == RunChangeAction.CREATED] += n
    plan.messages_removed = Message.objects.filter(group_id=run.group_id, source_day__in=days, import_run=run.pk).count()
    plan.messages_restored = journal["community.message", False]
    plan.talks_removed = Share.objects.filter(import_run=run.pk, origin=Origin.IMPORT).count()
    plan.talks_restored = journal["shares.share", False]
    plan.talk_rows_changed = journal["shares.talkmessage", False] + journal["shares.talkmessage", True]
    plan.sign_ins_removed = SignIn.objects.filter(import_run=run.pk).count()
    plan.sign_ins_restored = journal["shares.signin", False]
    plan.images_removed = journal["community.storedimage", True]
    plan.images_restored = journal["community.storedimage", False]
    plan.names_removed = Name.objects.filter(import_run=run.pk).count()
    shown = {("community.message", False), ("shares.share", False), ("shares.talkmessage", False),
             ("shares.talkmessage", True), ("shares.signin", False), ("community.storedimage", True),
             ("community.storedimage", False)}
    plan.other_rows_restored = sum(n for key, n in journal.items() if key not in shown)
    plan.later_runs = _later_runs(run, days)
    plan.corrections = _corrections(run, days)
    return plan


@transaction.atomic
def import_run_undo(*, run_id: int, user=None) -> dict[str, int]:
    """Undo a run as a whole (see the module docstring). Raises ``ValueError`` for a run that
    cannot be undone (already undone, a dry run, not finished) and ``UndoRefused`` while later
    runs or corrections touched its days, having written nothing. Returns counts by kind."""
    run = ImportRun.objects.select_for_update().get(pk=run_id)
    sql.group_lock(run.group_id)  # imports of the group wait (and an import holding it is waited for)
    if run.status == ImportStatus.UNDONE:
        raise ValueError(f"Import run {run_id} was already undone.")
    if run.dry_run or run.status in NOT_UNDOABLE:
        raise ValueError(f"Import run {run_id} has imported nothing to undo ({run.status}).")
    if run.kind == ImportKind.ROSTER:
        return roster_run_undo(run=run)
    days = run_days([run])[run.pk]
    later, corrections = _later_runs(run, days), _corrections(run, days)
    if later or corrections:
        raise UndoRefused(run.pk, later, corrections)
    group_id = run.group_id
    journaled_days = set(
        RecordedDay.objects.filter(pk__in=RunChange.objects.filter(run=run, table="community.recordedday")
                                   .values("row_id")).values_list("day", flat=True)
    )
    image_ids = list(RunChange.objects.filter(run=run, table="community.storedimage").values_list("row_id", flat=True))
    image_files = set(StoredImage.objects.filter(pk__in=image_ids).values_list("file", flat=True))
    counts = {
        "sign_ins": SignIn.objects.filter(import_run=run.pk).delete()[0],
        "shares": Share.objects.filter(import_run=run.pk, origin=Origin.IMPORT).delete()[0],
        "messages": Message.objects.filter(group_id=group_id, source_day__in=days, import_run=run.pk).delete()[0],
        "names": Name.objects.filter(import_run=run.pk).delete()[0],
    }
    ImportedFile.objects.filter(run=run).delete()
    later_live = ImportRun.objects.filter(group_id=group_id, pk__gt=run.pk, dry_run=False).exclude(
        status__in=[ImportStatus.QUEUED, ImportStatus.PREVIEWED, ImportStatus.UNDONE]).values_list("pk", flat=True)
    restored = run_undo_rows(run_id=run.pk, later_runs=list(later_live))
    counts["rows restored"] = sum(n for key, n in restored.items() if key.endswith(" restored"))
    counts["rows deleted"] = sum(n for key, n in restored.items() if key.endswith(" deleted"))
    orphans = Member.objects.filter(import_run=run.pk, user__isnull=True).exclude(
        Exists(Message.objects.filter(sender=OuterRef("pk")))).exclude(
        Exists(Share.objects.filter(speaker=OuterRef("pk")))).exclude(
        Exists(SignIn.objects.filter(member=OuterRef("pk")))).exclude(
        Exists(Name.objects.filter(member=OuterRef("pk"))))
    counts["members"] = orphans.delete()[1].get("community.Member", 0)
    for day in days - journaled_days:
        remaining = Message.objects.filter(group_id=group_id, source_day=day).count()
        if remaining or ImportedFile.objects.filter(group_id=group_id, day=day).exists():
            RecordedDay.objects.filter(group_id=group_id, day=day).update(message_count=remaining)
        else:
            RecordedDay.objects.filter(group_id=group_id, day=day).delete()
    membership_facts_refresh(group_id=group_id)
    membership_share_facts_refresh(group_id=group_id)
    run.status = ImportStatus.UNDONE
    run.undone_at = timezone.now()
    run.save(update_fields=["status", "undone_at"])
    if image_files:
        # The copies this run stored: the files no row points at any more go once the undo commits.
        unused = image_files - set(StoredImage.objects.filter(file__in=image_files).values_list("file", flat=True))
        transaction.on_commit(lambda: [default_storage.delete(name) for name in sorted(unused)])
    transaction.on_commit(talk_index_refresh_enqueue)
    return counts


# Rosters ---------------------------------------------------------------------

def roster_run_undo(*, run: ImportRun) -> dict[str, int]:
    """Undo a roster run exactly, in the caller's transaction (``import_run_undo``): the members
    and names it created go (their memberships with them), and every row it changed comes back
    as it was before the run: members it marked as left are active again with their periods
    open, nicknames and join dates are as they were, WeChat ids it set are blank again, name
    counts are as they were, and the merges and suggested links it recorded go.

    Refused (``ValueError``, naming what to undo first) when a later run changed the same rows,
    when a row it changed has been deleted since, or when data has been added since to a member
    it created (messages, names, memberships, shares, sign-ins, a login…). Never brings back
    what a privacy request erased: the erased member's rows keep their erased fields."""
    _roster_undo_refusal(run)
    _journal_forget_erased(run)
    counts = run_undo_rows(run_id=run.pk)
    counts["names deleted"] = Name.objects.filter(import_run=run.pk).delete()[0]
    counts["members deleted"] = Member.objects.filter(import_run=run.pk).delete()[1].get(Member._meta.label, 0)
    run.status = ImportStatus.UNDONE
    run.undone_at = timezone.now()
    run.save(update_fields=["status", "undone_at"])
    return counts


def _roster_undo_refusal(run: ImportRun) -> None:
    """Raise ``ValueError`` saying why the run cannot be undone now, if it cannot. A constant
    number of queries: one per table the run changed and one per relation of a member."""
    mine = RunChange.objects.filter(run_id=run.pk)
    later = set(
        RunChange.objects.filter(run_id__gt=run.pk).exclude(run__status=ImportStatus.UNDONE)
        .filter(Exists(mine.filter(table=OuterRef("table"), row_id=OuterRef("row_id"))))
        .values_list("run_id", flat=True).distinct())
    # Rows pointing at a member the run created that the run did not create itself.
    created = {(change.table, change.row_id) for change in mine.filter(action=RunChangeAction.CREATED)
               .only("table", "row_id")}
    added: dict[str, int] = {}
    for relation in Member._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and (relation.one_to_many or relation.one_to_one)):
            continue
        model = relation.related_model
        rows = model._base_manager.filter(**{f"{relation.field.name}__import_run": run.pk})
        if model is Membership:
            rows = rows.exclude(group_id=run.group_id)
        if any(f.name == "import_run" for f in model._meta.concrete_fields):
            later.update(rows.exclude(import_run=run.pk).exclude(import_run__isnull=True)
                         .values_list("import_run", flat=True).distinct())
            rows = rows.filter(import_run__isnull=True)
        label = model._meta.label_lower
        by_hand = [pk for pk in rows.values_list("pk", flat=True) if (label, pk) not in created]
        if by_hand:
            added[str(model._meta.verbose_name_plural)] = len(by_hand)
    logins = Member.objects.filter(import_run=run.pk, user__isnull=False).count()
    if logins:
        added["logins"] = logins
    # Rows the run changed that are gone since (an erased member's names are gone on purpose).
    erased = _erased_member_ids()
    gone = 0
    for table in mine.exclude(action=RunChangeAction.CREATED).values_list("table", flat=True).distinct():
        model = apps.get_model(table)
        for row_id, before in mine.filter(table=table).exclude(action=RunChangeAction.CREATED).filter(
                ~Exists(model._base_manager.filter(pk=OuterRef("row_id")))).values_list("row_id", "before"):
            if not (row_id in erased if model is Member else before.get("member") in erased):
                gone += 1
    reasons = []
    later.discard(run.pk)
    if later:
        reasons.append("later import runs changed the same members: " + ", ".join(f"#{r}" for r in sorted(later))
                       + " (undo them first)")
    if added:
        reasons.append("data was added since to members it created: "
                       + ", ".join(f"{n} {label}" for label, n in sorted(added.items())))
    if gone:
        reasons.append(f"{gone} rows it changed were deleted since (merged, split or removed by an admin)")
    if reasons:
        raise ValueError(f"Import run {run.pk} cannot be undone: " + "; ".join(reasons) + ".")


def _erased_member_ids() -> set[int]:
    return {pk for pk in AuditEntry.objects.filter(action="member_erased")
            .values_list("details__member_id", flat=True) if pk is not None}


def _journal_forget_erased(run: ImportRun) -> None:
    """A privacy request wins over the journal: the rows of members erased since the run are not
    put back (their member row and names), and their memberships come back without the
    nickname the erasure replaced."""
    erased = _erased_member_ids()
    if not erased:
        return
    mine = RunChange.objects.filter(run_id=run.pk).exclude(action=RunChangeAction.CREATED)
    mine.filter(table="community.member", row_id__in=erased).delete()
    forget, keep_nickname = [], []
    for change in mine.filter(table__in=["community.name", "community.membership"]):
        if change.before.get("member") in erased:
            (forget if change.table == "community.name" else keep_nickname).append(change)
    RunChange.objects.filter(pk__in=[c.pk for c in forget]).delete()
    nicknames = dict(Membership.objects.filter(pk__in=[c.row_id for c in keep_nickname]).values_list("pk", "nickname"))
    for change in keep_nickname:
        change.before["nickname"] = nicknames.get(change.row_id, "")
    RunChange.objects.bulk_update(keep_nickname, ["before"])
