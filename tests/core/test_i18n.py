"""Chinese by default, English on request, with real catalogues and nothing untranslated."""

import re
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.urls import URLPattern, URLResolver, get_resolver

import xueji
from xueji.audit.models import AuditEvent
from xueji.changes import rules as change_rules
from xueji.core.models import CalendarDay, Job
from xueji.orgs.models import Unit, User
from xueji.students import codes
from xueji.students.models import FamilyMember, Student
from xueji.students.rules import mask_address

LOCALE = Path(xueji.__file__).parent / "locale"
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
WORD = re.compile(r"\b[A-Za-z][a-z]{2,}\b")
# Words that stay as they are in a Chinese page: the product's name, the language switch.
ZH_ALLOWED = {"Xueji", "English", "API", "Excel"}


class VisibleText(HTMLParser):
    """Text a person reads: text nodes, titles, placeholders, button and label values."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "code"):
            self.skip += 1
        for name, value in attrs:
            if name in ("title", "placeholder", "aria-label", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "code"):
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return "\n".join(parser.parts)


def data_strings() -> list[str]:
    """Values that come from the data (names, logins), not from the interface."""
    values: list[str] = []
    values += Unit.objects.values_list("name", flat=True)
    values += Unit.objects.values_list("address", flat=True)
    values += User.objects.values_list("full_name", flat=True)
    values += User.objects.values_list("username", flat=True)
    values += CalendarDay.objects.values_list("name", flat=True)
    values += AuditEvent.objects.values_list("actor_label", flat=True)
    values += AuditEvent.objects.values_list("target_label", flat=True)
    values += Job.objects.values_list("kind", flat=True)
    for field in ("name", "former_name", "name_pinyin", "native_place", "specialty"):
        values += Student.objects.values_list(field, flat=True)
    for field in ("current_address", "mailing_address", "home_address", "email", "homepage"):
        values += Student.objects.values_list(field, flat=True)
        values += [mask_address(v) for v in Student.objects.values_list(field, flat=True)]
    for field in ("name", "relation_note", "employer", "current_address", "hukou_address"):
        values += FamilyMember.objects.values_list(field, flat=True)
        values += [mask_address(v) for v in FamilyMember.objects.values_list(field, flat=True)]
    values += AuditEvent.objects.values_list("action", flat=True)
    # Code tables (男, 汉族 …) are national standards: data in every language.
    values += [name for table in codes.tables() for name in codes.names(table).values()]
    # The change rules' reasons and documents (家庭迁居, 户口本 …) are configuration data.
    values += list(change_rules.config()["documents"].values())
    values += [
        reason["label"]
        for kind in change_rules.config()["kinds"].values()
        for reason in kind["reasons"].values()
    ]
    values += ["金乡县", "简体中文", "system"]
    # A one-letter Latin value (a login such as "c") would blank out letters of real
    # words; one-character Chinese values (男, 是) are whole words and stay.
    return sorted(
        {v for v in values if v and (len(v) > 1 or not v.isascii())}, key=len, reverse=True
    )


def without_data(text: str) -> str:
    for value in data_strings():
        text = text.replace(value, " ")
    return text


def test_the_chinese_catalogue_translates_every_message():
    catalogue = polib.pofile(str(LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    missing = [
        entry.msgid
        for entry in catalogue
        if not entry.obsolete
        and (
            "fuzzy" in entry.flags
            or (not entry.msgid_plural and not entry.msgstr)
            or (entry.msgid_plural and not all(entry.msgstr_plural.values()))
        )
    ]
    assert missing == []


def test_the_compiled_catalogue_matches_its_source():
    source = polib.pofile(str(LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    compiled = polib.mofile(str(LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.mo"))
    translated = {
        (e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural for e in source.translated_entries()
    }
    in_mo = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural for e in compiled}
    assert {k: v for k, v in in_mo.items() if k[1]} == translated, "run `make messages`"


def a_student(cast):
    """A registered pupil of A1, for the student pages (the school year must exist)."""
    from tests.students.conftest import TODAY, raw_student
    from xueji.core.calendar import current_school_year
    from xueji.students.services import do_register_student
    from xueji.students.validation import validate_student

    checked = validate_student(raw_student(), today=TODAY)
    return do_register_student(
        checked.values,
        actor=cast.a1_registrar,
        school=cast.school_a1,
        school_year=current_school_year(cast.county),
    ).student


def page_paths(cast, job) -> list[str]:
    """Every page a GET can show: argument-free patterns are found automatically, pages
    with an id use the cast's objects. A new page with an id must be added here."""
    student = a_student(cast)
    ids = {
        "unit_detail": {"pk": cast.school_a1.pk},
        "school_year_edit": {"start_year": 2026},
        "job_detail": {"pk": job.pk},
        "student_detail": {"pk": student.pk},
        "student_edit": {"pk": student.pk},
        "student_photo_upload": {"pk": student.pk},
        "session_detail": {"pk": cast.county.sessions.get_or_create(date="2026-12-02")[0].pk},
        "request_detail": {
            "pk": student.requests.create(
                kind="transfer",
                record=student.records.get(),
                from_school=cast.school_a1,
                to_school=cast.school_b1,
                reason="moved",
                effective_date="2026-11-30",
                waiting_since="2026-11-30T08:00:00+08:00",
            ).pk
        },
    }
    paths = []

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if "api" in str(pattern.pattern) or "i18n" in str(pattern.pattern):
                    continue
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and pattern.name:
                route = prefix + str(pattern.pattern)
                if "<" not in route:
                    paths.append("/" + route)
                elif pattern.name in ids:
                    values = ids[pattern.name]
                    route = re.sub(
                        r"<(?:\w+:)?(\w+)>", lambda m, v=values: str(v[m.group(1)]), route
                    )
                    paths.append("/" + route)

    walk(get_resolver().url_patterns)
    skip = {"/logout/", "/healthz", "/audit/verify/", "/setup/calendar/days/", "/media/"}
    return [p for p in paths if p not in skip and "/remove/" not in p]


@pytest.fixture
def pages(cast, client_for):
    import datetime

    from xueji.core import services
    from xueji.core.jobs import do_enqueue_job

    services.do_save_school_year(
        actor=cast.bureau_registrar,
        county=cast.county,
        start_year=2026,
        autumn_start=datetime.date(2026, 9, 1),
        spring_start=datetime.date(2027, 2, 22),
    )
    services.do_set_calendar_day(
        actor=cast.bureau_registrar,
        county=cast.county,
        date=datetime.date(2026, 10, 1),
        kind="holiday",
        name="国庆节",
    )
    job = do_enqueue_job("audit.verify", actor=cast.bureau_registrar)
    return page_paths(cast, job)


def fetch_all(client, paths, language):
    client.cookies["django_language"] = language
    texts = {}
    for path in paths:
        response = client.get(path)
        if response.status_code == 200 and "html" in response["Content-Type"]:
            texts[path] = visible_text(response.content.decode())
    return texts


def test_english_pages_show_no_untranslated_interface_text(cast, client_for, pages):
    texts = fetch_all(client_for(cast.bureau_registrar), pages, "en")
    assert len(texts) >= 8
    leftovers = {path: CJK.findall(without_data(text)) for path, text in texts.items()}
    assert {path: chars for path, chars in leftovers.items() if chars} == {}


def test_chinese_pages_show_no_english_interface_text(cast, client_for, pages):
    texts = fetch_all(client_for(cast.bureau_registrar), pages, "zh-hans")
    texts |= fetch_all(
        client_for(cast.a1_registrar), ["/", "/units/mine/", "/account/password/"], "zh-hans"
    )
    leftovers = {
        path: [w for w in WORD.findall(without_data(text)) if w not in ZH_ALLOWED]
        for path, text in texts.items()
    }
    assert {path: words for path, words in leftovers.items() if words} == {}


def test_the_login_page_is_chinese_for_a_visitor(db, client):
    text = visible_text(client.get("/login/").content.decode())
    assert "登录" in text
    assert [w for w in WORD.findall(text) if w not in ZH_ALLOWED] == []
