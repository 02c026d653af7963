"""The bureau's intake pages: junior intake (N7, N8), the year's end, catchments (N1)."""

import datetime

import pytest

from tests.intake.test_primary_flow import enter
from xueji.audit.models import AuditEvent
from xueji.core import services as calendar_services
from xueji.intake import services
from xueji.intake.models import Catchment, JuniorCandidate
from xueji.orgs import services as org_services
from xueji.orgs.models import Role
from xueji.students import services as student_services
from xueji.students.models import Status

GRADE_SIX = {"grade": "6", "birth": datetime.date(2014, 3, 1), "entry_year_month": "202109"}


@pytest.fixture
def english(client):
    client.cookies["django_language"] = "en"


@pytest.fixture
def next_year(cast, school_year):
    return calendar_services.do_save_school_year(
        actor=None,
        county=cast.county,
        start_year=2027,
        autumn_start=datetime.date(2027, 9, 1),
        spring_start=datetime.date(2028, 2, 21),
    )


@pytest.fixture
def junior(cast):
    school = org_services.do_create_school(
        actor=None,
        township=cast.township_b,
        name="羊山镇中学",
        school_code="3708280510",
        stage="junior",
        ordinal=10,
        county_ordinal=5,
    )
    registrar = org_services.do_create_user(
        actor=None,
        unit=school,
        username="ysz",
        password="long-enough-password-1",
        role=Role.SCHOOL_REGISTRAR,
        must_change_password=False,
    )
    return school, registrar


def graduated(cast, register, school_year, next_year, **overrides):
    done = register(**GRADE_SIX, **overrides)
    student_services.do_assign_numbers(done.record, actor=cast.a1_registrar)
    return done


# --- Junior intake ----------------------------------------------------------------------------


def test_the_junior_page_collects_numbers_and_shows_a_not_found_one(
    cast, register, school_year, next_year, junior, client_for, english
):
    school, registrar = junior
    sixth = graduated(cast, register, school_year, next_year)
    sixth.record.refresh_from_db()
    client = client_for(registrar)
    client.post(
        "/intake/junior/collect/",
        {
            "numbers": f"{sixth.record.provincial_number}\n1269999999999\n",
            "document_shown": "certificate",
        },
    )
    found, missing = JuniorCandidate.objects.filter(school=school).order_by("pk")
    assert found.primary_record == sixth.record and missing.problem == "not_found"
    page = client.get("/intake/junior/").content.decode()
    assert sixth.student.name in page and cast.school_a1.name in page
    assert "1269999999999" in page and "No primary record found" in page


def test_a_junior_number_without_a_document_is_refused(
    cast, register, school_year, junior, client_for
):
    school, registrar = junior
    response = client_for(registrar).post(
        "/intake/junior/collect/", {"numbers": "1269999999999", "document_shown": ""}, follow=True
    )
    assert not JuniorCandidate.objects.exists()
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_the_bureau_converts_the_collected_students(
    cast, register, school_year, next_year, junior, client_for
):
    school, registrar = junior
    sixth = graduated(cast, register, school_year, next_year)
    services.do_year_end(cast.county, school_year, next_year, actor=cast.bureau_registrar)
    sixth.record.refresh_from_db()
    assert sixth.record.status == Status.GRADUATED
    client_for(registrar).post(
        "/intake/junior/collect/",
        {"numbers": f"{sixth.record.provincial_number}\nnonsense", "document_shown": "record_card"},
    )
    good = JuniorCandidate.objects.get(primary_record=sixth.record)
    bureau = client_for(cast.bureau_registrar)
    page = bureau.get("/intake/junior/").content.decode()
    assert 'id="problems"' in page and "NONSENSE" in page
    bureau.post("/intake/junior/convert/", {"candidate": [good.pk]})
    good.refresh_from_db()
    assert good.junior_record.school == school and good.junior_record.stage == "junior"
    assert good.junior_record.student == sixth.student


def test_a_primary_school_may_not_collect_junior_numbers(cast, school_year, client_for):
    client = client_for(cast.a1_registrar)
    assert client.get("/intake/junior/").status_code == 403
    assert client.post("/intake/junior/collect/", {"numbers": "1"}).status_code == 403
    assert client.post("/intake/junior/convert/").status_code == 403


# --- The year's end ---------------------------------------------------------------------------


def test_the_year_end_page_previews_and_runs_and_a_second_run_changes_nothing(
    cast, register, school_year, next_year, client_for
):
    first = register(sequence=1)
    sixth = register(sequence=2, **GRADE_SIX)
    client = client_for(cast.bureau_registrar)
    plan = client.get("/intake/year-end/", {"from": 2026}).context["plan"]
    assert (plan["promote"], plan["graduate"], plan["blocked"]) == (1, 1, [])
    assert plan["schools"] == [(cast.school_a1, {"promote": 1, "graduate": 1, "blocked": 0})]
    client.post("/intake/year-end/run/", {"from": 2026})
    sixth.record.refresh_from_db()
    assert sixth.record.status == Status.GRADUATED
    assert first.record.placements.get(school_year=next_year).grade == 2
    client.post("/intake/year-end/run/", {"from": 2026})
    assert first.record.placements.count() == 2
    runs = AuditEvent.objects.filter(action="yearend.run").order_by("seq")
    assert [(e.data["promoted"], e.data["graduated"]) for e in runs] == [(1, 1), (0, 0)]
    again = client.get("/intake/year-end/", {"from": 2026}).context["plan"]
    assert (again["promote"], again["graduate"]) == (0, 0)


def test_the_year_end_page_lists_a_student_kept_back_with_the_request(
    cast, register, school_year, next_year, client_for
):
    from xueji.changes import services as change_services

    sixth = register(**GRADE_SIX)
    change = change_services.do_create_request(
        sixth.record,
        "dropout",
        actor=cast.a1_registrar,
        reason="dropout",
        effective_date=datetime.date(2026, 11, 30),
    )
    page = client_for(cast.bureau_registrar).get("/intake/year-end/").content.decode()
    assert f'href="/changes/{change.pk}/"' in page and sixth.student.name in page


def test_the_year_end_page_says_the_calendar_must_open_the_next_year(cast, school_year, client_for):
    client = client_for(cast.bureau_registrar)
    response = client.get("/intake/year-end/")
    assert response.context["to_year"] is None and 'id="missing-year"' in response.content.decode()
    client.post("/intake/year-end/run/", {"from": 2026})
    assert not AuditEvent.objects.filter(action="yearend.run").exists()


# --- Catchments -------------------------------------------------------------------------------


def test_the_bureau_sets_catchment_codes_and_a_pupil_outside_is_flagged(
    cast, school_year, client_for
):
    client = client_for(cast.bureau_registrar)
    url = f"/intake/catchments/{cast.school_a1.pk}/"
    client.post(url + "add/", {"codes": "370828102, 370828101001"})
    codes = list(
        Catchment.objects.filter(school=cast.school_a1).values_list("division_code", flat=True)
    )
    assert codes == ["370828101001", "370828102000"]
    assert AuditEvent.objects.filter(action="intake.catchment_set").exists()
    inside = enter(cast, school_year, hukou_code="370828102003", sequence=1)
    outside = enter(cast, school_year, hukou_code="370828103001", sequence=2)
    assert inside.eligibility_problems == [] and outside.eligibility_problems
    client.post(url + "remove/", {"code": "370828101001"})
    assert list(
        Catchment.objects.filter(school=cast.school_a1).values_list("division_code", flat=True)
    ) == ["370828102000"]


def test_a_bad_catchment_code_is_refused_naming_it(cast, school_year, client_for):
    Catchment.objects.create(school=cast.school_a1, division_code="370828102000")
    response = client_for(cast.bureau_registrar).post(
        f"/intake/catchments/{cast.school_a1.pk}/add/",
        {"codes": "370828101001 37082810X"},
        follow=True,
    )
    [message] = list(response.context["messages"])
    assert message.level_tag == "error" and "37082810X" in str(message)
    assert list(
        Catchment.objects.filter(school=cast.school_a1).values_list("division_code", flat=True)
    ) == ["370828102000"]


def test_a_whole_county_is_not_a_catchment(cast, school_year, client_for):
    response = client_for(cast.bureau_registrar).post(
        f"/intake/catchments/{cast.school_a1.pk}/add/", {"codes": "370828"}, follow=True
    )
    [message] = list(response.context["messages"])
    assert message.level_tag == "error" and "370828" in str(message)
    assert not Catchment.objects.exists()


# --- Who may not ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/intake/review/", "/intake/accept/", "/intake/year-end/", "/intake/catchments/"]
)
def test_a_school_registrar_gets_403_on_the_reviewing_and_bureau_pages(
    cast, school_year, client_for, path
):
    assert client_for(cast.a1_registrar).get(path).status_code == 403


def test_a_central_school_may_not_accept_run_the_year_end_or_set_catchments(
    cast, school_year, client_for
):
    client = client_for(cast.central_a_registrar)
    assert client.get("/intake/accept/").status_code == 403
    assert client.post("/intake/year-end/run/", {"from": 2026}).status_code == 403
    response = client.post(f"/intake/catchments/{cast.school_a1.pk}/add/", {"codes": "370828102"})
    assert response.status_code == 403 and not Catchment.objects.exists()


def test_the_bureau_pages_open_for_the_bureau(cast, school_year, client_for):
    client = client_for(cast.bureau_registrar)
    for path in ("/intake/accept/", "/intake/junior/", "/intake/year-end/", "/intake/catchments/"):
        assert client.get(path).status_code == 200, path
