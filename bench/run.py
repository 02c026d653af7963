"""`make bench`: measure Xueji, print one table, write the figures as JSON.

    python -m bench.run                 the full sizes (issue 9), SQLite and PostgreSQL
    python -m bench.run --smoke         tiny sizes, a few minutes (CI): bench/results/smoke.json
    python -m bench.run --province      search and pages at 10,000,000 students on PostgreSQL
    python -m bench.run --only search,pages --db pg     some items, one database
    python -m bench.run --check         exit 1 when a goal is missed (default: always 0)
    python -m bench.run --profile       also write pyinstrument profiles to bench/results/

Figures are named as issue 9 lists them; those of PostgreSQL carry the suffix _pg, the
province's _10m (bench/README.md). A measurement is a measurement: without --check the
exit code is 0 whatever the figures say.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench import approval, dedup, importing, load, pages, pdfs, search, yearend
from bench.common import POSTGRES, RESULTS, SQLITE, Target, log, pg_available


@dataclass(frozen=True)
class Sizes:
    import_rows: int
    registry: int  # students for search, pages and the duplicate scan
    samples: int  # timed searches of each kind, and timed pages of each kind
    county: int  # students for approvals, year end and the load test
    approvals: tuple[int, int]
    pupils: int  # on the photo sheet
    clients: int
    seconds: float


FULL = Sizes(100_000, 1_000_000, 300, 100_000, (1_000, 10_000), 2_000, 50, 60)
# A rot check for CI, not a measurement: every item on each database at small sizes (two
# approval counts ten apart, as for the linearity; several load clients). Most of its
# time is the migrations and the process starts, whatever the sizes.
SMOKE = Sizes(100, 2_000, 10, 2_000, (10, 100), 20, 4, 4)
PROVINCE = Sizes(0, 10_000_000, 300, 0, (0, 0), 0, 0, 0)

ITEMS = ("import", "search", "pages", "dedup", "approval", "yearend", "pdf", "load")

# name (without the _pg suffix) → (comparison, goal). Figures without a goal are shown
# for what they say (the peer's time, the load's throughput, the linearity of approvals).
GOALS: dict[str, tuple[str, float]] = {
    "import_speedup_vs_peer": (">=", 10),
    "import_vs_floor": ("<=", 3),
    "import_peak_mb": ("<=", 500),
    "search_name_p95_ms": ("<=", 5),
    "search_pinyin_p95_ms": ("<=", 5),
    "search_id_p95_ms": ("<=", 5),
    "search_number_p95_ms": ("<=", 5),
    "page_list_p95_ms": ("<=", 50),
    "page_detail_p95_ms": ("<=", 50),
    "approve_1000_s": ("<=", 10),
    "yearend_100k_s": ("<=", 30),
    "pdf_photosheet_2000_s": ("<=", 15),
    "pdf_change_report_ms": ("<=", 300),
    "dedup_scan_1m_s": ("<=", 2),
    "load_p95_ms": ("<=", 250),
    "load_errors": ("==", 0),
    "search_name_p95_ms_10m": ("<=", 5),
    "page_list_p95_ms_10m": ("<=", 50),
}


def goal_of(name: str) -> tuple[str, float] | None:
    return GOALS.get(name) or GOALS.get(name.removesuffix("_pg"))


def passes(name: str, value: float) -> bool | None:
    goal = goal_of(name)
    if goal is None or value is None or math.isnan(value):
        return None
    op, limit = goal
    return {">=": value >= limit, "<=": value <= limit, "==": value == limit}[op]


def _items_for(target: Target, sizes: Sizes, profile: bool) -> dict[str, Callable[[], dict]]:
    return {
        "import": lambda: importing.measure(target, sizes.import_rows, profile=profile),
        "search": lambda: search.measure(target, sizes.registry, sizes.samples),
        "pages": lambda: pages.measure(target, sizes.registry, sizes.samples),
        "dedup": lambda: dedup.measure(target, sizes.registry, profile=profile),
        "approval": lambda: approval.measure(
            target, sizes.county, sizes.approvals, profile=profile
        ),
        "yearend": lambda: yearend.measure(target, sizes.county, profile=profile),
        "pdf": lambda: pdfs.measure(target, sizes.pupils),
        "load": lambda: load.measure(target, sizes.county, sizes.clients, sizes.seconds),
    }


def measure(mode: str, items: list[str], targets: list[Target], profile: bool) -> dict[str, float]:
    figures: dict[str, float] = {}
    if mode == "province":
        # Issue 9: items 2 and 3 at 10,000,000 students, on PostgreSQL only.
        jobs: list[tuple[str, Target, Callable[[], dict]]] = [
            (
                "search",
                POSTGRES,
                lambda: search.measure(
                    POSTGRES, PROVINCE.registry, PROVINCE.samples, name_suffix="_10m"
                ),
            ),
            (
                "pages",
                POSTGRES,
                lambda: pages.measure(
                    POSTGRES, PROVINCE.registry, PROVINCE.samples, name_suffix="_10m"
                ),
            ),
        ]
    else:
        sizes = SMOKE if mode == "smoke" else FULL
        jobs = [
            (item, target, _items_for(target, sizes, profile)[item])
            for item in items
            for target in targets
            # Issue 9: the load test is PostgreSQL's, as in production.
            if not (item == "load" and target.engine != "pg")
        ]
    for item, target, job in jobs:
        started = time.perf_counter()
        try:
            figures.update(job())
        except Exception as error:  # one broken item must not hide the others' figures
            log(f"{item} on {target.label} FAILED: {error!r}")
            suffix = "_10m" if mode == "province" else target.suffix
            figures[f"failed_{item}{suffix}"] = 1.0
        log(f"{item} on {target.label} took {time.perf_counter() - started:.0f} s")
    return figures


def _format(name: str, value: float) -> str:
    if value is None or math.isnan(value):
        return "—"
    if name.startswith(("import_speedup", "import_vs", "approve_linearity")):
        return f"{value:.2f}×"
    if name.endswith("_mb") or name.endswith("_mb_pg"):
        return f"{value:.0f} MB"
    if "_ms" in name:
        return f"{value:.1f} ms"
    if name.endswith(("_s", "_s_pg")):
        return f"{value:.2f} s"
    if name.endswith("_rps"):
        return f"{value:.1f}/s"
    return f"{value:g}"


def table(figures: dict[str, float], title: str) -> str:
    lines = [title, ""]
    header = f"{'metric':<30} {'value':>14}  {'goal':>10}  result"
    lines += [header, "-" * len(header)]
    for name in sorted(figures, key=_order):
        value = figures[name]
        goal = goal_of(name)
        goal_text = f"{goal[0]} {goal[1]:g}" if goal else ""
        verdict = passes(name, value)
        result = "" if verdict is None else ("pass" if verdict else "MISS")
        if name.startswith("failed_"):
            result = "FAILED"
        shown = _format(name, value)
        if _lower_bound(name, figures):
            # A stopped peer: its time, and the speed-up beside it, are at least these;
            # a lower bound that meets a ">=" goal meets it, one that does not says nothing.
            shown = f"> {shown}"
            if verdict is False:
                result = "unknown"
        lines.append(f"{name:<30} {shown:>14}  {goal_text:>10}  {result}")
    return "\n".join(lines)


def _lower_bound(name: str, figures: dict[str, float]) -> bool:
    """Whether the figure is a lower bound: the peer's time and speed-up when the peer
    was stopped at its time limit (importing.PEER_LIMIT)."""
    for suffix in ("_pg", ""):
        if name in (f"import_peer_s{suffix}", f"import_speedup_vs_peer{suffix}"):
            return figures.get(f"import_peer_stopped{suffix}") == 1.0
    return False


def _order(name: str) -> tuple[int, str, int]:
    base = name.removesuffix("_pg").removesuffix("_10m").removeprefix("failed_")
    for index, item in enumerate(
        ("import", "search", "page", "approve", "yearend", "pdf", "dedup", "load")
    ):
        if base.startswith(item):
            return index, base, name.endswith("_pg")
    return 99, base, name.endswith("_pg")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--smoke", action="store_true", help="tiny sizes, a few minutes (CI)")
    mode.add_argument("--province", action="store_true", help="10,000,000 students on PostgreSQL")
    parser.add_argument("--only", default="", help=f"comma-separated items of: {','.join(ITEMS)}")
    parser.add_argument("--db", default="sqlite,pg", help="sqlite, pg or both (default)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument("--profile", action="store_true", help="write pyinstrument profiles")
    args = parser.parse_args(argv)

    run_mode = "smoke" if args.smoke else "province" if args.province else "full"
    items = [item.strip() for item in args.only.split(",") if item.strip()] or list(ITEMS)
    unknown = set(items) - set(ITEMS)
    if unknown:
        parser.error(f"unknown items: {', '.join(sorted(unknown))}")
    engines = {engine.strip() for engine in args.db.split(",")}
    targets = [target for target in (SQLITE, POSTGRES) if target.engine in engines]
    if (POSTGRES in targets or run_mode == "province") and not pg_available():
        if run_mode == "province":
            return 2
        targets = [target for target in targets if target is not POSTGRES]

    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    figures = measure(run_mode, items, targets, args.profile)
    took = time.perf_counter() - started
    sizes = {"smoke": SMOKE, "province": PROVINCE}.get(run_mode, FULL)
    title = (
        f"Xueji benchmark ({run_mode}): import {sizes.import_rows:,} rows, registry "
        f"{sizes.registry:,} students, county {sizes.county:,}, approvals "
        f"{sizes.approvals[0]:,}/{sizes.approvals[1]:,}, photo sheet {sizes.pupils:,}, load "
        f"{sizes.clients} clients × {sizes.seconds:.0f} s; took {took / 60:.1f} min"
    )
    # Wall-clock figures are only as good as the machine was quiet: say how busy it was.
    title += (
        f"\nmachine: {os.cpu_count()} cores, load average {load_before:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end"
    )
    print(table(figures, title))

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / ("smoke.json" if run_mode == "smoke" else "latest.json")
    written: dict[str, Any] = {}
    partial = run_mode == "province" or len(items) < len(ITEMS) or len(targets) < 2
    if partial and out.exists():
        # A partial run updates its own figures and keeps the others of the last run.
        written = json.loads(out.read_text(encoding="utf-8"))
    written.update({name: round(value, 3) for name, value in figures.items()})
    out.write_text(json.dumps(dict(sorted(written.items())), indent=2) + "\n", encoding="utf-8")
    print(f"\nfigures written to {out.relative_to(RESULTS.parents[1])}")

    missed = [name for name, value in figures.items() if passes(name, value) is False]
    failed = [name for name in figures if name.startswith("failed_")]
    if args.check and (missed or failed):
        print(f"goals missed: {', '.join(sorted(missed + failed))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
