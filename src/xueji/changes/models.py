"""Change requests (学生异动) and corrections of locked records, their evidence, the steps
taken, the bureau's weekly approval sessions, and each unit's change-management plan.

One request machinery serves every kind (C1-C7, N6): a request moves through the five
steps of the seed (documents checked, report printed, signed and stamped, submitted,
recorded) with the bureau's decision between the last two.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    TRANSFER = "transfer", _("Transfer within the county")
    TRANSFER_IN = "transfer_in", _("Transfer into the county")
    TRANSFER_OUT = "transfer_out", _("Transfer out of the county")
    SUSPENSION = "suspension", _("Suspension")
    RESUMPTION = "resumption", _("Resumption")
    DROPOUT = "dropout", _("Dropout")
    ABROAD = "abroad", _("Going abroad")
    DEATH = "death", _("Death")
    CORRECTION = "correction", _("Correction")


class State(models.TextChoices):
    DRAFT = "draft", _("Checking documents")
    DOCUMENTS_CHECKED = "documents_checked", _("Documents checked")
    REPORT_PRINTED = "report_printed", _("Report printed")
    SIGNED = "signed", _("Signed and stamped")
    CENTRAL_REVIEWED = "central_reviewed", _("Re-reviewed by the central school")
    SUBMITTED = "submitted", _("Submitted to the bureau")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
    RECORDED = "recorded", _("Recorded")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# A request in one of these states still waits for something: it blocks a second request
# for the same record and the year's end (graduation) of that record.
PENDING_STATES = (
    State.DRAFT,
    State.DOCUMENTS_CHECKED,
    State.REPORT_PRINTED,
    State.SIGNED,
    State.CENTRAL_REVIEWED,
    State.SUBMITTED,
    State.APPROVED,
)


class ApprovalSession(models.Model):
    """The bureau's weekly session (C6): the requests submitted before it, decided on its day."""

    county = models.ForeignKey("orgs.County", on_delete=models.PROTECT, related_name="sessions")
    date = models.DateField(_("session date"))
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    leader_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    leader_signed_at = models.DateTimeField(_("signed off at"), null=True, blank=True)

    class Meta:
        verbose_name = _("approval session")
        verbose_name_plural = _("approval sessions")
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["county", "date"], name="one_session_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.county} {self.date:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None and self.closed_at is None


class ChangeRequest(models.Model):
    # Stable across installations: a change package names the request by it (C8), and an
    # offline unit's request keeps it when the bureau imports it.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.DRAFT)
    student = models.ForeignKey(
        "students.Student", on_delete=models.PROTECT, related_name="requests"
    )
    record = models.ForeignKey(
        "students.StudentRecord", on_delete=models.PROTECT, related_name="requests"
    )
    from_school = models.ForeignKey(
        "orgs.Unit", on_delete=models.PROTECT, related_name="requests_sent"
    )
    to_school = models.ForeignKey(
        "orgs.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requests_received",
    )
    # Transfers across the county's border: the school outside, as the papers name it.
    outside_school = models.CharField(_("school outside the county"), max_length=60, blank=True)
    reason = models.CharField(_("reason"), max_length=20)
    reason_note = models.CharField(_("explanation"), max_length=200, blank=True)
    effective_date = models.DateField(_("effective date"))
    suspension_until = models.DateField(_("suspended until"), null=True, blank=True)
    to_grade = models.PositiveSmallIntegerField(
        _("grade at the receiving school"), null=True, blank=True
    )
    to_class = models.CharField(_("class at the receiving school"), max_length=10, blank=True)
    # N6: {item key: [value now, value wanted]} for a correction.
    corrections = models.JSONField(_("corrections"), default=dict, blank=True)

    # Step 3: signatures and the scan of the signed and stamped report.
    registrar_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    registrar_signed_at = models.DateTimeField(null=True, blank=True)
    leader_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    leader_signed_at = models.DateTimeField(null=True, blank=True)
    signed_scan = models.FileField(
        _("signed report scan"), upload_to="changes/signed/%Y/", blank=True
    )
    # Transfers: the receiving school confirms a seat before submission.
    receiving_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    receiving_confirmed_at = models.DateTimeField(null=True, blank=True)
    # C7: a proxy carrying the request to the bureau, and the phone call that allowed it.
    proxy_name = models.CharField(_("proxy's name"), max_length=30, blank=True)
    proxy_id_number = models.CharField(_("proxy's ID number"), max_length=30, blank=True)
    proxy_relation = models.CharField(
        _("proxy's relation to the student"), max_length=20, blank=True
    )
    proxy_call_note = models.CharField(_("phone call with the bureau"), max_length=200, blank=True)
    proxy_call_at = models.DateTimeField(_("time of the call"), null=True, blank=True)

    session = models.ForeignKey(
        ApprovalSession, on_delete=models.PROTECT, null=True, blank=True, related_name="requests"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(_("reason for the decision"), max_length=300, blank=True)
    # Transfers: the stay at the receiving school that the approval opened.
    new_record = models.ForeignKey(
        "students.StudentRecord",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requests_opened",
    )
    # P4: when the step now waiting began.
    waiting_since = models.DateTimeField(_("waiting since"))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("change request")
        verbose_name_plural = _("change requests")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One pending request per record: a second one waits until the first ends.
            models.UniqueConstraint(
                fields=["record"],
                condition=Q(state__in=[state.value for state in PENDING_STATES]),
                name="one_pending_request_per_record",
            ),
            models.CheckConstraint(
                name="request_kind_exists", condition=Q(kind__in=[kind.value for kind in Kind])
            ),
        ]
        indexes = [
            models.Index(fields=["state", "from_school"]),
            models.Index(fields=["state", "to_school"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.student}"

    @property
    def is_pending(self) -> bool:
        return self.state in PENDING_STATES

    @property
    def has_proxy(self) -> bool:
        return bool(self.proxy_name)


class Evidence(models.Model):
    """A scanned document (C2), checked by the registrar against the original."""

    request = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="evidence")
    document = models.CharField(_("document"), max_length=40)
    file = models.FileField(_("scan"), upload_to="changes/evidence/%Y/")
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    checked_at = models.DateTimeField(_("checked against the original at"), null=True, blank=True)

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["request_id", "document", "pk"]

    def __str__(self) -> str:
        return f"{self.document} #{self.pk}"


class RequestStep(models.Model):
    """Who did what to a request, and when: the steps as the request page lists them."""

    request = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="steps")
    action = models.CharField(max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, null=True, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    comment = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("request step")
        verbose_name_plural = _("request steps")
        ordering = ["request_id", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.request_id} {self.action}"


class ChangePlan(models.Model):
    """C9: a unit's change-management plan (异动管理方案), filed with the bureau."""

    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="change_plans")
    file = models.FileField(_("plan"), upload_to="changes/plans/%Y/")
    content_type = models.CharField(max_length=40)
    note = models.CharField(_("note"), max_length=200, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    filed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("change-management plan")
        verbose_name_plural = _("change-management plans")
        ordering = ["unit_id", "-filed_at"]

    def __str__(self) -> str:
        return f"{self.unit} {self.filed_at:%Y-%m-%d}"
