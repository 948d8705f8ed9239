from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CompulsoryConfig(AppConfig):
    name = "fullfolj.compulsory"
    verbose_name = _("Compulsory-school oversight")

    def ready(self) -> None:
        from fullfolj.exchange import hooks

        from .importing import import_placements, import_register

        # The exchange app's import command knows these kinds only as providers.
        hooks.provide_file_kind(
            hooks.FileKind("register", "a population-register extract (CSV)", import_register)
        )
        hooks.provide_file_kind(
            hooks.FileKind(
                "placements",
                "placements reported by independent schools and other municipalities",
                import_placements,
            )
        )
