from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "xueji.reports"
    verbose_name = _("Printed papers")

    def ready(self) -> None:
        # Registers the printed forms' facts with reports.verify (so /verify/ can check
        # them) and the bulk-print job kinds with the worker.
        from xueji.reports import jobs, papers  # noqa: F401
