"""Forms of the community pages: they check the shape of the input; the services apply the rules."""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _


class AccountForm(forms.Form):
    """A new login: username, optional e-mail (for password reset), password typed twice."""

    username = forms.CharField(
        label=_("Username"), max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none", "autofocus": True}),
    )
    email = forms.EmailField(
        label=_("E-mail (optional)"), required=False,
        help_text=_("Needed only to reset a forgotten password."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        label=_("Password"), strip=False,
        help_text=password_validation.password_validators_help_text_html(),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_confirm = forms.CharField(
        label=_("Password (again)"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        password, confirm = data.get("password"), data.get("password_confirm")
        if password and confirm and password != confirm:
            self.add_error("password_confirm", _("The two passwords differ."))
        return data
