"""The wiki's services and selectors: restoring a share, the schedule page's versions,
conflicts, and diffs that show changes without ever letting user text through as HTML."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from community.models import MembershipRole, Visibility
from shares.models import SchedulePage, SchedulePageRevision, Share, ShareRevision, ShareStatus
from shares.services import ShareConflict, share_cancel, share_edit, share_register, share_schedule
from shares.wiki import (
    DEFAULT_SCHEDULE_PAGE,
    SchedulePageConflict,
    diff_html,
    schedule_page_edit,
    schedule_page_get_or_create,
    schedule_page_history,
    schedule_page_of,
    schedule_page_restore,
    share_history,
    share_restore,
    share_revision_changes,
)
from tests.factories import SHANGHAI, make_group, make_member, make_membership, make_user

pytestmark = pytest.mark.django_db

DAY = dt.date(2030, 5, 20)


def person(group, nickname, *, role=MembershipRole.MEMBER):
    user = make_user()
    make_membership(group, make_member(nickname, user=user), role=role)
    return user


@pytest.fixture
def group():
    return make_group(slug="prodarch", name="支付产品群")


@pytest.fixture
def admin(group):
    return person(group, "周明远-群主", role=MembershipRole.OWNER)


@pytest.fixture
def speaker(group):
    return person(group, "李东衡-上海")


@pytest.fixture
def share(group, admin, speaker):
    """Version 1 registered by the speaker, 2 scheduled, 3 edited by the admin."""
    share = share_register(group=group, speaker=speaker.member, topic="跨境支付的清算", abstract="第一版简介",
                           by=speaker)
    share_schedule(share=share, day=DAY, by=admin)
    share_edit(share=share, topic="跨境支付的清算与对账", abstract="第二版简介", visibility=Visibility.PUBLIC,
               expected_version=2, by=admin)
    return share


def revision_rows(share):
    return list(ShareRevision.objects.filter(share=share).order_by("version").values_list(
        "version", "action", "author", "note"))


# --- diffs ---

def test_diff_html_marks_changed_words_and_chinese_characters():
    assert diff_html("pay the fee today", "pay the fees today") == "pay the <del>fee</del><ins>fees</ins> today"
    assert diff_html("跨境支付", "境外支付") == "<del>跨</del>境<ins>外</ins>支付"
    assert diff_html("清算", "清算对账") == "清算<ins>对账</ins>"


def test_diff_html_compares_lines_then_words():
    before = "第一行\n第二行 old\n第三行\n"
    after = "第一行\n第二行 new\n第三行\n第四行\n"

    assert diff_html(before, after) == "第一行\n第二行 <del>old</del><ins>new</ins>\n第三行\n<ins>第四行\n</ins>"


def test_diff_html_escapes_user_text():
    html = diff_html("safe", "<script>alert(1)</script> & <b>")

    assert "<script>" not in html
    assert html == "<del>safe</del><ins>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;</ins>"


# --- a share's history ---

def test_share_history_lists_every_version_with_what_changed(share, admin, speaker):
    with translation.override("en"):  # readable values: the English labels
        entries = share_history(share=share)

    assert [(e.revision.version, e.revision.action) for e in entries] == [
        (3, "edited"), (2, "scheduled"), (1, "registered"),
    ]
    assert [(c.name, c.before, c.after) for c in entries[0].changes] == [
        ("topic", "跨境支付的清算", "跨境支付的清算与对账"),
        ("abstract", "第一版简介", "第二版简介"),
        ("visibility", "members only", "public"),
    ]
    assert entries[0].changes[0].diff == "跨境支付的清算<ins>与对账</ins>"
    assert [(c.name, c.before, c.after) for c in entries[1].changes] == [
        ("status", "proposed", "scheduled"), ("scheduled_for", "", "2030-05-20 19:30"),
    ]
    assert str(entries[1].changes[1].diff) == "<ins>2030-05-20 19:30</ins>"
    assert [(c.name, c.after) for c in entries[2].changes] == [
        ("topic", "跨境支付的清算"), ("abstract", "第一版简介"), ("status", "proposed"),
        ("speaker", "李东衡-上海"), ("visibility", "members only"),
    ]


def test_share_revision_changes_show_a_version_and_its_difference_to_now(share):
    revision = ShareRevision.objects.get(share=share, version=1)

    with translation.override("en"):
        fields, changes = share_revision_changes(share=share, revision=revision)

    assert [(f.name, f.after) for f in fields] == [
        ("topic", "跨境支付的清算"), ("abstract", "第一版简介"), ("status", "proposed"),
        ("speaker", "李东衡-上海"), ("visibility", "members only"),
    ]
    assert [(c.name, c.before, c.after) for c in changes] == [
        ("topic", "跨境支付的清算", "跨境支付的清算与对账"), ("abstract", "第一版简介", "第二版简介"),
        ("status", "proposed", "scheduled"), ("scheduled_for", "", "2030-05-20 19:30"), ("visibility", "members only", "public"),
    ]


def test_share_history_escapes_a_script_in_the_topic(share, admin):
    share_edit(share=share, topic="<script>alert(1)</script>", abstract="第二版简介", expected_version=3, by=admin)

    change = share_history(share=share)[0].changes[0]

    assert change.name == "topic"
    assert "<script>" not in change.diff
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in change.diff


# --- restoring a share ---

def test_share_restore_brings_back_topic_abstract_and_visibility_as_a_new_version(share, admin, speaker):
    restored = share_restore(share=share, version=1, expected_version=3, by=admin)

    row = Share.objects.filter(pk=share.pk).values_list(
        "topic", "abstract", "visibility", "status", "day", "version", "edited_fields").get()
    assert row == ("跨境支付的清算", "第一版简介", "members", "scheduled", DAY, 4, ["abstract", "scheduled_for", "topic", "visibility"])
    assert restored.version == 4
    assert revision_rows(share) == [
        (1, "registered", speaker.pk, ""), (2, "scheduled", admin.pk, ""), (3, "edited", admin.pk, ""),
        (4, "restored", admin.pk, "restored version 1"),
    ]
    assert ShareRevision.objects.get(share=share, version=4).snapshot == {
        "topic": "跨境支付的清算", "abstract": "第一版简介", "status": "scheduled", "speaker": speaker.member.pk,
        "day": "2030-05-20", "scheduled_for": dt.datetime(2030, 5, 20, 19, 30, tzinfo=SHANGHAI).astimezone(dt.UTC).isoformat(),
        "started_at": None, "ended_at": None, "visibility": "members",
    }


def test_share_restore_keeps_the_schedule(share, admin):
    share_schedule(share=share, day=DAY + dt.timedelta(days=1), by=admin)

    share_restore(share=share, version=2, expected_version=4, by=admin)

    assert Share.objects.filter(pk=share.pk).values_list("topic", "day", "status", "version").get() == (
        "跨境支付的清算", DAY + dt.timedelta(days=1), "scheduled", 5,
    )


def test_share_restore_of_a_stale_version_conflicts_and_changes_nothing(share, admin):
    with pytest.raises(ShareConflict) as raised:
        share_restore(share=share, version=1, expected_version=2, by=admin)

    assert raised.value.code == "conflict"
    assert Share.objects.filter(pk=share.pk).values_list("topic", "version").get() == ("跨境支付的清算与对账", 3)
    assert ShareRevision.objects.filter(share=share).count() == 3


@pytest.mark.parametrize("who", ["speaker", "member", "outsider_admin"])
def test_share_restore_by_a_non_admin_is_denied(share, group, speaker, who):
    user = {
        "speaker": lambda: speaker,
        "member": lambda: person(group, "王芳"),
        "outsider_admin": lambda: person(make_group(), "赵六", role=MembershipRole.ADMIN),
    }[who]()

    with pytest.raises(PermissionDenied):
        share_restore(share=share, version=1, expected_version=3, by=user)

    assert Share.objects.filter(pk=share.pk).values_list("topic", "version").get() == ("跨境支付的清算与对账", 3)


def test_share_restore_by_staff(share):
    staff = make_user(staff=True)

    share_restore(share=share, version=1, expected_version=3, by=staff)

    assert revision_rows(share)[-1] == (4, "restored", staff.pk, "restored version 1")


def test_share_restore_of_the_current_text_records_nothing(share, admin):
    result = share_restore(share=share, version=3, expected_version=3, by=admin)

    assert result.version == 3
    assert ShareRevision.objects.filter(share=share).count() == 3


def test_share_restore_of_an_unknown_version_or_a_cancelled_share_is_refused(share, admin):
    with pytest.raises(ValidationError) as unknown:
        share_restore(share=share, version=9, expected_version=3, by=admin)
    share_cancel(share=share, by=admin)
    with pytest.raises(ValidationError) as cancelled:
        share_restore(share=share, version=1, expected_version=4, by=admin)

    assert (unknown.value.code, cancelled.value.code) == ("no_version", "closed")
    assert Share.objects.filter(pk=share.pk).values_list("topic", "status", "version").get() == (
        "跨境支付的清算与对账", ShareStatus.CANCELLED, 4,
    )


# --- the schedule page ---

def test_schedule_page_of_a_new_group_is_the_default_and_unsaved(group):
    page = schedule_page_of(group=group)

    assert (page.pk, page.version, page.body) == (None, 1, DEFAULT_SCHEDULE_PAGE)
    assert SchedulePage.objects.count() == 0
    assert schedule_page_history(page=page) == []


def test_schedule_page_get_or_create_makes_version_1_once(group):
    first = schedule_page_get_or_create(group=group)
    second = schedule_page_get_or_create(group=group)

    assert first.pk == second.pk
    assert list(SchedulePageRevision.objects.values_list("page", "version", "body", "author", "note")) == [
        (first.pk, 1, DEFAULT_SCHEDULE_PAGE, None, ""),
    ]


def test_schedule_page_edit_records_each_version(group, admin):
    schedule_page_edit(group=group, body="## 报名\r\n\r\n找群主", expected_version=1, by=admin, note="简化")
    page = schedule_page_edit(group=group, body="## 报名\n\n找管理员", expected_version=2, by=admin)

    assert (page.version, page.body) == (3, "## 报名\n\n找管理员")
    assert SchedulePage.objects.filter(group=group).values_list("version", "body").get() == (3, "## 报名\n\n找管理员")
    assert list(SchedulePageRevision.objects.order_by("version").values_list("version", "body", "author", "note")) == [
        (1, DEFAULT_SCHEDULE_PAGE, None, ""), (2, "## 报名\n\n找群主", admin.pk, "简化"),
        (3, "## 报名\n\n找管理员", admin.pk, ""),
    ]
    assert [(e.revision.version, e.changes[0].diff) for e in schedule_page_history(page=page)[:2]] == [
        (3, "## 报名\n\n找<del>群主</del><ins>管理员</ins>"), (2, diff_html(DEFAULT_SCHEDULE_PAGE, "## 报名\n\n找群主")),
    ]


def test_schedule_page_edit_with_a_stale_version_conflicts_and_keeps_the_text(group, admin):
    schedule_page_edit(group=group, body="管理员甲的版本", expected_version=1, by=admin)

    with pytest.raises(SchedulePageConflict) as raised:
        schedule_page_edit(group=group, body="管理员乙的版本", expected_version=1, by=admin)

    assert raised.value.code == "conflict"
    assert SchedulePage.objects.filter(group=group).values_list("version", "body").get() == (2, "管理员甲的版本")
    assert SchedulePageRevision.objects.count() == 2


def test_schedule_page_edit_without_a_change_records_nothing(group, admin):
    page = schedule_page_edit(group=group, body=DEFAULT_SCHEDULE_PAGE, expected_version=1, by=admin)

    assert page.version == 1
    assert list(SchedulePageRevision.objects.values_list("version", flat=True)) == [1]


@pytest.mark.parametrize("who", ["member", "other_admin"])
def test_schedule_page_edit_and_restore_by_a_non_admin_are_denied(group, admin, who):
    schedule_page_edit(group=group, body="第二版", expected_version=1, by=admin)
    user = person(group, "王芳") if who == "member" else person(make_group(), "赵六", role=MembershipRole.ADMIN)

    with pytest.raises(PermissionDenied):
        schedule_page_edit(group=group, body="改掉", expected_version=2, by=user)
    with pytest.raises(PermissionDenied):
        schedule_page_restore(group=group, version=1, expected_version=2, by=user)

    assert SchedulePage.objects.filter(group=group).values_list("version", "body").get() == (2, "第二版")


def test_schedule_page_restore_makes_a_new_version(group, admin):
    schedule_page_edit(group=group, body="第二版", expected_version=1, by=admin)
    schedule_page_edit(group=group, body="第三版", expected_version=2, by=admin)

    page = schedule_page_restore(group=group, version=2, expected_version=3, by=admin)

    assert (page.version, page.body) == (4, "第二版")
    assert list(SchedulePageRevision.objects.order_by("version").values_list("version", "body", "author", "note")) == [
        (1, DEFAULT_SCHEDULE_PAGE, None, ""), (2, "第二版", admin.pk, ""), (3, "第三版", admin.pk, ""),
        (4, "第二版", admin.pk, "restored version 2"),
    ]


def test_schedule_page_restore_stale_or_unknown_version_changes_nothing(group, admin):
    schedule_page_edit(group=group, body="第二版", expected_version=1, by=admin)

    with pytest.raises(SchedulePageConflict):
        schedule_page_restore(group=group, version=1, expected_version=1, by=admin)
    with pytest.raises(ValidationError) as unknown:
        schedule_page_restore(group=group, version=7, expected_version=2, by=admin)

    assert unknown.value.code == "no_version"
    assert SchedulePage.objects.filter(group=group).values_list("version", "body").get() == (2, "第二版")
    assert SchedulePageRevision.objects.count() == 2
