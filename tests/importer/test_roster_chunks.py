"""Rosters in bounded, set-based writes, and their exact undo."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from community.models import Member, MemberMerge, Membership, MembershipPeriod, Message, Name, NameLink
from community.privacy import member_erase
from importer import services, sql
from importer.journal import rows_before
from importer.models import ImportRun, ImportStatus, RunChange
from importer.services import Source, roster_import, transcripts_import
from importer.undo import import_run_undo
from tests.factories import at, make_group, make_member, make_membership, make_user
from tests.importer.test_services import transcript

pytestmark = pytest.mark.django_db

TABLES = (Member, Membership, MembershipPeriod, Name, MemberMerge, NameLink)


def everything() -> dict[str, list[dict]]:
    """Every row of the tables a roster writes, as dicts, by primary key."""
    return {model.__name__: [model_to_dict(row) | {"id": row.pk} for row in model.objects.order_by("pk")]
            for model in TABLES}


def roster(text: str, **options):
    return roster_import(group_slug="prodarch", source=Source.from_bytes("members.csv", text.encode()), **options)


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of two rows, so that a short roster spans several."""
    monkeypatch.setattr(services, "ROSTER_CHUNK_ROWS", 2)


def world():
    """A group with a member known from transcripts (no WeChat id), one who left, one who is
    active but will be missing from the list, and the owner (never marked as left)."""
    group = make_group(slug="prodarch")
    people = {}
    for key, name, source in (("zhou", "周明远-云汇支付-产品-杭州", "header"), ("lin", "林总", "roster"),
                              ("gone", "走了的人", "header"), ("owner", "群主-某支付", "header")):
        member = make_member(name)
        membership = make_membership(group, member, nickname=name, joined_at=at("2019-01-01", "12:00"),
                                     role="owner" if key == "owner" else "member")
        MembershipPeriod.objects.create(membership=membership, joined_at=at("2019-01-01", "12:00"))
        Name.objects.create(member=member, group=group, name=name, normalized=name, source=source, times_seen=3,
                            first_seen=at("2019-01-01", "12:00"), last_seen=at("2019-02-01", "12:00"))
        people[key] = member
    lin = Membership.objects.get(member=people["lin"])
    Membership.objects.filter(pk=lin.pk).update(status="left", left_at=at("2019-03-01", "12:00"))
    MembershipPeriod.objects.filter(membership=lin).update(left_at=at("2019-03-01", "12:00"), left_reason="left")
    return group, people


LIST = (
    "UserName,NickName,DisplayName,JoinedAt\n"
    "wxid_zhou,小周,周明远-云汇支付-产品-上海,2019-01-05\n"  # the same person renamed (name and company)
    "wxid_lin,Lin,林总,2019-04-01\n"  # back after leaving
    "wxid_n1,新人一,新人一-某支付-产品-北京,2019-05-01\n"
    "wxid_n2,新人二,,2019-05-02\n"
    "wxid_n3,新人三,新人三-某支付-产品,2019-05-03\n"
)


def test_undoing_a_roster_run_restores_every_row_exactly(small_chunks):
    _group, people = world()
    before = everything()

    result = roster(LIST, mark_missing_left=True)

    # The run did change what it says, over three chunks.
    assert (result.ok, result.files[0]) == (True, {
        "file": "members.csv", "status": "imported", "rows": 5, "members_created": 3, "names_created": 8,
        "returning": 1, "marked_left": 1})
    memberships = {m.member_id: m for m in Membership.objects.all()}
    assert memberships[people["zhou"].pk].nickname == "周明远-云汇支付-产品-上海"
    assert Member.objects.get(pk=people["zhou"].pk).wechat_id == "wxid_zhou"
    assert (memberships[people["lin"].pk].status, MembershipPeriod.objects.filter(
        membership__member=people["lin"]).count()) == ("active", 2)
    assert memberships[people["gone"].pk].status == "left"
    assert memberships[people["owner"].pk].status == "active"
    assert Name.objects.get(member=people["lin"], normalized="林总").times_seen == 5  # seen twice more
    assert Member.objects.filter(import_run=result.run.pk).count() == 3
    assert MemberMerge.objects.count() == 1

    counts = import_run_undo(run_id=result.run.pk)

    assert everything() == before
    assert counts["members deleted"] == 3
    result.run.refresh_from_db()
    assert result.run.status == ImportStatus.UNDONE


def test_a_chunk_that_fails_to_write_keeps_the_chunks_before_it_and_the_run_can_be_undone(small_chunks, monkeypatch):
    group, people = world()
    before = everything()
    insert = sql.rows_insert

    def failing_on_the_second_chunk(model, columns, rows):
        if model is Member:  # the first new members are in the second chunk
            raise IntegrityError("the disk is full")
        return insert(model, columns, rows)

    monkeypatch.setattr(sql, "rows_insert", failing_on_the_second_chunk)
    result = roster(LIST)

    assert result.errors == ["members.csv:4: could not be stored (the disk is full); the 2 rows before it were "
                             "stored: undo the run to take them back, or import the file again"]
    assert (result.run.status, result.files[0]["status"]) == ("failed", "failed")
    # The first chunk (two known members) is written; nothing of the second (the first new member).
    assert Member.objects.get(pk=people["zhou"].pk).wechat_id == "wxid_zhou"
    assert Membership.objects.get(member=people["lin"]).status == "active"
    assert Member.objects.filter(import_run=result.run.pk).count() == 0

    import_run_undo(run_id=result.run.pk)
    assert everything() == before


def test_rows_are_written_in_transactions_of_at_most_1000_rows():
    assert services.ROSTER_CHUNK_ROWS == 1000
    make_group(slug="prodarch")
    rows = "".join(f"wxid_{n},微信{n},成员{n}-某支付-产品-上海\n" for n in range(2500))
    with CaptureQueriesContext(connection) as queries:
        result = roster("UserName,NickName,DisplayName\n" + rows)
    # The test runs in a transaction: each of the roster's transactions is a savepoint.
    savepoints = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SAVEPOINT")]
    assert (result.ok, result.files[0]["members_created"], len(savepoints)) == (True, 2500, 3)


@pytest.mark.parametrize("count", [10, 40])
def test_a_chunk_is_written_with_the_same_queries_whatever_its_rows(count, django_assert_num_queries):
    group, _people = world()
    run = ImportRun.objects.create(group=group, kind="roster")
    rows = [services.RosterRow(n + 2, f"微信{n}", f"成员{n}-某支付-产品-上海", "", f"wxid_{n}", None)
            for n in range(count)]
    # Two returning members and a renamed one, so that every kind of write happens.
    rows += [services.RosterRow(90, "Lin", "林总", "", "wxid_lin", None),
             services.RosterRow(91, "小周", "周明远-云汇支付-产品-杭州二", "", "", None)]
    # One transaction (savepoint, release). Reads: the group's names, the WeChat ids, the names in
    # other groups, the admins' decisions (2, once a run), the memberships and their open periods.
    # Writes: members; the merge found and its journal; new names; known names (journal: read,
    # write; one update); WeChat ids (journal: read, write; read, one update); new memberships and
    # their periods; changed memberships (journal: read, write); periods of those back (and their
    # journal); two updates of memberships (back, renamed); on PostgreSQL, the group's lock. And the
    # check that nothing the resolution read changed meanwhile: the group's newest name, the WeChat
    # ids, the changed memberships, their open periods, the known names' counts. None of it grows
    # with the rows.
    with django_assert_num_queries(33 + (connection.vendor == "postgresql")):
        services._roster_apply(group, rows, run.pk, False)


def test_a_dry_run_counts_what_a_run_does_and_writes_nothing(small_chunks):
    world()
    before = everything()
    text = LIST + "wxid_n1,新人一,新人一-某支付-产品-北京,2019-05-01\n"  # the same row again, in another chunk
    dry = roster(text, mark_missing_left=True, dry_run=True)
    assert everything() == before
    assert RunChange.objects.count() == 0
    real = roster(text, mark_missing_left=True)
    assert dry.files[0] == real.files[0] == {
        "file": "members.csv", "status": "imported", "rows": 6, "members_created": 3, "names_created": 8,
        "returning": 1, "marked_left": 1}


def test_undo_is_refused_while_a_later_run_changed_the_same_members_then_allowed_once_it_is_undone():
    _group, people = world()
    before = everything()
    first = roster(LIST, mark_missing_left=True)
    second = roster(LIST.replace("周明远-云汇支付-产品-上海", "周明远-云汇支付-总监-上海"))

    with pytest.raises(ValueError) as refusal:
        import_run_undo(run_id=first.run.pk)
    assert str(refusal.value) == (f"Import run {first.run.pk} cannot be undone: later import runs changed the same "
                                  f"members: #{second.run.pk} (undo them first).")
    assert ImportRun.objects.get(pk=first.run.pk).status == "succeeded"

    import_run_undo(run_id=second.run.pk)
    import_run_undo(run_id=first.run.pk)
    assert everything() == before


def test_undo_is_refused_while_a_later_transcript_run_wrote_messages_of_a_member_it_created():
    first = roster("NickName,DisplayName\n新人一,新人一-某支付-产品-北京\n")
    later = transcripts_import(group_slug="prodarch", sources=[Source.from_bytes("2024-03-04.md", transcript(
        "2024-03-04", [("09:00:00", "新人一-某支付-产品-北京", "大家好")]))])
    assert Message.objects.get().sender.import_run == first.run.pk

    with pytest.raises(ValueError) as refusal:
        import_run_undo(run_id=first.run.pk)
    assert str(refusal.value) == (f"Import run {first.run.pk} cannot be undone: later import runs changed the same "
                                  f"members: #{later.run.pk} (undo them first).")


def test_undo_is_refused_while_an_admin_gave_a_member_it_created_a_login():
    first = roster("NickName,DisplayName\n新人一,新人一-某支付-产品-北京\n")
    Member.objects.filter(import_run=first.run.pk).update(user=make_user())
    with pytest.raises(ValueError, match="data was added since to members it created: 1 logins"):
        import_run_undo(run_id=first.run.pk)


def test_undo_never_brings_back_what_a_privacy_request_erased():
    _group, people = world()
    result = roster(LIST, mark_missing_left=True)
    member_erase(member=people["gone"], by=make_user(staff=True), reason="the member asked")
    member_erase(member=people["lin"], by=make_user(staff=True), reason="the member asked")
    erased = everything()

    import_run_undo(run_id=result.run.pk)

    # Back as they were: active again (their period open), but under the erased name, and
    # without the names the erasure deleted.
    gone = Membership.objects.get(member=people["gone"])
    assert (gone.status, gone.left_at, gone.nickname) == ("active", None, f"已注销成员 #{people['gone'].pk}")
    assert MembershipPeriod.objects.get(membership=gone).left_at is None
    lin = Membership.objects.get(member=people["lin"])
    assert (lin.status, lin.nickname) == ("left", f"已注销成员 #{people['lin'].pk}")
    assert Name.objects.filter(member__in=[people["gone"], people["lin"]]).count() == 0
    assert Member.objects.get(pk=people["lin"].pk).wechat_id == ""
    assert [row for row in erased["Member"] if row["id"] == people["lin"].pk] == [
        model_to_dict(Member.objects.get(pk=people["lin"].pk)) | {"id": people["lin"].pk}]


def test_the_command_keeps_dry_run_and_mark_missing_left(tmp_path, capsys):
    world()
    path = tmp_path / "members.csv"
    path.write_text(LIST)
    call_command("import_roster", str(path), group="prodarch", dry_run=True, mark_missing_left=True)
    assert (Member.objects.count(), Membership.objects.get(member__display_name="走了的人").status) == (4, "active")
    call_command("import_roster", str(path), group="prodarch", mark_missing_left=True)
    assert (Member.objects.count(), Membership.objects.get(member__display_name="走了的人").status) == (7, "left")
    out = capsys.readouterr().out
    assert out.count("marked as left                   1") == 2


def test_a_chunk_whose_reading_changed_before_its_write_is_resolved_again_under_the_lock(monkeypatch):
    group = make_group(slug="prodarch")
    holds = services._RosterWriter._plan_holds

    def another_import_meanwhile(writer, plan):
        # Between the chunk's resolution and its write, another import of the group met the
        # same person under the name the list gives, and created them.
        if not Member.objects.filter(display_name="新人一-某支付-产品-北京").exists():
            member = make_member("新人一-某支付-产品-北京")
            make_membership(group, member, nickname="新人一-某支付-产品-北京")
            Name.objects.create(member=member, group=group, name=member.display_name, normalized=member.display_name,
                                source="header", times_seen=1)
        return holds(writer, plan)

    monkeypatch.setattr(services._RosterWriter, "_plan_holds", another_import_meanwhile)
    result = roster("UserName,NickName,DisplayName\nwxid_n1,新人一,新人一-某支付-产品-北京\n")

    assert (result.ok, result.files[0]["members_created"], result.files[0]["names_created"]) == (True, 0, 2)
    member = Member.objects.get()
    assert (member.display_name, member.wechat_id, member.import_run) == ("新人一-某支付-产品-北京", "wxid_n1", None)
    assert Membership.objects.get().member == member


def test_a_refused_undo_in_the_admin_says_why(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser(username="root", password="pw-for-tests-1"))
    first = roster("NickName,DisplayName\n新人一,新人一-某支付-产品-北京\n")
    Member.objects.filter(import_run=first.run.pk).update(user=make_user())
    response = client.post("/admin/importer/importrun/", {
        "action": "undo_runs", "_selected_action": [first.run.pk]}, follow=True)
    assert response.status_code == 200
    assert (f"Import run {first.run.pk} cannot be undone: data was added since to members it created: 1 logins."
            in response.content.decode())
    assert ImportRun.objects.get(pk=first.run.pk).status == "succeeded"


def test_the_journal_keeps_a_name_as_rows_before_does():
    group = make_group(slug="prodarch")
    name = Name.objects.create(member=make_member(), group=group, name="林总", normalized="林总", source="roster",
                               times_seen=3, first_seen=at("2019-01-01", "12:00:00.123456"), last_seen=None)
    first, second = ImportRun.objects.create(group=group), ImportRun.objects.create(group=group)
    services._names_before(first.pk, [name.pk])
    rows_before(run_id=second.pk, rows=Name.objects.filter(pk=name.pk))
    assert RunChange.objects.get(run=first).before == RunChange.objects.get(run=second).before
