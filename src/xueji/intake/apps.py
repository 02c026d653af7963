from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "xueji.intake"
    verbose_name = _("Intake")

    def ready(self):
        # Imported for their side effects: the intake deadlines are marked done, and the
        # photo sheet's facts are registered for /verify/.
        from xueji.intake import deadlines, photo_sheet  # noqa: F401
