"""A group's member directory, under /g/<group_slug>/members/."""

from django.urls import path

from community.placeholder import not_yet

urlpatterns = [
    path("", not_yet, name="member_directory"),
]
