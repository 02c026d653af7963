"""Item 2: the search box (B1) on a large registry.

Measured through the code the search box runs: the student list's query
(`students.queries.filtered_records` with the typed text, which calls
`students.search.search_students` inside the user's scope) paginated as the list
paginates it, so each timing is the count and the first page of 50, as the bureau's
registrar of the first county sees them (the widest scope a county user has).

What is typed comes from real students of that county: a full name or its first two
characters, the full pinyin or its initials, an ID number, and any number the student
holds or held (the provincial number, a retired one, the national G/J number).
"""

from __future__ import annotations

import random
import time
from typing import Any

from bench.common import log, p95

KINDS = ("name", "pinyin", "id", "number")


def _samples(count: int, seed: int) -> dict[str, list[str]]:
    from xueji.orgs.models import County
    from xueji.students.models import Student, StudentNumber

    county = County.objects.order_by("pk").first()
    rng = random.Random(seed)
    top = Student.objects.filter(records__school__county=county).order_by("-pk").first()
    assert top is not None, "the dataset has no students"
    first = Student.objects.filter(records__school__county=county).order_by("pk").first()
    assert first is not None
    picked: list[Student] = []
    while len(picked) < count:
        pk = rng.randint(first.pk, top.pk)
        student = (
            Student.objects.filter(pk__gte=pk, records__school__county=county)
            .order_by("pk")
            .first()
        )
        if student is not None and student.id_number:
            picked.append(student)
    numbers = list(
        StudentNumber.objects.filter(student__in=picked).values_list("student_id", "value")
    )
    by_student: dict[int, list[str]] = {}
    for student_id, value in numbers:
        by_student.setdefault(student_id, []).append(value)
    samples: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for index, student in enumerate(picked):
        samples["name"].append(student.name if index % 2 else student.name[:2])
        samples["pinyin"].append(student.pinyin_key if index % 2 else student.initials_key)
        samples["id"].append(student.id_number)
        held = by_student.get(student.pk, [])
        samples["number"].append(held[index % len(held)] if held else student.national_number)
    return samples


def run(count: int, seed: int = 7, warmup: int = 20) -> dict[str, Any]:
    """Time `count` searches of each kind (after `warmup` untimed ones, as on a server
    that has been answering for a while)."""
    from xueji.core.scope import Scope
    from xueji.orgs.models import Role, User
    from xueji.students.queries import StudentFilter, list_page, this_year
    from xueji.students.search import classify

    user = User.objects.filter(role=Role.BUREAU_REGISTRAR).select_related("unit").order_by("pk")[0]
    samples = _samples(count + warmup, seed)
    figures: dict[str, Any] = {}
    for kind in KINDS:
        timings = []
        found = []
        for index, query in enumerate(samples[kind]):
            assert classify(query)[0] in (kind, "national"), (kind, query, classify(query))
            # As the list view: a fresh scope per request, the filtered records, one page,
            # each row with its grade this school year and its double-registration mark.
            # The view has the year already (every page of the list asks for it), so the
            # figure is the search's own work, as it has been since the first run.
            scope = Scope(user)
            year = this_year(scope)
            started = time.perf_counter()
            wanted = StudentFilter(q=query)
            page = list_page(scope, wanted, 1, 50, year=year)
            rows = list(page)
            elapsed = (time.perf_counter() - started) * 1000
            if index >= warmup:
                timings.append(elapsed)
                found.append(page.paginator.count)
            if not rows:
                raise RuntimeError(f"search {kind} {query!r} found nothing")
        figures[kind] = p95(timings)
        figures[f"{kind}_median_hits"] = sorted(found)[len(found) // 2]
        log(
            f"search {kind}: p95 {figures[kind]:.1f} ms, max {max(timings):.1f} ms, "
            f"median hits {figures[f'{kind}_median_hits']}"
        )
    return figures


def measure(target, students: int, count: int, *, name_suffix: str = "") -> dict[str, float]:
    from bench import store
    from bench.common import run_worker

    dataset = store.ensure(target, students)
    target.warm(dataset)
    result = run_worker(target.url(dataset), "search.run", count=count)
    sfx = target.suffix
    return {f"search_{kind}_p95_ms{name_suffix or sfx}": result[kind] for kind in KINDS}
