"""The community API's routes: groups, members, memberships, messages, flags, tokens."""

from django.urls import path

from .flags import FlagDecideAPI, FlagListAPI
from .members import MemberListAPI

urlpatterns = [
    path("members/", MemberListAPI.as_view(), name="member-list"),
    path("flags/", FlagListAPI.as_view(), name="flag-list"),
    path("flags/<int:pk>/decide/", FlagDecideAPI.as_view(), name="flag-decide"),
]
