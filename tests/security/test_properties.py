"""Issue 8: property tests (hypothesis) of the ID check, the number allocator and the import
parser (N3, N11, B2; DOMAIN.md, Identity numbers and Student numbers).

- The ID check: every valid number generated passes; every change of one character and
  every swap of two different neighbouring digits is caught by the check character
  (ISO 7064 MOD 11-2 catches all of them, and so must we).
- The allocator: under any sequence of allocations, some rolled back, over several
  prefixes, the numbers handed out are unique, consecutive and well formed.
- The import parser: on arbitrary bytes, arbitrary ZIP archives posing as workbooks,
  arbitrary cells and arbitrary dates, options and headers, nothing is raised but our own
  refusal (RuleViolation, or the validator's problems).

The quick variants run in every suite; the `fuzz` ones run many more examples, once in CI
(on SQLite). tests/students/test_identity.py, test_validation.py and
tests/exchange/test_import.py hold narrower properties of the same functions.
"""

import datetime
import io
import string
import zipfile

import pytest
from django.db import transaction
from django.utils import translation
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from xueji.core.errors import RuleViolation
from xueji.exchange import excel
from xueji.exchange.xlsx_guard import check_xlsx_archive
from xueji.students import codes, numbers
from xueji.students.divisions import PROVINCE_PREFIXES
from xueji.students.form_items import SHEET_ITEMS
from xueji.students.identity import check_character, check_id_number
from xueji.students.models import NumberSequence
from xueji.students.validation import parse_date, parse_year_month, validate_student

TODAY = datetime.date(2026, 11, 29)
QUICK = settings(max_examples=60, deadline=None)
LONG = settings(max_examples=1500, deadline=None)
DB = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


# --- The ID check ----------------------------------------------------------------------------


@st.composite
def valid_id_numbers(draw) -> str:
    province = draw(st.sampled_from(sorted(PROVINCE_PREFIXES)))
    area = draw(st.text("0123456789", min_size=4, max_size=4))
    born = draw(st.dates(min_value=datetime.date(1900, 1, 1), max_value=TODAY))
    sequence = draw(st.text("0123456789", min_size=3, max_size=3))
    first17 = province + area + born.strftime("%Y%m%d") + sequence
    return first17 + check_character(first17)


def check_id_properties(number: str, position: int, replacement: str, swap_at: int) -> None:
    assert check_id_number(number, today=TODAY).errors == []
    # One character changed: the check character no longer fits the first 17.
    assume(replacement != number[position])
    assume(position == 17 or replacement != "X")
    changed = number[:position] + replacement + number[position + 1 :]
    assert check_character(changed[:17]) != changed[17]
    with translation.override("en"):
        errors = check_id_number(changed, today=TODAY).errors
    # A number ending in 000 with a wrong check character is what Excel leaves of an ID
    # number: that refusal says how to fix the column instead.
    assert any("check character" in error or "by Excel" in error for error in errors), errors
    # Two different neighbours swapped among the first 17 digits: caught as well.
    if number[swap_at] != number[swap_at + 1]:
        swapped = number[:swap_at] + number[swap_at + 1] + number[swap_at] + number[swap_at + 2 :]
        assert check_character(swapped[:17]) != swapped[17]


ID_ARGUMENTS = (
    valid_id_numbers(),
    st.integers(0, 17),
    st.sampled_from("0123456789X"),
    st.integers(0, 15),
)


@QUICK
@given(*ID_ARGUMENTS)
def test_a_valid_id_number_passes_and_any_single_change_fails_its_check_character(
    number, position, replacement, swap_at
):
    check_id_properties(number, position, replacement, swap_at)


@pytest.mark.fuzz
@LONG
@given(*ID_ARGUMENTS)
def test_fuzz_the_id_check_over_many_numbers(number, position, replacement, swap_at):
    check_id_properties(number, position, replacement, swap_at)


@QUICK
@given(valid_id_numbers())
def test_the_national_g_number_of_a_valid_id_number_is_well_formed(number):
    assert numbers.national_number_problem(numbers.g_number(number)) is None


@QUICK
@given(
    st.text("0123456789", min_size=6, max_size=6),
    st.dates(min_value=datetime.date(1990, 1, 1), max_value=TODAY),
    st.integers(0, 999),
)
def test_every_j_number_carries_a_check_character_that_verifies(division, born, sequence):
    value = numbers.j_number(division, born, sequence)
    assert numbers.national_number_problem(value) is None
    broken = value[:-1] + ("0" if value[-1] != "0" else "1")
    assert numbers.national_number_problem(broken) is not None


# --- The number allocator --------------------------------------------------------------------

PREFIXES = ("126280604", "126280501", "J37082820190315")
operations = st.lists(
    st.tuples(st.sampled_from(PREFIXES), st.booleans()),  # (prefix, rolled back?)
    min_size=1,
    max_size=40,
)


class _RolledBack(Exception):
    pass


def allocate(steps) -> None:
    before = {row.prefix: row.last for row in NumberSequence.objects.all()}
    kept: dict[str, list[int]] = {}
    for prefix, rolled_back in steps:
        try:
            with transaction.atomic():
                value = numbers.next_sequence(prefix)
                if rolled_back:
                    raise _RolledBack
        except _RolledBack:
            continue
        kept.setdefault(prefix, []).append(value)
    for prefix, taken in kept.items():
        start = before.get(prefix, 0)
        # Unique and consecutive: a rolled-back allocation gives its number back.
        assert taken == list(range(start + 1, start + len(taken) + 1))
        rendered = [numbers.render_number(prefix, value, 4) for value in taken]
        assert len(set(rendered)) == len(rendered)
        assert all(len(n) == len(prefix) + 4 and n[len(prefix) :].isdigit() for n in rendered)
        assert NumberSequence.objects.get(prefix=prefix).last == taken[-1]


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=DB)
@given(operations)
def test_allocated_numbers_are_unique_consecutive_and_well_formed(steps):
    allocate(steps)


@pytest.mark.fuzz
@pytest.mark.django_db
@settings(max_examples=300, deadline=None, suppress_health_check=DB)
@given(operations)
def test_fuzz_the_allocator_over_many_sequences(steps):
    allocate(steps)


@QUICK
@given(st.text("0123456789", min_size=1, max_size=16), st.integers(1, 8), st.integers(0, 10**9))
def test_a_sequence_beyond_its_width_is_refused_never_truncated(prefix, width, sequence):
    try:
        rendered = numbers.render_number(prefix, sequence, width)
    except RuleViolation:
        assert sequence >= 10**width
    else:
        assert (
            rendered == prefix + str(sequence).zfill(width) and len(rendered) == len(prefix) + width
        )


# --- The import parser -----------------------------------------------------------------------


def read_anything(data: bytes) -> None:
    """read_sheet and validation accept the bytes or refuse them with RuleViolation."""
    try:
        sheet = excel.read_sheet(data, max_rows=50)
    except RuleViolation as refused:
        assert refused.message and refused.field == "file"
        return
    for _number, cells in sheet.rows():
        validate_student(sheet.raw_row(cells), today=TODAY)


XLSX_NAMES = st.sampled_from(
    [
        "xl/workbook.xml",
        "xl/worksheets/sheet1.xml",
        "xl/sharedStrings.xml",
        "[Content_Types].xml",
        "_rels/.rels",
        "xl/_rels/workbook.xml.rels",
        "xl/worksheets/sheet1.bin",
        "../evil.xml",
    ]
)
XML_BITS = st.sampled_from(
    [
        '<c r="A1"><v>1</v></c>',
        '<c r="XFD1048576"><v>1</v></c>',
        "<row r='9999999'/>",
        "<si><t>姓名</t></si>",
        '<sheet name="学生信息" sheetId="1" r:id="rId1"/>',
        "<?xml version='1.0'?>",
        "<!DOCTYPE x [<!ENTITY a 'aaaa'>]>",
        "&a;&a;&a;",
        "\x00\xff",
    ]
)


@st.composite
def zip_archives(draw) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(
        buffer, "w", draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    ) as archive:
        for name in draw(st.lists(XLSX_NAMES, max_size=6, unique=True)):
            content = "".join(draw(st.lists(XML_BITS, max_size=8)))
            archive.writestr(name, content)
    data = buffer.getvalue()
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.binary(max_size=16)) + data[cut + 1 :]
    return data


PREFIXED_BYTES = st.one_of(
    st.binary(max_size=4096),
    st.binary(max_size=512).map(lambda b: b"PK\x03\x04" + b),
    st.binary(max_size=512).map(lambda b: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b),
    st.text(max_size=400).map(lambda t: t.encode("utf-8")),
    st.text(max_size=400).map(lambda t: t.encode("gb18030", errors="ignore")),
    zip_archives(),
)


@QUICK
@given(PREFIXED_BYTES)
def test_reading_arbitrary_bytes_refuses_with_our_message_or_reads(data):
    read_anything(data)


@pytest.mark.fuzz
@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PREFIXED_BYTES)
def test_fuzz_the_import_parser_with_arbitrary_bytes(data):
    read_anything(data)


@QUICK
@given(zip_archives())
def test_the_archive_check_refuses_or_passes_but_never_raises_anything_else(data):
    try:
        check_xlsx_archive(data, max_row=1000)
    except RuleViolation as refused:
        assert refused.field == "file"


HEADERS = [item.header for item in SHEET_ITEMS]
cells = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.sampled_from(HEADERS + ["*姓名", " 性 别 ", "出生日期＊", "=SUM(A1)", "@x"]),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
)


@QUICK
@given(st.lists(st.lists(cells, max_size=20), max_size=12))
def test_a_csv_of_arbitrary_cells_reads_or_is_refused_with_our_message(grid):
    import csv

    text = io.StringIO()
    csv.writer(text).writerows([["" if c is None else str(c) for c in row] for row in grid])
    read_anything(text.getvalue().encode("utf-8"))


@QUICK
@given(st.dictionaries(st.sampled_from([item.key for item in SHEET_ITEMS]), cells, max_size=30))
def test_validating_arbitrary_cells_reports_problems_and_never_raises(raw):
    checked = validate_student(raw, today=TODAY)
    assert all(problem.message for problem in checked.errors + checked.warnings)


@QUICK
@given(cells)
def test_dates_and_year_months_parse_or_refuse_with_a_sentence(value):
    from xueji.students.validation import _Refused

    for parse in (parse_date, parse_year_month):
        try:
            parsed = parse(value)
        except _Refused as refused:
            assert refused.reason
        else:
            assert parsed


@QUICK
@given(
    st.sampled_from(sorted({item.table for item in SHEET_ITEMS if item.table})),
    st.one_of(st.text(max_size=12), st.text(string.digits, max_size=4)),
)
def test_options_are_read_as_a_known_code_or_none(table, value):
    code = codes.to_code(table, value)
    assert code is None or code in codes.names(table)


@QUICK
@given(st.one_of(st.none(), st.text(max_size=40), st.integers(), st.floats()))
def test_a_header_is_compared_without_spaces_and_stars(text):
    key = excel.header_key(text)
    assert not any(ch.isspace() for ch in key)
    assert not key.startswith(("*", "＊")) and not key.endswith(("*", "＊"))
