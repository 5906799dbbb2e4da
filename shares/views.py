"""A group's schedule pages: they check who asks, validate a form, call one service and
turn a domain error into a message."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import bleach
import markdown
from bleach.callbacks import nofollow
from django.contrib import messages
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from community.access import Access, group_admin_required, group_member_required, resolve_group
from community.form_views import run_service
from community.models import Group, Membership

from . import services
from .calendar import calendar_shares, group_calendar
from .forms import (
    ShareCancelForm,
    ShareEditForm,
    ShareReassignForm,
    ShareRegisterForm,
    ShareScheduleForm,
    ShareStartForm,
    WeekForm,
)
from .models import Share, ShareStatus, SignIn
from .selectors import (
    SCHEDULE_STATUSES,
    announcement_text,
    evenings,
    given_in_talks,
    share_for_page,
    shares_of_speaker,
    shares_on_schedule,
    shares_proposed,
    shares_visible_to,
    week_schedule_text,
    week_start_of,
)

SCHEDULE_WEEKS = 4  # this week and the next three

# How the history names what happened (``ShareRevision.action`` keeps the plain English word).
REVISION_ACTIONS = {
    "registered": gettext_lazy("registered"),
    "scheduled": gettext_lazy("scheduled"),
    "rescheduled": gettext_lazy("rescheduled"),
    "cancelled": gettext_lazy("cancelled"),
    "reassigned": gettext_lazy("reassigned"),
    "edited": gettext_lazy("edited"),
    "restored": gettext_lazy("restored"),
    "imported": gettext_lazy("imported"),
    "delivered (import)": gettext_lazy("delivered (import)"),
    "boundaries moved": gettext_lazy("talk boundaries moved"),
    "talk deleted": gettext_lazy("talk deleted"),
    "talk restored": gettext_lazy("deleted talk restored"),
    "announced (import)": gettext_lazy("announced, not given (import)"),
    "start corrected": gettext_lazy("start corrected"),
    "announced share deleted": gettext_lazy("announced share deleted"),
    "announced share restored": gettext_lazy("deleted announced share restored"),
}

# Markdown in abstracts: what a talk summary needs, nothing that runs or loads from elsewhere.
MARKDOWN_EXTENSIONS = ["fenced_code", "tables", "sane_lists", "nl2br"]
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "li",
    "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {"a": ["href", "title"], "abbr": ["title"], "td": ["align"], "th": ["align"]}
ALLOWED_PROTOCOLS = {"http", "https", "mailto"}


def markdown_html(text: str) -> str:
    """Markdown to HTML that is safe to show: unknown tags and attributes (``<script>``,
    ``<img>``, ``onerror=``…) are stripped, links keep only http(s) and mailto targets and get
    ``rel="nofollow"``."""
    html = markdown.markdown(text, extensions=MARKDOWN_EXTENSIONS)
    clean = bleach.clean(
        html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, protocols=ALLOWED_PROTOCOLS, strip=True,
        strip_comments=True,
    )
    return bleach.linkify(clean, callbacks=[nofollow], skip_tags={"pre", "code"})


def _share(request, group: Group, pk: int) -> Share:
    """The share, if it belongs to the group and the user may see it; 404 otherwise."""
    share = share_for_page(user=request.user, group=group).filter(pk=pk).first()
    if share is None:
        raise Http404
    return share


@group_member_required
@require_GET
def schedule(request, group_slug: str) -> HttpResponse:
    """This week and the next three, evening by evening (the shares announced in the record and
    not given there too, each with the talk given in another group when the user may read it);
    the user's own shares; for admins, the proposed shares waiting for a day."""
    group, access = request.group, request.access
    today = timezone.now().astimezone(group.tz).date()
    first = week_start_of(today)
    last = first + dt.timedelta(days=7 * SCHEDULE_WEEKS - 1)
    shares = list(shares_on_schedule(group=group, start=first, end=last, user=request.user, statuses=SCHEDULE_STATUSES))
    _attach_given_in(request.user, shares)
    days = evenings(shares, start=first, days=7 * SCHEDULE_WEEKS)
    weeks = [
        {"start": days[n][0], "evenings": [{"day": day, "shares": shares} for day, shares in days[n:n + 7]]}
        for n in range(0, len(days), 7)
    ]
    return render(request, "shares/schedule.html", {
        "group": group,
        "today": today,
        "weeks": weeks,
        "own_shares": list(shares_of_speaker(group=group, member_id=access.member_id)),
        "proposed": list(shares_proposed(group=group)) if access.is_admin else [],
    })


def _attach_given_in(user, shares: list[Share]) -> None:
    """``given_in_talk`` on each share: the talk given in another group it links to, if the
    user may read it (``selectors.given_in_talks``, one query), else None."""
    talks = given_in_talks(user, shares)
    for share in shares:
        share.given_in_talk = talks.get(share.given_in_id)


@group_member_required
@require_http_methods(["GET", "POST"])
def share_register(request, group_slug: str) -> HttpResponse:
    """A member registers a share for themselves; an admin may register one for any member."""
    group, access = request.group, request.access
    form = ShareRegisterForm(
        request.POST or None, group=group, choose_speaker=access.is_admin, initial={"speaker": access.member_id}
    )
    if request.method == "POST" and form.is_valid():
        speaker = form.cleaned_data["speaker"] if access.is_admin else request.user.member
        outcome = run_service(
            request, services.share_register, success=_("Your share is registered. An admin will confirm its day."),
            redirect_to=_detail_url, group=group, speaker=speaker, topic=form.cleaned_data["topic"],
            abstract=form.cleaned_data["abstract"], preferred_days=form.preferred_days, by=request.user,
        )
        if outcome.ok:
            return outcome.response
    return render(request, "shares/share_register.html", {"group": group, "form": form})


def _render_detail(request, group: Group, access: Access, pk: int, *, status: int = 200, **forms) -> HttpResponse:
    """The share page, read fresh (after a failed write too); ``forms`` replace the blank ones."""
    share = _share(request, group, pk)
    is_speaker = access.member_id is not None and share.speaker_id == access.member_id
    is_open = share.status in services.OPEN_STATUSES
    local_start = share.scheduled_for.astimezone(group.tz) if share.scheduled_for else None
    revisions = list(share.revisions.all())
    for revision in revisions:
        revision.action_label = REVISION_ACTIONS.get(revision.action, revision.action)
    context = {
        "group": group,
        "share": share,
        "is_speaker": is_speaker,
        "local_start": local_start,
        "abstract_html": markdown_html(share.abstract),
        "revisions": revisions,
        "preferred_days": [preferred.day for preferred in share.preferred_dates.all()],
        "can_edit": (access.is_admin or is_speaker) and share.status != ShareStatus.CANCELLED,
        "can_cancel": (access.is_admin or is_speaker) and is_open,
        "can_schedule": access.is_admin and is_open,
        "can_reassign": access.is_admin and share.status != ShareStatus.CANCELLED,
        "can_announce": access.is_admin and _announceable(share),
        # An announced share (found by the import, not given here): admins correct its start, or delete it.
        "can_correct_start": access.is_admin and share.status == ShareStatus.ANNOUNCED,
        "can_delete": access.is_admin and share.status == ShareStatus.ANNOUNCED,
    }
    if context["can_edit"]:
        context["edit_form"] = forms.get("edit_form") or ShareEditForm(initial={
            "topic": share.topic, "abstract": share.abstract, "visibility": share.visibility, "version": share.version,
        }, speaker_of=None if access.is_admin else share)
    if context["can_cancel"]:
        context["cancel_form"] = forms.get("cancel_form") or ShareCancelForm()
    if context["can_schedule"]:
        preferred = context["preferred_days"]
        context["schedule_form"] = forms.get("schedule_form") or ShareScheduleForm(initial={
            "day": share.day or (preferred[0] if preferred else None),
            "time": local_start.time() if local_start else group.share_time,
            "overlap_reason": share.overlap_reason,
        })
    if context["can_correct_start"]:
        context["start_form"] = forms.get("start_form") or ShareStartForm(
            initial={"time": local_start.time() if local_start else None})
    if context["can_reassign"]:
        context["reassign_form"] = forms.get("reassign_form") or ShareReassignForm(
            group=group, initial={"speaker": share.speaker_id}
        )
    context["sign_in"] = _sign_in_context(share, access)
    # The talk given in another group, if the user may read it (the announcing group's members may).
    context["given_in"] = given_in_talks(request.user, [share]).get(share.given_in_id)
    return render(request, "shares/share_detail.html", context, status=status)


def _announceable(share: Share) -> bool:
    return share.status in (ShareStatus.SCHEDULED, ShareStatus.DELIVERED) and share.scheduled_for is not None


@group_member_required
@require_GET
def share_detail(request, group_slug: str, pk: int) -> HttpResponse:
    return _render_detail(request, request.group, request.access, pk)


def _share_action(request, pk: int) -> tuple[Group, Access, Share]:
    """The group, the user's access and the share an action is about (404 if the user may not see it)."""
    group, access = request.group, request.access
    share = shares_visible_to(request.user).filter(group=group, pk=pk).select_related("group", "speaker").first()
    if share is None:
        raise Http404
    return group, access, share


def _detail_url(share: Share) -> str:
    return reverse("shares:share_detail", kwargs={"group_slug": share.group.slug, "pk": share.pk})


@group_admin_required
@require_POST
def share_schedule(request, group_slug: str, pk: int) -> HttpResponse:
    group, access, share = _share_action(request, pk)
    form = ShareScheduleForm(request.POST)
    if form.is_valid():
        outcome = run_service(
            request, services.share_schedule, success=_("The share is scheduled."), redirect_to=_detail_url(share),
            share=share, day=form.cleaned_data["day"], time=form.cleaned_data["time"], by=request.user,
            overlap_reason=form.cleaned_data["overlap_reason"],
        )
        if outcome.ok:
            return outcome.response
    return _render_detail(request, group, access, pk, schedule_form=form)


@group_member_required
@require_POST
def share_cancel(request, group_slug: str, pk: int) -> HttpResponse:
    group, access, share = _share_action(request, pk)
    access.require_self_or_admin(share.speaker_id)
    form = ShareCancelForm(request.POST)
    if form.is_valid():
        outcome = run_service(request, services.share_cancel, success=_("The share is cancelled."),
                              redirect_to=_detail_url(share), share=share, by=request.user,
                              reason=form.cleaned_data["reason"])
        if outcome.ok:
            return outcome.response
    return _render_detail(request, group, access, pk, cancel_form=form)


@group_admin_required
@require_POST
def share_reassign(request, group_slug: str, pk: int) -> HttpResponse:
    group, access, share = _share_action(request, pk)
    form = ShareReassignForm(request.POST, group=group)
    if form.is_valid():
        outcome = run_service(request, services.share_reassign, success=_("The share has a new speaker."),
                              redirect_to=_detail_url(share), share=share, speaker=form.cleaned_data["speaker"],
                              by=request.user)
        if outcome.ok:
            return outcome.response
    return _render_detail(request, group, access, pk, reassign_form=form)


@group_member_required
@require_POST
def share_edit(request, group_slug: str, pk: int) -> HttpResponse:
    group, access, share = _share_action(request, pk)
    access.require_self_or_admin(share.speaker_id)
    speaker_of = None if access.is_admin else share
    form = ShareEditForm(request.POST, speaker_of=speaker_of)
    if form.is_valid():
        outcome = run_service(
            request, services.share_edit, success=_("The share is saved."), redirect_to=_detail_url(share),
            share=share, topic=form.cleaned_data["topic"], abstract=form.cleaned_data["abstract"],
            visibility=form.cleaned_data["visibility"], expected_version=form.cleaned_data["version"],
            by=request.user,
        )
        if outcome.ok:
            return outcome.response
        if outcome.conflict:
            # Keep what the editor typed; the version moves to the current one, so that saving
            # again (after reading the current text above) is a deliberate overwrite.
            data = request.POST.copy()
            data["version"] = str(Share.objects.values_list("version", flat=True).get(pk=share.pk))
            return _render_detail(request, group, access, pk, status=409,
                                  edit_form=ShareEditForm(data, speaker_of=speaker_of))
    return _render_detail(request, group, access, pk, edit_form=form)


@group_admin_required
@require_POST
def share_start(request, group_slug: str, pk: int) -> HttpResponse:
    """Correct the start of an announced share (empty: the announcement gave no time). Group admins only."""
    group, access, share = _share_action(request, pk)
    form = ShareStartForm(request.POST)
    if form.is_valid():
        outcome = run_service(
            request, services.share_start_correct, success=_("The start is saved."), redirect_to=_detail_url(share),
            share=share, time=form.cleaned_data["time"], by=request.user,
        )
        if outcome.ok:
            return outcome.response
    return _render_detail(request, group, access, pk, start_form=form)


@group_admin_required
@require_GET
def share_announcement(request, group_slug: str, pk: int) -> HttpResponse:
    """The announcement to paste in the group, ready to copy. Admins only."""
    group, access, share = _share_action(request, pk)
    if not _announceable(share):
        messages.error(request, _("Schedule the share before announcing it."))
        return redirect("shares:share_detail", group_slug=group.slug, pk=share.pk)
    return render(request, "shares/share_announcement.html", {
        "group": group, "share": share, "text": announcement_text(share=share),
    })


@group_admin_required
@require_GET
def week_text(request, group_slug: str) -> HttpResponse:
    """The week's schedule as one text to paste in the group (``?start=YYYY-MM-DD``, default
    this week). Admins only. A ``start`` that is not a day from 2000 to 2100 is a 400 that
    says so, showing this week."""
    group = request.group
    form = WeekForm(request.GET)
    today = timezone.now().astimezone(group.tz).date()
    valid = form.is_valid()
    if not valid:
        messages.error(request, " ".join(form.errors["start"]))
    start = form.cleaned_data["start"] if valid and form.cleaned_data["start"] else today
    monday = week_start_of(start)
    return render(request, "shares/week_text.html", {
        "group": group,
        "week_start": monday,
        "previous_week": monday - dt.timedelta(days=7),
        "next_week": monday + dt.timedelta(days=7),
        "text": week_schedule_text(group=group, week_start=monday),
    }, status=200 if valid else 400)


# --- Sign-ins (签到) and the iCalendar feed ---

@dataclass(frozen=True)
class SignInState:
    """What the share page shows about sign-in (times in the group's time zone)."""

    opens: dt.datetime
    closes: dt.datetime
    is_open: bool
    closed_by_admin: bool
    own: SignIn | None
    can_sign_in: bool
    can_close: bool
    count: int
    sign_ins: list[SignIn] | None  # admins only


def _sign_in_context(share: Share, access: Access) -> SignInState | None:
    """The share page's sign-in section: one query (the admin's list, or the user's own
    sign-in); none for a share without sign-in (proposed, cancelled, no start)."""
    window = services.sign_in_window(share=share)
    if window is None:
        return None
    tz = share.group.tz
    now = timezone.now()
    is_open = window[0] <= now <= window[1]
    sign_ins = None
    if access.is_admin:
        sign_ins = list(
            SignIn.objects.filter(share=share).select_related("member")
            .annotate(nickname=Subquery(
                Membership.objects.filter(group_id=share.group_id, member_id=OuterRef("member_id")).values("nickname")[:1]
            ))
        )
        own = next((s for s in sign_ins if access.member_id is not None and s.member_id == access.member_id), None)
    elif access.member_id is not None:
        own = SignIn.objects.filter(share=share, member_id=access.member_id).first()
    else:
        own = None
    if own is not None:
        own.local_time = own.signed_at.astimezone(tz)
    for sign_in in sign_ins or []:
        sign_in.local_time = sign_in.signed_at.astimezone(tz)
    return SignInState(
        opens=window[0].astimezone(tz),
        closes=window[1].astimezone(tz),
        is_open=is_open,
        closed_by_admin=share.sign_in_closed_at is not None,
        own=own,
        can_sign_in=is_open and own is None and access.member_id is not None,
        can_close=is_open and access.is_admin,
        count=share.sign_in_count,
        sign_ins=sign_ins,
    )


@group_member_required
@require_POST
def share_sign_in(request, group_slug: str, pk: int) -> HttpResponse:
    """One click: the user's member signs in to the share (active members of the group only;
    a login without a member gets 403)."""
    group, access, share = _share_action(request, pk)
    outcome = run_service(request, services.sign_in_record, share=share, by=request.user)
    if outcome.ok:
        time = outcome.result.signed_at.astimezone(group.tz).strftime("%H:%M")
        messages.success(request, _("You signed in at %(time)s.") % {"time": time})
    return redirect(_detail_url(share))


@group_admin_required
@require_POST
def share_sign_in_close(request, group_slug: str, pk: int) -> HttpResponse:
    """Close sign-in now. Group admins only."""
    group, access, share = _share_action(request, pk)
    run_service(request, services.sign_in_close, success=_("Sign-in is closed."), share=share, by=request.user)
    return redirect(_detail_url(share))


@require_GET
def calendar(request, group_slug: str) -> HttpResponse:
    """The group's shares as an iCalendar feed that calendar apps can subscribe to.

    No login is required, because calendar apps cannot log in; so the feed shows the
    group's *public* shares to anyone. A browser that is logged in (session) as a member of
    the group, or as staff, also gets the group's members-only shares — a calendar app
    subscribing to the same URL does not. Hidden shares are never in the feed, whoever
    asks. Scheduled and delivered shares with a start, from a year back on; for the group's
    members also the announced shares (not given here, or given in another group: that talk
    is named only when the member may read it)."""
    group = resolve_group(request, group_slug)
    members_only = request.access.is_member
    now = timezone.now()
    shares = list(calendar_shares(group=group, members_only=members_only, today=now.astimezone(group.tz).date()))
    given_in = given_in_talks(request.user, shares) if members_only else {}
    text = group_calendar(group=group, shares=shares, base_url=request.build_absolute_uri("/"), now=now,
                          given_in=given_in)
    response = HttpResponse(text, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{group.slug}.ics"'
    if members_only:
        response["Cache-Control"] = "private"
    return response
