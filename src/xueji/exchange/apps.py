from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "xueji.exchange"
    verbose_name = _("Data exchange")

    def ready(self):
        from xueji.exchange import jobs  # noqa: F401  registers students.import and students.export
