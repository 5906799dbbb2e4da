"""Upload pages (/g/<group_slug>/imports/…): transcripts, rosters and image folders."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.upload, name="import_upload"),
    path("images/", views.images, name="import_images"),
    path("runs/<int:pk>/", views.run_detail, name="import_run"),
    path("runs/<int:pk>/progress/", views.run_progress, name="import_run_progress"),
    path("runs/<int:pk>/queue/", views.run_requeue, name="import_run_requeue"),
    path("runs/<int:pk>/confirm/", views.run_confirm, name="import_run_confirm"),
    path("runs/<int:pk>/undo/", views.run_undo, name="import_run_undo"),
]
