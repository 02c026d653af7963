"""The REST API: one NinjaAPI, one router per app, OpenAPI at /api/v1/openapi.json."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import NinjaAPI
from ninja.security import django_auth

from xueji.core.errors import RuleViolation

api = NinjaAPI(
    title="Xueji API",
    version="1",
    description="The student status registry of a county's compulsory education.",
    auth=django_auth,
    urls_namespace="api",
)


@api.exception_handler(RuleViolation)
def rule_violation(request, error: RuleViolation):
    return api.create_response(request, {"detail": error.message, "field": error.field}, status=400)


@api.exception_handler(PermissionDenied)
def permission_denied(request, error: PermissionDenied):
    return api.create_response(request, {"detail": str(error) or "forbidden"}, status=403)


@api.exception_handler(Http404)
def not_found(request, error: Http404):
    return api.create_response(request, {"detail": str(error) or "not found"}, status=404)
