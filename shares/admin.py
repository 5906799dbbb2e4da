from django.contrib import admin

from community.admin import ReadOnlyAdmin

from .models import (
    SchedulePage,
    SchedulePageRevision,
    Share,
    SharePreferredDate,
    ShareRevision,
    SignIn,
    TalkIndex,
    TalkIndexTerm,
    TalkMessage,
)


class PreferredDateInline(admin.TabularInline):
    model = SharePreferredDate
    extra = 0


@admin.register(Share)
class ShareAdmin(admin.ModelAdmin):
    list_display = ["day", "group", "topic", "speaker", "status", "visibility", "origin", "sign_in_count"]
    list_filter = ["group", "status", "visibility", "origin"]
    search_fields = ["topic", "speaker__display_name"]
    raw_id_fields = ["speaker"]
    date_hierarchy = "day"
    list_select_related = ["group", "speaker"]
    inlines = [PreferredDateInline]


@admin.register(SignIn)
class SignInAdmin(admin.ModelAdmin):
    list_display = ["share", "member", "signed_at", "origin"]
    list_filter = ["origin"]
    raw_id_fields = ["share", "member", "message"]
    list_select_related = ["share", "member"]


@admin.register(TalkMessage)
class TalkMessageAdmin(admin.ModelAdmin):
    list_display = ["share", "message", "part"]
    list_filter = ["part"]
    raw_id_fields = ["share", "message"]


@admin.register(ShareRevision)
class ShareRevisionAdmin(admin.ModelAdmin):
    list_display = ["share", "version", "action", "author", "created_at"]
    raw_id_fields = ["share"]


@admin.register(SchedulePage)
class SchedulePageAdmin(admin.ModelAdmin):
    list_display = ["group", "version", "updated_at"]


@admin.register(SchedulePageRevision)
class SchedulePageRevisionAdmin(admin.ModelAdmin):
    list_display = ["page", "version", "author", "created_at"]


@admin.register(SharePreferredDate)
class SharePreferredDateAdmin(admin.ModelAdmin):
    list_display = ["share", "day"]
    raw_id_fields = ["share"]


@admin.register(TalkIndex)
class TalkIndexAdmin(ReadOnlyAdmin):
    list_display = ["share", "version", "message_count", "term_count", "indexed_at"]
    list_select_related = ["share"]
    search_fields = ["share__topic"]


@admin.register(TalkIndexTerm)
class TalkIndexTermAdmin(ReadOnlyAdmin):
    list_display = ["share", "term", "weight"]
    list_filter = ["weight"]
    list_select_related = ["share"]
    search_fields = ["=term"]
    raw_id_fields = ["share"]
    # Hundreds of thousands of rows: no full count on every page.
    show_full_result_count = False
