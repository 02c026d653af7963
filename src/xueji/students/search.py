"""One search box (B1): Chinese name, full pinyin, initials (张三 = zhangsan = zs), ID
number, any present or past number. Every query is answered by an index (a prefix range
or an exact match), never by scanning the table, and always inside the user's scope.

The text is matched first and the scope checked on the few students it names: a scope is
a county of some 85,000 students, a name prefix a few dozen. Names and pinyin are matched
inside the scope itself (SearchKey, an index on school and key): in a province of
millions, "王" or "zw" names tens of thousands, of whom a county holds a twelfth.
"""

import re
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from xueji.students.identity import normalise_id_number
from xueji.students.models import (
    OPEN_STATUSES,
    DuplicateCandidate,
    NumberKind,
    SearchKey,
    Student,
    StudentNumber,
)
from xueji.students.pinyin import normalise_query

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U000323af]")
ID_LIKE = re.compile(r"^\d{17}[\dX]$|^\d{15}$")
NATIONAL_LIKE = re.compile(r"^[GLJ]\d{17}[\dX]$|^L\d{18}$")
DIGITS = re.compile(r"^\d{6,20}$")
LETTERS = re.compile(r"^[a-z]+$")
EXACT_KINDS = ("id", "national", "number")
LAST_CODE_POINT = 0x10FFFF
SURROGATES = range(0xD800, 0xE000)


def classify(query: str) -> tuple[str, str]:
    """What the user typed: ("id", value), ("national", v), ("number", v), ("name", v),
    ("pinyin", v) or ("none", "")."""
    text = query.strip()
    if not text:
        return "none", ""
    if CJK.search(text):
        return "name", re.sub(r"\s+", "", text).replace("•", "·").replace("・", "·")
    upper = normalise_id_number(text)
    if ID_LIKE.match(upper):
        return "id", upper
    if NATIONAL_LIKE.match(upper):
        return "national", upper
    if DIGITS.match(upper):
        return "number", upper
    letters = normalise_query(text)
    if LETTERS.match(letters):
        return "pinyin", letters
    return "none", ""


def after_prefix(prefix: str) -> str | None:
    """The smallest text greater than every text that starts with `prefix`, in code point
    order ("zs" → "zt"); None when there is none (the prefix ends in U+10FFFF)."""
    for end in range(len(prefix) - 1, -1, -1):
        following = ord(prefix[end]) + 1
        if following in SURROGATES:  # not a character: text cannot hold one
            following = SURROGATES.stop
        if following <= LAST_CODE_POINT:
            return prefix[:end] + chr(following)
    return None


def starts_with(field: str, prefix: str) -> Q:
    """`field` starts with `prefix`, in the form the database answers from its index.

    PostgreSQL answers LIKE 'x%' from a varchar_pattern_ops index (models.py), whatever the
    database's collation. SQLite's LIKE ignores case and so never uses an index; but SQLite
    compares text by code point, so the same rows are one range of the column's index."""
    if connection.vendor != "sqlite":
        return Q(**{f"{field}__startswith": prefix})
    upper = after_prefix(prefix)
    if upper is None:
        return Q(**{f"{field}__gte": prefix})
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": upper})


def named_students(query: str) -> QuerySet[Any, Any] | None:
    """The ids of the students the search box's text names, whatever the scope (a subquery
    for a scoped queryset to filter on); None when the text names nobody.

    Each kind is an index lookup (a prefix range, an exact match), so the database starts
    from the few students the text names and checks the scope on those alone."""
    kind, value = classify(query)
    students = Student.objects.order_by()
    if kind == "name":
        found = students.filter(starts_with("name", value) | starts_with("former_name", value))
    elif kind == "pinyin":
        found = students.filter(
            starts_with("pinyin_key", value) | starts_with("initials_key", value)
        )
    elif kind == "id":
        found = students.filter(id_number=value)
    elif kind in ("national", "number"):
        # A UNION, not `pk IN (holders) OR national_number = …`: PostgreSQL answers such an
        # OR by reading the whole table. Every kind is named so that the unique
        # (kind, value) index answers the number.
        holders = StudentNumber.objects.filter(kind__in=NumberKind.values, value=value)
        return holders.values_list("student_id", flat=True).union(
            students.filter(national_number=value).values_list("pk", flat=True)
        )
    else:
        return None
    return found.values_list("pk", flat=True)


def named_records(query: str, schools: QuerySet[Any, Any]) -> QuerySet[Any, Any] | None:
    """The ids of the records at `schools` whose student has a name, former name, pinyin
    or initials beginning with the text; None when the text is not a name or pinyin.

    One range of the (school, key) index per school of the scope: the database reads the
    scope's matching keys and nothing else."""
    kind, value = classify(query)
    if kind not in ("name", "pinyin"):
        return None
    keys = SearchKey.objects.filter(starts_with("key", value), school__in=schools)
    return keys.order_by().values("record_id")


# A name's or pinyin's page of the list, in one statement (B1): the matches come from the
# search index alone (SearchKey carries each record's openness and pinyin), are counted
# and ordered as the list orders them (school code, pinyin, record), and only the page's
# rows are read from the records, students and schools. Asked through the ORM, the same
# took a query for the matches and one for the page, and as much Python to build them as
# the database took to answer (5.5 ms a search on PostgreSQL against 3.3 ms).
MATCHED = """
    SELECT DISTINCT unit.school_code AS code, key.pinyin AS pinyin, key.record_id AS record_id
    FROM students_searchkey AS key JOIN orgs_unit AS unit ON unit.id = key.school_id
    WHERE key.school_id IN ({schools}) AND {prefix}{open}
"""
# The columns of queries.LIST_COLUMNS, in its order, as both statements read them, then
# the row's grade and class in the school year asked for (the first two parameters; NULL
# when the record has no placement that year) and whether the student is held as a
# possible double registration (N11): the list used to ask for both in two queries of
# their own. Subqueries, not joins: PostgreSQL plans the statement in 0.63 ms instead of
# 0.83 ms with a LEFT JOIN of the placement (0.53 ms without either), and an EXISTS per
# column of the pair, so that each is one index probe or one hashed scan, never a scan of
# the pairs per row.
OPEN_PAIR = DuplicateCandidate.State.OPEN.value
LISTED = f"""record.id, record.student_id, record.status, record.provincial_number,
    record.locked_at, student.name, student.sex, student.id_number,
    student.national_number, student.pinyin_key, school.name, school.school_code,
    (SELECT placement.grade FROM students_placement AS placement
        WHERE placement.record_id = record.id AND placement.school_year_id = %s),
    (SELECT placement.class_name FROM students_placement AS placement
        WHERE placement.record_id = record.id AND placement.school_year_id = %s),
    EXISTS (
        SELECT 1 FROM students_duplicatecandidate AS pair
        WHERE pair.newer_id = student.id AND pair.state = '{OPEN_PAIR}'
    ) OR EXISTS (
        SELECT 1 FROM students_duplicatecandidate AS pair
        WHERE pair.existing_id = student.id AND pair.state = '{OPEN_PAIR}'
    )"""


def _placed(year_id: int | None) -> list[int | None]:
    """LISTED's parameters: the school year of the grade's and of the class's subquery."""
    return [year_id, year_id]


NAMED_PAGE = f"""
    WITH matched AS ({{matched}}),
    page AS (
        SELECT code, pinyin, record_id, COUNT(*) OVER () AS total FROM matched
        ORDER BY code, pinyin, record_id LIMIT %s OFFSET %s
    )
    SELECT page.total, {LISTED}
    FROM page
    JOIN students_studentrecord AS record ON record.id = page.record_id
    JOIN students_student AS student ON student.id = record.student_id
    JOIN orgs_unit AS school ON school.id = record.school_id
    ORDER BY page.code, page.pinyin, page.record_id
"""


def _matched(value: str, schools: QuerySet[Any, Any], open_only: bool) -> tuple[str, list]:
    """The statement of the records whose keys begin with `value` at `schools`, each once
    with its sort keys; in the form the index answers (starts_with)."""
    school_sql, school_params = schools.order_by().values("pk").query.sql_with_params()
    if connection.vendor == "sqlite":
        upper = after_prefix(value)
        prefix = "key.key >= %s" + ("" if upper is None else " AND key.key < %s")
        prefix_params = [value] if upper is None else [value, upper]
    else:
        prefix = "key.key LIKE %s"
        prefix_params = [connection.ops.prep_for_like_query(value) + "%"]
    sql = MATCHED.format(
        schools=school_sql, prefix=prefix, open=" AND key.record_open" if open_only else ""
    )
    return sql, [*school_params, *prefix_params]


def named_page(
    query: str,
    schools: QuerySet[Any, Any],
    *,
    open_only: bool,
    offset: int,
    limit: int,
    year_id: int | None,
) -> tuple[int, list[tuple]] | None:
    """(How many records at `schools` the name or pinyin names, the rows of the list's page
    from `offset`): each row is the total and then the columns of LISTED, the placement's
    those of the school year `year_id`. The total is 0 when the page holds no row (past
    the end, or nobody). None when the text is not a name or pinyin; `open_only` keeps the
    open records alone."""
    kind, value = classify(query)
    if kind not in ("name", "pinyin"):
        return None
    matched, params = _matched(value, schools, open_only)
    with connection.cursor() as cursor:
        cursor.execute(
            NAMED_PAGE.format(matched=matched), [*params, limit, offset, *_placed(year_id)]
        )
        rows = cursor.fetchall()
    return (rows[0][0] if rows else 0), [row[1:] for row in rows]


def named_count(query: str, schools: QuerySet[Any, Any], *, open_only: bool) -> int:
    """How many records named_page finds in all."""
    kind, value = classify(query)
    if kind not in ("name", "pinyin"):
        return 0
    matched, params = _matched(value, schools, open_only)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({matched}) AS matched", params)
        return cursor.fetchone()[0]


# An ID number's or a number's rows of the list, in one statement: the number names a
# student or two (materialised first, so that either database starts from them and reads
# their records by the student's index), and their records at the scope's schools are
# read with the list's columns, ordered as the list orders them.
NUMBERED_ROWS = f"""
    WITH named (student_id) AS MATERIALIZED ({{named}})
    SELECT {LISTED}
    FROM named
    JOIN students_studentrecord AS record ON record.student_id = named.student_id
    JOIN students_student AS student ON student.id = record.student_id
    JOIN orgs_unit AS school ON school.id = record.school_id
    WHERE record.school_id IN ({{schools}}){{open}}
    ORDER BY school.school_code, student.pinyin_key, record.id
"""


def numbered_rows(
    query: str, schools: QuerySet[Any, Any], *, open_only: bool, year_id: int | None
) -> list[tuple] | None:
    """The list's rows (LISTED, the placement's of the school year `year_id`) of the
    records at `schools` of the student an ID number or a number names, in the list's
    order; None when the text is neither."""
    if not is_exact(query):
        return None
    named = named_students(query)
    if named is None:
        return None
    named_sql, named_params = named.query.sql_with_params()
    school_sql, school_params = schools.order_by().values("pk").query.sql_with_params()
    status_params = [status.value for status in OPEN_STATUSES] if open_only else []
    opened = ""
    if open_only:
        opened = " AND record.status IN ({})".format(", ".join(["%s"] * len(status_params)))
    sql = NUMBERED_ROWS.format(named=named_sql, schools=school_sql, open=opened)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*named_params, *_placed(year_id), *school_params, *status_params])
        return cursor.fetchall()


# Every key the registry's students and records call for, with the copies of the record's
# openness and the student's pinyin (migrations 0003 and 0005 fill the index with the same
# rows); a query of its own, since EXCEPT and UNION bind left to right.
_OPEN = ", ".join(f"'{status.value}'" for status in OPEN_STATUSES)
EXPECTED_KEYS = "SELECT * FROM ({}) AS expected".format(
    " UNION ".join(
        f"""SELECT record.id, record.school_id, student.{column},
            record.status IN ({_OPEN}), student.pinyin_key
        FROM students_studentrecord AS record
        JOIN students_student AS student ON student.id = record.student_id
        WHERE student.{column} <> ''"""
        for column in ("name", "former_name", "pinyin_key", "initials_key")
    )
)
INDEXED_KEYS = "SELECT record_id, school_id, key, record_open, pinyin FROM students_searchkey"


def index_drift() -> tuple[int, int]:
    """(keys missing from the search index, keys it holds that nothing calls for): both
    0 while the triggers keep it. The test suite checks it after every test."""
    with connection.cursor() as cursor:
        counts = []
        for first, second in ((EXPECTED_KEYS, INDEXED_KEYS), (INDEXED_KEYS, EXPECTED_KEYS)):
            cursor.execute(f"SELECT COUNT(*) FROM ({first} EXCEPT {second}) AS drift")
            counts.append(cursor.fetchone()[0])
    return counts[0], counts[1]


def is_exact(query: str) -> bool:
    """Whether the text is an ID number or a number: it names one student, two at most."""
    return classify(query)[0] in EXACT_KINDS


def search_students(students: QuerySet[Student], query: str) -> QuerySet[Student]:
    """Filter an already scoped queryset of students by what the search box says."""
    named = named_students(query)
    if named is None:
        return students.none()
    return students.filter(pk__in=named)
