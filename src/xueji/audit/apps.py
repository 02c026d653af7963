from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "xueji.audit"
    verbose_name = _("Audit")

    def ready(self):
        from xueji.audit import jobs  # noqa: F401  registers the audit.verify job
