"""B4: the class roster (花名册): one row per student of a class, the header repeated on
every page, read back from the PDF and verified against the live class."""

import datetime
import itertools

import pytest

from xueji.reports.models import IssuedPaper
from xueji.reports.verify import check_paper

from .helpers import latest_paper, pages, print_events, qr_payloads, text_of, verify_path, zh

KIND = IssuedPaper.Kind.ROSTER
NAMES = ["".join(pair) for pair in itertools.product("赵钱孙李周吴郑王冯陈", "明红华强丽军平刚")]


@pytest.fixture
def enrol(cast, register):
    """enrol(count, class_name=..., start=...) registers pupils of A1's grade 1."""

    def run(count: int, *, class_name: str = "1", start: int = 1, school=None, actor=None):
        done = []
        for sequence in range(start, start + count):
            done.append(
                register(
                    school=school,
                    actor=actor,
                    name=NAMES[sequence % len(NAMES)],
                    sequence=sequence,
                    sex="2" if sequence % 2 else "1",
                    class_name=class_name,
                    birth=datetime.date(2019, 3, 1 + sequence % 28),
                )
            )
        return done

    return run


def url(school, grade="1", class_name="1") -> str:
    return f"/students/class-roster.pdf?school={school.pk}&grade={grade}&class_name={class_name}"


def test_the_roster_has_one_row_per_student_of_the_class(cast, client_for, enrol):
    pupils = enrol(3)
    other = enrol(1, class_name="2", start=10)[0]
    response = client_for(cast.a1_registrar).get(url(cast.school_a1))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "class-roster-3708280604-1-1.pdf" in response["Content-Disposition"]
    pdf = response.content
    assert len(pages(pdf)) == 1
    text = text_of(pdf)
    assert zh("Class roster") in text and "胡集镇第三小学" in text
    for done in pupils:
        assert done.student.name in text and done.student.id_number in text
    assert other.student.name not in text
    assert "汉族" in text and "农业户口" in text and "13853712345" in text and "张建国" in text
    paper = latest_paper(KIND)
    assert paper.unit == cast.school_a1
    assert [row["student_id"] for row in paper.facts["students"]] == sorted(
        (done.student.pk for done in pupils),
        key=lambda pk: [d.student.pinyin_key for d in pupils if d.student.pk == pk][0],
    )
    event = print_events().get()
    assert sorted(event.data["students"]) == sorted(done.student.pk for done in pupils)


def test_a_long_class_breaks_pages_and_repeats_the_header(cast, client_for, enrol):
    pupils = enrol(45)
    pdf = client_for(cast.a1_registrar).get(url(cast.school_a1)).content
    assert len(pages(pdf)) >= 2
    header = zh("Provincial number")
    for page in pages(pdf):
        assert header in page.extract_text()
    text = text_of(pdf)
    assert all(done.student.id_number in text for done in pupils)


def test_the_qr_code_verifies_until_the_class_changes(cast, client_for, enrol, tmp_path):
    enrol(2)
    client = client_for(cast.a1_registrar)
    pdf = client.get(url(cast.school_a1)).content
    paper = latest_paper(KIND)
    payloads = qr_payloads(pdf, tmp_path)
    assert payloads == [f"http://127.0.0.1:8000/verify/{paper.code}/"]
    assert 'data-state="valid"' in client.get(verify_path(payloads[0])).content.decode()
    assert check_paper(paper.code).state == "valid"
    enrol(1, start=20)
    verdict = check_paper(paper.code)
    assert verdict.state == "changed" and set(verdict.differences) == {"students"}


def test_a_school_registrar_may_leave_out_the_school(cast, client_for, enrol):
    enrol(1)
    response = client_for(cast.a1_registrar).get("/students/class-roster.pdf?grade=1&class_name=1")
    assert response.status_code == 200
    assert latest_paper(KIND).unit == cast.school_a1


def test_an_empty_class_prints_nothing_and_says_why(cast, client_for, enrol):
    enrol(1)
    response = client_for(cast.a1_registrar).get(url(cast.school_a1, class_name="9"))
    assert response.status_code == 302 and response["Location"] == "/print/"
    assert not IssuedPaper.objects.exists()


def test_b1_cannot_print_a1s_class_and_leaders_cannot_print(cast, client_for, enrol):
    enrol(1)
    assert client_for(cast.b1_registrar).get(url(cast.school_a1)).status_code == 404
    assert client_for(cast.a1_leader).get(url(cast.school_a1)).status_code == 403
    assert not IssuedPaper.objects.exists()
    assert client_for(cast.central_a_registrar).get(url(cast.school_a1)).status_code == 200


def test_the_student_list_filtered_to_a_class_offers_its_roster(cast, client_for, enrol):
    enrol(1)
    client = client_for(cast.a1_registrar)
    page = client.get("/students/?grade=1&class_name=1").content.decode()
    assert 'id="print-class-roster"' in page
    assert "/students/class-roster.pdf?" in page
    assert 'id="print-class-roster"' not in client.get("/students/?grade=1").content.decode()


def test_the_api_answers_the_pdf(cast, client_for, enrol):
    pupils = enrol(2)
    client = client_for(cast.a1_registrar)
    api = f"/api/v1/rosters/class.pdf?school_id={cast.school_a1.pk}&grade=1&class_name=1"
    response = client.get(api)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert pupils[0].student.name in text_of(response.content)
    assert client_for(cast.b1_registrar).get(api).status_code == 404
