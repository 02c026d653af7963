"""The reviewing unit's intake page (N2, N3, N5): the central school reviews its rural
schools' pupils, the bureau the county-direct ones; photos, numbers, forwarding."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.intake.test_primary_flow import enter, photo
from xueji.core.navigation import visible_sections
from xueji.core.scope import scope_for
from xueji.intake import services
from xueji.intake.models import EntryState, ExceptionKind
from xueji.students.models import Status

REVIEW = "/intake/review/"


@pytest.fixture
def english(client):
    # Interface text is asserted in English so the tests do not depend on the catalogue;
    # names and numbers are data and read the same in both languages.
    client.cookies["django_language"] = "en"


def awaiting(cast, school_year, school=None, actor=None, **overrides):
    entry = enter(cast, school_year, school=school, actor=actor, **overrides)
    services.do_send_for_review([entry], actor=actor or cast.a1_registrar)
    entry.refresh_from_db()
    return entry


def admitted(cast, school_year, **overrides):
    entry = awaiting(cast, school_year, **overrides)
    services.do_review([entry], actor=cast.central_a_registrar, admit=True)
    entry.refresh_from_db()
    return entry


def test_central_a_admits_and_returns_pupils_of_a1_from_the_page(
    cast, school_year, client_for, english
):
    first = awaiting(cast, school_year, name="王一", sequence=1)
    second = awaiting(cast, school_year, name="王二", sequence=2)
    client = client_for(cast.central_a_registrar)
    page = client.get(REVIEW, {"school": cast.school_a1.pk}).content.decode()
    assert "王一" in page and "王二" in page and cast.school_a1.name in page
    url = f"/intake/review/{cast.school_a1.pk}/decide/"
    client.post(url, {"entry": [first.pk], "action": "admit"})
    reason = "户口本上姓名为'张梓萱'，与录入'张子萱'不一致"
    client.post(url, {"entry": [second.pk], "action": "return", "reason": reason})
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == EntryState.ADMITTED
    assert second.state == EntryState.RETURNED and second.returned_reason == reason


def test_a_return_without_a_reason_is_refused_with_a_message(cast, school_year, client_for):
    entry = awaiting(cast, school_year)
    response = client_for(cast.central_a_registrar).post(
        f"/intake/review/{cast.school_a1.pk}/decide/",
        {"entry": [entry.pk], "action": "return", "reason": " "},
        follow=True,
    )
    entry.refresh_from_db()
    assert entry.state == EntryState.AWAITING_REVIEW
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_the_page_shows_eligibility_problems_and_recorded_exceptions(
    cast, school_year, client_for, english
):
    import datetime

    entry = enter(cast, school_year, birth=datetime.date(2021, 10, 1))
    services.do_record_exception(
        entry, ExceptionKind.DEFERRAL, "去年因病缓学，有医院证明", actor=cast.a1_registrar
    )
    services.do_send_for_review([entry], actor=cast.a1_registrar)
    page = client_for(cast.central_a_registrar).get(REVIEW, {"school": cast.school_a1.pk})
    text = page.content.decode()
    # The problem is stored as the language of the entry wrote it.
    assert "Entry age" in text or "入学年龄" in text
    assert "去年因病缓学，有医院证明" in text


def test_central_a_cannot_review_school_c_nor_b1(cast, school_year, client_for):
    entry = awaiting(cast, school_year, school=cast.school_c, actor=cast.c_registrar)
    client = client_for(cast.central_a_registrar)
    listed = client.get(REVIEW).content.decode()
    assert cast.school_a1.name in listed
    assert cast.school_c.name not in listed and cast.school_b1.name not in listed
    assert client.get(REVIEW, {"school": cast.school_c.pk}).status_code == 404
    assert client.get(REVIEW, {"school": cast.school_b1.pk}).status_code == 404
    response = client.post(
        f"/intake/review/{cast.school_c.pk}/decide/", {"entry": [entry.pk], "action": "admit"}
    )
    assert response.status_code == 404
    entry.refresh_from_db()
    assert entry.state == EntryState.AWAITING_REVIEW


def test_the_bureau_reviews_school_c(cast, school_year, client_for):
    entry = awaiting(cast, school_year, school=cast.school_c, actor=cast.c_registrar)
    client = client_for(cast.bureau_registrar)
    assert (
        entry.record.student.name
        in client.get(REVIEW, {"school": cast.school_c.pk}).content.decode()
    )
    client.post(
        f"/intake/review/{cast.school_c.pk}/decide/", {"entry": [entry.pk], "action": "admit"}
    )
    entry.refresh_from_db()
    assert entry.state == EntryState.ADMITTED


def test_a_photo_uploaded_on_the_review_page_is_stored_and_the_pupil_photographed(
    cast, school_year, client_for
):
    entry = admitted(cast, school_year)
    client = client_for(cast.central_a_registrar)
    page = client.get(REVIEW, {"school": cast.school_a1.pk}).content.decode()
    assert 'accept="image/*" capture="environment"' in page and "/students/photos/" in page
    upload = SimpleUploadedFile("pupil.jpg", photo(), content_type="image/jpeg")
    client.post(f"/intake/review/entries/{entry.pk}/photo/", {"photo": upload})
    entry.refresh_from_db()
    entry.record.student.refresh_from_db()
    assert entry.state == EntryState.PHOTOGRAPHED and entry.record.student.photo


def test_central_b_cannot_upload_a_photo_for_a1(cast, school_year, client_for):
    entry = admitted(cast, school_year)
    upload = SimpleUploadedFile("pupil.jpg", photo(), content_type="image/jpeg")
    response = client_for(cast.central_b_registrar).post(
        f"/intake/review/entries/{entry.pk}/photo/", {"photo": upload}
    )
    assert response.status_code == 404


def test_numbering_in_one_action_gives_provincial_numbers(cast, school_year, client_for):
    first = admitted(cast, school_year, name="王一", sequence=1)
    second = admitted(cast, school_year, name="王二", sequence=2)
    services.do_collect_photo(second, photo(), actor=cast.central_a_registrar)
    client_for(cast.central_a_registrar).post(
        f"/intake/review/{cast.school_a1.pk}/number/", {"identity_confirmed": "on"}
    )
    for entry in (first, second):
        entry.refresh_from_db()
        entry.record.refresh_from_db()
        entry.record.student.refresh_from_db()
        assert entry.state == EntryState.NUMBERED and entry.record.provincial_number
        assert entry.record.student.national_number.startswith("G")


def test_numbering_without_confirmed_identities_gives_l_numbers(cast, school_year, client_for):
    entry = admitted(cast, school_year)
    client_for(cast.central_a_registrar).post(f"/intake/review/{cast.school_a1.pk}/number/")
    entry.record.student.refresh_from_db()
    assert entry.record.student.national_number.startswith("L")


def test_central_forwards_and_the_bureau_accepts(cast, school_year, client_for):
    entry = admitted(cast, school_year)
    services.do_number([entry], actor=cast.central_a_registrar)
    services.do_submit([entry], actor=cast.a1_registrar)
    central = client_for(cast.central_a_registrar)
    central.post(
        f"/intake/review/{cast.school_a1.pk}/submitted/", {"entry": [entry.pk], "action": "forward"}
    )
    entry.refresh_from_db()
    assert entry.state == EntryState.FORWARDED
    bureau = client_for(cast.bureau_registrar)
    page = bureau.get("/intake/accept/").content.decode()
    assert entry.record.student.name in page
    assert f"/intake/photo-sheet/{cast.school_a1.pk}/?class_name=1" in page
    bureau.post(f"/intake/accept/{cast.school_a1.pk}/", {"entry": [entry.pk], "action": "accept"})
    entry.refresh_from_db()
    entry.record.refresh_from_db()
    assert entry.state == EntryState.ACCEPTED and entry.record.status == Status.ENROLLED


def test_the_central_school_returns_a_submission_with_a_reason(cast, school_year, client_for):
    entry = admitted(cast, school_year)
    services.do_number([entry], actor=cast.central_a_registrar)
    services.do_submit([entry], actor=cast.a1_registrar)
    client_for(cast.central_a_registrar).post(
        f"/intake/review/{cast.school_a1.pk}/submitted/",
        {"entry": [entry.pk], "action": "return", "reason": "照片与本人不符"},
    )
    entry.refresh_from_db()
    entry.record.refresh_from_db()
    assert entry.state == EntryState.NUMBERED and not entry.record.is_locked


def test_the_missed_review_deadline_shows_red(cast, school_year, client_for):
    awaiting(cast, school_year)
    page = client_for(cast.central_a_registrar).get(REVIEW).content.decode()
    # The tests run after 15 September 2026, the review deadline of the 2026 school year.
    assert 'class="deadline overdue"' in page


def test_the_review_page_counts_each_state_per_school(cast, school_year, client_for):
    awaiting(cast, school_year)
    response = client_for(cast.central_a_registrar).get(REVIEW)
    [row] = response.context["rows"]
    assert row["school"] == cast.school_a1 and row["counts"][1] == 1 and row["total"] == 1


def test_a_school_registrar_may_not_open_the_review_page(cast, school_year, client_for):
    client = client_for(cast.a1_registrar)
    assert client.get(REVIEW).status_code == 403
    assert client.post(f"/intake/review/{cast.school_a1.pk}/number/").status_code == 403


def test_the_navigation_shows_the_review_to_reviewers_only(cast):
    def names(user):
        return {item["url"] for s in visible_sections(scope_for(user)) for item in s["items"]}

    assert REVIEW in names(cast.central_a_registrar) and REVIEW in names(cast.bureau_registrar)
    assert REVIEW not in names(cast.a1_registrar)
    assert "/intake/year-end/" not in names(cast.central_a_registrar)
    assert "/intake/junior/" not in names(cast.a1_registrar)
