"""Checks that a faster path gives what the slower one it replaced gave (issue 9): model
instances read by a written-out statement against the ORM's, markup written in Python
against the template's."""

import re


def same_instance(read, orm) -> None:
    """Every concrete field has the same value and the same type as the ORM's."""
    assert type(read) is type(orm)
    for field in orm._meta.concrete_fields:
        ours, theirs = getattr(read, field.attname), getattr(orm, field.attname)
        assert ours == theirs, field.attname
        assert type(ours) is type(theirs), field.attname
    assert read._state.adding is False and read._state.db == orm._state.db


def same_rows(read: list, orm: list) -> None:
    """The same instances in the same order."""
    assert [row.pk for row in read] == [row.pk for row in orm]
    for ours, theirs in zip(read, orm, strict=True):
        same_instance(ours, theirs)


def squeezed(html: str) -> str:
    """Markup without the white space between tags, which a browser does not show."""
    return re.sub(r">\s+<", "><", html).strip()
