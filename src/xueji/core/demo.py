"""The demo county: 金乡县 with its 13 real townships (DOMAIN.md), deterministic.

Loading goes through the same service functions as the setup pages, as the system actor,
and skips whatever already exists, so running it twice duplicates nothing.
"""

import datetime
from dataclasses import dataclass, field
from functools import cache

from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from pypinyin import Style, lazy_pinyin

from xueji.changes.demo_changes import load_demo_changes
from xueji.core import services as calendar_services
from xueji.core.models import CalendarDay
from xueji.intake.demo_intake import load_demo_intake
from xueji.orgs import services
from xueji.orgs.models import County, Role, Stage, Unit, User
from xueji.students.demo_students import load_demo_students

COUNTY_CODE = "370828"
COUNTY_NAME = "金乡县"
BUREAU_NAME = "金乡县教育局"
DEMO_PASSWORD = "xueji-demo-2026"
# Synthetic students spread over the schools (students/demo_students.py).
DEMO_STUDENTS = 30000

# (division code suffix, name, ordinal, number of rural primary schools, junior school?)
TOWNSHIPS = [
    ("001", "金乡街道", 1, 2, False),
    ("002", "高河街道", 2, 2, False),
    ("003", "鱼山街道", 3, 2, False),
    ("004", "王丕街道", 4, 2, True),
    ("101", "羊山镇", 5, 2, True),
    ("102", "胡集镇", 6, 3, True),
    ("103", "霄云镇", 7, 2, True),
    ("104", "鸡黍镇", 8, 2, True),
    ("107", "司马镇", 9, 2, True),
    ("109", "马庙镇", 10, 2, True),
    ("110", "化雨镇", 11, 2, True),
    ("111", "卜集镇", 12, 2, True),
    ("112", "兴隆镇", 13, 2, True),
]
ORDINAL_WORDS = ["第一", "第二", "第三", "第四"]
# County-direct and county-level schools: (name, township name, stage, ordinal, county-direct)
COUNTY_SCHOOLS = [
    ("金乡县实验小学", "金乡街道", Stage.PRIMARY, 20, True),
    ("金乡县第二实验小学", "高河街道", Stage.PRIMARY, 20, True),
    ("金乡县第二中学", "金乡街道", Stage.JUNIOR, 21, True),
    ("金乡县实验中学", "鱼山街道", Stage.JUNIOR, 21, True),
    ("金乡县金育学校", "王丕街道", Stage.NINE_YEAR, 22, True),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN_NAMES = [
    "秀英",
    "桂英",
    "建国",
    "海燕",
    "丽娟",
    "志强",
    "晓红",
    "国庆",
    "春梅",
    "玉兰",
    "文杰",
    "红霞",
    "立新",
    "淑珍",
    "明辉",
    "凤英",
    "永强",
    "翠花",
    "建华",
    "静",
    "伟",
    "敏",
    "磊",
    "芳",
]


@dataclass
class DemoLogin:
    username: str
    role: str
    unit: str


@dataclass
class DemoResult:
    created_units: int = 0
    created_users: int = 0
    created_students: int = 0
    created_changes: int = 0
    created_intake: int = 0
    logins: list[DemoLogin] = field(default_factory=list)


def person_name(index: int) -> str:
    return SURNAMES[index % len(SURNAMES)] + GIVEN_NAMES[(index * 7) % len(GIVEN_NAMES)]


def township_slug(name: str) -> str:
    return "".join(lazy_pinyin(name[:-2] if name.endswith("街道") else name[:-1]))


def school_slug(school_name: str, township_name: str) -> str:
    if school_name.startswith(COUNTY_NAME):
        prefix, rest = "jx", school_name[len(COUNTY_NAME) :]
    else:
        prefix, rest = township_slug(township_name), school_name[len(township_name) :]
    return prefix + "-" + "".join(lazy_pinyin(rest, style=Style.FIRST_LETTER))


def _school(result: DemoResult, township: Unit, name: str, **facts) -> Unit:
    existing = Unit.objects.filter(school_code=facts["school_code"]).first()
    if existing:
        return existing
    result.created_units += 1
    return services.do_create_school(actor=None, township=township, name=name, **facts)


@cache
def _demo_password_hash() -> str:
    """Every demo account shares one password: validate and hash it once, not 112 times."""
    password_validation.validate_password(DEMO_PASSWORD)
    return make_password(DEMO_PASSWORD)


def _user(result: DemoResult, unit: Unit, username: str, role: str, index: int) -> None:
    if not User.objects.filter(username=username).exists():
        services.do_create_user(
            actor=None,
            unit=unit,
            username=username,
            password=DEMO_PASSWORD,
            password_hash=_demo_password_hash(),
            role=role,
            full_name=person_name(index),
            phone=f"0537-87{index:05d}"[:13],
            designated=role
            in (Role.BUREAU_REGISTRAR, Role.CENTRAL_REGISTRAR, Role.SCHOOL_REGISTRAR),
            must_change_password=True,
        )
        result.created_users += 1


def _staff(result: DemoResult, unit: Unit, slug: str, index: int) -> None:
    registrar_role = Role.CENTRAL_REGISTRAR if unit.is_central else Role.SCHOOL_REGISTRAR
    _user(result, unit, slug, registrar_role, index * 2)
    _user(result, unit, f"{slug}-ld", Role.SCHOOL_LEADER, index * 2 + 1)


def _calendar(county: County) -> None:
    calendar_services.do_save_school_year(
        actor=None,
        county=county,
        start_year=2025,
        autumn_start=datetime.date(2025, 9, 1),
        spring_start=datetime.date(2026, 2, 24),
    )
    calendar_services.do_save_school_year(
        actor=None,
        county=county,
        start_year=2026,
        autumn_start=datetime.date(2026, 9, 1),
        spring_start=datetime.date(2027, 2, 22),
    )
    holidays = [(datetime.date(2026, 10, day), "国庆节") for day in range(1, 8)]
    holidays += [(datetime.date(2027, 1, 1), "元旦")]
    holidays += [(datetime.date(2027, 2, day), "春节") for day in range(5, 12)]
    for day, name in holidays:
        if not CalendarDay.objects.filter(county=county, date=day).exists():
            calendar_services.do_set_calendar_day(
                actor=None, county=county, date=day, kind=CalendarDay.Kind.HOLIDAY, name=name
            )


def load_demo_county(students: int = DEMO_STUDENTS) -> DemoResult:
    result = DemoResult()
    county = County.objects.filter(division_code=COUNTY_CODE).first()
    if county is None:
        county, bureau = services.do_create_county(
            actor=None, division_code=COUNTY_CODE, name=COUNTY_NAME, bureau_name=BUREAU_NAME
        )
        result.created_units += 1
    bureau = Unit.objects.get(county=county, kind=Unit.Kind.BUREAU)
    _user(result, bureau, "jyj", Role.BUREAU_REGISTRAR, 0)
    _user(result, bureau, "jyj-ld", Role.BUREAU_LEADER, 1)

    townships: dict[str, Unit] = {}
    index = 1
    for suffix, name, ordinal, rural_count, has_junior in TOWNSHIPS:
        township = Unit.objects.filter(division_code=COUNTY_CODE + suffix).first()
        if township is None:
            township = services.do_create_township(
                actor=None,
                bureau=bureau,
                name=name,
                division_code=COUNTY_CODE + suffix,
                ordinal=ordinal,
            )
            result.created_units += 1
        townships[name] = township
        code_prefix = f"{COUNTY_CODE}{ordinal:02d}"
        schools = [
            (
                f"{name}中心小学",
                dict(
                    school_code=f"{code_prefix}01", stage=Stage.PRIMARY, is_central=True, ordinal=1
                ),
            )
        ]
        for number in range(rural_count):
            schools.append(
                (
                    f"{name}{ORDINAL_WORDS[number]}小学",
                    # The third school of a township and every second school of the
                    # odd-numbered townships have no printer (E1, C3).
                    dict(
                        school_code=f"{code_prefix}{number + 2:02d}",
                        stage=Stage.PRIMARY,
                        ordinal=number + 2,
                        has_printer=not (number == 2 or (number == 1 and ordinal % 2)),
                    ),
                )
            )
        if has_junior:
            schools.append(
                (
                    f"{name}中学",
                    dict(
                        school_code=f"{code_prefix}10",
                        stage=Stage.JUNIOR,
                        ordinal=10,
                        # The junior number template numbers schools within the county.
                        county_ordinal=ordinal,
                    ),
                )
            )
        for school_name, facts in schools:
            school = _school(result, township, school_name, **facts)
            index += 1
            _staff(result, school, school_slug(school_name, name), index)

    for position, (name, township_name, stage, ordinal, county_direct) in enumerate(
        COUNTY_SCHOOLS, start=20
    ):
        township = townships[township_name]
        school = _school(
            result,
            township,
            name,
            school_code=f"{COUNTY_CODE}{township.ordinal:02d}{ordinal:02d}",
            stage=stage,
            county_direct=county_direct,
            ordinal=ordinal,
            county_ordinal=position if stage != Stage.PRIMARY else None,
        )
        index += 1
        _staff(result, school, school_slug(name, township_name), index)

    _calendar(county)
    result.created_students = load_demo_students(target=students)
    # Change requests in every state and the coming Wednesday's session open (issue 4).
    result.created_changes = load_demo_changes()
    # New pupils in every intake state and a junior intake in progress (issue 5).
    result.created_intake = load_demo_intake()
    # The reporting rounds, an extra one announced, a few schools reported (issue 6, C8).
    from xueji.packages.demo_rounds import load_demo_rounds

    load_demo_rounds(county)
    # Registered keys, and 马庙镇中心小学's offline laptop and its imported package (issue 6).
    from xueji.packages.demo_packages import load_demo_packages

    load_demo_packages(county)
    result.logins = showcase_logins()
    return result


SHOWCASE = [
    "jyj",
    "jyj-ld",
    "huji-zxxx",
    "huji-dsxx",
    "huji-dsxx-ld",
    "jx-syxx",
    "jx-dezx",
    "yangshan-dyxx",
]


def showcase_logins() -> list[DemoLogin]:
    users = {
        u.username: u for u in User.objects.filter(username__in=SHOWCASE).select_related("unit")
    }
    return [
        DemoLogin(name, users[name].get_role_display(), str(users[name].unit))
        for name in SHOWCASE
        if name in users
    ]
