"""python manage.py index_talks [--all] [--share ID ...]"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from shares.search import talk_index_refresh


class Command(BaseCommand):
    help = ("Build the talk search index of the delivered shares that are stale (never indexed, edited "
            "or re-imported since), of every delivered share with --all, or of the shares given with --share.")

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="index every delivered share again, stale or not")
        parser.add_argument("--share", type=int, action="append", metavar="ID", help="index this share (repeatable)")

    def handle(self, *args, all: bool, share, verbosity, **options):
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            if verbosity >= 1:
                self.stderr.write(f"[{done}/{total}] talks indexed")

        result = talk_index_refresh(share_ids=share, rebuild=all, progress=progress)
        self.stdout.write(
            f"Indexed {result.indexed} talks ({result.terms} terms) in {result.batches} batches; "
            f"dropped the index of {result.dropped} talks no longer delivered; {time.monotonic() - started:.1f}s."
        )
