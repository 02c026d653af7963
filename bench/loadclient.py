"""The load generator of item 8, run as its own process: `python -m bench.loadclient PLAN`.
Closed loop: each of the N clients is a registrar with their own keep-alive connection and
session, who sends the next request as soon as the last one is answered: 60% searches
(the list's search box, as htmx asks for it), 30% student pages, 10% new change
requests (a dropout request for one of their own students, by the web form). A request
taking longer than the timeout counts as an error, as does any 5xx or a broken
connection; 4xx answers are counted apart (a second request for the same student is a
400 the form explains, not a failure of the server).

Paced (the plan's `rate`, requests a second in all): the same clients and mix, but
requests arrive as a county's registrars make them, at random moments (a Poisson process
of that rate, each client taking its share) whether or not the server has answered the
last ones. A request's time runs from the moment it was due, not from when a busy client
got round to sending it, so a server that falls behind shows its backlog in the figures
instead of hiding it by slowing the clients down.
Only the standard library: threads with http.client, one per client.
"""

from __future__ import annotations

import http.client
import json
import random
import re
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

TIMEOUT = 30.0
MIX = (("search", 0.6), ("page", 0.3), ("submit", 0.1))
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    errors: int = 0
    client_4xx: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)


class Client:
    def __init__(self, host: str, port: int, user: dict, seed: int, part: tuple[int, int]):
        self.host, self.port = host, port
        self.user = user
        self.rng = random.Random(seed)
        self.cookies: dict[str, str] = {}
        self.connection: http.client.HTTPConnection | None = None
        # Runs against the same database file requests for different students (part k of
        # n of the client's own), so a later run's requests are not refused as repeats.
        index, parts = part
        self.records = list(user["records"])[index::parts]
        self.rng.shuffle(self.records)

    def _connection(self) -> http.client.HTTPConnection:
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
        return self.connection

    def request(self, method: str, path: str, body: str | None = None, headers=None):
        """(status, body text); a broken connection is reopened once for the next call."""
        all_headers = {"Host": f"{self.host}:{self.port}", "Connection": "keep-alive"}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        all_headers.update(headers or {})
        connection = self._connection()
        try:
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        except Exception:
            connection.close()
            self.connection = None
            raise
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        if response.getheader("Connection", "").lower() == "close":
            connection.close()
            self.connection = None
        return response.status, text

    def login(self) -> None:
        status, page = self.request("GET", "/login/")
        token = CSRF_INPUT.search(page)
        if status != 200 or token is None:
            raise RuntimeError(f"login page answered {status}")
        body = urllib.parse.urlencode(
            {
                "username": self.user["username"],
                "password": self.user["password"],
                "csrfmiddlewaretoken": token.group(1),
            }
        )
        status, _text = self.request("POST", "/login/", body, {"Referer": self._origin()})
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"login of {self.user['username']} answered {status}")

    def _origin(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def one(self) -> tuple[str, int]:
        roll = self.rng.random()
        kind = "submit"
        for name, share in MIX:
            if roll < share:
                kind = name
                break
            roll -= share
        if kind == "search":
            query = urllib.parse.quote(self.rng.choice(self.user["queries"]))
            status, _text = self.request(
                "GET", f"/students/?q={query}", headers={"HX-Request": "true"}
            )
        elif kind == "page":
            status, _text = self.request(
                "GET", f"/students/{self.rng.choice(self.user['students'])}/"
            )
        else:
            # A fresh student while any is left; then the same one again (an expected 400).
            record = self.records.pop() if len(self.records) > 1 else self.records[0]
            body = urllib.parse.urlencode(
                {
                    "kind": "dropout",
                    "reason": "dropout",
                    "reason_note": "",
                    "effective_date": self.user["today"],
                    "csrfmiddlewaretoken": self.cookies.get("csrftoken", ""),
                }
            )
            status, _text = self.request(
                "POST",
                f"/changes/new/?record={record}",
                body,
                {"Referer": self._origin(), "X-CSRFToken": self.cookies.get("csrftoken", "")},
            )
        return kind, status


def run(plan: dict) -> dict:
    host, port = plan["host"], plan["port"]
    duration, users = plan["duration"], plan["users"]
    part = tuple(plan.get("part", (0, 1)))
    clients = [Client(host, port, user, seed, part) for seed, user in enumerate(users)]
    for client in clients:
        client.login()
    tally = Tally()
    lock = threading.Lock()
    start_line = threading.Barrier(len(clients) + 1)
    deadline_box: list[float] = []
    rate = plan.get("rate")
    # Paced: each client's mean time between requests, for `rate` a second in all.
    gap = len(clients) / rate if rate else 0.0

    def loop(client: Client) -> None:
        start_line.wait()
        deadline = deadline_box[0]
        due = time.perf_counter() + (client.rng.expovariate(1 / gap) if gap else 0.0)
        # Closed: until the deadline. Paced: every request due before it, sent late if the
        # client is still waiting for an earlier answer (and timed from when it was due).
        while due < deadline if gap else time.perf_counter() < deadline:
            if gap:
                time.sleep(max(0.0, due - time.perf_counter()))
                started = due
                due += client.rng.expovariate(1 / gap)
            else:
                started = time.perf_counter()
            try:
                kind, status = client.one()
            except Exception as error:  # timeouts and broken connections are errors
                with lock:
                    tally.errors += 1
                    if len(tally.error_samples) < 5:
                        tally.error_samples.append(repr(error))
                continue
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                tally.latencies.append(elapsed)
                tally.by_kind.setdefault(kind, []).append(elapsed)
                key = f"{kind}:{status}"
                tally.statuses[key] = tally.statuses.get(key, 0) + 1
                if status >= 500:
                    tally.errors += 1
                elif status >= 400:
                    tally.client_4xx += 1

    threads = [threading.Thread(target=loop, args=(client,), daemon=True) for client in clients]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline_box.append(began + duration)
    start_line.wait()
    for thread in threads:
        thread.join(duration + TIMEOUT + 5)
    elapsed = time.perf_counter() - began
    ordered = sorted(tally.latencies)

    def pct(values: list[float], fraction: float) -> float:
        values = sorted(values)
        return values[max(0, int(fraction * len(values) + 0.999999) - 1)] if values else 0.0

    return {
        "rate": rate or 0.0,
        "requests": len(ordered),
        "seconds": elapsed,
        "rps": len(ordered) / elapsed,
        "p50_ms": pct(ordered, 0.5),
        "p95_ms": pct(ordered, 0.95),
        "p95_by_kind": {kind: pct(values, 0.95) for kind, values in tally.by_kind.items()},
        "errors": tally.errors,
        "client_4xx": tally.client_4xx,
        "statuses": tally.statuses,
        "error_samples": tally.error_samples,
    }


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as source:
        plan = json.load(source)
    result = run(plan)
    with open(sys.argv[2], "w", encoding="utf-8") as out:
        json.dump(result, out)


if __name__ == "__main__":
    main()
