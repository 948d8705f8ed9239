"""The resource bank and the KASAM dialogue in the simulated municipality, so their pages have
content: the extra adaptations the support phase wrote are picked from the bank (a dozen
entries take most of them, so their outcome figures pass the minimum), and pupils in years 4–9
answered the questionnaire in a development talk each term (some alone on their login); pupils
with a case that term answer lower, and lower again the next, so a falling dimension shows.
Rows are written with bulk_create, as the support phase writes its own.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from fullfolj.bank.models import Entry, Use
from fullfolj.kasam.models import Answer, Dimension, PupilLogin, Questionnaire, Response, Stage
from fullfolj.schools.models import Mentorship, Placement, Staff, Term
from fullfolj.support.models import Case, Measure

from .loader import DEMO_PASSWORD

ENTRIES_USED = 12  # the entries the simulated schools pick from
TERMS_ANSWERED = 4  # the latest terms begun by today
TALK_WEEK = 5  # the development talk in the term's fifth week
OFFSET: dict[str, float] = {
    Dimension.COMPREHENSIBILITY: 0.3,
    Dimension.MANAGEABILITY: 0.0,
    Dimension.MEANINGFULNESS: -0.2,
}


def _stable(*parts: int) -> int:
    value = 0
    for part in parts:
        value = (value * 1_000_003 + part * 7919 + 17) % 2_147_483_647
    return value


def _value(base: float, dimension: str, pupil_id: int, question_id: int, index: int) -> int:
    """One answer on the scale: the pupil's level, the dimension's offset and a little noise."""
    noise = ((_stable(pupil_id, question_id, index) % 3) - 1) * 0.6
    return max(1, min(5, round(base + OFFSET[dimension] + noise)))


def pick_from_bank() -> int:
    """Each extra adaptation of the support phase comes from a bank entry: its title is the
    entry's, and the use is remembered."""
    entries = list(Entry.objects.listed().order_by("slug")[:ENTRIES_USED])
    if not entries:
        return 0
    measures = list(
        Measure.objects.filter(kind=Measure.Kind.EXTRA_ADAPTATION, bank_use__isnull=True).only(
            "pk", "title", "case_id"
        )
    )
    uses = []
    for measure in measures:
        entry = entries[_stable(measure.pk, 3) % len(entries)]
        measure.title = entry.title
        uses.append(Use(measure=measure, entry=entry))
    Measure.objects.bulk_update(measures, ["title"], batch_size=2000)
    Use.objects.bulk_create(uses, batch_size=2000)
    return len(uses)


def answer_kasam(today: dt.date, mentor: Staff | None) -> Counter[str]:
    """A response per pupil in years 4–9 and term (of a third of them, every pupil with a case
    and the printed mentor's mentees), the latest terms first-to-last."""
    made: Counter[str] = Counter()
    questionnaires = {
        q.stage: (q, list(q.questions.all()))
        for q in Questionnaire.objects.filter(is_current=True).prefetch_related("questions")
    }
    with_case = set(Case.objects.values_list("pupil_id", flat=True))
    mentees = (
        set(Mentorship.objects.active_on(today).filter(mentor=mentor).values_list("pupil_id", flat=True))
        if mentor
        else set()
    )  # fmt: skip
    terms = list(Term.objects.filter(start__lte=today).order_by("-start")[:TERMS_ANSWERED])[::-1]
    responses: list[Response] = []
    values: list[list[tuple[int, int]]] = []
    for index, term in enumerate(terms):
        day = min(term.start + dt.timedelta(weeks=TALK_WEEK), today)
        placed = Placement.objects.active_on(day).filter(
            school_class__grade__gte=4, school_class__grade__lte=9
        )
        talks = dict(Mentorship.objects.active_on(day).values_list("pupil_id", "mentor_id"))
        cases = set(
            Case.objects.filter(opened_at__date__lte=day).exclude(closed_at__date__lt=day)
            .values_list("pupil_id", flat=True)
        )  # fmt: skip
        for pupil_id, grade in placed.values_list("pupil_id", "school_class__grade"):
            if not (pupil_id in with_case or pupil_id in mentees or pupil_id % 3 == 0):
                continue
            stage = Stage.for_grade(grade)
            if stage is None or stage not in questionnaires:
                continue
            questionnaire, questions = questionnaires[stage]
            alone = _stable(pupil_id, index) % 4 == 0
            responses.append(
                Response(
                    pupil_id=pupil_id,
                    questionnaire=questionnaire,
                    answered_on=day,
                    setting=Response.Setting.PUPIL if alone else Response.Setting.TALK,
                    recorded_by_id=None if alone else talks.get(pupil_id),
                )
            )
            base = 2.8 + (_stable(pupil_id) % 16) / 10
            if pupil_id in cases:
                base -= 0.6 + 0.3 * index  # lower with a case, and falling term by term
            values.append(
                [(q.pk, _value(base, q.dimension, pupil_id, q.pk, index)) for q in questions]
            )
    Response.objects.bulk_create(responses, batch_size=2000)
    answers = [
        Answer(response=response, question_id=question_id, value=value)
        for response, rows in zip(responses, values, strict=True)
        for question_id, value in rows
    ]
    Answer.objects.bulk_create(answers, batch_size=5000)
    made["responses"], made["answers"] = len(responses), len(answers)
    return made


def give_pupil_login(mentor: Staff | None, today: dt.date) -> str:
    """A login for one of the printed mentor's mentees in years 4–9: it opens the questionnaire
    and nothing else."""
    if mentor is None:
        return ""
    pupils = Mentorship.objects.active_on(today).filter(mentor=mentor).values("pupil_id")
    placement = (
        Placement.objects.active_on(today)
        .filter(pupil_id__in=pupils, school_class__grade__gte=4, school_class__grade__lte=9)
        .order_by("pupil_id")
        .first()
    )
    if placement is None:
        return ""
    username = f"elev{placement.pupil_id}"
    user = get_user_model().objects.create(username=username, password=make_password(DEMO_PASSWORD))
    PupilLogin.objects.create(user=user, pupil_id=placement.pupil_id)
    return username


@transaction.atomic
def simulate_bank_and_kasam(today: dt.date, *, mentor: Staff | None = None) -> Counter[str]:
    made = answer_kasam(today, mentor)
    made["uses"] = pick_from_bank()
    made["login"] = 1 if give_pupil_login(mentor, today) else 0
    return made
