"""The national code tables (民族 GB 3304, 健康状况, 户口性质 ...), kept as data.

The file data/code_tables.json is the source; `sync_code_tables` writes it into the
CodeItem table after every migrate, and the functions here answer from the file (loaded
once), so validation of 100,000 rows never queries the database for a code.
"""

import json
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).parent / "data" / "code_tables.json"


@cache
def tables() -> dict[str, dict]:
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


@cache
def names(table: str) -> dict[str, str]:
    """code -> name, in the standard's order."""
    return {code: name for code, name in tables()[table]["items"]}


@cache
def codes_by_name(table: str) -> dict[str, str]:
    return {name: code for code, name in tables()[table]["items"]}


def name_of(table: str, code: str | None) -> str:
    if code is None or code == "":
        return ""
    return names(table).get(code, code)


def to_code(table: str, value: str) -> str | None:
    """Accept a code or a name (imports carry either, DOMAIN.md) and return the code.

    Codes that lost their leading zero in Excel ("1" for 汉族 "01") are restored when the
    table's codes are zero-padded and the result is unambiguous.
    """
    value = value.strip()
    table_names = names(table)
    if value in table_names:
        return value
    by_name = codes_by_name(table)
    if value in by_name:
        return by_name[value]
    if value.isdigit():
        padded = value.zfill(2)
        if padded in table_names and value not in table_names:
            return padded
    return None


def sync_code_tables(sender=None, using="default", **kwargs) -> None:
    """Make the CodeItem table equal to the data file (post_migrate)."""
    from xueji.students.models import CodeItem

    wanted = {
        (table, code): (name, position)
        for table, spec in tables().items()
        for position, (code, name) in enumerate(spec["items"])
    }
    existing = {(item.table, item.code): item for item in CodeItem.objects.using(using).all()}
    for key, stale in existing.items():
        if key not in wanted:
            stale.delete()
    for (table, code), (name, position) in wanted.items():
        item = existing.get((table, code))
        if item is None:
            CodeItem.objects.using(using).create(
                table=table, code=code, name=name, position=position
            )
        elif (item.name, item.position) != (name, position):
            item.name, item.position = name, position
            item.save(using=using)
