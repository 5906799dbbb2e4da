from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImporterConfig(AppConfig):
    name = "importer"
    verbose_name = _("Import")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # A privacy erasure scrubs the run journal too (undo must not bring erased data back).
        from . import privacy  # noqa: F401
