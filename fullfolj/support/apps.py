from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "fullfolj.support"

    def ready(self) -> None:
        from fullfolj.ladder import hooks

        from .actions import InvestigationListener

        hooks.listen(InvestigationListener())
