"""The wiki side of the schedule: history, diffs, restore, the group's schedule page.

Included from ``shares.urls`` inside the "shares" namespace, under /g/<group_slug>/."""

from django.urls import path

from . import wiki_views

urlpatterns = [
    path("shares/<int:pk>/history/", wiki_views.share_history, name="share_history"),
    path("shares/<int:pk>/history/<int:version>/", wiki_views.share_revision, name="share_revision"),
    path("shares/<int:pk>/history/<int:version>/restore/", wiki_views.share_restore, name="share_restore"),
    path("page/", wiki_views.schedule_page, name="schedule_page"),
    path("page/edit/", wiki_views.schedule_page_edit, name="schedule_page_edit"),
    path("page/history/", wiki_views.schedule_page_history, name="schedule_page_history"),
    path("page/history/<int:version>/restore/", wiki_views.schedule_page_restore, name="schedule_page_restore"),
]
