"""An uploaded .xlsx checked as an archive before any spreadsheet library reads it (issue 8).

An .xlsx is a ZIP of XML parts, and both readers trust it more than we may:

- A few kilobytes can unpack to gigabytes (a zip bomb, or a shared-strings part of one
  repeated string). We unpack every part once here, counting the bytes it really gives
  (not the size it claims), and refuse an archive that unpacks to more than any student
  list could, or a part that compresses far better than a spreadsheet ever does.
- Calamine allocates one slot for every cell between the first and the last cell used,
  before we see a single row: a sheet with one cell in A1 and one in XFD1048576 asks for
  17 billion slots and kills the process. So each worksheet is searched for a cell or
  row reference beyond what a student list may hold (rows: the import's limit; columns:
  `MAX_COLUMN`), and the file is refused with a sentence instead.

Only a real .xlsx (an `xl/workbook.xml` with XML sheets) gets this far: other ZIPs that
calamine could open (.xlsb, .ods) are refused, since their cells cannot be checked here.
"""

import io
import re
import zipfile
import zlib

from django.utils.translation import gettext as _

from xueji.core.errors import RuleViolation

# The national template has 71 columns; a registrar may add a few of their own. Column
# DZ is the 130th: a sheet reaching beyond it is no student list.
MAX_COLUMN = "DZ"
# The most any workbook of MAX_ROWS students unpacks to is a few hundred megabytes.
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024
# Spreadsheet XML compresses about 10:1 (the template 13:1); a bomb compresses 1000:1.
MAX_COMPRESSION_RATIO = 100
# Below this a part says nothing by its ratio, and its bytes are bounded anyway.
RATIO_CHECK_FROM_BYTES = 1024 * 1024
MAX_PARTS = 1000
CHUNK_BYTES = 4 * 1024 * 1024
# A reference split between two chunks is found in the overlap.
OVERLAP_BYTES = 64


def _greater_than(limit: int) -> str:
    """A regular expression matching the decimal numbers greater than `limit`."""
    digits = str(limit)
    alternatives = [rf"[1-9]\d{{{len(digits)},}}"]
    for index, digit in enumerate(digits):
        if digit != "9":
            rest = len(digits) - index - 1
            alternatives.append(
                re.escape(digits[:index])
                + f"[{int(digit) + 1}-9]"
                + (rf"\d{{{rest}}}" if rest else "")
            )
    return "(?:" + "|".join(alternatives) + ")"


def _column_beyond(last: str) -> str:
    """Column letters after `last` (two letters, e.g. DZ): three or more letters, or two
    letters starting after the first letter of `last`. `last` must end in Z."""
    assert len(last) == 2 and last[1] == "Z"
    after = chr(ord(last[0]) + 1)
    return rf"[A-Za-z]{{3,}}|[{after}-Z{after.lower()}-z][A-Za-z]"


def _reference_beyond(max_row: int) -> re.Pattern[bytes]:
    """A reference (r="AB123" of a cell, r="123" of a row) beyond the rows or columns a
    student list may use. The attribute may be quoted either way and spaced around "="."""
    columns = _column_beyond(MAX_COLUMN)
    rows = _greater_than(max_row)
    # Starting with the letter r (not a word boundary) lets the engine skip ahead to each
    # "r": three times quicker, about a second per 20,000 rows of the template.
    pattern = rf"""r\s*=\s*["'](?:(?:{columns})\d|[A-Za-z]{{0,2}}0*{rows}["'])"""
    return re.compile(pattern.encode())


def beyond_limits(max_row: int) -> RuleViolation:
    """The refusal of a sheet reaching beyond row `max_row` or column MAX_COLUMN."""
    return RuleViolation(
        _(
            "File: the sheet has cells beyond row %(rows)d or column "
            "%(column)s, more than a student list can hold. Delete the "
            "cells far below or to the right of the list, or split the file."
        )
        % {"rows": max_row, "column": MAX_COLUMN},
        field="file",
    )


# A cell written as Excel writes it (<c r="EA7") in a column beyond MAX_COLUMN.
CELL_BEYOND_COLUMNS = re.compile(rf'<c r="(?:{_column_beyond(MAX_COLUMN)})\d'.encode())


def _unreadable() -> RuleViolation:
    return RuleViolation(
        _("File: the workbook cannot be read; save it again in Excel as .xlsx and upload it."),
        field="file",
    )


def check_xlsx_archive(data: bytes, *, max_row: int, references: bool = True) -> None:
    """Refuse an .xlsx that is damaged, not a real .xlsx, a zip bomb, or holds a sheet
    reaching beyond row `max_row` or column MAX_COLUMN; return when it is safe to read.

    references=False leaves out the search of the sheets' references (a second a 20,000
    rows): for the import's own streaming reader, which reads rows and columns as it goes
    and refuses those beyond the limits itself (excel._survey), instead of calamine."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    # NotImplementedError: a directory entry asking for a newer zip version than Python
    # reads ("zip file version 6.4"), found by the fuzz test.
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        raise _unreadable() from None
    names = {member.filename for member in members}
    if "xl/workbook.xml" not in names or len(members) > MAX_PARTS:
        raise _unreadable()
    beyond = _reference_beyond(max_row) if references else None
    unpacked = 0
    with archive:
        for member in members:
            is_sheet = member.filename.startswith("xl/worksheets/")
            if is_sheet and member.filename.endswith(".bin"):
                raise _unreadable()  # a binary (.xlsb) sheet
            unpacked = _check_part(archive, member, is_sheet, beyond, unpacked, max_row)


def _check_part(
    archive: zipfile.ZipFile,
    member: zipfile.ZipInfo,
    is_sheet: bool,
    beyond: re.Pattern[bytes] | None,
    unpacked: int,
    max_row: int,
) -> int:
    """Unpack one part, counting its real bytes; return the archive's running total."""
    read = 0
    tail = b""
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(CHUNK_BYTES):
                read += len(chunk)
                unpacked += len(chunk)
                if unpacked > MAX_UNPACKED_BYTES or (
                    read >= RATIO_CHECK_FROM_BYTES
                    and read > MAX_COMPRESSION_RATIO * max(1, member.compress_size)
                ):
                    raise RuleViolation(
                        _(
                            "File: the workbook unpacks to far more data than a student "
                            "list holds; it cannot be read."
                        ),
                        field="file",
                    )
                if is_sheet and beyond is not None and beyond.search(tail + chunk):
                    raise beyond_limits(max_row)
                tail = chunk[-OVERLAP_BYTES:]
    except RuleViolation:
        raise
    # A wrong checksum, an unknown compression method, a password, a broken stream, an
    # offset pointing before the archive (ValueError: negative seek).
    except (
        zipfile.BadZipFile,
        zlib.error,
        OSError,
        EOFError,
        NotImplementedError,
        RuntimeError,
        ValueError,
    ):
        raise _unreadable() from None
    return unpacked
