"""One error path: a service's refusal as the API answers it (``community.api.exceptions``) and as
a form page shows it (``community.form_views.run_service``)."""

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.cache import SessionStore
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import RequestFactory
from django.utils import translation

from community.api.exceptions import exception_handler
from community.errors import Conflict
from community.form_views import error_text, run_service


class ShareView:
    """A view naming the fields of its service's refusals, as ``shares.api.ShareRefusals`` does."""

    error_fields = {"evening_taken": "date", "conflict": "version"}
    field_names = {"day": "date"}


def answer(exc, view=None):
    with translation.override("en"):
        response = exception_handler(exc, {"view": view or object()})
    return response.status_code, response.data


@pytest.mark.parametrize(("exc", "expected"), [
    (ValidationError("That evening is taken.", code="evening_taken"), (400, {"date": ["That evening is taken."]})),
    (ValidationError("Nothing to cancel.", code="closed"), (400, {"detail": "Nothing to cancel."})),
    (ValidationError(["One.", "Two."]), (400, {"detail": "One. Two."})),
    (ValidationError([ValidationError("Taken.", code="evening_taken"), ValidationError("And closed.", code="x")]),
     (400, {"date": ["Taken."], "detail": "And closed."})),
    (ValidationError({"day": ["Not a day."], "topic": ["Too long."], "__all__": ["Both wrong."]}),
     (400, {"date": ["Not a day."], "topic": ["Too long."], "detail": "Both wrong."})),
    (Conflict("The share changed since you read it.", code="conflict"),
     (409, {"version": ["The share changed since you read it."]})),
    (Conflict("The page changed."), (409, {"detail": "The page changed."})),
    (PermissionDenied("Only a group admin may schedule shares."),
     (403, {"detail": "Only a group admin may schedule shares."})),
    (PermissionDenied(), (403, {"detail": "You do not have permission to perform this action."})),
    (ValidationError("Out of your reach: 王芳.", code="out_of_reach"), (403, {"detail": "Out of your reach: 王芳."})),
    (Http404(), (404, {"detail": "Not found."})),
])
def test_exception_handler_answers_each_error_kind(exc, expected):
    assert answer(exc, ShareView()) == expected


def test_exception_handler_without_the_views_field_names():
    # A view that names no field: every refusal is a detail, model fields keep their names.
    assert [answer(ValidationError("Taken.", code="evening_taken")),
            answer(ValidationError({"day": ["Not a day."]}))] == [
        (400, {"detail": "Taken."}), (400, {"day": ["Not a day."]})]


# --- The form pages' helper ---

def page_request():
    request = RequestFactory().post("/")
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def shown(request):
    return [(message.level_tag, message.message) for message in get_messages(request)]


class TemplateForm(forms.Form):
    announcement_template = forms.CharField(required=False)


def refuse(*, code=None, **_arguments):
    raise ValidationError("Refused, because.", code=code)


def test_run_service_done_says_so_and_redirects():
    request = page_request()
    calls = []

    outcome = run_service(request, lambda **arguments: calls.append(arguments) or 7, success="Saved.",
                          redirect_to=lambda result: f"/done/{result}/", share=1, by="u")

    assert (outcome.ok, outcome.result, outcome.response.status_code, outcome.response.url, calls, shown(request)) == (
        True, 7, 302, "/done/7/", [{"share": 1, "by": "u"}], [("success", "Saved.")])


def test_run_service_done_without_redirect_or_message():
    request = page_request()

    outcome = run_service(request, lambda: "x", redirect_to=None)

    assert (outcome.ok, outcome.result, outcome.response, shown(request)) == (True, "x", None, [])


def test_run_service_refused_shows_a_message_and_no_redirect():
    request = page_request()

    outcome = run_service(request, refuse, success="Saved.", redirect_to="/done/")

    assert (outcome.ok, outcome.conflict, outcome.response, shown(request)) == (
        False, False, None, [("error", "Refused, because.")])


def test_run_service_refused_on_the_form_field_its_code_names():
    request = page_request()
    form = TemplateForm({"announcement_template": "{x}"})
    form.is_valid()

    outcome = run_service(request, refuse, form=form, error_fields={"placeholders": "announcement_template"},
                          code="placeholders")

    assert (outcome.ok, form.errors, shown(request)) == (
        False, {"announcement_template": ["Refused, because."]}, [])


def test_run_service_refused_above_the_form_when_no_field_is_named():
    request = page_request()
    form = TemplateForm({})
    form.is_valid()

    run_service(request, refuse, form=form, error_fields={"placeholders": "announcement_template"}, code="other")

    assert (form.non_field_errors(), shown(request)) == (["Refused, because."], [])


def test_run_service_refused_into_the_pages_own_list():
    request = page_request()
    errors = ["Already said."]

    run_service(request, refuse, errors=errors)

    assert (errors, shown(request)) == (["Already said.", "Refused, because."], [])


def test_run_service_conflict():
    def changed():
        raise Conflict("Changed since.")

    request = page_request()
    outcome = run_service(request, changed, success="Saved.", redirect_to="/done/")

    assert (outcome.ok, outcome.conflict, outcome.response, shown(request)) == (
        False, True, None, [("error", "Changed since.")])


def test_run_service_leaves_permission_denied_to_django():
    def denied():
        raise PermissionDenied("No.")

    with pytest.raises(PermissionDenied):
        run_service(page_request(), denied)


def test_error_text_of_a_refusal_and_of_form_errors():
    assert [error_text(ValidationError(["One.", "Two."])), error_text({"a": ["One."], "b": ["Two.", "Three."]})] == [
        "One. Two.", "One. Two. Three."]
