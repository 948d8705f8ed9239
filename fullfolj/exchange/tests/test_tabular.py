"""Importing pupils and lesson attendance from CSV and Excel files: encodings, Swedish dates,
a report of every bad row, all or nothing, and the same file twice changing nothing."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from fullfolj.attendance.models import AttendanceChange, Lesson, LessonAttendance, PupilDay
from fullfolj.exchange.tabular import load
from fullfolj.exchange.tabular.reader import FileRejected
from fullfolj.lib import personnummer
from fullfolj.schools import models as s
from tests import factories as f

PNR = [personnummer.make(dt.date(2012, 5, 4), serial) for serial in range(200, 230)]
HEAD = "Personnummer;Förnamn;Efternamn;Skolenhetskod;Klass;Startdatum;Skyddad identitet;Adress"


@pytest.fixture
def school(db: object) -> s.School:
    org = f.organiser("Ekby kommun")
    school = s.School.objects.create(organiser=org, name="Ekbyskolan", unit_code="12345678")
    year, _autumn, _spring = f.school_year()
    klass = s.SchoolClass.objects.create(school=school, school_year=year, name="7A", grade=7)
    s.TeachingGroup.objects.create(school=school, school_year=year, name="7A", school_class=klass)
    f.subject("MA", "Matematik")
    return school


def csv(*lines: str, encoding: str = "utf-8-sig", head: str = HEAD) -> bytes:
    return "\r\n".join([head, *lines]).encode(encoding)


def pupils(data: bytes, **options: object) -> load.Result:
    with translation.override("en"):
        return load.import_file("pupils", data, **options)  # type: ignore[arg-type]


def rejected(kind: str, data: bytes) -> list[tuple[int, str]]:
    with translation.override("en"), pytest.raises(load.Rejected) as error:
        load.import_file(kind, data)
    return [(p.line, p.column) for p in error.value.problems]


def snapshot() -> dict[str, list[tuple[object, ...]]]:
    return {
        "pupils": sorted(s.Pupil.objects.values_list("personnummer", "first_name", "address")),
        "placements": sorted(
            s.Placement.objects.values_list("pupil_id", "school_class_id", "start")
        ),
        "marks": sorted(
            LessonAttendance.objects.values_list("pupil_id", "lesson_id", "absent_minutes")
        ),
        "days": sorted(PupilDay.objects.values_list("pupil_id", "date", "absent_minutes")),
    }


# --- pupils -----------------------------------------------------------------------------------


def test_pupils_from_a_semicolon_file_with_a_bom_and_again_changes_nothing(school):
    data = csv(
        f"{PNR[0]};Åsa;Öberg;12345678;7A;2025-08-18;nej;Storgatan 1, 123 45 Ekby",
        f"{PNR[1].replace('-', '')};Ebba;Ek;12345678;7a;18/8 2025;ja;Hemlig väg 9",
    )

    first = pupils(data)
    second = pupils(data)

    assert (first.created, first.changed, first.unchanged) == (2, 0, 0)
    assert (second.created, second.changed, second.unchanged) == (0, 0, 2)
    asa = s.Pupil.objects.get(first_name="Åsa")
    assert asa.placements.get().school_class.name == "7A"
    assert asa.placements.get().start == dt.date(2025, 8, 18)
    ebba = s.Pupil.objects.get(first_name="Ebba")
    assert ebba.protected_identity and ebba.address == ""  # protected: the address is dropped


def test_a_windows_1252_file_keeps_its_swedish_letters(school):
    pupils(csv(f"{PNR[0]};Åke;Ängström;12345678;;20250818;;", encoding="cp1252"))

    assert s.Pupil.objects.get().last_name == "Ängström"


def test_an_excel_workbook_with_excel_dates_and_numbers(school, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(HEAD.split(";"))
    sheet.append(
        [
            int(PNR[2].replace("-", "")),
            "Mira",
            "Berg",
            12345678,
            "7A",
            dt.datetime(2025, 8, 18),
            None,
            None,
        ]
    )
    buffer = io.BytesIO()
    book.save(buffer)

    result = pupils(buffer.getvalue(), name="elever.xlsx")

    assert result.created == 1
    assert s.Pupil.objects.get().placements.get().start == dt.date(2025, 8, 18)


def test_every_bad_row_is_reported_and_nothing_is_imported(school):
    wrong_check = PNR[3][:-1] + str((int(PNR[3][-1]) + 1) % 10)
    data = csv(
        f"{wrong_check};Ada;Al;12345678;7A;2025-08-18;;",
        f"{PNR[4]};Bo;Bok;12345678;7A;2026-02-30;;",
        f"{PNR[5]};Cy;Cox;99999999;;2025-08-18;;",
        f"{PNR[6]};;Dahl;12345678;7C;2025-08-18;kanske;",
        f"{PNR[7]};Eva;Ek;12345678;7A;2025-08-18;;",  # a good row: not imported either
        f"{PNR[7]};Eva;Ek;12345678;7A;2025-08-18;;",
    )

    assert rejected("pupils", data) == [
        (2, "Personnummer"),
        (3, "Startdatum"),
        (4, "Skolenhetskod"),
        (5, "Förnamn"),
        (5, "Skyddad identitet"),
        (5, "Klass"),
        (7, "Personnummer"),  # the same pupil twice
    ]
    assert not s.Pupil.objects.exists()


def test_a_rule_of_ours_refusing_a_row_while_writing_rolls_back_the_file(school):
    other = s.School.objects.create(
        organiser=school.organiser, name="Västerskolan", unit_code="22222222"
    )
    data = csv(
        f"{PNR[8]};Ada;Al;12345678;;2025-08-18;;",
        f"{PNR[9]};Bo;Bok;12345678;;2025-08-18;;",
    )
    pupils(data)
    before = snapshot()
    moved = csv(
        f"{PNR[9]};Bo;Bokström;12345678;;2025-08-18;;",
        f"{PNR[8]};Ada;Al;{other.unit_code};;2026-01-10;;",  # still placed at Ekbyskolan then
    )

    assert rejected("pupils", moved) == [(3, "Startdatum")]
    assert snapshot() == before  # Bo's new name, on the line before, is not kept either


def test_a_missing_column_or_an_unknown_encoding_rejects_the_file(school):
    with translation.override("en"):
        with pytest.raises(FileRejected, match="Required columns are missing: skolenhetskod"):
            load.import_file("pupils", b"Personnummer;F\xc3\xb6rnamn;Efternamn\r\n")
        with pytest.raises(FileRejected, match="encoding is unknown"):
            load.import_file("pupils", HEAD.encode() + b"\r\n\x81\x8d;x")
        with pytest.raises(FileRejected, match="not a text file"):
            load.import_file("pupils", b"\x00\x01\x02")


# --- lesson attendance ------------------------------------------------------------------------

MARK_HEAD = "Personnummer;Skolenhetskod;Grupp;Ämne;Datum;Starttid;Minuter;Frånvaro (min);Sen ankomst (min);Giltig"


@pytest.fixture
def placed(school):
    pupils(
        csv(
            f"{PNR[10]};Ada;Al;12345678;7A;2025-08-18;;",
            f"{PNR[11]};Bo;Bok;12345678;7A;2025-08-18;;",
        )
    )
    return school


def marks(*lines: str, encoding: str = "utf-8") -> bytes:
    return csv(*lines, encoding=encoding, head=MARK_HEAD)


def test_lesson_attendance_updates_the_days_and_a_second_import_changes_nothing(placed):
    data = marks(
        f"{PNR[10]};12345678;7A;MA;2026-03-16;08:00;60;20;0;nej",
        f"{PNR[11]};12345678;7A;Matematik;16/3 2026;8.00;60;0;5;",
    )

    with translation.override("en"):
        first = load.import_file("attendance", data)
        again = load.import_file("attendance", data)

    assert (first.created, again.created, again.changed, again.unchanged) == (2, 0, 0, 2)
    lesson = Lesson.objects.get()
    assert (lesson.minutes, lesson.registered_at is not None) == (60, True)
    day = PupilDay.objects.get(pupil__first_name="Ada")
    assert (day.scheduled_minutes, day.invalid_minutes) == (60, 20)
    assert PupilDay.objects.get(pupil__first_name="Bo").late_minutes == 5

    with translation.override("en"):
        load.import_file("attendance", marks(f"{PNR[10]};12345678;7A;MA;2026-03-16;08:00;60;0;0;"))

    assert PupilDay.objects.get(pupil__first_name="Ada").absent_minutes == 0
    ada = AttendanceChange.objects.filter(changed_by=None, attendance__pupil__first_name="Ada")
    assert [c.new["absent_minutes"] for c in ada.order_by("pk")] == [20, 0]


def test_bad_attendance_rows_are_each_named(placed):
    data = marks(
        f"{PNR[10]};12345678;7B;MA;2026-03-16;08:00;60;0;0;",
        f"{PNR[12]};12345678;7A;MA;2026-03-16;08:00;60;0;0;",
        f"{PNR[10]};12345678;7A;MA;2026-07-01;08:00;60;0;0;",
        f"{PNR[10]};12345678;7A;XX;2026-03-16;25:00;60;70;0;",
        f"{PNR[11]};12345678;7A;MA;2026-03-16;08:00;60;50;20;",
    )

    assert rejected("attendance", data) == [
        (2, "Grupp"),
        (3, "Personnummer"),
        (4, "Datum"),
        (5, "Starttid"),
        (5, "Ämne"),
        (5, "Frånvaro (min)"),
        (6, "Sen ankomst (min)"),
    ]
    assert not Lesson.objects.exists()


# --- the command ------------------------------------------------------------------------------


def test_the_command_reports_bad_rows_and_then_imports_the_fixed_file(school, tmp_path: Path):
    path = tmp_path / "elever.csv"
    path.write_bytes(csv(f"{PNR[13]};Ada;Al;12345678;7A;2026-02-30;;"))
    err = io.StringIO()

    with (
        translation.override("en"),
        pytest.raises(CommandError, match="1 bad rows; nothing was imported"),
    ):
        call_command("import", "csv", "pupils", str(path), stdout=io.StringIO(), stderr=err)

    assert (
        "Line 2, column “Startdatum”: “2026-02-30” is a date that does not exist." in err.getvalue()
    )
    path.write_bytes(csv(f"{PNR[13]};Ada;Al;12345678;7A;2026-02-27;;"))
    out = io.StringIO()
    call_command("import", "csv", "pupils", str(path), stdout=out)
    assert "Imported 1 rows: 1 new, 0 changed, 0 unchanged." in out.getvalue()


def test_a_dry_run_checks_the_file_and_writes_nothing(school, tmp_path: Path):
    path = tmp_path / "elever.csv"
    path.write_bytes(csv(f"{PNR[14]};Ada;Al;12345678;7A;2025-08-18;;"))
    out = io.StringIO()

    call_command("import", "csv", "pupils", str(path), "--dry-run", stdout=out)

    assert "Would import 1 rows: 1 new" in out.getvalue()
    assert not s.Pupil.objects.exists()


# --- nothing is ever half-imported ------------------------------------------------------------

GOOD = [
    f"{pnr};Namn{i};Efternamn;12345678;7A;2025-08-18;nej;Gatan {i}"
    for i, pnr in enumerate(PNR[15:25])
]
CORRUPTIONS = [
    lambda line: line.replace("12345678", "1234567"),  # an unknown school unit
    lambda line: line.replace("2025-08-18", "2025-13-01"),  # a date that does not exist
    lambda line: line[:-1] if line[-1].isdigit() else line + "x",  # an address or a check digit
    lambda line: line.replace(";Namn", ";"),  # no first name
    lambda line: line.replace(";7A;", ";9Z;"),  # a class that does not exist
    lambda line: line.replace("nej", "kanske"),  # neither ja nor nej
    lambda line: line.split(";", 1)[0][:-1] + "0;" + line.split(";", 1)[1],  # a check digit
    lambda line: line + ";extra;celler",  # too many cells: ignored
    lambda line: line.replace(";", ",", 2),  # a broken separator
]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.integers(0, len(GOOD) - 1), min_size=1, max_size=8, unique=True),
    broken=st.lists(st.tuples(st.integers(0, 7), st.integers(0, len(CORRUPTIONS) - 1)), max_size=3),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
    junk=st.binary(max_size=12),
    with_junk=st.booleans(),
)
def test_a_malformed_file_is_imported_whole_or_not_at_all(
    school, rows, broken, encoding, junk, with_junk
):
    lines = [GOOD[i] for i in rows]
    for position, corruption in broken:
        if position < len(lines):
            lines[position] = CORRUPTIONS[corruption](lines[position])
    data = csv(*lines, encoding=encoding) + (junk if with_junk else b"")
    before = snapshot()

    try:
        pupils(data)
    except (load.Rejected, FileRejected):
        assert snapshot() == before  # refused: not one row written
        return
    imported = set(s.Pupil.objects.values_list("personnummer", flat=True))
    for line in lines:
        assert line.split(";", 1)[0] in imported  # accepted: every row is there


def test_a_bad_start_date_is_reported_once_not_again_by_the_class(school, settings):
    settings.FULLFOLJ_TODAY = "2026-12-05"  # no school year holds today: no class to find then

    assert rejected("pupils", csv(f"{PNR[25]};Ada;Al;12345678;7A;2026-02-30;;")) == [
        (2, "Startdatum")
    ]
