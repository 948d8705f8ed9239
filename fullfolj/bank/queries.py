"""Reads of the resource bank: search, and each entry's outcome figures across the
municipality (docs/bank.md: what the figures can and cannot say)."""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from fullfolj.access.gate import Viewer
from fullfolj.attendance.models import PupilDay
from fullfolj.grades.models import PASSING_GRADES, Grade
from fullfolj.support.models import Evaluation

from .models import Entry, Tag, Use

WEEKS_AROUND_START = 4  # attendance compares the 4 weeks before the start with the 4 from it
MIN_PUPILS = 5  # below this many pupils a change is "too few to say"

# Student's t, two-sided 95 %, by degrees of freedom; past the table the normal 1.96 is close.
_T95 = {
    1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
    9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120,
    17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064,
    25: 2.060, 26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045, 30: 2.042, 40: 2.021, 60: 2.000,
    120: 1.980,
}  # fmt: skip


def t95(df: int) -> float:
    """The two-sided 95 % quantile of Student's t with `df` degrees of freedom (table)."""
    if df in _T95:
        return _T95[df]
    below = [k for k in _T95 if k < df]
    return _T95[max(below)] if df <= 120 else 1.96


def search(text: str = "", tag: str = "", *, archived: bool = False) -> QuerySet[Entry]:
    """Entries matching the words (title, description, when to use it) and the tag, with how
    often each was used."""
    entries = Entry.objects.all() if archived else Entry.objects.listed()
    for word in text.split():
        entries = entries.filter(
            Q(title__icontains=word) | Q(summary__icontains=word) | Q(when_to_use__icontains=word)
        )
    if tag:
        entries = entries.filter(tags__slug=tag)
    return entries.annotate(times_used=Count("uses", distinct=True)).prefetch_related("tags")


def tags_in_use() -> QuerySet[Tag]:
    return Tag.objects.filter(entries__is_archived=False).distinct().order_by("name")


@dataclass(frozen=True)
class Change:
    """The mean change over pupils (after minus before) with its 95 % interval; None where too
    few pupils to say."""

    pupils: int
    before: float | None = None
    after: float | None = None
    mean: float | None = None
    low: float | None = None
    high: float | None = None

    @property
    def too_few(self) -> bool:
        return self.mean is None


def change(pairs: list[tuple[float, float]], minimum: int = MIN_PUPILS) -> Change:
    """Mean before, after and change, with the t interval of the mean change, over pairs of
    one pupil's before and after; below `minimum` pupils only the count is given."""
    n = len(pairs)
    if n < max(minimum, 2):
        return Change(pupils=n)
    diffs = [after - before for before, after in pairs]
    mean = statistics.fmean(diffs)
    half = t95(n - 1) * statistics.stdev(diffs) / math.sqrt(n)
    return Change(
        pupils=n,
        before=statistics.fmean(b for b, _a in pairs),
        after=statistics.fmean(a for _b, a in pairs),
        mean=mean,
        low=mean - half,
        high=mean + half,
    )


@dataclass
class Outcomes:
    """An entry's figures across the municipality (docs/bank.md)."""

    uses: int = 0
    pupils: int = 0
    judgements: dict[str, int] = field(default_factory=dict)  # latest evaluation per measure
    evaluated: int = 0
    too_recent: int = 0  # pupils whose four weeks after the start have not passed yet
    attendance: Change = field(default_factory=lambda: Change(pupils=0))
    passed: Change = field(default_factory=lambda: Change(pupils=0))
    weeks: int = WEEKS_AROUND_START
    minimum: int = MIN_PUPILS


def organisers_of(viewer: Viewer) -> set[int]:
    """The organisers (municipalities) whose figures this viewer reads."""
    found = {r.organiser_id for r in viewer.roles if r.organiser_id}
    found |= {r.school.organiser_id for r in viewer.roles if r.school_id and r.school}
    return found


def _attendance(firsts: dict[int, dt.date], span: dt.timedelta) -> dict[int, tuple[float, float]]:
    """Each pupil's attendance (percent of scheduled minutes) before and after their start,
    from the kept per-day aggregate."""
    if not firsts:
        return {}
    window = Q(pk__in=[])
    for pupil_id, start in firsts.items():
        window |= Q(pupil_id=pupil_id, date__gte=start - span, date__lt=start + span)
    sums: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    rows = PupilDay.objects.filter(window).values_list(
        "pupil_id", "date", "scheduled_minutes", "absent_minutes"
    )
    for pupil_id, day, scheduled, absent in rows:
        at = 0 if day < firsts[pupil_id] else 2
        sums[pupil_id][at] += scheduled
        sums[pupil_id][at + 1] += absent
    result = {}
    for pupil_id, (s_before, a_before, s_after, a_after) in sums.items():
        if s_before and s_after:
            result[pupil_id] = (
                100.0 * (s_before - a_before) / s_before,
                100.0 * (s_after - a_after) / s_after,
            )
    return result


def _passed(firsts: dict[int, dt.date]) -> dict[int, tuple[float, float]]:
    """Each pupil's passed subjects in the latest term with grades ending before the start, and
    in the first term ending on or after it."""
    terms: dict[int, dict[tuple[dt.date, int], int]] = defaultdict(lambda: defaultdict(int))
    rows = Grade.objects.filter(pupil_id__in=list(firsts)).values_list(
        "pupil_id", "term__end", "term_id", "grade"
    )
    for pupil_id, end, term_id, grade in rows:
        terms[pupil_id][(end, term_id)] += grade in PASSING_GRADES
    result = {}
    for pupil_id, by_term in terms.items():
        start = firsts[pupil_id]
        before = [key for key in by_term if key[0] < start]
        after = [key for key in by_term if key[0] >= start]
        if before and after:
            result[pupil_id] = (float(by_term[max(before)]), float(by_term[min(after)]))
    return result


def outcomes(entry: Entry, organisers: Iterable[int], today: dt.date) -> Outcomes:
    """How often the entry was used in these organisers' schools, how its measures were
    evaluated, and each pupil's attendance and passed subjects before and after the start of
    their first measure from it. Before/after is not cause and effect (docs/bank.md)."""
    uses = list(
        Use.objects.filter(entry=entry, measure__case__school__organiser_id__in=list(organisers))
        .order_by("measure__start", "pk")
        .values_list("measure_id", "measure__start", "measure__case__pupil_id")
    )
    result = Outcomes(uses=len(uses))
    span = dt.timedelta(weeks=WEEKS_AROUND_START)
    firsts: dict[int, dt.date] = {}
    for _measure, start, pupil_id in uses:
        firsts.setdefault(pupil_id, start)
    result.pupils = len(firsts)
    ready = {p: s for p, s in firsts.items() if s + span <= today}
    result.too_recent = len(firsts) - len(ready)
    latest: dict[int, str] = {}
    evaluations = Evaluation.objects.filter(measure_id__in=[u[0] for u in uses]).order_by(
        "evaluated_on", "pk"
    )
    for measure_id, judgement in evaluations.values_list("measure_id", "judgement"):
        latest[measure_id] = judgement
    counts = dict.fromkeys(Evaluation.Judgement.values, 0)
    for judgement in latest.values():
        counts[judgement] += 1
    result.judgements, result.evaluated = counts, len(latest)
    result.attendance = change(list(_attendance(ready, span).values()))
    result.passed = change(list(_passed(ready).values()))
    return result
