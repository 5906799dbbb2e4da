"""Privacy pages for staff (/members/<pk>/privacy/…): export and erase a member's data."""

urlpatterns: list = []
