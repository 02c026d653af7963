"""Units through the API: townships and schools, read in scope, written through services."""

from django.utils import translation
from django.utils.translation import gettext

from xueji.audit.models import AuditEvent
from xueji.orgs.models import Unit


def post(client, path, data=None):
    return client.post(path, data or {}, content_type="application/json")


def patch(client, path, data):
    return client.patch(path, data, content_type="application/json")


def school_payload(township, **overrides):
    payload = {
        "township_id": township.pk,
        "name": "胡集镇第五小学",
        "school_code": "3708280605",
        "stage": "primary",
        "ordinal": 5,
        "has_printer": False,
    }
    return payload | overrides


def test_creating_a_township_writes_the_audit_event_with_the_caller_as_actor(cast, client_for):
    client = client_for(cast.bureau_registrar)
    response = post(
        client,
        "/api/v1/townships",
        {"name": "鸡黍镇", "division_code": "370828103", "ordinal": 7},
    )
    assert response.status_code == 201, response.content
    township = Unit.objects.get(pk=response.json()["id"])
    assert township.kind == Unit.Kind.TOWNSHIP
    assert township.parent == cast.bureau
    event = AuditEvent.objects.get(action="township.created", target_id=str(township.pk))
    assert event.actor == cast.bureau_registrar
    assert event.unit == cast.bureau


def test_creating_a_school_writes_the_audit_event_with_the_caller_as_actor(cast, client_for):
    response = post(
        client_for(cast.bureau_registrar), "/api/v1/schools", school_payload(cast.township_a)
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["parent_id"] == cast.township_a.pk
    assert body["has_printer"] is False
    event = AuditEvent.objects.get(action="school.created", target_id=str(body["id"]))
    assert event.actor == cast.bureau_registrar


def test_a_broken_rule_answers_400_with_the_message_and_the_field(cast, client_for):
    payload = school_payload(cast.township_a, school_code=cast.school_a1.school_code)
    response = post(client_for(cast.bureau_registrar), "/api/v1/schools", payload)
    assert response.status_code == 400
    with translation.override("zh-hans"):
        expected = gettext("School code: %(code)s is already used by %(other)s.") % {
            "code": cast.school_a1.school_code,
            "other": cast.school_a1.name,
        }
    assert response.json() == {"detail": expected, "field": "school_code"}
    assert not Unit.objects.filter(name="胡集镇第五小学").exists()


def test_a_school_outside_a_township_is_refused_on_the_township_id_field(cast, client_for):
    payload = school_payload(cast.bureau)
    response = post(client_for(cast.bureau_registrar), "/api/v1/schools", payload)
    assert response.status_code == 400
    assert response.json()["field"] == "township_id"


def test_a_school_registrar_may_not_create_a_school(cast, client_for):
    response = post(
        client_for(cast.a1_registrar), "/api/v1/schools", school_payload(cast.township_a)
    )
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="school.created", actor=cast.a1_registrar).exists()


def test_a_school_registrar_may_not_create_a_township_or_close_their_school(cast, client_for):
    client = client_for(cast.a1_registrar)
    township = {"name": "鸡黍镇", "division_code": "370828103"}
    assert post(client, "/api/v1/townships", township).status_code == 403
    assert post(client, f"/api/v1/units/{cast.school_a1.pk}/close").status_code == 403


def test_a_unit_outside_the_scope_answers_404_like_a_missing_one(cast, client_for):
    client = client_for(cast.a1_registrar)
    outside = client.get(f"/api/v1/units/{cast.school_b1.pk}")
    missing = client.get("/api/v1/units/999999")
    assert outside.status_code == 404
    assert missing.status_code == 404
    assert outside.json() == missing.json()
    assert client.get(f"/api/v1/units/{cast.school_a1.pk}").status_code == 200


def test_a_central_registrar_lists_their_rural_schools_but_not_other_townships(cast, client_for):
    response = client_for(cast.central_a_registrar).get("/api/v1/units")
    assert response.status_code == 200
    ids = {unit["id"] for unit in response.json()}
    assert cast.school_a1.pk in ids
    assert cast.central_a.pk in ids
    assert cast.school_b1.pk not in ids
    assert cast.school_c.pk not in ids  # county-direct: the bureau supervises it


def test_the_unit_list_filters(cast, client_for):
    client = client_for(cast.bureau_registrar)

    def ids(query):
        response = client.get("/api/v1/units", query)
        assert response.status_code == 200, response.content
        return {unit["id"] for unit in response.json()}

    assert ids({"kind": "township"}) == {cast.township_a.pk, cast.township_b.pk}
    assert ids({"township": cast.township_b.pk}) == {cast.central_b.pk, cast.school_b1.pk}
    assert ids({"has_printer": "false"}) == {cast.school_a1.pk}
    assert ids({"county_direct": "true"}) == {cast.school_c.pk}
    assert ids({"q": "羊山"}) == {cast.township_b.pk, cast.central_b.pk, cast.school_b1.pk}
    assert ids({"q": "3708280604"}) == {cast.school_a1.pk}
    assert ids({"kind": "school", "stage": "junior"}) == set()
    assert cast.bureau.pk in ids({"active": "true"})
    assert client.get("/api/v1/units", {"kind": "galaxy"}).status_code == 422


def test_changing_a_school_moves_it_and_is_audited(cast, client_for):
    response = patch(
        client_for(cast.bureau_registrar),
        f"/api/v1/schools/{cast.school_c.pk}",
        {"township_id": cast.township_b.pk, "phone": "0537-8888888"},
    )
    assert response.status_code == 200, response.content
    cast.school_c.refresh_from_db()
    assert cast.school_c.parent == cast.township_b
    assert cast.school_c.phone == "0537-8888888"
    event = AuditEvent.objects.get(action="school.updated", target_id=str(cast.school_c.pk))
    assert event.actor == cast.bureau_registrar
    assert event.data["changes"]["parent"] == [cast.township_a.pk, cast.township_b.pk]


def test_the_school_path_does_not_change_a_township(cast, client_for):
    client = client_for(cast.bureau_registrar)
    response = patch(client, f"/api/v1/schools/{cast.township_a.pk}", {"name": "x"})
    assert response.status_code == 404
    response = patch(client, f"/api/v1/townships/{cast.school_a1.pk}", {"name": "x"})
    assert response.status_code == 404


def test_changing_a_township_is_audited(cast, client_for):
    response = patch(
        client_for(cast.bureau_registrar),
        f"/api/v1/townships/{cast.township_b.pk}",
        {"name": "羊山镇（新）"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "羊山镇（新）"
    event = AuditEvent.objects.get(action="township.updated")
    assert event.actor == cast.bureau_registrar


def test_a_null_for_a_required_field_is_refused(cast, client_for):
    client = client_for(cast.bureau_registrar)
    response = patch(client, f"/api/v1/schools/{cast.school_a1.pk}", {"name": None})
    assert response.status_code == 422
    cast.school_a1.refresh_from_db()
    assert cast.school_a1.name == "胡集镇第三小学"


def test_closing_a_unit_with_active_users_is_refused_and_an_empty_one_closes(cast, client_for):
    client = client_for(cast.bureau_registrar)
    response = post(client, f"/api/v1/units/{cast.school_b1.pk}/close")
    assert response.status_code == 400
    assert response.json()["field"] == "is_active"

    empty = post(client, "/api/v1/schools", school_payload(cast.township_a)).json()
    closed = post(client, f"/api/v1/units/{empty['id']}/close")
    assert closed.status_code == 200
    assert closed.json()["is_active"] is False
    reopened = post(client, f"/api/v1/units/{empty['id']}/reopen")
    assert reopened.json()["is_active"] is True
    actions = list(
        AuditEvent.objects.filter(target_id=str(empty["id"]), action__startswith="unit.")
        .order_by("seq")
        .values_list("action", "actor")
    )
    registrar = cast.bureau_registrar.pk
    assert actions == [("unit.closed", registrar), ("unit.reopened", registrar)]


def test_the_caller_learns_their_unit_role_capabilities_and_scope(cast, client_for):
    body = client_for(cast.central_a_registrar).get("/api/v1/me").json()
    assert body["user"]["username"] == cast.central_a_registrar.username
    assert "password" not in body["user"]
    assert body["unit"]["id"] == cast.central_a.pk
    assert body["role"] == "central_registrar"
    assert body["scope_level"] == "township"
    assert "units.view" in body["capabilities"]
    assert "setup.manage" not in body["capabilities"]
