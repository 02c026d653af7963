"""The pages in a real browser: keyboard login, Chinese and English, phone-sized screens."""

import pytest

from tests.e2e.conftest import screenshot

PHONE = {"width": 375, "height": 667}
SETUP_PAGES = ["/", "/setup/units/", "/setup/users/", "/setup/calendar/", "/units/", "/overview/"]


def has_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )


def test_a_registrar_logs_in_with_the_keyboard_and_sees_the_chinese_dashboard(live_cast, page_for):
    page = page_for(live_cast.a1_registrar)
    assert page.locator("h1").inner_text() == "胡集镇第三小学"
    assert "截止日期" in page.locator("#deadlines").inner_text()
    screenshot(page, "dashboard-school-zh")


def test_the_english_switch_shows_english_pages(live_cast, page_for, live_server):
    page = page_for(live_cast.bureau_registrar)
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert "Deadlines" in page.locator("#deadlines").inner_text()
    assert page.locator("html").get_attribute("lang") == "en"
    screenshot(page, "dashboard-bureau-en")


@pytest.mark.parametrize("path", SETUP_PAGES)
def test_dashboard_and_setup_pages_fit_a_phone_screen(live_cast, page_for, live_server, path):
    page = page_for(live_cast.bureau_registrar, **PHONE)
    response = page.goto(live_server.url + path)
    assert response.status == 200
    assert not has_horizontal_scroll(page), f"{path} scrolls sideways at 375px"
    if path == "/":
        screenshot(page, "dashboard-bureau-phone")


def test_the_phone_menu_opens_and_shows_only_the_roles_sections(live_cast, page_for):
    page = page_for(live_cast.a1_registrar, **PHONE)
    page.get_by_text("菜单").click()
    nav = page.locator("nav.nav")
    assert nav.is_visible()
    text = nav.inner_text()
    assert "审计日志" not in text and "乡镇与学校" not in text
    assert "修改密码" in text


def test_pages_raise_no_content_security_policy_violation(live_cast, page_for, live_server):
    page = page_for(live_cast.bureau_registrar)
    problems = []
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    for path in SETUP_PAGES:
        page.goto(live_server.url + path)
    assert problems == []
