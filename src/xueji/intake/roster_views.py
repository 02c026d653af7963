"""The semester roster check pages (人籍一致, N10): the school confirms, the bureau and
the central schools watch. Thin views: the rules live in intake/roster.py."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from xueji.core.errors import RuleViolation
from xueji.core.scope import scope_for
from xueji.intake import roster
from xueji.intake.models import RosterCheck, RosterFlagKind
from xueji.students.models import Placement


def _rows(school, year, check: RosterCheck | None) -> list[dict]:
    """The open records in class order (the placement of the year), with their flags."""
    records = list(roster.open_records(school))
    placements = {
        placement.record_id: placement
        for placement in Placement.objects.filter(record__in=records, school_year=year)
    }
    flags: dict[int, dict] = {}
    if check is not None:
        for flag in check.flags.all():
            flags.setdefault(flag.record_id, {})[flag.kind] = flag
    rows = []
    for record in records:
        placement = placements.get(record.pk)
        mine = flags.get(record.pk, {})
        mismatch = mine.get(RosterFlagKind.NAME_MISMATCH)
        absent = mine.get(RosterFlagKind.NOT_PRESENT)
        rows.append(
            {
                "record": record,
                "placement": placement,
                "not_present": absent is not None,
                "household_name": mismatch.household_name if mismatch else "",
                "note": mismatch.note if mismatch else absent.note if absent else "",
            }
        )
    rows.sort(
        key=lambda row: (
            row["placement"].grade if row["placement"] else 99,
            row["placement"].class_name.zfill(4) if row["placement"] else "",
            row["placement"].seat_number.zfill(4) if row["placement"] else "",
            row["record"].student.name,
        )
    )
    return rows


def _flags_from_post(post, records) -> list[dict]:
    flags = []
    for record in records:
        note = post.get(f"note_{record.pk}", "").strip()
        if post.get(f"not_present_{record.pk}"):
            flags.append({"record_id": record.pk, "kind": RosterFlagKind.NOT_PRESENT, "note": note})
        household_name = post.get(f"household_name_{record.pk}", "").strip()
        if household_name and household_name != record.student.name:
            flags.append(
                {
                    "record_id": record.pk,
                    "kind": RosterFlagKind.NAME_MISMATCH,
                    "household_name": household_name,
                    "note": note,
                }
            )
    return flags


@login_required
def roster_check(request):
    scope = scope_for(request.user)
    school = scope.unit
    if scope.level == scope.COUNTY and scope.may("students.view"):
        return redirect("roster_overview")
    if school is None or not school.is_school or not scope.can_edit_school(school):
        raise PermissionDenied(_("Only a school's registrar confirms its roster."))
    year, term = roster.current_semester(school.county)
    if year is None:
        raise PermissionDenied(_("The bureau has not set up the school year yet."))
    if request.method == "POST":
        flags = _flags_from_post(request.POST, roster.open_records(school))
        try:
            check = roster.do_confirm_roster(school, year, term, flags, actor=request.user)
        except RuleViolation as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("The roster is confirmed with %(count)s flags.") % {"count": check.flags.count()},
            )
        return redirect("roster_check")
    check = (
        RosterCheck.objects.filter(school=school, school_year=year, term=term)
        .select_related("confirmed_by")
        .prefetch_related("flags__record__student")
        .first()
    )
    return render(
        request,
        "intake/roster.html",
        {
            "school": school,
            "year": year,
            "term": term,
            "check": check,
            "rows": _rows(school, year, check),
        },
    )


@login_required
def roster_overview(request):
    scope = scope_for(request.user)
    if scope.level not in (scope.COUNTY, scope.TOWNSHIP) or not scope.may("students.view"):
        raise PermissionDenied(_("Only the bureau and the central schools watch the rosters."))
    county = scope.county()
    year, term = roster.current_semester(county)
    rows = roster.roster_status(county, year, term, scope.schools()) if year else []
    return render(
        request,
        "intake/roster_overview.html",
        {
            "year": year,
            "term": term,
            "rows": rows,
            "missing": sum(1 for _school, check in rows if check is None),
        },
    )
