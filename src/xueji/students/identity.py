"""Identity numbers: the 居民身份证号 (GB 11643-1999) and the other document types
(DOMAIN.md, Identity numbers). Pure functions: no database, no settings beyond gettext.

Every check returns its findings instead of raising, so a form, the API and an import of
100,000 rows report every problem of a number at once.
"""

import operator
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from django.utils.translation import gettext as _

from xueji.students import codes
from xueji.students.divisions import PROVINCE_PREFIXES, county_code_info

RESIDENT_ID = "1"
OTHER_DOCUMENT = "Z"
# 6 香港, 7 澳门, 8 台湾通行证, 9 境外永久居住证, A 护照: numbers of their own shapes.
FOREIGN_DOCUMENTS = frozenset("6789A")

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Σ(byte × weight) counts every ASCII digit 48 too high: taken off once.
_ZERO_BYTES_SUM = 48 * sum(WEIGHTS)
CHECK_CHARACTERS = "10X98765432"  # indexed by S mod 11

# Full-width digits and letters, and the ideographic space, as an IME types them.
_FULL_WIDTH: dict[int, int | str] = {0xFF10 + n: 0x30 + n for n in range(10)}
_FULL_WIDTH.update({0xFF21 + n: 0x41 + n for n in range(26)})
_FULL_WIDTH.update({0xFF41 + n: 0x61 + n for n in range(26)})
_FULL_WIDTH.update({0xFF08: "(", 0xFF09: ")", 0x3000: " "})

_SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d*)?[eE][+-]?\d+$")
_DECIMAL_OF_A_LONG_NUMBER = re.compile(r"^\d{15,}\.\d*$")
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
_DOCUMENT_SHAPE = re.compile(r"^[A-Z0-9]+(\([A-Z0-9]{1,2}\))?$")

# GB 11643's own example, 440524188001010014, was born in 1880: older than that is a typo.
EARLIEST_BIRTH_YEAR = 1880

# Excel keeps 15 significant digits: a longer number in a number cell is already damaged.
_EXCEL_DIGITS = 15


def excel_fix_message() -> str:
    return _(
        "the number was turned into a number by Excel and lost its last digits; "
        "format the column as text and type the numbers again."
    )


@dataclass
class IdCheck:
    value: str  # the normalised number (18 characters for a resident ID when it could be read)
    birth_date: date | None = None  # what the number says
    sex: str = ""  # "1" male, "2" female, from the 17th digit
    address_code: str = ""
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Facts worth showing but needing no action: a converted 15-digit number, a historic code.
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def normalise_id_number(raw: object) -> str:
    """Strip spaces, turn full-width digits and letters into ASCII, upper-case the X."""
    if raw is None:
        return ""
    text = str(raw).translate(_FULL_WIDTH)
    return "".join(text.split()).upper()


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits."""
    if len(first17) == 17 and first17.isascii() and first17.isdigit():
        # The bytes of ASCII digits multiplied in C: four times quicker than int() per
        # digit, and an import checks two or three numbers a row.
        total = sum(map(operator.mul, first17.encode(), WEIGHTS)) - _ZERO_BYTES_SUM
        return CHECK_CHARACTERS[total % 11]
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARACTERS[total % 11]


def convert_15(number15: str) -> str:
    """An old 15-digit number (two-digit year, no check) as its 18-character form."""
    first17 = number15[:6] + "19" + number15[6:]
    return first17 + check_character(first17)


def looks_mangled_by_excel(raw: object) -> bool:
    """True when a spreadsheet has turned the number into a number and lost digits."""
    if isinstance(raw, bool):
        return False
    if isinstance(raw, float):
        # Any float of 15 or more digits came from a number cell; shorter ones are simply
        # wrong and the length check says so.
        return raw != raw or abs(raw) >= 10 ** (_EXCEL_DIGITS - 1)
    if isinstance(raw, int):
        # A 15-digit integer survives a number cell whole (an old 15-digit number), a longer
        # one cannot.
        return len(str(abs(raw))) > _EXCEL_DIGITS
    if not isinstance(raw, str):
        return False
    text = normalise_id_number(raw)
    if _SCIENTIFIC.match(text) or _DECIMAL_OF_A_LONG_NUMBER.match(text):
        return True
    # Typed back from a number cell: 15 significant digits, then zeros. A genuine number
    # may end in "000" too, but then its check character is right.
    return (
        len(text) == 18
        and text.isdigit()
        and text.endswith("000")
        and check_character(text[:17]) != text[17]
    )


def _parse_birth(digits: str) -> date | None:
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def _sex_code(sex: object) -> str | None:
    if sex is None:
        return None
    return codes.to_code("sex", str(sex))


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return None


def check_id_number(
    raw: object,
    *,
    birth_date: object = None,
    sex: object = None,
    today: date | None = None,
) -> IdCheck:
    """Check a 居民身份证号 and, when given, its agreement with the birth date and sex."""
    today = today or date.today()
    if type(raw) is str and len(raw) == 18 and raw.isascii() and _ID_SHAPE.match(raw):
        # The usual cell, already clean: normalising it and asking whether Excel mangled
        # it (an ending "000" with a wrong check character) in one step, not three.
        if raw.endswith("000") and check_character(raw[:17]) != raw[17]:
            return IdCheck(value=raw, errors=[excel_fix_message()])
        return _check_resident_number(IdCheck(value=raw), raw, birth_date, sex, today)
    if looks_mangled_by_excel(raw):
        return IdCheck(value=normalise_id_number(raw), errors=[excel_fix_message()])
    if isinstance(raw, float | bool) or raw is None:
        text = "" if raw is None else str(raw)
    else:
        text = normalise_id_number(raw)
    result = IdCheck(value=text)
    if not text:
        result.errors.append(_("enter the ID number."))
        return result

    if len(text) == 15 and text.isascii() and text.isdigit():
        text = convert_15(text)
        result.value = text
        result.notes.append(
            _("the old 15-digit number was converted to %(number)s.") % {"number": text}
        )
    elif len(text) != 18:
        result.errors.append(
            _("an ID number has 18 characters (or 15 for an old one), not %(count)d.")
            % {"count": len(text)}
        )
        return result
    if not text.isascii() or not _ID_SHAPE.match(text):
        result.errors.append(
            _("an ID number has only digits, with X allowed as the last character.")
        )
        return result
    return _check_resident_number(result, text, birth_date, sex, today)


def _check_resident_number(
    result: IdCheck, text: str, birth_date: object, sex: object, today: date
) -> IdCheck:
    """The rules of an 18-character number of the right shape."""
    if text[:2] not in PROVINCE_PREFIXES:
        result.errors.append(
            _("the first two digits %(province)s are not a province.") % {"province": text[:2]}
        )
    born = _parse_birth(text[6:14])
    if born is None:
        result.errors.append(
            _("%(digits)s in the number is not a real birth date.") % {"digits": text[6:14]}
        )
    elif born.year < EARLIEST_BIRTH_YEAR:
        result.errors.append(
            _("the birth date %(date)s in the number is before %(year)s.")
            % {"date": born.isoformat(), "year": EARLIEST_BIRTH_YEAR}
        )
    elif born > today:
        result.errors.append(
            _("the birth date %(date)s in the number is in the future.")
            % {"date": born.isoformat()}
        )
    expected = check_character(text[:17])
    if expected != text[17]:
        result.errors.append(
            _("the check character should be %(expected)s, not %(given)s.")
            % {"expected": expected, "given": text[17]}
        )
    result.birth_date = born
    result.sex = "1" if int(text[16]) % 2 else "2"
    result.address_code = text[:6]

    if text[:2] in PROVINCE_PREFIXES:
        county = county_code_info(text[:6])
        if county is None:
            result.warnings.append(
                _(
                    "the address code %(code)s is not a current or historic GB/T 2260 code; "
                    "confirm it."
                )
                % {"code": text[:6]}
            )
        elif not county.current:
            # The code where the person was first registered stays in the number for life.
            result.notes.append(
                _("the address code %(code)s is %(name)s, a code used until %(year)s.")
                % {"code": text[:6], "name": county.name, "year": county.end_year}
            )

    given_birth = _as_date(birth_date)
    if born is not None and given_birth is not None and given_birth != born:
        result.errors.append(
            _("the number gives the birth date %(implied)s, not %(given)s.")
            % {"implied": born.isoformat(), "given": given_birth.isoformat()}
        )
    given_sex = _sex_code(sex)
    if given_sex is not None and given_sex != result.sex:
        result.errors.append(
            _("the number belongs to a person of sex %(implied)s, not %(given)s.")
            % {
                "implied": codes.name_of("sex", result.sex),
                "given": codes.name_of("sex", given_sex),
            }
        )
    return result


def normalise_document_number(raw: object) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return normalise_id_number(raw)


def check_document(
    id_type: object,
    raw: object,
    *,
    birth_date: object = None,
    sex: object = None,
    today: date | None = None,
) -> IdCheck:
    """Check a document number by its type (身份证件类型, DOMAIN.md).

    Type 1 is the resident ID; 6, 7, 8, 9 and A carry 5-20 letters and digits (a Hong Kong
    or Macao identity card number ends with its check character in brackets: A123456(7));
    with Z the number may be blank.
    """
    type_code = codes.to_code("id_type", str(id_type or "").upper()) if id_type else None
    if type_code == RESIDENT_ID:
        return check_id_number(raw, birth_date=birth_date, sex=sex, today=today)
    if isinstance(raw, float) and looks_mangled_by_excel(raw):
        return IdCheck(value=normalise_document_number(raw), errors=[excel_fix_message()])
    text = normalise_document_number(raw)
    result = IdCheck(value=text)
    if type_code is None:
        result.errors.append(
            _("“%(value)s” is not a document type.") % {"value": str(id_type or "")}
        )
        return result
    if not text:
        if type_code != OTHER_DOCUMENT:
            result.errors.append(_("enter the document number."))
        return result
    letters_and_digits = len(re.sub(r"[()]", "", text))
    if not text.isascii() or not _DOCUMENT_SHAPE.match(text):
        result.errors.append(
            _(
                "a document number has only letters and digits, with a check character "
                "in brackets at the end."
            )
        )
    elif not 5 <= letters_and_digits <= 20:
        result.errors.append(
            _("a document number has 5 to 20 letters and digits, not %(count)d.")
            % {"count": letters_and_digits}
        )
    elif type_code in FOREIGN_DOCUMENTS and not any(ch.isdigit() for ch in text):
        result.errors.append(_("a document number has digits."))
    return result


def looks_like_resident_id(value: str) -> bool:
    """An 18-character number in the resident ID's shape (for a family member whose
    document type was left blank)."""
    return bool(_ID_SHAPE.match(normalise_id_number(value)))
