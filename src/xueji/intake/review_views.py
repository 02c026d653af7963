"""The reviewing unit's and the bureau's intake pages (N2-N8, the year's end, catchments).

Thin views: each read asks the scope for its schools, each POST calls one service and
turns its refusal into a message. The central school reviews its rural primary schools,
the bureau every other school (services.reviews_school); the school's own intake pages
live in views.py.
"""

from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xueji.core.calendar import current_school_year, deadlines_of
from xueji.core.errors import RuleViolation
from xueji.core.models import SchoolYear
from xueji.core.scope import Scope, scope_for
from xueji.intake import services
from xueji.intake.catchment_services import do_set_catchment
from xueji.intake.models import (
    Catchment,
    EntryState,
    IntakeEntry,
    JuniorCandidate,
    JuniorDocument,
)
from xueji.orgs.models import Stage, Unit
from xueji.orgs.rules import is_rural_primary
from xueji.students import codes
from xueji.students.forms import PhotoForm
from xueji.students.models import Placement

# The batch states every level sees, in the order a pupil goes through them.
BATCH_STATES = [
    EntryState.ENTERED,
    EntryState.AWAITING_REVIEW,
    EntryState.RETURNED,
    EntryState.ADMITTED,
    EntryState.PHOTOGRAPHED,
    EntryState.NUMBERED,
    EntryState.SUBMITTED,
    EntryState.FORWARDED,
    EntryState.ACCEPTED,
]
TO_NUMBER = (EntryState.ADMITTED, EntryState.PHOTOGRAPHED)
TAKES_PHOTO = (EntryState.ADMITTED, EntryState.PHOTOGRAPHED, EntryState.NUMBERED)
JUNIOR_STAGES = (Stage.JUNIOR, Stage.NINE_YEAR)


# --- Who, which year, which school ------------------------------------------------------------


def _reviewer_scope(request) -> Scope:
    scope = scope_for(request.user)
    if scope.level not in (scope.TOWNSHIP, scope.COUNTY) or not scope.may("students.edit"):
        raise PermissionDenied(_("Only central schools and the bureau review new pupils."))
    return scope


def _bureau_scope(request, capability: str = "students.edit") -> Scope:
    scope = scope_for(request.user)
    if scope.level != scope.COUNTY or not scope.may(capability):
        raise PermissionDenied(_("Only the bureau may do this."))
    return scope


def _junior_scope(request) -> Scope:
    """Junior intake: the junior and nine-year schools collect, the bureau converts."""
    scope = scope_for(request.user)
    unit = scope.unit
    collects = unit is not None and unit.is_school and unit.stage in JUNIOR_STAGES
    if not scope.may("students.edit") or not (scope.level == scope.COUNTY or collects):
        raise PermissionDenied(_("Only junior and nine-year schools and the bureau do this."))
    return scope


def _year(scope: Scope, request) -> SchoolYear | None:
    """The school year asked for (?year=2026), else the current one."""
    county = scope.county()
    wanted = request.POST.get("year") or request.GET.get("year") or ""
    if wanted.isdigit():
        year = SchoolYear.objects.filter(county=county, start_year=int(wanted)).first()
        if year is not None:
            return year
    return current_school_year(county)


def _intake_year(scope: Scope, request) -> SchoolYear | None:
    """The year new junior students join: the one asked for, else the newest the bureau
    has opened (after the year's end that is the coming year, though it has not begun)."""
    wanted = request.POST.get("year") or request.GET.get("year") or ""
    if wanted.isdigit():
        return _year(scope, request)
    newest = SchoolYear.objects.filter(county=scope.county()).order_by("-start_year").first()
    return newest or current_school_year(scope.county())


def _deadline(scope: Scope, key: str):
    if scope.unit is None:
        return None
    return next((s for s in deadlines_of(scope.unit) if s.deadline.key == key), None)


def _unit_id(value) -> int:
    if not str(value).isdigit():
        raise Http404(_("No such unit in your scope."))
    return int(value)


def _reviewed_school(scope: Scope, pk) -> Unit:
    """A school the user reviews: outside the scope is a 404, inside but not theirs a 403."""
    school = scope.get_unit(_unit_id(pk))
    if not services.reviews_school(scope, school):
        raise PermissionDenied(
            _("Only the reviewing unit of %(school)s may do this.") % {"school": school.name}
        )
    return school


def _reviewed_schools(scope: Scope) -> list[Unit]:
    """services.reviews_school over the scope's schools, without a query per school: the
    bureau reviews (or may act for) every school, a central school its rural primary ones."""
    schools = scope.schools().filter(stage__in=[Stage.PRIMARY, Stage.NINE_YEAR])
    schools = schools.select_related("parent").order_by("parent__division_code", "ordinal", "name")
    return [s for s in schools if scope.level == scope.COUNTY or is_rural_primary(s)]


def _entries(school: Unit, year, *states):
    return (
        IntakeEntry.objects.filter(school=school, school_year=year, state__in=states)
        .select_related("record__student", "school_year")
        .order_by("record__student__pinyin_key", "pk")
    )


def _chosen(request, school: Unit) -> list[IntakeEntry]:
    ids = [value for value in request.POST.getlist("entry") if value.isdigit()]
    return list(IntakeEntry.objects.filter(school=school, pk__in=ids).order_by("pk"))


def _review_url(school: Unit, year, anchor: str = "") -> str:
    query = {"school": school.pk}
    if year is not None:
        query["year"] = year.start_year
    return f"{reverse('intake_review')}?{urlencode(query)}" + (f"#{anchor}" if anchor else "")


def _state_counts(schools, year) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    rows = (
        IntakeEntry.objects.filter(school__in=schools, school_year=year)
        .values("school_id", "state")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        counts[row["school_id"]][row["state"]] = row["n"]
    return counts


def _act(request, run, success: str, **values) -> None:
    """Run one service call and turn the outcome into a message."""
    try:
        count = run()
    except RuleViolation as error:
        messages.error(request, error.message)
    else:
        if count:
            messages.success(request, success % {"count": count, **values})
        else:
            messages.warning(request, _("Select at least one pupil."))


# --- The review page (N2, N3, N5) -------------------------------------------------------------


@login_required
def intake_review(request):
    scope = _reviewer_scope(request)
    year = _year(scope, request)
    schools = _reviewed_schools(scope)
    counts = _state_counts(schools, year)
    rows = [
        {
            "school": school,
            "counts": [counts[school.pk].get(state, 0) for state in BATCH_STATES],
            "total": sum(counts[school.pk].values()),
            "rural": is_rural_primary(school),
        }
        for school in schools
    ]
    context = {
        "year": year,
        "years": SchoolYear.objects.filter(county=scope.county()).order_by("-start_year"),
        "states": [EntryState(state).label for state in BATCH_STATES],
        "rows": rows,
        "deadline": _deadline(scope, "primary_review"),
        "is_central": scope.level == scope.TOWNSHIP,
    }
    if request.GET.get("school"):
        school = _reviewed_school(scope, request.GET["school"])
        context |= _school_context(scope, school, year)
    return render(request, "intake/review.html", context)


def _school_context(scope: Scope, school: Unit, year) -> dict:
    photographs = list(_entries(school, year, *TAKES_PHOTO))
    numbered = [entry for entry in photographs if entry.state == EntryState.NUMBERED]
    for entry in numbered:
        entry.record.national = entry.record.student.national_number
    awaiting = list(_entries(school, year, EntryState.AWAITING_REVIEW))
    for entry in awaiting:
        entry.sex_name = codes.name_of("sex", entry.record.student.sex)
    return {
        "school": school,
        "school_rural": is_rural_primary(school),
        "awaiting": awaiting,
        "returned": list(_entries(school, year, EntryState.RETURNED)),
        "entered": _entries(school, year, EntryState.ENTERED).count(),
        "photographs": photographs,
        "to_number": sum(1 for entry in photographs if entry.state in TO_NUMBER),
        "without_photo": sum(1 for e in photographs if e.state == EntryState.ADMITTED),
        "numbered": numbered,
        "submitted": list(_entries(school, year, EntryState.SUBMITTED)),
        "forwarded": _entries(school, year, EntryState.FORWARDED).count(),
        "photo_form": PhotoForm(),
    }


@login_required
@require_POST
def intake_review_decide(request, school_id: int):
    """Admit the selected pupils, or return them with a reason (N2)."""
    scope = _reviewer_scope(request)
    school = _reviewed_school(scope, school_id)
    year = _year(scope, request)
    admit = request.POST.get("action") == "admit"
    reason = request.POST.get("reason", "")
    chosen = _chosen(request, school)
    _act(
        request,
        lambda: services.do_review(chosen, actor=request.user, admit=admit, reason=reason),
        _("%(count)d pupils admitted.") if admit else _("%(count)d pupils returned to the school."),
    )
    return redirect(_review_url(school, year, "awaiting"))


@login_required
@require_POST
def intake_review_photo(request, entry_id: int):
    """One admitted pupil's photo, from a file or the phone's camera (N2)."""
    scope = _reviewer_scope(request)
    entry = IntakeEntry.objects.filter(pk=entry_id, school__in=scope.schools()).first()
    if entry is None:
        raise Http404(_("No such pupil in your scope."))
    school = _reviewed_school(scope, entry.school_id)
    form = PhotoForm(request.POST, request.FILES)
    name = entry.record.student.name
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, f"{name}: {' '.join(str(e) for e in errors)}")
        return redirect(_review_url(school, entry.school_year, "photos"))
    try:
        warnings = services.do_collect_photo(
            entry, form.cleaned_data["photo"].read(), actor=request.user
        )
    except RuleViolation as error:
        messages.error(request, f"{name}: {error.message}")
    else:
        for warning in warnings:
            messages.warning(request, f"{name}: {warning}")
        messages.success(request, _("The photo of %(name)s has been stored.") % {"name": name})
    return redirect(_review_url(school, entry.school_year, f"entry-{entry.pk}"))


@login_required
@require_POST
def intake_review_number(request, school_id: int):
    """Numbers for every admitted pupil of the school in one action (N3)."""
    scope = _reviewer_scope(request)
    school = _reviewed_school(scope, school_id)
    year = _year(scope, request)
    entries = list(_entries(school, year, *TO_NUMBER))
    confirmed = request.POST.get("identity_confirmed") == "on"
    _act(
        request,
        lambda: services.do_number(entries, actor=request.user, identity_confirmed=confirmed),
        _("%(count)d pupils have their numbers; the batch is reported to the bureau."),
    )
    return redirect(_review_url(school, year, "numbers"))


@login_required
@require_POST
def intake_review_submitted(request, school_id: int):
    """The central school forwards submitted records to the bureau or returns them (N5)."""
    scope = _reviewer_scope(request)
    school = _reviewed_school(scope, school_id)
    year = _year(scope, request)
    chosen = _chosen(request, school)
    if request.POST.get("action") == "forward":
        _act(
            request,
            lambda: services.do_forward(chosen, actor=request.user),
            _("%(count)d records forwarded to the bureau."),
        )
    else:
        reason = request.POST.get("reason", "")
        _act(
            request,
            lambda: services.do_return_submitted(chosen, reason, actor=request.user),
            _("%(count)d records returned to the school for correction."),
        )
    return redirect(_review_url(school, year, "submitted"))


# --- The bureau accepts (N5) ------------------------------------------------------------------


def _waiting_for_bureau(scope: Scope):
    """Forwarded rural submissions and submitted ones of the schools that report straight
    to the bureau (do_accept's own rule)."""
    entries = (
        IntakeEntry.objects.filter(
            school__in=scope.schools(), state__in=[EntryState.SUBMITTED, EntryState.FORWARDED]
        )
        .select_related("record__student", "school__parent", "school_year")
        .order_by("school__parent__division_code", "school__ordinal", "school_id", "pk")
    )
    ready: list[IntakeEntry] = []
    at_central: dict[Unit, int] = defaultdict(int)
    for entry in entries:
        rural = is_rural_primary(entry.school)
        if entry.state == (EntryState.FORWARDED if rural else EntryState.SUBMITTED):
            ready.append(entry)
        else:
            at_central[entry.school] += 1
    return ready, dict(at_central)


def _classes(entries: list[IntakeEntry]) -> dict[int, Placement | None]:
    placements = Placement.objects.filter(record_id__in=[e.record_id for e in entries])
    by_key = {(p.record_id, p.school_year_id): p for p in placements}
    return {e.pk: by_key.get((e.record_id, e.school_year_id)) for e in entries}


@login_required
def intake_accept(request):
    scope = _bureau_scope(request)
    ready, at_central = _waiting_for_bureau(scope)
    placements = _classes(ready)
    groups: dict[Unit, dict] = {}
    for entry in ready:
        group = groups.setdefault(
            entry.school, {"school": entry.school, "entries": [], "classes": {}}
        )
        placement = placements[entry.pk]
        entry.placement = placement
        group["entries"].append(entry)
        if placement is not None:
            group["classes"].setdefault(placement.class_name, placement.grade)
    for group in groups.values():
        group["classes"] = sorted(group["classes"].items(), key=lambda item: (item[1], item[0]))
    return render(
        request,
        "intake/accept.html",
        {
            "groups": list(groups.values()),
            "at_central": sorted(at_central.items(), key=lambda item: item[0].school_code),
        },
    )


@login_required
@require_POST
def intake_accept_act(request, school_id: int):
    scope = _bureau_scope(request)
    school = scope.get_unit(_unit_id(school_id))
    chosen = _chosen(request, school)
    if request.POST.get("action") == "accept":
        _act(
            request,
            lambda: services.do_accept(chosen, actor=request.user),
            _("%(count)d records accepted: the pupils are at school."),
        )
    else:
        reason = request.POST.get("reason", "")
        _act(
            request,
            lambda: services.do_return_submitted(chosen, reason, actor=request.user),
            _("%(count)d records returned to the school for correction."),
        )
    return redirect(f"{reverse('intake_accept')}#school-{school.pk}")


# --- Junior intake (N7, N8) -------------------------------------------------------------------


def _candidates(schools, year):
    return (
        JuniorCandidate.objects.filter(school__in=schools, school_year=year)
        .select_related("school", "primary_record__student", "primary_record__school")
        .select_related("junior_record")
        .order_by("school__parent__division_code", "school__ordinal", "school_id", "pk")
    )


@login_required
def junior_collect(request):
    scope = _junior_scope(request)
    year = _intake_year(scope, request)
    is_bureau = scope.level == scope.COUNTY
    schools = scope.schools().filter(stage__in=JUNIOR_STAGES) if is_bureau else [scope.unit]
    candidates = list(_candidates(schools, year))
    return render(
        request,
        "intake/junior.html",
        {
            "year": year,
            "is_bureau": is_bureau,
            "candidates": candidates,
            "problems": [c for c in candidates if c.problem],
            "convertible": [c for c in candidates if not c.problem and c.junior_record_id is None],
            "documents": JuniorDocument.choices,
            "deadline": _deadline(scope, "junior_numbers"),
        },
    )


@login_required
@require_POST
def junior_collect_numbers(request):
    scope = _junior_scope(request)
    if scope.level == scope.COUNTY:
        raise PermissionDenied(_("The receiving junior school collects its students' numbers."))
    year = _intake_year(scope, request)
    if year is None:
        messages.error(request, _("The calendar has no school year yet."))
        return redirect("junior_collect")
    document = request.POST.get("document_shown", "")
    rows = [(line, document) for line in request.POST.get("numbers", "").splitlines()]
    try:
        made = services.do_collect_junior(scope.unit, year, rows, actor=request.user)
    except RuleViolation as error:
        messages.error(request, error.message)
    else:
        problems = sum(1 for candidate in made if candidate.problem)
        messages.success(
            request,
            _("%(count)d numbers collected, %(problems)d with a problem.")
            % {"count": len(made), "problems": problems},
        )
    return redirect(f"{reverse('junior_collect')}?year={year.start_year}")


@login_required
@require_POST
def junior_convert(request):
    scope = _bureau_scope(request)
    ids = [value for value in request.POST.getlist("candidate") if value.isdigit()]
    chosen = list(JuniorCandidate.objects.filter(school__in=scope.schools(), pk__in=ids))
    _act(
        request,
        lambda: services.do_convert_junior(chosen, actor=request.user),
        _("%(count)d students have junior numbers; their records are converted."),
    )
    return redirect("junior_collect")


# --- The year's end ---------------------------------------------------------------------------


def _year_end_plan(county, from_year, to_year) -> dict:
    from xueji.changes.models import PENDING_STATES, ChangeRequest

    plan = services.year_end_preview(county, from_year, to_year)
    per_school: dict[Unit, dict[str, int]] = {}
    for key in ("promote", "graduate", "blocked"):
        for placement in plan[key]:
            school = placement.record.school
            per_school.setdefault(school, {"promote": 0, "graduate": 0, "blocked": 0})[key] += 1
    blocked_ids = [placement.record_id for placement in plan["blocked"]]
    pending = ChangeRequest.objects.filter(state__in=PENDING_STATES, record_id__in=blocked_ids)
    requests = {change.record_id: change for change in pending}
    return {
        "schools": sorted(per_school.items(), key=lambda item: (item[0].school_code, item[0].pk)),
        "promote": len(plan["promote"]),
        "graduate": len(plan["graduate"]),
        "blocked": [
            {"placement": placement, "request": requests.get(placement.record_id)}
            for placement in plan["blocked"]
        ],
    }


def _year_pair(scope: Scope, request) -> tuple[SchoolYear | None, SchoolYear | None]:
    county = scope.county()
    wanted = request.POST.get("from") or request.GET.get("from") or ""
    from_year = None
    if wanted.isdigit():
        from_year = SchoolYear.objects.filter(county=county, start_year=int(wanted)).first()
    from_year = from_year or current_school_year(county)
    if from_year is None:
        return None, None
    to_year = SchoolYear.objects.filter(county=county, start_year=from_year.start_year + 1).first()
    return from_year, to_year


@login_required
def year_end(request):
    scope = _bureau_scope(request, "setup.manage")
    from_year, to_year = _year_pair(scope, request)
    context = {
        "years": SchoolYear.objects.filter(county=scope.county()).order_by("-start_year"),
        "from_year": from_year,
        "to_year": to_year,
        "next_start": from_year.start_year + 1 if from_year else None,
    }
    if from_year is not None and to_year is not None:
        context["plan"] = _year_end_plan(scope.county(), from_year, to_year)
    return render(request, "intake/yearend.html", context)


@login_required
@require_POST
def year_end_run(request):
    scope = _bureau_scope(request, "setup.manage")
    from_year, to_year = _year_pair(scope, request)
    if from_year is None or to_year is None:
        messages.error(request, _("The calendar must open the next school year first."))
        return redirect("yearend")
    try:
        counts = services.do_year_end(scope.county(), from_year, to_year, actor=request.user)
    except RuleViolation as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _(
                "The year's end has run: %(promoted)d promoted, %(graduated)d graduated, "
                "%(blocked)d kept back by a pending request."
            )
            % counts,
        )
    return redirect(f"{reverse('yearend')}?{urlencode({'from': from_year.start_year})}")


# --- Catchments (N1) --------------------------------------------------------------------------


@login_required
def catchments(request):
    scope = _bureau_scope(request, "setup.manage")
    schools = (
        scope.schools()
        .filter(stage__in=[Stage.PRIMARY, Stage.NINE_YEAR])
        .select_related("parent")
        .order_by("parent__division_code", "ordinal", "name")
    )
    codes: dict[int, list[str]] = defaultdict(list)
    for area in Catchment.objects.filter(school__in=schools).order_by("division_code"):
        codes[area.school_id].append(area.division_code)
    rows = [{"school": school, "codes": codes[school.pk]} for school in schools]
    return render(request, "intake/catchments.html", {"rows": rows})


def _set_catchment(request, school_id: int, codes_of) -> None:
    scope = _bureau_scope(request, "setup.manage")
    school = scope.get_unit(_unit_id(school_id))
    current = services.catchment_codes(school)
    try:
        kept = do_set_catchment(school, codes_of(current), actor=request.user)
    except RuleViolation as error:
        messages.error(request, f"{school.name}: {error.message}")
    else:
        messages.success(
            request,
            _("%(school)s: %(count)d catchment codes kept.")
            % {"school": school.name, "count": len(kept)},
        )


@login_required
@require_POST
def catchment_add(request, school_id: int):
    typed = request.POST.get("codes", "").replace(",", " ").replace("，", " ").split()
    _set_catchment(request, school_id, lambda current: current + typed)
    return redirect(f"{reverse('catchments')}#school-{school_id}")


@login_required
@require_POST
def catchment_remove(request, school_id: int):
    code = request.POST.get("code", "")
    _set_catchment(request, school_id, lambda current: [c for c in current if c != code])
    return redirect(f"{reverse('catchments')}#school-{school_id}")
