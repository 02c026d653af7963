"""Item 3: pages on a large registry, server time through the whole Django stack.

A logged-in registrar asks for the student list filtered to a grade (50 rows a page) as a
school and as the bureau, and for students' pages. Each request goes through every
middleware, the session (saved on every request, as configured), the view, its queries
and the template, by Django's test client in this process: the time of the server
without the network.
"""

from __future__ import annotations

import random
import time
from typing import Any

from bench.common import log, p95

HOST = "127.0.0.1"


def _client(user):
    from django.test import Client

    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    return client


def _get(client, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}")
    return elapsed


def run(count: int, seed: int = 11, warmup: int = 10) -> dict[str, Any]:
    from xueji.orgs.models import County, Role, Unit, User
    from xueji.students.models import StudentRecord

    rng = random.Random(seed)
    county = County.objects.order_by("pk").first()
    bureau = User.objects.get(unit__county=county, role=Role.BUREAU_REGISTRAR)
    schools = list(
        Unit.objects.filter(county=county, kind=Unit.Kind.SCHOOL, stage="primary").order_by("pk")
    )
    school = schools[len(schools) // 2]
    registrar = User.objects.get(unit=school, is_designated_registrar=True)
    as_school, as_bureau = _client(registrar), _client(bureau)

    list_times: list[float] = []
    for index in range(count + warmup):
        grade = rng.randint(1, 6)
        page = rng.randint(1, 3)
        if index % 2:
            elapsed = _get(as_school, f"/students/?grade={grade}&page={page}")
        else:
            elapsed = _get(as_bureau, f"/students/?grade={grade}&page={page}")
        if index >= warmup:
            list_times.append(elapsed)

    top = StudentRecord.objects.filter(school__county=county).order_by("-pk")[0].pk
    low = StudentRecord.objects.filter(school__county=county).order_by("pk")[0].pk
    detail_times: list[float] = []
    for index in range(count + warmup):
        record = (
            StudentRecord.objects.filter(school__county=county, pk__gte=rng.randint(low, top))
            .order_by("pk")
            .only("student_id")
            .first()
        )
        assert record is not None
        elapsed = _get(as_bureau, f"/students/{record.student_id}/")
        if index >= warmup:
            detail_times.append(elapsed)
    figures = {"list": p95(list_times), "detail": p95(detail_times)}
    log(
        f"pages: list p95 {figures['list']:.1f} ms (max {max(list_times):.1f}), "
        f"detail p95 {figures['detail']:.1f} ms (max {max(detail_times):.1f})"
    )
    return figures


def measure(target, students: int, count: int, *, name_suffix: str = "") -> dict[str, float]:
    from bench import store
    from bench.common import run_worker

    dataset = store.ensure(target, students)
    target.warm(dataset)
    result = run_worker(target.url(dataset), "pages.run", count=count)
    sfx = name_suffix or target.suffix
    return {f"page_list_p95_ms{sfx}": result["list"], f"page_detail_p95_ms{sfx}": result["detail"]}
