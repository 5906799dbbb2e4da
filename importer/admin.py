from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from .models import ImportedFile, ImportRun, ImportStatus
from .services import import_run_undo


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ["id", "group", "kind", "status", "dry_run", "started_by_name", "started_at", "finished_at"]
    list_filter = ["group", "kind", "status"]
    readonly_fields = ["counts", "files", "warnings", "errors", "options"]
    actions = ["undo_runs"]

    @admin.action(description=_("Undo the selected import runs"), permissions=["change"])
    def undo_runs(self, request, queryset):
        for run in queryset.exclude(status=ImportStatus.UNDONE).filter(dry_run=False):
            counts = import_run_undo(run_id=run.pk, user=request.user)
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
