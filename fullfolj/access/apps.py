from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "fullfolj.access"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .middleware import session_starts

        user_logged_in.connect(session_starts, dispatch_uid="fullfolj.access.session_starts")
