"""DOMAIN.md: the provincial number layout is a configured template the bureau keeps."""

import pytest

from xueji.audit.models import AuditEvent
from xueji.core.errors import RuleViolation
from xueji.students import numbers, services


def test_the_bureau_changes_the_rule_and_new_numbers_follow_it(cast, register, client_for):
    client = client_for(cast.bureau_registrar)
    page = client.get("/setup/numbers/")
    assert page.status_code == 200 and "1262806040001" in page.text
    response = client.post(
        "/setup/numbers/",
        {
            "primary_number_template": "{year:02d}{county}{township:02d}{school:02d}{seq:05d}",
            "junior_number_template": cast.county.junior_number_template,
        },
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="county.number_templates_set").exists()
    done = register()
    services.do_assign_numbers(done.record, actor=cast.a1_registrar)
    done.record.refresh_from_db()
    assert done.record.provincial_number == "26280604" + "00001"


@pytest.mark.parametrize(
    "template",
    [
        "{year:02d}{county}",
        "{year:02d}{nothing}{seq:04d}",
        "X{year:02d}{county}{seq:04d}",
        "{seq:02d}",
    ],
)
def test_a_template_that_cannot_make_numbers_is_refused(cast, template):
    assert numbers.template_problem(template) is not None
    with pytest.raises(RuleViolation) as refused:
        services.do_set_number_templates(
            cast.county, actor=cast.bureau_registrar, primary=template, junior=template
        )
    assert refused.value.field == "primary_number_template"


def test_only_the_bureau_registrar_opens_the_number_rule(cast, client_for):
    for user in (cast.a1_registrar, cast.central_a_registrar, cast.bureau_leader):
        assert client_for(user).get("/setup/numbers/").status_code == 403


def test_the_rule_is_read_and_set_through_the_api(cast, client_for):
    client = client_for(cast.bureau_registrar)
    current = client.get("/api/v1/number-templates").json()
    assert current["primary_number_template"].endswith("{seq:04d}")
    bad = client.put(
        "/api/v1/number-templates",
        {**current, "junior_number_template": "{county}"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and bad.json()["field"] == "junior_number_template"
    assert client_for(cast.a1_registrar).get("/api/v1/number-templates").status_code == 403
