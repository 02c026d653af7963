"""Issuing printed papers and checking them later (B4).

A form that prints calls `do_issue_paper` with the facts it states and prints the code it
gets back. The app that owns the data says, once, how to read those facts live
(`register_facts`, usually in its AppConfig.ready), so `check_paper` can compare a paper
with the registry today:

    register_facts("change_report", lambda target_id: change_report_facts(target_id))
"""

import hashlib
import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xueji.audit.services import changes, normalise, record_event
from xueji.core.errors import RuleViolation
from xueji.core.scope import scope_for
from xueji.reports.models import CODE_ALPHABET, CODE_LENGTH, IssuedPaper

FactsProvider = Callable[[str], dict[str, Any] | None]


@dataclass
class FactsSource:
    provider: FactsProvider
    # Readable names for the fact keys, shown to logged-in users on the verify page.
    labels: dict[str, str] = field(default_factory=dict)


_SOURCES: dict[str, FactsSource] = {}


def register_facts(kind: str, provider: FactsProvider, *, labels: dict[str, Any] | None = None):
    """Say how to read the live facts of a kind of paper: `provider(target_id)` returns
    the facts as the paper would state them now, or None when the target is gone."""
    _SOURCES[kind] = FactsSource(provider, dict(labels or {}))
    return provider


def facts_source(kind: str) -> FactsSource | None:
    return _SOURCES.get(kind)


def content_hash(facts: dict[str, Any]) -> str:
    """SHA-256 of the facts as canonical JSON (sorted keys, no spaces, dates as ISO)."""
    canonical = json.dumps(
        normalise(facts), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(typed: str) -> str:
    """The code as stored, from what a person typed: case and separators ignored."""
    return "".join(char for char in str(typed).upper() if char.isalnum())


def do_issue_paper(
    kind: str,
    target,
    facts: dict[str, Any],
    *,
    actor,
    unit=None,
    students: Iterable[int] | None = None,
) -> IssuedPaper:
    """Record a paper about to be printed and return it; print `paper.code` on it.

    `unit` is the unit the paper speaks for (the student's school, also when its central
    school prints it); it defaults to the actor's unit. The audit event names the target,
    so the target's history lists its printed papers; it holds no facts. A caller whose
    print writes no event of its own passes `students` (ids): every print of personal
    data is one audit event naming the students it carried (issue 8).
    """
    if kind not in IssuedPaper.Kind.values:
        raise RuleViolation(_("Unknown kind of paper: %(kind)s.") % {"kind": kind})
    if kind not in _SOURCES:
        # Without a way to read the live facts the paper could never be checked.
        raise RuleViolation(
            _("Papers of the kind %(kind)s cannot be verified yet.") % {"kind": kind}
        )
    if unit is None:
        unit = actor.unit if actor is not None else None
    if unit is None:
        raise RuleViolation(_("A printed paper must name the unit it speaks for."))
    if actor is not None and not scope_for(actor).can_see(unit):
        raise RuleViolation(_("This unit is outside your scope."))
    stored = normalise(facts)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                paper = IssuedPaper.objects.create(
                    code=new_code(),
                    kind=kind,
                    target_type=target._meta.label_lower,
                    target_id=str(target.pk),
                    content_hash=content_hash(stored),
                    facts=stored,
                    unit=unit,
                    issued_by=actor,
                )
                record_event(
                    "paper.issued",
                    actor=actor,
                    target=target,
                    unit=unit,
                    data={"code": paper.code, "kind": kind, "content_hash": paper.content_hash}
                    | ({"students": sorted(set(students))} if students is not None else {}),
                )
            return paper
        except IntegrityError:
            # Two codes of 50 random bits collide about never; try a new one if they do.
            continue
    raise RuntimeError("Could not find a free verification code.")


def do_revoke_paper(paper: IssuedPaper, *, actor) -> IssuedPaper:
    """Mark a paper as no longer valid (lost, replaced by a reprint); audited."""
    with transaction.atomic():
        paper = IssuedPaper.objects.select_for_update().get(pk=paper.pk)
        if paper.revoked_at is not None:
            raise RuleViolation(_("This paper was already revoked."))
        if actor is not None and not scope_for(actor).can_see(paper.unit):
            raise RuleViolation(_("This unit is outside your scope."))
        paper.revoked_at = timezone.now()
        paper.save(update_fields=["revoked_at"])
        record_event(
            "paper.revoked",
            actor=actor,
            target=paper,
            unit=paper.unit,
            data={"code": paper.code, "kind": paper.kind},
        )
    return paper


@dataclass
class Verdict:
    """What a printed paper's code says today. `paper`, `live_facts` and `differences`
    are for callers that checked the reader may see the unit; the rest is public."""

    state: str  # "valid" | "changed" | "revoked" | "unknown"
    code: str
    issued_at: datetime | None = None
    kind: str = ""
    kind_label: str = ""
    unit_name: str = ""
    paper: IssuedPaper | None = None
    live_facts: dict[str, Any] | None = None
    differences: dict[str, list[Any]] = field(default_factory=dict)

    VALID = "valid"
    CHANGED = "changed"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


def check_paper(code: str, current_facts_provider: FactsProvider | None = None) -> Verdict:
    """Compare the paper with this code with the live facts (from the provider given, or
    the one registered for its kind)."""
    normalised = normalise_code(code)
    paper = (
        IssuedPaper.objects.select_related("unit").filter(code=normalised).first()
        if len(normalised) == CODE_LENGTH
        else None
    )
    if paper is None:
        return Verdict(Verdict.UNKNOWN, normalised)
    verdict = Verdict(
        Verdict.VALID,
        paper.code,
        issued_at=paper.issued_at,
        kind=paper.kind,
        kind_label=str(paper.get_kind_display()),
        unit_name=paper.unit.name,
        paper=paper,
    )
    if current_facts_provider is None:
        source = _SOURCES.get(paper.kind)
        current_facts_provider = source.provider if source is not None else None
    live = current_facts_provider(paper.target_id) if current_facts_provider else None
    verdict.live_facts = normalise(live) if live is not None else None
    verdict.differences = changes(paper.facts, verdict.live_facts or {})
    if paper.revoked_at is not None:
        verdict.state = Verdict.REVOKED
    elif verdict.live_facts is None or content_hash(verdict.live_facts) != paper.content_hash:
        # A target that is gone, or a kind nobody can read any more, fails closed: the
        # reader is told to ask the issuing unit rather than trust the paper.
        verdict.state = Verdict.CHANGED
    return verdict
