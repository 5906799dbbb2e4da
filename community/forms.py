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


class GroupSettingsForm(forms.Form):
    """What a group's admins set for their group: its rhythm and the announcement they paste."""

    description = forms.CharField(label=_("description"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    share_time = forms.TimeField(label=_("usual share time"), widget=forms.TimeInput(attrs={"type": "time"}))
    sign_in_lead_minutes = forms.IntegerField(label=_("sign-in lead time (minutes)"), min_value=0, max_value=240)
    announcement_template = forms.CharField(
        label=_("announcement template"), widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Placeholders: {speaker} (group nickname), {topic}, {start} (HH:MM), {date} (YYYY-MM-DD)."),
    )
