from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SharesConfig(AppConfig):
    name = "shares"
    verbose_name = _("Shares")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Registers the mover that carries shares and sign-ins along when members merge
        # (member_moves: splits, facts after a decision; privacy: a member's shares and sign-ins
        # in a privacy export; selectors: the messages of hidden talks left out of the messages API).
        from . import member_moves, privacy, selectors, services  # noqa: F401
