"""Reads of shares, with who may see what."""

from __future__ import annotations

import datetime as dt
import re

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from community.models import Group, Member, Membership, MembershipStatus, Message, Visibility
from community.selectors import (
    UserRoles,
    admin_group_ids_of_user,
    group_ids_of_user,
    register_message_restriction,
    user_member_id,
    user_roles,
)

from .models import Share, SharePreferredDate, ShareRevision, ShareStatus, TalkMessage


def shares_visible_to(user, *, roles: UserRoles | None = None) -> QuerySet[Share]:
    """Shares the user may see: public ones for anyone, members-only ones for members of
    the share's group — and for members of a group where a share announced was given in it
    (``given_in``: the announcing group's members read the talk its speaker gave elsewhere) —,
    hidden ones for the group's admins and the speaker; staff see all.
    With ``roles`` (``community.selectors.user_roles``, read once by the page) it reads nothing."""
    shares = Share.objects.all()
    if getattr(user, "is_staff", False):
        return shares
    rule = Q(visibility=Visibility.PUBLIC)
    member_groups = roles.member_groups if roles is not None else group_ids_of_user(user)
    if member_groups:
        rule |= Q(visibility=Visibility.MEMBERS, group_id__in=member_groups)
        # The one deliberate cross-group read: a members-only talk given in another group that a
        # share announced in one of the user's groups links to (``Share.given_in``).
        rule |= Q(visibility=Visibility.MEMBERS) & Exists(Share.objects.filter(
            given_in_id=OuterRef("pk"), group_id__in=member_groups, status=ShareStatus.ANNOUNCED))
    admin_groups = roles.admin_groups if roles is not None else admin_group_ids_of_user(user)
    if admin_groups:
        rule |= Q(group_id__in=admin_groups)
    member_id = roles.member_id if roles is not None else user_member_id(user)
    if member_id is not None:
        rule |= Q(speaker_id=member_id)
    return shares.filter(rule)


def in_unseen_talk(*, group: Group, visible: QuerySet[Share]) -> Exists | None:
    """The condition that a message (``OuterRef("pk")``) is part of a talk of ``group`` (its
    talk, interruptions or Q&A) that is not among ``visible`` (``shares_visible_to`` the
    viewer); None when every share is visible (staff)."""
    if not visible.query.has_filters():
        return None
    unseen = Share.objects.filter(group=group).exclude(pk__in=visible.values("pk"))
    return Exists(TalkMessage.objects.filter(message_id=OuterRef("pk"), share__in=unseen))


def messages_outside_unseen_talks(messages: QuerySet[Message], *, group: Group,
                                  visible: QuerySet[Share]) -> QuerySet[Message]:
    """``messages`` of ``group`` without those that are part of one of its talks not among
    ``visible`` (``in_unseen_talk``): a hidden talk's text is not read on the day page, in the
    API, in another talk's day discussion or export by whoever may not see that talk. One
    more condition on the query; reads nothing."""
    in_unseen = in_unseen_talk(group=group, visible=visible)
    return messages if in_unseen is None else messages.filter(~in_unseen)


def _readable_messages(messages: QuerySet[Message], *, user, group: Group, roles: UserRoles) -> QuerySet[Message]:
    return messages_outside_unseen_talks(messages, group=group, visible=shares_visible_to(user, roles=roles))


# The messages API (``community``) asks this through ``community.selectors.messages_readable``.
register_message_restriction(_readable_messages)


def upcoming_shares(user, *, limit: int = 5) -> QuerySet[Share]:
    return (
        shares_visible_to(user)
        .filter(status=ShareStatus.SCHEDULED, scheduled_for__gte=timezone.now())
        .select_related("group", "speaker")
        .order_by("scheduled_for")[:limit]
    )


def latest_talks(user, *, limit: int = 5) -> QuerySet[Share]:
    return (
        shares_visible_to(user)
        .filter(status=ShareStatus.DELIVERED)
        .select_related("group", "speaker")
        .order_by("-started_at", "-id")[:limit]
    )


# --- The schedule pages and the paste-ready texts ---

WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
FREE_EVENING = "（空）"
_PLACEHOLDER = re.compile(r"\{(speaker|topic|start|date)\}")


def _speaker_nickname() -> Subquery:
    """The speaker's group nickname in the share's own group ('' or None when there is none)."""
    return Subquery(
        Membership.objects.filter(group_id=OuterRef("group_id"), member_id=OuterRef("speaker_id")).values("nickname")[:1]
    )


def speaker_name(share: Share) -> str:
    """How the group knows the speaker: the group nickname, else the member's display name.
    Uses ``speaker_nickname`` when the selector annotated it (no query), else asks once."""
    if hasattr(share, "speaker_nickname"):
        nickname = share.speaker_nickname
    else:
        nickname = (
            Membership.objects.filter(group_id=share.group_id, member_id=share.speaker_id)
            .values_list("nickname", flat=True).first()
        )
    return nickname or share.speaker.display_name


# What the week's paste-ready text lists; the schedule page and a member's calendar also show
# the announced shares (announced in the group's record, not given there).
PLANNED_STATUSES = (ShareStatus.SCHEDULED, ShareStatus.DELIVERED)
SCHEDULE_STATUSES = (*PLANNED_STATUSES, ShareStatus.ANNOUNCED)


def shares_on_schedule(*, group: Group, start: dt.date, end: dt.date, user=None,
                       statuses=PLANNED_STATUSES) -> QuerySet[Share]:
    """The group's shares of ``statuses`` (scheduled and delivered by default) with a day from
    ``start`` to ``end`` (inclusive), speaker and nickname loaded, by day, start (a share whose
    announcement gave no time first, on every database) and id. With
    ``user``, only the shares that user may see (``shares_visible_to``); without, all of them
    (admin texts)."""
    shares = shares_visible_to(user) if user is not None else Share.objects.all()
    return (
        shares.filter(group=group, day__gte=start, day__lte=end, status__in=statuses)
        .select_related("speaker")
        .annotate(speaker_nickname=_speaker_nickname())
        .order_by("day", F("scheduled_for").asc(nulls_first=True), "id")
    )


def given_in_talks(user, shares) -> dict[int, Share]:
    """For the announced ``shares`` linked to a talk given in another group (``given_in``),
    those talks the user may read (``shares_visible_to``: the announcing group's members may),
    by id, with their group: two queries (the user's roles, the talks), none when no share is
    linked. A talk the user may not read is missing, and the page names no talk."""
    ids = {share.given_in_id for share in shares
           if share.status == ShareStatus.ANNOUNCED and share.given_in_id is not None}
    if not ids:
        return {}
    talks = (shares_visible_to(user, roles=user_roles(user)).filter(pk__in=ids, status=ShareStatus.DELIVERED)
             .select_related("group"))
    return {talk.pk: talk for talk in talks}


def shares_proposed(*, group: Group) -> QuerySet[Share]:
    """The group's proposed shares (waiting for an admin to pick a day), oldest first, with
    speaker, nickname and preferred days loaded."""
    return (
        Share.objects.filter(group=group, status=ShareStatus.PROPOSED)
        .select_related("speaker")
        .annotate(speaker_nickname=_speaker_nickname())
        .prefetch_related(Prefetch("preferred_dates", queryset=SharePreferredDate.objects.order_by("day")))
        .order_by("created_at", "id")
    )


def shares_of_speaker(*, group: Group, member_id: int | None) -> QuerySet[Share]:
    """A member's own shares in the group, whatever their status (newest day first, proposed
    ones on top), with preferred days loaded."""
    if member_id is None:
        return Share.objects.none()
    return (
        Share.objects.filter(group=group, speaker_id=member_id)
        .prefetch_related(Prefetch("preferred_dates", queryset=SharePreferredDate.objects.order_by("day")))
        .order_by(F("day").desc(nulls_first=True), "-id")
    )


def share_for_page(*, user, group: Group) -> QuerySet[Share]:
    """The group's shares the user may see, ready for the share page: speaker, nickname,
    preferred days and the history (newest first, with each author's member) loaded."""
    return (
        shares_visible_to(user)
        .filter(group=group)
        .select_related("group", "speaker")
        .annotate(speaker_nickname=_speaker_nickname())
        .prefetch_related(
            Prefetch("preferred_dates", queryset=SharePreferredDate.objects.order_by("day")),
            Prefetch("revisions", queryset=ShareRevision.objects.select_related("author__member").order_by("-version")),
        )
    )


def group_speakers(group: Group) -> QuerySet[Member]:
    """The group's active members with ``group_nickname``, ordered by it: the speakers to pick from."""
    memberships = Membership.objects.filter(group=group, status=MembershipStatus.ACTIVE)
    return (
        Member.objects.filter(pk__in=memberships.values("member_id"))
        .annotate(group_nickname=Subquery(memberships.filter(member_id=OuterRef("pk")).values("nickname")[:1]))
        .order_by("group_nickname", "id")
    )


def evenings(shares, *, start: dt.date, days: int) -> list[tuple[dt.date, list[Share]]]:
    """``days`` consecutive days from ``start``, each with its shares (in the given order)."""
    by_day: dict[dt.date, list[Share]] = {}
    for share in shares:
        by_day.setdefault(share.day, []).append(share)
    return [(day, by_day.get(day, [])) for day in (start + dt.timedelta(days=n) for n in range(days))]


def week_start_of(day: dt.date) -> dt.date:
    """The Monday of the day's week."""
    return day - dt.timedelta(days=day.weekday())


def _local_start(share: Share, group: Group) -> str:
    return share.scheduled_for.astimezone(group.tz).strftime("%H:%M") if share.scheduled_for else ""


def announcement_text(*, share: Share) -> str:
    """The group's announcement template filled in for the share: {speaker} the group
    nickname, {topic}, {start} HH:MM and {date} YYYY-MM-DD in the group's time zone. Other
    braces are left as they are. The share must have a start (``ValueError`` otherwise)."""
    if share.scheduled_for is None:
        raise ValueError("A share without a start cannot be announced.")
    group = share.group
    start = share.scheduled_for.astimezone(group.tz)
    values = {
        "speaker": speaker_name(share),
        "topic": share.topic,
        "start": start.strftime("%H:%M"),
        "date": start.date().isoformat(),
    }
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], group.announcement_template)


def week_schedule_text(*, group: Group, week_start: dt.date) -> str:
    """The week (Monday to Sunday; ``week_start`` is moved back to its Monday) as one
    paste-ready text: a title line, then one line per evening — date, weekday, start,
    speaker and topic, or "（空）" for a free evening; an evening with two shares has two lines."""
    monday = week_start_of(week_start)
    sunday = monday + dt.timedelta(days=6)
    lines = [f"{group.name} 分享安排（{monday.isoformat()} 至 {sunday.isoformat()}）"]
    shares = shares_on_schedule(group=group, start=monday, end=sunday)
    for day, todays in evenings(shares, start=monday, days=7):
        label = f"{day.isoformat()} {WEEKDAYS_ZH[day.weekday()]}"
        if not todays:
            lines.append(f"{label} {FREE_EVENING}")
        for share in todays:
            lines.append(f"{label} {_local_start(share, group)} {speaker_name(share)}《{share.topic}》")
    return "\n".join(lines)
