"""Background jobs: long work (imports, bulk prints, exports) runs in `xueji worker`.

A job is a row; the worker claims the oldest queued one, runs the function registered
for its kind and writes progress as it goes, so the page that started it can show how
far it is. A plain table and a loop are enough for a county and need no extra server.
"""

import logging
import traceback
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xueji.audit.services import record_event
from xueji.core.errors import RuleViolation
from xueji.core.models import Job
from xueji.core.scope import scope_for

log = logging.getLogger(__name__)

# kind -> (capability needed to start it, function(job, progress) -> message)
JobFunction = Callable[[Job, Callable[[int, int], None]], str]
REGISTRY: dict[str, tuple[str, JobFunction]] = {}


def job(kind: str, *, capability: str):
    """Register a function as the handler of a job kind."""

    def register(function: JobFunction) -> JobFunction:
        REGISTRY[kind] = (capability, function)
        return function

    return register


def do_enqueue_job(kind: str, params: dict | None = None, *, actor) -> Job:
    if kind not in REGISTRY:
        raise RuleViolation(_("Unknown job: %(kind)s") % {"kind": kind})
    capability, _function = REGISTRY[kind]
    scope_for(actor).require(capability)
    with transaction.atomic():
        new = Job.objects.create(kind=kind, params=params or {}, created_by=actor, unit=actor.unit)
        record_event(
            "job.queued", actor=actor, target=new, data={"kind": kind, "params": params or {}}
        )
    return new


def claim_next() -> Job | None:
    """Take the oldest queued job. The conditional update makes two workers safe: only
    the one whose update changed the row runs it."""
    for candidate in Job.objects.filter(status=Job.Status.QUEUED).order_by("id")[:5]:
        claimed = Job.objects.filter(pk=candidate.pk, status=Job.Status.QUEUED).update(
            status=Job.Status.RUNNING, started_at=timezone.now()
        )
        if claimed:
            return Job.objects.get(pk=candidate.pk)
    return None


def run(job_row: Job) -> Job:
    """Run a claimed job to its end, recording success or the reason it failed."""
    _capability, function = REGISTRY[job_row.kind]

    def progress(done: int, total: int) -> None:
        Job.objects.filter(pk=job_row.pk).update(progress=done, total=total)

    try:
        message = function(job_row, progress)
        status = Job.Status.DONE
    except RuleViolation as error:
        message, status = error.message, Job.Status.FAILED
    except Exception:  # a job must never take the worker down with it
        log.exception("job %s failed", job_row.pk)
        message = _("The job stopped because of an internal error; the operator's log has details.")
        status = Job.Status.FAILED
        traceback.print_exc()
    Job.objects.filter(pk=job_row.pk).update(
        status=status, message=message, finished_at=timezone.now()
    )
    job_row.refresh_from_db()
    return job_row


def fail_interrupted_jobs() -> int:
    """Jobs left running when a worker stopped (a crash, a reboot) are marked failed, so
    their pages stop showing progress and the user knows to start them again. Every job
    writes in one transaction, so an interrupted one has changed nothing."""
    return Job.objects.filter(status=Job.Status.RUNNING).update(
        status=Job.Status.FAILED,
        message=_(
            "The job was interrupted when the worker stopped; nothing was changed. Start it again."
        ),
        finished_at=timezone.now(),
    )


def run_pending(limit: int | None = None) -> int:
    """Run queued jobs until none is left (or `limit` ran); returns how many ran."""
    count = 0
    while limit is None or count < limit:
        job_row = claim_next()
        if job_row is None:
            break
        run(job_row)
        count += 1
    return count
