"""A member's profile (/members/<pk>/) and a group's activity (/g/<group_slug>/activity/)."""

from django.urls import path

from community.placeholder import not_yet

urlpatterns = [
    path("members/<int:pk>/", not_yet, name="member_profile"),
    path("g/<slug:group_slug>/activity/", not_yet, name="group_activity"),
]
