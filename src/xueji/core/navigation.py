"""The navigation by task (新生注册, 学生管理, 学籍异动, 审批, 统计报表, 系统设置).

Each item names the capability it needs; a role sees only the items it may use and only
sections with at least one such item. Later apps add their items here.
"""

from dataclasses import dataclass
from functools import lru_cache

from django.urls import get_script_prefix, reverse
from django.utils.functional import Promise
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from xueji.core.scope import Scope
from xueji.orgs.models import Stage


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    capability: str
    bureau_only: bool = False
    non_bureau_only: bool = False
    # Intake review (N2): the central schools (township level) and the bureau.
    reviewers_only: bool = False
    # Junior intake (N7): the junior and nine-year schools, and the bureau.
    junior_only: bool = False


@dataclass(frozen=True)
class NavSection:
    key: str
    label: str | Promise
    items: tuple[NavItem, ...]


NAVIGATION: tuple[NavSection, ...] = (
    NavSection(
        "intake",
        _("Intake"),
        (
            NavItem(
                _("New pupils of my school"), "intake_school", "students.edit", non_bureau_only=True
            ),
            NavItem(_("Enter new pupils"), "intake_enter", "students.edit"),
            NavItem(_("Review new pupils"), "intake_review", "students.edit", reviewers_only=True),
            NavItem(_("Accept submissions"), "intake_accept", "students.edit", bureau_only=True),
            NavItem(_("New junior students"), "junior_collect", "students.edit", junior_only=True),
            NavItem(_("Year's end: promotion and graduation"), "yearend", "setup.manage"),
            NavItem(_("Catchments"), "catchments", "setup.manage"),
        ),
    ),
    NavSection(
        "students",
        _("Students"),
        (
            NavItem(_("Student list"), "student_list", "students.view"),
            NavItem(_("Register a student"), "student_new", "students.edit"),
            NavItem(_("Photo collection"), "photo_upload", "students.edit"),
            NavItem(_("Import students"), "import_students", "students.edit"),
            NavItem(_("Export a roster"), "roster_export", "students.view"),
            # The file holds full ID numbers: only roles that may reveal them see it.
            NavItem(_("National-format export"), "national_export", "students.reveal"),
            NavItem(_("Roster check"), "roster_check", "students.edit", non_bureau_only=True),
            NavItem(_("Roster checks"), "roster_overview", "students.view", reviewers_only=True),
            NavItem(_("Double registrations"), "duplicate_list", "duplicates.decide"),
            # Record cards, rosters and photo sheets state ID numbers in full.
            NavItem(_("Printing"), "print_page", "students.reveal"),
        ),
    ),
    NavSection(
        "changes",
        _("Changes"),
        (
            NavItem(_("Change requests"), "request_list", "changes.view"),
            NavItem(_("New change request"), "request_new", "changes.request"),
            NavItem(_("Change-management plans"), "plan_list", "changes.view"),
            NavItem(_("Reporting rounds"), "round_list", "changes.view"),
            NavItem(_("Change packages"), "package_list", "packages.export"),
            NavItem(
                _("Import a change package"), "package_import", "packages.import", bureau_only=True
            ),
            NavItem(_("Signing keys"), "key_list", "packages.export"),
        ),
    ),
    NavSection(
        "approvals",
        _("Approvals"),
        (
            # The bureau leader reads the session and signs it off; only the registrar decides.
            NavItem(
                _("Wednesday approval session"), "session_current", "changes.view", bureau_only=True
            ),
            NavItem(_("Past sessions"), "session_list", "changes.view", bureau_only=True),
        ),
    ),
    NavSection(
        "reports",
        _("Statistics"),
        (
            NavItem(_("Students at school"), "stats_students", "stats.view"),
            NavItem(_("Changes per semester"), "stats_changes", "stats.view"),
            NavItem(_("Intake progress"), "stats_intake", "stats.view"),
            NavItem(_("Dropout watch"), "stats_dropout", "students.view"),
            NavItem(_("Units overview"), "overview", "overview.view"),
            NavItem(_("Schools"), "unit_list", "units.view"),
        ),
    ),
    NavSection(
        "setup",
        _("Settings"),
        (
            NavItem(_("Townships and schools"), "setup_units", "setup.manage"),
            NavItem(_("Users"), "user_list", "setup.manage"),
            NavItem(_("School calendar"), "calendar", "setup.manage"),
            NavItem(_("Number rule"), "number_templates", "setup.manage"),
            NavItem(_("Audit log"), "audit_log", "audit.view"),
            NavItem(_("My unit"), "my_unit", "units.view", non_bureau_only=True),
            NavItem(_("Background jobs"), "job_list", "jobs.run"),
            NavItem(_("Change password"), "password_change", "units.view"),
        ),
    ),
)


@lru_cache(maxsize=256)
def _address(url_name: str, prefix: str) -> str:
    """The item's address, once per process: every page's menu reversed some twenty names
    (half a millisecond a page). The prefix is the key's part that can change (a reverse
    proxy's sub-path), and reverse() reads it itself."""
    return reverse(url_name)


def visible_sections(scope: Scope, current_path: str = "") -> list[dict]:
    sections = []
    for section in NAVIGATION:
        items = []
        for item in section.items:
            if not scope.may(item.capability):
                continue
            if item.bureau_only and scope.level != scope.COUNTY:
                continue
            if item.non_bureau_only and scope.level == scope.COUNTY:
                continue
            if item.reviewers_only and scope.level not in (scope.TOWNSHIP, scope.COUNTY):
                continue
            if item.junior_only and not _collects_junior(scope):
                continue
            url = _address(item.url_name, get_script_prefix())
            items.append({"label": item.label, "url": url, "active": False})
        if items:
            sections.append(
                {
                    "key": section.key,
                    "label": section.label,
                    "items": items,
                    "active": any(i["active"] for i in items),
                }
            )
    _mark_active(sections, current_path)
    return sections


def _collects_junior(scope: Scope) -> bool:
    unit = scope.unit
    if scope.level == scope.COUNTY:
        return True
    return unit is not None and unit.is_school and unit.stage in (Stage.JUNIOR, Stage.NINE_YEAR)


def _mark_active(sections: list[dict], current_path: str) -> None:
    """Only the item whose address is the longest prefix of the page's is active, so
    /changes/new/ lights "new change request", not also "change requests" (/changes/)."""
    items = [item for section in sections for item in section["items"]]
    matching = [item for item in items if current_path.startswith(item["url"])]
    if matching:
        max(matching, key=lambda item: len(item["url"]))["active"] = True
    for section in sections:
        section["active"] = any(item["active"] for item in section["items"])


# The menu's markup by (language, the sections and items shown with their addresses and
# which is active): every page drew the same twenty-odd links through the template engine
# (~100 of a student page's ~250 template nodes); a server holds a few dozen of these.
_MENUS: dict[tuple, SafeString] = {}


def menu_markup(scope: Scope, current_path: str = "") -> SafeString:
    """The menu's sections as HTML, as base.html showed them."""
    sections = visible_sections(scope, current_path)
    key = (
        get_language(),
        tuple(
            (section["key"], tuple((item["url"], item["active"]) for item in section["items"]))
            for section in sections
        ),
    )
    markup = _MENUS.get(key)
    if markup is None:
        if len(_MENUS) > 1000:
            _MENUS.clear()  # never reached by a county's roles and pages; a bound all the same
        markup = _MENUS[key] = _markup(sections)
    return markup


def _markup(sections: list[dict]) -> SafeString:
    return format_html_join(
        "\n",
        '<div class="nav-section{}" data-section="{}"><span class="nav-title">{}</span>'
        "<ul>{}</ul></div>",
        (
            (
                " active" if section["active"] else "",
                section["key"],
                section["label"],
                format_html_join(
                    "",
                    '<li><a href="{}"{}>{}</a></li>',
                    (
                        (
                            item["url"],
                            mark_safe(' class="active"') if item["active"] else "",
                            item["label"],
                        )
                        for item in section["items"]
                    ),
                ),
            )
            for section in sections
        ),
    )
