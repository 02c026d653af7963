"""B6: the audit log is append-only and hash-chained; verify names the first altered row."""

import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction

from xueji.audit.models import AppendOnlyError, AuditEvent, AuditHead
from xueji.audit.services import record_event, verify_chain
from xueji.core.errors import RuleViolation
from xueji.orgs import services
from xueji.orgs.models import Role


def test_every_event_links_to_the_one_before_it(cast):
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
    head = AuditHead.objects.get(pk=1)
    assert (head.seq, head.hash) == (events[-1].seq, events[-1].hash)


def test_an_event_names_actor_unit_action_target_and_changes(cast):
    services.do_update_school(
        cast.school_a1, actor=cast.bureau_registrar, has_printer=True, phone="0537-8888888"
    )
    event = AuditEvent.objects.order_by("-seq").first()
    assert event.action == "school.updated"
    assert event.actor == cast.bureau_registrar
    assert event.unit == cast.bureau
    assert event.target_id == str(cast.school_a1.pk)
    assert event.data["changes"]["has_printer"] == [False, True]
    assert event.data["changes"]["phone"] == ["", "0537-8888888"]


def test_the_orm_cannot_update_or_delete_an_event(cast):
    event = AuditEvent.objects.first()
    event.action = "tampered"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="tampered")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


def test_verify_accepts_an_untouched_chain(cast):
    result = verify_chain()
    assert result.ok
    assert result.checked == AuditEvent.objects.count()


@pytest.mark.audit_tampered
def test_verify_names_a_row_altered_in_the_database(cast):
    target = AuditEvent.objects.order_by("seq")[3]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET target_label = %s WHERE seq = %s",
            ["someone else", target.seq],
        )
    result = verify_chain()
    assert not result.ok
    assert result.first_bad_seq == target.seq
    with pytest.raises(CommandError, match=f"#{target.seq}"):
        call_command("audit", "verify")


@pytest.mark.audit_tampered
def test_verify_names_a_row_whose_data_was_rewritten_with_a_matching_hash_chain_break(cast):
    first, second = AuditEvent.objects.order_by("seq")[2:4]
    with connection.cursor() as cursor:
        # Rewriting a row's hash to hide an edit breaks the link of the row after it.
        cursor.execute(
            "UPDATE audit_auditevent SET hash = %s WHERE seq = %s", ["f" * 64, first.seq]
        )
    result = verify_chain()
    assert not result.ok
    assert result.first_bad_seq == first.seq


@pytest.mark.audit_tampered
def test_verify_notices_a_removed_row_and_a_removed_tail(cast):
    events = list(AuditEvent.objects.order_by("seq"))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = %s", [events[-1].seq])
    result = verify_chain()
    assert not result.ok and result.first_bad_seq == events[-1].seq
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = %s", [events[2].seq])
    result = verify_chain()
    assert not result.ok and result.first_bad_seq == events[2].seq


def test_a_refused_change_leaves_neither_data_nor_event(cast):
    before = AuditEvent.objects.count()
    with pytest.raises(RuleViolation):
        services.do_create_school(
            actor=cast.bureau_registrar,
            township=cast.township_a,
            name="胡集镇第九小学",
            school_code=cast.school_a1.school_code,
            stage="primary",
        )
    assert AuditEvent.objects.count() == before


def test_an_error_after_the_event_rolls_back_both(cast):
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.do_update_user(cast.a1_registrar, actor=cast.bureau_registrar, phone="123")
        raise RuntimeError("injected failure after the service wrote")
    assert AuditEvent.objects.count() == before
    cast.a1_registrar.refresh_from_db()
    assert cast.a1_registrar.phone == ""


def test_the_audit_verify_command_reports_an_intact_chain(cast, capsys):
    call_command("audit", "verify")
    assert "intact" in capsys.readouterr().out


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: parallel connections on one in-memory SQLite are not real")
    from tests.conftest import make_cast

    cast = make_cast()
    writers, per_writer = 8, 15
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(index: int) -> None:
        try:
            barrier.wait()
            for step in range(per_writer):
                with transaction.atomic():
                    record_event(
                        "test.concurrent",
                        actor=cast.bureau_registrar,
                        data={"writer": index, "step": step},
                    )
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert AuditEvent.objects.filter(action="test.concurrent").count() == writers * per_writer
    result = verify_chain()
    assert result.ok, result.message


def test_a_user_role_change_is_audited_with_before_and_after(cast):
    services.do_update_user(cast.a1_leader, actor=cast.bureau_registrar, role=Role.SCHOOL_REGISTRAR)
    event = AuditEvent.objects.order_by("-seq").first()
    assert event.action == "user.updated"
    assert event.data["changes"]["role"] == ["school_leader", "school_registrar"]


def test_the_bureau_sees_the_system_events_of_its_county_and_schools_see_none(cast):
    from xueji.core.scope import scope_for

    system_events = AuditEvent.objects.filter(actor__isnull=True)
    assert system_events.exists()
    assert not system_events.filter(unit__isnull=True).exists()
    visible = scope_for(cast.bureau_leader).audit_events()
    assert set(system_events.values_list("pk", flat=True)) <= set(
        visible.values_list("pk", flat=True)
    )
    assert not scope_for(cast.a1_registrar).audit_events().exists()


@pytest.mark.audit_tampered
def test_verify_notices_an_event_inserted_behind_xuejis_back(cast):
    last = AuditEvent.objects.order_by("-seq").first()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditevent (seq, occurred_at, actor_label, action, target_type,"
            " target_id, target_label, data, prev_hash, hash)"
            " VALUES (%s, %s, 'forger', 'user.created', '', '', '', '{}', %s, %s)",
            [last.seq + 1, last.occurred_at, last.hash, "e" * 64],
        )
    result = verify_chain()
    assert not result.ok
    assert result.first_bad_seq == last.seq + 1


def test_an_event_written_during_verification_is_not_a_false_alarm(cast):
    def write_during_check(done, total):
        record_event("test.during_verify", actor=cast.bureau_registrar)

    assert verify_chain(progress=write_during_check).ok
    assert verify_chain().ok
