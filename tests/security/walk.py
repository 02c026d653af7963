"""Walking the application: what every request of the access walks shares.

A snapshot of every row of every model (to prove a request changed nothing, or nothing of
the owner's), the text of any answer (HTML, JSON, CSV, XLSX, PDF) to search for markers,
the routes of the URL resolver and the operations of the OpenAPI document, the forms a
page offers, and plausible API bodies built from the document's schemas.
"""

from __future__ import annotations

import html
import io
import json
import logging
import re
import zipfile
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import ForeignKey

from tests.security.world import BY_ARGUMENT, World, scan, student_row

# --- Every row of every model -------------------------------------------------------------

# Bookkeeping that any request may touch: the session table, the login time, the chain's
# head (it moves with every event, and the events themselves are compared).
IGNORED_MODELS = {
    "sessions.session",
    "audit.audithead",
    "auth.permission",
    "contenttypes.contenttype",
}
IGNORED_FIELDS = {("orgs.user", "last_login"), ("api.apitoken", "last_used_at")}


def _models():
    return [m for m in apps.get_models() if m._meta.label_lower not in IGNORED_MODELS]


# Statements that change no row: reads (row locks included), and the savepoints the
# request and the walk itself open and close.
READ_ONLY_STATEMENT = re.compile(r"\s*(SELECT|SAVEPOINT|RELEASE|ROLLBACK TO)\b", re.IGNORECASE)
# The table a plain INSERT, UPDATE or DELETE writes to.
WRITTEN_TABLE = re.compile(
    r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE
)


class WriteWatch:
    """Sees every statement a request sends through Django's connection, and says whether
    any of them can have changed a row the snapshot compares. Most requests of the walk
    are refused and only read (and save the session, which is bookkeeping): for those the
    snapshot would find no change, so the walk need not take it. Anything else (a write
    to a compared table, whose triggers may write more; a statement it does not know)
    counts as a possible change, and the request gets its full snapshot."""

    def __init__(self):
        self.ignored_tables = {
            apps.get_model(label)._meta.db_table.lower() for label in IGNORED_MODELS
        }
        self.may_have_written = False

    def __call__(self, execute, sql, params, many, context):
        if not self.may_have_written and not self._harmless(sql):
            self.may_have_written = True
        return execute(sql, params, many, context)

    def _harmless(self, sql: str) -> bool:
        if READ_ONLY_STATEMENT.match(sql):
            return True
        written = WRITTEN_TABLE.match(sql)
        return bool(written) and written.group(1).lower() in self.ignored_tables


def row_keys() -> set[tuple[str, str]]:
    keys: set[tuple[str, str]] = set()
    for model in _models():
        label = model._meta.label_lower
        keys |= {(label, str(pk)) for pk in model._base_manager.values_list("pk", flat=True)}
    return keys


@dataclass
class Table:
    columns: tuple[str, ...]
    rows: dict[str, tuple]


Snapshot = dict[str, Table]


def snapshot() -> Snapshot:
    """Every row of every table, read with plain SQL (the ORM's conversions would make the
    walk ten times slower), minus the bookkeeping columns."""
    from django.db import connection

    data: Snapshot = {}
    with connection.cursor() as cursor:
        for model in _models():
            label = model._meta.label_lower
            ignored = {
                model._meta.get_field(name).column
                for model_label, name in IGNORED_FIELDS
                if model_label == label
            }
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(model._meta.db_table)}")
            columns = [column[0] for column in cursor.description]
            keep = [i for i, column in enumerate(columns) if column not in ignored]
            key = columns.index(model._meta.pk.column)
            data[label] = Table(
                tuple(columns[i] for i in keep),
                {str(row[key]): tuple(row[i] for i in keep) for row in cursor.fetchall()},
            )
    return data


@dataclass
class Diff:
    added: list[tuple[str, str, dict]]
    changed: list[tuple[str, str]]
    removed: list[tuple[str, str]]

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)


def diff(before: Snapshot, after: Snapshot) -> Diff:
    added, changed, removed = [], [], []
    for label, table in after.items():
        old = before[label].rows if label in before else {}
        for pk, row in table.rows.items():
            if pk not in old:
                added.append((label, pk, dict(zip(table.columns, row, strict=True))))
            elif old[pk] != row:
                changed.append((label, pk))
        removed += [(label, pk) for pk in old if pk not in table.rows]
    return Diff(added, changed, removed)


def references(label: str, row: dict) -> set[tuple[str, str]]:
    """The rows a row points at: its foreign keys, and an audit event's or a printed
    paper's target."""
    model = apps.get_model(label)
    found = set()
    for model_field in model._meta.concrete_fields:
        if isinstance(model_field, ForeignKey) and row.get(model_field.column) is not None:
            related = model_field.related_model._meta.label_lower
            found.add((related, str(row[model_field.column])))
    if row.get("target_type") and row.get("target_id"):
        found.add((row["target_type"], str(row["target_id"])))
    return found


def forbidden_changes(
    change: Diff, forbidden: set[tuple[str, str]], markers: list[str]
) -> list[str]:
    """What an outsider's request did that it may not: change or remove any row that
    existed, or write a row that refers to the owner's rows or repeats its data."""
    problems = [f"changed {label} #{pk}" for label, pk in change.changed]
    problems += [f"removed {label} #{pk}" for label, pk in change.removed]
    for label, pk, row in change.added:
        bad = sorted(references(label, row) & forbidden)
        if bad:
            problems.append(f"wrote {label} #{pk} referring to {bad}")
        text = json.dumps(row, default=str, ensure_ascii=False)
        leaked = [marker for marker in markers if marker in text]
        if leaked:
            problems.append(f"wrote {label} #{pk} holding {leaked}")
    return problems


# --- What a response says -----------------------------------------------------------------


def response_bytes(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def response_text(response) -> str:
    """Everything a reader of the response could see, as text: HTML and CSV as they are,
    JSON with its escapes undone, a workbook's cells, a PDF's text."""
    content = response_bytes(response)
    content_type = response.get("Content-Type", "")
    if content[:4] == b"%PDF":
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(content))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    if content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return "\n".join(
                archive.read(name).decode("utf-8", "replace")
                for name in archive.namelist()
                if name.endswith((".xml", ".csv", ".txt", ".json"))
            )
    text = content.decode("utf-8", "replace")
    if "html" in content_type:
        return html.unescape(text)
    if "json" in content_type:
        try:
            return json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            return text
    return text


def leaked_markers(text: str, markers: list[str]) -> list[str]:
    return [marker for marker in markers if marker in text]


# --- The routes ----------------------------------------------------------------------------

ARGUMENT = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


@dataclass(frozen=True)
class PageRoute:
    name: str
    route: str  # "students/<int:pk>/"
    arguments: tuple[str, ...]
    view: str

    def path(self, values: dict[str, Any]) -> str:
        return "/" + ARGUMENT.sub(lambda m: str(values[m.group("name")]), self.route)


def page_routes() -> list[PageRoute]:
    """Every page the URL resolver knows, the API's own resolver excepted (the API walk
    takes its operations from the OpenAPI document)."""
    from django.urls import URLPattern, URLResolver, get_resolver

    routes: list[PageRoute] = []

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if str(pattern.pattern).startswith("api/"):
                    continue
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                callback = pattern.callback
                routes.append(
                    PageRoute(
                        name=pattern.name or route,
                        route=route,
                        arguments=tuple(m.group("name") for m in ARGUMENT.finditer(route)),
                        view=f"{callback.__module__}.{getattr(callback, '__name__', '')}",
                    )
                )

    walk(get_resolver().url_patterns)
    return routes


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str  # "/api/v1/students/{student_id}"
    path_parameters: tuple[str, ...]
    query_parameters: tuple[dict, ...]
    body: dict | None  # the requestBody of the OpenAPI document

    def url(self, values: dict[str, Any]) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), self.path)


def api_operations() -> tuple[list[Operation], dict]:
    from xueji.api.api import api

    document = api.get_openapi_schema()
    operations = []
    for path, methods in document["paths"].items():
        for method, spec in methods.items():
            parameters = spec.get("parameters", [])
            operations.append(
                Operation(
                    operation_id=spec["operationId"],
                    method=method.upper(),
                    path=path,
                    path_parameters=tuple(p["name"] for p in parameters if p["in"] == "path"),
                    query_parameters=tuple(p for p in parameters if p["in"] == "query"),
                    body=spec.get("requestBody"),
                )
            )
    return operations, document


# --- Forms: what a page offers to post --------------------------------------------------------

# Values for inputs a page leaves empty, so a replayed form gets past "this is required".
EMPTY_VALUES = {"date": "2026-12-01", "number": "1", "email": "a@example.com", "tel": "13800000000"}


@dataclass
class PostForm:
    action: str  # a path
    fields: list[tuple[str, str]]
    files: list[str]
    buttons: list[tuple[str, str]]
    has_csrf_token: bool

    def bodies(self) -> list[dict[str, Any]]:
        """One body per submit button (a form with "approve" and "reject" gives two)."""
        base: dict[str, Any] = {}
        for name, value in self.fields:
            if name in base:
                existing = base[name]
                base[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
            else:
                base[name] = value
        base.pop("csrfmiddlewaretoken", None)
        for name in self.files:
            base[name] = SimpleUploadedFile("scan.jpg", scan(), content_type="image/jpeg")
        if not self.buttons:
            return [base]
        return [base | {name: value} for name, value in self.buttons]


class FormParser(HTMLParser):
    def __init__(self, page_path: str):
        super().__init__(convert_charrefs=True)
        self.page_path = page_path
        self.forms: list[PostForm] = []
        self.current: PostForm | None = None
        self.select: str | None = None
        self.select_value: str | None = None
        self.select_first: str | None = None
        self.textarea: str | None = None
        self.textarea_text = ""

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            if attributes.get("method", "get").lower() == "post":
                action = attributes.get("action") or self.page_path
                self.current = PostForm(urlsplit(action).path or self.page_path, [], [], [], False)
            return
        form = self.current
        if form is None:
            return
        name = attributes.get("name", "")
        if tag == "input":
            kind = attributes.get("type", "text").lower()
            value = attributes.get("value", "")
            if name == "csrfmiddlewaretoken":
                form.has_csrf_token = True
            elif not name:
                return
            elif kind == "file":
                form.files.append(name)
            elif kind in ("submit", "image"):
                form.buttons.append((name, value))
            elif kind in ("checkbox",):
                # Every box ticked: an outsider tries the most it could.
                form.fields.append((name, value or "on"))
            elif kind == "radio":
                if "checked" in attributes or name not in [n for n, _ in form.fields]:
                    form.fields = [(n, v) for n, v in form.fields if n != name]
                    form.fields.append((name, value))
            else:
                form.fields.append(
                    (name, value or EMPTY_VALUES.get(kind, "x" if kind == "text" else value))
                )
        elif tag == "button" and name and attributes.get("type", "submit") == "submit":
            form.buttons.append((name, attributes.get("value", "")))
        elif tag == "select" and name:
            self.select, self.select_value, self.select_first = name, None, None
        elif tag == "option" and self.select:
            value = attributes.get("value", "")
            if "selected" in attributes:
                self.select_value = value
            if self.select_first is None and value:
                self.select_first = value
        elif tag == "textarea" and name:
            self.textarea, self.textarea_text = name, ""

    def handle_data(self, data):
        if self.textarea:
            self.textarea_text += data

    def handle_endtag(self, tag):
        form = self.current
        if tag == "form":
            if form is not None:
                self.forms.append(form)
            self.current = None
        elif form is None:
            return
        elif tag == "select" and self.select:
            value = self.select_value if self.select_value is not None else self.select_first
            form.fields.append((self.select, value or ""))
            self.select = None
        elif tag == "textarea" and self.textarea:
            form.fields.append((self.textarea, self.textarea_text.strip() or "x"))
            self.textarea = None


def post_forms(page_html: str, page_path: str) -> list[PostForm]:
    parser = FormParser(page_path)
    parser.feed(page_html)
    return parser.forms


# --- Walking: one request, its text, and what it changed, then undone -----------------------


@dataclass
class Answer:
    method: str
    path: str
    status: int
    response: Any
    text: str
    change: Diff | None  # None when the request failed with a server error


@contextmanager
def quiet():
    """The walk meets hundreds of 403s and 404s by design: keep them out of the log."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


class Walker:
    """Requests made in a savepoint that is rolled back afterwards, so every request of
    the walk meets the same world, and what each one changed is known exactly."""

    def __init__(self, world: World):
        from django.test import Client

        self.world = world
        self.client = Client(raise_request_exception=False)
        self.base = snapshot()
        self.role = "anonymous"
        self.requests = 0
        self._forbidden: dict[str, set] = {}

    def act_as(self, role: str) -> None:
        self.role = role
        self.client.logout()
        if role != "anonymous":
            self.client.force_login(self.world.user(role))

    def _logged_in_again(self) -> None:
        # A replayed logout form ends the session; the walk goes on as the same role.
        if self.role != "anonymous" and "_auth_user_id" not in self.client.session:
            self.client.force_login(self.world.user(self.role))

    def request(self, method: str, path: str, data=None, **extra) -> Answer:

        call = getattr(self.client, method.lower())
        return self._answer(
            method,
            path,
            lambda: call(path, **extra) if data is None else call(path, data, **extra),
        )

    def call(self, operation: Operation, path: str, example: Example) -> Answer:
        """One API operation with a plausible query and body."""
        from urllib.parse import urlencode

        query, arguments = example.request(operation)
        if query:
            path = f"{path}?{urlencode(query, doseq=True)}"
        return self._answer(
            operation.method,
            path,
            lambda: self.client.generic(operation.method, path, **arguments),
        )

    def _answer(self, method: str, path: str, send: Callable[[], Any]) -> Answer:
        """Send one request in a savepoint rolled back afterwards; what it changed is the
        difference of the snapshots, or none when it sent no statement that can write."""
        from django.db import connection, transaction

        self.requests += 1
        watch = WriteWatch()
        with quiet(), transaction.atomic():
            with connection.execute_wrapper(watch):
                response = send()
                text = response_text(response) if response.status_code < 500 else ""
            change = None
            if response.status_code < 500:
                change = diff(self.base, snapshot()) if watch.may_have_written else Diff([], [], [])
            transaction.set_rollback(True)
        self._logged_in_again()
        return Answer(method, path, response.status_code, response, text, change)

    def problems(self, answer: Answer, owner: str | None, *, outsider: bool) -> list[str]:
        """What an outsider's answer must not be: a server error, 2xx on another unit's
        object, any marker of A1's data, any write touching the owner's rows."""
        where = f"{self.role} {answer.method} {answer.path}"
        if answer.status >= 500:
            return [f"{where}: server error {answer.status}"]
        found = []
        if outsider and answer.status not in (302, 401, 403, 404, 405):
            found.append(f"{where}: answered {answer.status}, expected 403, 404 or a redirect")
        leaked = leaked_markers(answer.text, self.world.markers_for(self.role))
        if leaked:
            found.append(f"{where}: shows {leaked}")
        assert answer.change is not None
        if self.role not in self._forbidden:
            self._forbidden[self.role] = self.world.forbidden_rows(self.role)
        found += [
            f"{where}: {problem}"
            for problem in forbidden_changes(
                answer.change,
                self._forbidden[self.role],
                self.world.markers_for(self.role),
            )
        ]
        return found


# --- API bodies from the OpenAPI document ------------------------------------------------------

# Body fields and query parameters named after an object: the owner's object, so an
# outsider's request tries to reach into A1.
FIELD_TARGETS: dict[str, Callable[[World], Any]] = {
    "township_id": lambda w: w.cast.township_a.pk,
    "township": lambda w: w.cast.township_a.pk,
    "school": lambda w: w.cast.school_a1.pk,
    "unit": lambda w: w.cast.school_a1.pk,
    "from_year": lambda w: w.school_year.start_year,
    "to_year": lambda w: w.school_year.start_year + 1,
    "school_year": lambda w: w.school_year.start_year,
    "grade": lambda w: 1,
    "class_name": lambda w: "1",
    "what": lambda w: "id_number",
}
EXAMPLE_STRINGS = {"date": "2026-12-01", "date-time": "2026-12-01T08:00:00+08:00"}


def field_value(world: World, name: str) -> Any:
    """The owner's object for a field named after one, or None."""
    if name in FIELD_TARGETS:
        return FIELD_TARGETS[name](world)
    if name.endswith("_id") and name in BY_ARGUMENT:
        return BY_ARGUMENT[name].value(world)
    if name.endswith("_ids") and f"{name[:-1]}" in BY_ARGUMENT:
        return [BY_ARGUMENT[name[:-1]].value(world)]
    return None


class Example:
    """A plausible value for a schema of the OpenAPI document: the owner's objects for
    ids, the marked pupil's data for the national form's items, a small JPEG for files."""

    def __init__(self, world: World, document: dict):
        self.world = world
        self.document = document
        self.student_row = student_row()

    def resolve(self, schema: dict) -> dict:
        while "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = self.document["components"]["schemas"][name]
        return schema

    def value(self, schema: dict, name: str = "", national_form: bool = False) -> Any:
        schema = self.resolve(schema)
        known = field_value(self.world, name) if name else None
        if known is not None:
            return known
        if national_form and name in self.student_row:
            return self.student_row[name]
        for combined in ("anyOf", "oneOf", "allOf"):
            if combined in schema:
                options = [self.resolve(s) for s in schema[combined]]
                options = [s for s in options if s.get("type") != "null"] or options
                return self.value(options[0], name, national_form)
        if "enum" in schema:
            return schema["enum"][0]
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            properties = schema.get("properties", {})
            # The national form's items (POST /students, intake entries): the marked pupil.
            form = {"birth_date", "id_number", "name"} <= set(properties)
            return {key: self.value(sub, key, form) for key, sub in properties.items()}
        if kind == "array":
            return [self.value(schema.get("items", {}), name)]
        if kind == "integer":
            return 1
        if kind == "number":
            return 1.0
        if kind == "boolean":
            return True
        if schema.get("format") == "binary":
            return SimpleUploadedFile("scan.jpg", scan(), content_type="image/jpeg")
        return EXAMPLE_STRINGS.get(schema.get("format", ""), "x")

    def request(self, operation: Operation) -> tuple[dict, dict[str, Any]]:
        """(query parameters, request arguments for the test client)."""
        query = {}
        for parameter in operation.query_parameters:
            name = parameter["name"]
            # Optional filters only where they name an object (school=A1's id).
            if parameter.get("required") or field_value(self.world, name) is not None:
                query[name] = self.value(parameter.get("schema", {}), name)
        body = operation.body or {}
        content = body.get("content", {})
        if "application/json" in content:
            data = self.value(content["application/json"]["schema"])
            return query, {
                "data": json.dumps(data, default=str),
                "content_type": "application/json",
            }
        if "multipart/form-data" in content:
            from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

            data = self.value(content["multipart/form-data"]["schema"])
            data = {key: value for key, value in data.items() if value is not None}
            return query, {
                "data": encode_multipart(BOUNDARY, data),
                "content_type": MULTIPART_CONTENT,
            }
        return query, {}
