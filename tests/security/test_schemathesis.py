"""Issue 8, hostile input: schemathesis against the OpenAPI document finds no server error
(P1).

Every operation of /api/v1/openapi.json is called with requests schemathesis generates
from the document itself, both valid ones and ones that break the schema (wrong types,
missing fields, strings where numbers belong), in process through Django's WSGI
application, authenticated as the bureau's registrar with an API token, over the shared
cast with a school year, students, a change request and an open session, so ids can hit.
Any answer of 500 or more fails the test with the request that caused it and the server's
exception. Each call is rolled back afterwards, so no call changes what the next one finds
(a revoked token would silence the rest).

A bounded number of examples per operation keeps the run to a few minutes; it is marked
`fuzz`, so CI runs it once (on SQLite). New operations are covered the day they appear in
the document.
"""

import logging
import traceback

import pytest
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, settings

from tests.changes.helpers import DAY
from xueji.api.services import do_create_api_token
from xueji.changes import services as change_services
from xueji.changes.models import Kind

POSITIVE_EXAMPLES = 12
NEGATIVE_EXAMPLES = 6


@pytest.fixture
def wsgi_app():
    """Django's real WSGI application, answering in this test's transaction.

    Django closes the connection at the start and end of each request; inside a test
    transaction that would end the test's transaction too. The test client does exactly
    what is done here: it keeps Django's own receiver off for the duration."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def quiet_request_log():
    """Thousands of 4xx answers are expected; only the 5xx below matter."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


@pytest.fixture
def server_errors():
    """The exceptions behind any 500, collected from Django's own signal."""
    caught: list[str] = []

    def collect(sender, request=None, **kwargs):
        caught.append(traceback.format_exc())

    signals.got_request_exception.connect(collect)
    yield caught
    signals.got_request_exception.disconnect(collect)


@pytest.fixture
def county(cast, register):
    """Something behind the ids: two students, a change request, an open session."""
    first = register(sequence=1)
    register(sequence=2, name="李小红", sex="2")
    change_services.do_create_request(
        first.record,
        Kind.TRANSFER,
        actor=cast.a1_registrar,
        reason="moved",
        effective_date=DAY,
        to_school=cast.school_b1,
    )
    change_services.do_open_session(cast.county, actor=cast.bureau_registrar)
    return cast


@pytest.mark.fuzz
def test_no_api_operation_answers_with_a_server_error(
    county, wsgi_app, server_errors, quiet_request_log
):
    import schemathesis
    from schemathesis import GenerationMode

    _token, plain = do_create_api_token(actor=county.bureau_registrar, name="schemathesis")
    headers = {"Authorization": f"Bearer {plain}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)
    failures: list[str] = []
    unexplored: list[str] = []
    operations = 0

    def explore(operation, mode, examples: int) -> None:
        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def call(case):
            before = len(server_errors)
            savepoint = transaction.savepoint()
            try:
                response = case.call(headers=headers)
            finally:
                transaction.savepoint_rollback(savepoint)
            if response.status_code >= 500:
                cause = server_errors[before] if len(server_errors) > before else ""
                failures.append(
                    f"{operation.label} -> {response.status_code}\n"
                    f"{case.as_curl_command()}\n{cause}"
                )

        try:
            call()
        except Exception as error:  # noqa: BLE001 - an operation schemathesis cannot drive
            unexplored.append(f"{operation.label} ({mode.value}): {type(error).__name__}: {error}")

    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        explore(operation, GenerationMode.POSITIVE, POSITIVE_EXAMPLES)
        explore(operation, GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES)

    print(f"schemathesis: {operations} operations; not explored: {unexplored}")
    assert operations > 50
    failed = sorted({failure.split(" -> ")[0] for failure in failures})
    assert not failures, f"{len(failed)} operations answered 5xx: {failed}\n\n" + "\n\n".join(
        failures[:5]
    )
