"""The main pages work under the Content Security Policy in a real browser: an admin (staff and
the group's owner) visits them and the browser reports no violation, and each page rendered
(its scripts ran where it has any: the API docs draw the schema, the admin its sidebar)."""

from __future__ import annotations

import pytest

from community.models import Member, Membership, MembershipRole
from shares.models import Share
from tests.factories import make_user

from ..shares.test_talk_corrections import import_day, record
from .test_schedule_path import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Registered before any page script: the browser's own report of each blocked resource or inline code.
COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""


def test_main_pages_work_under_the_content_security_policy(live_server, phone, screenshot):
    base = live_server.url
    import_day(record())
    share = Share.objects.get()
    operator = make_user("qunzhu", password="pw-for-tests-1", staff=True)
    operator.is_superuser = True
    operator.save()
    host = Member.objects.get(display_name="管理员甲")
    host.user = operator
    host.save()
    Membership.objects.filter(member=host).update(role=MembershipRole.OWNER)

    page = phone()
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(COLLECT_VIOLATIONS)
    login(page, base, "qunzhu", "pw-for-tests-1")

    # Each page and what shows it rendered (for the API docs and the admin: their scripts ran).
    pages = {
        "/": "main h1",
        "/g/prodarch/schedule/": "main h1",
        f"/g/prodarch/talks/{share.pk}/": ".talk-body .paragraph",
        f"/g/prodarch/shares/{share.pk}/history/": ".diff, .list",
        "/talks/": "main h1",
        "/g/prodarch/members/": "main h1",
        "/g/prodarch/seats/": "main h1",
        "/admin/": "#content h1",
        "/admin/community/member/": "#changelist-form",
        "/api/docs/": ".swagger-ui .info .title",
    }
    seen = {}
    for path, rendered in pages.items():
        response = page.goto(base + path)
        page.wait_for_selector(rendered, timeout=15000)
        seen[path] = (response.status, page.evaluate("window.__cspViolations"))
        screenshot(page, path.strip("/").replace("/", "-") or "home")
    assert seen == {path: (200, []) for path in pages}
    assert [text for text in console if "Content Security Policy" in text] == []
    # The admin's own scripts ran (its navigation sidebar toggle is added by JavaScript).
    page.goto(base + "/admin/community/member/")
    assert page.locator("#toggle-nav-sidebar").count() == 1
    # Swagger UI drew the schema's operations from its script file.
    page.goto(base + "/api/docs/")
    page.wait_for_selector(".opblock", timeout=15000)
    assert page.inner_text(".swagger-ui .info .title").startswith("Payment community API")
