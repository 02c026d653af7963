"""What every part of the benchmark shares: where things live, the two databases, the
fresh subprocess each measurement runs in, and the arithmetic of percentiles.

Nothing here imports Django: the runner stays a plain process, and each measurement
starts Django itself in a child process pointed at the database it needs.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
VAR = ROOT / "var" / "bench"
RESULTS = BENCH / "results"
# The data directory of every bench process: its secret key, and media (photos, papers).
DATA_DIR = VAR / "data"
MEDIA_DIR = VAR / "media"
PG_SERVER = os.environ.get("XUEJI_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/").rstrip("/")
PG_PREFIX = "xueji_bench_"
RESULT_MARK = "BENCH-RESULT "


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- Numbers ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest value at or above `fraction` of the values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def p95(values: Sequence[float]) -> float:
    return percentile(values, 0.95)


def median(values: Sequence[float]) -> float:
    return percentile(values, 0.5)


def timed(function, *args, **kwargs) -> tuple[float, Any]:
    """(seconds, result) of one call, by the monotonic performance counter."""
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


# --- The two databases -------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """SQLite (files under var/bench/) or PostgreSQL (databases named xueji_bench_*).

    `suffix` is what the figures of this database carry: "" for SQLite, "_pg" for
    PostgreSQL (bench/README.md)."""

    engine: str

    @property
    def suffix(self) -> str:
        return "_pg" if self.engine == "pg" else ""

    @property
    def label(self) -> str:
        return "PostgreSQL" if self.engine == "pg" else "SQLite"

    def path(self, name: str) -> Path:
        return VAR / f"{name}.sqlite3"

    def db_name(self, name: str) -> str:
        return PG_PREFIX + name

    def url(self, name: str) -> str:
        if self.engine == "pg":
            return f"{PG_SERVER}/{self.db_name(name)}"
        return f"sqlite:///{self.path(name)}"

    # --- whole databases --------------------------------------------------------------

    def exists(self, name: str) -> bool:
        if self.engine == "pg":
            found = _pg_admin(
                "SELECT 1 FROM pg_database WHERE datname = %s", (self.db_name(name),), fetch=True
            )
            return bool(found)
        return self.path(name).exists()

    def drop(self, name: str) -> None:
        if self.engine == "pg":
            _pg_admin(f'DROP DATABASE IF EXISTS "{self.db_name(name)}" WITH (FORCE)')
            return
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path(name)}{suffix}").unlink(missing_ok=True)

    def create_empty(self, name: str) -> None:
        self.drop(name)
        if self.engine == "pg":
            _pg_admin(f'CREATE DATABASE "{self.db_name(name)}"')
        else:
            VAR.mkdir(parents=True, exist_ok=True)

    def copy(self, source: str, name: str) -> None:
        """A throw-away copy for a measurement that changes data (approvals, year-end)."""
        self.drop(name)
        if self.engine == "pg":
            _pg_admin(f'CREATE DATABASE "{self.db_name(name)}" TEMPLATE "{self.db_name(source)}"')
            return
        checkpoint_sqlite(self.path(source))
        shutil.copyfile(self.path(source), self.path(name))

    def warm(self, name: str) -> None:
        """Read the whole database once, so that a measurement of searches and pages
        starts with it in the operating system's cache, as on a server that has answered
        for a while (a 1,000,000-student registry is 2.4 GB in SQLite, 3.6 GB in
        PostgreSQL; the machines measured have 24 GB). Without it, the first of the
        measurement's random students are read from the disk, and the figures measure
        the disk. A database larger than half the memory is left as it is (the province's
        10,000,000: its reads are the disk's, and the log says so)."""
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        started = time.perf_counter()
        if self.engine == "pg":
            import psycopg

            try:
                with psycopg.connect(self.url(name), autocommit=True) as connection:
                    size = connection.execute("SELECT pg_database_size(current_database())")
                    if size.fetchone()[0] > memory // 2:
                        log(f"{self.label}: {name} is larger than half the memory; not warmed")
                        return
                    connection.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
                    # 'read': into the operating system's cache, not PostgreSQL's buffers.
                    connection.execute(
                        "SELECT pg_prewarm(c.oid, 'read') FROM pg_class AS c "
                        "JOIN pg_namespace AS n ON n.oid = c.relnamespace "
                        "WHERE c.relkind IN ('r', 'i', 't', 'm') AND n.nspname = 'public'"
                    )
            except Exception as error:  # no pg_prewarm on this server: measured cold
                log(f"{self.label}: {name} not warmed ({error})")
                return
        else:
            path = self.path(name)
            if path.stat().st_size > memory // 2:
                log(f"{self.label}: {name} is larger than half the memory; not warmed")
                return
            with path.open("rb") as stream:
                while stream.read(16 * 1024 * 1024):
                    pass
        log(f"{self.label}: {name} read into the cache in {time.perf_counter() - started:.1f} s")

    # --- the fingerprint that says whether a cached dataset is still good --------------

    def read_meta(self, name: str) -> dict[str, str]:
        if not self.exists(name):
            return {}
        try:
            if self.engine == "pg":
                import psycopg

                with psycopg.connect(self.url(name), autocommit=True) as connection:
                    rows = connection.execute("SELECT key, value FROM bench_meta").fetchall()
            else:
                with sqlite3.connect(self.path(name)) as connection:
                    rows = connection.execute("SELECT key, value FROM bench_meta").fetchall()
        except Exception:
            return {}
        return {key: value for key, value in rows}


def _pg_admin(sql: str, params: tuple = (), *, fetch: bool = False):
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as connection:
        cursor = connection.execute(sql, params)
        return cursor.fetchall() if fetch else None


def pg_available() -> bool:
    try:
        _pg_admin("SELECT 1", fetch=True)
        return True
    except Exception as error:  # the reason is printed: the PG column is then empty
        log(f"PostgreSQL is not reachable at {PG_SERVER}: {error}")
        return False


def checkpoint_sqlite(path: Path) -> None:
    """Fold the write-ahead log into the file, so copying the file copies everything."""
    if path.exists():
        with sqlite3.connect(path) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


SQLITE = Target("sqlite")
POSTGRES = Target("pg")


def schema_fingerprint(*extra: str) -> str:
    """Changes when a migration or the generator changes: the cached datasets are then
    rebuilt instead of being measured with a stale schema or stale data."""
    digest = hashlib.sha256()
    files = sorted((ROOT / "src" / "xueji").glob("*/migrations/*.py"))
    files += [BENCH / "dataset.py", BENCH / "people.py"]
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    for text in extra:
        digest.update(text.encode())
    return digest.hexdigest()[:16]


# --- Fresh processes -----------------------------------------------------------------------------


def environment(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "XUEJI_DATABASE_URL": url,
            "XUEJI_DATA_DIR": str(DATA_DIR),
            "XUEJI_MEDIA_DIR": str(MEDIA_DIR),
            "XUEJI_LOG_LEVEL": "ERROR",
            "XUEJI_DEBUG": "0",
            "XUEJI_DEMO": "0",
            "DJANGO_SETTINGS_MODULE": "xueji.settings",
            "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(
                os.pathsep
            ),
        }
    )
    env.pop("PYTEST_VERSION", None)
    return env


def xueji(url: str, *args: str) -> None:
    """Run a `xueji` command against a database (migrate, audit verify ...)."""
    command = [str(Path(sys.executable).with_name("xueji")), *args]
    subprocess.run(command, env=environment(url), cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


class TaskStopped(Exception):
    """A task ran past its time limit and was stopped (run_worker's `limit`)."""

    def __init__(self, task: str, seconds: float) -> None:
        super().__init__(f"bench task {task} stopped after {seconds:.0f} s")
        self.seconds = seconds


def run_worker(url: str, task: str, *, limit: float | None = None, **params: Any) -> dict[str, Any]:
    """Run one task of bench/worker.py in a fresh Python process against the database at
    `url`, and return the figures it reports. With `limit` (seconds), a task still running
    then is stopped and TaskStopped raised."""
    command = [sys.executable, "-m", "bench.worker", task, json.dumps(params)]
    try:
        process = subprocess.run(
            command,
            env=environment(url),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
            timeout=limit,
        )
    except subprocess.TimeoutExpired:  # subprocess.run has killed the worker
        raise TaskStopped(task, limit or 0.0) from None
    result: dict[str, Any] | None = None
    for line in process.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            result = json.loads(line[len(RESULT_MARK) :])
        elif line.strip():
            print(line, file=sys.stderr)
    if process.returncode != 0 or result is None:
        raise RuntimeError(f"bench task {task} failed (exit {process.returncode})")
    return result


def chunks(values: Sequence, size: int) -> Iterable[Sequence]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
