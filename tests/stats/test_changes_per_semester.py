"""B5: approved changes per semester by kind and per school, each change in the semester
its effective date falls in, checked against a plain count of the requests; scoped."""

import datetime

import pytest
from django.utils import translation

from xueji.changes import services
from xueji.changes.models import ChangeRequest, Kind, State
from xueji.core import services as calendar_services
from xueji.core.models import Semester

from .helpers import approved, column, tables_of

API = "/api/v1/stats/changes"
PAGE = "/statistics/changes/"


@pytest.fixture
def last_year(cast):
    return calendar_services.do_save_school_year(
        actor=None,
        county=cast.county,
        start_year=2025,
        autumn_start=datetime.date(2025, 9, 1),
        spring_start=datetime.date(2026, 2, 23),
    )


@pytest.fixture
def changes(cast, register, last_year):
    """A suspension last autumn, a dropout last spring, a transfer this autumn (recorded),
    a suspension this autumn (approved, not yet recorded) and a draft (not counted)."""
    bureau = cast.bureau_registrar
    pupil = [
        register(school=school, actor=bureau, sequence=sequence, name=name).record
        for sequence, (school, name) in enumerate(
            [
                (cast.school_a1, "张一"),
                (cast.school_c, "李二"),
                (cast.school_a1, "王三"),
                (cast.school_b1, "赵四"),
                (cast.school_a1, "钱五"),
            ],
            start=1,
        )
    ]
    approved(
        cast, pupil[0], Kind.SUSPENSION, reason="sick", effective_date=datetime.date(2025, 10, 15)
    )
    approved(
        cast, pupil[1], Kind.DROPOUT, reason="dropout", effective_date=datetime.date(2026, 3, 10)
    )
    approved(
        cast,
        pupil[2],
        Kind.TRANSFER,
        reason="moved",
        effective_date=datetime.date(2026, 11, 30),
        to_school=cast.school_b1,
    )
    approved(
        cast,
        pupil[3],
        Kind.SUSPENSION,
        reason="sick",
        effective_date=datetime.date(2026, 11, 30),
        record_it=False,
    )
    services.do_create_request(
        pupil[4],
        Kind.DROPOUT,
        actor=cast.a1_registrar,
        reason="dropout",
        effective_date=datetime.date(2026, 11, 30),
    )
    return pupil


def labels() -> list[str]:
    with translation.override("en"):
        return [
            f"{semester.school_year.label} {semester.get_term_display()}"
            for semester in Semester.objects.filter(start_date__lte=datetime.date.today())
            .select_related("school_year")
            .order_by("start_date")
        ]


def expected_matrix(schools=None) -> dict[str, dict[str, int]]:
    """The independent count: every approved or recorded request, its semester found by
    comparing its date with the semesters' start dates one by one."""
    semesters = list(Semester.objects.order_by("start_date"))
    names = labels()
    found: dict[str, dict[str, int]] = {}
    for change in ChangeRequest.objects.all():
        if change.state not in (State.APPROVED, State.RECORDED):
            continue
        if schools is not None and not (
            change.from_school_id in schools or change.to_school_id in schools
        ):
            continue
        index = max(i for i, s in enumerate(semesters) if s.start_date <= change.effective_date)
        row = found.setdefault(names[index], {})
        row[change.kind] = row.get(change.kind, 0) + 1
    return found


def matrix(table) -> dict[str, dict[str, int]]:
    kinds = {str(kind.label): kind.value for kind in Kind}
    found = {}
    for row in table["rows"]:
        counts = {
            kinds[header]: row[index]
            for index, header in enumerate(table["headers"])
            if header in kinds and row[index]
        }
        if counts:
            found[row[0]] = counts
    return found


def test_changes_per_semester_match_a_plain_count_of_the_requests(
    cast, client_for, english, changes
):
    found = tables_of(client_for(cast.bureau_registrar), API)["changes-by-semester"]

    assert [row[0] for row in found["rows"]] == labels()
    assert matrix(found) == expected_matrix()
    autumn_2025, spring_2026, autumn_2026 = labels()
    assert matrix(found) == {
        autumn_2025: {"suspension": 1},
        spring_2026: {"dropout": 1},
        autumn_2026: {"transfer": 1, "suspension": 1},  # the draft is not counted
    }
    assert found["total"][column(found, "All changes")] == 4


def test_changes_per_school_count_a_transfer_at_both_schools(cast, client_for, english, changes):
    found = tables_of(client_for(cast.bureau_registrar), API)["changes-by-school"]

    rows = {row[0]: row for row in found["rows"]}
    transfer = column(found, str(Kind.TRANSFER.label))
    received = column(found, "Transfers received")
    suspension = column(found, str(Kind.SUSPENSION.label))
    assert rows[cast.school_a1.name][transfer] == 1
    assert rows[cast.school_b1.name][received] == 1
    assert rows[cast.school_b1.name][suspension] == 1
    # The current semester only: last spring's dropout at C is not in it.
    assert rows[cast.school_c.name][column(found, str(Kind.DROPOUT.label))] == 0


def test_another_semester_is_chosen_by_its_id(cast, client_for, english, changes):
    spring = Semester.objects.get(school_year__start_year=2025, term="spring")
    found = tables_of(client_for(cast.bureau_registrar), API, semester_id=spring.pk)

    table = found["changes-by-school"]
    rows = {row[0]: row for row in table["rows"]}
    assert rows[cast.school_c.name][column(table, str(Kind.DROPOUT.label))] == 1
    assert table["total"][column(table, str(Kind.TRANSFER.label))] == 0
    page = client_for(cast.bureau_registrar).get(PAGE, {"semester": spring.pk})
    assert f'<option value="{spring.pk}" selected>' in page.text


def test_b1_counts_the_transfer_it_received_but_not_cs_dropout(cast, client_for, english, changes):
    found = tables_of(client_for(cast.b1_registrar), API)["changes-by-semester"]

    assert matrix(found) == expected_matrix({cast.school_b1.pk})
    kinds = {kind for row in matrix(found).values() for kind in row}
    assert "dropout" not in kinds and kinds == {"transfer", "suspension"}


def test_the_changes_page_draws_the_semesters_as_a_chart(cast, client_for, english, changes):
    page = client_for(cast.central_a_registrar).get(PAGE)

    assert page.status_code == 200
    assert 'id="chart-changes-by-semester" type="application/json"' in page.text
    chart = page.context["tables"][0].chart
    assert chart["labels"] == labels() and chart["stacked"] is True
    # Central A: a1's suspension and transfer, not C's dropout (C reports to the bureau).
    assert {dataset["label"] for dataset in chart["datasets"]} == {
        str(Kind.SUSPENSION.label),
        str(Kind.TRANSFER.label),
    }


def test_a_day_falls_in_the_semester_that_started_last_on_or_before_it():
    from xueji.stats.rules import period_of, periods

    spans = periods(
        [
            (2, "2026 spring", datetime.date(2026, 2, 23)),
            (1, "2025 autumn", datetime.date(2025, 9, 1)),
            (3, "2026 autumn", datetime.date(2026, 9, 1)),
        ]
    )
    assert [span.label for span in spans] == ["2025 autumn", "2026 spring", "2026 autumn"]
    assert period_of(datetime.date(2025, 8, 31), spans) is None
    assert period_of(datetime.date(2025, 9, 1), spans).pk == 1
    assert period_of(datetime.date(2026, 2, 22), spans).pk == 1
    assert period_of(datetime.date(2026, 2, 23), spans).pk == 2
    assert period_of(datetime.date(2030, 1, 1), spans).pk == 3  # the latest runs on


def test_changes_before_the_first_semester_keep_a_row_of_their_own():
    from xueji.stats.rules import changes_by_semester_table, periods

    spans = periods([(1, "2025 autumn", datetime.date(2025, 9, 1))])
    with translation.override("en"):
        table = changes_by_semester_table(
            spans,
            [
                (datetime.date(2025, 6, 1), "dropout", 2),
                (datetime.date(2025, 10, 1), "dropout", 1),
            ],
        )
    assert [row[0] for row in table.rows] == ["Before 2025 autumn", "2025 autumn"]
    assert table.total[-1] == 3
