"""What a statistics page's tables share: the choices in its address (`Options`) and the
facts read once for the scope (`Context`), and the addresses its rows link to."""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlencode

from django.urls import reverse

from xueji.core import calendar
from xueji.core.models import SchoolYear
from xueji.core.scope import Scope
from xueji.orgs.models import Unit
from xueji.stats import queries, rules
from xueji.stats.rules import Place, Table


@dataclass(frozen=True)
class Options:
    """The choices a page offers: the semester of the per-school changes, the reporting
    round of the overview. Anything else in the address is ignored."""

    semester: int | None = None
    round: int | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> "Options":
        def number(name: str) -> int | None:
            value = str(params.get(name) or "").strip()
            return int(value) if value.isdigit() else None

        return cls(semester=number("semester"), round=number("round"))

    def query(self) -> str:
        chosen = {name: value for name, value in vars(self).items() if value is not None}
        return urlencode(chosen)

    def as_dict(self) -> dict[str, int]:
        return {name: value for name, value in vars(self).items() if value is not None}


class Context:
    """The facts a page's tables share, read once: the scope's schools, the calendar."""

    def __init__(self, scope: Scope, options: Options, today: datetime.date | None = None):
        self.scope = scope
        self.options = options
        self.today = today or calendar.today()

    @cached_property
    def year(self) -> SchoolYear | None:
        county = self.scope.county()
        return calendar.current_school_year(county, self.today) if county else None

    @cached_property
    def schools(self) -> list[Unit]:
        return list(queries.schools(self.scope))

    @cached_property
    def school_places(self) -> list[Place]:
        return [
            Place(school.pk, school.name, school.parent.name if school.parent else "")
            for school in self.schools
        ]

    @cached_property
    def spans(self) -> list[rules.Period]:
        return rules.periods(queries.semesters(self.scope, self.today))

    @cached_property
    def period(self) -> rules.Period | None:
        """The semester the per-school changes show: the chosen one, else the current."""
        chosen = [span for span in self.spans if span.pk == self.options.semester]
        if chosen:
            return chosen[0]
        return self.spans[-1] if self.spans else None

    @cached_property
    def rounds(self) -> list:
        return list(queries.past_rounds(self.scope, self.today))

    @cached_property
    def change_round(self):
        """The round the overview judges: the chosen past round, else the latest one."""
        chosen = [found for found in self.rounds if found.pk == self.options.round]
        if chosen:
            return chosen[0]
        return self.rounds[0] if self.rounds else None


def unit_link(unit_id: int) -> str:
    return reverse("unit_detail", args=[unit_id])


def student_link(student_id: int) -> str:
    return reverse("student_detail", args=[student_id])


def request_link(request_id: int | None) -> str:
    return reverse("request_detail", args=[request_id]) if request_id else ""


def linked_places(table: Table) -> Table:
    table.links = [{0: unit_link(int(ref["unit_id"] or 0))} for ref in table.refs]
    return table
