"""A group's member directory, under /g/<group_slug>/members/."""

from django.urls import path

from community import directory_views

urlpatterns = [
    path("", directory_views.directory, name="member_directory"),
]
