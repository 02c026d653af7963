"""Printing the forms (B4, C4, N4, N6): who may print what, issuing each paper, the audit
event naming the students a print contained, and bulk printing as background jobs.

Every print goes through one `do_print_*` function (the pages, the API and the jobs call
the same ones): it checks the rule, issues one verifiable paper (`verify.do_issue_paper`,
which writes the `paper.issued` event), draws the PDF, and writes one `papers.printed`
event whose data names every student on it, all in one transaction.

Who prints:
- the request papers (transfer certificate, name-change application): whoever may print
  the request's change report, i.e. the sending school, the bureau, and the central
  school for a rural primary school without a printer (changes.services.may_print);
- the student papers (record card, certificate of enrolment, class roster) state ID
  numbers and addresses in full, so they need the right to reveal them
  (`students.reveal`: the registrars) and a student or school inside the scope;
- photo sheets: the bureau (N4).

Bulk jobs put many papers in one PDF: one paper per record card (per student), per class
roster and per class photo sheet, each with its own code, so any page taken out of the
stack still verifies alone. `do_start_print_job` queues them; their bodies are in
reports/jobs.py.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from xueji.audit.services import record_event
from xueji.changes.models import ChangeRequest
from xueji.changes.services import may_print
from xueji.core import calendar
from xueji.core.errors import RuleViolation
from xueji.core.jobs import do_enqueue_job
from xueji.core.models import Job, SchoolYear
from xueji.core.scope import Scope, scope_for
from xueji.orgs.models import Unit
from xueji.reports.models import IssuedPaper
from xueji.reports.papers import (
    certificate,
    class_roster,
    name_change_application,
    record_card,
    transfer_certificate,
)
from xueji.reports.papers.common import (
    PaperBundle,
    Printed,
    ascii_label,
    issued_on,
    photo_bytes,
)
from xueji.reports.verify import do_issue_paper
from xueji.students.models import OPEN_STATUSES, Placement, Student, StudentRecord

PRINT_EVENT = "papers.printed"
RECORD_CARDS_JOB = "print.record_cards"
ROSTERS_JOB = "print.rosters"
PHOTO_SHEETS_JOB = "print.photo_sheets"
SCHOOL_ORDER = ("parent__ordinal", "parent__name", "ordinal", "name")


def record_print(
    kind: str,
    *,
    actor,
    target,
    unit: Unit | None,
    students: list[int],
    papers: list[IssuedPaper],
    job: Job | None = None,
) -> None:
    """B6 and the rule that every read of full personal data is logged: one event per
    print or bulk job naming every student whose data it carried."""
    record_event(
        PRINT_EVENT,
        actor=actor,
        target=target,
        unit=unit,
        data={
            "kind": kind,
            "students": sorted(set(students)),
            "papers": [paper.code for paper in papers],
            "job": job.pk if job is not None else None,
        },
    )


def _rule(problem: str | None, field: str | None = None) -> None:
    if problem:
        raise RuleViolation(problem, field=field)


# --- The request papers -----------------------------------------------------------------


def _require_request_printer(actor, change: ChangeRequest) -> None:
    if not may_print(actor, change):
        raise PermissionDenied(_("You may not print this request's papers."))


def _print_request_paper(change: ChangeRequest, *, actor, module, facts_of, draw, title, name):
    """One paper about a request: checked, issued, drawn and its print audited together."""
    _require_request_printer(actor, change)
    _rule(module.problem(change))
    with transaction.atomic():
        facts = facts_of(str(change.pk))
        assert facts is not None, "problem() allowed the paper"
        paper = do_issue_paper(module.KIND, change, facts, actor=actor, unit=change.from_school)
        bundle = PaperBundle(title, author=change.from_school.name)
        bundle.start_paper(paper.code)
        draw(bundle, paper.facts, change.pk)
        pdf = bundle.build()
        record_print(
            module.KIND,
            actor=actor,
            target=change,
            unit=change.from_school,
            students=[change.student_id],
            papers=[paper],
        )
    return Printed(pdf, f"{name}-{change.pk}.pdf", [paper])


def do_print_transfer_certificate(change: ChangeRequest, *, actor) -> Printed:
    """C4: the transfer certificate with its receipt, after the bureau's approval."""
    return _print_request_paper(
        change,
        actor=actor,
        module=transfer_certificate,
        facts_of=transfer_certificate.transfer_certificate_facts,
        draw=transfer_certificate.draw_transfer_certificate,
        title=_("Transfer certificate"),
        name="transfer-certificate",
    )


def do_print_name_change_application(change: ChangeRequest, *, actor) -> Printed:
    """N6: the application the guardian, the school and the bureau sign."""
    return _print_request_paper(
        change,
        actor=actor,
        module=name_change_application,
        facts_of=name_change_application.name_change_facts,
        draw=name_change_application.draw_name_change_application,
        title=_("Name change application"),
        name="name-change-application",
    )


# --- The student papers -----------------------------------------------------------------


def student_papers_scope(actor) -> Scope:
    scope = scope_for(actor)
    if not scope.may("students.reveal"):
        raise PermissionDenied(_("Your role may not print students' papers."))
    return scope


def card_record(scope: Scope, student: Student) -> StudentRecord | None:
    """The record whose card the user prints: the open one if it lies in the scope,
    else the latest stay at a school of the scope (a school that saw the student leave
    still prints its own record)."""
    records = (
        scope.records()
        .filter(student=student)
        .select_related("student", "school__county")
        .order_by("-entry_date", "-pk")
    )
    return records.filter(status__in=OPEN_STATUSES).first() or records.first()


def printable_records(
    scope: Scope, student: Student, every: list[StudentRecord] | None = None
) -> tuple[bool, StudentRecord | None]:
    """(Whether card_record finds a record, the record open_record finds) from one query
    of the records' ids and statuses: for the student page's buttons, which decide what
    the prints would find without reading each record whole. Keep it beside its twins.
    `every`, when given, is every record of the student with its school (the student page
    has read them): the scope picks its own from it (Scope.records_among)."""
    if every is None:
        records = list(
            scope.records()
            .filter(student=student)
            .order_by("pk")
            .only("pk", "status", "student_id")
        )
    else:
        records = sorted(scope.records_among(every), key=lambda record: record.pk)
    opened = next((record for record in records if record.status in OPEN_STATUSES), None)
    return bool(records), opened


def open_record(scope: Scope, student: Student) -> StudentRecord | None:
    return (
        scope.records()
        .filter(student=student, status__in=OPEN_STATUSES)
        .select_related("student", "school__county")
        .first()
    )


def do_print_record_card(student: Student, *, actor) -> Printed:
    """B4: the record card, every item unmasked; the event names the student."""
    scope = student_papers_scope(actor)
    student = scope.get_student(student.pk)
    record = card_record(scope, student)
    if record is None:
        raise RuleViolation(_("This student holds no record at a school of your scope."))
    kind = record_card.KIND
    with transaction.atomic():
        photo = photo_bytes(student)
        facts = record_card.card_facts(record, photo)
        paper = do_issue_paper(kind, record, facts, actor=actor, unit=record.school)
        bundle = PaperBundle(_("Student record card"), author=record.school.name)
        bundle.start_paper(paper.code)
        record_card.draw_record_card(bundle, paper.facts, photo)
        pdf = bundle.build()
        record_print(
            kind,
            actor=actor,
            target=record,
            unit=record.school,
            students=[student.pk],
            papers=[paper],
        )
    return Printed(pdf, f"record-card-{student.pk}.pdf", [paper])


def do_print_certificate(student: Student, *, actor) -> Printed:
    """The certificate of enrolment of a student at school, for the school to stamp."""
    scope = student_papers_scope(actor)
    student = scope.get_student(student.pk)
    record = open_record(scope, student)
    _rule(certificate.problem(record))
    assert record is not None
    kind = certificate.KIND
    with transaction.atomic():
        facts = certificate.certificate_facts_for(record)
        paper = do_issue_paper(kind, record, facts, actor=actor, unit=record.school)
        bundle = PaperBundle(_("Certificate of enrolment"), author=record.school.name)
        bundle.start_paper(paper.code)
        certificate.draw_certificate(bundle, paper.facts, issued_on(paper))
        pdf = bundle.build()
        record_print(
            kind,
            actor=actor,
            target=record,
            unit=record.school,
            students=[student.pk],
            papers=[paper],
        )
    return Printed(pdf, f"certificate-{student.pk}.pdf", [paper])


# --- Classes and schools ----------------------------------------------------------------


def school_in_scope(scope: Scope, value: Any) -> Unit:
    """The school a print names, or 404 when it is outside the scope (or not a school)."""
    text = str(value if value is not None else "").strip()
    if not text:
        own = scope.unit
        if own is not None and own.is_school and scope.level == Scope.SCHOOL:
            return own
        raise RuleViolation(_("School: choose a school."), field="school")
    if not text.isdigit():
        raise Http404(_("No such unit in your scope."))
    school = scope.get_unit(int(text))
    if not school.is_school:
        raise Http404(_("No such unit in your scope."))
    return school


def current_year(school: Unit) -> SchoolYear:
    year = calendar.current_school_year(school.county)
    if year is None:
        raise RuleViolation(_("No school year is open yet."))
    return year


def parse_grade(value: Any, *, required: bool) -> int | None:
    text = str(value if value is not None else "").strip()
    if not text:
        if required:
            raise RuleViolation(_("Grade: choose a grade from 1 to 9."), field="grade")
        return None
    if not text.isdigit() or not 1 <= int(text) <= 9:
        raise RuleViolation(_("Grade: choose a grade from 1 to 9."), field="grade")
    return int(text)


def parse_class(value: Any, *, required: bool) -> str:
    text = str(value if value is not None else "").strip()
    if required and not text:
        raise RuleViolation(_("Class: name the class to print."), field="class_name")
    if ":" in text or len(text) > 10:
        raise RuleViolation(_("Class: no such class."), field="class_name")
    return text


def do_print_class_roster(school: Unit, grade: int, class_name: str, *, actor) -> Printed:
    """B4: the roster of one class of the current school year."""
    scope = student_papers_scope(actor)
    if not scope.can_see(school):
        raise Http404(_("No such unit in your scope."))
    year = current_year(school)
    placements = list(class_roster.class_placements(school, year, grade, class_name))
    if not placements:
        raise RuleViolation(
            _("Class: no student is placed in grade %(grade)s, class %(class)s this school year.")
            % {"grade": grade, "class": class_name},
            field="class_name",
        )
    target = class_roster.RosterTarget(school.pk, year.start_year, grade, class_name)
    kind = class_roster.KIND
    with transaction.atomic():
        facts = class_roster.roster_facts_for(school, target, placements)
        paper = do_issue_paper(kind, target, facts, actor=actor, unit=school)
        bundle = PaperBundle(_("Class roster"), author=school.name)
        bundle.start_paper(paper.code)
        class_roster.draw_class_roster(bundle, paper.facts)
        pdf = bundle.build()
        record_print(
            kind,
            actor=actor,
            target=target,
            unit=school,
            students=[row["student_id"] for row in facts["students"]],
            papers=[paper],
        )
    label = f"{grade}-{ascii_label(class_name, 'class')}"
    return Printed(pdf, f"class-roster-{school.school_code or school.pk}-{label}.pdf", [paper])


# --- Bulk printing ------------------------------------------------------------------------


def card_placements(school: Unit, year: SchoolYear, grade: int | None, class_name: str):
    placements = Placement.objects.filter(
        school_year=year, record__school=school, record__status__in=OPEN_STATUSES
    ).select_related("record__student", "record__school__county")
    if grade is not None:
        placements = placements.filter(grade=grade)
    if class_name:
        placements = placements.filter(class_name=class_name)
    return placements


def in_class_order(placements) -> list[Placement]:
    return sorted(
        placements,
        key=lambda p: (
            p.grade,
            class_roster.class_key(p.class_name),
            class_roster.class_key(p.seat_number),
            p.record.student.pinyin_key,
            p.record_id,
        ),
    )


def photo_sheet_schools(scope: Scope, township: Any):
    """The bureau's schools to print photo sheets for: the county's, or a township's."""
    if scope.level != Scope.COUNTY or not scope.may("students.view"):
        raise PermissionDenied(_("Only the bureau prints photo sheets."))
    schools = scope.schools().filter(is_active=True).select_related("parent", "county")
    text = str(township if township is not None else "").strip()
    if text:
        if not text.isdigit():
            raise Http404(_("No such unit in your scope."))
        unit = scope.get_unit(int(text))
        if unit.kind != Unit.Kind.TOWNSHIP:
            raise Http404(_("No such unit in your scope."))
        schools = schools.filter(parent=unit)
    return schools.order_by(*SCHOOL_ORDER)


def do_start_print_job(kind: str, params: dict[str, Any], *, actor) -> Job:
    """Check what can be checked at once (who, which school, is there anything to print)
    and queue the bulk print; the job page then shows its progress."""
    if kind == RECORD_CARDS_JOB:
        scope = student_papers_scope(actor)
        school = school_in_scope(scope, params.get("school"))
        grade = parse_grade(params.get("grade"), required=False)
        class_name = parse_class(params.get("class_name"), required=False)
        if not card_placements(school, current_year(school), grade, class_name).exists():
            raise RuleViolation(_("No student matches: there is nothing to print."))
        clean: dict[str, Any] = {"school": school.pk, "grade": grade, "class_name": class_name}
    elif kind == ROSTERS_JOB:
        scope = student_papers_scope(actor)
        school = school_in_scope(scope, params.get("school"))
        if not class_roster.classes_of(school, current_year(school)):
            raise RuleViolation(_("No student matches: there is nothing to print."))
        clean = {"school": school.pk}
    elif kind == PHOTO_SHEETS_JOB:
        scope = scope_for(actor)
        schools = photo_sheet_schools(scope, params.get("township"))
        if not schools.exists():
            raise RuleViolation(_("No school matches: there is nothing to print."))
        township = str(params.get("township") or "").strip()
        clean = {"township": int(township) if township else None}
    else:
        raise RuleViolation(_("Unknown job: %(kind)s") % {"kind": kind})
    return do_enqueue_job(kind, clean, actor=actor)
