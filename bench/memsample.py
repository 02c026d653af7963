"""The peak memory of a process and its children, sampled from outside:
`python -m bench.memsample PID` polls /proc every 50 ms until its standard input is
closed (or PID is gone) and prints the largest sum seen, in MB.

Each process is counted by its proportional set size (Pss, /proc/PID/smaps_rollup): a page
shared by two processes counts half in each, so a child forked from the importing
process (exchange/readahead.py) adds only what it holds itself, not the pages of
Python, Django and the heap the two share. Adding the two maximum resident sets instead
would count those shared pages twice. A separate process, because a thread in the
measured process would stop it from forking (readahead's rule).
"""

from __future__ import annotations

import os
import select
import sys
from pathlib import Path

INTERVAL = 0.05


def _family(pid: int) -> list[int]:
    found, waiting = [], [pid]
    while waiting:
        current = waiting.pop()
        if current == os.getpid():
            continue  # this sampler, itself a child of the measured process
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                waiting += [int(child) for child in (task / "children").read_text().split()]
            except OSError:
                pass
    return found


def _pss_kb(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:  # gone meanwhile
        return 0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    pid = int(sys.argv[1])
    peak = 0
    while Path(f"/proc/{pid}").exists():
        peak = max(peak, sum(_pss_kb(member) for member in _family(pid)))
        ready, _w, _x = select.select([sys.stdin], [], [], INTERVAL)
        if ready and not sys.stdin.buffer.read1(1):
            break  # the measured process closed our input: done
    print(f"{peak / 1024:.1f}", flush=True)


if __name__ == "__main__":
    main()
