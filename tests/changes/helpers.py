"""Small builders for change-request tests: scans, and a request walked through its steps."""

import datetime
import io

from PIL import Image

from xueji.changes import rules, services

DAY = datetime.date(2026, 11, 30)


def scan() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 80), (240, 240, 240)).save(buffer, "JPEG")
    return buffer.getvalue()


def with_documents(request, actor):
    """Step 1: every required document uploaded and checked against the original."""
    for document in rules.required_documents(request.kind, request.reason):
        evidence = services.do_add_evidence(request, document, scan(), actor=actor)
        services.do_check_evidence(evidence, actor=actor)
    return services.do_pass_documents(request, actor=actor)


def signed(request, registrar, leader, printer=None):
    """Steps 2 and 3: printed, signed by registrar and leader, the stamped scan uploaded."""
    services.do_mark_report_printed(request, actor=printer or registrar)
    services.do_sign(request, actor=registrar)
    services.do_sign(request, actor=leader)
    return services.do_upload_signed_scan(request, scan(), actor=registrar)
