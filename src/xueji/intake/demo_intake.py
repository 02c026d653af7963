"""New-student intake for the demo county (issue 5, Demo): this school year's (2026-2027)
primary intake with pupils in every state, and a junior intake in progress.

Every pupil is entered by the demo's own users through intake/services.py, step by step,
as the pages would do it: the school registrar types the pupil from the 户口本 (the row is
checked by students.validation first), sends the pupils for review; the reviewing unit
admits or returns them, collects their photos and numbers them; the school submits; the
central school forwards; the bureau accepts. So the demo obeys the same rules and leaves
the same audit trail as real work. The loader is deterministic (the same pupils in the
same order every time) and does nothing when the county already has intake entries.

What the demo holds (SCENARIOS.md, weeks 1-2 and week 1 of junior intake):
- 胡集镇第三小学 (huji-dsxx, reviewed by 胡集镇中心小学 huji-zxxx), 12 pupils: two being
  entered (one of them five years old on 31 August, whom the school does not admit), two
  awaiting review, one returned because the name differs from the 户口本, two admitted
  (one a five-year-old admitted as a documented medical deferral), one photographed,
  twins numbered (their parents typed once), one submitted, one forwarded to the bureau;
- 金乡县实验小学 (jx-syxx, county-direct, reviewed by the bureau jyj), 6 pupils: one
  numbered, two submitted, three accepted;
- 金乡县第二中学 (jx-dezx): the primary numbers of a few new grade-7 students collected.
  Year-end has not run in the demo, so the pupils named are today's grade-6 pupils and
  come out as "still open at another primary school" (the bureau fixes it there); one
  number has a typo and is not found. Conversion is left to the bureau.

The new pupils' ID numbers count down from sequence 998/999 and skip every number the
county's students already hold, so they never collide with the synthetic students.
"""

import datetime
import io
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import translation
from PIL import Image, ImageDraw

from xueji.core.errors import RuleViolation
from xueji.core.models import SchoolYear
from xueji.intake import services
from xueji.intake.models import (
    EntryState,
    ExceptionKind,
    IntakeEntry,
    JuniorCandidate,
    JuniorDocument,
)
from xueji.orgs.models import County, Unit, User
from xueji.students.identity import check_character, check_id_number
from xueji.students.models import (
    NumberKind,
    Placement,
    RecordStage,
    Status,
    Student,
    StudentNumber,
    StudentRecord,
)
from xueji.students.validation import validate_student

COUNTY_CODE = "370828"
SCHOOL_YEAR = 2026
# The day the pupils are typed in: the second day of the autumn term.
ENTERED_ON = datetime.date(SCHOOL_YEAR, 9, 2)
RETURN_REASON = "户口本上姓名为'张梓萱'，与录入'张子萱'不一致"
DEFERRAL_NOTE = "去年因病缓学，有医院证明"
# Grade-6 pupils whose numbers 金乡县第二中学 collects, from these schools near it.
FEEDING_SCHOOLS = ("金乡县实验小学", "金乡街道中心小学")
PUPILS_PER_FEEDING_SCHOOL = 3


@dataclass(frozen=True)
class Pupil:
    """A new pupil as the 户口本 shows them, and how far the demo takes them."""

    name: str
    sex: str  # "1" boy, "2" girl
    born: datetime.date
    father: str
    mother: str
    reaches: str  # the EntryState the pupil is left in
    exception: bool = False  # five years old, admitted as a documented deferral


NOT_ADMITTED_REASON = "未满六周岁，无缓学证明，明年入学"
# 胡集镇第三小学: 王老师's pupils. The twins share their parents and birthday.
HUJI_PUPILS = (
    Pupil("王梓涵", "2", datetime.date(2020, 3, 14), "王建国", "李秀英", EntryState.ENTERED),
    # Five years old on 31 August: the system says so, and the school does not admit her.
    Pupil("刘一诺", "2", datetime.date(2020, 11, 20), "刘海涛", "张丽", EntryState.WITHDRAWN),
    Pupil("李浩然", "1", datetime.date(2019, 10, 8), "李志强", "王娟", EntryState.AWAITING_REVIEW),
    Pupil("陈雨桐", "2", datetime.date(2020, 1, 23), "陈勇", "赵静", EntryState.AWAITING_REVIEW),
    Pupil("张子萱", "2", datetime.date(2020, 5, 2), "张军", "孙艳", EntryState.RETURNED),
    Pupil(
        "孙宇航",
        "1",
        datetime.date(2020, 9, 18),
        "孙明",
        "周芳",
        EntryState.ADMITTED,
        exception=True,
    ),
    Pupil("赵欣怡", "2", datetime.date(2019, 12, 1), "赵超", "吴红梅", EntryState.ADMITTED),
    Pupil("周博文", "1", datetime.date(2020, 2, 11), "周斌", "郑晓燕", EntryState.PHOTOGRAPHED),
    Pupil("胡晨阳", "1", datetime.date(2020, 6, 6), "胡鹏", "马春梅", EntryState.NUMBERED),
    Pupil("胡晨曦", "2", datetime.date(2020, 6, 6), "胡鹏", "马春梅", EntryState.NUMBERED),
    Pupil("马思远", "1", datetime.date(2019, 11, 27), "马刚", "高海燕", EntryState.SUBMITTED),
    Pupil("朱佳琪", "2", datetime.date(2020, 4, 16), "朱亮", "徐玲", EntryState.FORWARDED),
)
# 金乡县实验小学: 李老师's pupils, reviewed by the bureau.
COUNTY_DIRECT_PUPILS = (
    Pupil("王俊熙", "1", datetime.date(2019, 9, 21), "王卫东", "孔丽娜", EntryState.NUMBERED),
    Pupil("张语桐", "2", datetime.date(2020, 7, 30), "张振华", "刘慧", EntryState.SUBMITTED),
    Pupil("刘子墨", "1", datetime.date(2020, 1, 5), "刘新民", "杨霞", EntryState.SUBMITTED),
    Pupil("杨可馨", "2", datetime.date(2019, 12, 19), "杨广辉", "曹美玲", EntryState.ACCEPTED),
    Pupil("孔令博", "1", datetime.date(2020, 5, 24), "孔庆华", "颜丽萍", EntryState.ACCEPTED),
    Pupil("颜诗涵", "2", datetime.date(2020, 8, 9), "颜金龙", "孟淑华", EntryState.ACCEPTED),
)
# The order of the states along the way: a pupil reaches every state before its own.
ORDER: list[str] = [
    EntryState.ENTERED,
    EntryState.AWAITING_REVIEW,
    EntryState.ADMITTED,
    EntryState.PHOTOGRAPHED,
    EntryState.NUMBERED,
    EntryState.SUBMITTED,
    EntryState.FORWARDED,
    EntryState.ACCEPTED,
]


def portrait(index: int) -> bytes:
    """A light-blue passport-style photo (358×441), its silhouette shaded by the index."""
    shade = 90 + (index * 7) % 30
    image = Image.new("RGB", (358, 441), (170, 210, 240))
    draw = ImageDraw.Draw(image)
    draw.ellipse((114, 70, 244, 230), fill=(shade, shade, shade + 15))
    draw.rounded_rectangle((54, 250, 304, 470), radius=90, fill=(shade, shade, shade + 15))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


class _IdNumbers:
    """居民身份证号 for the new pupils: sequences from the top of the range down, skipping
    any number a student of the database already holds."""

    def __init__(self):
        self.next_pair = 499  # sequence 998 (girls) / 999 (boys), then 996/997, ...

    def take(self, born: datetime.date, sex: str) -> str:
        while self.next_pair >= 0:
            sequence = self.next_pair * 2 + (1 if sex == "1" else 0)
            self.next_pair -= 1
            first17 = f"{COUNTY_CODE}{born:%Y%m%d}{sequence:03d}"
            number = first17 + check_character(first17)
            if not Student.objects.filter(id_type="1", id_number=number).exists():
                assert check_id_number(number, birth_date=born, sex=sex, today=ENTERED_ON).ok
                return number
        raise RuleViolation(f"No free demo ID number born {born}.")


def _row(pupil: Pupil, id_number: str, township: Unit) -> dict[str, object]:
    """The pupil as the registrar types the entry form, in the 户口本's order."""
    hukou = township.division_code.ljust(12, "0")
    address = f"金乡县{township.name}{pupil.father[0]}庄村{len(pupil.name) * 7 + pupil.born.day}号"
    phone = f"1385371{pupil.born:%m%d}"
    return {
        "name": pupil.name,
        "sex": pupil.sex,
        "birth_date": pupil.born.isoformat(),
        "birthplace_code": hukou,
        "native_place": "山东金乡",
        "ethnicity": "01",
        "nationality": "156",
        "id_type": "1",
        "id_number": id_number,
        "overseas": "00",
        "political": "13",
        "health": "10",
        "hukou_code": hukou,
        "hukou_type": "1" if township.division_code[-3:].startswith("1") else "2",
        "grade": "1",
        "class_name": "1",
        "entry_year_month": f"{SCHOOL_YEAR}09",
        "entry_method": "11",
        "attendance": "1",
        "source": "1",
        "current_address": address,
        "mailing_address": address,
        "home_address": address,
        "phone": phone,
        "postal_code": "272200",
        "only_child": "否",
        "preschool": "是",
        "family1.name": pupil.father,
        "family1.relation": "父亲",
        "family1.is_guardian": "是",
        "family1.phone": phone,
        "family2.name": pupil.mother,
        "family2.relation": "母亲",
        "family2.is_guardian": "是",
    }


class _Demo:
    def __init__(self, county: County, school_year: SchoolYear):
        self.county = county
        self.school_year = school_year
        self.ids = _IdNumbers()
        self.photos = 0
        self.created = 0

    def user(self, username: str) -> User:
        return User.objects.select_related("unit").get(username=username)

    @staticmethod
    def school_of(registrar: User) -> Unit:
        assert registrar.unit is not None  # a school registrar belongs to the school
        return registrar.unit

    def enter(self, school: Unit, pupils: tuple[Pupil, ...], registrar: User) -> list:
        assert school.parent is not None  # every school lies in a township
        entries = []
        for pupil in pupils:
            row = _row(pupil, self.ids.take(pupil.born, pupil.sex), school.parent)
            checked = validate_student(row, today=ENTERED_ON)
            if not checked.ok:  # a bug in this loader, never a user's mistake
                raise RuleViolation("; ".join(p.message for p in checked.errors))
            entries.append(
                services.do_enter_pupil(
                    checked.values, actor=registrar, school=school, school_year=self.school_year
                )
            )
            self.created += 1
        return entries

    @staticmethod
    def past(pupils, entries, state: str) -> list[IntakeEntry]:
        """The entries whose pupils the demo takes at least as far as `state`."""
        return [
            entry
            for pupil, entry in zip(pupils, entries, strict=True)
            if pupil.reaches in ORDER and ORDER.index(pupil.reaches) >= ORDER.index(state)
        ]

    def photograph(self, entries: list[IntakeEntry], reviewer: User) -> None:
        for entry in entries:
            self.photos += 1
            services.do_collect_photo(entry, portrait(self.photos), actor=reviewer)

    def rural_intake(self) -> None:
        """胡集镇第三小学: entry, review by 胡集镇中心小学, photos and numbers, submission,
        forwarding (SCENARIOS.md, weeks 1-2)."""
        registrar, central = self.user("huji-dsxx"), self.user("huji-zxxx")
        pupils = HUJI_PUPILS
        entries = self.enter(self.school_of(registrar), pupils, registrar)
        for pupil, entry in zip(pupils, entries, strict=True):
            if pupil.exception:
                services.do_record_exception(
                    entry, ExceptionKind.DEFERRAL, DEFERRAL_NOTE, actor=registrar
                )
        for pupil, entry in zip(pupils, entries, strict=True):
            if pupil.reaches == EntryState.WITHDRAWN:
                services.do_not_admit(entry, NOT_ADMITTED_REASON, actor=registrar)
        returned = [
            e for p, e in zip(pupils, entries, strict=True) if p.reaches == EntryState.RETURNED
        ]
        services.do_send_for_review(
            self.past(pupils, entries, EntryState.AWAITING_REVIEW) + returned, actor=registrar
        )
        services.do_review(returned, actor=central, admit=False, reason=RETURN_REASON)
        services.do_review(
            self.past(pupils, entries, EntryState.ADMITTED), actor=central, admit=True
        )
        self.photograph(self.past(pupils, entries, EntryState.PHOTOGRAPHED), central)
        services.do_number(self.past(pupils, entries, EntryState.NUMBERED), actor=central)
        services.do_submit(self.past(pupils, entries, EntryState.SUBMITTED), actor=registrar)
        services.do_forward(self.past(pupils, entries, EntryState.FORWARDED), actor=central)

    def county_direct_intake(self) -> None:
        """金乡县实验小学: the bureau reviews, photographs and numbers; the school submits;
        the bureau accepts (no central school in between)."""
        registrar, bureau = self.user("jx-syxx"), self.user("jyj")
        pupils = COUNTY_DIRECT_PUPILS
        entries = self.enter(self.school_of(registrar), pupils, registrar)
        services.do_send_for_review(entries, actor=registrar)
        services.do_review(entries, actor=bureau, admit=True)
        self.photograph(entries, bureau)
        services.do_number(entries, actor=bureau)
        services.do_submit(self.past(pupils, entries, EntryState.SUBMITTED), actor=registrar)
        services.do_accept(self.past(pupils, entries, EntryState.ACCEPTED), actor=bureau)

    def junior_intake(self) -> None:
        """金乡县第二中学 collects the primary numbers (one by ID number) of its new grade 7;
        they are today's grade-6 pupils, so the system finds them still open at their
        primary school, and a mistyped number is not found."""
        registrar = self.user("jx-dezx")
        placements = []
        for name in FEEDING_SCHOOLS:
            placements += list(
                Placement.objects.filter(
                    school_year=self.school_year,
                    grade=6,
                    record__school__county=self.county,
                    record__school__name=name,
                    record__stage=RecordStage.PRIMARY,
                    record__status=Status.ENROLLED,
                    record__provincial_number__isnull=False,
                    record__student__id_type="1",
                )
                .select_related("record__student")
                .order_by("record_id")[:PUPILS_PER_FEEDING_SCHOOL]
            )
        if not placements:
            return
        rows: list[tuple[str, str]] = []
        for n, placement in enumerate(placements):
            record = placement.record
            # Most students show the certificate and are typed by primary number; one
            # shows the record card and is typed by ID number.
            if n == 1:
                rows.append((record.student.id_number, JuniorDocument.RECORD_CARD))
            else:
                rows.append((str(record.provincial_number), JuniorDocument.CERTIFICATE))
        rows.append(
            (_mistyped(str(placements[0].record.provincial_number)), JuniorDocument.CERTIFICATE)
        )
        made = services.do_collect_junior(
            self.school_of(registrar), self.school_year, rows, actor=registrar
        )
        self.created += len(made)


def _mistyped(number: str) -> str:
    """The number with its last two digits swapped or, failing that, its last digit
    changed: a typo that matches no number given."""
    candidates = [number[:-2] + number[-1] + number[-2]]
    candidates += [number[:-1] + str((int(number[-1]) + step) % 10) for step in range(1, 10)]
    for candidate in candidates:
        if (
            candidate != number
            and not StudentNumber.objects.filter(
                kind=NumberKind.PROVINCIAL, value=candidate
            ).exists()
        ):
            return candidate
    raise RuleViolation(f"No free mistyped number near {number}.")


def load_demo_intake() -> int:
    """Load the demo county's intake; returns how many pupils were entered and junior
    numbers collected (0 when the county or its users are missing, has no students yet,
    or already has intake entries)."""
    county = County.objects.filter(division_code=COUNTY_CODE).first()
    usernames = ("jyj", "huji-dsxx", "huji-zxxx", "jx-syxx", "jx-dezx")
    if county is None or User.objects.filter(username__in=usernames).count() < len(usernames):
        return 0
    school_year = SchoolYear.objects.filter(county=county, start_year=SCHOOL_YEAR).first()
    if school_year is None:
        return 0
    # The eligibility problems are stored as sentences: in the language the pages speak,
    # not the untranslated one a management command runs in.
    with translation.override(settings.LANGUAGE_CODE), transaction.atomic():
        # Checked inside the transaction: two loaders started at once load once.
        if IntakeEntry.objects.filter(school__county=county).exists():
            return 0
        if JuniorCandidate.objects.filter(school__county=county).exists():
            return 0
        # The synthetic students come first: their loader fills only a county without any.
        if not StudentRecord.objects.filter(school__county=county).exists():
            return 0
        demo = _Demo(county, school_year)
        demo.rural_intake()
        demo.county_direct_intake()
        demo.junior_intake()
    return demo.created
