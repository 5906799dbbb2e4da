"""The upload pages: who may use them, what an upload shows (progress, then a per-file report),
the size limits, CSRF, and constant query counts."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from community.models import Message
from importer.models import ImportRun, ImportStatus, UploadedFile
from tests.factories import ROLES, client_for, make_cast, make_group
from tests.importer.test_services import talk_day, transcript
from tests.importer.test_uploads import BAD, broker_down  # noqa: F401 — a fixture

pytestmark = pytest.mark.django_db

ALLOWED = {"admin", "staff"}


@pytest.fixture
def cast():
    return make_cast()


def md(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/markdown")


def post_transcripts(client, files, capture, slug="prodarch", **fields):
    with capture(execute=True):
        return client.post(reverse("import_upload", args=[slug]),
                           {"kind": "transcripts", "transcripts-files": files, **fields}, HTTP_ACCEPT_LANGUAGE="en")


def queued_run(group) -> ImportRun:
    run = ImportRun.objects.create(group=group, status=ImportStatus.QUEUED,
                                   progress={"done": 0, "total": 1, "current": ""})
    UploadedFile.objects.create(run=run, position=0, name="a.md", size=3, data=b"abc")
    return run


def expected(role, allowed_status):
    if role == "anonymous":
        return 302
    return allowed_status if role in ALLOWED else 403


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", ["import_upload", "import_images", "import_run", "import_run_progress"])
def test_pages_are_for_the_groups_admins_and_staff(cast, role, page):
    run = queued_run(cast.group)
    args = ["prodarch", run.pk] if page.startswith("import_run") else ["prodarch"]
    response = client_for(cast, role).get(reverse(page, args=args))
    assert response.status_code == expected(role, 200)
    if role == "anonymous":
        assert response["Location"] == f"/accounts/login/?next={reverse(page, args=args)}"


@pytest.mark.parametrize("role", ROLES)
def test_uploading_transcripts_is_for_the_groups_admins_and_staff(cast, role, django_capture_on_commit_callbacks):
    response = post_transcripts(client_for(cast, role), [md("2024-03-04.md", talk_day())],
                                django_capture_on_commit_callbacks)
    assert response.status_code == expected(role, 302)
    # Allowed: the upload is previewed, nothing is written until it is confirmed.
    stored = (list(ImportRun.objects.values_list("status", flat=True)), Message.objects.count())
    assert stored == ((["previewed"], 0) if role in ALLOWED else ([], 0))


@pytest.mark.parametrize("role", ROLES)
def test_uploading_images_is_for_the_groups_admins_and_staff(cast, role, broker_down):  # noqa: F811
    response = client_for(cast, role).post(reverse("import_images", args=["prodarch"]), {
        "images-files": [SimpleUploadedFile("20180307_093808.png", b"png")]})
    assert response.status_code == expected(role, 302)
    assert UploadedFile.objects.count() == (1 if role in ALLOWED else 0)


@pytest.mark.parametrize("role", ROLES)
def test_queueing_again_is_for_the_groups_admins_and_staff(cast, role, broker_down):  # noqa: F811
    run = queued_run(cast.group)
    response = client_for(cast, role).post(reverse("import_run_requeue", args=["prodarch", run.pk]))
    assert response.status_code == expected(role, 302)
    run.refresh_from_db()
    # Refused: nothing was tried; allowed: the broker is down, the reason is kept.
    assert run.progress.get("queue_error", "") == ("no broker is running" if role in ALLOWED else "")


def test_a_run_of_another_group_is_404(cast):
    run = queued_run(cast.other_group)
    client = client_for(cast, "admin")
    assert client.get(reverse("import_run", args=["prodarch", run.pk])).status_code == 404
    assert client.get(reverse("import_run_progress", args=["prodarch", run.pk])).status_code == 404


def test_upload_redirects_to_the_run_which_shows_the_preview_then_the_per_file_report(
        cast, django_capture_on_commit_callbacks):
    client = client_for(cast, "admin")
    response = post_transcripts(client, [md("2024-03-04.md", talk_day()), md("bad.md", BAD)],
                                django_capture_on_commit_callbacks)
    run = ImportRun.objects.get()
    assert response["Location"] == f"/g/prodarch/imports/runs/{run.pk}/"

    html = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "2 file(s) uploaded." in html
    assert "Nothing is written until you confirm." in html
    assert ('<h3><span class="day">2024-03-04</span> <span class="file-name">2024-03-04.md</span></h3>') in html
    assert "<li>messages to add: <strong class=\"to-add\">21</strong></li>" in html
    assert "<li>new talk: “跨境收单的清结算” <span class=\"muted\">周明远-云汇支付-产品-杭州</span></li>" in html
    assert '<p><code class="error">bad.md:9: invalid time 19:61:00</code></p>' in html
    assert 'name="replace_days"' not in html  # nothing stored yet: no day to replace
    assert Message.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(reverse("import_run_confirm", args=["prodarch", run.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert confirmed["Location"] == f"/g/prodarch/imports/runs/{run.pk}/"
    page = client.get(confirmed["Location"], HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    rows = [(f["file"], f["status"]) for f in ImportRun.objects.get().files]
    assert rows == [("2024-03-04.md", "imported"), ("bad.md", "failed")]
    assert "Confirmed: the import is queued." in html
    assert ('<td class="file-name">2024-03-04.md</td>\n      <td>imported</td>\n      '
            "<td>2024-03-04: 21 added, 0 already stored, 0 removed; 1 talks, 3 sign-ins added</td>") in html
    assert ('<td class="file-name">bad.md</td>\n      <td>failed</td>\n      '
            '<td><code class="error">bad.md:9: invalid time 19:61:00</code></td>') in html
    assert f'href="/g/prodarch/imports/runs/{run.pk}/undo/"' in html
    assert "progress.js" not in html  # finished: nothing to poll
    assert Message.objects.count() == 21


def test_the_preview_offers_to_replace_a_day_whose_stored_messages_the_file_lacks(
        cast, django_capture_on_commit_callbacks):
    client = client_for(cast, "admin")
    full = [("09:00:00", "甲乙丙", "早"), ("09:01:00", "丁戊己", "早上好"), ("09:02:00", "甲乙丙", "今天讲什么")]
    run_transcripts = [md("2024-03-04.md", transcript("2024-03-04", full))]
    post_transcripts(client, run_transcripts, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("import_run_confirm", args=["prodarch", ImportRun.objects.get().pk]))
    post_transcripts(client, [md("part.md", transcript("2024-03-04", full[:1] + [("10:00:00", "甲乙丙", "新的")]))],
                     django_capture_on_commit_callbacks)
    run = ImportRun.objects.latest("pk")

    html = client.get(reverse("import_run", args=["prodarch", run.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<li>stored, not in the file: <strong class=\"not-in-file\">2</strong></li>" in html
    assert ('<input type="checkbox" name="replace_days" value="2024-03-04"> Replace this day: remove the 2 stored '
            "messages the file does not have") in html

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("import_run_confirm", args=["prodarch", run.pk]), {"replace_days": ["2024-03-04"]})
    assert sorted(Message.objects.values_list("text", flat=True)) == ["新的", "早"]


def test_progress_json_while_running_and_when_finished(cast):
    run = ImportRun.objects.create(group=cast.group, status=ImportStatus.RUNNING,
                                   progress={"done": 2, "total": 5, "current": "2018-05-03.md", "at": "x"})
    client = client_for(cast, "admin")
    url = reverse("import_run_progress", args=["prodarch", run.pk])
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="en").json() == {
        "id": run.pk, "kind": "transcripts", "status": "running", "finished": False, "stalled": False, "done": 2,
        "total": 5, "current": "2018-05-03.md", "queue_error": "", "text": "2 of 5 file(s) done. Now: 2018-05-03.md"}
    ImportRun.objects.filter(pk=run.pk).update(status=ImportStatus.SUCCEEDED,
                                                progress={"done": 5, "total": 5, "current": ""})
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="en").json() == {
        "id": run.pk, "kind": "transcripts", "status": "succeeded", "finished": True, "stalled": False, "done": 5,
        "total": 5, "current": "", "queue_error": "", "text": "Finished: 5 of 5 file(s)."}


def test_run_page_polls_while_the_run_works(cast):
    run = queued_run(cast.group)
    html = client_for(cast, "admin").get(reverse("import_run", args=["prodarch", run.pk]),
                                         HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'data-url="/g/prodarch/imports/runs/{run.pk}/progress/"' in html
    assert '<script src="/static/importer/progress.js" defer></script>' in html
    assert "<script>" not in html and "style=" not in html  # CSP: no inline script or style
    assert "Waiting for a worker to start the import…" in html


@pytest.mark.django_db(transaction=True)  # the upload commits, so the view sees the task not queued
def test_broker_down_the_upload_is_kept_and_the_page_says_so(cast, broker_down,  # noqa: F811
                                                             django_capture_on_commit_callbacks):
    client = client_for(cast, "admin")
    response = client.post(reverse("import_upload", args=["prodarch"]), {
        "kind": "transcripts", "transcripts-files": [md("2024-03-04.md", talk_day())]}, HTTP_ACCEPT_LANGUAGE="en")
    run = ImportRun.objects.get()
    assert (run.status, UploadedFile.objects.count()) == ("queued", 1)
    html = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The files are saved, but the import could not be started now" in html
    assert "Not started: the task queue is unreachable. It will be queued again within a few minutes." in html
    assert "Queue again" in html

    broker_down()  # the broker is back (tasks eager again)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("import_run_requeue", args=["prodarch", run.pk]))
    run.refresh_from_db()
    assert (run.status, Message.objects.count(), UploadedFile.objects.count()) == ("previewed", 0, 1)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("import_run_confirm", args=["prodarch", run.pk]))
    run.refresh_from_db()
    assert (run.status, Message.objects.count(), UploadedFile.objects.count()) == ("succeeded", 21, 0)


def test_a_file_over_the_limit_is_refused_by_name_and_nothing_is_stored(cast, settings,
                                                                        django_capture_on_commit_callbacks):
    settings.IMPORT_UPLOAD_MAX_BYTES = 1000
    response = post_transcripts(client_for(cast, "admin"), [md("small.md", b"x" * 10), md("big.md", b"x" * 2000)],
                                django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert "big.md is 2.0\xa0KB: a file may be at most 1000\xa0bytes." in response.content.decode()
    assert (ImportRun.objects.count(), UploadedFile.objects.count()) == (0, 0)


def test_an_upload_over_the_request_limit_is_refused(cast, settings, django_capture_on_commit_callbacks):
    settings.IMPORT_REQUEST_MAX_BYTES = 3000
    files = [md(f"{n}.md", b"x" * 1600) for n in range(2)]
    response = post_transcripts(client_for(cast, "admin"), files, django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert "These files make 3.1\xa0KB together: an upload may be at most 2.9\xa0KB." in response.content.decode()
    assert ImportRun.objects.count() == 0


def test_a_file_of_another_kind_is_refused(cast, django_capture_on_commit_callbacks):
    response = post_transcripts(client_for(cast, "admin"), [md("photo.png", b"x")], django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert "photo.png: only these files are accepted here: .markdown, .md, .txt, .zip." in response.content.decode()
    assert ImportRun.objects.count() == 0


def test_a_zip_of_transcripts_is_unpacked_in_name_order(cast, django_capture_on_commit_callbacks):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("2024/2024-03-05.md", transcript("2024-03-05", [("09:00:00", "甲", "早")]))
        archive.writestr("2024/2024-03-04.md", talk_day())
        archive.writestr("__MACOSX/2024/._2024-03-04.md", b"junk")
        archive.writestr("2024/notes.docx", b"ignored")
    response = post_transcripts(client_for(cast, "admin"), [SimpleUploadedFile("days.zip", buffer.getvalue())],
                                django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert [(f["file"], f["status"]) for f in ImportRun.objects.get().preview["files"]] == [
        ("days.zip/2024/2024-03-04.md", "imported"), ("days.zip/2024/2024-03-05.md", "imported")]


def test_a_zip_declaring_more_than_the_limit_is_refused_before_unpacking(cast, settings,
                                                                         django_capture_on_commit_callbacks):
    settings.IMPORT_UPLOAD_MAX_BYTES = 5000
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.md", b"0" * 100_000)  # compresses to a few hundred bytes
    response = post_transcripts(client_for(cast, "admin"), [SimpleUploadedFile("days.zip", buffer.getvalue())],
                                django_capture_on_commit_callbacks)
    assert "days.zip/bomb.md is 97.7\xa0KB: a file may be at most 4.9\xa0KB." in response.content.decode()
    assert ImportRun.objects.count() == 0


def test_a_roster_upload_takes_one_file(cast, django_capture_on_commit_callbacks):
    from tests.importer.test_roster import ROSTER

    client = client_for(cast, "admin")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("import_upload", args=["prodarch"]), {
            "kind": "roster", "roster-files": SimpleUploadedFile("members.csv", ROSTER.encode()),
            "roster-mark_missing_left": "on"})
    run = ImportRun.objects.get()
    assert (response.status_code, run.kind, run.status, run.options["mark_missing_left"]) == (302, "roster", "succeeded", True)
    assert run.files[0]["rows"] == 3


def test_csrf_is_enforced(cast):
    client = client_for(cast, "admin", enforce_csrf_checks=True)
    response = client.post(reverse("import_upload", args=["prodarch"]),
                           {"kind": "transcripts", "transcripts-files": [md("a.md", talk_day())]})
    assert response.status_code == 403
    assert ImportRun.objects.count() == 0


@pytest.mark.parametrize("count", [1, 3])
def test_upload_page_queries_do_not_grow_with_the_runs(cast, count, django_assert_num_queries):
    for _ in range(count):
        ImportRun.objects.create(group=cast.group, status=ImportStatus.SUCCEEDED, counts={"files_read": 2})
    client = client_for(cast, "admin")
    # session, user, the group with the user's member and role, the runs
    with django_assert_num_queries(4):
        response = client.get(reverse("import_upload", args=["prodarch"]))
    assert response.content.decode().count('<td class="status-succeeded">') == count


@pytest.mark.parametrize("count", [1, 3])
def test_run_page_queries_do_not_grow_with_the_files(cast, count, django_assert_num_queries):
    files = [{"file": f"{n}.md", "status": "imported", "messages": 2, "day": "2024-03-04", "shares": 0, "sign_ins": 0}
             for n in range(count)]
    run = ImportRun.objects.create(group=cast.group, status=ImportStatus.SUCCEEDED, files=files)
    client = client_for(cast, "admin")
    # session, user, the group with the user's member and role, the run
    with django_assert_num_queries(4):
        response = client.get(reverse("import_run", args=["prodarch", run.pk]))
    assert response.content.decode().count('<tr class="file-imported">') == count


def test_the_group_nav_links_the_imports_for_admins_only(cast):
    url = reverse("import_upload", args=["prodarch"])
    seats = reverse("member_directory", args=["prodarch"])
    assert f'href="{url}"' in client_for(cast, "admin").get(seats).content.decode()
    assert f'href="{url}"' not in client_for(cast, "member").get(seats).content.decode()


def test_an_unknown_group_is_404(cast):
    make_group(slug="empty")
    assert client_for(cast, "staff").get(reverse("import_upload", args=["nowhere"])).status_code == 404
