"""Records in the national system's import layout (P1, B2), so the county can feed the
provincial and national platforms.

The layout is our own import template (excel.write_template): the national
first-collection form's columns with their Chinese headers, coded items by the names its
drop-down lists offer (which our importer, like the national one, also reads), yes/no as
是/否, dates as YYYY-MM-DD, every value a text cell. The national system imports one
school at a time (the school is the account that uploads, never a column), so a
selection of one school gives one workbook and a selection of several gives a zip with
one workbook per school, named by school code.

The file carries full ID numbers and addresses (the national system needs them), so it
takes the `students.reveal` capability, like a full roster export, and writes one audit
event naming every student it contained. What it writes imports back through
services.import_students without a single error: tests/exchange/test_national_export.py
proves the round trip.
"""

import io
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from xueji.audit.services import record_event
from xueji.core import calendar
from xueji.core.errors import RuleViolation
from xueji.core.jobs import do_enqueue_job
from xueji.core.models import Job
from xueji.core.scope import Scope, scope_for
from xueji.exchange import excel, services
from xueji.orgs.models import Unit
from xueji.students.models import OPEN_STATUSES, Status, StudentRecord

Progress = Callable[[int, int], None]
JOB_KIND = "students.national_export"
# The file holds full ID numbers and addresses: the same right as a full roster export.
CAPABILITY = "students.reveal"
# Registrars send the national system the students at school; the other choices are for
# a county that reports leavers too.
DEFAULT_STATUS = Status.ENROLLED.value
STATUS_CHOICES = ("open", "all", *Status.values)
ZIP_CONTENT_TYPE = "application/zip"
PROGRESS_EVERY = 200


@dataclass(frozen=True)
class NationalSelection:
    """Which records go into the file: schools of the scope (none named: all of them),
    one grade of the current school year or all, and a status ("enrolled" by default,
    "open", "all", or any status)."""

    schools: tuple[int, ...] = ()
    grade: int | None = None
    status: str = DEFAULT_STATUS

    @classmethod
    def from_params(cls, params: Mapping) -> "NationalSelection":
        """From a query string or a job's parameters; a value that cannot be meant is a
        refusal naming the field, not a silent default."""
        if hasattr(params, "getlist"):
            raw_schools = params.getlist("school")
        else:
            raw_schools = params.get("school") or params.get("schools") or []
            if not isinstance(raw_schools, list | tuple):
                raw_schools = [raw_schools]
        schools = []
        for value in raw_schools:
            text = str(value).strip()
            if not text:
                continue
            if not text.isdigit():
                raise RuleViolation(
                    _("School: %(value)s is not a school.") % {"value": text}, field="school"
                )
            schools.append(int(text))
        grade_text = str(params.get("grade") or "").strip()
        grade = None
        if grade_text:
            if not grade_text.isdigit() or not 1 <= int(grade_text) <= 9:
                raise RuleViolation(_("Grade: choose a grade from 1 to 9."), field="grade")
            grade = int(grade_text)
        status = str(params.get("status") or DEFAULT_STATUS).strip()
        if status not in STATUS_CHOICES:
            raise RuleViolation(
                _("Status: choose one of %(choices)s.") % {"choices": ", ".join(STATUS_CHOICES)},
                field="status",
            )
        return cls(schools=tuple(sorted(set(schools))), grade=grade, status=status)

    def as_params(self) -> dict:
        return {"school": list(self.schools), "grade": self.grade or "", "status": self.status}


@dataclass
class NationalExport:
    content: bytes
    filename: str
    content_type: str
    count: int  # records
    schools: list[int] = field(default_factory=list)


def _checked_scope(actor) -> Scope:
    scope = scope_for(actor)
    scope.require("students.view")
    if not scope.may(CAPABILITY):
        raise PermissionDenied(
            _(
                "The national-format file holds full ID numbers and addresses; "
                "your role may not reveal them."
            )
        )
    return scope


def _schools(scope: Scope, selection: NationalSelection) -> QuerySet[Unit]:
    """The selected schools, each of them in scope: an id outside it is refused like one
    that does not exist (Scope.get_unit answers 404 for both)."""
    schools = scope.schools()
    for pk in selection.schools:
        unit = scope.get_unit(pk)
        if not unit.is_school:
            raise RuleViolation(
                _("School: %(unit)s is not a school.") % {"unit": unit.name}, field="school"
            )
    if selection.schools:
        schools = schools.filter(pk__in=selection.schools)
    return schools


def selected_records(scope: Scope, selection: NationalSelection) -> QuerySet[StudentRecord]:
    records = scope.records().filter(school__in=_schools(scope, selection))
    if selection.status == "open":
        records = records.filter(status__in=OPEN_STATUSES)
    elif selection.status != "all":
        records = records.filter(status=selection.status)
    if selection.grade is not None:
        year = calendar.current_school_year(scope.unit.county) if scope.unit else None
        records = records.filter(
            Q(placements__school_year=year) & Q(placements__grade=selection.grade)
        )
    # One workbook per school, in school-code order; students in pinyin order within it.
    return records.select_related("student", "school").order_by(
        "school__school_code", "school_id", "student__pinyin_key", "pk"
    )


def school_count(selection: NationalSelection, *, actor) -> int:
    """How many schools the export will hold: one makes a workbook, more a zip."""
    records = selected_records(_checked_scope(actor), selection)
    return records.order_by().values("school_id").distinct().count()


def _by_school(
    records, students: list[int], progress: Progress, total: int
) -> Iterator[tuple[Unit, list[list[str]]]]:
    """(school, its rows) in turn, holding one school's rows at a time; the students
    written are collected in `students` for the audit event."""
    school: Unit | None = None
    rows: list[list[str]] = []
    for record in records.iterator(chunk_size=2000):
        if school is not None and record.school_id != school.pk:
            yield school, rows
            rows = []
        school = record.school
        rows.append(services.form_values(record, full=True))
        students.append(record.student_id)
        if len(students) % PROGRESS_EVERY == 0:
            progress(len(students), total)
    if school is not None:
        yield school, rows


def workbook_name(school: Unit) -> str:
    """A member name people recognise and that sorts by school code."""
    name = "".join(ch for ch in school.name if ch not in '\\/:*?"<>|')
    return f"{school.school_code or school.pk}-{name}.xlsx"


def export_national(
    selection: NationalSelection, *, actor, progress: Progress | None = None
) -> NationalExport:
    """The selected records as the national import file (one workbook, or a zip of one
    per school), and the audit event naming every student it contained."""
    scope = _checked_scope(actor)
    progress = progress or (lambda done, total: None)
    records = selected_records(scope, selection)
    total = records.count()
    if total == 0:
        raise RuleViolation(
            _("No student matches the selection: check the schools, the grade and the status."),
            field="school",
        )
    progress(0, total)
    records = services.with_form_data(records, scope)
    workbooks: list[tuple[Unit, bytes]] = []
    students: list[int] = []
    for school, rows in _by_school(records, students, progress, total):
        workbooks.append((school, excel.write_filled_template(rows)))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if len(workbooks) == 1:
        school, content = workbooks[0]
        filename = f"national-{school.school_code or school.pk}-{stamp}.xlsx"
        content_type = services.EXPORT_FORMATS["xlsx"]
    else:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for school, book in workbooks:
                archive.writestr(workbook_name(school), book)
        content = buffer.getvalue()
        filename, content_type = f"national-{stamp}.zip", ZIP_CONTENT_TYPE
    school_ids = [school.pk for school, _book in workbooks]
    with transaction.atomic():
        record_event(
            "students.national_exported",
            actor=actor,
            data={
                "students": sorted(set(students)),
                "records": len(students),
                "schools": school_ids,
                "selection": asdict(selection),
            },
        )
    progress(total, total)
    return NationalExport(content, filename, content_type, len(students), school_ids)


def do_export_national(selection: NationalSelection, *, actor) -> NationalExport | Job:
    """A small export answers at once; a large one runs as a background job whose result
    file is the export (the same threshold as the roster)."""
    scope = _checked_scope(actor)
    count = selected_records(scope, selection).count()
    if count > services.EXPORT_JOB_THRESHOLD:
        return do_enqueue_job(JOB_KIND, selection.as_params(), actor=actor)
    return export_national(selection, actor=actor)


def run_national_job(job: Job, progress: Progress) -> str:
    try:
        exported = export_national(
            NationalSelection.from_params(job.params), actor=job.created_by, progress=progress
        )
    except PermissionDenied as error:
        raise RuleViolation(str(error)) from error
    services._attach_result(job, exported.filename, exported.content)
    return _("Exported %(count)d records of %(schools)d schools in the national layout.") % {
        "count": exported.count,
        "schools": len(exported.schools),
    }
