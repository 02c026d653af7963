"""Reading and validating an import's rows in a second process, while the first writes.

An import does two kinds of work of about the same size: reading the sheet and checking
its 71 items a row (pure Python, no database), and the registry's checks and writes
(the database's time, most of it in SQLite's C or PostgreSQL's server). One process
does them one after the other and leaves the machine's second core idle; here a forked
child reads and validates rounds of rows ahead and hands them over through a pipe, and
the importing process only registers them. The rows come out in the same order and with
the same messages as when read in the process itself (`validated_rows(..., ahead=False)`),
and the child never touches the database: it only reads the sheet it was forked with.

The child is used for files of many rows only (settings.XUEJI_IMPORT_READ_AHEAD_ROWS):
starting it costs more than a small file takes. Where fork is missing (Windows) or the
process runs other threads (a fork copies only the calling one, and a lock another
thread held would stay locked in the child), the rows are read in the process itself.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
import threading
import traceback
from collections.abc import Generator
from typing import Any

from django.conf import settings

from xueji.core.errors import RuleViolation

# (row number in the sheet, checked values, errors, warnings); a problem is (item key,
# the message shown to people), as the import report keeps it.
ValidatedRow = tuple[int, dict[str, object], list[tuple[str, str]], list[tuple[str, str]]]

# Rows per message through the pipe: large enough that pickling is cheap per row, small
# enough that the child is never more than a few rounds ahead (bounded memory).
BATCH = 500
# Batches received and not yet taken, at most (about 8 MB for the national template).
QUEUED_BATCHES = 20
_DONE, _ROWS, _REFUSED, _FAILED = range(4)


def validated_rows(
    sheet, validator, *, ahead: bool | None = None
) -> Generator[ValidatedRow, None, None]:
    """Every non-empty row below the header, validated, in the sheet's order. `ahead`
    None: a child process for a large file where one can be forked (see the docstring)."""
    if ahead is None:
        ahead = _may_read_ahead(sheet.total)
    if not ahead:
        return _validated_here(sheet, validator)
    return _validated_ahead(sheet, validator)


def _may_read_ahead(rows: int) -> bool:
    return (
        rows >= settings.XUEJI_IMPORT_READ_AHEAD_ROWS
        and hasattr(os, "fork")
        and threading.active_count() == 1
    )


def _validated_here(sheet, validator) -> Generator[ValidatedRow, None, None]:
    for number, cells in sheet.rows():
        checked = validator.validate(sheet.raw_row(cells))
        yield (
            number,
            checked.values,
            [(problem.key, problem.message) for problem in checked.errors],
            [(problem.key, problem.message) for problem in checked.warnings],
        )


def _validated_ahead(sheet, validator) -> Generator[ValidatedRow, None, None]:
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(
        target=_read_ahead, args=(sheet, validator, sending), name="xueji-import-reader"
    )
    child.start()
    sending.close()  # the child's end: once the child is gone, a read here ends
    # The importing process takes its rows a round at a time and then writes for a while:
    # a thread keeps receiving meanwhile, so that the child reads on instead of waiting on
    # a full pipe (64 KB, a fraction of one batch). Started after the fork, never before.
    batches: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUED_BATCHES)
    stopping = threading.Event()
    receiver = threading.Thread(
        target=_receive,
        args=(receiving, batches, stopping),
        name="xueji-import-receiver",
        daemon=True,  # never keeps a process from ending, whatever went wrong
    )
    receiver.start()
    try:
        while True:
            blob = batches.get()
            if blob is None:  # the pipe ended before the child said it was done
                child.join(5)
                raise RuntimeError(
                    f"the import's reading process stopped unexpectedly (exit {child.exitcode})"
                )
            kind, payload = pickle.loads(blob)
            if kind == _ROWS:
                yield from payload
            elif kind == _DONE:
                break
            elif kind == _REFUSED:
                message, field = payload
                raise RuleViolation(message, field=field)
            else:
                raise RuntimeError(f"the import's reading process failed:\n{payload}")
    finally:
        # Done, or the import stopped early (a refusal, an error): the child is not
        # needed any more, whatever it is doing. Once it is gone the pipe ends, and the
        # receiver, no longer held up by a full queue, sees the end and stops.
        stopping.set()
        if child.is_alive():
            child.kill()
        child.join()
        child.close()
        while receiver.is_alive():
            _drain(batches)
            receiver.join(0.05)
        receiving.close()


def _receive(receiving, batches: queue.Queue, stopping: threading.Event) -> None:
    """The receiving thread: every message as it comes, then None for the pipe's end."""
    while True:
        try:
            blob: bytes | None = receiving.recv_bytes()
        except (EOFError, OSError):
            blob = None
        while not stopping.is_set():
            try:
                batches.put(blob, timeout=0.1)
                break
            except queue.Full:
                continue
        if blob is None or stopping.is_set():
            return


def _drain(batches: queue.Queue) -> None:
    try:
        while True:
            batches.get_nowait()
    except queue.Empty:
        pass


def _read_ahead(sheet, validator, sending) -> None:
    """The child: validate the sheet's rows and send them in batches, then _DONE; a
    refusal of the file (RuleViolation) or a failure is sent instead of the rest."""
    try:
        batch: list[ValidatedRow] = []
        for row in _validated_here(sheet, validator):
            batch.append(row)
            if len(batch) >= BATCH:
                _send(sending, _ROWS, batch)
                batch = []
        if batch:
            _send(sending, _ROWS, batch)
        _send(sending, _DONE, None)
    except RuleViolation as violation:
        _send(sending, _REFUSED, (str(violation), violation.field))
    except BrokenPipeError:
        pass  # the importing process stopped reading: nothing to tell it
    except BaseException:
        try:
            _send(sending, _FAILED, traceback.format_exc())
        except OSError:
            pass  # as above
    finally:
        sending.close()


def _send(sending, kind: int, payload: Any) -> None:
    sending.send_bytes(pickle.dumps((kind, payload), protocol=pickle.HIGHEST_PROTOCOL))
