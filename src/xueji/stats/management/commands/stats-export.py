"""`xueji stats-export KEY -o FILE --user LOGIN [--semester ID] [--round ID]`: one table of
the statistics pages (B5), the dropout watch or the units overview as xlsx.

It acts as the named user: the same table, scope, checks and audit event as the page's
"Export to Excel". `xueji stats-export --list` names the tables.
"""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404
from django.utils import translation

from xueji.orgs.models import User
from xueji.stats import services, tables


class Command(BaseCommand):
    help = "Export one statistics table (students, changes, intake, dropout watch, overview)."

    def add_arguments(self, parser):
        parser.add_argument("key", nargs="?", help="the table, e.g. schools, absent, late-in-round")
        parser.add_argument(
            "--list", action="store_true", dest="show_list", help="list the tables and stop"
        )
        parser.add_argument("-o", "--output", help="the .xlsx file to write")
        parser.add_argument("--user", help="act as this user (login name)")
        parser.add_argument(
            "--semester", type=int, dest="semester_id", help="changes per school: the semester id"
        )
        parser.add_argument(
            "--round", type=int, dest="round_id", help="units overview: the reporting round id"
        )

    def handle(self, *args, key, show_list, output, user, semester_id, round_id, **options):
        if show_list:
            for spec in tables.SPECS:
                self.stdout.write(f"{spec.key:28} {spec.page}")
            return
        if not key or not output or not user:
            raise CommandError("give the table's key, -o FILE and --user LOGIN (or --list)")
        actor = User.objects.filter(username=user, is_active=True).first()
        if actor is None:
            raise CommandError(f"no active user {user!r}")
        try:
            # Headers and totals in the installation's language, like the pages by default.
            with translation.override(settings.LANGUAGE_CODE):
                exported = services.do_export_table(
                    key, tables.Options(semester=semester_id, round=round_id), actor=actor
                )
        except Http404 as error:
            raise CommandError(f"no table {key!r} for {user}; see --list") from error
        except PermissionDenied as error:
            raise CommandError(str(error)) from error
        Path(output).write_bytes(exported.content)
        self.stdout.write(f"exported {exported.rows} rows of {key} to {output}")
