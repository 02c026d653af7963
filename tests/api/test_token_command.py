"""P1: a script gets its first token from the command line and uses it on the API."""

import io
import re

from django.core.management import call_command
from django.test import Client

from xueji.api.models import ApiToken


def test_a_token_created_on_the_command_line_opens_the_api(cast):
    out = io.StringIO()
    call_command("api_token", "create", "--user", "a1", "--name", "nightly export", stdout=out)
    plain = re.search(r": (\S+)\n", out.getvalue()).group(1)
    response = Client().get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 200
    assert response.json()["user"]["username"] == "a1"
    token = ApiToken.objects.get(user=cast.a1_registrar)
    assert plain not in token.token_hash
    call_command("api_token", "revoke", "--user", "a1", "--id", str(token.pk), stdout=io.StringIO())
    response = Client().get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 401
