"""An admin's power stops at their group, in the importer (issue 11, point 1, case b).

An upload acts for its uploader: identity evidence in it (the same nickname in another group, a
mention, a quote, a merged-export pair, a roster's WeChat id) that points at a member out of the
uploader's reach (``community.permissions.members_out_of_reach``) links nothing and merges
nothing: the name gets a member of its own, and the pair is kept as a suggestion. Staff and
operators on the command line are not limited: the same files link as before.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from community.models import Member, MemberMerge, Membership, Message, Name, NameLink, NameSource
from community.names import normalize_name
from community.services import OUT_OF_REACH
from importer.models import ImportRun, ImportStatus
from importer.runs import import_run_execute
from importer.services import Source, roster_import
from importer.uploads import import_upload_create
from tests.factories import at, make_group, make_member, make_membership, make_message, make_person, make_user
from tests.importer.test_services import run, transcript

pytestmark = pytest.mark.django_db

B_OWNER = "乙群主-某钱包-总监"
B_ADMIN = "乙管理-某银行-产品-上海"


def name(member, group, text, source=NameSource.HEADER):
    return Name.objects.create(member=member, group=group, name=text, normalized=normalize_name(text), source=source,
                               times_seen=1, first_seen=at("2024-01-01", "10:00"))


@pytest.fixture
def world():
    """Group A with its owner (the uploader); group B with its owner (a login) and an admin
    (no login, a WeChat id known from B's roster), each known in B under a well-formed
    nickname and with a message there; someone who runs both groups."""
    a = make_group(slug="a-group", name="甲群")
    b = make_group(slug="b-group", name="乙群")
    a_admin = make_person(a, "甲群主-某支付-产品", role="owner")
    both_admin = make_person(a, "两群管理员-某支付-运营", role="admin")
    make_membership(b, both_admin.member, role="admin")
    b_owner = make_person(b, B_OWNER, role="owner")
    b_admin = make_member(B_ADMIN, wechat_id="wxid_b_admin")
    make_membership(b, b_admin, role="admin")
    for member, text in ((b_owner.member, B_OWNER), (b_admin, B_ADMIN)):
        name(member, b, text)
        make_message(b, member, at("2024-01-01", "10:00"), f"{text} 在乙群说话", sender_name=text)
    return SimpleNamespace(a=a, b=b, a_admin=a_admin, both_admin=both_admin, b_owner=b_owner.member, b_admin=b_admin,
                           staff=SimpleNamespace(user=make_user(staff=True)))


def of_b(world):
    """Everything about B's owner and admin: the member rows, their names, memberships and messages."""
    ids = [world.b_owner.pk, world.b_admin.pk]
    return (
        sorted(Member.objects.filter(pk__in=ids).values_list("id", "display_name", "name", "company", "position",
                                                             "city", "wechat_id", "user_id")),
        sorted(Name.objects.filter(member_id__in=ids).values_list("id", "member_id", "group_id", "name", "source",
                                                                  "times_seen", "first_seen", "last_seen")),
        sorted(Membership.objects.filter(member_id__in=ids).values_list("id", "member_id", "group_id", "role", "status",
                                                                        "nickname", "joined_at", "message_count")),
        sorted(Message.objects.filter(sender_id__in=ids).values_list("id", "group_id", "sender_id")),
        MemberMerge.objects.filter(into_id__in=ids).count(),
    )


def attack_day() -> bytes:
    """A day of A naming B's people every way the importer reads: headers, a mention, a quote."""
    return transcript("2024-03-04", [
        ("10:00:00", B_OWNER, "我是乙群群主"),
        ("10:01:00", "甲群主-某支付-产品", f"@{B_ADMIN} 你好"),
        ("10:02:00", "甲群主-某支付-产品", f"「{B_OWNER}：我是乙群群主」 - - - - - - - - - - - - - - - 欢迎"),
        ("10:03:00", B_ADMIN, "我是乙群管理员"),
    ])


ROSTER = f"UserName,NickName,DisplayName\nwxid_b_admin,乙管理,{B_ADMIN}\n".encode()


def upload(world, actor, kind, files, capture) -> ImportRun:
    # Transcripts imported at once, without a preview to confirm: the uploader's reach is the same in both.
    options = {"confirmed": True} if kind == "transcripts" else None
    with capture(execute=True):
        queued = import_upload_create(group=world.a, user=getattr(world, actor).user, kind=kind, files=files,
                                      options=options)
    return ImportRun.objects.get(pk=queued.pk)


def test_an_upload_in_a_never_changes_a_member_of_b(world, django_capture_on_commit_callbacks):
    before = of_b(world)

    transcripts = upload(world, "a_admin", "transcripts", [("2024-03-04.md", attack_day())],
                         django_capture_on_commit_callbacks)
    roster = upload(world, "a_admin", "roster", [("roster.csv", ROSTER)], django_capture_on_commit_callbacks)

    assert (transcripts.status, roster.status) == (ImportStatus.SUCCEEDED, ImportStatus.SUCCEEDED)
    assert of_b(world) == before
    # Each of B's nicknames is a member of its own in A, active there, kept apart as a suggestion.
    in_a = {m.member.display_name: m for m in Membership.objects.filter(group=world.a).select_related("member")}
    owner_in_a, admin_in_a = in_a[B_OWNER].member, in_a[B_ADMIN].member
    assert {owner_in_a.pk, admin_in_a.pk}.isdisjoint({world.b_owner.pk, world.b_admin.pk})
    assert (in_a[B_OWNER].status, in_a[B_ADMIN].status, admin_in_a.wechat_id, owner_in_a.user_id) == (
        "active", "active", "", None)
    assert list(Message.objects.filter(group=world.a, sender_name=B_OWNER).values_list("sender_id", flat=True)) == [
        owner_in_a.pk]
    links = {(frozenset((link.member_id, link.other_id)), link.group_id, link.status, link.evidence["rule"],
              link.evidence["why_not_merged"]) for link in NameLink.objects.all()}
    assert links == {
        (frozenset((owner_in_a.pk, world.b_owner.pk)), world.a.pk, "suggested",
         "the same well-formed nickname in another group", OUT_OF_REACH),
        (frozenset((admin_in_a.pk, world.b_admin.pk)), world.a.pk, "suggested",
         "the same well-formed nickname in another group", OUT_OF_REACH),
    }


def test_a_roster_wechat_id_of_a_member_out_of_reach_matches_nobody(world):
    before = of_b(world)
    roster = "UserName,NickName,DisplayName\nwxid_b_admin,乙管理,乙管理-别名\n".encode()

    result = roster_import(group_slug="a-group", source=Source.from_bytes("roster.csv", roster), user=world.a_admin.user)

    assert result.ok and of_b(world) == before
    [row] = Membership.objects.filter(group=world.a, nickname="乙管理-别名").select_related("member")
    assert (row.member.display_name, row.member.wechat_id) == ("乙管理-别名", "")
    link = NameLink.objects.get()
    assert ({link.member_id, link.other_id}, link.evidence) == ({row.member_id, world.b_admin.pk}, {
        "rule": "the same WeChat id in a roster", "name": "乙管理-别名", "group": world.a.pk,
        "why_not_merged": OUT_OF_REACH})


@pytest.mark.parametrize("actor", ["staff", "operator"])
def test_staff_and_operators_link_as_before(world, actor):
    user = None if actor == "operator" else world.staff.user

    result = run(("2024-03-04.md", attack_day()), slug="a-group", user=user)
    roster_import(group_slug="a-group", source=Source.from_bytes("roster.csv", ROSTER), user=user)

    assert result.ok
    assert sorted(Membership.objects.filter(group=world.a, member__in=[world.b_owner, world.b_admin])
                  .values_list("member_id", "status")) == sorted([(world.b_owner.pk, "active"), (world.b_admin.pk, "active")])
    assert list(Message.objects.filter(group=world.a, sender_name=B_OWNER).values_list("sender_id", flat=True)) == [
        world.b_owner.pk]
    assert NameLink.objects.count() == 0


def test_an_admin_of_both_groups_links_the_members_of_the_groups_they_run(world):
    result = run(("2024-03-04.md", attack_day()), slug="a-group", user=world.both_admin.user)

    assert result.ok
    senders = dict(Message.objects.filter(group=world.a, sender_name__in=[B_OWNER, B_ADMIN])
                   .values_list("sender_name", "sender_id"))
    # B's admin, and B's owner whose login belongs to B only: both in groups this admin runs.
    assert (senders[B_ADMIN], senders[B_OWNER]) == (world.b_admin.pk, world.b_owner.pk)
    assert NameLink.objects.count() == 0


def test_an_admin_of_both_groups_does_not_link_a_login_that_belongs_to_a_third_group(world):
    make_membership(make_group(slug="c-group", name="丙群"), world.b_owner, status="left")

    result = run(("2024-03-04.md", attack_day()), slug="a-group", user=world.both_admin.user)

    assert result.ok
    senders = dict(Message.objects.filter(group=world.a, sender_name__in=[B_OWNER, B_ADMIN])
                   .values_list("sender_name", "sender_id"))
    assert senders[B_ADMIN] == world.b_admin.pk
    assert senders[B_OWNER] != world.b_owner.pk  # a login that belongs to C too: not this admin's to decide
    assert [{link.member_id, link.other_id} for link in NameLink.objects.all()] == [{world.b_owner.pk, senders[B_OWNER]}]


@pytest.fixture
def pair_world(world):
    """In A: 某人 (a member of A only) and B's second admin, who is in A too under a nickname."""
    someone = make_member("某人")
    make_membership(world.a, someone)
    name(someone, world.a, "某人")
    b_admin2 = make_member("乙二-某银行-开发-上海")
    make_membership(world.a, b_admin2)
    make_membership(world.b, b_admin2, role="admin")
    name(b_admin2, world.a, "乙二-某银行-开发-上海")
    world.someone, world.b_admin2 = someone, b_admin2
    return world


def merged_export_day() -> bytes:
    pairs = []
    for n in range(4):
        pairs += [(f"10:0{n}:00", "某人", f"消息{n}"), (f"10:0{n}:00", "乙二-某银行-开发-上海", f"消息{n}")]
    return transcript("2024-03-05", pairs)


@pytest.mark.parametrize(("actor", "merged"), [("a_admin", False), ("both_admin", True), ("staff", True),
                                               ("operator", True)])
def test_a_merged_export_pair_merges_only_within_the_uploaders_reach(pair_world, actor, merged):
    world = pair_world
    user = None if actor == "operator" else getattr(world, actor).user

    result = run(("2024-03-05.md", merged_export_day()), slug="a-group", user=user)

    assert result.ok
    assert Member.objects.filter(pk=world.someone.pk).exists() is not merged
    roles = sorted(Membership.objects.filter(member=world.b_admin2).values_list("group__slug", "role"))
    assert roles == [("a-group", "member"), ("b-group", "admin")]
    if not merged:
        link = NameLink.objects.get()
        assert ({link.member_id, link.other_id}, link.evidence) == ({world.someone.pk, world.b_admin2.pk}, {
            "rule": "merged-export pair", "names": ["乙二-某银行-开发-上海", "某人"], "group": world.a.pk,
            "why_not_merged": OUT_OF_REACH})
        assert Message.objects.filter(group=world.a, sender=world.b_admin2).count() == 4
        assert not Name.objects.filter(member=world.b_admin2, source=NameSource.MERGED_EXPORT).exists()


def test_a_member_known_in_the_group_by_this_very_name_stays_themself(pair_world):
    """The exact name a member already has in the group's record is the record, not evidence."""
    world = pair_world

    result = run(("2024-03-06.md", transcript("2024-03-06", [("10:00:00", "乙二-某银行-开发-上海", "早")])),
                 slug="a-group", user=world.a_admin.user)

    assert result.ok
    assert Message.objects.get(group=world.a, source_day="2024-03-06").sender_id == world.b_admin2.pk
    assert NameLink.objects.count() == 0


def test_an_upload_whose_uploader_is_gone_imports_nothing(world):
    """Without its uploader, an upload would act as an operator, whose reach is not limited."""
    uploader = make_user("gone")
    make_membership(world.a, make_member("将离开的管理员", user=uploader), role="admin")
    queued = import_upload_create(group=world.a, user=uploader, kind="transcripts", files=[("a.md", attack_day())])
    uploader.delete()  # before its task ran (the task is queued on commit: not here)

    import_run_execute(run_id=queued.pk)

    finished = ImportRun.objects.get(pk=queued.pk)
    assert (finished.status, finished.errors) == (ImportStatus.FAILED, [
        "the import stopped: UploaderGone: the login that uploaded these files no longer exists; upload them again"])
    assert Message.objects.filter(group=world.a).count() == 0
