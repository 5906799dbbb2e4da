"""The shares API's routes: shares (with sign-ins and talk content) and sign-ins."""

from django.urls import path

from .api import ShareListAPI

urlpatterns = [
    path("shares/", ShareListAPI.as_view(), name="share-list"),
]
