"""The REST API: one NinjaAPI, one router per app, OpenAPI at /api/v1/openapi.json.

Every operation is named by its function (`list_units`, `create_school` ...), which is
also its OpenAPI operationId, so generated clients read like the code. Operations read
through the caller's scope and write through one service with the caller as actor.
"""

import re

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import HttpError
from ninja.parser import Parser

from xueji.api import audit, calendar, jobs, orgs, tokens
from xueji.api.auth import session_auth, token_auth
from xueji.core.errors import RuleViolation


class XuejiAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        return operation.view_func.__name__


# The databases store integers in 64 bits; SQLite cannot even compare with a larger one.
LARGEST_INTEGER = 2**63 - 1
_INTEGER_TEXT = re.compile(r"\s*[+-]?\d{19,}\s*")


def _refuse_unstorable(data, field: str = "") -> None:
    """Refuse, naming the field, what no column can hold: the NUL character (PostgreSQL
    cannot store it) and integers beyond 64 bits (SQLite cannot even compare with one),
    whether sent as JSON numbers or as digits in a query or form."""
    name = field or "body"
    if isinstance(data, str):
        if "\x00" in data:
            raise RuleViolation(
                _("%(field)s: the text holds a NUL character (U+0000), which no field may hold.")
                % {"field": name},
                field=field or None,
            )
        if _INTEGER_TEXT.fullmatch(data) and abs(int(data)) > LARGEST_INTEGER:
            raise RuleViolation(
                _("%(field)s: the number is out of range.") % {"field": name}, field=field or None
            )
    elif isinstance(data, int) and not isinstance(data, bool):
        if abs(data) > LARGEST_INTEGER:
            raise RuleViolation(
                _("%(field)s: the number is out of range.") % {"field": name}, field=field or None
            )
    elif isinstance(data, dict):
        for key, value in data.items():
            _refuse_unstorable(key, field)
            _refuse_unstorable(value, field or str(key))
    elif isinstance(data, list):
        for value in data:
            _refuse_unstorable(value, field)


class InputGuardParser(Parser):
    """Refuses with 400 (naming the field) what would otherwise fail in the database with
    500: see _refuse_unstorable. The web forms refuse the same through Django's fields."""

    def parse_body(self, request):
        data = super().parse_body(request)
        _refuse_unstorable(data)
        return data

    def parse_querydict(self, data, list_fields, request):
        result = super().parse_querydict(data, list_fields, request)
        _refuse_unstorable(result)
        return result


api = XuejiAPI(
    title="Xueji API",
    version="1",
    description=(
        "The student status registry of a county's compulsory education. Authenticate "
        "with the web session (unsafe methods need the CSRF token) or with an API token "
        "sent as `Authorization: Bearer <token>` (create one with POST /tokens). "
        "Refusals answer `{detail, field}`: 400 for a broken rule, 403 for an action "
        "outside your role, 404 for an id that does not exist or lies outside your scope."
    ),
    # The token first: a request that carries one is a script's and needs no CSRF token.
    auth=[token_auth, session_auth],
    urls_namespace="api",
    parser=InputGuardParser(),
)

api.add_router("", orgs.router)
api.add_router("", calendar.router)
api.add_router("", audit.router)
api.add_router("", jobs.router)
api.add_router("", tokens.router)
# Before students: its /students/{student_id} would otherwise take /students/template.
api.add_router("", "xueji.api.exchange.router")
api.add_router("", "xueji.api.students.router")
api.add_router("", "xueji.api.changes.router")
api.add_router("", "xueji.api.intake.router")
api.add_router("", "xueji.api.packages.router")
api.add_router("", "xueji.api.package_imports.router")
api.add_router("", "xueji.api.rounds.router")
api.add_router("", "xueji.api.national.router")
api.add_router("", "xueji.api.printing.router")
api.add_router("", "xueji.api.stats.router")


@api.exception_handler(RuleViolation)
def rule_violation(request, error: RuleViolation):
    return api.create_response(request, {"detail": error.message, "field": error.field}, status=400)


@api.exception_handler(HttpError)
def http_error(request, error: HttpError):
    # ninja wraps whatever the parser raises in "Cannot parse request body"; a refusal of
    # ours (InputGuardParser) keeps its sentence and field.
    if isinstance(error.__cause__, RuleViolation):
        return rule_violation(request, error.__cause__)
    return api.create_response(request, {"detail": str(error)}, status=error.status_code)


@api.exception_handler(OverflowError)
def number_out_of_range(request, error: OverflowError):
    # The parser refuses huge numbers in bodies, queries and forms; one in the path (an id)
    # reaches SQLite, which cannot compare with it.
    return api.create_response(
        request,
        {"detail": _("A number in the address is out of range."), "field": None},
        status=400,
    )


@api.exception_handler(PermissionDenied)
def permission_denied(request, error: PermissionDenied):
    return api.create_response(request, {"detail": str(error) or "forbidden"}, status=403)


@api.exception_handler(Http404)
def not_found(request, error: Http404):
    return api.create_response(request, {"detail": str(error) or "not found"}, status=404)
