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
    silence_days = forms.IntegerField(label=_("days of silence before flagging"), min_value=1, max_value=3650)
    never_shared_grace_days = forms.IntegerField(
        label=_("days after joining before 'never shared' counts"), min_value=0, max_value=3650
    )
    hosting_counts_as_sharing = forms.BooleanField(
        label=_("hosting counts as sharing"), required=False,
        help_text=_("A member who hosted a talk since joining (announced it or called the sign-ins) is not "
                    "flagged as never having shared."),
    )
    nickname_reminders = forms.IntegerField(label=_("reminders before removal"), min_value=0, max_value=10)
    nickname_grace_days = forms.IntegerField(label=_("grace days after the last reminder"), min_value=0, max_value=365)
    reason = forms.CharField(
        label=_("reason for a change of the rules"), required=False, max_length=300,
        help_text=_("Kept in the audit log with the change."),
    )


class FlagDecisionForm(forms.Form):
    """A decision on one or more flags of a group (the review queue's bulk form)."""

    DECISIONS = [("approve", _("approve removal")), ("dismiss", _("dismiss")), ("exempt", _("exempt")),
                 ("reopen", _("reopen"))]

    flags = forms.TypedMultipleChoiceField(coerce=int, label=_("flags"), widget=forms.MultipleHiddenInput)
    decision = forms.ChoiceField(choices=DECISIONS, label=_("decision"))
    reason = forms.CharField(label=_("reason"), required=False, max_length=300)
    until = forms.DateField(label=_("exempt until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, flag_ids: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["flags"].choices = [(pk, pk) for pk in flag_ids]

    def clean(self):
        data = super().clean()
        decision = data.get("decision")
        if decision in ("dismiss", "exempt") and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Say why."))
        if decision == "exempt" and not data.get("until"):
            self.add_error("until", _("Give the day the exemption ends."))
        return data


class ApplicationForm(forms.ModelForm):
    """The public form of someone waiting for a seat."""

    class Meta:
        from .models import Application

        model = Application
        fields = ["name", "company", "position", "city", "wechat_id", "share_topic", "share_abstract"]
        widgets = {"share_abstract": forms.Textarea(attrs={"rows": 4})}


# Who is who: the forms of a group's admins. They check the shape of the input (ids, a
# reason); the services check the rules (same member twice, another group's member, …).

REASON_HELP = _("Kept with the decision, for the other admins.")


def _reason_field(*, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=_("Reason"), max_length=200, required=required, help_text=REASON_HELP,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 200}),
        error_messages={"required": _("Give a reason: it is kept with the decision.")},
    )


class NameLinkDecisionForm(forms.Form):
    """Confirm (one person: which side is kept) or reject (two people) a suggested link."""

    decision = forms.ChoiceField(choices=[("confirm", _("Same person: merge")), ("reject", _("Two people: reject"))])
    keep = forms.ChoiceField(
        label=_("Keep"), required=False, choices=[("member", _("the first")), ("other", _("the second"))],
    )
    reason = _reason_field(required=False)

    def clean(self):
        data = super().clean()
        if data.get("decision") == "confirm":
            if not data.get("keep"):
                self.add_error("keep", _("Choose which member is kept."))
            if not data.get("reason"):
                self.add_error("reason", _("Give a reason: it is kept with the decision."))
        return data


class MemberMergeForm(forms.Form):
    """Two members (the one kept, the one merged into it) and why."""

    keep = forms.IntegerField(widget=forms.HiddenInput)
    other = forms.IntegerField(widget=forms.HiddenInput)
    reason = _reason_field()


class MemberSplitForm(forms.Form):
    """A member, the names of it that belong to someone else, and why."""

    member = forms.IntegerField(widget=forms.HiddenInput)
    names = forms.TypedMultipleChoiceField(
        label=_("Names to split off"), coerce=int, widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one name to split off."),
            "invalid_choice": _("Every name to split off must be a name of this member in this group."),
        },
    )
    reason = _reason_field()

    def __init__(self, *args, name_choices: list[tuple[int, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["names"].choices = list(name_choices)
