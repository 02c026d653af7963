"""The student pages (B1, B3, N5, N10, N11): the list and its search, the student page with
its timeline, data entry, the bureau's double-registration page and photo collection.

Thin views: every row comes from the actor's scope (404 outside it, so ids cannot be
probed), every change from one service. A refusal (RuleViolation) lands on the field it
names; validation problems come from validate_student, the one place that checks items.
"""

import datetime
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.html import conditional_escape, escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xueji.audit.models import AuditEvent
from xueji.core import calendar, uploads
from xueji.core.errors import RuleViolation
from xueji.core.scope import Scope, scope_for
from xueji.core.views import form_error
from xueji.students import codes, detail, form_items, rules, services
from xueji.students.forms import (
    ReasonForm,
    StudentFilterForm,
    StudentForm,
    field_name,
    sections,
)
from xueji.students.identity import RESIDENT_ID, check_id_number
from xueji.students.models import (
    OPEN_STATUSES,
    Placement,
    Status,
    Student,
    StudentRecord,
)
from xueji.students.queries import ListedRecord, StudentFilter, list_page
from xueji.students.validation import FieldProblem, Validated, validate_student

PAGE_SIZE = 50
SCHOOL_ORDER = ("parent__ordinal", "parent__name", "ordinal", "name")

# The student's audit events, named for people; an action without a name shows its code.
ACTION_LABELS = {
    "student.registered": gettext_lazy("Registered"),
    "student.updated": gettext_lazy("Data changed"),
    "student.revealed": gettext_lazy("Masked data shown in full"),
    "student.photo_set": gettext_lazy("Photo stored"),
    "record.locked": gettext_lazy("Record submitted and locked"),
    "record.reopened": gettext_lazy("Record returned for correction"),
    "record.numbered": gettext_lazy("Numbers assigned"),
    "record.placed": gettext_lazy("Grade and class set"),
    "duplicate.decided": gettext_lazy("Double registration decided"),
    "student.corrected": gettext_lazy("Corrected by an approved request"),
}

# What the "show" buttons reveal (services.do_reveal), and the cells each one fills.
STUDENT_ADDRESSES = ("current_address", "mailing_address", "home_address")
FAMILY_REVEALABLE = ("id_number", "current_address", "hukou_address")
FAMILY_MASKED = FAMILY_REVEALABLE
FAMILY = (form_items.FAMILY_1, form_items.FAMILY_2)


def _open_record(student: Student) -> StudentRecord | None:
    return (
        student.records.filter(status__in=OPEN_STATUSES)
        .select_related("school", "locked_by")
        .first()
    )


# --- The list (B1) ---------------------------------------------------------------------------


def _grade_of(record: ListedRecord, text: str) -> str:
    if record.grade is None:
        return ""
    return text % {"grade": record.grade, "class_name": record.class_name}


@login_required
def student_list(request):
    scope = scope_for(request.user)
    scope.require("students.view")
    form = None
    if not request.htmx:  # the search box's results alone show no filters
        # (id, name) pairs: a county's 200 schools as model objects cost more than the page.
        schools = list(scope.schools().order_by(*SCHOOL_ORDER).values_list("pk", "name"))
        form = StudentFilterForm(request.GET or None, schools=schools)
    wanted = StudentFilter.from_params(request.GET)
    county = scope.county()
    year = calendar.current_school_year(county, semesters=False) if county else None
    # Each row comes with its grade and class this year and its double-registration mark.
    page = list_page(scope, wanted, request.GET.get("page"), PAGE_SIZE, year=year)
    context = {
        "form": form,
        "page": page,
        "rows": rows_markup(list_rows(page)),
        "year": year,
        "may_register": scope.may("students.edit") and scope.level != scope.NONE,
    }
    template = "students/_results.html" if request.htmx else "students/student_list.html"
    response = render(request, template, context)
    # The same address answers a page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ("HX-Request",))
    return response


def list_rows(page) -> list[dict]:
    """What each row of the list shows, from the page's records."""
    # One mapping for the page: get_status_display rebuilds it for every row. The link and
    # the grade are written here once per row, not by a template tag each (50 reverse()
    # and blocktranslate calls were a fifth of the page's time).
    status_names = dict(Status.choices)
    detail_url = reverse("student_detail", args=[0]).removesuffix("0/")
    grade_text = _("Grade %(grade)s, class %(class_name)s")
    return [
        {
            "record": record,
            "url": f"{detail_url}{record.student_id}/",
            "grade": _grade_of(record, grade_text),
            "held": record.held,
            "masked_id": rules.mask_id_number(record.student.id_number),
            "sex": codes.name_of("sex", record.student.sex),
            "status": status_names.get(record.status, record.status),
        }
        for record in page
    ]


def rows_markup(rows: list[dict]) -> str:
    """The list's rows as <tr> cells, written here: up to 50 rows through the template's
    tags were a fifth of a search's time, and the search box's results are 60% of the load
    test (issue 9). Every value is escaped; "" when there is no row."""
    dash = "—"
    muted_dash = f'<span class="muted">{dash}</span>'
    locked = f' <span class="tag">{escape(_("locked"))}</span>'
    held = f' <span class="tag warn">{escape(_("possible double registration"))}</span>'
    written = []
    for row in rows:
        record, student = row["record"], row["record"].student
        cells = (
            f'<td class="nowrap"><a href="{escape(row["url"])}">{escape(student.name)}</a></td>',
            f"<td>{escape(row['sex'])}</td>",
            f'<td class="nowrap"><code class="id">{escape(row["masked_id"] or dash)}</code></td>',
            f"<td>{escape(record.school.name)}</td>",
            f'<td class="nowrap">{escape(row["grade"]) if row["grade"] else muted_dash}</td>',
            f'<td class="nowrap">{escape(record.provincial_number or dash)}</td>',
            f'<td class="nowrap">{escape(student.national_number or dash)}</td>',
            f"<td>{escape(row['status'])}{locked if record.locked_at else ''}"
            f"{held if row['held'] else ''}</td>",
        )
        written.append(f"<tr>{''.join(cells)}</tr>")
    return mark_safe("".join(written))  # every value escaped above


# --- The student page (B1, N5) -----------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _sources(
    student: Student, record: StudentRecord | None, placements: list[Placement] | None = None
) -> dict[str, object]:
    """The rows each item is read from: the student, their record, its current placement
    and the two family members. `placements`, when given, are the student's (newest
    first, with their school years), read already for the page."""
    placement = None
    if record is not None:
        year = calendar.current_school_year(record.school.county_id, semesters=False)
        if placements is None:
            placements = list(record.placements.select_related("school_year"))
        else:
            placements = [each for each in reversed(placements) if each.record_id == record.pk]
        placement = next((p for p in placements if p.school_year == year), None)
        placement = placement or (placements[-1] if placements else None)
    family = {member.position: member for member in detail.family(student)}
    return {
        form_items.STUDENT: student,
        form_items.RECORD: record,
        form_items.PLACEMENT: placement,
        form_items.FAMILY_1: family.get(1),
        form_items.FAMILY_2: family.get(2),
    }


def _item_text(item: form_items.Item, value) -> str:
    """An item's value as people read it: code names instead of codes."""
    if value is None or value == "":
        return ""
    if item.kind == form_items.YES_NO:
        return codes.name_of("yes_no", "1" if value else "0")
    if item.kind == form_items.CODE:
        return codes.name_of(item.table, str(value))
    return _text(value)


def _reveal_of(item: form_items.Item) -> str:
    """Which "show" button reveals this item ("" when it is not masked)."""
    if item.where == form_items.STUDENT and item.field == "id_number":
        return "id_number"
    if item.where == form_items.STUDENT and item.field in STUDENT_ADDRESSES:
        return "address"
    if item.where in FAMILY and item.field in FAMILY_REVEALABLE:
        return "family"
    return ""


def _masked(item: form_items.Item) -> bool:
    return bool(_reveal_of(item)) or (item.where in FAMILY and item.field in FAMILY_MASKED)


def _mask(item: form_items.Item, value: str) -> str:
    return rules.mask_id_number(value) if item.field == "id_number" else rules.mask_address(value)


# An item's label, translated and escaped, by (language, item): 72 lazy translations a
# student page, each resolved through gettext again (issue 9).
_LABELS: dict[tuple[str, str], str] = {}


def _label(item: form_items.Item) -> str:
    key = (get_language(), item.key)
    label = _LABELS.get(key)
    if label is None:
        label = _LABELS[key] = escape(str(item.label))
    return label


def _card_markup(
    sections: list[tuple[object, list]], *, reveal_form: str | None
) -> list[tuple[object, str]]:
    """The card's sections as the page's <dt>/<dd> cells, written here: 72 items through
    the template's tags were a third of the student page's time. `reveal_form` is the
    "Show" button's form with WHAT to fill, or None when the user may not reveal."""
    dash = "—"
    written: list[tuple[object, str]] = []
    for title, rows in sections:
        cells = []
        for row in rows:
            label = conditional_escape(row["label"])
            if row["masked"]:
                button = ""
                if row.get("what") and reveal_form is not None:
                    button = reveal_form.replace(WHAT, escape(row["what"]))
                cells.append(
                    f'<dt>{label}</dt><dd><div id="{escape(row["dom_id"])}" class="reveal">'
                    f'<code class="id">{escape(row["value"])}</code>{button}</div></dd>'
                )
            else:
                cells.append(f"<dt>{label}</dt><dd>{escape(row['value'] or dash)}</dd>")
        written.append((title, mark_safe("".join(cells))))  # every part escaped above
    return written


WHAT = "\x00what\x00"  # where _reveal_form's markup takes the item to reveal


def _reveal_form(request, student) -> str:
    """The "Show" button's form, WHAT left to fill (the template's markup, once)."""
    url = escape(reverse("student_reveal", args=[student.pk]))
    token = escape(get_token(request))
    return (
        f'<form method="post" action="{url}" hx-post="{url}" hx-swap="none" class="inline">'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
        f'<input type="hidden" name="what" value="{WHAT}">'
        f'<button type="submit" class="link">{escape(_("Show"))}</button></form>'
    )


def _card_sections(
    student, record, revealed: dict[str, str], placements: list[Placement]
) -> list[tuple[object, list]]:
    """Every item of the national form, grouped as the form is, masked where it must be."""
    sources = _sources(student, record, placements)
    shown_buttons: set[str] = set()
    result = []
    for title, items in sections():
        rows = []
        for item in items:
            if item.kind == form_items.PHOTO:
                continue
            row = sources[item.where]
            value = _item_text(item, getattr(row, item.field, None) if row is not None else None)
            what = _reveal_of(item)
            dom_id = "reveal-" + field_name(item.key)
            cell = {"label": _label(item), "value": value, "dom_id": dom_id, "masked": False}
            if _masked(item) and value:
                if dom_id in revealed:
                    cell["value"] = revealed[dom_id]
                else:
                    cell["value"] = _mask(item, value)
                    cell["masked"] = True
                    if what and what not in shown_buttons:
                        cell["what"] = what
                        shown_buttons.add(what)
            rows.append(cell)
        result.append((title, rows))
    return result


REVEALED_WHAT = {
    "id_number": gettext_lazy("ID number"),
    "address": gettext_lazy("Addresses"),
    "family": gettext_lazy("Family members' ID numbers and addresses"),
    "edit": gettext_lazy("Everything masked, in the edit form"),
}


def _detail(event: AuditEvent) -> str:
    """What an event's data adds for people: a return's reason, what was revealed."""
    data = event.data if isinstance(event.data, dict) else {}
    if event.action == "record.reopened":
        return str(data.get("reason", ""))
    if event.action == "student.revealed":
        return str(REVEALED_WHAT.get(str(data.get("what", "")), ""))
    return ""


def _may_return(scope: Scope, record: StudentRecord | None) -> bool:
    """A reviewer returns a submitted record (N5): the bureau, or the central school for a
    school it supervises; never the school that submitted it."""
    if record is None or not record.is_locked or not scope.may("students.edit"):
        return False
    if not scope.can_see(record.school):
        return False
    if scope.level == scope.COUNTY:
        return True
    own = scope.unit.pk if scope.unit is not None else None
    return scope.level == scope.TOWNSHIP and record.school_id != own


def _attach_records(rows: list, records: dict[int, StudentRecord]) -> None:
    """Give placements and numbers their record (and its school) from the records the page
    has read already: joining each row to its record and school again (wide rows to
    compile and build) cost the student page about 1.5 of its 17.5 ms of Python."""
    for row in rows:
        if row.record_id in records:
            row.record = records[row.record_id]


def _render_detail(request, scope, student, *, revealed=None, reason_form=None, status=200):
    records = detail.records(student)
    record = next((r for r in records if r.is_open), None)
    record_rows = [
        {
            "record": each,
            "entry_change": codes.name_of("change_kind", each.entry_change),
            "exit_change": codes.name_of("change_kind", each.exit_change),
        }
        for each in records
    ]
    events = [
        {"event": event, "label": ACTION_LABELS.get(event.action, ""), "reason": _detail(event)}
        for event in detail.events(student, records)
    ]
    may_reveal = scope.may("students.reveal")
    # The history's placements, newest first; the card takes the open record's from them.
    by_pk = {each.pk: each for each in records}
    placements = detail.placements(list(by_pk))
    numbers = detail.numbers(student)
    _attach_records([*placements, *numbers], by_pk)
    context = {
        "student": student,
        "record": record,
        "records": record_rows,
        "every_record": records,
        "placements": placements,
        "numbers": numbers,
        "events": events,
        "card": _card_markup(
            _card_sections(student, record, revealed or {}, placements),
            reveal_form=_reveal_form(request, student) if may_reveal else None,
        ),
        "held": services.has_open_duplicate(student),
        "may_edit": record is not None and scope.can_edit_school(record.school),
        "may_photo": record is not None and scope.may("students.edit") and not record.is_locked,
        "may_reveal": may_reveal,
        "may_return": _may_return(scope, record),
        "reason_form": reason_form or ReasonForm(),
        "sex_name": codes.name_of("sex", student.sex),
    }
    response = render(request, "students/student_detail.html", context, status=status)
    if revealed:
        add_never_cache_headers(response)
    return response


@login_required
def student_detail(request, pk: int):
    scope = scope_for(request.user)
    return _render_detail(request, scope, scope.get_student(pk))


def _revealed_cells(what: str, values: dict) -> dict[str, str]:
    """do_reveal's answer as the page's cells: dom id → full value."""
    if what == "family":
        return {
            f"reveal-{member}__{name}": str(value)
            for member, fields in values.items()
            for name, value in fields.items()
            if value
        }
    return {f"reveal-{name}": str(value) for name, value in values.items() if value}


@login_required
@require_POST
def student_reveal(request, pk: int):
    scope = scope_for(request.user)
    student = scope.get_student(pk)
    what = request.POST.get("what", "")
    try:
        values = services.do_reveal(student, what, actor=request.user)
    except RuleViolation as error:
        messages.error(request, error.message)
        return redirect("student_detail", pk=student.pk)
    revealed = _revealed_cells(what, values)
    if request.htmx:
        response = render(request, "students/_revealed.html", {"cells": revealed.items()})
        add_never_cache_headers(response)
        return response
    return _render_detail(request, scope, student, revealed=revealed)


@login_required
def student_photo(request, pk: int):
    """The photo, through the scope: never a public /media/ address."""
    student = scope_for(request.user).get_student(pk)
    if not student.photo:
        raise Http404(_("This student has no photo."))
    try:
        stored = student.photo.open("rb")
    except FileNotFoundError:
        raise Http404(_("This student has no photo.")) from None
    # Always the JPEG that photos.py re-encoded; a private cache keeps lists of thumbnails
    # quick.
    return uploads.file_response(
        stored, content_type=uploads.JPEG, filename=f"photo-{student.pk}.jpg", cache_seconds=300
    )


@login_required
@require_POST
def student_return(request, pk: int):
    scope = scope_for(request.user)
    student = scope.get_student(pk)
    record = _open_record(student)
    if not _may_return(scope, record):
        raise PermissionDenied(_("You may not return this record."))
    assert record is not None
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.do_reopen_record(record, form.cleaned_data["reason"], actor=request.user)
        except RuleViolation as error:
            form_error(form, error)
        else:
            messages.success(
                request,
                _("The record has been returned to %(school)s for correction.")
                % {"school": record.school.name},
            )
            return redirect("student_detail", pk=student.pk)
    return _render_detail(request, scope, student, reason_form=form, status=400)


# --- Data entry (N1, N5, N10, N11) ---------------------------------------------------------------


def _put_problems(form: StudentForm, checked: Validated) -> None:
    for problem in checked.errors:
        name = field_name(problem.key)
        form.add_error(name if name in form.fields else None, problem.message)


def _on_field(error: RuleViolation, changed) -> RuleViolation:
    """A service names an item by key ("id_number", "family1.is_guardian") or, for a
    family member's locked field, by its field ("name"): find the form field it means."""
    if not error.field:
        return error
    candidates = [error.field, f"family1.{error.field}", f"family2.{error.field}"]
    key = next((c for c in candidates if c in changed), error.field)
    return RuleViolation(error.message, field=field_name(key))


def _form_page(request, form, *, title, warnings, student=None, school=None, locked=False):
    return render(
        request,
        "students/student_form.html",
        {
            "form": form,
            "title": title,
            "warnings": warnings,
            "student": student,
            "school": school,
            "locked": locked,
        },
    )


@login_required
def student_new(request):
    scope = scope_for(request.user)
    scope.require("students.edit")
    school = None
    schools = None
    if scope.level == scope.COUNTY:
        schools = scope.schools().filter(is_active=True).order_by(*SCHOOL_ORDER)
    elif scope.unit is not None and scope.unit.is_school:
        school = scope.unit
    else:
        raise PermissionDenied(_("Your role may not do this."))
    form = StudentForm(
        request.POST or None,
        schools=schools,
        initial={field_name(key): value for key, value in NEW_DEFAULTS.items()},
    )
    warnings: list[FieldProblem] = []
    if request.method == "POST":
        form.is_valid()
        raw = form.raw_values()
        checked = validate_student(raw, today=calendar.today(), partial=False)
        _put_problems(form, checked)
        warnings = checked.warnings
        year = calendar.current_school_year(scope.county())
        if year is None:
            form.add_error(None, _("The county has no school year yet; the bureau sets it up."))
        if not form.errors and year is not None:
            try:
                done = services.do_register_student(
                    checked.values,
                    actor=request.user,
                    school=school or form.cleaned_data["school"],
                    school_year=year,
                    status=Status.PENDING,
                )
            except RuleViolation as error:
                form_error(form, _on_field(error, raw))
            else:
                for warning in warnings:
                    messages.warning(request, warning.message)
                if done.duplicates:
                    messages.warning(
                        request,
                        _(
                            "This registration looks like a student already registered; "
                            "it is held for the bureau's decision."
                        ),
                    )
                if done.reused_student:
                    messages.info(
                        request,
                        _(
                            "This ID number belongs to a former student of the registry: the "
                            "new record continues their file, and their personal data is kept "
                            "as it was. Check it on the student page."
                        ),
                    )
                messages.success(
                    request,
                    _("%(name)s has been registered, pending intake.")
                    % {"name": done.student.name},
                )
                return redirect("student_detail", pk=done.student.pk)
    return _form_page(
        request, form, title=_("Register a student"), warnings=warnings, school=school
    )


def _initial(student: Student, record: StudentRecord | None) -> dict[str, str]:
    sources = _sources(student, record)
    initial = {}
    for item in form_items.ITEMS:
        if item.kind == form_items.PHOTO:
            continue
        row = sources[item.where]
        initial[item.key] = _text(getattr(row, item.field, None) if row is not None else None)
    return initial


# Items checked together: a change to one is validated with the others (the ID number
# against the birth date and sex it implies).
ID_GROUP = ("id_type", "id_number", "birth_date", "sex")
LOCKED_KEYS = frozenset(
    item.key for item in form_items.ITEMS if item.reported and item.where != form_items.PLACEMENT
)
# The provincial number is given by numbering (N3) and changes only by a transfer, so
# the edit form shows it without changing it; grade and class stay the school's to edit.
ENROLMENT_KEYS = frozenset({"provincial_number"})
# A new pupil's usual values, so the registrar changes only what differs; items that
# differ from pupil to pupil (sex, ethnicity, household type, guardians) start empty.
NEW_DEFAULTS = {
    "nationality": "156",
    "id_type": "1",
    "overseas": "00",
    "health": "10",
    "entry_method": "11",
    "attendance": "1",
    "source": "1",
    "left_behind": "0",
    "inclusive": "0",
    "disability": "0",
    "migrant_child": "0",
    "orphan": "0",
    "martyr_child": "0",
    "government_place": "0",
    "needs_aid": "0",
    "one_subsidy": "0",
    "school_bus": "0",
}


def _changed(form: StudentForm, initial: dict[str, str]) -> dict[str, str]:
    """The items whose posted value differs from the stored one. A field not posted at all
    (a disabled one) is unchanged; a locked field posted anyway counts, so the service
    refuses it on the field instead of the change vanishing silently."""
    raw = {
        key: value
        for key, value in form.raw_values(list(initial)).items()
        if field_name(key) in form.data and key not in ENROLMENT_KEYS
    }
    changed = {key: value for key, value in raw.items() if value.strip() != initial[key].strip()}
    if any(key in changed for key in ID_GROUP):
        for key in ID_GROUP:
            changed.setdefault(key, raw.get(key, initial[key]))
    return changed


@login_required
def student_edit(request, pk: int):
    scope = scope_for(request.user)
    student = scope.get_student(pk)
    record = _open_record(student)
    if record is None:
        messages.error(request, _("This student has no open record to edit."))
        return redirect("student_detail", pk=student.pk)
    if not scope.can_edit_school(record.school):
        raise PermissionDenied(
            _("You may not change the students of %(school)s.") % {"school": record.school.name}
        )
    if request.method == "GET":
        services.do_open_for_editing(student, actor=request.user)
    initial = _initial(student, record)
    form = StudentForm(
        request.POST or None,
        initial={field_name(key): value for key, value in initial.items()},
        locked=LOCKED_KEYS if record.is_locked else (),
        readonly=ENROLMENT_KEYS,
    )
    warnings: list[FieldProblem] = []
    if request.method == "POST":
        form.is_valid()
        changed = _changed(form, initial)
        checked = validate_student(changed, today=calendar.today(), partial=True)
        _put_problems(form, checked)
        warnings = checked.warnings
        if not changed:
            messages.info(request, _("Nothing was changed."))
            return redirect("student_detail", pk=student.pk)
        if not form.errors:
            values = {key: value for key, value in checked.values.items() if key in changed}
            try:
                services.do_update_student(student, values, actor=request.user)
            except RuleViolation as error:
                form_error(form, _on_field(error, changed))
            else:
                for warning in warnings:
                    messages.warning(request, warning.message)
                messages.success(
                    request, _("%(name)s has been saved.") % {"name": values.get("name", student)}
                )
                return redirect("student_detail", pk=student.pk)
    return _form_page(
        request,
        form,
        title=_("Edit %(name)s") % {"name": student.name},
        warnings=warnings,
        student=student,
        school=record.school,
        locked=record.is_locked,
    )


@login_required
@require_POST
def id_check(request):
    """The ID number's check while typing: its problems, and the birth date and sex it
    implies filled into the form (an htmx fragment with out-of-band swaps)."""
    scope_for(request.user).require("students.edit")
    number = request.POST.get("id_number", "").strip()
    id_type = request.POST.get("id_type", RESIDENT_ID)
    context: dict[str, object] = {"problems": [], "notes": [], "filled": None}
    if number and id_type in (RESIDENT_ID, ""):
        result = check_id_number(number, today=calendar.today())
        label = str(form_items.BY_KEY["id_number"].label)
        context["problems"] = [FieldProblem("id_number", label, r).message for r in result.errors]
        context["notes"] = [
            FieldProblem("id_number", label, r, warning=True).message
            for r in result.warnings + result.notes
        ]
        if result.ok and result.birth_date is not None:
            form = StudentForm(
                initial={"birth_date": result.birth_date.isoformat(), "sex": result.sex}
            )
            context["filled"] = [form["birth_date"], form["sex"]]
    return render(request, "students/_id_check.html", context)


# --- Double registrations (N11) ----------------------------------------------------------------
