"""Cached datasets: built once, kept under var/bench/ (SQLite) and as xueji_bench_*
databases (PostgreSQL), rebuilt when a migration, the generator or the school year
changes (the fingerprint in each database's bench_meta table says which it was built by).
"""

from __future__ import annotations

import datetime
import time

from bench.common import Target, log, run_worker, schema_fingerprint, xueji
from bench.dataset import school_year_for

SEED = 2026


def dataset_name(students: int) -> str:
    if students == 0:
        return "base"
    if students % 1_000_000 == 0:
        return f"s{students // 1_000_000}m"
    if students % 1_000 == 0:
        return f"s{students // 1_000}k"
    return f"s{students}"


def ensure(target: Target, students: int) -> str:
    """The name of a dataset of `students` students on `target`, built if needed."""
    name = dataset_name(students)
    year = school_year_for(datetime.date.today())
    fingerprint = schema_fingerprint(str(students), str(SEED), str(year))
    meta = target.read_meta(name)
    if meta.get("fingerprint") == fingerprint:
        return name
    log(f"{target.label}: building dataset {name} ({students:,} students); cached afterwards")
    started = time.perf_counter()
    target.create_empty(name)
    try:
        xueji(target.url(name), "migrate", "--noinput")
        summary = run_worker(
            target.url(name),
            "dataset.build",
            students=students,
            seed=SEED,
            fingerprint=fingerprint,
        )
    except BaseException:
        target.drop(name)
        raise
    log(
        f"{target.label}: dataset {name} ready in {time.perf_counter() - started:.0f} s "
        f"({summary.get('students', 0):,} students, {summary.get('counties')} counties)"
    )
    return name


def scratch(target: Target, source: str, purpose: str) -> str:
    """A throw-away copy of a dataset for a measurement that changes data."""
    name = f"work_{purpose}"
    target.copy(source, name)
    return name
