"""Bad input: an unknown format, a failing check digit, a child listed twice, an unknown
organiser: each named with its row, nothing half-imported; the same file twice changes
nothing."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from fullfolj.compulsory.importing import import_placements, import_register, read_personnummer
from fullfolj.compulsory.models import ReportedPlacement, Resident
from fullfolj.exchange.tabular.load import Rejected
from fullfolj.exchange.tabular.reader import BadValue, FileRejected
from fullfolj.schools import models as s

from . import world

HEADER = "Personnummer;Förnamn;Efternamn;Folkbokföringskommun;Inflyttningsdatum\n"


def test_the_same_extract_twice_changes_nothing(cast):
    raw = world.register_csv(cast)
    first = import_register(raw, organiser=cast.org)
    assert (first.rows, first.created, first.changed) == (14, 14, 0)
    before = list(Resident.objects.order_by("pk").values())
    second = import_register(raw, organiser=cast.org)
    assert (second.created, second.changed, second.unchanged) == (0, 0, 14)
    assert list(Resident.objects.order_by("pk").values()) == before


def test_a_new_extract_replaces_the_old(cast):
    import_register(world.register_csv(cast), organiser=cast.org)
    raw = (HEADER + f"{world.GUSTAV};Gustav;Nyström;9999;2026-01-02\n").encode()
    result = import_register(raw, organiser=cast.org)
    assert (result.created, result.changed) == (0, 1)
    assert "13" in result.lines[0]
    assert list(Resident.objects.values_list("personnummer", flat=True)) == [world.GUSTAV]


def test_a_bad_check_digit_and_a_child_twice_are_named_and_nothing_is_written(cast):
    wrong = world.GUSTAV[:-1] + str((int(world.GUSTAV[-1]) + 1) % 10)
    raw = (
        HEADER
        + f"{world.HANNA};Hanna;Holm;9999;\n"
        + f"{wrong};Gustav;Nyström;9999;\n"
        + f"{world.IVAR};Ivar;Idström;9999;2026-02-30\n"
        + f"{world.HANNA};Hanna;Holm;9999;\n"
    ).encode()
    with pytest.raises(Rejected) as error:
        import_register(raw, organiser=cast.org)
    problems = [(p.line, p.column, p.reason) for p in error.value.problems]
    assert problems[0][:2] == (3, "Personnummer") and "kontrollsiffra" in problems[0][2]
    assert problems[1][:2] == (4, "Inflyttningsdatum")
    assert problems[2][:2] == (5, "Personnummer") and "2" in problems[2][2]
    assert len(problems) == 3
    assert not Resident.objects.exists()


def test_an_unknown_format_is_refused_whole(cast):
    with pytest.raises(FileRejected, match=r"(?i)folkbokföringskommun"):
        import_register(b"Namn;Ort\nAnna;Testby\n", organiser=cast.org)
    with pytest.raises(FileRejected, match="UTF-8"):
        import_register(b"Personnummer;F\x81rnamn\n", organiser=cast.org)
    assert not Resident.objects.exists()


def test_the_register_services_short_numbers():
    assert read_personnummer(world.GUSTAV[2:]) == world.GUSTAV
    assert read_personnummer(world.MIRA[2:].replace("-", "")) == world.MIRA
    # a '+' marks someone a hundred years old or more
    old = world.pnr(dt.date(1918, 1, 1), 288)
    assert read_personnummer(old[2:].replace("-", "+")) == old
    with pytest.raises(BadValue):
        read_personnummer("abc")


def test_an_unknown_organiser_is_named_with_its_row(cast):
    world.organisers()
    raw = (
        world.placements_csv()
        + (f"{world.GUSTAV};Gustav;Nyström;Okända skolan AB;77700001;Okänd;2025-08-18;\n").encode()
    )
    with pytest.raises(Rejected) as error:
        import_placements(raw, organiser=cast.org)
    [problem] = error.value.problems
    assert (problem.line, problem.column) == (7, "Huvudman")
    assert "Okända skolan AB" in problem.reason
    assert not ReportedPlacement.objects.exists()


def test_a_placement_twice_and_a_school_of_another_organiser(cast):
    world.organisers()
    raw = (
        world.placements_csv()
        + (
            f"{world.HANNA};Hanna;Holm;Friskolan AB;55500001;Friskolan Centrum;2025-08-18;\n"
            f"{world.GUSTAV};Gustav;Nyström;Friskolan AB;{cast.north.unit_code};Norrskolan;2025-08-18;\n"
        ).encode()
    )
    with pytest.raises(Rejected) as error:
        import_placements(raw, organiser=cast.org)
    assert [(p.line, p.column) for p in error.value.problems] == [
        (7, "Personnummer"),
        (8, "Skolenhetskod"),
    ]


def test_placements_from_a_workbook_twice(cast):
    world.organisers()
    book = Workbook()
    sheet = book.active
    sheet.append(["Personnummer", "Huvudman", "Skolenhetskod", "Startdatum", "Slutdatum"])
    sheet.append([int(world.HANNA.replace("-", "")), "Friskolan AB", 55500001, "2025-08-18", None])
    sheet.append([world.IVAR, "grannby kommun", "66600001", "18/8 2025", "2026-06-12"])
    out = io.BytesIO()
    book.save(out)
    first = import_placements(out.getvalue(), name="lista.xlsx", organiser=cast.org)
    assert first.created == 2
    again = import_placements(out.getvalue(), name="lista.xlsx", organiser=cast.org)
    assert (again.created, again.changed, again.unchanged) == (0, 0, 2)
    assert ReportedPlacement.objects.get(personnummer=world.IVAR).reporter.name == "Grannby kommun"


def test_the_import_command(cast, tmp_path, capsys):
    path = tmp_path / "folkbokforing.csv"
    path.write_bytes(world.register_csv(cast))
    call_command("import", "register", str(path), "--dry-run")
    assert "Would import 14 rows: 14 new" in capsys.readouterr().out
    assert not Resident.objects.exists()
    call_command("import", "register", str(path))
    assert Resident.objects.count() == 14
    world.organisers()
    bad = tmp_path / "placeringar.csv"
    bad.write_bytes(world.placements_csv().replace(b"Friskolan AB", b"Ingen AB", 1))
    with pytest.raises(CommandError, match="--organiser"):  # two municipalities now
        call_command("import", "placements", str(bad))
    with pytest.raises(CommandError, match="1 bad rows"):
        call_command("import", "placements", str(bad), "--organiser", str(cast.org.pk))
    assert "Huvudman" in capsys.readouterr().err


def _residence(*pupils) -> list[int | None]:
    return [s.Pupil.objects.get(pk=p.pk).municipality_of_residence_id for p in pupils]


def test_the_extract_gives_our_pupil_records_their_registered_municipality(cast):
    """In the import's transaction: registered here, our record says here; registered in a
    municipality we hold, that one; registered in one we do not hold, none. A child the extract
    does not list, or registered elsewhere while our record names another municipality, keeps
    its record as it is."""
    _independent, neighbour = world.organisers()
    far = s.Organiser.objects.create(
        name="Fjärran kommun", kind="municipality", municipality_code="2222"
    )
    s.Pupil.objects.filter(pk=cast.pupil.pk).update(municipality_of_residence=None)
    s.Pupil.objects.filter(pk=cast.other_pupil.pk).update(municipality_of_residence=far)
    s.Pupil.objects.filter(pk__in=[cast.pupil_elsewhere.pk, cast.protected.pk]).update(
        municipality_of_residence=cast.org
    )
    raw = (
        HEADER
        + f"{cast.pupil.personnummer};Alva;Åkesson;9999;\n"
        + f"{cast.pupil_elsewhere.personnummer};Dino;Dählgren;1111;\n"
        + f"{cast.protected.personnummer};Cora;Cöster;1499;\n"
        + f"{cast.other_pupil.personnummer};Bilal;Bäckström;1111;\n"
    ).encode()
    pupils = (cast.pupil, cast.pupil_elsewhere, cast.protected, cast.other_pupil, cast.moved_away)
    before = _residence(*pupils)
    assert before == [None, cast.org.pk, cast.org.pk, far.pk, cast.org.pk]
    checked = import_register(raw, organiser=cast.org, dry_run=True)
    assert "3 elever i våra uppgifter" in " ".join(checked.lines)
    assert _residence(*pupils) == before  # a dry run writes nothing
    result = import_register(raw, organiser=cast.org)
    assert "3 elever i våra uppgifter" in " ".join(result.lines)
    assert _residence(*pupils) == [cast.org.pk, neighbour.pk, None, far.pk, cast.org.pk]
    again = import_register(raw, organiser=cast.org)
    assert not any("elever i våra uppgifter" in line for line in again.lines)
    assert _residence(*pupils) == [cast.org.pk, neighbour.pk, None, far.pk, cast.org.pk]


def test_a_refused_extract_leaves_our_pupil_records_alone(cast):
    s.Pupil.objects.filter(pk=cast.pupil.pk).update(municipality_of_residence=None)
    raw = (
        HEADER
        + f"{cast.pupil.personnummer};Alva;Åkesson;9999;\n"
        + f"{world.HANNA};Hanna;Holm;9999;2026-02-30\n"
    ).encode()
    with pytest.raises(Rejected):
        import_register(raw, organiser=cast.org)
    assert _residence(cast.pupil) == [None]
