"""Privacy pages for staff (/members/<pk>/privacy/…): export and erase a member's data."""

from django.urls import path

from . import privacy_views

app_name = "privacy"
urlpatterns = [
    path("", privacy_views.privacy, name="member"),
    path("export/", privacy_views.export, name="export"),
    path("erase/", privacy_views.erase, name="erase"),
]
