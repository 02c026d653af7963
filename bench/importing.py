"""Item 1: importing a national-template spreadsheet (B2).

Three ways of writing the same rows into the same tables of an empty county, each in a
fresh process on a fresh copy of the database:

- the product: `exchange.services.import_students`, the function behind the import page,
  the background job and `xueji import-students`: every check of validation.py, the
  registry's own refusals (N11), candidate double registrations, and the audit trail;
- the peer: django-import-export, the library a Django shop would reach for, with a
  Resource for Student that writes the record, placement, family and number beside it;
- the floor: python-calamine reads the file and the rows are written without any check,
  by the fastest plain way of each database (executemany on SQLite, COPY on PostgreSQL):
  what the hardware allows.

The file has every item of the national form filled in, coded items by their names as
the template's drop-down lists write them, and rows that pass validation without warnings.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import BENCH, ROOT, VAR, log

SHEET_NAME = "学生信息"
SCHOOL_STAGE = "nine_year"


# --- The file ----------------------------------------------------------------------------------


def file_path(rows: int) -> Path:
    digest = hashlib.sha256()
    for path in (BENCH / "importing.py", BENCH / "people.py"):
        digest.update(path.read_bytes())
    digest.update(str(datetime.date.today().year).encode())
    return VAR / f"import_{rows}_{digest.hexdigest()[:10]}.xlsx"


def _rows(count: int, start_year: int):
    """Raw rows as a registrar fills the template: names for coded items, text for the
    rest; every row valid and without a warning."""
    from bench.dataset import outside_counties
    from bench.people import SPECIALTIES, People, birth_window, display_of, stage_entry_year
    from xueji.students import codes

    def name_of(table: str, code: str) -> str:
        return codes.name_of(table, code)

    people = People(9001, "370828", outside_counties()[::50])
    rng = people.rng
    yes, no = name_of("yes_no", "1"), name_of("yes_no", "0")
    for index in range(count):
        grade = index % 9 + 1
        sex = "1" if rng.random() < 0.52 else "2"
        name, surname = people.child_name(sex)
        born = people.date_between(*birth_window(grade, start_year))
        area = people.area()
        address = people.address("金乡县", "胡集镇", False)
        division = "370828102000"
        parents = people.parents(surname, born, area)
        row: dict[str, str] = {
            "name": name,
            "sex": name_of("sex", sex),
            "birth_date": born.isoformat(),
            "birthplace_code": division,
            "native_place": "山东金乡",
            "ethnicity": name_of("ethnicity", "01"),
            "nationality": name_of("nationality", "156"),
            "id_type": name_of("id_type", "1"),
            "id_number": people.id_number(area, born, sex),
            "overseas": name_of("overseas", "00"),
            "political": name_of("political", "12"),
            "health": name_of("health", "10"),
            "name_pinyin": display_of(name),
            "former_name": surname + people.given(sex) if len(surname) <= 2 else name,
            "id_valid_until": f"{born.year + 16}-{born:%m-%d}",
            "hukou_code": division,
            "hukou_type": name_of("hukou_type", "1"),
            "specialty": rng.choice(SPECIALTIES),
            "provincial_number": f"1{start_year % 100:02d}9999{index + 1:06d}",
            "seat_number": f"{index // 9 % 45 + 1:02d}",
            "grade": str(grade),
            "class_name": str(index // 405 % 8 + 1),
            "entry_year_month": f"{stage_entry_year(grade, start_year)}09",
            "entry_method": name_of("entry_method", "11"),
            "attendance": name_of("attendance", "1"),
            "source": name_of("student_source", "1"),
            "current_address": address,
            "mailing_address": address,
            "home_address": address,
            "phone": people.mobile(),
            "postal_code": "272200",
            "email": f"family{index}@example.cn",
            "homepage": f"https://example.cn/{index}",
            "only_child": yes if rng.random() < 0.3 else no,
            "preschool": yes,
            "left_behind": name_of("left_behind", "0"),
            "migrant_child": yes if area != "370828" else no,
            "orphan": no,
            "martyr_child": no,
            "inclusive": name_of("inclusive", "0"),
            "disability": name_of("disability", "0"),
            "government_place": no,
            "needs_aid": no,
            "one_subsidy": no,
            "distance_km": f"{rng.uniform(0.3, 6.0):.1f}",
            "transport": name_of("transport", "1"),
            "school_bus": no,
        }
        for member in parents:
            prefix = f"family{member['position']}."
            row.update(
                {
                    prefix + "name": member["name"],
                    prefix + "relation": name_of("relation", member["relation"]),
                    prefix + "relation_note": name_of("relation", member["relation"]),
                    prefix + "ethnicity": name_of("ethnicity", "01"),
                    prefix + "employer": member["employer"],
                    prefix + "current_address": address,
                    prefix + "hukou_address": address,
                    prefix + "phone": member["phone"],
                    prefix + "is_guardian": yes if member["is_guardian"] else no,
                    prefix + "id_type": name_of("id_type", "1"),
                    prefix + "id_number": member["id_number"],
                    prefix + "position_title": "职员",
                }
            )
        yield row


def make_file(rows: int) -> dict[str, Any]:
    """Write the spreadsheet (once: it is cached under var/bench/)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    from bench.dataset import school_year_for
    from xueji.students.form_items import SHEET_ITEMS
    from xueji.students.validation import validate_student

    path = file_path(rows)
    if path.exists():
        return {"path": str(path)}
    start_year = school_year_for(datetime.date.today())
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_NAME)
    sheet.append([item.header for item in SHEET_ITEMS])
    today = datetime.date.today()
    for index, row in enumerate(_rows(rows, start_year)):
        if index % 997 == 0:
            # A generator bug must not pass for a slow product: sample rows are validated.
            checked = validate_student(row, today=today)
            if checked.errors or checked.warnings:
                problems = [p.message for p in checked.errors + checked.warnings]
                raise ValueError(f"generated row {index} is not clean: {problems}")
        cells = []
        for item in SHEET_ITEMS:
            cell = WriteOnlyCell(sheet, value=row.get(item.key, ""))
            cell.data_type = "s"  # text cells, as the template formats them
            cells.append(cell)
        sheet.append(cells)
    VAR.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    workbook.save(partial)
    partial.rename(path)
    log(f"wrote {path.name} ({path.stat().st_size / 1e6:.1f} MB)")
    return {"path": str(path)}


def _school_and_registrar():
    from xueji.orgs.models import Unit, User

    school = Unit.objects.filter(kind=Unit.Kind.SCHOOL, stage=SCHOOL_STAGE).order_by("pk").first()
    registrar = User.objects.get(unit=school, is_designated_registrar=True)
    return school, registrar


def _written() -> dict[str, int]:
    from xueji.students.models import FamilyMember, Placement, Student, StudentRecord

    return {
        "students": Student.objects.count(),
        "records": StudentRecord.objects.count(),
        "placements": Placement.objects.count(),
        "family": FamilyMember.objects.count(),
    }


# --- The product -------------------------------------------------------------------------------


def product(path: str, rows: int, profile: str = "") -> dict[str, Any]:
    from xueji.exchange import services

    school, registrar = _school_and_registrar()
    data = Path(path).read_bytes()
    profiler = _profiler(profile)
    sampler = subprocess.Popen(
        [sys.executable, "-m", "bench.memsample", str(os.getpid())],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )
    started, cpu = time.perf_counter(), time.process_time()
    report = services.import_students(
        data,
        Path(path).name,
        actor=registrar,
        school=school,
        school_year=services.school_year_for(school),
    )
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    # The import's own peak, taken before the tables are counted below: with SQLite's
    # mmap (settings) the pages that counting reads would be resident in this process too.
    # A large file is read and validated by a child process (exchange/readahead.py): the
    # peak is that of the two together, each page counted once (bench/memsample.py); the
    # importing process's own maximum resident set is kept beside it.
    sampled, _ = sampler.communicate()
    peak = float(sampled)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    _save_profile(profiler, profile)
    if report.imported != rows:
        problems = report.errors[:5]
        raise RuntimeError(f"the product imported {report.imported} of {rows} rows: {problems}")
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "import_peak_mb": peak,
        "_peak_own_mb": own,
        "imported": report.imported,
        **_written(),
    }


# --- The peer: django-import-export ------------------------------------------------------------


def _peer_resource(school, school_year, registrar):
    """The Resource a Django shop would write: the student's columns by their Chinese
    headers, small widgets for the coded items and 是/否, and the record, placement,
    family and number saved after each student."""
    from import_export import fields, resources, widgets

    from xueji.students import codes
    from xueji.students.form_items import (
        CODE,
        DATE,
        DECIMAL,
        FAMILY_1,
        FAMILY_2,
        SHEET_ITEMS,
        STUDENT,
        YES_NO,
    )
    from xueji.students.models import (
        FamilyMember,
        NumberKind,
        Placement,
        Student,
        StudentNumber,
        StudentRecord,
    )
    from xueji.students.pinyin import pinyin_keys
    from xueji.students.rules import stage_for_grade

    class CodeWidget(widgets.CharWidget):
        def __init__(self, table: str):
            super().__init__()
            self.table = table

        def clean(self, value, row=None, **kwargs):
            text = str(value or "").strip()
            return codes.codes_by_name(self.table).get(text, text)

    class YesNoWidget(widgets.BooleanWidget):
        def clean(self, value, row=None, **kwargs):
            return str(value or "").strip() in ("是", "1", "Y")

    def widget_for(item):
        if item.kind == CODE:
            return CodeWidget(item.table)
        if item.kind == YES_NO:
            return YesNoWidget()
        if item.kind == DATE:
            return widgets.DateWidget("%Y-%m-%d")
        if item.kind == DECIMAL:
            return widgets.DecimalWidget()
        return widgets.CharWidget()

    student_items = [item for item in SHEET_ITEMS if item.where == STUDENT]
    family_items = [item for item in SHEET_ITEMS if item.where in (FAMILY_1, FAMILY_2)]
    by_header = {item.header: item for item in SHEET_ITEMS}
    attributes: dict[str, Any] = {
        item.field: fields.Field(
            attribute=item.field, column_name=item.header, widget=widget_for(item)
        )
        for item in student_items
    }
    today = datetime.date.today()

    class Meta:
        model = Student
        fields = tuple(attributes)
        # The person is found again by the ID number: one query per row.
        import_id_fields = ("id_number",)
        use_transactions = True
        skip_unchanged = False

    def before_save_instance(self, instance, row, **kwargs):
        instance.pinyin_key, instance.initials_key = pinyin_keys(instance.name)
        instance.created_by = registrar

    def after_save_instance(self, instance, row, **kwargs):
        if kwargs.get("dry_run"):
            return
        grade = int(row["年级"])
        record = StudentRecord.objects.create(
            student=instance,
            school=school,
            stage=stage_for_grade(grade),
            entry_date=today,
            entry_year_month=str(row["入学年月"]),
            provincial_number=str(row["学籍辅号"]) or None,
            created_by=registrar,
        )
        Placement.objects.create(
            record=record,
            school_year=school_year,
            grade=grade,
            class_name=str(row["班级"]),
            seat_number=str(row["班内学号"]),
        )
        if record.provincial_number:
            StudentNumber.objects.create(
                student=instance,
                record=record,
                kind=NumberKind.PROVINCIAL,
                value=record.provincial_number,
            )
        for position, where in ((1, FAMILY_1), (2, FAMILY_2)):
            values = {}
            for item in family_items:
                if item.where == where:
                    value = widget_for(item).clean(row.get(item.header))
                    values[item.field] = value
            FamilyMember.objects.create(student=instance, position=position, **values)

    assert by_header  # headers are looked up by the hooks above
    attributes.update(
        {
            "Meta": Meta,
            "before_save_instance": before_save_instance,
            "after_save_instance": after_save_instance,
        }
    )
    return type("StudentResource", (resources.ModelResource,), attributes)()


def peer(path: str, rows: int) -> dict[str, Any]:
    import tablib

    from xueji.exchange import services

    school, registrar = _school_and_registrar()
    resource = _peer_resource(school, services.school_year_for(school), registrar)
    started, cpu = time.perf_counter(), time.process_time()
    with open(path, "rb") as upload:
        dataset = tablib.Dataset().load(upload, format="xlsx")
    read = time.perf_counter() - started
    result = resource.import_data(dataset, dry_run=False, raise_errors=True)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if result.has_errors() or result.totals.get("new", 0) != rows:
        raise RuntimeError(f"the peer imported {result.totals} of {rows} rows")
    return {"seconds": seconds, "cpu_seconds": cpu, "read_seconds": read, **_written()}


# --- The floor: read with calamine, INSERT without checks ---------------------------------------


def floor(path: str, rows: int) -> dict[str, Any]:
    from django.db import connection, transaction
    from django.db.models import Max
    from django.utils import timezone
    from python_calamine import CalamineWorkbook

    from bench.dataset import _Table
    from xueji.exchange.excel import HEADERS, header_key
    from xueji.students import codes
    from xueji.students.form_items import (
        BY_KEY,
        CODE,
        DATE,
        FAMILY_1,
        FAMILY_2,
        PLACEMENT,
        RECORD,
        STUDENT,
        YES_NO,
    )
    from xueji.students.models import (
        FamilyMember,
        NumberKind,
        Placement,
        Student,
        StudentNumber,
        StudentRecord,
    )
    from xueji.students.rules import stage_for_grade

    school, registrar = _school_and_registrar()
    year = _current_year(school)
    now = timezone.now()
    vendor = connection.vendor
    tables = {model: _Table(model, vendor, now) for model in (Student, FamilyMember)}
    tables.update({model: _Table(model, vendor, now) for model in (StudentRecord, Placement)})
    tables[StudentNumber] = _Table(StudentNumber, vendor, now)
    started, cpu = time.perf_counter(), time.process_time()
    grid = CalamineWorkbook.from_path(path).get_sheet_by_name(SHEET_NAME).to_python()
    keys = [HEADERS.get(header_key(cell)) for cell in grid[0]]
    # The only conversions: names of coded items to codes, 是/否 to booleans, ISO dates.
    converters: list[Any] = []
    for key in keys:
        item = BY_KEY.get(key) if key else None
        if item is None:
            converters.append(None)
        elif item.kind == CODE:
            converters.append(codes.codes_by_name(item.table))
        elif item.kind == YES_NO:
            converters.append({"是": True, "否": False})
        elif item.kind == DATE:
            converters.append(datetime.date.fromisoformat)
        else:
            converters.append(str)
    ids = {
        model: (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1
        for model in (Student, FamilyMember, StudentRecord, Placement, StudentNumber)
    }
    out: dict[Any, list] = {model: [] for model in tables}
    for cells in grid[1:]:
        parts: dict[str, dict[str, Any]] = {
            STUDENT: {},
            RECORD: {},
            PLACEMENT: {},
            FAMILY_1: {},
            FAMILY_2: {},
        }
        for key, convert, value in zip(keys, converters, cells, strict=False):
            if convert is None or value == "":
                continue
            item = BY_KEY[key]
            parts[item.where][item.field] = (
                convert.get(value, value) if isinstance(convert, dict) else convert(value)
            )
        student_id = ids[Student]
        ids[Student] += 1
        out[Student].append(
            tables[Student].row({"id": student_id, **parts[STUDENT], "created_by_id": registrar.pk})
        )
        for position, where in ((1, FAMILY_1), (2, FAMILY_2)):
            out[FamilyMember].append(
                tables[FamilyMember].row(
                    {
                        "id": ids[FamilyMember],
                        "student_id": student_id,
                        "position": position,
                        **parts[where],
                    }
                )
            )
            ids[FamilyMember] += 1
        record_id = ids[StudentRecord]
        ids[StudentRecord] += 1
        grade = int(parts[PLACEMENT]["grade"])
        number = parts[RECORD].get("provincial_number")
        out[StudentRecord].append(
            tables[StudentRecord].row(
                {
                    "id": record_id,
                    "student_id": student_id,
                    "school_id": school.pk,
                    "stage": stage_for_grade(grade),
                    "entry_date": now.date(),
                    **parts[RECORD],
                    "created_by_id": registrar.pk,
                }
            )
        )
        out[Placement].append(
            tables[Placement].row(
                {
                    "id": ids[Placement],
                    "record_id": record_id,
                    "school_year_id": year.pk,
                    **parts[PLACEMENT],
                    "grade": grade,
                }
            )
        )
        ids[Placement] += 1
        out[StudentNumber].append(
            tables[StudentNumber].row(
                {
                    "id": ids[StudentNumber],
                    "student_id": student_id,
                    "record_id": record_id,
                    "kind": NumberKind.PROVINCIAL,
                    "value": number,
                }
            )
        )
        ids[StudentNumber] += 1
    # The fastest plain way each database offers: executemany on SQLite, COPY on PostgreSQL.
    with transaction.atomic(), connection.cursor() as cursor:
        for model in (Student, FamilyMember, StudentRecord, Placement, StudentNumber):
            table = tables[model]
            columns = ", ".join(f'"{column}"' for column in table.columns)
            if vendor == "postgresql":
                with cursor.cursor.copy(f'COPY "{table.sql_table}" ({columns}) FROM STDIN') as copy:
                    for row in out[model]:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _column in table.columns)
                cursor.executemany(
                    f'INSERT INTO "{table.sql_table}" ({columns}) VALUES ({marks})', out[model]
                )
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    written = _written()
    if written["students"] != rows:
        raise RuntimeError(f"the floor wrote {written['students']} of {rows} rows")
    return {"seconds": seconds, "cpu_seconds": cpu, **written}


def _current_year(school):
    from xueji.core import calendar

    return calendar.current_school_year(school.county)


# --- Profiles -------------------------------------------------------------------------------


def _profiler(path: str):
    if not path:
        return None
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.005)
    profiler.start()
    return profiler


def _save_profile(profiler, path: str) -> None:
    if profiler is None:
        return
    profiler.stop()
    Path(path).write_text(profiler.output_text(unicode=True, show_all=False))
    log(f"profile written to {path}")


# --- The runner's side ----------------------------------------------------------------------


# The peer is stopped after this long (seconds; XUEJI_BENCH_PEER_LIMIT): on PostgreSQL it
# took more than 33 minutes for 100,000 rows, and `make bench` must end. A stopped peer's
# time is a lower bound, and so is the speed-up beside it (import_peer_stopped = 1).
PEER_LIMIT = float(os.environ.get("XUEJI_BENCH_PEER_LIMIT", "1800"))


def measure(target, rows: int, *, profile: bool = False) -> dict[str, float]:
    """Import the same file three ways, each in a fresh process on a fresh copy of an
    empty county; the product's peak memory is that process's maximum resident set."""
    from bench import store
    from bench.common import RESULTS, SQLITE, TaskStopped, run_worker

    base = store.ensure(target, 0)
    path = run_worker(SQLITE.url(store.ensure(SQLITE, 0)), "importing.make_file", rows=rows)["path"]
    figures: dict[str, float] = {}
    sfx = target.suffix
    for way in ("product", "peer", "floor"):
        work = store.scratch(target, base, "import")
        params: dict[str, Any] = {"path": path, "rows": rows}
        if way == "product" and profile:
            params["profile"] = str(RESULTS / f"profile_import{sfx}.txt")
        limit = PEER_LIMIT if way == "peer" else None
        try:
            result = run_worker(target.url(work), f"importing.{way}", limit=limit, **params)
        except TaskStopped as stopped:
            log(f"{target.label} import peer: stopped after {stopped.seconds:.0f} s, unfinished")
            figures[f"import_peer_s{sfx}"] = stopped.seconds
            figures[f"import_peer_stopped{sfx}"] = 1.0
            continue
        finally:
            target.drop(work)
        # CPU time beside wall-clock time: on a shared machine the wall clock is noisy.
        # The worker's own CPU only; the database server's share (PostgreSQL) is not in it.
        log(
            f"{target.label} import {way}: {result['seconds']:.2f} s "
            f"(CPU {result.get('cpu_seconds', 0):.2f} s, "
            f"peak {result.get('import_peak_mb', result['_peak_rss_mb']):.0f} MB)"
        )
        if way == "product":
            figures[f"import_100k_s{sfx}"] = result["seconds"]
            figures[f"import_peak_mb{sfx}"] = result.get("import_peak_mb", result["_peak_rss_mb"])
        else:
            figures[f"import_{way}_s{sfx}"] = result["seconds"]
        if way == "peer":
            figures[f"import_peer_stopped{sfx}"] = 0.0
    figures[f"import_speedup_vs_peer{sfx}"] = (
        figures[f"import_peer_s{sfx}"] / figures[f"import_100k_s{sfx}"]
    )
    figures[f"import_vs_floor{sfx}"] = (
        figures[f"import_100k_s{sfx}"] / figures[f"import_floor_s{sfx}"]
    )
    return figures
