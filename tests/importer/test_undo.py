"""Undo restores exactly (issue 12): undoing a run gives back the days it touched message for
message, with their talks, talk rows, sign-ins and the rest; it is refused, naming them, while a
later run or an admin's correction touched the same days; member merges made by the run stay;
it never brings back data erased on a privacy request; group admins undo from the run's page
after a page saying what will change."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from community.models import (
    Member,
    MemberMerge,
    Membership,
    MembershipPeriod,
    Message,
    Name,
    NameLink,
    RecordedDay,
    StoredImage,
)
from community.privacy import ERASED_NAME, member_erase
from importer.models import ImportedFile, ImportRun, ImportStatus, RunChange
from importer.undo import UndoRefused, import_run_undo, import_run_undo_plan
from shares.models import Share, ShareRevision, SignIn, TalkMessage
from shares.services import share_edit
from tests.factories import ROLES, client_for, make_cast, make_user
from tests.importer.test_services import run, talk_day, transcript

pytestmark = pytest.mark.django_db

DAY = "2024-03-04"
MODELS = [Member, Name, Membership, MembershipPeriod, Message, RecordedDay, Share, ShareRevision, TalkMessage, SignIn,
          StoredImage, ImportedFile, NameLink, MemberMerge]


def state() -> dict:
    """Every row that an import writes, every field, by table (the ids included)."""
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in MODELS}


def changed_file() -> bytes:
    return talk_day(day=DAY).replace("一般是T+1，也有T+7的".encode(), "一般是T+1".encode())


def test_undoing_a_partial_import_gives_the_day_back_exactly():
    run(("full.md", talk_day(day=DAY)))
    before = state()
    partial = run(("late.md", transcript(DAY, [("09:01:00", "闲聊者", "早上好"), ("23:00:00", "新来的人", "晚安"),
                                              ("23:00:30", "听众一", "晚安")])))
    assert Message.objects.count() == 23

    counts = import_run_undo(run_id=partial.run.pk)

    assert state() == before
    assert (counts["messages"], counts["members"], counts["names"]) == (2, 1, 1)
    assert ImportRun.objects.get(pk=partial.run.pk).status == ImportStatus.UNDONE


def test_undoing_a_replace_gives_back_every_message_with_its_talk_and_sign_ins():
    """The issue's case: undoing a run that replaced a changed file gave back 20 of 21 messages."""
    run(("full.md", talk_day(day=DAY)))
    before = state()
    replaced = run(("changed.md", changed_file()), replace_days=True)
    assert (replaced.counts.messages_removed, replaced.counts.messages_created) == (1, 1)
    one_message = transcript(DAY, [("23:00:00", "闲聊者", "晚安")])
    emptied = run(("one.md", one_message), replace_days=True)
    assert (Message.objects.count(), Share.objects.count(), SignIn.objects.count()) == (1, 0, 0)

    import_run_undo(run_id=emptied.run.pk)
    import_run_undo(run_id=replaced.run.pk)

    assert state() == before


def test_a_fresh_day_undone_is_forgotten_and_can_be_imported_again():
    first = run(("full.md", talk_day(day=DAY)))
    assert RunChange.objects.filter(run=first.run).count() == 0  # a fresh day keeps no journal

    import_run_undo(run_id=first.run.pk)

    assert {name: rows for name, rows in state().items() if rows} == {}
    again = run(("full.md", talk_day(day=DAY)))
    assert (again.counts.files_skipped, again.counts.messages_created) == (0, 21)


def test_undo_is_refused_while_a_later_run_touched_the_same_day_and_names_it():
    first = run(("full.md", talk_day(day=DAY)))
    later = run(("late.md", transcript(DAY, [("23:00:00", "闲聊者", "晚安")])))
    other_day = run(("other.md", transcript("2024-03-05", [("09:00:00", "闲聊者", "早")])))

    with pytest.raises(UndoRefused) as refused:
        import_run_undo(run_id=first.run.pk)

    assert str(refused.value) == (f"Import run {first.run.pk} cannot be undone: later changes touched the same days. "
                                  f"Undo these first: run {later.run.pk} (2024-03-04).")
    assert [(r.id, r.days) for r in refused.value.runs] == [(later.run.pk, (dt.date(2024, 3, 4),))]
    assert Message.objects.count() == 23  # nothing was written
    import_run_undo(run_id=later.run.pk)
    import_run_undo(run_id=first.run.pk)
    assert list(Message.objects.values_list("text", flat=True)) == ["早"]
    assert other_day.run.pk > later.run.pk


def test_undo_is_refused_after_an_admin_corrected_a_talk_of_the_day_and_names_the_share_and_who():
    first = run(("full.md", talk_day(day=DAY)))
    share = Share.objects.get()
    admin = make_user("guanliyuan", staff=True)
    share_edit(share=share, topic="更正后的主题", abstract="", expected_version=share.version, by=admin)

    plan = import_run_undo_plan(run=first.run)
    with pytest.raises(UndoRefused, match=f"the correction of share {share.pk} “更正后的主题” by guanliyuan \\(edited\\)"):
        import_run_undo(run_id=first.run.pk)

    assert (plan.blocked, [(c.share_id, c.author, c.action) for c in plan.corrections]) == (
        True, [(share.pk, "guanliyuan", "edited")])
    assert Share.objects.get().topic == "更正后的主题"


def test_a_run_that_merged_members_is_undone_without_unmerging_them():
    kept, other = "叶子-融汇金信-技术-北京", "Yezi"
    run(("a.md", transcript(DAY, [("10:00:00", other, "早"), ("10:01:00", kept, "早安"), ("10:02:00", "甲乙丙", "好")])))
    yezi = Member.objects.get(display_name=other)
    day_before = list(Message.objects.order_by("pk").values_list("pk", "sender_name", "text"))
    pairs = []
    for n in range(4):
        pairs += [(f"10:0{n}:00", other, f"消息{n}"), (f"10:0{n}:00", kept, f"消息{n}")]
    # One run: the first file replaces the day without Yezi's message (kept in the journal, its
    # sender Yezi's member), the second merges Yezi's member into the other (deleting it).
    merging = run(("a2.md", transcript(DAY, [("10:01:00", kept, "早安"), ("10:02:00", "甲乙丙", "好")])),
                  ("pairs.md", transcript("2024-03-05", pairs)), replace_days=True)
    survivor = Member.objects.get(display_name=kept)
    assert not Member.objects.filter(pk=yezi.pk).exists()

    counts = import_run_undo(run_id=merging.run.pk)

    assert list(Message.objects.order_by("pk").values_list("pk", "sender_name", "text")) == day_before
    assert set(Message.objects.values_list("sender_id", flat=True)) == {survivor.pk, Member.objects.get(display_name="甲乙丙").pk}
    assert not Member.objects.filter(pk=yezi.pk).exists()  # the merge stays: an admin splits it if it was wrong
    assert MemberMerge.objects.filter(into=survivor, merged_member_id=yezi.pk).exists()
    assert counts["messages"] == 4


def test_undo_never_brings_back_data_erased_on_a_privacy_request():
    wang = "王五-某银行-产品-上海"
    run(("a.md", transcript(DAY, [("10:00:00", wang, "我是王五"), ("10:01:00", "甲乙丙", "好")])))
    # A later run replaces the day without Wang's message, and sees Wang again the next day.
    later = run(("a2.md", transcript(DAY, [("10:01:00", "甲乙丙", "好")])),
                ("b.md", transcript("2024-03-05", [("09:00:00", wang, "早")])), replace_days=[dt.date(2024, 3, 4)])
    member = Member.objects.get(display_name=wang)
    assert RunChange.objects.filter(run=later.run, table="community.message").count() == 1
    assert RunChange.objects.filter(run=later.run, table="community.name", before__member=member.pk).count() == 1

    member_erase(member=member, by=make_user(staff=True), reason="本人申请注销")
    import_run_undo(run_id=later.run.pk)

    anonymous = ERASED_NAME.format(id=member.pk)
    assert list(Message.objects.filter(sender=member).values_list("sender_name", "text")) == [(anonymous, "我是王五")]
    assert Name.objects.filter(member=member).count() == 0
    member.refresh_from_db()
    assert (member.display_name, member.name, member.company) == (anonymous, "", "")
    assert Membership.objects.get(member=member).nickname == anonymous
    assert not Message.objects.filter(sender_name=wang).exists()


# --- The pages: the run's undo page, for the group's admins and staff ---------------------------

ALLOWED = {"admin", "staff"}


@pytest.fixture
def cast():
    return make_cast()


def imported(cast, *files, **options):
    return run(*files, slug=cast.group.slug, **options).run


def expected(role, allowed_status):
    if role == "anonymous":
        return 302
    return allowed_status if role in ALLOWED else 403


@pytest.mark.parametrize("role", ROLES)
def test_the_undo_page_is_for_the_groups_admins_and_staff(cast, role):
    done = imported(cast, ("full.md", talk_day(day=DAY)))
    response = client_for(cast, role).get(reverse("import_run_undo", args=["prodarch", done.pk]))
    assert response.status_code == expected(role, 200)


@pytest.mark.parametrize("role", ROLES)
def test_undoing_from_the_page_is_for_the_groups_admins_and_staff(cast, role):
    done = imported(cast, ("full.md", talk_day(day=DAY)))
    response = client_for(cast, role).post(reverse("import_run_undo", args=["prodarch", done.pk]))
    assert response.status_code == expected(role, 302)
    assert (ImportRun.objects.get(pk=done.pk).status, Message.objects.count()) == (
        ("undone", 0) if role in ALLOWED else ("succeeded", 21))


@pytest.mark.parametrize("role", ROLES)
def test_confirming_a_preview_is_for_the_groups_admins_and_staff(cast, role, django_capture_on_commit_callbacks):
    from importer.uploads import import_upload_create

    with django_capture_on_commit_callbacks(execute=True):
        queued = import_upload_create(group=cast.group, user=cast.admin.user, kind="transcripts",
                                      files=[("full.md", talk_day(day=DAY))])
    assert ImportRun.objects.get(pk=queued.pk).status == "previewed"
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(cast, role).post(reverse("import_run_confirm", args=["prodarch", queued.pk]))
    assert response.status_code == expected(role, 302)
    assert (ImportRun.objects.get(pk=queued.pk).status, Message.objects.count()) == (
        ("succeeded", 21) if role in ALLOWED else ("previewed", 0))


def test_a_run_of_another_group_cannot_be_undone_from_this_groups_pages(cast):
    elsewhere = imported(cast, ("full.md", talk_day(day=DAY)))
    ImportRun.objects.filter(pk=elsewhere.pk).update(group=cast.other_group)
    client = client_for(cast, "admin")
    assert client.get(reverse("import_run_undo", args=["prodarch", elsewhere.pk])).status_code == 404
    assert client.post(reverse("import_run_undo", args=["prodarch", elsewhere.pk])).status_code == 404
    assert ImportRun.objects.get(pk=elsewhere.pk).status == "succeeded"


def test_the_undo_page_says_what_will_change_then_undoes(cast):
    imported(cast, ("full.md", talk_day(day=DAY)))
    replaced = imported(cast, ("changed.md", changed_file()), replace_days=True)
    client = client_for(cast, "admin")
    url = reverse("import_run_undo", args=["prodarch", replaced.pk])

    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<span class="days">2024-03-04</span>' in html
    assert "<li>messages to remove: <strong>1</strong></li>" in html
    assert "<li>messages to restore: <strong>1</strong></li>" in html
    # The talk's fields did not change: one Q&A row went with the replaced message, one came with the new one.
    assert "<li>talks to restore: 0</li>" in html
    assert "<li>talk messages to put back: 2</li>" in html
    assert "Members this import merged stay merged" in html
    response = client.post(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response["Location"] == f"/g/prodarch/imports/runs/{replaced.pk}/"
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"Import {replaced.pk} was undone: its days are as they were before it." in page
    assert "Undo this import…" not in page
    texts = set(Message.objects.values_list("text", flat=True))
    assert ("一般是T+1，也有T+7的" in texts, "一般是T+1" in texts) == (True, False)


def test_the_undo_page_names_the_later_runs_and_corrections_to_undo_first(cast):
    first = imported(cast, ("full.md", talk_day(day=DAY)))
    later = imported(cast, ("late.md", transcript(DAY, [("23:00:00", "闲聊者", "晚安")])))
    share = Share.objects.get()
    share_edit(share=share, topic="更正后的主题", abstract="", expected_version=share.version, by=cast.admin.user)
    client = client_for(cast, "admin")
    url = reverse("import_run_undo", args=["prodarch", first.pk])

    response = client.post(url, HTTP_ACCEPT_LANGUAGE="en")

    html = response.content.decode()
    assert response.status_code == 409
    assert "This import cannot be undone now: later changes touched the same days." in html
    assert f'<li><a href="/g/prodarch/imports/runs/{later.pk}/">Import {later.pk}</a> (2024-03-04)</li>' in html
    assert f"“更正后的主题” (share {share.pk}): edited by {cast.admin.user.get_username()}" in html
    assert 'id="undo-confirm"' not in html
    assert Message.objects.count() == 22


@pytest.mark.parametrize("count", [1, 3])
def test_the_undo_page_queries_do_not_grow_with_the_days_or_the_later_runs(cast, count, django_assert_num_queries):
    days = [f"2024-03-0{n + 4}" for n in range(count)]
    first = imported(cast, *[(f"{day}.md", talk_day(day=day)) for day in days])
    for day in days:
        imported(cast, (f"late-{day}.md", transcript(day, [("23:00:00", "闲聊者", "晚安")])))
    client = client_for(cast, "admin")
    # session, user, the group with the user's member and role, the run; the plan: the run's
    # files, its journal by table, the messages, talks, sign-ins and names it created, the later
    # runs and their files, the corrections
    with django_assert_num_queries(13):
        response = client.get(reverse("import_run_undo", args=["prodarch", first.pk]))
    assert response.content.decode().count('<li><a href="/g/prodarch/imports/runs/') == count


@pytest.mark.parametrize("count", [1, 3])
def test_the_previewed_run_page_queries_do_not_grow_with_the_files(cast, count, django_assert_num_queries):
    files = [{"file": f"{n}.md", "status": "imported", "messages": 2, "day": f"2024-03-0{n + 1}", "added": 1, "kept": 1,
              "not_in_file": 1, "removed": 0, "shares": 0, "sign_ins": 0, "talks": []} for n in range(count)]
    run_ = ImportRun.objects.create(group=cast.group, status=ImportStatus.PREVIEWED, dry_run=True, files=files,
                                    preview={"files": files, "counts": {}})
    client = client_for(cast, "admin")
    # session, user, the group with the user's member and role, the run
    with django_assert_num_queries(4):
        response = client.get(reverse("import_run", args=["prodarch", run_.pk]))
    assert response.content.decode().count('name="replace_days"') == count
