"""THE validation of a student's data: forms, the API and the Excel import all call
`validate_student`, so a rule lives here once (STYLE.md) and the three say the same thing.

Input is what people and spreadsheets produce: strings with stray spaces and full-width
digits, Excel cells of any type (numbers, dates, serial numbers). Output is clean Python
values and a list of problems, each naming the item and the reason. Nothing here raises on
bad input, and nothing touches the database.
"""

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

from xueji.students import codes, form_items
from xueji.students.divisions import check_division
from xueji.students.form_items import BY_KEY, ITEMS, Item
from xueji.students.identity import (
    OTHER_DOCUMENT,
    RESIDENT_ID,
    IdCheck,
    check_document,
    check_id_number,
    excel_fix_message,
    looks_like_resident_id,
    looks_mangled_by_excel,
)
from xueji.students.pinyin import MIDDLE_DOT, display_pinyin

# Ages at which a pupil can be in compulsory education at all, and the usual ones
# (DOMAIN.md: primary from 6, junior high up to about 15; late and early starters exist).
AGE_LIMITS = (3, 20)
USUAL_AGES = (5, 17)
MAX_DISTANCE_KM = Decimal(200)
EARLIEST_YEAR = 1900
# Excel counts days from 1899-12-30 (its 1900 leap-year bug included).
EXCEL_EPOCH = date(1899, 12, 30)
FAMILY_PREFIXES = ("family1.", "family2.")
MAX_DOCUMENT_LENGTH = 30  # the id_number columns


@dataclass
class FieldProblem:
    key: str
    label: str
    reason: str
    warning: bool = False

    @property
    def message(self) -> str:
        return _("%(label)s: %(reason)s") % {"label": self.label, "reason": self.reason}


@dataclass
class Validated:
    values: dict[str, object] = field(default_factory=dict)
    errors: list[FieldProblem] = field(default_factory=list)
    warnings: list[FieldProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def problems_for(self, key: str) -> list[FieldProblem]:
        return [problem for problem in self.errors + self.warnings if problem.key == key]


class _Refused(Exception):
    """A field's value cannot be used; the reason is the user's sentence."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# ---------------------------------------------------------------------------------------
# Names

# Characters people (and their input methods) type for the middle dot of minority names.
MIDDLE_DOT_LOOK_ALIKES = "\u2022\u2027\u30fb\uff0e\u0387\u22c5\u2219\uff65\u16eb\u2e31\u2024\ufe52"
_DOT_TABLE = {ord(ch): MIDDLE_DOT for ch in MIDDLE_DOT_LOOK_ALIKES}
# Full-width Latin letters, hyphen and apostrophe, and the ideographic space.
_FULL_WIDTH_NAME: dict[int, int | str] = {0xFF21 + n: 0x41 + n for n in range(26)}
_FULL_WIDTH_NAME.update({0xFF41 + n: 0x61 + n for n in range(26)})
_FULL_WIDTH_NAME.update({0xFF0D: "-", 0xFF07: "'", 0x3000: " "})

_CJK_RANGES = (
    (0x3400, 0x4DBF),  # Extension A
    (0x4E00, 0x9FFF),  # the basic block
    (0xF900, 0xFAFF),  # compatibility ideographs
    (0x20000, 0x323AF),  # Extensions B to H, and the compatibility supplement
)
_LATIN_NAME = re.compile(r"^[A-Za-z]+(?:[ '\-][A-Za-z]+)*$")


def is_cjk(ch: str) -> bool:
    point = ord(ch)
    return point == 0x3007 or any(low <= point <= high for low, high in _CJK_RANGES)


def normalise_name(raw: object) -> str:
    """Trim, collapse spaces, and turn the middle dot's look-alikes into U+00B7."""
    if raw is None:
        return ""
    text = str(raw).translate(_DOT_TABLE).translate(_FULL_WIDTH_NAME)
    # A full stop between Chinese characters is a middle dot typed on the wrong key.
    text = re.sub(
        r"(?<=\S)\s*\.\s*(?=\S)",
        lambda m: MIDDLE_DOT if _between_cjk(text, m.start(), m.end()) else m.group(0),
        text,
    )
    text = " ".join(text.split())
    # Spaces inside a Chinese name ("张 三", "阿依古丽 · 买买提") are typing accidents.
    chars = list(text)
    kept = []
    for i, ch in enumerate(chars):
        if ch == " ":
            before, after = chars[i - 1], chars[i + 1]
            if is_cjk(before) or is_cjk(after) or MIDDLE_DOT in (before, after):
                continue
        kept.append(ch)
    return "".join(kept)


def _between_cjk(text: str, start: int, end: int) -> bool:
    return start > 0 and end < len(text) and is_cjk(text[start - 1]) and is_cjk(text[end])


def visible_character(ch: str) -> str:
    """A character as a message can show it: an invisible one (a control character, a
    right-to-left override that would turn the message itself around) by its code."""
    if unicodedata.category(ch)[0] in "CZ" and ch != " ":
        return f"U+{ord(ch):04X}"
    return ch


def name_problem(value: str) -> str | None:
    """Why a (normalised) name cannot be a person's name, or None when it can."""
    if not value:
        return _("enter a name.")
    if any(ch.isdigit() for ch in value):
        return _("a name has no digits.")
    if _LATIN_NAME.match(value):
        if not 2 <= len(value) <= 60:
            return _("a name in Latin letters has 2 to 60 characters.")
        return None
    has_latin = any(ch.isascii() and ch.isalpha() for ch in value)
    if has_latin and any(is_cjk(ch) for ch in value):
        return _("a name is in Chinese characters or in Latin letters, not both.")
    for ch in value:
        if not is_cjk(ch) and ch != MIDDLE_DOT:
            return _("“%(char)s” cannot be part of a name.") % {"char": visible_character(ch)}
    parts = value.split(MIDDLE_DOT)
    if any(not part for part in parts):
        return _("a middle dot stands only between two parts of a name.")
    if not 2 <= len(value) <= 30:
        return _("a Chinese name has 2 to 30 characters.")
    return None


# ---------------------------------------------------------------------------------------
# Reading cells

_FULL_WIDTH_ASCII: dict[int, int | str] = {0xFF01 + n: 0x21 + n for n in range(94)}
# Unicode's control characters (category Cc): C0, DEL and C1.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_FULL_WIDTH_ASCII[0x3000] = " "


def _is_blank(raw: object) -> bool:
    if raw is None:
        return True
    if isinstance(raw, float) and raw != raw:  # NaN from a spreadsheet library
        return True
    return isinstance(raw, str) and not raw.strip()


def _text(raw: object) -> str:
    """A cell as text: numbers without a trailing .0, dates in ISO form, control
    characters (Alt+Enter line breaks) as spaces."""
    if isinstance(raw, bool):
        return "1" if raw else "0"
    if isinstance(raw, float) and raw.is_integer() and abs(raw) < 1e15:
        return str(int(raw))
    if isinstance(raw, datetime):
        return raw.date().isoformat() if raw.time() == datetime.min.time() else raw.isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    text = str(raw)
    if _CONTROL.search(text):
        text = _CONTROL.sub(" ", text)
    return text.strip()


def _ascii_text(raw: object) -> str:
    return _text(raw).translate(_FULL_WIDTH_ASCII).strip()


def _refuse_excel_float(raw: object) -> None:
    if isinstance(raw, float):
        raise _Refused(excel_fix_message())


def _check_length(item: Item, value: str) -> None:
    if item.max_length and len(value) > item.max_length:
        raise _Refused(
            _("at most %(limit)d characters, not %(count)d.")
            % {"limit": item.max_length, "count": len(value)}
        )


# ---------------------------------------------------------------------------------------
# Dates

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]0{1,2}:0{2}(?::0{2})?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
)
_YEAR_MONTH_PATTERNS = (
    re.compile(r"^(\d{4})(\d{2})$"),
    re.compile(r"^(\d{4})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月?$"),
)


def _from_serial(serial: float) -> date:
    if not 1 <= serial < 100_000:
        raise _Refused(_("%(value)s is not a date.") % {"value": _text(serial)})
    return EXCEL_EPOCH + timedelta(days=int(serial))


def _real_date(year: int, month: int, day: int, shown: str) -> date:
    try:
        value = date(year, month, day)
    except ValueError:
        raise _Refused(_("%(value)s is not a real date.") % {"value": shown}) from None
    if not EARLIEST_YEAR <= value.year <= 2100:
        raise _Refused(_("%(value)s is not a plausible date.") % {"value": shown})
    return value


def parse_date(raw: object) -> date:
    """YYYY-MM-DD, YYYYMMDD, YYYY/MM/DD, a date or datetime object, or an Excel serial."""
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, bool):
        raise _Refused(_("enter a date as YYYY-MM-DD or YYYYMMDD."))
    if isinstance(raw, int | float):
        if 18000101 <= raw <= 21001231 and float(raw).is_integer():
            raw = str(int(raw))  # YYYYMMDD typed into a number cell
        else:
            return _from_serial(raw)
    text = _ascii_text(raw)
    if ":" not in text:  # "2015-03-01 00:00:00" keeps the space before its time
        text = text.replace(" ", "")
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month, day = (int(group) for group in match.groups())
            return _real_date(year, month, day, text)
    if re.fullmatch(r"\d{5}", text):  # a serial number that went through a CSV file
        return _from_serial(int(text))
    raise _Refused(
        _("“%(value)s” is not a date; enter it as YYYY-MM-DD or YYYYMMDD.") % {"value": text}
    )


def parse_year_month(raw: object) -> str:
    """YYYYMM, YYYY-MM, or a date: the year and month as "YYYYMM"."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        if float(raw).is_integer() and 180001 <= raw <= 210012:
            raw = str(int(raw))
        else:
            return parse_date(raw).strftime("%Y%m")
    if isinstance(raw, date):
        return raw.strftime("%Y%m")
    text = _ascii_text(raw).replace(" ", "")
    for pattern in _YEAR_MONTH_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month = (int(group) for group in match.groups())
            _real_date(year, month, 1, text)
            return f"{year:04d}{month:02d}"
    try:
        return parse_date(text).strftime("%Y%m")
    except _Refused:
        raise _Refused(
            _("“%(value)s” is not a year and month; enter it as YYYYMM.") % {"value": text}
        ) from None


# ---------------------------------------------------------------------------------------
# One cleaner per kind of item. Each returns the clean value, raises _Refused, and may
# add warnings.

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^(0\d{2,3})-?(\d{7,8})(?:-(\d{1,6}))?$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$")
_CHINESE_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_JUNIOR_GRADES = {"初一": 7, "初二": 8, "初三": 9}
_YES = {"是", "1", "Y", "YES", "TRUE", "T", "√", "✓"}
_NO = {"否", "0", "N", "NO", "FALSE", "F", "×", "✗"}


def _clean_text(item: Item, raw: object, warnings: list[str]) -> object:
    value = _text(raw)
    _check_length(item, value)
    return value


# A name of 2 to 30 characters of the basic CJK block: nothing to normalise or refuse.
_PLAIN_CHINESE_NAME = re.compile("[\u4e00-\u9fff]{2,30}")


def _clean_name(item: Item, raw: object, warnings: list[str]) -> object:
    if isinstance(raw, str) and _PLAIN_CHINESE_NAME.fullmatch(raw):
        _check_length(item, raw)
        return raw
    value = normalise_name(_text(raw))
    problem = name_problem(value)
    if problem:
        raise _Refused(problem)
    _check_length(item, value)
    return value


def _code_value(raw: object) -> str:
    value = _ascii_text(raw) if not isinstance(raw, str) else raw.strip()
    return value.translate(_FULL_WIDTH_ASCII).strip()


def _clean_code(item: Item, raw: object, warnings: list[str]) -> object:
    value = _code_value(raw)
    code = codes.to_code(item.table, value) or codes.to_code(item.table, value.upper())
    if code is None:
        # "01 汉族", "01-汉族", "汉族(01)": a drop-down's code and name together.
        match = re.match(r"^(\w+?)\s*[-:：\s]\s*(.+)$", value) or re.match(
            r"^(.+?)\s*\((\w+)\)$", value
        )
        if match:
            first, second = match.groups()
            a, b = codes.to_code(item.table, first), codes.to_code(item.table, second)
            if a is not None and a == b:
                code = a
    if code is None:
        table = codes.names(item.table)
        if len(table) <= 16:
            choices = " / ".join(f"{code} {name}" for code, name in table.items())
            raise _Refused(
                _("“%(value)s” is not one of: %(choices)s.") % {"value": value, "choices": choices}
            )
        raise _Refused(
            _("“%(value)s” is not in the code table %(table)s; enter a code or a name.")
            % {"value": value, "table": codes.tables()[item.table]["title"]}
        )
    return code


def _clean_date(item: Item, raw: object, warnings: list[str]) -> object:
    return parse_date(raw)


def _clean_year_month(item: Item, raw: object, warnings: list[str]) -> object:
    return parse_year_month(raw)


def _clean_division(item: Item, raw: object, warnings: list[str]) -> object:
    code, problem = check_division(raw)
    if problem is not None:
        if not problem.warning:
            raise _Refused(problem.reason)
        warnings.append(problem.reason)
    return code


def _clean_id_number(item: Item, raw: object, warnings: list[str]) -> object:
    # The number's own rules depend on the document type: see _check_documents. Here only
    # what holds for every type: a number cell has already destroyed it.
    _refuse_excel_float(raw)
    if isinstance(raw, int) and looks_mangled_by_excel(raw):
        raise _Refused(excel_fix_message())
    return raw.strip() if isinstance(raw, str) else _text(raw)


def _clean_phone(item: Item, raw: object, warnings: list[str]) -> object:
    if type(raw) is str and len(raw) == 11 and raw.isascii() and _MOBILE.match(raw):
        return raw  # the usual cell: a mobile number as typed, nothing to take away
    _refuse_excel_float(raw)
    text = _ascii_text(raw)
    compact = re.sub(r"[\s()]", "", text.replace("(", "").replace(")", "-", 1))
    digits_only = re.sub(r"^(\+86|0086|86)(?=1\d{10}$)", "", compact.replace("-", ""))
    if _MOBILE.match(digits_only):
        return digits_only
    match = _LANDLINE.match(compact.strip("-"))
    if match:
        # Kept as typed: without a hyphen, 01012345678 could be 010- or 0101-.
        return compact.strip("-")
    if isinstance(raw, int) and not str(raw).startswith(("0", "1")):
        raise _Refused(
            _(
                "the telephone number lost its leading 0 in an Excel number cell; "
                "format the column as text and type the numbers again."
            )
        )
    raise _Refused(
        _(
            "“%(value)s” is not a telephone number: a mobile number has 11 digits starting "
            "with 1, a landline starts with its area code (0537-1234567)."
        )
        % {"value": text}
    )


def _clean_postal(item: Item, raw: object, warnings: list[str]) -> object:
    _refuse_excel_float(raw)
    text = _ascii_text(raw).replace(" ", "")
    if isinstance(raw, int) and len(text) < 6:
        raise _Refused(
            _(
                "the postal code lost its leading 0 in an Excel number cell; "
                "format the column as text and type the codes again."
            )
        )
    if not re.fullmatch(r"\d{6}", text):
        raise _Refused(_("a postal code has 6 digits, not “%(value)s”.") % {"value": text})
    return text


def _clean_email(item: Item, raw: object, warnings: list[str]) -> object:
    text = _ascii_text(raw).replace(" ", "")
    if not _EMAIL.match(text):
        raise _Refused(_("“%(value)s” is not an e-mail address.") % {"value": text})
    _check_length(item, text)
    return text


def _clean_decimal(item: Item, raw: object, warnings: list[str]) -> object:
    if isinstance(raw, bool):
        raise _Refused(_("enter a distance in kilometres, such as 2.5."))
    text = _ascii_text(raw) if not isinstance(raw, float) else repr(raw)
    text = re.sub(r"\s*(km|KM|Km|公里|千米)$", "", text.replace(" ", ""))
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _Refused(_("enter a distance in kilometres, such as 2.5.")) from None
    if not value.is_finite() or not 0 <= value <= MAX_DISTANCE_KM:
        raise _Refused(
            _("a distance is between 0 and %(limit)s km, not %(value)s.")
            % {"limit": MAX_DISTANCE_KM, "value": text}
        )
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _clean_grade(item: Item, raw: object, warnings: list[str]) -> object:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        grade = int(raw) if float(raw).is_integer() else 0
    else:
        text = _ascii_text(raw).replace(" ", "")
        if text in _JUNIOR_GRADES:
            grade = _JUNIOR_GRADES[text]
        else:
            text = text.removesuffix("年级").removesuffix("年")
            if text in _CHINESE_DIGITS:
                grade = _CHINESE_DIGITS[text]
            elif text.isascii() and text.isdigit():
                grade = int(text)
            else:
                grade = 0
    if not 1 <= grade <= 9:
        raise _Refused(_("a grade is 1 to 9, not “%(value)s”.") % {"value": _text(raw)})
    return grade


def _clean_yes_no(item: Item, raw: object, warnings: list[str]) -> object:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float) and raw in (0, 1):
        return bool(raw)
    text = _ascii_text(raw).replace(" ", "").upper()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise _Refused(
        _("answer %(yes)s or %(no)s (1 or 0), not “%(value)s”.")
        % {
            "yes": codes.name_of("yes_no", "1"),
            "no": codes.name_of("yes_no", "0"),
            "value": _text(raw),
        }
    )


def _clean_number(item: Item, raw: object, warnings: list[str]) -> object:
    _refuse_excel_float(raw)
    text = _ascii_text(raw).replace(" ", "")
    if not (text.isascii() and text.isdigit() and len(text) in (11, 13)):
        raise _Refused(
            _("a provincial number has 11 or 13 digits, not “%(value)s”.") % {"value": text}
        )
    return text


_CLEANERS: dict[str, Callable[[Item, object, list[str]], object]] = {
    form_items.TEXT: _clean_text,
    form_items.NAME: _clean_name,
    form_items.CODE: _clean_code,
    form_items.DATE: _clean_date,
    form_items.YEAR_MONTH: _clean_year_month,
    form_items.DIVISION: _clean_division,
    form_items.ID_NUMBER: _clean_id_number,
    form_items.PHONE: _clean_phone,
    form_items.POSTAL: _clean_postal,
    form_items.EMAIL: _clean_email,
    form_items.DECIMAL: _clean_decimal,
    form_items.GRADE: _clean_grade,
    form_items.YES_NO: _clean_yes_no,
    form_items.NUMBER: _clean_number,
}


def clean_item(item: Item, raw: object) -> tuple[object, str | None, list[str]]:
    """One item's value: (clean value, error reason or None, warning reasons).
    A blank value is "" and is no error here; the caller knows whether it is required."""
    warnings: list[str] = []
    if _is_blank(raw):
        return "", None, warnings
    cleaner = _CLEANERS.get(item.kind)
    if cleaner is None:  # the photo travels as a file, checked by students/photos.py
        return raw, None, warnings
    try:
        return cleaner(item, raw, warnings), None, warnings
    except _Refused as refused:
        return "", refused.reason, warnings
    except Exception:  # a value of a type nobody foresaw: refuse it, never crash an import
        return "", _("this value cannot be read."), warnings


# ---------------------------------------------------------------------------------------
# The whole student


Cleaner = Callable[[Item, object], tuple[object, str | None, list[str]]]


class _Collector:
    def __init__(
        self, raw: Mapping[str, object], today: date, partial: bool, clean: Cleaner = clean_item
    ):
        self.raw = raw
        self.today = today
        self.partial = partial
        self.clean = clean
        self.result = Validated()
        self.bad: set[str] = set()  # keys whose value could not be used

    def error(self, key: str, reason: str) -> None:
        self.bad.add(key)
        self.result.errors.append(FieldProblem(key, str(BY_KEY[key].label), reason))

    def warn(self, key: str, reason: str) -> None:
        self.result.warnings.append(FieldProblem(key, str(BY_KEY[key].label), reason, True))

    def has(self, *keys: str) -> bool:
        """All the keys were given and are usable (for cross-field rules)."""
        return all(key in self.result.values and key not in self.bad for key in keys)

    def value(self, key: str) -> object:
        return self.result.values.get(key, "")


def validate_student(raw: Mapping[str, object], *, today: date, partial: bool = False) -> Validated:
    """Check a student's items (keys of form_items) and the rules between them.

    With partial=True only the keys present are checked (an edit), and the rules between
    items run where all their items are present.
    """
    return _validate(_Collector(raw, today, partial))


# Kinds whose values repeat from row to row in a file (codes, yes/no, grades, dates ...):
# a StudentValidator cleans each distinct value once.
_REPEATING_KINDS = {
    form_items.CODE,
    form_items.YES_NO,
    form_items.GRADE,
    form_items.DIVISION,
    form_items.DATE,
    form_items.YEAR_MONTH,
    form_items.DECIMAL,
    form_items.POSTAL,
}
# Distinct values remembered; past it the memory starts again (bounded for any file).
MEMO_LIMIT = 50_000
_MISSING = object()
_NO_WARNINGS: list[str] = []  # shared, never added to
# Cell values that can be remembered (hashable, and compared by value).
_PLAIN = (str, int, float, date)


class StudentValidator:
    """validate_student for the many rows of one import: the same rules and messages,
    but a value that repeats (汉族, 是, 3, a birth date) is cleaned once. Each import makes
    its own, so the messages remembered are in the language of that request."""

    def __init__(self, *, today: date, partial: bool = False):
        self.today = today
        self.partial = partial
        self._memo: dict[tuple[str, type, object], tuple[object, str | None, list[str]]] = {}

    def validate(self, raw: Mapping[str, object]) -> Validated:
        check = _Collector(raw, self.today, self.partial, self._clean)
        if self.partial:
            return _validate(check)
        return _validate(check, self._check_items)

    def _check_items(self, check: _Collector) -> None:
        """_check_items for a whole row, with the common cases inline: an empty cell,
        and a value met before in a repeating item."""
        raw, values, memo, problems = check.raw, check.result.values, self._memo, []
        control = _CONTROL.search
        for item, key, repeating, plain_text in _ROW_PLAN:
            cell = raw.get(key)
            if cell is None or cell == "":
                values[key] = ""
                if item.required:
                    problems.append((key, _("this item is required.")))
                continue
            value: object
            reason: str | None
            warnings: list[str]
            if plain_text and type(cell) is str and control(cell) is None:
                # _clean_plain_text inline: a third of the cells of a row are plain text.
                value = cell.strip()
                if plain_text < len(value):
                    value, reason, warnings = clean_item(item, cell)  # too long: the message
                else:
                    values[key] = value
                    if value == "" and item.required:
                        problems.append((key, _("this item is required.")))
                    continue
            elif repeating and isinstance(cell, _PLAIN):
                memo_key = (key, type(cell), cell)
                found = memo.get(memo_key, _MISSING)
                if found is _MISSING:
                    if len(memo) >= MEMO_LIMIT:
                        memo.clear()
                    found = memo[memo_key] = clean_item(item, cell)
                value, reason, warnings = found  # type: ignore[assignment,misc]
            else:
                value, reason, warnings = clean_item(item, cell)
            values[key] = value
            if reason is not None:
                problems.append((key, reason))
            elif value == "" and item.required:
                problems.append((key, _("this item is required.")))
            for warning in warnings:
                check.warn(key, warning)
        for key, reason in problems:
            check.error(key, reason)

    def _clean(self, item: Item, raw: object) -> tuple[object, str | None, list[str]]:
        if item.kind not in _REPEATING_KINDS or not isinstance(raw, _PLAIN):
            return clean_item(item, raw)
        key = (item.key, type(raw), raw)
        found = self._memo.get(key, _MISSING)
        if found is _MISSING:
            if len(self._memo) >= MEMO_LIMIT:
                self._memo.clear()
            found = self._memo[key] = clean_item(item, raw)
        return found  # type: ignore[return-value]


def _validate(
    check: _Collector, check_items: Callable[[_Collector], None] | None = None
) -> Validated:
    try:
        (check_items or _check_items)(check)
        _check_documents(check)
        _check_family(check)
        _check_dates(check)
        _fill_pinyin(check)
    except Exception:  # pragma: no cover - the last line of defence: report, never crash
        check.error("name", _("this row cannot be read."))
    return check.result


# The photo travels as a file, checked by students/photos.py.
_CELL_ITEMS = [item for item in ITEMS if item.kind != form_items.PHOTO]
# (item, key, cleaned once per distinct value, for plain text its longest length else 0)
_ROW_PLAN = [
    (
        item,
        item.key,
        item.kind in _REPEATING_KINDS,
        (item.max_length or 1_000_000) if item.kind == form_items.TEXT else 0,
    )
    for item in _CELL_ITEMS
]


def _check_items(check: _Collector) -> None:
    for item in _CELL_ITEMS:
        if item.key not in check.raw:
            if check.partial:
                continue
            raw: object = None
        else:
            raw = check.raw[item.key]
        value, reason, warnings = check.clean(item, raw)
        check.result.values[item.key] = value
        if reason is not None:
            check.error(item.key, reason)
        elif value == "" and item.required:
            check.error(item.key, _("this item is required."))
        for warning in warnings:
            check.warn(item.key, warning)


def _check_documents(check: _Collector) -> None:
    values = check.result.values
    # Family members first: with type Z the student's check needs a guardian's valid number.
    for prefix in FAMILY_PREFIXES:
        _check_member_document(check, prefix)
    # The student: the document type decides the number's rules.
    if "id_number" in values and "id_number" not in check.bad:
        id_type = values.get("id_type", "")
        if "id_type" in check.bad:
            id_type = ""
        number = values["id_number"]
        birth_date = values.get("birth_date") if check.has("birth_date") else None
        sex = values.get("sex") if check.has("sex") else None
        if id_type == "" and not check.partial:
            pass  # the missing type is already reported
        elif id_type == RESIDENT_ID or (id_type == "" and looks_like_resident_id(str(number))):
            if number == "":
                check.error(
                    "id_number",
                    _("enter the number of the %(type)s.")
                    % {"type": codes.name_of("id_type", RESIDENT_ID)},
                )
            else:
                _record_document(
                    check,
                    "id_number",
                    check_id_number(number, birth_date=birth_date, sex=sex, today=check.today),
                )
        elif id_type == OTHER_DOCUMENT and number == "":
            if check.partial and not _family_given(check):
                pass
            elif not _guardian_has_id(check):
                check.error(
                    "id_number",
                    _(
                        "without a document number, a guardian's ID number is required: "
                        "enter it for the family member who is the guardian."
                    ),
                )
        elif id_type != "" or number != "":
            _record_document(check, "id_number", check_document(id_type or "Z", number))


def _record_document(check: _Collector, key: str, result: IdCheck) -> None:
    check.result.values[key] = result.value
    for reason in result.errors:
        check.error(key, reason)
    for reason in result.warnings:
        check.warn(key, reason)


def _check_member_document(check: _Collector, prefix: str) -> None:
    type_key, number_key = prefix + "id_type", prefix + "id_number"
    if number_key not in check.result.values or number_key in check.bad:
        return
    number = check.result.values[number_key]
    id_type = check.result.values.get(type_key, "") if type_key not in check.bad else ""
    if number == "":
        return
    if id_type == RESIDENT_ID or (id_type == "" and looks_like_resident_id(str(number))):
        _record_document(check, number_key, check_id_number(number, today=check.today))
    elif id_type != "":
        _record_document(check, number_key, check_document(id_type, number))
    else:
        # No type and not a resident ID's shape: keep it as written, within the column.
        value = _text(number)
        check.result.values[number_key] = value
        if len(value) > MAX_DOCUMENT_LENGTH:
            check.error(
                number_key,
                _("at most %(limit)d characters, not %(count)d.")
                % {"limit": MAX_DOCUMENT_LENGTH, "count": len(value)},
            )


def _family_given(check: _Collector) -> bool:
    return any(prefix + "is_guardian" in check.result.values for prefix in FAMILY_PREFIXES)


def _guardian_has_id(check: _Collector) -> bool:
    """A family member who is a guardian and has a valid ID number."""
    for prefix in FAMILY_PREFIXES:
        number_key = prefix + "id_number"
        if (
            check.value(prefix + "is_guardian") is True
            and check.has(number_key)
            and check.value(number_key) != ""
        ):
            return True
    return False


def _check_family(check: _Collector) -> None:
    keys = [prefix + "is_guardian" for prefix in FAMILY_PREFIXES]
    if check.has(*keys) and not any(check.value(key) is True for key in keys):
        check.error(keys[0], _("at least one of the two family members is a guardian."))


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _check_dates(check: _Collector) -> None:
    if check.has("birth_date") and check.value("birth_date") != "":
        born = check.value("birth_date")
        if not isinstance(born, date):
            return
        if born > check.today:
            check.error("birth_date", _("the birth date is in the future."))
        else:
            age = _age(born, check.today)
            if not AGE_LIMITS[0] <= age <= AGE_LIMITS[1]:
                check.error(
                    "birth_date",
                    _("the student would be %(age)d years old; a pupil is %(low)d to %(high)d.")
                    % {"age": age, "low": AGE_LIMITS[0], "high": AGE_LIMITS[1]},
                )
            elif not USUAL_AGES[0] <= age <= USUAL_AGES[1]:
                check.warn(
                    "birth_date",
                    _("the student is %(age)d years old; confirm the birth date.") % {"age": age},
                )
        if check.has("entry_year_month") and check.value("entry_year_month") != "":
            entry = str(check.value("entry_year_month"))
            if entry < f"{born.year:04d}{born.month:02d}":
                check.error(
                    "entry_year_month",
                    _("the entry %(entry)s is before the birth date %(born)s.")
                    % {"entry": entry, "born": born.isoformat()},
                )
    if check.has("entry_year_month") and check.value("entry_year_month") != "":
        entry = str(check.value("entry_year_month"))
        latest = f"{check.today.year + 1:04d}{check.today.month:02d}"
        if entry > latest:
            check.error(
                "entry_year_month",
                _("the entry %(entry)s is more than a year ahead.") % {"entry": entry},
            )


def _fill_pinyin(check: _Collector) -> None:
    values = check.result.values
    if "name_pinyin" not in values or values["name_pinyin"] != "":
        return
    if check.has("name") and values["name"] != "":
        values["name_pinyin"] = display_pinyin(str(values["name"]))[
            : BY_KEY["name_pinyin"].max_length
        ]
