"""`xueji worker`: runs background jobs until stopped (or once, with --once)."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from xueji.core.jobs import fail_interrupted_jobs, run_pending


class Command(BaseCommand):
    help = "Run background jobs (imports, bulk prints, exports, verification)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run what is queued, then stop.")

    def handle(self, *args, once, **options):
        if once:
            count = run_pending()
            self.stdout.write(f"ran {count} job(s)")
            return
        interrupted = fail_interrupted_jobs()
        if interrupted:
            self.stdout.write(f"marked {interrupted} interrupted job(s) as failed")
        self.stdout.write("Xueji worker is waiting for jobs (Ctrl+C stops it)")
        self.stdout.flush()
        try:
            while True:
                close_old_connections()
                if run_pending() == 0:
                    time.sleep(settings.XUEJI_WORKER_IDLE_SECONDS)
        except KeyboardInterrupt:
            self.stdout.write("worker stopped")
