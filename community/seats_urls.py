"""The seats pages of a group, under /g/<group_slug>/ (the review queue, reminders, removals,
the audit log, the waiting list and its public form)."""

from django.urls import path

from . import seats_views

urlpatterns = [
    path("seats/", seats_views.seats, name="seats"),
    path("seats/decide/", seats_views.decide, name="seats_decide"),
    path("seats/decided/", seats_views.decided, name="seats_decided"),
    path("seats/reminders/", seats_views.reminders, name="seats_reminders"),
    path("seats/removals.csv", seats_views.removals_csv, name="seats_removals_csv"),
    path("seats/applications/<int:pk>/decline/", seats_views.application_decline_view, name="application_decline"),
    path("audit/", seats_views.audit, name="audit_log"),
    path("apply/", seats_views.apply, name="apply"),
]
