"""The school's intake pages (N1, N2, N5): the intake with its states and bulk actions,
and the fast entry form with its ID fill and "same family" copy."""

import datetime

import pytest

from tests.intake.test_primary_flow import enter
from tests.students.conftest import id_number
from xueji.intake import services
from xueji.intake.models import EntryState, ExceptionKind, IntakeEntry
from xueji.students.models import Student

BIRTH = datetime.date(2019, 3, 15)


def typed_pupil(**overrides) -> dict[str, str]:
    """The entry form as a registrar fills it from the household register."""
    row = {
        "name": "王小雨",
        "id_number": id_number(BIRTH, 7, sex="2"),
        "sex": "",
        "ethnicity": "01",
        "birth_date": "",
        "native_place": "山东金乡",
        "birthplace_code": "370828102000",
        "hukou_code": "370828102000",
        "hukou_type": "1",
        "home_address": "金乡县胡集镇王庄村",
        "current_address": "",
        "mailing_address": "",
        "phone": "13853700001",
        "postal_code": "272200",
        "only_child": "0",
        "preschool": "1",
        "family1__name": "王建华",
        "family1__relation": "1",
        "family1__is_guardian": "1",
        "family1__phone": "13853700001",
        "family1__id_number": "",
        "family2__name": "刘芳",
        "family2__relation": "2",
        "family2__is_guardian": "1",
        "family2__phone": "",
        "family2__id_number": "",
    }
    row.update(overrides)
    return row


@pytest.fixture
def a1(cast, client_for, school_year):
    return client_for(cast.a1_registrar)


def test_the_intake_page_lists_a1s_pupils_with_states_and_counts_and_not_b1s(cast, a1, school_year):
    first = enter(cast, school_year, name="张一")
    enter(cast, school_year, name="张二", sequence=2)
    enter(
        cast, school_year, school=cast.school_b1, actor=cast.b1_registrar, name="李三", sequence=3
    )
    services.do_send_for_review([first], actor=cast.a1_registrar)
    response = a1.get("/intake/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "张一" in page and "张二" in page and "李三" not in page
    counts = dict((label, count) for label, count, _ in response.context["counts"])
    assert counts[EntryState.AWAITING_REVIEW.label] == 1
    assert counts[EntryState.ENTERED.label] == 1
    assert "370828********" in page  # the ID number is masked


def test_bulk_send_for_review_moves_the_selected_pupils(cast, a1, school_year):
    first = enter(cast, school_year, name="张一")
    second = enter(cast, school_year, name="张二", sequence=2)
    response = a1.post("/intake/send/", {"entry": [first.pk]})
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == EntryState.AWAITING_REVIEW
    assert second.state == EntryState.ENTERED


def test_the_entry_form_registers_a_pupil_into_the_intake(cast, a1, school_year):
    page = a1.get("/intake/enter/").content.decode()
    assert "autofocus" in page and 'hx-post="/intake/id-fill/"' in page
    response = a1.post("/intake/enter/", typed_pupil())
    assert response.status_code == 302 and response["Location"] == "/intake/enter/"
    entry = IntakeEntry.objects.get(record__student__name="王小雨")
    assert entry.state == EntryState.ENTERED and entry.school == cast.school_a1
    student = entry.record.student
    # The ID number gave the birth date and sex; the addresses left blank are the home's.
    assert student.birth_date == BIRTH and student.sex == "2"
    assert student.current_address == "金乡县胡集镇王庄村"
    assert entry.record.entry_year_month == "202609"
    followed = a1.get("/intake/enter/").content.decode()
    assert "王小雨" in followed  # the message naming the pupil just entered


def test_the_entry_form_shows_field_errors_for_a_bad_id_without_writing(cast, a1, school_year):
    bad = id_number(BIRTH, 7, sex="2")[:-1] + "0"
    if bad == id_number(BIRTH, 7, sex="2"):
        bad = bad[:-1] + "1"
    response = a1.post("/intake/enter/", typed_pupil(id_number=bad, birth_date="2019-03-15"))
    assert response.status_code == 400
    assert response.context["form"].errors["id_number"]
    assert not Student.objects.filter(name="王小雨").exists()
    assert not IntakeEntry.objects.exists()


def test_the_id_fill_returns_birth_date_sex_and_household_county(cast, a1, school_year):
    response = a1.post(
        "/intake/id-fill/", {"id_number": id_number(BIRTH, 7, sex="2"), "hukou_code": ""}
    )
    page = response.content.decode()
    assert 'id="field-birth_date"' in page and 'value="2019-03-15"' in page
    assert 'id="field-sex"' in page and '<option value="2" selected>' in page
    assert 'id="field-hukou_code"' in page and 'value="370828"' in page
    assert page.count('hx-swap-oob="true"') == 3


def test_same_family_copies_the_guardians_from_the_previous_pupil(cast, a1, school_year):
    a1.post("/intake/enter/", typed_pupil())
    page = a1.get("/intake/enter/").content.decode()
    assert 'name="same_family"' in page and "王小雨" in page
    twin = typed_pupil(
        name="王小雪",
        id_number=id_number(BIRTH, 8, sex="2"),
        hukou_code="370828",  # what the ID number filled in: the sibling's code completes it
        hukou_type="",
        home_address="",
        phone="",
        postal_code="",
        same_family="on",
        **{
            f"family{n}__{name}": ""
            for n in (1, 2)
            for name in ("name", "relation", "is_guardian", "phone")
        },
    )
    response = a1.post("/intake/enter/", twin)
    assert response.status_code == 302
    twin_student = Student.objects.get(name="王小雪")
    assert twin_student.hukou_code == "370828102000"
    assert twin_student.home_address == "金乡县胡集镇王庄村"
    family = {member.position: member for member in twin_student.family.all()}
    assert family[1].name == "王建华" and family[2].name == "刘芳"
    assert family[1].phone == "13853700001"


def test_a_five_year_old_shows_the_age_problem_and_the_exception_form_records_it(
    cast, a1, school_year
):
    young = datetime.date(2021, 10, 1)
    response = a1.post(
        "/intake/enter/", typed_pupil(id_number=id_number(young, 9, sex="2")), follow=True
    )
    assert "入学年龄" in response.content.decode() or "Entry age" in response.content.decode()
    entry = IntakeEntry.objects.get()
    assert entry.eligibility_problems
    page = a1.get("/intake/").content.decode()
    assert f'action="/intake/entries/{entry.pk}/exception/"' in page
    refused = a1.post(
        f"/intake/entries/{entry.pk}/exception/",
        {"exception_kind": ExceptionKind.DEFERRAL, "exception_note": ""},
        follow=True,
    )
    entry.refresh_from_db()
    assert entry.exception_kind == ""
    assert "Exception note" in refused.content.decode() or "证明" in refused.content.decode()
    a1.post(
        f"/intake/entries/{entry.pk}/exception/",
        {"exception_kind": ExceptionKind.DEFERRAL, "exception_note": "去年因病缓学，有医院证明"},
    )
    entry.refresh_from_db()
    assert entry.exception_kind == ExceptionKind.DEFERRAL
    assert entry.exception_note == "去年因病缓学，有医院证明"


def test_submit_locks_the_records(cast, a1, school_year):
    entry = enter(cast, school_year)
    services.do_send_for_review([entry], actor=cast.a1_registrar)
    services.do_review([entry], actor=cast.central_a_registrar, admit=True)
    services.do_number([entry], actor=cast.central_a_registrar)
    unconfirmed = a1.post("/intake/submit/", {"entry": [entry.pk]})
    assert unconfirmed.status_code == 302
    entry.refresh_from_db()
    assert entry.state == EntryState.NUMBERED
    a1.post("/intake/submit/", {"entry": [entry.pk], "confirm_lock": "1"})
    entry.refresh_from_db()
    entry.record.refresh_from_db()
    assert entry.state == EntryState.SUBMITTED and entry.record.is_locked


def test_b1_gets_404_or_403_on_a1s_intake(cast, client_for, school_year):
    entry = enter(cast, school_year)
    b1 = client_for(cast.b1_registrar)
    assert b1.get(f"/intake/?school={cast.school_a1.pk}").status_code == 404
    assert b1.get(f"/intake/enter/?school={cast.school_a1.pk}").status_code == 404
    b1.post("/intake/send/", {"entry": [entry.pk]})
    assert b1.post(f"/intake/entries/{entry.pk}/exception/", {}).status_code == 404
    entry.refresh_from_db()
    assert entry.state == EntryState.ENTERED
    assert "张小明" not in b1.get("/intake/").content.decode()


def test_the_central_school_sees_a1s_intake_read_only(cast, client_for, school_year):
    enter(cast, school_year)
    central = client_for(cast.central_a_registrar)
    response = central.get(f"/intake/?school={cast.school_a1.pk}")
    assert response.status_code == 200 and "张小明" in response.content.decode()
    assert not response.context["may_edit"]
    assert 'form="bulk"' not in response.content.decode()


def test_the_bureau_chooses_a_school_first(cast, client_for, school_year):
    enter(cast, school_year)
    bureau = client_for(cast.bureau_registrar)
    page = bureau.get("/intake/").content.decode()
    assert f"/intake/?school={cast.school_a1.pk}" in page


def test_imported_pupils_join_the_intake(cast, a1, school_year, register):
    register(status="pending")
    a1.post("/intake/collect/")
    assert IntakeEntry.objects.filter(school=cast.school_a1).count() == 1
