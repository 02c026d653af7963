"""About 30,000 synthetic students for the demo county (issue 3, Demo), deterministic.

Every student is generated as a registrar would type a spreadsheet row, checked by
`validation.validate_student` and written by `bulk.register_many`, so the demo data
obeys the same rules as an import. On top of what an import writes, the loader gives
what past school years would have given: the national G numbers, the lock of records
submitted in earlier years (grades 2 and up), and placeholder photos. About 20 pupils
are registered a second time without an ID number at another school, so the bureau's
page of candidate double registrations has something to decide.

School year 2026-2027: grade g entered primary school in September 2027 - g, at six
years old on the 31 August cut-off, so it was born between 1 September 2020 - g and
31 August 2021 - g. Junior grades 7-9 entered junior high in September 2033 - g.
"""

import datetime
import io
import math
import random
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from xueji.audit.services import record_event, record_events
from xueji.core.errors import RuleViolation
from xueji.core.models import SchoolYear
from xueji.orgs import services as org_services
from xueji.orgs.models import County, Stage, Unit
from xueji.students import form_items, rules
from xueji.students.bulk import register_many
from xueji.students.form_items import BY_KEY, ITEMS
from xueji.students.identity import check_character
from xueji.students.models import (
    NumberKind,
    NumberSequence,
    RecordStage,
    Status,
    Student,
    StudentNumber,
    StudentRecord,
)
from xueji.students.pinyin import display_pinyin, pinyin_keys
from xueji.students.services import provincial_prefix
from xueji.students.validation import validate_student

COUNTY_CODE = "370828"
SCHOOL_YEAR = 2026
# The day the rows are checked as of: the school year's first day.
CHECKED_ON = datetime.date(SCHOOL_YEAR, 11, 1)
CLASS_CAPS: dict[str, int] = {RecordStage.PRIMARY: 45, RecordStage.JUNIOR: 50}
# Classes are filled to a few seats below the cap, so transfers still fit.
CLASS_HEADROOM = 4
POSTAL_CODE = "272200"
PHOTO_NAMES = [f"photos/demo/placeholder-{n}.jpg" for n in range(1, 5)]
DUPLICATE_PAIRS = 20
SAMPLE_EVERY = 7
# Every so many rows is also put through validate_student while loading.
VALIDATE_EVERY = 25

# Cohort sizes relative to each other: births in China peaked in 2016-2017 and fell after.
COHORT = {1: 0.84, 2: 0.9, 3: 1.0, 4: 1.1, 5: 1.06, 6: 1.02, 7: 1.0, 8: 0.99, 9: 0.97}

# Surnames of south-west Shandong with rough weights (孔, 颜 and 孟 are common near Qufu).
SURNAMES = (
    ("王", 95),
    ("李", 88),
    ("张", 84),
    ("刘", 70),
    ("陈", 38),
    ("杨", 34),
    ("孙", 32),
    ("赵", 30),
    ("马", 24),
    ("周", 22),
    ("徐", 22),
    ("朱", 20),
    ("高", 20),
    ("胡", 17),
    ("郭", 16),
    ("何", 12),
    ("吕", 14),
    ("姜", 13),
    ("韩", 13),
    ("田", 12),
    ("宋", 14),
    ("郑", 11),
    ("孔", 14),
    ("曹", 12),
    ("袁", 8),
    ("冯", 9),
    ("董", 11),
    ("于", 12),
    ("苏", 8),
    ("魏", 10),
    ("程", 8),
    ("任", 9),
    ("侯", 8),
    ("梁", 8),
    ("崔", 9),
    ("彭", 6),
    ("贾", 9),
    ("唐", 6),
    ("颜", 6),
    ("孟", 8),
    ("岳", 5),
    ("单", 4),
    ("曾", 3),
    ("仇", 2),
    ("欧阳", 1),
    ("司马", 1),
)
BOY_NAMES = (
    "子轩 浩然 宇轩 浩宇 俊熙 皓轩 子墨 宇航 博文 睿 轩 浩 铭 晨阳 思远 一鸣 梓豪 "
    "俊杰 泽宇 明哲 嘉豪 天佑 文博 锦程 子豪 奕辰 昊然 宇泽 承泽 志豪 睿泽 子睿 "
    "凯 瑞 鑫 家乐 宏宇 梓睿 沐阳 一航 煜祺 智宸 正豪 昊天 伟宸 雨泽 俊豪 鹏飞 "
    "子涵 铭轩 佳豪 振宇 书豪 晨"
).split()
GIRL_NAMES = (
    "梓涵 一诺 欣怡 紫萱 梓萱 依诺 思涵 雨桐 可馨 语桐 佳怡 诗涵 子涵 若汐 梦瑶 "
    "欣妍 雨萱 芯蕊 晨曦 雅琪 语嫣 雨涵 佳琪 梓琪 思琪 艺涵 诗琪 静怡 欣悦 可欣 "
    "婉清 梦琪 雨欣 紫涵 佳欣 一涵 梓妍 语汐 悦 彤 萱 婷 颖 雪 妍 嘉怡 欣然 "
    "梓轩 若曦 安琪"
).split()
FATHER_NAMES = (
    "建国 志强 伟 磊 军 海涛 明 勇 超 涛 斌 鹏 强 刚 亮 建华 国强 春雷 洪涛 "
    "永刚 振华 立新 卫东 庆华 新民 广辉 红军 文杰 金龙 德胜"
).split()
MOTHER_NAMES = (
    "丽 娟 静 敏 艳 芳 红梅 秀英 玉兰 丽娜 晓燕 春梅 海燕 桂芝 凤霞 慧 霞 "
    "玲 翠 美玲 红霞 雪梅 莉 晓丽 丽萍 淑华 秋菊 金凤"
).split()
# Given-name characters and a homophone each, for registrations a registrar misspelt.
HOMOPHONES = {
    "子": "梓",
    "梓": "子",
    "萱": "轩",
    "轩": "萱",
    "涵": "晗",
    "怡": "仪",
    "浩": "昊",
    "昊": "浩",
    "宇": "雨",
    "雨": "宇",
    "晨": "辰",
    "佳": "嘉",
    "嘉": "佳",
    "欣": "馨",
    "琪": "淇",
    "诺": "糯",
    "博": "柏",
    "杰": "捷",
    "豪": "好",
    "泽": "择",
}
VILLAGE_SUFFIXES = "庄 楼 集 屯 营 寨 店 洼 庄 楼".split()
STREETS = "金城路 中心街 奎星路 金山街 莱河路 文峰路 建设路 人民路".split()
EMPLOYERS = (
    "务农",
    "个体经营",
    "金乡县大蒜批发市场",
    "在外务工",
    "济宁某建筑公司",
    "金乡县人民医院",
    "县城某超市",
    "运输个体",
    "金乡县第一实验小学",
    "物流公司",
)
# Where a migrant worker's child is registered: neighbouring counties, and a few further.
OTHER_COUNTIES = (
    ("370829", "山东嘉祥"),
    ("370827", "山东鱼台"),
    ("371724", "山东巨野"),
    ("371723", "山东成武"),
    ("371722", "山东单县"),
    ("371721", "山东曹县"),
    ("341321", "安徽砀山"),
    ("320321", "江苏丰县"),
)
MOBILE_PREFIXES = "134 135 136 137 138 139 150 151 152 157 158 159 182 187 188 177 178 155".split()


@dataclass
class _Made:
    """What the duplicate pass needs to know about a registered pupil."""

    student_id: int
    school_id: int
    grade: int
    raw: dict[str, object]


class _People:
    """Names, ID numbers and addresses, from one seeded random generator."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.surnames = [name for name, _weight in SURNAMES]
        self.surname_weights = [weight for _name, weight in SURNAMES]
        self.used_ids: set[str] = set()

    def surname(self) -> str:
        return self.rng.choices(self.surnames, self.surname_weights)[0]

    def given(self, sex: str) -> str:
        names = BOY_NAMES if sex == "1" else GIRL_NAMES
        if self.rng.random() < 0.35:
            # Two characters from two different names: more variety, still plausible.
            first, second = self.rng.choice(names), self.rng.choice(names)
            return first[0] + second[-1]
        return self.rng.choice(names)

    def id_number(self, area: str, born: datetime.date, sex: str) -> str:
        """A valid, unused 居民身份证号: odd 17th digit for a man, even for a woman."""
        while True:
            sequence = self.rng.randrange(500) * 2 + (1 if sex == "1" else 0)
            first17 = f"{area}{born:%Y%m%d}{sequence:03d}"
            number = first17 + check_character(first17)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def date_between(self, first: datetime.date, last: datetime.date) -> datetime.date:
        return first + datetime.timedelta(days=self.rng.randrange((last - first).days + 1))

    def mobile(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"


def birth_window(grade: int) -> tuple[datetime.date, datetime.date]:
    """Born so as to be six on 31 August of the primary entry year (grade 1 in 2026)."""
    entry = SCHOOL_YEAR - (grade - 1)
    return datetime.date(entry - 7, 9, 1), datetime.date(entry - 6, 8, 31)


def stage_entry_year(grade: int) -> int:
    """The year the pupil entered the stage of this grade (入学年月, kept on transfer)."""
    return SCHOOL_YEAR - (grade - 1) if grade <= 6 else SCHOOL_YEAR - (grade - 7)


# --- Who goes where -------------------------------------------------------------------------


def _grades(school: Unit) -> list[int]:
    return [grade for grade in range(1, 10) if rules.grade_problem(school.stage, grade) is None]


def _weight(school: Unit, grade: int) -> float:
    """How many pupils of a grade a school has, relative to the others."""
    if school.stage == Stage.NINE_YEAR:
        return 1.5 if grade <= 6 else 2.0
    if school.county_direct:
        return 3.0 if grade <= 6 else 2.5
    if school.stage == Stage.JUNIOR:
        return 1.0
    return 1.6 if school.is_central else 0.55


def allocate(schools: list[Unit], target: int) -> list[tuple[Unit, int, int]]:
    """(school, grade, pupils): each grade's cohort shared among the schools teaching it,
    rounded by largest remainders so the total is exactly the target."""
    total_cohort = sum(COHORT.values())
    shares: list[tuple[Unit, int, float]] = []
    for grade in range(1, 10):
        teaching = [school for school in schools if grade in _grades(school)]
        weights = sum(_weight(school, grade) for school in teaching)
        cohort = target * COHORT[grade] / total_cohort
        shares += [
            (school, grade, cohort * _weight(school, grade) / weights) for school in teaching
        ]
    counts = [math.floor(share) for _school, _grade, share in shares]
    left = target - sum(counts)
    by_remainder = sorted(
        range(len(shares)), key=lambda i: (-(shares[i][2] - counts[i]), shares[i][1], i)
    )
    for i in by_remainder[:left]:
        counts[i] += 1
    return [
        (school, grade, count)
        for (school, grade, _share), count in zip(shares, counts, strict=True)
        if count
    ]


def class_plan(count: int, grade: int) -> list[tuple[str, str]]:
    """(class, seat number) for each pupil: as few classes as the cap allows, even sizes."""
    cap = CLASS_CAPS[rules.stage_for_grade(grade)] - CLASS_HEADROOM
    classes = max(1, math.ceil(count / cap))
    seats: list[tuple[str, str]] = []
    for number in range(classes):
        size = count // classes + (1 if number < count % classes else 0)
        seats += [(str(number + 1), f"{seat:02d}") for seat in range(1, size + 1)]
    return seats


# --- One pupil ------------------------------------------------------------------------------


def _is_town(township: Unit) -> bool:
    """A 街道 (township code 0xx) is the county town; a 镇 (1xx) is countryside."""
    return township.division_code[-3:].startswith("0")


def _place(people: _People, township: Unit) -> tuple[str, str]:
    """(address, 12-digit division code) of a home in the school's township."""
    rng = people.rng
    division = township.division_code.ljust(12, "0")
    if _is_town(township):
        address = f"金乡县{township.name}{rng.choice(STREETS)}{rng.randrange(1, 300)}号"
    else:
        village = people.surname()[0] + rng.choice(VILLAGE_SUFFIXES)
        address = f"金乡县{township.name}{village}村{rng.randrange(1, 200)}号"
    return address, division


def _pupil(
    people: _People, school: Unit, grade: int, class_name: str, seat: str
) -> dict[str, object]:
    """One raw row as a registrar would type it into the national form's spreadsheet."""
    rng = people.rng
    township = school.parent
    assert township is not None  # every school lies in a township
    sex = "1" if rng.random() < 0.52 else "2"
    surname = people.surname()
    born = people.date_between(*birth_window(grade))
    ethnicity = "03" if rng.random() < 0.02 else "01"
    address, division = _place(people, township)
    migrant = rng.random() < 0.04
    area, native_place = (COUNTY_CODE, "山东金乡")
    hukou = division
    if migrant:
        area, native_place = rng.choice(OTHER_COUNTIES)
        hukou = area + "100000"
    rural = not _is_town(township)
    left_roll = rng.random()
    left_behind = "0"
    if not migrant and left_roll < (0.16 if rural else 0.06):
        left_behind = "2" if left_roll < (0.05 if rural else 0.015) else "1"
    disability = "0"
    if rng.random() < 0.004:
        disability = rng.choice("1245579")
    orphan = rng.random() < 0.0015
    inclusive = {"0": "0", "1": "1", "2": "2", "5": "3"}.get(disability, "4")
    junior = grade >= 7
    transport = rng.choice("1111224445" if rural else "11244449")
    if rural and junior and rng.random() < 0.15:
        transport = "5"
    political = "12" if grade >= 2 else "13"
    if grade >= 8 and rng.random() < 0.2:
        political = "03"
    phone = people.mobile()
    row: dict[str, object] = {
        "name": surname + people.given(sex),
        "sex": sex,
        "birth_date": born.isoformat(),
        "birthplace_code": hukou,
        "native_place": native_place,
        "ethnicity": ethnicity,
        "nationality": "156",
        "id_type": "1",
        "id_number": people.id_number(area, born, sex),
        "overseas": "00",
        "political": political,
        "health": "50" if disability != "0" else ("20" if rng.random() < 0.02 else "10"),
        "hukou_code": hukou,
        "hukou_type": "1" if rural or rng.random() < 0.4 else "2",
        "grade": str(grade),
        "class_name": class_name,
        "seat_number": seat,
        "entry_year_month": f"{stage_entry_year(grade)}09",
        "entry_method": "11",
        "attendance": "2" if junior and rural and rng.random() < 0.3 else "1",
        "source": "1",
        "current_address": address,
        "mailing_address": address,
        "home_address": address,
        "phone": phone,
        "postal_code": POSTAL_CODE,
        "only_child": "1" if rng.random() < 0.3 else "0",
        "preschool": "1" if rng.random() < 0.97 else "0",
        "left_behind": left_behind,
        "migrant_child": "1" if migrant else "0",
        "orphan": "1" if orphan else "0",
        "martyr_child": "1" if rng.random() < 0.0005 else "0",
        "inclusive": inclusive if disability != "0" else "0",
        "disability": disability,
        "government_place": "0",
        "needs_aid": "1" if orphan or disability != "0" or rng.random() < 0.03 else "0",
        "one_subsidy": "1" if junior and (orphan or rng.random() < 0.02) else "0",
        "distance_km": f"{rng.uniform(0.3, 6.0 if rural else 3.0):.1f}",
        "transport": transport,
        "school_bus": "1" if transport == "5" else "0",
    }
    row.update(_family(people, surname, born, ethnicity, area, address, phone, orphan))
    return row


def _member(
    people: _People,
    n: int,
    name: str,
    relation: str,
    sex: str,
    born: datetime.date,
    ethnicity: str,
    area: str,
    address: str,
    phone: str,
    guardian: bool,
) -> dict[str, object]:
    prefix = f"family{n}."
    return {
        prefix + "name": name,
        prefix + "relation": relation,
        prefix + "ethnicity": ethnicity,
        prefix + "employer": people.rng.choice(EMPLOYERS),
        prefix + "current_address": address,
        prefix + "hukou_address": address,
        prefix + "phone": phone,
        prefix + "is_guardian": "1" if guardian else "0",
        prefix + "id_type": "1",
        prefix + "id_number": people.id_number(area, born, sex),
    }


def _family(
    people: _People,
    surname: str,
    child_born: datetime.date,
    ethnicity: str,
    area: str,
    address: str,
    phone: str,
    orphan: bool,
) -> dict[str, object]:
    """Father and mother (an orphan's grandparents), at least one of them a guardian."""
    rng = people.rng
    year = child_born.year
    if orphan:
        older = (year - rng.randint(48, 62), year - rng.randint(46, 60))
        members = (
            ("3", "1", surname + rng.choice(FATHER_NAMES), older[0], True),
            ("4", "2", people.surname() + rng.choice(MOTHER_NAMES), older[1], True),
        )
    else:
        both = rng.random() < 0.7
        members = (
            ("1", "1", surname + rng.choice(FATHER_NAMES), year - rng.randint(24, 38), True),
            (
                "2",
                "2",
                people.surname() + rng.choice(MOTHER_NAMES),
                year - rng.randint(22, 35),
                both,
            ),
        )
    row: dict[str, object] = {}
    for n, (relation, sex, name, birth_year, guardian) in enumerate(members, start=1):
        born = people.date_between(
            datetime.date(birth_year, 1, 1), datetime.date(birth_year, 12, 28)
        )
        row.update(
            _member(
                people,
                n,
                name,
                relation,
                sex,
                born,
                ethnicity,
                area,
                address,
                phone if n == 1 else people.mobile(),
                guardian,
            )
        )
    return row


def _homophone(name: str) -> str | None:
    """The same name in other characters that read the same, if one is known."""
    for position in range(len(name) - 1, 0, -1):
        other = HOMOPHONES.get(name[position])
        if other is not None:
            candidate = name[:position] + other + name[position + 1 :]
            if pinyin_keys(candidate)[0] == pinyin_keys(name)[0]:
                return candidate
    return None


# --- Loading --------------------------------------------------------------------------------


def _placeholder_photos() -> list[str]:
    """A few light-blue passport-style placeholders, stored once and shared by many."""
    from PIL import Image, ImageDraw

    colours = [(96, 96, 110), (120, 110, 100), (90, 100, 120), (110, 100, 110)]
    for name, colour in zip(PHOTO_NAMES, colours, strict=True):
        if default_storage.exists(name):
            continue
        image = Image.new("RGB", (358, 441), (170, 210, 240))
        draw = ImageDraw.Draw(image)
        draw.ellipse((114, 70, 244, 230), fill=colour)  # the head
        draw.rounded_rectangle((54, 250, 304, 470), radius=90, fill=colour)  # the shoulders
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=80)
        default_storage.save(name, ContentFile(buffer.getvalue()))
    return PHOTO_NAMES


def _give_junior_ordinals(county: County) -> None:
    """The junior number template needs each junior school's ordinal in the county; a
    demo school without one gets the next free one (as the bureau would set it)."""
    schools = Unit.objects.filter(
        county=county, kind=Unit.Kind.SCHOOL, stage__in=[Stage.JUNIOR, Stage.NINE_YEAR]
    ).order_by("school_code")
    used = set(schools.exclude(county_ordinal=None).values_list("county_ordinal", flat=True))
    ordinal = 0
    for school in schools.filter(county_ordinal=None):
        ordinal += 1
        while ordinal in used:
            ordinal += 1
        org_services.do_update_school(school, actor=None, county_ordinal=ordinal)


class _Numbers:
    """Provincial numbers handed out in bulk: the county's template, sequences counted
    here and written to NumberSequence at the end, so later assignments continue after."""

    def __init__(self):
        self.last: dict[str, int] = {}
        self.prefixes: dict[tuple[int, int], tuple[str, int]] = {}

    def _prefix(self, school: Unit, grade: int) -> tuple[str, int]:
        key = (school.pk, grade)
        if key not in self.prefixes:
            entry_year = stage_entry_year(grade)
            record = StudentRecord(
                school=school,
                stage=rules.stage_for_grade(grade),
                entry_year_month=f"{entry_year}09",
                entry_date=datetime.date(entry_year, 9, 1),
            )
            self.prefixes[key] = provincial_prefix(record)
        return self.prefixes[key]

    def next(self, school: Unit, grade: int) -> str:
        prefix, width = self._prefix(school, grade)
        if prefix not in self.last:
            existing = NumberSequence.objects.filter(prefix=prefix).first()
            self.last[prefix] = existing.last if existing else 0
        self.last[prefix] += 1
        return f"{prefix}{self.last[prefix]:0{width}d}"

    def save(self) -> None:
        for prefix, last in self.last.items():
            NumberSequence.objects.update_or_create(prefix=prefix, defaults={"last": last})


def clean_values(raw: dict[str, object]) -> dict[str, object]:
    """The values `validate_student` makes of a generated row, made directly: the generator
    writes every item in its clean form, so only the types change. Validating 30,000 rows
    would take a third of the minute the demo may take; `checked_values` validates a
    sample while loading, and the tests validate many rows against this."""
    values: dict[str, object] = {}
    for item in ITEMS:
        if item.kind == form_items.PHOTO:
            continue
        value = raw.get(item.key, "")
        if value != "":
            if item.kind == form_items.DATE:
                value = datetime.date.fromisoformat(str(value))
            elif item.kind == form_items.YES_NO:
                value = value == "1"
            elif item.kind == form_items.DECIMAL:
                value = Decimal(str(value))
            elif item.kind == form_items.GRADE:
                value = int(str(value))
        values[item.key] = value
    if values["name_pinyin"] == "":
        values["name_pinyin"] = display_pinyin(str(values["name"]))[
            : BY_KEY["name_pinyin"].max_length
        ]
    return values


def checked_values(raw: dict[str, object]) -> dict[str, object]:
    """validate_student's verdict on a generated row; a refusal or a difference from
    clean_values is a bug in this generator, never a user's mistake."""
    checked = validate_student(raw, today=CHECKED_ON)
    if not checked.ok or checked.warnings:
        problems = checked.errors + checked.warnings
        raise RuleViolation("; ".join(problem.message for problem in problems))
    if checked.values != clean_values(raw):
        raise RuleViolation(f"The demo generator and validate_student disagree: {raw}")
    return checked.values


def load_demo_students(target: int = 30000, seed: int = 2026) -> int:
    """Load the demo county's students; returns how many were created (0 when the county
    is missing or already has students)."""
    county = County.objects.filter(division_code=COUNTY_CODE).first()
    if target <= 0 or county is None:
        return 0
    school_year = SchoolYear.objects.get(county=county, start_year=SCHOOL_YEAR)
    with transaction.atomic():
        # Checked inside the transaction: two loaders started at once load once.
        if StudentRecord.objects.filter(school__county=county).exists():
            return 0
        _give_junior_ordinals(county)
        schools = list(
            Unit.objects.filter(county=county, kind=Unit.Kind.SCHOOL, is_active=True)
            .select_related("parent", "county")
            .order_by("school_code")
        )
        loader = _Loader(random.Random(seed), school_year)
        for school, grade, count in allocate(schools, target):
            loader.register(school, grade, count)
        loader.register_duplicates(schools)
        loader.finish(county)
    return loader.created


class _Loader:
    def __init__(self, rng: random.Random, school_year: SchoolYear):
        self.people = _People(rng)
        self.rng = rng
        self.school_year = school_year
        self.numbers = _Numbers()
        self.made: list[_Made] = []
        self.created = 0
        self.written = 0
        self.held = 0
        self.lock: dict[int, list[int]] = defaultdict(list)  # entry year → record ids
        self.photos: dict[str, list[int]] = defaultdict(list)

    def _write(self, school: Unit, grade: int, raws: list[dict[str, object]]):
        for raw in raws:
            raw["provincial_number"] = self.numbers.next(school, grade)
        entry_year = stage_entry_year(grade)
        result = register_many(
            [
                checked_values(raw)
                if (self.written + n) % VALIDATE_EVERY == 0
                else clean_values(raw)
                for n, raw in enumerate(raws)
            ],
            actor=None,
            school=school,
            school_year=self.school_year,
            status=Status.ENROLLED,
            entry_date=datetime.date(entry_year, 9, 1),
        )
        if not result.ok:  # a bug in this generator, never a user's mistake
            raise RuleViolation("; ".join(refusal.message for refusal in result.refused))
        self.created += result.created
        self.written += len(raws)
        self.held += len({number for number, _existing in result.held})
        return result

    def register(self, school: Unit, grade: int, count: int) -> None:
        raws = [
            _pupil(self.people, school, grade, class_name, seat)
            for class_name, seat in class_plan(count, grade)
        ]
        result = self._write(school, grade, raws)
        if grade not in (1, 7):
            # Submitted in an earlier school year, so the reported fields are locked.
            self.lock[stage_entry_year(grade)] += result.records
        for raw, student_id in zip(raws, result.students, strict=True):
            photo = PHOTO_NAMES[(0 if raw["sex"] == "1" else 2) + student_id % 2]
            self.photos[photo].append(student_id)
            if student_id % SAMPLE_EVERY == 0:  # the duplicate pass picks from a sample
                self.made.append(_Made(student_id, school.pk, grade, raw))

    def register_duplicates(self, schools: list[Unit]) -> None:
        """Pupils registered again at another school without an ID number, under the
        same name or a homophone: candidate double registrations for the bureau."""
        if not self.made:
            return
        by_id = {school.pk: school for school in schools}
        taken: set[tuple[int, int]] = set()
        wanted = min(DUPLICATE_PAIRS, max(1, self.created // 100))
        for _attempt in range(wanted * 20):
            if len(taken) >= wanted:
                break
            original = self.rng.choice(self.made)
            others = [
                school
                for school in schools
                if school.pk != original.school_id
                and original.grade in _grades(school)
                and (school.pk, original.grade) not in taken
            ]
            if not others:
                continue
            school = self.rng.choice(others)
            raw = dict(original.raw)
            name = str(raw["name"])
            if len(taken) % 2:
                name = _homophone(name) or name
            guardian_id = raw["family1.id_number"]
            raw.update(
                {
                    "name": name,
                    "name_pinyin": "",
                    "id_type": "Z",
                    "id_number": "",
                    "class_name": "1",
                    "seat_number": "",
                    "family1.is_guardian": "1",
                    "family1.id_number": guardian_id,
                }
            )
            taken.add((school.pk, original.grade))
            self._write(by_id[school.pk], original.grade, [raw])

    def finish(self, county: County) -> None:
        self.numbers.save()
        # National numbers: G and the ID number, as for every pupil whose identity the
        # bureau confirmed when the record was numbered.
        records = list(
            StudentRecord.objects.filter(
                school__county=county, student__id_type="1", student__national_number=None
            )
            .exclude(student__id_number="")
            .select_related("student", "school")
            .only("pk", "school_id", "student__id_number", "student__name", "school__name")
            .order_by("pk")
        )
        StudentNumber.objects.bulk_create(
            [
                StudentNumber(
                    student_id=record.student_id,
                    record=record,
                    kind=NumberKind.NATIONAL,
                    value="G" + record.student.id_number,
                )
                for record in records
            ],
            batch_size=500,
        )
        Student.objects.filter(records__school__county=county, id_type="1").filter(
            national_number=None
        ).exclude(id_number="").update(national_number=Concat(Value("G"), F("id_number")))
        locked = 0
        for entry_year, record_ids in self.lock.items():
            at = timezone.make_aware(datetime.datetime(entry_year, 10, 20, 9, 0))
            for start in range(0, len(record_ids), 900):
                chunk = record_ids[start : start + 900]
                locked += StudentRecord.objects.filter(pk__in=chunk).update(locked_at=at)
        # One event per school for the numbers and one for the locks: the per-record
        # events of do_assign_numbers and do_lock_record would double the loading time.
        to_lock = {pk for record_ids in self.lock.values() for pk in record_ids}
        by_school: dict[int, list[StudentRecord]] = defaultdict(list)
        for record in records:
            by_school[record.school_id].append(record)
        for school_records in by_school.values():
            school = school_records[0].school
            record_events(
                [
                    (
                        "records.numbered",
                        school,
                        {"national_numbers": len(school_records), "kind": "G"},
                    ),
                    (
                        "records.locked",
                        school,
                        {
                            "records": sum(1 for record in school_records if record.pk in to_lock),
                            "reason": "submitted in an earlier school year (demo)",
                        },
                    ),
                ],
                actor=None,
                unit=school,
            )
        for photo, student_ids in self.photos.items():
            for start in range(0, len(student_ids), 900):
                Student.objects.filter(pk__in=student_ids[start : start + 900]).update(photo=photo)
        _placeholder_photos()
        record_event(
            "students.demo_loaded",
            actor=None,
            target=county,
            data={
                "students": self.created,
                "locked_records": locked,
                "national_numbers": len(records),
                "held_for_the_bureau": self.held,
                "photos": PHOTO_NAMES,
            },
        )
