"""Item 6: printed papers (B4, N4, C3).

- The photo sheet of a school's whole intake of 2,000 pupils (every class on its own
  pages), as the bureau prints it: `intake.photo_sheet.issue_photo_sheet`, which reads
  the pupils and their photo files, records the issued paper with its verification code,
  and draws the A4 PDF. Each pupil has a photo of their own (distinct JPEG files of the
  national size), so nothing is drawn from a cache that a real sheet would miss.
- One change report: `changes.report.issue_change_report` for a request whose documents
  were checked (printed, then printed again: the median of the reprints).
"""

from __future__ import annotations

import datetime
import io
import random
import statistics
import time
from typing import Any

from bench.common import MEDIA_DIR, log

PHOTO_DIR = "photos/bench"


def _photo_bytes(index: int) -> bytes:
    """A light-blue passport-style photo, 358 × 441 pixels, different for every pupil."""
    from PIL import Image, ImageDraw

    rng = random.Random(index)
    image = Image.new("RGB", (358, 441), (160 + rng.randrange(30), 205, 240))
    draw = ImageDraw.Draw(image)
    skin = (200 + rng.randrange(40), 160 + rng.randrange(40), 130 + rng.randrange(40))
    draw.ellipse((114 + rng.randrange(-8, 8), 70, 244 + rng.randrange(-8, 8), 235), fill=skin)
    cloth = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
    draw.rounded_rectangle((54, 250, 304, 470), radius=90, fill=cloth)
    for _dot in range(40):  # texture, so that no two files compress alike
        x, y = rng.randrange(358), rng.randrange(441)
        draw.point((x, y), fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def photos(count: int) -> list[str]:
    """The photo files (written once under var/bench/media and kept)."""
    folder = MEDIA_DIR / PHOTO_DIR
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for index in range(count):
        name = f"{PHOTO_DIR}/{index:05d}.jpg"
        path = MEDIA_DIR / name
        if not path.exists():
            path.write_bytes(_photo_bytes(index))
        names.append(name)
    return names


def _intake(pupils: int):
    """`pupils` numbered new pupils with photos at one primary school of the first county."""
    from django.utils import timezone

    from bench.dataset import AuditChain, BulkWriter, _CountyStudents, outside_counties
    from bench.people import People
    from xueji.audit.models import AuditEvent
    from xueji.core import calendar
    from xueji.intake.models import EntryState, IntakeEntry
    from xueji.orgs.models import County, Role, Unit, User
    from xueji.students.models import (
        DuplicateCandidate,
        FamilyMember,
        Placement,
        Status,
        Student,
        StudentNumber,
        StudentRecord,
    )
    from xueji.students.services import do_set_number_templates

    county = County.objects.order_by("pk").first()
    school = (
        Unit.objects.filter(county=county, kind=Unit.Kind.SCHOOL, stage="primary", is_central=True)
        .select_related("parent", "county")
        .order_by("pk")
        .first()
    )
    year = calendar.current_school_year(county)
    # One school's 2,000 new pupils need the default four-digit sequence (one county here).
    defaults = County()
    do_set_number_templates(
        county,
        actor=None,
        primary=defaults.primary_number_template,
        junior=defaults.junior_number_template,
    )
    school.county = county  # the school's own copy still held the old templates
    now = timezone.now()
    writer = BulkWriter(
        [
            Student,
            FamilyMember,
            StudentRecord,
            Placement,
            StudentNumber,
            DuplicateCandidate,
            AuditEvent,
        ],
        now,
    )
    chain = AuditChain(now)
    builder = _CountyStudents(
        writer,
        county,
        People(77, county.division_code, outside_counties()[:5]),
        year.start_year,
        chain,
    )
    builder.schools = [school]
    first = writer.next_ids[Student]
    builder.add_students(school, 1, pupils)
    builder.flush()
    chain.save_head()
    writer.reset_sequences()
    names = photos(pupils)
    records = list(
        StudentRecord.objects.filter(school=school, student_id__gte=first).order_by("pk")
    )
    StudentRecord.objects.filter(pk__in=[r.pk for r in records]).update(status=Status.PENDING)
    for record, name in zip(records, names, strict=False):
        Student.objects.filter(pk=record.student_id).update(photo=name)
    IntakeEntry.objects.bulk_create(
        [
            IntakeEntry(
                record=record,
                school=school,
                school_year=year,
                stage="primary",
                state=EntryState.NUMBERED,
            )
            for record in records
        ],
        batch_size=500,
    )
    bureau = User.objects.get(unit__county=county, role=Role.BUREAU_REGISTRAR)
    registrar = User.objects.get(unit=school, is_designated_registrar=True)
    return school, year, bureau, registrar, records


def _warm_up() -> None:
    """What a running server has done before its first paper: loaded the URL patterns
    (the QR code's address is reversed) and registered the CJK fonts. A fresh process
    would otherwise charge a second or two of start-up to the first paper."""
    from django.urls import reverse

    from xueji.reports import fonts

    reverse("dashboard")
    fonts.fonts()


def run(pupils: int, reports: int = 10) -> dict[str, Any]:
    from xueji.changes import services
    from xueji.changes.report import issue_change_report
    from xueji.intake.photo_sheet import issue_photo_sheet
    from xueji.students.models import Status, StudentRecord

    school, year, bureau, registrar, records = _intake(pupils)
    _warm_up()
    started = time.perf_counter()
    _paper, pdf = issue_photo_sheet(school, year, actor=bureau)
    sheet = time.perf_counter() - started
    log(f"photo sheet of {len(records)} pupils: {sheet:.2f} s, {len(pdf) / 1e6:.1f} MB")

    # A request whose documents are checked, through the product's own steps.
    record = records[0]
    StudentRecord.objects.filter(pk=record.pk).update(status=Status.ENROLLED)
    record.refresh_from_db()
    request = services.do_create_request(
        record,
        "suspension",
        actor=registrar,
        reason="other",
        effective_date=datetime.date.today(),
    )
    evidence = services.do_add_evidence(
        request, "application", _photo_bytes(999_999), actor=registrar
    )
    services.do_check_evidence(evidence, actor=registrar)
    request = services.do_pass_documents(request, actor=registrar)
    timings = []
    for _attempt in range(reports + 1):
        started = time.perf_counter()
        _paper, report = issue_change_report(request, actor=registrar)
        timings.append((time.perf_counter() - started) * 1000)
    reprints = timings[1:]
    log(
        f"change report: first {timings[0]:.0f} ms, reprints median "
        f"{statistics.median(reprints):.0f} ms ({len(report) / 1e3:.0f} kB)"
    )
    return {
        "photosheet_s": sheet,
        "report_ms": statistics.median(reprints),
        "report_first_ms": timings[0],
    }


def measure(target, pupils: int) -> dict[str, float]:
    from bench import store
    from bench.common import run_worker

    base = store.ensure(target, 0)
    work = store.scratch(target, base, "pdf")
    try:
        result = run_worker(target.url(work), "pdfs.run", pupils=pupils)
    finally:
        target.drop(work)
    sfx = target.suffix
    return {
        f"pdf_photosheet_2000_s{sfx}": result["photosheet_s"],
        f"pdf_change_report_ms{sfx}": result["report_ms"],
    }
