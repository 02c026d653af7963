"""Item 7: a scan of the registry for candidate double registrations (N11).

Timed: the product's scan, `students.duplicates.do_scan_duplicates`, as the bureau's
"scan the county for double registrations" runs it (the button of the double-registration
page, the API's POST /duplicates/scan and `xueji scan-duplicates` call it), as the bureau
registrar of the first county, on the whole registry: the pairs of two persons of the
same sex and birth date with the same name or pinyin where one of them has no ID number,
and of one ID number under two document types, each side holding an open record and one
of them in the county, the other anywhere in the registry; the new pairs go into the
queue with the audit event, in one transaction.

The dataset plants registrations of the same person without an ID number (same name, or
a homophone with the same pinyin) with their candidate pair already held, as the
registration holds it. To time a scan that has work to do, the planted pairs of the first
county are taken out of the queue first (as if those registrations had come in before
Xueji); the scan must find every one of them again, and add nothing the registry does not
hold. All of it runs in a transaction that is rolled back at the end, so the cached
dataset is left as it was without copying it.
"""

from __future__ import annotations

import time
from typing import Any

from bench.common import log


def run(profile: str = "") -> dict[str, Any]:
    from django.db import transaction

    with transaction.atomic():
        result = _scan(profile)
        transaction.set_rollback(True)
    return result


def _scan(profile: str) -> dict[str, Any]:
    from bench.importing import _profiler, _save_profile
    from xueji.orgs.models import County, Role, User
    from xueji.students.duplicates import do_scan_duplicates
    from xueji.students.models import DuplicateCandidate, Student

    county = County.objects.order_by("pk").first()
    bureau = User.objects.get(unit__county=county, role=Role.BUREAU_REGISTRAR)
    # The planted pairs whose newer registration is in this county: the queue forgets them.
    mine = DuplicateCandidate.objects.filter(newer__records__school__county=county)
    planted = sorted(set(mine.values_list("existing_id", "newer_id")))
    DuplicateCandidate.objects.filter(pk__in=list(mine.values_list("pk", flat=True))).delete()

    profiler = _profiler(profile)
    started = time.perf_counter()
    cpu = time.process_time()
    result = do_scan_duplicates(actor=bureau)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    _save_profile(profiler, profile)

    students = Student.objects.count()
    found = {(existing, newer) for existing, newer, _reason in result.pairs}
    log(
        f"duplicate scan of {county.name} in a registry of {students:,} students: "
        f"{result.found:,} pairs, {result.added:,} added ({len(planted)} planted) "
        f"in {seconds:.2f} s (CPU {cpu:.2f} s)"
    )
    missed = [pair for pair in planted if pair not in found]
    if missed:
        raise RuntimeError(f"the scan missed {len(missed)} of {len(planted)} planted pairs")
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "pairs": result.found,
        "added": result.added,
        "planted": len(planted),
    }


def measure(target, students: int, *, profile: bool = False) -> dict[str, float]:
    from bench import store
    from bench.common import RESULTS, run_worker

    dataset = store.ensure(target, students)
    target.warm(dataset)
    params: dict[str, Any] = {}
    if profile:
        params["profile"] = str(RESULTS / f"profile_dedup{target.suffix}.txt")
    result = run_worker(target.url(dataset), "dedup.run", **params)
    return {f"dedup_scan_1m_s{target.suffix}": result["seconds"]}
