from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PackagesConfig(AppConfig):
    name = "xueji.packages"
    verbose_name = _("Change packages")

    def ready(self) -> None:
        from xueji.packages import jobs  # noqa: F401  registers packages.export for the worker

        # The C8 deadlines on the dashboards are done once the unit reported in the
        # semester's regular round (packages/rounds.py).
        from xueji.packages.rounds import register_done_checks

        register_done_checks()
