"""Small helpers every router uses: who calls, their scope, and the API's field names."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from xueji.core.errors import RuleViolation
from xueji.core.scope import Scope, scope_for


def caller(request):
    """The authenticated user, whether they came with a session or a token."""
    return request.auth


def scope_of(request) -> Scope:
    return scope_for(request.auth)


def require_member(scope: Scope) -> None:
    """Reading the county's calendar needs no capability, only a place in the county."""
    if scope.level == Scope.NONE:
        raise PermissionDenied(_("Your role may not do this."))


@contextmanager
def api_field_names(**names: str) -> Iterator[None]:
    """Services name model fields (`parent`, `unit`); the API's input calls them
    `township_id` and `unit_id`. Rename the field of a refusal so a client can put the
    message next to the input it sent."""
    try:
        yield
    except RuleViolation as error:
        if error.field in names:
            error.field = names[error.field]
        raise


def uploaded_file(request, name: str = "file", *, what=None):
    """The file of a multipart request. Django parses multipart bodies only for POST, and
    ninja's File parameter on PUT needs a project-wide middleware, so a PUT parses its own
    body here. `what` names the file in the refusal ("Photo", "Scan")."""
    if request.method != "POST" and request.content_type == "multipart/form-data":
        request.POST, request._files = request.parse_file_upload(request.META, request)
    upload = request.FILES.get(name)
    if upload is None:
        raise RuleViolation(
            _("%(what)s: choose a file to upload.") % {"what": what or _("File")}, field=name
        )
    return upload
