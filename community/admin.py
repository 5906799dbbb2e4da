from django.contrib import admin
from django.urls import reverse

from .models import (
    Application,
    AuditEntry,
    Flag,
    Group,
    Invitation,
    Member,
    MemberMerge,
    Membership,
    MembershipPeriod,
    Message,
    Name,
    NameLink,
    NicknameReminder,
    RecordedDay,
    RuleEvaluation,
    StoredImage,
)
from .security import ThrottledAdminAuthenticationForm, ThrottledPasswordChangeView

# The admin's login says when login is locked (throttling itself is in the authentication backend).
admin.site.login_form = ThrottledAdminAuthenticationForm


def _password_change(request, extra_context=None):
    """The admin's own password change page (AdminSite.password_change), with the site's throttled
    form: a wrong old password counts as a failed login here too."""
    request.current_app = admin.site.name
    return ThrottledPasswordChangeView.as_view(
        success_url=reverse("admin:password_change_done", current_app=admin.site.name),
        extra_context={**admin.site.each_context(request), **(extra_context or {})},
    )(request)


admin.site.password_change = _password_change


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "time_zone", "capacity", "share_time"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name", "slug"]


class NameInline(admin.TabularInline):
    model = Name
    extra = 0
    fields = ["name", "group", "source", "first_seen", "last_seen", "times_seen"]
    readonly_fields = ["first_seen", "last_seen", "times_seen"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["group", "nickname", "role", "status", "joined_at", "last_message_at", "shares_given"]
    readonly_fields = ["last_message_at", "shares_given"]


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["display_name", "name", "company", "position", "city", "user"]
    search_fields = ["display_name", "name", "company", "names__name"]
    raw_id_fields = ["user"]
    inlines = [MembershipInline, NameInline]


class MembershipPeriodInline(admin.TabularInline):
    model = MembershipPeriod
    extra = 0


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["member", "group", "nickname", "role", "status", "last_message_at", "message_count", "shares_given"]
    list_filter = ["group", "role", "status"]
    search_fields = ["nickname", "member__display_name"]
    raw_id_fields = ["member"]
    list_select_related = ["member", "group"]
    inlines = [MembershipPeriodInline]


@admin.register(Name)
class NameAdmin(admin.ModelAdmin):
    list_display = ["name", "member", "group", "source", "first_seen", "last_seen", "times_seen"]
    list_filter = ["source", "group"]
    search_fields = ["name", "normalized"]
    raw_id_fields = ["member"]
    list_select_related = ["member", "group"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["sent_at", "group", "sender_name", "kind", "text"]
    list_filter = ["group", "kind"]
    search_fields = ["text", "sender_name"]
    raw_id_fields = ["sender"]
    date_hierarchy = "sent_at"
    list_select_related = ["group"]


@admin.register(RecordedDay)
class RecordedDayAdmin(admin.ModelAdmin):
    list_display = ["group", "day", "message_count"]
    list_filter = ["group"]
    date_hierarchy = "day"


@admin.register(NameLink)
class NameLinkAdmin(admin.ModelAdmin):
    list_display = ["member", "other", "group", "status", "created_at"]
    list_filter = ["status", "group"]
    raw_id_fields = ["member", "other"]


@admin.register(MemberMerge)
class MemberMergeAdmin(admin.ModelAdmin):
    list_display = ["at", "action", "into", "merged_name", "automatic", "by", "reason"]
    list_filter = ["action", "automatic"]
    raw_id_fields = ["into"]


@admin.register(MembershipPeriod)
class MembershipPeriodAdmin(admin.ModelAdmin):
    list_display = ["membership", "joined_at", "left_at", "left_reason"]
    list_filter = ["left_reason"]
    raw_id_fields = ["membership"]
    list_select_related = ["membership__member", "membership__group"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["member", "group", "created_by", "created_at", "expires_at", "used_at"]
    raw_id_fields = ["member"]
    readonly_fields = ["token_hash", "used_at", "used_by"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows a service writes (decisions made in the review queue, each audited; the search index):
    the admin site only shows them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdmin):
    list_display = ["membership", "group", "rule", "status", "as_of", "created_at", "decided_by"]
    list_filter = ["group", "rule", "status"]
    list_select_related = ["membership__member", "group", "decided_by"]


@admin.register(NicknameReminder)
class NicknameReminderAdmin(ReadOnlyAdmin):
    list_display = ["membership", "nickname", "sent_at", "recorded_by"]
    list_select_related = ["membership__member", "membership__group", "recorded_by"]


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    list_display = ["name", "company", "position", "group", "status", "created_at", "decided_by"]
    list_filter = ["group", "status"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "group", "actor", "action", "target", "reason"]
    list_filter = ["group", "action"]
    list_select_related = ["group", "actor"]


@admin.register(RuleEvaluation)
class RuleEvaluationAdmin(ReadOnlyAdmin):
    list_display = ["group", "as_of", "ran_at"]


@admin.register(StoredImage)
class StoredImageAdmin(admin.ModelAdmin):
    list_display = ["message", "file", "content_type", "uploaded_at", "uploaded_by"]
    raw_id_fields = ["message"]
    readonly_fields = ["uploaded_at", "uploaded_by"]

    def save_model(self, request, obj, form, change):
        obj.uploaded_by = obj.uploaded_by or request.user
        super().save_model(request, obj, form, change)
