"""The main pages of each role in a real browser, photographed (issue 7, "Look").

The bureau registrar, the central school registrar of 胡集镇 and the registrar of
胡集镇第三小学 (rural, no printer) each open their main pages over a county with work in
it (tests/e2e/showcase.py): dashboard, students, a student, intake, a change request, the
approval session, statistics with their charts, the reporting rounds, change packages and
the import preview, printing. Each page must answer 200, raise no console error (the CSP
among them), fit its width without scrolling sideways and, on the statistics pages, draw
every chart that has numbers. A few pages are taken again at 375 px, a phone.

Each page's screenshot goes to var/screenshots/<role>-<page>.png; `make screenshots`
copies the best ones into docs/screenshots/ for the README (scripts/screenshots.py).
"""

from dataclasses import dataclass

import pytest

from tests.e2e.conftest import screenshot
from tests.e2e.showcase import Showcase, build_showcase

PHONE = {"width": 375, "height": 667}

# Every canvas whose table has numbers carries a Chart.js chart with something painted on
# it (a pixel that is not transparent), and its figure is no longer hidden.
UNDRAWN_CHARTS = """() => {
  const undrawn = [];
  for (const canvas of document.querySelectorAll("canvas[data-chart]")) {
    const source = document.getElementById(canvas.dataset.chart);
    const spec = source ? JSON.parse(source.textContent) : null;
    if (!spec || !spec.labels || !spec.labels.length) continue;
    const chart = window.Chart && window.Chart.getChart(canvas);
    const figure = canvas.closest("figure");
    let painted = false;
    if (chart && canvas.width > 0 && canvas.height > 0) {
      const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 3; i < pixels.length; i += 4) { if (pixels[i]) { painted = true; break; } }
    }
    if (!painted || !figure || figure.hidden) undrawn.push(canvas.dataset.chart);
  }
  return undrawn;
}"""


@dataclass(frozen=True)
class Shot:
    name: str
    path: str
    charts: bool = False  # the page draws charts: wait for them and check them


@pytest.fixture
def show(live_cast, settings, tmp_path) -> Showcase:
    # The units' private signing keys and the photos stay in the test's own directory.
    settings.XUEJI_KEY_DIR = tmp_path / "keys"
    settings.MEDIA_ROOT = tmp_path / "media"
    return build_showcase(live_cast)


@pytest.fixture
def watched(page_for):
    """page_for, with the page's console errors and uncaught exceptions collected, and
    animations off so a chart is complete when it is photographed."""

    def open_page(user, **size):
        page = page_for(user, **size)
        page.emulate_media(reduced_motion="reduce")
        page.problems = []
        page.on(
            "console",
            lambda message: page.problems.append(message.text) if message.type == "error" else None,
        )
        page.on("pageerror", lambda error: page.problems.append(str(error)))
        return page

    return open_page


def has_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )


def visit(page, live_server, shot: Shot) -> None:
    """Open the page, check the basics, take its picture."""
    page.problems.clear()
    response = page.goto(live_server.url + shot.path)
    assert response is not None and response.status == 200, (
        f"{shot.path}: {response and response.status}"
    )
    page.wait_for_load_state("load")
    if shot.charts:
        assert page.locator("canvas[data-chart]").count() > 0, f"{shot.path} has no chart"
        page.wait_for_function(f"() => ({UNDRAWN_CHARTS})().length === 0", timeout=10_000)
        assert page.evaluate(UNDRAWN_CHARTS) == []
        assert page.locator("figure.stat-chart:not([hidden])").count() > 0
    assert page.problems == [], f"{shot.path}: {page.problems}"
    assert not has_horizontal_scroll(page), f"{shot.path} scrolls sideways"
    screenshot(page, shot.name)


def test_the_bureau_registrars_main_pages(show, watched, live_server):
    page = watched(show.cast.bureau_registrar)
    pupil = show.student("刘诗涵")
    for shot in [
        Shot("bureau-dashboard", "/"),
        Shot("bureau-students", "/students/"),
        Shot("bureau-student", f"/students/{pupil.pk}/"),
        Shot("bureau-intake-accept", "/intake/accept/"),
        Shot("bureau-approval-session", "/approvals/"),
        Shot("bureau-statistics", "/statistics/", charts=True),
        Shot("bureau-statistics-changes", "/statistics/changes/", charts=True),
        Shot("bureau-statistics-intake", "/statistics/intake/", charts=True),
        Shot("bureau-dropout-watch", "/statistics/dropout/"),
        Shot("bureau-units-overview", "/overview/"),
        Shot("bureau-rounds", "/rounds/"),
        Shot("bureau-round", f"/rounds/{show.extra_round.pk}/"),
        Shot("bureau-package-preview", f"/packages/import/?package={show.package.pk}"),
        Shot("bureau-print", "/print/"),
    ]:
        visit(page, live_server, shot)
    # The session queues the three submitted requests, the proxy's among them (C7).
    assert page.goto(live_server.url + "/approvals/").status == 200
    assert show.student("张浩然").name in page.locator("main").inner_text()


def test_the_central_school_registrars_main_pages(show, watched, live_server):
    page = watched(show.cast.central_a_registrar)
    for shot in [
        Shot("central-dashboard", "/"),
        Shot("central-intake-review", "/intake/review/"),
        Shot("central-students", "/students/"),
        Shot("central-request", f"/changes/{show.transfer.pk}/"),
        Shot("central-statistics", "/statistics/", charts=True),
        Shot("central-rounds", "/rounds/"),
    ]:
        visit(page, live_server, shot)


def test_the_rural_school_registrars_main_pages(show, watched, live_server):
    page = watched(show.cast.a1_registrar)
    pupil = show.student("刘诗涵")
    for shot in [
        Shot("school-dashboard", "/"),
        Shot("school-students", "/students/"),
        Shot("school-student", f"/students/{pupil.pk}/"),
        Shot("school-intake", "/intake/"),
        Shot("school-changes", "/changes/"),
        Shot("school-request", f"/changes/{show.in_progress.pk}/"),
        Shot("school-statistics", "/statistics/", charts=True),
        Shot("school-rounds", "/rounds/"),
        Shot("school-packages", "/packages/"),
        Shot("school-print", "/print/"),
    ]:
        visit(page, live_server, shot)
    # The student page shows the pupil's photo, loaded (not a broken image).
    page.goto(live_server.url + f"/students/{pupil.pk}/")
    photo = page.locator("img[src*='/photo/']").first
    assert photo.evaluate("image => image.complete && image.naturalWidth > 0")


def test_the_main_pages_fit_a_phone_screen(show, watched, live_server):
    school = watched(show.cast.a1_registrar, **PHONE)
    for shot in [
        Shot("phone-school-dashboard", "/"),
        Shot("phone-school-student", f"/students/{show.student('刘诗涵').pk}/"),
        Shot("phone-school-request", f"/changes/{show.in_progress.pk}/"),
        Shot("phone-school-intake", "/intake/"),
    ]:
        visit(school, live_server, shot)
    bureau = watched(show.cast.bureau_registrar, **PHONE)
    for shot in [
        Shot("phone-bureau-statistics", "/statistics/", charts=True),
        Shot("phone-bureau-approval-session", "/approvals/"),
    ]:
        visit(bureau, live_server, shot)
