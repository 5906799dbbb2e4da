"""A group's schedule pages, under /g/<group_slug>/."""

from django.urls import include, path

from . import views

app_name = "shares"
urlpatterns = [
    path("schedule/", views.schedule, name="schedule"),
    path("schedule/week/", views.week_text, name="week_text"),
    path("shares/new/", views.share_register, name="share_register"),
    path("shares/<int:pk>/", views.share_detail, name="share_detail"),
    path("shares/<int:pk>/schedule/", views.share_schedule, name="share_schedule"),
    path("shares/<int:pk>/cancel/", views.share_cancel, name="share_cancel"),
    path("shares/<int:pk>/reassign/", views.share_reassign, name="share_reassign"),
    path("shares/<int:pk>/edit/", views.share_edit, name="share_edit"),
    path("shares/<int:pk>/start/", views.share_start, name="share_start"),
    path("shares/<int:pk>/announcement/", views.share_announcement, name="share_announcement"),
    path("shares/<int:pk>/sign-in/", views.share_sign_in, name="share_sign_in"),
    path("shares/<int:pk>/sign-in/close/", views.share_sign_in_close, name="share_sign_in_close"),
    path("calendar.ics", views.calendar, name="calendar"),
    path("", include("shares.wiki_urls")),
    path("", include("shares.archive_urls")),
]
