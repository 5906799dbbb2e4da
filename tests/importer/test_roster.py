import datetime as dt

import pytest
from django.core.management import call_command, load_command_class

from community.models import Member, Membership, MembershipPeriod, Name
from importer.services import Source, roster_import
from tests.factories import make_group, make_member, make_membership

pytestmark = pytest.mark.django_db

ROSTER = (
    "UserName,NickName,DisplayName,RemarkName,JoinedAt,Sex\n"
    "wxid_aaa,小周,周明远-云汇支付-产品-杭州,,2023-01-05,1\n"
    "wxid_bbb,Lin,,林总,2023-02-01,2\n"
    "wxid_ccc,山水,山水,,2023-03-01,0\n"
)


def roster(data: str | bytes, **options):
    raw = data.encode() if isinstance(data, str) else data
    return roster_import(group_slug="prodarch", source=Source.from_bytes("members.csv", raw), **options)


def test_roster_creates_members_memberships_nicknames_and_join_dates():
    result = roster(ROSTER)
    assert result.ok
    rows = {
        m.member.wechat_id: (m.nickname, m.member.display_name, m.joined_at.astimezone(m.group.tz).date(), m.status)
        for m in Membership.objects.select_related("member", "group")
    }
    assert rows == {
        "wxid_aaa": ("周明远-云汇支付-产品-杭州", "周明远-云汇支付-产品-杭州", dt.date(2023, 1, 5), "active"),
        "wxid_bbb": ("", "Lin", dt.date(2023, 2, 1), "active"),
        "wxid_ccc": ("山水", "山水", dt.date(2023, 3, 1), "active"),
    }
    assert set(Name.objects.filter(member__wechat_id="wxid_aaa").values_list("name", "source")) == {
        ("周明远-云汇支付-产品-杭州", "roster"), ("小周", "roster")}
    assert MembershipPeriod.objects.count() == 3


def test_roster_reimport_changes_nothing():
    roster(ROSTER)
    before = (Member.objects.count(), Membership.objects.count(), Name.objects.count(), MembershipPeriod.objects.count())
    roster(ROSTER)
    assert (Member.objects.count(), Membership.objects.count(), Name.objects.count(), MembershipPeriod.objects.count()) == before


def test_roster_columns_in_other_order_and_gbk_encoding():
    data = "JoinedAt,DisplayName,Extra,NickName\n2023-01-05,周明远-云汇支付-产品-杭州,x,小周\n".encode("gbk")
    result = roster(data)
    assert result.ok
    assert Membership.objects.get().nickname == "周明远-云汇支付-产品-杭州"


def test_roster_matches_a_member_known_from_transcripts_by_name():
    group = make_group(slug="prodarch")
    member = make_member("周明远-云汇支付-产品-杭州")
    make_membership(group, member, nickname="")
    Name.objects.create(member=member, group=group, name=member.display_name, normalized="周明远-云汇支付-产品-杭州", source="header")
    roster(ROSTER)
    assert Member.objects.filter(display_name="周明远-云汇支付-产品-杭州").count() == 1
    member.refresh_from_db()
    assert member.wechat_id == "wxid_aaa"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ("NickName,Other\nx,y\n", "members.csv:1: missing column(s) DisplayName (the header row has: NickName, Other)"),
        ("NickName,DisplayName,JoinedAt\na,b,2029-13-45\n", "members.csv:2: JoinedAt '2029-13-45' is not an ISO date (YYYY-MM-DD)"),
        ("NickName,DisplayName\na,b\n,\n,  \n", None),
        ("", "members.csv:1: the file is empty"),
    ],
)
def test_roster_bad_input_fails_with_line_and_reason_and_writes_nothing(data, error):
    result = roster(data)
    if error is None:
        assert result.ok
        return
    assert result.errors == [error]
    assert Member.objects.count() == 0


def test_roster_bad_row_rolls_back_the_whole_file():
    result = roster(ROSTER + "x,y,z,,not-a-date,1\n")
    assert result.errors == ["members.csv:5: JoinedAt 'not-a-date' is not an ISO date (YYYY-MM-DD)"]
    assert Member.objects.count() == 0


def test_roster_mark_missing_left_then_returning_member_gets_new_period():
    roster(ROSTER)
    roster("UserName,NickName,DisplayName\nwxid_aaa,小周,周明远-云汇支付-产品-杭州\n", mark_missing_left=True)
    statuses = dict(Membership.objects.values_list("member__wechat_id", "status"))
    assert statuses == {"wxid_aaa": "active", "wxid_bbb": "left", "wxid_ccc": "left"}
    assert Membership.objects.get(member__wechat_id="wxid_bbb").left_at is not None
    roster(ROSTER)
    lin = Membership.objects.get(member__wechat_id="wxid_bbb")
    assert lin.status == "active"
    assert lin.periods.count() == 2
    assert lin.periods.filter(left_at__isnull=True).count() == 1


def test_roster_dry_run_writes_nothing():
    result = roster(ROSTER, dry_run=True)
    assert result.ok
    assert result.files[0]["rows"] == 3
    assert Member.objects.count() == 0


def test_import_roster_command_runs_no_system_checks(tmp_path, monkeypatch):
    def checks_run(*args, **kwargs):
        raise AssertionError("the system checks ran")

    monkeypatch.setattr("django.core.checks.run_checks", checks_run)
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER)
    # Its options as parsed from the command line: call_command would skip the checks whatever the command says.
    command = load_command_class("importer", "import_roster")
    command.execute(**vars(command.create_parser("manage.py", "import_roster").parse_args([str(path), "--group", "prodarch", "-v", "0"])))
    assert Member.objects.count() == 3


def test_import_roster_command_exit_status(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("Foo\n1\n")
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_roster", str(path), group="prodarch", verbosity=0)
    assert exit_info.value.code == 1
