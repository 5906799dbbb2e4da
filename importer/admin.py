from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from .models import ImportedFile, ImportKind, ImportRun, ImportStatus, RunChange, UploadedFile
from .services import import_run_undo


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ["id", "group", "kind", "status", "dry_run", "started_by_name", "started_at", "finished_at"]
    list_filter = ["group", "kind", "status"]
    readonly_fields = ["counts", "files", "warnings", "errors", "options", "progress"]
    actions = ["undo_runs"]

    @admin.action(description=_("Undo the selected import runs"), permissions=["change"])
    def undo_runs(self, request, queryset):
        # Queued runs have imported nothing yet; an image folder's copies are replaced, not undone.
        undoable = queryset.exclude(status__in=[ImportStatus.UNDONE, ImportStatus.QUEUED]).exclude(kind=ImportKind.IMAGES)
        for run in undoable.filter(dry_run=False):
            try:
                counts = import_run_undo(run_id=run.pk, user=request.user)
            except ValueError as refusal:  # e.g. a later run changed the same rows: undo it first
                self.message_user(request, str(refusal), messages.ERROR)
                continue
            self.message_user(
                request,
                _("Run %(id)s undone: %(counts)s") % {"id": run.pk, "counts": ", ".join(f"{v} {k}" for k, v in counts.items())},
                messages.SUCCESS,
            )


@admin.register(ImportedFile)
class ImportedFileAdmin(admin.ModelAdmin):
    list_display = ["group", "day", "path", "message_count", "imported_at"]
    list_filter = ["group"]
    date_hierarchy = "day"


@admin.register(UploadedFile)
class UploadedFileAdmin(admin.ModelAdmin):
    """Files uploaded in the web UI that wait for (or were kept by) their run's task; read-only."""

    list_display = ["name", "run", "size"]
    fields = ["run", "position", "name", "size"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RunChange)
class RunChangeAdmin(admin.ModelAdmin):
    """What each run created, changed or removed (what undoing it puts back); read-only."""

    list_display = ["run", "action", "table", "row_id"]
    list_filter = ["action", "table"]
    fields = ["run", "action", "table", "row_id", "before"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
