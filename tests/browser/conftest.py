"""Headless Chromium (Debian's package) driven by Playwright; skipped with the reason where it cannot run."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("Chromium is not installed (as root: apt-get install chromium; make test tries it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -r requirements-dev.txt)")
    # Playwright's sync API runs an event loop in this thread while it is open; the test's own
    # ORM calls are still plain synchronous calls. Allowed for this module only, then put back.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            try:
                chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            except Exception as error:  # noqa: BLE001 - any launch failure is a reason to skip
                pytest.skip(f"Chromium did not start: {error}")
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def phone(browser):
    """A factory of fresh 360-px-wide Chinese browser contexts (one per person)."""
    contexts = []

    def open_context():
        context = browser.new_context(viewport={"width": 360, "height": 780}, locale="zh-CN")
        contexts.append(context)
        return context.new_page()

    yield open_context
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot(request):
    """Save a full-page screenshot as a test artifact: test-artifacts/screenshots/<test>-<n>-<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 100))

    def take(page, name: str) -> Path:
        path = ARTIFACTS / f"{request.node.name}-{next(counter):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
