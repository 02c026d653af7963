"""Every operation of the OpenAPI document, called by everyone who must not reach it (P1, B6).

The walk reads the operations (path, method, parameters, request body) from the document
the API publishes, so an operation added tomorrow is called without editing this file; an
operation whose path needs an id fails `test_every_operation_has_ids_for_the_walk` until
tests/security/world.py names the object. Bodies are built from the document's schemas:
ids name A1's objects, the national form's items carry A1's pupil, files are a small JPEG.
Each call runs in a savepoint that is rolled back, so what it changed is known row by row.
"""

import json

from tests.security.walk import Example, Walker, api_operations
from tests.security.world import (
    OUTSIDER_ROLES,
    OWNER_ROLES,
    MissingIds,
    is_outsider,
    owner_of,
    targets_of,
)

# Operations anyone may call without a token or a session. None: the API is for users.
PUBLIC_OPERATIONS: set[str] = set()
# Operations no role of A1's side can complete in the walk's world, and why. Their
# outsiders are still walked; only the proof that the body reaches the operation is missing.
OWNER_CANNOT_REACH = {
    "convert_junior": "the world has no junior school, so no junior candidate to convert",
}


def resolved(world):
    """(operation, concrete path, owner) for every operation, and those without ids."""
    operations, document = api_operations()
    found, missing = [], []
    for operation in operations:
        try:
            targets = targets_of(operation.operation_id, list(operation.path_parameters))
        except MissingIds as error:
            missing.append(str(error))
            continue
        values = {name: target.value(world) for name, target in targets.items()}
        found.append((operation, operation.url(values), owner_of(targets)))
    return found, missing, Example(world, document)


def test_every_operation_has_ids_for_the_walk(world):
    operations, missing, _example = resolved(world)
    assert not missing, "\n".join(missing)
    assert len(operations) >= 90


def test_no_outsider_reads_or_changes_anything_of_another_school_through_the_api(world):
    """P1: as in the page walk, each outsider calls every operation; where the path names
    A1's object the answer is 403 or 404, no answer holds A1's data, and no call changes
    or removes a row or writes one that refers to A1's rows."""
    walker = Walker(world)
    operations, _missing, example = resolved(world)
    problems: list[str] = []
    for role in OUTSIDER_ROLES:
        walker.act_as(role)
        for operation, path, owner in operations:
            answer = walker.call(operation, path, example)
            outsider = is_outsider(role, owner)
            problems += walker.problems(answer, owner, outsider=outsider)
            if outsider and answer.status == 422:
                problems.append(f"{role} {operation.operation_id}: 422, the walk's body is invalid")
    assert not problems, "\n".join(problems)


def test_an_anonymous_caller_gets_401_from_every_operation(world):
    walker = Walker(world)
    operations, _missing, example = resolved(world)
    walker.act_as("anonymous")
    problems = []
    for operation, path, owner in operations:
        answer = walker.call(operation, path, example)
        if operation.operation_id in PUBLIC_OPERATIONS:
            problems += walker.problems(answer, owner, outsider=False)
        elif answer.status != 401 or answer.change:
            problems.append(
                f"{operation.operation_id}: {answer.status}, changed: {bool(answer.change)}"
            )
    assert not problems, "\n".join(problems)


def test_the_walks_bodies_are_valid_for_the_owner_side(world):
    """The generated bodies pass the document's own validation for some role of A1's side
    (no 422), and the ids of the walk point at real objects (no 404 for all of them), so
    the outsiders' refusals above are refusals of real requests."""
    walker = Walker(world)
    operations, _missing, example = resolved(world)
    statuses: dict[str, set[int]] = {}
    for role in OWNER_ROLES:
        walker.act_as(role)
        for operation, path, _owner in operations:
            answer = walker.call(operation, path, example)
            statuses.setdefault(operation.operation_id, set()).add(answer.status)
    unreached = {
        operation_id: sorted(found)
        for operation_id, found in statuses.items()
        if (not found - {401, 403, 404, 422} or found & {500})
        and operation_id not in OWNER_CANNOT_REACH
    }
    assert not unreached, "\n".join(f"{key}: {value}" for key, value in unreached.items())


def test_the_openapi_document_gives_each_schema_name_one_meaning():
    """The walk builds its bodies from the document, and so do generated clients: two
    schemas with one name (every enum class is called Kind) would leave one of them
    described by the other, silently. Each schema any operation uses must be the one the
    document lists under its name."""
    from ninja.openapi.schema import REF_TEMPLATE

    from xueji.api.api import api

    components = api.get_openapi_schema()["components"]["schemas"]
    meanings: dict[str, set[str]] = {}
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                models = [*operation.models, *filter(None, operation.response_models.values())]
                for model in models:
                    schema = model.model_json_schema(ref_template=REF_TEMPLATE)
                    for name, definition in schema.get("$defs", {}).items():
                        meanings.setdefault(name, set()).add(json.dumps(definition, sort_keys=True))
    clashes = {name: len(found) for name, found in meanings.items() if len(found) > 1}
    assert clashes == {}
    assert set(meanings) <= set(components)
