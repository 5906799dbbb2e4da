"""The importer API's routes: import runs."""

from django.urls import path

from .api import ImportRunDetailAPI, ImportRunListAPI

urlpatterns = [
    path("import-runs/", ImportRunListAPI.as_view(), name="import-run-list"),
    path("import-runs/<int:pk>/", ImportRunDetailAPI.as_view(), name="import-run-detail"),
]
