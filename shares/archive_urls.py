"""The talk archive's pages under a group."""

urlpatterns: list = []
