"""Inserting many rows of one model by the database's own fast path, for the large
writes (the Excel import, its audit events) whose values were already checked.

Django's bulk_create spends most of its time in Python (a model instance per row, the
field conversions of every value, the SQL compiled per batch). Here a model's columns and
their conversions are worked out once; a row is a plain list; SQLite gets one prepared
INSERT run by executemany, PostgreSQL a COPY. The primary keys are reserved beforehand
(the rows that follow need them as foreign keys), so nothing has to be read back.

Only inside a transaction (atomic): on SQLite the transaction holds the write lock from
its start (settings: transaction_mode IMMEDIATE), so the keys reserved cannot be taken
by another writer; on PostgreSQL they come from the table's own sequence.
"""

import datetime
from collections.abc import Sequence
from typing import Any

from django.db import connection, models
from django.utils import timezone

# Internal types whose Python values both drivers take as they are.
_AS_IS = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "EmailField",
    "ForeignKey",
    "IntegerField",
    "OneToOneField",
    "PositiveBigIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SlugField",
    "SmallIntegerField",
    "TextField",
    "URLField",
}


class RawTable:
    """One model's concrete columns, their defaults and conversions, worked out once."""

    def __init__(self, model: type[models.Model]):
        fields = list(model._meta.concrete_fields)
        self.model = model
        self.sql_table = model._meta.db_table
        self.columns = [field.column for field in fields]
        self.position = {field.attname: index for index, field in enumerate(fields)}
        self.pk_index = self.position[model._meta.pk.attname]
        self._fields = fields
        # Columns whose values go through Django's own conversion (dates, decimals, JSON).
        self._convert = [
            (index, field)
            for index, field in enumerate(fields)
            if field.get_internal_type() not in _AS_IS
        ]
        now = timezone.now()
        template: list[Any] = []
        for field in fields:
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value: Any = now
            elif field.has_default():
                value = field.get_default()
            elif field.null:
                value = None
            else:
                value = "" if field.empty_strings_allowed else None
            template.append(value)
        self.template = template

    def row(self, values: dict[str, Any]) -> list[Any]:
        """A row with the defaults, `values` (by attname) put in."""
        row = list(self.template)
        position = self.position
        for name, value in values.items():
            row[position[name]] = value
        return row

    def reserve_ids(self, count: int) -> list[int]:
        """`count` new primary keys for this table, in increasing order."""
        if count <= 0:
            return []
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [self.sql_table, self._fields[self.pk_index].column, count],
                )
                return sorted(value for (value,) in cursor.fetchall())
            # AUTOINCREMENT never gives a key twice, not even one of a deleted row: start
            # after the larger of the highest key and the table's sequence.
            pk = connection.ops.quote_name(self._fields[self.pk_index].column)
            table = connection.ops.quote_name(self.sql_table)
            cursor.execute(
                f"SELECT MAX(top) FROM (SELECT MAX({pk}) AS top FROM {table} "
                "UNION ALL SELECT seq FROM sqlite_sequence WHERE name = %s)",
                [self.sql_table],
            )
            (top,) = cursor.fetchone()
        start = (top or 0) + 1
        return list(range(start, start + count))

    def insert(self, rows: Sequence[list[Any]]) -> None:
        """Write the rows (each complete, its primary key included)."""
        if not rows:
            return
        assert connection.in_atomic_block, "raw inserts run inside the caller's transaction"
        prepared = self._prepared(rows)
        columns = ", ".join(connection.ops.quote_name(column) for column in self.columns)
        table = connection.ops.quote_name(self.sql_table)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                raw = cursor.cursor

                def copy_rows(sql, params, many, context):
                    # As Django's own statements: its errors (a trigger's, a lost
                    # connection) become Django's DatabaseError for the callers.
                    with connection.wrap_database_errors:
                        with raw.copy(sql) as copy:
                            for row in prepared:
                                copy.write_row(row)

                # Through the connection's execute wrappers, as every statement Django sends
                # (query logging, instrumentation, the failure-injection tests see it).
                cursor._execute_with_wrappers(  # type: ignore[attr-defined]
                    f"COPY {table} ({columns}) FROM STDIN", None, False, copy_rows
                )
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                cursor.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                    prepared,  # type: ignore[arg-type]
                )

    def _prepared(self, rows: Sequence[list[Any]]) -> Sequence[list[Any]]:
        if not self._convert:
            return rows
        # The same object (the batch's time stamp, a default, an entry date) is converted
        # once: Django's conversion of a datetime alone costs more than the INSERT.
        for index, field in self._convert:
            if field.get_internal_type() == "DateField":
                # A plain date (not a datetime) needs no more than what Django would do.
                plain = connection.vendor != "sqlite"
                django_prep = field.get_db_prep_save
                for row in rows:
                    value = row[index]
                    if type(value) is datetime.date:
                        row[index] = value if plain else value.isoformat()
                    elif value is not None:
                        row[index] = django_prep(value, connection)
                continue
            prep = field.get_db_prep_save
            last_in: Any = _UNSET
            last_out: Any = None
            for row in rows:
                value = row[index]
                if value is None:
                    continue
                if value is not last_in:
                    last_in, last_out = value, prep(value, connection)
                row[index] = last_out
        return rows


_UNSET = object()
