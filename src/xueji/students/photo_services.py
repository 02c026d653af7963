"""Photos (B3, N2): one at a time or a ZIP of many, each checked against the national
standard (students/photos.py) before it replaces a student's photo.

Split from services.py by meaning: these functions handle files, the others rows.
"""

import hashlib
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from xueji.audit.services import record_event
from xueji.core.errors import RuleViolation
from xueji.core.scope import scope_for
from xueji.students.models import OPEN_STATUSES, Placement, Student, StudentNumber
from xueji.students.photos import PhotoRefused, parse_photo_name, process_photo, read_photo_zip


def _check_may_collect(actor, student: Student) -> None:
    """Photos are collected by the reviewing unit or the school itself (N2, N9)."""
    if actor is None:
        return
    scope = scope_for(actor)
    if not scope.may("students.edit"):
        raise PermissionDenied(_("Your role may not change photos."))
    scope.get_student(student.pk)


def _locked(student: Student) -> bool:
    return student.records.filter(status__in=OPEN_STATUSES, locked_at__isnull=False).exists()


def _store(student: Student, jpeg: bytes) -> None:
    digest = hashlib.sha256(jpeg).hexdigest()[:12]
    if student.photo:
        student.photo.delete(save=False)
    student.photo.save(f"{student.pk}-{digest}.jpg", ContentFile(jpeg), save=False)
    Student.objects.filter(pk=student.pk).update(photo=student.photo.name)


def do_set_photo(student: Student, data: bytes, *, actor) -> list[str]:
    """Check, normalise and store one photo; returns the warnings (a background far from
    light blue). A locked record's photo changes only by a correction."""
    _check_may_collect(actor, student)
    if _locked(student):
        raise RuleViolation(
            _(
                "Photo: the record has been submitted and is locked; "
                "only a correction request can change it."
            ),
            field="photo",
        )
    try:
        result = process_photo(data)
    except PhotoRefused as refused:
        raise RuleViolation(
            _("Photo: %(reason)s") % {"reason": refused.message}, field="photo"
        ) from refused
    with transaction.atomic():
        _store(student, result.data)
        record_event(
            "student.photo_set",
            actor=actor,
            target=student,
            data={
                "bytes": len(result.data),
                "size": [result.width, result.height],
                "warnings": result.warnings,
            },
        )
    return result.warnings


@dataclass
class PhotoOutcome:
    name: str
    student_id: int | None = None
    student_name: str = ""
    refusal: str = ""
    warnings: list[str] = field(default_factory=list)


def _find_student(students, stem: str) -> tuple[Student | None, str]:
    parsed = parse_photo_name(stem)
    if parsed is None:
        return None, _(
            "the file name is not an ID number, a student number or <school code>_<class>_<name>."
        )
    if parsed.kind == "id_number":
        found = list(students.filter(id_number=parsed.value)[:2])
    elif parsed.kind == "number":
        holders = StudentNumber.objects.filter(value=parsed.value).values("student_id")
        found = list(students.filter(pk__in=holders)[:2])
    else:
        placements = Placement.objects.filter(
            record__school__school_code=parsed.school_code,
            record__status__in=OPEN_STATUSES,
            class_name=parsed.class_name,
            record__student__name=parsed.name,
        ).values("record__student_id")
        found = list(students.filter(pk__in=placements).distinct()[:2])
    if not found:
        return None, _("no student in your scope matches %(name)s.") % {"name": stem}
    if len(found) > 1:
        return None, _("%(name)s matches more than one student; name the file by ID number.") % {
            "name": stem
        }
    return found[0], ""


def do_import_photo_zip(data: bytes, *, actor, progress=None) -> list[PhotoOutcome]:
    """Match every photo in a ZIP to a student of the user's scope and store it; every
    file that is refused is listed with its reason, and the good ones are kept."""
    scope = scope_for(actor)
    if not scope.may("students.edit"):
        raise PermissionDenied(_("Your role may not change photos."))
    try:
        entries = read_photo_zip(data)
    except PhotoRefused as refused:
        raise RuleViolation(
            _("ZIP file: %(reason)s") % {"reason": refused.message}, field="file"
        ) from refused
    students = scope.students()
    outcomes: list[PhotoOutcome] = []
    for index, entry in enumerate(entries, start=1):
        if progress is not None:
            progress(index - 1, len(entries))
        outcome = PhotoOutcome(entry.name)
        outcomes.append(outcome)
        if entry.refusal or entry.data is None:
            outcome.refusal = entry.refusal or _("the file could not be read.")
            continue
        student, problem = _find_student(students, entry.stem)
        if student is None:
            outcome.refusal = problem
            continue
        outcome.student_id, outcome.student_name = student.pk, student.name
        try:
            outcome.warnings = do_set_photo(student, entry.data, actor=actor)
        except RuleViolation as error:
            outcome.refusal = error.message
    if progress is not None:
        progress(len(entries), len(entries))
    return outcomes
