"""The typical absence ladder (docs/ladder.md), shipped as the default (data migration 0002).

Municipalities edit it in the admin. `install` takes the app registry so the migration can use
the historical models; it adds nothing when steps exist already.
"""

from __future__ import annotations

from typing import Any

# (order, name, what to do, actor, deadline days, triggers: (kind, window, threshold,
# invalid_only, weeks_after_previous))
#
# Calibrated against realistic absence (about a fifth of pupils are at 10 % or more over a
# month, mostly from illness): rates are taken over eight weeks, so one week in bed is a
# mentor's call, not a meeting; the investigation (step 3) opens when the meeting brought no
# improvement, as the typical ladder has it (docs/ladder.md), or after two school weeks absent in a row.
Triggers = list[tuple[str, int, float, bool, int]]
DEFAULT_LADDER: list[tuple[int, str, str, str, int, Triggers]] = [
    (
        1,
        "Mentor kontaktar vårdnadshavare",
        "Mentorn kontaktar vårdnadshavare om frånvaron samma vecka och dokumenterar samtalet.",
        "mentor",
        3,
        [("rate", 56, 10.0, False, 0), ("invalid_days", 28, 2, True, 0)],
    ),
    (
        2,
        "Möte med elev och vårdnadshavare; EHT informeras",
        "Mentorn kallar elev och vårdnadshavare till möte och informerar elevhälsoteamet.",
        "mentor",
        10,
        [
            ("rate", 56, 15.0, False, 0),
            ("invalid_days", 28, 4, True, 0),
            ("no_improvement", 21, 10.0, False, 3),
        ],
    ),
    (
        3,
        "Skyndsamt utreda frånvaron (EHT)",
        "Upprepad eller långvarig frånvaro ska skyndsamt utredas tillsammans med elevhälsan "
        "(skollagen 7 kap. 19 a §), oavsett skäl: kartläggning av orsaker och behov.",
        "student_health",
        7,
        [("no_improvement", 21, 10.0, False, 3), ("consecutive_days", 60, 10, False, 0)],
    ),
    (
        4,
        "Åtgärder eller åtgärdsprogram med uppföljning",
        "Rektor beslutar om åtgärder utifrån utredningen, med ansvarig och datum för uppföljning.",
        "principal",
        14,
        [("no_improvement", 28, 10.0, False, 4)],
    ),
    (
        5,
        "Rektor informerar huvudmannen; ev. orosanmälan",
        "Vid fortsatt frånvaro informerar rektor huvudmannen och prövar om en orosanmälan till "
        "socialtjänsten ska göras.",
        "principal",
        7,
        [("no_improvement", 28, 10.0, False, 4)],
    ),
]

# The triggers of steps 1-3 as first shipped (migration 0004 replaces them where unchanged):
# 5 % total absence over four weeks (one day ill) opened step 1 for about a third of pupils,
# and 20 % over four weeks or five days in a row (one week's flu) the investigation.
FIRST_TRIGGERS: dict[int, Triggers] = {
    1: [("rate", 28, 5.0, False, 0), ("invalid_days", 28, 2, True, 0)],
    2: [("rate", 28, 10.0, False, 0), ("invalid_days", 28, 4, True, 0)],
    3: [
        ("no_improvement", 21, 10.0, False, 3),
        ("consecutive_days", 60, 5, False, 0),
        ("rate", 28, 20.0, False, 0),
    ],
}


def _triggers(step: Any) -> Triggers:
    return [
        (
            t.kind,
            t.window_days,
            float(t.threshold),
            t.invalid_only,
            t.weeks_after_previous if t.kind == "no_improvement" else 0,
        )
        for t in step.triggers.order_by("pk")
    ]


def recalibrate(apps: Any) -> int:
    """Give the default ladder the calibrated triggers, unless a municipality changed them.

    Only steps whose triggers are still exactly as first shipped are touched; returns how many.
    """
    step_model = apps.get_model("ladder", "LadderStep")
    new = {order: triggers for order, *_rest, triggers in DEFAULT_LADDER}
    changed = 0
    for step in step_model.objects.filter(organiser__isnull=True, order__in=FIRST_TRIGGERS):
        if _triggers(step) != FIRST_TRIGGERS[step.order]:
            continue
        step.triggers.all().delete()
        for kind, window, threshold, invalid_only, weeks in new[step.order]:
            step.triggers.create(
                kind=kind,
                window_days=window,
                threshold=threshold,
                invalid_only=invalid_only,
                weeks_after_previous=weeks or 3,
            )
        changed += 1
    return changed


def install(apps: Any = None) -> int:
    """Create the default ladder if there are no steps yet; return the number of steps made."""
    if apps is None:
        from django.apps import apps as registry

        apps = registry
    step_model = apps.get_model("ladder", "LadderStep")
    trigger_model = apps.get_model("ladder", "LadderTrigger")
    if step_model.objects.exists():
        return 0
    for order, name, description, actor, deadline, triggers in DEFAULT_LADDER:
        step = step_model.objects.create(
            order=order, name=name, description=description, actor=actor, deadline_days=deadline
        )
        for kind, window, threshold, invalid_only, weeks in triggers:
            trigger_model.objects.create(
                step=step,
                kind=kind,
                window_days=window,
                threshold=threshold,
                invalid_only=invalid_only,
                weeks_after_previous=weeks or 3,
            )
    return len(DEFAULT_LADDER)
