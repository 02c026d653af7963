from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xueji.core.jobs import do_enqueue_job
from xueji.core.scope import scope_for


@login_required
def audit_log(request):
    scope = scope_for(request.user)
    scope.require("audit.view")
    events = scope.audit_events()
    action = request.GET.get("action", "").strip()
    actor = request.GET.get("actor", "").strip()
    if action:
        events = events.filter(action__startswith=action)
    if actor:
        events = events.filter(actor_label__icontains=actor)
    page = Paginator(events.order_by("-seq"), 50).get_page(request.GET.get("page"))
    return render(request, "audit/log.html", {"page": page, "action": action, "actor": actor})


@login_required
@require_POST
def audit_verify(request):
    job = do_enqueue_job("audit.verify", actor=request.user)
    messages.info(request, _("The verification runs in the background."))
    return redirect("job_detail", pk=job.pk)
