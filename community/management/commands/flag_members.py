"""python manage.py flag_members [--group SLUG] [--as-of YYYY-MM-DD] [--dry-run]

The rules never judge as of a day in the future: an ``--as-of`` after today in a chosen
group's time zone is refused before anything is evaluated."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from community.dates import today_in
from community.flags import Evaluation, group_flags_evaluate
from community.models import Group


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--as-of {value!r}: expected a date as YYYY-MM-DD") from None


def flag_table(result: Evaluation) -> list[str]:
    """The flags an evaluation created, updated or resolved, one row each, and its gaps."""
    rows = [("change", "rule", "status", "member", "evidence")]
    for change, flags in (("new", result.created), ("updated", result.updated), ("resolved", result.resolved)):
        for flag in sorted(flags, key=lambda f: (f.rule, result.names.get(f.membership_id, ""))):
            evidence = ", ".join(f"{k}={v}" for k, v in flag.evidence.items() if v is not None and k != "as_of")
            rows.append((change, flag.rule, flag.status, result.names.get(flag.membership_id, "?"), evidence))
    for gap in result.gaps:
        rows.append(("gap", "silent", "-", result.names.get(gap.membership_id, "?"),
                     f"{gap.missing_days} days missing from the record ({gap.first_missing} – {gap.last_missing})"))
    widths = [max(len(str(row[i])) for row in rows) for i in range(4)]
    return ["  ".join([*(str(cell).ljust(width) for cell, width in zip(row[:4], widths, strict=True)), row[4]]).rstrip()
            for row in rows]


class Command(BaseCommand):
    help = "Evaluate the group rules and write flags for the admins to review (all groups by default)."

    def add_arguments(self, parser):
        parser.add_argument("--group", help="the group's slug (default: every group)")
        parser.add_argument("--as-of", type=_day, help="the day to judge as of (default: each group's last imported day)")
        parser.add_argument("--dry-run", action="store_true", help="report what would change, write nothing")

    def handle(self, *args, group=None, as_of=None, dry_run=False, verbosity=1, **options):
        groups = Group.objects.order_by("slug")
        if group:
            groups = groups.filter(slug=group)
            if not groups.exists():
                raise CommandError(f"--group {group!r}: no such group (known: {', '.join(Group.objects.values_list('slug', flat=True)) or 'none'})")
        if as_of is not None:
            now = timezone.now()
            ahead = [each.slug for each in groups if as_of > today_in(each.tz, now=now)]
            if ahead:
                raise CommandError(f"--as-of {as_of.isoformat()} is in the future for {', '.join(ahead)}: "
                                   "the rules never judge as of a day after today (the group's time zone)")
        for each in groups:
            result = group_flags_evaluate(group=each, as_of=as_of, dry_run=dry_run)
            title = f"{each.slug} as of {result.as_of}" + (" (dry run: nothing was written)" if dry_run else "")
            self.stdout.write(title)
            counts = result.counts()
            self.stdout.write("  " + ", ".join(f"{key} {value}" for key, value in counts.items()))
            table = flag_table(result) if verbosity >= 1 else []
            if len(table) > 1:
                for line in table:
                    self.stdout.write("  " + line)
