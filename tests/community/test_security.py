"""Security headers on every response, pages that work under the Content Security Policy (no
inline script, style or event handler), and production's HTTPS settings."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from community.models import MessageKind, StoredImage
from tests.factories import at, make_cast, make_message

from .test_settings import STRONG_KEY, _run_django

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def security_headers(response) -> dict[str, str | None]:
    names = ["Content-Security-Policy", "Referrer-Policy", "X-Content-Type-Options", "X-Frame-Options",
             "Cross-Origin-Opener-Policy"]
    return {name: response.headers.get(name) for name in names}


EXPECTED_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/talks/", "/api/flags/", "/api/docs/", "/nowhere/"])
def test_every_response_carries_the_security_headers(path):
    response = Client().get(path)
    assert (response.status_code, security_headers(response)) == (
        {"/": 200, "/accounts/login/": 200, "/talks/": 200, "/api/flags/": 403, "/api/docs/": 200,
         "/nowhere/": 404}[path],
        EXPECTED_HEADERS,
    )


def test_admin_pages_carry_the_security_headers(staff_client):
    response = staff_client.get("/admin/")
    assert (response.status_code, security_headers(response)) == (200, EXPECTED_HEADERS)


def test_stored_image_keeps_its_stricter_policy():
    cast = make_cast()
    message = make_message(cast.group, cast.member.member, at("2018-05-20"), "", kind=MessageKind.IMAGE)
    StoredImage.objects.create(message=message, file=ContentFile(b"\x89PNG\r\n\x1a\n", name="a.png"))
    client = Client()
    client.force_login(cast.member.user)
    response = client.get(f"/images/{message.pk}/")
    assert (response.status_code, response["Content-Security-Policy"]) == (200, "default-src 'none'")


def test_api_docs_load_their_script_from_the_app():
    page = Client().get("/api/docs/")
    html = page.content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert [attributes for attributes, _body in scripts] == [
        ' src="/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"',
        ' src="/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-standalone-preset.js"',
        ' src="/api/docs/?script="',
    ]
    assert [body.strip() for _attributes, body in scripts] == ["", "", ""]
    assert "<style" not in html
    script = Client().get("/api/docs/?script=")
    assert (script.status_code, script["Content-Type"]) == (200, "application/javascript")
    assert "/api/schema/" in script.content.decode()


# Inline code the CSP would block: <script> without src, <style> blocks, style= attributes and
# on…= event handlers (templates), and code the JS would build that the CSP blocks.
_INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=", re.I)
_JS_BLOCKED = re.compile(r"\beval\(|new Function\(|\.innerHTML\s*=|setAttribute\(\s*['\"](?:style|on[a-z]+)['\"]")


def _project_files(pattern: str) -> list[Path]:
    roots = [REPO / "templates", *(REPO / app for app in ("community", "shares", "importer"))]
    return sorted(path for root in roots for path in root.rglob(pattern))


def test_templates_have_no_inline_script_style_or_handler():
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in _project_files("*.html")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if _INLINE.search(line)
    ]
    assert found == []


def test_scripts_build_no_code_the_policy_blocks():
    scripts = _project_files("*.js")
    assert scripts  # The check below reads something.
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in scripts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if _JS_BLOCKED.search(line)
    ]
    assert found == []


def _production_settings(**env) -> dict:
    names = ["SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SESSION_COOKIE_SECURE",
             "CSRF_COOKIE_SECURE", "SECURE_PROXY_SSL_HEADER", "LOGIN_THROTTLE_BEHIND_PROXY", "DEBUG",
             "CONTENT_SECURITY_POLICY", "X_FRAME_OPTIONS", "SECURE_REFERRER_POLICY"]
    code = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name, None) for name in {names!r}}}))"
    )
    result = _run_django(["shell", "--no-imports", "-c", code], DJANGO_ENV="production", SECRET_KEY=STRONG_KEY,
                         ALLOWED_HOSTS="community.example.org", **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.slow
def test_production_is_https_only():
    assert _production_settings() == {
        "SECURE_SSL_REDIRECT": True, "SECURE_HSTS_SECONDS": 31536000, "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"], "LOGIN_THROTTLE_BEHIND_PROXY": True,
        "DEBUG": False, "CONTENT_SECURITY_POLICY": CSP, "X_FRAME_OPTIONS": "DENY", "SECURE_REFERRER_POLICY": "same-origin",
    }


@pytest.mark.slow
def test_production_mode_with_debug_refuses_to_start():
    result = _run_django(["check"], DJANGO_ENV="production", SECRET_KEY=STRONG_KEY,
                         ALLOWED_HOSTS="community.example.org", DEBUG="1")
    assert result.returncode != 0
    assert "DEBUG must be off when DJANGO_ENV=production." in result.stderr


@pytest.mark.slow
def test_production_secret_key_comes_from_the_environment_only():
    # The key the process was given is the key it uses: nothing in the code supplies one.
    other_key = "z9-" + "Pq7!Lm3#Vb8$Xc1%" * 4
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    result = _run_django(["shell", "--no-imports", "-c", code], DJANGO_ENV="production", SECRET_KEY=other_key,
                         ALLOWED_HOSTS="community.example.org")
    assert (result.returncode, result.stdout.strip()) == (0, other_key)


@pytest.mark.django_db
def test_a_null_character_in_parameters_is_a_clear_400_not_a_server_error(client):
    # PostgreSQL refuses NUL in text: a lookup by such a value used to end in a 500 (the API fuzz test found it).
    api = client.get("/api/flags/?group=%00")
    page = client.get("/talks/?q=a%00b")
    form = client.post("/accounts/login/", {"username": "a\x00b", "password": "x"})
    key = client.get("/talks/?a%00=1")

    assert (api.status_code, api.json()) == (400, {"detail": "Null characters are not allowed in the request's parameters."})
    assert (page.status_code, page.content.decode()) == (400, "Null characters are not allowed in the request's parameters.")
    assert (form.status_code, key.status_code) == (400, 400)
    assert client.get("/talks/?q=abc").status_code == 200


# --- Request size ---


class Body:
    """A request body that counts the reads: refused requests must not be read at all."""

    def __init__(self, data: bytes = b""):
        self.data, self.reads = data, 0

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        chunk, self.data = (self.data, b"") if size is None or size < 0 else (self.data[:size], self.data[size:])
        return chunk

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


def post_declaring(client: Client, path: str, length: int, data: bytes = b"", **headers):
    body = Body(data)
    # The body and its headers given as the WSGI server gives them (the client sets them only for data it holds).
    response = client.generic("POST", path, CONTENT_TYPE="multipart/form-data; boundary=BoUnDaRy",
                              CONTENT_LENGTH=str(length), **{"wsgi.input": body}, **headers)
    return response, body


def test_the_body_limit_is_the_largest_upload_plus_room_for_the_other_fields(settings):
    assert settings.REQUEST_BODY_MAX_BYTES == (
        max(settings.IMPORT_REQUEST_MAX_BYTES, settings.IMAGE_REQUEST_MAX_BYTES)
        + settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024 * settings.DATA_UPLOAD_MAX_NUMBER_FILES
    ) == 200 * 1024 * 1024 + 2_621_440 + 2_048_000


@pytest.mark.django_db
def test_a_body_over_the_limit_is_refused_with_413_before_it_is_read(settings):
    # A 10 GB upload on the image page: refused on its Content-Length, nothing read, nothing stored.
    from importer.models import ImportRun

    cast = make_cast()
    client = Client()
    client.force_login(cast.admin.user)
    response, body = post_declaring(client, "/g/prodarch/imports/images/", 10 * 1024**3, HTTP_ACCEPT_LANGUAGE="en")
    assert (response.status_code, response["Content-Type"], response.content.decode()) == (
        413, "text/plain; charset=utf-8", "This request is 10.0\xa0GB: the largest accepted is 204.5\xa0MB.")
    assert (body.reads, ImportRun.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_the_body_limit_refuses_one_byte_over_and_passes_the_limit_itself(settings):
    settings.REQUEST_BODY_MAX_BYTES = 100
    form = b"username=wangfang&password=" + b"x" * 73
    assert len(form) == 100
    results = []
    for data in (form, form + b"x"):
        body = Body(data)
        response = Client().generic("POST", "/accounts/login/", CONTENT_TYPE="application/x-www-form-urlencoded",
                                    CONTENT_LENGTH=str(len(data)), **{"wsgi.input": body})
        results.append((response.status_code, body.reads > 0))
    assert results == [(200, True), (413, False)]


@pytest.mark.django_db
def test_a_body_over_the_limit_on_the_api_is_a_json_413_in_the_visitors_language():
    english, _body = post_declaring(Client(), "/api/members/merge/", 300 * 1024**2, HTTP_ACCEPT_LANGUAGE="en")
    chinese, body = post_declaring(Client(), "/api/members/merge/", 300 * 1024**2)
    assert (english.status_code, english.json()) == (
        413, {"detail": "This request is 300.0\xa0MB: the largest accepted is 204.5\xa0MB."})
    assert (chinese.status_code, chinese.json(), body.reads) == (
        413, {"detail": "请求大小为 300.0\xa0MB，超过了允许的上限 204.5\xa0MB。"}, 0)
