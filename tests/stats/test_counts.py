"""B5: students at school counted by school, township, grade, sex, ethnicity, 户口性质 and
the special categories, each number checked against a plain count of the rows, and
scoped like everything else (b1 sees only itself, central A its township)."""

import re
from collections import Counter

import pytest

from xueji.students.models import Status, StudentRecord

from .helpers import column, tables_of

API = "/api/v1/stats/students"
PAGE = "/statistics/"


@pytest.fixture
def pupils(cast, register):
    """Pupils across four schools, with every kind of count represented; one is still in
    intake (pending) and must not be counted."""
    bureau = cast.bureau_registrar
    rows = [
        (cast.school_a1, dict(name="张一", sex="1", left_behind="1")),
        (
            cast.school_a1,
            dict(name="李二", sex="2", ethnicity="03", hukou_type="2", migrant_child="是"),
        ),
        (cast.school_a1, dict(name="王三", sex="1", grade="2", disability="1", orphan="是")),
        (cast.school_b1, dict(name="赵四", sex="2", left_behind="2")),
        (cast.school_b1, dict(name="钱五", sex="1", grade="3", hukou_type="2")),
        (cast.school_c, dict(name="孙六", sex="2", ethnicity="02", migrant_child="是")),
        (cast.central_a, dict(name="周七", sex="1", left_behind="1", orphan="是")),
    ]
    for sequence, (school, values) in enumerate(rows, start=1):
        register(school=school, actor=bureau, sequence=sequence, **values)
    register(school=cast.school_a1, actor=bureau, sequence=20, name="吴八", status="pending")


def records_at_school(schools) -> list[StudentRecord]:
    """The independent count: every record, filtered in plain Python."""
    ids = {school.pk for school in schools}
    return [
        record
        for record in StudentRecord.objects.select_related("student", "school").order_by("pk")
        if record.school_id in ids and record.status == Status.ENROLLED
    ]


def expected_by_school(records) -> dict[str, dict[str, int]]:
    found: dict[str, Counter] = {}
    for record in records:
        student = record.student
        counter = found.setdefault(record.school.name, Counter())
        counter["total"] += 1
        counter["male"] += student.sex == "1"
        counter["female"] += student.sex == "2"
        counter["left_behind"] += student.left_behind not in ("0", "")
        counter["migrant_child"] += bool(student.migrant_child)
        counter["disability"] += student.disability not in ("0", "")
        counter["orphan"] += bool(student.orphan)
    return {name: dict(counter) for name, counter in found.items()}


COLUMNS = {
    "total": "At school",
    "male": "Boys",
    "female": "Girls",
    "left_behind": "Left-behind children",
    "migrant_child": "Children of migrant workers",
    "disability": "With a disability",
    "orphan": "Orphans",
}


def counted_by_school(table) -> dict[str, dict[str, int]]:
    result = {}
    for row in table["rows"]:
        numbers = {key: row[column(table, header)] for key, header in COLUMNS.items()}
        if numbers["total"]:
            result[row[0]] = numbers
    return result


def test_the_bureaus_counts_by_school_match_a_plain_count_of_the_records(
    cast, client_for, english, pupils
):
    expected = expected_by_school(records_at_school(cast.county.units.all()))
    found = tables_of(client_for(cast.bureau_registrar), API)

    assert counted_by_school(found["schools"]) == {
        name: {key: counts.get(key, 0) for key in COLUMNS} for name, counts in expected.items()
    }
    total = found["schools"]["total"]
    assert total[column(found["schools"], "At school")] == 7  # the pending pupil is not counted


def test_the_counts_by_township_sex_ethnicity_and_household_type_match(
    cast, client_for, english, pupils
):
    records = records_at_school(cast.county.units.all())
    found = tables_of(client_for(cast.bureau_registrar), API)

    townships = Counter(record.school.parent.name for record in records)
    assert {row[0]: row[1] for row in found["townships"]["rows"]} == dict(townships)
    sexes = Counter(record.student.sex for record in records)
    assert {row[0]: row[2] for row in found["sexes"]["rows"]} == dict(sexes)
    ethnicities = Counter(record.student.ethnicity for record in records)
    assert {row[0]: row[2] for row in found["ethnicities"]["rows"]} == dict(ethnicities)
    hukou = Counter(record.student.hukou_type for record in records)
    assert {row[0]: row[2] for row in found["hukou"]["rows"]} == dict(hukou)


def test_ethnicities_and_household_types_carry_the_national_code_tables_names(
    cast, client_for, english, pupils
):
    found = tables_of(client_for(cast.bureau_registrar), API)

    names = {row[0]: row[1] for row in found["ethnicities"]["rows"]}
    assert names == {"01": "汉族", "02": "蒙古族", "03": "回族"}
    # GB 3304's order, not the order of the counts.
    assert [row[0] for row in found["ethnicities"]["rows"]] == ["01", "02", "03"]
    assert {row[0]: row[1] for row in found["hukou"]["rows"]} == {
        "1": "农业户口",
        "2": "非农业户口",
    }


def test_grades_and_special_categories_match_a_plain_count(cast, client_for, english, pupils):
    records = records_at_school(cast.county.units.all())
    found = tables_of(client_for(cast.bureau_registrar), API)

    grades = Counter(record.placements.get().grade for record in records)
    assert {row[0]: row[1] for row in found["grades"]["rows"]} == {
        f"Grade {grade}": count for grade, count in grades.items()
    }
    special = {row[0]: row[1] for row in found["special"]["rows"]}
    students = [record.student for record in records]
    # Not recorded ("") is not left behind, like 0 否.
    assert special["Left-behind children"] == sum(s.left_behind not in ("0", "") for s in students)
    assert special["… one parent away"] == sum(s.left_behind == "1" for s in students)
    assert special["… both parents away"] == sum(s.left_behind == "2" for s in students)
    assert special["Children of migrant workers"] == sum(s.migrant_child for s in students)
    assert special["With a disability"] == sum(s.disability not in ("0", "") for s in students)
    assert special["Orphans"] == sum(s.orphan for s in students)


def test_b1_sees_its_own_school_only_and_never_a1s_counts(cast, client_for, english, pupils):
    found = tables_of(client_for(cast.b1_registrar), API)

    assert [row[0] for row in found["schools"]["rows"]] == [cast.school_b1.name]
    assert "townships" not in found  # a school has no per-township table
    expected = records_at_school([cast.school_b1])
    assert found["schools"]["total"][column(found["schools"], "At school")] == len(expected) == 2
    assert sum(row[2] for row in found["sexes"]["rows"]) == 2
    assert [row[0] for row in found["ethnicities"]["rows"]] == ["01"]  # not a1's 回族


def test_central_a_sees_the_schools_it_supervises_and_itself(cast, client_for, english, pupils):
    found = tables_of(client_for(cast.central_a_registrar), API)

    schools = [row[0] for row in found["schools"]["rows"]]
    assert sorted(schools) == sorted([cast.central_a.name, cast.school_a1.name])
    expected = records_at_school([cast.central_a, cast.school_a1])
    assert found["schools"]["total"][column(found["schools"], "At school")] == len(expected) == 4
    assert [row[0] for row in found["townships"]["rows"]] == [cast.township_a.name]


def test_the_page_shows_each_table_beside_its_chart_data_without_inline_script(
    cast, client_for, english, pupils
):
    page = client_for(cast.bureau_registrar).get(PAGE)

    assert page.status_code == 200
    text = page.text
    for key in ("schools", "townships", "grades", "sexes", "ethnicities", "hukou", "special"):
        assert f'id="{key}"' in text
        assert f'id="chart-{key}" type="application/json"' in text
    # Every script element either loads a file of ours or carries data (never runs).
    for tag in re.findall(r"<script[^>]*>", text):
        assert 'src="/static/' in tag or 'type="application/json"' in tag, tag
    assert "/static/stats/chart.umd.min.js" in text and "/static/stats/stats.js" in text
    assert "style=" not in text
    assert text.count("<table") == text.count('<div class="table-wrap">')
    assert page.context["tables"][0].rows  # the numbers are in the table itself


def test_every_role_may_read_the_statistics_but_a_user_without_a_unit_may_not(
    cast, client_for, pupils
):
    from xueji.orgs.models import User

    for user in (cast.bureau_leader, cast.a1_leader, cast.c_registrar):
        assert client_for(user).get(PAGE).status_code == 200
    nobody = User.objects.create_user(username="nobody", password="x-" * 8)
    assert client_for(nobody).get(PAGE).status_code == 403
    assert client_for(nobody).get(API).status_code == 403


def test_intake_progress_counts_each_schools_new_pupils_by_state(
    cast, client_for, english, school_year
):
    from tests.intake.test_primary_flow import enter
    from xueji.intake import services as intake_services
    from xueji.intake.models import IntakeEntry

    first = enter(cast, school_year, name="新一", sequence=41)
    enter(cast, school_year, name="新二", sequence=42)
    intake_services.do_send_for_review([first], actor=cast.a1_registrar)
    third = enter(cast, school_year, name="新三", sequence=43)
    intake_services.do_not_admit(third, "未满六周岁", actor=cast.a1_registrar)

    table = tables_of(client_for(cast.central_a_registrar), "/api/v1/stats/intake")["intake"]
    rows = {row[0]: row for row in table["rows"]}
    a1 = rows[cast.school_a1.name]
    states = Counter(entry.state for entry in IntakeEntry.objects.filter(school=cast.school_a1))
    assert a1[column(table, "Being entered")] == states["entered"] == 1
    assert a1[column(table, "Awaiting review")] == states["awaiting_review"] == 1
    assert a1[column(table, "Not admitted")] == states["withdrawn"] == 1
    assert a1[column(table, "New pupils")] == 2  # the pupil not admitted is not counted
    assert rows[cast.central_a.name][column(table, "New pupils")] == 0
    assert set(rows) == {cast.school_a1.name, cast.central_a.name}


@pytest.mark.parametrize(
    "path",
    [
        "/statistics/",
        "/statistics/changes/",
        "/statistics/intake/",
        "/statistics/dropout/",
        "/overview/",
    ],
)
def test_no_statistics_page_carries_an_inline_script_or_style(
    cast, client_for, school_year, pupils, path
):
    page = client_for(cast.bureau_registrar).get(path)

    assert page.status_code == 200
    assert page["Content-Security-Policy"].count("'unsafe-inline'") == 0
    for tag in re.findall(r"<script[^>]*>", page.text):
        assert 'src="/static/' in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\sstyle\s*=", page.text)
    assert not re.search(r"\son[a-z]+\s*=", page.text)
    assert page.text.count("<table") == page.text.count('<div class="table-wrap">')
