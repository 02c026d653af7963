"""Item 7: a scan of the whole registry for candidate double registrations (N11).

The product has no separate whole-registry scan: it finds candidates when a student is
registered, one at a time (`students.services._candidate_matches`) or for a whole import
in set form (`students.bulk._Candidates`). What is timed here is that set-form matcher
applied to the whole registry, which is what a scan in the product's own terms is: the
persons without an ID number are the ones that can be someone else (two different ID
numbers are two people), so the matcher reads every open person born on the birth date
of a person without an ID number, indexes them by (sex, birth date, name) and (sex,
birth date, pinyin), and asks it for each person without an ID number.

The dataset plants registrations of the same person without an ID number (same name, or
a homophone with the same pinyin); the scan must find at least those.
"""

from __future__ import annotations

import time
from typing import Any

from bench.common import log


def run(profile: str = "") -> dict[str, Any]:
    from bench.importing import _profiler, _save_profile
    from xueji.students.bulk import _Candidates, _Person
    from xueji.students.models import OPEN_STATUSES, DuplicateCandidate, Student

    planted = DuplicateCandidate.objects.count()
    profiler = _profiler(profile)
    started = time.perf_counter()
    cpu = time.process_time()
    without_id = list(
        Student.objects.filter(id_number="", records__status__in=OPEN_STATUSES)
        .order_by()
        .values_list("pk", "name", "pinyin_key", "sex", "birth_date")
        .distinct()
    )
    dates = {row[4] for row in without_id}
    matcher = _Candidates(dates, dates)
    pairs: set[tuple[int, int]] = set()
    for pk, name, pinyin_key, sex, birth_date in without_id:
        person = _Person(name, pinyin_key, sex, birth_date, False)
        for other, _reason in matcher.matches(pk, person):
            pairs.add((min(pk, other), max(pk, other)))
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    _save_profile(profiler, profile)
    students = Student.objects.count()
    log(
        f"duplicate scan of {students:,} students ({len(without_id):,} without an ID number): "
        f"{len(pairs):,} pairs ({planted} planted) in {seconds:.2f} s (CPU {cpu:.2f} s)"
    )
    if len(pairs) < planted:
        raise RuntimeError(f"the scan found {len(pairs)} pairs; {planted} were planted")
    return {"seconds": seconds, "cpu_seconds": cpu, "pairs": len(pairs), "planted": planted}


def measure(target, students: int, *, profile: bool = False) -> dict[str, float]:
    from bench import store
    from bench.common import RESULTS, run_worker

    dataset = store.ensure(target, students)
    params: dict[str, Any] = {}
    if profile:
        params["profile"] = str(RESULTS / f"profile_dedup{target.suffix}.txt")
    result = run_worker(target.url(dataset), "dedup.run", **params)
    return {f"dedup_scan_1m_s{target.suffix}": result["seconds"]}
