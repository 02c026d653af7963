from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PackagesConfig(AppConfig):
    name = "xueji.packages"
    verbose_name = _("Change packages")
