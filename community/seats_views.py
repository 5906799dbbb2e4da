"""The seats: the admins' review queue of flags, reminders due, approved removals (CSV), the
audit log, and the waiting list (whose public form is the only page here open to anyone).

Every page but the application form is for the group's admins (and staff): others get 403,
anonymous visitors the login page. Views validate, call one service, and say what happened.
"""

from __future__ import annotations

import csv

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from .access import group_admin_required
from .flags import flags_decide, nickname_reminders_record
from .form_views import run_service
from .forms import ApplicationForm, FlagDecisionForm
from .models import (
    ACTIVE_FLAG_STATUSES,
    Application,
    ApplicationStatus,
    AuditEntry,
    Flag,
    FlagRule,
    FlagStatus,
    Group,
    RuleEvaluation,
)
from .security import application_throttle, client_ip, too_many_applications_message
from .selectors import flags_of_group, memberships_by_wechat_id, nickname_reminders_due, seats_of_group
from .services import application_decline, application_submit

REMINDER_TEXT = "请按群规把群昵称改为「姓名-公司-岗位-地区」，例如：张三-某某支付-产品经理-上海。谢谢配合！"


@group_admin_required
@require_GET
def seats(request, group_slug: str):
    """Open flags by rule with their evidence, the reminders due, and the waiting list."""
    group = request.group
    flags = list(flags_of_group(group=group).filter(status=FlagStatus.OPEN))
    rules = [(rule, label, [flag for flag in flags if flag.rule == rule]) for rule, label in FlagRule.choices]
    applications = list(Application.objects.filter(group=group, status=ApplicationStatus.WAITING))
    known = memberships_by_wechat_id(group=group, wechat_ids=[application.wechat_id for application in applications])
    for application in applications:
        application.known_membership = known.get(application.wechat_id)
    return render(request, "community/seats/queue.html", {
        "group": group,
        "rules": rules,
        "open_count": len(flags),
        "reminders_due": nickname_reminders_due(group=group).count(),
        "seats": seats_of_group(group=group),
        "applications": applications,
        "decisions": FlagDecisionForm.DECISIONS,
        "today": timezone.now().astimezone(group.tz).date(),
        "evaluation": RuleEvaluation.objects.filter(group=group).first(),
    })


@group_admin_required
@require_POST
def decide(request, group_slug: str):
    """One decision on the flags ticked (all or nothing)."""
    group = request.group
    flag_ids = list(Flag.objects.filter(group=group).values_list("pk", flat=True))
    form = FlagDecisionForm(request.POST, flag_ids=flag_ids)
    back = request.POST.get("next") == "decided" and "seats_decided" or "seats"
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
        return redirect(back, group_slug=group.slug)
    data = form.cleaned_data
    arguments = {"reason": data.get("reason") or ""}
    if data["decision"] == "exempt":
        arguments["until"] = data["until"]
    chosen = list(Flag.objects.filter(group=group, pk__in=data["flags"]).order_by("pk"))
    run_service(request, flags_decide, success=_("Decided: %(count)d flag(s).") % {"count": len(chosen)},
                flags=chosen, decision=data["decision"], by=request.user, **arguments)
    return redirect(back, group_slug=group.slug)


@group_admin_required
@require_GET
def decided(request, group_slug: str):
    """Decided and resolved flags, newest first, each of them reversible."""
    group = request.group
    flags = flags_of_group(group=group).exclude(status__in=ACTIVE_FLAG_STATUSES).order_by("-updated_at", "-id")
    page = Paginator(flags, 50).get_page(request.GET.get("page"))
    return render(request, "community/seats/decided.html", {
        "group": group, "page": page,
    })


@group_admin_required
def reminders(request, group_slug: str):
    """The reminders due, as one message to paste in WeChat; a button records they were sent."""
    group = request.group
    due = list(nickname_reminders_due(group=group))
    if request.method == "POST":
        chosen = {int(pk) for pk in request.POST.getlist("flags") if pk.isdigit()}
        memberships = [flag.membership for flag in due if flag.pk in chosen]
        if not memberships:
            messages.error(request, _("Tick the members you reminded."))
        else:
            nickname_reminders_record(group=group, memberships=memberships, by=request.user)
            messages.success(request, _("Recorded: %(count)d reminder(s) sent.") % {"count": len(memberships)})
        return redirect("seats_reminders", group_slug=group.slug)
    mentions = " ".join(f"@{flag.membership.nickname}" for flag in due)
    return render(request, "community/seats/reminders.html", {
        "group": group, "due": due,
        "text": f"{mentions} {REMINDER_TEXT}" if due else "",
    })


@group_admin_required
@require_GET
def removals_csv(request, group_slug: str):
    """Approved removals, as the names appear in WeChat, for the owner to act on."""
    group = request.group
    flags = flags_of_group(group=group).filter(status=FlagStatus.APPROVED).order_by("decided_at", "id")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{group.slug}-removals.csv"'
    response.write("\ufeff")  # lets spreadsheet programs read the file as UTF-8
    writer = csv.writer(response)
    writer.writerow([_("nickname"), _("name"), _("company"), _("rule"), _("approved at"), _("approved by"), _("reason"),
                     _("evidence")])
    labels = dict(FlagRule.choices)
    for flag in flags:
        member = flag.membership.member
        writer.writerow([
            _csv_cell(flag.membership.nickname or member.display_name), _csv_cell(member.name),
            _csv_cell(member.company), str(labels[flag.rule]),
            flag.decided_at.astimezone(group.tz).strftime("%Y-%m-%d %H:%M") if flag.decided_at else "",
            _csv_cell(flag.decided_by.get_username() if flag.decided_by else ""), _csv_cell(flag.reason),
            _csv_cell("; ".join(f"{key}={value}" for key, value in flag.evidence.items() if value is not None)),
        ])
    return response


def _csv_cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (names come from the chat record)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@group_admin_required
@require_GET
def audit(request, group_slug: str):
    """Every decision and rule change of the group: who, when, what, why."""
    group = request.group
    entries = AuditEntry.objects.filter(group=group).select_related("actor").order_by("-at", "-id")
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, "community/seats/audit.html", {
        "group": group, "page": page,
    })


def apply(request, group_slug: str):
    """The public application form for a seat in the group: at most APPLICATIONS_PER_IP_PER_HOUR
    applications from one address, then 429 with the form and when to try again."""
    group = get_object_or_404(Group, slug=group_slug)
    form = ApplicationForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        throttle, ip = application_throttle(), client_ip(request)
        receipt = throttle.reserve(ip)
        if receipt is None:
            form.add_error(None, too_many_applications_message(throttle.wait(ip)))
            status = 429
        else:
            outcome = run_service(request, application_submit, form=form,
                                  error_fields={"already_waiting": "wechat_id"}, group=group, **form.cleaned_data)
            if outcome.ok:
                return render(request, "community/seats/applied.html", {"group": group})
            throttle.release(receipt)
    return render(request, "community/seats/apply.html", {
        "group": group, "form": form, "seats": seats_of_group(group=group),
    }, status=status)


@group_admin_required
@require_POST
def application_decline_view(request, group_slug: str, pk: int):
    group = request.group
    application = get_object_or_404(Application, group=group, pk=pk)
    run_service(request, application_decline, success=_("The application was declined."),
                application=application, by=request.user, reason=request.POST.get("reason", ""))
    return redirect("seats", group_slug=group.slug)
