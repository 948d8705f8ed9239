"""The pupil list, the attendance calendar and the pupil's patterns mean the same "term so far",
also before any term is known (each page once had a fallback of its own)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from fullfolj.attendance import patterns
from fullfolj.attendance.models import Lesson
from fullfolj.schools.calendar import term_so_far
from fullfolj.schools.models import Term

TODAY = dt.date(2026, 3, 18)


def test_every_page_falls_back_to_the_same_window_without_terms(cast, client, monkeypatch):
    Lesson.objects.all().delete()
    Term.objects.all().delete()  # a new organiser whose calendar is not entered yet
    expected = term_so_far(TODAY)
    assert expected == (dt.date(2026, 2, 19), TODAY)
    client.force_login(cast.mentor.user)
    listed = client.get(reverse("elevakt:my-pupils"))
    assert listed.context["windows"]["term"] == expected
    calendar = client.get(reverse("attendance:pupil-calendar", args=[cast.pupil.pk]))
    assert (calendar.context["start"], calendar.context["end"]) == expected
    asked = []
    monkeypatch.setattr(
        patterns,
        "absence_by_time_of_day",
        lambda pupil_id, start, end: asked.append((start, end)) or {},
    )
    monkeypatch.setattr(patterns, "hour_labels", lambda hours: [])
    patterns.for_pupil(cast.pupil, None)
    assert asked == [expected]
