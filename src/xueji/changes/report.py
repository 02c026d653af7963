"""The change report (异动报表, C3 step 2): what it states, the A4 paper, and the view.

The report states facts about the student, the change and the documents seen; the same
facts, read live, let `/verify/<code>/` say whether a printed report still matches. The
request's state is not a fact: a report stays valid while the request moves through its
steps, and turns "changed" only when the student, the change or the documents change.
Every value is stored untranslated (codes, names, dates), so the content hash does not
depend on the language of whoever prints or checks the paper.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy
from django.views.decorators.http import require_GET

from xueji.changes import rules, services
from xueji.changes.models import ChangeRequest, Kind
from xueji.core.errors import RuleViolation
from xueji.core.scope import scope_for
from xueji.reports.models import IssuedPaper
from xueji.reports.pdf import Document, Pair
from xueji.reports.verify import do_issue_paper, register_facts
from xueji.students import codes
from xueji.students.form_items import BY_KEY

KIND = IssuedPaper.Kind.CHANGE_REPORT

# Readable names of the fact keys, for the verify page of a user in scope.
FACT_LABELS: dict[str, Any] = {
    "student_name": pgettext_lazy("person", "Name"),
    "sex": gettext_lazy("Sex"),
    "birth_date": gettext_lazy("Birth date"),
    "id_number": gettext_lazy("ID number"),
    "national_number": gettext_lazy("National number"),
    "provincial_number": gettext_lazy("Provincial number"),
    "grade": gettext_lazy("Grade"),
    "class_name": gettext_lazy("Class"),
    "from_school": gettext_lazy("School"),
    "to_school": gettext_lazy("Receiving school"),
    "outside_school": gettext_lazy("School outside the county"),
    "kind": gettext_lazy("Kind of change"),
    "reason": gettext_lazy("Reason"),
    "reason_note": gettext_lazy("Explanation"),
    "effective_date": gettext_lazy("Effective date"),
    "suspension_until": gettext_lazy("Suspended until"),
    "corrections": gettext_lazy("Corrections"),
    "documents": gettext_lazy("Documents"),
}


# --- The facts --------------------------------------------------------------------------


def _placement(record):
    return record.placements.order_by("-school_year__start_year").first()


def _documents(request: ChangeRequest) -> list[dict[str, Any]]:
    """The documents the kind and reason require, each with whether a scan of it was
    checked against the original."""
    checked = set(
        request.evidence.filter(checked_at__isnull=False).values_list("document", flat=True)
    )
    return [
        {"document": code, "name": rules.document_name(code), "checked": code in checked}
        for code in rules.required_documents(request.kind, request.reason)
    ]


def change_report_facts(request_id: str) -> dict[str, Any] | None:
    """What the change report of this request states, read live; None when it is gone."""
    request = (
        ChangeRequest.objects.select_related("student", "record", "from_school", "to_school")
        .filter(pk=request_id)
        .first()
    )
    if request is None:
        return None
    student, record = request.student, request.record
    placement = _placement(record)
    reason = rules.reasons(request.kind).get(request.reason, {})
    return {
        "student_name": student.name,
        "sex": codes.name_of("sex", student.sex),
        "birth_date": student.birth_date,
        # In full: the paper is handed over in person, and the verify page shows facts
        # only to users whose scope covers the school.
        "id_number": student.id_number,
        "national_number": student.national_number or "",
        "provincial_number": record.provincial_number or "",
        "grade": placement.grade if placement else None,
        "class_name": placement.class_name if placement else "",
        "from_school": request.from_school.name,
        "to_school": request.to_school.name if request.to_school else "",
        "outside_school": request.outside_school,
        "kind": request.kind,
        "reason": reason.get("label", request.reason),
        "reason_note": request.reason_note,
        "effective_date": request.effective_date,
        "suspension_until": request.suspension_until,
        "corrections": request.corrections,
        "documents": _documents(request),
    }


register_facts(KIND, change_report_facts, labels=FACT_LABELS)


# --- The paper --------------------------------------------------------------------------


def _yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def _correction_value(key: str, value: Any) -> str:
    """A corrected item as people read it: a code with its name from the code table."""
    item = BY_KEY.get(key)
    if item is not None and item.table and value not in (None, ""):
        return codes.name_of(item.table, str(value))
    if isinstance(value, bool):
        return _yes_no(value)
    return "" if value is None else str(value)


def signature_labels(request: ChangeRequest) -> list[str]:
    """The school signs and stamps; a rural primary school's central school re-reviews
    (C3 step 3); the bureau approves."""
    labels = [
        _("School registrar"),
        _("School leader in charge"),
        _("School stamp"),
    ]
    if services.needs_central_review(request):
        labels.append(_("Central school re-review"))
    labels.append(_("Education bureau approval"))
    return labels


def render_change_report(request: ChangeRequest, paper: IssuedPaper) -> bytes:
    """The A4 change report of this issued paper: it prints the facts the paper recorded,
    so the page and its verification code always state the same thing."""
    facts = paper.facts
    title = _("Change report")
    document = Document(title, code=paper.code, author=paper.unit.name)
    document.title(
        title,
        subtitle=_("Request no. %(number)s · %(school)s")
        % {"number": request.pk, "school": facts["from_school"]},
    )

    document.paragraph(pgettext("report section", "Student"), size=12)
    grade = facts.get("grade")
    document.grid(
        [
            (pgettext("person", "Name"), facts["student_name"]),
            (_("Sex"), facts["sex"]),
            (_("Birth date"), facts["birth_date"]),
            (_("ID number"), facts["id_number"]),
            (_("National number"), facts["national_number"]),
            (_("Provincial number"), facts["provincial_number"]),
            (_("School"), facts["from_school"]),
            (
                _("Grade and class"),
                _("Grade %(grade)s, class %(class)s")
                % {"grade": grade, "class": facts.get("class_name", "")}
                if grade
                else "",
            ),
        ]
    )

    document.paragraph(pgettext("report section", "Change"), size=12)
    change: list[Pair] = [
        (_("Kind of change"), Kind(facts["kind"]).label),
        (_("Effective date"), facts["effective_date"]),
        (_("Reason"), facts["reason"], 2),
    ]
    if facts.get("reason_note"):
        change.append((_("Explanation"), facts["reason_note"], 2))
    if facts.get("to_school"):
        change.append((_("Receiving school"), facts["to_school"], 2))
    if facts.get("outside_school"):
        change.append((_("School outside the county"), facts["outside_school"], 2))
    if facts.get("suspension_until"):
        change.append((_("Suspended until"), facts["suspension_until"], 2))
    document.grid(change)

    if facts.get("corrections"):
        document.paragraph(_("Corrections"), size=12)
        rows = []
        for key, (recorded, corrected) in facts["corrections"].items():
            item = BY_KEY.get(key)
            rows.append(
                [
                    str(item.label) if item is not None else key,
                    _correction_value(key, recorded),
                    _correction_value(key, corrected),
                ]
            )
        document.table(
            [_("Item"), pgettext("value before correction", "Recorded"), _("Corrected")],
            rows,
            widths=[1, 1.5, 1.5],
        )

    document.paragraph(_("Documents seen"), size=12)
    document.table(
        [_("Document"), _("Checked against the original")],
        [[entry["name"], _yes_no(entry["checked"])] for entry in facts["documents"]],
        widths=[3, 1.2],
    )

    document.signatures(signature_labels(request))
    return document.build()


# --- Issuing and the view ---------------------------------------------------------------


def issue_change_report(request: ChangeRequest, *, actor) -> tuple[IssuedPaper, bytes]:
    """Step 2: record the printed paper and mark the report printed, in one transaction,
    and return the paper and its PDF. The caller has checked `services.may_print`; the
    step itself refuses a request whose documents are not yet checked."""
    with transaction.atomic():
        request = services.do_mark_report_printed(request, actor=actor)
        facts = change_report_facts(str(request.pk))
        assert facts is not None, "the request was just locked"
        paper = do_issue_paper(
            KIND,
            request,
            facts,
            actor=actor,
            unit=request.from_school,
            students=[request.student_id],
        )
        pdf = render_change_report(request, paper)
    return paper, pdf


def pdf_response(request: ChangeRequest, pdf: bytes) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="change-report-{request.pk}.pdf"'
    # A child's personal data: never kept by a shared cache.
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def change_report(request, pk: int):
    user = request.user
    change = scope_for(user).get_request(pk)
    if not services.may_print(user, change):
        raise PermissionDenied(_("You may not print this request's report."))
    try:
        _paper, pdf = issue_change_report(change, actor=user)
    except RuleViolation as error:
        # Printed too early (documents not yet checked): the request page says why.
        messages.error(request, error.message)
        return redirect("request_detail", pk=change.pk)
    return pdf_response(change, pdf)
