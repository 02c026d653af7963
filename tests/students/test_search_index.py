"""B1: the search index (students.models.SearchKey) that lets the list's search box read
only the scope's matching names. The database keeps it by triggers; these tests prove it
follows registrations, renames and raw writes, and that the list answers from it inside
the scope. (After every test of the suite, tests/conftest.py also checks that the index
holds exactly the keys the registry calls for.)"""

import pytest

from xueji.core.scope import scope_for
from xueji.students import services
from xueji.students.models import SearchKey, StudentRecord
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
    SearchKey.objects.create(record=zhang.record, school=cast.school_a1, key="zs")
    SearchKey.objects.filter(key="wangwu").delete()
