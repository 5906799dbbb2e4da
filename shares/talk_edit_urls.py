"""A talk's export and its corrections by the group's admins, under /g/<group_slug>/talks/<pk>/."""

from django.urls import path

from . import talk_edit_views

urlpatterns = [
    path("export.md", talk_edit_views.talk_export_markdown, name="talk_export"),
    path("correct/", talk_edit_views.talk_correct, name="talk_correct"),
    path("details/", talk_edit_views.talk_details, name="talk_details"),
    path("delete/", talk_edit_views.talk_delete, name="talk_delete"),
    path("restore/", talk_edit_views.talk_restore, name="talk_restore"),
]
