"""The bureau's double-registration page (N11): candidate pairs side by side, decided by
"not the same person" or "withdraw the newer registration", both audited by the service;
and the scan of the county for pairs the registration did not hold (a background job)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xueji.audit.models import AuditEvent
from xueji.core.errors import RuleViolation
from xueji.core.jobs import do_enqueue_job
from xueji.core.scope import scope_for
from xueji.students import codes, rules, services
from xueji.students.models import DuplicateCandidate, Student

SCAN_JOB = "students.scan_duplicates"


def _person(student: Student) -> dict[str, object]:
    """One side of a candidate pair, as the bureau compares them."""
    records = sorted(student.records.all(), key=lambda r: (r.is_open, r.entry_date, r.pk))
    record = records[-1] if records else None
    return {
        "student": student,
        "sex": codes.name_of("sex", student.sex),
        "masked_id": rules.mask_id_number(student.id_number),
        "record": record,
        "family": [member.name for member in student.family.all()],
    }


@login_required
def duplicate_list(request):
    scope = scope_for(request.user)
    scope.require("duplicates.decide")
    pairs = DuplicateCandidate.objects.filter(
        # Correlated: `newer__in` made SQLite list every student of the scope first.
        Exists(scope.students().filter(pk=OuterRef("newer_id")))
    ).prefetch_related(
        "existing__family", "existing__records__school", "newer__family", "newer__records__school"
    )
    waiting = [
        {"candidate": c, "sides": [_person(c.existing), _person(c.newer)]}
        for c in pairs.filter(state=DuplicateCandidate.State.OPEN).order_by("created_at")
    ]
    decided = (
        pairs.exclude(state=DuplicateCandidate.State.OPEN)
        .select_related("existing", "newer", "decided_by")
        .order_by("-decided_at")[:50]
    )
    # The bureau's last scan of its county: when, and what it found (its audit event).
    last_scan = (
        AuditEvent.objects.filter(
            action="duplicates.scanned", target_type="orgs.county", target_id=str(scope.county().pk)
        )
        .order_by("-seq")
        .first()
    )
    return render(
        request,
        "students/duplicate_list.html",
        {"waiting": waiting, "decided": decided, "last_scan": last_scan},
    )


@login_required
@require_POST
def duplicate_scan(request):
    """Start the scan of the county (students/duplicates.py) in the background; the job's
    page shows how far it got and what it found."""
    scope = scope_for(request.user)
    scope.require("duplicates.decide")
    job = do_enqueue_job(SCAN_JOB, actor=request.user)
    messages.info(request, _("The scan of the county runs in the background."))
    return redirect("job_detail", pk=job.pk)


@login_required
@require_POST
def duplicate_decide(request, pk: int):
    scope = scope_for(request.user)
    scope.require("duplicates.decide")
    candidate = get_object_or_404(
        DuplicateCandidate.objects.filter(
            # Correlated: `newer__in` made SQLite list every student of the scope first.
            Exists(scope.students().filter(pk=OuterRef("newer_id")))
        ),
        pk=pk,
    )
    decision = request.POST.get("decision", "")
    try:
        services.do_decide_duplicate(candidate, decision, actor=request.user)
    except RuleViolation as error:
        messages.error(request, error.message)
    else:
        if decision == "withdraw":
            text = _("The newer registration of %(name)s has been withdrawn.")
        else:
            text = _("%(name)s and the earlier registration are recorded as different people.")
        messages.success(request, text % {"name": candidate.newer.name})
    return redirect("duplicate_list")


# --- Photos (B3, N2, N9) -------------------------------------------------------------------------
