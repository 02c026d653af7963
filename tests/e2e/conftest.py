"""Browser tests: Playwright driving Debian's chromium at /usr/bin/chromium.

They are skipped, visibly, where no chromium is installed; we never download a browser.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("XUEJI_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"

# Playwright's sync API runs an event loop in this thread; Django's live server answers
# from its own thread, so the ORM calls the tests make themselves are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests skipped: no chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
                # The browser's own widgets (file pickers, date fields) in Chinese too.
                "--lang=zh-CN",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def live_cast(transactional_db, live_server):
    from tests.conftest import make_cast

    return make_cast()


@pytest.fixture
def page_for(browser, live_server):
    """A logged-in page for a user, at a viewport size, in a language."""
    contexts = []

    def open_page(user, *, width=1280, height=800, language="zh-hans"):
        from tests.conftest import CAST_PASSWORD

        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10000)
        if language != "zh-hans":
            context.add_cookies(
                [{"name": "django_language", "value": language, "url": live_server.url}]
            )
        page.goto(live_server.url + "/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", CAST_PASSWORD)
        page.press("#id_password", "Enter")
        page.wait_for_url(live_server.url + "/")
        return page

    yield open_page
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
