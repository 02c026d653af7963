"""B4 and N4: bulk printing as background jobs with progress, each yielding ONE PDF: a
school's record cards, a school's class rosters, the county's photo sheets. Each student's
card (each class's roster or sheet) is its own paper with its own QR code."""

import pytest

from tests.intake.test_photo_sheet import numbered_pupils
from xueji.core.jobs import run_pending
from xueji.core.models import Job
from xueji.intake.photo_sheet import SheetTarget
from xueji.orgs.models import Role
from xueji.reports.models import IssuedPaper
from xueji.reports.verify import check_paper
from xueji.students import services as student_services
from xueji.students.photo_services import do_set_photo

from .helpers import latest_paper, light_blue_jpeg, pages, print_events, qr_payloads, text_of, zh


@pytest.fixture
def class_of_three(cast, register):
    """Three pupils of A1, numbered and photographed: two in class 1, one in class 2."""
    pupils = []
    for sequence, (name, class_name) in enumerate(
        [("张小明", "1"), ("王小红", "1"), ("李小刚", "2")], start=1
    ):
        done = register(name=name, sequence=sequence, class_name=class_name)
        student_services.do_assign_numbers(done.record, actor=cast.a1_registrar)
        do_set_photo(done.student, light_blue_jpeg(sequence), actor=cast.a1_registrar)
        pupils.append(done)
    return pupils


def start(client, kind: str, data: dict) -> Job:
    response = client.post(f"/print/{kind}/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    job = Job.objects.latest("pk")
    assert response["Location"] == f"/jobs/{job.pk}/"
    return job


def finish(client, job: Job) -> bytes:
    assert run_pending() == 1
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.message
    assert job.progress == job.total and job.total > 0
    download = client.get(f"/jobs/{job.pk}/download/")
    assert download.status_code == 200
    return b"".join(download.streaming_content)


def page_label(page: int, count: int) -> str:
    return zh("Page %(page)d of %(pages)d") % {"page": page, "pages": count}


def test_a_schools_record_cards_come_as_one_pdf_with_each_card_its_own_paper(
    cast, client_for, class_of_three, tmp_path
):
    client = client_for(cast.a1_registrar)
    job = start(client, "record-cards", {"cards-school": cast.school_a1.pk})
    assert job.kind == "print.record_cards" and job.params["school"] == cast.school_a1.pk
    pdf = finish(client, job)
    assert len(pages(pdf)) == 6  # two pages per card
    # One photo per card, on its first page.
    assert [len(page.images) for page in pages(pdf)] == [1, 0, 1, 0, 1, 0]
    text = text_of(pdf)
    for done in class_of_three:
        assert done.student.name in text and done.student.id_number in text
    # Each card counts its own pages.
    assert page_label(2, 2) in text and page_label(1, 6) not in text
    papers = list(IssuedPaper.objects.filter(kind=IssuedPaper.Kind.RECORD_CARD).order_by("pk"))
    assert len(papers) == 3 and len({paper.code for paper in papers}) == 3
    assert [p.facts["name"] for p in papers] == ["王小红", "张小明", "李小刚"]  # class order
    first_card = qr_payloads(pdf, tmp_path, page=1)
    third_card = qr_payloads(pdf, tmp_path, page=5)
    assert first_card == [f"http://127.0.0.1:8000/verify/{papers[0].code}/"]
    assert third_card == [f"http://127.0.0.1:8000/verify/{papers[2].code}/"]
    assert all(check_paper(paper.code).state == "valid" for paper in papers)
    event = print_events().get()
    assert event.data["job"] == job.pk and event.data["kind"] == "record_card"
    assert sorted(event.data["students"]) == sorted(d.student.pk for d in class_of_three)
    assert sorted(event.data["papers"]) == sorted(paper.code for paper in papers)


def test_a_class_limits_the_record_cards(cast, client_for, class_of_three):
    client = client_for(cast.a1_registrar)
    job = start(
        client, "record-cards", {"cards-school": cast.school_a1.pk, "cards-class_name": "2"}
    )
    pdf = finish(client, job)
    assert len(pages(pdf)) == 2 and "李小刚" in text_of(pdf) and "张小明" not in text_of(pdf)


def test_a_schools_rosters_put_each_class_on_its_own_paper(cast, client_for, class_of_three):
    client = client_for(cast.a1_registrar)
    pdf = finish(client, start(client, "rosters", {"rosters-school": cast.school_a1.pk}))
    assert len(pages(pdf)) == 2
    first, second = (page.extract_text() for page in pages(pdf))
    assert "张小明" in first and "王小红" in first and "李小刚" not in first
    assert "李小刚" in second
    papers = IssuedPaper.objects.filter(kind=IssuedPaper.Kind.ROSTER).order_by("pk")
    assert [paper.facts["class_name"] for paper in papers] == ["1", "2"]
    assert all(check_paper(paper.code).state == "valid" for paper in papers)
    assert len(print_events().get().data["students"]) == 3


def test_the_bureau_prints_the_countys_photo_sheets_in_one_pdf(cast, client_for, school_year):
    pupils = numbered_pupils(cast, school_year, [("张小明", 0), ("王小红", 6), ("李无照", None)])
    client = client_for(cast.bureau_registrar)
    job = start(client, "photo-sheets", {})
    pdf = finish(client, job)
    text = text_of(pdf)
    for entry in pupils:
        assert entry.record.student.name in text and entry.record.provincial_number in text
    assert zh("Photo sheet") in text and "胡集镇第三小学" in text
    assert sum(len(page.images) for page in pages(pdf)) == 2
    paper = latest_paper(IssuedPaper.Kind.PHOTO_SHEET)
    # The same paper the bureau prints for this class alone (intake/photo_sheet.py).
    assert paper.target_id == SheetTarget(cast.school_a1.pk, 2026, 1, "1").pk
    assert check_paper(paper.code).state == "valid"
    assert len(print_events().get().data["students"]) == 3


def test_a_township_limits_the_photo_sheets(cast, client_for, school_year):
    numbered_pupils(cast, school_year, [("张小明", 0)])
    client = client_for(cast.bureau_registrar)
    job = start(client, "photo-sheets", {"sheets-township": cast.township_b.pk})
    assert run_pending() == 1
    job.refresh_from_db()
    # 羊山镇 has no numbered pupil: the job says so and issues nothing.
    assert job.status == Job.Status.FAILED and job.message
    assert not IssuedPaper.objects.exists() and not job.result_file


def test_only_the_bureau_prints_photo_sheets(cast, client_for, school_year):
    client = client_for(cast.a1_registrar)
    assert client.post("/print/photo-sheets/", {}).status_code == 404
    assert client.post("/api/v1/print/photo-sheets", {}, "application/json").status_code == 403
    assert not Job.objects.exists()


def test_b1_cannot_print_a1s_record_cards(cast, client_for, class_of_three):
    client = client_for(cast.b1_registrar)
    page = client.post("/print/record-cards/", {"cards-school": cast.school_a1.pk})
    assert page.status_code == 400
    api = client.post(
        "/api/v1/print/record-cards", {"school_id": cast.school_a1.pk}, "application/json"
    )
    assert api.status_code == 404
    assert not Job.objects.exists()
    assert client_for(cast.a1_leader).get("/print/").status_code == 403


def test_a_job_whose_starter_lost_the_right_prints_nothing(cast, client_for, class_of_three):
    client = client_for(cast.a1_registrar)
    job = start(client, "record-cards", {"cards-school": cast.school_a1.pk})
    type(cast.a1_registrar).objects.filter(pk=cast.a1_registrar.pk).update(
        role=Role.SCHOOL_LEADER, is_designated_registrar=False
    )
    assert run_pending() == 1
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.message
    assert not IssuedPaper.objects.exists() and not print_events().exists()


def test_nothing_to_print_is_said_at_once(cast, client_for, school_year):
    client = client_for(cast.a1_registrar)
    response = client.post("/print/rosters/", {"rosters-school": cast.school_a1.pk})
    assert response.status_code == 400
    assert not Job.objects.exists()


def test_the_api_starts_a_job_that_the_jobs_api_follows(cast, client_for, class_of_three):
    client = client_for(cast.a1_registrar)
    response = client.post(
        "/api/v1/print/record-cards", {"grade": 1, "class_name": "1"}, "application/json"
    )
    assert response.status_code == 202
    job_id = response.json()["id"]
    assert response.json()["kind"] == "print.record_cards"
    run_pending()
    followed = client.get(f"/api/v1/jobs/{job_id}").json()
    assert followed["status"] == "done" and followed["percent"] == 100
    assert IssuedPaper.objects.filter(kind=IssuedPaper.Kind.RECORD_CARD).count() == 2


def test_the_printing_page_offers_what_the_role_may_print(cast, client_for, class_of_three):
    page = client_for(cast.a1_registrar).get("/print/")
    assert page.status_code == 200
    content = page.content.decode()
    assert 'id="print-record-cards"' in content and 'id="print-rosters"' in content
    assert 'id="print-photo-sheets"' not in content
    bureau = client_for(cast.bureau_registrar).get("/print/").content.decode()
    assert 'id="print-photo-sheets"' in bureau
