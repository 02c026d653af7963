"""Background jobs of the student pages: a ZIP of photos imported by `xueji worker` (B3),
and the bureau's scan of its county for double registrations (N11).

The upload is saved to the default storage first (the worker may run elsewhere), and
the job deletes it when done, stored or not. The report lists every file of the archive
with what became of it; a CSV with a byte-order mark, so Excel opens it as UTF-8.
"""

import csv
import io

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from xueji.core.jobs import job
from xueji.core.models import Job
from xueji.students.duplicates import do_scan_duplicates, scan_message
from xueji.students.photo_services import PhotoOutcome, do_import_photo_zip

# A cell that starts like a formula is shown as text by a spreadsheet, never run: file
# names come from the uploaded archive and could be anything.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def photo_report(outcomes: list[PhotoOutcome]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_("File name"), _("Student"), _("Result"), _("Reason or warnings")])
    for outcome in outcomes:
        if outcome.refusal:
            result, reason = _("refused"), outcome.refusal
        else:
            result, reason = _("stored"), " ".join(outcome.warnings)
        writer.writerow([_cell(outcome.name), _cell(outcome.student_name), result, _cell(reason)])
    return buffer.getvalue().encode("utf-8-sig")


@job("photos.import_zip", capability="students.edit")
def import_photo_zip(job_row: Job, progress) -> str:
    path = job_row.params["path"]
    try:
        with default_storage.open(path, "rb") as upload:
            data = upload.read()
        outcomes = do_import_photo_zip(data, actor=job_row.created_by, progress=progress)
    finally:
        default_storage.delete(path)
    stored = sum(1 for outcome in outcomes if not outcome.refusal)
    refused = len(outcomes) - stored
    # Saved without job_row.save(): the worker's progress updates must not be overwritten.
    job_row.result_file.save(
        f"photos-{job_row.pk}.csv", ContentFile(photo_report(outcomes)), save=False
    )
    Job.objects.filter(pk=job_row.pk).update(result_file=job_row.result_file.name)
    return _("%(stored)d photos stored, %(refused)d refused.") % {
        "stored": stored,
        "refused": refused,
    }


@job("students.scan_duplicates", capability="duplicates.decide")
def scan_duplicates(job_row: Job, progress) -> str:
    """The bureau's scan of its county for double registrations (N11), from the
    double-registration page or the API."""
    return scan_message(do_scan_duplicates(actor=job_row.created_by, progress=progress))
