"""The shared cast every test uses to prove scoping.

A small county: the bureau; township A (胡集镇) with its central school A, the rural
primary school A1 (no printer) and the county-direct school C; township B (羊山镇) with
its central school B and the rural primary school B1. Each school unit has a registrar;
A1 has a leader too; the bureau has its registrar and its leader.
"""

from dataclasses import dataclass

import pytest

CAST_PASSWORD = "cast-password-2026"


@dataclass
class Cast:
    county: object
    bureau: object
    township_a: object
    township_b: object
    central_a: object
    central_b: object
    school_a1: object
    school_b1: object
    school_c: object
    bureau_registrar: object
    bureau_leader: object
    central_a_registrar: object
    central_b_registrar: object
    a1_registrar: object
    a1_leader: object
    b1_registrar: object
    c_registrar: object


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    # Argon2 is the production hasher (tests/orgs/test_login.py proves it); tests that
    # create many users use a fast one so the suite stays quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_cast():
    from xueji.orgs import services
    from xueji.orgs.models import Role, Stage

    county, bureau = services.do_create_county(
        actor=None, division_code="370828", name="金乡县", bureau_name="金乡县教育局"
    )
    township_a = services.do_create_township(
        actor=None, bureau=bureau, name="胡集镇", division_code="370828102", ordinal=6
    )
    township_b = services.do_create_township(
        actor=None, bureau=bureau, name="羊山镇", division_code="370828101", ordinal=5
    )

    def school(township, name, code, **facts):
        facts.setdefault("stage", Stage.PRIMARY)
        return services.do_create_school(
            actor=None, township=township, name=name, school_code=code, **facts
        )

    central_a = school(township_a, "胡集镇中心小学", "3708280601", is_central=True, ordinal=1)
    school_a1 = school(township_a, "胡集镇第三小学", "3708280604", has_printer=False, ordinal=4)
    school_c = school(township_a, "金乡县实验小学", "3708280620", county_direct=True, ordinal=20)
    central_b = school(township_b, "羊山镇中心小学", "3708280501", is_central=True, ordinal=1)
    school_b1 = school(township_b, "羊山镇第一小学", "3708280502", ordinal=2)

    def user(unit, username, role, designated=True):
        return services.do_create_user(
            actor=None,
            unit=unit,
            username=username,
            password=CAST_PASSWORD,
            role=role,
            full_name=username,
            designated=designated,
            must_change_password=False,
        )

    return Cast(
        county=county,
        bureau=bureau,
        township_a=township_a,
        township_b=township_b,
        central_a=central_a,
        central_b=central_b,
        school_a1=school_a1,
        school_b1=school_b1,
        school_c=school_c,
        bureau_registrar=user(bureau, "bureau", Role.BUREAU_REGISTRAR),
        bureau_leader=user(bureau, "bureau-leader", Role.BUREAU_LEADER, designated=False),
        central_a_registrar=user(central_a, "central-a", Role.CENTRAL_REGISTRAR),
        central_b_registrar=user(central_b, "central-b", Role.CENTRAL_REGISTRAR),
        a1_registrar=user(school_a1, "a1", Role.SCHOOL_REGISTRAR),
        a1_leader=user(school_a1, "a1-leader", Role.SCHOOL_LEADER, designated=False),
        b1_registrar=user(school_b1, "b1", Role.SCHOOL_REGISTRAR),
        c_registrar=user(school_c, "c", Role.SCHOOL_REGISTRAR),
    )


@pytest.fixture
def cast(db) -> Cast:
    return make_cast()


@pytest.fixture
def client_for(client):
    """Log a cast member in: `client_for(cast.a1_registrar)` returns a logged-in client."""

    def login(user):
        client.force_login(user)
        return client

    return login
