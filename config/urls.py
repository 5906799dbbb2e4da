"""The root URLconf: it composes every app's pages and API."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from community import health, security, views
from shares import application_views, archive_views, home_views

api_patterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: no inline script under the CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="community/api_docs.html"),
         name="docs"),
    path("", include("community.api.urls")),
    path("", include("shares.api_urls")),
    path("", include("importer.api_urls")),
]

urlpatterns = [
    path("", home_views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/login/", security.ThrottledLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("community.account_urls")),
    path("g/<slug:group_slug>/settings/", views.group_settings, name="group_settings"),
    path("g/<slug:group_slug>/seats/applications/<int:pk>/accept/", application_views.accept, name="application_accept"),
    path("g/<slug:group_slug>/", include("community.seats_urls")),
    path("g/<slug:group_slug>/members/", include("community.directory_urls")),
    path("g/<slug:group_slug>/names/", include("community.identity_urls")),
    path("g/<slug:group_slug>/talks/<int:pk>/", include("shares.talk_edit_urls")),
    path("talks/", include("shares.search_urls")),
    path("g/<slug:group_slug>/imports/", include("importer.urls")),
    path("members/<int:pk>/privacy/", include("community.privacy_urls")),
    path("images/<int:message_id>/", archive_views.stored_image, name="stored_image"),
    path("", include("shares.people_urls")),
    path("g/<slug:group_slug>/", include("shares.urls")),
    path("admin/", admin.site.urls),
    path("api/", include((api_patterns, "api"))),
]
