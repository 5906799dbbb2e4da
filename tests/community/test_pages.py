"""Login, logout, assets served by the app, and the API documentation without a CDN."""

import re

import pytest
from django.urls import reverse

from importer.demo import demo_admin, demo_load
from tests.factories import make_user

pytestmark = pytest.mark.django_db
EXTERNAL = re.compile(r"""(?:src|href)=["']?(?:https?:)?//""")


def test_login_page_in_chinese_and_login_then_logout(client):
    make_user("zhou", password="pw-for-tests-1")
    page = client.get(reverse("login")).content.decode()
    assert "<h1>登录</h1>" in page
    response = client.post(reverse("login"), {"username": "zhou", "password": "pw-for-tests-1"})
    assert (response.status_code, response.url) == (302, "/")
    assert client.get(reverse("home")).context["user"].username == "zhou"
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).context["user"].is_authenticated is False


def test_login_wrong_password_shows_an_error(client):
    make_user("zhou", password="pw-for-tests-1")
    response = client.post(reverse("login"), {"username": "zhou", "password": "wrong"})
    assert response.status_code == 200
    assert response.context["form"].errors["__all__"] == ["请输入一个正确的用户名和密码。注意，两者都区分大小写。"]


@pytest.mark.parametrize("url", ["/", "/accounts/login/", "/api/docs/"])
def test_pages_load_no_asset_from_another_site(admin_client, url):
    page = admin_client.get(url).content.decode()
    assert EXTERNAL.findall(page) == []


def test_page_has_phone_viewport_and_the_apps_stylesheet(client):
    page = client.get("/").content.decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert '<link rel="stylesheet" href="/static/community/site.css">' in page
    css = b"".join(client.get("/static/community/site.css").streaming_content)
    assert b"@media (min-width: 48rem)" in css


def test_api_docs_assets_served_by_the_app(admin_client):
    page = admin_client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page


def test_demo_data_generated_through_the_importer(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    lines = []
    totals = demo_load(days=3, messages_per_day=40, out=lines.append)
    from community.models import Group, Membership, Message
    from shares.models import Share

    assert sorted(Group.objects.values_list("slug", flat=True)) == ["devarch", "prodarch", "proddev"]
    assert totals["messages"] == Message.objects.count() >= 3 * 3 * 40
    assert Share.objects.filter(status="scheduled").count() == 6
    assert Membership.objects.filter(role="owner").count() == 3
    assert len(lines) == 3
    username, password = demo_admin()
    assert username == "admin"
    assert (tmp_path / "demo-admin-password").read_text() == password
    assert demo_admin() == (username, password)
