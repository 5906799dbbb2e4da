"""A talk's export and its corrections by the group's admins, under /g/<group_slug>/talks/<pk>/."""

from django.urls import path

from community.placeholder import not_yet

urlpatterns = [
    path("export.md", not_yet, name="talk_export"),
    path("correct/", not_yet, name="talk_correct"),
    path("delete/", not_yet, name="talk_delete"),
]
