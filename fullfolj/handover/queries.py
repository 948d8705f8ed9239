"""Reads for handovers: what the system knows about a pupil (the prefill), the coming moves a
sending school writes handovers for, and the pupils arriving at a receiving school."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Case as SqlCase
from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from fullfolj.lib import clock
from fullfolj.lib.formatting import percent
from fullfolj.schools.models import Mentorship, Placement, Pupil
from fullfolj.support.models import Case, Measure
from fullfolj.support.queries import attendance_pattern

from .models import Handover, HandoverRead, HandoverVersion

MISSING, DRAFT, SENT, READ = "missing", "draft", "sent", "read"
STATUS_LABELS = {
    MISSING: gettext_lazy("missing"),
    DRAFT: gettext_lazy("draft"),
    SENT: pgettext_lazy("handover", "sent"),
    READ: gettext_lazy("read"),
}


def coming_placement(pupil: Pupil, today: dt.date | None = None) -> QuerySet[Placement]:
    """The pupil's placements that start after today: the moves a handover can be written for."""
    return Placement.objects.filter(pupil=pupil, start__gt=today or clock.today())


def collect_facts(pupil: Pupil, today: dt.date) -> dict[str, Any]:
    """What the system knows for a handover: measures (active and past) with their evaluations,
    the active adaptations, the attendance pattern and the responsible contacts."""
    measures = (
        Measure.objects.filter(case__pupil=pupil)
        .select_related("responsible")
        .prefetch_related("evaluations")
        .order_by("-start", "-pk")
    )
    mentors = Mentorship.objects.active_on(today).filter(pupil=pupil).select_related("mentor")
    cases = Case.objects.open().filter(pupil=pupil).select_related("responsible")
    return {
        "as_of": today.isoformat(),
        "measures": [
            {
                "kind": m.get_kind_display(),
                "title": m.title,
                "start": m.start.isoformat(),
                "active": m.is_active,
                "adaptation": m.kind == Measure.Kind.EXTRA_ADAPTATION,
                "description": m.description,
                "evaluations": [
                    {
                        "on": e.evaluated_on.isoformat(),
                        "judgement": e.get_judgement_display(),
                        "better": e.judgement == "better",
                        "text": e.text,
                    }
                    for e in m.evaluations.all()
                ],
            }
            for m in measures[:30]
        ],
        "attendance": attendance_pattern(pupil, today),
        "contacts": [{"role": "mentor", "name": m.mentor.full_name} for m in mentors]
        + [{"role": "case", "name": c.responsible.full_name} for c in cases],
    }


def contact_label(role: str) -> str:
    return _("Mentor") if role == "mentor" else _("Responsible for the case")


def prefill_texts(facts: dict[str, Any], pupil: Pupil) -> dict[str, str]:
    """The handover's texts as the system would write them; the sending staff edits them."""
    worked = [
        f"{m['title']}: {e['text']}"
        for m in facts["measures"]
        for e in m["evaluations"][:1]
        if e["better"]
    ]
    adaptations = [
        f"{m['title']}" + (f": {m['description']}" if m["description"] else "")
        for m in facts["measures"]
        if m["adaptation"] and m["active"]
    ]
    windows = facts["attendance"]
    attendance = _(
        "Absence this term %(term)s (invalid %(term_invalid)s); the last four weeks "
        "%(recent)s (invalid %(recent_invalid)s)."
    ) % {
        "term": percent(windows["term"]["total"]),
        "term_invalid": percent(windows["term"]["invalid"]),
        "recent": percent(windows["recent"]["total"]),
        "recent_invalid": percent(windows["recent"]["invalid"]),
    }
    contacts = [f"{contact_label(c['role'])}: {c['name']}" for c in facts["contacts"]]
    mapping = (
        pupil.support_cases.order_by("-opened_at")
        .values_list("mappings__pupil_view", "mappings__guardian_view")
        .exclude(mappings__isnull=True)
        .first()
    )
    return {
        "what_worked": "\n".join(worked),
        "adaptations": "\n".join(adaptations),
        "attendance": attendance,
        "contacts": "\n".join(contacts),
        "pupil_words": (mapping[0] or "") if mapping else "",
        "guardian_words": (mapping[1] or "") if mapping else "",
    }


def status_of(handover: Handover | None) -> str:
    """missing, draft, sent or read: how far the latest version has come."""
    if handover is None:
        return MISSING
    latest = handover.versions.all()[0]  # ordered newest first, prefetched by the lists
    if latest.status == HandoverVersion.Status.DRAFT:
        return DRAFT
    return READ if latest.reads.all() else SENT


def latest_sent(handover: Handover) -> HandoverVersion | None:
    """The version the receiving school reads: the newest sent one."""
    return handover.versions.filter(status=HandoverVersion.Status.SENT).order_by("-number").first()


@dataclass
class Move:
    """A pupil's coming placement and its handover (if one is started)."""

    placement: Placement
    handover: Handover | None
    status: str
    from_school: str = ""  # empty for a protected-identity pupil

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def version(self) -> HandoverVersion | None:
        return self.handover.versions.all()[0] if self.handover else None


def _versions() -> Prefetch:
    return Prefetch(
        "handovers__versions",
        queryset=HandoverVersion.objects.order_by("-number").prefetch_related("reads"),
    )


def moves(placements: QuerySet[Placement]) -> list[Move]:
    """Each coming placement with its handover and status, by start and name (few queries)."""
    rows = (
        placements.select_related("pupil", "school", "school_class")
        .prefetch_related("handovers", _versions())
        .order_by("start", "pupil__last_name", "pupil__first_name", "pk")
    )
    placements_list = list(rows)
    today = clock.today()
    now_at = dict(
        Placement.objects.active_on(today)
        .filter(pupil_id__in=[p.pupil_id for p in placements_list])
        .values_list("pupil_id", "school__name")
    )
    result = []
    for placement in placements_list:
        handover = next(iter(placement.handovers.all()), None)
        origin = "" if placement.pupil.protected_identity else now_at.get(placement.pupil_id, "")
        result.append(Move(placement, handover, status_of(handover), origin))
    return result


ARRIVING_PAGE = 50  # rows of the arriving list a page


def with_status_rank(placements: QuerySet[Placement]) -> QuerySet[Any]:  # annotated rows
    """Each placement with `status_rank`, its handover's place in STATUS_LABELS (missing 0,
    draft 1, sent 2, read 3), worked out in the database as status_of() does per row."""
    latest = HandoverVersion.objects.filter(handover__placement=OuterRef("pk")).order_by("-number")
    read = HandoverRead.objects.filter(
        version__handover__placement=OuterRef("pk"), version__number=OuterRef("latest_number")
    )
    return placements.annotate(
        latest_number=Subquery(latest.values("number")[:1]),
        latest_status=Subquery(latest.values("status")[:1]),
        status_rank=SqlCase(
            When(latest_status__isnull=True, then=Value(0)),
            When(latest_status=HandoverVersion.Status.DRAFT, then=Value(1)),
            When(Exists(read), then=Value(3)),
            default=Value(2),
            output_field=IntegerField(),
        ),
    )


@dataclass
class Arriving:
    """One page of the pupils arriving: the page's moves by receiving school, and each school's
    counts per status over the whole list."""

    page: Page[Any]
    schools: list[dict[str, Any]]


def arriving(placements: QuerySet[Placement], page: Any = 1) -> Arriving:
    """Elever som börjar hos oss, ARRIVING_PAGE rows a page: by receiving school, the ones to
    chase first (missing, draft, sent, read), then by first day and name. The queries are the
    same whatever the number of rows."""
    ranked = with_status_rank(placements)
    labels = list(STATUS_LABELS)
    counts: dict[int, dict[str, int]] = {}
    for row in ranked.values("school_id", "status_rank").annotate(n=Count("pk")).order_by():
        per = counts.setdefault(row["school_id"], dict.fromkeys(labels, 0))
        per[labels[row["status_rank"]]] = row["n"]
    ordered = ranked.order_by(
        "school__name", "status_rank", "start", "pupil__last_name", "pupil__first_name", "pk"
    ).values_list("pk", flat=True)
    paginator = Paginator(ordered, ARRIVING_PAGE)
    paginator.count = sum(sum(per.values()) for per in counts.values())  # no second COUNT
    shown: Page[Any] = paginator.get_page(page)
    ids = list(shown.object_list)
    position = {pk: i for i, pk in enumerate(ids)}
    page_moves = sorted(
        moves(Placement.objects.filter(pk__in=ids)), key=lambda m: position[m.placement.pk]
    )
    shown.object_list = page_moves
    schools: dict[int, dict[str, Any]] = {}
    for move in page_moves:
        school_id = move.placement.school_id
        if school_id not in schools:
            schools[school_id] = {
                "school": move.placement.school,
                "moves": [],
                "figures": [(STATUS_LABELS[s], n) for s, n in counts.get(school_id, {}).items()],
            }
        schools[school_id]["moves"].append(move)
    return Arriving(shown, list(schools.values()))


def coming_placements(today: dt.date | None = None) -> QuerySet[Placement]:
    """Placements that start after today (the pupils arriving, or moving on)."""
    return Placement.objects.filter(start__gt=today or clock.today())


@dataclass(frozen=True)
class Counts:
    """Coming moves and how many of them have a sent handover (read or not)."""

    moves: int
    sent: int

    @property
    def missing(self) -> int:
        return self.moves - self.sent


def counts(placements: QuerySet[Placement]) -> Counts:
    """Two grouped queries whatever the number of pupils."""
    sent = placements.filter(handovers__versions__status=HandoverVersion.Status.SENT)
    return Counts(placements.count(), sent.values("pk").distinct().count())


def counts_by_school(placements: QuerySet[Placement]) -> dict[int, Counts]:
    """Per receiving school: pupils arriving and how many handovers were sent."""
    from django.db.models import Count, Q

    rows = placements.values("school_id").annotate(
        moves=Count("pk", distinct=True),
        sent=Count(
            "pk",
            filter=Q(handovers__versions__status=HandoverVersion.Status.SENT),
            distinct=True,
        ),
    )
    return {row["school_id"]: Counts(row["moves"], row["sent"]) for row in rows}
