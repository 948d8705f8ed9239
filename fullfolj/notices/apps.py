from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "fullfolj.notices"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the settings checks)
