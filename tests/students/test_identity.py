"""ID numbers (DOMAIN.md, Identity numbers): the check character, the 15-digit conversion,
normalisation, Excel's damage, the province part, current and historic address codes,
agreement with the birth date and sex, and the other document types."""

from datetime import date

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from xueji.students.divisions import PROVINCE_PREFIXES, check_division, county_code_info
from xueji.students.identity import (
    check_character,
    check_document,
    check_id_number,
    convert_15,
    looks_mangled_by_excel,
    normalise_id_number,
)

TODAY = date(2025, 9, 1)
EXCEL_FIX = "format the column as text"


@pytest.fixture(autouse=True)
def _english():
    # Assertions read the msgids; the Chinese catalogue is the lead's.
    with translation.override("en"):
        yield


def with_check(first17: str) -> str:
    return first17 + check_character(first17)


def test_the_domain_examples_pass():
    for number in ("11010519491231002X", "440524188001010014"):
        result = check_id_number(number, today=TODAY)
        assert result.errors == [], number
        assert result.warnings == [], number
        assert result.value == number


def test_it_reads_birth_date_sex_and_address_from_the_number():
    result = check_id_number("11010519491231002X", today=TODAY)
    assert result.birth_date == date(1949, 12, 31)
    assert result.sex == "2"
    assert result.address_code == "110105"


def test_a_wrong_check_character_names_the_right_one():
    result = check_id_number("110105194912310021", today=TODAY)
    assert result.errors == ["the check character should be X, not 1."]


def test_it_converts_a_15_digit_number():
    assert convert_15("110105491231002") == "11010519491231002X"
    result = check_id_number("110105491231002", today=TODAY)
    assert result.ok
    assert result.value == "11010519491231002X"
    assert result.notes


def test_it_normalises_full_width_digits_lowercase_x_and_spaces():
    assert normalise_id_number(" １１０１０５ １９４９１２３１００２ｘ ") == "11010519491231002X"
    assert normalise_id_number("11010519491231002x") == "11010519491231002X"
    assert normalise_id_number("110105 1949 1231 002X") == "11010519491231002X"
    assert check_id_number("\u3000１１０１０５１９４９１２３１００２ｘ", today=TODAY).ok


@pytest.mark.parametrize("raw", ["1.2E+17", "3.70828E+17", "3.7082820100101E17", 1.2e17])
def test_it_refuses_a_number_mangled_by_excel_and_says_how_to_fix_it(raw):
    assert looks_mangled_by_excel(raw)
    result = check_id_number(raw, today=TODAY)
    assert len(result.errors) == 1
    assert "Excel" in result.errors[0] and EXCEL_FIX in result.errors[0]


def test_an_18_digit_number_typed_back_from_a_number_cell_is_recognised():
    damaged = "370828201001010000"  # 15 significant digits, then zeros
    assert looks_mangled_by_excel(damaged)
    assert EXCEL_FIX in check_id_number(damaged, today=TODAY).errors[0]


def test_a_genuine_number_ending_in_000_is_not_taken_for_excel_damage():
    number = next(
        with_check(f"370828201001{day:02d}{seq}00")
        for day in range(1, 29)
        for seq in range(10)
        if check_character(f"370828201001{day:02d}{seq}00") == "0"
    )
    assert number.endswith("000")
    assert not looks_mangled_by_excel(number)
    assert check_id_number(number, today=TODAY).ok
    assert not looks_mangled_by_excel("11010519491231002X")
    assert not looks_mangled_by_excel(110105491231002)  # 15 digits survive a number cell


def test_a_long_integer_from_a_spreadsheet_is_refused():
    assert looks_mangled_by_excel(370828201001011234)
    assert EXCEL_FIX in check_id_number(370828201001011234, today=TODAY).errors[0]


def test_it_refuses_an_impossible_province():
    result = check_id_number(with_check("99010519491231002"), today=TODAY)
    assert result.errors == ["the first two digits 99 are not a province."]


def test_a_historic_address_code_is_accepted_without_a_warning():
    number = with_check("37088220100101123")  # 兖州市, a code until 2012
    result = check_id_number(number, today=TODAY)
    assert result.errors == [] and result.warnings == []
    assert any("兖州市" in note for note in result.notes)
    info = county_code_info("370882")
    assert info is not None and not info.current and info.end_year == 2012


def test_an_unknown_county_in_a_valid_province_is_a_warning_to_confirm():
    result = check_id_number(with_check("37089920100101123"), today=TODAY)
    assert result.errors == []
    assert result.warnings == [
        "the address code 370899 is not a current or historic GB/T 2260 code; confirm it."
    ]


def test_it_refuses_an_impossible_birth_date():
    assert "is not a real birth date" in check_id_number(with_check("37082820100231123")).errors[0]
    future = check_id_number(with_check("37082820300101123"), today=TODAY)
    assert "in the future" in future.errors[0]
    old = check_id_number(with_check("37082817990101123"), today=TODAY)
    assert "before 1880" in old.errors[0]


def test_it_refuses_wrong_length_and_characters():
    assert "not 10" in check_id_number("1101051949", today=TODAY).errors[0]
    assert "only digits" in check_id_number("1101051949123100X2", today=TODAY).errors[0]
    assert check_id_number("", today=TODAY).errors == ["enter the ID number."]
    assert check_id_number(None, today=TODAY).errors == ["enter the ID number."]


def test_it_refuses_a_number_that_disagrees_with_the_birth_date_and_sex():
    result = check_id_number(
        "11010519491231002X", birth_date=date(1950, 1, 1), sex="1", today=TODAY
    )
    assert result.errors == [
        "the number gives the birth date 1949-12-31, not 1950-01-01.",
        "the number belongs to a person of sex 女, not 男.",
    ]
    agreeing = check_id_number(
        "11010519491231002X", birth_date=date(1949, 12, 31), sex="女", today=TODAY
    )
    assert agreeing.ok


def test_division_codes_are_padded_to_12_digits():
    assert check_division("370828") == ("370828000000", None)
    assert check_division("370828101") == ("370828101000", None)
    assert check_division("370828101000") == ("370828101000", None)
    assert check_division(370828101000) == ("370828101000", None)


def test_division_codes_of_other_lengths_or_provinces_are_refused():
    _, problem = check_division("3708281")
    assert problem is not None and not problem.warning
    _, problem = check_division("990828101000")
    assert problem is not None and not problem.warning
    _, problem = check_division("370899101000")
    assert problem is not None and problem.warning


def test_the_province_prefixes_are_those_of_the_domain():
    assert len(PROVINCE_PREFIXES) == 5 + 3 + 7 + 6 + 5 + 5 + 3
    assert {"11", "15", "21", "23", "31", "37", "41", "46", "50", "54", "61", "65"} <= (
        PROVINCE_PREFIXES
    )
    assert {"71", "81", "82"} <= PROVINCE_PREFIXES
    assert not {"10", "16", "24", "38", "47", "55", "66", "72", "83", "99"} & PROVINCE_PREFIXES


def test_other_document_types_follow_their_own_rules():
    assert check_document("6", "a123456(7)").value == "A123456(7)"
    assert check_document("6", "A123456(7)").ok
    assert check_document("7", "1234567（8）").ok
    assert check_document("8", "12345678").ok
    assert check_document("A", "E12345678").ok
    assert check_document("护照", "E12345678").ok
    assert not check_document("A", "E12").ok
    assert not check_document("A", "E1234-5678").ok
    assert not check_document("A", "").ok
    assert check_document("Z", "").ok
    assert check_document("1", "11010519491231002X").ok
    assert not check_document("1", "110105194912310021").ok
    assert not check_document("Q", "E12345678").ok


# Property tests ------------------------------------------------------------------------

PROVINCES = sorted(PROVINCE_PREFIXES)


@st.composite
def valid_first17(draw):
    province = draw(st.sampled_from(PROVINCES))
    rest_of_address = draw(st.text("0123456789", min_size=4, max_size=4))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    sequence = draw(st.text("0123456789", min_size=3, max_size=3))
    return province + rest_of_address + born.strftime("%Y%m%d") + sequence


@settings(max_examples=200, deadline=None)
@given(valid_first17(), st.data())
def test_any_number_with_its_check_character_passes_and_any_single_change_breaks_it(first17, data):
    number = first17 + check_character(first17)
    assert check_id_number(number, today=TODAY).errors == []
    position = data.draw(st.integers(min_value=0, max_value=17))
    replacement = data.draw(st.sampled_from("0123456789X").filter(lambda c: c != number[position]))
    changed = number[:position] + replacement + number[position + 1 :]
    assert check_id_number(changed, today=TODAY).errors != []


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_normalising_an_id_number_twice_changes_nothing(text):
    once = normalise_id_number(text)
    assert normalise_id_number(once) == once


ANYTHING = st.one_of(
    st.text(),
    st.text("0123456789Xx ０１２３４５６７８９ｘ", min_size=14, max_size=20),
    st.floats(),
    st.integers(),
    st.none(),
    st.booleans(),
    st.dates(),
    st.datetimes(),
)


@settings(max_examples=200, deadline=None)
@given(ANYTHING, st.one_of(st.none(), st.dates(), st.text()), st.one_of(st.none(), st.text()))
def test_checking_an_id_number_never_raises(raw, birth_date, sex):
    result = check_id_number(raw, birth_date=birth_date, sex=sex, today=TODAY)
    assert isinstance(result.errors, list)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.none(), st.text(), st.sampled_from("16789AZ")), ANYTHING)
def test_checking_any_document_never_raises(id_type, raw):
    check_document(id_type, raw, today=TODAY)
