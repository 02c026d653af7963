"""Item 4: the bureau's Wednesday session approves its queue in one action (C4, C6).

The queue is set up directly in the tables (transfers within the county, each signed,
confirmed by the receiving school and submitted to an open session), because walking
10,000 requests through the five steps would measure the setup. What is timed is what
"approve the selected requests" does on the session page: the selection read through the
bureau's scope, then `changes.services.do_approve_many`, which for each transfer closes
the old stay, retires its number, opens the stay at the receiving school with a new
provincial number, and writes the step and the audit event, all in one transaction.
"""

from __future__ import annotations

import datetime
import time
from typing import Any

from bench.common import log


def _queue(count: int) -> tuple[Any, Any, list[int]]:
    """`count` submitted transfers in an open session of the first county."""
    from django.db.models import OuterRef, Subquery
    from django.utils import timezone

    from xueji.changes.models import ApprovalSession, ChangeRequest, Kind, State
    from xueji.core import calendar
    from xueji.orgs.models import County, Role, Unit, User
    from xueji.students.models import Placement, Status, StudentRecord

    county = County.objects.order_by("pk").first()
    bureau = User.objects.get(unit__county=county, role=Role.BUREAU_REGISTRAR)
    year = calendar.current_school_year(county)
    today = calendar.today()
    now = timezone.now()
    session = ApprovalSession.objects.create(
        county=county, date=today, opened_at=now - datetime.timedelta(minutes=5)
    )
    schools = list(
        Unit.objects.filter(county=county, kind=Unit.Kind.SCHOOL).select_related("parent")
    )
    registrars = {
        user.unit_id: user
        for user in User.objects.filter(unit__county=county, is_designated_registrar=True)
    }
    leaders = {
        user.unit_id: user
        for user in User.objects.filter(unit__county=county, role=Role.SCHOOL_LEADER)
    }
    grade_of = Placement.objects.filter(record=OuterRef("pk"), school_year=year).values("grade")
    records = list(
        StudentRecord.objects.filter(
            school__county=county, status=Status.ENROLLED, school__stage="primary"
        )
        .annotate(grade=Subquery(grade_of[:1]))
        .filter(grade__lte=5)
        .select_related("school")
        .order_by("pk")[: count * 3 : 3]
    )
    if len(records) < count:
        raise RuntimeError(f"only {len(records)} records for {count} transfers")
    by_township: dict[int, list] = {}
    for school in schools:
        if school.stage == "primary":
            by_township.setdefault(school.parent_id, []).append(school)
    townships = sorted(by_township)
    requests = []
    for index, record in enumerate(records):
        # To a primary school of another township (C5 forbids the same district).
        others = [t for t in townships if t != record.school.parent_id]
        targets = by_township[others[index % len(others)]]
        to_school = targets[index % len(targets)]
        sender = registrars[record.school_id]
        requests.append(
            ChangeRequest(
                kind=Kind.TRANSFER,
                state=State.SUBMITTED,
                student_id=record.student_id,
                record=record,
                from_school=record.school,
                to_school=to_school,
                reason="moved",
                effective_date=today,
                to_grade=record.grade,
                to_class="1",
                registrar_signed_by=sender,
                registrar_signed_at=now,
                leader_signed_by=leaders.get(record.school_id),
                leader_signed_at=now,
                signed_scan=f"changes/signed/bench-{index}.pdf",
                receiving_confirmed_by=registrars[to_school.pk],
                receiving_confirmed_at=now,
                session=session,
                submitted_at=now,
                waiting_since=now,
                created_by=sender,
            )
        )
    made = ChangeRequest.objects.bulk_create(requests, batch_size=500)
    return bureau, session, [request.pk for request in made]


def run(count: int, profile: str = "") -> dict[str, Any]:
    from xueji.changes import services
    from xueji.changes.models import State
    from xueji.core.scope import scope_for

    bureau, session, chosen = _queue(count)
    from bench.importing import _profiler, _save_profile

    profiler = _profiler(profile)
    started = time.perf_counter()
    cpu = time.process_time()
    # What the session page's "approve selected" does (changes/session_views.py).
    selection = list(
        scope_for(bureau).requests().filter(session=session, pk__in=chosen).order_by("pk")
    )
    approved = services.do_approve_many(selection, actor=bureau)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    _save_profile(profiler, profile)
    done = session.requests.filter(state=State.APPROVED, new_record__isnull=False).count()
    if approved != count or done != count:
        raise RuntimeError(f"approved {approved}, recorded {done} of {count}")
    log(f"approved {count} transfers in {seconds:.2f} s (CPU {cpu:.2f} s)")
    return {"seconds": seconds, "cpu_seconds": cpu}


def measure(target, students: int, counts: tuple[int, int], *, profile: bool = False):
    from bench import store
    from bench.common import RESULTS, run_worker

    dataset = store.ensure(target, students)
    figures: dict[str, float] = {}
    for count, name in zip(counts, ("approve_1000_s", "approve_10000_s"), strict=True):
        work = store.scratch(target, dataset, "approval")
        params: dict[str, Any] = {"count": count}
        if profile:
            params["profile"] = str(RESULTS / f"profile_approve_{count}{target.suffix}.txt")
        try:
            result = run_worker(target.url(work), "approval.run", **params)
        finally:
            target.drop(work)
        figures[name + target.suffix] = result["seconds"]
    small, large = (figures[f"{n}{target.suffix}"] for n in ("approve_1000_s", "approve_10000_s"))
    # 1.0 when ten times the requests take ten times as long.
    figures[f"approve_linearity{target.suffix}"] = (large / small) / (counts[1] / counts[0])
    return figures
