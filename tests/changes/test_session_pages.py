"""C6, C7, P4: the bureau's approval session page, past sessions, and the dashboard card."""

import datetime

import pytest

from xueji.audit.models import AuditEvent
from xueji.changes import services
from xueji.changes.models import ApprovalSession, ChangeRequest, Kind, State
from xueji.orgs import services as org_services
from xueji.orgs.models import Role

from .helpers import DAY, signed, with_documents

PROXY = {
    "name": "张建国",
    "id_number": "370828198001011235",
    "relation": "父亲",
    "call_note": "已电话联系教育局学籍科王老师",
}


@pytest.fixture
def c_leader(cast):
    return org_services.do_create_user(
        actor=None,
        unit=cast.school_c,
        username="c-leader",
        password="long-enough-password-1",
        role=Role.SCHOOL_LEADER,
        must_change_password=False,
    )


@pytest.fixture
def submit(cast, register, c_leader):
    """submit(name, proxy=None): a county-direct school's dropout, submitted to the bureau
    (no central review, no receiving school)."""
    sequence = iter(range(1, 50))

    def run(name: str, proxy: dict | None = None) -> ChangeRequest:
        done = register(
            school=cast.school_c, actor=cast.c_registrar, sequence=next(sequence), name=name
        )
        request = services.do_create_request(
            done.record, Kind.DROPOUT, actor=cast.c_registrar, reason="dropout", effective_date=DAY
        )
        request = with_documents(request, cast.c_registrar)
        request = signed(request, cast.c_registrar, c_leader)
        return services.do_submit(request, actor=cast.c_registrar, proxy=proxy)

    return run


@pytest.fixture
def english(client_for):
    def login(user):
        client = client_for(user)
        client.cookies["django_language"] = "en"
        return client

    return login


def decide(client, request, decision: str, reason: str = ""):
    return client.post(
        f"/approvals/requests/{request.pk}/decide/",
        {"decision": decision, "reason": reason},
        follow=True,
    )


def state_of(request) -> str:
    request.refresh_from_db()
    return request.state


def test_the_bureau_opens_the_session_and_decides_each_request_from_the_page(cast, submit, english):
    first, second = submit("王小红"), submit("李小刚")
    client = english(cast.bureau_registrar)
    page = client.get("/approvals/").content.decode()
    assert "王小红" in page and "李小刚" in page and cast.school_c.name in page
    assert "Open the session" in page

    client.post("/approvals/open/")
    assert ApprovalSession.objects.get(pk=first.session_id).is_open
    decide(client, first, "approve")
    answer = decide(client, second, "refuse", "医疗证明不全")

    assert (state_of(first), state_of(second)) == (State.APPROVED, State.REFUSED)
    page = answer.content.decode()
    assert "No request is queued for this session." in page
    decided = page.split('id="decided"')[1]
    assert "王小红" in decided and "李小刚" in decided and "医疗证明不全" in decided
    assert AuditEvent.objects.filter(action="change.refused").count() == 1


def test_the_session_page_opens_each_request_s_evidence(cast, submit, english):
    request = submit("王小红")
    page = english(cast.bureau_registrar).get("/approvals/").content.decode()
    evidence = request.evidence.get()
    assert f'href="/changes/evidence/{evidence.pk}/"' in page
    assert f'<img src="/changes/evidence/{evidence.pk}/"' in page  # the scan is a JPG


def test_approving_a_selection_approves_all_of_it(cast, submit, english):
    requests = [submit("王小红"), submit("李小刚"), submit("赵小梅")]
    client = english(cast.bureau_registrar)
    client.post("/approvals/open/")
    session = requests[0].session
    answer = client.post(
        f"/approvals/sessions/{session.pk}/approve-selected/",
        {"request": [r.pk for r in requests[:2]]},
        follow=True,
    )
    assert "2 requests approved." in answer.content.decode()
    assert [state_of(r) for r in requests] == [State.APPROVED, State.APPROVED, State.SUBMITTED]


def test_a_selection_holding_a_decided_request_approves_nothing(cast, submit, english):
    refused, waiting = submit("王小红"), submit("李小刚")
    client = english(cast.bureau_registrar)
    client.post("/approvals/open/")
    decide(client, refused, "refuse", "材料不符")
    answer = client.post(
        f"/approvals/sessions/{waiting.session_id}/approve-selected/",
        {"request": [refused.pk, waiting.pk]},
        follow=True,
    )
    assert "Nothing was approved" in answer.content.decode()
    assert (state_of(refused), state_of(waiting)) == (State.REFUSED, State.SUBMITTED)


def test_a_refusal_without_a_reason_shows_the_message_and_changes_nothing(cast, submit, english):
    request = submit("王小红")
    client = english(cast.bureau_registrar)
    client.post("/approvals/open/")
    answer = decide(client, request, "refuse", "  ")
    assert "Reason: say why the request is refused." in answer.content.decode()
    assert state_of(request) == State.SUBMITTED
    assert not AuditEvent.objects.filter(action="change.refused").exists()


def test_the_session_page_shows_a_proxy_and_the_call_with_the_bureau(cast, submit, english):
    submit("王小红", proxy=PROXY)
    page = english(cast.bureau_registrar).get("/approvals/").content.decode()
    assert "张建国" in page and "已电话联系教育局学籍科王老师" in page and "父亲" in page
    assert "370828********1235" in page
    assert PROXY["id_number"] not in page


def test_the_leader_signs_off_and_no_school_reaches_the_session(cast, submit, english):
    request = submit("王小红")
    services.do_open_session(cast.county, actor=cast.bureau_registrar)
    services.do_decide(request, actor=cast.bureau_registrar, approve=True)

    leader = english(cast.bureau_leader)
    page = leader.get("/approvals/").content.decode()
    assert "Sign off this session" in page
    assert "Approve the selected" not in page and "Close the session" not in page
    assert leader.post(f"/approvals/requests/{request.pk}/decide/").status_code == 403
    answer = leader.post(f"/approvals/sessions/{request.session_id}/sign-off/", follow=True)
    assert cast.bureau_leader.display_name in answer.content.decode()
    event = AuditEvent.objects.get(action="session.signed_off")
    assert event.actor == cast.bureau_leader

    school = english(cast.c_registrar)
    for path in ("/approvals/", "/approvals/sessions/", f"/approvals/sessions/{event.target_id}/"):
        assert school.get(path).status_code == 403
    assert school.post(f"/approvals/sessions/{event.target_id}/sign-off/").status_code == 403


def test_closing_the_session_moves_an_undecided_request_to_the_next_week(cast, submit, english):
    decided, undecided = submit("王小红"), submit("李小刚")
    first = decided.session
    client = english(cast.bureau_registrar)
    client.post("/approvals/open/")
    decide(client, decided, "approve")
    client.post(f"/approvals/sessions/{first.pk}/close/")
    undecided.refresh_from_db()
    assert undecided.session.date == first.date + datetime.timedelta(days=7)
    assert undecided.state == State.SUBMITTED

    listing = client.get("/approvals/sessions/")
    row = next(row for row in listing.context["rows"] if row["session"] == first)
    assert (row["session"].approved, row["session"].refused, row["moved"]) == (1, 0, 1)
    assert f"/approvals/sessions/{first.pk}/" in listing.content.decode()
    detail = client.get(f"/approvals/sessions/{first.pk}/")
    assert (detail.context["approved"], detail.context["refused"], detail.context["moved"]) == (
        1,
        0,
        1,
    )
    # The page now shows the next session, holding the moved request.
    page = client.get("/approvals/")
    assert page.context["session"] == undecided.session
    assert "李小刚" in page.content.decode()


def test_the_dashboard_counts_the_requests_waiting_on_the_unit(cast, submit, english):
    submit("王小红")
    # A submitted request waits on the bureau, not on the school that sent it.
    school = english(cast.c_registrar).get("/")
    assert school.context["changes"]["waiting"] == 0
    assert "/changes/?waiting=mine" in school.content.decode()

    bureau = english(cast.bureau_registrar).get("/")
    assert bureau.context["changes"]["waiting"] == 1
    assert bureau.context["changes"]["queue"] == 1
    assert 'id="waiting-changes"' in bureau.content.decode()


def test_an_overdue_request_is_counted_in_red_on_the_dashboard(cast, register, english):
    from django.utils import timezone

    done = register(school=cast.school_c, actor=cast.c_registrar)
    request = services.do_create_request(
        done.record, Kind.DROPOUT, actor=cast.c_registrar, reason="dropout", effective_date=DAY
    )
    ChangeRequest.objects.filter(pk=request.pk).update(
        waiting_since=timezone.now() - datetime.timedelta(days=30)
    )
    answer = english(cast.c_registrar).get("/")
    assert answer.context["changes"] == {"waiting": 1, "overdue": 1}
    assert '<span class="tag bad">1 overdue</span>' in answer.content.decode()
