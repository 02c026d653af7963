"""The background jobs of the exchange app: student imports, large roster exports and
large national-format exports."""

from xueji.core.jobs import job
from xueji.exchange import national, services


@job("students.import", capability="students.edit")
def import_students_job(job_row, progress) -> str:
    return services.run_import_job(job_row, progress)


@job("students.export", capability="students.view")
def export_roster_job(job_row, progress) -> str:
    return services.run_export_job(job_row, progress)


@job(national.JOB_KIND, capability=national.CAPABILITY)
def export_national_job(job_row, progress) -> str:
    return national.run_national_job(job_row, progress)
