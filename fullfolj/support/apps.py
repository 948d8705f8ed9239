from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "fullfolj.support"

    def ready(self) -> None:
        from fullfolj.attendance import hooks as attendance
        from fullfolj.ladder import hooks
        from fullfolj.screening import hooks as screening

        from .actions import InvestigationListener
        from .followups import pupils_acted_on
        from .queries import active_adaptations
        from .views import ladder_task_links

        hooks.listen(InvestigationListener())
        # The layers below know support only as providers: adaptations for the register, and
        # cases and measures as action on a flagged pupil.
        attendance.provide_adaptations(active_adaptations)
        screening.provide_actions(pupils_acted_on)
        hooks.provide_task_links(ladder_task_links)
