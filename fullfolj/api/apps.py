from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "fullfolj.api"
    verbose_name = _("REST API")

    def ready(self) -> None:
        # Registers the token scheme with the schema generator.
        from . import authentication  # noqa: F401
