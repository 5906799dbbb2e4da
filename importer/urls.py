"""Upload pages (/g/<group_slug>/imports/…): transcripts, rosters and image folders."""

urlpatterns: list = []
