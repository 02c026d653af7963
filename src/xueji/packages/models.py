"""Change packages (备份异动, C8, B6): signed files of a unit's changes, the keys that sign
them, the packages exported and imported, each change a package carried with the
bureau's verdict on it, and the reporting rounds the bureau runs each semester.

A package is a zip (see format.py): a manifest, the changes as JSON with stable
identifiers, a human-readable xlsx and the evidence files, signed with the unit's Ed25519
key. The private key never leaves the installation that exports; the bureau registers the
public key and may revoke it.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Installation(models.Model):
    """This installation of Xueji: the one row names it in every package it writes, so the
    bureau can tell the county server from a school's offline laptop."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=60, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # An offline installation (a unit's laptop, issue 6) was seeded from the bureau's
    # students package of this unit: the package's id and when it was seeded. Empty on the
    # county's server.
    offline_unit = models.ForeignKey(
        "orgs.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("offline installation of"),
    )
    seeded_from = models.UUIDField(_("seeded from package"), null=True, blank=True)
    seeded_at = models.DateTimeField(_("seeded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("installation")
        verbose_name_plural = _("installations")

    def __str__(self) -> str:
        return self.name or str(self.id)


class SigningKey(models.Model):
    """A unit's Ed25519 key. On the installation that made it, the private half lives in a
    file under XUEJI_KEY_DIR (`private_file`); the bureau's installation holds the public
    half only, registered by the bureau registrar, until revoked."""

    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="signing_keys")
    # Raw 32-byte public key, base64.
    public_key = models.CharField(_("public key"), max_length=64)
    # SHA-256 of the raw public key, hex: what people compare over the phone.
    fingerprint = models.CharField(_("fingerprint"), max_length=64)
    # File name (not path) of the private key under XUEJI_KEY_DIR; empty where only the
    # public half is known.
    private_file = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    registered_at = models.DateTimeField(_("registered at"), null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoke_reason = models.CharField(_("reason for revoking"), max_length=200, blank=True)
    # The highest package sequence number seen signed by this key (replay protection).
    last_sequence = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")
        ordering = ["unit_id", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["fingerprint"], name="one_row_per_key"),
            # One usable key per unit: a replacement means revoking the old one first.
            models.UniqueConstraint(
                fields=["unit"],
                condition=Q(revoked_at__isnull=True),
                name="one_live_key_per_unit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.short_fingerprint}"

    @property
    def short_fingerprint(self) -> str:
        head = self.fingerprint[:16].upper()
        return " ".join(head[i : i + 4] for i in range(0, 16, 4))

    @property
    def is_registered(self) -> bool:
        return self.registered_at is not None and self.revoked_at is None

    @property
    def can_sign(self) -> bool:
        return bool(self.private_file) and self.revoked_at is None


class ChangeRound(models.Model):
    """A reporting round (C8): the regular one three weeks after a semester starts, or an
    extra one the bureau announces. Each school reports the changes of the date range."""

    county = models.ForeignKey("orgs.County", on_delete=models.PROTECT, related_name="rounds")
    semester = models.ForeignKey(
        "core.Semester", on_delete=models.PROTECT, null=True, blank=True, related_name="rounds"
    )
    title = models.CharField(_("title"), max_length=60)
    changes_from = models.DateField(_("changes from"))
    changes_to = models.DateField(_("changes to"))
    due_date = models.DateField(_("due date"))
    announced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    announced_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("reporting round")
        verbose_name_plural = _("reporting rounds")
        ordering = ["county_id", "-due_date"]
        constraints = [
            # The regular round of a semester exists once; extra rounds have no semester.
            models.UniqueConstraint(
                fields=["semester"],
                condition=Q(semester__isnull=False),
                name="one_regular_round_per_semester",
            ),
            models.CheckConstraint(
                condition=Q(changes_from__lte=models.F("changes_to")),
                name="round_range_in_order",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Package(models.Model):
    """A package this installation wrote (export) or read and accepted (import). Refused
    packages leave no row: the refusal is an audit event only."""

    class Direction(models.TextChoices):
        EXPORT = "export", _("Exported")
        IMPORT = "import", _("Imported")

    class Content(models.TextChoices):
        # A unit's changes (C8), and for offline units its new pupils too.
        CHANGES = "changes", _("Changes")
        # The bureau's seed for an offline installation: one unit's students.
        STUDENTS = "students", _("Students")

    package_id = models.UUIDField(_("package id"))
    direction = models.CharField(_("direction"), max_length=6, choices=Direction.choices)
    content = models.CharField(_("content"), max_length=10, choices=Content.choices)
    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="packages")
    key = models.ForeignKey(SigningKey, on_delete=models.PROTECT, related_name="packages")
    sequence = models.PositiveIntegerField(_("sequence number"))
    installation_id = models.UUIDField(_("installation"))
    # Who made it and when, as the manifest says (the user may not exist here).
    made_by = models.CharField(_("made by"), max_length=80)
    made_at = models.DateTimeField(_("made at"))
    # {"grades": [...], "schools": [codes], "from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}
    selection = models.JSONField(_("selection"), default=dict)
    counts = models.JSONField(_("counts"), default=dict)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64)
    file = models.FileField(_("file"), upload_to="packages/%Y/")
    round = models.ForeignKey(
        ChangeRound,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="packages",
        verbose_name=_("reporting round"),
    )
    handled_at = models.DateTimeField(_("exported or imported at"), auto_now_add=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("change package")
        verbose_name_plural = _("change packages")
        ordering = ["-handled_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["package_id", "direction"], name="package_once_per_direction"
            ),
        ]
        indexes = [models.Index(fields=["unit", "direction", "round"])]

    def __str__(self) -> str:
        return f"{self.unit} #{self.sequence}"


class PackageChange(models.Model):
    """One change an imported package carried, and what the bureau found it to be."""

    class Verdict(models.TextChoices):
        RECONCILED = "reconciled", _("Matches the registry")
        PENDING = "pending", _("Matches a pending request")
        UNKNOWN = "unknown", _("Not known to the registry")
        CONFLICTING = "conflicting", _("Conflicts with the registry")

    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="changes")
    # The change's stable identifier at its origin: ChangeRequest.uid there.
    change_uid = models.UUIDField(_("change id"))
    kind = models.CharField(_("kind"), max_length=12)
    # The request's state at its origin when the package was made.
    state = models.CharField(_("state in the package"), max_length=20, blank=True)
    # The school of the bureau's reconciliation report this change belongs to: the
    # sending school when the package reports it, else the receiving school.
    school = models.ForeignKey(
        "orgs.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    student_name = models.CharField(_("name"), max_length=30)
    id_number = models.CharField(_("ID number"), max_length=30, blank=True)
    effective_date = models.DateField(_("effective date"))
    data = models.JSONField(_("data"), default=dict)
    verdict = models.CharField(_("verdict"), max_length=12, choices=Verdict.choices)
    reason = models.CharField(_("why"), max_length=300, blank=True)
    request = models.ForeignKey(
        "changes.ChangeRequest",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="package_changes",
    )
    # The import entered the change into the bureau's queue (an offline unit's request),
    # or moved a request an earlier import entered to the step this package carries.
    entered = models.BooleanField(_("entered by the import"), default=False)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    check_note = models.CharField(_("note of the check"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("packaged change")
        verbose_name_plural = _("packaged changes")
        ordering = ["package_id", "effective_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["package", "change_uid"], name="change_once_per_package"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.student_name}"

    @property
    def kind_label(self) -> str:
        from xueji.changes.models import Kind

        return str(Kind(self.kind).label) if self.kind in Kind.values else self.kind


class PackageIntakeEntry(models.Model):
    """One new pupil an offline unit's package carried (its intake entry), and what the
    bureau found it to be. The import enters a new one into the bureau's intake, never
    beyond "awaiting review": the review (N2) happens at the bureau's installation."""

    class Verdict(models.TextChoices):
        NEW = "new", _("New to the registry")
        KNOWN = "known", _("Already known")
        CONFLICTING = "conflicting", _("Conflicts with the registry")

    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="intake_entries")
    # The entry's stable identifier at its origin: IntakeEntry.uid there.
    entry_uid = models.UUIDField(_("entry id"))
    # The entry's state at its origin when the package was made.
    state = models.CharField(_("state in the package"), max_length=16, blank=True)
    school = models.ForeignKey(
        "orgs.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    student_name = models.CharField(_("name"), max_length=30)
    id_number = models.CharField(_("ID number"), max_length=30, blank=True)
    grade = models.PositiveSmallIntegerField(_("grade"), null=True, blank=True)
    data = models.JSONField(_("data"), default=dict)
    verdict = models.CharField(_("verdict"), max_length=12, choices=Verdict.choices)
    reason = models.CharField(_("why"), max_length=300, blank=True)
    entry = models.ForeignKey(
        "intake.IntakeEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="package_entries",
    )
    # The import entered the pupil into the bureau's intake, or moved an entry an earlier
    # import entered to the state this package carries.
    entered = models.BooleanField(_("entered by the import"), default=False)

    class Meta:
        verbose_name = _("packaged new pupil")
        verbose_name_plural = _("packaged new pupils")
        ordering = ["package_id", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["package", "entry_uid"], name="intake_entry_once_per_package"
            ),
        ]

    def __str__(self) -> str:
        return self.student_name

    @property
    def state_label(self) -> str:
        from xueji.intake.models import EntryState

        return str(EntryState(self.state).label) if self.state in EntryState.values else self.state
