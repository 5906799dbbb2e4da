"""python manage.py import_transcripts --group SLUG [--dry-run] [--replace-days] [options] PATH...

A file adds to its day what the day lacks and never deletes; ``--replace-days`` makes each day
exactly its file. ``--dry-run`` is the preview: per day, the messages to add, the stored
messages the file lacks, the talks found and changed, the sign-ins. ``--undo RUN_ID`` gives the
days of a run back as they were (refused while later runs or corrections touched them)."""

from __future__ import annotations

import json
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from importer.models import ImportRun
from importer.services import transcript_sources, transcripts_import
from importer.undo import import_run_undo

from ._output import day_lines, print_summary


class Command(BaseCommand):
    help = "Import exported daily chat transcripts (files or folders) into a group."
    # An import needs the models and the database, not the system checks (URLs, templates,
    # admin, security settings): skipping them is start-up time saved on every run.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", metavar="PATH", help="transcript files or folders (*.markdown, *.md, *.txt)")
        parser.add_argument("--group", help="the group's slug (created if missing)")
        parser.add_argument("--group-name", default="", help="the group's name, when it is created")
        parser.add_argument("--me", default="", help="the member who exported the files (their messages show as 我)")
        parser.add_argument("--dry-run", action="store_true",
                            help="preview: what each day would gain (and lack), its talks and sign-ins; write nothing")
        parser.add_argument("--replace-days", action="store_true",
                            help="make each day of the files exactly its file: stored messages the file lacks are "
                                 "removed (without it, a file only adds what is new)")
        parser.add_argument("--strict", action="store_true", help="stop at the first file that fails")
        parser.add_argument("--report", metavar="FILE.json", help="write the full report as JSON")
        parser.add_argument("--undo", type=int, metavar="RUN_ID", help="undo an earlier run as a whole")

    def handle(self, *args, paths, group, group_name, me, dry_run, replace_days, strict, report, undo, verbosity,
               **options):
        if undo is not None:
            try:
                counts = import_run_undo(run_id=undo)
            except ImportRun.DoesNotExist:
                raise CommandError(f"There is no import run {undo}.") from None
            except ValueError as error:
                raise CommandError(str(error)) from None
            self.stdout.write(f"Undid run {undo}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
            return
        if not group or not paths:
            raise CommandError("Give --group SLUG and at least one PATH (or --undo RUN_ID).")
        try:
            sources = transcript_sources(paths)
        except FileNotFoundError as error:
            raise CommandError(str(error)) from None
        if not sources:
            raise CommandError("No *.markdown, *.md or *.txt file found under " + ", ".join(paths))
        started = time.monotonic()
        total = len(sources)
        show_progress = verbosity >= 1 and total > 1

        def progress(index: int, label: str) -> None:
            if show_progress and (index == total or index % 10 == 1):
                self.stderr.write(f"[{index}/{total}] {label}")

        result = transcripts_import(
            group_slug=group, group_name=group_name, sources=sources, me=me, dry_run=dry_run, strict=strict,
            replace_days=replace_days, progress=progress,
        )
        print_summary(self, result, time.monotonic() - started)
        lines = day_lines(result.files, dry_run=dry_run)
        if lines:
            self.stdout.write("Per day (preview):" if dry_run else "Per day:")
            for line in lines:
                self.stdout.write(line)
        if report:
            with open(report, "w", encoding="utf-8") as handle:
                json.dump(
                    {"run": result.run.pk, "dry_run": dry_run, "counts": result.run.counts, "files": result.files,
                     "warnings": result.warnings, "errors": result.errors},
                    handle, ensure_ascii=False, indent=2,
                )
        if not result.ok:
            sys.exit(1)
