"""Pupil lists composed from each app's reads: who, where, absence, ladder step, unreached
guardians."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from fullfolj.access import gate
from fullfolj.access.gate import Viewer
from fullfolj.attendance.queries import Absence, absence_in_windows
from fullfolj.ladder.queries import summaries as ladder_summaries
from fullfolj.lib import clock
from fullfolj.notices.queries import unreached_counts
from fullfolj.schools.calendar import term_and_recent_windows
from fullfolj.schools.models import Placement, Pupil, Role, School, SchoolClass
from fullfolj.support.queries import active_adaptations


@dataclass(frozen=True)
class PupilRow:
    """One line of a pupil list: who, where, and absence this term and the last four weeks."""

    pupil: Pupil
    placement: Placement | None
    term: Absence
    recent: Absence
    ladder_step: str | None = None  # the highest step of the absence ladder this term
    overdue_tasks: int = 0
    unreached_guardians: int = 0  # guardian notices failed or bounced, last 30 days
    adaptations: tuple[str, ...] = ()  # extra adaptations running today (the group page)
    # From the placement, once: a school's list sorts and filters thousands of rows by class.
    school_class: SchoolClass | None = field(init=False, default=None, compare=False)
    class_name: str = field(init=False, default="", compare=False)

    def __post_init__(self) -> None:
        school_class = self.placement.school_class if self.placement else None
        object.__setattr__(self, "school_class", school_class)
        object.__setattr__(self, "class_name", school_class.name if school_class else "")


def pupil_rows(
    pupils: QuerySet[Pupil], *, today: dt.date | None = None, absence: bool = True
) -> list[PupilRow]:
    """Pupils with their current placement and absence, sorted by class and name.

    The ladder step and unreached guardians are left out: `with_details` adds them to the rows
    a page shows. Without `absence` the rows hold none yet: a list that neither sorts nor
    filters by it adds it to the page shown (`with_absence`).
    """
    today = today or clock.today()
    listed = list(pupils)
    placements = _current_placements(pupils, today)
    term: dict[int, Absence] = {}
    recent: dict[int, Absence] = {}
    if absence:
        # Each window summed apart, the pupils a subquery: the term's whole months come from
        # the months' aggregate, a school's term a few rows per pupil instead of a hundred days.
        sums = absence_in_windows(pupils.values("pk"), term_and_recent_windows(today))
        term, recent = sums["term"], sums["recent"]
    rows = [
        PupilRow(
            pupil=p,
            placement=placements.get(p.pk),
            term=term.get(p.pk, Absence()),
            recent=recent.get(p.pk, Absence()),
        )
        for p in listed
    ]
    rows.sort(key=lambda r: (r.class_name, r.pupil.last_name, r.pupil.first_name))
    return rows


def with_absence(rows: Sequence[PupilRow], *, today: dt.date | None = None) -> list[PupilRow]:
    """The rows with their absence this term and the last four weeks (one query)."""
    today = today or clock.today()
    ids = [r.pupil.pk for r in rows]
    pupils = Pupil.objects.filter(pk__in=ids).values("pk")
    sums = absence_in_windows(pupils, term_and_recent_windows(today))
    return [
        replace(
            r,
            term=sums["term"].get(r.pupil.pk, Absence()),
            recent=sums["recent"].get(r.pupil.pk, Absence()),
        )
        for r in rows
    ]


def _current_placements(pupils: QuerySet[Pupil], today: dt.date) -> dict[int, Placement]:
    """Each pupil's current placement (the earliest begun, if several), its school and class
    read once each and shared: a school's list holds thousands of pupils but few classes."""
    current = (
        Placement.objects.active_on(today)
        .filter(pupil__in=pupils.order_by().values("pk"))
        .order_by("-start", "-pk")
    )
    found: dict[int, Placement] = {}
    for placement in current:
        found[placement.pupil_id] = placement  # the earliest begun comes last and stays
    classes = SchoolClass.objects.in_bulk({p.school_class_id for p in found.values()} - {None})
    schools = School.objects.in_bulk({p.school_id for p in found.values()})
    for placement in found.values():
        placement.school = schools[placement.school_id]
        placement.school_class = (
            classes[placement.school_class_id] if placement.school_class_id else None
        )
    return found


def with_details(rows: Sequence[PupilRow], *, today: dt.date | None = None) -> list[PupilRow]:
    """The rows with their absence-ladder step and unreached guardians (one query each)."""
    today = today or clock.today()
    ids = [r.pupil.pk for r in rows]
    ladder = ladder_summaries(ids, today)
    unreached = unreached_counts(ids, today)
    return [
        replace(
            r,
            ladder_step=ladder[r.pupil.pk].step if r.pupil.pk in ladder else None,
            overdue_tasks=ladder[r.pupil.pk].overdue if r.pupil.pk in ladder else 0,
            unreached_guardians=unreached.get(r.pupil.pk, 0),
        )
        for r in rows
    ]


def with_adaptations(rows: Sequence[PupilRow], *, today: dt.date | None = None) -> list[PupilRow]:
    """The rows with each pupil's extra adaptations running today, for those who teach them
    (support's follow-ups; one query)."""
    found = active_adaptations([r.pupil.pk for r in rows], today or clock.today())
    return [replace(r, adaptations=tuple(found.get(r.pupil.pk, ()))) for r in rows]


# --- Pupil search ---------------------------------------------------------------------------

SEARCH_LIMIT = 50
MIN_SEARCH_LENGTH = 2
_PNR_SEPARATORS = re.compile(r"[\s\-+]")
# Shown with the school and class only to those who reach the pupil at their school (or hold
# the permission): the officer and the administration reach every pupil of the municipality.
_ORGANISER_WIDE = frozenset({Role.ATTENDANCE_OFFICER, Role.ADMINISTRATION})


class SearchError(ValueError):
    """The search text cannot be searched for; the message says why, in the user's language."""


@dataclass(frozen=True)
class SearchQuery:
    """What was asked for: name or class words (all must match), or a personnummer's digits."""

    words: tuple[str, ...] = ()
    digits: str = ""


def parse_search(text: str) -> SearchQuery:
    """Read a search text: a personnummer with or without century and dash (or a date of birth,
    6 or 8 digits), else words each matching a first name, last name or the current class."""
    text = (text or "").strip()
    if len(text) < MIN_SEARCH_LENGTH:
        raise SearchError(_("Write at least two characters of a name, class or personal number."))
    digits = _PNR_SEPARATORS.sub("", text)
    if digits.isdigit():
        if len(digits) not in (6, 8, 10, 12):
            raise SearchError(
                _(
                    "“%(text)s” is not a personal identity number: write it as YYYYMMDD-NNNN or "
                    "YYMMDD-NNNN, or a date of birth as YYMMDD."
                )
                % {"text": text}
            )
        return SearchQuery(digits=digits)
    return SearchQuery(words=tuple(text.split()))


def _case_variants(word: str) -> set[str]:
    """The word with each non-ASCII letter in both cases (up to three of them): SQLite's LIKE
    folds case for ASCII letters only, and Swedish names start with Å, Ä and Ö."""
    variants = {""}
    wide = 0
    for char in word:
        if not char.isascii() and char.lower() != char.upper() and wide < 3:
            wide += 1
            variants = {v + c for v in variants for c in (char.lower(), char.upper())}
        else:
            variants = {v + char for v in variants}
    return variants


def _personnummer_match(digits: str) -> Q:
    if len(digits) == 12:
        return Q(personnummer=f"{digits[:8]}-{digits[8:]}")
    if len(digits) == 10:
        return Q(personnummer__in=[f"{c}{digits[:6]}-{digits[6:]}" for c in ("19", "20")])
    if len(digits) == 8:
        return Q(personnummer__startswith=f"{digits}-")
    return Q(personnummer__startswith=f"19{digits}-") | Q(personnummer__startswith=f"20{digits}-")


def _word_match(word: str, in_class: QuerySet[Placement]) -> Q:
    names = Q()
    for variant in _case_variants(word):
        names |= Q(first_name__icontains=variant) | Q(last_name__icontains=variant)
    return names | Q(pk__in=in_class.filter(school_class__name__iexact=word).values("pupil_id"))


@dataclass(frozen=True)
class SearchHit:
    """One pupil found: where they are now, unless protected identity hides it from this role."""

    pupil: Pupil
    placement: Placement | None
    hidden_school: bool


@dataclass(frozen=True)
class SearchResult:
    hits: list[SearchHit]
    more: bool  # more than SEARCH_LIMIT matched: the user should narrow the search
    roles: dict[int, str]  # the role through which each shown pupil was reached, for the log


def search_pupils(
    viewer: Viewer, query: SearchQuery, *, today: dt.date | None = None
) -> SearchResult:
    """Pupils this viewer may see by name (the gate) matching the query, by last and first name.

    A protected-identity pupil reached only through an organiser-wide role is shown without
    school or class, and is found by name or number only, never by class (docs/privacy.md).
    """
    today = today or clock.today()
    current = Placement.objects.active_on(today)
    if query.digits:
        match = _personnummer_match(query.digits)
    else:
        match = Q()
        for word in query.words:
            match &= _word_match(word, current)
    found = list(
        gate.pupils_visible_to(viewer)
        .filter(match)
        .prefetch_related(
            Prefetch(
                "placements",
                queryset=current.select_related("school", "school_class"),
                to_attr="current",
            )
        )
        .order_by("last_name", "first_name", "pk")[: SEARCH_LIMIT + 1]
    )
    roles = viewer.role_map(p.pk for p in found)
    sees_protected = any(p.protected_identity for p in found) and viewer.sees_protected_details
    hits = []
    for pupil in found:
        hidden = (
            pupil.protected_identity
            and not sees_protected
            and roles.get(pupil.pk) in _ORGANISER_WIDE
        )
        if hidden and not all(_names_contain(pupil, w) for w in query.words):
            continue  # matched only through the class it must not reveal
        current_placements = pupil.current
        placement = current_placements[0] if current_placements and not hidden else None
        hits.append(SearchHit(pupil, placement, hidden))
    more = len(found) > SEARCH_LIMIT
    hits = hits[:SEARCH_LIMIT]
    return SearchResult(hits, more, {h.pupil.pk: roles.get(h.pupil.pk, "unknown") for h in hits})


def _names_contain(pupil: Pupil, word: str) -> bool:
    needle = word.casefold()
    return needle in pupil.first_name.casefold() or needle in pupil.last_name.casefold()
