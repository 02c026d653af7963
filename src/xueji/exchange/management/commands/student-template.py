"""`xueji student-template OUT.xlsx`: write the Excel template for importing students."""

from django.core.management.base import BaseCommand

from xueji.exchange.excel import write_template


class Command(BaseCommand):
    help = "Write the Excel template for importing students (the national form's columns)."

    def add_arguments(self, parser):
        parser.add_argument("out", help="the .xlsx file to write")

    def handle(self, *args, out, **options):
        write_template(out)
        self.stdout.write(f"template written to {out}")
