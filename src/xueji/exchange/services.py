"""Student import and roster export (issue 3, B2).

An import streams the file through in rounds: each round of rows is validated
(students/validation.py, the same checks as the form and the API), checked by the
registry and written (students/bulk.py), all inside one transaction, so a file of
100,000 rows is never held in memory whole. All rows or none (one refused row anywhere
rolls the transaction back), unless the registrar asked for the valid rows only. What
was wrong comes back as the uploaded rows with an error column.

An export reads exactly the rows of the student list (students/queries.py), masks ID
numbers and addresses unless full data was asked for and allowed, and writes one audit
event naming every student it contained.
"""

import io
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from xueji.audit.services import record_event
from xueji.core import calendar
from xueji.core.errors import RuleViolation
from xueji.core.jobs import do_enqueue_job
from xueji.core.models import Job, SchoolYear
from xueji.core.scope import Scope, scope_for
from xueji.exchange import excel
from xueji.exchange.readahead import validated_rows
from xueji.orgs.models import Unit
from xueji.students import codes, form_items
from xueji.students.bulk import RepeatedInFile
from xueji.students.form_items import SHEET_ITEMS, Item
from xueji.students.models import FamilyMember, Placement, StudentRecord
from xueji.students.queries import StudentFilter, filtered_records
from xueji.students.rules import mask_address, mask_id_number
from xueji.students.services import registered_meanwhile
from xueji.students.validation import StudentValidator

Progress = Callable[[int, int], None]
# How often (in rows) a running import reports its progress.
PROGRESS_EVERY = 500
# Larger exports run as a background job; smaller ones answer at once.
EXPORT_JOB_THRESHOLD = 5000
EXPORT_FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
TEMPLATE_CONTENT_TYPE = EXPORT_FORMATS["xlsx"]
TEMPLATE_FILENAME = "student-template.xlsx"


def _no_progress(done: int, total: int) -> None:
    return None


def editable_schools(scope: Scope):
    """The schools whose students this user may import: their own school, or for the
    bureau every open school of the county (the same rule as Scope.can_edit_school)."""
    if not scope.may("students.edit") or scope.unit is None:
        return Unit.objects.none()
    schools = scope.schools().filter(is_active=True)
    if scope.level == Scope.COUNTY:
        return schools.order_by("parent__ordinal", "ordinal", "name")
    return schools.filter(pk=scope.unit.pk)


def _require_import(actor, school: Unit) -> None:
    if not scope_for(actor).can_edit_school(school):
        raise PermissionDenied(
            _("You may not change the students of %(school)s.") % {"school": school.name}
        )


def school_year_for(school: Unit) -> SchoolYear:
    year = calendar.current_school_year(school.county)
    if year is None:
        raise RuleViolation(
            _("No school year is open: the bureau opens one in the school calendar first."),
            field="school",
        )
    return year


# ---------------------------------------------------------------------------------------
# Import


@dataclass
class ImportReport:
    read: int = 0
    imported: int = 0
    refused: int = 0  # rows with at least one error
    held: int = 0  # rows registered but held for the bureau as possible duplicates
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (row, key, message)
    warnings: list[tuple[int, str, str]] = field(default_factory=list)
    error_workbook: bytes | None = None
    dry_run: bool = False
    would_import: int = 0  # in a dry run: the rows a real import would write
    students: list[int] = field(default_factory=list)

    @property
    def summary(self) -> str:
        if self.dry_run:
            text = _(
                "Dry run: read %(read)d, would import %(would)d, refused %(refused)d, "
                "held for the bureau %(held)d. Nothing was written."
            ) % {
                "read": self.read,
                "would": self.would_import,
                "refused": self.refused,
                "held": self.held,
            }
        else:
            text = _(
                "Read %(read)d, imported %(imported)d, refused %(refused)d, "
                "held for the bureau %(held)d."
            ) % {
                "read": self.read,
                "imported": self.imported,
                "refused": self.refused,
                "held": self.held,
            }
        if self.refused and not self.imported and not self.dry_run:
            text += " " + _(
                "Nothing was written: correct the rows in the error file and upload it again."
            )
        return text


@dataclass
class _RowProblems:
    errors: list[tuple[str, str]] = field(default_factory=list)  # (key, message)
    warnings: list[tuple[str, str]] = field(default_factory=list)


class _DryRunRollback(Exception):
    pass


def import_students(
    file_bytes: bytes,
    filename: str,
    *,
    actor,
    school: Unit,
    school_year: SchoolYear,
    dry_run: bool = False,
    valid_only: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Validate every row of the upload and register the students (all or none, or the
    valid ones with `valid_only`). A dry run goes as far as the registration and rolls it
    back, so it also finds the rows the registry itself would refuse (a second record).

    The file streams through in rounds of students/bulk.py's CHUNK rows: each round is
    validated, checked and written inside the one transaction, so no list of 100,000
    rows is ever held. Refused rows roll the whole transaction back (unless `valid_only`).
    """
    _require_import(actor, school)
    progress = progress or _no_progress
    sheet = excel.read_sheet(file_bytes)
    run = _ImportRun(sheet, actor, school, school_year, dry_run, valid_only, progress)
    try:
        report, problems = run.go()
    except RepeatedInFile as repeated:
        # Rare: with valid_only, a late row repeats a key of a row already written. Start
        # again knowing the repeated keys, so that no row holding them is written.
        run = _ImportRun(sheet, actor, school, school_year, dry_run, valid_only, progress)
        report, problems = run.go(repeated)

    for number in sorted(problems):
        found = problems[number]
        report.errors += [(number, key, message) for key, message in found.errors]
        report.warnings += [(number, key, message) for key, message in found.warnings]
    report.refused = sum(1 for found in problems.values() if found.errors)
    if report.imported:
        # Rows with warnings only were written: the file to correct and upload again
        # must not carry them (they would come back as second registrations).
        problems = {number: found for number, found in problems.items() if found.errors}
    if problems:
        # Nothing written (all-or-nothing, or a dry run): the workbook carries every row,
        # so the registrar corrects the marked cells and uploads the whole file again.
        report.error_workbook = _error_workbook(sheet, problems, every_row=not report.imported)
    progress(run.total, run.total)
    return report


class _ImportRun:
    """One pass over the file: validate a round of rows, hand the clean ones to the
    registration, and so on to the end, inside one transaction."""

    def __init__(self, sheet, actor, school, school_year, dry_run, valid_only, progress):
        self.sheet = sheet
        self.actor = actor
        self.school = school
        self.school_year = school_year
        self.dry_run = dry_run
        self.valid_only = valid_only
        self.progress = progress
        # Every row is read, validated and (in the same round) written: one unit of work.
        self.total = sheet.total + 1

    def go(self, repeated: RepeatedInFile | None = None) -> tuple[ImportReport, dict]:
        from xueji.students.bulk import CHUNK, BulkRegistration

        report = ImportReport(dry_run=self.dry_run)
        problems: dict[int, _RowProblems] = {}
        self.progress(0, self.total)
        validator = StudentValidator(today=calendar.today())
        # Without valid_only, the first invalid row means nothing will be written: the
        # rest is only validated, as the registry's checks would not be reported anyway.
        registering = True
        batch: BulkRegistration | None = None
        rows: list[dict[str, Any]] = []
        numbers: list[int] = []

        def register(rows: list[dict[str, Any]], numbers: list[int]) -> None:
            nonlocal batch
            if batch is None:
                # Made at the first clean round: the school's own checks (open, editable)
                # refuse the batch as a whole, as register_many does.
                batch = BulkRegistration(
                    actor=self.actor,
                    school=self.school,
                    school_year=self.school_year,
                    skip_invalid=self.valid_only,
                    repeated_ids=repeated.ids if repeated else None,
                    repeated_numbers=repeated.numbers if repeated else None,
                )
            batch.add(rows, numbers)

        try:
            # Closed however the loop ends: a second process reading ahead stops at once,
            # not when the exception that ended the loop is forgotten.
            with transaction.atomic(), closing(validated_rows(self.sheet, validator)) as checked:
                for count, (number, values, errors, warnings) in enumerate(checked, 1):
                    if errors or warnings:
                        found = problems.setdefault(number, _RowProblems())
                        found.errors += errors
                        found.warnings += warnings
                    if errors and not self.valid_only:
                        registering = False
                        rows, numbers = [], []
                    elif not errors and registering:
                        rows.append(values)
                        numbers.append(number)
                        if len(rows) >= CHUNK:
                            register(rows, numbers)
                            rows, numbers = [], []
                    if count % PROGRESS_EVERY == 0:
                        self.progress(count, self.total)
                    report.read = count
                if registering and rows:
                    register(rows, numbers)
                result = batch.finish() if registering and batch is not None else None
                if result is not None:
                    self._merge(report, problems, result)
                if self.dry_run or result is None or (not self.valid_only and not result.ok):
                    raise _DryRunRollback
        except _DryRunRollback:
            pass
        except IntegrityError as error:
            # A parallel registration of a person in this file won the race: the
            # constraints held, and nothing of this file was written.
            raise registered_meanwhile() from error
        if report.dry_run:
            report.imported, report.students = 0, []
        return report, problems

    def _merge(self, report: ImportReport, problems: dict[int, _RowProblems], result) -> None:
        if report.dry_run:
            report.would_import = result.created
        else:
            report.imported = result.created
            report.students = list(result.students)
        for refusal in result.refused:
            found = problems.setdefault(refusal.row_number, _RowProblems())
            found.errors.append((refusal.field, refusal.message))
        report.held = len({number for number, _existing in result.held})
        for number, existing in result.held:
            found = problems.setdefault(number, _RowProblems())
            found.warnings.append(
                (
                    "name",
                    _(
                        "held for the bureau's decision: this may be the student #%(id)s "
                        "already registered."
                    )
                    % {"id": existing},
                )
            )


def _error_workbook(
    sheet: excel.Sheet, problems: dict[int, _RowProblems], *, every_row: bool
) -> bytes:
    """A second pass over the file picks the rows (with problems only, or all of them),
    so the first pass never had to keep 100,000 rows of cells in memory."""

    def rows() -> Iterator[excel.ErrorRow]:
        for number, cells in sheet.rows():
            found = problems.get(number)
            if found is None and not every_row:
                continue
            found = found or _RowProblems()
            messages = [message for _key, message in found.errors + found.warnings]
            yield excel.ErrorRow(
                cells=cells,
                message="；".join(dict.fromkeys(messages)),
                bad={sheet.columns[key] for key, _m in found.errors if key in sheet.columns},
                warned={sheet.columns[key] for key, _m in found.warnings if key in sheet.columns},
            )

    return excel.write_error_workbook(sheet.headers, sheet.columns, rows())


def do_start_import(
    file_bytes: bytes,
    filename: str,
    *,
    actor,
    school: Unit,
    dry_run: bool = False,
    valid_only: bool = False,
) -> Job:
    """Check what can be checked at once (who, which school, is it a spreadsheet), keep
    the upload, and queue the import as a background job."""
    _require_import(actor, school)
    school_year_for(school)
    kind = excel.check_upload(file_bytes)
    path = default_storage.save(
        f"uploads/imports/{uuid.uuid4().hex}.{kind}", ContentFile(file_bytes)
    )
    params = {
        "path": path,
        "filename": filename[:200],
        "school": school.pk,
        "dry_run": bool(dry_run),
        "valid_only": bool(valid_only),
    }
    try:
        return do_enqueue_job("students.import", params, actor=actor)
    except Exception:
        default_storage.delete(path)
        raise


def run_import_job(job: Job, progress: Progress) -> str:
    """The body of the students.import job: the upload is removed afterwards, whatever
    happened; the error workbook (if any) becomes the job's result file."""
    params = job.params
    path = params["path"]
    try:
        school = Unit.objects.get(pk=params["school"])
        with default_storage.open(path, "rb") as upload:
            data = upload.read()
        report = import_students(
            data,
            params.get("filename", ""),
            actor=job.created_by,
            school=school,
            school_year=school_year_for(school),
            dry_run=params.get("dry_run", False),
            valid_only=params.get("valid_only", False),
            progress=progress,
        )
    except PermissionDenied as error:
        raise RuleViolation(str(error)) from error
    finally:
        default_storage.delete(path)
    if report.error_workbook:
        _attach_result(job, f"import-errors-{job.pk}.xlsx", report.error_workbook)
    return report.summary


def _attach_result(job: Job, name: str, content: bytes) -> None:
    job.result_file.save(name, ContentFile(content), save=False)
    # Only the file column: the status and progress are the worker's to write.
    Job.objects.filter(pk=job.pk).update(result_file=job.result_file.name)


@cache
def template_bytes() -> bytes:
    """The template depends only on the form's items and the code tables, both fixed
    while the process runs; writing it takes a few seconds, so it is written once."""
    buffer = io.BytesIO()
    excel.write_template(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------
# Export

# Beyond the national columns: which school holds the record, and its status.
ROSTER_EXTRA_HEADERS = ("学校名称", "学校标识码", "学籍状态")
MASKED_IDS = {"id_number", "family1.id_number", "family2.id_number"}
MASKED_ADDRESSES = {
    "current_address",
    "mailing_address",
    "home_address",
    "family1.current_address",
    "family1.hukou_address",
    "family2.current_address",
    "family2.hukou_address",
}


@dataclass
class ExportFile:
    content: bytes
    filename: str
    content_type: str
    count: int


def _export_checks(actor, fmt: str, full: bool) -> Scope:
    scope = scope_for(actor)
    scope.require("students.view")
    if fmt not in EXPORT_FORMATS:
        raise RuleViolation(_("Format: choose xlsx or csv."), field="format")
    if full and not scope.may("students.reveal"):
        raise PermissionDenied(_("Your role may not reveal ID numbers or addresses."))
    return scope


def with_form_data(records, scope: Scope):
    """Records with what `form_values` reads: this school year's placement and the
    family members, fetched in a few queries for the whole export."""
    year = calendar.current_school_year(scope.unit.county) if scope.unit else None
    return records.prefetch_related(
        Prefetch(
            "placements",
            queryset=Placement.objects.filter(school_year=year),
            to_attr="current_placements",
        ),
        Prefetch(
            "student__family",
            queryset=FamilyMember.objects.order_by("position"),
            to_attr="family_members",
        ),
    )


def _records(scope: Scope, wanted: StudentFilter):
    return with_form_data(filtered_records(scope, wanted), scope)


def _display(item: Item, value: Any) -> str:
    if value is None or value == "":
        return ""
    if item.kind == form_items.YES_NO or isinstance(value, bool):
        return codes.name_of("yes_no", "1" if value else "0")
    if item.kind == form_items.CODE:
        return codes.name_of(item.table, str(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def form_values(record: StudentRecord, *, full: bool) -> list[str]:
    """One value per column of the template (SHEET_ITEMS), as the template asks for it:
    coded items by their names (the template's drop-down lists), yes/no as 是/否, dates
    as YYYY-MM-DD. ID numbers and addresses masked unless `full`."""
    student = record.student
    placement = (getattr(record, "current_placements", None) or [None])[0]
    family = {member.position: member for member in getattr(student, "family_members", [])}
    sources: dict[str, Any] = {
        form_items.STUDENT: student,
        form_items.RECORD: record,
        form_items.PLACEMENT: placement,
        form_items.FAMILY_1: family.get(1),
        form_items.FAMILY_2: family.get(2),
    }
    row = []
    for item in SHEET_ITEMS:
        source = sources[item.where]
        text = _display(item, getattr(source, item.field, "") if source is not None else "")
        if not full and item.key in MASKED_IDS:
            text = mask_id_number(text)
        elif not full and item.key in MASKED_ADDRESSES:
            text = mask_address(text)
        row.append(text)
    return row


def roster_row(record: StudentRecord, *, full: bool) -> list[str]:
    return form_values(record, full=full) + [
        record.school.name,
        record.school.school_code or "",
        record.get_status_display(),
    ]


def export_roster(params: Mapping[str, str], fmt: str, *, actor, full: bool = False) -> ExportFile:
    """The filtered student list as a file, and the audit event that says who took which
    students' data (masked or in full)."""
    scope = _export_checks(actor, fmt, full)
    wanted = StudentFilter.from_params(params)
    rows: list[list[str]] = []
    students: list[int] = []
    for record in _records(scope, wanted).iterator(chunk_size=2000):
        rows.append(roster_row(record, full=full))
        students.append(record.student_id)
    headers = [item.header for item in SHEET_ITEMS] + list(ROSTER_EXTRA_HEADERS)
    if fmt == "csv":
        content = excel.write_table_csv(headers, rows)
    else:
        content = excel.write_table_xlsx(headers, rows, sheet_name=excel.SHEET_NAME)
    with transaction.atomic():
        record_event(
            "students.exported",
            actor=actor,
            data={
                "students": sorted(set(students)),
                "records": len(rows),
                "format": fmt,
                "full": full,
                "filter": asdict(wanted),
            },
        )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return ExportFile(content, f"roster-{stamp}.{fmt}", EXPORT_FORMATS[fmt], len(rows))


def do_export_roster(
    params: Mapping[str, str], fmt: str, *, actor, full: bool = False
) -> ExportFile | Job:
    """A small export answers at once; a large one is queued as a background job."""
    scope = _export_checks(actor, fmt, full)
    count = filtered_records(scope, StudentFilter.from_params(params)).count()
    if count > EXPORT_JOB_THRESHOLD:
        wanted = {name: str(params[name]) for name in params if name in asdict(StudentFilter())}
        return do_enqueue_job(
            "students.export", {"params": wanted, "format": fmt, "full": full}, actor=actor
        )
    return export_roster(params, fmt, actor=actor, full=full)


def run_export_job(job: Job, progress: Progress) -> str:
    params = job.params
    try:
        exported = export_roster(
            params.get("params", {}),
            params.get("format", "xlsx"),
            actor=job.created_by,
            full=params.get("full", False),
        )
    except PermissionDenied as error:
        raise RuleViolation(str(error)) from error
    _attach_result(job, exported.filename, exported.content)
    progress(exported.count, exported.count)
    return _("Exported %(count)d records.") % {"count": exported.count}
