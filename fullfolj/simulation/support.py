"""Support in the simulated municipality: the cases schools would have written over the years
simulated, so the case pages, the follow-ups and the EHT meeting have content.

Each term, the pupils whose absence reached their organiser's problematic line got a case a few
weeks in, with an extra adaptation and one more measure (every kind the support ladder names
comes round), the student-health team's minutes, evaluations at the follow-up date; cases of
ended terms are closed. This term's cases are open: a mapping, measures running, some
follow-ups overdue (never evaluated), most evaluated and carried on, and the team's minutes with
who does what by when. A third of the pupils flagged in the latest screening are left without a
case, so "flagged, nobody acting" shows someone. Everything is written with bulk_create: rows,
not actions, as the loader writes the history (the demo builds in seconds, the benchmark's
20,000 pupils in well under a minute).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from fullfolj.attendance.models import PupilDay
from fullfolj.ladder.models import Actor, LadderTask
from fullfolj.schools.models import (
    GroupMembership,
    Mentorship,
    Organiser,
    Placement,
    Role,
    Staff,
    StaffRole,
    Subject,
    TeachingAssignment,
    Term,
)
from fullfolj.screening.models import Flag, ScreeningRun
from fullfolj.support.models import (
    AgreedAction,
    Case,
    CaseEntry,
    Evaluation,
    Mapping,
    Measure,
)

OPEN_AFTER_DAYS = 21  # a case opens about three weeks into the term
FOLLOW_UP_DAYS = 28  # the follow-up four weeks after a measure starts
WITHOUT_CASE = 3  # every third flagged pupil this term has no case yet
PER_TERM_CAP_SHARE = 0.08  # at most this share of a term's pupils get a case (the worst first)
K = Measure.Kind
SECOND_KINDS = (
    K.GUARDIAN_COOPERATION,
    K.INVESTIGATION,
    K.ACTION_PROGRAMME,
    K.FLEXIBLE_GROUP,
    K.ADAPTED_STUDY_PATH,
    K.DISTANCE_TEACHING,
    K.SPECIAL_GROUP,
    K.INDIVIDUAL_TEACHING,
)
ADAPTATIONS = (
    "Extra tid vid prov",
    "Instruktioner skriftligt och muntligt",
    "Anpassad placering i klassrummet",
    "Lugn plats för enskilt arbete",
    "Tydligt schema med bilder",
    "Inlämning i delar med avstämning",
    "Förkortade uppgifter",
    "Ljudbok och talsyntes",
)
TITLES: dict[str, str] = {
    K.GUARDIAN_COOPERATION: "Veckovis kontakt med vårdnadshavare",
    K.INVESTIGATION: "Utredning av behov av särskilt stöd",
    K.ACTION_PROGRAMME: "Åtgärdsprogram",
    K.FLEXIBLE_GROUP: "Flexibel undervisningsgrupp i matematik",
    K.ADAPTED_STUDY_PATH: "Anpassad studiegång",
    K.DISTANCE_TEACHING: "Distansundervisning under återgång",
    K.SPECIAL_GROUP: "Särskild undervisningsgrupp",
    K.INDIVIDUAL_TEACHING: "Enskild undervisning två dagar i veckan",
}
JUDGEMENTS = (
    Evaluation.Judgement.BETTER,
    Evaluation.Judgement.UNCHANGED,
    Evaluation.Judgement.BETTER,
    Evaluation.Judgement.WORSE,
)
JUDGEMENT_TEXT = {
    Evaluation.Judgement.BETTER: "Närvaron har ökat och eleven lämnar in fler uppgifter.",
    Evaluation.Judgement.UNCHANGED: "Ingen tydlig skillnad ännu; anpassningen fortsätter.",
    Evaluation.Judgement.WORSE: "Frånvaron har ökat; ärendet tas upp på nästa EHT-möte.",
}
APPEAL = (
    "Beslutet kan överklagas till Skolväsendets överklagandenämnd inom tre veckor från den dag "
    "vårdnadshavaren fick del av beslutet."
)
HEALTH_WRITERS = (Role.COUNSELLOR, Role.SCHOOL_NURSE, Role.PSYCHOLOGIST, Role.SCHOOL_DOCTOR)


@dataclass
class SchoolStaff:
    """Who acts at a school: the principal decides, the team's members write minutes."""

    principal: int | None = None
    educator: int | None = None  # special educator (specialpedagog)
    health: int | None = None  # counsellor or nurse: minutes under secrecy


def _stable(*parts: int) -> int:
    """A stable pseudo-random number per row, so the same seed gives the same demo."""
    value = 0
    for part in parts:
        value = (value * 1_000_003 + part) * 2654435761 % (2**32)
    return value


def _school_staff() -> dict[int, SchoolStaff]:
    found: dict[int, SchoolStaff] = defaultdict(SchoolStaff)
    roles = StaffRole.objects.filter(school__isnull=False).order_by("staff_id")
    for school_id, role, staff_id in roles.values_list("school_id", "role", "staff_id"):
        held = found[school_id]
        if role == Role.PRINCIPAL and held.principal is None:
            held.principal = staff_id
        elif role == Role.SPECIAL_EDUCATOR and held.educator is None:
            held.educator = staff_id
        elif role in HEALTH_WRITERS and held.health is None:
            held.health = staff_id
    return found


class Writer:
    """The rows of one run, written in a few bulk inserts at the end."""

    def __init__(self, today: dt.date, staff: dict[int, SchoolStaff], subjects: list[int]) -> None:
        self.today = today
        self.staff = staff
        self.subjects = subjects
        self.counts: Counter[str] = Counter()

    def at(self, day: dt.date) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))

    def write(self, plans: Sequence[Plan], existing: dict[int, Case]) -> None:
        """Cases, then what hangs on them, in dependency order."""
        new = [p for p in plans if p.pupil_id not in existing or not p.current]
        cases = Case.objects.bulk_create([self._case(p) for p in new], batch_size=2000)
        by_plan: dict[int, Case] = {id(p): c for p, c in zip(new, cases, strict=True)}
        for plan in plans:
            if id(plan) not in by_plan:
                by_plan[id(plan)] = existing[plan.pupil_id]
        entries: list[CaseEntry] = []
        measures: list[tuple[Plan, Measure]] = []
        mappings: list[Mapping] = []
        for plan in plans:
            case = by_plan[id(plan)]
            entries.append(
                CaseEntry(
                    case=case,
                    kind=CaseEntry.Kind.NOTE,
                    written_by_id=plan.responsible,
                    written_at=self.at(plan.opened),
                    occurred_on=plan.opened,
                    text=f"Ärendet öppnat: {plan.reason}",
                )
            )
            for kind in plan.kinds:
                measures.append((plan, self._measure(case, plan, kind)))
            if plan.current:
                mappings.append(self._mapping(case, plan))
        Measure.objects.bulk_create([m for _p, m in measures], batch_size=2000)
        Mapping.objects.bulk_create(mappings, batch_size=2000)
        through = Measure.subjects.through
        through.objects.bulk_create(
            [
                through(measure_id=m.pk, subject_id=s)
                for _p, m in measures
                if m.kind == K.ADAPTED_STUDY_PATH
                for s in self.subjects[:2]
            ],
            batch_size=2000,
        )
        evaluations: list[Evaluation] = []
        evaluated: list[Measure] = []
        for plan, measure in measures:
            entries.append(
                CaseEntry(
                    case_id=measure.case_id,
                    kind=CaseEntry.Kind.MEASURE,
                    written_by_id=measure.created_by_id,
                    written_at=self.at(measure.start),
                    occurred_on=measure.start,
                    text=f"{measure.get_kind_display().capitalize()}: {measure.title}",
                    measure=measure,
                )
            )
            evaluation = self._evaluation(plan, measure)
            if evaluation is not None:
                evaluations.append(evaluation)
                evaluated.append(measure)
        for mapping in mappings:
            entries.append(
                CaseEntry(
                    case_id=mapping.case_id,
                    kind=CaseEntry.Kind.MAPPING,
                    written_by_id=mapping.written_by_id,
                    written_at=self.at(mapping.written_on),
                    occurred_on=mapping.written_on,
                    text="Kartläggning av skolsituation, social situation och elevens syn.",
                    mapping=mapping,
                )
            )
        Evaluation.objects.bulk_create(evaluations, batch_size=2000)
        Measure.objects.bulk_update(
            evaluated, ["status", "closed_at", "closed_by", "follow_up_on"], batch_size=2000
        )
        for evaluation in evaluations:
            entries.append(
                CaseEntry(
                    case_id=evaluation.measure.case_id,
                    kind=CaseEntry.Kind.EVALUATION,
                    written_by_id=evaluation.by_id,
                    written_at=self.at(evaluation.evaluated_on),
                    occurred_on=evaluation.evaluated_on,
                    text=f"{evaluation.measure.title}. Utvärderat: "
                    f"{evaluation.get_judgement_display()}.",
                    measure=evaluation.measure,
                    evaluation=evaluation,
                )
            )
        minutes = [self._minutes(by_plan[id(p)], p) for p in plans]
        minutes_rows = [m for m in minutes if m is not None]
        entries.extend(entry for entry, _actions in minutes_rows)
        self._join(existing.values(), entries, [m for _p, m in measures])
        CaseEntry.objects.bulk_create(entries, batch_size=2000)
        AgreedAction.objects.bulk_create(
            [action for entry, actions in minutes_rows for action in actions if entry.pk],
            batch_size=2000,
        )
        self.counts["cases"] += len(cases)
        self.counts["measures"] += len(measures)
        self.counts["evaluations"] += len(evaluations)
        self.counts["mappings"] += len(mappings)
        self.counts["minutes"] += len(minutes_rows)

    def _join(
        self, joined: Iterable[Case], entries: Sequence[CaseEntry], measures: Sequence[Measure]
    ) -> None:
        """A case the ladder opened, that this term's support joins: at work once measures run
        on it, and opened no later than the first thing written on it (the school's support
        began then; the ladder's step joined it)."""
        cases = {c.pk: c for c in joined}
        if not cases:
            return
        first: dict[int, dt.date] = {}
        dated = [(e.case_id, e.occurred_on) for e in entries]
        dated += [(m.case_id, m.start) for m in measures]
        for case_id, day in dated:
            if case_id in cases and (case_id not in first or day < first[case_id]):
                first[case_id] = day
        for case in cases.values():
            if case.status == Case.Status.NEW:
                case.status = Case.Status.ACTIVE
            if case.pk in first:
                case.opened_at = min(case.opened_at, self.at(first[case.pk]))
        Case.objects.bulk_update(list(cases.values()), ["status", "opened_at"], batch_size=2000)

    def _case(self, plan: Plan) -> Case:
        closed = not plan.current
        return Case(
            pupil_id=plan.pupil_id,
            school_id=plan.school_id,
            opened_from=Case.Source.FLAG if plan.flagged else Case.Source.HAND,
            reason=plan.reason,
            responsible_id=plan.responsible,
            opened_by_id=plan.responsible,
            opened_at=self.at(plan.opened),
            status=Case.Status.CLOSED if closed else Case.Status.ACTIVE,
            closed_at=self.at(plan.term_end) if closed else None,
            closed_reason="Terminen avslutad; insatserna är utvärderade." if closed else "",
        )

    def _measure(self, case: Case, plan: Plan, kind: str) -> Measure:
        staff = self.staff[plan.school_id]
        start = plan.opened + dt.timedelta(days=0 if kind == K.EXTRA_ADAPTATION else 7)
        measure = Measure(
            case=case,
            kind=kind,
            title=TITLES.get(kind) or ADAPTATIONS[_stable(plan.pupil_id, 7) % len(ADAPTATIONS)],
            description="Överenskommet med eleven och vårdnadshavare.",
            start=start,
            responsible_id=plan.responsible
            if kind in (K.EXTRA_ADAPTATION, K.GUARDIAN_COOPERATION)
            else staff.educator or plan.responsible,
            follow_up_on=start + dt.timedelta(days=FOLLOW_UP_DAYS),
            created_by_id=plan.responsible,
        )
        if kind == K.ACTION_PROGRAMME:
            measure.needs = "Stöd att komma igång med skolarbetet och att vara i skolan hela dagar."
            measure.planned_measures = (
                "Speciallärare två lektioner i veckan; anpassat schema; veckovis avstämning."
            )
            measure.evaluation_on = start + dt.timedelta(days=2 * FOLLOW_UP_DAYS)
        if kind in Measure.DECIDED_KINDS and staff.principal:
            measure.decision = Measure.Decision.DECIDED
            measure.decided_on = start
            measure.decided_by_id = staff.principal
            measure.appeal_text = APPEAL if kind == K.ACTION_PROGRAMME else ""
        if kind == K.ADAPTED_STUDY_PATH:
            measure.period_end = plan.term_end
        return measure

    def _evaluation(self, plan: Plan, measure: Measure) -> Evaluation | None:
        """Ended terms: every measure evaluated at its follow-up and closed. This term: about
        two thirds of those due evaluated and carried on to a date in the coming weeks; the rest
        are overdue."""
        due = measure.follow_up_on
        if due is None or due >= self.today:
            return None
        if plan.current and (
            not plan.evaluated or _stable(plan.pupil_id, len(measure.kind)) % 3 == 0
        ):
            return None
        judgement = JUDGEMENTS[_stable(plan.pupil_id, due.toordinal()) % len(JUDGEMENTS)]
        if plan.current:  # carried on: the next follow-up falls in the coming weeks
            soon = self.today + dt.timedelta(days=3 + _stable(plan.pupil_id, 5) % 18)
            measure.follow_up_on = max(due + dt.timedelta(days=FOLLOW_UP_DAYS), soon)
        else:
            measure.status = Measure.Status.CLOSED
            measure.closed_at = self.at(min(due, plan.term_end))
            measure.closed_by_id = measure.responsible_id
        return Evaluation(
            measure=measure,
            judgement=judgement,
            text=JUDGEMENT_TEXT[judgement],
            evaluated_on=due,
            by_id=measure.responsible_id,
        )

    def _mapping(self, case: Case, plan: Plan) -> Mapping:
        staff = self.staff[plan.school_id]
        return Mapping(
            case=case,
            teaching="Svårt att komma igång; fungerar bättre med tydliga instruktioner.",
            group="Trivs med några klasskamrater, undviker grupparbeten.",
            learning_environment="Störs av ljud; klarar sig bättre i mindre rum.",
            social="Bor med båda vårdnadshavarna; fritidsintressen har minskat.",
            pupil_view="Tycker att morgnarna är svåra och att matematiken går för fort.",
            guardian_view="Oroliga över frånvaron; vill ha tätare kontakt med mentorn.",
            written_by_id=staff.educator or plan.responsible,
            written_on=plan.opened + dt.timedelta(days=3),
        )

    def _minutes(self, case: Case, plan: Plan) -> tuple[CaseEntry, list[AgreedAction]] | None:
        """The team's minutes a week or two after opening: most cases, with who does what."""
        if _stable(plan.pupil_id, 3) % 4 == 0:
            return None
        staff = self.staff[plan.school_id]
        writer = staff.health or staff.educator or staff.principal
        day = plan.opened + dt.timedelta(days=10)
        if writer is None or day > self.today:
            return None
        entry = CaseEntry(
            case=case,
            kind=CaseEntry.Kind.EHT_MINUTES,
            written_by_id=writer,
            written_at=self.at(day),
            occurred_on=day,
            text="EHT gick igenom frånvaron och kartläggningen med mentorn.",
            decision="Extra anpassningar fortsätter; uppföljning på EHT efter fyra veckor.",
            health_restricted=writer == staff.health,
        )
        due = day + dt.timedelta(days=14 + _stable(plan.pupil_id, 5) % 21)
        done = None if plan.current and due >= self.today - dt.timedelta(days=7) else due
        actions = [
            AgreedAction(
                entry=entry,
                who_id=plan.responsible,
                what="Ringa vårdnadshavare och boka uppföljande möte",
                due=due,
                done_on=done,
            )
        ]
        return entry, actions


@dataclass
class Plan:
    """One case to write: whose, where, when, why, and which measures."""

    pupil_id: int
    school_id: int
    responsible: int
    opened: dt.date
    term_end: dt.date
    current: bool
    reason: str
    kinds: tuple[str, ...]
    flagged: bool = False
    evaluated: bool = True  # False: this term's follow-ups left undone (the printed mentor's)


def _mentors(day: dt.date, pupil_ids: Iterable[int]) -> dict[int, int]:
    return dict(
        Mentorship.objects.active_on(day)
        .filter(pupil_id__in=list(pupil_ids))
        .order_by("pupil_id", "start")
        .values_list("pupil_id", "mentor_id")
    )


def _schools(day: dt.date, pupil_ids: Iterable[int]) -> dict[int, int]:
    return dict(
        Placement.objects.active_on(day)
        .filter(pupil_id__in=list(pupil_ids))
        .values_list("pupil_id", "school_id")
    )


def _absent_pupils(term: Term, until: dt.date, lines: dict[int, int]) -> list[tuple[int, float]]:
    """Pupils at or over their organiser's problematic line over the term, worst first."""
    rows = (
        PupilDay.objects.filter(date__gte=term.start, date__lte=min(term.end, until))
        .values("pupil_id", "pupil__organiser_id")
        .annotate(s=Sum("scheduled_minutes"), a=Sum("absent_minutes"))
        .order_by()
    )
    found = []
    for row in rows:
        scheduled = row["s"] or 0
        share = (row["a"] or 0) / scheduled if scheduled else 0.0
        if share * 100 >= lines.get(row["pupil__organiser_id"], 10):
            found.append((row["pupil_id"], share))
    found.sort(key=lambda r: (-r[1], r[0]))
    return found


def _plans_for_term(
    term: Term,
    today: dt.date,
    staff: dict[int, SchoolStaff],
    lines: dict[int, int],
    serial: list[int],
) -> list[Plan]:
    current = term.start <= today <= term.end
    until = today if current else term.end
    opened = term.start + dt.timedelta(days=OPEN_AFTER_DAYS)
    if opened >= today:
        return []
    absent = _absent_pupils(term, until, lines)
    pupils = {p for p, _share in absent}
    flagged: dict[int, str] = {}
    if current:
        latest = ScreeningRun.objects.filter(finished_at__isnull=False).order_by(
            "organiser_id", "-as_of", "-pk"
        )
        runs: dict[int, int] = {}
        for organiser_id, run_id in latest.values_list("organiser_id", "pk"):
            runs.setdefault(organiser_id, run_id)
        for pupil_id, text in Flag.objects.filter(run_id__in=runs.values()).values_list(
            "pupil_id", "explanation"
        ):
            flagged.setdefault(pupil_id, text)
        waiting = LadderTask.objects.open().filter(actor=Actor.STUDENT_HEALTH)
        pupils |= set(waiting.values_list("pupil_id", flat=True))
        pupils |= {p for p in flagged if p % WITHOUT_CASE}
    placed = Placement.objects.active_on(opened).count() or 1
    cap = max(1, int(placed * PER_TERM_CAP_SHARE))
    ordered = [p for p, _s in absent if p in pupils] + sorted(pupils - {p for p, _ in absent})
    ordered = ordered[:cap]
    schools = _schools(min(until, today), ordered)
    mentors = _mentors(opened, ordered)
    plans = []
    for pupil_id in ordered:
        school_id = schools.get(pupil_id)
        if school_id is None:
            continue
        responsible = mentors.get(pupil_id) or staff[school_id].educator
        responsible = responsible or staff[school_id].principal
        if responsible is None:
            continue
        day = opened + dt.timedelta(days=_stable(pupil_id, term.pk) % 14)
        if current:  # opened five to eight weeks ago: the first follow-ups have fallen due
            back = FOLLOW_UP_DAYS + 7 + _stable(pupil_id, 11) % 21
            day = max(min(day, today - dt.timedelta(days=back)), term.start)
        serial[0] += 1
        second = SECOND_KINDS[serial[0] % len(SECOND_KINDS)]
        plans.append(
            Plan(
                pupil_id=pupil_id,
                school_id=school_id,
                responsible=responsible,
                opened=day,
                term_end=term.end,
                current=current,
                reason=flagged.get(pupil_id)
                or "Frånvaron har nått nivån för problematisk skolfrånvaro.",
                kinds=(K.EXTRA_ADAPTATION, second),
                flagged=pupil_id in flagged,
            )
        )
    return plans


def _cast_plans(
    today: dt.date,
    term: Term,
    staff: dict[int, SchoolStaff],
    mentor: Staff | None,
    teacher: Staff | None,
    taken: set[int],
) -> list[Plan]:
    """Content for the printed logins: two of the mentor's pupils with an adaptation overdue
    for follow-up, and two pupils in the teacher's groups with adaptations running."""
    opened = today - dt.timedelta(days=FOLLOW_UP_DAYS + 10)
    wanted: list[tuple[int, int | None]] = []
    if mentor is not None:
        mentees = (
            Mentorship.objects.active_on(today)
            .filter(mentor=mentor)
            .exclude(pupil_id__in=taken)
            .order_by("pupil_id")
            .values_list("pupil_id", flat=True)
        )
        wanted += [(p, mentor.pk) for p in list(mentees)[:2]]
    if teacher is not None:
        groups = TeachingAssignment.objects.filter(staff=teacher).values("group_id")
        members = (
            GroupMembership.objects.active_on(today)
            .filter(group_id__in=groups)
            .exclude(pupil_id__in=taken | {p for p, _m in wanted})
            .order_by("pupil_id")
            .values_list("pupil_id", flat=True)
            .distinct()
        )
        wanted += [(p, None) for p in list(members)[:2]]
    schools = _schools(today, [p for p, _m in wanted])
    mentors = _mentors(today, [p for p, _m in wanted])
    plans = []
    for pupil_id, responsible in wanted:
        school_id = schools.get(pupil_id)
        who = responsible or mentors.get(pupil_id)
        if school_id is None or who is None:
            continue
        plans.append(
            Plan(
                pupil_id=pupil_id,
                school_id=school_id,
                responsible=who,
                opened=max(opened, term.start),
                term_end=term.end,
                current=True,
                reason="Mentorn har sett att eleven tappar i flera ämnen.",
                kinds=(K.EXTRA_ADAPTATION, K.GUARDIAN_COOPERATION),
                evaluated=False,
            )
        )
    return plans


@transaction.atomic
def simulate_support(
    today: dt.date, *, mentor: Staff | None = None, teacher: Staff | None = None
) -> Counter[str]:
    """Cases for every term begun by `today` (see the module docstring); with the printed
    mentor and teacher, content for their pages too. Returns what was written."""
    staff = _school_staff()
    subjects = list(Subject.objects.order_by("code").values_list("pk", flat=True)[:2])
    lines = dict(Organiser.objects.values_list("pk", "problematic_absence_percent"))
    writer = Writer(today, staff, subjects)
    serial = [0]
    terms = list(Term.objects.filter(start__lte=today).order_by("start"))
    for term in terms:
        plans = _plans_for_term(term, today, staff, lines, serial)
        current = term.start <= today <= term.end
        if current:
            taken = {p.pupil_id for p in plans}
            plans += _cast_plans(today, term, staff, mentor, teacher, taken)
            # Any of them may have a case the ladder opened (the printed logins' pupils too).
            everyone = {p.pupil_id for p in plans}
            existing = {c.pupil_id: c for c in Case.objects.open().filter(pupil_id__in=everyone)}
            # A case the ladder opened this term keeps its responsible person.
            for plan in plans:
                if plan.pupil_id in existing:
                    plan.responsible = existing[plan.pupil_id].responsible_id
            writer.write(plans, existing)
        else:
            writer.write(plans, {})
    return writer.counts
