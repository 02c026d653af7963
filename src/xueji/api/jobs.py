"""Background jobs: the caller's own jobs and their progress."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Router
from ninja.pagination import LimitOffsetPagination, paginate

from xueji.api.common import scope_of
from xueji.api.schemas import DETAIL_ERRORS, READ_ERRORS, JobOut
from xueji.core.scope import Scope

router = Router(tags=["jobs"])


def _jobs_scope(request) -> Scope:
    # The same rule as the jobs page: whoever may start a job may follow it.
    scope = scope_of(request)
    if not scope.may("jobs.run") and not scope.may("audit.view"):
        raise PermissionDenied(_("Your role may not do this."))
    return scope


@router.get(
    "/jobs",
    response={200: list[JobOut], **READ_ERRORS},
    summary="List your background jobs, newest first",
)
@paginate(LimitOffsetPagination, max_limit=500)
def list_jobs(request, status: str | None = None, kind: str | None = None):
    jobs = _jobs_scope(request).jobs()
    if status:
        jobs = jobs.filter(status=status)
    if kind:
        jobs = jobs.filter(kind=kind)
    return jobs


@router.get(
    "/jobs/{job_id}",
    response={200: JobOut, **DETAIL_ERRORS},
    summary="One background job and its progress",
)
def get_job(request, job_id: int):
    job = _jobs_scope(request).jobs().filter(pk=job_id).first()
    if job is None:
        raise Http404(_("No such job."))
    return job
