"""Reconciliation at the bureau (C8, C6): each change a package carries against the live
registry (reconciled, pending, unknown, conflicting, and why), an offline unit's unknown
changes entering the queue as submitted (never approved) and then going through a
Wednesday session, the findings per school, and the bureau's check of each change."""

import datetime
import io
import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import translation
from openpyxl import load_workbook

from xueji.changes import services as changes
from xueji.changes.models import ChangeRequest, Kind, RequestStep, State
from xueji.core.errors import RuleViolation
from xueji.packages import import_services, reconcile, services
from xueji.packages.models import PackageChange
from xueji.students.models import Status

from .helpers import (
    DAY,
    RANGE,
    change_entry,
    decided,
    evidence_for,
    offline_key,
    offline_package,
    registered_key,
    submitted,
    suspension,
)

SICK = ["hospital_certificate", "medical_records", "medical_bills"]


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English (the msgids); the UI default is Chinese."""
    with translation.override("en"):
        yield


def imported(cast, data):
    return import_services.do_import_package(data, actor=cast.bureau_registrar)


def verdicts(result) -> dict[str, str]:
    return {
        change.student_name: change.verdict
        for change in PackageChange.objects.filter(package=result.package)
    }


@pytest.fixture
def b1_offline(cast, register):
    """b1 works offline; two of its pupils are in the bureau's registry."""
    first = register(school=cast.school_b1, actor=cast.b1_registrar, sequence=11, name="王小红")
    second = register(school=cast.school_b1, actor=cast.b1_registrar, sequence=12, name="王小刚")
    return {"pair": offline_key(cast, cast.school_b1), "first": first, "second": second}


def offline_change(pupil, school, *, state="submitted", uid=None, **extra):
    uid = uid or uuid.uuid4()
    evidence, files = evidence_for(uid, SICK)
    entry = change_entry(
        pupil.student, pupil.record, school, uid=uid, state=state, evidence=evidence, **extra
    )
    return entry, files


def test_an_offline_change_enters_the_queue_as_submitted_and_waits_for_the_wednesday_session(
    cast, b1_offline
):
    entry, files = offline_change(b1_offline["first"], cast.school_b1)
    data = offline_package(b1_offline["pair"], cast.school_b1, [entry], members=files)
    preview = import_services.preview_package(data, actor=cast.bureau_registrar)
    assert preview.changes[0].judgement.verdict == "unknown"
    assert preview.changes[0].judgement.action == "enter"
    result = imported(cast, data)
    assert result.entered == 1 and verdicts(result) == {"王小红": "unknown"}
    request = ChangeRequest.objects.get(uid=entry["uid"])
    assert request.state == State.SUBMITTED and request.kind == Kind.SUSPENSION
    assert request.from_school == cast.school_b1 and request.effective_date == DAY
    assert request.evidence.count() == 3
    assert all(evidence.checked_at for evidence in request.evidence.all())
    assert request.signed_scan and request.registrar_signed_at and request.leader_signed_at
    actions = list(RequestStep.objects.filter(request=request).values_list("action", flat=True))
    assert actions[:2] == ["created", "imported"]
    assert "central_reviewed" in actions and actions[-1] == "submitted"
    # C6: it waits for a Wednesday session like any submitted request.
    assert request.session.date.weekday() == 2 and request.decided_at is None
    carried = PackageChange.objects.get()
    assert carried.request == request and carried.entered and carried.school == cast.school_b1
    decided(cast, request)
    request.refresh_from_db()
    assert request.state == State.APPROVED
    # The unit's next package carries the same change, still "submitted" on the laptop.
    again = offline_package(b1_offline["pair"], cast.school_b1, [entry], members=files, sequence=2)
    assert verdicts(imported(cast, again)) == {"王小红": "reconciled"}


def test_a_change_approved_at_the_unit_still_enters_only_as_submitted(cast, b1_offline):
    entry, files = offline_change(b1_offline["first"], cast.school_b1, state="approved")
    result = imported(
        cast, offline_package(b1_offline["pair"], cast.school_b1, [entry], members=files)
    )
    request = ChangeRequest.objects.get(uid=entry["uid"])
    assert request.state == State.SUBMITTED and request.decided_by is None
    assert PackageChange.objects.get(package=result.package).verdict == "unknown"


def test_a_draft_enters_as_a_draft_and_a_later_package_moves_it_on_or_withdraws_it(
    cast, b1_offline
):
    uid = uuid.uuid4()
    first, first_files = offline_change(b1_offline["first"], cast.school_b1, state="draft", uid=uid)
    imported(
        cast, offline_package(b1_offline["pair"], cast.school_b1, [first], members=first_files)
    )
    request = ChangeRequest.objects.get(uid=uid)
    assert request.state == State.DRAFT and request.evidence.count() == 3
    later, later_files = offline_change(b1_offline["first"], cast.school_b1, uid=uid)
    result = imported(
        cast,
        offline_package(
            b1_offline["pair"], cast.school_b1, [later], members=later_files, sequence=2
        ),
    )
    request.refresh_from_db()
    assert request.state == State.SUBMITTED and verdicts(result) == {"王小红": "pending"}
    # The same scans carried again are not added twice.
    assert request.evidence.count() == 3

    other_uid = uuid.uuid4()
    draft, draft_files = offline_change(
        b1_offline["second"], cast.school_b1, state="draft", uid=other_uid
    )
    imported(
        cast,
        offline_package(
            b1_offline["pair"], cast.school_b1, [draft], members=draft_files, sequence=3
        ),
    )
    gone, gone_files = offline_change(
        b1_offline["second"], cast.school_b1, state="withdrawn", uid=other_uid
    )
    imported(
        cast,
        offline_package(b1_offline["pair"], cast.school_b1, [gone], members=gone_files, sequence=4),
    )
    assert ChangeRequest.objects.get(uid=other_uid).state == State.WITHDRAWN


def test_unknown_changes_the_registry_does_not_bear_out_are_conflicting_and_not_entered(
    cast, b1_offline, register
):
    a1_pupil = register(sequence=21, name="张大山")
    stranger = register(school=cast.school_b1, actor=cast.b1_registrar, sequence=22, name="李四")
    at_a1, files_a1 = offline_change(a1_pupil, cast.school_b1)
    not_here, files_nh = offline_change(stranger, cast.school_b1)
    not_here["student"] = dict(not_here["student"], id_number="370828201001010011")
    renamed, files_rn = offline_change(b1_offline["first"], cast.school_b1)
    renamed["student"] = dict(renamed["student"], name="王大红")
    bad_rule, files_br = offline_change(b1_offline["second"], cast.school_b1, reason="nonsense")
    entries = [at_a1, not_here, renamed, bad_rule]
    files = {**files_a1, **files_nh, **files_rn, **files_br}
    before = ChangeRequest.objects.count()
    result = imported(
        cast, offline_package(b1_offline["pair"], cast.school_b1, entries, members=files)
    )
    assert ChangeRequest.objects.count() == before and result.entered == 0
    found = {
        change.student_name: change
        for change in PackageChange.objects.filter(package=result.package)
    }
    assert {name: change.verdict for name, change in found.items()} == {
        "张大山": "conflicting",
        "李四": "conflicting",
        "王大红": "conflicting",
        "王小刚": "conflicting",
    }
    assert cast.school_a1.name in found["张大山"].reason
    assert "王小红" in found["王大红"].reason
    assert found["王小刚"].request is None


def test_a_student_with_a_pending_request_here_is_conflicting(cast, b1_offline):
    changes.do_create_request(
        b1_offline["first"].record,
        Kind.SUSPENSION,
        actor=cast.bureau_registrar,
        reason="sick",
        effective_date=DAY,
    )
    entry, files = offline_change(b1_offline["first"], cast.school_b1)
    result = imported(
        cast, offline_package(b1_offline["pair"], cast.school_b1, [entry], members=files)
    )
    assert verdicts(result) == {"王小红": "conflicting"}


@pytest.fixture
def a1_requests(cast, register):
    """At a1 (networked): an approved, a recorded, a submitted and a refused suspension."""
    made = {}
    names = {"approved": "甲一", "recorded": "乙二", "submitted": "丙三", "refused": "丁四"}
    for sequence, (name, pupil_name) in enumerate(names.items(), start=31):
        pupil = register(sequence=sequence, name=pupil_name)
        request = submitted(cast, suspension(cast, pupil.record))
        made[name] = request
    decided(cast, made["approved"])
    changes.do_record(decided(cast, made["recorded"]), actor=cast.a1_registrar)
    decided(cast, made["refused"], approve=False)
    for name, request in made.items():
        made[name] = ChangeRequest.objects.get(pk=request.pk)
    return made


def test_a_networked_schools_package_is_reconciled_against_the_registry(cast, a1_requests):
    registered_key(cast, cast.a1_registrar)
    package = services.do_export_changes(
        actor=cast.a1_registrar,
        schools=[cast.school_a1],
        grades=None,
        date_from=RANGE[0],
        date_to=RANGE[1],
    )
    with package.file.open("rb") as handle:
        result = imported(cast, handle.read())
    found = {
        change.request.pk: change for change in PackageChange.objects.filter(package=result.package)
    }
    assert found[a1_requests["approved"].pk].verdict == "reconciled"
    assert "step 5" in found[a1_requests["approved"].pk].reason
    assert found[a1_requests["recorded"].pk].verdict == "reconciled"
    assert found[a1_requests["submitted"].pk].verdict == "pending"
    assert found[a1_requests["refused"].pk].verdict == "reconciled"
    assert not any(change.entered for change in found.values())
    kinds = [finding.kind for finding in reconcile.findings(result.package)]
    assert kinds == ["not_recorded"]


def test_a_known_change_with_other_facts_or_an_opposite_decision_is_conflicting(cast, a1_requests):
    pair = offline_key(cast, cast.school_a1)
    approved = a1_requests["approved"]
    refused = a1_requests["refused"]
    moved_date = change_entry(
        approved.student,
        approved.record,
        cast.school_a1,
        uid=approved.uid,
        state="approved",
        effective=DAY + datetime.timedelta(days=1),
    )
    says_refused = change_entry(
        a1_requests["recorded"].student,
        a1_requests["recorded"].record,
        cast.school_a1,
        uid=a1_requests["recorded"].uid,
        state="refused",
    )
    says_approved = change_entry(
        refused.student, refused.record, cast.school_a1, uid=refused.uid, state="approved"
    )
    other_kind = change_entry(
        a1_requests["submitted"].student,
        a1_requests["submitted"].record,
        cast.school_a1,
        uid=a1_requests["submitted"].uid,
        kind="dropout",
        reason="dropout",
    )
    result = imported(
        cast,
        offline_package(
            pair, cast.school_a1, [moved_date, says_refused, says_approved, other_kind]
        ),
    )
    reasons = {
        change.request.pk: (change.verdict, change.reason)
        for change in PackageChange.objects.filter(package=result.package)
    }
    assert {verdict for verdict, _reason in reasons.values()} == {"conflicting"}
    assert str(DAY) in reasons[approved.pk][1]
    findings = reconcile.findings(result.package)
    assert sum(1 for finding in findings if finding.kind == "conflicting") == 4


def test_findings_name_what_the_registry_holds_and_the_package_does_not_bear_out(
    cast, b1_offline, register
):
    """Not carried, approved never recorded, transfer never confirmed, left without an
    approved change: all for the package's school and range."""
    # In the registry for b1, not in the laptop's package.
    third = register(school=cast.school_b1, actor=cast.b1_registrar, sequence=41, name="赵六")
    forgotten = changes.do_create_request(
        third.record,
        Kind.DROPOUT,
        actor=cast.bureau_registrar,
        reason="dropout",
        effective_date=DAY,
    )
    fourth = register(school=cast.school_b1, actor=cast.b1_registrar, sequence=42, name="孙七")
    moving = changes.do_create_request(
        fourth.record,
        Kind.TRANSFER,
        actor=cast.bureau_registrar,
        reason="moved",
        effective_date=DAY,
        to_school=cast.school_a1,
    )
    # Left without an approved change: set up directly, as a broken import might leave it.
    fifth = register(school=cast.school_b1, actor=cast.b1_registrar, sequence=43, name="周八")
    fifth.record.status = Status.MISSING
    fifth.record.exit_date = DAY
    fifth.record.save()
    entry, files = offline_change(b1_offline["first"], cast.school_b1)
    result = imported(
        cast, offline_package(b1_offline["pair"], cast.school_b1, [entry], members=files)
    )
    kinds = sorted(
        (finding.kind, finding.student_name) for finding in reconcile.findings(result.package)
    )
    assert ("not_carried", "赵六") in kinds and ("not_carried", "孙七") in kinds
    assert ("left_without_change", "周八") in kinds
    assert forgotten.state == State.DRAFT
    # The transfer approved but never confirmed by the receiving school.
    ChangeRequest.objects.filter(pk=moving.pk).update(
        state=State.APPROVED, decided_at=datetime.datetime(2026, 12, 2, tzinfo=datetime.UTC)
    )
    kinds = [finding.kind for finding in reconcile.findings(result.package)]
    assert "not_confirmed" in kinds
    ChangeRequest.objects.filter(pk=forgotten.pk).update(state=State.APPROVED)
    assert "not_recorded" in [finding.kind for finding in reconcile.findings(result.package)]
    # Put right, the finding disappears.
    fifth.record.status = Status.ENROLLED
    fifth.record.exit_date = None
    fifth.record.save()
    assert "left_without_change" not in [
        finding.kind for finding in reconcile.findings(result.package)
    ]


def test_the_reconciliation_report_per_school_as_a_page_and_a_spreadsheet(
    cast, b1_offline, client_for
):
    entry, files = offline_change(b1_offline["first"], cast.school_b1)
    stranger, stranger_files = offline_change(b1_offline["second"], cast.school_b1)
    stranger["student"] = dict(stranger["student"], id_number="370828201001010011")
    result = imported(
        cast,
        offline_package(
            b1_offline["pair"],
            cast.school_b1,
            [entry, stranger],
            members={**files, **stranger_files},
        ),
    )
    client = client_for(cast.bureau_registrar)
    page = client.get(f"/packages/{result.package.pk}/reconciliation/")
    assert page.status_code == 200
    assert cast.school_b1.name in page.text and "王小红" in page.text
    one = client.get(f"/packages/{result.package.pk}/reconciliation/?school={cast.school_b1.pk}")
    assert one.status_code == 200 and "王小刚" in one.text
    sheet = client.get(f"/packages/{result.package.pk}/reconciliation.xlsx")
    rows = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    assert len(rows) >= 3 and {row[2] for row in rows[1:]} >= {"王小红", "王小刚"}
    assert (
        client_for(cast.a1_registrar)
        .get(f"/packages/{result.package.pk}/reconciliation/")
        .status_code
        == 404
    )


def test_the_bureau_checks_each_change_once_audited(cast, b1_offline, client_for):
    entry, files = offline_change(b1_offline["first"], cast.school_b1)
    result = imported(
        cast, offline_package(b1_offline["pair"], cast.school_b1, [entry], members=files)
    )
    change = PackageChange.objects.get(package=result.package)
    with pytest.raises(PermissionDenied):
        import_services.do_check_package_change(change, actor=cast.b1_registrar)
    client = client_for(cast.bureau_registrar)
    response = client.post(
        f"/packages/changes/{change.pk}/check/", {"note": "原件已核", "next": "reconciliation"}
    )
    assert response["Location"] == f"/packages/{result.package.pk}/reconciliation/"
    change.refresh_from_db()
    assert change.checked_by == cast.bureau_registrar and change.check_note == "原件已核"
    with pytest.raises(RuleViolation):
        import_services.do_check_package_change(change, actor=cast.bureau_registrar)
    from xueji.audit.models import AuditEvent

    assert AuditEvent.objects.filter(action="package_change.checked").count() == 1
