"""Module fixtures that load a whole simulated municipality outside the test transactions put
back the rows the migrations ship when they are done (tests/shipped.py)."""

from __future__ import annotations

from tests.shipped import restore, snapshot

__all__ = ["restore", "snapshot"]
