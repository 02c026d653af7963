"""The background job of the packages app: exporting a large selection of changes."""

from xueji.core.jobs import job
from xueji.packages import services


@job("packages.export", capability="packages.export")
def export_changes_job(job_row, progress) -> str:
    return services.run_export_job(job_row, progress)
