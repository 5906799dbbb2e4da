"""Factories without surprises: every default is visible here, every call makes what it says."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import zoneinfo
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.test import Client

from community.models import Group, Member, Membership, MembershipRole, MembershipStatus, Message, Visibility
from shares.models import Origin, Share, ShareStatus, SignIn, TopicSource

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
_seq = itertools.count(1)


def at(day: str, time: str = "19:30") -> dt.datetime:
    """An aware datetime in Shanghai time: ``at("2018-05-20", "19:30")``."""
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=SHANGHAI)


def make_group(**fields) -> Group:
    n = next(_seq)
    fields.setdefault("slug", f"group-{n}")
    fields.setdefault("name", f"支付交流群{n}")
    return Group.objects.create(**fields)


def make_user(username: str | None = None, *, staff: bool = False, password: str = "pw-for-tests-1"):
    username = username or f"user{next(_seq)}"
    return get_user_model().objects.create_user(username=username, password=password, is_staff=staff)


def make_member(display_name: str | None = None, *, user=None, **fields) -> Member:
    display_name = display_name or f"成员{next(_seq)}"
    return Member.objects.create(display_name=display_name, user=user, **fields)


def make_membership(group: Group, member: Member | None = None, *, role=MembershipRole.MEMBER, **fields) -> Membership:
    member = member or make_member()
    fields.setdefault("status", MembershipStatus.ACTIVE)
    fields.setdefault("nickname", member.display_name)
    return Membership.objects.create(group=group, member=member, role=role, **fields)


def make_message(group: Group, sender: Member | None, sent_at: dt.datetime, text: str = "你好", **fields) -> Message:
    name = fields.pop("sender_name", sender.display_name if sender else "未知")
    fields.setdefault("key", hashlib.sha1(f"{group.pk}|{sent_at.isoformat()}|{name}|{text}|{next(_seq)}".encode()).hexdigest())
    return Message.objects.create(group=group, sender=sender, sender_name=name, sent_at=sent_at, text=text, **fields)


def make_share(group: Group, speaker: Member, *, topic: str = "支付清结算", status=ShareStatus.DELIVERED,
               start: dt.datetime | None = None, visibility=Visibility.MEMBERS, **fields) -> Share:
    start = start or at("2018-05-20")
    fields.setdefault("origin", Origin.IMPORT if status == ShareStatus.DELIVERED else Origin.WEB)
    # An imported talk's topic came from its announcement (the importer's usual case).
    fields.setdefault("topic_source", TopicSource.ANNOUNCEMENT if fields["origin"] == Origin.IMPORT else TopicSource.SPEAKER)
    if status == ShareStatus.DELIVERED:
        fields.setdefault("started_at", start)
        fields.setdefault("ended_at", start + dt.timedelta(hours=1))
    return Share.objects.create(
        group=group, speaker=speaker, topic=topic, status=status, visibility=visibility,
        day=start.astimezone(group.tz).date(), scheduled_for=start, **fields,
    )


def make_sign_in(share: Share, member: Member, **fields) -> SignIn:
    fields.setdefault("signed_at", share.scheduled_for)
    return SignIn.objects.create(share=share, member=member, **fields)


def make_person(group: Group, nickname: str, *, role=MembershipRole.MEMBER, **fields) -> SimpleNamespace:
    """A person with a login who is a member of ``group``: ``.user``, ``.member``, ``.membership``."""
    user = make_user()
    member = make_member(nickname, user=user)
    membership = make_membership(group, member, role=role, **fields)
    return SimpleNamespace(user=user, member=member, membership=membership)


# The seven roles of ``make_cast``, for permission matrices: logged out, a member, a member of the
# other group, the speaker, the group's owner, the other group's admin, site staff.
ROLES = ["anonymous", "member", "outsider", "speaker", "admin", "other_admin", "staff"]


def make_cast() -> SimpleNamespace:
    """Everyone a permission test needs: a group's speaker, member and owner, a member and an
    admin of another group, and a staff user (``.staff.user``); plus both groups."""
    group = make_group(slug="prodarch", name="支付产品群")
    other_group = make_group(slug="devarch", name="支付开发群")
    return SimpleNamespace(
        group=group,
        other_group=other_group,
        speaker=make_person(group, "李东衡-关天数据-产品-上海"),
        member=make_person(group, "王芳-云汇支付-架构"),
        admin=make_person(group, "周明远-群主", role=MembershipRole.OWNER),
        outsider=make_person(other_group, "孙七-别的群"),
        other_admin=make_person(other_group, "赵六-别的群主", role=MembershipRole.ADMIN),
        staff=SimpleNamespace(user=make_user(staff=True)),
    )


def client_for(cast, role: str, **options) -> Client:
    """A test client logged in as ``role`` of a cast (``make_cast`` or a test's own world: any
    object whose attributes have a ``.user``); ``"anonymous"`` stays logged out. ``options``
    go to ``Client`` (e.g. ``enforce_csrf_checks=True``)."""
    client = Client(**options)
    if role != "anonymous":
        client.force_login(getattr(cast, role).user)
    return client
