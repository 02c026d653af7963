"""B1: the search index (students.models.SearchKey) that lets the list's search box read
only the scope's matching names. The database keeps it by triggers; these tests prove it
follows registrations, renames and raw writes, and that the list answers from it inside
the scope. (After every test of the suite, tests/conftest.py also checks that the index
holds exactly the keys the registry calls for.)"""

import pytest

from xueji.core.scope import scope_for
from xueji.students import services
from xueji.students.models import SearchKey, Student, StudentRecord
from xueji.students.queries import StudentFilter, filtered_records
from xueji.students.search import index_drift


def listed(user, query, status="open"):
    wanted = StudentFilter(q=query, status=status)
    return sorted(record.student.name for record in filtered_records(scope_for(user), wanted))


@pytest.fixture
def pupils(cast, register):
    zhang = register(name="张三", former_name="张小三", sequence=1)
    other = register(name="张三丰", school=cast.school_b1, actor=cast.b1_registrar, sequence=2)
    return zhang, other


def test_a_registration_indexes_name_former_name_pinyin_and_initials(cast, pupils):
    zhang, _other = pupils
    keys = set(SearchKey.objects.filter(record=zhang.record).values_list("school_id", "key"))
    school = cast.school_a1.pk
    assert keys == {(school, "张三"), (school, "张小三"), (school, "zhangsan"), (school, "zs")}
    copies = set(SearchKey.objects.filter(record=zhang.record).values_list("record_open", "pinyin"))
    assert copies == {(True, "zhangsan")}


def copies(record) -> set[tuple[bool, str]]:
    return set(SearchKey.objects.filter(record=record).values_list("record_open", "pinyin"))


def test_each_key_follows_its_record_closing_and_reopening(cast, pupils):
    """Migration 0005: a key carries its record's openness, whichever way the status is
    written (a raw update here; services write it the same way)."""
    zhang, other = pupils
    records = StudentRecord.objects.filter(pk=zhang.record.pk)
    records.update(status="transferred_out", exit_date="2026-11-01")
    assert copies(zhang.record) == {(False, "zhangsan")}
    assert copies(other.record) == {(True, "zhangsanfeng")}
    records.update(status="graduated")  # closed to closed: nothing to change
    assert copies(zhang.record) == {(False, "zhangsan")}
    records.update(status="suspended", exit_date=None)
    assert copies(zhang.record) == {(True, "zhangsan")}
    assert index_drift() == (0, 0)


def test_a_renamed_students_keys_carry_the_new_pinyin(cast, pupils):
    zhang, _other = pupils
    services.do_update_student(zhang.student, {"name": "李四"}, actor=cast.a1_registrar)
    assert copies(zhang.record) == {(True, "lisi")}
    closed = StudentRecord.objects.filter(pk=zhang.record.pk)
    closed.update(status="graduated", exit_date="2026-07-01")
    # A raw rename of a student whose record is closed: the closed keys follow it too.
    Student.objects.filter(pk=zhang.student.pk).update(
        name="王五", pinyin_key="wangwu", initials_key="ww"
    )
    assert copies(zhang.record) == {(False, "wangwu")}


@pytest.mark.parametrize("query", ["张三", "张", "张小", "zhangsan", "zhang", "zs", "ZS"])
def test_the_list_finds_a_student_by_every_key(cast, pupils, query):
    assert listed(cast.a1_registrar, query) == ["张三"]


def test_the_list_searches_inside_the_scope_only(cast, pupils):
    assert listed(cast.bureau_registrar, "张三") == ["张三", "张三丰"]
    assert listed(cast.b1_registrar, "zs") == ["张三丰"]
    assert listed(cast.b1_registrar, "张小") == []


def test_a_renamed_student_is_found_by_the_new_name_and_no_longer_by_the_old(cast, pupils):
    zhang, _other = pupils
    services.do_update_student(zhang.student, {"name": "李四"}, actor=cast.a1_registrar)
    assert listed(cast.a1_registrar, "李四") == ["李四"]
    assert listed(cast.a1_registrar, "lisi") == ["李四"]
    assert listed(cast.a1_registrar, "zhangsan") == []
    assert listed(cast.a1_registrar, "张三") == []
    assert index_drift() == (0, 0)


def test_the_database_indexes_a_record_written_without_any_service(cast, pupils, school_year):
    """A raw bulk insert (a data load, a restore) is indexed by the database itself."""
    zhang, _other = pupils
    closed = StudentRecord.objects.filter(pk=zhang.record.pk)
    closed.update(status="transferred_out", exit_date="2026-11-01")
    StudentRecord.objects.bulk_create(
        [
            StudentRecord(
                student=zhang.student,
                school=cast.school_b1,
                stage="primary",
                status="enrolled",
                entry_date="2026-11-02",
                entry_year_month="202609",
            )
        ]
    )
    assert listed(cast.b1_registrar, "zs") == ["张三", "张三丰"]
    # The old school still finds the stay it kept, among its closed records.
    assert listed(cast.a1_registrar, "zs", status="all") == ["张三"]
    assert index_drift() == (0, 0)


def test_the_drift_check_sees_a_missing_and_an_extra_key(cast, pupils):
    zhang, other = pupils
    SearchKey.objects.filter(record=zhang.record, key="zs").delete()
    SearchKey.objects.create(record=other.record, school=cast.school_b1, key="wangwu")
    assert index_drift() == (1, 1)
    SearchKey.objects.create(
        record=zhang.record, school=cast.school_a1, key="zs", pinyin="zhangsan"
    )
    SearchKey.objects.filter(key="wangwu").delete()
    assert index_drift() == (0, 0)
    # A key whose copy of the record's openness or of the pinyin is wrong is drift too.
    SearchKey.objects.filter(record=zhang.record, key="zs").update(record_open=False)
    assert index_drift() == (1, 1)
    SearchKey.objects.filter(record=zhang.record, key="zs").update(record_open=True, pinyin="x")
    assert index_drift() == (1, 1)
    SearchKey.objects.filter(record=zhang.record, key="zs").update(pinyin="zhangsan")


@pytest.mark.parametrize("query", ["张%", "张_", "张\\", "%", "_三"])
def test_like_wildcards_in_the_search_box_match_only_themselves(cast, pupils, query):
    """The list's page of a name is one statement of its own (search.named_page): a '%'
    or '_' typed in the box is a character, not a wildcard, on either database (B1)."""
    from xueji.students.queries import list_page

    page = list_page(scope_for(cast.bureau_registrar), StudentFilter(q=query), 1, 50)
    assert (list(page), page.paginator.count) == ([], 0)
    assert listed(cast.bureau_registrar, query) == []


def test_a_placement_written_with_wrong_copies_of_its_record_is_corrected(
    cast, pupils, school_year
):
    """A placement written with a wrong copy of its record's school and openness (a raw
    write that set them) gets its record's from the trigger all the same (B1, B7)."""
    from xueji.students.models import Placement

    zhang, _other = pupils
    Placement.objects.filter(record=zhang.record).delete()
    Placement.objects.bulk_create(
        [
            Placement(
                record=zhang.record,
                school_year=school_year,
                grade=1,
                class_name="1",
                school=cast.school_b1,
                record_open=False,
            )
        ]
    )
    placement = Placement.objects.get(record=zhang.record)
    assert (placement.school_id, placement.record_open) == (cast.school_a1.pk, True)
    assert index_drift() == (0, 0)
