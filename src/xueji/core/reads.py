"""Plain reads: the few statements nearly every request makes, written out once a process
and turned into model instances without the ORM building and compiling a query each time.

Under load (issue 9, B7) a request's Python was mostly the ORM making SQL: the session and
its user alone, read on every request, were a seventh of the server's CPU (py-spy), and
of a read's time most is building and compiling the statement, not running it (the user
with unit and county: 795 µs through the ORM, 133 µs as plain SQL). A statement here
selects every concrete column of each model it names, in the ORM's order, and its rows go
through the same converters the ORM applies (the backend's and the fields'), so an
instance read here is the instance the ORM would have read: tests/core/test_reads.py
compares them field by field on both databases.

Only for reads whose shape never changes. What a user may see is never decided here: a
statement of user-facing data belongs to the scope (core/scope.py).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import ForeignKey, Model, QuerySet


@dataclass(frozen=True)
class _Part:
    """One model's columns within a row: where they are and how their values convert."""

    model: type[Model]
    names: tuple[str, ...]  # attnames, as Model.from_db takes them
    start: int
    converters: tuple[tuple[int, tuple, Any], ...]  # (offset, converters, column)


def columns(model: type[Model], alias: str, using: str = "default") -> str:
    """The select list of every concrete column of `model`, read from table alias `alias`."""
    quote = connections[using].ops.quote_name
    return ", ".join(
        f"{quote(alias)}.{quote(field.column)}" for field in model._meta.concrete_fields
    )


@functools.cache
def _parts(models: tuple[type[Model], ...], using: str) -> tuple[_Part, ...]:
    connection = connections[using]
    parts, start = [], 0
    for model in models:
        fields = model._meta.concrete_fields
        converters = []
        for offset, field in enumerate(fields):
            column = field.get_col(model._meta.db_table)
            found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if found:
                converters.append((offset, tuple(found), column))
        parts.append(_Part(model, tuple(f.attname for f in fields), start, tuple(converters)))
        start += len(fields)
    return tuple(parts)


def _cursor(connection):
    """On PostgreSQL, a cursor that binds parameters on the server, so that the server can
    keep the statement prepared (settings: prepare_threshold): these statements are the
    same text on every request, unlike the ORM's, which bind in the client and are never
    prepared. While queries are logged (debug mode, a test capturing them) they bind in
    the client like the others, so the log holds each statement with its values: a
    prepared statement's text is not kept by the driver."""
    if connection.vendor != "postgresql" or connection.queries_logged:
        return connection.cursor()
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    return connection._prepare_cursor(ServerBindingCursor(connection.connection))


def read(
    sql: str, params: Sequence[Any], models: Sequence[type[Model]], using: str = "default"
) -> list[list[Any]]:
    """The rows of `sql`, each as one instance of each of `models` (None where an outer
    join found no row). The select list must be `columns()` of each model, in order.
    Rows mix models, so they are typed Any: the caller names what each place holds."""
    connection = connections[using]
    parts = _parts(tuple(models), using)
    with _cursor(connection) as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    result = []
    for row in rows:
        instances: list[Any] = []
        for part in parts:
            values = list(row[part.start : part.start + len(part.names)])
            if values[0] is None and part.model._meta.concrete_fields[0].primary_key:
                instances.append(None)  # the outer join found nothing
                continue
            for offset, converters, column in part.converters:
                value = values[offset]
                for converter in converters:
                    value = converter(value, column, connection)
                values[offset] = value
            instances.append(part.model.from_db(using, part.names, values))
        result.append(instances)
    return result


def rows(sql: str, params: Sequence[Any], using: str = "default") -> list[tuple]:
    """The plain rows of a written-out statement (a count, an existence), prepared as the
    instances' statements are."""
    with _cursor(connections[using]) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def link(instance: Model, field_name: str, related: Model | None) -> None:
    """Set a foreign key's object as select_related would, so reading it asks nothing."""
    field = type(instance)._meta.get_field(field_name)
    assert isinstance(field, ForeignKey), field_name
    field.set_cached_value(instance, related)


def row_id(model: type[Model], value: Any) -> int | None:
    """`value` as an id of `model`'s table, or None when it is not a whole number or lies
    outside the column's range: a written-out statement would fail on it where the ORM
    answered "no such row", so callers answer 404 as before."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    internal_type = model._meta.pk.get_internal_type()
    low, high = connections["default"].ops.integer_field_range(internal_type)
    return number if low <= number <= high else None


def ids_of(queryset: QuerySet) -> tuple[str, tuple] | None:
    """The SQL and parameters of the queryset's ids, for a statement's `IN (...)` or
    `EXISTS (...)`: the rule of which rows count (a scope's, say) stays the queryset's and
    the ORM compiles it, while the statement around it is written once. None when the
    queryset is empty by construction (`none()`, an empty `__in`)."""
    try:
        return queryset.values("pk").query.sql_with_params()
    except EmptyResultSet:
        return None
