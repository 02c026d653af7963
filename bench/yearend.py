"""Item 5: the year's end of a county (promotion and graduation, C1).

Timed: `intake.services.do_year_end` for the first county of the dataset, from this
school year to the next, as the bureau's year-end page runs it: grades 1-5 and 7-8
promoted into the new year's placements, grades 6 and 9 graduated, in one audited
transaction.
"""

from __future__ import annotations

import time
from typing import Any

from bench.common import log


def run(profile: str = "") -> dict[str, Any]:
    from bench.importing import _profiler, _save_profile
    from xueji.core import calendar
    from xueji.core.models import SchoolYear
    from xueji.intake.services import do_year_end
    from xueji.orgs.models import County, Role, User
    from xueji.students.models import Placement

    county = County.objects.order_by("pk").first()
    bureau = User.objects.get(unit__county=county, role=Role.BUREAU_REGISTRAR)
    this_year = calendar.current_school_year(county)
    assert this_year is not None
    next_year = SchoolYear.objects.get(county=county, start_year=this_year.start_year + 1)
    students = Placement.objects.filter(
        school_year=this_year, record__school__county=county
    ).count()
    profiler = _profiler(profile)
    started = time.perf_counter()
    cpu = time.process_time()
    counts = do_year_end(county, this_year, next_year, actor=bureau)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    _save_profile(profiler, profile)
    log(f"year end of {students:,} students: {counts} in {seconds:.2f} s (CPU {cpu:.2f} s)")
    if counts["promoted"] + counts["graduated"] + counts["blocked"] != students:
        raise RuntimeError(f"the year end moved {counts} of {students} students")
    return {"seconds": seconds, "cpu_seconds": cpu, "students": students, **counts}


def measure(target, students: int, *, profile: bool = False) -> dict[str, float]:
    from bench import store
    from bench.common import RESULTS, run_worker

    dataset = store.ensure(target, students)
    work = store.scratch(target, dataset, "yearend")
    params: dict[str, Any] = {}
    if profile:
        params["profile"] = str(RESULTS / f"profile_yearend{target.suffix}.txt")
    try:
        result = run_worker(target.url(work), "yearend.run", **params)
    finally:
        target.drop(work)
    return {f"yearend_100k_s{target.suffix}": result["seconds"]}
