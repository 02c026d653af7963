"""Pure intake rules: entry age (N1), catchment, what each state allows."""

import datetime

from django.utils.translation import gettext as _


def age_on(birth: datetime.date, day: datetime.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def age_problem(birth: datetime.date, cutoff: datetime.date, entry_age: int) -> str | None:
    """N1: a pupil must have reached the entry age on the cut-off date (6 on 31 August)."""
    age = age_on(birth, cutoff)
    if age < entry_age:
        return _("Entry age: %(age)d years old on %(cutoff)s; the entry age is %(entry_age)d.") % {
            "age": age,
            "cutoff": cutoff.isoformat(),
            "entry_age": entry_age,
        }
    return None


def in_catchment(code: str, catchment: list[str]) -> bool:
    """A 12-digit household-registration code lies in a catchment given as village (12),
    township (9) or county (6) codes; trailing zeros of a catchment code are a wildcard."""
    code = (code or "").strip()
    for area in catchment:
        prefix = area.strip().rstrip("0") or area.strip()
        if len(prefix) < 6:
            prefix = area.strip()[:6]
        if code.startswith(prefix):
            return True
    return False


def catchment_problem(hukou_code: str, catchment: list[str]) -> str | None:
    """N1: household registration inside the school's catchment (when the bureau has set
    one; a school without a catchment list accepts every pupil)."""
    if catchment and not in_catchment(hukou_code, catchment):
        return _(
            "Catchment: the household registration (%(code)s) lies outside the school's catchment."
        ) % {"code": hukou_code}
    return None


def eligibility_problems(
    birth: datetime.date,
    hukou_code: str,
    *,
    cutoff: datetime.date,
    entry_age: int,
    catchment: list[str],
) -> list[str]:
    found = [age_problem(birth, cutoff, entry_age), catchment_problem(hukou_code, catchment)]
    return [problem for problem in found if problem]
