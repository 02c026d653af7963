"""The background jobs of the exchange app: student imports and large roster exports."""

from xueji.core.jobs import job
from xueji.exchange import services


@job("students.import", capability="students.edit")
def import_students_job(job_row, progress) -> str:
    return services.run_import_job(job_row, progress)


@job("students.export", capability="students.view")
def export_roster_job(job_row, progress) -> str:
    return services.run_export_job(job_row, progress)
