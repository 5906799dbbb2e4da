"""Privacy pages, for staff: a member's data exported as a JSON download, or erased.

Anyone else gets a 404 (anonymous visitors are sent to log in): the page does not say
whether the member exists. Both actions are POSTs (CSRF-protected, audited by the services)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from .access import staff_required
from .models import Member, Message
from .privacy import member_data_export, member_erase


class EraseForm(forms.Form):
    """The erasure's confirmation: the member's number typed again, and why."""

    confirm = forms.IntegerField(label=gettext_lazy("Type the member's number to confirm"))
    reason = forms.CharField(label=gettext_lazy("reason"), max_length=300,
                             help_text=gettext_lazy("Kept in the audit log (write no personal data here)."))

    def __init__(self, *args, member: Member, **kwargs):
        super().__init__(*args, **kwargs)
        self.member = member

    def clean_confirm(self):
        if self.cleaned_data["confirm"] != self.member.pk:
            raise ValidationError(_("This is not the member's number."))
        return self.cleaned_data["confirm"]


def _member(pk: int) -> Member:
    return get_object_or_404(Member.objects.select_related("user"), pk=pk)


def _page(request, member: Member, form: EraseForm, status: int = 200) -> HttpResponse:
    return render(request, "community/privacy/member.html", {
        "member": member,
        "memberships": member.memberships.select_related("group").order_by("group__name"),
        "message_count": Message.objects.filter(sender=member).count(),
        "form": form,
    }, status=status)


@never_cache
@staff_required
@require_GET
def privacy(request, pk: int) -> HttpResponse:
    member = _member(pk)
    return _page(request, member, EraseForm(member=member))


@never_cache
@staff_required
@require_POST
def export(request, pk: int) -> HttpResponse:
    member = _member(pk)
    data = member_data_export(member=member, by=request.user)
    response = HttpResponse(json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="member-{member.pk}-{timezone.now():%Y%m%d}.json"'
    return response


@never_cache
@staff_required
@require_POST
def erase(request, pk: int) -> HttpResponse:
    member = _member(pk)
    form = EraseForm(request.POST, member=member)
    if not form.is_valid():
        return _page(request, member, form, status=400)
    member_erase(member=member, by=request.user, reason=form.cleaned_data["reason"])
    messages.success(request, _("The member's personal data was erased; their messages and shares stay, anonymous."))
    return redirect("privacy:member", pk=member.pk)
