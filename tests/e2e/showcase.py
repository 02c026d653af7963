"""The county the screenshots show: the shared cast with enough work in it that every main
page has something to say (issue 7, "Look").

In the school year around today (and the one before, for the semesters to compare): some
thirty pupils at school in five schools, with photos at 胡集镇第三小学 (A1), the special
categories and two ethnicities represented; new pupils of A1 at several intake steps;
changes approved over three semesters (the statistics count them), one approved transfer
still unrecorded and one suspension past its year (the dropout watch lists them), three
requests queued in the bureau's open approval session, one request half way through
step 1; signing keys, the reporting rounds with two schools reported and an extra round
announced, in which A1 made its change package.

Dates follow today, so the pages look the same on any day CI runs them. Everything is
written through the services, as the users' pages would; the live server reads what this
writes (the browser tests' database is transactional).
"""

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from tests.changes.helpers import scan, signed, with_documents
from tests.stats.helpers import approved, central_of, leader_of, registrar_of
from tests.students.conftest import raw_student
from xueji.changes import rules as change_rules
from xueji.changes import services as changes
from xueji.changes.models import ChangeRequest, Kind
from xueji.core import services as calendar_services
from xueji.intake import services as intake
from xueji.intake.demo_intake import portrait
from xueji.orgs.rules import is_rural_primary
from xueji.packages import key_services, round_services
from xueji.packages.models import ChangeRound, Package
from xueji.students import services as students
from xueji.students.photo_services import do_set_photo
from xueji.students.validation import validate_student

EXTRA_ROUND_TITLE = "学期中异动核查"
PROXY = {
    "name": "张建国",
    "id_number": "370828198001011235",
    "relation": "父亲",
    "call_note": "已电话联系教育局学籍科王老师",
}

# (school key, name, sex, grade, class, special items). Grade 1 is taken in through the
# intake at A1, so A1's pupils at school are in grades 2 and up.
PUPILS = [
    ("a1", "王子涵", "1", 2, "1", {"left_behind": "1"}),
    ("a1", "李欣怡", "2", 2, "1", {}),
    ("a1", "张浩然", "1", 3, "1", {"left_behind": "2"}),
    ("a1", "刘诗涵", "2", 3, "1", {"migrant_child": "是"}),
    ("a1", "陈宇轩", "1", 4, "1", {}),
    ("a1", "杨梓萱", "2", 4, "1", {"ethnicity": "03"}),
    ("a1", "赵俊杰", "1", 5, "1", {"disability": "4"}),
    ("a1", "黄雨桐", "2", 6, "1", {"orphan": "是"}),
    ("central_a", "周一诺", "2", 1, "1", {}),
    ("central_a", "吴泽宇", "1", 1, "2", {"hukou_type": "2"}),
    ("central_a", "徐可馨", "2", 2, "1", {"left_behind": "1"}),
    ("central_a", "孙明轩", "1", 3, "1", {}),
    ("central_a", "胡思琪", "2", 4, "1", {"ethnicity": "03"}),
    ("central_a", "朱铭泽", "1", 5, "2", {}),
    ("central_a", "高雅琳", "2", 6, "1", {"migrant_child": "是"}),
    ("c", "林子墨", "1", 1, "1", {"hukou_type": "2"}),
    ("c", "何佳怡", "2", 1, "1", {"hukou_type": "2", "migrant_child": "是"}),
    ("c", "郭睿", "1", 2, "1", {"hukou_type": "2"}),
    ("c", "马欣妍", "2", 3, "2", {"hukou_type": "2", "ethnicity": "03"}),
    ("c", "罗嘉懿", "2", 4, "1", {"hukou_type": "2"}),
    ("c", "梁宇航", "1", 5, "1", {"hukou_type": "2"}),
    ("c", "宋思远", "1", 6, "1", {"hukou_type": "2"}),
    ("b1", "郑雨萱", "2", 1, "1", {"left_behind": "2"}),
    ("b1", "谢天佑", "1", 2, "1", {}),
    ("b1", "韩梦瑶", "2", 3, "1", {"left_behind": "1"}),
    ("b1", "唐子豪", "1", 5, "1", {}),
    ("central_b", "冯若曦", "2", 1, "1", {}),
    ("central_b", "于博文", "1", 2, "1", {"migrant_child": "是"}),
    ("central_b", "董欣然", "2", 4, "1", {}),
    ("central_b", "萧景行", "1", 6, "1", {"left_behind": "1"}),
]
# New pupils of A1 (grade 1): (name, sex, how far the intake has gone).
NEW_PUPILS = [
    ("王雨泽", "1", "entered"),
    ("李若汐", "2", "entered"),
    ("张一鸣", "1", "awaiting_review"),
    ("刘语桐", "2", "awaiting_review"),
    ("陈沐阳", "1", "photographed"),
    ("杨可欣", "2", "photographed"),
]


@dataclass
class Showcase:
    cast: object
    year: object
    today: datetime.date
    records: dict[str, object] = field(default_factory=dict)  # by pupil name
    transfer: ChangeRequest | None = None  # A1 → B1, queued in the session with a proxy
    in_progress: ChangeRequest | None = None  # A1's suspension, documents still missing
    extra_round: ChangeRound | None = None
    package: Package | None = None  # A1's package of the extra round

    def student(self, name: str):
        return self.records[name].student

    def days_ago(self, days: int) -> datetime.date:
        """A past day for a change, outside the summer weeks closed to transfers (15 July
        to 14 August, DOMAIN.md)."""
        day = self.today - datetime.timedelta(days=days)
        if change_rules.transfer_window_problem(day):
            day = day.replace(month=7, day=10)
        return day


def school_of(cast, key: str):
    return {
        "a1": cast.school_a1,
        "central_a": cast.central_a,
        "c": cast.school_c,
        "b1": cast.school_b1,
        "central_b": cast.central_b,
    }[key]


def checked_row(
    show: Showcase, name: str, sex: str, grade: int, class_name: str, sequence: int, **items
):
    """The pupil as typed from the household register: born in the year that fits the
    grade (six on 31 August of the entry year)."""
    start = show.year.start_year
    birth = datetime.date(start - 6 - (grade - 1), 1 + sequence % 8, 3 + (sequence * 5) % 24)
    row = raw_student(
        name=name,
        sex=sex,
        birth=birth,
        sequence=sequence,
        grade=str(grade),
        class_name=class_name,
        entry_year_month=f"{start - (grade - 1)}09",
        **items,
    )
    checked = validate_student(row, today=show.today)
    assert checked.ok, [problem.message for problem in checked.errors]
    return checked.values


def register_pupils(show: Showcase) -> None:
    cast = show.cast
    for sequence, (key, name, sex, grade, class_name, items) in enumerate(PUPILS, start=1):
        values = checked_row(show, name, sex, grade, class_name, sequence, **items)
        done = students.do_register_student(
            values,
            actor=cast.bureau_registrar,
            school=school_of(cast, key),
            school_year=show.year,
            status="enrolled",
        )
        if key == "a1":
            do_set_photo(done.student, portrait(sequence), actor=cast.central_a_registrar)
        students.do_assign_numbers(done.record, actor=cast.bureau_registrar)
        done.record.refresh_from_db()
        show.records[name] = done.record


def intake_pupils(show: Showcase) -> None:
    """A1's new pupils: entered by the school, some sent for review, two admitted,
    photographed and numbered by the central school."""
    cast = show.cast
    entries: dict[str, list] = {}
    for position, (name, sex, state) in enumerate(NEW_PUPILS, start=len(PUPILS) + 1):
        values = checked_row(show, name, sex, 1, "1", position)
        entry = intake.do_enter_pupil(
            values, actor=cast.a1_registrar, school=cast.school_a1, school_year=show.year
        )
        entries.setdefault(state, []).append(entry)
    intake.do_send_for_review(
        entries["awaiting_review"] + entries["photographed"], actor=cast.a1_registrar
    )
    admitted = entries["photographed"]
    intake.do_review(admitted, actor=cast.central_a_registrar, admit=True)
    for shade, entry in enumerate(admitted, start=40):
        intake.do_collect_photo(entry, portrait(shade), actor=cast.central_a_registrar)
    intake.do_number(admitted, actor=cast.central_a_registrar)


def done_changes(show: Showcase) -> None:
    """Changes the bureau approved in the session: the statistics count them; one transfer
    the receiving school has not recorded yet is on the dropout watch."""
    cast = show.cast
    r = show.records
    approved(cast, r["唐子豪"], Kind.SUSPENSION, reason="sick", effective_date=show.days_ago(20))
    transfers = [
        ("董欣然", "moved", 40, cast.school_c, True),
        ("宋思远", "parent_job", 30, cast.central_b, True),
        ("朱铭泽", "property", 60, cast.school_b1, False),
    ]
    # Earlier semesters: a suspension past its year without a resumption (the dropout
    # watch), another followed by its resumption, a transfer in spring.
    approved(cast, r["梁宇航"], Kind.SUSPENSION, reason="sick", effective_date=show.days_ago(400))
    approved(cast, r["韩梦瑶"], Kind.SUSPENSION, reason="sick", effective_date=show.days_ago(250))
    approved(
        cast, r["韩梦瑶"], Kind.RESUMPTION, reason="recovered", effective_date=show.days_ago(10)
    )
    transfers.append(("郭睿", "residence", 200, cast.central_b, True))
    for name, reason, days, to_school, record_it in transfers:
        approved(
            cast,
            r[name],
            Kind.TRANSFER,
            reason=reason,
            effective_date=show.days_ago(days),
            to_school=to_school,
            record_it=record_it,
        )


def submitted(cast, request, *, proxy=None) -> ChangeRequest:
    """Steps 1 to 4 by the request's school (and its central school, where rural)."""
    school = request.from_school
    registrar = registrar_of(school)
    request = with_documents(request, registrar)
    central = central_of(cast, school) if is_rural_primary(school) else None
    printer = central if central is not None and not school.has_printer else registrar
    request = signed(request, registrar, leader_of(school), printer=printer)
    if central is not None:
        request = changes.do_central_review(request, actor=central, approve=True)
    if request.to_school is not None:
        changes.do_confirm_receiving(
            request, actor=registrar_of(request.to_school), to_grade=3, to_class="1"
        )
    return changes.do_submit(request, actor=registrar, proxy=proxy)


def queued_changes(show: Showcase) -> None:
    """Three requests submitted to the bureau's open session, one carried by a proxy (C7),
    and one of A1's requests half way through step 1."""
    cast = show.cast
    r = show.records
    day = show.days_ago(14)
    show.transfer = submitted(
        cast,
        changes.do_create_request(
            r["张浩然"],
            Kind.TRANSFER,
            actor=cast.a1_registrar,
            reason="moved",
            effective_date=day,
            to_school=cast.school_b1,
        ),
        proxy=PROXY,
    )
    submitted(
        cast,
        changes.do_create_request(
            r["罗嘉懿"], Kind.SUSPENSION, actor=cast.c_registrar, reason="sick", effective_date=day
        ),
    )
    submitted(
        cast,
        changes.do_create_request(
            r["徐可馨"],
            Kind.CORRECTION,
            actor=cast.central_a_registrar,
            reason="divorce",
            effective_date=day,
            corrections={"name": "徐可欣"},
        ),
    )
    # A1's sick-leave suspension: the hospital papers checked, the medical bills missing.
    pending = changes.do_create_request(
        r["赵俊杰"], Kind.SUSPENSION, actor=cast.a1_registrar, reason="sick", effective_date=day
    )
    for document in change_rules.required_documents(Kind.SUSPENSION, "sick")[:2]:
        evidence = changes.do_add_evidence(pending, document, scan(), actor=cast.a1_registrar)
        changes.do_check_evidence(evidence, actor=cast.a1_registrar)
    show.in_progress = pending


def rounds_and_packages(show: Showcase) -> None:
    """Keys of three schools; the current regular round reported by the central school A
    and the county-direct school; an extra round in which A1 made its package."""
    cast = show.cast
    for registrar in (cast.a1_registrar, cast.central_a_registrar, cast.c_registrar):
        key = key_services.do_generate_key(actor=registrar)
        key_services.do_register_key(key, actor=cast.bureau_registrar)
    current = (
        ChangeRound.objects.filter(county=cast.county, semester__start_date__lte=show.today)
        .order_by("-due_date")
        .first()
    )
    assert current is not None, "saving the school year opens its regular rounds"
    for registrar in (cast.central_a_registrar, cast.c_registrar):
        round_services.do_report_round(current, registrar.unit, actor=registrar)
    show.extra_round = round_services.do_announce_round(
        actor=cast.bureau_registrar,
        title=EXTRA_ROUND_TITLE,
        changes_from=show.today - datetime.timedelta(days=90),
        changes_to=show.today - datetime.timedelta(days=1),
        due_date=show.today + datetime.timedelta(days=14),
    )
    show.package = round_services.do_report_round(
        show.extra_round, cast.school_a1, actor=cast.a1_registrar
    )


def build_showcase(cast) -> Showcase:
    today = timezone.localdate()
    start = today.year if today.month >= 9 else today.year - 1
    # Last school year too, so the changes per semester have semesters to compare.
    for start_year in (start - 1, start):
        year = calendar_services.do_save_school_year(
            actor=None,
            county=cast.county,
            start_year=start_year,
            autumn_start=datetime.date(start_year, 9, 1),
            spring_start=datetime.date(start_year + 1, 2, 22),
        )
    show = Showcase(cast=cast, year=year, today=today)
    register_pupils(show)
    intake_pupils(show)
    done_changes(show)
    queued_changes(show)
    rounds_and_packages(show)
    return show
