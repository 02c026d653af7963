"""The benchmark's registry: counties of Shandong with their schools, registrars and
students, written fast (executemany on SQLite, COPY on PostgreSQL).

Runs inside a bench worker (Django set up against the target database). The county tree,
the users and the school years go through the product's services, so they are exactly
what the setup pages would make; the students (the volume) are written as rows straight
into the product's tables, with what a registry of some years holds: one open record per
student at its school, this year's and last year's placements, the provincial and the
national number, the two family members, a past stay and a retired number for about one
student in thirty, an audit event per student (hash-chained like every other), and a few
hundred registrations without an ID number that look like someone already registered.

A county holds about 85,000 students (a large county: 金乡 has about 70,000), so the
1,000,000-student dataset is twelve counties and the 10,000,000 one is a province.
"""

from __future__ import annotations

import datetime
import json
import math
from collections import defaultdict
from decimal import Decimal
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from bench.common import log
from bench.people import COHORT, TOWN_NAMES, People, birth_window, keys_of, stage_entry_year

PER_COUNTY = 85_000
# What every bench account's password is (the load test logs in with it).
PASSWORD = "bench-xueji-2026"
SCHOOL_SIZE = 1_100  # students per school, on average
CLASS_SIZE = 42
PAST_RECORD_EVERY = 30  # one student in thirty transferred once
NO_ID_EVERY = 250  # one in 250 has no ID number (document type Z)
DUPLICATE_EVERY = 5_000  # one in 5,000 registered a second time without an ID number
FLUSH_EVERY = 20_000
# The first county is the demo's 金乡县, so figures read like the demo's.
FIRST_COUNTY = "370828"


def school_year_for(today: datetime.date) -> int:
    """The school year under way: autumn starts on 1 September."""
    return today.year if today.month >= 9 else today.year - 1


# --- The county tree -----------------------------------------------------------------------


def shandong_counties() -> list[tuple[str, str]]:
    """(code, name) of the current counties of Shandong (GB/T 2260), 金乡县 first."""
    from xueji.students.divisions import _timeline

    found = [
        (code, info.name)
        for code, info in _timeline().items()
        if code.startswith("37") and not code.endswith("00") and info.current
    ]
    found.sort(key=lambda pair: (pair[0] != FIRST_COUNTY, pair[0]))
    return found


def outside_counties() -> list[str]:
    """County codes outside Shandong, where migrant workers' children were registered."""
    from xueji.students.divisions import _timeline

    return sorted(
        code
        for code, info in _timeline().items()
        if code[:2] in ("32", "34", "41", "13") and not code.endswith("00") and info.current
    )


def county_count(students: int) -> int:
    return max(1, min(len(shandong_counties()), round(students / PER_COUNTY)))


def _short(name: str) -> str:
    for suffix in ("自治县", "县", "市", "区"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def _make_county(code: str, name: str, per_county: int, password_hash: str, start_year: int):
    """One county through the product's services: bureau, townships with a central
    school, rural primary schools and a junior school each, five county-level schools,
    a registrar and a leader per unit, and three school years."""
    from xueji.core import services as calendar_services
    from xueji.orgs import services
    from xueji.orgs.models import Role, Stage
    from xueji.students.services import do_set_number_templates

    county, bureau = services.do_create_county(
        actor=None, division_code=code, name=name, bureau_name=f"{name}教育局"
    )
    # A province-wide deployment adds the prefecture to the number (DOMAIN.md): the county
    # part alone repeats between prefectures. Both layouts keep 13 digits, the length
    # validation and the search box know (15 digits would read as an old ID number).
    prefecture = code[2:4]
    do_set_number_templates(
        county,
        actor=None,
        primary="{year:02d}" + prefecture + "{county}{township:02d}{school:02d}{seq:03d}",
        junior="2{year:02d}" + prefecture + "{county}{school_in_county:02d}{seq:04d}",
    )
    schools_wanted = max(8, math.ceil(per_county / SCHOOL_SIZE))
    township_count = max(3, min(40, schools_wanted // 5))
    rural = max(1, round((schools_wanted - 5) / township_count) - 2)
    users: list[tuple[Any, str, str, bool]] = [
        (bureau, f"jyj-{code}", Role.BUREAU_REGISTRAR, True),
        (bureau, f"jyj-{code}-ld", Role.BUREAU_LEADER, False),
    ]
    short = _short(name)
    junior_ordinal = 0
    townships = []
    for ordinal in range(1, township_count + 1):
        town = ordinal <= 2
        suffix = f"{ordinal:03d}" if town else f"{100 + ordinal:03d}"
        base = TOWN_NAMES[(ordinal - 1) % len(TOWN_NAMES)]
        if ordinal > len(TOWN_NAMES):
            base += str(ordinal)
        township_name = base + ("街道" if town else "镇")
        township = services.do_create_township(
            actor=None,
            bureau=bureau,
            name=township_name,
            division_code=code + suffix,
            ordinal=ordinal,
        )
        townships.append(township)
        prefix = f"{code}{ordinal:02d}"
        plan = [(f"{township_name}中心小学", Stage.PRIMARY, 1, True)]
        plan += [
            (f"{township_name}第{'一二三四五六七八九'[n]}小学", Stage.PRIMARY, n + 2, False)
            for n in range(min(rural, 9))
        ]
        plan.append((f"{township_name}中学", Stage.JUNIOR, 20, False))
        for school_name, stage, school_ordinal, central in plan:
            county_ordinal = None
            if stage != Stage.PRIMARY:
                junior_ordinal += 1
                county_ordinal = junior_ordinal
            school = services.do_create_school(
                actor=None,
                township=township,
                name=school_name,
                school_code=f"{prefix}{school_ordinal:02d}",
                stage=stage,
                is_central=central,
                has_printer=school_ordinal % 3 != 0,
                ordinal=school_ordinal,
                county_ordinal=county_ordinal,
            )
            role = Role.CENTRAL_REGISTRAR if central else Role.SCHOOL_REGISTRAR
            users.append((school, f"s{school.school_code}", role, True))
            users.append((school, f"s{school.school_code}-ld", Role.SCHOOL_LEADER, False))
    county_schools = [
        (f"{short}实验小学", Stage.PRIMARY, 0, 30),
        (f"{short}第二实验小学", Stage.PRIMARY, 1, 31),
        (f"{short}第一中学", Stage.JUNIOR, 0, 32),
        (f"{short}第二中学", Stage.JUNIOR, 1, 33),
        (f"{short}育才学校", Stage.NINE_YEAR, 1, 34),
    ]
    for school_name, stage, township_index, school_ordinal in county_schools:
        township = townships[township_index]
        county_ordinal = None
        if stage != Stage.PRIMARY:
            junior_ordinal += 1
            county_ordinal = junior_ordinal
        school = services.do_create_school(
            actor=None,
            township=township,
            name=school_name,
            school_code=f"{code}{township.ordinal:02d}{school_ordinal:02d}",
            stage=stage,
            county_direct=True,
            ordinal=school_ordinal,
            county_ordinal=county_ordinal,
        )
        users.append((school, f"s{school.school_code}", Role.SCHOOL_REGISTRAR, True))
        users.append((school, f"s{school.school_code}-ld", Role.SCHOOL_LEADER, False))
    for index, (unit, username, role, designated) in enumerate(users):
        services.do_create_user(
            actor=None,
            unit=unit,
            username=username,
            password=PASSWORD,
            password_hash=password_hash,
            role=role,
            full_name=f"{'王李张刘陈杨'[index % 6]}老师",
            designated=designated,
            must_change_password=False,
        )
    for year in (start_year - 1, start_year, start_year + 1):
        calendar_services.do_save_school_year(
            actor=None,
            county=county,
            start_year=year,
            autumn_start=datetime.date(year, 9, 1),
            spring_start=datetime.date(year + 1, 2, 20),
        )
    return county


# --- Rows straight into the tables ----------------------------------------------------------


class _Table:
    """A model's columns in order, with every default filled in, and the conversions a
    SQLite row needs (the PostgreSQL COPY adapts Python values itself; JSON is text for
    both)."""

    def __init__(self, model, vendor: str, now: datetime.datetime):
        fields = list(model._meta.concrete_fields)
        self.model = model
        self.sql_table = model._meta.db_table
        self.columns = [field.column for field in fields]
        self.position = {field.attname: index for index, field in enumerate(fields)}
        self.convert: dict[int, Any] = {}
        self.template: list[Any] = []
        for index, field in enumerate(fields):
            kind = field.get_internal_type()
            convert = _converter(kind) if vendor == "sqlite" else None
            if kind == "JSONField":
                convert = _json_text
            if convert is not None:
                self.convert[index] = convert
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value: Any = now
            elif field.has_default():
                value = field.get_default()
            elif field.null:
                value = None
            else:
                value = "" if field.empty_strings_allowed else None
            if convert is not None and value is not None:
                value = convert(value)
            self.template.append(value)

    def row(self, values: dict[str, Any]) -> list[Any]:
        row = list(self.template)
        position, convert = self.position, self.convert
        for name, value in values.items():
            index = position[name]
            if value is not None and index in convert:
                value = convert[index](value)
            row[index] = value
        return row


def _json_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _sqlite_datetime(value: datetime.datetime) -> str:
    if timezone.is_aware(value):
        value = value.astimezone(datetime.UTC).replace(tzinfo=None)
    return value.isoformat(" ")


def _converter(kind: str):
    if kind == "DateField":
        return lambda value: value.isoformat()
    if kind == "DateTimeField":
        return _sqlite_datetime
    if kind == "BooleanField":
        return int
    if kind == "DecimalField":
        return str
    return None


class BulkWriter:
    """Rows buffered per table and written in one transaction per flush, in the order
    the foreign keys need."""

    def __init__(self, models: list, now: datetime.datetime):
        self.vendor = connection.vendor
        self.tables = {model: _Table(model, self.vendor, now) for model in models}
        self.order = models
        self.buffers: dict[Any, list[list[Any]]] = defaultdict(list)
        self.next_ids = {}
        for model in models:
            top = model.objects.aggregate(top=Max("pk"))["top"] or 0
            self.next_ids[model] = top + 1
        self.written: dict[str, int] = defaultdict(int)
        if self.vendor == "sqlite":
            # A crash while building only means building again: no need to wait for the disk.
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=OFF")

    def new_id(self, model) -> int:
        value = self.next_ids[model]
        self.next_ids[model] = value + 1
        return value

    def add(self, model, values: dict[str, Any]) -> None:
        self.buffers[model].append(self.tables[model].row(values))

    def pending(self) -> int:
        return sum(len(rows) for rows in self.buffers.values())

    def flush(self) -> None:
        with transaction.atomic():
            with connection.cursor() as cursor:
                for model in self.order:
                    rows = self.buffers.pop(model, [])
                    if rows:
                        self._write(cursor, self.tables[model], rows)
                        self.written[model._meta.label] += len(rows)

    def _write(self, cursor, table: _Table, rows: list[list[Any]]) -> None:
        columns = ", ".join(f'"{column}"' for column in table.columns)
        if self.vendor == "postgresql":
            raw = cursor.cursor
            with raw.copy(f'COPY "{table.sql_table}" ({columns}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _column in table.columns)
            cursor.executemany(
                f'INSERT INTO "{table.sql_table}" ({columns}) VALUES ({marks})', rows
            )

    def reset_sequences(self) -> None:
        """PostgreSQL's identity columns must continue after the ids written here."""
        if self.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            for model in self.order:
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                    f'COALESCE((SELECT MAX(id) FROM "{table}"), 1))'
                )


# --- Students ---------------------------------------------------------------------------------


class _CountyStudents:
    """The students of one county, written through a BulkWriter."""

    def __init__(self, writer: BulkWriter, county, people: People, start_year: int, chain):
        from xueji.orgs.models import Role, Unit, User

        self.writer = writer
        self.county = county
        self.people = people
        self.start_year = start_year
        self.chain = chain
        self.schools = list(
            Unit.objects.filter(county=county, kind=Unit.Kind.SCHOOL)
            .select_related("parent", "county")
            .order_by("school_code")
        )
        registrars = User.objects.filter(
            unit__county=county,
            role__in=[Role.SCHOOL_REGISTRAR, Role.CENTRAL_REGISTRAR],
            is_designated_registrar=True,
        )
        self.registrar = {user.unit_id: user for user in registrars}
        from xueji.core.models import SchoolYear

        years = SchoolYear.objects.filter(county=county)
        self.year_ids = {year.start_year: year.pk for year in years}
        self.prefixes: dict[tuple[int, int], tuple[str, int]] = {}
        self.sequences: dict[str, int] = {}
        self.created = 0
        self.recent: list[dict[str, Any]] = []  # a sample of people, for duplicates
        self._grade_cache: dict[int, list[int]] = {}
        self._elsewhere_cache: dict[tuple[int, int], list] = {}
        self._logged = 0

    # numbers --------------------------------------------------------------------------

    def provincial_number(self, school, grade: int) -> str:
        from xueji.students.models import RecordStage, StudentRecord
        from xueji.students.rules import stage_for_grade
        from xueji.students.services import provincial_prefix

        key = (school.pk, grade)
        if key not in self.prefixes:
            entry = stage_entry_year(grade, self.start_year)
            stage = stage_for_grade(grade)
            record = StudentRecord(
                school=school,
                stage=RecordStage(stage),
                entry_year_month=f"{entry}09",
                entry_date=datetime.date(entry, 9, 1),
            )
            self.prefixes[key] = provincial_prefix(record)
        prefix, width = self.prefixes[key]
        sequence = self.sequences.get(prefix, 0) + 1
        self.sequences[prefix] = sequence
        if sequence >= 10**width:
            raise ValueError(f"the sequence under {prefix} is used up")
        return f"{prefix}{sequence:0{width}d}"

    # allocation -----------------------------------------------------------------------

    def _grades(self, school) -> list[int]:
        from xueji.students.rules import grade_problem

        if school.pk not in self._grade_cache:
            self._grade_cache[school.pk] = [
                grade for grade in range(1, 10) if grade_problem(school.stage, grade) is None
            ]
        return self._grade_cache[school.pk]

    def _elsewhere(self, school, grade: int) -> list:
        """Schools teaching this grade in another township (a past stay, a duplicate)."""
        key = (school.parent_id, grade)
        if key not in self._elsewhere_cache:
            self._elsewhere_cache[key] = [
                other
                for other in self.schools
                if other.parent_id != school.parent_id and grade in self._grades(other)
            ]
        return self._elsewhere_cache[key]

    def _weight(self, school, grade: int) -> float:
        if school.stage == "nine_year":
            return 1.5 if grade <= 6 else 2.0
        if school.county_direct:
            return 3.0 if grade <= 6 else 2.5
        if school.stage == "junior":
            return 1.5
        return 1.6 if school.is_central else 0.7

    def plan(self, target: int) -> list[tuple[Any, int, int]]:
        """(school, grade, students): each grade's cohort shared by the schools teaching it."""
        total_cohort = sum(COHORT.values())
        result = []
        for grade in range(1, 10):
            teaching = [school for school in self.schools if grade in self._grades(school)]
            weights = sum(self._weight(school, grade) for school in teaching)
            cohort = target * COHORT[grade] / total_cohort
            for school in teaching:
                count = round(cohort * self._weight(school, grade) / weights)
                if count:
                    result.append((school, grade, count))
        return result

    # one student ----------------------------------------------------------------------

    def add_students(self, school, grade: int, count: int) -> None:
        from xueji.students.models import RecordStage
        from xueji.students.rules import stage_for_grade

        classes = max(1, math.ceil(count / CLASS_SIZE))
        stage = RecordStage(stage_for_grade(grade))
        for index in range(count):
            class_name = str(index % classes + 1)
            seat = f"{index // classes + 1:02d}"
            self._student(school, grade, stage, class_name, seat)
            if self.writer.pending() >= FLUSH_EVERY * 6:
                self.flush()

    def _student(self, school, grade, stage, class_name, seat, *, twin_of=None) -> int:
        from xueji.students.models import (
            DuplicateCandidate,
            FamilyMember,
            NumberKind,
            Placement,
            Status,
            Student,
            StudentNumber,
            StudentRecord,
        )

        people, writer, rng = self.people, self.writer, self.people.rng
        township = school.parent
        town = township.division_code[-3:].startswith("0")
        if twin_of is None:
            sex = "1" if rng.random() < 0.52 else "2"
            name, surname = people.child_name(sex)
            born = people.date_between(*birth_window(grade, self.start_year))
        else:
            sex, name, surname, born = (
                twin_of["sex"],
                twin_of["name"],
                twin_of["surname"],
                twin_of["born"],
            )
        area = people.area()
        no_id = twin_of is not None or (self.created % NO_ID_EVERY == NO_ID_EVERY - 1)
        county_name = self.county.name
        address = people.address(county_name, township.name, town)
        division = township.division_code + "000"
        student_id = writer.new_id(Student)
        pinyin_key, initials_key = keys_of(name)
        if no_id:
            id_type, id_number = "Z", ""
            national = people.j_number(self.county.division_code, born)
        else:
            id_type, id_number = "1", people.id_number(area, born, sex)
            national = "G" + id_number
        from bench.people import display_of

        disability = "0" if rng.random() > 0.004 else rng.choice("1245")
        writer.add(
            Student,
            {
                "id": student_id,
                "name": name,
                "sex": sex,
                "birth_date": born,
                "birthplace_code": division if area == people.home_area else area + "000000",
                "native_place": "山东" + _short(county_name),
                "ethnicity": "01" if rng.random() < 0.98 else "03",
                "nationality": "156",
                "id_type": id_type,
                "id_number": id_number,
                "overseas": "00",
                "political": "12" if grade >= 2 else "13",
                "health": "10" if disability == "0" else "50",
                "name_pinyin": display_of(name),
                "hukou_code": division,
                "hukou_type": "1" if not town else "2",
                "current_address": address,
                "mailing_address": address,
                "home_address": address,
                "phone": people.mobile(),
                "postal_code": "272200",
                "only_child": rng.random() < 0.3,
                "preschool": rng.random() < 0.97,
                "left_behind": "0" if rng.random() > 0.12 else rng.choice("12"),
                "migrant_child": area != people.home_area,
                "disability": disability,
                "distance_km": Decimal(f"{rng.uniform(0.3, 6.0):.1f}"),
                "transport": rng.choice("11244"),
                "national_number": national,
                "pinyin_key": pinyin_key,
                "initials_key": initials_key,
                "created_by_id": self.registrar[school.pk].pk,
            },
        )
        for member in people.parents(surname, born, area):
            writer.add(
                FamilyMember,
                {
                    "id": writer.new_id(FamilyMember),
                    "student_id": student_id,
                    "current_address": address,
                    "hukou_address": address,
                    **member,
                },
            )
        entry_year = stage_entry_year(grade, self.start_year)
        entry_date = datetime.date(entry_year, 9, 1)
        this_year = self.year_ids[self.start_year]
        last_year = self.year_ids[self.start_year - 1]
        moved = twin_of is None and grade >= 2 and self.created % PAST_RECORD_EVERY == 7
        past_record = None
        if moved:
            # An earlier stay at a school of another township, closed by a transfer; its
            # number is retired but stays searchable.
            others = self._elsewhere(school, grade)
            if others:
                old_school = rng.choice(others)
                past_record = writer.new_id(StudentRecord)
                old_number = self.provincial_number(old_school, grade)
                left = datetime.date(self.start_year, 8, 20)
                writer.add(
                    StudentRecord,
                    {
                        "id": past_record,
                        "student_id": student_id,
                        "school_id": old_school.pk,
                        "stage": stage,
                        "status": Status.TRANSFERRED_OUT,
                        "provincial_number": old_number,
                        "entry_date": entry_date,
                        "entry_year_month": f"{entry_year}09",
                        "exit_date": left,
                        "exit_change": "27",
                        "locked_at": _at(entry_year, 10, 20),
                        "created_by_id": self.registrar[old_school.pk].pk,
                    },
                )
                writer.add(
                    StudentNumber,
                    {
                        "id": writer.new_id(StudentNumber),
                        "student_id": student_id,
                        "record_id": past_record,
                        "kind": NumberKind.PROVINCIAL,
                        "value": old_number,
                        "retired_at": _at(self.start_year, 8, 20),
                    },
                )
                writer.add(
                    Placement,
                    {
                        "id": writer.new_id(Placement),
                        "record_id": past_record,
                        "school_year_id": last_year,
                        "grade": grade - 1,
                        "class_name": "1",
                    },
                )
        record_id = writer.new_id(StudentRecord)
        number = self.provincial_number(school, grade)
        first_year = grade in (1, 7)
        writer.add(
            StudentRecord,
            {
                "id": record_id,
                "student_id": student_id,
                "school_id": school.pk,
                "stage": stage,
                "status": Status.ENROLLED,
                "provincial_number": number,
                "entry_date": datetime.date(self.start_year, 8, 25) if past_record else entry_date,
                "entry_year_month": f"{entry_year}09",
                "entry_change": "13" if past_record else "11",
                # Submitted in an earlier school year: the reported fields are locked.
                "locked_at": None if first_year else _at(entry_year, 10, 20),
                "created_by_id": self.registrar[school.pk].pk,
            },
        )
        writer.add(
            Placement,
            {
                "id": writer.new_id(Placement),
                "record_id": record_id,
                "school_year_id": this_year,
                "grade": grade,
                "class_name": class_name,
                "seat_number": seat,
            },
        )
        if grade >= 2 and past_record is None and grade != 7:
            writer.add(
                Placement,
                {
                    "id": writer.new_id(Placement),
                    "record_id": record_id,
                    "school_year_id": last_year,
                    "grade": grade - 1,
                    "class_name": class_name,
                },
            )
        for kind, value in ((NumberKind.PROVINCIAL, number), (NumberKind.NATIONAL, national)):
            writer.add(
                StudentNumber,
                {
                    "id": writer.new_id(StudentNumber),
                    "student_id": student_id,
                    "record_id": record_id,
                    "kind": kind,
                    "value": value,
                },
            )
        held = []
        if twin_of is not None:
            held = [twin_of["id"]]
            writer.add(
                DuplicateCandidate,
                {
                    "id": writer.new_id(DuplicateCandidate),
                    "existing_id": twin_of["id"],
                    "newer_id": student_id,
                    "reason": "name" if twin_of["name"] == name else "pinyin",
                },
            )
        self.chain.add(
            "student.registered",
            self.registrar[school.pk],
            school.pk,
            "students.student",
            student_id,
            name,
            {
                "record": record_id,
                "school": school.school_code,
                "status": Status.ENROLLED.value,
                "known_person": False,
                "held_as_duplicate_of": held,
            },
        )
        self.created += 1
        if twin_of is None and len(self.recent) < 2000 and self.created % 97 == 0:
            self.recent.append(
                {
                    "id": student_id,
                    "sex": sex,
                    "name": name,
                    "surname": surname,
                    "born": born,
                    "grade": grade,
                    "school": school.pk,
                }
            )
        return student_id

    def add_duplicates(self) -> int:
        """Registrations without an ID number of someone already registered, under the
        same name or a homophone, at another school: what N11 holds for the bureau."""
        from bench.people import homophone

        wanted = max(1, self.created // DUPLICATE_EVERY)
        made = 0
        for index, original in enumerate(self.recent[:wanted]):
            others = [
                school
                for school in self.schools
                if school.pk != original["school"] and original["grade"] in self._grades(school)
            ]
            if not others:
                continue
            twin = dict(original)
            if index % 2:
                twin["name"] = homophone(original["name"]) or original["name"]
            school = self.people.rng.choice(others)
            from xueji.students.models import RecordStage
            from xueji.students.rules import stage_for_grade

            stage = RecordStage(stage_for_grade(original["grade"]))
            self._student(school, original["grade"], stage, "1", "", twin_of=twin)
            made += 1
        return made

    def flush(self) -> None:
        self.chain.emit(self.writer)
        self.writer.flush()
        if self.created - self._logged >= 100_000:
            self._logged = self.created
            log(f"  {self.county.name}: {self.created:,} students written")


@lru_cache(maxsize=4096)
def _at(year: int, month: int, day: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(year, month, day, 9, 0))


class AuditChain:
    """Audit events appended after the chain's head, hashed by the product's own
    compute_hash, so `xueji audit verify` accepts the dataset."""

    def __init__(self, now: datetime.datetime):
        from xueji.audit.models import AuditHead

        head = AuditHead.objects.filter(pk=1).first()
        self.seq = head.seq if head else 0
        self.prev = head.hash if head else "0" * 64
        self.now = now
        self.pending: list[tuple] = []

    def add(self, action, actor, unit_id, target_type, target_id, label, data) -> None:
        self.pending.append((action, actor, unit_id, target_type, target_id, label, data))

    def emit(self, writer: BulkWriter) -> None:
        from xueji.audit.models import AuditEvent
        from xueji.audit.services import actor_label, compute_hash

        labels: dict[int, str] = {}
        for action, actor, unit_id, target_type, target_id, label, data in self.pending:
            self.seq += 1
            if actor.pk not in labels:
                labels[actor.pk] = actor_label(actor)
            event = SimpleNamespace(
                seq=self.seq,
                occurred_at=self.now,
                actor_id=actor.pk,
                actor_label=labels[actor.pk],
                unit_id=unit_id,
                action=action,
                target_type=target_type,
                target_id=str(target_id),
                target_label=label[:120],
                data=data,
                prev_hash=self.prev,
            )
            event.hash = compute_hash(event)  # type: ignore[arg-type]
            self.prev = event.hash
            writer.add(AuditEvent, {"id": writer.new_id(AuditEvent), **vars(event)})
        self.pending = []

    def save_head(self) -> None:
        from xueji.audit.models import AuditHead

        AuditHead.objects.update_or_create(pk=1, defaults={"seq": self.seq, "hash": self.prev})


# --- The whole build --------------------------------------------------------------------------


def build(students: int, seed: int, fingerprint: str) -> dict[str, Any]:
    """Make the dataset in the (migrated, empty) database Django is pointed at."""
    from xueji.audit.models import AuditEvent
    from xueji.students.models import (
        DuplicateCandidate,
        FamilyMember,
        NumberSequence,
        Placement,
        Student,
        StudentNumber,
        StudentRecord,
    )

    today = timezone.localdate()
    start_year = school_year_for(today)
    counties = shandong_counties()[: county_count(students)]
    per_county = math.ceil(students / len(counties)) if students else 0
    outside = outside_counties()
    password_hash = make_password(PASSWORD)
    log(f"building {students:,} students in {len(counties)} counties ({connection.vendor})")
    now = timezone.now()
    made_counties = []
    for code, name in counties:
        made_counties.append(
            _make_county(code, name, max(per_county, SCHOOL_SIZE * 8), password_hash, start_year)
        )
    totals: dict[str, int] = defaultdict(int)
    if students:
        models = [
            Student,
            FamilyMember,
            StudentRecord,
            Placement,
            StudentNumber,
            DuplicateCandidate,
            AuditEvent,
        ]
        writer = BulkWriter(models, now)
        chain = AuditChain(now)
        sequences: dict[str, int] = {}
        for index, county in enumerate(made_counties):
            people = People(seed + index, county.division_code, outside[index :: len(counties)])
            builder = _CountyStudents(writer, county, people, start_year, chain)
            for school, grade, count in builder.plan(per_county):
                builder.add_students(school, grade, count)
            totals["duplicates"] += builder.add_duplicates()
            builder.flush()
            sequences.update(builder.sequences)
            totals["students"] += builder.created
            log(f"  {county.name}: {builder.created:,} students")
        chain.save_head()
        writer.reset_sequences()
        NumberSequence.objects.bulk_create(
            [NumberSequence(prefix=prefix, last=last) for prefix, last in sequences.items()],
            batch_size=500,
        )
        for label, count in writer.written.items():
            totals[label] = count
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Autovacuum would vacuum and analyse the new tables within minutes in
            # production (inserts trigger it since PostgreSQL 13); the vacuum's visibility
            # map is what lets an index-only scan (the search keys, the placements' counts)
            # skip the table.
            cursor.execute("VACUUM ANALYZE")
        # SQLite is left without statistics, as a deployment is: Django never runs ANALYZE.
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_meta (key TEXT PRIMARY KEY, value TEXT)")
        cursor.execute("DELETE FROM bench_meta")
        for key, value in (
            ("fingerprint", fingerprint),
            ("students", str(students)),
            ("school_year", str(start_year)),
        ):
            cursor.execute("INSERT INTO bench_meta (key, value) VALUES (%s, %s)", [key, value])
    return {"counties": len(made_counties), "school_year": start_year, **totals}
