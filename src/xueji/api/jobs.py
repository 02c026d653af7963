"""Background jobs: the caller's own jobs and their progress."""

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from ninja import Router
from ninja.pagination import LimitOffsetPagination, paginate

from xueji.api.common import scope_of
from xueji.api.schemas import DETAIL_ERRORS, READ_ERRORS, JobOut
from xueji.core import uploads
from xueji.core.models import Job
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


@router.get(
    "/jobs/{job_id}/result",
    response={200: None, **DETAIL_ERRORS},
    summary="Download a finished job's result file (an export, a package, a bulk print)",
    openapi_extra={
        "responses": {
            200: {
                "description": "The result file as an attachment",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        }
    },
)
def download_job_result(request, job_id: int):
    # The same rule as the web download: only the user who started the job, once it is done.
    job = _jobs_scope(request).jobs().filter(pk=job_id, status=Job.Status.DONE).first()
    if job is None or not job.result_file:
        raise Http404(_("This job has no result file."))
    response = FileResponse(
        job.result_file.open("rb"),
        as_attachment=True,
        filename=job.result_file.name.rsplit("/", 1)[-1],
    )
    return uploads.protect(response, uploads.OPAQUE)
