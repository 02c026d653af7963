"""Every paper Xueji prints that can be checked later (B4).

A printed form carries a short code and a QR code; the row here remembers what the paper
stated (`facts`) and the SHA-256 of it, so `/verify/<code>/` can say whether the paper
still matches the live data, was revoked, or was never issued by us.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Ten characters people can read off paper and type: no 0/O, no 1/I. 32 symbols, so a
# code is 50 random bits and cannot be guessed.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 10


class IssuedPaper(models.Model):
    class Kind(models.TextChoices):
        CHANGE_REPORT = "change_report", _("Change report")
        PHOTO_SHEET = "photo_sheet", _("Photo sheet")
        RECORD_CARD = "record_card", _("Student record card")
        ROSTER = "roster", _("Class roster")
        CERTIFICATE = "certificate", _("Certificate of enrolment")
        TRANSFER_CERTIFICATE = "transfer_certificate", _("Transfer certificate")
        NAME_CHANGE_APPLICATION = "name_change_application", _("Name change application")

    code = models.CharField(_("verification code"), max_length=CODE_LENGTH, unique=True)
    kind = models.CharField(_("kind"), max_length=40, choices=Kind.choices)
    # What the paper is about, as "app_label.model" and its primary key, like audit events.
    target_type = models.CharField(_("target type"), max_length=40)
    target_id = models.CharField(_("target id"), max_length=40)
    content_hash = models.CharField(_("content hash"), max_length=64)
    # The facts as printed. They may hold personal data: only users whose scope covers
    # the unit ever see them (verify view), never an anonymous visitor.
    facts = models.JSONField(_("facts"), default=dict)
    unit = models.ForeignKey(
        "orgs.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("unit")
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issued by"),
    )
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("issued paper")
        verbose_name_plural = _("issued papers")
        ordering = ["-issued_at"]
        indexes = [models.Index(fields=["target_type", "target_id"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[2-9A-HJ-NP-Z]{10}$"),
                name="reports_paper_code_alphabet",
            ),
        ]

    def __str__(self) -> str:
        return self.display_code

    @property
    def display_code(self) -> str:
        from xueji.reports.qr import group_code

        return group_code(self.code)
