"""The calendar (P3) and background jobs.

Every deadline is counted from a semester's start date, and every waiting step's age in
working days (P4), so the calendar is data the bureau keeps, not code.
"""

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class SchoolYear(models.Model):
    """A school year of one county, with the numbers its deadlines are counted by."""

    county = models.ForeignKey("orgs.County", on_delete=models.PROTECT, related_name="school_years")
    start_year = models.PositiveSmallIntegerField(
        _("start year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    # N1: a pupil must have reached `entry_age` on the cut-off date to enter primary school.
    entry_age = models.PositiveSmallIntegerField(_("entry age"), default=6)
    entry_age_cutoff = models.DateField(_("entry age cut-off date"))
    approval_weekday = models.PositiveSmallIntegerField(
        _("approval session weekday"), choices=Weekday.choices, default=Weekday.WEDNESDAY
    )
    review_days = models.PositiveSmallIntegerField(
        _("days for the primary review (N2)"), default=14
    )
    junior_numbers_days = models.PositiveSmallIntegerField(
        _("days for junior number collection (N7)"), default=7
    )
    change_report_days = models.PositiveSmallIntegerField(
        _("days for change reporting (C8)"), default=21
    )
    step_limit_working_days = models.PositiveSmallIntegerField(
        _("working days a step may wait (P4)"), default=10
    )

    class Meta:
        verbose_name = _("school year")
        verbose_name_plural = _("school years")
        ordering = ["county_id", "-start_year"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "start_year"], name="one_school_year_per_year"
            )
        ]

    def __str__(self) -> str:
        return _("%(start)d-%(end)d school year") % {
            "start": self.start_year,
            "end": self.start_year + 1,
        }

    @property
    def label(self) -> str:
        return str(self)


class Term(models.TextChoices):
    AUTUMN = "autumn", _("Autumn semester")
    SPRING = "spring", _("Spring semester")


class Semester(models.Model):
    school_year = models.ForeignKey(SchoolYear, on_delete=models.CASCADE, related_name="semesters")
    term = models.CharField(_("semester"), max_length=6, choices=Term.choices)
    start_date = models.DateField(_("start date"))

    class Meta:
        verbose_name = _("semester")
        verbose_name_plural = _("semesters")
        ordering = ["start_date"]
        constraints = [
            models.UniqueConstraint(fields=["school_year", "term"], name="one_semester_per_term")
        ]

    def __str__(self) -> str:
        return f"{self.school_year} {self.get_term_display()}"


class CalendarDay(models.Model):
    """A day that breaks the Monday-Friday rule: a holiday, or a weekend made a working
    day (调休), as the State Council's holiday notice sets them each year."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday")
        WORKDAY = "workday", _("Make-up working day")

    county = models.ForeignKey(
        "orgs.County", on_delete=models.PROTECT, related_name="calendar_days"
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.HOLIDAY)
    name = models.CharField(_("name"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("holiday or make-up day")
        verbose_name_plural = _("holidays and make-up days")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["county", "date"], name="one_calendar_entry_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class Job(models.Model):
    """A long task (import, bulk print, export, verification) run by `xueji worker`."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=60)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    progress = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    message = models.TextField(_("result"), blank=True)
    result_file = models.FileField(upload_to="jobs/%Y/%m/", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="jobs"
    )
    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "id"], name="job_queue", condition=Q(status="queued"))
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total:
            return 0
        return min(100, int(self.progress * 100 / self.total))

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


def default_cutoff(start_year: int) -> datetime.date:
    return datetime.date(start_year, 8, 31)
