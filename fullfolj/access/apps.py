from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "fullfolj.access"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.core import checks

        from fullfolj.schools import admin_scope

        from .gate import record_staff_reads
        from .middleware import session_starts
        from .saml import check_configuration

        admin_scope.read_log = record_staff_reads  # reads of pupils in the admin are logged

        user_logged_in.connect(session_starts, dispatch_uid="fullfolj.access.session_starts")
        checks.register(check_configuration)
