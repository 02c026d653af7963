"""Issue 8, hostile input: text (N10, B1, B4, P1).

Names and notes carrying script tags, SQL fragments, control characters, right-to-left
overrides, zero-width characters, very long and empty values go in through the forms and
the API, and come out on the student page, the lists, the search results, the request page
and the printed change report as text: escaped, in place, no page broken, no server error.

Names refuse what cannot be part of a name with a sentence; an invisible character is
named by its code (U+202E), so the message itself cannot be turned around or hidden. The
API refuses the NUL character (which PostgreSQL cannot store) with 400 naming the field.
"""

import io

import pytest
from pypdf import PdfReader

from tests.changes.helpers import DAY, with_documents
from tests.students.conftest import TODAY, raw_student
from xueji.changes import services as change_services
from xueji.changes.models import ChangeRequest, Kind
from xueji.students.models import Student
from xueji.students.validation import normalise_name, validate_student

SCRIPT = "<script>alert('xss')</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
SQL = "'; DROP TABLE students_student; --"
RTL = "\u202e人工智能\u202c"
CONTROL = "第一行\x07\x1b[31m红\x08"
ZERO_WIDTH = "\u200b\ufeff张"
LONG = "长" * 5000

# What a page must never contain: the markup as markup.
RAW_MARKUP = ("<script>alert", "<img src=x", "onerror=alert(1)>")


@pytest.fixture(autouse=True)
def _english(english):
    yield


def as_user(client_for, user):
    client = client_for(user)
    client.cookies["django_language"] = "en"
    return client


def assert_shown_as_text(response, *escaped: str) -> str:
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    for markup in RAW_MARKUP:
        assert markup not in html, markup
    for text in escaped:
        assert text in html, text
    return html


# --- Names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, reason",
    [
        (SCRIPT, "“<” cannot be part of a name."),
        (SQL, "cannot be part of a name."),
        ("张\u202e三", "“U+202E” cannot be part of a name."),
        ("\u200b张三", "“U+200B” cannot be part of a name."),
        ("张" * 31, "a Chinese name has 2 to 30 characters."),
        ("", "Name: this item is required."),
        ("   ", "Name: this item is required."),
    ],
    ids=["script", "sql", "rtl", "zero-width", "long", "empty", "blank"],
)
def test_a_name_that_cannot_be_a_name_is_refused_with_a_visible_reason(name, reason):
    checked = validate_student(raw_student(name=name), today=TODAY)
    problems = [problem.message for problem in checked.problems_for("name")]
    assert problems and reason in problems[0], problems
    # The message shows no invisible character that could hide or reverse it.
    assert not any(ch in problems[0] for ch in "\u202e\x00\x07\u200b")


def test_the_registration_form_and_the_api_refuse_a_hostile_name_with_the_reason(
    cast, client_for, school_year
):
    client = as_user(client_for, cast.a1_registrar)
    payload = {**raw_student(name="张\u202e三"), "school_id": cast.school_a1.pk}
    api = client.post("/api/v1/students", payload, content_type="application/json")
    assert api.status_code == 400, api.content
    assert "U+202E" in api.content.decode() and "\u202e" not in api.content.decode()
    page = client.post("/students/new/", {**raw_student(name=SCRIPT), "school": cast.school_a1.pk})
    assert page.status_code in (200, 400)
    assert_shown_as_text(page, "&lt;")
    assert not Student.objects.exists()


# --- Free text through the forms and the API, shown as text --------------------------------


@pytest.fixture
def hostile_student(cast, register):
    """A student whose free-text items carry markup, SQL and control characters (the form's
    checks turn control characters into spaces and cap lengths; the rest is stored as typed)."""
    return register(
        current_address=SCRIPT,
        mailing_address=ATTRIBUTE,
        home_address=SQL,
        native_place=RTL,
        specialty=SQL,
        homepage=CONTROL,
    ).student


def test_the_student_page_and_the_lists_show_hostile_items_as_text(
    cast, client_for, hostile_student
):
    client = as_user(client_for, cast.a1_registrar)
    student = Student.objects.get(pk=hostile_student.pk)
    assert student.homepage == "第一行  [31m红"  # control characters became spaces
    page = client.get(f"/students/{student.pk}/")
    html = assert_shown_as_text(page, "人工智能", "DROP TABLE students_student")
    assert "\x07" not in html and "\x1b" not in html
    revealed = client.post(f"/students/{student.pk}/reveal/", {"what": "address"}, follow=True)
    assert_shown_as_text(revealed, "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;")
    assert_shown_as_text(client.get("/students/"), student.name)
    api = client.get(f"/api/v1/students/{student.pk}")
    assert api.status_code == 200 and api["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    "query",
    [SCRIPT, ATTRIBUTE, SQL, RTL, CONTROL, ZERO_WIDTH, LONG, "", "%", "_", "\\", "' OR '1'='1"],
    ids=[
        "script",
        "attribute",
        "sql",
        "rtl",
        "control",
        "zero-width",
        "long",
        "empty",
        "percent",
        "underscore",
        "backslash",
        "or-1-1",
    ],
)
def test_searching_for_hostile_text_answers_with_an_escaped_page_never_an_error(
    cast, client_for, hostile_student, query
):
    client = as_user(client_for, cast.a1_registrar)
    assert_shown_as_text(client.get("/students/", {"q": query}))
    assert_shown_as_text(client.get("/changes/", {"q": query}))
    api = client.get("/api/v1/students", {"q": query})
    assert api.status_code == 200, api.content
    # A SQL fragment is a search term like any other: it finds nobody and drops nothing.
    assert Student.objects.filter(pk=hostile_student.pk).exists()


def a_request_with_a_hostile_note(cast, client_for, record) -> ChangeRequest:
    client = as_user(client_for, cast.a1_registrar)
    answer = client.post(
        "/api/v1/changes",
        {
            "record_id": record.pk,
            "kind": Kind.TRANSFER_OUT,
            "reason": "moved",
            "reason_note": SCRIPT + ATTRIBUTE + RTL + LONG,
            "effective_date": DAY.isoformat(),
            "outside_school": SQL + LONG,
            "to_class": CONTROL,
        },
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.content
    return ChangeRequest.objects.get(pk=answer.json()["id"])


def test_a_request_with_hostile_notes_shows_them_as_text_on_every_page(cast, client_for, register):
    change = a_request_with_a_hostile_note(cast, client_for, register().record)
    # Long values are cut to their columns' size, not refused by the database.
    assert len(change.reason_note) == 200 and len(change.outside_school) == 60
    client = as_user(client_for, cast.a1_registrar)
    assert_shown_as_text(client.get(f"/changes/{change.pk}/"), "&lt;script&gt;")
    assert_shown_as_text(client.get("/changes/"))
    withdrawn = client.post(
        f"/changes/{change.pk}/withdraw/", {"reason": SCRIPT + CONTROL + RTL}, follow=True
    )
    assert_shown_as_text(withdrawn, "&lt;script&gt;")
    assert_shown_as_text(client.get(f"/changes/{change.pk}/"), "&lt;script&gt;")


def test_the_printed_change_report_prints_hostile_text_as_text_on_one_page(
    cast, client_for, register
):
    change = a_request_with_a_hostile_note(cast, client_for, register().record)
    with_documents(change, cast.a1_registrar)
    # A1 has no printer: its central school prints (C3).
    client = as_user(client_for, cast.central_a_registrar)
    response = client.get(f"/changes/{change.pk}/report.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) <= 2
    text = "".join(page.extract_text() for page in reader.pages)
    assert "<script>" in text.replace(" ", "") or "script" in text


def test_the_api_refuses_the_nul_character_naming_the_field(cast, client_for, register):
    record = register().record
    client = as_user(client_for, cast.a1_registrar)
    answer = client.post(
        "/api/v1/changes",
        {
            "record_id": record.pk,
            "kind": Kind.TRANSFER_OUT,
            "reason": "moved",
            "reason_note": "a\x00b",
            "effective_date": DAY.isoformat(),
            "outside_school": "某校",
        },
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert answer.json()["field"] == "reason_note" and "U+0000" in answer.json()["detail"]
    query = client.get("/api/v1/students", {"q": "a\x00b"})
    assert query.status_code == 400 and query.json()["field"] == "q"
    assert not ChangeRequest.objects.exists()


def test_a_web_form_refuses_the_nul_character_on_its_field(cast, client_for, register):
    change = change_services.do_create_request(
        register().record,
        Kind.TRANSFER_OUT,
        actor=cast.a1_registrar,
        reason="moved",
        effective_date=DAY,
        outside_school="某校",
    )
    client = as_user(client_for, cast.a1_registrar)
    answer = client.post(f"/changes/{change.pk}/withdraw/", {"reason": "a\x00b"})
    assert answer.status_code == 400 and "Null characters are not allowed" in answer.text
    change.refresh_from_db()
    assert change.state != "withdrawn"


@pytest.mark.parametrize(
    "body", [{}, {"name": ""}, {"name": None}, {"school_id": "x"}, [], "", "[" * 5000]
)
def test_empty_and_malformed_bodies_get_a_refusal_not_a_server_error(cast, client_for, body):
    client = as_user(client_for, cast.a1_registrar)
    import json

    data = body if isinstance(body, str) else json.dumps(body)
    answer = client.post("/api/v1/students", data, content_type="application/json")
    assert 400 <= answer.status_code < 500, (body, answer.status_code)


@pytest.mark.parametrize("name", ["张\x00三", "张三\x07", "张\r\n三", "\t张三"])
def test_control_characters_in_a_name_become_spaces_and_never_reach_the_record(name):
    """A spreadsheet's line break (Alt+Enter) or a stray control character is read as a
    space, and a space inside a Chinese name is a typing accident: the name is 张三."""
    checked = validate_student(raw_student(name=name), today=TODAY)
    assert checked.ok, [problem.message for problem in checked.errors]
    assert checked.values["name"] == "张三"


def test_normalising_a_name_never_removes_an_invisible_character_silently():
    # An override is kept (and then refused), so what is stored is what was checked.
    assert "\u202e" in normalise_name("张\u202e三")
