"""Reads for the pages where a group's admins decide who is who: suggested name links,
merges and splits. Each function costs a constant number of queries, whatever the number
of links, members, names or messages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet

from .models import Group, Member, MemberMerge, Membership, Message, Name, NameLink, NameLinkStatus
from .names import normalize_name
from .services import member_rows_count

SEARCH_LIMIT = 30
HISTORY_LIMIT = 50


@dataclass
class MemberCard:
    """What an admin needs to tell a member apart, in one group."""

    member: Member
    membership: Membership | None = None
    names: list[Name] = field(default_factory=list)
    message_count: int = 0
    first_message_at: dt.datetime | None = None
    last_message_at: dt.datetime | None = None
    rows: dict[str, int] = field(default_factory=dict)


def member_cards(*, group: Group, members: list[Member], with_rows: bool = False) -> dict[int, MemberCard]:
    """Cards of ``members`` in ``group``: membership, names seen in the group (with where and
    when), messages in the group (count, first, last); with ``with_rows``, the counts of every
    row a merge would move (all groups). Three queries (plus the counts)."""
    cards = {member.pk: MemberCard(member=member) for member in members}
    if not cards:
        return cards
    ids = list(cards)
    for membership in Membership.objects.filter(group=group, member_id__in=ids):
        cards[membership.member_id].membership = membership
    for name in Name.objects.filter(group=group, member_id__in=ids).order_by("member_id", "first_seen", "id"):
        cards[name.member_id].names.append(name)
    stats = (
        Message.objects.filter(group=group, sender_id__in=ids).order_by().values_list("sender_id")
        .annotate(n=Count("id"), first=Min("sent_at"), last=Max("sent_at"))
        .values_list("sender_id", "n", "first", "last")
    )
    for sender_id, n, first, last in stats:
        card = cards[sender_id]
        card.message_count, card.first_message_at, card.last_message_at = n, first, last
    if with_rows:
        for pk, rows in member_rows_count(ids).items():
            cards[pk].rows = rows
    return cards


@dataclass
class LinkCard:
    link: NameLink
    member: MemberCard
    other: MemberCard

    @property
    def suggested_keep(self) -> str:
        """The side with more messages in the group is the likelier one to keep."""
        return "other" if self.other.message_count > self.member.message_count else "member"


def name_links_suggested(*, group: Group) -> list[LinkCard]:
    """The group's suggested links, oldest first, each with both members' cards. Four queries."""
    links = list(
        NameLink.objects.filter(group=group, status=NameLinkStatus.SUGGESTED)
        .select_related("member", "other").order_by("created_at", "id")
    )
    members = {link.member_id: link.member for link in links} | {link.other_id: link.other for link in links}
    cards = member_cards(group=group, members=list(members.values()))
    return [LinkCard(link=link, member=cards[link.member_id], other=cards[link.other_id]) for link in links]


def name_links_rejected(*, group: Group) -> QuerySet[NameLink]:
    """The group's rejected links, latest decision first, with their members and who decided."""
    return (
        NameLink.objects.filter(group=group, status=NameLinkStatus.REJECTED)
        .select_related("member", "other", "decided_by").order_by("-decided_at", "-id")[:HISTORY_LIMIT]
    )


def identity_decisions(*, group: Group) -> QuerySet[MemberMerge]:
    """The merges and splits admins decided in the group (confirmed links included), latest first."""
    return (
        MemberMerge.objects.filter(automatic=False, evidence__group=group.pk)
        .select_related("into", "by").order_by("-at", "-id")[:HISTORY_LIMIT]
    )


def identity_decision(*, group: Group, pk: int) -> MemberMerge | None:
    """One decision of the group (to show its result), or None."""
    return (
        MemberMerge.objects.filter(pk=pk, automatic=False, evidence__group=group.pk)
        .select_related("into", "by").first()
    )


def members_search(*, group: Group, query: str, everyone: bool = False) -> list[Member]:
    """Members whose display name, group nickname or any name contains ``query`` (case and
    separators ignored for names), at most ``SEARCH_LIMIT``: the group's members, or with
    ``everyone`` (staff) all members. One query."""
    query = query.strip()
    if not query:
        return []
    key = normalize_name(query)
    names = Name.objects.filter(member=OuterRef("pk")).filter(Q(name__icontains=query) | Q(normalized__contains=key))
    in_group = Membership.objects.filter(member=OuterRef("pk"), group=group)
    members = Member.objects.annotate(in_group=Exists(in_group)).filter(
        Q(display_name__icontains=query) | Q(Exists(names)) | Q(Exists(in_group.filter(nickname__icontains=query)))
    )
    if not everyone:
        members = members.filter(in_group=True)
    return list(members.order_by("-in_group", "display_name", "id")[:SEARCH_LIMIT])


def member_for_decision(*, group: Group, pk: int | None, everyone: bool = False) -> Member | None:
    """A member an admin may pick on the group's pages: one of its members (staff: anyone)."""
    if pk is None:
        return None
    members = Member.objects.filter(pk=pk)
    if not everyone:
        members = members.filter(memberships__group=group)
    return members.first()


@dataclass
class SplitName:
    """One name of a member in a group, and the group's messages sent under it."""

    name: Name
    messages: int


def split_names(*, group: Group, member: Member) -> list[SplitName]:
    """The member's names in the group, each with the number of the group's messages the
    member sent under it (``sender_name`` normalized as the name is). Two queries."""
    names = list(Name.objects.filter(member=member, group=group).order_by("first_seen", "id"))
    per_name: dict[str, int] = {}
    sent = (
        Message.objects.filter(group=group, sender=member).order_by().values_list("sender_name")
        .annotate(n=Count("id")).values_list("sender_name", "n")
    )
    for sender_name, n in sent:
        key = normalize_name(sender_name)
        per_name[key] = per_name.get(key, 0) + n
    return [SplitName(name=name, messages=per_name.get(name.normalized, 0)) for name in names]
