"""`xueji demo`: load the demo county into the configured database (idempotent)."""

from django.core.management.base import BaseCommand

from xueji.core.demo import DEMO_PASSWORD, DEMO_STUDENTS, load_demo_county


class Command(BaseCommand):
    help = "Load the demo county 金乡县 (safe to run again: it duplicates nothing)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--students",
            type=int,
            default=DEMO_STUDENTS,
            help=f"How many synthetic students a county without students gets "
            f"(default {DEMO_STUDENTS}).",
        )

    def handle(self, *args, **options):
        result = load_demo_county(students=options["students"])
        self.stdout.write(
            f"Demo county loaded: {result.created_units} new unit(s), "
            f"{result.created_users} new user(s), {result.created_students} new student(s), "
            f"{result.created_changes} new change request(s), "
            f"{result.created_intake} new pupil(s) and junior number(s) in the intake."
        )
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD})")
        for login in result.logins:
            self.stdout.write(f"  {login.username:<16} {login.role:<28} {login.unit}")
        self.stdout.write(
            "  Every school has <login> for its registrar and <login>-ld for its leader; "
            "the bureau's user list shows them all."
        )
