"""Every change to a change request: `do_<verb>_<noun>(..., *, actor)`.

The five steps of the seed (C3) with the bureau's decision between steps 4 and 5:
1. the school checks every required document against its scan (do_add_evidence,
   do_check_evidence, do_pass_documents); 2. the change report is printed
   (do_mark_report_printed, called by the report view); 3. the registrar and the leader
   sign, the school stamps and uploads the scan (do_sign, do_upload_signed_scan); a rural
   primary school's request is re-reviewed by its central school (do_central_review);
   4. it is submitted and queues for the next session (do_submit); the bureau decides in
   the session (do_decide); 5. the school records the change (do_record).
Each function checks its rule, writes its change, a RequestStep and an audit event in one
transaction.
"""

import datetime
import functools
import hashlib
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from xueji.audit.services import record_event, record_events
from xueji.changes import rules
from xueji.changes.models import (
    PENDING_STATES,
    ApprovalSession,
    ChangePlan,
    ChangeRequest,
    Evidence,
    Kind,
    RequestStep,
    State,
)
from xueji.core import calendar, reads, uploads
from xueji.core import rules as calendar_rules
from xueji.core.errors import RuleViolation
from xueji.core.scope import Scope, scope_for
from xueji.orgs.models import County, Role, Unit
from xueji.orgs.rules import is_rural_primary
from xueji.students import rules as student_rules
from xueji.students import services as student_services
from xueji.students.form_items import BY_KEY, FAMILY_1, FAMILY_2, RECORD, STUDENT
from xueji.students.models import (
    NumberKind,
    Placement,
    Status,
    Student,
    StudentNumber,
    StudentRecord,
)
from xueji.students.pinyin import pinyin_keys

# --- Who may act ------------------------------------------------------------------------------


def _scope(actor) -> Scope:
    return scope_for(actor)


def _require_school(actor, school: Unit) -> None:
    """The registrar of the school (or the bureau) acts for the school."""
    if actor is None:
        return
    scope = _scope(actor)
    if not scope.may("changes.request") or not scope.can_edit_school(school):
        raise PermissionDenied(
            _("You may not act on the requests of %(school)s.") % {"school": school.name}
        )


def _require_bureau(actor, capability: str = "changes.decide") -> Scope:
    scope = _scope(actor)
    if scope.level != scope.COUNTY or not scope.may(capability):
        raise PermissionDenied(_("Only the bureau decides change requests."))
    return scope


def supervises(actor, school: Unit) -> bool:
    scope = _scope(actor)
    return (
        scope.level == scope.TOWNSHIP
        and scope.may("changes.request")
        and scope.unit is not None
        and school.pk != scope.unit.pk
        and scope.can_see(school)
    )


def _lockable():
    return ChangeRequest.objects.select_for_update(of=("self",)).select_related(
        "record__school__parent",
        "record__school__county",
        "student",
        "from_school",
        "to_school__parent",
        "to_school__county",
    )


def _locked(request: ChangeRequest) -> ChangeRequest:
    return _lockable().get(pk=request.pk)


# Values per `IN (...)`: SQLite allows 999 parameters per statement.
IN_CHUNK = 900
# Rows per INSERT (Django lowers it further for wide tables on SQLite).
BATCH = 500


def _chunks(values: list, size: int = IN_CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _locked_many(pks: list[int]) -> list[ChangeRequest]:
    """Many requests locked at once, in the order of their ids (two sessions locking
    overlapping selections take the rows in the same order, so neither deadlocks)."""
    # What approving needs (the student's name, the receiving school's number facts):
    # narrower than _lockable's joins, which a thousand rows would pay for.
    rows = ChangeRequest.objects.select_for_update(of=("self",)).select_related(
        "student", "to_school__parent", "to_school__county"
    )
    found: list[ChangeRequest] = []
    for chunk in _chunks(sorted(set(pks))):
        found += list(rows.filter(pk__in=chunk).order_by("pk"))
    return found


def _expect(request: ChangeRequest, *states: str) -> None:
    if request.state not in states:
        raise RuleViolation(
            _("This request is %(state)s; that step is not possible now.")
            % {"state": request.get_state_display()}
        )


def _step(
    request: ChangeRequest, action: str, *, actor, comment: str = "", data=None, saved=False
) -> None:
    """One step: the request's own log, its waiting time restarted, and the audit event.
    `saved`: the caller has just written the request, its waiting time with it."""
    if not saved:
        request.waiting_since = timezone.now()
        request.save()
    RequestStep.objects.create(
        request=request,
        action=action,
        actor=actor,
        unit=actor.unit if actor is not None else None,
        comment=comment[:300],
    )
    record_event(
        f"change.{action}",
        actor=actor,
        target=request,
        unit=None if actor is not None else request.from_school,
        data={
            "kind": request.kind,
            "state": request.state,
            "comment": comment[:300],
            **(data or {}),
        },
    )


# --- Creating a request -----------------------------------------------------------------------


def _school_facts(school: Unit) -> rules.SchoolFacts:
    return rules.SchoolFacts(school.pk, school.name, school.parent_id, school.county_id)


def _current_grade(record: StudentRecord) -> int | None:
    placement = record.placements.order_by("-school_year__start_year").first()
    return placement.grade if placement else None


def _is_spring(county, day: datetime.date) -> bool:
    year = calendar.current_school_year(county, day)
    if year is None:
        return False
    spring = year.semesters.filter(term="spring").first()
    return spring is not None and day >= spring.start_date


def _check_kind(
    record: StudentRecord,
    kind: str,
    reason: str,
    day: datetime.date,
    to_school,
    outside_school: str,
) -> None:
    status = record.status
    at_school = _("The student must be at school for this request.")
    if kind in rules.TRANSFER_KINDS:
        problem = rules.transfer_window_problem(day)
        if problem:
            raise RuleViolation(problem, field="effective_date")
    if kind == Kind.TRANSFER:
        if status != Status.ENROLLED:
            raise RuleViolation(at_school, field="record")
        if to_school is None or not to_school.is_school or not to_school.is_active:
            raise RuleViolation(
                _("Receiving school: choose an open school of the county."), field="to_school"
            )
        problem = rules.same_district_problem(
            _school_facts(record.school), _school_facts(to_school)
        )
        if problem:
            raise RuleViolation(problem, field="to_school")
    elif kind == Kind.TRANSFER_IN:
        if status != Status.PENDING:
            raise RuleViolation(
                _(
                    "Register the incoming student at your school first; "
                    "the request then carries that registration."
                ),
                field="record",
            )
        if not outside_school.strip():
            raise RuleViolation(
                _("School outside the county: name the school the student comes from."),
                field="outside_school",
            )
    elif kind == Kind.TRANSFER_OUT:
        if status != Status.ENROLLED:
            raise RuleViolation(at_school, field="record")
        if not outside_school.strip():
            raise RuleViolation(
                _("School outside the county: name the school the student goes to."),
                field="outside_school",
            )
    elif kind == Kind.SUSPENSION:
        renewal = reason == "renewal"
        if renewal and status != Status.SUSPENDED:
            raise RuleViolation(
                _("Reason: only a suspended student's suspension is renewed."), field="reason"
            )
        if not renewal and status != Status.ENROLLED:
            raise RuleViolation(at_school, field="record")
        grade = _current_grade(record) or 0
        problem = rules.graduating_semester_problem(
            grade, record.school.stage, _is_spring(record.school.county, day)
        )
        if problem:
            raise RuleViolation(problem, field="effective_date")
    elif kind == Kind.RESUMPTION:
        if status != Status.SUSPENDED:
            raise RuleViolation(_("Only a suspended student resumes."), field="record")
    elif kind == Kind.DROPOUT:
        if status != Status.ENROLLED:
            raise RuleViolation(at_school, field="record")
    elif kind in (Kind.ABROAD, Kind.DEATH):
        if not record.is_open or status == Status.PENDING:
            raise RuleViolation(_("This record is not open."), field="record")


def _check_corrections(
    student: Student, record: StudentRecord, kind: str, reason: str, wanted: dict[str, Any]
) -> dict[str, list]:
    """N6: what a correction changes, validated like any entry, with the old values kept."""
    from xueji.students.validation import validate_student

    if not wanted:
        raise RuleViolation(
            _("Corrections: name at least one item to correct."), field="corrections"
        )
    unknown = [key for key in wanted if key not in BY_KEY or BY_KEY[key].kind == "photo"]
    if unknown:
        raise RuleViolation(
            _("Corrections: %(key)s is not an item of the form.") % {"key": unknown[0]},
            field="corrections",
        )
    checked = validate_student(wanted, today=calendar.today(), partial=True)
    if checked.errors:
        problem = checked.errors[0]
        raise RuleViolation(problem.message, field=problem.key)
    if "name" in wanted and not rules.is_rename(kind, reason):
        raise RuleViolation(
            _(
                "Reason: a name change needs one of the listed reasons (parents' divorce, "
                "fostering, adoption, or another with an explanation)."
            ),
            field="reason",
        )
    rows = {STUDENT: student, RECORD: record}
    result = {}
    for key in wanted:
        item = BY_KEY[key]
        row = (
            rows.get(item.where)
            or student.family.filter(position=1 if item.where == FAMILY_1 else 2).first()
        )
        old = getattr(row, item.field, "") if row is not None else ""
        new = checked.values.get(key, "")
        if old != new:
            result[key] = [_plain(old), _plain(new)]
    if not result:
        raise RuleViolation(
            _("Corrections: the new values equal the recorded ones."), field="corrections"
        )
    return result


def _plain(value):
    if isinstance(value, datetime.date):
        return value.isoformat()
    if value is None:
        return ""
    return value if isinstance(value, (bool, int, str)) else str(value)


def do_create_request(
    record: StudentRecord,
    kind: str,
    *,
    actor,
    reason: str,
    effective_date: datetime.date,
    reason_note: str = "",
    to_school: Unit | None = None,
    outside_school: str = "",
    to_grade: int | None = None,
    to_class: str = "",
    corrections: dict[str, Any] | None = None,
) -> ChangeRequest:
    """Start a request (C1, N6): the school of the record starts it; step 1 follows."""
    if kind not in Kind.values:
        raise RuleViolation(_("Kind: choose a kind of change."), field="kind")
    _require_school(actor, record.school)
    problem = rules.reason_problem(kind, reason, reason_note)
    if problem:
        raise RuleViolation(problem[1], field=problem[0])
    with transaction.atomic():
        record = _locked_record(record.pk)
        pending = reads.rows(_pending_statement(), [record.pk, *PENDING_STATES])
        if pending:
            kind_now, state_now = pending[0]
            raise RuleViolation(
                _(
                    "This student already has a pending request (%(kind)s, %(state)s); "
                    "finish or withdraw it first."
                )
                % {"kind": Kind(kind_now).label, "state": State(state_now).label},
                field="record",
            )
        _check_kind(record, kind, reason, effective_date, to_school, outside_school)
        changes = {}
        if kind == Kind.CORRECTION:
            changes = _check_corrections(record.student, record, kind, reason, corrections or {})
        request = ChangeRequest(
            kind=kind,
            student=record.student,
            record=record,
            from_school=record.school,
            to_school=to_school if kind == Kind.TRANSFER else None,
            outside_school=outside_school.strip()[:60],
            reason=reason,
            reason_note=reason_note.strip()[:200],
            effective_date=effective_date,
            suspension_until=rules.suspension_end(effective_date)
            if kind == Kind.SUSPENSION
            else None,
            to_grade=to_grade,
            to_class=to_class.strip()[:10],
            corrections=changes,
            created_by=actor,
            waiting_since=timezone.now(),
        )
        try:
            with transaction.atomic():
                request.save()
        except IntegrityError as error:
            raise RuleViolation(
                _("This student already has a pending request."), field="record"
            ) from error
        _step(request, "created", actor=actor, comment=reason_note, saved=True)
    return request


def _locked_record(pk: int) -> StudentRecord:
    """The record, locked for the rest of the transaction (FOR UPDATE where the database
    has it; SQLite's transactions take the write lock at their start), with its student,
    school and county. Written out (core/reads.py): a new request is a tenth of the load,
    and compiling this read through the ORM was a third of its service's time (issue 9)."""
    rows = reads.read(_locked_record_statement(), [pk], _LOCKED)
    if not rows:
        raise StudentRecord.DoesNotExist(pk)
    record, student, school, county = rows[0]
    reads.link(record, "student", student)
    reads.link(record, "school", school)
    reads.link(school, "county", county)
    return record


_LOCKED = (StudentRecord, Student, Unit, County)


@functools.cache
def _locked_record_statement() -> str:
    table = connection.ops.quote_name
    lock = " FOR UPDATE OF r" if connection.features.has_select_for_update_of else ""
    return (
        f"SELECT {reads.columns(StudentRecord, 'r')}, {reads.columns(Student, 's')}, "
        f"{reads.columns(Unit, 'u')}, {reads.columns(County, 'c')} "
        f"FROM {table(StudentRecord._meta.db_table)} r "
        f"JOIN {table(Student._meta.db_table)} s ON s.id = r.student_id "
        f"JOIN {table(Unit._meta.db_table)} u ON u.id = r.school_id "
        f"JOIN {table(County._meta.db_table)} c ON c.id = u.county_id "
        f"WHERE r.id = %s{lock}"
    )


@functools.cache
def _pending_statement() -> str:
    marks = ", ".join(["%s"] * len(PENDING_STATES))
    return (
        f"SELECT q.kind, q.state FROM {connection.ops.quote_name(ChangeRequest._meta.db_table)} q "
        f"WHERE q.record_id = %s AND q.state IN ({marks}) ORDER BY q.id LIMIT 1"
    )


# --- Step 1: documents ------------------------------------------------------------------------


def _verified_scan(data: bytes, what: str, wrong_kind: str) -> str:
    """The content type a scan's content proves (JPG or PNG that decodes in full, or a
    whole PDF; core/uploads.py), never the file name's; or the reason it is refused."""
    if uploads.scan_kind(data) is None:
        raise RuleViolation(wrong_kind, field="file")
    try:
        return uploads.verify_scan(data)
    except uploads.UploadRefused as refused:
        raise RuleViolation(
            _("%(what)s: %(reason)s") % {"what": what, "reason": refused.message}, field="file"
        ) from None


def do_add_evidence(request: ChangeRequest, document: str, data: bytes, *, actor) -> Evidence:
    """Upload a scan of a required document (C2): JPG, PNG or PDF by content, size limited."""
    _require_school(actor, request.from_school)
    if document not in rules.required_documents(request.kind, request.reason):
        raise RuleViolation(
            _("Document: this request does not ask for that document."), field="document"
        )
    if len(data) > rules.evidence_max_bytes():
        raise RuleViolation(
            _("Scan: the file is %(size).1f MB; the limit is %(limit).1f MB.")
            % {"size": len(data) / 1048576, "limit": rules.evidence_max_bytes() / 1048576},
            field="file",
        )
    content_type = _verified_scan(data, _("Scan"), _("Scan: upload a JPG, PNG or PDF file."))
    with transaction.atomic():
        request = _locked(request)
        _expect(request, State.DRAFT)
        digest = hashlib.sha256(data).hexdigest()
        extension = uploads.SCAN_TYPES[content_type]
        evidence = Evidence(
            request=request,
            document=document,
            content_type=content_type,
            size=len(data),
            sha256=digest,
            uploaded_by=actor,
        )
        evidence.file.save(
            f"{request.pk}-{document}-{digest[:10]}.{extension}", ContentFile(data), save=False
        )
        evidence.save()
        _step(
            request,
            "evidence_added",
            actor=actor,
            comment=rules.document_name(document),
            data={"evidence": evidence.pk},
        )
    return evidence


def do_check_evidence(evidence: Evidence, *, actor) -> Evidence:
    """The registrar has seen the original and it matches the scan (校验)."""
    request = evidence.request
    _require_school(actor, request.from_school)
    with transaction.atomic():
        request = _locked(request)
        _expect(request, State.DRAFT)
        evidence = Evidence.objects.select_for_update().get(pk=evidence.pk)
        evidence.checked_by = actor
        evidence.checked_at = timezone.now()
        evidence.save(update_fields=["checked_by", "checked_at"])
        _step(
            request,
            "evidence_checked",
            actor=actor,
            comment=rules.document_name(evidence.document),
            data={"evidence": evidence.pk},
        )
    return evidence


def missing_documents(request: ChangeRequest) -> list[str]:
    checked = set(
        request.evidence.filter(checked_at__isnull=False).values_list("document", flat=True)
    )
    return [
        doc for doc in rules.required_documents(request.kind, request.reason) if doc not in checked
    ]


def do_pass_documents(request: ChangeRequest, *, actor) -> ChangeRequest:
    """Step 1 passes only when every required document has a scan checked against the original."""
    _require_school(actor, request.from_school)
    with transaction.atomic():
        request = _locked(request)
        _expect(request, State.DRAFT)
        missing = missing_documents(request)
        if missing:
            raise RuleViolation(
                _("Documents: %(missing)s still need a scan checked against the original.")
                % {"missing": "、".join(rules.document_name(doc) for doc in missing)},
                field="evidence",
            )
        request.state = State.DOCUMENTS_CHECKED
        _step(request, "documents_checked", actor=actor)
    return request


# --- Step 2: the report -----------------------------------------------------------------------


def may_print(actor, request: ChangeRequest) -> bool:
    """The school prints its report; a rural primary school without a printer has its
    central school print it (C3, E1)."""
    scope = _scope(actor)
    if scope.may("changes.request") and scope.can_edit_school(request.from_school):
        return True
    return (
        not request.from_school.has_printer
        and is_rural_primary(request.from_school)
        and supervises(actor, request.from_school)
    )


def do_mark_report_printed(request: ChangeRequest, *, actor) -> ChangeRequest:
    if not may_print(actor, request):
        raise PermissionDenied(_("You may not print this request's report."))
    with transaction.atomic():
        request = _locked(request)
        if request.state == State.DOCUMENTS_CHECKED:
            request.state = State.REPORT_PRINTED
            _step(request, "report_printed", actor=actor)
        elif request.state in (State.DRAFT, State.WITHDRAWN):
            raise RuleViolation(_("The report is printed after the documents are checked."))
        else:
            _step(request, "report_reprinted", actor=actor)
    return request


# --- Step 3: signatures, stamp, central review ------------------------------------------------


def _signed_complete(request: ChangeRequest) -> bool:
    return bool(request.registrar_signed_at and request.leader_signed_at and request.signed_scan)


def do_sign(request: ChangeRequest, *, actor) -> ChangeRequest:
    """The school's registrar and its leader each sign in the system (C3 step 3)."""
    if actor is None or actor.unit_id != request.from_school_id:
        raise PermissionDenied(_("Only the school's registrar and leader sign its report."))
    with transaction.atomic():
        request = _locked(request)
        _expect(request, State.REPORT_PRINTED)
        if actor.role == Role.SCHOOL_LEADER:
            request.leader_signed_by, request.leader_signed_at = actor, timezone.now()
        elif actor.role in (Role.SCHOOL_REGISTRAR, Role.CENTRAL_REGISTRAR):
            request.registrar_signed_by, request.registrar_signed_at = actor, timezone.now()
        else:
            raise PermissionDenied(_("Only the school's registrar and leader sign its report."))
        if _signed_complete(request):
            request.state = State.SIGNED
        _step(request, "signed", actor=actor, comment=actor.get_role_display())
    return request


def do_upload_signed_scan(request: ChangeRequest, data: bytes, *, actor) -> ChangeRequest:
    """The scan of the signed and stamped report."""
    _require_school(actor, request.from_school)
    if len(data) > rules.evidence_max_bytes():
        raise RuleViolation(_("Scan: the file is too large."), field="file")
    content_type = _verified_scan(data, _("Scan"), _("Scan: upload a JPG, PNG or PDF file."))
    with transaction.atomic():
        request = _locked(request)
        _expect(request, State.REPORT_PRINTED)
        extension = uploads.SCAN_TYPES[content_type]
        request.signed_scan.save(f"{request.pk}-signed.{extension}", ContentFile(data), save=False)
        if _signed_complete(request):
            request.state = State.SIGNED
        _step(request, "signed_scan_uploaded", actor=actor)
    return request


def needs_central_review(request: ChangeRequest) -> bool:
    return is_rural_primary(request.from_school)


def do_central_review(
    request: ChangeRequest, *, actor, approve: bool, comment: str = ""
) -> ChangeRequest:
    """A rural primary school's request is re-reviewed and stamped by its central school,
    or returned to the school to start the documents again."""
    if not supervises(actor, request.from_school) or not needs_central_review(request):
        raise PermissionDenied(_("Only the school's central school re-reviews this request."))
    if not approve and not comment.strip():
        raise RuleViolation(_("Comment: say why the request is returned."), field="comment")
    with transaction.atomic():
        request = _locked(request)
        _expect(request, State.SIGNED)
        request.state = State.CENTRAL_REVIEWED if approve else State.DRAFT
        _step(
            request,
            "central_reviewed" if approve else "central_returned",
            actor=actor,
            comment=comment,
        )
    return request


# --- Transfers: the receiving school ----------------------------------------------------------


def _class_count(school: Unit, grade: int, class_name: str) -> int:
    year = calendar.current_school_year(school.county)
    return Placement.objects.filter(
        school_year=year,
        record__school=school,
        record__status__in=(Status.ENROLLED, Status.PENDING),
        grade=grade,
        class_name=class_name,
    ).count()


def do_confirm_receiving(
    request: ChangeRequest, *, actor, to_grade: int, to_class: str
) -> list[str]:
    """The receiving school confirms it can take the student, in a grade and class, before
    the request is submitted; a class over its cap warns. Returns the warnings."""
    receiving = request.to_school
    if request.kind != Kind.TRANSFER or receiving is None:
        raise RuleViolation(_("Only a transfer within the county has a receiving school."))
    _require_school(actor, receiving)
    problem = student_rules.grade_problem(receiving.stage, to_grade)
    if problem:
        raise RuleViolation(problem, field="to_grade")
    if not to_class.strip():
        raise RuleViolation(_("Class: name the class the student joins."), field="to_class")
    with transaction.atomic():
        request = _locked(request)
        _expect(request, *[s for s in PENDING_STATES if s not in (State.SUBMITTED, State.APPROVED)])
        request.to_grade, request.to_class = to_grade, to_class.strip()[:10]
        request.receiving_confirmed_by, request.receiving_confirmed_at = actor, timezone.now()
        stage = "primary" if to_grade <= 6 else "junior"
        warning = rules.class_cap_warning(
            _class_count(receiving, to_grade, request.to_class) + 1, stage, request.to_class
        )
        _step(request, "receiving_confirmed", actor=actor, comment=warning or "")
    return [warning] if warning else []


# --- Step 4: submission, sessions, decisions --------------------------------------------------


def next_open_session(county, on: datetime.date | None = None) -> ApprovalSession:
    """The session a request submitted now waits for: the next session day whose session
    has not closed (C6)."""
    on = on or calendar.today()
    # A past session that was opened, or holds requests, but never closed is still the
    # current one: its requests must not be stranded behind a later date.
    stale = (
        ApprovalSession.objects.filter(county=county, closed_at__isnull=True, date__lt=on)
        .filter(Q(opened_at__isnull=False) | Q(requests__state=State.SUBMITTED))
        .order_by("date")
        .first()
    )
    if stale is not None:
        return stale
    year = calendar.current_school_year(county, on)
    weekday = year.approval_weekday if year else 2
    special = calendar.special_days(county)
    day = calendar_rules.next_session_date(on, weekday, special)
    for _week in range(60):
        session, _created = ApprovalSession.objects.get_or_create(county=county, date=day)
        if session.closed_at is None:
            return session
        day = calendar_rules.next_session_date(day + datetime.timedelta(days=1), weekday, special)
    raise RuleViolation(_("No approval session could be found."))


def do_submit(
    request: ChangeRequest, *, actor, proxy: dict[str, str] | None = None
) -> ChangeRequest:
    """Step 4: the request goes to the bureau and queues for the next session. A unit that
    lets a proxy carry it records the proxy and its phone call with the bureau (C7)."""
    if not (supervises(actor, request.from_school) and needs_central_review(request)):
        _require_school(actor, request.from_school)
    proxy = {key: (value or "").strip() for key, value in (proxy or {}).items()}
    if proxy.get("name"):
        for field, message in (
            ("id_number", _("Proxy: enter the proxy's ID number.")),
            ("relation", _("Proxy: enter the proxy's relation to the student.")),
            (
                "call_note",
                _("Proxy: record the phone call with the bureau that allowed the proxy."),
            ),
        ):
            if not proxy.get(field):
                raise RuleViolation(message, field=f"proxy_{field}")
    with transaction.atomic():
        request = _locked(request)
        _expect(request, State.CENTRAL_REVIEWED if needs_central_review(request) else State.SIGNED)
        if request.kind == Kind.TRANSFER and request.receiving_confirmed_at is None:
            raise RuleViolation(
                _("Receiving school: %(school)s has not yet confirmed it can take the student.")
                % {"school": request.to_school.name if request.to_school else ""},
                field="to_school",
            )
        if proxy.get("name"):
            request.proxy_name = proxy["name"][:30]
            request.proxy_id_number = proxy["id_number"][:30]
            request.proxy_relation = proxy["relation"][:20]
            request.proxy_call_note = proxy["call_note"][:200]
            request.proxy_call_at = timezone.now()
        request.session = next_open_session(request.from_school.county)
        request.state = State.SUBMITTED
        request.submitted_at = timezone.now()
        _step(
            request,
            "submitted",
            actor=actor,
            data={"session": request.session.date, "proxy": bool(proxy.get("name"))},
        )
    return request


def do_open_session(county, *, actor) -> ApprovalSession:
    """The bureau opens today's session (or the next one, if today is not a session day)."""
    scope = _require_bureau(actor)
    if scope.county() != county:
        raise PermissionDenied(_("This county is outside your scope."))
    with transaction.atomic():
        session = next_open_session(county)
        session = ApprovalSession.objects.select_for_update().get(pk=session.pk)
        if session.opened_at is None:
            session.opened_at = timezone.now()
            session.save(update_fields=["opened_at"])
            record_event("session.opened", actor=actor, target=session, data={"date": session.date})
    return session


def _apply_approvals(requests: list[ChangeRequest], *, actor) -> None:
    """What approval does at once (C4): a transfer gets its new stay and number before the
    student attends the receiving school; a transfer into the county gets its numbers.
    One approval and a whole session's selection take this same path."""
    transfers = [request for request in requests if request.kind == Kind.TRANSFER]
    if transfers:
        _open_receiving_records(transfers, actor=actor)
    for request in requests:
        if request.kind == Kind.TRANSFER_IN:
            student_services.do_assign_numbers(request.record, actor=None)


def _current_grades(record_ids: list[int]) -> dict[int, int]:
    """_current_grade of many records: the grade of each one's latest placement."""
    grades: dict[int, int] = {}
    for chunk in _chunks(record_ids):
        placements = (
            Placement.objects.filter(record_id__in=chunk)
            .order_by("record_id", "school_year__start_year")
            .values_list("record_id", "grade")
        )
        grades.update(placements)  # the latest year comes last and stays
    return grades


def _open_receiving_records(requests: list[ChangeRequest], *, actor) -> None:
    """Each transfer's old stay closes (transferred out, its number retired) and a stay at
    the receiving school opens, pending until that school records the arrival, with a new
    provincial number (C4). Written in set form: a session approves hundreds at once."""
    now = timezone.now()
    old_records: dict[int, StudentRecord] = {}
    for chunk in _chunks(sorted(request.record_id for request in requests)):
        for record in StudentRecord.objects.select_for_update().filter(pk__in=chunk).order_by("pk"):
            old_records[record.pk] = record
    closing: dict[datetime.date, list[int]] = {}
    for request in requests:
        closing.setdefault(request.effective_date, []).append(request.record_id)
    for day, record_ids in closing.items():
        for chunk in _chunks(record_ids):
            StudentRecord.objects.filter(pk__in=chunk).update(
                status=Status.TRANSFERRED_OUT, exit_date=day, exit_change="27"
            )
    for chunk in _chunks(list(old_records)):
        StudentNumber.objects.filter(
            record_id__in=chunk, kind=NumberKind.PROVINCIAL, retired_at__isnull=True
        ).update(retired_at=now)

    grades = _current_grades([r.record_id for r in requests if not r.to_grade])
    years: dict[int, Any] = {}
    opened: list[tuple[ChangeRequest, StudentRecord, int]] = []
    for request in requests:
        old = old_records[request.record_id]
        school = request.to_school
        assert school is not None, "a transfer within the county names its receiving school"
        if school.county_id not in years:
            years[school.county_id] = calendar.current_school_year(school.county)
        grade = request.to_grade or grades.get(old.pk) or 1
        new = StudentRecord(
            student_id=old.student_id,
            school=school,
            stage=student_rules.stage_for_grade(grade),
            status=Status.PENDING,
            entry_date=request.effective_date,
            entry_year_month=old.entry_year_month,
            entry_change="13",
            entry_method=old.entry_method,
            attendance=old.attendance,
            source=old.source,
            locked_at=old.locked_at,
            locked_by_id=old.locked_by_id,
            created_by=actor,
        )
        opened.append((request, new, grade))
    records = [new for _request, new, _grade in opened]
    values = student_services.provincial_numbers(records)
    for record, value in zip(records, values, strict=True):
        record.provincial_number = value
    StudentRecord.objects.bulk_create(records, batch_size=BATCH)
    Placement.objects.bulk_create(
        [
            Placement(
                record=new,
                school_year=years[request.to_school.county_id],
                grade=grade,
                class_name=request.to_class or "1",
            )
            for request, new, grade in opened
            if request.to_school is not None and years[request.to_school.county_id] is not None
        ],
        batch_size=BATCH,
    )
    StudentNumber.objects.bulk_create(
        [
            StudentNumber(
                student_id=new.student_id, record=new, kind=NumberKind.PROVINCIAL, value=value
            )
            for new, value in zip(records, values, strict=True)
        ],
        batch_size=BATCH,
    )
    for request, new, _grade in opened:
        request.new_record = new


def _decidable(requests: list[ChangeRequest], *, name_student: bool) -> None:
    """The bureau decides a request that waits for it, in a session that is open now.
    The sessions are locked (in order) until the decisions are written."""
    session_ids = sorted({request.session_id for request in requests if request.session_id})
    sessions = {
        session.pk: session
        for session in ApprovalSession.objects.select_for_update()
        .filter(pk__in=session_ids)
        .order_by("pk")
    }
    for request in requests:
        try:
            _expect(request, State.SUBMITTED)
            session = sessions.get(request.session_id or 0)
            if session is None or not session.is_open:
                raise RuleViolation(
                    _("The session of %(date)s is not open; open it first.")
                    % {"date": session.date.isoformat() if session else "—"}
                )
        except RuleViolation as error:
            if not name_student:
                raise
            raise RuleViolation(
                _("%(student)s: %(reason)s")
                % {"student": request.student.name, "reason": error.message},
                field=error.field,
            ) from None


def do_decide(request: ChangeRequest, *, actor, approve: bool, reason: str = "") -> ChangeRequest:
    """The bureau's decision in an open session; a refusal needs a reason. Two bureau users
    deciding one request at once give exactly one decision: the second finds it decided."""
    _require_bureau(actor)
    if not approve and not reason.strip():
        raise RuleViolation(_("Reason: say why the request is refused."), field="reason")
    with transaction.atomic():
        request = _locked(request)
        _decidable([request], name_student=False)
        request.state = State.APPROVED if approve else State.REFUSED
        request.decided_by, request.decided_at = actor, timezone.now()
        request.decision_reason = reason.strip()[:300]
        if approve:
            _apply_approvals([request], actor=actor)
        _step(request, "approved" if approve else "refused", actor=actor, comment=reason)
    return request


def do_approve_many(requests: list[ChangeRequest], *, actor) -> int:
    """Approve a selection of the session at once, in one transaction: all of them, or
    none. Every request is checked as do_decide checks it, and one that cannot be
    approved refuses the whole selection with a message naming its student.

    The same rules and the same rows as one do_decide per request (new stays, numbers,
    steps, audit events), written in set form: the requests and sessions are locked once,
    each school's numbers are taken as one block, and the rows go in as bulk inserts, so
    a session of a thousand transfers takes seconds, not minutes.
    """
    _require_bureau(actor)
    with transaction.atomic():
        locked = _locked_many([request.pk for request in requests])
        if len(locked) != len({request.pk for request in requests}):
            raise RuleViolation(_("A selected request no longer exists; reload the page."))
        _decidable(locked, name_student=True)
        now = timezone.now()
        for request in locked:
            request.state = State.APPROVED
            request.decided_by, request.decided_at = actor, now
            request.decision_reason = ""
            request.waiting_since = now
        _apply_approvals(locked, actor=actor)
        for chunk in _chunks([request.pk for request in locked]):
            ChangeRequest.objects.filter(pk__in=chunk).update(
                state=State.APPROVED,
                decided_by=actor,
                decided_at=now,
                decision_reason="",
                waiting_since=now,
            )
        opened = [request for request in locked if request.new_record_id]
        ChangeRequest.objects.bulk_update(opened, ["new_record"], batch_size=BATCH)
        unit = actor.unit if actor is not None else None
        RequestStep.objects.bulk_create(
            [
                RequestStep(request=request, action="approved", actor=actor, unit=unit)
                for request in locked
            ],
            batch_size=BATCH,
        )
        # The same event as _step writes for one decision, for each request.
        record_events(
            [
                (
                    "change.approved",
                    request,
                    {"kind": request.kind, "state": request.state, "comment": ""},
                )
                for request in locked
            ],
            actor=actor,
        )
    return len(locked)


def do_close_session(session: ApprovalSession, *, actor) -> ApprovalSession:
    """Close a session; what it did not decide waits for the next one."""
    _require_bureau(actor)
    with transaction.atomic():
        session = ApprovalSession.objects.select_for_update().get(pk=session.pk)
        if session.closed_at is not None:
            return session
        session.closed_at = timezone.now()
        session.save(update_fields=["closed_at"])
        waiting = list(session.requests.filter(state=State.SUBMITTED))
        if waiting:
            following = next_open_session(session.county, session.date + datetime.timedelta(days=1))
            ChangeRequest.objects.filter(pk__in=[r.pk for r in waiting]).update(session=following)
        record_event(
            "session.closed", actor=actor, target=session, data={"moved": [r.pk for r in waiting]}
        )
    return session


def do_leader_signoff(session: ApprovalSession, *, actor) -> ApprovalSession:
    """The bureau leader signs the session's decisions."""
    scope = _scope(actor)
    if scope.level != scope.COUNTY or actor.role != Role.BUREAU_LEADER:
        raise PermissionDenied(_("Only the bureau leader signs off a session."))
    with transaction.atomic():
        session = ApprovalSession.objects.select_for_update().get(pk=session.pk)
        if session.leader_signed_at is None:
            session.leader_signed_by, session.leader_signed_at = actor, timezone.now()
            session.save(update_fields=["leader_signed_by", "leader_signed_at"])
            record_event(
                "session.signed_off", actor=actor, target=session, data={"date": session.date}
            )
    return session


# --- Step 5: recording the change -------------------------------------------------------------


EFFECTS = {
    Kind.TRANSFER_OUT: (Status.TRANSFERRED_OUT, "27", True),
    Kind.SUSPENSION: (Status.SUSPENDED, "23", False),
    Kind.RESUMPTION: (Status.ENROLLED, "12", False),
    Kind.DROPOUT: (Status.DROPPED_OUT, "28", False),
    Kind.ABROAD: (Status.ABROAD, "29", True),
    Kind.DEATH: (Status.DECEASED, "26", True),
}


def do_record(request: ChangeRequest, *, actor) -> ChangeRequest:
    """Step 5: after approval the school records the change. For a transfer the receiving
    school confirms the student arrived."""
    school = request.to_school if request.kind == Kind.TRANSFER else request.from_school
    _require_school(actor, school or request.from_school)
    with transaction.atomic():
        request = _locked(request)
        _expect(request, State.APPROVED)
        if request.kind == Kind.TRANSFER:
            StudentRecord.objects.filter(requests_opened=request).update(status=Status.ENROLLED)
        elif request.kind == Kind.TRANSFER_IN:
            StudentRecord.objects.filter(pk=request.record_id).update(
                status=Status.ENROLLED, entry_change="13"
            )
        elif request.kind == Kind.CORRECTION:
            _apply_corrections(request, actor=actor)
        else:
            status, change, closes = EFFECTS[Kind(request.kind)]
            record = StudentRecord.objects.select_for_update().get(pk=request.record_id)
            record.status = status
            if closes:
                record.exit_date, record.exit_change = request.effective_date, change
            record.save(update_fields=["status", "exit_date", "exit_change"])
        request.state = State.RECORDED
        _step(request, "recorded", actor=actor)
    return request


def _apply_corrections(request: ChangeRequest, *, actor) -> None:
    """N6: the approved correction changes the locked items; the old values stay in the
    request and the audit event, and a renamed student keeps the old name as 曾用名."""
    from xueji.students.validation import validate_student

    wanted = {key: values[1] for key, values in request.corrections.items()}
    checked = validate_student(wanted, today=calendar.today(), partial=True)
    student = Student.objects.select_for_update().get(pk=request.student_id)
    record = StudentRecord.objects.select_for_update().get(pk=request.record_id)
    before = {}
    for key, value in checked.values.items():
        item = BY_KEY[key]
        if item.where == STUDENT:
            before[key] = getattr(student, item.field)
            setattr(student, item.field, value)
        elif item.where == RECORD:
            before[key] = getattr(record, item.field)
            setattr(record, item.field, value)
        elif item.where in (FAMILY_1, FAMILY_2):
            member = student.family.get(position=1 if item.where == FAMILY_1 else 2)
            before[key] = getattr(member, item.field)
            setattr(member, item.field, value)
            member.save()
    if "name" in checked.values and before.get("name"):
        student.former_name = before["name"]
        student.pinyin_key, student.initials_key = pinyin_keys(student.name)
    student.save()
    record.save()
    record_event(
        "student.corrected",
        actor=actor,
        target=student,
        data={
            "request": request.pk,
            "changes": {k: [_plain(before.get(k)), _plain(v)] for k, v in checked.values.items()},
        },
    )


def do_withdraw(request: ChangeRequest, *, actor, reason: str) -> ChangeRequest:
    """A request not yet approved may be withdrawn by its school; an approved one cannot."""
    _require_school(actor, request.from_school)
    if not reason.strip():
        raise RuleViolation(_("Reason: say why the request is withdrawn."), field="reason")
    with transaction.atomic():
        request = _locked(request)
        if request.state == State.APPROVED:
            raise RuleViolation(_("An approved request cannot be withdrawn."))
        _expect(request, *[s for s in PENDING_STATES if s != State.APPROVED])
        request.state = State.WITHDRAWN
        _step(request, "withdrawn", actor=actor, comment=reason)
    return request


# --- P4: who owes the waiting step, and for how long ------------------------------------------


def owed_by(request: ChangeRequest) -> Unit | None:
    """The unit that owes the step the request waits for (P4)."""
    if request.state == State.SUBMITTED:
        return Unit.objects.filter(
            county_id=request.from_school.county_id, kind=Unit.Kind.BUREAU
        ).first()
    if request.state == State.SIGNED and needs_central_review(request):
        return Unit.objects.filter(parent_id=request.from_school.parent_id, is_central=True).first()
    if request.state == State.APPROVED and request.kind == Kind.TRANSFER:
        return request.to_school
    if request.state in PENDING_STATES:
        return request.from_school
    return None


@dataclass(frozen=True)
class WaitingFacts:
    """What the age of a waiting step is counted against, read once for a whole list of
    one county's requests (the session page shows a thousand)."""

    special: dict[datetime.date, str]
    limit: int


def waiting_facts(county) -> WaitingFacts:
    year = calendar.current_school_year(county)
    return WaitingFacts(calendar.special_days(county), year.step_limit_working_days if year else 10)


def waiting_working_days(
    request: ChangeRequest,
    today: datetime.date | None = None,
    *,
    facts: WaitingFacts | None = None,
) -> int:
    today = today or calendar.today()
    special = facts.special if facts else calendar.special_days(request.from_school.county)
    return calendar_rules.working_days_between(
        timezone.localdate(request.waiting_since), today, special
    )


def is_overdue(
    request: ChangeRequest,
    today: datetime.date | None = None,
    *,
    facts: WaitingFacts | None = None,
) -> bool:
    if not request.is_pending:
        return False
    facts = facts or waiting_facts(request.from_school.county)
    return waiting_working_days(request, today, facts=facts) > facts.limit


# --- C9: change-management plans --------------------------------------------------------------


def do_file_plan(unit: Unit, data: bytes, *, actor, note: str = "") -> ChangePlan:
    """A unit files its change-management plan (异动管理方案) with the bureau."""
    scope = _scope(actor)
    if not scope.may("changes.request") or scope.unit is None or scope.unit.pk != unit.pk:
        raise PermissionDenied(_("A unit files its own plan."))
    if len(data) > 10 * rules.evidence_max_bytes():
        raise RuleViolation(_("Plan: the file is too large."), field="file")
    content_type = _verified_scan(data, _("Plan"), _("Plan: upload a PDF, JPG or PNG file."))
    with transaction.atomic():
        plan = ChangePlan(
            unit=unit, content_type=content_type, note=note.strip()[:200], filed_by=actor
        )
        extension = uploads.SCAN_TYPES[content_type]
        plan.file.save(
            f"plan-{unit.pk}-{timezone.now():%Y%m%d%H%M%S}.{extension}",
            ContentFile(data),
            save=False,
        )
        plan.save()
        record_event(
            "change_plan.filed", actor=actor, target=plan, unit=unit, data={"note": plan.note}
        )
    return plan
