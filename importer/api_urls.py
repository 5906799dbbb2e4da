"""The importer API's routes: import runs."""

urlpatterns: list = []
