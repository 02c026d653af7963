"""Masked ID numbers and addresses everywhere but where revealed, and every export or print
one audit event naming the students it carried (issue 8; the requirements' "every read of
a full ID number or address by a user is in the audit log").

The walk at the end takes every page and every API read from the resolver and the OpenAPI
document, as every role of A1's side (who may see the pupil), and holds them to one rule:
a full ID number or address appears only in an answer that wrote an audit event naming
the student. The tests before it show the same for the places a reader would name:
lists, search results, the student page, the API, exports and prints.
"""

import json
import re

import pytest
from django.test import Client

from tests.security import world as marked
from tests.security.test_access_walk import resolved as page_resolved
from tests.security.test_api_access_walk import resolved as api_resolved
from tests.security.walk import Walker, response_text
from tests.security.world import OWNER_ROLES
from xueji.audit.models import AuditEvent
from xueji.students.rules import mask_address, mask_id_number

FULL_ADDRESSES = [*marked.ADDRESSES.values(), marked.GUARDIAN_ADDRESS, marked.GUARDIAN_HUKOU]
# Answers that may carry full values without writing an event, and why.
NOT_A_READ = {
    # The file a finished export job made; running the job wrote the event naming its
    # students, and only the user who started it can fetch it.
    "job_download",
    "download_job_result",
}


def full_id_shown(text: str, number: str) -> bool:
    """The ID number in full, not as the tail of the lifelong national number: a "G"
    national number is G followed by the ID number (DOMAIN.md), shown as a number like
    every other; SECURITY.md says so."""
    return re.search(rf"(?<!G){number}", text) is not None


def full_values(text: str) -> list[str]:
    ids = [n for n in (marked.STUDENT_ID, marked.GUARDIAN_ID, marked.ENTRY_ID, marked.ADMITTED_ID)]
    return [n for n in ids if full_id_shown(text, n)] + [a for a in FULL_ADDRESSES if a in text]


def events_since(seq: int):
    return list(AuditEvent.objects.filter(seq__gt=seq).order_by("seq"))


def last_seq() -> int:
    event = AuditEvent.objects.order_by("-seq").first()
    return event.seq if event else 0


def naming(events, student_pk: int) -> list:
    """The events that name this student: a reveal of them, or an export or print whose
    data lists them."""
    return [
        event
        for event in events
        if (
            event.target_type == "students.student"
            and event.target_id == str(student_pk)
            and event.action == "student.revealed"
        )
        or student_pk in (event.data or {}).get("students", [])
    ]


# --- Lists, search results, the student page, the API -----------------------------------------


def test_the_list_and_search_results_mask_id_numbers_and_addresses(world, client_for):
    client = client_for(world.cast.a1_registrar)
    masked = mask_id_number(marked.STUDENT_ID)
    queries = (
        "",
        marked.STUDENT_NAME,
        marked.STUDENT_ID,
        "smma",
        "sima",
        world.record.provincial_number,
    )
    for query in queries:
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            page = client.get("/students/", {"q": query} if query else {}, **headers)
            # The search box (and the language switch's return address) show back what
            # the registrar typed, an ID number too.
            text = re.sub(rf'value="[^"]*{query}[^"]*"', "", response_text(page))
            assert page.status_code == 200 and marked.STUDENT_NAME in text, query
            assert masked in text, query
            assert full_values(text) == [], query
    answer = client.get("/api/v1/students", {"q": marked.STUDENT_ID})
    text = response_text(answer)
    assert marked.STUDENT_NAME in text and masked in text and full_values(text) == []


def test_the_student_page_and_the_api_detail_mask_until_revealed(world, client_for):
    client = client_for(world.cast.a1_registrar)
    before = last_seq()
    page = response_text(client.get(f"/students/{world.student.pk}/"))
    assert mask_id_number(marked.STUDENT_ID) in page
    assert mask_address(marked.ADDRESSES["current_address"]) in page
    assert mask_id_number(marked.GUARDIAN_ID) in page
    assert full_values(page) == []
    detail = client.get(f"/api/v1/students/{world.student.pk}").json()
    text = json.dumps(detail, ensure_ascii=False)
    assert mask_id_number(marked.STUDENT_ID) in text and full_values(text) == []
    assert '"masked": true' in text
    assert events_since(before) == []  # reading masked data is not a reveal


@pytest.mark.parametrize(
    ("what", "shown"),
    [
        ("id_number", [marked.STUDENT_ID]),
        ("address", list(marked.ADDRESSES.values())),
        ("family", [marked.GUARDIAN_ID, marked.GUARDIAN_ADDRESS, marked.GUARDIAN_HUKOU]),
    ],
)
def test_a_reveal_shows_the_value_and_writes_one_audit_event(world, client_for, what, shown):
    client = client_for(world.cast.a1_registrar)
    for reveal in (
        lambda: client.post(f"/students/{world.student.pk}/reveal/", {"what": what}),
        lambda: client.post(
            f"/students/{world.student.pk}/reveal/", {"what": what}, HTTP_HX_REQUEST="true"
        ),
        lambda: client.post(
            f"/api/v1/students/{world.student.pk}/reveal",
            {"what": what},
            content_type="application/json",
        ),
    ):
        before = last_seq()
        answer = reveal()
        assert answer.status_code == 200
        text = response_text(answer)
        assert all(value in text for value in shown)
        events = events_since(before)
        assert [(e.action, e.target_id, e.data, e.actor) for e in events] == [
            ("student.revealed", str(world.student.pk), {"what": what}, world.cast.a1_registrar)
        ]
        cache = answer.get("Cache-Control", "")
        assert "no-store" in cache or "no-cache" in cache or "max-age=0" in cache


def test_a_leader_may_not_reveal_and_nothing_is_written(world, client_for):
    client = client_for(world.cast.a1_leader)
    before = last_seq()
    page = client.post(f"/students/{world.student.pk}/reveal/", {"what": "id_number"})
    api = client.post(
        f"/api/v1/students/{world.student.pk}/reveal",
        {"what": "id_number"},
        content_type="application/json",
    )
    assert api.status_code == 403
    assert not full_values(response_text(page)) and not full_values(response_text(api))
    assert events_since(before) == []


def test_opening_the_edit_form_is_an_audited_reveal(world, client_for):
    client = client_for(world.cast.a1_registrar)
    before = last_seq()
    form = client.get(f"/students/{world.student.pk}/edit/")
    assert form.status_code == 200 and marked.STUDENT_ID in form.text
    events = events_since(before)
    assert [(e.action, e.target_id, e.data) for e in events] == [
        ("student.revealed", str(world.student.pk), {"what": "edit"})
    ]


# --- Exports and prints -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_roster_export_is_masked_unless_full_and_names_its_students_in_one_event(
    world, client_for, fmt
):
    client = client_for(world.cast.a1_registrar)
    for full in (False, True):
        before = last_seq()
        answer = client.get(f"/exchange/roster.{fmt}", {"full": "1"} if full else {})
        assert answer.status_code == 200
        text = response_text(answer)
        assert marked.STUDENT_NAME in text
        if full:
            assert marked.STUDENT_ID in text and marked.ADDRESSES["home_address"] in text
        else:
            assert full_values(text) == [] and mask_id_number(marked.STUDENT_ID) in text
        events = events_since(before)
        assert len(events) == 1 and events[0].action == "students.exported"
        assert world.student.pk in events[0].data["students"]
        assert events[0].data["full"] is full and events[0].data["format"] == fmt


def test_the_api_export_and_the_background_export_write_one_event_each(world, client_for):
    from xueji.core.jobs import do_enqueue_job, run_pending

    client = client_for(world.cast.a1_registrar)
    before = last_seq()
    answer = client.get("/api/v1/students/export", {"format": "csv"})
    assert answer.status_code == 200 and full_values(response_text(answer)) == []
    events = events_since(before)
    assert [e.action for e in events] == ["students.exported"]
    assert world.student.pk in events[0].data["students"]
    job = do_enqueue_job(
        "students.export",
        {"params": {}, "format": "xlsx", "full": True},
        actor=world.cast.a1_registrar,
    )
    before = last_seq()
    run_pending()
    exported = [e for e in events_since(before) if e.data.get("students")]
    assert len(exported) == 1 and world.student.pk in exported[0].data["students"]
    job.refresh_from_db()
    assert job.status == "done"


def test_a_leader_may_not_export_in_full(world, client_for):
    client = client_for(world.cast.a1_leader)
    before = last_seq()
    answer = client.get("/exchange/roster.xlsx", {"full": "1"})
    assert answer.status_code in (302, 403)
    assert client.get("/api/v1/students/export", {"full": "true"}).status_code == 403
    assert events_since(before) == []


def test_printing_the_change_report_writes_one_event_naming_the_student(world, client_for):
    client = client_for(world.cast.a1_registrar)
    for path in (
        f"/changes/{world.request.pk}/report.pdf",
        f"/api/v1/changes/{world.request.pk}/report.pdf",
    ):
        before = last_seq()
        answer = client.get(path)
        assert answer.status_code == 200 and marked.STUDENT_NAME in response_text(answer)
        assert len(naming(events_since(before), world.student.pk)) == 1


def test_printing_a_photo_sheet_writes_one_event_naming_its_pupils(world, client_for):
    from xueji.intake import services as intake_services

    intake_services.do_number([world.admitted_entry], actor=world.cast.central_a_registrar)
    pupil = world.admitted_entry.record.student_id
    client = client_for(world.cast.bureau_registrar)
    for path in (
        f"/intake/photo-sheet/{world.cast.school_a1.pk}/",
        f"/api/v1/intake/photo-sheet/{world.cast.school_a1.pk}",
    ):
        before = last_seq()
        answer = client.get(path, {"all": "1"})
        assert answer.status_code == 200, answer.content[:300]
        assert marked.ADMITTED_NAME in response_text(answer)
        assert len(naming(events_since(before), pupil)) == 1


# --- The walk ----------------------------------------------------------------------------------


def test_no_answer_shows_a_full_id_number_or_address_without_an_event_naming_the_student(world):
    """Every page and every API read, as every role of A1's side: where an answer holds
    a full ID number or address, the same request wrote an audit event naming the
    student (a reveal, an export, a print); a file that names students (an export or a
    print) wrote exactly one event naming each of them."""
    walker = Walker(world)
    routes, _missing = page_resolved(world)
    operations, _missing, example = api_resolved(world)
    owners = {
        marked.STUDENT_ID: world.student.pk,
        marked.GUARDIAN_ID: world.student.pk,
        marked.ENTRY_ID: world.entry.record.student_id,
        marked.ADMITTED_ID: world.admitted_entry.record.student_id,
        **{address: world.student.pk for address in FULL_ADDRESSES},
    }
    names = {
        marked.STUDENT_NAME: world.student.pk,
        marked.ENTRY_NAME: world.entry.record.student_id,
        marked.ADMITTED_NAME: world.admitted_entry.record.student_id,
    }
    problems: list[str] = []
    revealing: list[str] = []

    def check(name: str, answer) -> None:
        if answer.change is None or name in NOT_A_READ:
            return
        events = [
            row | {"data": json.loads(row["data"]) if isinstance(row["data"], str) else row["data"]}
            for label, _pk, row in answer.change.added
            if label == "audit.auditevent"
        ]

        def named(pk: int) -> int:
            return sum(
                1
                for e in events
                if (e["action"] == "student.revealed" and e["target_id"] == str(pk))
                or pk in (e["data"] or {}).get("students", [])
            )

        where = f"{walker.role} {answer.method} {answer.path}"
        for value in full_values(answer.text):
            revealing.append(name)
            if not named(owners[value]):
                problems.append(
                    f"{where}: shows {value} in full without an event naming the student"
                )
        content_type = answer.response.get("Content-Type", "")
        is_file = "html" not in content_type and "json" not in content_type
        if is_file:
            for student_name, pk in names.items():
                if student_name in answer.text and named(pk) != 1:
                    count = named(pk)
                    problems.append(f"{where}: a file naming {student_name} wrote {count} events")

    for role in OWNER_ROLES:
        walker.act_as(role)
        for route, path, _owner in routes:
            check(route.name, walker.request("GET", path))
        for operation, path, _owner in operations:
            if operation.method == "GET":
                check(operation.operation_id, walker.call(operation, path, example))
    assert not problems, "\n".join(problems)
    # The rule was put to work: prints and the edit form do show full values.
    assert {"change_report", "student_edit", "get_change_report"} <= set(revealing)


def test_an_outsider_client_never_gets_a_revealed_value(world):
    client = Client()
    client.force_login(world.cast.b1_registrar)
    before = last_seq()
    page = client.post(f"/students/{world.student.pk}/reveal/", {"what": "id_number"})
    assert page.status_code == 404 and marked.STUDENT_ID not in page.text
    assert events_since(before) == []
