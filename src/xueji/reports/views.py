"""The public page that checks a printed paper: `/verify/<code>/` and `/verify/?code=`.

Open to anyone holding the paper, so it shows a visitor only the verdict, the kind of
paper, the issuing unit and the date. A logged-in user whose scope covers the unit also
sees what the paper states and what changed since it was printed.
"""

import json

from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from xueji.core.scope import scope_for
from xueji.reports.verify import Verdict, check_paper, facts_source, normalise_code
from xueji.students.rules import mask_address, mask_id_number


@require_GET
def verify_form(request):
    typed = request.GET.get("code", "")
    code = normalise_code(typed)
    if code:
        return redirect("verify_paper", code=code)
    error = _("Code: enter the code printed under the QR code.") if "code" in request.GET else ""
    return render(request, "reports/verify.html", {"verdict": None, "error": error})


def _masked(value, key: str = ""):
    """ID numbers and addresses masked, as everywhere on screen: the page compares the
    paper with the registry, and the paper itself shows them to whoever holds it."""
    if isinstance(value, dict):
        return {name: _masked(item, str(name)) for name, item in value.items()}
    if isinstance(value, list):
        return [_masked(item, key) for item in value]
    if isinstance(value, str) and key.endswith("id_number"):
        return mask_id_number(value)
    if isinstance(value, str) and key.endswith("address"):
        return mask_address(value)
    return value


def _show(value, key: str = "") -> str:
    value = _masked(value, key)
    if value is None:
        return "—"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


@require_GET
def verify_paper(request, code: str):
    verdict = check_paper(code)
    rows = None
    paper = verdict.paper
    # The facts may name a child: only a user whose scope covers the unit sees them.
    if paper is not None and scope_for(request.user).can_see(paper.unit):
        source = facts_source(paper.kind)
        labels = source.labels if source is not None else {}
        live = verdict.live_facts or {}
        rows = [
            {
                "label": labels.get(key, key),
                "printed": _show(paper.facts.get(key), key),
                "live": _show(live.get(key), key) if verdict.live_facts is not None else "—",
                "changed": key in verdict.differences,
            }
            for key in sorted(set(paper.facts) | set(live))
        ]
    response = render(
        request,
        "reports/verify.html",
        {"verdict": verdict, "rows": rows},
        status=404 if verdict.state == Verdict.UNKNOWN else 200,
    )
    response.headers["X-Robots-Tag"] = "noindex"
    return response
