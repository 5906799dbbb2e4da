"""Groups, members, their names, memberships and the messages of the groups' record.

Nothing here imports ``shares`` or ``importer``: the facts the group rules need about
shares (given, next scheduled) are kept on ``Membership`` by the services that change them.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value}) from None


class Visibility(models.TextChoices):
    PUBLIC = "public", _("public")
    MEMBERS = "members", _("members only")
    HIDDEN = "hidden", _("hidden")


DEFAULT_ANNOUNCEMENT = (
    "今天请到一位朋友，@{speaker} 给大家做分享，主题是 “{topic}” 开始时间为【{start}】；欢迎欢迎[鼓掌][鼓掌][鼓掌]！"
    "（注： 1.嘉宾分享期间其他人不要发言打断嘉宾分享。2.分享完成后请大家积极补充和提问；3.烦请领取红包签到，谢谢！)"
)


class Group(models.Model):
    """A WeChat group, with its rhythm and its rule parameters (every default editable)."""

    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    capacity = models.PositiveIntegerField(_("capacity"), default=500)
    share_time = models.TimeField(_("usual share time"), default=dt.time(19, 30))
    sign_in_lead_minutes = models.PositiveIntegerField(_("sign-in lead time (minutes)"), default=15)
    imported_share_visibility = models.CharField(
        _("visibility of imported talks"), max_length=10, choices=Visibility.choices, default=Visibility.MEMBERS
    )
    # Rule parameters (GROUP_RULES.md).
    silence_days = models.PositiveIntegerField(
        _("days of silence before flagging"), default=60, validators=[MinValueValidator(1)]
    )
    never_shared_grace_days = models.PositiveIntegerField(_("days after joining before 'never shared' counts"), default=60)
    hosting_counts_as_sharing = models.BooleanField(
        _("hosting counts as sharing"), default=True,
        help_text=_("A member who hosted a talk since joining (announced it or called the sign-ins) is not "
                    "flagged as never having shared."),
    )
    nickname_form = models.CharField(_("nickname form"), max_length=100, default="姓名-公司-岗位[-地区]")
    nickname_reminders = models.PositiveIntegerField(_("reminders before removal"), default=2)
    nickname_grace_days = models.PositiveIntegerField(_("grace days after the last reminder"), default=7)
    announcement_template = models.TextField(
        _("announcement template"), default=DEFAULT_ANNOUNCEMENT,
        help_text=_("Placeholders: {speaker} (group nickname), {topic}, {start} (HH:MM), {date} (YYYY-MM-DD)."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("group")
        verbose_name_plural = _("groups")

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def local_day(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.tz).date()


class Member(models.Model):
    """One person, across groups and names. May be linked to a login account."""

    display_name = models.CharField(_("display name"), max_length=200)
    name = models.CharField(_("name"), max_length=100, blank=True)
    company = models.CharField(_("company"), max_length=100, blank=True)
    position = models.CharField(_("position"), max_length=100, blank=True)
    city = models.CharField(_("city"), max_length=50, blank=True)
    wechat_id = models.CharField(_("WeChat id"), max_length=100, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("login"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="member",
    )
    # The import run that created this row (a plain id: community never imports importer).
    import_run = models.BigIntegerField(null=True, blank=True, db_index=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["display_name", "id"]
        verbose_name = _("member")
        verbose_name_plural = _("members")
        constraints = [
            models.UniqueConstraint(
                fields=["wechat_id"], condition=~Q(wechat_id=""), name="member_unique_wechat_id"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name


class MembershipRole(models.TextChoices):
    OWNER = "owner", _("owner")
    ADMIN = "admin", _("admin")
    MEMBER = "member", _("member")


class MembershipStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    PENDING = "pending", _("pending")
    REMOVED = "removed", _("removed")
    LEFT = "left", _("left")


class MembershipQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=MembershipStatus.ACTIVE)

    def admins(self):
        return self.filter(role__in=[MembershipRole.OWNER, MembershipRole.ADMIN])


class Membership(models.Model):
    """A member in a group, with the facts the group rules read.

    ``last_message_at``, ``message_count``, ``shares_given``, ``next_share_at``,
    ``sign_in_count``, ``talks_hosted`` and ``last_hosted_on`` are kept current by the
    services that change messages, shares and sign-ins, so that the rules never need to look
    outside ``community``.
    """

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="memberships")
    nickname = models.CharField(_("group nickname"), max_length=200, blank=True)
    role = models.CharField(_("role"), max_length=10, choices=MembershipRole.choices, default=MembershipRole.MEMBER)
    status = models.CharField(
        _("status"), max_length=10, choices=MembershipStatus.choices, default=MembershipStatus.ACTIVE
    )
    joined_at = models.DateTimeField(_("joined"), null=True, blank=True)
    left_at = models.DateTimeField(_("left"), null=True, blank=True)
    exempt_until = models.DateField(_("exempt until"), null=True, blank=True)
    exempt_reason = models.CharField(_("exemption reason"), max_length=200, blank=True)
    last_message_at = models.DateTimeField(_("last message"), null=True, blank=True)
    message_count = models.PositiveIntegerField(_("messages"), default=0)
    shares_given = models.PositiveIntegerField(_("shares given"), default=0)
    next_share_at = models.DateTimeField(_("next scheduled share"), null=True, blank=True)
    sign_in_count = models.PositiveIntegerField(_("sign-ins"), default=0)
    # Hosting (announcing talks, calling sign-ins): the group's shares this member hosted.
    talks_hosted = models.PositiveIntegerField(_("talks hosted"), default=0)
    last_hosted_on = models.DateField(_("last hosted"), null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["group", "nickname", "id"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["group", "member"], name="membership_unique_member_per_group"),
            models.CheckConstraint(
                condition=Q(exempt_until__isnull=True) | ~Q(exempt_reason=""),
                name="membership_exemption_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["group", "status"])]

    def __str__(self) -> str:
        return f"{self.member} @ {self.group}"

    @property
    def is_admin(self) -> bool:
        return self.role in (MembershipRole.OWNER, MembershipRole.ADMIN)


class MembershipPeriod(models.Model):
    """One stretch of membership: people leave and rejoin."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="periods")
    joined_at = models.DateTimeField(_("joined"))
    left_at = models.DateTimeField(_("left"), null=True, blank=True)
    left_reason = models.CharField(
        _("how it ended"), max_length=10, blank=True,
        choices=[(MembershipStatus.REMOVED, _("removed")), (MembershipStatus.LEFT, _("left"))],
    )

    class Meta:
        ordering = ["membership", "joined_at"]
        verbose_name = _("membership period")
        verbose_name_plural = _("membership periods")
        constraints = [
            models.CheckConstraint(
                condition=Q(left_at__isnull=True) | Q(left_at__gte=models.F("joined_at")),
                name="period_ends_after_it_starts",
            ),
            # At most one open period per membership.
            models.UniqueConstraint(
                fields=["membership"], condition=Q(left_at__isnull=True), name="period_one_open_per_membership"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.membership}: {self.joined_at:%Y-%m-%d} – {self.left_at:%Y-%m-%d}" if self.left_at else f"{self.membership}: {self.joined_at:%Y-%m-%d} –"


class NameSource(models.TextChoices):
    HEADER = "header", _("message header")
    MENTION = "mention", _("mention")
    QUOTE = "quote", _("quote")
    ROSTER = "roster", _("roster")
    MERGED_EXPORT = "merged_export", _("merged export")
    ANNOUNCEMENT = "announcement", _("announcement of a talk")
    MANUAL = "manual", _("manual")


class Name(models.Model):
    """A name a member was seen under, where, and when (first and last)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="names")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="names", null=True, blank=True)
    name = models.CharField(_("name"), max_length=200)
    normalized = models.CharField(_("normalized"), max_length=200, db_index=True)
    source = models.CharField(_("seen in"), max_length=16, choices=NameSource.choices)
    first_seen = models.DateTimeField(_("first seen"), null=True, blank=True)
    last_seen = models.DateTimeField(_("last seen"), null=True, blank=True)
    times_seen = models.PositiveIntegerField(_("times seen"), default=0)
    # The import run that created this row (a plain id: community never imports importer).
    import_run = models.BigIntegerField(null=True, blank=True, db_index=True, editable=False)

    class Meta:
        ordering = ["member", "first_seen", "id"]
        verbose_name = _("name")
        verbose_name_plural = _("names")
        constraints = [
            models.UniqueConstraint(
                fields=["member", "group", "normalized", "source"], name="name_unique_per_member_group_source"
            ),
        ]
        indexes = [models.Index(fields=["group", "normalized"])]

    def __str__(self) -> str:
        return self.name


class MessageKind(models.TextChoices):
    TEXT = "text", _("text")
    IMAGE = "image", _("image")
    LINK = "link", _("link")
    FILE = "file", _("file")
    STICKER = "sticker", _("sticker")
    EMPTY = "empty", _("empty")


class Message(models.Model):
    """One message of a group's record.

    ``key`` makes re-import idempotent: it hashes the group, the moment, the sender's
    name, the content and the message's ordinal among identical messages of the same
    file, so two real messages that share a second, a sender and a text stay two.
    """

    # The composite indexes below lead with group and sender: no single-column index on either
    # (every index costs the import, the hot path, on each of millions of rows).
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="messages", db_index=False)
    sender = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages", db_index=False
    )
    sender_name = models.CharField(_("sender name"), max_length=200)
    sent_at = models.DateTimeField(_("sent"))
    kind = models.CharField(_("kind"), max_length=10, choices=MessageKind.choices, default=MessageKind.TEXT)
    text = models.TextField(_("text"), blank=True)
    url = models.TextField(_("URL"), blank=True)
    source_day = models.DateField(_("day of the record"), null=True, blank=True)
    source_file = models.CharField(_("source file"), max_length=255, blank=True)
    source_line = models.PositiveIntegerField(_("source line"), null=True, blank=True)
    key = models.CharField(_("import key"), max_length=40)
    # The import run that created this row (a plain id: community never imports importer).
    # Not indexed: only undoing a run reads it.
    import_run = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["sent_at", "id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(fields=["group", "key"], name="message_unique_key_per_group"),
        ]
        indexes = [
            models.Index(fields=["group", "sent_at"]),
            models.Index(fields=["sender", "sent_at"]),
            models.Index(fields=["group", "source_day"]),
        ]

    def __str__(self) -> str:
        return f"{self.sent_at:%Y-%m-%d %H:%M:%S} {self.sender_name}: {self.text[:40]}"


class RecordedDay(models.Model):
    """A day of a group's record that is known (imported): the rules treat other days as gaps."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="recorded_days")
    day = models.DateField(_("day"))
    message_count = models.PositiveIntegerField(_("messages"), default=0)

    class Meta:
        ordering = ["group", "day"]
        verbose_name = _("recorded day")
        verbose_name_plural = _("recorded days")
        constraints = [models.UniqueConstraint(fields=["group", "day"], name="recorded_day_unique")]

    def __str__(self) -> str:
        return f"{self.group} {self.day}"


class NameLinkStatus(models.TextChoices):
    SUGGESTED = "suggested", _("suggested")
    CONFIRMED = "confirmed", _("confirmed")
    REJECTED = "rejected", _("rejected")


class NameLink(models.Model):
    """A possible link between two members, too weak to merge automatically."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="name_links", null=True, blank=True)
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    evidence = models.JSONField(_("evidence"), default=dict)
    status = models.CharField(
        _("status"), max_length=10, choices=NameLinkStatus.choices, default=NameLinkStatus.SUGGESTED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("suggested name link")
        verbose_name_plural = _("suggested name links")
        constraints = [
            models.UniqueConstraint(fields=["member", "other"], name="name_link_unique_pair"),
            models.CheckConstraint(condition=~Q(member=models.F("other")), name="name_link_two_members"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} ~ {self.other_id} ({self.status})"


class MemberMerge(models.Model):
    """The record of a merge (or split) of members, with its evidence: who, when, why."""

    class Action(models.TextChoices):
        MERGE = "merge", _("merge")
        SPLIT = "split", _("split")

    action = models.CharField(max_length=5, choices=Action.choices, default=Action.MERGE)
    into = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="merges")
    merged_name = models.CharField(_("merged member's name"), max_length=200)
    merged_member_id = models.BigIntegerField(null=True, blank=True)
    evidence = models.JSONField(_("evidence"), default=dict)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    automatic = models.BooleanField(default=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("member merge")
        verbose_name_plural = _("member merges")

    def __str__(self) -> str:
        return f"{self.merged_name} → {self.into_id}"


class Invitation(models.Model):
    """A one-time link that gives a member a login: the person sets a password and is linked."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="invitations")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="invitations", null=True, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, help_text=_("SHA-256 of the token; the token itself is never stored"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"{self.member} ({'used' if self.used_at else 'open'})"


# --- Group rules: flags for reminder or removal, reminders sent, the waiting list, the audit log ---


class FlagRule(models.TextChoices):
    SILENT = "silent", _("silent")
    NEVER_SHARED = "never_shared", _("never shared")
    NICKNAME = "nickname", _("nickname")


class FlagStatus(models.TextChoices):
    REMINDER_DUE = "reminder_due", _("reminder due")
    OPEN = "open", _("open")
    APPROVED = "approved", _("approved")
    DISMISSED = "dismissed", _("dismissed")
    EXEMPTED = "exempted", _("exempted")
    RESOLVED = "resolved", _("resolved")


# A flag in one of these is still waiting for the member or for an admin.
ACTIVE_FLAG_STATUSES = (FlagStatus.REMINDER_DUE, FlagStatus.OPEN)
# An admin decided: the flag stays as it is until the decision is reversed.
DECIDED_FLAG_STATUSES = (FlagStatus.APPROVED, FlagStatus.DISMISSED, FlagStatus.EXEMPTED)


class FlagQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status__in=ACTIVE_FLAG_STATUSES)


class Flag(models.Model):
    """A membership that a group rule says should be reminded or removed, with the evidence.

    ``evidence_key`` names the evidence (the last message day, the joining day, the nickname):
    a flag an admin dismissed is not raised again for the same evidence."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="flags")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="flags")
    rule = models.CharField(_("rule"), max_length=12, choices=FlagRule.choices)
    status = models.CharField(_("status"), max_length=12, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    evidence = models.JSONField(_("evidence"), default=dict)
    evidence_key = models.CharField(_("evidence key"), max_length=200)
    as_of = models.DateField(_("as of"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    objects = FlagQuerySet.as_manager()

    class Meta:
        ordering = ["group", "rule", "-created_at", "id"]
        verbose_name = _("flag")
        verbose_name_plural = _("flags")
        constraints = [
            # One live flag per membership and rule: concurrent evaluations cannot add a second.
            models.UniqueConstraint(
                fields=["membership", "rule"], condition=Q(status__in=["reminder_due", "open"]),
                name="flag_one_active_per_rule",
            ),
        ]
        indexes = [models.Index(fields=["group", "status"])]

    def __str__(self) -> str:
        return f"{self.membership} {self.rule} ({self.status})"


class RuleEvaluation(models.Model):
    """The last evaluation of a group's rules: as of which day, what it did, and the gaps that
    kept silence from being judged (shown to the admins beside the flags)."""

    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="rule_evaluation")
    as_of = models.DateField(_("as of"))
    ran_at = models.DateTimeField(_("ran"), default=timezone.now)
    counts = models.JSONField(_("counts"), default=dict)
    gaps = models.JSONField(_("gaps"), default=dict, help_text=_("members not judged for silence, and the days missing"))

    class Meta:
        verbose_name = _("rule evaluation")
        verbose_name_plural = _("rule evaluations")

    def __str__(self) -> str:
        return f"{self.group} as of {self.as_of}"


class NicknameReminder(models.Model):
    """A reminder to fix the nickname, sent in WeChat and recorded here by an admin."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="nickname_reminders")
    nickname = models.CharField(_("nickname reminded"), max_length=200)
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        ordering = ["membership", "sent_at"]
        verbose_name = _("nickname reminder")
        verbose_name_plural = _("nickname reminders")
        indexes = [models.Index(fields=["membership", "nickname"])]

    def __str__(self) -> str:
        return f"{self.membership} {self.sent_at:%Y-%m-%d}"


class ApplicationStatus(models.TextChoices):
    WAITING = "waiting", _("waiting")
    ACCEPTED = "accepted", _("accepted")
    DECLINED = "declined", _("declined")


class Application(models.Model):
    """Someone waiting for a seat in a full group, with the share they would give."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="applications")
    name = models.CharField(_("name"), max_length=100)
    company = models.CharField(_("company"), max_length=100)
    position = models.CharField(_("role"), max_length=100)
    city = models.CharField(_("city"), max_length=50, blank=True)
    wechat_id = models.CharField(_("WeChat id"), max_length=100)
    share_topic = models.CharField(_("the share you would give"), max_length=300)
    share_abstract = models.TextField(_("what it would cover"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ApplicationStatus.choices, default=ApplicationStatus.WAITING
    )
    created_at = models.DateTimeField(_("applied"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    member = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="applications")

    class Meta:
        ordering = ["group", "created_at", "id"]
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        constraints = [
            # One waiting application per WeChat id per group.
            models.UniqueConstraint(
                fields=["group", "wechat_id"], condition=Q(status="waiting"), name="application_one_waiting",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}-{self.company} → {self.group}"


class AuditEntry(models.Model):
    """Every decision and rule change: who, when, what, why."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="audit_entries", null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    action = models.CharField(_("action"), max_length=40)
    target = models.CharField(_("about"), max_length=300, blank=True)
    flag = models.ForeignKey(Flag, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_entries")
    details = models.JSONField(_("details"), default=dict, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [models.Index(fields=["group", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target}"


class StoredImage(models.Model):
    """The app's own copy of an image a message showed (the record keeps only its original
    link): pages show this copy, never the original from elsewhere."""

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="stored_image")
    file = models.FileField(_("file"), upload_to="images/%Y/%m/")
    content_type = models.CharField(_("content type"), max_length=50, default="image/png")
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        verbose_name = _("stored image")
        verbose_name_plural = _("stored images")

    def __str__(self) -> str:
        return self.file.name
