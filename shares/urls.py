"""A group's schedule pages."""

app_name = "shares"
urlpatterns: list = []
