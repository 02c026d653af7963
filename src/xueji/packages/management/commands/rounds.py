"""`xueji rounds`: the reporting rounds (C8) from the command line, acting as a named user.

    xueji rounds list --user LOGIN
    xueji rounds show ID --user LOGIN [--status reported|not_yet|overdue]
    xueji rounds announce --title T --from DATE --to DATE --due DATE --user LOGIN
    xueji rounds due ID --due DATE --user LOGIN
    xueji rounds cancel ID --user LOGIN
    xueji rounds report ID --user LOGIN

The same services and scope as the pages: a user sees the statuses their scope shows, the
bureau registrar announces, moves and cancels extra rounds, a school's registrar reports.
"""

import datetime

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from xueji.core import calendar
from xueji.core.errors import RuleViolation
from xueji.core.scope import scope_for
from xueji.orgs.models import User
from xueji.packages import round_services, rounds
from xueji.packages.models import ChangeRound


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"not a date (YYYY-MM-DD): {text!r}") from error


class Command(BaseCommand):
    help = "List, show, announce, move, cancel or report in the change reporting rounds (C8)."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("list", help="the county's rounds with their counts")
        show = actions.add_parser("show", help="one round with the schools' statuses")
        show.add_argument("id", type=int)
        show.add_argument("--status", choices=rounds.STATES)
        announce = actions.add_parser("announce", help="announce an extra round (bureau)")
        announce.add_argument("--title", required=True)
        announce.add_argument("--from", dest="changes_from", required=True, type=_date)
        announce.add_argument("--to", dest="changes_to", required=True, type=_date)
        announce.add_argument("--due", dest="due_date", required=True, type=_date)
        due = actions.add_parser("due", help="move an extra round's due date (bureau)")
        due.add_argument("id", type=int)
        due.add_argument("--due", dest="due_date", required=True, type=_date)
        cancel = actions.add_parser("cancel", help="cancel an extra round nobody reported in")
        cancel.add_argument("id", type=int)
        report = actions.add_parser("report", help="report your school's changes in a round")
        report.add_argument("id", type=int)
        for sub in (listing, show, announce, due, cancel, report):
            sub.add_argument("--user", required=True, help="act as this login")

    def handle(self, *args, action, user, **options):
        actor = User.objects.filter(username=user, is_active=True).first()
        if actor is None:
            raise CommandError(f"no active user {user!r}")
        scope = scope_for(actor)
        try:
            getattr(self, f"_{action}")(actor, scope, **options)
        except RuleViolation as error:
            raise CommandError(error.message) from error
        except PermissionDenied as error:
            raise CommandError(str(error) or "not allowed") from error

    def _round(self, scope, pk: int) -> ChangeRound:
        found = scope.rounds().select_related("semester__school_year").filter(pk=pk).first()
        if found is None:
            raise CommandError(f"no reporting round #{pk} in your county")
        return found

    def _schools(self, scope):
        return list(rounds.visible_schools(scope))

    def _list(self, actor, scope, **options):
        scope.require("changes.view")
        schools = self._schools(scope)
        for change_round in scope.rounds().select_related("semester__school_year"):
            statuses = rounds.school_statuses(change_round, schools, with_findings=False)
            counts = rounds.state_counts(statuses.values())
            self.stdout.write(
                f"#{change_round.pk} {rounds.round_title(change_round)}: "
                f"{change_round.changes_from}..{change_round.changes_to}, "
                f"due {change_round.due_date}; reported {counts['reported']}, "
                f"not yet {counts['not_yet']}, overdue {counts['overdue']}"
            )

    def _show(self, actor, scope, *, id, status, **options):
        scope.require("changes.view")
        change_round = self._round(scope, id)
        self.stdout.write(
            f"#{change_round.pk} {rounds.round_title(change_round)}: "
            f"{change_round.changes_from}..{change_round.changes_to}, due {change_round.due_date}"
        )
        for found in rounds.school_statuses(change_round, self._schools(scope)).values():
            if status and found.state != status:
                continue
            line = f"  {found.school.school_code} {found.school.name}: {found.state}"
            if found.package is not None:
                line += (
                    f" at {timezone.localtime(found.reported_at):%Y-%m-%d %H:%M}, "
                    f"{found.changes} change(s), "
                    f"{found.findings} finding(s)"
                )
            self.stdout.write(line)

    def _announce(self, actor, scope, *, changes_from, changes_to, due_date, title, **options):
        change_round = round_services.do_announce_round(
            actor=actor,
            title=title,
            changes_from=changes_from,
            changes_to=changes_to,
            due_date=due_date,
        )
        self.stdout.write(f"round #{change_round.pk} announced, due {change_round.due_date}")

    def _due(self, actor, scope, *, id, due_date, **options):
        scope.require("rounds.manage")
        change_round = round_services.do_change_round_due_date(
            self._round(scope, id), due_date, actor=actor
        )
        self.stdout.write(f"round #{change_round.pk} now due {change_round.due_date}")

    def _cancel(self, actor, scope, *, id, **options):
        scope.require("rounds.manage")
        round_services.do_cancel_round(self._round(scope, id), actor=actor)
        self.stdout.write(f"round #{id} cancelled")

    def _report(self, actor, scope, *, id, **options):
        change_round = self._round(scope, id)
        if scope.unit is None:
            raise CommandError("this user belongs to no unit")
        package = round_services.do_report_round(change_round, scope.unit, actor=actor)
        self.stdout.write(
            f"{scope.unit.name} reported in round #{change_round.pk} on {calendar.today()}: "
            f"package #{package.sequence}, {rounds.package_change_count(package)} change(s)"
        )
