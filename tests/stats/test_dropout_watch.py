"""B5, the dropout watch: students who left without an approved change. Pupils the latest
roster check found not present but still on the roll, records closed with no approved
change, suspensions past their end with no resumption, approved transfers the receiving
school never recorded, and last summer's primary graduates found at no junior school."""

import datetime

import pytest
from django.urls import reverse

from tests.intake.test_primary_flow import enter
from tests.students.conftest import TODAY, raw_student
from xueji.changes import services as change_services
from xueji.changes.models import Kind
from xueji.core import services as calendar_services
from xueji.intake import services as intake_services
from xueji.intake.models import JuniorDocument
from xueji.intake.roster import do_confirm_roster
from xueji.orgs import services as org_services
from xueji.orgs.models import Role
from xueji.students import services as student_services
from xueji.students.models import Status, StudentRecord
from xueji.students.validation import validate_student

from .helpers import DAY, approved, column, tables_of

API = "/api/v1/stats/dropout-watch"
PAGE = "/statistics/dropout/"


def names(table) -> list[str]:
    return [row[0] for row in table["rows"]]


@pytest.fixture
def pupils(cast, register):
    bureau = cast.bureau_registrar
    return {
        name: register(school=school, actor=bureau, sequence=sequence, name=name).record
        for sequence, (school, name) in enumerate(
            [
                (cast.school_a1, "张一"),
                (cast.school_a1, "李二"),
                (cast.school_a1, "王三"),
                (cast.school_b1, "赵四"),
                (cast.school_c, "孙六"),
            ],
            start=1,
        )
    }


def roster(cast, school_year, term, flags):
    return do_confirm_roster(cast.school_a1, school_year, term, flags, actor=cast.a1_registrar)


def test_a_pupil_not_present_at_the_roster_check_but_on_the_roll_is_watched(
    cast, client_for, english, school_year, pupils
):
    roster(
        cast,
        school_year,
        "autumn",
        [
            {"record_id": pupils["张一"].pk, "kind": "not_present", "note": "随父母外出打工"},
            {"record_id": pupils["李二"].pk, "kind": "name_mismatch", "household_name": "李贰"},
        ],
    )

    absent = tables_of(client_for(cast.bureau_registrar), API)["absent"]
    assert names(absent) == ["张一"]
    assert absent["rows"][0][column(absent, "Note")] == "随父母外出打工"
    assert absent["refs"][0]["student_id"] == pupils["张一"].student_id
    assert names(tables_of(client_for(cast.central_a_registrar), API)["absent"]) == ["张一"]
    # b1 does not see a1's pupils.
    assert names(tables_of(client_for(cast.b1_registrar), API)["absent"]) == []


def test_the_latest_roster_check_is_the_schools_word(
    cast, client_for, english, school_year, pupils
):
    roster(cast, school_year, "autumn", [{"record_id": pupils["张一"].pk, "kind": "not_present"}])
    roster(cast, school_year, "spring", [])

    assert names(tables_of(client_for(cast.bureau_registrar), API)["absent"]) == []


def test_an_approved_dropout_takes_the_pupil_off_the_watch(
    cast, client_for, english, school_year, pupils
):
    roster(cast, school_year, "autumn", [{"record_id": pupils["张一"].pk, "kind": "not_present"}])
    approved(cast, pupils["张一"], Kind.DROPOUT, reason="dropout", effective_date=DAY)

    found = tables_of(client_for(cast.bureau_registrar), API)
    assert names(found["absent"]) == []
    assert names(found["closed-without-change"]) == []


def test_a_request_under_way_is_shown_and_linked_but_the_pupil_stays_watched(
    cast, client_for, english, school_year, pupils
):
    roster(cast, school_year, "autumn", [{"record_id": pupils["张一"].pk, "kind": "not_present"}])
    request = change_services.do_create_request(
        pupils["张一"], Kind.DROPOUT, actor=cast.a1_registrar, reason="dropout", effective_date=DAY
    )

    absent = tables_of(client_for(cast.bureau_registrar), API)["absent"]
    assert names(absent) == ["张一"] and absent["refs"][0]["request_id"] == request.pk
    page = client_for(cast.bureau_registrar).get(PAGE).text
    assert reverse("request_detail", args=[request.pk]) in page
    assert reverse("student_detail", args=[pupils["张一"].student_id]) in page


def test_a_record_closed_without_a_change_is_listed_but_the_registrys_decisions_are_not(
    cast, client_for, english, school_year, pupils
):
    # A record that arrived closed from elsewhere (an old system, a hand edit): no request.
    StudentRecord.objects.filter(pk=pupils["王三"].pk).update(
        status=Status.MISSING, exit_date=DAY, exit_change="39"
    )
    # A pupil the school did not admit at intake: a decision, not a departure.
    entry = enter(cast, school_year, name="周七", sequence=7)
    intake_services.do_not_admit(entry, "未满六周岁", actor=cast.a1_registrar)
    # A pupil who left by an approved change.
    approved(cast, pupils["孙六"], Kind.DROPOUT, reason="dropout", effective_date=DAY)

    closed = tables_of(client_for(cast.bureau_registrar), API)["closed-without-change"]
    assert names(closed) == ["王三"]
    assert closed["rows"][0][column(closed, "Status")] == "Missing"
    assert names(tables_of(client_for(cast.b1_registrar), API)["closed-without-change"]) == []


def test_a_suspension_past_its_end_without_resumption_is_watched(
    cast, client_for, english, school_year, pupils
):
    old = approved(
        cast,
        pupils["张一"],
        Kind.SUSPENSION,
        reason="sick",
        effective_date=datetime.date(2025, 10, 15),
    )
    approved(cast, pupils["赵四"], Kind.SUSPENSION, reason="sick", effective_date=DAY)

    suspensions = tables_of(client_for(cast.bureau_registrar), API)["overdue-suspensions"]
    assert names(suspensions) == ["张一"]  # 赵四's suspension runs until 2027
    row = suspensions["rows"][0]
    assert row[column(suspensions, "Suspended until")] == "2026-10-15"
    expected_days = (datetime.date.today() - datetime.date(2026, 10, 15)).days
    assert row[column(suspensions, "Days past the end")] == expected_days
    assert suspensions["refs"][0]["request_id"] == old.pk

    resumption = change_services.do_create_request(
        pupils["张一"],
        Kind.RESUMPTION,
        actor=cast.a1_registrar,
        reason="recovered",
        effective_date=DAY,
    )
    suspensions = tables_of(client_for(cast.bureau_registrar), API)["overdue-suspensions"]
    assert suspensions["rows"][0][column(suspensions, "Resumption")] == (
        "Resumption: Checking documents"
    )
    assert suspensions["refs"][0]["resumption_id"] == resumption.pk


def test_a_recorded_resumption_ends_the_watch(cast, client_for, english, school_year, pupils):
    approved(
        cast,
        pupils["张一"],
        Kind.SUSPENSION,
        reason="sick",
        effective_date=datetime.date(2025, 10, 15),
    )
    pupils["张一"].refresh_from_db()
    approved(cast, pupils["张一"], Kind.RESUMPTION, reason="recovered", effective_date=DAY)

    assert names(tables_of(client_for(cast.bureau_registrar), API)["overdue-suspensions"]) == []


def test_an_approved_transfer_the_receiving_school_never_recorded_is_watched(
    cast, client_for, english, school_year, pupils
):
    transfer = approved(
        cast,
        pupils["李二"],
        Kind.TRANSFER,
        reason="moved",
        effective_date=DAY,
        to_school=cast.school_b1,
        record_it=False,
    )

    table = tables_of(client_for(cast.bureau_registrar), API)["unrecorded-transfers"]
    assert names(table) == ["李二"]
    assert table["rows"][0][column(table, "Owed by")] == cast.school_b1.name
    assert table["refs"][0]["request_id"] == transfer.pk
    # Both schools see it; a school with no part in it does not.
    assert names(tables_of(client_for(cast.b1_registrar), API)["unrecorded-transfers"]) == ["李二"]
    assert names(tables_of(client_for(cast.a1_registrar), API)["unrecorded-transfers"]) == ["李二"]
    assert names(tables_of(client_for(cast.c_registrar), API)["unrecorded-transfers"]) == []

    change_services.do_record(transfer, actor=cast.b1_registrar)
    assert names(tables_of(client_for(cast.bureau_registrar), API)["unrecorded-transfers"]) == []


@pytest.fixture
def last_year(cast):
    return calendar_services.do_save_school_year(
        actor=None,
        county=cast.county,
        start_year=2025,
        autumn_start=datetime.date(2025, 9, 1),
        spring_start=datetime.date(2026, 2, 23),
    )


def sixth_grader(cast, year, name, sequence):
    values = validate_student(
        raw_student(
            name=name,
            sequence=sequence,
            grade="6",
            birth=datetime.date(2014, 3, 1),
            entry_year_month="202009",
        ),
        today=TODAY,
    ).values
    done = student_services.do_register_student(
        values, actor=cast.a1_registrar, school=cast.school_a1, school_year=year, status="enrolled"
    )
    student_services.do_assign_numbers(done.record, actor=cast.a1_registrar)
    done.record.refresh_from_db()
    return done.record


def test_last_summers_primary_graduates_found_at_no_junior_school_are_watched(
    cast, client_for, english, school_year, last_year
):
    lost = sixth_grader(cast, last_year, "吴八", 30)
    collected = sixth_grader(cast, last_year, "郑九", 31)
    intake_services.do_year_end(cast.county, last_year, school_year, actor=cast.bureau_registrar)
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
        password="long-enough-password-1",
        role=Role.SCHOOL_REGISTRAR,
        must_change_password=False,
    )
    intake_services.do_collect_junior(
        junior,
        school_year,
        [(collected.provincial_number, JuniorDocument.CERTIFICATE)],
        actor=junior_registrar,
    )

    graduates = tables_of(client_for(cast.bureau_registrar), API)["graduates-without-junior"]
    assert names(graduates) == ["吴八"]
    assert graduates["rows"][0][column(graduates, "Graduated on")] == "2026-07-01"
    assert graduates["refs"][0]["record_id"] == lost.pk
    assert names(
        tables_of(client_for(cast.central_a_registrar), API)["graduates-without-junior"]
    ) == ["吴八"]
    assert names(tables_of(client_for(cast.b1_registrar), API)["graduates-without-junior"]) == []


def test_the_watch_page_counts_each_list_and_links_the_students(
    cast, client_for, english, school_year, pupils
):
    roster(cast, school_year, "autumn", [{"record_id": pupils["张一"].pk, "kind": "not_present"}])

    page = client_for(cast.a1_leader).get(PAGE)
    assert page.status_code == 200
    assert [table.key for table in page.context["listing"]] == [
        "absent",
        "closed-without-change",
        "overdue-suspensions",
        "unrecorded-transfers",
        "graduates-without-junior",
    ]
    assert page.context["listing"][0].count == 1
    assert 'href="#absent"' in page.text
    assert reverse("student_detail", args=[pupils["张一"].student_id]) in page.text
