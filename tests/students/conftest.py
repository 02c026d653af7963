"""Students for tests: valid raw rows as a registrar would type them, and registrations."""

import datetime

import pytest

from xueji.core import services as calendar_services
from xueji.students.identity import check_character

TODAY = datetime.date(2026, 11, 29)


def id_number(birth: datetime.date, sequence: int, *, sex: str = "1", area: str = "370828") -> str:
    """A valid ID number: odd 17th digit for boys, even for girls."""
    seq = sequence * 2 + (1 if sex == "1" else 0)
    first17 = f"{area}{birth:%Y%m%d}{seq % 1000:03d}"
    return first17 + check_character(first17)


def raw_student(**overrides) -> dict:
    birth = overrides.pop("birth", datetime.date(2019, 3, 15))
    sex = overrides.get("sex", "1")
    row = {
        "name": "张小明",
        "sex": sex,
        "birth_date": birth.isoformat(),
        "birthplace_code": "370828102000",
        "native_place": "山东金乡",
        "ethnicity": "01",
        "nationality": "156",
        "id_type": "1",
        "id_number": id_number(birth, overrides.pop("sequence", 1), sex=sex),
        "overseas": "00",
        "political": "12",
        "health": "10",
        "hukou_code": "370828102000",
        "hukou_type": "1",
        "grade": "1",
        "class_name": "1",
        "entry_year_month": "202609",
        "entry_method": "11",
        "attendance": "1",
        "source": "1",
        "current_address": "金乡县胡集镇张庄村",
        "mailing_address": "金乡县胡集镇张庄村",
        "home_address": "金乡县胡集镇张庄村",
        "phone": "13853712345",
        "postal_code": "272200",
        "only_child": "否",
        "preschool": "是",
        "family1.name": "张建国",
        "family1.relation": "父亲",
        "family1.is_guardian": "是",
        "family1.phone": "13853712345",
        "family2.name": "李秀英",
        "family2.relation": "母亲",
        "family2.is_guardian": "是",
    }
    row.update(overrides)
    return row


@pytest.fixture
def school_year(cast):
    return calendar_services.do_save_school_year(
        actor=None,
        county=cast.county,
        start_year=2026,
        autumn_start=datetime.date(2026, 9, 1),
        spring_start=datetime.date(2027, 2, 22),
    )


@pytest.fixture
def register(cast, school_year):
    """register(school, actor=..., **row overrides) → Registration."""
    from xueji.students.services import do_register_student
    from xueji.students.validation import validate_student

    def run(school=None, actor=None, status="enrolled", **overrides):
        checked = validate_student(raw_student(**overrides), today=TODAY)
        assert checked.ok, [p.message for p in checked.errors]
        return do_register_student(
            checked.values,
            actor=actor or cast.a1_registrar,
            school=school or cast.school_a1,
            school_year=school_year,
            status=status,
        )

    return run
