"""Plain reads (core/reads.py, issue 9, B7): the session, its user with unit and county, and
the current school year are read by statements written once a process instead of through
the ORM. What they give must be what the ORM gives: the same instances, field by field,
with the same Python types, on SQLite and on PostgreSQL."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.equivalence import same_instance
from xueji.audit.models import AuditEvent
from xueji.core import reads, sessions
from xueji.core.lockout import LockoutBackend
from xueji.core.models import SchoolYear
from xueji.core.services import do_save_school_year
from xueji.orgs import services as org_services
from xueji.orgs.models import County, Unit, User

pytestmark = pytest.mark.django_db


def _every(model) -> list:
    table = connection.ops.quote_name(model._meta.db_table)
    rows = reads.read(
        f"SELECT {reads.columns(model, 't')} FROM {table} t ORDER BY t.id", [], [model]
    )
    return [row[0] for row in rows]


@pytest.mark.parametrize("model", [User, Unit, County, AuditEvent, SchoolYear])
def test_a_read_gives_the_orms_instances_field_by_field(cast, model):
    """Dates, times with their zone, booleans, JSON, nullable keys: as the ORM converts them."""
    do_save_school_year(
        actor=cast.bureau_registrar,
        county=cast.county,
        start_year=2026,
        autumn_start=datetime.date(2026, 9, 1),
        spring_start=datetime.date(2027, 2, 20),
        entry_age_cutoff=datetime.date(2026, 8, 31),
        entry_age=6,
        approval_weekday=2,
        review_days=14,
        junior_numbers_days=7,
        change_report_days=21,
        step_limit_working_days=10,
    )
    User.objects.filter(pk=cast.a1_registrar.pk).update(last_login=timezone.now())
    expected = list(model.objects.order_by("pk"))
    assert expected
    read = _every(model)
    assert len(read) == len(expected)
    for ours, theirs in zip(read, expected, strict=True):
        same_instance(ours, theirs)


def test_the_session_user_comes_with_unit_and_county_in_one_query(cast):
    backend = LockoutBackend()
    for user in User.objects.filter(unit__isnull=False):
        orm = User.objects.select_related("unit__county").get(pk=user.pk)
        with CaptureQueriesContext(connection) as asked:
            read = backend.get_user(user.pk)
            assert read is not None
            county = read.unit.county
        assert len(asked) == 1
        same_instance(read, orm)
        same_instance(read.unit, orm.unit)
        same_instance(county, orm.unit.county)


def test_a_user_without_unit_is_read_without_one(cast):
    admin = User.objects.create_superuser("operator", password="x" * 12)
    with CaptureQueriesContext(connection) as asked:
        read = LockoutBackend().get_user(admin.pk)
        assert read is not None and read.unit is None
    assert len(asked) == 1


def test_an_unknown_or_deactivated_user_is_nobody(cast):
    backend = LockoutBackend()
    assert backend.get_user(10**9) is None
    assert backend.get_user("not a number") is None
    org_services.do_update_user(cast.a1_leader, actor=cast.bureau_registrar, is_active=False)
    assert backend.get_user(cast.a1_leader.pk) is None


def test_a_session_is_read_until_it_expires(cast, client_for):
    client = client_for(cast.a1_registrar)
    key = client.cookies["sessionid"].value
    store = sessions.SessionStore(key)
    assert store.load()["_auth_user_id"] == str(cast.a1_registrar.pk)
    assert store.session_key == key
    # The ORM's Session equals the read one.
    same_instance(sessions.SessionStore(key)._get_session_from_db(), Session.objects.get(pk=key))
    assert client.get("/students/").status_code == 200

    Session.objects.filter(pk=key).update(expire_date=timezone.now() - datetime.timedelta(1))
    expired = sessions.SessionStore(key)
    assert expired.load() == {}
    assert expired.session_key is None  # as Django's store: a new key when it saves
    answer = client.get("/students/")
    assert answer.status_code == 302 and "/login/" in answer["Location"]


def test_an_unknown_session_key_is_an_anonymous_visitor(cast, client):
    client.cookies["sessionid"] = "x" * 32
    answer = client.get("/students/")
    assert answer.status_code == 302 and "/login/" in answer["Location"]
    assert isinstance(answer.wsgi_request.user, AnonymousUser)


def test_postgresql_keeps_the_reads_prepared_on_its_connection(cast):
    """On PostgreSQL a read binds on the server and is prepared from its second use
    (settings: prepare_threshold), so the server parses and plans it once a connection."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no prepared statements to keep")
    backend = LockoutBackend()
    for _ in range(3):
        assert backend.get_user(cast.a1_registrar.pk) is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        kept = [row[0] for row in cursor.fetchall()]
    assert any('FROM "orgs_user" u' in statement for statement in kept), kept
