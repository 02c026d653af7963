"""Who may see what, and who may do what: the one module that decides scope.

Every list, detail page, API endpoint and export asks a `Scope` for its rows instead of
filtering on its own, so a forgotten filter cannot leak another unit's data. Later apps
extend it with their own querysets (students, requests) by adding methods here.

Seeing is decided by the user's unit: the bureau sees its county; a central school sees
itself and the rural primary schools of its township; a school sees itself. Doing is
decided by the role (`CAPABILITIES`).
"""

import functools
from functools import cached_property
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from xueji.core import reads
from xueji.orgs.models import Role, Stage, Unit, User

if TYPE_CHECKING:
    from xueji.students.models import Student

# What each role may do. A capability names an area and a verb; views, API operations and
# services all check the same names.
CAPABILITIES: dict[str, frozenset[str]] = {
    Role.BUREAU_REGISTRAR: frozenset(
        {
            "units.view",
            "users.view",
            "setup.manage",
            "audit.view",
            "overview.view",
            "jobs.run",
            "students.view",
            "students.edit",
            "students.reveal",
            "duplicates.decide",
            "changes.view",
            "changes.request",
            "changes.decide",
            "packages.export",
            "packages.import",
            "keys.manage",
            "rounds.manage",
            "stats.view",
        }
    ),
    Role.BUREAU_LEADER: frozenset(
        {
            "units.view",
            "users.view",
            "audit.view",
            "overview.view",
            "students.view",
            "changes.view",
            "stats.view",
        }
    ),
    Role.CENTRAL_REGISTRAR: frozenset(
        {
            "units.view",
            "users.view",
            "jobs.run",
            "students.view",
            "students.edit",
            "students.reveal",
            "changes.view",
            "changes.request",
            "packages.export",
            "stats.view",
        }
    ),
    Role.SCHOOL_REGISTRAR: frozenset(
        {
            "units.view",
            "users.view",
            "jobs.run",
            "students.view",
            "students.edit",
            "students.reveal",
            "changes.view",
            "changes.request",
            "packages.export",
            "stats.view",
        }
    ),
    Role.SCHOOL_LEADER: frozenset(
        {"units.view", "users.view", "students.view", "changes.view", "stats.view"}
    ),
}


@functools.cache
def _student_statement() -> str:
    """A student by id, every column; get_student adds the scope's condition."""
    from xueji.students.models import Student

    table = connection.ops.quote_name(Student._meta.db_table)
    return f"SELECT {reads.columns(Student, 's')} FROM {table} s WHERE s.id = %s"


def supervised_by_central_q(central: Unit) -> Q:
    """The rural primary schools a central school supervises (see orgs.rules.is_rural_primary)."""
    return Q(
        kind=Unit.Kind.SCHOOL,
        parent_id=central.parent_id,
        stage=Stage.PRIMARY,
        county_direct=False,
        is_central=False,
    )


class Scope:
    COUNTY = "county"
    TOWNSHIP = "township"
    SCHOOL = "school"
    NONE = "none"

    def __init__(self, user):
        self.user = user
        usable = getattr(user, "is_authenticated", False) and user.is_active
        self.unit: Unit | None = user.unit if usable and user.unit_id else None
        self.role: str = user.role if self.unit is not None else ""
        # A page asks whether it may show a unit several times (edit, return, photo): the
        # answer is kept for the scope's life, one request (scope_for).
        self._seen: dict[int, bool] = {}

    @cached_property
    def level(self) -> str:
        if self.unit is None or not self.unit.is_active and not self.unit.is_bureau:
            return self.NONE
        if self.unit.is_bureau:
            return self.COUNTY
        if self.unit.is_school and self.unit.is_central:
            return self.TOWNSHIP
        if self.unit.is_school:
            return self.SCHOOL
        return self.NONE

    # --- what they may do ---------------------------------------------------------------

    def may(self, capability: str) -> bool:
        if self.level == self.NONE:
            return False
        return capability in CAPABILITIES.get(self.role, frozenset())

    def require(self, capability: str, unit: Unit | None = None) -> None:
        """Raise PermissionDenied unless the user may do this, on this unit if one is named."""
        if not self.may(capability):
            raise PermissionDenied(_("Your role may not do this."))
        if unit is not None and not self.can_see(unit):
            raise PermissionDenied(_("This unit is outside your scope."))

    # --- what they may see -------------------------------------------------------------

    def units(self) -> QuerySet[Unit]:
        """Every unit this user may see, the bureau and townships included for the county."""
        unit = self.unit
        if unit is None or self.level == self.NONE:
            return Unit.objects.none()
        if self.level == self.COUNTY:
            return Unit.objects.filter(county_id=unit.county_id)
        if self.level == self.TOWNSHIP:
            return Unit.objects.filter(
                Q(pk=unit.pk) | Q(pk=unit.parent_id) | supervised_by_central_q(unit)
            )
        return Unit.objects.filter(pk=unit.pk)

    def schools(self) -> QuerySet[Unit]:
        return self.units().filter(kind=Unit.Kind.SCHOOL)

    def townships(self) -> QuerySet[Unit]:
        return self.units().filter(kind=Unit.Kind.TOWNSHIP)

    def can_see(self, unit: Unit) -> bool:
        own = self.unit
        if own is not None and unit.pk is not None:
            # The answer of units() for a county or a school, without asking the database
            # (a unit never changes county).
            if self.level == self.COUNTY:
                return unit.county_id == own.county_id
            if self.level == self.SCHOOL:
                return unit.pk == own.pk
            if self.level == self.TOWNSHIP and unit.pk in (own.pk, own.parent_id):
                return True  # units() always holds the user's unit and its parent
        seen = self._seen.get(unit.pk)
        if seen is None:
            seen = self._seen[unit.pk] = self.units().filter(pk=unit.pk).exists()
        return seen

    def get_unit(self, pk) -> Unit:
        """The unit with this id, or 404 when it does not exist or is outside the scope:
        the answer is the same either way, so ids cannot be probed."""
        unit = self.units().select_related("parent", "county").filter(pk=pk).first()
        if unit is None:
            raise Http404(_("No such unit in your scope."))
        return unit

    def users(self) -> QuerySet[User]:
        if not self.may("users.view"):
            return User.objects.none()
        return User.objects.filter(unit__in=self.units()).select_related("unit")

    def get_user(self, pk) -> User:
        user = self.users().filter(pk=pk).first()
        if user is None:
            raise Http404(_("No such user in your scope."))
        return user

    def audit_events(self):
        from xueji.audit.models import AuditEvent

        if not self.may("audit.view"):
            return AuditEvent.objects.none()
        return AuditEvent.objects.filter(unit__in=self.units()).select_related("actor", "unit")

    # --- students (issue 3) -------------------------------------------------------------

    def records(self):
        """Every stay at a school of the scope, present or past."""
        from xueji.students.models import StudentRecord

        if not self.may("students.view"):
            return StudentRecord.objects.none()
        if self.level == self.SCHOOL and self.unit is not None:
            # schools() holds the user's school alone: its id, not a subquery of the units
            # (the student page and most of a school's queries build and compile less).
            return StudentRecord.objects.filter(school_id=self.unit.pk)
        return StudentRecord.objects.filter(school__in=self.schools())

    def records_among(self, records: list) -> list:
        """Those of `records` (read with their schools) that records() holds, decided by
        can_see: no query for a county or a school (the student page's print buttons)."""
        if not self.may("students.view"):
            return []
        return [record for record in records if self.can_see(record.school)]

    def students(self):
        """The students with a record at a school of the scope; the bureau sees its county."""
        from xueji.students.models import Student

        if not self.may("students.view"):
            return Student.objects.none()
        # A correlated EXISTS, not `pk IN (every record of the scope)`: the database checks
        # the few students a query names (one by its id, a search's candidates) against
        # their own records, instead of first listing every student of the county.
        return Student.objects.filter(Exists(self.records().filter(student_id=OuterRef("pk"))))

    def get_student(self, pk) -> "Student":
        """The student with this id when students() holds them, else 404. The rule is
        students()': a record of the student among records(). The ORM compiles that
        subquery (a few columns); the student's own 72 items are selected by a list
        written once (core/reads.py): compiling them was most of the student page's
        first query (issue 9)."""
        from xueji.students.models import Student

        pk = reads.row_id(Student, pk)
        held = reads.ids_of(self.records().filter(student_id=pk)) if pk is not None else None
        if pk is None or held is None:  # not an id, or records() is none()
            raise Http404(_("No such student in your scope."))
        sql, params = held
        rows = reads.read(f"{_student_statement()} AND EXISTS ({sql})", [pk, *params], (Student,))
        if not rows:
            raise Http404(_("No such student in your scope."))
        return rows[0][0]

    def can_edit_school(self, school: Unit) -> bool:
        """A registrar edits the students of their own school; the bureau those of its
        county. Central schools review, they do not edit a rural school's records."""
        own = self.unit.pk if self.unit else None
        if not self.may("students.edit") or not (self.level == self.COUNTY or school.pk == own):
            return False
        # Asked last: for a central school, whether a unit is in the scope is a query.
        return self.can_see(school)

    # --- change requests (issue 4) ----------------------------------------------------------

    def requests(self):
        """Requests sent from or to a school of the scope."""
        from django.db.models import Q

        from xueji.changes.models import ChangeRequest

        if not self.may("changes.view"):
            return ChangeRequest.objects.none()
        schools = self.schools()
        return ChangeRequest.objects.filter(
            Q(from_school__in=schools) | Q(to_school__in=schools)
        ).select_related("student", "from_school", "to_school")

    def get_request(self, pk):
        found = self.requests().filter(pk=pk).first()
        if found is None:
            raise Http404(_("No such request in your scope."))
        return found

    # --- change packages and rounds (issue 6) ---------------------------------------------

    def packages(self):
        """Packages exported or imported for a unit of the scope."""
        from xueji.packages.models import Package

        if not self.may("changes.view"):
            return Package.objects.none()
        return Package.objects.filter(unit__in=self.units()).select_related("unit", "key")

    def signing_keys(self):
        from xueji.packages.models import SigningKey

        if not self.may("changes.view"):
            return SigningKey.objects.none()
        return SigningKey.objects.filter(unit__in=self.units()).select_related("unit")

    def rounds(self):
        """The county's reporting rounds: every unit of the county sees every round."""
        from xueji.packages.models import ChangeRound

        if not self.may("changes.view") or self.unit is None:
            return ChangeRound.objects.none()
        return ChangeRound.objects.filter(county_id=self.unit.county_id)

    def jobs(self):
        from xueji.core.models import Job

        if self.level == self.NONE:
            return Job.objects.none()
        return Job.objects.filter(created_by=self.user)

    def county(self):
        return self.unit.county if self.unit is not None else None


def scope_for(user) -> Scope:
    """The user's scope, built once per request and kept on the user object."""
    cached = getattr(user, "_xueji_scope", None)
    if cached is None:
        cached = Scope(user)
        try:
            user._xueji_scope = cached
        except AttributeError:  # AnonymousUser allows it too, but be safe
            pass
    return cached
