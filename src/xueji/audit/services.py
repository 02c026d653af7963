"""Writing and verifying the audit chain.

`record_event` is the helper every service calls inside its own transaction, so an event
exists exactly when the change it describes was committed.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xueji.audit.models import GENESIS_HASH, AuditEvent, AuditHead

SYSTEM_ACTOR_LABEL = "system"


def normalise(data: dict[str, Any] | None) -> dict[str, Any]:
    """Turn dates, decimals and UUIDs into the JSON the database will give back."""
    return json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder, ensure_ascii=False))


def event_payload(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "unit_id": event.unit_id,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "target_label": event.target_label,
        "data": event.data,
        "prev_hash": event.prev_hash,
    }


def compute_hash(event: AuditEvent) -> str:
    canonical = json.dumps(
        event_payload(event), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def actor_label(actor) -> str:
    if actor is None:
        return SYSTEM_ACTOR_LABEL
    if actor.full_name:
        return f"{actor.full_name} ({actor.username})"[:80]
    return actor.username[:80]


def _locked_head() -> AuditHead:
    """The chain's head, locked. A database emptied by a flush (tests) gets a fresh
    genesis head; if events remain without a head, the next append collides with their
    sequence numbers and fails, and verify names the break."""
    head = AuditHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        AuditHead.objects.bulk_create([AuditHead(pk=1)], ignore_conflicts=True)
        head = AuditHead.objects.select_for_update().get(pk=1)
    return head


def _unit_of(target):
    """The unit a system event belongs to, so the bureau that owns the target sees it."""
    from xueji.orgs.models import County, Unit

    if target is None:
        return None
    if isinstance(target, County):
        county_id = target.pk
    elif getattr(target, "unit_id", None):
        return target.unit
    else:
        county_id = getattr(target, "county_id", None)
    if county_id is None:
        return None
    return Unit.objects.filter(county_id=county_id, kind=Unit.Kind.BUREAU).first()


def record_event(
    action: str,
    *,
    actor,
    target: models.Model | None = None,
    unit=None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction.

    `actor` is required (None only for the system itself, e.g. the demo loader); `unit`
    defaults to the actor's unit so every event names where it came from.
    """
    if unit is None:
        unit = actor.unit if actor is not None else _unit_of(target)
    with transaction.atomic():
        # Lock the head row: concurrent writers queue here, so the chain never forks.
        head = _locked_head()
        event = AuditEvent(
            seq=head.seq + 1,
            occurred_at=timezone.now(),
            actor=actor,
            actor_label=actor_label(actor),
            unit=unit,
            action=action,
            target_type=target._meta.label_lower if target is not None else "",
            target_id=str(target.pk) if target is not None else "",
            target_label=str(target)[:120] if target is not None else "",
            data=normalise(data),
            prev_hash=head.hash,
        )
        event.hash = compute_hash(event)
        event.save()
        AuditHead.objects.filter(pk=1).update(seq=event.seq, hash=event.hash)
    return event


def record_events(
    entries: list[tuple[str, models.Model, dict[str, Any]]], *, actor, unit=None
) -> int:
    """Append many events at once (an import of 100,000 rows): the head is locked once and
    the rows are inserted in batches, in the caller's transaction. Each entry is
    (action, target, data)."""
    if unit is None and actor is not None:
        unit = actor.unit
    return record_many_events(
        [
            BatchEvent(
                action,
                target._meta.label_lower,
                str(target.pk),
                str(target)[:120],
                normalise(data),
                _unit_of(target) if unit is None else None,
            )
            for action, target, data in entries
        ],
        actor=actor,
        unit=unit,
    )


@dataclass(frozen=True, slots=True)
class BatchEvent:
    """One event of a batch, described without a model instance of its target.
    `data` must already be what the database gives back (plain JSON types, see
    normalise); `unit` is the event's own unit, when the batch has none."""

    action: str
    target_type: str
    target_id: str
    target_label: str
    data: dict[str, Any]
    unit: Any = None


def record_many_events(events: list[BatchEvent], *, actor, unit=None) -> int:
    """Append a batch of events by the database's fast path (core/rawinsert.py): the
    head locked once, every hash computed exactly as compute_hash does from the stored
    row, so verify_chain recomputes the same chain."""
    from xueji.core.rawinsert import RawTable

    if unit is None:
        unit = actor.unit if actor is not None else None
    if not events:
        return 0
    label = actor_label(actor)
    actor_id = actor.pk if actor is not None else None
    table = RawTable(AuditEvent)
    dumps = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode
    with transaction.atomic():
        head = _locked_head()
        seq, prev = head.seq, head.hash
        now = timezone.now()
        occurred = now.astimezone(UTC).isoformat()
        ids = table.reserve_ids(len(events))
        rows = []
        for pk, event in zip(ids, events, strict=True):
            seq += 1
            unit_id = _pk(unit if unit is not None else event.unit)
            payload = {
                "seq": seq,
                "occurred_at": occurred,
                "actor_id": actor_id,
                "actor_label": label,
                "unit_id": unit_id,
                "action": event.action,
                "target_type": event.target_type,
                "target_id": event.target_id,
                "target_label": event.target_label,
                "data": event.data,
                "prev_hash": prev,
            }
            digest = hashlib.sha256(dumps(payload).encode("utf-8")).hexdigest()
            # The row is what was hashed, with its id, its time as a datetime and the hash.
            rows.append(table.row({**payload, "id": pk, "occurred_at": now, "hash": digest}))
            prev = digest
            if len(rows) >= BATCH_EVENTS:
                table.insert(rows)
                rows = []
        table.insert(rows)
        AuditHead.objects.filter(pk=1).update(seq=seq, hash=prev)
    return len(events)


# Events inserted per round of record_many_events.
BATCH_EVENTS = 5000


def _pk(unit) -> int | None:
    return unit.pk if unit is not None else None


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The fields that differ, as {"field": [before, after]}, for an event's data."""
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    message: str = ""


def verify_chain(progress=None) -> VerifyResult:
    """Recompute every event's hash in order and name the first row that does not fit.

    `progress(done, total)` is called now and then so a background job can show how far
    it got.
    """
    # The head is read first: events appended while the check runs lie beyond it and are
    # left for the next check, instead of looking like a fork.
    head = AuditHead.objects.filter(pk=1).first() or AuditHead(pk=1)
    events = AuditEvent.objects.filter(seq__lte=head.seq)
    total = events.count()
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    if progress is not None:
        progress(0, total)
    for event in events.order_by("seq").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            return VerifyResult(
                False,
                checked,
                expected_seq,
                _("Event #%(seq)d is missing: the chain jumps from #%(prev)d to #%(next)d.")
                % {"seq": expected_seq, "prev": expected_seq - 1, "next": event.seq},
            )
        if event.prev_hash != expected_prev:
            return VerifyResult(
                False,
                checked,
                event.seq,
                _("Event #%(seq)d does not follow the event before it.") % {"seq": event.seq},
            )
        if compute_hash(event) != event.hash:
            return VerifyResult(
                False,
                checked,
                event.seq,
                _("Event #%(seq)d was altered after it was written.") % {"seq": event.seq},
            )
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
        if progress is not None and checked % 1000 == 0:
            progress(checked, total)
    if head.seq != checked or head.hash != expected_prev:
        return VerifyResult(
            False,
            checked,
            checked + 1,
            _("Events after #%(seq)d were removed: the chain's head names #%(head)d.")
            % {"seq": checked, "head": head.seq},
        )
    # A row inserted behind Xueji's back lies beyond the head, which only record_event moves.
    latest_head = AuditHead.objects.filter(pk=1).first() or AuditHead(pk=1)
    stray = AuditEvent.objects.filter(seq__gt=latest_head.seq).order_by("seq").first()
    if stray is not None:
        return VerifyResult(
            False,
            checked,
            stray.seq,
            _("Event #%(seq)d lies beyond the chain's head: it was written outside Xueji.")
            % {"seq": stray.seq},
        )
    if progress is not None:
        progress(checked, total)
    return VerifyResult(
        True, checked, None, _("All %(count)d events are intact.") % {"count": checked}
    )
