"""New-student intake in a real browser (issue 5): each cast member logs in and takes the
step the intake owes them, on the real pages, in Chinese.

1. A rural primary pupil at 胡集镇第三小学: entered and sent for review by the school,
   admitted, photographed and numbered by 胡集镇中心小学, submitted by the school, forwarded
   by the central school, accepted by the bureau (with the class's photo sheet printed).
2. A county-direct pupil at 金乡县实验小学: reviewed and numbered by the bureau, which the
   central school neither sees nor may review; submitted by the school, accepted.
3. A grade-6 pupil graduates at the bureau's year's end; the receiving junior school types
   the primary number; the bureau converts the primary record into a junior one.

live_cast is transactional, so what the test writes is what the live server reads.
"""

import datetime

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.conftest import CAST_PASSWORD
from tests.e2e.conftest import screenshot
from tests.students.conftest import TODAY, id_number, raw_student
from xueji.core import services as calendar_services
from xueji.intake.models import EntryState, IntakeEntry, JuniorCandidate, JuniorDocument
from xueji.orgs import services as org_services
from xueji.orgs.models import Role
from xueji.students import services as student_services
from xueji.students.models import RecordStage, Status
from xueji.students.validation import validate_student

STEP_TIMEOUT = 15_000


# --- Builders --------------------------------------------------------------------------------


def save_year(county, start: int):
    return calendar_services.do_save_school_year(
        actor=None,
        county=county,
        start_year=start,
        autumn_start=datetime.date(start, 9, 1),
        spring_start=datetime.date(start + 1, 2, 22),
    )


@pytest.fixture
def year(live_cast):
    """The 2026-27 school year, current on the test's day (its autumn has started)."""
    return save_year(live_cast.county, 2026)


def make_photo(tmp_path):
    """A passport-style photo: light blue, 358×441, JPEG."""
    path = tmp_path / "photo.jpg"
    Image.new("RGB", (358, 441), (170, 205, 235)).save(path, "JPEG", quality=90)
    return path


# --- What the users do on the pages ----------------------------------------------------------


def open_page(page, live_server, path: str) -> None:
    response = page.goto(live_server.url + path)
    assert response is not None and response.status == 200, (
        f"{path}: {response and response.status}"
    )


def press(page, button) -> None:
    """Click a button that posts a form, and wait for the page the server answers with."""
    with page.expect_navigation(timeout=STEP_TIMEOUT):
        button.click()


def succeeded(page) -> None:
    expect(page.locator(".msg-success")).to_be_visible()
    expect(page.locator(".msg-error")).to_have_count(0)


def enter_pupil(
    page, live_server, *, name: str, birth: datetime.date, sequence: int
) -> IntakeEntry:
    """/intake/enter/: the registrar fills the form from the household register and saves."""
    open_page(page, live_server, "/intake/enter/")
    form = page.locator("#entry-form")
    form.locator("[name=name]").fill(name)
    form.locator("[name=id_number]").fill(id_number(birth, sequence, sex="2"))
    form.locator("[name=id_number]").press("Tab")
    # Leaving the ID number fills the birth date, sex and county; wait for it before the
    # fields around it are filled, so the swap does not undo them.
    expect(page.locator("#id_birth_date")).to_have_value(birth.isoformat())
    expect(page.locator("#id_sex")).to_have_value("2")
    form.locator("[name=ethnicity]").select_option("01")
    form.locator("[name=native_place]").fill("山东金乡")
    form.locator("[name=birthplace_code]").fill("370828102000")
    form.locator("[name=hukou_code]").fill("370828102000")
    form.locator("[name=hukou_type]").select_option("1")
    form.locator("[name=home_address]").fill("金乡县胡集镇王庄村")
    form.locator("[name=phone]").fill("13853700001")
    form.locator("[name=postal_code]").fill("272200")
    form.locator("[name=only_child]").select_option("0")
    form.locator("[name=preschool]").select_option("1")
    form.locator("[name=family1__name]").fill("王建华")
    form.locator("[name=family1__relation]").select_option("1")
    form.locator("[name=family1__is_guardian]").select_option("1")
    form.locator("[name=family1__phone]").fill("13853700001")
    form.locator("[name=family2__name]").fill("刘芳")
    form.locator("[name=family2__relation]").select_option("2")
    form.locator("[name=family2__is_guardian]").select_option("1")
    press(page, form.locator("button[type=submit]"))
    succeeded(page)
    assert name in page.locator(".messages").inner_text()
    return IntakeEntry.objects.get(record__student__name=name)


def send_for_review(page, live_server, entry: IntakeEntry) -> None:
    open_page(page, live_server, "/intake/")
    page.locator(f"#choose-{entry.pk}").check()
    press(page, page.locator("#bulk button[formaction$='/intake/send/']"))
    succeeded(page)


def submit(page, live_server, entry: IntakeEntry) -> None:
    """/intake/: tick the pupil and the confirmation of the lock, then submit."""
    open_page(page, live_server, "/intake/")
    page.locator(f"#choose-{entry.pk}").check()
    page.locator("#confirm-lock").check()
    press(page, page.locator("#bulk button[formaction$='/intake/submit/']"))
    succeeded(page)


def review_url(school) -> str:
    return f"/intake/review/?school={school.pk}"


def admit(page, live_server, school, entry: IntakeEntry) -> None:
    open_page(page, live_server, review_url(school))
    page.locator(f"#review-form input[name=entry][value='{entry.pk}']").check()
    press(page, page.locator("#review-form button[name=action][value=admit]"))
    succeeded(page)


def assign_numbers(page, live_server, school) -> None:
    open_page(page, live_server, review_url(school))
    expect(page.locator("#identity-confirmed")).to_be_checked()  # G numbers from the ID
    press(page, page.locator("#numbers button[type=submit]"))
    succeeded(page)


def accept(page, live_server, school, entry: IntakeEntry) -> None:
    open_page(page, live_server, "/intake/accept/")
    group = page.locator(f"#school-{school.pk}")
    expect(group.locator(f"input[name=entry][value='{entry.pk}']")).to_be_checked()
    press(page, group.locator("button[name=action][value=accept]"))
    succeeded(page)


def state_of(entry: IntakeEntry) -> str:
    entry.refresh_from_db()
    return entry.state


# --- 1. A rural primary pupil ----------------------------------------------------------------


def test_a_rural_pupil_goes_from_entry_to_an_accepted_record(
    live_cast, year, page_for, live_server, tmp_path
):
    cast, school = live_cast, live_cast.school_a1
    a1 = page_for(cast.a1_registrar)
    entry = enter_pupil(
        a1, live_server, name="王小雨", birth=datetime.date(2019, 3, 15), sequence=7
    )
    assert entry.state == EntryState.ENTERED and entry.school_id == school.pk
    send_for_review(a1, live_server, entry)
    assert state_of(entry) == EntryState.AWAITING_REVIEW

    # The central school admits, photographs and numbers.
    central = page_for(cast.central_a_registrar)
    admit(central, live_server, school, entry)
    assert state_of(entry) == EntryState.ADMITTED
    item = central.locator(f"#photos #entry-{entry.pk}")
    item.locator("input[type=file][name=photo]").set_input_files(make_photo(tmp_path))
    press(central, item.locator("button[type=submit]"))
    succeeded(central)
    assert state_of(entry) == EntryState.PHOTOGRAPHED
    expect(central.locator(f"#photos #entry-{entry.pk} .intake-thumb img")).to_be_visible()
    screenshot(central, "intake-review")
    assign_numbers(central, live_server, school)
    assert state_of(entry) == EntryState.NUMBERED
    entry.record.refresh_from_db()
    expect(central.locator("#numbers")).to_contain_text(entry.record.provincial_number)

    # The school completes and submits: the record locks.
    submit(a1, live_server, entry)
    assert state_of(entry) == EntryState.SUBMITTED
    # The bureau sees it as waiting at the central school, not yet to accept.
    bureau = page_for(cast.bureau_registrar)
    open_page(bureau, live_server, "/intake/accept/")
    expect(bureau.locator(f"#school-{school.pk}")).to_have_count(0)
    expect(bureau.locator("#at-central")).to_contain_text(school.name)

    # The central school forwards.
    open_page(central, live_server, review_url(school))
    expect(central.locator(f"#submitted input[name=entry][value='{entry.pk}']")).to_be_checked()
    press(central, central.locator("#submitted button[name=action][value=forward]"))
    succeeded(central)
    assert state_of(entry) == EntryState.FORWARDED

    # The bureau prints the class's photo sheet, then accepts.
    open_page(bureau, live_server, "/intake/accept/")
    sheet = bureau.locator(f"#school-{school.pk} a[href*='/intake/photo-sheet/']")
    expect(sheet).to_have_count(1)
    response = bureau.request.get(live_server.url + sheet.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/pdf")
    assert response.body().startswith(b"%PDF")
    accept(bureau, live_server, school, entry)

    assert state_of(entry) == EntryState.ACCEPTED
    record = entry.record
    record.refresh_from_db()
    student = record.student
    student.refresh_from_db()
    assert record.status == Status.ENROLLED and record.is_locked
    assert record.provincial_number
    assert student.national_number.startswith("G")
    assert student.photo


# --- 2. A county-direct pupil ----------------------------------------------------------------


def test_a_county_direct_pupil_is_reviewed_and_numbered_by_the_bureau(
    live_cast, year, page_for, live_server
):
    cast, school = live_cast, live_cast.school_c
    c = page_for(cast.c_registrar)
    entry = enter_pupil(c, live_server, name="李思琪", birth=datetime.date(2019, 5, 20), sequence=8)
    assert entry.school_id == school.pk
    send_for_review(c, live_server, entry)

    # The central school of 胡集镇 neither lists nor may open the county school.
    central = page_for(cast.central_a_registrar)
    open_page(central, live_server, "/intake/review/")
    expect(central.locator("#schools")).not_to_contain_text(school.name)
    response = central.goto(live_server.url + review_url(school))
    assert response.status in (403, 404)

    bureau = page_for(cast.bureau_registrar)
    admit(bureau, live_server, school, entry)
    assert state_of(entry) == EntryState.ADMITTED
    assign_numbers(bureau, live_server, school)
    assert state_of(entry) == EntryState.NUMBERED

    submit(c, live_server, entry)
    assert state_of(entry) == EntryState.SUBMITTED
    # No central school in between: the submission waits for the bureau at once.
    accept(bureau, live_server, school, entry)

    assert state_of(entry) == EntryState.ACCEPTED
    record = entry.record
    record.refresh_from_db()
    assert record.status == Status.ENROLLED and record.is_locked and record.provincial_number
    assert record.student.national_number.startswith("G")


# --- 3. Junior intake ------------------------------------------------------------------------


def test_a_graduate_is_collected_by_the_junior_school_and_converted(
    live_cast, year, page_for, live_server
):
    cast = live_cast
    junior = org_services.do_create_school(
        actor=None,
        township=cast.township_b,
        name="羊山镇中学",
        school_code="3708280510",
        stage="junior",
        ordinal=10,
        county_ordinal=5,
    )
    junior_registrar = org_services.do_create_user(
        actor=None,
        unit=junior,
        username="ysz",
        password=CAST_PASSWORD,
        role=Role.SCHOOL_REGISTRAR,
        must_change_password=False,
    )
    checked = validate_student(
        raw_student(
            name="赵子涵",
            grade="6",
            birth=datetime.date(2014, 3, 1),
            entry_year_month="202109",
            sequence=5,
        ),
        today=TODAY,
    )
    assert checked.ok, [problem.message for problem in checked.errors]
    sixth = student_services.do_register_student(
        checked.values,
        actor=cast.a1_registrar,
        school=cast.school_a1,
        school_year=year,
        status="enrolled",
    )
    student_services.do_assign_numbers(sixth.record, actor=cast.a1_registrar)
    primary = sixth.record
    primary.refresh_from_db()
    assert primary.provincial_number
    save_year(cast.county, 2027)

    # The bureau runs the year's end: the grade-6 pupil graduates.
    bureau = page_for(cast.bureau_registrar)
    open_page(bureau, live_server, "/intake/year-end/")
    expect(bureau.locator("#preview")).to_contain_text(cast.school_a1.name)
    press(bureau, bureau.locator("#preview button[type=submit]"))
    succeeded(bureau)
    primary.refresh_from_db()
    assert primary.status == Status.GRADUATED

    # The junior school types the primary number, with the document shown.
    school_page = page_for(junior_registrar)
    # The coming school year asked for; the page's collect form does not carry it on (see
    # the report of issue 5), so the year is not asserted below.
    open_page(school_page, live_server, "/intake/junior/?year=2027")
    school_page.locator("#junior-numbers").fill(primary.provincial_number)
    school_page.locator("#junior-document").select_option(JuniorDocument.CERTIFICATE)
    press(school_page, school_page.locator("#collect button[type=submit]"))
    succeeded(school_page)
    candidate = JuniorCandidate.objects.get(school=junior)
    assert candidate.primary_record_id == primary.pk and not candidate.problem
    expect(school_page.locator(f"#candidate-{candidate.pk}")).to_contain_text("赵子涵")

    # The bureau converts it.
    open_page(bureau, live_server, "/intake/junior/")
    row = bureau.locator(f"#candidate-{candidate.pk}")
    expect(row.locator("input[name=candidate]")).to_be_checked()
    press(bureau, bureau.locator("#convert-form button[type=submit]"))
    succeeded(bureau)
    candidate.refresh_from_db()
    junior_record = candidate.junior_record
    assert junior_record is not None
    assert junior_record.school_id == junior.pk and junior_record.stage == RecordStage.JUNIOR
    assert junior_record.status == Status.ENROLLED
    assert junior_record.provincial_number.startswith("22728")  # junior: 2, then the year
    assert junior_record.provincial_number != primary.provincial_number
    assert junior_record.student_id == primary.student_id
    expect(bureau.locator(f"#candidate-{candidate.pk}")).to_contain_text(
        junior_record.provincial_number
    )
    primary.refresh_from_db()
    assert primary.status == Status.GRADUATED
