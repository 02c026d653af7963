"""N1 in a real browser: a registrar enters a new pupil from the household register with
the keyboard alone, and the ID number fills in the birth date and sex."""

import datetime

from playwright.sync_api import expect

from tests.e2e.conftest import screenshot
from tests.students.conftest import id_number
from xueji.core import services as calendar_services
from xueji.intake.models import EntryState, IntakeEntry

BIRTH = datetime.date(2019, 3, 15)


def test_a_registrar_enters_a_pupil_without_touching_the_mouse(live_cast, page_for, live_server):
    calendar_services.do_save_school_year(
        actor=None,
        county=live_cast.county,
        start_year=2026,
        autumn_start=datetime.date(2026, 9, 1),
        spring_start=datetime.date(2027, 2, 22),
    )
    page = page_for(live_cast.a1_registrar)
    page.goto(live_server.url + "/intake/enter/")
    keys = page.keyboard

    def next_item(text: str = "") -> None:
        keys.press("Tab")
        if text:
            keys.type(text)

    # The name field has the focus on arrival.
    assert page.evaluate("document.activeElement.name") == "name"
    keys.type("王小雨")
    next_item(id_number(BIRTH, 7, sex="2"))
    keys.press("Tab")  # leaving the ID number fills the birth date, sex and county
    expect(page.locator("#id_birth_date")).to_have_value("2019-03-15")
    expect(page.locator("#id_sex")).to_have_value("2")
    expect(page.locator("#id_hukou_code")).to_have_value("370828")
    # The focus stayed on the sex (filled in), not lost by the swap.
    assert page.evaluate("document.activeElement.name") == "sex"
    next_item("01")  # ethnicity: 01 汉族
    next_item()  # birth date, filled in
    next_item("山东金乡")  # native place
    next_item("370828102000")  # birthplace
    next_item("370828102000")  # household registration: replaces the county filled in
    next_item("1")  # household type: 1 农业户口
    next_item("金乡县胡集镇王庄村")  # home address
    next_item()  # current address: the home address
    next_item()  # mailing address: the home address
    next_item("13853700001")
    next_item("272200")
    next_item("0")  # only child: 0 否
    next_item("1")  # preschool: 1 是
    next_item("王建华")
    next_item("1")  # relation: 1 父亲
    next_item("1")  # guardian: 1 是
    next_item("13853700001")
    next_item()  # ID number of the family member
    next_item("刘芳")
    next_item("2")  # relation: 2 母亲
    next_item("1")  # guardian
    next_item()  # telephone
    screenshot(page, "intake-entry-filled")
    keys.press("Enter")
    page.wait_for_selector(".msg-success")
    assert "王小雨" in page.locator(".messages").inner_text()
    # The same empty form again, the name focused for the next pupil.
    assert page.input_value("#id_name") == ""
    assert page.evaluate("document.activeElement.name") == "name"

    entry = IntakeEntry.objects.get(record__student__name="王小雨")
    assert entry.state == EntryState.ENTERED and entry.school_id == live_cast.school_a1.pk
    assert entry.record.student.birth_date == BIRTH and entry.record.student.sex == "2"
    page.goto(live_server.url + "/intake/")
    assert "王小雨" in page.locator("#pupils").inner_text()
    screenshot(page, "intake-school")


def test_the_intake_pages_fit_a_phone_screen(live_cast, page_for, live_server):
    calendar_services.do_save_school_year(
        actor=None,
        county=live_cast.county,
        start_year=2026,
        autumn_start=datetime.date(2026, 9, 1),
        spring_start=datetime.date(2027, 2, 22),
    )
    page = page_for(live_cast.a1_registrar, width=375, height=667)
    for path in ("/intake/", "/intake/enter/"):
        assert page.goto(live_server.url + path).status == 200
        assert not page.evaluate(
            "document.documentElement.scrollWidth > document.documentElement.clientWidth"
        ), f"{path} scrolls sideways at 375px"
