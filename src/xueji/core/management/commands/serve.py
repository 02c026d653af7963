"""`xueji serve`: the production WSGI server (waitress), on Linux and Windows alike."""

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve Xueji with the waitress WSGI server (not Django's development server)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)

    def handle(self, *args, host, port, threads, **options):
        from waitress import serve  # type: ignore[import-untyped]

        from xueji.wsgi import application

        self.stdout.write(f"Xueji is serving on http://{host}:{port}/ (Ctrl+C stops it)")
        self.stdout.flush()
        # Behind a reverse proxy, believe X-Forwarded-* headers only from that proxy.
        serve(
            application,
            host=host,
            port=port,
            threads=threads,
            trusted_proxy=settings.TRUSTED_PROXY,
            trusted_proxy_headers={"x-forwarded-proto", "x-forwarded-for"},
            clear_untrusted_proxy_headers=True,
            ident="xueji",
        )
