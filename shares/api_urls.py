"""The shares API's routes: shares (with sign-ins and talk content), their writes, and sign-ins."""

from django.urls import path

from .api import ShareCancelAPI, ShareDetailAPI, ShareListAPI, ShareScheduleAPI, ShareSignInAPI
from .api_sign_ins import SignInListAPI

urlpatterns = [
    path("shares/", ShareListAPI.as_view(), name="share-list"),
    path("shares/<int:pk>/", ShareDetailAPI.as_view(), name="share-detail"),
    path("shares/<int:pk>/schedule/", ShareScheduleAPI.as_view(), name="share-schedule"),
    path("shares/<int:pk>/cancel/", ShareCancelAPI.as_view(), name="share-cancel"),
    path("shares/<int:pk>/sign-ins/", ShareSignInAPI.as_view(), name="share-sign-in"),
    path("sign-ins/", SignInListAPI.as_view(), name="sign-in-list"),
]
