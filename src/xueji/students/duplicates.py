"""The bureau's scan of its county for double registrations (N11, 双学籍).

Registration already holds a person who may be registered twice (services._candidate_matches,
bulk._Candidates): this scan is the safety net for what came in another way (records of
years before Xueji, corrections of a name or a birth date, imported packages). It finds
the pairs the registration rules would have held, over the whole registry, and adds the
new ones to the double-registration queue, where the bureau decides them as any other:

- two persons of the same sex and birth date with the same name, or the same pinyin (a
  homophone typo), each holding an open record, where at least one has no ID number
  (two different ID numbers are two people);
- one ID number held by two persons under two document types (a resident ID typed as a
  passport, say), each holding an open record. The registry refuses the same number twice
  under one type, so only this way can a number be registered twice.

A pair belongs to the scan of a county when one of its two open records lies in that
county; the other may lie anywhere (a person registered in two counties). The pair is
held as registration holds it: the earlier registration is the existing one, the later
the newer one, and the queue of the county holding the newer one lists it.

The work is done by the database, as two self-joins on indexed columns driven from the
few persons that can be someone else: those without an ID number (the index on
`id_number`), and those whose number is not a resident ID (the unique index on document
type and number). Nobody reads every student into Python: a county of 100,000 students
and a registry of a million are scanned in a second or two.
"""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from xueji.audit.services import record_event
from xueji.core.scope import scope_for
from xueji.orgs.models import Unit
from xueji.students import codes
from xueji.students.models import OPEN_STATUSES, DuplicateCandidate, Student, StudentRecord

# The document type of the resident ID card (DOMAIN.md): the one most students hold.
RESIDENT_ID = "1"
# Values per `IN (...)`: SQLite allows 999 parameters per statement.
IN_CHUNK = 900
OPEN = [str(status) for status in OPEN_STATUSES]


@dataclass
class ScanResult:
    found: int = 0  # candidate pairs in the county, new or already held
    added: int = 0  # pairs the scan added to the queue
    # The pairs added, as (existing student id, newer student id, reason).
    pairs: list[tuple[int, int, str]] = field(default_factory=list)


def _tables() -> dict[str, str]:
    return {
        "student": Student._meta.db_table,
        "record": StudentRecord._meta.db_table,
        "unit": Unit._meta.db_table,
    }


def _open_stay(alias: str, student: str, unit: str) -> str:
    """Joins the open record of `student` (one at most: a database constraint) and its
    school, as `alias` and `unit`."""
    statuses = ", ".join(["%s"] * len(OPEN))
    t = _tables()
    return (
        f'JOIN "{t["record"]}" {alias} ON {alias}.student_id = {student}.id '
        f"AND {alias}.status IN ({statuses}) "
        f'JOIN "{t["unit"]}" {unit} ON {unit}.id = {alias}.school_id'
    )


def _matching_person(t: dict[str, str]) -> str:
    """Joins as `m` everyone of the same sex, birth date and name (or pinyin) as `n`."""
    same_name = "{p}.name = n.name OR (n.pinyin_key <> '' AND {p}.pinyin_key = n.pinyin_key)"
    if connection.vendor == "sqlite":
        # SQLite cannot combine two indexes for one table: it would read the row of every
        # person born that day (some 150 at a million students) to compare the names.
        # Intersecting the ids of the two covering indexes reads no row but the matches:
        # a third of the time, and far fewer pages from disk.
        return f"""
            JOIN "{t["student"]}" m ON m.id <> n.id AND m.id IN (
                SELECT a.id FROM "{t["student"]}" a
                WHERE a.birth_date = n.birth_date AND a.sex = n.sex
                INTERSECT
                SELECT b.id FROM "{t["student"]}" b WHERE {same_name.format(p="b")}
            )"""
    # PostgreSQL combines the birth-date, name and pinyin indexes itself (BitmapAnd).
    return f"""
        JOIN "{t["student"]}" m ON m.birth_date = n.birth_date AND m.sex = n.sex
            AND m.id <> n.id AND ({same_name.format(p="m")})"""


def _same_person_pairs(county_id: int) -> list[tuple[int, int, str]]:
    """(student, student, "name" or "pinyin"): a person without an ID number and someone
    of the same sex, birth date and name (or pinyin), both holding an open record, one
    of them in the county. Driven from the persons without an ID number."""
    t = _tables()
    sql = f"""
        SELECT n.id, m.id, CASE WHEN m.name = n.name THEN 1 ELSE 0 END
        FROM "{t["student"]}" n
        {_open_stay("nr", "n", "nu")}
        {_matching_person(t)}
        {_open_stay("mr", "m", "mu")}
        WHERE n.id_number = '' AND (nu.county_id = %s OR mu.county_id = %s)
    """
    params: list[str | int] = [*OPEN, *OPEN, county_id, county_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(a, b, "name" if same_name else "pinyin") for a, b, same_name in cursor]


def _same_number_pairs(county_id: int) -> list[tuple[int, int, str]]:
    """(student, student, "id_number"): one ID number under two document types, both
    holding an open record, one of them in the county. Driven from the numbers that are
    not resident IDs (few), by the unique index on (type, number), one type at a time."""
    others = [code for code in codes.names("id_type") if code != RESIDENT_ID]
    t = _tables()
    sql = f"""
        SELECT o.id, s.id
        FROM "{t["student"]}" o
        {_open_stay("orr", "o", "ou")}
        JOIN "{t["student"]}" s ON s.id_number = o.id_number AND s.id <> o.id
        {_open_stay("sr", "s", "su")}
        WHERE NOT (o.id_number = '') AND o.id_type IN ({", ".join(["%s"] * len(others))})
            AND (ou.county_id = %s OR su.county_id = %s)
    """
    params: list[str | int] = [*OPEN, *OPEN, *others, county_id, county_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(a, b, "id_number") for a, b in cursor]


def candidate_pairs(county_id: int) -> dict[tuple[int, int], str]:
    """Every candidate pair of the county as {(earlier id, later id): reason}. A pair
    found twice (both without an ID number, or by number and by name) keeps the reason
    that says most: the same number, then the same name, then the same pinyin."""
    rank = {"id_number": 0, "name": 1, "pinyin": 2}
    pairs: dict[tuple[int, int], str] = {}
    for a, b, reason in [*_same_number_pairs(county_id), *_same_person_pairs(county_id)]:
        key = (min(a, b), max(a, b))
        if key not in pairs or rank[reason] < rank[pairs[key]]:
            pairs[key] = reason
    return pairs


def _already_held(pairs: dict[tuple[int, int], str]) -> set[tuple[int, int]]:
    """The pairs the queue holds already, in either order and whatever their state: a pair
    the bureau found to be two people is not asked again."""
    ids = sorted({pk for pair in pairs for pk in pair})
    held: set[tuple[int, int]] = set()
    for start in range(0, len(ids), IN_CHUNK):
        chunk = ids[start : start + IN_CHUNK]
        rows = DuplicateCandidate.objects.filter(
            Q(existing_id__in=chunk) | Q(newer_id__in=chunk)
        ).values_list("existing_id", "newer_id")
        held.update((min(a, b), max(a, b)) for a, b in rows)
    return held


def do_scan_duplicates(*, actor, progress=None) -> ScanResult:
    """Scan the actor's county for double registrations and hold the new pairs for the
    bureau's decision (N11). Running it again adds nothing new; a pair already decided
    stays decided. One audited transaction."""
    scope = scope_for(actor)
    if scope.level != scope.COUNTY or not scope.may("duplicates.decide"):
        raise PermissionDenied(_("Only the bureau scans the county for double registrations."))
    county = scope.county()
    report = progress or (lambda done, total: None)
    with transaction.atomic():
        report(0, 3)
        pairs = candidate_pairs(county.pk)
        report(1, 3)
        held = _already_held(pairs)
        new = sorted((key, reason) for key, reason in pairs.items() if key not in held)
        DuplicateCandidate.objects.bulk_create(
            [
                DuplicateCandidate(existing_id=existing, newer_id=newer, reason=reason)
                for (existing, newer), reason in new
            ],
            batch_size=500,
            ignore_conflicts=True,  # a scan running at the same moment added it
        )
        report(2, 3)
        result = ScanResult(
            found=len(pairs),
            added=len(new),
            pairs=[(existing, newer, reason) for (existing, newer), reason in new],
        )
        record_event(
            "duplicates.scanned",
            actor=actor,
            target=county,
            data={
                "found": result.found,
                "added": result.added,
                "pairs": [list(pair) for pair in result.pairs],
            },
        )
        report(3, 3)
    return result


def scan_message(result: ScanResult) -> str:
    return _(
        "The scan found %(found)d candidate pairs; %(added)d of them were new and now wait "
        "for the bureau's decision."
    ) % {"found": result.found, "added": result.added}
