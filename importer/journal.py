"""What an import run changed, kept so that undoing the run puts every row back exactly.

A run records, before it writes:

* ``rows_before(run_id=, rows=)``: rows it is about to update or delete, as they are now (the
  first image of a row wins: a row the run changes twice comes back as it was before the run);
* ``rows_delete(run_id=, rows=)``: rows it deletes, kept with every row the deletion takes along
  or changes (cascades, links set to NULL), then deleted;
* ``rows_created(run_id=, model=, ids=)``: rows it created that carry no ``import_run`` column.

``RunJournal`` does the same for a run in progress, remembering what it kept already (a row is
read and serialised once per run) and leaving alone the rows the run itself created (undo deletes
them by their ``import_run`` column; a row created by the run is never "restored").

``run_undo_rows(run_id=)`` then deletes what the run created and puts back what it changed or
removed, with the same primary keys, parents before children, in the caller's transaction.
Rows created in bulk on the import's hot path (messages, names, members, shares, sign-ins)
carry their run in an ``import_run`` column and are deleted by the undo service itself.

Member merges are not undone: a merge made by the run (evidence that two names are one person)
stays, and an admin splits it on the names page if it was wrong. A row kept before the merge
that points at the merged member (deleted by the merge) comes back pointing at the member it was
merged into; the merged member itself does not come back as an empty shell.

Derived rows are not kept: the talk search index (rebuilt from the talks by its own task) and
the membership facts (recomputed by the undo).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.apps import apps
from django.core import serializers
from django.db import IntegrityError, models, router, transaction
from django.db.models.deletion import Collector

from .models import RunChange, RunChangeAction

# Derived from other rows and rebuilt by their own refresh: never kept, never restored.
DERIVED = frozenset({"shares.talkindex", "shares.talkindexterm"})
MEMBER = "community.member"


def _label(model: type[models.Model]) -> str:
    return model._meta.label_lower


def rows_before(*, run_id: int, rows: Iterable[models.Model] | models.QuerySet) -> int:
    """Keep ``rows`` as they are now, before the run updates or deletes them. A row already kept
    (or created) by the run keeps its first record. Returns the number of rows given."""
    records = []
    for data in serializers.serialize("python", rows):
        records.append(RunChange(run_id=run_id, table=data["model"], row_id=data["pk"],
                                 action=RunChangeAction.UPDATED, before=data["fields"]))
    RunChange.objects.bulk_create(records, ignore_conflicts=True, batch_size=500)
    return len(records)


def rows_created(*, run_id: int, model: type[models.Model], ids: Iterable[int]) -> int:
    """Note rows of ``model`` the run created (undo deletes them)."""
    records = [RunChange(run_id=run_id, table=_label(model), row_id=pk, action=RunChangeAction.CREATED) for pk in ids]
    RunChange.objects.bulk_create(records, ignore_conflicts=True, batch_size=500)
    return len(records)


def _deletion(rows: models.QuerySet | list[models.Model]) -> tuple[Collector, list[models.Model]]:
    """Django's collector for deleting ``rows``, and every row the deletion removes or changes."""
    rows = rows if isinstance(rows, models.QuerySet) else list(rows)
    model = rows.model if isinstance(rows, models.QuerySet) else type(rows[0])
    collector = Collector(using=router.db_for_write(model), origin=rows)
    collector.collect(rows)
    affected: list[models.Model] = []
    for instances in collector.data.values():
        affected.extend(instances)
    for queryset in collector.fast_deletes:
        affected.extend(queryset)
    for groups in collector.field_updates.values():
        for objs in groups:
            affected.extend(objs)
    return collector, [row for row in affected if _label(type(row)) not in DERIVED]


def rows_delete(*, run_id: int, rows: models.QuerySet | list[models.Model]) -> dict[str, int]:
    """Keep ``rows`` and everything their deletion takes along (cascades) or changes (links set
    to NULL), then delete them. Returns the deleted rows by model, as ``QuerySet.delete``."""
    if not isinstance(rows, models.QuerySet) and not rows:
        return {}
    collector, affected = _deletion(rows)
    rows_before(run_id=run_id, rows=affected)
    return collector.delete()[1]


class RunJournal:
    """The journal of a run in progress: each row kept once, rows the run created never kept."""

    def __init__(self, run_id: int):
        self.run_id = run_id
        self._kept: set[tuple[str, int]] = set()

    def forget(self) -> None:
        """After a rolled-back file: its records are gone with it (the database stays the judge)."""
        self._kept.clear()

    def _new(self, rows: Iterable[models.Model]) -> list[models.Model]:
        fresh = []
        for row in rows:
            key = (_label(type(row)), row.pk)
            if key in self._kept or getattr(row, "import_run", None) == self.run_id:
                continue
            self._kept.add(key)
            fresh.append(row)
        return fresh

    def before(self, rows: Iterable[models.Model] | models.QuerySet) -> int:
        """Keep ``rows`` (fresh from the database) before the run changes them."""
        fresh = self._new(rows)
        return rows_before(run_id=self.run_id, rows=fresh) if fresh else 0

    def delete(self, rows: models.QuerySet | list[models.Model]) -> dict[str, int]:
        """Keep ``rows`` and what their deletion takes along, then delete them."""
        if not isinstance(rows, models.QuerySet) and not rows:
            return {}
        collector, affected = _deletion(rows)
        fresh = self._new(affected)
        if fresh:
            rows_before(run_id=self.run_id, rows=fresh)
        return collector.delete()[1]

    def created(self, model: type[models.Model], ids: Iterable[int]) -> int:
        """Note rows of ``model`` the run created (they have no ``import_run`` column)."""
        label = _label(model)
        ids = [pk for pk in ids if (label, pk) not in self._kept]
        self._kept.update((label, pk) for pk in ids)
        return rows_created(run_id=self.run_id, model=model, ids=ids) if ids else 0

    def is_kept(self, model: type[models.Model], pk: int) -> bool:
        return (_label(model), pk) in self._kept


def _dependency_order(labels: Iterable[str]) -> list[str]:
    """Models ordered so that a model comes after every model it points at (parents first)."""
    remaining = {label: apps.get_model(label) for label in labels}
    ordered: list[str] = []
    while remaining:
        ready = sorted(
            label for label, model in remaining.items()
            if not any(
                field.related_model is not None and _label(field.related_model) in remaining
                and _label(field.related_model) != label
                for field in model._meta.concrete_fields if field.is_relation
            )
        )
        if not ready:  # a cycle: take the rest as they come (nullable links are restored by the second pass)
            ready = sorted(remaining)
        for label in ready:
            ordered.append(label)
            del remaining[label]
    return ordered


def _member_fields(model: type[models.Model]) -> list[models.Field]:
    return [field for field in model._meta.concrete_fields
            if field.is_relation and field.related_model is not None and _label(field.related_model) == MEMBER]


def merged_into(member_ids: Iterable[int]) -> dict[int, int]:
    """For members that no longer exist because a merge deleted them: the member each lives on in
    (following merges of merges). Members that exist, or vanished otherwise, are left out."""
    from community.models import Member, MemberMerge

    wanted = set(member_ids)
    if not wanted:
        return {}
    gone = wanted - set(Member.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    found: dict[int, int] = {}
    step = {pk: pk for pk in gone}
    for _ in range(20):  # merges of merges: a short chain in practice
        if not step:
            break
        into = dict(MemberMerge.objects.filter(action=MemberMerge.Action.MERGE, merged_member_id__in=set(step.values()))
                    .order_by("at", "id").values_list("merged_member_id", "into_id"))
        alive = set(Member.objects.filter(pk__in=set(into.values())).values_list("pk", flat=True))
        following = {}
        for start, current in step.items():
            target = into.get(current)
            if target is None:
                continue
            if target in alive:
                found[start] = target
            else:
                following[start] = target
        step = following
    return found


def run_undo_rows(*, run_id: int, later_runs: Iterable[int] = ()) -> dict[str, int]:
    """Delete the rows the run created (children first) and put back the rows it changed or
    deleted (parents first), as they were before the run. Counts by table and action.

    A row that one of ``later_runs`` (runs after this one, not undone) kept too, having changed
    it since, is left as it is: putting this run's image back would undo that run's change.

    A kept row pointing at a member that a merge has deleted since comes back pointing at the
    member it was merged into (when that clashes with a row the merged member already has, the
    merged member's row stays and the kept one is dropped); a kept member row that a merge
    deleted does not come back. A row the run itself created is never put back."""
    counts: dict[str, int] = defaultdict(int)
    created: dict[str, list[int]] = defaultdict(list)
    kept: dict[str, list[dict]] = defaultdict(list)
    later_runs = list(later_runs)
    changed_since = set(
        RunChange.objects.filter(run_id__in=later_runs).exclude(action=RunChangeAction.CREATED).order_by()
        .values_list("table", "row_id")
    ) if later_runs else set()
    for change in RunChange.objects.filter(run_id=run_id).order_by("id"):
        if change.action == RunChangeAction.CREATED:
            created[change.table].append(change.row_id)
        elif (change.table, change.row_id) in changed_since:
            counts[f"{change.table} changed since, kept"] += 1
        elif change.before.get("import_run") != run_id:
            kept[change.table].append({"model": change.table, "pk": change.row_id, "fields": change.before})
    for label in reversed(_dependency_order(created)):
        apps.get_model(label).objects.filter(pk__in=created[label]).delete()
        counts[f"{label} deleted"] += len(created[label])
    referenced = {
        record["fields"].get(field.name)
        for label, records in kept.items() for field in _member_fields(apps.get_model(label)) for record in records
    } | {record["pk"] for record in kept.get(MEMBER, [])}
    redirect = merged_into(pk for pk in referenced if pk is not None)
    for label in _dependency_order(kept):
        model = apps.get_model(label)
        member_fields = _member_fields(model)
        for restored in serializers.deserialize("python", kept[label]):
            row = restored.object
            if label == MEMBER and row.pk in redirect:
                counts[f"{label} merged, not restored"] += 1
                continue
            moved = False
            for field in member_fields:
                target = redirect.get(getattr(row, field.attname))
                if target is not None:
                    setattr(row, field.attname, target)
                    moved = True
            if not moved:
                restored.save()
                counts[f"{label} restored"] += 1
                continue
            try:
                with transaction.atomic():
                    restored.save()
                counts[f"{label} restored"] += 1
            except IntegrityError:
                counts[f"{label} merged, not restored"] += 1
    return dict(counts)


def journal_member_erase(*, member, anonymous_name: str) -> dict[str, int]:
    """A privacy erasure reaches the journal: undo never brings back what it erased. The kept
    images of the member's names and suggested links are dropped (those rows are erased); kept
    images of the member, their memberships and their messages read as the erasure left the
    rows (the anonymous name, no personal field, no login)."""
    pk = member.pk
    dropped = (
        RunChange.objects.filter(table="community.name", before__member=pk).delete()[0]
        + RunChange.objects.filter(table="community.namelink", before__member=pk).delete()[0]
        + RunChange.objects.filter(table="community.namelink", before__other=pk).delete()[0]
    )
    changed = []
    for change in RunChange.objects.filter(table=MEMBER, row_id=pk).exclude(action=RunChangeAction.CREATED):
        change.before = {**change.before, "display_name": anonymous_name, "name": "", "company": "", "position": "",
                         "city": "", "wechat_id": "", "user": None}
        changed.append(change)
    for change in RunChange.objects.filter(table="community.membership", before__member=pk):
        change.before = {**change.before, "nickname": anonymous_name}
        changed.append(change)
    for change in RunChange.objects.filter(table="community.message", before__sender=pk):
        change.before = {**change.before, "sender_name": anonymous_name}
        changed.append(change)
    RunChange.objects.bulk_update(changed, ["before"], batch_size=500)
    return {"import_journal": dropped + len(changed)}
