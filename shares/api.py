"""The shares API: shares (with their sign-ins and talk content) and the writes the share pages
allow — register, schedule or reschedule, cancel, edit, sign in — each through its service.

Who may read and act is decided as on the pages: reads by ``shares_for_api`` (a share the user
may not see is a 404), writes by the same checks as ``shares/views.py`` and then by the service.
A service's refusal is answered by ``community.api.exceptions`` (``ShareRefusals`` says which
field an error is about): a ``ValidationError`` is a 400 naming the field when there is one,
``ShareConflict`` (the share changed since the version given) a 409 as on the share page,
``PermissionDenied`` a 403; a refused write writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.response import Response
from rest_framework.views import APIView

from community.access import access_for
from community.api.fields import GroupLocalDateTimeField, MemberSummarySerializer
from community.models import Group, Member, MessageKind, Visibility

from . import services
from .api_selectors import share_detail_for_api, shares_for_api, sign_in_members
from .archive import MessageRow, sender_label, talk_rows
from .export import is_http_url
from .filters import ShareFilter
from .models import Share, ShareStatus

# --- Output ---


class SignInMemberSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    display_name = serializers.CharField(read_only=True)


class SignInSerializer(serializers.Serializer):
    """A sign-in: who, to which share, when (in the group's time zone) and from where (web or import)."""

    id = serializers.IntegerField(read_only=True)
    share = serializers.IntegerField(source="share_id", read_only=True)
    group = serializers.CharField(source="share.group.slug", read_only=True, help_text="The group's slug.")
    member = SignInMemberSerializer(read_only=True)
    signed_at = GroupLocalDateTimeField(group_source="share.group")
    source = serializers.CharField(source="origin", read_only=True, help_text="web or import")


@dataclass(frozen=True, slots=True)
class TalkLine:
    """A message of a talk (``talk_rows``) with its group, whose time zone its moment is written in."""

    part: str
    message: MessageRow
    group: Group


class TalkMessageSerializer(serializers.Serializer):
    """A message of a talk: ``part`` is talk (the speaker), interruption or qa."""

    id = serializers.IntegerField(source="message.id", read_only=True)
    part = serializers.CharField(read_only=True, help_text="talk, interruption or qa")
    sender_id = serializers.IntegerField(source="message.sender_id", read_only=True, allow_null=True,
                                         help_text="The member who sent it, when the record knows.")
    sender = serializers.SerializerMethodField(help_text="The sender's display name, else the name in the record.")
    sent_at = GroupLocalDateTimeField(source="message.sent_at")
    kind = serializers.CharField(source="message.kind", read_only=True)
    text = serializers.CharField(source="message.text", read_only=True)
    url = serializers.SerializerMethodField(help_text="The link of a link, file or image message (http(s) only).")

    def get_sender(self, row: TalkLine) -> str:
        return sender_label(row.message)

    def get_url(self, row: TalkLine) -> str:
        # As on the talk page: only an http(s) URL is ever given out as a link.
        url = row.message.url
        return url if url and is_http_url(url) else ""


class ShareSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    group = serializers.CharField(source="group.slug", read_only=True, help_text="The group's slug.")
    date = serializers.DateField(source="day", read_only=True, allow_null=True, help_text="In the group's time zone.")
    topic = serializers.CharField(read_only=True)
    topic_source = serializers.CharField(
        read_only=True, help_text="Where the topic came from: announcement (the host's announcement), opening (the "
        "speaker's opening words), host (the host's words), none (none found: the importer's guesses, to check); "
        "speaker (registered on the site or edited by the speaker), admin (edited by an admin).")
    speaker = MemberSummarySerializer(read_only=True)
    status = serializers.CharField(read_only=True, help_text="proposed, scheduled, delivered, announced (announced in "
                                   "the group's record and not given there that day) or cancelled.")
    scheduled_for = GroupLocalDateTimeField(allow_null=True, help_text="The announced start, when there was one.")
    started_at = GroupLocalDateTimeField(allow_null=True)
    ended_at = GroupLocalDateTimeField(allow_null=True)
    visibility = serializers.CharField(read_only=True)
    origin = serializers.CharField(read_only=True)
    given_in = serializers.IntegerField(
        source="given_in_id", read_only=True, allow_null=True,
        help_text="For an announced share: the talk (a share id) its speaker gave in another group that evening.")
    sign_in_count = serializers.IntegerField(read_only=True)


class ShareDetailSerializer(ShareSerializer):
    """A share with its abstract (Markdown), version (give it back to edit), preferred days,
    sign-ins (as the pages show them to the user) and, for a delivered talk, its messages."""

    abstract = serializers.CharField(read_only=True)
    version = serializers.IntegerField(read_only=True)
    preferred_days = serializers.SerializerMethodField()
    sign_ins = SignInSerializer(source="api_sign_ins", many=True, read_only=True,
                                help_text="Everyone for a talk or for the group's admins; else only your own.")
    talk = TalkMessageSerializer(source="api_talk", many=True, read_only=True, allow_null=True,
                                 help_text="The talk, its interruptions and its Q&A in order; null unless delivered.")

    @extend_schema_field(serializers.ListField(child=serializers.DateField()))
    def get_preferred_days(self, share: Share) -> list[str]:
        return [preferred.day.isoformat() for preferred in share.preferred_dates.all()]


def share_detail(request, pk: int) -> Share:
    """The share as its detail shows it to the user (404 if the user may not see it), with
    ``api_sign_ins`` and ``api_talk`` set: a constant number of queries, however long the talk."""
    share = get_object_or_404(share_detail_for_api(request.user), pk=pk)
    is_admin = access_for(request.user, share.group).is_admin
    share.api_sign_ins = sign_in_members(share, user=request.user, is_admin=is_admin)
    share.api_talk = None
    if share.status == ShareStatus.DELIVERED:
        share.api_talk = [TalkLine(row.part, row.message, share.group) for row in talk_rows(share=share)
                          if row.message.kind != MessageKind.EMPTY]
    return share


def detail_response(request, pk: int, *, code: int = status.HTTP_200_OK) -> Response:
    return Response(ShareDetailSerializer(share_detail(request, pk)).data, status=code)


# --- Input ---


class ShareRegisterSerializer(serializers.Serializer):
    group = serializers.SlugRelatedField(
        slug_field="slug", queryset=Group.objects.all(), help_text="The group's slug.",
        error_messages={"does_not_exist": gettext_lazy("No group has this slug.")},
    )
    speaker = serializers.PrimaryKeyRelatedField(
        queryset=Member.objects.all(), required=False,
        help_text="The speaker's member id: the group's admins may register for another member; default yourself.",
    )
    topic = serializers.CharField(max_length=300)
    abstract = serializers.CharField(required=False, allow_blank=True, default="", help_text="Markdown.")
    preferred_days = serializers.ListField(
        child=serializers.DateField(), min_length=1, max_length=services.MAX_PREFERRED_DAYS,
        help_text="One to three days you could give it, from today on (group's time zone).",
    )

    def validate(self, data):
        today = timezone.now().astimezone(data["group"].tz).date()
        if any(day < today for day in data["preferred_days"]):
            raise serializers.ValidationError({"preferred_days": [_("Pick a day from today on.")]})
        return data


class ShareScheduleSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="The evening, in the group's time zone.")
    time = serializers.TimeField(required=False, allow_null=True, default=None,
                                 help_text="The start (HH:MM, group's time zone); default the group's share time.")
    overlap_reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                           help_text="Only needed when another share has that evening.")


class ShareCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ShareEditSerializer(serializers.Serializer):
    topic = serializers.CharField(max_length=300, required=False)
    abstract = serializers.CharField(required=False, allow_blank=True, help_text="Markdown.")
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    version = serializers.IntegerField(min_value=1, help_text="The version you read: a newer one is a conflict (409).")


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


# --- How a refusal names the input (``community.api.exceptions`` turns it into the answer) ---


class ShareRefusals:
    """The input field a share service's ``ValidationError`` is about: by its code, and the
    API's names of the model's fields (``full_clean``'s errors)."""

    error_fields = {
        "evening_taken": "date",
        "day_out_of_range": "date",
        "preferred_days_out_of_range": "preferred_days",
        "not_member": "speaker",
        "too_many_days": "preferred_days",
        "conflict": "version",
    }
    field_names = {"day": "date"}


def share_to_change(request, pk: int) -> Share:
    """The share a write is about, among those the user may see (404 otherwise)."""
    return get_object_or_404(shares_for_api(request.user), pk=pk)


REFUSALS = {
    400: OpenApiResponse(description="Invalid input, or the service refused: `{field: [why]}` or `{detail: why}`."),
    403: OpenApiResponse(ErrorSerializer, description="Not logged in, or not allowed."),
    404: OpenApiResponse(ErrorSerializer, description="No share you may see has this id."),
}


# --- Views ---


class ShareListAPI(ShareRefusals, generics.ListAPIView):
    permission_classes = [IsAuthenticatedOrReadOnly]
    serializer_class = ShareSerializer
    filterset_class = ShareFilter

    def get_queryset(self):
        return shares_for_api(self.request.user)

    @extend_schema(
        summary="Shares",
        description="The shares you may see, newest day first: delivered talks as the archive shows them (public "
                    "ones to anyone, members-only ones to the group's members, hidden ones to its admins and the "
                    "speaker); proposed, scheduled and cancelled shares to the group's members. Staff see all.",
        tags=["shares"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Register a share",
        description="A member registers their own share in a group they belong to (the group's admins may name "
                    "another member as speaker). It is proposed until an admin schedules it.",
        tags=["shares"], request=ShareRegisterSerializer,
        responses={201: ShareDetailSerializer, **REFUSALS},
    )
    def post(self, request):
        data = ShareRegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        group = data.validated_data["group"]
        access_for(request.user, group).require_member(_("Only the group's members may register a share."))
        speaker = data.validated_data.get("speaker") or getattr(request.user, "member", None)
        if speaker is None:
            return Response({"speaker": [_("Your login has no member: name the speaker.")]},
                            status=status.HTTP_400_BAD_REQUEST)
        share = services.share_register(
            group=group, speaker=speaker, topic=data.validated_data["topic"],
            abstract=data.validated_data["abstract"], preferred_days=data.validated_data["preferred_days"],
            by=request.user,
        )
        return detail_response(request, share.pk, code=status.HTTP_201_CREATED)


class ShareDetailAPI(ShareRefusals, APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(
        summary="A share",
        description="The share with its sign-ins and, for a delivered talk, its messages (talk, interruptions, "
                    "Q&A) as the talk page shows them. 404 when you may not see it.",
        tags=["shares"], responses={200: ShareDetailSerializer, 404: REFUSALS[404]},
    )
    def get(self, request, pk: int):
        return detail_response(request, pk)

    @extend_schema(
        summary="Edit a share",
        description="Change the topic, abstract or visibility (the fields given; the others stay). The speaker "
                    "(while an active member of the group) and the group's admins, as on the share page; not for a "
                    "cancelled share. The speaker may choose the visibility an admin last chose for the share or a "
                    "more private one (400 otherwise). `version` is the one you read: if the share changed since, "
                    "nothing is saved (409).",
        tags=["shares"], request=ShareEditSerializer,
        responses={200: ShareDetailSerializer, **REFUSALS,
                   409: OpenApiResponse(description="`{version: [why]}`: the share changed since you read it.")},
    )
    def patch(self, request, pk: int):
        share = share_to_change(request, pk)
        access_for(request.user, share.group).require_self_or_admin(
            share.speaker_id, _("Only the speaker or a group admin may edit this share."))
        data = ShareEditSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        services.share_edit(
            share=share, topic=values.get("topic", share.topic), abstract=values.get("abstract", share.abstract), visibility=values.get("visibility"),
            expected_version=values["version"], by=request.user,
        )
        return detail_response(request, pk)


class ShareScheduleAPI(ShareRefusals, APIView):
    @extend_schema(
        summary="Schedule or reschedule a share",
        description="Put a proposed or scheduled share on an evening (group's time zone). The group's admins only. "
                    "When another share has that evening, give `overlap_reason`.",
        tags=["shares"], request=ShareScheduleSerializer, responses={200: ShareDetailSerializer, **REFUSALS},
    )
    def post(self, request, pk: int):
        share = share_to_change(request, pk)
        access_for(request.user, share.group).require_admin(_("Only a group admin may schedule shares."))
        data = ShareScheduleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        services.share_schedule(share=share, day=values["date"], time=values["time"],
                               overlap_reason=values["overlap_reason"], by=request.user)
        return detail_response(request, pk)


class ShareCancelAPI(ShareRefusals, APIView):
    @extend_schema(
        summary="Cancel a share",
        description="Cancel a proposed or scheduled share, with an optional reason kept in its history. The "
                    "speaker (while an active member of the group) or the group's admins.",
        tags=["shares"], request=ShareCancelSerializer, responses={200: ShareDetailSerializer, **REFUSALS},
    )
    def post(self, request, pk: int):
        share = share_to_change(request, pk)
        access_for(request.user, share.group).require_self_or_admin(
            share.speaker_id, _("Only the speaker or a group admin may cancel this share."))
        data = ShareCancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.share_cancel(share=share, reason=data.validated_data["reason"],
                               by=request.user)
        return detail_response(request, pk)


class ShareSignInAPI(ShareRefusals, APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Sign in to a share",
        description="Your member signs in (签到), once, while sign-in is open: from the group's lead time before the "
                    "start to two hours after it, or until an admin closed it. Active members of the group only.",
        tags=["sign-ins"], request=None, responses={201: ShareDetailSerializer, **REFUSALS},
    )
    def post(self, request, pk: int):
        share = share_to_change(request, pk)
        services.sign_in_record(share=share, by=request.user)
        return detail_response(request, pk, code=status.HTTP_201_CREATED)

