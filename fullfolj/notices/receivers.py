"""The guardian notices as a listener of the register (attendance.hooks), registered in
NoticesConfig.ready(): the outbox rows are written in the register's own transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from . import actions, tasks


class GuardianNotices:
    """Schedules, moves or cancels the notices of the days whose invalid absence changed."""

    def concerns(self, old: dict[str, Any] | None, new: dict[str, Any]) -> bool:
        return actions.is_invalid(old) or actions.is_invalid(new)

    def read(self, pairs: set[tuple[int, dt.date]]) -> tuple[str, list]:
        return actions.invalid_lessons_statement(pairs)

    def heard(self, pairs: set[tuple[int, dt.date]], rows: list[tuple]) -> None:
        send_times = actions.schedule_for_days(pairs, invalid=actions.invalid_lessons_rows(rows))
        if send_times:  # a worker is woken once the outbox rows are committed
            transaction.on_commit(lambda: tasks.wake_deliverer(min(send_times)))


GUARDIAN_NOTICES = GuardianNotices()
