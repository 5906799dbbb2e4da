"""The community API's routes: groups, members, memberships, messages, flags."""

from django.urls import path

from .flags import FlagDecideAPI, FlagListAPI
from .groups import GroupDetailAPI, GroupListAPI
from .members import MemberDetailAPI, MemberListAPI, MemberMergeAPI
from .memberships import MembershipListAPI
from .messages import MessageListAPI

urlpatterns = [
    path("groups/", GroupListAPI.as_view(), name="group-list"),
    path("groups/<slug:slug>/", GroupDetailAPI.as_view(), name="group-detail"),
    path("groups/<slug:slug>/members/merge/", MemberMergeAPI.as_view(), name="member-merge"),
    path("members/", MemberListAPI.as_view(), name="member-list"),
    path("members/<int:pk>/", MemberDetailAPI.as_view(), name="member-detail"),
    path("memberships/", MembershipListAPI.as_view(), name="membership-list"),
    path("messages/", MessageListAPI.as_view(), name="message-list"),
    path("flags/", FlagListAPI.as_view(), name="flag-list"),
    path("flags/<int:pk>/decide/", FlagDecideAPI.as_view(), name="flag-decide"),
]
