"""The record of imports: every run, and which file (group and day) holds what."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from community.models import Group


class ImportKind(models.TextChoices):
    TRANSCRIPTS = "transcripts", _("transcripts")
    ROSTER = "roster", _("roster")
    IMAGES = "images", _("images")


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    # A web upload of transcripts, previewed (a dry run): waiting for an admin to confirm it.
    PREVIEWED = "previewed", _("awaiting confirmation")
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed")
    UNDONE = "undone", _("undone")


class ImportRunQuerySet(models.QuerySet):
    def stalled(self, now: dt.datetime | None = None) -> ImportRunQuerySet:
        """Runs working, whose worker has given no sign of life for ``IMPORT_STALLED_SECONDS``
        (it died): their heartbeat stopped. Runs without a heartbeat (the commands') never stall."""
        now = now or timezone.now()
        return self.filter(status=ImportStatus.RUNNING,
                           heartbeat_at__lt=now - dt.timedelta(seconds=settings.IMPORT_STALLED_SECONDS))


class ImportRun(models.Model):
    """One run of an import: who, when, which files, what it counted, warned and failed."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="import_runs")
    kind = models.CharField(max_length=12, choices=ImportKind.choices, default=ImportKind.TRANSCRIPTS)
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.RUNNING)
    dry_run = models.BooleanField(default=False)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    started_by_name = models.CharField(max_length=150, blank=True, help_text=_("the operator's system user"))
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    options = models.JSONField(default=dict, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    files = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    errors = models.JSONField(default=list, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    # A run uploaded in the web UI, while its task works: files done, total, the current file,
    # when it was last written (a run left "running" long after that was interrupted), and why
    # it could not be queued (the broker was down).
    progress = models.JSONField(default=dict, blank=True)
    # The report of the run's dry run, per file and day (``importer.services``): what the import
    # would add, what stored messages the files lack, talks and sign-ins. A web upload is
    # previewed, then confirmed and imported as the same run, which keeps its preview.
    preview = models.JSONField(default=dict, blank=True)
    # Written every IMPORT_HEARTBEAT_SECONDS by the worker importing a web upload, from a thread of
    # its own (it ticks inside one long file): a run whose heartbeat stopped is stalled.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # How many times a worker took the run: a run its workers died on too often is failed.
    attempts = models.PositiveSmallIntegerField(default=0)

    objects = ImportRunQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")

    def __str__(self) -> str:
        return f"#{self.pk} {self.group} {self.kind} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def is_stalled(self) -> bool:
        return (self.status == ImportStatus.RUNNING and self.heartbeat_at is not None
                and self.heartbeat_at < timezone.now() - dt.timedelta(seconds=settings.IMPORT_STALLED_SECONDS))


class ImportedFile(models.Model):
    """A transcript file imported into a group's day: its hash skips it when it comes again.

    One row per group, day and file (its SHA-256): a day may hold several files (each adds
    what it has new), and a file may hold several days (a row for each)."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="imported_files")
    day = models.DateField()
    sha256 = models.CharField(max_length=64)
    path = models.CharField(max_length=500)
    run = models.ForeignKey(ImportRun, on_delete=models.SET_NULL, null=True, related_name="imported_files")
    message_count = models.PositiveIntegerField(default=0)
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["group", "day"]
        verbose_name = _("imported file")
        verbose_name_plural = _("imported files")
        constraints = [models.UniqueConstraint(fields=["group", "day", "sha256"], name="imported_file_once_per_day")]

    def __str__(self) -> str:
        return f"{self.group} {self.day} {self.sha256[:12]}"


class UploadedFile(models.Model):
    """A file uploaded in the web UI, kept in the database until its run's task has imported it.

    In the database rather than on a disk: the worker that imports it may run on another
    machine than the web server that received it, and both share only the database. The
    bytes are deleted once the run has finished (an image's resized copy is a StoredImage)."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="uploads")
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=255)
    size = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        ordering = ["run", "position"]
        verbose_name = _("uploaded file")
        verbose_name_plural = _("uploaded files")
        constraints = [models.UniqueConstraint(fields=["run", "position"], name="uploaded_file_position_per_run")]

    def __str__(self) -> str:
        return self.name


class ExactJSONEncoder(DjangoJSONEncoder):
    """Django's encoder, but moments keep their microseconds (Django's cuts them to milliseconds):
    a row put back by undo must be the row as it was."""

    def default(self, o):
        if isinstance(o, dt.datetime | dt.time):
            return o.isoformat()
        return super().default(o)


class RunChangeAction(models.TextChoices):
    CREATED = "created", pgettext_lazy("what a run did to a row", "created")
    UPDATED = "updated", pgettext_lazy("what a run did to a row", "changed")
    DELETED = "deleted", pgettext_lazy("what a run did to a row", "removed")


class RunChange(models.Model):
    """A row an import run created, or changed or removed (kept as it was before): what undoing
    the run deletes or puts back (``importer.journal``).

    Rows the run created in bulk on the hot path (messages, names, members, shares, sign-ins)
    are found by their ``import_run`` column instead; this table holds everything else."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="changes")
    table = models.CharField(max_length=100, help_text=_("app_label.model_name"))
    row_id = models.BigIntegerField()
    action = models.CharField(max_length=7, choices=RunChangeAction.choices)
    # The row's fields as they were before the run (Django's serializer's form); empty for "created".
    before = models.JSONField(default=dict, blank=True, encoder=ExactJSONEncoder)

    class Meta:
        ordering = ["run", "id"]
        verbose_name = _("change made by an import run")
        verbose_name_plural = _("changes made by import runs")
        constraints = [
            # The first image of a row is the one undo restores: later changes by the same run keep it.
            models.UniqueConstraint(fields=["run", "table", "row_id"], name="run_change_one_per_row"),
        ]

    def __str__(self) -> str:
        return f"run {self.run_id}: {self.action} {self.table} #{self.row_id}"
