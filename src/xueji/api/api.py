"""The REST API: one NinjaAPI, one router per app, OpenAPI at /api/v1/openapi.json.

Every operation is named by its function (`list_units`, `create_school` ...), which is
also its OpenAPI operationId, so generated clients read like the code. Operations read
through the caller's scope and write through one service with the caller as actor.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import NinjaAPI

from xueji.api import audit, calendar, jobs, orgs, tokens
from xueji.api.auth import session_auth, token_auth
from xueji.core.errors import RuleViolation


class XuejiAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        return operation.view_func.__name__


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


@api.exception_handler(PermissionDenied)
def permission_denied(request, error: PermissionDenied):
    return api.create_response(request, {"detail": str(error) or "forbidden"}, status=403)


@api.exception_handler(Http404)
def not_found(request, error: Http404):
    return api.create_response(request, {"detail": str(error) or "not found"}, status=404)
