"""The one validation module forms, the API and the import use: names, each kind of item,
code tables by code or name, Excel's cell types, and the rules between items."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from xueji.students import codes
from xueji.students.form_items import BY_KEY, CODE, ITEMS
from xueji.students.identity import check_character
from xueji.students.validation import (
    FieldProblem,
    clean_item,
    name_problem,
    normalise_name,
    parse_date,
    validate_student,
)

TODAY = date(2025, 9, 1)
STUDENT_ID = "37082820150301001" + check_character("37082820150301001")  # a boy
FATHER_ID = "37082819850101003" + check_character("37082819850101003")
MOTHER_ID = "37082819870202002" + check_character("37082819870202002")
UNREADABLE = {"this value cannot be read.", "this row cannot be read."}


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def valid_row(**changes) -> dict[str, object]:
    """A complete row as an import or a form delivers it: names for coded items."""
    row: dict[str, object] = {
        "name": "张三",
        "sex": "男",
        "birth_date": "2015-03-01",
        "birthplace_code": "370828101000",
        "native_place": "山东金乡",
        "ethnicity": "汉族",
        "nationality": "中国",
        "id_type": "居民身份证",
        "id_number": STUDENT_ID,
        "overseas": "否",
        "political": "少先队员",
        "health": "健康或良好",
        "name_pinyin": "",
        "former_name": "",
        "id_valid_until": "",
        "hukou_code": "370828101",
        "hukou_type": "农业户口",
        "specialty": "",
        "provincial_number": "1152301010001",
        "seat_number": "01",
        "grade": "五年级",
        "class_name": "2",
        "entry_year_month": "202109",
        "entry_method": "就近入学",
        "attendance": "走读",
        "source": "正常入学",
        "current_address": "金乡县胡集镇张庄村",
        "mailing_address": "金乡县胡集镇张庄村",
        "home_address": "金乡县胡集镇张庄村",
        "phone": "13812345678",
        "postal_code": "272200",
        "email": "",
        "homepage": "",
        "only_child": "否",
        "preschool": "是",
        "left_behind": "否",
        "migrant_child": "否",
        "orphan": "否",
        "martyr_child": "否",
        "inclusive": "非随班就读",
        "disability": "无残疾",
        "government_place": "否",
        "needs_aid": "否",
        "one_subsidy": "否",
        "distance_km": "2.5",
        "transport": "步行",
        "school_bus": "否",
        "family1.name": "张大山",
        "family1.relation": "父亲",
        "family1.relation_note": "",
        "family1.ethnicity": "汉族",
        "family1.employer": "务农",
        "family1.current_address": "金乡县胡集镇张庄村",
        "family1.hukou_address": "金乡县胡集镇张庄村",
        "family1.phone": "13912345678",
        "family1.is_guardian": "是",
        "family1.id_type": "居民身份证",
        "family1.id_number": FATHER_ID,
        "family1.position_title": "",
        "family2.name": "李小红",
        "family2.relation": "母亲",
        "family2.relation_note": "",
        "family2.ethnicity": "汉族",
        "family2.employer": "",
        "family2.current_address": "",
        "family2.hukou_address": "",
        "family2.phone": "0537-8712345",
        "family2.is_guardian": "否",
        "family2.id_type": "",
        "family2.id_number": MOTHER_ID,
        "family2.position_title": "",
    }
    row.update(changes)
    return row


def reasons(result, key):
    return [problem.reason for problem in result.errors if problem.key == key]


def clean(key, raw):
    return clean_item(BY_KEY[key], raw)


# Names ---------------------------------------------------------------------------------


def test_a_plain_chinese_name_passes():
    assert name_problem(normalise_name("张三")) is None


@pytest.mark.parametrize(
    "dot", ["\u2022", "\u2027", "\u30fb", "\uff0e", "\u0387", "\u22c5", "\u2219", "\uff65",
            "\u16eb", "\u2e31", ".", "\u00b7"]
)  # fmt: skip
def test_each_middle_dot_look_alike_becomes_the_middle_dot(dot):
    name = normalise_name(f"阿依古丽{dot}买买提")
    assert name == "阿依古丽·买买提"
    assert name_problem(name) is None


def test_a_rare_character_outside_the_basic_plane_passes():
    assert name_problem(normalise_name("𠈌明")) is None
    assert name_problem(normalise_name("王𠈌")) is None


def test_spaces_inside_a_chinese_name_are_removed():
    assert normalise_name("  张 三 ") == "张三"
    assert normalise_name("阿依古丽 · 买买提") == "阿依古丽·买买提"


def test_a_foreign_name_in_latin_letters_passes():
    assert normalise_name("John  O'Brien-Smith") == "John O'Brien-Smith"
    assert name_problem("John O'Brien-Smith") is None


@pytest.mark.parametrize("name", ["张3", "张", "张三John", "张·", "·张三", "张··三", "张_三", "a"])
def test_it_refuses_what_cannot_be_a_name(name):
    assert name_problem(normalise_name(name)) is not None


def test_a_name_with_digits_says_so():
    assert name_problem("张3") == "a name has no digits."


# Items by kind -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "2015-03-01",
        "20150301",
        "2015/03/01",
        "2015/3/1",
        "2015.03.01",
        "2015年3月1日",
        " 2015-03-01 ",
        "2015-03-01 00:00:00",
        date(2015, 3, 1),
        datetime(2015, 3, 1),
        20150301,
        42064,  # the Excel serial number of 2015-03-01
        42064.0,
        "42064",
    ],
)
def test_dates_are_read_in_every_format(raw):
    assert parse_date(raw) == date(2015, 3, 1)


@pytest.mark.parametrize("raw", ["2015-02-30", "2015-13-01", "20151301", "yesterday", "1850-01-01"])
def test_impossible_dates_are_refused(raw):
    value, reason, _ = clean("birth_date", raw)
    assert reason is not None and value == ""


@pytest.mark.parametrize(
    "raw", ["202109", "2021-09", "2021/9", "2021-09-01", date(2021, 9, 1), 202109]
)
def test_the_entry_year_and_month_is_read_in_every_format(raw):
    assert clean("entry_year_month", raw) == ("202109", None, [])


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        (13812345678, "13812345678"),
        ("0537-8712345", "0537-8712345"),
        ("05378712345", "05378712345"),
        ("(0537)8712345", "0537-8712345"),
        ("010-12345678-123", "010-12345678-123"),
    ],
)
def test_phone_numbers_are_accepted_and_normalised(raw, expected):
    assert clean("phone", raw) == (expected, None, [])


@pytest.mark.parametrize("raw", ["12345678901", "1381234567", "8712345", "电话", 5378712345])
def test_impossible_phone_numbers_are_refused(raw):
    assert clean("phone", raw)[1] is not None


def test_postal_codes_have_six_digits():
    assert clean("postal_code", "272200") == ("272200", None, [])
    assert clean("postal_code", 272200) == ("272200", None, [])
    assert clean("postal_code", "27220")[1] is not None
    assert "leading 0" in clean("postal_code", 10000)[1]


@pytest.mark.parametrize("key", ["id_number", "phone", "postal_code", "provincial_number"])
def test_a_float_in_a_number_column_is_the_excel_trap(key):
    value, reason, _ = clean(key, 1.2e17)
    assert "format the column as text" in reason


def test_an_excel_mangled_student_id_is_refused_with_the_fix():
    result = validate_student(valid_row(id_number="3.70828E+17"), today=TODAY)
    assert any("format the column as text" in r for r in reasons(result, "id_number"))
    result = validate_student(valid_row(id_number=3.70828201503e17), today=TODAY)
    assert any("format the column as text" in r for r in reasons(result, "id_number"))


@pytest.mark.parametrize("raw", ["1", "一年级", "1年级", "01", 1, 1.0])
def test_grade_one_in_every_spelling(raw):
    assert clean("grade", raw) == (1, None, [])


def test_junior_high_grades():
    assert clean("grade", "七年级")[0] == 7
    assert clean("grade", "初三")[0] == 9
    assert clean("grade", "十年级")[1] is not None


@pytest.mark.parametrize("raw", ["是", "1", "Y", "y", "true", "TRUE", True, 1])
def test_yes_in_every_spelling(raw):
    assert clean("only_child", raw) == (True, None, [])


@pytest.mark.parametrize("raw", ["否", "0", "N", "false", False, 0])
def test_no_in_every_spelling(raw):
    assert clean("only_child", raw) == (False, None, [])


def test_distances_have_one_decimal_and_at_most_200_km():
    assert clean("distance_km", "2.46") == (Decimal("2.5"), None, [])
    assert clean("distance_km", 3) == (Decimal("3.0"), None, [])
    assert clean("distance_km", "3公里") == (Decimal("3.0"), None, [])
    assert clean("distance_km", "201")[1] is not None
    assert clean("distance_km", "-1")[1] is not None


def test_provincial_numbers_have_11_or_13_digits():
    assert clean("provincial_number", "1152301010001")[1] is None
    assert clean("provincial_number", "21523010001")[1] is None
    assert clean("provincial_number", "115230101000")[1] is not None


def test_emails_and_lengths():
    assert clean("email", "zhang@qq.com") == ("zhang@qq.com", None, [])
    assert clean("email", "zhang@qq")[1] is not None
    assert "at most 10 characters" in clean("class_name", "一二三四五六七八九十一")[1]


def test_division_items_are_padded_and_an_unknown_county_warns():
    assert clean("birthplace_code", "370828") == ("370828000000", None, [])
    value, reason, warnings = clean("hukou_code", "370899101")
    assert value == "370899101000" and reason is None and len(warnings) == 1
    assert clean("hukou_code", "99082810")[1] is not None


def test_every_code_table_accepts_the_code_and_the_name():
    for item in ITEMS:
        if item.kind != CODE:
            continue
        for code, name in codes.names(item.table).items():
            assert clean(item.key, code) == (code, None, []), (item.key, code)
            assert clean(item.key, name) == (code, None, []), (item.key, name)


def test_a_code_that_lost_its_leading_zero_is_restored():
    assert clean("ethnicity", "1") == ("01", None, [])
    assert clean("ethnicity", 1) == ("01", None, [])
    assert clean("ethnicity", 1.0) == ("01", None, [])
    assert clean("overseas", "0") == ("00", None, [])


def test_a_code_with_its_name_from_a_drop_down_is_read():
    assert clean("ethnicity", "01 汉族") == ("01", None, [])
    assert clean("ethnicity", "03-回族") == ("03", None, [])


def test_an_unknown_code_names_the_choices_of_a_small_table():
    reason = clean("sex", "X")[1]
    assert "1 男" in reason and "2 女" in reason
    assert "民族" in clean("ethnicity", "火星族")[1]


# The whole student ---------------------------------------------------------------------


def test_a_complete_valid_row_passes():
    result = validate_student(valid_row(), today=TODAY)
    assert result.errors == []
    assert result.ok
    assert result.values["sex"] == "1"
    assert result.values["ethnicity"] == "01"
    assert result.values["birth_date"] == date(2015, 3, 1)
    assert result.values["grade"] == 5
    assert result.values["only_child"] is False
    assert result.values["distance_km"] == Decimal("2.5")
    assert result.values["hukou_code"] == "370828101000"
    assert result.values["name_pinyin"] == "Zhang San"
    assert result.values["family2.id_number"] == MOTHER_ID


def test_a_row_with_ten_problems_reports_ten():
    row = valid_row(
        name="张3",
        sex="X",
        birth_date="2015-02-30",
        birthplace_code="990828101000",
        ethnicity="火星族",
        phone="12345",
        postal_code="2722",
        email="not-an-email",
        grade="十年级",
        distance_km="500",
    )
    result = validate_student(row, today=TODAY)
    assert len(result.errors) == 10
    assert {problem.key for problem in result.errors} == {
        "name", "sex", "birth_date", "birthplace_code", "ethnicity", "phone",
        "postal_code", "email", "grade", "distance_km",
    }  # fmt: skip
    assert all(isinstance(problem, FieldProblem) for problem in result.errors)


def test_a_problem_names_the_item_and_the_reason():
    result = validate_student(valid_row(postal_code="2722"), today=TODAY)
    assert result.errors[0].message == "Postal code: a postal code has 6 digits, not “2722”."


def test_missing_required_items_are_reported():
    row = valid_row(name="", health=None)
    del row["native_place"]
    result = validate_student(row, today=TODAY)
    assert {p.key for p in result.errors} == {"name", "health", "native_place"}
    assert reasons(result, "health") == ["this item is required."]


def test_the_id_number_must_agree_with_the_birth_date_and_sex():
    result = validate_student(valid_row(birth_date="2015-03-02", sex="女"), today=TODAY)
    assert reasons(result, "id_number") == [
        "the number gives the birth date 2015-03-01, not 2015-03-02.",
        "the number belongs to a person of sex 男, not 女.",
    ]


def test_a_resident_id_needs_its_number():
    result = validate_student(valid_row(id_number=""), today=TODAY)
    assert reasons(result, "id_number") == ["enter the number of the 居民身份证."]


def test_type_z_without_a_number_and_without_a_guardian_id_is_refused():
    row = valid_row(id_type="Z", id_number="", **{"family1.id_number": ""})
    result = validate_student(row, today=TODAY)
    assert [p.key for p in result.errors] == ["id_number"]
    assert "guardian" in result.errors[0].reason


def test_type_z_without_a_number_passes_with_a_guardian_id():
    result = validate_student(valid_row(id_type="Z", id_number=""), today=TODAY)
    assert result.ok


def test_type_z_needs_the_guardian_not_any_family_member():
    row = valid_row(id_type="其他", id_number="", **{"family1.id_number": ""})
    row["family2.is_guardian"] = "是"  # the mother is a guardian but has a number of her own
    assert validate_student(row, today=TODAY).ok
    row["family2.id_number"] = "37082819870202002" + "0"  # ... which must be valid
    assert not validate_student(row, today=TODAY).ok


def test_at_least_one_family_member_is_a_guardian():
    result = validate_student(valid_row(**{"family1.is_guardian": "否"}), today=TODAY)
    assert reasons(result, "family1.is_guardian") == [
        "at least one of the two family members is a guardian."
    ]


def test_a_family_members_id_number_is_checked():
    bad = FATHER_ID[:17] + ("0" if FATHER_ID[17] != "0" else "1")
    result = validate_student(valid_row(**{"family1.id_number": bad}), today=TODAY)
    assert any("check character" in r for r in reasons(result, "family1.id_number"))
    # Blank type, 18 characters: read as a resident ID too.
    result = validate_student(
        valid_row(**{"family1.id_type": "", "family1.id_number": bad}), today=TODAY
    )
    assert reasons(result, "family1.id_number")


def test_the_birth_date_is_not_in_the_future_and_the_age_is_plausible():
    def birth_problems(born):
        row = valid_row(birth_date=born, id_type="Z", id_number="")
        result = validate_student(row, today=TODAY)
        return reasons(result, "birth_date"), [
            p.reason for p in result.warnings if p.key == "birth_date"
        ]

    assert birth_problems("2026-01-01")[0] == ["the birth date is in the future."]
    assert "would be 1 years old" in birth_problems("2024-01-01")[0][0]
    assert "would be 25 years old" in birth_problems("2000-01-01")[0][0]
    assert birth_problems("2021-06-01") == (
        [],
        ["the student is 4 years old; confirm the birth date."],
    )
    assert birth_problems("2015-03-01") == ([], [])


def test_the_entry_is_not_before_the_birth():
    result = validate_student(valid_row(entry_year_month="201401"), today=TODAY)
    assert reasons(result, "entry_year_month") == [
        "the entry 201401 is before the birth date 2015-03-01."
    ]


def test_the_name_pinyin_is_kept_when_given():
    result = validate_student(valid_row(name_pinyin="ZHANG San"), today=TODAY)
    assert result.values["name_pinyin"] == "ZHANG San"


def test_a_partial_edit_checks_only_the_items_given():
    result = validate_student({"phone": "0537-8712345"}, today=TODAY, partial=True)
    assert result.ok and result.values == {"phone": "0537-8712345"}
    result = validate_student({"name": ""}, today=TODAY, partial=True)
    assert reasons(result, "name") == ["this item is required."]
    result = validate_student({"id_number": STUDENT_ID, "sex": "2"}, today=TODAY, partial=True)
    assert reasons(result, "id_number") == ["the number belongs to a person of sex 男, not 女."]


def test_cells_straight_from_excel_are_understood():
    row = valid_row(
        birth_date=datetime(2015, 3, 1),
        entry_year_month=44440,  # 2021-09-01 as an Excel serial number
        ethnicity=1,
        grade=5,
        postal_code=272200,
        only_child=0,
        distance_km=2.5,
        hukou_code=370828101000,
        class_name=2,
    )
    result = validate_student(row, today=TODAY)
    assert result.errors == []
    assert result.values["entry_year_month"] == "202109"
    assert result.values["class_name"] == "2"


# Property tests ------------------------------------------------------------------------

CELLS = st.one_of(
    st.text(max_size=40),
    st.floats(),
    st.integers(),
    st.none(),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.decimals(),
)
KEYS = [item.key for item in ITEMS] + ["not_an_item"]


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(KEYS), CELLS), st.booleans())
def test_validating_arbitrary_cells_never_raises(raw, partial):
    result = validate_student(raw, today=TODAY, partial=partial)
    assert not {p.reason for p in result.errors} & UNREADABLE


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(KEYS[:-1]), CELLS)
def test_changing_one_cell_of_a_valid_row_never_raises(key, cell):
    result = validate_student(valid_row(**{key: cell}), today=TODAY)
    assert not {p.reason for p in result.errors} & UNREADABLE
    for problem in result.errors + result.warnings:
        assert problem.message
