"""The student pages (B1, N5, N10, N11): the scoped list and its one search box, the
student page with masked values and audited reveal, data entry, the lock on edits."""

import datetime

import pytest

from tests.students.conftest import id_number, raw_student
from xueji.audit.models import AuditEvent
from xueji.students import codes, form_items
from xueji.students.models import Status, Student, StudentRecord
from xueji.students.services import do_lock_record

BIRTH = datetime.date(2019, 3, 15)


def form_data(**overrides) -> dict:
    """A raw student as the form posts it: field names with "__", codes for choices."""
    data = {}
    for key, value in raw_student(**overrides).items():
        item = form_items.BY_KEY[key]
        if item.kind in (form_items.CODE, form_items.YES_NO):
            value = codes.to_code(item.table, value)
        data[key.replace(".", "__")] = value
    return data


def english(client):
    """Pages in English, so the tests read the messages as their msgids."""
    client.cookies["django_language"] = "en"
    return client


def edit_data(client, student) -> dict:
    """What the browser posts for the edit form unchanged: every field it does not disable."""
    form = client.get(f"/students/{student.pk}/edit/").context["form"]
    return {
        name: form[name].value() or "" for name, field in form.fields.items() if not field.disabled
    }


# --- The list and its search ----------------------------------------------------------


def test_the_list_shows_a1s_students_to_a1_and_not_b1s(cast, client_for, register):
    register()
    register(school=cast.school_b1, actor=cast.b1_registrar, name="王小红", sequence=2)

    page = client_for(cast.a1_registrar).get("/students/")

    assert page.status_code == 200
    assert "张小明" in page.text
    assert "王小红" not in page.text


def test_the_bureau_sees_every_school_and_may_filter_by_one(cast, client_for, register):
    register()
    register(school=cast.school_b1, actor=cast.b1_registrar, name="王小红", sequence=2)
    client = client_for(cast.bureau_registrar)

    assert "王小红" in client.get("/students/").text
    only_a1 = client.get("/students/", {"school": cast.school_a1.pk}).text
    assert "张小明" in only_a1 and "王小红" not in only_a1


@pytest.mark.parametrize("query", ["张小", "zhangxiao", "zxm", "ID", "PROVINCIAL"])
def test_the_search_box_finds_the_student(cast, client_for, register, query):
    done = register(provincial_number="3708282600001")
    register(name="李四", sequence=2)
    query = {"ID": done.student.id_number, "PROVINCIAL": "3708282600001"}.get(query, query)

    page = client_for(cast.a1_registrar).get("/students/", {"q": query})

    assert "张小明" in page.text
    assert "李四" not in page.text


def test_the_search_answers_htmx_with_the_table_only(cast, client_for, register):
    register()

    page = client_for(cast.a1_registrar).get(
        "/students/", {"q": "zxm"}, headers={"HX-Request": "true"}
    )

    assert "张小明" in page.text
    assert "<html" not in page.text
    assert 'class="table-wrap"' in page.text


def test_the_search_box_asks_htmx_while_typing(cast, client_for):
    page = client_for(cast.a1_registrar).get("/students/")

    assert 'hx-get="/students/"' in page.text
    assert 'hx-trigger="input changed delay:300ms, search"' in page.text


def test_a_locked_record_and_a_held_registration_are_tagged(cast, client_for, register):
    done = register()
    do_lock_record(done.record, actor=cast.bureau_registrar)
    register(
        school=cast.school_c,
        actor=cast.c_registrar,
        id_type="Z",
        id_number="",
        **{"family1.id_number": id_number(datetime.date(1980, 1, 1), 5)},
    )

    page = english(client_for(cast.bureau_registrar)).get("/students/")

    assert "locked" in page.text
    assert page.text.count("possible double registration") == 2


# --- Masking and reveal --------------------------------------------------------------------


def test_the_id_number_is_masked_in_the_list_and_on_the_student_page(cast, client_for, register):
    done = register()
    number = done.student.id_number
    client = client_for(cast.a1_registrar)

    for path in ("/students/", f"/students/{done.student.pk}/"):
        page = client.get(path)
        assert page.status_code == 200
        assert number not in page.text
        assert number[:6] + "********" + number[-4:] in page.text


def test_addresses_are_masked_on_the_student_page(cast, client_for, register):
    done = register()

    page = client_for(cast.a1_registrar).get(f"/students/{done.student.pk}/")

    assert "金乡县胡集镇张庄村" not in page.text


def test_revealing_the_id_number_shows_it_and_is_audited(cast, client_for, register):
    done = register()

    page = client_for(cast.a1_registrar).post(
        f"/students/{done.student.pk}/reveal/", {"what": "id_number"}
    )

    assert page.status_code == 200
    assert done.student.id_number in page.text
    assert "no-store" in page["Cache-Control"]
    event = AuditEvent.objects.get(action="student.revealed")
    assert event.actor == cast.a1_registrar
    assert event.target_id == str(done.student.pk)
    assert event.data == {"what": "id_number"}


def test_revealing_addresses_with_htmx_answers_out_of_band_cells(cast, client_for, register):
    done = register()

    page = client_for(cast.a1_registrar).post(
        f"/students/{done.student.pk}/reveal/",
        {"what": "address"},
        headers={"HX-Request": "true"},
    )

    assert 'id="reveal-current_address" class="reveal" hx-swap-oob="true"' in page.text
    assert "金乡县胡集镇张庄村" in page.text
    assert "<html" not in page.text
    assert AuditEvent.objects.filter(action="student.revealed").count() == 1


def test_a_leader_sees_the_page_but_no_reveal_button_and_may_not_reveal(cast, client_for, register):
    done = register()
    client = client_for(cast.a1_leader)

    page = client.get(f"/students/{done.student.pk}/")
    assert page.status_code == 200
    assert "/reveal/" not in page.text
    assert (
        client.post(f"/students/{done.student.pk}/reveal/", {"what": "id_number"}).status_code
        == 403
    )
    assert not AuditEvent.objects.filter(action="student.revealed").exists()


def test_a1_gets_404_for_b1s_student_page_photo_and_reveal(cast, client_for, register):
    other = register(school=cast.school_b1, actor=cast.b1_registrar).student
    client = client_for(cast.a1_registrar)

    assert client.get(f"/students/{other.pk}/").status_code == 404
    assert client.get(f"/students/{other.pk}/photo/").status_code == 404
    assert client.get(f"/students/{other.pk}/edit/").status_code == 404
    assert client.post(f"/students/{other.pk}/reveal/", {"what": "id_number"}).status_code == 404
    assert not AuditEvent.objects.filter(action="student.revealed").exists()


def test_reveal_is_post_only(cast, client_for, register):
    done = register()

    assert (
        client_for(cast.a1_registrar).get(f"/students/{done.student.pk}/reveal/").status_code == 405
    )


# --- The student page -------------------------------------------------------------------------


def test_the_student_page_shows_every_item_and_the_timeline(cast, client_for, register):
    done = register(provincial_number="3708282600001")
    do_lock_record(done.record, actor=cast.bureau_registrar)

    page = english(client_for(cast.a1_registrar)).get(f"/students/{done.student.pk}/")

    assert page.status_code == 200
    for item in form_items.ITEMS:
        if item.kind != form_items.PHOTO:
            assert str(item.label) in page.text, item.key
    assert "汉族" in page.text and "父亲" in page.text  # code names, not codes
    assert "3708282600001" in page.text
    assert "Registered" in page.text and "Record submitted and locked" in page.text
    assert "Grade and class per school year" in page.text


def test_the_bureau_returns_a_locked_record_with_a_reason(cast, client_for, register):
    done = register()
    do_lock_record(done.record, actor=cast.bureau_registrar)
    client = client_for(cast.bureau_registrar)
    assert (
        f'action="/students/{done.student.pk}/return/"'
        in client.get(f"/students/{done.student.pk}/").text
    )

    refused = client.post(f"/students/{done.student.pk}/return/", {"reason": ""})
    assert refused.status_code == 400
    done.record.refresh_from_db()
    assert done.record.is_locked

    response = client.post(f"/students/{done.student.pk}/return/", {"reason": "姓名与户口本不符"})
    assert response.status_code == 302
    done.record.refresh_from_db()
    assert not done.record.is_locked
    event = AuditEvent.objects.get(action="record.reopened")
    assert event.actor == cast.bureau_registrar and event.data["reason"] == "姓名与户口本不符"


def test_the_school_cannot_return_its_own_locked_record(cast, client_for, register):
    done = register()
    do_lock_record(done.record, actor=cast.bureau_registrar)
    client = client_for(cast.a1_registrar)

    assert "/return/" not in client.get(f"/students/{done.student.pk}/").text
    response = client.post(f"/students/{done.student.pk}/return/", {"reason": "想改"})
    assert response.status_code == 403
    done.record.refresh_from_db()
    assert done.record.is_locked


# --- Data entry -------------------------------------------------------------------------------


def test_the_new_student_form_registers_a_pupil_pending_intake(cast, client_for, school_year):
    response = client_for(cast.a1_registrar).post("/students/new/", form_data())

    student = Student.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/students/{student.pk}/"
    record = StudentRecord.objects.get(student=student)
    assert record.status == Status.PENDING
    assert record.school == cast.school_a1
    assert record.created_by == cast.a1_registrar and student.created_by == cast.a1_registrar
    assert [m.name for m in student.family.all()] == ["张建国", "李秀英"]
    assert record.placements.get().school_year == school_year


def test_the_bureau_chooses_the_school(cast, client_for, school_year):
    client = client_for(cast.bureau_registrar)
    assert 'name="school"' in client.get("/students/new/").text

    client.post("/students/new/", form_data() | {"school": cast.school_b1.pk})

    assert StudentRecord.objects.get().school == cast.school_b1


def test_a_school_registrar_has_no_school_choice(cast, client_for, school_year):
    page = client_for(cast.a1_registrar).get("/students/new/")

    assert 'name="school"' not in page.text
    assert "胡集镇第三小学" in page.text


def test_the_form_puts_the_id_number_right_after_name_and_sex(cast, client_for, school_year):
    page = client_for(cast.a1_registrar).get("/students/new/").text

    name, sex, number, birth = (
        page.index(f'name="{field}"') for field in ("name", "sex", "id_number", "birth_date")
    )
    assert name < sex < number < birth
    assert 'name="photo"' not in page


def test_a_bad_id_number_shows_the_error_on_its_field_and_writes_nothing(
    cast, client_for, school_year
):
    number = id_number(BIRTH, 1)
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")

    response = english(client_for(cast.a1_registrar)).post(
        "/students/new/", form_data(id_number=wrong)
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "id_number" in errors
    assert "check character" in errors["id_number"][0]
    assert not Student.objects.exists()
    assert not AuditEvent.objects.filter(action="student.registered").exists()


def test_a_missing_required_item_is_named_on_its_field(cast, client_for, school_year):
    response = client_for(cast.a1_registrar).post("/students/new/", form_data(native_place=""))

    assert "native_place" in response.context["form"].errors
    assert not Student.objects.exists()


def test_a_second_registration_names_the_school_on_the_id_field(cast, client_for, register):
    register()

    response = client_for(cast.b1_registrar).post("/students/new/", form_data())

    assert "胡集镇第三小学" in response.context["form"].errors["id_number"][0]
    assert Student.objects.count() == 1


def test_the_leader_may_not_register(cast, client_for, school_year):
    assert client_for(cast.bureau_leader).get("/students/new/").status_code == 403
    assert client_for(cast.a1_leader).get("/students/new/").status_code == 403


def test_the_id_check_fills_birth_date_and_sex_out_of_band(cast, client_for, school_year):
    number = id_number(datetime.date(2019, 5, 6), 3, sex="2")

    page = client_for(cast.a1_registrar).post(
        "/students/id-check/", {"id_number": number, "id_type": "1"}, headers={"HX-Request": "true"}
    )

    assert page.status_code == 200
    assert 'id="field-birth_date" class="field" hx-swap-oob="true"' in page.text
    assert 'value="2019-05-06"' in page.text
    assert '<option value="2" selected>' in page.text


def test_the_id_check_reports_a_wrong_check_character(cast, client_for, school_year):
    number = id_number(BIRTH, 1)
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")

    page = english(client_for(cast.a1_registrar)).post("/students/id-check/", {"id_number": wrong})

    assert "check character" in page.text
    assert "hx-swap-oob" not in page.text


# --- Editing and the lock (N5) ----------------------------------------------------------------


def test_editing_an_open_record_changes_the_name_and_its_pinyin(cast, client_for, register):
    done = register()
    client = client_for(cast.a1_registrar)

    data = edit_data(client, done.student) | {"name": "张晓明", "name_pinyin": ""}
    response = client.post(f"/students/{done.student.pk}/edit/", data)

    assert response.status_code == 302
    done.student.refresh_from_db()
    assert done.student.name == "张晓明" and done.student.initials_key == "zxm"
    assert AuditEvent.objects.filter(action="student.updated").count() == 1


def test_editing_a_locked_records_name_is_refused_on_the_field(cast, client_for, register):
    done = register()
    do_lock_record(done.record, actor=cast.bureau_registrar)
    client = english(client_for(cast.a1_registrar))
    data = edit_data(client, done.student)
    assert "name" not in data  # the locked field is disabled

    response = client.post(f"/students/{done.student.pk}/edit/", data | {"name": "李小明"})

    assert response.status_code == 200
    assert "locked" in response.context["form"].errors["name"][0]
    done.student.refresh_from_db()
    assert done.student.name == "张小明"
    assert not AuditEvent.objects.filter(action="student.updated").exists()


def test_editing_a_locked_record_still_changes_the_phone(cast, client_for, register):
    done = register()
    do_lock_record(done.record, actor=cast.bureau_registrar)
    client = client_for(cast.a1_registrar)

    data = edit_data(client, done.student) | {"phone": "13953700000"}
    response = client.post(f"/students/{done.student.pk}/edit/", data)

    assert response.status_code == 302
    done.student.refresh_from_db()
    assert done.student.phone == "13953700000" and done.student.name == "张小明"


def test_a_locked_family_members_name_is_refused_on_that_members_field(cast, client_for, register):
    done = register()
    do_lock_record(done.record, actor=cast.bureau_registrar)
    client = client_for(cast.a1_registrar)

    data = edit_data(client, done.student) | {"family2__name": "王秀英"}
    response = client.post(f"/students/{done.student.pk}/edit/", data)

    assert "family2__name" in response.context["form"].errors
    assert done.student.family.get(position=2).name == "李秀英"


def test_an_unchanged_edit_writes_nothing(cast, client_for, register):
    done = register()
    client = client_for(cast.a1_registrar)

    response = client.post(f"/students/{done.student.pk}/edit/", edit_data(client, done.student))

    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="student.updated").exists()


def test_another_schools_registrar_and_the_central_school_may_not_edit(cast, client_for, register):
    done = register()

    assert (
        client_for(cast.central_a_registrar).get(f"/students/{done.student.pk}/").status_code == 200
    )
    assert (
        client_for(cast.central_a_registrar).get(f"/students/{done.student.pk}/edit/").status_code
        == 403
    )


def test_the_cards_cells_escape_every_value_and_offer_one_show_button_per_kind():
    """The card's cells are written in Python (views._card_markup), not by the template's
    autoescaping: labels, values, ids and the button's `what` are escaped all the same,
    and the "Show" form appears only where the user may reveal (B1, N5)."""
    from xueji.students.views import _card_markup

    sections = [
        (
            "基本信息",
            [
                {
                    "label": "姓名<b>",
                    "value": '张"三"&<i>',
                    "dom_id": "reveal-name",
                    "masked": False,
                },
                {"label": "曾用名", "value": "", "dom_id": "reveal-former", "masked": False},
                {
                    "label": "身份证件号",
                    "value": "370828********1234",
                    "dom_id": "reveal-id_number",
                    "masked": True,
                    "what": 'id_number"><x',
                },
            ],
        )
    ]
    from xueji.students.views import WHAT

    form = f'<form data-what="{WHAT}"></form>'
    [(title, cells)] = _card_markup(sections, reveal_form=form)
    assert title == "基本信息"
    assert "<dt>姓名&lt;b&gt;</dt><dd>张&quot;三&quot;&amp;&lt;i&gt;</dd>" in cells
    assert "<dt>曾用名</dt><dd>—</dd>" in cells
    assert '<div id="reveal-id_number" class="reveal"><code class="id">370828' in cells
    assert '<form data-what="id_number&quot;&gt;&lt;x"></form>' in cells
    [(_title, without)] = _card_markup(sections, reveal_form=None)
    assert "<form" not in without and "370828********1234" in without


def test_the_pages_show_buttons_post_what_they_reveal_with_the_csrf_token(
    cast, client_for, register
):
    """The card's "Show" forms (written by views._card_markup) post to the reveal
    address the kind of value they reveal, with the page's CSRF token: submitting them as
    a browser would reveals the ID number and the addresses (N5)."""
    import re

    from django.test import Client

    done = register()
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.a1_registrar)
    page = client.get(f"/students/{done.student.pk}/").content.decode()
    forms = re.findall(
        r'<form method="post" action="([^"]+)" hx-post="\1" hx-swap="none" class="inline">'
        r'<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)">'
        r'<input type="hidden" name="what" value="([^"]+)">',
        page,
    )
    assert {what for _action, _token, what in forms} == {"id_number", "address"}
    for action, token, what in forms:
        answer = client.post(action, {"csrfmiddlewaretoken": token, "what": what})
        assert answer.status_code == 200, what
        if what == "id_number":
            assert done.student.id_number in answer.text
    assert AuditEvent.objects.filter(action="student.revealed").count() == 2


def test_the_cards_labels_follow_the_language_page_after_page(cast, client_for, register):
    """The card's labels are kept translated per language (issue 9): a page in Chinese,
    then the same page in English, then Chinese again, each in its own language."""
    done = register()
    client = client_for(cast.a1_registrar)
    for language, label, other in (
        ("zh-hans", "<dt>民族</dt>", "<dt>Ethnicity</dt>"),
        ("en", "<dt>Ethnicity</dt>", "<dt>民族</dt>"),
        ("zh-hans", "<dt>民族</dt>", "<dt>Ethnicity</dt>"),
    ):
        client.cookies["django_language"] = language
        page = client.get(f"/students/{done.student.pk}/").content.decode()
        assert label in page and other not in page, language
