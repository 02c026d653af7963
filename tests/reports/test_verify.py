"""Issuing papers and checking them on the public /verify/ page."""

import pytest

from xueji.audit.models import AuditEvent
from xueji.core.errors import RuleViolation
from xueji.reports import verify
from xueji.reports.models import IssuedPaper
from xueji.reports.verify import check_paper, do_issue_paper, do_revoke_paper

FACTS = {"name": "张小明", "national_number": "G370828201501010012", "grade": "三年级"}


@pytest.fixture
def live(monkeypatch):
    """The live facts of the test kind, by target id; a test changes them at will."""
    facts: dict[str, dict] = {}
    monkeypatch.setattr(verify, "_SOURCES", {})
    verify.register_facts(
        IssuedPaper.Kind.CERTIFICATE,
        lambda target_id: facts.get(target_id),
        labels={"name": "姓名", "grade": "年级"},
    )
    return facts


@pytest.fixture
def paper(cast, live):
    live[str(cast.school_a1.pk)] = dict(FACTS)
    return do_issue_paper(
        IssuedPaper.Kind.CERTIFICATE, cast.school_a1, FACTS, actor=cast.a1_registrar
    )


def page(client, paper):
    return client.get(f"/verify/{paper.code}/")


def test_an_anonymous_visitor_sees_valid_and_no_personal_data(client, paper):
    response = page(client, paper)
    content = response.content.decode()
    assert response.status_code == 200
    assert 'data-state="valid"' in content
    assert "胡集镇第三小学" in content  # the issuing unit
    assert paper.display_code in content
    assert "张小明" not in content
    assert "G370828201501010012" not in content
    assert "style=" not in content and "<script>" not in content


def test_after_the_live_facts_change_the_page_says_changed(client, cast, live, paper):
    live[str(cast.school_a1.pk)]["grade"] = "四年级"
    content = page(client, paper).content.decode()
    assert 'data-state="changed"' in content
    assert "四年级" not in content and "张小明" not in content
    assert check_paper(paper.code).differences == {"grade": ["三年级", "四年级"]}


def test_a_paper_whose_target_is_gone_says_changed(cast, live, paper):
    live.clear()
    assert check_paper(paper.code).state == "changed"


def test_a_bureau_user_sees_the_facts_and_what_changed(client_for, cast, live, paper):
    live[str(cast.school_a1.pk)]["grade"] = "四年级"
    content = page(client_for(cast.bureau_registrar), paper).content.decode()
    assert 'data-state="changed"' in content
    assert "张小明" in content and "G370828201501010012" in content
    assert "姓名" in content and "三年级" in content and "四年级" in content


def test_the_central_school_of_the_unit_sees_the_facts(client_for, cast, paper):
    content = page(client_for(cast.central_a_registrar), paper).content.decode()
    assert 'data-state="valid"' in content and "张小明" in content


def test_a_school_outside_the_units_scope_sees_only_the_verdict(client_for, cast, paper):
    content = page(client_for(cast.b1_registrar), paper).content.decode()
    assert 'data-state="valid"' in content
    assert "张小明" not in content and "G370828201501010012" not in content


def test_an_unknown_code_says_unknown(client, cast, live):
    response = client.get("/verify/ABCD2345EF/")
    assert response.status_code == 404
    assert 'data-state="unknown"' in response.content.decode()
    assert check_paper("not a code").state == "unknown"


def test_a_code_typed_by_hand_finds_the_paper(client, paper):
    typed = paper.display_code.lower().replace("-", " - ")
    response = client.get("/verify/", {"code": typed})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/verify/{paper.code}/"
    assert client.get("/verify/").status_code == 200


def test_a_revoked_paper_says_revoked(client, cast, paper):
    do_revoke_paper(paper, actor=cast.a1_registrar)
    assert 'data-state="revoked"' in page(client, paper).content.decode()
    with pytest.raises(RuleViolation):
        do_revoke_paper(paper, actor=cast.a1_registrar)


def test_issuing_writes_a_paper_issued_audit_event_without_the_facts(cast, paper):
    event = AuditEvent.objects.get(action="paper.issued")
    assert event.actor == cast.a1_registrar
    assert event.unit == cast.school_a1
    assert event.data["code"] == paper.code
    assert event.data["kind"] == "certificate"
    assert "张小明" not in str(event.data)
    assert len(paper.code) == 10 and not set(paper.code) & set("01OI")
    assert paper.content_hash == verify.content_hash(FACTS)


def test_a_paper_for_a_unit_outside_the_scope_is_refused(cast, live):
    with pytest.raises(RuleViolation):
        do_issue_paper(
            IssuedPaper.Kind.CERTIFICATE,
            cast.school_b1,
            FACTS,
            actor=cast.a1_registrar,
            unit=cast.school_b1,
        )
    assert not IssuedPaper.objects.exists()


def test_a_kind_nobody_can_check_cannot_be_issued(cast, live):
    with pytest.raises(RuleViolation):
        do_issue_paper(IssuedPaper.Kind.ROSTER, cast.school_a1, FACTS, actor=cast.a1_registrar)
