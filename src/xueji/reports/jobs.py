"""The background jobs of bulk printing (B4, N4): many papers, one PDF, with progress.

`print_services.do_start_print_job` checks what can be checked at once (the school in the
scope, something to print) and queues the job; the worker then runs the body here with
the starter as actor, checking the scope again (rights may have changed meanwhile).

Each paper is issued in its own short transaction: one transaction for the whole job would
hold the audit chain's head (and, on SQLite, the database) for minutes. A job that cannot
finish revokes the papers it issued instead, so nobody's paper verifies that nobody holds.
"""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from xueji.core import calendar
from xueji.core.errors import RuleViolation
from xueji.core.jobs import job
from xueji.core.models import Job
from xueji.core.scope import scope_for
from xueji.orgs.models import Unit
from xueji.reports import print_services
from xueji.reports.models import IssuedPaper
from xueji.reports.papers import class_roster, photo_sheets, record_card
from xueji.reports.papers.common import PaperBundle, photo_bytes
from xueji.reports.print_services import PHOTO_SHEETS_JOB, RECORD_CARDS_JOB, ROSTERS_JOB
from xueji.reports.verify import do_issue_paper, do_revoke_paper

Progress = Callable[[int, int], None]
# A running job writes its progress this often (in papers).
PROGRESS_EVERY = 10


class BulkRun:
    """The papers a bulk job issued so far, revoked if it cannot finish."""

    def __init__(self, job_row: Job, title: str, author: str):
        self.job = job_row
        self.actor = job_row.created_by
        self.bundle = PaperBundle(title, author=author)
        self.papers: list[IssuedPaper] = []
        self.students: list[int] = []

    def issue(self, kind: str, target, facts: dict[str, Any], unit: Unit) -> IssuedPaper:
        paper = do_issue_paper(kind, target, facts, actor=self.actor, unit=unit)
        self.papers.append(paper)
        self.bundle.start_paper(paper.code)
        return paper

    def revoke(self) -> None:
        for paper in self.papers:
            do_revoke_paper(paper, actor=self.actor)

    def finish(self, kind: str, filename: str, unit: Unit | None) -> str:
        if not self.papers:
            raise RuleViolation(_("No student matches: there is nothing to print."))
        pdf = self.bundle.build()
        with transaction.atomic():
            self.job.result_file.save(filename, ContentFile(pdf), save=False)
            # Only the file column: the status and progress are the worker's to write.
            Job.objects.filter(pk=self.job.pk).update(result_file=self.job.result_file.name)
            print_services.record_print(
                kind,
                actor=self.actor,
                target=self.job,
                unit=unit,
                students=self.students,
                papers=self.papers,
                job=self.job,
            )
        return _(
            "Printed %(papers)d papers (%(pages)d pages, %(students)d students) in one PDF."
        ) % {
            "papers": len(self.papers),
            "pages": self.bundle.page_count,
            "students": len(set(self.students)),
        }


def _run_record_cards(run: BulkRun, progress: Progress) -> str:
    scope = print_services.student_papers_scope(run.actor)
    params = run.job.params
    school = print_services.school_in_scope(scope, params.get("school"))
    placements = print_services.in_class_order(
        print_services.card_placements(
            school,
            print_services.current_year(school),
            params.get("grade"),
            params.get("class_name") or "",
        )
    )
    total = len(placements)
    for done, placement in enumerate(placements, start=1):
        record = placement.record
        photo = photo_bytes(record.student)
        paper = run.issue(record_card.KIND, record, record_card.card_facts(record, photo), school)
        record_card.draw_record_card(run.bundle, paper.facts, photo)
        run.students.append(record.student_id)
        if done % PROGRESS_EVERY == 0 or done == total:
            progress(done, total)
    return run.finish(
        record_card.KIND, f"record-cards-{school.school_code or school.pk}.pdf", school
    )


def _run_rosters(run: BulkRun, progress: Progress) -> str:
    scope = print_services.student_papers_scope(run.actor)
    school = print_services.school_in_scope(scope, run.job.params.get("school"))
    year = print_services.current_year(school)
    classes = class_roster.classes_of(school, year)
    for done, (grade, class_name) in enumerate(classes, start=1):
        target = class_roster.RosterTarget(school.pk, year.start_year, grade, class_name)
        placements = list(class_roster.class_placements(school, year, grade, class_name))
        facts = class_roster.roster_facts_for(school, target, placements)
        paper = run.issue(class_roster.KIND, target, facts, school)
        class_roster.draw_class_roster(run.bundle, paper.facts)
        run.students += [row["student_id"] for row in facts["students"]]
        progress(done, len(classes))
    return run.finish(
        class_roster.KIND, f"class-rosters-{school.school_code or school.pk}.pdf", school
    )


def _run_photo_sheets(run: BulkRun, progress: Progress) -> str:
    scope = scope_for(run.actor)
    township = run.job.params.get("township")
    schools = list(print_services.photo_sheet_schools(scope, township))
    for done, school in enumerate(schools, start=1):
        year = calendar.current_school_year(school.county)
        if year is not None:
            # One school's pupils (and photos) in memory at a time.
            for target, pupils in photo_sheets.class_sheets(school, year):
                facts = photo_sheets.facts_of(school, target, pupils)
                paper = run.issue(photo_sheets.KIND, target, facts, school)
                photos = {pupil.student_id: pupil.photo for pupil in pupils}
                photo_sheets.draw_class_sheet(run.bundle, school, paper.facts, photos)
                run.students += [pupil.student_id for pupil in pupils]
        progress(done, len(schools))
    name = f"photo-sheets-{township}.pdf" if township else "photo-sheets-county.pdf"
    return run.finish(photo_sheets.KIND, name, None)


RUNNERS: dict[str, tuple[Callable[[BulkRun, Progress], str], Callable[[], str]]] = {
    RECORD_CARDS_JOB: (_run_record_cards, lambda: _("Student record cards")),
    ROSTERS_JOB: (_run_rosters, lambda: _("Class rosters")),
    PHOTO_SHEETS_JOB: (_run_photo_sheets, lambda: _("Photo sheets")),
}


def run_print_job(job_row: Job, progress: Progress) -> str:
    """The body of every bulk print job: the papers and one PDF, or nothing."""
    runner, title = RUNNERS[job_row.kind]
    author = job_row.unit.name if job_row.unit is not None else ""
    run = BulkRun(job_row, title(), author)
    try:
        return runner(run, progress)
    except (PermissionDenied, Http404) as error:
        # The user lost the right, or the school left the scope, since the job was queued.
        run.revoke()
        raise RuleViolation(str(error)) from error
    except Exception:
        run.revoke()
        raise


@job(RECORD_CARDS_JOB, capability="students.reveal")
def print_record_cards_job(job_row, progress) -> str:
    return run_print_job(job_row, progress)


@job(ROSTERS_JOB, capability="students.reveal")
def print_rosters_job(job_row, progress) -> str:
    return run_print_job(job_row, progress)


@job(PHOTO_SHEETS_JOB, capability="students.view")
def print_photo_sheets_job(job_row, progress) -> str:
    return run_print_job(job_row, progress)
