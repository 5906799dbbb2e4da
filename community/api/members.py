"""The members API: a group's members as its directory shows them, a member as the groups one
shares with them know them, and a group's admins merging two members."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from community.access import Access, group_and_access
from community.api.fields import GroupLocalDateTimeField
from community.api.permissions import GroupListAPI
from community.filters import AdminMemberFilter, MemberFilter
from community.identity import member_for_decision
from community.models import Membership, Name
from community.selectors import (
    directory_memberships,
    directory_rows,
    last_recorded_day,
    profile_names,
    profile_scope,
)
from community.services import REASON_MAX_LENGTH, member_merge_manual

# --- A group's members: rows of the directory (``community.selectors.DirectoryRow``) ---


class GroupMemberSerializer(serializers.Serializer):
    """A member of the group as the group's members see them in the directory."""

    id = serializers.IntegerField(source="membership.member_id", read_only=True, help_text="The member's id.")
    display_name = serializers.CharField(source="member.display_name", read_only=True)
    nickname = serializers.CharField(source="membership.nickname", read_only=True,
                                     help_text="The member's nickname in this group.")
    name = serializers.CharField(source="member.name", read_only=True)
    company = serializers.CharField(source="member.company", read_only=True)
    position = serializers.CharField(source="member.position", read_only=True)
    city = serializers.CharField(source="member.city", read_only=True)
    role = serializers.CharField(source="membership.role", read_only=True, help_text="owner, admin or member")
    last_message_day = serializers.DateField(read_only=True, allow_null=True, help_text="In the group's time zone.")
    shares_given = serializers.IntegerField(source="membership.shares_given", read_only=True)
    sign_ins = serializers.IntegerField(source="membership.sign_in_count", read_only=True)


class _KnownNamesInGroupField(serializers.ListField):
    """The names the member was seen under in this group, distinct and sorted (prefetched)."""

    def __init__(self, **kwargs):
        super().__init__(child=serializers.CharField(), read_only=True, **kwargs)

    def to_representation(self, data) -> list[str]:
        return sorted({name.name for name in data.all()})


class AdminGroupMemberSerializer(GroupMemberSerializer):
    """A membership as the group's admins (and staff) see it in the directory: its status and
    the facts the group rules read."""

    status = serializers.CharField(source="membership.status", read_only=True,
                                   help_text="active, pending, removed or left")
    wechat_id = serializers.CharField(source="member.wechat_id", read_only=True)
    names = _KnownNamesInGroupField(source="member.names", help_text="Names seen in this group.")
    message_count = serializers.IntegerField(source="membership.message_count", read_only=True)
    last_message_at = GroupLocalDateTimeField(source="membership.last_message_at", group_source="membership.group",
                                              allow_null=True)
    days_silent = serializers.IntegerField(
        read_only=True, allow_null=True,
        help_text="From the last message to the group's last recorded day; null when never or nothing recorded.",
    )
    next_share_at = GroupLocalDateTimeField(source="membership.next_share_at", group_source="membership.group",
                                            allow_null=True)
    exempt_until = serializers.DateField(source="membership.exempt_until", read_only=True, allow_null=True)
    exempt_reason = serializers.CharField(source="membership.exempt_reason", read_only=True)
    nickname_follows_form = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_nickname_follows_form(self, row) -> bool:
        return row.nickname_parts is not None


@extend_schema_view(get=extend_schema(
    summary="Members of a group", tags=["members"],
    description="The group named by the required `group` slug, as its member directory shows it: the group's "
                "active members see its active members (reduced view: no status, evidence, WeChat id or "
                "exemption); its admins and staff see every membership with all of it (full view, as "
                "`AdminGroupMember`). Anyone else: 403. Ordered by nickname unless `sort` is given.",
    responses={200: AdminGroupMemberSerializer(many=True)},
))
class MemberListAPI(GroupListAPI):
    denied_message = "Only the group's members see its members."

    def allowed(self, access: Access) -> bool:
        return access.is_member

    @property
    def filterset_class(self):
        # The admins' filters (status) for admins, staff and the schema; the members' otherwise.
        return MemberFilter if self.access.is_member and not self.access.is_admin else AdminMemberFilter

    def get_serializer_class(self):
        return AdminGroupMemberSerializer if self.access.is_admin or self.group is None else GroupMemberSerializer

    def get_queryset(self):
        if self.group is None:  # the FilterSet explains (400)
            return Membership.objects.none()
        memberships = directory_memberships(group=self.group, include_inactive=self.access.is_admin)
        if self.access.is_admin:
            names = Name.objects.filter(group=self.group).only("id", "member_id", "name")
            memberships = memberships.select_related("group").prefetch_related(Prefetch("member__names", queryset=names))
        return memberships

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        as_of = last_recorded_day(self.group) if self.access.is_admin else None
        return directory_rows(page, group=self.group, as_of=as_of)


# --- A member ---


class MemberNameSerializer(serializers.Serializer):
    name = serializers.CharField(read_only=True)
    group = serializers.CharField(source="group.slug", read_only=True, allow_null=True,
                                  help_text="Where the name was seen; null: recorded without a group.")
    source = serializers.CharField(read_only=True, help_text="header, mention, quote, roster, merged_export or manual")
    first_seen = GroupLocalDateTimeField(allow_null=True)
    last_seen = GroupLocalDateTimeField(allow_null=True)


class MemberMembershipSerializer(serializers.Serializer):
    group = serializers.CharField(source="group.slug", read_only=True)
    nickname = serializers.CharField(read_only=True)
    role = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)
    joined_at = GroupLocalDateTimeField(allow_null=True)
    left_at = GroupLocalDateTimeField(allow_null=True)


class MemberSerializer(serializers.Serializer):
    """A member as their profile page shows them to the viewer (``ProfileScope``)."""

    id = serializers.IntegerField(source="member.pk", read_only=True)
    display_name = serializers.CharField(source="member.display_name", read_only=True)
    name = serializers.CharField(source="member.name", read_only=True)
    company = serializers.CharField(source="member.company", read_only=True)
    position = serializers.CharField(source="member.position", read_only=True)
    city = serializers.CharField(source="member.city", read_only=True)
    memberships = MemberMembershipSerializer(many=True, read_only=True,
                                             help_text="In the groups the viewer shares with the member.")
    names = serializers.SerializerMethodField(help_text="Seen in those groups, oldest first.")

    @extend_schema_field(MemberNameSerializer(many=True))
    def get_names(self, scope) -> list[dict]:
        return MemberNameSerializer(profile_names(scope), many=True).data


@extend_schema(
    summary="A member", tags=["members"],
    description="A member with their names and memberships, limited to the groups the viewer shares with them "
                "(everything for the member themself and staff). 404 when the viewer shares no group with the "
                "member: who is in which group is not told.",
    responses={200: MemberSerializer},
)
class MemberDetailAPI(APIView):
    def get(self, request, pk: int):
        scope = profile_scope(viewer=request.user, member_id=pk)
        if scope is None:
            raise NotFound
        return Response(MemberSerializer(scope).data)


# --- Merging two members ---


class MemberMergeInputSerializer(serializers.Serializer):
    into = serializers.IntegerField(help_text="The member kept.")
    other = serializers.IntegerField(help_text="The member merged into it (deleted).")
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH, help_text="Why: kept with the merge.")


class MemberMergeSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    into = serializers.IntegerField(source="into_id", read_only=True)
    merged_member_id = serializers.IntegerField(read_only=True)
    merged_name = serializers.CharField(read_only=True)
    reason = serializers.CharField(read_only=True)
    moved = serializers.DictField(source="evidence.counts", child=serializers.IntegerField(), read_only=True,
                                  help_text="Rows moved from the merged member: messages, names, memberships, …")


@extend_schema(
    summary="Merge two members", tags=["members"], request=MemberMergeInputSerializer,
    responses={201: MemberMergeSerializer},
    description="The group's admins (and staff) merge `other` into `into`, saying why, as on the group's names page: "
                "both must be members of the group (staff: any two members), different, and not both with a login. "
                "Everything moves in one transaction; refused: 400 naming the field, nothing changed. A member out "
                "of the admin's reach (a login, or a role or an active or pending membership in a group the admin "
                "does not run) is merged by staff only: 403 for an admin, nothing changed.",
    parameters=[OpenApiParameter("slug", str, OpenApiParameter.PATH, description="The group's slug.")],
)
class MemberMergeAPI(APIView):
    # The service's refusals, by the field they are about (``community.api.exceptions``).
    error_fields = {"reason_required": "reason", "reason_too_long": "reason", "same_member": "other",
                    "not_in_group": "other"}

    def post(self, request, slug: str):
        group, access = group_and_access(request.user, slug)
        access.require_admin("Only the group's admins merge its members.")
        data = MemberMergeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        members = {key: member_for_decision(group=group, pk=data.validated_data[key], everyone=access.can_decide_for_everyone)
                   for key in ("into", "other")}
        missing = {key: ["This member is not a member of this group."] for key, found in members.items() if found is None}
        if missing:
            raise ValidationError(missing)
        record = member_merge_manual(group=group, into=members["into"], other=members["other"], by=request.user,
                                     reason=data.validated_data["reason"])
        return Response(MemberMergeSerializer(record).data, status=status.HTTP_201_CREATED)

