"""Builders for statistics tests: leaders for every school, a change walked to its end,
and the tables of a page read back from the API."""

import datetime

from tests.changes.helpers import signed, with_documents
from xueji.changes import services
from xueji.orgs import services as org_services
from xueji.orgs.models import Role
from xueji.orgs.rules import is_rural_primary


def leader_of(school):
    """The school's leader (the cast has one for A1 only)."""
    existing = school.users.filter(role=Role.SCHOOL_LEADER).first()
    if existing is not None:
        return existing
    return org_services.do_create_user(
        actor=None,
        unit=school,
        username=f"leader-{school.pk}",
        password="long-enough-password-1",
        role=Role.SCHOOL_LEADER,
        must_change_password=False,
    )


def registrar_of(school):
    return school.users.get(is_designated_registrar=True)


def central_of(cast, school):
    return {
        cast.township_a.pk: cast.central_a_registrar,
        cast.township_b.pk: cast.central_b_registrar,
    }[school.parent_id]


def approved(cast, record, kind, *, reason, effective_date, record_it=True, **extra):
    """A request created, documented, signed, re-reviewed where the school is rural,
    submitted and approved in the session; recorded too unless `record_it` is false."""
    school = record.school
    registrar = registrar_of(school)
    request = services.do_create_request(
        record, kind, actor=registrar, reason=reason, effective_date=effective_date, **extra
    )
    request = with_documents(request, registrar)
    rural = is_rural_primary(school)
    central = central_of(cast, school) if rural else None
    # A rural school without a printer has its central school print the report (C3, E1).
    printer = central if central is not None and not school.has_printer else registrar
    request = signed(request, registrar, leader_of(school), printer=printer)
    if rural:
        request = services.do_central_review(request, actor=central, approve=True)
    if request.to_school is not None:
        services.do_confirm_receiving(
            request, actor=registrar_of(request.to_school), to_grade=1, to_class="1"
        )
    request = services.do_submit(request, actor=registrar)
    services.do_open_session(cast.county, actor=cast.bureau_registrar)
    request = services.do_decide(request, actor=cast.bureau_registrar, approve=True)
    if record_it:
        receiving = request.to_school or school
        request = services.do_record(request, actor=registrar_of(receiving))
    return request


def tables_of(client, path: str, **params) -> dict:
    """The API's tables of a page, by key."""
    response = client.get(path, params)
    assert response.status_code == 200, response.content
    return {table["key"]: table for table in response.json()["tables"]}


def column(table: dict, header: str) -> int:
    return table["headers"].index(header)


DAY = datetime.date(2026, 11, 30)
