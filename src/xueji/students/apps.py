from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StudentsConfig(AppConfig):
    name = "xueji.students"
    verbose_name = _("Students")

    def ready(self):
        from django.db.models.signals import post_migrate

        from xueji.students.codes import sync_code_tables

        # The code tables ship as a data file; after every migrate the database holds
        # exactly what the file says, so an upgrade that adds a code needs no migration.
        post_migrate.connect(sync_code_tables, sender=self)
        from xueji.students import jobs  # noqa: F401  registers photos.import_zip for the worker
