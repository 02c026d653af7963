"""The student (the person), their family, their records (stays at schools), placements
per school year, every number they ever held, and candidate double registrations.

A record is never overwritten to tell a story: a stay at a school is a row with its
start, end, entry change and exit change; grade and class live in one placement row per
school year, so last year's class lists stay true (STYLE.md).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class CodeItem(models.Model):
    """One entry of a national code table (民族, 健康状况 ...), synced from
    students/data/code_tables.json after every migrate."""

    table = models.CharField(max_length=30)
    code = models.CharField(max_length=10)
    name = models.CharField(max_length=40)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("code")
        verbose_name_plural = _("code tables")
        ordering = ["table", "position"]
        constraints = [
            models.UniqueConstraint(fields=["table", "code"], name="code_unique_in_table")
        ]

    def __str__(self) -> str:
        return f"{self.table}:{self.code} {self.name}"


class NationalNumberKind(models.TextChoices):
    FORMAL = "G", _("G: formal, from the ID number")
    TEMPORARY = "L", _("L: temporary, until identity is confirmed")
    NO_ID = "J", _("J: formal, without a usable ID number")


class Student(models.Model):
    """The person, with the items of the national first-collection form that belong to
    the person (DOMAIN.md). Items of a stay (number, grade, class ...) live on the record
    and its placements; family members in their own rows."""

    # Basic
    name = models.CharField(_("name"), max_length=30)
    sex = models.CharField(_("sex"), max_length=1)
    birth_date = models.DateField(_("birth date"))
    birthplace_code = models.CharField(_("birthplace"), max_length=12)
    native_place = models.CharField(_("native place"), max_length=30)
    ethnicity = models.CharField(_("ethnicity"), max_length=2)
    nationality = models.CharField(_("nationality or region"), max_length=3, default="156")
    id_type = models.CharField(_("ID document type"), max_length=1, default="1")
    # Blank only for id_type Z without a number (then a guardian's ID number is required).
    id_number = models.CharField(_("ID number"), max_length=30, blank=True)
    overseas = models.CharField(_("HK/Macao/Taiwan/overseas Chinese"), max_length=2, default="00")
    political = models.CharField(_("political status"), max_length=2, blank=True)
    health = models.CharField(_("health"), max_length=2)
    photo = models.ImageField(_("photo"), upload_to="photos/%Y/", blank=True)
    # Auxiliary
    name_pinyin = models.CharField(_("name pinyin"), max_length=100, blank=True)
    former_name = models.CharField(_("former name"), max_length=30, blank=True)
    id_valid_until = models.CharField(_("ID valid until"), max_length=10, blank=True)
    hukou_code = models.CharField(_("household registration place"), max_length=12)
    hukou_type = models.CharField(_("household registration type"), max_length=1)
    specialty = models.CharField(_("specialty"), max_length=60, blank=True)
    # Contact
    current_address = models.CharField(_("current address"), max_length=60)
    mailing_address = models.CharField(_("mailing address"), max_length=60)
    home_address = models.CharField(_("home address"), max_length=60)
    phone = models.CharField(_("telephone"), max_length=20)
    postal_code = models.CharField(_("postal code"), max_length=6)
    email = models.CharField(_("e-mail"), max_length=60, blank=True)
    homepage = models.CharField(_("homepage"), max_length=100, blank=True)
    # Extended
    only_child = models.BooleanField(_("only child"), default=False)
    preschool = models.BooleanField(_("attended preschool"), default=True)
    left_behind = models.CharField(_("left-behind child"), max_length=1, default="0")
    migrant_child = models.BooleanField(_("child of migrant workers"), default=False)
    orphan = models.BooleanField(_("orphan"), default=False)
    martyr_child = models.BooleanField(_("child of a martyr or entitled group"), default=False)
    inclusive = models.CharField(_("inclusive education"), max_length=1, default="0")
    disability = models.CharField(_("disability"), max_length=1, default="0")
    government_place = models.BooleanField(_("place bought by the government"), default=False)
    needs_aid = models.BooleanField(_("needs financial aid"), default=False)
    one_subsidy = models.BooleanField(_("receives the living subsidy"), default=False)
    # Travel
    distance_km = models.DecimalField(
        _("distance to school (km)"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    transport = models.CharField(_("transport to school"), max_length=1, blank=True)
    school_bus = models.BooleanField(_("takes the school bus"), default=False)

    # The lifelong national number (全国学籍号) and its kind: G, L or J (DOMAIN.md).
    national_number = models.CharField(
        _("national number"), max_length=19, null=True, blank=True, unique=True
    )
    # For search: the pinyin without spaces ("zhangsan") and its initials ("zs").
    pinyin_key = models.CharField(max_length=100, db_index=True, editable=False, default="")
    initials_key = models.CharField(max_length=30, db_index=True, editable=False, default="")

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("student")
        verbose_name_plural = _("students")
        ordering = ["name", "pk"]
        indexes = [
            # The search box (B1, students/search.py) finds names and former names by their
            # beginning. PostgreSQL answers LIKE '张%' from an index only with a pattern
            # operator class when the database's collation is not C (zh_CN.UTF-8 is not);
            # SQLite has no operator classes, ignores them, and gets a plain index, which
            # answers search.py's range. Equality is answered by either.
            models.Index(
                fields=["name"], name="student_name_prefix", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(
                fields=["former_name"],
                name="student_former_name_prefix",
                opclasses=["varchar_pattern_ops"],
            ),
            # An ID number typed in the search box comes without its document type, so the
            # unique (id_type, id_number) index below cannot answer it.
            models.Index(fields=["id_number"], name="student_id_number"),
            models.Index(fields=["birth_date", "sex"]),
        ]
        constraints = [
            # One person, one row: an ID number of a type belongs to one student.
            models.UniqueConstraint(
                fields=["id_type", "id_number"],
                condition=~Q(id_number=""),
                name="one_student_per_id_number",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def national_number_kind(self) -> str:
        return (self.national_number or "")[:1]


class FamilyMember(models.Model):
    """A family member or guardian as the household register shows them (two per student,
    at least one of them a guardian)."""

    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="family")
    position = models.PositiveSmallIntegerField(default=1)
    name = models.CharField(_("name"), max_length=30)
    relation = models.CharField(_("relation"), max_length=1)
    relation_note = models.CharField(_("relation note"), max_length=20, blank=True)
    ethnicity = models.CharField(_("ethnicity"), max_length=2, blank=True)
    employer = models.CharField(_("employer"), max_length=60, blank=True)
    current_address = models.CharField(_("current address"), max_length=60, blank=True)
    hukou_address = models.CharField(_("household registration address"), max_length=60, blank=True)
    phone = models.CharField(_("telephone"), max_length=20, blank=True)
    is_guardian = models.BooleanField(_("guardian"), default=False)
    id_type = models.CharField(_("ID document type"), max_length=1, blank=True)
    id_number = models.CharField(_("ID number"), max_length=30, blank=True)
    position_title = models.CharField(_("position"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("family member")
        verbose_name_plural = _("family members")
        ordering = ["student_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["student", "position"], name="family_position_unique")
        ]
        indexes = [models.Index(fields=["id_number"])]

    def __str__(self) -> str:
        return self.name


class Status(models.TextChoices):
    """A record's status (DOMAIN.md). 暂读 does not exist: it was abolished by the seed."""

    PENDING = "pending", _("Pending intake")
    ENROLLED = "enrolled", _("At school")
    SUSPENDED = "suspended", _("Suspended")
    DROPPED_OUT = "dropped_out", _("Dropped out")
    TRANSFERRED_OUT = "transferred_out", _("Transferred out")
    GRADUATED = "graduated", _("Graduated")
    ABROAD = "abroad", _("Gone abroad")
    DECEASED = "deceased", _("Deceased")
    MISSING = "missing", _("Missing")
    LEFT_OTHER = "left_other", _("Left for another reason")


# N11: a person holds at most one record in one of these statuses. A dropout's record is
# kept open for the whole compulsory period (DOMAIN.md), so it still counts.
OPEN_STATUSES = (Status.PENDING, Status.ENROLLED, Status.SUSPENDED, Status.DROPPED_OUT)


class RecordStage(models.TextChoices):
    PRIMARY = "primary", _("Primary")
    JUNIOR = "junior", _("Junior high")


class StudentRecord(models.Model):
    """A record (学籍): one stay of a student at one school."""

    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="records")
    school = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="records")
    stage = models.CharField(_("stage"), max_length=7, choices=RecordStage.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    provincial_number = models.CharField(
        _("provincial number"), max_length=20, null=True, blank=True, unique=True
    )
    entry_date = models.DateField(_("entry date"))
    # 入学年月 (YYYYMM): when the student entered the stage; kept on transfer.
    entry_year_month = models.CharField(_("entry year and month"), max_length=6)
    entry_change = models.CharField(_("entry change"), max_length=2, default="11")
    entry_method = models.CharField(_("entry method"), max_length=2, default="11")
    attendance = models.CharField(_("attendance"), max_length=1, default="1")
    source = models.CharField(_("student source"), max_length=1, default="1")
    exit_date = models.DateField(_("exit date"), null=True, blank=True)
    exit_change = models.CharField(_("exit change"), max_length=2, blank=True)
    # N5: once submitted, the reported fields are locked; only a correction changes them.
    locked_at = models.DateTimeField(_("locked at"), null=True, blank=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("record")
        verbose_name_plural = _("records")
        ordering = ["-entry_date", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["student"],
                condition=Q(status__in=[status.value for status in OPEN_STATUSES]),
                name="one_open_record_per_student",
            ),
            models.CheckConstraint(
                name="record_status_exists",
                condition=Q(status__in=[status.value for status in Status]),
            ),
            models.CheckConstraint(
                name="closed_record_has_exit",
                condition=Q(status__in=[status.value for status in OPEN_STATUSES])
                | Q(exit_date__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["school", "status"])]

    def __str__(self) -> str:
        return f"{self.student} @ {self.school}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None


class SearchKey(models.Model):
    """The search box's index (B1, students/search.py): each name, former name, pinyin and
    initials of a student, once per record, beside the record's school.

    A name is typed in a scope (a school, a township, a county) and the registry holds a
    province: an index on (school, key) lets the database read only the scope's students
    whose key begins with the text, instead of every student of the province with that
    name and then their schools. The database keeps these rows itself, by the triggers of
    migration 0003: every way a record is made or a name changes (a form, an import, an
    approval, a restore, a raw bulk load) updates them in the same statement, so no write
    path can forget to (and migration 0005's when a record opens or closes). A record's
    school never changes (a transfer is a new record)."""

    record = models.ForeignKey(StudentRecord, on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey(
        # Covered by the (school, key) index below; no foreign key: a school is never
        # deleted (records protect it), and the rows are the database's own bookkeeping.
        "orgs.Unit",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    key = models.CharField(max_length=100)
    # Copies of the record's openness and the student's pinyin (migration 0005's triggers
    # keep them): with them in the index, a search's matches, their order and whether
    # they are open come from the index alone, not from a record and a student read for
    # each of hundreds of matches (8,374 pages of PostgreSQL's buffers for "zs" in a
    # county of 83,000).
    record_open = models.BooleanField(default=True)
    pinyin = models.CharField(max_length=100, default="")

    class Meta:
        indexes = [
            # LIKE '张%' on PostgreSQL needs the pattern operator class (see Student); the
            # columns after the key are carried so that the search reads no table.
            models.Index(
                fields=["school", "key", "record_open", "pinyin", "record"],
                name="searchkey_school_key_cover",
                opclasses=[
                    "int8_ops",
                    "varchar_pattern_ops",
                    "bool_ops",
                    "varchar_ops",
                    "int8_ops",
                ],
            ),
        ]

    def __str__(self) -> str:
        return self.key


class Placement(models.Model):
    """Grade and class of a record in one school year."""

    record = models.ForeignKey(StudentRecord, on_delete=models.CASCADE, related_name="placements")
    school_year = models.ForeignKey(
        "core.SchoolYear", on_delete=models.PROTECT, related_name="placements"
    )
    grade = models.PositiveSmallIntegerField(_("grade"))
    class_name = models.CharField(_("class"), max_length=10)
    seat_number = models.CharField(_("number in class"), max_length=4, blank=True)
    # The record's school and whether the record is open, copied here by the database
    # (the triggers of migration 0004; never set by the application, and stale on an
    # object just saved): a bureau's list of a grade is counted school by school from
    # one index range of the placements, instead of joining 9,000 placements to the
    # county's 85,000 records to learn their school and status.
    school = models.ForeignKey(
        "orgs.Unit",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        editable=False,
        related_name="+",
    )
    record_open = models.BooleanField(default=False, editable=False)

    class Meta:
        verbose_name = _("placement")
        verbose_name_plural = _("placements")
        ordering = ["school_year__start_year"]
        constraints = [
            models.UniqueConstraint(
                fields=["record", "school_year"], name="one_placement_per_record_and_year"
            ),
            models.CheckConstraint(name="grade_1_to_9", condition=Q(grade__gte=1, grade__lte=9)),
        ]
        indexes = [
            models.Index(fields=["school_year", "grade", "class_name"]),
            models.Index(
                fields=["school_year", "grade", "record_open", "school"],
                name="placement_grade_by_school",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grade}-{self.class_name}"


class NumberKind(models.TextChoices):
    PROVINCIAL = "provincial", _("Provincial number")
    NATIONAL = "national", _("National number")


class StudentNumber(models.Model):
    """Every number a student ever held, present or past, so each stays searchable."""

    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="numbers")
    record = models.ForeignKey(
        StudentRecord, on_delete=models.PROTECT, null=True, blank=True, related_name="numbers"
    )
    kind = models.CharField(max_length=10, choices=NumberKind.choices)
    value = models.CharField(max_length=20)
    assigned_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("student number")
        verbose_name_plural = _("student numbers")
        constraints = [
            # A number is never given to two students, not even after it was retired.
            models.UniqueConstraint(fields=["kind", "value"], name="number_never_reused")
        ]

    def __str__(self) -> str:
        return self.value


class NumberSequence(models.Model):
    """The last sequence used under one prefix of the provincial number template."""

    prefix = models.CharField(max_length=20, unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.prefix}:{self.last}"


class DuplicateCandidate(models.Model):
    """N11: a registration that may be a person already registered, held for the bureau."""

    class State(models.TextChoices):
        OPEN = "open", _("Waiting for the bureau")
        DIFFERENT = "different", _("Not the same person")
        WITHDRAWN = "withdrawn", _("Newer registration withdrawn")

    existing = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    newer = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=20)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("candidate double registration")
        verbose_name_plural = _("candidate double registrations")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["existing", "newer"], name="duplicate_pair_once")
        ]

    def __str__(self) -> str:
        return f"{self.existing} ~ {self.newer}"
