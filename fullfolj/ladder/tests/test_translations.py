"""The ladder speaks Swedish: pages, messages, and the reasons the evaluation writes."""

from __future__ import annotations

import datetime as dt
import gettext
import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from fullfolj.ladder import actions
from fullfolj.ladder.models import LadderStep, LadderTask, LadderTrigger
from fullfolj.ladder.tests.conftest import TODAY, make_step, school_days

CATALOGUE = Path(__file__).resolve().parents[1] / "locale" / "sv" / "LC_MESSAGES" / "django.po"


def _entries() -> dict[str, str]:
    """msgid -> msgstr (the singular form) of the .po file; header left out."""

    def joined(block: str) -> str:
        return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', block)).replace('\\"', '"')

    entries = {}
    for block in CATALOGUE.read_text(encoding="utf-8").split("\n\n"):
        msgid = re.search(r'^msgid ((?:".*"\n)+)', block + "\n", re.M)
        msgstr = re.search(r'^msgstr(?:\[0\])? ((?:".*"\n?)+)', block + "\n", re.M)
        if msgid and joined(msgid.group(1)):
            entries[joined(msgid.group(1))] = joined(msgstr.group(1)) if msgstr else ""
    return entries


def test_every_string_of_the_catalogue_is_translated_and_compiled():
    entries = _entries()
    assert len(entries) > 80
    assert [m for m, s in entries.items() if not s] == []
    assert "#, fuzzy" not in CATALOGUE.read_text(encoding="utf-8")
    with CATALOGUE.with_suffix(".mo").open("rb") as compiled:
        mo = gettext.GNUTranslations(compiled)
    stale = [m for m, s in entries.items() if "%(n)s" not in m and mo.gettext(m) != s]
    assert stale == []


@pytest.fixture
def task(cast) -> LadderTask:
    step = LadderStep.objects.filter(organiser=None, actor="mentor").order_by("order").first()
    return LadderTask.objects.create(
        pupil=cast.pupil,
        step=step,
        school=cast.north,
        actor="mentor",
        assignee=cast.mentor,
        opened_on=TODAY - dt.timedelta(days=9),
        due=TODAY - dt.timedelta(days=2),
        reason="test",
    )


def test_the_pages_are_in_swedish(client, cast, task):
    client.force_login(cast.mentor.user)
    tasks_page = client.get(reverse("ladder:my-tasks")).content.decode()
    assert "<h1>Mina uppgifter</h1>" in tasks_page
    assert "Försenad" in tasks_page
    page = client.get(reverse("ladder:task", args=[task.pk])).content.decode()
    assert "Avsluta uppgiften" in page
    assert "Dokumentera och avsluta" in page
    assert "kontakt" in page and "möte" in page and "beslut" in page
    pupil = client.get(reverse("elevakt:pupil", args=[cast.pupil.pk])).content.decode()
    assert "Frånvarotrappan" in pupil
    mine = client.get(reverse("elevakt:my-pupils")).content.decode()
    assert "Steg i trappan" in mine
    assert "1 försenad" in mine


def test_refusals_are_in_swedish(client, cast, task):
    client.force_login(cast.mentor.user)
    body = client.post(
        reverse("ladder:task", args=[task.pk]),
        {"kind": "contact", "date": "2026-03-18", "text": ""},
    ).content.decode()
    assert "Uppgiften avslutades inte" in body
    assert "en uppgift avslutas bara med dokumentation" in body
    body = client.post(
        reverse("ladder:task", args=[task.pk]),
        {"kind": "contact", "date": "0001-01-01", "text": "Ringt."},
    ).content.decode()
    assert "Datumet kan inte ligga före 2025-08-18, då läsåret började." in body
    health = LadderTask.objects.create(
        pupil=cast.pupil,
        step=LadderStep.objects.get(organiser=None, order=3),
        school=cast.north,
        actor="student_health",
        opened_on=TODAY,
        due=TODAY,
        reason="x",
    )
    refused = client.post(
        reverse("ladder:task", args=[health.pk]),
        {"kind": "contact", "date": "2026-03-18", "text": "Ringt."},
    )
    assert refused.status_code == 403
    assert "Bara den som agerar" in refused.content.decode()


@pytest.mark.usefixtures("empty_ladder")
def test_the_reason_is_written_in_swedish_whoever_runs_the_job(cast, days):
    make_step(1, {"kind": "rate", "window_days": 28, "threshold": 7.5})
    days(
        cast.pupil,
        [(d, 300, 300 if i == 9 else 0, 0) for i, d in enumerate(school_days(TODAY, 10))],
    )
    with translation.override("en"):
        [task] = actions.evaluate_ladder(as_of=TODAY)
    assert task.reason == "total frånvaro minst 7,5 % under 28 dagar (uppmätt: 10,0 %)"


@pytest.mark.usefixtures("empty_ladder")
def test_configuration_errors_are_in_swedish():
    step = make_step(1)
    with translation.override("sv"):
        trigger = LadderTrigger(step=step, kind="rate", window_days=28, threshold=150)
        with pytest.raises(ValidationError) as refused:
            trigger.full_clean()
    assert "Frånvaro i procent: högst 100." in str(refused.value)
