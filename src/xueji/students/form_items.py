"""The 72 items of the national first-collection form, in the form's order (DOMAIN.md).

One table drives the validation, the Excel template and import, the record card and the
API, so an item is described once. `header` is the national form's column header, a
standard's wording kept verbatim (it appears in the Excel template whatever the interface
language); `label` is the interface text.
"""

from dataclasses import dataclass

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# Where an item is stored.
STUDENT = "student"
RECORD = "record"
PLACEMENT = "placement"
FAMILY_1 = "family1"
FAMILY_2 = "family2"

# How an item is checked (students/validation.py).
TEXT = "text"
NAME = "name"  # a person's name: Chinese characters, the middle dot, rare characters
CODE = "code"  # a code table; accepts the code or the name
DATE = "date"  # YYYY-MM-DD or YYYYMMDD
YEAR_MONTH = "year_month"  # YYYYMM
DIVISION = "division"  # a 12-digit (or 6/9-digit, padded) division code
ID_NUMBER = "id_number"
PHONE = "phone"
POSTAL = "postal"
EMAIL = "email"
DECIMAL = "decimal"
GRADE = "grade"
YES_NO = "yes_no"
NUMBER = "number"  # a provincial number
PHOTO = "photo"


@dataclass(frozen=True)
class Item:
    key: str  # unique: "name", "family1.name" ...
    header: str
    label: object
    where: str
    field: str
    kind: str = TEXT
    table: str = ""
    required: bool = False
    max_length: int = 0
    # N5: reported items are locked once the record is submitted.
    reported: bool = True
    # Items the Excel template carries (the photo travels as a file of its own).
    in_sheet: bool = True


def _member(n: int, what) -> object:
    """ "Member 1: Name", translated lazily so the page's language decides."""
    return format_lazy(_("Member {n}: {item}"), n=n, item=what)


def _family(n: int) -> list[Item]:
    where = FAMILY_1 if n == 1 else FAMILY_2
    p = f"成员{n}"
    k = f"family{n}."
    return [
        Item(
            k + "name",
            p + "姓名",
            _member(n, pgettext_lazy("person", "Name")),
            where,
            "name",
            NAME,
            required=True,
            max_length=30,
        ),
        Item(
            k + "relation",
            p + "关系",
            _member(n, _("Relation")),
            where,
            "relation",
            CODE,
            "relation",
            required=True,
        ),
        Item(
            k + "relation_note",
            p + "关系说明",
            _member(n, _("Relation note")),
            where,
            "relation_note",
            max_length=20,
        ),
        Item(
            k + "ethnicity",
            p + "民族",
            _member(n, _("Ethnicity")),
            where,
            "ethnicity",
            CODE,
            "ethnicity",
        ),
        Item(
            k + "employer",
            p + "工作单位",
            _member(n, _("Employer")),
            where,
            "employer",
            max_length=60,
        ),
        Item(
            k + "current_address",
            p + "现住址",
            _member(n, _("Current address")),
            where,
            "current_address",
            max_length=60,
        ),
        Item(
            k + "hukou_address",
            p + "户口所在地",
            _member(n, _("Household registration place")),
            where,
            "hukou_address",
            max_length=60,
        ),
        Item(k + "phone", p + "联系电话", _member(n, _("Telephone")), where, "phone", PHONE),
        Item(
            k + "is_guardian",
            p + "是否监护人",
            _member(n, _("Guardian")),
            where,
            "is_guardian",
            YES_NO,
            "yes_no",
            required=True,
        ),
        Item(
            k + "id_type",
            p + "身份证件类型",
            _member(n, _("ID document type")),
            where,
            "id_type",
            CODE,
            "id_type",
        ),
        Item(
            k + "id_number",
            p + "身份证件号",
            _member(n, _("ID number")),
            where,
            "id_number",
            ID_NUMBER,
        ),
        Item(
            k + "position_title",
            p + "职务",
            _member(n, _("Position")),
            where,
            "position_title",
            max_length=30,
        ),
    ]


ITEMS: tuple[Item, ...] = (
    # Basic
    Item(
        "name",
        "姓名",
        pgettext_lazy("person", "Name"),
        STUDENT,
        "name",
        NAME,
        required=True,
        max_length=30,
    ),
    Item("sex", "性别", _("Sex"), STUDENT, "sex", CODE, "sex", required=True),
    Item("birth_date", "出生日期", _("Birth date"), STUDENT, "birth_date", DATE, required=True),
    Item(
        "birthplace_code",
        "出生地",
        _("Birthplace"),
        STUDENT,
        "birthplace_code",
        DIVISION,
        required=True,
    ),
    Item(
        "native_place",
        "籍贯",
        _("Native place"),
        STUDENT,
        "native_place",
        required=True,
        max_length=30,
    ),
    Item(
        "ethnicity", "民族", _("Ethnicity"), STUDENT, "ethnicity", CODE, "ethnicity", required=True
    ),
    Item(
        "nationality",
        "国籍/地区",
        _("Nationality or region"),
        STUDENT,
        "nationality",
        CODE,
        "nationality",
        required=True,
    ),
    Item(
        "id_type",
        "身份证件类型",
        _("ID document type"),
        STUDENT,
        "id_type",
        CODE,
        "id_type",
        required=True,
    ),
    Item("id_number", "身份证件号", _("ID number"), STUDENT, "id_number", ID_NUMBER),
    Item(
        "overseas",
        "港澳台侨外",
        _("HK/Macao/Taiwan/overseas Chinese"),
        STUDENT,
        "overseas",
        CODE,
        "overseas",
        required=True,
    ),
    Item("political", "政治面貌", _("Political status"), STUDENT, "political", CODE, "political"),
    Item("health", "健康状况", _("Health"), STUDENT, "health", CODE, "health", required=True),
    Item("photo", "照片", _("Photo"), STUDENT, "photo", PHOTO, in_sheet=False),
    # Auxiliary
    Item(
        "name_pinyin",
        "姓名拼音",
        _("Name pinyin"),
        STUDENT,
        "name_pinyin",
        max_length=100,
        reported=False,
    ),
    Item("former_name", "曾用名", _("Former name"), STUDENT, "former_name", NAME, max_length=30),
    Item(
        "id_valid_until",
        "身份证件有效期",
        _("ID valid until"),
        STUDENT,
        "id_valid_until",
        max_length=10,
        reported=False,
    ),
    Item(
        "hukou_code",
        "户口所在地",
        _("Household registration place"),
        STUDENT,
        "hukou_code",
        DIVISION,
        required=True,
    ),
    Item(
        "hukou_type",
        "户口性质",
        _("Household registration type"),
        STUDENT,
        "hukou_type",
        CODE,
        "hukou_type",
        required=True,
    ),
    Item("specialty", "特长", _("Specialty"), STUDENT, "specialty", max_length=60, reported=False),
    # Enrolment
    Item(
        "provincial_number", "学籍辅号", _("Provincial number"), RECORD, "provincial_number", NUMBER
    ),
    Item(
        "seat_number",
        "班内学号",
        _("Number in class"),
        PLACEMENT,
        "seat_number",
        max_length=4,
        reported=False,
    ),
    Item("grade", "年级", _("Grade"), PLACEMENT, "grade", GRADE, required=True, reported=False),
    Item(
        "class_name",
        "班级",
        _("Class"),
        PLACEMENT,
        "class_name",
        required=True,
        max_length=10,
        reported=False,
    ),
    Item(
        "entry_year_month",
        "入学年月",
        _("Entry year and month"),
        RECORD,
        "entry_year_month",
        YEAR_MONTH,
        required=True,
    ),
    Item(
        "entry_method",
        "入学方式",
        _("Entry method"),
        RECORD,
        "entry_method",
        CODE,
        "entry_method",
        required=True,
    ),
    Item(
        "attendance",
        "就读方式",
        _("Attendance"),
        RECORD,
        "attendance",
        CODE,
        "attendance",
        required=True,
    ),
    Item("source", "学生来源", _("Student source"), RECORD, "source", CODE, "student_source"),
    # Contact
    Item(
        "current_address",
        "现住址",
        _("Current address"),
        STUDENT,
        "current_address",
        required=True,
        max_length=60,
        reported=False,
    ),
    Item(
        "mailing_address",
        "通信地址",
        _("Mailing address"),
        STUDENT,
        "mailing_address",
        required=True,
        max_length=60,
        reported=False,
    ),
    Item(
        "home_address",
        "家庭地址",
        _("Home address"),
        STUDENT,
        "home_address",
        required=True,
        max_length=60,
        reported=False,
    ),
    Item(
        "phone", "联系电话", _("Telephone"), STUDENT, "phone", PHONE, required=True, reported=False
    ),
    Item(
        "postal_code",
        "邮政编码",
        _("Postal code"),
        STUDENT,
        "postal_code",
        POSTAL,
        required=True,
        reported=False,
    ),
    Item("email", "电子信箱", _("E-mail"), STUDENT, "email", EMAIL, max_length=60, reported=False),
    Item(
        "homepage", "主页地址", _("Homepage"), STUDENT, "homepage", max_length=100, reported=False
    ),
    # Extended
    Item(
        "only_child",
        "是否独生子女",
        _("Only child"),
        STUDENT,
        "only_child",
        YES_NO,
        "yes_no",
        required=True,
    ),
    Item(
        "preschool",
        "是否受过学前教育",
        _("Attended preschool"),
        STUDENT,
        "preschool",
        YES_NO,
        "yes_no",
        required=True,
    ),
    Item(
        "left_behind",
        "是否留守儿童",
        _("Left-behind child"),
        STUDENT,
        "left_behind",
        CODE,
        "left_behind",
    ),
    Item(
        "migrant_child",
        "是否进城务工人员随迁子女",
        _("Child of migrant workers"),
        STUDENT,
        "migrant_child",
        YES_NO,
        "yes_no",
    ),
    Item("orphan", "是否孤儿", _("Orphan"), STUDENT, "orphan", YES_NO, "yes_no"),
    Item(
        "martyr_child",
        "是否烈士或优抚子女",
        _("Child of a martyr or entitled group"),
        STUDENT,
        "martyr_child",
        YES_NO,
        "yes_no",
    ),
    Item(
        "inclusive", "随班就读", _("Inclusive education"), STUDENT, "inclusive", CODE, "inclusive"
    ),
    Item("disability", "残疾类型", _("Disability"), STUDENT, "disability", CODE, "disability"),
    Item(
        "government_place",
        "是否由政府购买学位",
        _("Place bought by the government"),
        STUDENT,
        "government_place",
        YES_NO,
        "yes_no",
    ),
    Item(
        "needs_aid",
        "是否需要申请资助",
        _("Needs financial aid"),
        STUDENT,
        "needs_aid",
        YES_NO,
        "yes_no",
    ),
    Item(
        "one_subsidy",
        "是否享受一补",
        _("Receives the living subsidy"),
        STUDENT,
        "one_subsidy",
        YES_NO,
        "yes_no",
    ),
    # Travel
    Item(
        "distance_km",
        "上下学距离",
        _("Distance to school (km)"),
        STUDENT,
        "distance_km",
        DECIMAL,
        reported=False,
    ),
    Item(
        "transport",
        "上下学交通方式",
        _("Transport to school"),
        STUDENT,
        "transport",
        CODE,
        "transport",
        reported=False,
    ),
    Item(
        "school_bus",
        "是否需要乘坐校车",
        _("Takes the school bus"),
        STUDENT,
        "school_bus",
        YES_NO,
        "yes_no",
        reported=False,
    ),
    # Family members or guardians
    *_family(1),
    *_family(2),
)

BY_KEY: dict[str, Item] = {item.key: item for item in ITEMS}
SHEET_ITEMS: tuple[Item, ...] = tuple(item for item in ITEMS if item.in_sheet)
# N5: the student's fields that a submission locks.
LOCKED_STUDENT_FIELDS: frozenset[str] = frozenset(
    item.field for item in ITEMS if item.where == STUDENT and item.reported
)
LOCKED_RECORD_FIELDS: frozenset[str] = frozenset(
    item.field for item in ITEMS if item.where == RECORD and item.reported
)

assert len(ITEMS) == 72, len(ITEMS)
