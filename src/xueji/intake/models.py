"""New-student intake (N1-N10): each new pupil's way from entry to an accepted record,
the schools' catchments, and the junior schools' collection of primary numbers.

The pupil's data lives in the students app (a pending record); an IntakeEntry follows
that record through the states every level sees: entered, awaiting review, returned,
admitted, photographed, numbered, submitted, forwarded, accepted.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Catchment(models.Model):
    """A village or community (division code) in a school's catchment (N1); the bureau keeps it."""

    school = models.ForeignKey("orgs.Unit", on_delete=models.CASCADE, related_name="catchment")
    division_code = models.CharField(_("division code"), max_length=12)
    name = models.CharField(_("name"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("catchment area")
        verbose_name_plural = _("catchment areas")
        ordering = ["school_id", "division_code"]
        constraints = [
            models.UniqueConstraint(fields=["school", "division_code"], name="catchment_once")
        ]

    def __str__(self) -> str:
        return f"{self.school} {self.division_code}"


class EntryState(models.TextChoices):
    ENTERED = "entered", _("Being entered")
    AWAITING_REVIEW = "awaiting_review", _("Awaiting review")
    RETURNED = "returned", _("Returned")
    ADMITTED = "admitted", _("Admitted")
    PHOTOGRAPHED = "photographed", _("Photographed")
    NUMBERED = "numbered", _("Numbered")
    SUBMITTED = "submitted", pgettext_lazy("intake state", "Submitted")
    FORWARDED = "forwarded", _("Forwarded")
    ACCEPTED = "accepted", _("Accepted")
    WITHDRAWN = "withdrawn", _("Not admitted")


class ExceptionKind(models.TextChoices):
    NONE = "", _("None")
    MIGRANT = "migrant", _("Child of migrant workers with the required proof")
    DEFERRAL = "deferral", _("Deferred entry (medical or other documented reason)")
    OTHER = "other", _("Other documented exception")


class IntakeEntry(models.Model):
    """One new pupil in a school's intake of a school year."""

    # Stable across installations: an offline unit's change package names the entry by it,
    # and the bureau's import keeps it (issue 6), so importing again finds the same pupil.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    record = models.OneToOneField(
        "students.StudentRecord", on_delete=models.PROTECT, related_name="intake_entry"
    )
    school = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="intake_entries")
    school_year = models.ForeignKey(
        "core.SchoolYear", on_delete=models.PROTECT, related_name="intake_entries"
    )
    stage = models.CharField(_("stage"), max_length=7)
    state = models.CharField(
        _("state"), max_length=16, choices=EntryState.choices, default=EntryState.ENTERED
    )
    # N1: the eligibility problems found at entry ("too young", "outside the catchment").
    eligibility_problems = models.JSONField(default=list, blank=True)
    exception_kind = models.CharField(
        _("documented exception"), max_length=10, choices=ExceptionKind.choices, blank=True
    )
    exception_note = models.CharField(_("exception note"), max_length=200, blank=True)
    returned_reason = models.CharField(_("reason for the return"), max_length=300, blank=True)
    # N7: the document a new junior student showed.
    document_shown = models.CharField(_("document shown"), max_length=20, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("intake entry")
        verbose_name_plural = _("intake entries")
        ordering = ["school_id", "pk"]
        indexes = [models.Index(fields=["school", "school_year", "state"])]

    def __str__(self) -> str:
        return f"{self.record_id} {self.state}"


class JuniorDocument(models.TextChoices):
    CERTIFICATE = "certificate", _("Primary compulsory education certificate")
    RECORD_CARD = "record_card", _("Primary record card")


class JuniorCandidate(models.Model):
    """N7: a new junior student as the receiving school collected them: the primary number
    (or ID number) typed, what the system found, and whether the bureau converted it."""

    class Problem(models.TextChoices):
        NONE = "", _("Found")
        NOT_FOUND = "not_found", _("No primary record found")
        OPEN_ELSEWHERE = "open_elsewhere", _("Still open at another primary school")
        NOT_PRIMARY = "not_primary", _("Not a primary record")
        TAKEN = "taken", _("Already collected by a junior school")

    school = models.ForeignKey(
        "orgs.Unit", on_delete=models.PROTECT, related_name="junior_candidates"
    )
    school_year = models.ForeignKey("core.SchoolYear", on_delete=models.PROTECT, related_name="+")
    typed = models.CharField(_("number typed"), max_length=20)
    document_shown = models.CharField(
        _("document shown"), max_length=20, choices=JuniorDocument.choices
    )
    primary_record = models.ForeignKey(
        "students.StudentRecord", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    problem = models.CharField(max_length=20, choices=Problem.choices, blank=True)
    junior_record = models.ForeignKey(
        "students.StudentRecord", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    grade = models.PositiveSmallIntegerField(default=7)
    class_name = models.CharField(_("class"), max_length=10, blank=True)
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    collected_at = models.DateTimeField(auto_now_add=True)
    converted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("junior intake candidate")
        verbose_name_plural = _("junior intake candidates")
        ordering = ["school_id", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["school_year", "typed"], name="junior_number_collected_once_a_year"
            )
        ]

    def __str__(self) -> str:
        return self.typed


class RosterCheck(models.Model):
    """A school's confirmation, once a semester, that its roster matches the pupils and the
    household register (人籍一致, N10); confirming again the same semester replaces the flags."""

    school = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="roster_checks")
    school_year = models.ForeignKey(
        "core.SchoolYear", on_delete=models.PROTECT, related_name="roster_checks"
    )
    # The terms of core.Term, repeated to keep the models apart.
    term = models.CharField(
        _("semester"),
        max_length=6,
        choices=[("autumn", _("Autumn semester")), ("spring", _("Spring semester"))],
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(_("confirmed at"))

    class Meta:
        verbose_name = _("roster check")
        verbose_name_plural = _("roster checks")
        ordering = ["school_id", "-confirmed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "school_year", "term"], name="one_roster_check_per_semester"
            )
        ]

    def __str__(self) -> str:
        return f"{self.school} {self.school_year} {self.term}"


class RosterFlagKind(models.TextChoices):
    NOT_PRESENT = "not_present", _("Not present")
    NAME_MISMATCH = "name_mismatch", _("Name differs from the household register")


class RosterFlag(models.Model):
    """One exception found at a roster check: a pupil not present, or a registered name
    that differs from the name the household register (户口本) shows."""

    # Not "check": that name would hide Model.check(), Django's system checks.
    roster_check = models.ForeignKey(RosterCheck, on_delete=models.CASCADE, related_name="flags")
    record = models.ForeignKey(
        "students.StudentRecord", on_delete=models.PROTECT, related_name="roster_flags"
    )
    kind = models.CharField(_("kind"), max_length=13, choices=RosterFlagKind.choices)
    household_name = models.CharField(_("household-register name"), max_length=30, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("roster flag")
        verbose_name_plural = _("roster flags")
        ordering = ["roster_check_id", "pk"]

    def __str__(self) -> str:
        return f"{self.record} {self.kind}"
