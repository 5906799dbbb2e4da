"""Account pages: invitations, password change and reset."""

urlpatterns: list = []
