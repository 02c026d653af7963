"""Finding students through the API (B1): one search box, the list page's filters,
pagination, masked rows, and the scope."""

import datetime

from tests.students import conftest as students
from tests.students.conftest import id_number
from xueji.students.services import do_assign_numbers

school_year = students.school_year
register = students.register


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["items"]]


def search(client, **params):
    return client.get("/api/v1/students", params)


def test_search_finds_by_name_pinyin_initials_id_number_and_number(cast, client_for, register):
    zhang = register()
    register(name="李娜", sex="2", sequence=2)
    do_assign_numbers(zhang.record, actor=cast.a1_registrar, identity_confirmed=True)
    zhang.record.refresh_from_db()
    zhang.student.refresh_from_db()
    client = client_for(cast.a1_registrar)
    for query in (
        "张小明",
        "张",
        "zhangxiaoming",
        "zxm",
        zhang.student.id_number,
        f" {zhang.student.id_number} ",
        zhang.record.provincial_number,
        zhang.student.national_number,
    ):
        assert names(search(client, q=query)) == ["张小明"], query
    assert names(search(client, q="ln")) == ["李娜"]
    assert names(search(client, q="wangwu")) == []


def test_list_rows_mask_the_id_number_and_the_address(cast, client_for, register):
    done = register()
    response = search(client_for(cast.a1_registrar))
    row = response.json()["items"][0]
    full = done.student.id_number
    assert (
        row["id_number"] != full
        and row["id_number"].endswith(full[-4:])
        and "*" in row["id_number"]
    )
    assert row["current_address"] != done.student.current_address and "*" in row["current_address"]
    assert full not in response.content.decode()
    assert "张庄村" not in response.content.decode()
    assert (row["student_id"], row["record_id"]) == (done.student.pk, done.record.pk)
    assert (row["grade"], row["class_name"], row["school_name"]) == (1, "1", "胡集镇第三小学")


def test_filters_by_school_grade_class_status_and_special_category(cast, client_for, register):
    register(name="张小明")
    register(name="王小红", sex="2", sequence=2, grade="2", class_name="3", left_behind="1")
    register(name="赵小刚", sequence=3, school=cast.school_c, actor=cast.c_registrar)
    client = client_for(cast.bureau_registrar)
    assert sorted(names(search(client))) == sorted(["张小明", "王小红", "赵小刚"])
    assert set(names(search(client, school=cast.school_a1.pk))) == {"张小明", "王小红"}
    assert names(search(client, grade=2)) == ["王小红"]
    assert names(search(client, grade=2, class_name="3")) == ["王小红"]
    assert names(search(client, class_name="9")) == []
    assert names(search(client, special="left_behind")) == ["王小红"]
    assert names(search(client, status="suspended")) == []
    assert len(names(search(client, status="all"))) == 3


def test_the_list_is_paginated_with_limit_and_offset(cast, client_for, register):
    for n, name in enumerate(("张一", "张二", "张三", "张四", "张五"), start=1):
        register(name=name, sequence=n)
    client = client_for(cast.a1_registrar)
    first = search(client, limit=2).json()
    assert first["count"] == 5 and len(first["items"]) == 2
    rest = search(client, limit=2, offset=4).json()
    assert len(rest["items"]) == 1
    seen = {
        row["name"]
        for offset in (0, 2, 4)
        for row in search(client, limit=2, offset=offset).json()["items"]
    }
    assert len(seen) == 5


def test_the_list_stays_in_the_scope(cast, client_for, register):
    register()
    register(
        name="刘洋",
        sequence=4,
        school=cast.school_b1,
        actor=cast.b1_registrar,
        birth=datetime.date(2019, 5, 1),
    )
    assert names(search(client_for(cast.a1_registrar))) == ["张小明"]
    assert names(search(client_for(cast.b1_registrar))) == ["刘洋"]
    assert names(search(client_for(cast.a1_registrar), q="刘洋")) == []
    # A central school sees its township's rural schools, not the other township's.
    assert names(search(client_for(cast.central_a_registrar))) == ["张小明"]
    assert len(names(search(client_for(cast.bureau_leader)))) == 2


def test_a_past_number_stays_searchable(cast, client_for, register):
    done = register()
    do_assign_numbers(done.record, actor=cast.a1_registrar, identity_confirmed=False)
    done.student.refresh_from_db()
    temporary = done.student.national_number
    assert temporary.startswith("L")
    do_assign_numbers(done.record, actor=cast.a1_registrar, identity_confirmed=True)
    client = client_for(cast.a1_registrar)
    assert names(search(client, q=temporary)) == ["张小明"]
    assert names(search(client, q="G" + done.student.id_number)) == ["张小明"]


def test_a_family_members_id_number_does_not_find_the_student(cast, client_for, register):
    father = id_number(datetime.date(1985, 6, 1), 7)
    register(**{"family1.id_number": father})
    assert names(search(client_for(cast.a1_registrar), q=father)) == []
