"""The school's side of primary intake (N1, N2, N5): the intake page with its bulk actions
and the fast entry form built for the household register and the keyboard.

Thin views: the school comes from the actor's scope (404 outside it), every write is a
POST that calls one service and turns its refusal into a message. The reviewing unit's
and the bureau's pages live in review_views.py.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from xueji.core import calendar
from xueji.core.errors import RuleViolation
from xueji.core.scope import Scope, scope_for
from xueji.core.views import form_error
from xueji.intake import services
from xueji.intake.forms import SAME_AS_HOME, SHARED_KEYS, EntryForm, ExceptionForm
from xueji.intake.models import EntryState, IntakeEntry
from xueji.orgs.models import Stage, Unit
from xueji.students import codes, rules
from xueji.students.forms import field_name
from xueji.students.identity import RESIDENT_ID, check_id_number
from xueji.students.models import Student
from xueji.students.validation import FieldProblem, validate_student
from xueji.students.views import NEW_DEFAULTS, _initial, _open_record, _put_problems

# The pupil entered last by this user, for "same family as the last pupil" (twins,
# siblings): kept in the session, so it is nobody else's and ends with the login.
LAST_PUPIL = "intake_last_pupil"
# States in which the school may still record a documented exception (the service's rule).
EXCEPTION_STATES = (EntryState.ENTERED, EntryState.RETURNED, EntryState.AWAITING_REVIEW)


# --- Which school -----------------------------------------------------------------------------


def _school(request, scope: Scope) -> Unit | None:
    """The school whose intake is shown: ?school=<id> for one in the scope (the bureau,
    a central school), otherwise the user's own school; None for the bureau without one."""
    wanted = request.GET.get("school") or request.POST.get("school")
    if wanted:
        if not str(wanted).isdigit():
            raise Http404(_("No such unit in your scope."))
        school = scope.get_unit(wanted)
        if not school.is_school:
            raise Http404(_("No such unit in your scope."))
        return school
    if scope.unit is not None and scope.unit.is_school:
        return scope.unit
    return None


def _url(name: str, scope: Scope, school: Unit) -> str:
    """A page's address, naming the school unless it is the user's own."""
    url = reverse(name)
    if scope.unit is None or school.pk != scope.unit.pk:
        url += "?" + urlencode({"school": school.pk})
    return url


def _choose_school(request, scope: Scope, url_name: str, title: str):
    year = calendar.current_school_year(scope.county()) if scope.county() else None
    schools = scope.schools().filter(is_active=True, stage__in=(Stage.PRIMARY, Stage.NINE_YEAR))
    counts = dict(
        IntakeEntry.objects.filter(school__in=schools, school_year=year)
        .values_list("school")
        .annotate(n=Count("pk"))
    )
    rows = [
        {"school": school, "count": counts.get(school.pk, 0)}
        for school in schools.select_related("parent").order_by(
            "parent__ordinal", "parent__name", "ordinal", "name"
        )
    ]
    return render(
        request,
        "intake/choose_school.html",
        {"rows": rows, "url_name": url_name, "title": title, "year": year},
    )


# --- The intake page --------------------------------------------------------------------------


def _review_deadline(school: Unit):
    return next(
        (s for s in calendar.deadlines_of(school) if s.deadline.key == "primary_review"), None
    )


@login_required
def intake_school(request):
    scope = scope_for(request.user)
    scope.require("students.view")
    school = _school(request, scope)
    if school is None:
        return _choose_school(request, scope, "intake_school", _("New pupils of a school"))
    year = calendar.current_school_year(school.county)
    entries = list(
        IntakeEntry.objects.filter(school=school, school_year=year)
        .select_related("record__student")
        .order_by("pk")
    )
    counts = {state: 0 for state in EntryState.values}
    for entry in entries:
        counts[entry.state] += 1
    may_edit = scope.can_edit_school(school)
    rows = [
        {
            "entry": entry,
            "student": entry.record.student,
            "sex": codes.name_of("sex", entry.record.student.sex),
            "masked_id": rules.mask_id_number(entry.record.student.id_number),
            "may_except": may_edit
            and entry.state in EXCEPTION_STATES
            and bool(entry.eligibility_problems or entry.exception_kind),
        }
        for entry in entries
    ]
    context = {
        "school": school,
        "year": year,
        "rows": rows,
        "counts": [(label, counts[state], state) for state, label in EntryState.choices],
        "deadline": _review_deadline(school),
        "may_edit": may_edit,
        "own": scope.unit is not None and scope.unit.pk == school.pk,
        "exception_form": ExceptionForm(),
        "enter_url": _url("intake_enter", scope, school),
    }
    return render(request, "intake/school.html", context)


def _selected(request, scope: Scope) -> list[IntakeEntry]:
    ids = [value for value in request.POST.getlist("entry") if value.isdigit()]
    return list(
        IntakeEntry.objects.filter(pk__in=ids, school__in=scope.schools()).select_related("school")
    )


def _back(request, scope: Scope, entries: list[IntakeEntry]):
    school = entries[0].school if entries else _school(request, scope)
    if school is None:
        return redirect("intake_school")
    return redirect(_url("intake_school", scope, school))


@login_required
@require_POST
def intake_send(request):
    """Send the chosen pupils (being entered or returned) for review (N2)."""
    scope = scope_for(request.user)
    entries = _selected(request, scope)
    if not entries:
        messages.error(request, _("Choose at least one pupil."))
        return _back(request, scope, entries)
    try:
        sent = services.do_send_for_review(entries, actor=request.user)
    except RuleViolation as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            ngettext(
                "%(count)d pupil has been sent for review.",
                "%(count)d pupils have been sent for review.",
                sent,
            )
            % {"count": sent},
        )
    return _back(request, scope, entries)


@login_required
@require_POST
def intake_submit(request):
    """Submit the chosen numbered pupils: their reported items lock (N5)."""
    scope = scope_for(request.user)
    entries = _selected(request, scope)
    if not entries:
        messages.error(request, _("Choose at least one pupil."))
        return _back(request, scope, entries)
    # The confirmation without a script: the box next to the button must be ticked.
    if request.POST.get("confirm_lock") != "1":
        messages.error(
            request,
            _("Submission locks the reported items: tick the box to confirm, then submit again."),
        )
        return _back(request, scope, entries)
    try:
        submitted = services.do_submit(entries, actor=request.user)
    except RuleViolation as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            ngettext(
                "%(count)d record has been submitted and locked.",
                "%(count)d records have been submitted and locked.",
                submitted,
            )
            % {"count": submitted},
        )
    return _back(request, scope, entries)


@login_required
@require_POST
def intake_exception(request, pk: int):
    """Record a pupil's documented exception to the eligibility rules (N1)."""
    scope = scope_for(request.user)
    entry = (
        IntakeEntry.objects.filter(pk=pk, school__in=scope.schools())
        .select_related("school", "record__student")
        .first()
    )
    if entry is None:
        raise Http404(_("No such pupil in your scope."))
    form = ExceptionForm(request.POST)
    form.is_valid()
    try:
        services.do_record_exception(
            entry,
            form.cleaned_data.get("exception_kind", ""),
            form.cleaned_data.get("exception_note", ""),
            actor=request.user,
        )
    except RuleViolation as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("The exception of %(name)s has been recorded.") % {"name": entry.record.student.name},
        )
    return _back(request, scope, [entry])


@login_required
@require_POST
def intake_not_admit(request, pk: int):
    """The school does not admit a pupil it entered (N1), with a reason."""
    scope = scope_for(request.user)
    entry = (
        IntakeEntry.objects.filter(pk=pk, school__in=scope.schools())
        .select_related("school", "record__student")
        .first()
    )
    if entry is None:
        raise Http404(_("No such pupil in your scope."))
    try:
        services.do_not_admit(entry, request.POST.get("reason", ""), actor=request.user)
    except RuleViolation as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("%(name)s is not admitted.") % {"name": entry.record.student.name}
        )
    return _back(request, scope, [entry])


@login_required
@require_POST
def intake_collect(request):
    """Pupils imported with the Excel template join the intake."""
    scope = scope_for(request.user)
    school = _school(request, scope)
    if school is None:
        raise Http404(_("No such unit in your scope."))
    year = calendar.current_school_year(school.county)
    if year is None:
        messages.error(request, _("The county has no school year yet; the bureau sets it up."))
        return redirect(_url("intake_school", scope, school))
    joined = services.do_collect_imported(school, year, actor=request.user)
    messages.success(
        request,
        ngettext(
            "%(count)d imported pupil has joined the intake.",
            "%(count)d imported pupils have joined the intake.",
            joined,
        )
        % {"count": joined},
    )
    return redirect(_url("intake_school", scope, school))


# --- The fast entry form (N1) -----------------------------------------------------------------


def _last_pupil(request, scope: Scope) -> Student | None:
    pk = request.session.get(LAST_PUPIL)
    return scope.students().filter(pk=pk).first() if pk else None


def _fill_from_id(raw: dict[str, str]) -> None:
    """The birth date and sex left blank are what the ID number says (the page fills them
    while typing; without a script, or pressing Enter at once, they come from here)."""
    if not raw.get("id_number") or raw.get("id_type", RESIDENT_ID) != RESIDENT_ID:
        return
    result = check_id_number(raw["id_number"], today=calendar.today())
    if result.ok and result.birth_date is not None:
        raw["birth_date"] = raw.get("birth_date") or result.birth_date.isoformat()
        raw["sex"] = raw.get("sex") or result.sex


def _blank_for_copy(key: str, value: str, sibling: str) -> bool:
    """Left blank, for the copy from a sibling. The household code filled in from the ID
    number is only its county (six digits), so the sibling's full code completes it."""
    if not value:
        return True
    return key == "hukou_code" and len(value) <= 6 and sibling.startswith(value)


def _copy_family(raw: dict[str, str], sibling: Student) -> None:
    theirs = _initial(sibling, _open_record(sibling))
    for key in SHARED_KEYS:
        if _blank_for_copy(key, raw.get(key, ""), theirs.get(key, "")):
            raw[key] = theirs.get(key, "")


def _entry_values(form: EntryForm, year, sibling: Student | None) -> dict[str, str]:
    raw = form.raw_values()
    if sibling is not None and form.same_family:
        _copy_family(raw, sibling)
    for key in SAME_AS_HOME:
        raw[key] = raw[key] or raw["home_address"]
    _fill_from_id(raw)
    defaults = {
        **NEW_DEFAULTS,
        # A new primary pupil enters grade 1 in September of the intake's year; the class
        # is assigned with the new intake at the year's end, class 1 until then.
        "grade": "1",
        "class_name": "1",
        "entry_year_month": f"{year.start_year}09",
    }
    return {**defaults, **raw}


def _announce(request, entry: IntakeEntry, warnings: list[FieldProblem]) -> None:
    name = entry.record.student.name
    messages.success(request, _("%(name)s has joined the intake.") % {"name": name})
    for problem in entry.eligibility_problems:
        messages.error(
            request,
            _("%(name)s: %(problem)s Admission only as a recorded exception.")
            % {"name": name, "problem": problem},
        )
    for warning in warnings:
        messages.warning(
            request, _("%(name)s: %(warning)s") % {"name": name, "warning": warning.message}
        )


@login_required
def intake_enter(request):
    scope = scope_for(request.user)
    scope.require("students.edit")
    school = _school(request, scope)
    if school is None:
        return _choose_school(request, scope, "intake_enter", _("Enter new pupils"))
    scope.require("students.edit", school)
    if not scope.can_edit_school(school):
        return redirect(_url("intake_school", scope, school))
    year = calendar.current_school_year(school.county)
    sibling = _last_pupil(request, scope)
    form = EntryForm(request.POST or None, last_pupil=sibling)
    if request.method == "POST":
        raw = _entry_values(form, year, sibling) if year is not None else {}
        checked = validate_student(raw, today=calendar.today())
        if year is None:
            form.add_error(None, _("The county has no school year yet; the bureau sets it up."))
        else:
            _put_problems(form, checked)
        if not form.errors and year is not None:
            try:
                entry = services.do_enter_pupil(
                    checked.values, actor=request.user, school=school, school_year=year
                )
            except RuleViolation as error:
                error.field = field_name(error.field) if error.field else None
                form_error(form, error)
            else:
                request.session[LAST_PUPIL] = entry.record.student_id
                _announce(request, entry, checked.warnings)
                # The same empty form again: the registrar types the next pupil.
                return redirect(_url("intake_enter", scope, school))
    context = {
        "form": form,
        "school": school,
        "year": year,
        "intake_url": _url("intake_school", scope, school),
        "own": scope.unit is not None and scope.unit.pk == school.pk,
    }
    return render(request, "intake/enter.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def id_fill(request):
    """The ID number's check while typing, and what it implies filled into the entry form:
    birth date, sex, and the household registration's county (out-of-band swaps)."""
    scope_for(request.user).require("students.edit")
    number = request.POST.get("id_number", "").strip()
    context: dict[str, object] = {"problems": [], "notes": [], "filled": None}
    if number:
        result = check_id_number(number, today=calendar.today())
        label = _("ID number")
        context["problems"] = [FieldProblem("id_number", label, r).message for r in result.errors]
        context["notes"] = [
            FieldProblem("id_number", label, r, warning=True).message
            for r in result.warnings + result.notes
        ]
        if result.ok and result.birth_date is not None:
            initial = {"birth_date": result.birth_date.isoformat(), "sex": result.sex}
            names = ["birth_date", "sex"]
            # The household code is filled only when empty: a code typed (or copied for a
            # sibling) is more precise than the county the number was issued in.
            if not request.POST.get("hukou_code", "").strip() and result.address_code:
                initial["hukou_code"] = result.address_code[:6]
                names.append("hukou_code")
            form = EntryForm(initial=initial)
            context["filled"] = [form[name] for name in names]
    return render(request, "intake/_id_fill.html", context)
