"""API tokens for scripts and the command line: create, list and revoke your own."""

import datetime

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from xueji.api import services
from xueji.api.auth import session_auth
from xueji.api.common import caller
from xueji.api.models import ApiToken
from xueji.api.schemas import READ_ERRORS, WRITE_ERRORS

router = Router(tags=["tokens"])


class TokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="The token's first characters, to tell tokens apart.")
    created_at: datetime.datetime
    last_used_at: datetime.datetime | None
    revoked: bool


class TokenCreated(TokenOut):
    token: str = Field(description="The token itself. It is shown only this once.")


class TokenIn(Schema):
    name: str = Field(description="What the token is for, e.g. the script that uses it.")


@router.post(
    "/tokens",
    auth=session_auth,
    response={201: TokenCreated, **WRITE_ERRORS},
    summary="Create an API token for yourself",
)
def create_token(request, payload: TokenIn):
    """Needs a logged-in session, not a token: a leaked token cannot mint successors that
    would outlive its revocation. Send the token as `Authorization: Bearer <token>`."""
    token, plain = services.do_create_api_token(actor=caller(request), name=payload.name)
    return Status(201, TokenOut.model_validate(token).model_dump() | {"token": plain})


@router.get(
    "/tokens",
    response={200: list[TokenOut], **READ_ERRORS},
    summary="List your API tokens",
)
def list_tokens(request):
    return ApiToken.objects.filter(user=caller(request))


@router.delete(
    "/tokens/{token_id}",
    response={204: None, **WRITE_ERRORS},
    summary="Revoke one of your API tokens",
)
def revoke_token(request, token_id: int):
    token = ApiToken.objects.filter(user=caller(request), pk=token_id).first()
    if token is None:
        raise Http404(_("No such token."))
    services.do_revoke_api_token(token, actor=caller(request))
    return 204, None
