"""Schemas shared by several routers, and the error answers every operation documents.

Output schemas name their fields one by one: a schema built from a whole model would
sooner or later publish a column nobody meant to publish (a password hash, a token hash).
"""

import datetime
from typing import Any

from ninja import Field, Schema


class Error(Schema):
    """A refusal: `detail` is a sentence for the user, `field` the input it is about."""

    detail: str
    field: str | None = None


def omittable(description: str | None = None) -> Any:
    """A field a PATCH may leave out. Its type stays as declared, so an explicit null is
    refused (422): pydantic validates what is sent, never the default."""
    return Field(None, description=description)


# The error answers an operation may give, merged into its `response=`.
READ_ERRORS: dict[int, type[Schema]] = {401: Error, 403: Error}
DETAIL_ERRORS: dict[int, type[Schema]] = {401: Error, 403: Error, 404: Error}
WRITE_ERRORS: dict[int, type[Schema]] = {400: Error, 401: Error, 403: Error, 404: Error}


class UnitOut(Schema):
    id: int
    kind: str
    name: str
    parent_id: int | None
    county_id: int
    division_code: str
    ordinal: int | None
    school_code: str | None
    stage: str
    county_direct: bool
    is_central: bool
    has_printer: bool
    address: str
    phone: str
    is_active: bool


class UserOut(Schema):
    id: int
    username: str
    full_name: str
    unit_id: int | None
    role: str
    is_designated_registrar: bool
    phone: str
    is_active: bool
    must_change_password: bool
    last_login: datetime.datetime | None
    date_joined: datetime.datetime


class JobOut(Schema):
    id: int
    kind: str
    status: str
    progress: int
    total: int
    percent: int
    finished: bool
    message: str
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None


BINARY = {"type": "string", "format": "binary"}
# openapi_extra for an operation that takes one file as the multipart field `file`.
MULTIPART_FILE = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"file": BINARY}, "required": ["file"]}
            }
        },
    }
}


def pdf_openapi(description: str) -> dict:
    """openapi_extra for an operation that answers an A4 PDF."""
    return {
        "responses": {
            "200": {"description": description, "content": {"application/pdf": {"schema": BINARY}}}
        }
    }
