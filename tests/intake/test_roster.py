"""N10: each semester each school confirms its roster (人籍一致); the bureau watches."""

import pytest
from django.core.exceptions import PermissionDenied

from tests.intake.test_review_pages import admitted
from xueji.audit.models import AuditEvent
from xueji.core.errors import RuleViolation
from xueji.intake.models import RosterCheck, RosterFlagKind
from xueji.intake.roster import do_confirm_roster, roster_status

ROSTER = "/students/roster/"
OVERVIEW = "/students/roster/overview/"


@pytest.fixture
def english(client):
    client.cookies["django_language"] = "en"


@pytest.fixture
def pupils(cast, register):
    return [
        register(name="张小明", sequence=1).record,
        register(name="李小红", sequence=2, sex="2").record,
        register(name="王小刚", sequence=3).record,
    ]


def confirm(cast, school_year, flags, actor=None, school=None):
    return do_confirm_roster(
        school or cast.school_a1, school_year, "autumn", flags, actor=actor or cast.a1_registrar
    )


def test_a1_confirms_its_roster_with_a_name_mismatch_and_a_pupil_not_present(
    cast, school_year, pupils
):
    mismatch = {"record_id": pupils[0].pk, "kind": "name_mismatch", "household_name": "张晓明"}
    absent = {"record_id": pupils[1].pk, "kind": "not_present", "note": "随父母外出"}
    check = confirm(cast, school_year, [mismatch, absent])
    flags = {flag.kind: flag for flag in check.flags.all()}
    assert flags[RosterFlagKind.NAME_MISMATCH].household_name == "张晓明"
    assert flags[RosterFlagKind.NOT_PRESENT].note == "随父母外出"
    assert check.confirmed_by == cast.a1_registrar
    event = AuditEvent.objects.get(action="roster.confirmed")
    assert event.data["name_mismatch"] == 1 and event.data["not_present"] == 1
    assert event.data["records"] == 3
    assert event.data["flagged"] == sorted([pupils[0].pk, pupils[1].pk])


def test_a_mismatch_without_the_household_name_is_refused_with_the_field_named(
    cast, school_year, pupils
):
    with pytest.raises(RuleViolation) as refused:
        confirm(cast, school_year, [{"record_id": pupils[0].pk, "kind": "name_mismatch"}])
    assert refused.value.field == "household_name"
    with pytest.raises(RuleViolation) as same:
        confirm(
            cast,
            school_year,
            [{"record_id": pupils[0].pk, "kind": "name_mismatch", "household_name": "张小明"}],
        )
    assert same.value.field == "household_name"
    assert not RosterCheck.objects.exists()


def test_a_record_of_another_school_is_refused(cast, school_year, pupils, register):
    other = register(school=cast.school_b1, actor=cast.b1_registrar, sequence=9).record
    with pytest.raises(RuleViolation) as refused:
        confirm(cast, school_year, [{"record_id": other.pk, "kind": "not_present"}])
    assert refused.value.field == "record_id"
    assert not RosterCheck.objects.exists()


def test_confirming_again_the_same_semester_replaces_the_flags(cast, school_year, pupils):
    confirm(cast, school_year, [{"record_id": pupils[1].pk, "kind": "not_present"}])
    check = confirm(cast, school_year, [{"record_id": pupils[2].pk, "kind": "not_present"}])
    assert RosterCheck.objects.count() == 1
    assert [flag.record_id for flag in check.flags.all()] == [pupils[2].pk]
    assert AuditEvent.objects.filter(action="roster.confirmed").count() == 2


def test_a1_confirms_from_the_page(cast, school_year, pupils, client_for, english):
    client = client_for(cast.a1_registrar)
    page = client.get(ROSTER).content.decode()
    assert "张小明" in page and "Confirm the roster" in page
    client.post(ROSTER, {f"household_name_{pupils[0].pk}": "张晓明", f"note_{pupils[0].pk}": ""})
    check = RosterCheck.objects.get(school=cast.school_a1)
    assert [flag.household_name for flag in check.flags.all()] == ["张晓明"]
    assert "张晓明" in client.get(ROSTER).content.decode()


def test_b1_cannot_confirm_a1s_roster_and_the_bureau_sees_a1_confirmed_and_b1_not(
    cast, school_year, pupils, client_for, english
):
    with pytest.raises(PermissionDenied):
        confirm(cast, school_year, [], actor=cast.b1_registrar)
    assert client_for(cast.b1_registrar).get(OVERVIEW).status_code == 403
    confirm(cast, school_year, [{"record_id": pupils[1].pk, "kind": "not_present"}])
    status = dict(roster_status(cast.county, school_year, "autumn"))
    assert status[cast.school_a1] is not None and status[cast.school_b1] is None
    page = client_for(cast.bureau_registrar).get(OVERVIEW).content.decode()
    a1_row = page.split(f'id="school-{cast.school_a1.pk}"')[1].split("</tr>")[0]
    b1_row = page.split(f'id="school-{cast.school_b1.pk}"')[1].split("</tr>")[0]
    assert "Confirmed" in a1_row and "Not confirmed" in b1_row
    assert f"/students/{pupils[1].student_id}/" in page


def test_the_review_page_includes_camera_js_and_the_camera_block(
    cast, school_year, client_for, english
):
    admitted(cast, school_year)
    page = client_for(cast.central_a_registrar).get(
        "/intake/review/", {"school": cast.school_a1.pk}
    )
    text = page.content.decode()
    assert "/static/xueji/camera.js" in text
    assert "data-camera" in text and 'data-label-open="Use the camera"' in text
