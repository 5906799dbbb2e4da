"""Shares (分享): the schedule, the talks they become, sign-ins, and their history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from community.models import Group, Member, Message, Visibility


class ShareStatus(models.TextChoices):
    PROPOSED = "proposed", _("proposed")
    SCHEDULED = "scheduled", _("scheduled")
    DELIVERED = "delivered", _("delivered")
    # Announced in the group's record but not given there that day (postponed, given in another
    # group that evening, or the transcript is cut): a share of that day, without a talk.
    ANNOUNCED = "announced", _("announced, not given")
    CANCELLED = "cancelled", _("cancelled")


class Origin(models.TextChoices):
    WEB = "web", _("web")
    IMPORT = "import", _("import")


class TopicSource(models.TextChoices):
    """Where a share's topic came from: the importer's (``importer.detection.TOPIC_SOURCES``),
    the speaker's own words (a share registered on the site, or edited by its speaker), or an
    admin's (an admin edited it). Admins check those the importer guessed."""

    ANNOUNCEMENT = "announcement", _("the host's announcement")
    OPENING = "opening", _("the speaker's opening")
    HOST = "host", _("the host's words")
    NONE = "none", _("none found")
    SPEAKER = "speaker", _("the speaker")
    ADMIN = "admin", _("an admin")


# What the talk and share pages tell a group's admin about where the topic came from: the
# importer's guesses (the speaker's opening, the host's words, none found) say to check it.
TOPIC_SOURCE_NOTES = {
    TopicSource.ANNOUNCEMENT: _("Topic from the host's announcement."),
    TopicSource.OPENING: _("Topic from the speaker's opening — check it."),
    TopicSource.HOST: _("Topic from the host's words — check it."),
    TopicSource.NONE: _("No topic was found in the record — write one."),
    TopicSource.SPEAKER: _("Topic given by the speaker."),
    TopicSource.ADMIN: _("Topic set by an admin."),
}
TOPIC_SOURCES_TO_CHECK = (TopicSource.OPENING, TopicSource.HOST, TopicSource.NONE)


class ShareQuerySet(models.QuerySet):
    def delivered(self):
        return self.filter(status=ShareStatus.DELIVERED)

    def upcoming(self, now=None):
        return self.filter(status=ShareStatus.SCHEDULED, scheduled_for__gte=now or timezone.now())


class Share(models.Model):
    """A share: registered, scheduled, delivered (then it has a talk), announced but not given, or cancelled."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="shares")
    speaker = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="shares")
    topic = models.CharField(_("topic"), max_length=300)
    topic_source = models.CharField(
        _("topic from"), max_length=12, choices=TopicSource.choices, default=TopicSource.SPEAKER
    )
    abstract = models.TextField(_("abstract (Markdown)"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ShareStatus.choices, default=ShareStatus.PROPOSED)
    day = models.DateField(_("day"), null=True, blank=True, help_text=_("in the group's time zone"))
    scheduled_for = models.DateTimeField(_("scheduled start"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.MEMBERS
    )
    # The visibility a group admin last chose for this share (empty: no admin has chosen one;
    # an imported talk's first visibility is the group's setting, not an admin's choice). The
    # speaker may choose it or a more private one, never a more public one.
    admin_visibility = models.CharField(
        _("visibility chosen by an admin"), max_length=10, choices=Visibility.choices, blank=True, default=""
    )
    origin = models.CharField(_("origin"), max_length=10, choices=Origin.choices, default=Origin.WEB)
    overlap_reason = models.CharField(
        _("reason for a second share that evening"), max_length=200, blank=True
    )
    sign_in_closed_at = models.DateTimeField(_("sign-in closed"), null=True, blank=True)
    # Fields an admin changed by hand; re-import never overwrites them.
    edited_fields = models.JSONField(_("fields edited by hand"), default=list, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    sign_in_count = models.PositiveIntegerField(_("sign-ins"), default=0)
    # Who hosted it in the record: announced it, called the sign-ins or invited the speaker.
    host = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="hosted_shares", verbose_name=_("host")
    )
    # An announced share given in another group that evening: that group's delivered share.
    given_in = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="announced_elsewhere",
        verbose_name=_("given in"),
    )
    # The import run that created this row (a plain id: shares never imports importer).
    import_run = models.BigIntegerField(null=True, blank=True, db_index=True, editable=False)

    objects = ShareQuerySet.as_manager()

    class Meta:
        ordering = ["-day", "-scheduled_for", "-id"]
        verbose_name = _("share")
        verbose_name_plural = _("shares")
        constraints = [
            # One share per group per evening, unless an admin gave a reason.
            models.UniqueConstraint(
                fields=["group", "day"],
                condition=Q(status__in=["scheduled", "delivered"], overlap_reason="", origin="web"),
                name="share_one_per_group_evening",
            ),
            models.CheckConstraint(
                condition=~Q(status="scheduled") | Q(scheduled_for__isnull=False),
                name="share_scheduled_has_start",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(started_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="share_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["group", "status", "day"]),
            models.Index(fields=["speaker", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.day or '—'} {self.topic}"

    @property
    def topic_source_note(self) -> str:
        return TOPIC_SOURCE_NOTES.get(self.topic_source, "")

    @property
    def topic_to_check(self) -> bool:
        return self.topic_source in TOPIC_SOURCES_TO_CHECK


class SharePreferredDate(models.Model):
    share = models.ForeignKey(Share, on_delete=models.CASCADE, related_name="preferred_dates")
    day = models.DateField(_("preferred day"))

    class Meta:
        ordering = ["day"]
        constraints = [models.UniqueConstraint(fields=["share", "day"], name="preferred_date_unique")]

    def __str__(self) -> str:
        return f"{self.share_id}: {self.day}"


class TalkPart(models.TextChoices):
    TALK = "talk", _("talk")
    INTERRUPTION = "interruption", _("interruption")
    QA = "qa", _("Q&A")


class TalkMessage(models.Model):
    """Which messages of the record are a share's talk, its interruptions and its Q&A."""

    share = models.ForeignKey(Share, on_delete=models.CASCADE, related_name="talk_messages")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="talk_parts")
    part = models.CharField(max_length=12, choices=TalkPart.choices)

    class Meta:
        verbose_name = _("talk message")
        verbose_name_plural = _("talk messages")
        constraints = [models.UniqueConstraint(fields=["share", "message"], name="talk_message_unique")]

    def __str__(self) -> str:
        return f"{self.share_id} {self.part} {self.message_id}"


class SignIn(models.Model):
    """A member's sign-in (签到) for a share: one per member per share."""

    share = models.ForeignKey(Share, on_delete=models.CASCADE, related_name="sign_ins")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="sign_ins")
    signed_at = models.DateTimeField(_("signed in"), default=timezone.now)
    origin = models.CharField(_("origin"), max_length=10, choices=Origin.choices, default=Origin.WEB)
    message = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # The import run that created this row (a plain id: shares never imports importer).
    import_run = models.BigIntegerField(null=True, blank=True, db_index=True, editable=False)

    class Meta:
        ordering = ["signed_at", "id"]
        verbose_name = _("sign-in")
        verbose_name_plural = _("sign-ins")
        constraints = [models.UniqueConstraint(fields=["share", "member"], name="sign_in_one_per_member")]

    def __str__(self) -> str:
        return f"{self.member_id} @ {self.share_id}"


class ShareRevision(models.Model):
    """Every change to a share: who, when, what (a full snapshot, so any version can be restored)."""

    share = models.ForeignKey(Share, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=30)
    note = models.CharField(max_length=300, blank=True)
    snapshot = models.JSONField()

    class Meta:
        ordering = ["share", "-version"]
        verbose_name = _("share revision")
        verbose_name_plural = _("share revisions")
        constraints = [models.UniqueConstraint(fields=["share", "version"], name="share_revision_unique")]

    def __str__(self) -> str:
        return f"{self.share_id} v{self.version} {self.action}"


class SchedulePage(models.Model):
    """A group's schedule page (Markdown): how to register, what makes a good talk."""

    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="schedule_page")
    body = models.TextField(_("body (Markdown)"), blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("schedule page")
        verbose_name_plural = _("schedule pages")

    def __str__(self) -> str:
        return str(self.group)


class SchedulePageRevision(models.Model):
    page = models.ForeignKey(SchedulePage, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    body = models.TextField(blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["page", "-version"]
        constraints = [models.UniqueConstraint(fields=["page", "version"], name="schedule_page_revision_unique")]

    def __str__(self) -> str:
        return f"{self.page} v{self.version}"


# --- The talk search's index (``shares.search``) ---


class IndexTermField(models.CharField):
    """Text compared code point by code point on every database (SQLite's default; the "C"
    collation on PostgreSQL), so that "every term starting with w" is the range
    ``[w, prefix_end(w))`` and one B-tree index serves it, whatever the database's locale."""

    def db_parameters(self, connection):
        parameters = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            parameters["collation"] = "C"
        return parameters


class TalkIndex(models.Model):
    """Which state of a delivered share its search terms were built from.

    The share is stale (to be indexed again) when this row is missing, when ``version`` is
    not the share's version (any edit bumps it), or when its talk messages are no longer
    the ``message_count`` messages whose ids add up to ``message_id_sum`` (a re-import that
    replaced them)."""

    share = models.OneToOneField(Share, on_delete=models.CASCADE, primary_key=True, related_name="talk_index")
    version = models.PositiveIntegerField(_("indexed version"))
    message_count = models.PositiveIntegerField(_("talk messages indexed"), default=0)
    message_id_sum = models.BigIntegerField(default=0, editable=False)
    term_count = models.PositiveIntegerField(_("terms"), default=0)
    indexed_at = models.DateTimeField(_("indexed"), default=timezone.now)

    class Meta:
        verbose_name = _("talk search index")
        verbose_name_plural = _("talk search index")

    def __str__(self) -> str:
        return f"{self.share_id} v{self.version}"


class TermWeight(models.IntegerChoices):
    """Where a term was found (the best place): a topic hit ranks above an abstract hit above the text."""

    TEXT = 1, _("talk text")
    ABSTRACT = 2, _("abstract")
    TOPIC = 3, _("topic")


class TalkIndexTerm(models.Model):
    """A term of a delivered share's topic, abstract or talk (talk, interruptions and Q&A)."""

    share = models.ForeignKey(Share, on_delete=models.CASCADE, related_name="index_terms", db_index=False)
    term = IndexTermField(_("term"), max_length=64)
    weight = models.PositiveSmallIntegerField(_("found in"), choices=TermWeight.choices)

    class Meta:
        verbose_name = _("talk search term")
        verbose_name_plural = _("talk search terms")
        constraints = [
            # Also the index a share's own terms are read and ranked by.
            models.UniqueConstraint(fields=["share", "term"], name="talk_index_term_unique"),
        ]
        # Finding the shares that have a term (or a prefix of one): a range on term.
        indexes = [models.Index(fields=["term", "share"], name="talk_index_term_share")]

    def __str__(self) -> str:
        return f"{self.share_id}: {self.term}"
