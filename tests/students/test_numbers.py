"""Numbers (DOMAIN.md): the provincial number from the template, G/L/J national numbers,
sequences that never repeat, every past number searchable."""

import threading

import pytest
from django.db import connection, connections

from xueji.core.errors import RuleViolation
from xueji.students import numbers, services
from xueji.students.identity import check_character
from xueji.students.models import NumberSequence, StudentNumber
from xueji.students.search import search_students


def test_a_primary_number_follows_the_default_template(cast, register):
    done = register()
    services.do_assign_numbers(done.record, actor=cast.central_a_registrar)
    done.record.refresh_from_db()
    # 1 (primary) + 26 (entry year) + 28 (金乡县) + 06 (胡集镇) + 04 (school) + 0001
    assert done.record.provincial_number == "1262806040001"
    done.student.refresh_from_db()
    assert done.student.national_number == "G" + done.student.id_number


def test_numbers_continue_and_never_repeat(cast, register):
    first = register(sequence=1)
    second = register(sequence=2)
    for done in (first, second):
        services.do_assign_numbers(done.record, actor=cast.a1_registrar)
        done.record.refresh_from_db()
    assert first.record.provincial_number[-4:] == "0001"
    assert second.record.provincial_number[-4:] == "0002"


def test_a_junior_number_needs_the_schools_county_ordinal(cast, register):
    from xueji.orgs import services as org_services

    junior = org_services.do_create_school(
        actor=None,
        township=cast.township_a,
        name="胡集镇中学",
        school_code="3708280610",
        stage="junior",
        ordinal=10,
    )
    from xueji.orgs.models import Role

    registrar = org_services.do_create_user(
        actor=None,
        unit=junior,
        username="junior",
        password="long-enough-password-1",
        role=Role.SCHOOL_REGISTRAR,
        must_change_password=False,
    )
    done = register(school=junior, actor=registrar, grade="7", entry_year_month="202609")
    with pytest.raises(RuleViolation):
        services.do_assign_numbers(done.record, actor=registrar)
    org_services.do_update_school(junior, actor=None, county_ordinal=3)
    services.do_assign_numbers(done.record, actor=registrar)
    done.record.refresh_from_db()
    assert done.record.provincial_number == "22628030001"


def test_an_unconfirmed_identity_gets_an_l_number_and_later_its_g_number(cast, register):
    done = register()
    services.do_assign_numbers(done.record, actor=cast.a1_registrar, identity_confirmed=False)
    done.student.refresh_from_db()
    temporary = done.student.national_number
    assert temporary.startswith("L370828") and len(temporary) == 19
    services.do_assign_numbers(done.record, actor=cast.a1_registrar, identity_confirmed=True)
    done.student.refresh_from_db()
    assert done.student.national_number.startswith("G")
    # The temporary number stays searchable.
    assert StudentNumber.objects.get(value=temporary).retired_at is not None
    assert list(search_students(type(done.student).objects.all(), temporary)) == [done.student]


def test_a_student_without_a_usable_id_gets_a_j_number_with_a_check_character(cast, register):
    import datetime

    from tests.students.conftest import id_number

    done = register(
        id_type="Z", id_number="", **{"family1.id_number": id_number(datetime.date(1980, 1, 1), 5)}
    )
    services.do_assign_numbers(done.record, actor=cast.a1_registrar)
    done.student.refresh_from_db()
    value = done.student.national_number
    assert value.startswith("J37082820190315001")
    assert value[-1] == check_character(value[1:18])
    assert numbers.national_number_problem(value) is None
    assert numbers.national_number_problem("LG" + "1" * 17) is not None


def test_the_template_prefix_and_the_sequence_width_come_from_the_template():
    facts = numbers.NumberFacts(2026, "370828", 6, 4, None)
    template = "1{year:02d}{county}{township:02d}{school:02d}{seq:04d}"
    assert numbers.number_prefix(template, facts) == "126280604"
    assert numbers.template_parts(template) == ("1{year:02d}{county}{township:02d}{school:02d}", 4)
    with pytest.raises(RuleViolation):
        numbers.render_number("126280604", 10000, 4)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_parallel_workers_never_get_the_same_sequence():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL with real parallel connections")
    workers, each = 8, 25
    taken: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def work():
        try:
            barrier.wait()
            for _ in range(each):
                value = numbers.next_sequence("126280604")
                with lock:
                    taken.append(value)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(taken) == list(range(1, workers * each + 1))
    assert NumberSequence.objects.get(prefix="126280604").last == workers * each
