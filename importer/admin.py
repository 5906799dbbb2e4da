from django.contrib import admin

from .models import ImportedFile, ImportRun


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ["id", "group", "kind", "status", "dry_run", "started_by_name", "started_at", "finished_at"]
    list_filter = ["group", "kind", "status"]
    readonly_fields = ["counts", "files", "warnings", "errors", "options"]


@admin.register(ImportedFile)
class ImportedFileAdmin(admin.ModelAdmin):
    list_display = ["group", "day", "path", "message_count", "imported_at"]
    list_filter = ["group"]
    date_hierarchy = "day"
