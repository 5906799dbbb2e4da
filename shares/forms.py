"""The schedule's forms: they check input; the services decide."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from community.dates import EARLIEST_DAY, LATEST_QUERY_DAY, is_query_day
from community.models import Group, Member, Message, Visibility

from .selectors import group_speakers
from .services import MAX_PREFERRED_DAYS, visibilities_for_speaker


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        kwargs.setdefault("format", "%Y-%m-%d")
        super().__init__(**kwargs)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        kwargs.setdefault("format", "%H:%M")
        super().__init__(**kwargs)


class SpeakerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Member) -> str:
        return obj.group_nickname or obj.display_name


class ShareRegisterForm(forms.Form):
    """A share's topic, abstract and preferred days; admins also pick the speaker."""

    speaker = SpeakerChoiceField(label=_("speaker"), queryset=Member.objects.none())
    topic = forms.CharField(label=_("topic"), max_length=300)
    abstract = forms.CharField(label=_("abstract (Markdown)"), widget=forms.Textarea(attrs={"rows": 8}), required=False)
    preferred_day_1 = forms.DateField(label=_("preferred day"), widget=DateInput())
    preferred_day_2 = forms.DateField(label=_("second preferred day"), widget=DateInput(), required=False)
    preferred_day_3 = forms.DateField(label=_("third preferred day"), widget=DateInput(), required=False)

    def __init__(self, *args, group: Group, choose_speaker: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.group = group
        if choose_speaker:
            self.fields["speaker"].queryset = group_speakers(group)
        else:
            del self.fields["speaker"]

    def clean(self):
        data = super().clean()
        today = timezone.now().astimezone(self.group.tz).date()
        for name in (f"preferred_day_{n}" for n in range(1, MAX_PREFERRED_DAYS + 1)):
            day = data.get(name)
            if day is not None and day < today:
                self.add_error(name, _("Pick a day from today on."))
        return data

    @property
    def preferred_days(self) -> list:
        days = (self.cleaned_data.get(f"preferred_day_{n}") for n in range(1, MAX_PREFERRED_DAYS + 1))
        return sorted({day for day in days if day is not None})


class ShareScheduleForm(forms.Form):
    day = forms.DateField(label=_("day"), widget=DateInput())
    time = forms.TimeField(label=_("start"), widget=TimeInput())
    overlap_reason = forms.CharField(
        label=_("reason for a second share that evening"), max_length=200, required=False,
        help_text=_("Only needed when another share has that evening."),
    )


class ShareStartForm(forms.Form):
    """The start of an announced share on its day; empty when the announcement gave no time."""

    time = forms.TimeField(label=_("start"), widget=TimeInput(), required=False,
                           help_text=_("Leave it empty when the announcement gave no time."))


class ShareCancelForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=300, required=False)


class ShareReassignForm(forms.Form):
    speaker = SpeakerChoiceField(label=_("new speaker"), queryset=Member.objects.none())

    def __init__(self, *args, group: Group, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["speaker"].queryset = group_speakers(group)


class ShareEditForm(forms.Form):
    """The share's topic, abstract and visibility. For the speaker (``speaker_of``: the share,
    when the editor is its speaker and no admin), only the visibilities they may choose are
    offered (``services.visibilities_for_speaker``), with the admin's choice named."""

    topic = forms.CharField(label=_("topic"), max_length=300)
    abstract = forms.CharField(label=_("abstract (Markdown)"), widget=forms.Textarea(attrs={"rows": 8}), required=False)
    visibility = forms.ChoiceField(label=_("visibility"), choices=Visibility.choices)
    # The version the editor saw: a save against a newer version is a conflict.
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, speaker_of=None, **kwargs):
        super().__init__(*args, **kwargs)
        if speaker_of is not None and speaker_of.admin_visibility:
            allowed = visibilities_for_speaker(speaker_of)
            field = self.fields["visibility"]
            field.choices = [(value, label) for value, label in Visibility.choices if value in allowed]
            field.help_text = _("An admin chose “%(visibility)s” for this share: you may keep it or choose a more "
                                "private one.") % {"visibility": Visibility(speaker_of.admin_visibility).label}


class WeekForm(forms.Form):
    """The week text's ``?start=``: a day between 2000 and 2100 (a far one overflows the week's datetimes)."""

    start = forms.DateField(required=False)

    def clean_start(self):
        start = self.cleaned_data["start"]
        if start is not None and not is_query_day(start):
            raise forms.ValidationError(
                _("Pick a day between %(earliest)s and %(latest)s."), code="out_of_range",
                params={"earliest": EARLIEST_DAY.isoformat(), "latest": LATEST_QUERY_DAY.isoformat()},
            )
        return start


# --- A talk's corrections by the group's admins ---

class MessageChoiceField(forms.ModelChoiceField):
    """A message picked by its id on the correction page (the page draws the choices itself);
    the service checks that it belongs to the talk's day."""

    def __init__(self, *, required_message=None, **kwargs):
        kwargs.setdefault("queryset", Message.objects.only("id", "group_id", "sent_at", "sender_id"))
        kwargs.setdefault("widget", forms.HiddenInput)
        kwargs["error_messages"] = {"invalid_choice": _("Pick a message of the list.")}
        if required_message:
            kwargs["error_messages"]["required"] = required_message
        super().__init__(**kwargs)


class TalkBoundariesForm(forms.Form):
    start = MessageChoiceField(label=_("first message of the talk"), required_message=_("Pick the talk's first message."))
    qa = MessageChoiceField(label=_("first message of the Q&A"), required=False)
    end = MessageChoiceField(label=_("last message of the talk or of its Q&A"),
                             required_message=_("Pick the last message of the talk or of its Q&A."))
    note = forms.CharField(label=_("note (optional)"), max_length=200, required=False)


class TalkDetailsForm(forms.Form):
    """The talk's speaker (any member the group has had) and topic; ``version`` is the one the
    admin saw (a save against a newer version is a conflict)."""

    speaker = SpeakerChoiceField(label=_("speaker"), queryset=Member.objects.none())
    topic = forms.CharField(label=_("topic"), max_length=300)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, speakers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["speaker"].queryset = speakers


class TalkDeleteForm(forms.Form):
    reason = forms.CharField(label=_("why this is not a talk"), max_length=300,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": _("Say why the talk is deleted.")})

    def __init__(self, *args, announced: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if announced:  # an announced share, not given here: no talk to judge
            self.fields["reason"].label = _("why this share is deleted")
            self.fields["reason"].error_messages["required"] = _("Say why the share is deleted.")


class TalkRestoreForm(forms.Form):
    note = forms.CharField(label=_("note (optional)"), max_length=300, required=False)
