"""A member's profile (/members/<pk>/) and a group's activity (/g/<group_slug>/activity/)."""

from django.urls import path

from . import people_views

urlpatterns = [
    path("members/<int:pk>/", people_views.profile, name="member_profile"),
    path("g/<slug:group_slug>/activity/", people_views.group_activity, name="group_activity"),
]
