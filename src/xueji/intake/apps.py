from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "xueji.intake"
    verbose_name = _("Intake")

    def ready(self):
        from xueji.intake import deadlines  # noqa: F401  marks intake deadlines done
