"""`xueji import-students FILE --school CODE [--dry-run] [--valid-only] [--errors OUT.xlsx]
[--as LOGIN]`: import students from a spreadsheet, synchronously.

The same checks as the import page; it acts as the given user (by default the school's
designated registrar), prints how many rows were read, imported and refused, and exits
non-zero when any row was refused, so a script can tell.
"""

from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from xueji.core.errors import RuleViolation
from xueji.exchange import services
from xueji.orgs.models import Unit, User

# Problems printed one per line; the error workbook (--errors) holds them all.
SHOWN_PROBLEMS = 50


class Command(BaseCommand):
    help = "Import students from an Excel or CSV file into a school."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the filled-in template (.xlsx, .xls or .csv)")
        parser.add_argument("--school", required=True, help="the 10-digit school code")
        parser.add_argument("--dry-run", action="store_true", help="check only, write nothing")
        parser.add_argument(
            "--valid-only", action="store_true", help="import the valid rows, refuse the others"
        )
        parser.add_argument("--errors", help="write the refused rows with their errors here")
        parser.add_argument(
            "--as", dest="login", help="act as this user (default: the designated registrar)"
        )

    def handle(self, *args, file, school, dry_run, valid_only, errors, login, **options):
        unit = Unit.objects.filter(kind=Unit.Kind.SCHOOL, school_code=school).first()
        if unit is None:
            raise CommandError(f"no school with the code {school!r}")
        actor = self._actor(unit, login)
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"no such file: {file}")
        try:
            report = services.import_students(
                path.read_bytes(),
                path.name,
                actor=actor,
                school=unit,
                school_year=services.school_year_for(unit),
                dry_run=dry_run,
                valid_only=valid_only,
            )
        except (RuleViolation, PermissionDenied) as error:
            raise CommandError(str(error)) from error
        for row, _key, message in report.errors[:SHOWN_PROBLEMS]:
            self.stderr.write(f"row {row}: {message}")
        if len(report.errors) > SHOWN_PROBLEMS:
            self.stderr.write(f"... and {len(report.errors) - SHOWN_PROBLEMS} more problems")
        if errors and report.error_workbook:
            Path(errors).write_bytes(report.error_workbook)
            self.stderr.write(f"rows with problems written to {errors}")
        counts = f"read {report.read}, imported {report.imported}, refused {report.refused}"
        if report.held:
            counts += f", held for the bureau {report.held}"
        if dry_run:
            counts += f" (dry run: {report.would_import} would be imported)"
        self.stdout.write(counts)
        if report.refused:
            raise CommandError(f"{report.refused} rows refused", returncode=1)

    def _actor(self, school: Unit, login: str | None) -> User:
        users = User.objects.filter(is_active=True)
        if login:
            actor = users.filter(username=login).first()
            if actor is None:
                raise CommandError(f"no active user {login!r}")
            return actor
        actor = users.filter(unit=school, is_designated_registrar=True).first()
        if actor is None:
            raise CommandError(f"{school.name} has no designated registrar; name one with --as")
        return actor
