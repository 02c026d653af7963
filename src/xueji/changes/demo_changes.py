"""Change requests for the demo county (issue 4, Demo): one or more in every state, and the
coming Wednesday's approval session open, so every page of the change flows has something
to show.

Every request is made by the demo's own users through changes/services.py, step by step,
as the pages would make it: the school registrar uploads and checks the scans, the school
(or, for a rural school without a printer, its central school) prints the report, the
registrar and the leader sign, the central school re-reviews, the receiving school
confirms a seat, the school submits, the bureau registrar jyj opens the session and
decides, the school records. So the demo obeys the same rules and leaves the same audit
trail as real work. The loader is deterministic (the same pupils every time, picked in
primary-key order) and does nothing when the county already has change requests.

What the demo holds (the scenes below, in the order they run):
- draft: a sick suspension at 胡集镇第三小学 whose medical bills are not yet scanned;
- documents checked: going abroad at 金乡县实验小学;
- report printed: a transfer from 胡集镇第三小学 (printed by its central school), signed
  by the registrar and waiting for the leader huji-dsxx-ld;
- signed: 鸡黍镇第一小学 → 金乡街道第二小学, waiting for 鸡黍镇中心小学's re-review;
- central reviewed: a data correction at 羊山镇第二小学, not yet submitted;
- submitted, queued in the coming Wednesday's session: 司马镇第二小学 → 金乡街道第一小学
  carried by the pupil's father as proxy, a suspension at 金乡县第二中学, a transfer from
  胡集镇中心小学, a transfer out of the county from 金乡县实验中学;
- approved: 霄云镇第一小学 → 金乡县实验小学, waiting for the arrival confirmation;
- refused: a transfer from 卜集镇第一小学 whose property certificate did not fit;
- recorded: a name change after a divorce at 金乡县实验小学 (the old name kept), a
  transfer 化雨镇第一小学 → 高河街道第二小学 with the arrival confirmed, and at
  兴隆镇中学 a suspension followed by the pupil's resumption;
- withdrawn: a transfer from 羊山镇中学 the family gave up;
- change-management plans from the bureau and five schools (the others have none yet).
"""

import datetime
import io
from collections.abc import Callable

from django.db import transaction
from PIL import Image

from xueji.changes import rules, services
from xueji.changes.models import PENDING_STATES, ChangePlan, ChangeRequest, Kind
from xueji.core import calendar
from xueji.orgs.models import County, Role, Unit, User
from xueji.students.models import Placement, Status, StudentRecord

COUNTY_CODE = "370828"
TWO_CHARACTER_SURNAMES = ("欧阳", "司马")


def scan() -> bytes:
    """A plain light-grey page: the demo's stand-in for every scanned document."""
    buffer = io.BytesIO()
    Image.new("L", (120, 170), 230).save(buffer, "JPEG", quality=60)
    return buffer.getvalue()


def plan_pdf(unit_name: str) -> bytes:
    """A one-page plan document (C9) naming its unit."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, invariant=True)
    page.setFont("STSong-Light", 18)
    page.drawString(72, 760, f"{unit_name}学籍异动管理方案")
    page.setFont("STSong-Light", 11)
    lines = [
        "一、学籍管理员负责核对异动材料原件，扫描上传并在系统中逐项核对。",
        "二、异动报表由学籍管理员、分管领导签字，学校盖章后上传扫描件。",
        "三、农村小学的异动由中心校复审盖章后上报教育局，参加每周三集中审批。",
        "四、审批通过后，学校及时在系统中记录异动；转学由转入学校确认学生到校。",
    ]
    for number, line in enumerate(lines):
        page.drawString(72, 720 - number * 22, line)
    page.showPage()
    page.save()
    return buffer.getvalue()


def _surname(name: str) -> str:
    return name[:2] if name[:2] in TWO_CHARACTER_SURNAMES else name[:1]


class _Demo:
    """The county, its users, and the pupils already given a request."""

    def __init__(self, county: County):
        self.county = county
        self.today = calendar.today()
        self.bureau = User.objects.get(username="jyj")
        self.used: set[int] = set()
        self.created = 0
        self.units = {
            unit.name: unit
            for unit in Unit.objects.filter(county=county, kind=Unit.Kind.SCHOOL).select_related(
                "parent", "county"
            )
        }

    # --- Who --------------------------------------------------------------------------------

    def school(self, name: str) -> Unit:
        return self.units[name]

    def registrar(self, school: Unit) -> User:
        return (
            User.objects.filter(
                unit=school,
                role__in=(Role.SCHOOL_REGISTRAR, Role.CENTRAL_REGISTRAR),
                is_active=True,
            )
            .order_by("pk")
            .get()
        )

    def leader(self, school: Unit) -> User:
        return User.objects.filter(unit=school, role=Role.SCHOOL_LEADER, is_active=True).get()

    def central_registrar(self, school: Unit) -> User:
        central = Unit.objects.get(parent_id=school.parent_id, is_central=True)
        return self.registrar(central)

    # --- Whom -------------------------------------------------------------------------------

    def pupil(
        self,
        school: Unit,
        *,
        grades: tuple[int, ...] = tuple(range(1, 10)),
        where: Callable[[StudentRecord], bool] | None = None,
    ) -> StudentRecord | None:
        """The first enrolled, numbered pupil of the school (in primary-key order) in one of
        the grades, with no request yet, for whom `where` holds."""
        records = (
            StudentRecord.objects.filter(
                school=school,
                status=Status.ENROLLED,
                student__id_type="1",
                provincial_number__isnull=False,
            )
            .exclude(pk__in=self.used)
            .exclude(requests__state__in=PENDING_STATES)
            .select_related("student", "school")
            .order_by("pk")
        )
        for record in records[:200]:
            if self.grade(record) in grades and (where is None or where(record)):
                self.used.add(record.pk)
                return record
        return None

    @staticmethod
    def grade(record: StudentRecord) -> int:
        placement = Placement.objects.filter(record=record).order_by("-school_year__start_year")
        first = placement.first()
        return first.grade if first else 0

    def effective_date(self) -> datetime.date:
        """Today, or the first day after the summer's closed transfer window."""
        if rules.transfer_window_problem(self.today) is None:
            return self.today
        closed_to = rules.config()["numbers"]["transfer_closed_to"]
        month, day = (int(part) for part in closed_to.split("-"))
        return datetime.date(self.today.year, month, day) + datetime.timedelta(days=1)

    # --- The steps, as the pages take them ----------------------------------------------------

    def start(self, record: StudentRecord, kind: str, reason: str, **extra) -> ChangeRequest:
        request = services.do_create_request(
            record,
            kind,
            actor=self.registrar(record.school),
            reason=reason,
            effective_date=self.effective_date(),
            **extra,
        )
        self.created += 1
        return request

    def documents(self, request: ChangeRequest, *, skip: tuple[str, ...] = ()) -> ChangeRequest:
        """Step 1: every required scan uploaded and checked against the original."""
        registrar = self.registrar(request.from_school)
        for document in rules.required_documents(request.kind, request.reason):
            if document in skip:
                continue
            evidence = services.do_add_evidence(request, document, scan(), actor=registrar)
            services.do_check_evidence(evidence, actor=registrar)
        if skip:
            return request
        return services.do_pass_documents(request, actor=registrar)

    def printed(self, request: ChangeRequest) -> ChangeRequest:
        """Step 2: a school without a printer has its central school print the report."""
        school = request.from_school
        printer = self.registrar(school)
        if not school.has_printer and services.needs_central_review(request):
            printer = self.central_registrar(school)
        return services.do_mark_report_printed(request, actor=printer)

    def signed(self, request: ChangeRequest) -> ChangeRequest:
        """Step 3: registrar and leader sign, the stamped report's scan is uploaded."""
        registrar = self.registrar(request.from_school)
        services.do_sign(request, actor=registrar)
        services.do_sign(request, actor=self.leader(request.from_school))
        return services.do_upload_signed_scan(request, scan(), actor=registrar)

    def reviewed(self, request: ChangeRequest) -> ChangeRequest:
        """Step 3 for a rural primary school: the central school re-reviews and stamps."""
        if not services.needs_central_review(request):
            return request
        return services.do_central_review(
            request,
            actor=self.central_registrar(request.from_school),
            approve=True,
            comment="复审无误，已盖章",
        )

    def seat(self, request: ChangeRequest, to_class: str = "1") -> None:
        """A transfer: the receiving school confirms a seat in the pupil's grade."""
        assert request.to_school is not None
        services.do_confirm_receiving(
            request,
            actor=self.registrar(request.to_school),
            to_grade=self.grade(request.record),
            to_class=to_class,
        )

    def up_to_submission(self, request: ChangeRequest) -> ChangeRequest:
        request = self.documents(request)
        request = self.printed(request)
        request = self.signed(request)
        request = self.reviewed(request)
        if request.kind == Kind.TRANSFER:
            self.seat(request)
        return request

    def submitted(self, request: ChangeRequest, proxy: dict[str, str] | None = None):
        return services.do_submit(
            self.up_to_submission(request), actor=self.registrar(request.from_school), proxy=proxy
        )

    def decided(self, request: ChangeRequest, reason: str = "") -> ChangeRequest:
        request = self.submitted(request)
        services.do_open_session(self.county, actor=self.bureau)
        return services.do_decide(request, actor=self.bureau, approve=not reason, reason=reason)

    def recorded(self, request: ChangeRequest) -> ChangeRequest:
        request = self.decided(request)
        school = request.to_school if request.kind == Kind.TRANSFER else request.from_school
        assert school is not None
        return services.do_record(request, actor=self.registrar(school))


# --- The scenes -----------------------------------------------------------------------------


def _not_last_grade(record: StudentRecord) -> bool:
    # A suspension in the graduating year's last semester is refused: keep away from it.
    return _Demo.grade(record) not in (6, 9)


def _primary(record: StudentRecord) -> bool:
    return _Demo.grade(record) <= 6


def _with_father(record: StudentRecord) -> bool:
    father = record.student.family.filter(position=1).first()
    return father is not None and father.relation == "1" and bool(father.id_number)


def _primary_with_father(record: StudentRecord) -> bool:
    return _primary(record) and _with_father(record)


def _mother_surname_differs(record: StudentRecord) -> bool:
    mother = record.student.family.filter(position=2, relation="2").first()
    return mother is not None and _surname(mother.name) != _surname(record.student.name)


def _draft(demo: _Demo) -> None:
    """The scenario's sick suspension that cannot pass step 1: the bills are missing."""
    record = demo.pupil(demo.school("胡集镇第三小学"), where=_not_last_grade)
    if record is not None:
        request = demo.start(record, Kind.SUSPENSION, "sick")
        demo.documents(request, skip=("medical_bills",))


def _documents_checked(demo: _Demo) -> None:
    record = demo.pupil(demo.school("金乡县实验小学"))
    if record is not None:
        demo.documents(demo.start(record, Kind.ABROAD, "abroad"))


def _report_printed(demo: _Demo) -> None:
    """Printed by 胡集镇中心小学 (胡集镇第三小学 has no printer); the registrar has signed,
    the leader huji-dsxx-ld has not yet."""
    school = demo.school("胡集镇第三小学")
    record = demo.pupil(school, where=_primary)
    if record is not None:
        request = demo.start(
            record, Kind.TRANSFER, "parent_job", to_school=demo.school("金乡县实验小学")
        )
        request = demo.printed(demo.documents(request))
        services.do_sign(request, actor=demo.registrar(school))


def _signed(demo: _Demo) -> None:
    """The scenario's move from 鸡黍镇 to 金乡街道, waiting for the central school."""
    record = demo.pupil(demo.school("鸡黍镇第一小学"), where=_primary)
    if record is not None:
        request = demo.start(
            record, Kind.TRANSFER, "moved", to_school=demo.school("金乡街道第二小学")
        )
        request = demo.signed(demo.printed(demo.documents(request)))
        demo.seat(request)


def _central_reviewed(demo: _Demo) -> None:
    record = demo.pupil(
        demo.school("羊山镇第二小学"),
        where=lambda record: record.student.native_place != "山东嘉祥",
    )
    if record is not None:
        request = demo.start(
            record,
            Kind.CORRECTION,
            "data_error",
            reason_note="籍贯登记有误，按户口本更正",
            corrections={"native_place": "山东嘉祥"},
        )
        demo.reviewed(demo.signed(demo.printed(demo.documents(request))))


def _submitted(demo: _Demo) -> None:
    """Four requests queued for the coming Wednesday; one carried by a proxy (C7)."""
    record = demo.pupil(
        demo.school("司马镇第二小学"), where=lambda r: _primary(r) and _with_father(r)
    )
    if record is not None:
        father = record.student.family.get(position=1)
        request = demo.start(
            record, Kind.TRANSFER, "moved", to_school=demo.school("金乡街道第一小学")
        )
        bureau_name = demo.bureau.full_name or demo.bureau.username
        demo.submitted(
            request,
            proxy={
                "name": father.name,
                "id_number": father.id_number,
                "relation": "父亲",
                "call_note": f"学校周三前人手紧张，已电话联系教育局学籍科{bureau_name}，"
                "同意由学生父亲代为报送转学材料",
            },
        )
    record = demo.pupil(demo.school("金乡县第二中学"), where=_not_last_grade)
    if record is not None:
        demo.submitted(demo.start(record, Kind.SUSPENSION, "sick"))
    record = demo.pupil(demo.school("胡集镇中心小学"), where=_primary)
    if record is not None:
        demo.submitted(
            demo.start(record, Kind.TRANSFER, "property", to_school=demo.school("高河街道第一小学"))
        )
    record = demo.pupil(demo.school("金乡县实验中学"))
    if record is not None:
        demo.submitted(
            demo.start(record, Kind.TRANSFER_OUT, "parent_job", outside_school="江苏省丰县实验中学")
        )


def _approved(demo: _Demo) -> None:
    """Approved: the pupil has a new number at 金乡县实验小学, which has not yet
    confirmed the arrival."""
    record = demo.pupil(demo.school("霄云镇第一小学"), where=_primary)
    if record is not None:
        demo.decided(
            demo.start(record, Kind.TRANSFER, "residence", to_school=demo.school("金乡县实验小学"))
        )


def _refused(demo: _Demo) -> None:
    record = demo.pupil(demo.school("卜集镇第一小学"), where=_primary)
    if record is not None:
        demo.decided(
            demo.start(
                record, Kind.TRANSFER, "property", to_school=demo.school("金乡街道第二小学")
            ),
            reason="房产证所载房屋不在金乡街道，与转学理由不符；请核实后重新申请。",
        )


def _recorded(demo: _Demo) -> None:
    """A name change after the parents' divorce (N6), a completed transfer, and a
    suspension run through to the pupil's resumption."""
    school = demo.school("金乡县实验小学")
    record = demo.pupil(school, grades=(2, 3, 4, 5), where=_mother_surname_differs)
    if record is not None:
        mother = record.student.family.get(position=2)
        given = record.student.name[len(_surname(record.student.name)) :]
        demo.recorded(
            demo.start(
                record,
                Kind.CORRECTION,
                "divorce",
                reason_note="父母离婚，随母姓",
                corrections={"name": _surname(mother.name) + given},
            )
        )
    record = demo.pupil(demo.school("化雨镇第一小学"), where=_primary)
    if record is not None:
        demo.recorded(
            demo.start(record, Kind.TRANSFER, "moved", to_school=demo.school("高河街道第二小学"))
        )
    record = demo.pupil(demo.school("兴隆镇中学"), where=_not_last_grade)
    if record is not None:
        demo.recorded(demo.start(record, Kind.SUSPENSION, "sick"))
        record.refresh_from_db()
        demo.recorded(demo.start(record, Kind.RESUMPTION, "recovered"))


def _withdrawn(demo: _Demo) -> None:
    school = demo.school("羊山镇中学")
    record = demo.pupil(school, grades=(7, 8, 9))
    if record is not None:
        request = demo.start(
            record, Kind.TRANSFER, "residence", to_school=demo.school("金乡县第二中学")
        )
        request = demo.printed(demo.documents(request))
        services.do_withdraw(
            request,
            actor=demo.registrar(school),
            reason="家长决定暂不转学，学生继续在本校就读",
        )


PLAN_UNITS = (
    "胡集镇中心小学",
    "鸡黍镇中心小学",
    "司马镇中心小学",
    "金乡县实验小学",
    "金乡县第二中学",
)


def _plans(demo: _Demo) -> None:
    """C9: the bureau and five schools have filed their plans; the rest have not."""
    bureau_unit = Unit.objects.get(county=demo.county, kind=Unit.Kind.BUREAU)
    services.do_file_plan(
        bureau_unit, plan_pdf(bureau_unit.name), actor=demo.bureau, note="2026-2027学年"
    )
    for name in PLAN_UNITS:
        unit = demo.school(name)
        services.do_file_plan(
            unit, plan_pdf(name), actor=demo.registrar(unit), note="2026-2027学年"
        )


SCENES = (
    _draft,
    _documents_checked,
    _report_printed,
    _signed,
    _central_reviewed,
    _approved,
    _refused,
    _recorded,
    _withdrawn,
    _submitted,
)


def load_demo_changes() -> int:
    """Load the demo county's change requests, plans and open session; returns how many
    requests were created (0 when the county is missing, has no students yet, or already
    has change requests)."""
    county = County.objects.filter(division_code=COUNTY_CODE).first()
    if county is None or not User.objects.filter(username="jyj").exists():
        return 0
    with transaction.atomic():
        # Checked inside the transaction: two loaders started at once load once.
        if ChangeRequest.objects.filter(from_school__county=county).exists():
            return 0
        if not StudentRecord.objects.filter(school__county=county).exists():
            return 0
        demo = _Demo(county)
        for scene in SCENES:
            scene(demo)
        if not ChangePlan.objects.filter(unit__county=county).exists():
            _plans(demo)
        # The bureau sees the queue: the coming session is open (opening twice is harmless).
        services.do_open_session(county, actor=demo.bureau)
    return demo.created
