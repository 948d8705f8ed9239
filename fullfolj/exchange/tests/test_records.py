"""Importing guardians, groups with their members, the timetable and grades from files: every
bad row named, all or nothing, and the same file twice changing nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fullfolj.attendance.models import Lesson
from fullfolj.exchange.tabular import load
from fullfolj.exchange.tabular.reader import FileRejected
from fullfolj.grades.models import Grade
from fullfolj.lib import personnummer
from fullfolj.schools import models as s
from tests import factories as f

PNR = [personnummer.make(dt.date(2012, 3, 7), serial) for serial in range(400, 420)]


@pytest.fixture
def school(db: object) -> s.School:
    org = f.organiser("Ekby kommun")
    school = s.School.objects.create(organiser=org, name="Ekbyskolan", unit_code="12345678")
    year, _autumn, _spring = f.school_year()
    klass = s.SchoolClass.objects.create(school=school, school_year=year, name="7A", grade=7)
    s.TeachingGroup.objects.create(school=school, school_year=year, name="7A", school_class=klass)
    f.subject("MA", "Matematik")
    f.subject("SV", "Svenska")
    for number in PNR[:6]:
        pupil = f.pupil(org, "Elev", number[-4:])
        s.Pupil.objects.filter(pk=pupil.pk).update(personnummer=number)
    hidden = f.pupil(org, "Skyddad", "Elev", protected=True)
    s.Pupil.objects.filter(pk=hidden.pk).update(personnummer=PNR[6])
    s.Staff.objects.filter(pk=f.staff("lena", ("teacher", school), org=org).pk).update(
        email="lena@ekby.se"
    )
    return school


def run(kind: str, *lines: str, **options: object) -> load.Result:
    with translation.override("en"):
        return load.import_file(kind, "\r\n".join(lines).encode("utf-8-sig"), **options)  # type: ignore[arg-type]


def rejected(kind: str, *lines: str) -> list[tuple[int, str]]:
    with pytest.raises(load.Rejected) as error:
        run(kind, *lines)
    return [(p.line, p.column) for p in error.value.problems]


def counts(result: load.Result) -> tuple[int, int, int]:
    return result.created, result.changed, result.unchanged


# --- guardians --------------------------------------------------------------------------------

GUARDIANS = "Personnummer;Förnamn;Efternamn;E-post;Telefon;Adress"


def test_guardians_are_linked_siblings_share_one_and_again_changes_nothing(school):
    lines = [
        GUARDIANS,
        f"{PNR[0]};Karin;Berg;karin@example.se;070-1;Gatan 1",
        f"{PNR[1]};Karin;Berg;karin@example.se;070-1;Gatan 1",  # a sibling: the same guardian
        f"{PNR[6]};Omar;Said;omar@example.se;;Hemlig väg 2",  # a protected pupil
    ]

    assert counts(run("guardians", *lines)) == (2, 1, 0)
    assert counts(run("guardians", *lines)) == (0, 0, 3)

    karin = s.Guardian.objects.get(first_name="Karin")
    assert sorted(karin.guardianships.values_list("pupil__personnummer", flat=True)) == sorted(
        PNR[:2]
    )
    assert s.Guardian.objects.get(first_name="Omar").address == ""  # never stored


def test_a_changed_phone_updates_the_guardian(school):
    run("guardians", GUARDIANS, f"{PNR[0]};Karin;Berg;;070-1;")

    assert counts(run("guardians", GUARDIANS, f"{PNR[0]};Karin;Berg;;070-2;")) == (0, 1, 0)
    assert s.Guardian.objects.get().phone == "070-2"


def test_bad_guardian_rows_are_each_named(school):
    assert (
        rejected(
            "guardians",
            GUARDIANS,
            f"{PNR[0]};Karin;Berg;;{'0' * 31};",
            f"{PNR[19]};Bo;Berg;;;",  # no such pupil
            f"{PNR[1]};;Berg;;;",
            f"{PNR[1][:-1]}0;Bo;Berg;;;",  # a check digit
        )
        == [(2, "Telefon"), (3, "Personnummer"), (4, "Förnamn"), (5, "Personnummer")]
    )
    assert not s.Guardian.objects.exists()


# --- groups -----------------------------------------------------------------------------------

GROUPS = "Skolenhetskod;Grupp;Grupptyp;Personnummer;Startdatum;Slutdatum"


def test_groups_and_classes_are_made_with_their_members_and_again_changes_nothing(school):
    lines = [
        GROUPS,
        f"12345678;7B;Klass;{PNR[0]};2025-08-18;",
        f"12345678;7B;Klass;{PNR[1]};2025-08-18;",
        f"12345678;MA-7 grupp 1;Undervisning;{PNR[0]};2025-08-18;2026-01-16",
    ]

    assert counts(run("groups", *lines)) == (3, 0, 0)
    assert counts(run("groups", *lines)) == (0, 0, 3)

    group = s.TeachingGroup.objects.get(name="7B")
    assert group.school_class is not None and group.school_class.grade == 7
    assert group.memberships.count() == 2
    member = s.GroupMembership.objects.get(group__name="MA-7 grupp 1")
    assert member.end == dt.date(2026, 1, 16)


def test_a_membership_that_ends_is_changed_not_doubled(school):
    run("groups", GROUPS, f"12345678;7A;;{PNR[2]};2025-08-18;")

    result = run("groups", GROUPS, f"12345678;7A;;{PNR[2]};2025-08-18;2026-02-01")

    assert counts(result) == (0, 1, 0)
    assert s.GroupMembership.objects.get(pupil__personnummer=PNR[2]).end == dt.date(2026, 2, 1)


def test_bad_group_rows_are_each_named(school):
    assert rejected(
        "groups",
        GROUPS,
        f"99999999;7A;;{PNR[0]};;",
        f"12345678;7A;Kör;{PNR[0]};;",
        f"12345678;7A;;{PNR[0]};2026-01-10;2025-12-01",
        f"12345678;Röda;Klass;{PNR[0]};2025-09-01;",  # a class without its grade
        f"12345678;7A;;{PNR[0]};2024-01-10;",  # in no school year
    ) == [
        (2, "Skolenhetskod"),
        (3, "Grupptyp"),
        (4, "Slutdatum"),
        (5, "Grupptyp"),
        (6, "Startdatum"),
    ]
    assert not s.GroupMembership.objects.exists()


# --- timetable --------------------------------------------------------------------------------

TIMETABLE = "Skolenhetskod;Grupp;Ämne;Datum;Starttid;Sluttid;Lärare"


def test_lessons_are_made_with_their_teacher_and_again_changes_nothing(school):
    lines = [
        TIMETABLE,
        "12345678;7A;MA;2026-03-16;08:15;09:15;lena",
        "12345678;7A;Svenska;16/3 2026;09.30;10:30;lena@ekby.se",
    ]

    assert counts(run("timetable", *lines)) == (2, 0, 0)
    assert counts(run("timetable", *lines)) == (0, 0, 2)

    lessons = Lesson.objects.order_by("start")
    assert [(x.subject.code, x.minutes, x.teacher.username) for x in lessons] == [
        ("MA", 60, "lena"),
        ("SV", 60, "lena"),
    ]
    assert lessons[0].registered_at is None  # for the teacher to register


def test_bad_timetable_rows_are_each_named(school):
    assert rejected(
        "timetable",
        TIMETABLE,
        "12345678;7Q;MA;2026-03-16;08:15;09:15;",
        "12345678;7A;Slöjd;2026-03-16;08:15;09:15;",
        "12345678;7A;MA;2026-03-16;08:15;08:15;",
        "12345678;7A;MA;2026-03-16;08:15;09:15;okänd",
        "12345678;7A;MA;2026-03-16;08:15;09:15;",
        "12345678;7A;MA;2026-03-16;08:15;09:15;",
    ) == [(2, "Grupp"), (3, "Ämne"), (4, "Sluttid"), (5, "Lärare"), (7, "Starttid")]
    assert not Lesson.objects.exists()


# --- grades -----------------------------------------------------------------------------------

GRADES = "Personnummer;Skolenhetskod;Ämne;Betyg;Termin"


def test_grades_by_term_name_and_again_changes_nothing(school):
    lines = [GRADES, f"{PNR[0]};12345678;MA;C;HT25", f"{PNR[0]};12345678;SV;-;ht 2025"]

    assert counts(run("grades", *lines)) == (2, 0, 0)
    assert counts(run("grades", *lines)) == (0, 0, 2)
    assert counts(run("grades", GRADES, f"{PNR[0]};12345678;MA;B;HT25")) == (0, 1, 0)

    assert sorted(Grade.objects.values_list("subject__code", "grade", "term__kind")) == [
        ("MA", "B", "HT"),
        ("SV", "-", "HT"),
    ]


def test_bad_grade_rows_are_each_named_and_nothing_is_imported(school):
    assert rejected(
        "grades",
        GRADES,
        f"{PNR[1]};12345678;MA;C;HT25",
        f"{PNR[0]};12345678;MA;G;HT25",
        f"{PNR[0]};12345678;MA;C;HT19",
        f"{PNR[0]};12345678;MA;C;hösten",
        f"{PNR[1]};12345678;MA;D;HT25",
    ) == [(3, "Betyg"), (4, "Termin"), (5, "Termin"), (6, "Betyg")]
    assert not Grade.objects.exists()


def test_a_missing_required_column_rejects_a_grades_file(school):
    with pytest.raises(FileRejected, match=r"Betyg|betyg"):
        run("grades", "Personnummer;Skolenhetskod;Ämne;Termin", f"{PNR[0]};12345678;MA;HT25")


def test_the_command_imports_each_new_kind(school, tmp_path: Path, capsys):
    path = tmp_path / "betyg.csv"
    path.write_text(f"{GRADES}\n{PNR[0]};12345678;MA;A;VT26\n", encoding="cp1252")

    call_command("import", "csv", "grades", str(path))

    assert "1 new" in capsys.readouterr().out
    assert Grade.objects.get().grade == "A"
    path.write_text(f"{GRADES}\n{PNR[0]};12345678;MA;Q;VT26\n", encoding="cp1252")
    with pytest.raises(CommandError, match="1 bad rows"):
        call_command("import", "csv", "grades", str(path))
    assert Grade.objects.get().grade == "A"


# --- nothing is ever half-imported ------------------------------------------------------------

GOOD = {
    "grades": [GRADES]
    + [f"{PNR[i]};12345678;{subject};C;HT25" for i in range(6) for subject in ("MA", "SV")],
    "groups": [GROUPS] + [f"12345678;7A;;{PNR[i]};2025-08-18;" for i in range(6)],
    "timetable": [TIMETABLE]
    + [f"12345678;7A;MA;2026-03-{day};08:15;09:15;lena" for day in range(16, 21)],
    "guardians": [GUARDIANS] + [f"{PNR[i]};Vh{i};Berg;;070-{i};" for i in range(6)],
}
CORRUPTIONS = [
    lambda line: line.replace("12345678", "1234567"),
    lambda line: line.replace("2025-08-18", "2025-02-30").replace("2026-03-1", "2026-13-1"),
    lambda line: line.replace(";C;", ";K;").replace(";Vh", ";;Vh"),
    lambda line: line.replace(PNR[0], PNR[0][:-1] + "9").replace(";7A;", ";9Z;"),
    lambda line: line.replace(";", ",", 2),
    lambda line: line.replace("lena", "okänd").replace("HT25", "HT"),
]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(sorted(GOOD)),
    rows=st.lists(st.integers(1, 5), min_size=1, max_size=5, unique=True),
    broken=st.lists(st.tuples(st.integers(0, 4), st.integers(0, len(CORRUPTIONS) - 1)), max_size=2),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
    junk=st.binary(max_size=8),
)
def test_a_malformed_file_of_any_new_kind_is_imported_whole_or_not_at_all(
    school, kind, rows, broken, encoding, junk
):
    lines = [GOOD[kind][i] for i in rows]
    for position, corruption in broken:
        if position < len(lines):
            lines[position] = CORRUPTIONS[corruption](lines[position])
    data = "\r\n".join([GOOD[kind][0], *lines]).encode(encoding) + junk
    tables = (Grade, s.GroupMembership, s.TeachingGroup, Lesson, s.Guardian, s.Guardianship)
    before = {model.__name__: model.objects.count() for model in tables}

    try:
        with translation.override("en"):
            result = load.import_file(kind, data)
    except (load.Rejected, FileRejected):
        assert {model.__name__: model.objects.count() for model in tables} == before
        return
    assert result.rows == len(lines)  # accepted: every row went in
    assert result.created + result.changed + result.unchanged == len(lines)


def test_the_command_draws_a_progress_bar_on_a_terminal_only(school, tmp_path: Path):
    import io

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    path = tmp_path / "betyg.csv"
    lines = [f"{PNR[i]};12345678;MA;C;HT25" for i in range(6)]
    path.write_text("\n".join([GRADES, *lines]) + "\n", encoding="utf-8")
    terminal, piped = Terminal(), io.StringIO()

    call_command("import", "csv", "grades", str(path), "--dry-run", stderr=terminal)
    call_command("import", "csv", "grades", str(path), "--dry-run", stderr=piped)

    assert "Checking [" in terminal.getvalue()
    assert "Writing 6 rows" in terminal.getvalue()
    assert piped.getvalue() == ""
    assert not Grade.objects.exists()
