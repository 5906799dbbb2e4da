"""The wiki side of the schedule: history, diffs, restore, the group's schedule page."""

urlpatterns: list = []
