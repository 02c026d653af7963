"""The county's structure (P2) and its people (S1).

One deployment may hold several counties of a province: every unit belongs to a County,
which is also the key a province-wide installation would shard on (B7). Inside a county the
tree is bureau → townships → schools. A township is also a school district (学区, rule C5);
its central school is a School row flagged `is_central`, so the same unit is both the
township's supervising unit and a primary school with pupils of its own.
"""

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

six_digits = RegexValidator(r"^\d{6}$", _("Enter the 6-digit division code."))
nine_digits = RegexValidator(r"^\d{9}$", _("Enter the 9-digit township division code."))
ten_digits = RegexValidator(r"^\d{10}$", _("The school code must be exactly 10 digits."))


class County(models.Model):
    """A county (区县) served by one education bureau."""

    division_code = models.CharField(
        _("division code"), max_length=6, unique=True, validators=[six_digits]
    )
    name = models.CharField(_("name"), max_length=40)
    # The province's coding rule for provincial numbers (DOMAIN.md), as a template with
    # {year} (entry year, 2 digits), {county} (last two digits of the division code),
    # {township}, {school}, {school_in_county} (ordinals) and {seq} (the sequence, last).
    primary_number_template = models.CharField(
        _("primary number template"),
        max_length=80,
        default="1{year:02d}{county}{township:02d}{school:02d}{seq:04d}",
    )
    junior_number_template = models.CharField(
        _("junior number template"),
        max_length=80,
        default="2{year:02d}{county}{school_in_county:02d}{seq:04d}",
    )

    class Meta:
        verbose_name = _("county")
        verbose_name_plural = _("counties")
        ordering = ["division_code"]

    def __str__(self) -> str:
        return self.name


class Stage(models.TextChoices):
    PRIMARY = "primary", _("Primary school")
    JUNIOR = "junior", _("Junior high school")
    NINE_YEAR = "nine_year", _("Nine-year school")


class Unit(models.Model):
    """A node of the county tree: the bureau, a township, or a school."""

    class Kind(models.TextChoices):
        BUREAU = "bureau", _("Education bureau")
        TOWNSHIP = "township", _("Township")
        SCHOOL = "school", _("School")

    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="units")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=60)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    # Townships: the 9-digit GB/T 2260 township code (370828102 胡集镇).
    division_code = models.CharField(
        _("division code"), max_length=9, blank=True, validators=[nine_digits]
    )
    # The two-digit ordinal the county assigns for the provincial number template
    # (DOMAIN.md): a township's within the county, a school's within its township.
    ordinal = models.PositiveSmallIntegerField(_("number ordinal"), null=True, blank=True)
    # Junior and nine-year schools: the two-digit ordinal within the county that the
    # junior number template uses (DOMAIN.md: stage + year + county + school + sequence).
    county_ordinal = models.PositiveSmallIntegerField(
        _("junior number ordinal in the county"), null=True, blank=True
    )
    school_code = models.CharField(
        _("school code"), max_length=10, null=True, blank=True, unique=True, validators=[ten_digits]
    )
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices, blank=True)
    county_direct = models.BooleanField(_("county-direct"), default=False)
    is_central = models.BooleanField(_("central school"), default=False)
    has_printer = models.BooleanField(_("has a printer"), default=True)
    address = models.CharField(_("address"), max_length=80, blank=True)
    phone = models.CharField(_("telephone"), max_length=30, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["county_id", "kind", "parent_id", "ordinal", "name"]
        constraints = [
            models.UniqueConstraint(fields=["county", "name"], name="unit_name_unique_in_county"),
            models.UniqueConstraint(
                fields=["county"], condition=Q(kind="bureau"), name="one_bureau_per_county"
            ),
            models.UniqueConstraint(
                fields=["parent"],
                condition=Q(is_central=True),
                name="one_central_school_per_township",
            ),
            models.UniqueConstraint(
                fields=["parent", "kind", "ordinal"],
                condition=Q(ordinal__isnull=False),
                name="unit_ordinal_unique_among_siblings",
            ),
            models.UniqueConstraint(
                fields=["county", "county_ordinal"],
                condition=Q(county_ordinal__isnull=False),
                name="unit_county_ordinal_unique",
            ),
            models.UniqueConstraint(
                fields=["division_code"],
                condition=Q(kind="township"),
                name="township_division_code_unique",
            ),
            models.CheckConstraint(
                name="unit_fields_match_kind",
                condition=(
                    Q(kind="bureau", parent__isnull=True, school_code__isnull=True, stage="")
                    | Q(kind="township", parent__isnull=False, school_code__isnull=True, stage="")
                    & ~Q(division_code="")
                    | Q(kind="school", parent__isnull=False, school_code__isnull=False)
                    & ~Q(stage="")
                ),
            ),
            models.CheckConstraint(
                name="only_schools_are_central_or_county_direct",
                condition=Q(kind="school") | Q(is_central=False, county_direct=False),
            ),
            models.CheckConstraint(
                name="central_school_is_a_township_primary",
                condition=Q(is_central=False)
                | Q(county_direct=False, stage__in=["primary", "nine_year"]),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_bureau(self) -> bool:
        return self.kind == self.Kind.BUREAU

    @property
    def is_township(self) -> bool:
        return self.kind == self.Kind.TOWNSHIP

    @property
    def is_school(self) -> bool:
        return self.kind == self.Kind.SCHOOL


class Role(models.TextChoices):
    BUREAU_REGISTRAR = "bureau_registrar", _("Bureau registrar")
    BUREAU_LEADER = "bureau_leader", _("Bureau leader")
    CENTRAL_REGISTRAR = "central_registrar", _("Central school registrar")
    SCHOOL_REGISTRAR = "school_registrar", _("School registrar")
    SCHOOL_LEADER = "school_leader", _("School leader")


REGISTRAR_ROLES = (Role.BUREAU_REGISTRAR, Role.CENTRAL_REGISTRAR, Role.SCHOOL_REGISTRAR)


class User(AbstractUser):
    """A person who logs in: always one unit, one role."""

    full_name = models.CharField(_("full name"), max_length=40, blank=True)
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, blank=True)
    # S1: each unit names one designated registrar.
    is_designated_registrar = models.BooleanField(_("designated registrar"), default=False)
    phone = models.CharField(_("telephone"), max_length=30, blank=True)
    must_change_password = models.BooleanField(_("must change password"), default=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["unit_id", "role", "username"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit"],
                condition=Q(is_designated_registrar=True),
                name="one_designated_registrar_per_unit",
            ),
            models.CheckConstraint(
                name="designated_registrar_has_registrar_role",
                condition=Q(is_designated_registrar=False)
                | Q(role__in=[role.value for role in REGISTRAR_ROLES]),
            ),
            models.CheckConstraint(
                name="user_with_role_has_unit",
                condition=Q(role="") | Q(unit__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.full_name or self.username
