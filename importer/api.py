"""The import runs API: a group's imports, for its admins and staff."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers

from community.access import Access
from community.api.fields import GroupLocalDateTimeField
from community.api.permissions import GroupListAPI
from community.filters import GroupSlugFilter
from community.selectors import admin_group_ids_of_user

from .models import ImportKind, ImportRun, ImportStatus


class ImportRunFilter(django_filters.FilterSet):
    """Import runs of one group (``group`` required), by kind and status."""

    group = GroupSlugFilter(required=True)
    kind = django_filters.ChoiceFilter(choices=ImportKind.choices)
    status = django_filters.ChoiceFilter(choices=ImportStatus.choices)

    class Meta:
        model = ImportRun
        fields = ["group", "kind", "status"]


class ImportRunSerializer(serializers.Serializer):
    """A run: who started it, when (group's time zone), what it counted, and each file's report."""

    id = serializers.IntegerField(read_only=True)
    group = serializers.CharField(source="group.slug", read_only=True, help_text="The group's slug.")
    kind = serializers.CharField(read_only=True, help_text="transcripts, roster or images")
    status = serializers.CharField(read_only=True, help_text="queued, running, previewed (a web upload of "
                                   "transcripts waiting for an admin to confirm its preview), succeeded, failed or undone")
    dry_run = serializers.BooleanField(read_only=True)
    started_by = serializers.SerializerMethodField(
        help_text="The username of who started it on the site, else the operator's system user on the command line.",
    )
    started_at = GroupLocalDateTimeField()
    finished_at = GroupLocalDateTimeField(allow_null=True)
    undone_at = GroupLocalDateTimeField(allow_null=True)
    counts = serializers.DictField(child=serializers.IntegerField(), read_only=True)
    files = serializers.ListField(child=serializers.DictField(), read_only=True,
                                  help_text="One report per file: file, status, day, messages…")
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True)
    errors = serializers.ListField(child=serializers.CharField(), read_only=True, help_text="`file:line: reason`")

    def get_started_by(self, run: ImportRun) -> str:
        return run.started_by.get_username() if run.started_by is not None else run.started_by_name


def import_runs_for_admin(user):
    """The import runs of the groups the user runs (staff: every group), newest first, with
    their group and starter loaded."""
    return (
        ImportRun.objects.filter(group_id__in=admin_group_ids_of_user(user))
        .select_related("group", "started_by")
        .order_by("-started_at", "-id")
    )


@extend_schema(
    summary="Import runs of a group",
    description="The imports of the group named by the required `group` slug, newest first: the group's admins "
                "and staff only (403 for anyone else). Filter by `kind` and `status`.",
    tags=["import runs"],
)
class ImportRunListAPI(GroupListAPI):
    serializer_class = ImportRunSerializer
    filterset_class = ImportRunFilter
    denied_message = gettext_lazy("Only the group's admins see its imports.")

    def allowed(self, access: Access) -> bool:
        return access.is_admin

    def get_queryset(self):
        return import_runs_for_admin(self.request.user)


@extend_schema(
    summary="An import run",
    description="One import with its counts, per-file reports, warnings and errors. The group's admins and staff; "
                "404 for anyone else.",
    tags=["import runs"],
    responses={200: ImportRunSerializer, 404: OpenApiResponse(description="No import of a group you run has this id.")},
)
class ImportRunDetailAPI(generics.RetrieveAPIView):
    serializer_class = ImportRunSerializer

    def get_queryset(self):
        return import_runs_for_admin(self.request.user)
