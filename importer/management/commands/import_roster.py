"""python manage.py import_roster --group SLUG [--dry-run] [--mark-missing-left] FILE.csv"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from importer.services import Source, roster_import

from ._output import print_summary


class Command(BaseCommand):
    help = "Import a WeChat member list (CSV with NickName and DisplayName columns) into a group."
    requires_system_checks = []  # as import_transcripts: an import needs none of the system checks

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE.csv")
        parser.add_argument("--group", required=True, help="the group's slug (created if missing)")
        parser.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")
        parser.add_argument("--mark-missing-left", action="store_true",
                            help="members absent from the list are marked as having left (dated)")

    def handle(self, *args, file, group, dry_run, mark_missing_left, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        started = time.monotonic()
        result = roster_import(group_slug=group, source=Source.from_path(path), dry_run=dry_run,
                               mark_missing_left=mark_missing_left)
        print_summary(self, result, time.monotonic() - started)
        report = result.files[0]
        if "rows" in report:
            self.stdout.write(f"  {'rows':<32} {report['rows']}")
            self.stdout.write(f"  {'returning members':<32} {report['returning']}")
            self.stdout.write(f"  {'marked as left':<32} {report['marked_left']}")
        if not result.ok:
            sys.exit(1)
