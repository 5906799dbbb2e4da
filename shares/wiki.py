"""The wiki side of the schedule: a share's history, readable diffs and restoring an earlier
version; the group's schedule page (Markdown) with its own history.

Services (writes) and selectors (reads) live together here because they share the diff and
the version rules:

- writes: ``share_restore``, ``schedule_page_get_or_create``, ``schedule_page_edit``,
  ``schedule_page_restore``. Each owns its transaction, checks who asks, refuses a stale
  ``expected_version`` (nothing is written) and keeps the change as a new revision.
- reads: ``share_history``, ``share_revision_changes``, ``schedule_page_of``,
  ``schedule_page_revisions``, ``schedule_page_history``. Their cost does not grow with the
  number of revisions (one query for the revisions, one for the speakers' names).
- ``diff_html``: a line, then word, diff as HTML in which every piece of user text is escaped.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from community.access import access_for
from community.errors import Conflict
from community.lengths import clip
from community.models import Group, Member, Membership, Visibility

from .models import SchedulePage, SchedulePageRevision, Share, ShareRevision, ShareStatus, TopicSource
from .services import ShareConflict, share_revision_record, share_snapshot

# --- Diffs ---

# Latin words and numbers are one token each; every other character (a Chinese character, a
# punctuation mark) is its own token, so that a changed character in Chinese text shows as one.
_TOKEN = re.compile(r"\w+|\s+|.", re.ASCII | re.DOTALL)


def _span(tag: str, text: str) -> str:
    return f"<{tag}>{escape(text)}</{tag}>" if text else ""


def _word_diff(before: str, after: str) -> list[str]:
    old, new = _TOKEN.findall(before), _TOKEN.findall(after)
    parts = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(escape("".join(old[i1:i2])))
        else:
            parts.append(_span("del", "".join(old[i1:i2])) + _span("ins", "".join(new[j1:j2])))
    return parts


def diff_html(before: str, after: str) -> SafeString:
    """``before`` → ``after`` as HTML: removed text in ``<del>``, added text in ``<ins>``,
    the rest as it was. Lines are compared first, then the words (and single Chinese
    characters) of the lines that changed. All text is HTML-escaped: the result is safe to
    show as it is."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    parts: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(escape("".join(old[i1:i2])))
        elif op == "delete":
            parts.append(_span("del", "".join(old[i1:i2])))
        elif op == "insert":
            parts.append(_span("ins", "".join(new[j1:j2])))
        else:
            parts.extend(_word_diff("".join(old[i1:i2]), "".join(new[j1:j2])))
    return mark_safe("".join(parts))  # every piece above went through escape()


def _whole_diff(before: str, after: str) -> SafeString:
    """A value that changes as a whole (a status, a time, a speaker): old struck out, new added."""
    return mark_safe(" ".join(part for part in (_span("del", before), _span("ins", after)) if part))  # both went through escape()


@dataclass(frozen=True)
class FieldChange:
    """One field that changed between two versions, in readable form."""

    name: str
    label: str
    before: str
    after: str
    diff: SafeString


@dataclass(frozen=True)
class HistoryEntry:
    """A revision and what changed in it compared with the version before (or with nothing,
    for the first one)."""

    revision: ShareRevision | SchedulePageRevision
    changes: list[FieldChange]


# --- A share's history ---

# The fields the history compares, in the order it shows them.
DIFF_FIELDS = ("topic", "abstract", "status", "scheduled_for", "speaker", "visibility")
TEXT_FIELDS = ("topic", "abstract")
FIELD_LABELS = {
    "topic": gettext_lazy("topic"),
    "abstract": gettext_lazy("abstract (Markdown)"),
    "status": gettext_lazy("status"),
    "scheduled_for": gettext_lazy("scheduled start"),
    "speaker": gettext_lazy("speaker"),
    "visibility": gettext_lazy("visibility"),
}
# What a restore brings back. Status and dates are left alone: the schedule (one share per
# evening, the members' next-share facts, announcements) only changes through the schedule
# actions, which check it; a restore must not undo a cancellation or move a share to an evening
# that has been given to someone else since.
RESTORED_FIELDS = ("topic", "abstract", "visibility")


def _speaker_names(group: Group, member_ids: set[int]) -> dict[int, str]:
    """Member id → the group nickname, else the display name: one query."""
    if not member_ids:
        return {}
    nickname = Membership.objects.filter(group_id=group.pk, member_id=OuterRef("pk")).values("nickname")[:1]
    rows = Member.objects.filter(pk__in=member_ids).annotate(nickname=Subquery(nickname))
    return {member.pk: member.nickname or member.display_name for member in rows.only("id", "display_name")}


def _choice_label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "")


def _readable(name: str, value, *, group: Group, speakers: dict[int, str]) -> str:
    if value in (None, ""):
        return ""
    if name == "status":
        return _choice_label(ShareStatus, value)
    if name == "visibility":
        return _choice_label(Visibility, value)
    if name == "scheduled_for":
        return dt.datetime.fromisoformat(value).astimezone(group.tz).strftime("%Y-%m-%d %H:%M")
    if name == "speaker":
        return speakers.get(value, f"#{value}")
    return str(value)


def _same(name: str, before, after) -> bool:
    # A time is kept as ISO text in the offset it had in memory: compare instants, not texts.
    if name == "scheduled_for" and before and after:
        return dt.datetime.fromisoformat(before) == dt.datetime.fromisoformat(after)
    return before == after


def _snapshot_changes(before: dict, after: dict, *, group: Group, speakers: dict[int, str]) -> list[FieldChange]:
    changes = []
    for name in DIFF_FIELDS:
        if _same(name, before.get(name), after.get(name)):
            continue
        old = _readable(name, before.get(name), group=group, speakers=speakers)
        new = _readable(name, after.get(name), group=group, speakers=speakers)
        diff = diff_html(old, new) if name in TEXT_FIELDS else _whole_diff(old, new)
        changes.append(FieldChange(name=name, label=str(FIELD_LABELS[name]), before=old, after=new, diff=diff))
    return changes


def share_history(*, share: Share, revisions=None) -> list[HistoryEntry]:
    """Every revision of the share, newest first, each with the fields that changed since the
    revision before it (the first revision: every field it set). ``revisions`` (newest
    first) defaults to ``share.revisions.all()``: with the prefetch of ``share_for_page`` it
    costs no query, and its order and authors are already right. One more query loads the speakers' names, however many
    revisions there are."""
    revisions = list(share.revisions.all() if revisions is None else revisions)
    speakers = _speaker_names(share.group, {r.snapshot.get("speaker") for r in revisions} - {None})
    entries = []
    for index, revision in enumerate(revisions):
        previous = revisions[index + 1].snapshot if index + 1 < len(revisions) else {}
        changes = _snapshot_changes(previous, revision.snapshot, group=share.group, speakers=speakers)
        entries.append(HistoryEntry(revision=revision, changes=changes))
    return entries


def share_revision_changes(*, share: Share, revision: ShareRevision) -> tuple[list[FieldChange], list[FieldChange]]:
    """One version of the share, in readable form: (its fields as they were, what changed from
    it to the share as it is now). One query, for the speakers' names."""
    current = share_snapshot(share)
    speakers = _speaker_names(share.group, {revision.snapshot.get("speaker"), current["speaker"]} - {None})
    fields = _snapshot_changes({}, revision.snapshot, group=share.group, speakers=speakers)
    return fields, _snapshot_changes(revision.snapshot, current, group=share.group, speakers=speakers)


def _share_conflict(share: Share) -> ShareConflict:
    return ShareConflict(
        _("Someone changed this share while you were editing it (it is now version %(version)d). "
          "Nothing was saved: check the current text, then save again."),
        code="conflict", params={"version": share.version},
    )


@transaction.atomic
def share_restore(*, share: Share, version: int, expected_version: int, by) -> Share:
    """Bring back the topic, abstract and visibility the share had at ``version``.

    Group admins only (``PermissionDenied``). ``expected_version`` is the version the admin
    saw: when the share has moved on since, ``ShareConflict`` is raised and nothing is
    written. Status and dates are not restored (see ``RESTORED_FIELDS``). A cancelled share
    cannot be restored, as it cannot be edited. Records a new version, "restored", noted
    "restored version N"; the restored fields join ``edited_fields`` (an import keeps them),
    and a visibility restored is the admin's choice (``Share.admin_visibility``).
    Nothing is recorded when that version already matches the share."""
    if not access_for(by, share.group).is_admin:
        raise PermissionDenied(_("Only a group admin may restore an earlier version."))
    share.refresh_from_db(from_queryset=Share.objects.select_for_update())
    if share.version != expected_version:
        raise _share_conflict(share)
    if share.status == ShareStatus.CANCELLED:
        raise ValidationError(_("A cancelled share cannot be edited."), code="closed")
    revision = ShareRevision.objects.filter(share=share, version=version).first()
    if revision is None:
        raise ValidationError(_("This share has no version %(version)d."), code="no_version", params={"version": version})
    restored = {name for name in RESTORED_FIELDS if name in revision.snapshot
                and getattr(share, name) != revision.snapshot[name]}
    if not restored:
        return share
    for name in restored:
        setattr(share, name, revision.snapshot[name])
    if "visibility" in restored:
        share.admin_visibility = share.visibility  # an admin's choice: the speaker may not go above it
    if "topic" in restored:
        share.topic_source = TopicSource.ADMIN  # an admin chose it
    share.version += 1
    share.updated_at = timezone.now()
    share.edited_fields = sorted(set(share.edited_fields) | restored)
    share.full_clean(validate_constraints=False)
    share.save()
    share_revision_record(share=share, action="restored", author=by, note=f"restored version {version}")
    return share


# --- The group's schedule page ---

DEFAULT_SCHEDULE_PAGE = """\
## 怎样登记分享

1. 打开本群的日程，点“登记分享”，写下题目和一段简介（简介可以用 Markdown）。
2. 选一到三个你方便的晚上。管理员会从中挑一天排进日程，并在群里发预告。
3. 排期之后，题目和简介仍可以在分享页面修改；每次修改都会留下记录。
4. 临时有事讲不了，请尽早在分享页面取消，让别的成员有机会补上这个晚上。

## 什么样的分享受欢迎

- **讲亲身经历**：你做过的系统、踩过的坑、当时为什么这样取舍，比转述公开资料更有价值。
- **题目说清楚讲什么**：例如“一笔跨境退款是怎样走完的”，比“跨境支付浅谈”更能让人决定来不来听。
- **先交代背景**：群里有做产品的、做技术的、做运营的，先用几句话讲明业务场景和术语，再深入细节。
- **留出提问时间**：正文控制在半小时到四十五分钟，之后的问答往往最有收获。
- **守住边界**：不讲公司机密和客户信息；群里的内容未经群主和分享者同意，不外传、不公开。
"""


class SchedulePageConflict(Conflict):
    """The schedule page changed since the editor read it (its version moved on): nothing was written."""


def schedule_page_of(*, group: Group) -> SchedulePage:
    """The group's schedule page; a group that never saved one gets the default page, unsaved
    (version 1, no revision), so that reading the page never writes. One query."""
    page = SchedulePage.objects.filter(group=group).first()
    return page if page is not None else SchedulePage(group=group, body=DEFAULT_SCHEDULE_PAGE, version=1)


def schedule_page_revisions(*, page: SchedulePage) -> QuerySet[SchedulePageRevision]:
    """The page's revisions, newest first, with each author's member loaded (none for an unsaved page)."""
    if page.pk is None:
        return SchedulePageRevision.objects.none()
    return SchedulePageRevision.objects.filter(page=page).select_related("author__member").order_by("-version")


def schedule_page_history(*, page: SchedulePage) -> list[HistoryEntry]:
    """Every revision of the page, newest first, each with the diff of its body against the
    revision before it (the first: against nothing). One query."""
    revisions = list(schedule_page_revisions(page=page))
    entries = []
    for index, revision in enumerate(revisions):
        before = revisions[index + 1].body if index + 1 < len(revisions) else ""
        changes = [] if before == revision.body else [FieldChange(
            name="body", label=str(gettext_lazy("body (Markdown)")), before=before, after=revision.body,
            diff=diff_html(before, revision.body),
        )]
        entries.append(HistoryEntry(revision=revision, changes=changes))
    return entries


@transaction.atomic
def schedule_page_get_or_create(*, group: Group) -> SchedulePage:
    """The group's schedule page, created with the default text (``DEFAULT_SCHEDULE_PAGE``) and
    its revision 1 (no author) when the group has none yet. Safe to call twice, or from two
    requests at once: there is one page per group."""
    page, created = SchedulePage.objects.get_or_create(group=group, defaults={"body": DEFAULT_SCHEDULE_PAGE})
    if created:
        SchedulePageRevision.objects.create(page=page, version=1, body=page.body, created_at=page.updated_at)
    return page


def _page_for_change(group: Group, by, expected_version: int) -> SchedulePage:
    """The page, locked, once the checks every change makes have passed."""
    if not access_for(by, group).is_admin:
        raise PermissionDenied(_("Only a group admin may change the schedule page."))
    page = schedule_page_get_or_create(group=group)
    page.refresh_from_db(from_queryset=SchedulePage.objects.select_for_update())
    if page.version != expected_version:
        raise SchedulePageConflict(
            _("Someone changed the schedule page while you were editing it (it is now version %(version)d). "
              "Nothing was saved: check the current text, then save again."),
            code="conflict", params={"version": page.version},
        )
    return page


def _page_save(page: SchedulePage, *, body: str, by, note: str) -> SchedulePage:
    if body == page.body:
        return page
    page.body = body
    page.version += 1
    page.updated_at = timezone.now()
    page.full_clean()
    page.save()
    SchedulePageRevision.objects.create(
        page=page, version=page.version, body=body, author=by, created_at=page.updated_at, note=clip(note, SchedulePageRevision, "note"),
    )
    return page


@transaction.atomic
def schedule_page_edit(*, group: Group, body: str, expected_version: int, by, note: str = "") -> SchedulePage:
    """Save a new text of the group's schedule page. Group admins only (``PermissionDenied``).

    ``expected_version`` is the version the editor saw: when the page has moved on since,
    ``SchedulePageConflict`` is raised and nothing is written. Line ends are stored as
    ``\\n`` (a browser sends ``\\r\\n``). Every save bumps the version and records a revision
    (who, when, the note); nothing is recorded when the text does not change."""
    page = _page_for_change(group, by, expected_version)
    return _page_save(page, body=body.replace("\r\n", "\n"), by=by, note=note.strip())


@transaction.atomic
def schedule_page_restore(*, group: Group, version: int, expected_version: int, by) -> SchedulePage:
    """Bring back the text the page had at ``version``, as a new version noted "restored version
    N". Group admins only; a stale ``expected_version`` raises ``SchedulePageConflict``; an
    unknown version raises ``ValidationError``. Nothing is recorded when the text is the same."""
    page = _page_for_change(group, by, expected_version)
    body = SchedulePageRevision.objects.filter(page=page, version=version).values_list("body", flat=True).first()
    if body is None:
        raise ValidationError(
            _("The schedule page has no version %(version)d."), code="no_version", params={"version": version}
        )
    return _page_save(page, body=body, by=by, note=f"restored version {version}")
