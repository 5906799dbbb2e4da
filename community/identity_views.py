"""Who is who, for a group's admins (and staff): suggested name links to confirm or reject,
two members to merge, names to split off a member.

Only the group's owner and admins, and staff, see these pages (anonymous visitors are sent
to log in, anyone else gets a 403). Every change is a POST (CSRF-protected) calling one
service, which checks the rules and writes everything in one transaction, or nothing; its
refusal is shown as a message.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .access import group_admin_required
from .form_views import error_text, run_service
from .forms import MemberMergeForm, MemberSplitForm, NameLinkDecisionForm
from .identity import (
    identity_decision,
    identity_decisions,
    member_cards,
    member_for_decision,
    members_search,
    name_links_rejected,
    name_links_suggested,
    split_names,
)
from .models import Group, NameLink
from .permissions import members_out_of_reach
from .services import (
    OUT_OF_REACH,
    member_merge_manual,
    member_split,
    name_link_confirm,
    name_link_reject,
    out_of_reach_error,
)

# The importer's rules, as an admin reads them (the evidence keeps the English key).
RULE_LABELS = {
    "weak or ambiguous name": gettext_lazy("a weak or ambiguous name, shared with the other member's names"),
    "merged-export pair": gettext_lazy("the two names of one message in a file merged from two exports"),
    "same name and company as an earlier nickname": gettext_lazy("a nickname with the same name and company"),
    "bare name equals the nickname's personal name": gettext_lazy("a nickname whose personal name is the other's name"),
    "the nickname's personal name": gettext_lazy("the personal name of the other's nickname"),
    "the same well-formed nickname in another group": gettext_lazy("the same full nickname, seen in another group"),
    "the same WeChat id in a roster": gettext_lazy("the same WeChat id, in an uploaded member list"),
}
WHY_NOT_MERGED = {
    "the two members carry different names": gettext_lazy("not merged: the two members carry different personal names"),
    OUT_OF_REACH: gettext_lazy("not merged: the member it points at was out of reach of the admin who uploaded the file"),
}


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _page(request, group: Group, template: str, context: dict) -> HttpResponse:
    return render(request, f"community/names/{template}", {"group": group, **context})


@group_admin_required
@require_GET
def name_links(request, group_slug: str) -> HttpResponse:
    """The group's suggested links, each with both members side by side and the two
    decisions; below, the rejected links and the merges and splits decided so far."""
    group = request.group
    cards = name_links_suggested(group=group)
    # A link to a member out of the visitor's reach is theirs to reject, not to confirm.
    beyond = members_out_of_reach(
        user=request.user, member_ids={pk for card in cards for pk in (card.link.member_id, card.link.other_id)},
    )
    for card in cards:
        evidence = card.link.evidence if isinstance(card.link.evidence, dict) else {}
        card.rule_label = RULE_LABELS.get(evidence.get("rule"), evidence.get("rule", ""))
        card.why_not_merged = WHY_NOT_MERGED.get(evidence.get("why_not_merged"), evidence.get("why_not_merged", ""))
        card.out_of_reach = [side.member for side in (card.member, card.other) if side.member.pk in beyond]
    return _page(request, group, "links.html", {
        "cards": cards,
        "rejected": name_links_rejected(group=group),
        "decisions": identity_decisions(group=group),
    })


@group_admin_required
@require_POST
def name_link_decide(request, group_slug: str, pk: int) -> HttpResponse:
    """Confirm (merge, keeping the chosen side) or reject one suggested link of the group."""
    group = request.group
    link = get_object_or_404(NameLink, pk=pk, group=group)
    back = reverse("name_links", kwargs={"group_slug": group.slug})
    form = NameLinkDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, error_text(form.errors))
        return redirect(back)
    data = form.cleaned_data
    if data["decision"] == "confirm":
        outcome = run_service(
            request, name_link_confirm, redirect_to=lambda record: _record_url("member_merge", group, record.pk),
            link=link, group=group, keep=data["keep"], by=request.user, reason=data["reason"],
        )
    else:
        outcome = run_service(
            request, name_link_reject, redirect_to=back,
            success=_("Rejected: they stay two members, and the import will not suggest them again."),
            link=link, group=group, by=request.user, reason=data["reason"],
        )
    return outcome.response or redirect(back)


def _record_url(view: str, group: Group, pk: int) -> str:
    return reverse(view, kwargs={"group_slug": group.slug}) + "?" + urlencode({"record": pk})


def _record_page(request, group: Group, pk: int | None, action: str) -> HttpResponse:
    record = identity_decision(group=group, pk=pk) if pk else None
    if record is None or record.action != action:
        raise Http404
    return _page(request, group, "record.html", {"record": record, "counts": record.evidence.get("counts", {})})


@group_admin_required
@require_http_methods(["GET", "POST"])
def member_merge(request, group_slug: str) -> HttpResponse:
    """Merge in three steps, one screen each: find the member to keep, find the member to
    merge into it, then see what will move and say why. The result shows the kept member."""
    group = request.group
    everyone = request.access.can_decide_for_everyone
    if request.method == "GET" and "record" in request.GET:
        return _record_page(request, group, _int(request.GET["record"]), "merge")
    params = request.POST if request.method == "POST" else request.GET
    keep = member_for_decision(group=group, pk=_int(params.get("keep")), everyone=everyone)
    other = member_for_decision(group=group, pk=_int(params.get("other")), everyone=everyone)
    errors = []
    for key, found in (("keep", keep), ("other", other)):
        if params.get(key) and found is None:
            errors.append(_("This member is not a member of this group."))
    if keep is not None and other is not None and keep.pk == other.pk:
        errors.append(_("Choose two different members: a member cannot be merged with itself."))
        other = None
    form = MemberMergeForm(request.POST or None, initial={"keep": keep and keep.pk, "other": other and other.pk})
    if request.method == "POST":
        if errors:
            pass
        elif form.is_valid():
            outcome = run_service(
                request, member_merge_manual, errors=errors,
                redirect_to=lambda record: _record_url("member_merge", group, record.pk),
                group=group, into=keep, other=other, by=request.user, reason=form.cleaned_data["reason"],
            )
            if outcome.ok:
                return outcome.response
        else:
            errors.append(error_text(form.errors))
    if keep is not None and other is not None:
        beyond = members_out_of_reach(user=request.user, member_ids=[keep.pk, other.pk])
        if beyond and request.method == "GET":
            # Said before the admin writes a reason: the service would refuse it the same way.
            errors.append(error_text(out_of_reach_error([member for member in (keep, other) if member.pk in beyond])))
        cards = member_cards(group=group, members=[keep, other], with_rows=True)
        return _page(request, group, "merge_confirm.html", {
            "keep": cards[keep.pk], "other": cards[other.pk], "form": form, "errors": errors,
            "rows": ["messages", "names", "memberships", "sign_ins", "shares"], "out_of_reach": bool(beyond),
        })
    query = request.GET.get("q", "")
    found = members_search(group=group, query=query, everyone=everyone)
    found = [member for member in found if keep is None or member.pk != keep.pk]
    return _page(request, group, "merge.html", {
        "keep": member_cards(group=group, members=[keep])[keep.pk] if keep else None,
        "hidden": [("keep", keep.pk)] if keep else [],
        "pick_prefix": f"keep={keep.pk}&other=" if keep else "keep=",
        "query": query,
        "found": list(member_cards(group=group, members=found).values()),
        "errors": errors,
    })


@group_admin_required
@require_http_methods(["GET", "POST"])
def member_split_view(request, group_slug: str) -> HttpResponse:
    """Split in two steps: find the member, then tick the names (with their messages in the
    group) that belong to someone else and say why. The result shows the new member."""
    group = request.group
    everyone = request.access.can_decide_for_everyone
    if request.method == "GET" and "record" in request.GET:
        return _record_page(request, group, _int(request.GET["record"]), "split")
    params = request.POST if request.method == "POST" else request.GET
    member = member_for_decision(group=group, pk=_int(params.get("member")), everyone=everyone)
    errors = []
    if params.get("member") and member is None:
        errors.append(_("This member is not a member of this group."))
    names = split_names(group=group, member=member) if member is not None else []
    form = MemberSplitForm(
        request.POST or None, initial={"member": member and member.pk},
        name_choices=[(entry.name.pk, entry.name.name) for entry in names],
    )
    if request.method == "POST" and member is not None:
        if form.is_valid():
            chosen = {entry.name.pk: entry.name for entry in names}
            outcome = run_service(
                request, member_split, errors=errors,
                redirect_to=lambda record: _record_url("member_split", group, record.pk),
                member=member, names=[chosen[pk] for pk in form.cleaned_data["names"]], group=group,
                by=request.user, reason=form.cleaned_data["reason"],
            )
            if outcome.ok:
                return outcome.response
        else:
            errors.append(error_text(form.errors))
    if member is not None:
        chosen = {str(pk) for pk in request.POST.getlist("names")} if request.method == "POST" else set()
        return _page(request, group, "split_names.html", {
            "card": member_cards(group=group, members=[member])[member.pk],
            "names": names, "chosen": chosen, "form": form, "errors": errors,
        })
    query = request.GET.get("q", "")
    found = members_search(group=group, query=query, everyone=everyone)
    return _page(request, group, "split.html", {
        "hidden": [],
        "pick_prefix": "member=",
        "query": query,
        "found": list(member_cards(group=group, members=found).values()),
        "errors": errors,
    })

