"""`xueji export-national [--school CODE ...] [--grade G] [--status S] -o FILE --user LOGIN`:
student records in the national system's import layout (P1), synchronously.

The same selection, checks and audit event as the page: it acts as the named user (the
file holds full ID numbers, so a role that may reveal them), within that user's scope.
One school gives an .xlsx workbook, several a .zip with one workbook per school; no
--school means every school of the user's scope.
"""

from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404

from xueji.core.errors import RuleViolation
from xueji.core.scope import scope_for
from xueji.exchange import national
from xueji.orgs.models import User


class Command(BaseCommand):
    help = "Export student records in the national system's import layout (xlsx, or zip)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--school",
            action="append",
            default=[],
            metavar="CODE",
            help="a 10-digit school code; repeat for several (default: every school in scope)",
        )
        parser.add_argument("--grade", type=int, help="1 to 9 (default: every grade)")
        parser.add_argument(
            "--status",
            default=national.DEFAULT_STATUS,
            choices=national.STATUS_CHOICES,
            help="whose records (default: enrolled, the students at school)",
        )
        parser.add_argument("-o", "--output", required=True, help="the .xlsx or .zip to write")
        parser.add_argument("--user", required=True, help="act as this user (login name)")

    def handle(self, *args, school, grade, status, output, user, **options):
        actor = User.objects.filter(username=user, is_active=True).first()
        if actor is None:
            raise CommandError(f"no active user {user!r}")
        scope = scope_for(actor)
        ids = []
        for code in school:
            unit = scope.schools().filter(school_code=code.strip()).first()
            if unit is None:
                raise CommandError(f"no school with the code {code!r} in the scope of {user}")
            ids.append(unit.pk)
        path = Path(output)
        try:
            selection = national.NationalSelection.from_params(
                {"school": ids, "grade": grade or "", "status": status}
            )
            # The kind of file is known before anything is written or audited.
            wanted = ".zip" if national.school_count(selection, actor=actor) > 1 else ".xlsx"
            if path.suffix.lower() != wanted:
                what = "a zip of one workbook per school" if wanted == ".zip" else "one workbook"
                raise CommandError(
                    f"this selection gives {what}: name the output {path.with_suffix(wanted).name}"
                )
            exported = national.export_national(selection, actor=actor)
        except (RuleViolation, PermissionDenied, Http404) as error:
            raise CommandError(str(error)) from error
        path.write_bytes(exported.content)
        self.stdout.write(
            f"exported {exported.count} records of {len(exported.schools)} school(s) to {output}"
        )
