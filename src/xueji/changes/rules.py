"""The change rules in one place (C1-C5, N6, DOMAIN.md), as pure functions.

The numbers and the documents each kind and reason requires are configuration
(changes/data/rules.json): a county whose province sets another window or cap edits the
file, not the code. Every refusal is a sentence naming the field and the reason.
"""

import datetime
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.utils.translation import gettext as _

from xueji.changes.models import Kind

RULES_FILE = Path(__file__).parent / "data" / "rules.json"
TRANSFER_KINDS = (Kind.TRANSFER, Kind.TRANSFER_IN, Kind.TRANSFER_OUT)


@cache
def config() -> dict:
    return json.loads(RULES_FILE.read_text(encoding="utf-8"))


def document_name(code: str) -> str:
    return config()["documents"].get(code, code)


def reasons(kind: str) -> dict[str, dict]:
    return config()["kinds"].get(kind, {}).get("reasons", {})


def required_documents(kind: str, reason: str) -> list[str]:
    """C2: the documents a request of this kind and reason must carry."""
    return list(reasons(kind).get(reason, {}).get("documents", []))


def reason_problem(kind: str, reason: str, note: str) -> tuple[str, str] | None:
    """(field, message) when the reason does not fit the kind."""
    spec = reasons(kind).get(reason)
    if spec is None:
        if kind == Kind.CORRECTION:
            # N6: a name change without one of the listed reasons is refused.
            return "reason", _(
                "Reason: choose one of the listed reasons (parents' divorce, fostering, "
                "adoption, or another reason with an explanation)."
            )
        return "reason", _("Reason: choose one of the listed reasons.")
    if spec.get("needs_note") and not note.strip():
        return "reason_note", _("Explanation: say why the name changes.")
    return None


def is_rename(kind: str, reason: str) -> bool:
    return bool(kind == Kind.CORRECTION and reasons(kind).get(reason, {}).get("rename"))


def _month_day(text: str) -> tuple[int, int]:
    month, day = text.split("-")
    return int(month), int(day)


def transfer_window_problem(day: datetime.date) -> str | None:
    """No new transfers from 15 July to 14 August (DOMAIN.md, configurable)."""
    numbers = config()["numbers"]
    start = datetime.date(day.year, *_month_day(numbers["transfer_closed_from"]))
    end = datetime.date(day.year, *_month_day(numbers["transfer_closed_to"]))
    if start <= day <= end:
        return _("Date: no new transfers are accepted from %(start)s to %(end)s.") % {
            "start": start.strftime("%m-%d"),
            "end": end.strftime("%m-%d"),
        }
    return None


@dataclass(frozen=True)
class SchoolFacts:
    pk: int
    name: str
    township_id: int | None
    county_id: int


def same_district_problem(sending: SchoolFacts, receiving: SchoolFacts) -> str | None:
    """C5: no transfer between two schools of one township (school district)."""
    if sending.pk == receiving.pk:
        return _("Receiving school: the student already attends %(school)s.") % {
            "school": receiving.name
        }
    if sending.county_id != receiving.county_id:
        return _(
            "Receiving school: choose a school of this county, "
            "or make it a transfer out of the county."
        )
    if sending.township_id == receiving.township_id:
        return _(
            "Receiving school: %(from)s and %(to)s lie in one school district; compulsory-stage "
            "students do not transfer within their district (C5)."
        ) % {"from": sending.name, "to": receiving.name}
    return None


def graduating_semester_problem(grade: int, school_stage: str, is_spring: bool) -> str | None:
    """No suspension in the graduating year's last semester (grade 6 of a primary school,
    grade 9 of a junior or nine-year school, in spring)."""
    last_grade = 6 if school_stage == "primary" else 9
    if grade == last_grade and is_spring:
        return _(
            "Suspension: a student in the last semester of the graduating year cannot be suspended."
        )
    return None


def suspension_end(start: datetime.date) -> datetime.date:
    """Suspension lasts one year (configurable in months)."""
    months = config()["numbers"]["suspension_months"]
    year = start.year + (start.month - 1 + months) // 12
    month = (start.month - 1 + months) % 12 + 1
    day = min(start.day, 28 if month == 2 else 30 if month in (4, 6, 9, 11) else 31)
    return datetime.date(year, month, day)


def class_cap(stage: str) -> int:
    numbers = config()["numbers"]
    return numbers["class_cap_primary"] if stage == "primary" else numbers["class_cap_junior"]


def class_cap_warning(count_after: int, stage: str, class_name: str) -> str | None:
    """A receiving class over its cap (45 primary, 50 junior) warns; it does not refuse."""
    cap = class_cap(stage)
    if count_after > cap:
        return _("Class %(class)s will have %(count)d students, over the cap of %(cap)d.") % {
            "class": class_name,
            "count": count_after,
            "cap": cap,
        }
    return None


def evidence_max_bytes() -> int:
    return int(config()["numbers"]["evidence_max_mb"] * 1024 * 1024)
