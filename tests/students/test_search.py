"""B1: one search box — name, full pinyin, initials, ID number, any present or past number —
always inside the user's scope."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xueji.core.scope import scope_for
from xueji.students import services
from xueji.students.search import classify, search_students


@pytest.fixture
def pupils(cast, register):
    zhang = register(name="张三", sequence=1)
    ouyang = register(name="欧阳修", sequence=2)
    other = register(name="张三丰", school=cast.school_b1, actor=cast.b1_registrar, sequence=3)
    services.do_assign_numbers(zhang.record, actor=cast.a1_registrar)
    zhang.record.refresh_from_db()
    return zhang, ouyang, other


def found(user, query):
    return sorted(s.name for s in search_students(scope_for(user).students(), query))


@pytest.mark.parametrize("query", ["张三", "张", "zhangsan", "zhang", "zs", "ZS", " zhang san "])
def test_a_student_is_found_by_name_pinyin_and_initials(cast, pupils, query):
    assert found(cast.a1_registrar, query) == ["张三"]


def test_the_bureau_finds_both_schools_students_and_a_school_only_its_own(cast, pupils):
    assert found(cast.bureau_registrar, "张三") == ["张三", "张三丰"]
    assert found(cast.b1_registrar, "zs") == ["张三丰"]


def test_a_student_is_found_by_id_number_typed_any_way(cast, pupils):
    zhang = pupils[0].student
    typed = " " + zhang.id_number[:-1] + zhang.id_number[-1].lower() + " "
    assert found(cast.a1_registrar, typed) == ["张三"]
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in zhang.id_number)
    assert found(cast.a1_registrar, fullwidth) == ["张三"]


def test_a_student_is_found_by_provincial_and_national_number(cast, pupils):
    zhang = pupils[0]
    assert found(cast.a1_registrar, zhang.record.provincial_number) == ["张三"]
    zhang.student.refresh_from_db()
    assert found(cast.a1_registrar, zhang.student.national_number) == ["张三"]


def test_a_compound_surname_is_found_by_its_pinyin(cast, pupils):
    assert found(cast.a1_registrar, "ouyang") == ["欧阳修"]
    assert found(cast.a1_registrar, "oyx") == ["欧阳修"]


def test_a_query_outside_the_scope_finds_nothing(cast, pupils):
    other = pupils[2].student
    assert found(cast.a1_registrar, other.id_number) == []


def test_queries_are_classified():
    assert classify("张三")[0] == "name"
    assert classify("370828201903150013")[0] == "id"
    assert classify("1262806040001")[0] == "number"
    assert classify("G370828201903150013")[0] == "national"
    assert classify("zs")[0] == "pinyin"
    assert classify("  ")[0] == "none"
    assert classify("';drop table--")[0] == "none"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_classification_never_fails_on_any_text(text):
    kind, _value = classify(text)
    assert kind in {"name", "id", "national", "number", "pinyin", "none"}
