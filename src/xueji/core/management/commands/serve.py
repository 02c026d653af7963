"""`xueji serve`: the production WSGI server (waitress), on Linux and Windows alike.

One Python process runs Python code on one core at a time, whatever its threads: on a
server with several cores, `--processes N` (Linux) forks N copies, each listening on the
port with a socket of its own, and the kernel spreads new connections evenly over them
(SO_REUSEPORT; see _supervise). They share nothing but
the database and the data directory (sessions live in the database), exactly as several
servers behind a proxy would.
"""

import os
import signal
import socket
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Serve Xueji with the waitress WSGI server (not Django's development server)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--threads",
            type=int,
            default=None,
            help="threads a process: 2 with several processes, else 4 (see default_threads)",
        )
        parser.add_argument(
            "--processes",
            type=int,
            default=1,
            help="server processes sharing the port (Linux); about one per core",
        )

    def handle(self, *args, host, port, threads, processes, **options):
        if processes < 1:
            raise CommandError("--processes must be 1 or more")
        threads = default_threads(processes) if threads is None else threads
        if threads < 1:
            raise CommandError("--threads must be 1 or more")
        if processes > 1 and not hasattr(os, "fork"):
            raise CommandError("--processes above 1 needs Linux; run one process per port")
        if processes == 1:
            listener = socket.create_server((host, port), reuse_port=False, backlog=1024)
        else:
            # Taken now, so a port in use is said here, before any process starts.
            listener = _port_guard(host, port)
        self.stdout.write(
            f"Xueji is serving on http://{host}:{port}/ with {processes} process(es) of "
            f"{threads} thread(s) (Ctrl+C stops it)"
        )
        self.stdout.flush()
        if processes == 1:
            _serve(listener, threads)
            return
        _supervise(listener, (host, port), threads, processes)


def default_threads(processes: int) -> int:
    """Threads a server process runs requests on, unless --threads says. A process runs
    Python on one core at a time whatever its threads, so threads answer no more requests;
    each waits for the interpreter's lock and holds a database connection of its own. Two
    cores, the benchmark's 50 clients (issue 9, bench/load.py), 2 processes of:
    4 threads: 131-135 requests a second at 10.7-11.0 ms of server CPU each;
    2 threads: 143-147 requests a second (p95 422-431 ms), paced at 75% of that p95
    134-273 ms; 1 thread: 161-166 (p95 366-384 ms) at 9.6-9.9 ms, but paced at 75% p95
    151, 765 and 2,075 ms: a process of one thread cannot go on with another request
    while one waits for the database, so the process that holds more of the kept
    connections falls behind. Two threads keep most of the saving and that slack (and a
    slow page holds only half a process). One process alone keeps 4 (waitress's own
    default), so a slow page does not hold every other request behind it."""
    return 2 if processes > 1 else 4


def _serve(listener: socket.socket, threads: int) -> None:
    from waitress import serve  # type: ignore[import-untyped]

    from xueji.wsgi import application

    # Behind a reverse proxy, believe X-Forwarded-* headers only from that proxy.
    serve(
        application,
        sockets=[listener],
        threads=threads,
        trusted_proxy=settings.TRUSTED_PROXY,
        trusted_proxy_headers={"x-forwarded-proto", "x-forwarded-for"},
        clear_untrusted_proxy_headers=True,
        ident="xueji",
    )


def _port_guard(host: str, port: int) -> socket.socket:
    """The port, bound for the server processes' sockets but not listening: it receives no
    connection, and no other program can take the port while the server runs."""
    guard = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    guard.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    guard.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        guard.bind((host, port))
    except OSError:
        guard.close()
        raise
    return guard


def _supervise(
    guard: socket.socket, address: tuple[str, int], threads: int, processes: int
) -> None:
    """Fork the server processes and keep them running until told to stop: a process that
    dies is replaced; SIGTERM or Ctrl+C stops them all. No database connection is open
    before the fork (Django opens them on first use), so none is shared.

    Each process listens on a socket of its own on the port (SO_REUSEPORT), and the kernel
    spreads new connections evenly over them. One socket shared by all went to whichever
    process woke first: a browser keeps its connection, so a process could hold 42 of 50
    clients and the other 8 (issue 9: the 95th percentile of the closed-loop test rose
    from ~400 to ~580 ms on such a split, its median fell to 130)."""
    children: set[int] = set()
    stopping = False

    def start() -> None:
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            try:
                guard.close()
                _serve(socket.create_server(address, reuse_port=True, backlog=1024), threads)
            finally:
                os._exit(0)
        children.add(pid)

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                children.discard(pid)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for _index in range(processes):
        start()
    while children:
        try:
            pid, _status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        children.discard(pid)
        if not stopping:
            sys.stderr.write(f"xueji serve: process {pid} ended; starting another\n")
            start()
    guard.close()
