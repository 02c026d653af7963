"""Item 8: HTTP under load, on PostgreSQL.

`xueji serve` (waitress, as docs/deploy.md runs it in production) serves a copy of a
county's dataset; bench/loadclient.py, a second process on the loopback interface, plays
N registrars of that county for a fixed time (see its docstring for the mix). The server
runs with the production settings: no debug, the configured threads, persistent database
connections.

Issue 9's figures come from the closed loop: 50 clients without a pause between requests,
so the server is always saturated and a request's time is mostly its wait behind the
others (50 requests in the server's queue). Then the same server is driven twice more,
paced at half and at three quarters of the rate it managed (requests arriving at random
moments, as a county's registrars send them): the time a request takes on a server that
keeps up, which is what sizing a county's server needs (docs/scale.md).
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.common import ROOT, VAR, environment, log


def plan(clients: int, per_user: int = 200, seed: int = 5) -> dict[str, Any]:
    """Who the clients are (registrars of the first county's schools, each with their own
    students to search for, open and file requests for)."""
    import random

    from bench.dataset import PASSWORD
    from xueji.orgs.models import County, Role, User
    from xueji.students.models import Status, StudentRecord

    rng = random.Random(seed)
    county = County.objects.order_by("pk").first()
    registrars = list(
        User.objects.filter(
            unit__county=county,
            role__in=[Role.SCHOOL_REGISTRAR, Role.CENTRAL_REGISTRAR],
            is_designated_registrar=True,
        ).order_by("pk")
    )
    users = []
    for index in range(clients):
        user = registrars[index % len(registrars)]
        # Two clients of one school share its students but never a student they file for.
        share, shares = index // len(registrars), clients // len(registrars) + 1
        records = list(
            StudentRecord.objects.filter(school=user.unit_id, status=Status.ENROLLED)
            .select_related("student")
            .order_by("pk")[:2000]
        )
        picked = rng.sample(records, min(per_user, len(records)))
        queries = []
        for n, record in enumerate(picked):
            student = record.student
            queries.append(
                [student.name[:2], student.name, student.pinyin_key, student.initials_key][n % 4]
            )
        own = [r.pk for i, r in enumerate(records) if i % shares == share]
        users.append(
            {
                "username": user.username,
                "password": PASSWORD,
                "queries": queries,
                "students": [record.student_id for record in picked],
                "records": own[:400],
                "today": datetime.date.today().isoformat(),
            }
        )
    return {"users": users}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_ready(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except Exception:
            time.sleep(0.5)
    raise RuntimeError("xueji serve did not answer /healthz")


PACED = (("paced50", 0.5), ("paced75", 0.75))  # (figure name, fraction of the closed rate)


def _drive(prepared: dict[str, Any], run: int, rate: float | None = None) -> dict[str, Any]:
    """Run `run` of bench/loadclient.py against the running server: closed, or paced. Each
    run files its requests for a part of each client's students of its own."""
    VAR.mkdir(parents=True, exist_ok=True)
    plan_file, out_file = VAR / "load_plan.json", VAR / "load_result.json"
    part = (run, 1 + len(PACED))
    plan_file.write_text(json.dumps({**prepared, "rate": rate, "part": part}))
    subprocess.run(
        [sys.executable, "-m", "bench.loadclient", str(plan_file), str(out_file)],
        cwd=ROOT,
        check=True,
    )
    return json.loads(out_file.read_text())


def _report(label: str, result: dict[str, Any]) -> None:
    log(
        f"load{label}: {result['requests']} requests, {result['rps']:.1f}/s, "
        f"p50 {result['p50_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms "
        f"(by kind {', '.join(f'{k} {v:.0f}' for k, v in result['p95_by_kind'].items())}), "
        f"errors {result['errors']}, 4xx {result['client_4xx']} {result['statuses']}"
    )
    if result["error_samples"]:
        log(f"load errors, first ones: {result['error_samples']}")


def measure(target, students: int, clients: int, duration: float) -> dict[str, float]:
    from bench import store
    from bench.common import run_worker

    dataset = store.ensure(target, students)
    work = store.scratch(target, dataset, "load")
    url = target.url(work)
    port = _free_port()
    server = None
    try:
        prepared = run_worker(url, "load.plan", clients=clients)
        prepared.update({"host": "127.0.0.1", "port": port, "duration": duration})
        xueji_command = str(Path(sys.executable).with_name("xueji"))
        server = subprocess.Popen(
            # As docs/deploy.md runs it: one server process per core.
            [
                xueji_command,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--processes",
                str(os.cpu_count() or 1),
            ],
            env=environment(url),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        _wait_ready(port)
        log(f"load: {clients} clients for {duration:.0f} s against xueji serve on :{port}")
        result = _drive(prepared, 0)
        _report("", result)
        paced = {}
        for run, (name, fraction) in enumerate(PACED, start=1):
            rate = round(result["rps"] * fraction, 1)
            log(f"load: paced at {rate}/s ({fraction:.0%} of the closed loop's rate)")
            paced[name] = _drive(prepared, run, rate)
            _report(f" {name}", paced[name])
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
        target.drop(work)
    return {
        "load_rps": result["rps"],
        "load_p95_ms": result["p95_ms"],
        "load_errors": float(result["errors"]),
        "load_4xx": float(result["client_4xx"]),
        **{f"load_{name}_rps": paced[name]["rps"] for name, _fraction in PACED},
        **{f"load_{name}_p95_ms": paced[name]["p95_ms"] for name, _fraction in PACED},
        **{f"load_{name}_errors": float(paced[name]["errors"]) for name, _fraction in PACED},
    }
