"""Student numbers (DOMAIN.md): the provincial number from the county's template and the
national lifelong number (G from the ID number, L temporary, J without a usable ID).

The pure part renders and checks numbers; `next_sequence` is the one place that hands
out sequences, and it never gives one out twice, even to parallel connections.
"""

import datetime
import random
import re
import string
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from xueji.core.errors import RuleViolation
from xueji.students.identity import check_character
from xueji.students.models import NumberSequence

SEQ_FIELD = re.compile(r"\{seq(?::0?(\d+)d)?\}")


@dataclass(frozen=True)
class NumberFacts:
    """What the provincial number template may use."""

    entry_year: int
    county_code: str  # the county's 6-digit division code
    township_ordinal: int | None
    school_ordinal: int | None
    school_in_county: int | None


def template_parts(template: str) -> tuple[str, int]:
    """The template before {seq}, and the width of the sequence."""
    match = SEQ_FIELD.search(template)
    if match is None or template[match.end() :]:
        raise RuleViolation(_("The number template must end with the sequence {seq:04d}."))
    return template[: match.start()], int(match.group(1) or 4)


def number_prefix(template: str, facts: NumberFacts) -> str:
    """Render the template up to the sequence: the prefix a sequence counts under."""
    head, _width = template_parts(template)
    needs = {name for _text, name, _spec, _conv in string.Formatter().parse(head) if name}
    values = {
        "year": facts.entry_year % 100,
        "county": facts.county_code[-2:],
        "township": facts.township_ordinal,
        "school": facts.school_ordinal,
        "school_in_county": facts.school_in_county,
    }
    missing = [name for name in needs if values.get(name) is None]
    if missing:
        labels = {
            "township": _("the township's number ordinal"),
            "school": _("the school's number ordinal"),
            "school_in_county": _("the school's junior number ordinal in the county"),
        }
        raise RuleViolation(
            _("The provincial number cannot be made: %(what)s is not set. Ask the bureau.")
            % {"what": "、".join(str(labels.get(name, name)) for name in sorted(missing))}
        )
    return head.format(**values)


def render_number(prefix: str, sequence: int, width: int) -> str:
    if sequence >= 10**width:
        raise RuleViolation(
            _("The sequence under %(prefix)s is used up (%(max)d numbers).")
            % {"prefix": prefix, "max": 10**width - 1}
        )
    return f"{prefix}{sequence:0{width}d}"


def next_sequence(prefix: str) -> int:
    """Take the next sequence under a prefix, in the caller's transaction."""
    return next_sequences(prefix, 1)[0]


def next_sequences(prefix: str, count: int) -> range:
    """Take `count` consecutive sequences under a prefix at once, in the caller's
    transaction (an approval session numbers hundreds of transfers into one school).

    The row is created if missing (ON CONFLICT DO NOTHING, so two first users do not
    collide) and then locked: a parallel transaction waits here until this one commits,
    and then reads the number after our whole block. A caller taking blocks under several
    prefixes takes them in sorted order, so two such callers cannot deadlock.
    """
    if count < 1:
        return range(0)
    with transaction.atomic():
        NumberSequence.objects.bulk_create([NumberSequence(prefix=prefix)], ignore_conflicts=True)
        row = NumberSequence.objects.select_for_update().get(prefix=prefix)
        first = row.last + 1
        row.last += count
        NumberSequence.objects.filter(pk=row.pk).update(last=row.last)
    return range(first, row.last + 1)


# --- National numbers ----------------------------------------------------------------------


def g_number(id_number: str) -> str:
    return "G" + id_number


def l_number(division6: str, birth_date: datetime.date, rng: random.Random | None = None) -> str:
    digits = (rng or random.SystemRandom()).randrange(10000)
    return f"L{division6}{birth_date:%Y%m%d}{digits:04d}"


def j_number(division6: str, birth_date: datetime.date, sequence: int) -> str:
    if sequence > 999:
        raise RuleViolation(_("No J number is left for this place and birth date."))
    body = f"{division6}{birth_date:%Y%m%d}{sequence:03d}"
    return "J" + body + check_character(body)


SAMPLE_FACTS = NumberFacts(
    entry_year=2026, county_code="370828", township_ordinal=6, school_ordinal=4, school_in_county=3
)


def template_problem(template: str) -> str | None:
    """Why a provincial number template cannot be used, or None. It must end with the
    sequence, use only the known fields and give 8 to 20 digits (the student number field
    holds 20; every known provincial layout has 11 to 13)."""
    try:
        prefix = number_prefix(template, SAMPLE_FACTS)
        _head, width = template_parts(template)
        sample = render_number(prefix, 1, width)
    except RuleViolation as error:
        return error.message
    except (KeyError, ValueError, IndexError):
        return _("The template uses an unknown field or format.")
    if not sample.isdigit():
        return _("The template must give digits only; it gives %(sample)s.") % {"sample": sample}
    if not 8 <= len(sample) <= 20:
        return _("The template gives %(length)d digits (%(sample)s); use 8 to 20.") % {
            "length": len(sample),
            "sample": sample,
        }
    return None


def sample_number(template: str) -> str:
    """What the first number under a template looks like, for the settings page."""
    _head, width = template_parts(template)
    return render_number(number_prefix(template, SAMPLE_FACTS), 1, width)


NATIONAL_NUMBER = re.compile(r"^(G\d{17}[\dX]|L\d{18}|J\d{17}[\dX])$")


def national_number_problem(value: str) -> str | None:
    """Why a national number is malformed ("LG..." is invalid, DOMAIN.md)."""
    if not NATIONAL_NUMBER.match(value):
        return _("A national number is G, L or J followed by 18 characters.")
    if value[0] == "J" and check_character(value[1:18]) != value[18]:
        return _("The check character of this J number is wrong.")
    return None
