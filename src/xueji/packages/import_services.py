"""Importing change packages at the bureau (C8, B6): verification first, then the
reconciliation of each change against the live registry.

`preview_package` verifies and reconciles without writing; `do_import_package` does the
same and then, in one transaction, keeps the package, each change with its verdict, and
enters an offline unit's unknown changes into the bureau's queue through the changes
services, keeping their uid, at the step they carry but never beyond "submitted": nothing
skips the Wednesday session (C6).

A refused package writes nothing but one audit event (`package.refused`) naming the
reason, so the bureau can see that an altered or replayed file was presented. Importing a
package already imported (same SHA-256) changes nothing and says when it was imported.
"""

import dataclasses
import datetime
import uuid
from collections import Counter
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xueji.audit.services import record_event
from xueji.changes import services as changes
from xueji.changes.models import ChangeRequest, Kind, State
from xueji.changes.services import _step as log_step
from xueji.core.errors import RuleViolation
from xueji.core.scope import Scope, scope_for
from xueji.orgs.models import Unit
from xueji.packages import format
from xueji.packages.change_data import CarriedChange, parse_changes, rank
from xueji.packages.installation import this_installation
from xueji.packages.intake_data import CarriedEntry, parse_entries
from xueji.packages.intake_import import PreviewEntry, import_entries, preview_entries
from xueji.packages.models import (
    ChangeRound,
    Package,
    PackageChange,
    PackageIntakeEntry,
    SigningKey,
)
from xueji.packages.reconcile import Judgement, judge
from xueji.packages.units import schools_of, unit_by_code, unit_code
from xueji.students.rules import mask_id_number

CONTENTS = (Package.Content.CHANGES,)


# --- verification ---------------------------------------------------------------------------


@dataclasses.dataclass
class Verified:
    package: format.VerifiedPackage
    key: SigningKey
    unit: Unit
    package_id: uuid.UUID
    sequence: int
    made_at: datetime.datetime
    changes: list[CarriedChange]
    reported: list[Unit]
    # An offline unit's new pupils (intake_data.py), none for other packages.
    entries: list[CarriedEntry] = dataclasses.field(default_factory=list)

    @property
    def manifest(self) -> dict[str, Any]:
        return self.package.manifest

    @property
    def reported_ids(self) -> set[int]:
        return {school.pk for school in self.reported}


def _require_import(actor) -> Scope:
    scope = scope_for(actor)
    if scope.level != scope.COUNTY or not scope.may("packages.import"):
        raise PermissionDenied(_("Only the bureau registrar imports change packages."))
    return scope


def _key_finder(county):
    def find(fingerprint: str) -> format.KnownKey | None:
        key = (
            SigningKey.objects.select_related("unit")
            .filter(fingerprint=fingerprint, unit__county=county)
            .first()
        )
        if key is None:
            return None
        if key.revoked_at is not None:
            return format.KnownKey(public=format.unb64(key.public_key), revoked=True)
        if key.registered_at is None:
            raise format.PackageRefused(
                "unregistered_key",
                _(
                    "The package is signed with the key of %(unit)s (%(fingerprint)s), which "
                    "the bureau has not registered yet: compare the fingerprint with the unit "
                    "and register the key first."
                )
                % {"unit": key.unit.name, "fingerprint": key.short_fingerprint},
            )
        return format.KnownKey(public=format.unb64(key.public_key), revoked=False)

    return find


def _bad_manifest(what: str) -> format.PackageRefused:
    return format.PackageRefused(
        "bad_manifest", _("The package's manifest has no valid %(field)s.") % {"field": what}
    )


def _outside(message: str) -> format.PackageRefused:
    return format.PackageRefused("outside_scope", message)


def verify(data: bytes, *, actor, contents: tuple[str, ...] = CONTENTS) -> Verified:
    """Every byte, the signature, the key, and the unit against the key and the bureau's
    county; raises PackageRefused naming the first thing wrong. `contents` are the kinds of
    package the caller reads (a students package for an offline installation's seed goes
    through the same checks)."""
    scope = _require_import(actor)
    limit = settings.XUEJI_PACKAGE_MAX_BYTES
    if len(data) > limit:
        raise format.PackageRefused(
            "too_large",
            _("The file is larger than %(limit)d MB.") % {"limit": limit // (1024 * 1024)},
        )
    county = scope.county()
    package = format.read(data, _key_finder(county))
    manifest = package.manifest
    key = SigningKey.objects.select_related("unit__county").get(
        fingerprint=manifest["key_fingerprint"], unit__county=county
    )
    try:
        package_id = uuid.UUID(str(manifest.get("package_id")))
    except ValueError:
        raise _bad_manifest("package_id") from None
    sequence = manifest.get("sequence")
    if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 1:
        raise _bad_manifest("sequence")
    try:
        made_at = datetime.datetime.fromisoformat(str(manifest.get("made_at")))
    except ValueError:
        raise _bad_manifest("made_at") from None
    if timezone.is_naive(made_at):
        made_at = timezone.make_aware(made_at)
    unit_facts = manifest.get("unit")
    if not isinstance(unit_facts, dict):
        raise _bad_manifest("unit")
    unit = unit_by_code(str(unit_facts.get("code", "")), county)
    if unit is None or unit.pk != key.unit_id or not scope.can_see(unit):
        raise _outside(
            _(
                "The package names the unit %(named)s, but it is signed with the key of "
                "%(unit)s: a unit outside the key's scope."
            )
            % {"named": unit_facts.get("name") or unit_facts.get("code"), "unit": key.unit.name}
        )
    if manifest.get("content") not in contents:
        raise format.PackageRefused(
            "wrong_content", _("This package does not hold changes; it cannot be imported here.")
        )
    selection = manifest.get("selection")
    if not isinstance(selection, dict) or not isinstance(selection.get("schools"), list):
        raise _bad_manifest("selection")
    allowed = {school.pk: school for school in schools_of(unit)}
    reported = []
    for code in selection["schools"]:
        school = unit_by_code(str(code), county)
        if school is None or school.pk not in allowed:
            raise _outside(
                _("The package reports on %(school)s, outside the scope of %(unit)s's key.")
                % {"school": code, "unit": unit.name}
            )
        reported.append(school)
    return Verified(
        package=package,
        key=key,
        unit=unit,
        package_id=package_id,
        sequence=sequence,
        made_at=made_at,
        changes=parse_changes(package) if manifest["content"] == Package.Content.CHANGES else [],
        reported=reported,
        entries=parse_entries(package) if manifest["content"] == Package.Content.CHANGES else [],
    )


def already_imported(verified: Verified) -> Package | None:
    """The package imported before with these very bytes; or a refusal when another
    package with its id, or an older number of its key, was: a replay."""
    imports = Package.objects.filter(direction=Package.Direction.IMPORT)
    same = imports.filter(sha256=verified.package.sha256).select_related("handled_by").first()
    if same is not None:
        return same
    other = imports.filter(package_id=verified.package_id).first()
    if other is not None:
        raise format.PackageRefused(
            "replay",
            _(
                "Another package with this package's id was imported on %(date)s: this file "
                "is a replay or a forgery."
            )
            % {"date": timezone.localtime(other.handled_at).strftime("%Y-%m-%d %H:%M")},
        )
    newest = (
        imports.filter(key=verified.key).order_by("-sequence").values_list("sequence", flat=True)
    ).first()
    if newest is not None and verified.sequence <= newest:
        raise format.PackageRefused(
            "replay",
            _(
                "This is package number %(sequence)d of %(unit)s, but number %(newest)d was "
                "imported already: an older package sent again. Ask the unit for a new export."
            )
            % {"sequence": verified.sequence, "unit": verified.unit.name, "newest": newest},
        )
    return None


def _record_refusal(data: bytes, refusal: format.PackageRefused, *, actor, dry_run: bool):
    """The one trace a refused package leaves, in its own transaction."""
    record_event(
        "package.refused",
        actor=actor,
        data={
            "code": refusal.code,
            "message": refusal.message,
            "sha256": format.sha256(data),
            "size": len(data),
            "dry_run": dry_run,
        },
    )


def _already_message(package: Package) -> str:
    return _("Already imported on %(date)s by %(who)s: nothing changed.") % {
        "date": timezone.localtime(package.handled_at).strftime("%Y-%m-%d %H:%M"),
        "who": package.handled_by.display_name if package.handled_by else "—",
    }


# --- preview ---------------------------------------------------------------------------------


@dataclasses.dataclass
class PreviewChange:
    carried: CarriedChange
    judgement: Judgement

    @property
    def kind_label(self) -> str:
        try:
            return str(Kind(self.carried.kind).label)
        except ValueError:
            return self.carried.kind

    @property
    def state_label(self) -> str:
        return str(State(self.carried.state).label)

    @property
    def masked_id(self) -> str:
        return mask_id_number(self.carried.id_number)


@dataclasses.dataclass
class Preview:
    verified: Verified
    changes: list[PreviewChange]
    already: Package | None
    round: ChangeRound | None
    # An offline unit's new pupils with their verdicts (intake_import.py).
    entries: list[PreviewEntry] = dataclasses.field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(item.judgement.verdict for item in self.changes)
        return {verdict: found.get(verdict, 0) for verdict in PackageChange.Verdict.values}

    @property
    def verdict_counts(self) -> list[tuple[str, str, int]]:
        counts = self.counts
        return [
            (value, str(label), counts[value]) for value, label in PackageChange.Verdict.choices
        ]

    @property
    def to_enter(self) -> int:
        return sum(1 for item in self.changes if item.judgement.action)

    @property
    def entry_counts(self) -> dict[str, int]:
        found = Counter(item.judgement.verdict for item in self.entries)
        return {verdict: found.get(verdict, 0) for verdict in PackageIntakeEntry.Verdict.values}

    @property
    def entry_verdict_counts(self) -> list[tuple[str, str, int]]:
        counts = self.entry_counts
        return [
            (value, str(label), counts[value])
            for value, label in PackageIntakeEntry.Verdict.choices
        ]

    @property
    def entries_to_enter(self) -> int:
        return sum(1 for item in self.entries if item.judgement.action == "enter")

    @property
    def message(self) -> str:
        return _already_message(self.already) if self.already else ""


def _round_for(verified: Verified, county) -> ChangeRound | None:
    """The reporting round the package answers: the one it names, when it was made on
    this installation, else the county's round with exactly its date range."""
    selection = _mapping(verified.manifest.get("selection"))
    named = selection.get("round")
    installation = _mapping(verified.manifest.get("installation"))
    rounds = ChangeRound.objects.filter(county=county)
    if isinstance(named, dict) and str(installation.get("id")) == str(this_installation().id):
        found = rounds.filter(pk=int(named.get("id") or 0)).first()
        if found is not None:
            return found
    try:
        date_from = datetime.date.fromisoformat(str(selection.get("from")))
        date_to = datetime.date.fromisoformat(str(selection.get("to")))
    except ValueError:
        return None
    return rounds.filter(changes_from=date_from, changes_to=date_to).order_by("-due_date").first()


def _check_round(round: ChangeRound | None, scope: Scope) -> None:
    if round is not None and not scope.rounds().filter(pk=round.pk).exists():
        raise PermissionDenied(_("This reporting round is outside your scope."))


def preview_package(data: bytes, *, actor, round: ChangeRound | None = None) -> Preview:
    """Verify and reconcile without writing (a refusal is audited, nothing else)."""
    scope = _require_import(actor)
    _check_round(round, scope)
    try:
        verified = verify(data, actor=actor)
        already = already_imported(verified)
    except format.PackageRefused as refusal:
        _record_refusal(data, refusal, actor=actor, dry_run=True)
        raise
    county = scope.county()
    changes_ = [
        PreviewChange(carried, judge(carried, county=county, reported=verified.reported_ids))
        for carried in verified.changes
    ]
    entries = preview_entries(verified.entries, county=county, reported=verified.reported_ids)
    return Preview(verified, changes_, already, round or _round_for(verified, county), entries)


# --- import --------------------------------------------------------------------------------


@dataclasses.dataclass
class ImportResult:
    package: Package
    already: bool
    counts: dict[str, int]
    entered: int
    # An offline unit's new pupils: verdict counts, and how many entered the intake.
    entry_counts: dict[str, int] = dataclasses.field(default_factory=dict)
    entries_entered: int = 0

    @property
    def message(self) -> str:
        if self.already:
            return _already_message(self.package)
        text = _(
            "Imported package number %(sequence)d of %(unit)s: %(total)d changes; "
            "%(reconciled)d match the registry, %(pending)d pending, %(unknown)d unknown "
            "(%(entered)d entered into the queue), %(conflicting)d conflicting."
        ) % {
            "sequence": self.package.sequence,
            "unit": self.package.unit.name,
            "total": sum(self.counts.values()),
            "entered": self.entered,
            **{verdict: self.counts.get(verdict, 0) for verdict in PackageChange.Verdict.values},
        }
        if sum(self.entry_counts.values()):
            text += " " + _(
                "New pupils: %(total)d; %(new)d new (%(entered)d entered into the intake for "
                "review), %(known)d already known, %(conflicting)d conflicting."
            ) % {
                "total": sum(self.entry_counts.values()),
                "entered": self.entries_entered,
                **{
                    verdict: self.entry_counts.get(verdict, 0)
                    for verdict in PackageIntakeEntry.Verdict.values
                },
            }
        return text


def do_import_package(data: bytes, *, actor, round: ChangeRound | None = None) -> ImportResult:
    """Verify, reconcile and keep the package; enter an offline unit's changes. One
    transaction: all of it, or (on a refusal) nothing but the refusal's audit event."""
    scope = _require_import(actor)
    _check_round(round, scope)
    try:
        with transaction.atomic():
            verified = verify(data, actor=actor)
            # One import per key at a time: the replay check and the new row stay together.
            key = SigningKey.objects.select_for_update().get(pk=verified.key.pk)
            already = already_imported(verified)
            if already is not None:
                verdicts = Counter(already.changes.values_list("verdict", flat=True))
                return ImportResult(already, True, dict(verdicts), 0)
            return _import(verified, key, data, actor=actor, scope=scope, round=round)
    except format.PackageRefused as refusal:
        _record_refusal(data, refusal, actor=actor, dry_run=False)
        raise


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _import(verified: Verified, key: SigningKey, data: bytes, *, actor, scope, round):
    county = scope.county()
    manifest = verified.manifest
    made_by = _mapping(manifest.get("made_by"))
    installation = _mapping(manifest.get("installation"))
    try:
        installation_id = uuid.UUID(str(installation.get("id")))
    except ValueError:
        raise _bad_manifest("installation") from None
    package = Package(
        package_id=verified.package_id,
        direction=Package.Direction.IMPORT,
        content=manifest["content"],
        unit=verified.unit,
        key=key,
        sequence=verified.sequence,
        installation_id=installation_id,
        made_by=str(made_by.get("name") or made_by.get("login") or "")[:80],
        made_at=verified.made_at,
        selection=manifest.get("selection") or {},
        counts=manifest.get("counts") if isinstance(manifest.get("counts"), dict) else {},
        sha256=verified.package.sha256,
        round=round or _round_for(verified, county),
        handled_by=actor,
    )
    package.file.save(
        f"import-{unit_code(verified.unit)}-{verified.sequence:04d}.zip",
        ContentFile(data),
        save=False,
    )
    package.save()
    verdicts: Counter[str] = Counter()
    entered = 0
    for carried in verified.changes:
        judgement = judge(carried, county=county, reported=verified.reported_ids)
        judgement, did = _act(carried, judgement, verified, actor=actor)
        entered += did
        verdicts[judgement.verdict] += 1
        PackageChange.objects.create(
            package=package,
            change_uid=carried.uid,
            kind=carried.kind,
            state=carried.state,
            school=judgement.school,
            student_name=carried.name,
            id_number=carried.id_number,
            effective_date=carried.effective_date,
            data=carried.raw,
            verdict=judgement.verdict,
            reason=judgement.reason[:300],
            request=judgement.request,
            entered=bool(did),
        )
    entry_counts, entries_entered = import_entries(
        verified.entries,
        verified.package.members,
        package,
        county=county,
        reported=verified.reported_ids,
        actor=actor,
    )
    key.last_sequence = max(key.last_sequence, verified.sequence)
    key.save(update_fields=["last_sequence"])
    package.counts = {
        **package.counts,
        "verdicts": {verdict: verdicts.get(verdict, 0) for verdict in PackageChange.Verdict.values},
        "entered": entered,
    }
    if verified.entries:
        package.counts["intake_verdicts"] = entry_counts
        package.counts["intake_entered"] = entries_entered
    package.save(update_fields=["counts"])
    record_event(
        "package.imported",
        actor=actor,
        target=package,
        data={
            "package_id": str(verified.package_id),
            "unit": unit_code(verified.unit),
            "sequence": verified.sequence,
            "sha256": package.sha256,
            "verdicts": package.counts["verdicts"],
            "entered": entered,
            "round": package.round_id,
            "intake_verdicts": package.counts.get("intake_verdicts"),
        },
    )
    return ImportResult(package, False, dict(verdicts), entered, entry_counts, entries_entered)


# --- entering an offline unit's changes ---------------------------------------------------------


def _act(carried: CarriedChange, judgement: Judgement, verified: Verified, *, actor):
    """Do what the judgement says, through the changes services; a rule of the registry
    that refuses it makes the change conflicting, with the rule's sentence."""
    if not judgement.action:
        return judgement, 0
    try:
        with transaction.atomic():
            if judgement.action == "enter":
                request, note = _enter(carried, judgement, verified, actor=actor)
                reason = _("Entered into the bureau's queue at “%(state)s”.") % {
                    "state": request.get_state_display()
                }
            elif judgement.action == "advance":
                assert judgement.request is not None
                request, note = _walk(
                    judgement.request, carried, judgement.target_state, verified, actor=actor
                )
                reason = _("Moved to “%(state)s”, as the package says.") % {
                    "state": request.get_state_display()
                }
            else:
                assert judgement.request is not None
                request = changes.do_withdraw(
                    judgement.request, actor=actor, reason=_withdraw_reason(carried)
                )
                note, reason = "", _("Withdrawn, as the unit did.")
    except (RuleViolation, PermissionDenied) as refusal:
        return (
            dataclasses.replace(
                judgement,
                verdict=PackageChange.Verdict.CONFLICTING,
                reason=_("The registry's rules refuse it: %(message)s") % {"message": str(refusal)},
                action="",
            ),
            0,
        )
    return dataclasses.replace(judgement, request=request, reason=f"{reason} {note}".strip()), 1


def _withdraw_reason(carried: CarriedChange) -> str:
    step = carried.step("withdrawn")
    comment = str(step.get("comment") or "") if step else ""
    return comment or _("Withdrawn at the unit (change package).")


def _origin(step: dict[str, Any] | None) -> str:
    """Who did a step at the unit, as the package names them."""
    if not step:
        return ""
    who = step.get("by")
    if not isinstance(who, dict):
        return ""
    return str(who.get("name") or who.get("login") or "")


def _enter(carried: CarriedChange, judgement: Judgement, verified: Verified, *, actor):
    assert judgement.record is not None
    request = changes.do_create_request(
        judgement.record,
        carried.kind,
        actor=actor,
        reason=carried.reason,
        effective_date=carried.effective_date,
        reason_note=carried.reason_note,
        to_school=judgement.to_school,
        outside_school=carried.outside_school,
        to_grade=carried.to_grade,
        to_class=carried.to_class,
        corrections={key: values[1] for key, values in carried.corrections.items()} or None,
    )
    # The request keeps its identity from the unit that made it: the next package names
    # it by this uid, and the reconciliation finds it.
    ChangeRequest.objects.filter(pk=request.pk).update(uid=carried.uid)
    request.uid = carried.uid
    log_step(
        request,
        "imported",
        actor=actor,
        comment=_("Entered from package number %(sequence)d of %(unit)s, made by %(who)s.")
        % {
            "sequence": verified.sequence,
            "unit": verified.unit.name,
            "who": _origin({"by": verified.manifest.get("made_by")}),
        },
    )
    return _walk(request, carried, judgement.target_state, verified, actor=actor)


def _moment(value: Any) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(str(value))
    except ValueError:
        raise RuleViolation(_("The package gives a signature without a valid time.")) from None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _walk(
    request: ChangeRequest, carried: CarriedChange, target: str, verified: Verified, *, actor
) -> tuple[ChangeRequest, str]:
    """Take the request through the steps the unit took, up to `target` (at most
    "submitted"). The steps the bureau may take for a school go through the changes
    services; the signatures and the central school's stamp, which only the people at the
    unit can give, are carried as the package states them, each logged as a step."""
    members = verified.package.members
    goal = rank(target)
    if (
        carried.kind == Kind.TRANSFER
        and request.receiving_confirmed_at is None
        and carried.signature("receiving_school")
        and carried.to_grade
        and carried.to_class
    ):
        changes.do_confirm_receiving(
            request, actor=actor, to_grade=carried.to_grade, to_class=carried.to_class
        )
    request = ChangeRequest.objects.get(pk=request.pk)
    if request.state == State.DRAFT:
        present = set(request.evidence.values_list("document", "sha256"))
        for item in carried.documents:
            content = members[item["file"]]
            if (item["document"], format.sha256(content)) in present:
                continue
            evidence = changes.do_add_evidence(request, item["document"], content, actor=actor)
            if item.get("checked_at"):
                changes.do_check_evidence(evidence, actor=actor)
        if goal > rank(State.DRAFT):
            request = changes.do_pass_documents(request, actor=actor)
    if request.state == State.DOCUMENTS_CHECKED and goal > rank(State.DOCUMENTS_CHECKED):
        request = changes.do_mark_report_printed(request, actor=actor)
    if request.state == State.REPORT_PRINTED and goal > rank(State.REPORT_PRINTED):
        request = _carry_signatures(request, carried, members, actor=actor)
    if (
        request.state == State.SIGNED
        and changes.needs_central_review(request)
        and goal > rank(State.SIGNED)
    ):
        request = _carry_central_review(request, carried, actor=actor)
    if goal >= rank(State.SUBMITTED) and request.state in (State.SIGNED, State.CENTRAL_REVIEWED):
        if changes.needs_central_review(request) and request.state != State.CENTRAL_REVIEWED:
            return request, _("It waits for the central school's review before it is submitted.")
        if request.kind == Kind.TRANSFER and request.receiving_confirmed_at is None:
            return request, _(
                "It waits for the receiving school's confirmation before it is submitted."
            )
        proxy = carried.proxy if carried.proxy and carried.proxy.get("name") else None
        request = changes.do_submit(
            request,
            actor=actor,
            proxy={
                field: str(proxy.get(field) or "")
                for field in ("name", "id_number", "relation", "call_note")
            }
            if proxy
            else None,
        )
    return request, ""


def _carry_signatures(
    request: ChangeRequest, carried: CarriedChange, members: dict[str, bytes], *, actor
) -> ChangeRequest:
    registrar, leader = carried.signature("registrar"), carried.signature("leader")
    scan = carried.signed_scan
    if registrar is None or leader is None or scan is None:
        raise RuleViolation(
            _(
                "The package says the report was signed but lacks a signature or the scan "
                "of the signed and stamped report."
            )
        )
    with transaction.atomic():
        locked = ChangeRequest.objects.select_for_update().get(pk=request.pk)
        locked.registrar_signed_at = _moment(registrar["at"])
        locked.leader_signed_at = _moment(leader["at"])
        log_step(
            locked,
            "signed",
            actor=actor,
            comment=_("Signed at the unit by %(registrar)s and %(leader)s (change package).")
            % {"registrar": _origin(registrar), "leader": _origin(leader)},
        )
    return changes.do_upload_signed_scan(locked, members[scan["file"]], actor=actor)


def _carry_central_review(
    request: ChangeRequest, carried: CarriedChange, *, actor
) -> ChangeRequest:
    step = carried.step("central_reviewed")
    if step is None:
        return request
    with transaction.atomic():
        locked = ChangeRequest.objects.select_for_update().get(pk=request.pk)
        if locked.state != State.SIGNED:
            return locked
        locked.state = State.CENTRAL_REVIEWED
        log_step(
            locked,
            "central_reviewed",
            actor=actor,
            comment=_("Re-reviewed and stamped by %(who)s at the central school (change package).")
            % {"who": _origin(step) or "—"},
        )
    return locked


# --- the bureau's check ---------------------------------------------------------------------


def do_check_package_change(change: PackageChange, *, actor, note: str = "") -> PackageChange:
    """The bureau has checked this change against the papers (C8: "checks each change")."""
    scope = _require_import(actor)
    if not scope.packages().filter(pk=change.package_id).exists():
        raise PermissionDenied(_("This package is outside your scope."))
    with transaction.atomic():
        change = PackageChange.objects.select_for_update().get(pk=change.pk)
        if change.checked_at is not None:
            raise RuleViolation(
                _("This change was checked on %(date)s.")
                % {"date": timezone.localtime(change.checked_at).strftime("%Y-%m-%d %H:%M")}
            )
        change.checked_at, change.checked_by = timezone.now(), actor
        change.check_note = note.strip()[:300]
        change.save(update_fields=["checked_at", "checked_by", "check_note"])
        record_event(
            "package_change.checked",
            actor=actor,
            target=change,
            data={
                "package": change.package_id,
                "change_uid": str(change.change_uid),
                "verdict": change.verdict,
                "note": change.check_note,
            },
        )
    return change


def stored_bytes(package: Package) -> bytes:
    """The file of a package this installation exported, to import it without a download."""
    with package.file.open("rb") as handle:
        return handle.read()
