"""`xueji export-changes --school CODE [--school CODE ...] [--grade G ...] --from DATE
--to DATE -o FILE --user LOGIN [--round ID]`: a signed change package (C8), as the export
page makes it, written to FILE. Exits non-zero, with the reason, when it is refused."""

import datetime
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from xueji.core.errors import RuleViolation
from xueji.core.scope import scope_for
from xueji.packages import services
from xueji.packages.cli import acting_user
from xueji.packages.units import unit_by_code


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"not a date (YYYY-MM-DD): {text!r}") from None


class Command(BaseCommand):
    help = "Export the changes of schools, grades and a date range as a signed package."

    def add_arguments(self, parser):
        parser.add_argument(
            "--school", action="append", required=True, help="a 10-digit school code (repeat)"
        )
        parser.add_argument(
            "--grade", action="append", type=int, help="a grade 1-9 (repeat; default: all)"
        )
        parser.add_argument("--from", dest="date_from", required=True, help="YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", required=True, help="YYYY-MM-DD")
        parser.add_argument("-o", "--output", required=True, help="the package file to write")
        parser.add_argument("--user", required=True, help="act as this user")
        parser.add_argument("--round", type=int, help="the reporting round's id")

    def handle(self, *args, school, grade, date_from, date_to, output, user, round, **options):
        actor = acting_user(user)
        scope = scope_for(actor)
        schools = []
        for code in school:
            found = unit_by_code(code, scope.county())
            if found is None or not found.is_school:
                raise CommandError(f"no school with the code {code!r} in your county")
            schools.append(found)
        change_round = None
        if round is not None:
            change_round = scope.rounds().filter(pk=round).first()
            if change_round is None:
                raise CommandError(f"no reporting round {round} in your county")
        try:
            package = services.do_export_changes(
                actor=actor,
                schools=schools,
                grades=grade or None,
                date_from=_date(date_from),
                date_to=_date(date_to),
                round=change_round,
            )
        except (RuleViolation, PermissionDenied) as error:
            raise CommandError(f"refused: {error}") from error
        with package.file.open("rb") as handle:
            Path(output).write_bytes(handle.read())
        self.stdout.write(
            f"package {package.sequence} of {package.unit.name}: "
            f"{package.counts.get('changes', 0)} changes, "
            f"{package.counts.get('evidence', 0)} evidence files -> {output} "
            f"(sha256 {package.sha256})"
        )
