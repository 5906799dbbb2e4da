"""The talk archive's list and search, across the groups the visitor may see (/talks/)."""

from django.urls import path

from . import search_views

urlpatterns = [
    path("", search_views.talk_list, name="talk_list"),
]
