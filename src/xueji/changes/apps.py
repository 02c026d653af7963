from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChangesConfig(AppConfig):
    name = "xueji.changes"
    verbose_name = _("Changes")

    def ready(self) -> None:
        # Registers the change report's facts with reports.verify, so /verify/ can check it.
        from xueji.changes import report  # noqa: F401
