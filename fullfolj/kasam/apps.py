from django.apps import AppConfig


class KasamConfig(AppConfig):
    name = "fullfolj.kasam"
    verbose_name = "KASAM"

    def ready(self) -> None:
        from fullfolj.screening import hooks

        from .queries import dialogue_frame

        # The screening knows the KASAM answers only through its hook: a falling dimension is
        # an indicator (`kasam_fall`), used by no rule until an organiser writes one.
        hooks.provide_dialogue(dialogue_frame)
