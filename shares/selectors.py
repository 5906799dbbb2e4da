"""Reads of shares, with who may see what."""

from __future__ import annotations

from django.db.models import F, Prefetch, Q, QuerySet
from django.utils import timezone

from community.models import Name, Visibility
from community.selectors import admin_group_ids_of_user, group_ids_of_user, user_member_id

from .models import Share, ShareStatus


def shares_visible_to(user) -> QuerySet[Share]:
    """Shares the user may see: public ones for anyone, members-only ones for members of
    the share's group, hidden ones for the group's admins and the speaker; staff see all."""
    shares = Share.objects.all()
    if getattr(user, "is_staff", False):
        return shares
    rule = Q(visibility=Visibility.PUBLIC)
    member_groups = group_ids_of_user(user)
    if member_groups:
        rule |= Q(visibility=Visibility.MEMBERS, group_id__in=member_groups)
    admin_groups = admin_group_ids_of_user(user)
    if admin_groups:
        rule |= Q(group_id__in=admin_groups)
    member_id = user_member_id(user)
    if member_id is not None:
        rule |= Q(speaker_id=member_id)
    return shares.filter(rule)


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


def shares_with_speakers() -> QuerySet[Share]:
    """Every share with its group, its speaker and the speaker's names loaded; newest day
    first (shares without a day last), then by id: listing any number costs the same few queries."""
    return (
        Share.objects.select_related("group", "speaker")
        .prefetch_related(Prefetch("speaker__names", queryset=Name.objects.only("id", "member_id", "name")))
        .order_by(F("day").desc(nulls_last=True), "id")
    )
