from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from .models import ImportedFile, ImportKind, ImportRun, RunChange, UploadedFile
from .undo import NOT_UNDOABLE, import_run_undo


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ["id", "group", "kind", "status", "dry_run", "started_by_name", "started_at", "finished_at"]
    list_filter = ["group", "kind", "status"]
    readonly_fields = ["counts", "files", "warnings", "errors", "options", "progress"]
    actions = ["undo_runs"]

    @admin.action(description=_("Undo the selected import runs"), permissions=["change"])
    def undo_runs(self, request, queryset):
        # Newest first: a later run on the same days must be undone before an earlier one.
        undoable = (queryset.exclude(status__in=NOT_UNDOABLE).exclude(kind=ImportKind.IMAGES)  # copies are replaced
                    .filter(dry_run=False).order_by("-pk"))
        for run in undoable:
            try:
                counts = import_run_undo(run_id=run.pk, user=request.user)
            except ValueError as error:  # refused: later runs or corrections touched its days
                self.message_user(request, str(error), messages.ERROR)
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
