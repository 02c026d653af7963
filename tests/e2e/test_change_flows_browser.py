"""Change requests in a real browser (issue 4): each cast member logs in and takes the step
the request owes them, on the real pages, in Chinese.

1. A rural primary school's transfer (胡集镇第三小学 → 羊山镇第一小学) through the five steps,
   its central school printing and re-reviewing, the receiving school confirming a seat and
   the student's arrival, a proxy carrying the papers to the bureau's session.
2. A sick-leave suspension at a county-direct school (no central review), refused at step 1
   while the medical bills are missing, then completed; and the resumption after it.
3. A name change (更名：父母离异) of a locked record, the old name kept as 曾用名.

The pupils are created directly with the students' services: live_cast is transactional,
so what the test writes is what the live server reads.
"""

import datetime
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.conftest import CAST_PASSWORD
from tests.e2e.conftest import screenshot
from tests.students.conftest import TODAY, raw_student
from xueji.changes.models import ChangeRequest, State
from xueji.core import services as calendar_services
from xueji.orgs import services as org_services
from xueji.orgs.models import Role
from xueji.students.models import Status, Student
from xueji.students.services import do_assign_numbers, do_lock_record, do_register_student
from xueji.students.validation import validate_student

# The pages answer in well under a second; a generous bound still fails fast when a button
# is missing.
STEP_TIMEOUT = 15_000
PROXY = {
    "name": "张建国",
    "id_number": "370828198001011235",
    "relation": "父亲",
    "call_note": "已电话联系教育局学籍科王老师",
}


# --- Builders --------------------------------------------------------------------------------


@pytest.fixture
def year(live_cast):
    today = datetime.date.today()
    start = today.year if today.month >= 9 else today.year - 1
    return calendar_services.do_save_school_year(
        actor=None,
        county=live_cast.county,
        start_year=start,
        autumn_start=datetime.date(start, 9, 1),
        spring_start=datetime.date(start + 1, 2, 22),
    )


def enrol(school, actor, year, *, name: str, sequence: int):
    """A pupil at school, numbered, as the registrar would have registered them."""
    checked = validate_student(raw_student(name=name, sequence=sequence), today=TODAY)
    assert checked.ok, [problem.message for problem in checked.errors]
    done = do_register_student(
        checked.values, actor=actor, school=school, school_year=year, status="enrolled"
    )
    do_assign_numbers(done.record, actor=actor)
    done.record.refresh_from_db()
    done.student.refresh_from_db()
    return done


def make_scans(tmp_path, *names: str) -> dict:
    """Small JPEG 'scans', each a different grey so no two files are the same."""
    paths = {}
    for n, name in enumerate(names):
        path = tmp_path / f"{name}.jpg"
        Image.new("RGB", (60, 80), (200 + n, 200 + n, 200 + n)).save(path, "JPEG")
        paths[name] = path
    return paths


def state_of(pk: int) -> str:
    return ChangeRequest.objects.get(pk=pk).state


# --- What a registrar does on the pages ------------------------------------------------------


def open_page(page, live_server, path: str) -> None:
    response = page.goto(live_server.url + path)
    assert response is not None and response.status == 200, (
        f"{path}: {response and response.status}"
    )


def press(page, button) -> None:
    """Click a button that posts a form, and wait for the page the server answers with."""
    with page.expect_navigation(timeout=STEP_TIMEOUT):
        button.click()


def start_request(page, live_server, record, *, kind: str, reason: str, **fields):
    """/changes/new/?record=<id>: choose the kind (the page swaps the reasons in), the
    reason and whatever the kind asks; returns the new request's id."""
    open_page(page, live_server, f"/changes/new/?record={record.pk}")
    kind_field = page.get_by_label("异动种类")
    if kind_field.input_value() != kind:
        kind_field.select_option(kind)
    # The reasons of the chosen kind arrive by htmx; select_option waits for the option.
    page.get_by_label("理由").select_option(label=reason, timeout=STEP_TIMEOUT)
    if "to_school" in fields:
        page.get_by_label("转入学校").select_option(label=fields["to_school"])
    # The page's default date does not reach the browser in Chinese (a value "2026/11/30"
    # in an <input type=date> is dropped), so the registrar types the date in.
    page.get_by_label("生效日期").fill(datetime.date.today().isoformat())
    if "item" in fields:
        page.locator("[name=item_1]").select_option(label=fields["item"])
        page.locator("[name=value_1]").fill(fields["value"])
    press(page, page.get_by_role("button", name="发起申请"))
    expect(page).to_have_url(re.compile(r"/changes/\d+/$"))
    return int(re.search(r"/changes/(\d+)/$", page.url).group(1))


def document(page, name: str):
    return page.locator("li.document").filter(has=page.locator("h3", has_text=name))


def upload_and_check(page, name: str, path) -> None:
    """Step 1 for one document: upload its scan, then mark it checked against the original.
    (The upload forms of the documents share the ids id_file/id_document, so the file input
    is found inside its document, by its name.)"""
    item = document(page, name)
    item.locator("input[type=file][name=file]").set_input_files(path)
    press(page, item.get_by_role("button", name="上传", exact=True))
    item = document(page, name)
    press(page, item.get_by_role("button", name="已核对原件"))
    expect(document(page, name).locator("h3 .tag.good")).to_be_visible()


def documents_complete(page) -> None:
    press(page, page.get_by_role("button", name="材料齐全"))


def print_report(page, live_server) -> None:
    """Step 2: follow the print link; the change report opens as a PDF."""
    link = page.get_by_role("link", name="打印异动报表")
    href = link.get_attribute("href")
    assert href and href.endswith("/report.pdf")
    response = page.request.get(live_server.url + href, timeout=STEP_TIMEOUT)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF-")


def sign(page, live_server, pk: int) -> None:
    open_page(page, live_server, f"/changes/{pk}/")
    press(page, page.get_by_role("button", name="在异动报表上签字"))


def upload_signed_scan(page, live_server, pk: int, path) -> None:
    open_page(page, live_server, f"/changes/{pk}/")
    page.get_by_label("签字盖章后的报表扫描件").set_input_files(path)
    press(page, page.get_by_role("button", name="上传签字盖章后的报表"))


def central_review(page, live_server, pk: int) -> None:
    open_page(page, live_server, f"/changes/{pk}/")
    section = page.locator("#central-review")
    section.get_by_label("复审通过并盖章").check()
    section.get_by_label("意见").fill("复审无误，已盖章")
    press(page, section.get_by_role("button", name="记录复审结果"))


def submit(page, live_server, pk: int, proxy: dict | None = None) -> None:
    open_page(page, live_server, f"/changes/{pk}/")
    section = page.locator("#submit")
    if proxy:
        section.get_by_label("代办人姓名").fill(proxy["name"])
        section.get_by_label("代办人身份证件号").fill(proxy["id_number"])
        section.get_by_label("与学生的关系").fill(proxy["relation"])
        section.get_by_label("与教育局的电话联系").fill(proxy["call_note"])
    press(page, section.get_by_role("button", name="上报", exact=True))


def open_session(page, live_server) -> None:
    """/approvals/: the bureau opens the session if it is not open yet."""
    open_page(page, live_server, "/approvals/")
    opener = page.get_by_role("button", name="开始本次审批")
    if opener.count():
        press(page, opener)


def approve(page, school: str, student: str) -> None:
    queue = page.locator("section.school-queue").filter(has=page.locator("h3", has_text=school))
    row = queue.locator("tr", has=page.get_by_role("link", name=student))
    expect(row).to_be_visible()
    # The request's buttons sit in the row after its facts.
    more = row.locator("xpath=following-sibling::tr[1]")
    press(page, more.get_by_role("button", name="批准", exact=True))
    expect(page.locator(".messages")).to_contain_text(student)


def record(page, live_server, pk: int, button: str) -> None:
    open_page(page, live_server, f"/changes/{pk}/")
    press(page, page.locator("#record").get_by_role("button", name=button))


# --- 1. A rural primary transfer -------------------------------------------------------------


def test_a_rural_primary_transfer_goes_through_five_steps_and_both_schools(
    live_cast, live_server, page_for, year, tmp_path
):
    cast = live_cast
    pupil = enrol(cast.school_a1, cast.a1_registrar, year, name="张小明", sequence=1)
    old_provincial = pupil.record.provincial_number
    national = pupil.student.national_number
    scans = make_scans(tmp_path, "household", "migration", "signed")

    # Step 1 at 胡集镇第三小学: the request, its two scans, each checked against the original.
    a1 = page_for(cast.a1_registrar)
    pk = start_request(
        a1,
        live_server,
        pupil.record,
        kind="transfer",
        reason="家庭迁居",
        to_school="羊山镇 · 羊山镇第一小学",
    )
    upload_and_check(a1, "户口本", scans["household"])
    upload_and_check(a1, "户口迁移证", scans["migration"])
    documents_complete(a1)
    assert state_of(pk) == State.DOCUMENTS_CHECKED

    # Step 2: the school has no printer; its central school prints the report.
    central = page_for(cast.central_a_registrar)
    open_page(central, live_server, f"/changes/{pk}/")
    print_report(central, live_server)
    assert state_of(pk) == State.REPORT_PRINTED

    # Step 3: the registrar and the leader sign, the stamped scan is uploaded, the central
    # school re-reviews and stamps it.
    sign(a1, live_server, pk)
    leader = page_for(cast.a1_leader)
    sign(leader, live_server, pk)
    upload_signed_scan(a1, live_server, pk, scans["signed"])
    assert state_of(pk) == State.SIGNED
    central_review(central, live_server, pk)
    assert state_of(pk) == State.CENTRAL_REVIEWED

    # The receiving school confirms it can take the student.
    b1 = page_for(cast.b1_registrar)
    open_page(b1, live_server, f"/changes/{pk}/")
    receiving = b1.locator("#receiving")
    receiving.get_by_label("年级").select_option("1")
    receiving.get_by_label("班级").fill("2")
    press(b1, receiving.get_by_role("button", name="确认", exact=True))
    expect(b1.locator(".messages .msg-success")).to_be_visible()
    confirmed = ChangeRequest.objects.get(pk=pk)
    assert confirmed.receiving_confirmed_at is not None
    assert (confirmed.to_grade, confirmed.to_class) == (1, "2")

    # Step 4: submitted, a proxy carrying the papers after a call with the bureau.
    submit(a1, live_server, pk, PROXY)
    assert state_of(pk) == State.SUBMITTED
    expect(a1.locator("#proxy")).to_contain_text(PROXY["name"])

    # The bureau's session: grouped by school, the proxy highlighted; approved.
    bureau = page_for(cast.bureau_registrar)
    open_session(bureau, live_server)
    queue = bureau.locator("section.school-queue").filter(
        has=bureau.locator("h3", has_text="胡集镇第三小学")
    )
    expect(queue).to_have_count(1)
    expect(queue.locator("h3")).to_contain_text("胡集镇")
    proxy = queue.locator(".proxy")
    expect(proxy).to_be_visible()
    expect(proxy).to_contain_text(PROXY["name"])
    expect(proxy).to_contain_text(PROXY["call_note"])
    screenshot(bureau, "approval-session")
    approve(bureau, "胡集镇第三小学", "张小明")
    assert state_of(pk) == State.APPROVED

    # Step 5: the receiving school records the student's arrival.
    record(b1, live_server, pk, "学生已到校")
    expect(b1.locator("h1 .tag")).to_have_class(re.compile(r"\bgood\b"))
    change = ChangeRequest.objects.select_related("new_record").get(pk=pk)
    assert change.state == State.RECORDED
    old = pupil.record
    old.refresh_from_db()
    assert old.status == Status.TRANSFERRED_OUT and old.exit_change == "27"
    new = change.new_record
    assert new.school == cast.school_b1 and new.status == Status.ENROLLED
    assert new.provincial_number and new.provincial_number != old_provincial
    pupil.student.refresh_from_db()
    assert pupil.student.national_number == national
    expect(b1.get_by_text(new.provincial_number)).to_be_visible()
    screenshot(b1, "change-request")


# --- 2. A sick suspension, refused at step 1, then completed, then resumed -------------------


def test_a_sick_suspension_waits_for_the_bills_then_is_recorded_and_resumed(
    live_cast, live_server, page_for, year, tmp_path
):
    cast = live_cast
    c_leader = org_services.do_create_user(
        actor=None,
        unit=cast.school_c,
        username="c-leader",
        password=CAST_PASSWORD,
        role=Role.SCHOOL_LEADER,
        full_name="c-leader",
        must_change_password=False,
    )
    pupil = enrol(cast.school_c, cast.c_registrar, year, name="李小红", sequence=2)
    scans = make_scans(
        tmp_path, "certificate", "records", "bills", "signed", "fitness", "signed-again"
    )

    c = page_for(cast.c_registrar)
    pk = start_request(c, live_server, pupil.record, kind="suspension", reason="因病休学")
    upload_and_check(c, "县级（含县级）以上医院诊断证明", scans["certificate"])
    upload_and_check(c, "病历", scans["records"])
    # Step 1 refuses while the medical bills are missing, and says which document.
    documents_complete(c)
    refusal = c.locator(".messages .msg-error")
    expect(refusal).to_be_visible()
    expect(refusal).to_contain_text("三个月以上医疗费用单据")
    assert state_of(pk) == State.DRAFT
    upload_and_check(c, "三个月以上医疗费用单据", scans["bills"])
    documents_complete(c)
    assert state_of(pk) == State.DOCUMENTS_CHECKED

    # A county-direct school prints its own report; no central school reviews it.
    print_report(c, live_server)
    sign(c, live_server, pk)
    leader = page_for(c_leader)
    sign(leader, live_server, pk)
    upload_signed_scan(c, live_server, pk, scans["signed"])
    assert state_of(pk) == State.SIGNED
    expect(c.locator("#central-review")).to_have_count(0)
    submit(c, live_server, pk)
    assert state_of(pk) == State.SUBMITTED

    bureau = page_for(cast.bureau_registrar)
    open_session(bureau, live_server)
    approve(bureau, "金乡县实验小学", "李小红")
    record(c, live_server, pk, "记录异动")
    assert state_of(pk) == State.RECORDED
    pupil.record.refresh_from_db()
    assert pupil.record.status == Status.SUSPENDED

    # The resumption after recovery, through the same steps.
    again = start_request(c, live_server, pupil.record, kind="resumption", reason="病愈复学")
    assert again != pk
    upload_and_check(c, "医院出具的可以复学的证明", scans["fitness"])
    documents_complete(c)
    print_report(c, live_server)
    sign(c, live_server, again)
    sign(leader, live_server, again)
    upload_signed_scan(c, live_server, again, scans["signed-again"])
    submit(c, live_server, again)
    assert state_of(again) == State.SUBMITTED
    open_session(bureau, live_server)
    approve(bureau, "金乡县实验小学", "李小红")
    record(c, live_server, again, "记录异动")
    assert state_of(again) == State.RECORDED
    pupil.record.refresh_from_db()
    assert pupil.record.status == Status.ENROLLED


# --- 3. A name change after the parents' divorce ---------------------------------------------


def test_a_name_change_is_approved_and_the_old_name_kept(
    live_cast, live_server, page_for, year, tmp_path
):
    cast = live_cast
    pupil = enrol(cast.school_a1, cast.a1_registrar, year, name="张小明", sequence=3)
    do_lock_record(pupil.record, actor=cast.a1_registrar)
    scans = make_scans(tmp_path, "register", "police", "signed")

    a1 = page_for(cast.a1_registrar)
    pk = start_request(
        a1,
        live_server,
        pupil.record,
        kind="correction",
        reason="更名：父母离异",
        item="姓名",
        value="王小明",
    )
    # The corrections table shows the recorded and the corrected value side by side.
    correction = a1.locator("table tbody tr").filter(has_text="王小明")
    expect(correction).to_contain_text("张小明")
    upload_and_check(a1, "更名后的户口本", scans["register"])
    upload_and_check(a1, "县级户籍管理部门证明", scans["police"])
    documents_complete(a1)
    assert state_of(pk) == State.DOCUMENTS_CHECKED

    central = page_for(cast.central_a_registrar)
    open_page(central, live_server, f"/changes/{pk}/")
    print_report(central, live_server)
    sign(a1, live_server, pk)
    sign(page_for(cast.a1_leader), live_server, pk)
    upload_signed_scan(a1, live_server, pk, scans["signed"])
    central_review(central, live_server, pk)
    assert state_of(pk) == State.CENTRAL_REVIEWED
    submit(a1, live_server, pk)
    assert state_of(pk) == State.SUBMITTED

    bureau = page_for(cast.bureau_registrar)
    open_session(bureau, live_server)
    approve(bureau, "胡集镇第三小学", "张小明")
    record(a1, live_server, pk, "记录异动")
    assert state_of(pk) == State.RECORDED
    student = Student.objects.get(pk=pupil.student.pk)
    assert student.name == "王小明" and student.former_name == "张小明"

    # The student page: the new name, the old one as 曾用名, the correction in the history.
    open_page(a1, live_server, f"/students/{student.pk}/")
    expect(a1.locator("h1")).to_contain_text("王小明")
    expect(a1.locator('dt:text-is("曾用名") + dd')).to_have_text("张小明")
    history = a1.locator("section.card", has=a1.locator("h2", has_text="历史记录"))
    expect(
        history.locator("tbody tr").filter(has_text=re.compile("更正|Corrected|student.corrected"))
    ).to_have_count(1)
