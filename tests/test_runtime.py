"""A serving process settles after start-up: every view imported, start-up's objects frozen."""

from __future__ import annotations

import gc
import sys

import pytest

from fullfolj.lib.runtime import settle


@pytest.mark.django_db
def test_settle_imports_every_view_and_freezes_what_start_up_made():
    gc.unfreeze()
    try:
        settle()
        assert gc.get_freeze_count() > 10_000  # modules, settings, URL configuration
        assert "fullfolj.support.flow_views" in sys.modules
        assert "fullfolj.ladder.views" in sys.modules
    finally:
        gc.unfreeze()
