"""Every page the URL resolver knows, requested by everyone who must not see it (P1, B6).

The walk takes the URL patterns from the resolver, so a page added tomorrow is walked
without editing this file; a page whose address needs an object's id fails
`test_every_page_of_the_resolver_has_ids_for_the_walk` until tests/security/world.py
names the object. Each page is requested with GET and with POST (the bodies of the forms
the owner's pages offer, ticked and filled) as every outsider of school A1 and as an
anonymous visitor, each request in a savepoint that is rolled back, so each one meets
the same world and what it changed is known row by row.
"""

from tests.security.walk import PostForm, Walker, page_routes, post_forms
from tests.security.world import (
    OUTSIDER_ROLES,
    OWNER_ROLES,
    MissingIds,
    is_outsider,
    owner_of,
    targets_of,
)

# Pages anyone may open without logging in. Everything else sends a visitor to the login.
PUBLIC_PAGES = {
    "login",
    "logout",  # ends a session, if there is one
    "healthz",  # the operator's monitor: the database's state, no data
    "set_language",  # the language cookie
    "verify_form",  # a printed paper's QR code: verdict and issuing unit only (B4)
    "verify_paper",
}
# Whose pages offer the forms the outsiders replay: the three registrars of A1's side
# (the leaders' forms, signing and signing off, post to addresses with an id, which every
# outsider also posts to with an empty body).
HARVEST_ROLES = ("a1_registrar", "central_a_registrar", "bureau_registrar")
# Forms replayed per address: enough for every button of a page, few enough to stay quick.
MAX_BODIES = 4


def resolved(world):
    """(route, concrete path, owner) for every pattern, and the patterns without ids."""
    routes, missing = [], []
    for route in page_routes():
        try:
            targets = targets_of(route.name, list(route.arguments))
        except MissingIds as error:
            missing.append(str(error))
            continue
        values = {name: target.value(world) for name, target in targets.items()}
        routes.append((route, route.path(values), owner_of(targets)))
    return routes, missing


def harvest(walker: Walker, routes) -> dict[str, list[PostForm]]:
    """The forms the owner side sees on every page, by the address they post to."""
    forms: dict[str, list[PostForm]] = {}
    seen = set()
    for role in HARVEST_ROLES:
        walker.act_as(role)
        for _route, path, _owner in routes:
            answer = walker.request("GET", path)
            if answer.status != 200 or "html" not in answer.response.get("Content-Type", ""):
                continue
            for form in post_forms(answer.text, path):
                key = (form.action, tuple(form.fields), tuple(form.buttons), tuple(form.files))
                if key not in seen:
                    seen.add(key)
                    forms.setdefault(form.action, []).append(form)
    return forms


def test_every_page_of_the_resolver_has_ids_for_the_walk(world):
    routes, missing = resolved(world)
    assert not missing, "\n".join(missing)
    assert len(routes) >= 100


def test_no_outsider_sees_or_changes_anything_of_another_school_on_any_page(world):
    """P1: the other township's school, leader and central school, the county-direct school
    of A1's own township, and the second county's bureau, leader and school: each GETs and
    POSTs every page. Where the address names A1's object the answer is 403, 404 or a
    redirect; no answer shows A1's data (names, ID numbers masked or not, addresses,
    numbers, notes), and no request changes or removes a row, or writes one that refers
    to A1's rows."""
    walker = Walker(world)
    routes, _missing = resolved(world)
    forms = harvest(walker, routes)
    assert len(forms) >= 30, "the owner's pages offer the forms the outsiders replay"
    problems: list[str] = []
    for role in OUTSIDER_ROLES:
        walker.act_as(role)
        for _route, path, owner in routes:
            outsider = is_outsider(role, owner)
            problems += walker.problems(walker.request("GET", path), owner, outsider=outsider)
            for form in forms.get(path, [])[:MAX_BODIES] or [None]:
                for body in form.bodies() if form else [{}]:
                    answer = walker.request("POST", path, body)
                    problems += walker.problems(answer, owner, outsider=outsider)
    assert not problems, "\n".join(problems)


def test_an_anonymous_visitor_is_sent_to_the_login_from_every_page_but_the_public_ones(world):
    """Without a login every page but the public ones answers with the login page, for
    GET and POST alike, and nothing changes; the public ones show none of A1's data."""
    walker = Walker(world)
    routes, _missing = resolved(world)
    walker.act_as("anonymous")
    problems: list[str] = []
    for route, path, owner in routes:
        for method, body in (("GET", None), ("POST", {"name": "x", "id": "1"})):
            answer = walker.request(method, path, body)
            where = f"anonymous {method} {path}"
            if route.name in PUBLIC_PAGES:
                problems += walker.problems(answer, owner, outsider=False)
                continue
            location = answer.response.get("Location", "")
            if answer.status != 302 or not location.startswith("/login/"):
                problems.append(f"{where}: answered {answer.status} {location}, not the login")
            if answer.change:
                problems.append(f"{where}: changed {answer.change}")
    assert not problems, "\n".join(problems)


def test_the_owner_side_opens_every_page_the_walk_names(world):
    """The ids of the walk point at real objects: some role of A1's side opens each page
    with an id (else the outsiders' 404 would prove nothing)."""
    walker = Walker(world)
    routes, _missing = resolved(world)
    answers: dict[str, set[int]] = {}
    for role in OWNER_ROLES:
        walker.act_as(role)
        for route, path, _owner in routes:
            if route.arguments:
                answers.setdefault(path, set()).add(walker.request("GET", path).status)
    unreached = {
        path: sorted(statuses)
        for path, statuses in answers.items()
        if not statuses & {200, 302, 405} or statuses & {500}
    }
    assert unreached == {}
