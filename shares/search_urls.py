"""The talk archive's list and search, across the groups the visitor may see (/talks/)."""

from django.urls import path

from community.placeholder import not_yet

urlpatterns = [
    path("", not_yet, name="talk_list"),
]
