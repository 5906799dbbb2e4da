"""The wiki pages: a share's history and restore, the group's schedule page, its editor and
history — who may see and do what, conflicts, escaped diffs, harmless Markdown and the
number of queries a page costs."""

import pytest
from django.test import Client

from community.models import Visibility
from shares.models import SchedulePage, SchedulePageRevision, Share, ShareRevision
from shares.services import share_edit
from shares.wiki import DEFAULT_SCHEDULE_PAGE, schedule_page_edit, schedule_page_get_or_create
from tests.factories import ROLES
from tests.shares import test_schedule_views
from tests.shares.test_schedule_views import LOGIN, client_for, outcome, url

pytestmark = pytest.mark.django_db

# The schedule pages' people and share: a member, the speaker, the group's owner, a member and
# an admin of another group, staff; the share registered (version 1) and scheduled (version 2).
world = test_schedule_views.world

ADMINS = {"admin", "staff"}


def edit_share(world, n=1):
    """``n`` edits by the admin on top of the world's share (versions 1 registered, 2 scheduled)."""
    for step in range(n):
        share_edit(share=world.share, topic=f"改过的主题{step + 1}", abstract=f"改过的简介{step + 1}",
                   expected_version=2 + step, by=world.admin.user)


def edit_page(world, *bodies):
    for version, body in enumerate(bodies, start=1):
        schedule_page_edit(group=world.group, body=body, expected_version=version, by=world.admin.user)


def share_row(world):
    return Share.objects.filter(pk=world.share.pk).values_list("topic", "version").get()


def page_row(world):
    return SchedulePage.objects.filter(group=world.group).values_list("version", "body").first()


# --- who may see and do what ---

@pytest.mark.parametrize(("name", "kwargs"), [
    ("share_history", {}), ("share_revision", {"version": 1}), ("schedule_page", {}), ("schedule_page_history", {}),
])
@pytest.mark.parametrize(("role", "expected"), [
    ("anonymous", "login"), ("member", 200), ("outsider", 403), ("speaker", 200), ("admin", 200),
    ("other_admin", 403), ("staff", 200),
])
def test_wiki_pages_permissions(world, name, kwargs, role, expected):
    address = url(name, world, **kwargs)

    response = client_for(world, role).get(address)

    assert outcome(response) == ((302, LOGIN + address) if expected == "login" else expected)


@pytest.mark.parametrize(("role", "expected"), [
    ("anonymous", "login"), ("member", 403), ("outsider", 403), ("speaker", 403), ("admin", 200),
    ("other_admin", 403), ("staff", 200),
])
def test_schedule_page_editor_permissions(world, role, expected):
    address = url("schedule_page_edit", world)

    response = client_for(world, role).get(address)

    assert outcome(response) == ((302, LOGIN + address) if expected == "login" else expected)


@pytest.mark.parametrize("role", ROLES)
def test_share_restore_permissions(world, role):
    edit_share(world)
    address = url("share_restore", world, version=1)

    response = client_for(world, role).post(address, {"expected_version": "3"})

    if role == "anonymous":
        assert outcome(response) == (302, LOGIN + address)
    elif role in ADMINS:
        assert outcome(response) == (302, url("share_history", world))
    else:
        assert response.status_code == 403
    assert share_row(world) == (("跨境支付的清算", 4) if role in ADMINS else ("改过的主题1", 3))


@pytest.mark.parametrize("role", ROLES)
def test_schedule_page_edit_permissions(world, role):
    address = url("schedule_page_edit", world)

    response = client_for(world, role).post(address, {"body": "## 新的说明", "note": "", "version": "1"})

    if role == "anonymous":
        assert outcome(response) == (302, LOGIN + address)
    elif role in ADMINS:
        assert outcome(response) == (302, url("schedule_page", world))
    else:
        assert response.status_code == 403
    assert page_row(world) == ((2, "## 新的说明") if role in ADMINS else None)


@pytest.mark.parametrize("role", ROLES)
def test_schedule_page_restore_permissions(world, role):
    edit_page(world, "第二版")
    address = url("schedule_page_restore", world, version=1)

    response = client_for(world, role).post(address, {"expected_version": "2"})

    if role == "anonymous":
        assert outcome(response) == (302, LOGIN + address)
    elif role in ADMINS:
        assert outcome(response) == (302, url("schedule_page_history", world))
    else:
        assert response.status_code == 403
    assert page_row(world) == ((3, DEFAULT_SCHEDULE_PAGE) if role in ADMINS else (2, "第二版"))


@pytest.mark.parametrize(("name", "kwargs", "data"), [
    ("share_restore", {"version": 1}, {"expected_version": "3"}),
    ("schedule_page_edit", {}, {"body": "改掉", "note": "", "version": "1"}),
    ("schedule_page_restore", {"version": 1}, {"expected_version": "2"}),
])
def test_wiki_writes_need_the_csrf_token(world, name, kwargs, data):
    edit_share(world)
    edit_page(world, "第二版")
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.admin.user)

    response = client.post(url(name, world, **kwargs), data)

    assert response.status_code == 403
    assert (share_row(world), page_row(world)) == (("改过的主题1", 3), (2, "第二版"))


def test_history_of_a_hidden_share_is_404_for_a_member_and_shown_to_its_speaker(world):
    Share.objects.filter(pk=world.share.pk).update(visibility=Visibility.HIDDEN)

    assert client_for(world, "member").get(url("share_history", world)).status_code == 404
    assert client_for(world, "member").get(url("share_revision", world, version=1)).status_code == 404
    assert client_for(world, "speaker").get(url("share_history", world)).status_code == 200


def test_unknown_version_is_404(world):
    assert client_for(world, "admin").get(url("share_revision", world, version=9)).status_code == 404


# --- a share's history ---

def test_share_history_shows_every_version_with_its_changes(world):
    edit_share(world)

    response = client_for(world, "admin").get(url("share_history", world))

    entries = response.context["entries"]
    assert [(e.revision.version, e.revision.action, e.revision.author) for e in entries] == [
        (3, "edited", world.admin.user), (2, "scheduled", world.admin.user), (1, "registered", world.speaker.user),
    ]
    assert [(c.name, c.before, c.after) for c in entries[0].changes] == [
        ("topic", "跨境支付的清算", "改过的主题1"), ("abstract", "**清算**", "改过的简介1"),
    ]
    assert response.context["can_restore"] is True
    page = response.content.decode()
    assert page.count('name="expected_version" value="3"') == 2  # versions 2 and 1, not the current one
    assert "<del>**清算**</del><ins>改过的简介1</ins>" in page


def test_share_history_offers_no_restore_to_the_speaker(world):
    response = client_for(world, "speaker").get(url("share_history", world))

    assert response.context["can_restore"] is False
    assert "expected_version" not in response.content.decode()


def test_share_history_escapes_script_in_the_diff(world):
    share_edit(share=world.share, topic="<script>alert(1)</script>", abstract="<img src=x onerror=alert(1)>",
               expected_version=2, by=world.admin.user)

    page = client_for(world, "member").get(url("share_history", world)).content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert ("<script>alert" in page, "<img" in page) == (False, False)


def test_share_revision_shows_the_version_and_its_difference_to_now(world):
    edit_share(world)

    response = client_for(world, "member").get(url("share_revision", world, version=1))

    context = response.context
    assert (context["revision"].version, context["revision"].action) == (1, "registered")
    assert [(f.name, f.after) for f in context["fields"]] == [
        ("topic", "跨境支付的清算"), ("abstract", "**清算**"), ("status", "待确认"),
        ("speaker", "李东衡-关天数据-产品-上海"), ("visibility", "仅群成员"),
    ]
    assert [(c.name, c.before, c.after) for c in context["changes"]] == [
        ("topic", "跨境支付的清算", "改过的主题1"), ("abstract", "**清算**", "改过的简介1"), ("status", "待确认", "已排期"),
        ("scheduled_for", "", world.share.scheduled_for.astimezone(world.group.tz).strftime("%Y-%m-%d %H:%M")),
    ]
    assert context["can_restore"] is False  # a member


def test_share_restore_through_the_page_records_the_restored_version(world):
    edit_share(world, 2)

    response = client_for(world, "admin").post(url("share_restore", world, version=3), {"expected_version": "4"})

    assert outcome(response) == (302, url("share_history", world))
    assert Share.objects.filter(pk=world.share.pk).values_list("topic", "abstract", "status", "version").get() == (
        "改过的主题1", "改过的简介1", "scheduled", 5,
    )
    assert ShareRevision.objects.filter(share=world.share, version=5).values_list("action", "author", "note").get() == (
        "restored", world.admin.user.pk, "restored version 3",
    )


def test_share_restore_with_a_stale_version_is_a_conflict(world):
    edit_share(world, 2)

    response = client_for(world, "admin").post(url("share_restore", world, version=1), {"expected_version": "3"})

    assert response.status_code == 409
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert share_row(world) == ("改过的主题2", 4)
    assert ShareRevision.objects.filter(share=world.share).count() == 4


def test_share_restore_without_the_version_field_restores_nothing(world):
    edit_share(world)

    response = client_for(world, "admin").post(url("share_restore", world, version=1), {})

    assert response.status_code == 400
    assert share_row(world) == ("改过的主题1", 3)


# --- the schedule page ---

def test_schedule_page_of_a_new_group_shows_the_default_text_without_saving_it(world):
    response = client_for(world, "member").get(url("schedule_page", world))

    assert response.context["page"].body == DEFAULT_SCHEDULE_PAGE
    assert response.context["body_html"].startswith("<h2>怎样登记分享</h2>")
    assert SchedulePage.objects.count() == 0


def test_schedule_page_renders_harmless_markdown(world):
    edit_page(world, "<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1)) [报名](https://example.com/a) **粗体**"
                     "\n\n<script>alert(1)</script>")

    response = client_for(world, "member").get(url("schedule_page", world))

    assert response.context["body_html"] == (
        '<p></p>\n<p><a>x</a> <a href="https://example.com/a" rel="nofollow">报名</a> <strong>粗体</strong></p>\nalert(1)'
    )
    page = response.content.decode()
    assert ("<script>alert" in page, "onerror" in page, "javascript:" in page, "<img" in page) == (False, False, False, False)


def test_schedule_page_editor_shows_the_text_and_its_version(world):
    edit_page(world, "第二版")

    response = client_for(world, "admin").get(url("schedule_page_edit", world))

    form = response.context["form"]
    assert (form["body"].value(), form["version"].value()) == ("第二版", 2)
    assert '<input type="hidden" name="version" value="2" id="id_version">' in response.content.decode()


def test_schedule_page_edit_records_who_and_the_note(world):
    response = client_for(world, "admin").post(
        url("schedule_page_edit", world), {"body": "## 报名\r\n找群主", "note": "更简短", "version": "1"}
    )

    assert outcome(response) == (302, url("schedule_page", world))
    assert list(SchedulePageRevision.objects.order_by("version").values_list("version", "body", "author", "note")) == [
        (1, DEFAULT_SCHEDULE_PAGE, None, ""), (2, "## 报名\n找群主", world.admin.user.pk, "更简短"),
    ]


def test_schedule_page_edit_with_a_stale_version_is_a_conflict_and_keeps_the_input(world):
    edit_page(world, "管理员甲的版本")

    response = client_for(world, "staff").post(
        url("schedule_page_edit", world), {"body": "管理员乙的版本", "note": "", "version": "1"}
    )

    assert response.status_code == 409
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert page_row(world) == (2, "管理员甲的版本")
    assert SchedulePageRevision.objects.count() == 2
    form = response.context["form"]
    assert (form["body"].value(), form["version"].value()) == ("管理员乙的版本", "2")
    assert response.context["conflict_diff"] == "管理员<del>甲</del><ins>乙</ins>的版本"


def test_schedule_page_history_shows_versions_with_escaped_diffs(world):
    edit_page(world, "第二版", "<script>alert(1)</script>")

    response = client_for(world, "member").get(url("schedule_page_history", world))

    entries = response.context["entries"]
    assert [(e.revision.version, e.revision.author) for e in entries] == [
        (3, world.admin.user), (2, world.admin.user), (1, None),
    ]
    assert entries[0].changes[0].diff == "<del>第二版</del><ins>&lt;script&gt;alert(1)&lt;/script&gt;</ins>"
    assert response.context["can_restore"] is False
    page = response.content.decode()
    assert ("<script>alert" in page, "&lt;script&gt;alert(1)&lt;/script&gt;" in page) == (False, True)


def test_schedule_page_restore_with_a_stale_version_is_a_conflict(world):
    edit_page(world, "第二版", "第三版")

    response = client_for(world, "admin").post(url("schedule_page_restore", world, version=1), {"expected_version": "2"})

    assert response.status_code == 409
    assert page_row(world) == (3, "第三版")
    assert SchedulePageRevision.objects.count() == 3


def test_schedule_page_restore_through_the_page_makes_a_new_version(world):
    edit_page(world, "第二版", "第三版")

    response = client_for(world, "admin").post(url("schedule_page_restore", world, version=2), {"expected_version": "3"})

    assert outcome(response) == (302, url("schedule_page_history", world))
    assert page_row(world) == (4, "第二版")
    assert SchedulePageRevision.objects.filter(version=4).values_list("author", "note").get() == (
        world.admin.user.pk, "restored version 2",
    )


# --- the number of queries ---

@pytest.mark.parametrize("revisions", [1, 3])
def test_share_history_query_count(world, django_assert_num_queries, revisions):
    share = Share.objects.create(group=world.group, speaker=world.speaker.member, topic="主题")
    ShareRevision.objects.create(share=share, version=1, action="registered", author=world.speaker.user,
                                 snapshot={"topic": "主题", "speaker": world.speaker.member.pk})
    for n in range(1, revisions):
        share_edit(share=share, topic=f"主题{n}", abstract="", expected_version=n, by=world.admin.user)
    client = client_for(world, "admin")

    # session, user, the group with the user's member and role,
    # groups of the user, groups the user runs, the share, its preferred days, its history, the speakers' names
    with django_assert_num_queries(10):
        response = client.get(url("share_history", world, pk=share.pk))

    assert len(response.context["entries"]) == revisions


@pytest.mark.parametrize("revisions", [1, 3])
def test_share_revision_query_count(world, django_assert_num_queries, revisions):
    edit_share(world, revisions - 1)
    client = client_for(world, "admin")

    # session, user, the group with the user's member and role,
    # groups of the user, groups the user runs, the share, its preferred days, its history, the speakers' names
    with django_assert_num_queries(10):
        response = client.get(url("share_revision", world, version=1))

    assert response.context["revision"].version == 1


@pytest.mark.parametrize("revisions", [1, 3])
def test_schedule_page_history_query_count(world, django_assert_num_queries, revisions):
    schedule_page_get_or_create(group=world.group)
    edit_page(world, *[f"第{n}版" for n in range(2, revisions + 1)])
    client = client_for(world, "admin")

    # session, user, the group with the user's member and role,
    # the page, its revisions with their authors
    with django_assert_num_queries(5):
        response = client.get(url("schedule_page_history", world))

    assert len(response.context["entries"]) == revisions


@pytest.mark.parametrize("revisions", [1, 3])
def test_schedule_page_query_count(world, django_assert_num_queries, revisions):
    edit_page(world, *[f"第{n}版" for n in range(1, revisions + 1)])
    client = client_for(world, "member")

    # session, user, the group with the user's member and role, the page
    with django_assert_num_queries(4):
        response = client.get(url("schedule_page", world))

    assert response.context["page"].version == revisions + 1
