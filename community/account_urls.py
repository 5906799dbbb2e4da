"""Account pages: invitations, direct accounts, password change and reset.

Not namespaced: Django's password views and e-mail reverse their names unqualified."""

from django.contrib.auth import views as auth_views
from django.urls import path

from community import accounts, security, token_views

urlpatterns = [
    path("invite/<int:member_id>/", accounts.invite, name="account_invite"),
    path("create/<int:member_id>/", accounts.create, name="account_create"),
    path("join/<str:token>/", accounts.join, name="account_join"),
    path("token/", token_views.api_token, name="api_token"),
    path("password_change/", security.ThrottledPasswordChangeView.as_view(), name="password_change"),
    path("password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password_reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("password_reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]
