"""Reads of the shares API, with who may see what: the same rules as the pages."""

from __future__ import annotations

from django.db.models import F, Prefetch, Q, QuerySet

from community.models import Name
from community.selectors import admin_group_ids_of_user, group_ids_of_user, user_member_id

from .models import Share, SharePreferredDate, ShareStatus, SignIn
from .selectors import shares_visible_to


def shares_for_api(user) -> QuerySet[Share]:
    """The shares the user may read: delivered talks as the talk archive shows them
    (``shares_visible_to``: public ones to anyone, anonymous visitors included), and the other
    shares (proposed, scheduled, cancelled) as the schedule and share pages show them: to the
    group's members, among the shares visible to them; staff see every share.

    Group, speaker and the speaker's names loaded; newest day first (shares without a day
    last), then by id: any number of rows costs the same few queries."""
    shares = shares_visible_to(user)
    if not getattr(user, "is_staff", False):
        shares = shares.filter(Q(status=ShareStatus.DELIVERED) | Q(group_id__in=group_ids_of_user(user)))
    return (
        shares.select_related("group", "speaker")
        .prefetch_related(Prefetch("speaker__names", queryset=Name.objects.only("id", "member_id", "name")))
        .order_by(F("day").desc(nulls_last=True), "id")
    )


def share_detail_for_api(user) -> QuerySet[Share]:
    """``shares_for_api`` with what a share's detail shows loaded too: its preferred days and
    its sign-ins (in order, with their members)."""
    return shares_for_api(user).prefetch_related(
        Prefetch("preferred_dates", queryset=SharePreferredDate.objects.order_by("day")),
        Prefetch("sign_ins", queryset=SignIn.objects.select_related("member").only(
            "id", "share_id", "member_id", "signed_at", "origin", "member__id", "member__display_name",
        ).order_by("signed_at", "id")),
    )


def sign_ins_visible_to(user) -> QuerySet[SignIn]:
    """The sign-ins the user may read, as the share and talk pages show them: staff every one;
    a group's admins every sign-in of the group; a member of a group their own sign-ins there
    and the sign-ins of the group's delivered talks they may see (the talk page lists who
    signed in). Nobody reads the sign-ins of a group they are not a member of.

    Newest first, with the share, its group and the member loaded."""
    sign_ins = SignIn.objects.select_related("share__group", "member").only(
        "id", "share_id", "member_id", "signed_at", "origin",
        "share__id", "share__group_id", "share__group__id", "share__group__slug", "share__group__time_zone",
        "member__id", "member__display_name",
    ).order_by("-signed_at", "-id")
    if getattr(user, "is_staff", False):
        return sign_ins
    member_groups = group_ids_of_user(user)
    talks = shares_visible_to(user).filter(status=ShareStatus.DELIVERED, group_id__in=member_groups)
    rule = Q(share__group_id__in=admin_group_ids_of_user(user)) | Q(share__in=talks.values("pk"))
    member_id = user_member_id(user)
    if member_id is not None:
        rule |= Q(share__group_id__in=member_groups, member_id=member_id)
    return sign_ins.filter(rule)


def sign_in_members(share: Share, *, user, is_admin: bool) -> list[SignIn]:
    """Who signed in to the share, as its pages show it to the user: everyone for a delivered
    talk (the talk page lists them) and for the group's admins; otherwise only the user's own
    sign-in (the share page shows a member that they signed in, not who else did). Reads the
    prefetched ``sign_ins``."""
    rows = list(share.sign_ins.all())
    if is_admin or share.status == ShareStatus.DELIVERED:
        return rows
    member_id = user_member_id(user)
    return [row for row in rows if member_id is not None and row.member_id == member_id]

