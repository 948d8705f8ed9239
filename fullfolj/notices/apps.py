from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "fullfolj.notices"

    def ready(self) -> None:
        from fullfolj.attendance import hooks

        from . import checks  # noqa: F401  (registers the settings checks)
        from .receivers import GUARDIAN_NOTICES

        hooks.listen(GUARDIAN_NOTICES)
