"""Each figure of the dashboard and the evaluation report, worked out by hand on Småstad
(conftest.py), first with nothing hidden (minimum group 1), then as shown (minimum 5)."""

from __future__ import annotations

import math

import pytest

from fullfolj.reports import evaluation as ev
from fullfolj.reports.dashboard import Filters, dashboard
from fullfolj.reports.suppression import MINIMUM


@pytest.fixture
def unsuppressed(settings):
    settings.FULLFOLJ_MIN_GROUP_SIZE = 1


def _tables(report):
    return {t.key: t for t in report.tables}


def _row(table, label):
    return dict(table.all_rows)[label]


def test_the_school_dashboard_for_the_spring_term(town, unsuppressed):
    report = dashboard(
        [town.school], Filters(town.vt26.start, town.vt26.end), title="Åsskolan", per_teacher=True
    )
    assert not report.messages
    t = _tables(report)
    # absence over Feb + Mar (2,000 minutes each): G1 0 %, G2 3 %, G3 7 %, G4 10.5 %, G5 20 %;
    # B1 0 %, B2 1 %, B3 3 %, B4 16 %, B5 25 %
    d = t["fordelning"]
    assert [v[:3] for _l, v in d.rows] == [[2, 3, 5], [1, 0, 1], [1, 0, 1], [0, 1, 1], [1, 1, 2]]
    assert [v[3] for _l, v in d.rows] == [50.0, 10.0, 10.0, 10.0, 20.0]
    assert d.total_row[1] == [5, 5, 10, 100.0]
    # Feb: G4 12 %, G5 20 %, B4 16 %, B5 25 %; Mar: G4 9 %, G5 20 %, B4 16 %, B5 25 %
    levels = t["nivaer-per-manad"]
    assert levels.rows == [
        ("2026-02", [10, 4, 3, 2, 40.0, 30.0, 20.0]),
        ("2026-03", [10, 3, 3, 2, 30.0, 30.0, 20.0]),
    ]
    validity = t["giltig-ogiltig"]  # girls' absence is valid, boys' invalid
    assert validity.rows == [
        ("2026-02", [10, 8.5, 4.0, 4.5, 0.0]),
        ("2026-03", [10, 8.6, 4.1, 4.5, 0.0]),
    ]
    trend = t["trend"]
    assert [label for label, _v in trend.rows] == ["HT 2024", "VT 2025", "HT 2025", "VT 2026"]
    assert trend.rows[0][1] == [0, None, None, None]
    assert trend.rows[1][1] == pytest.approx([10, 11.8, 7.0, 4.8])  # 1,180 of 10,000 minutes
    assert trend.rows[2][1] == pytest.approx([10, 10.7, 5.5, 5.2])
    assert trend.rows[3][1] == pytest.approx([10, 8.55, 4.05, 4.5])
    # year 9 on the autumn's grades: eligible G1-G3, B1-B3; merit 6 x 120 + 105 + 3 x 90
    eligibility = t["behorighet"]
    assert _row(eligibility, "Årskurs 9") == [10, 6, 4, 60.0, pytest.approx(109.5)]
    assert _row(eligibility, "Årskurs 8") == [0, 0, 0, None, None]
    assert t["trappan"].rows == [("Kontakt med vårdnadshavare", [4, 1])]
    cases = t["arenden"]
    assert cases.rows[0] == ("Ärenden öppnade", [3])
    assert [v for _l, v in cases.rows[1:]] == [[2], [1]]  # extra adaptations, guardians
    assert cases.total_row[1] == [3]
    follow = t["uppfoljning"]
    # G4 followed up on its date, B4 a week late (both done); B5 not yet: overdue
    assert follow.rows == [("Åsskolan", [2, 1, pytest.approx(200 / 3)])]
    assert [v for _l, v in t["anpassad-studiegang"].rows] == [[0], [0], [1], [1]]
    registration = t["registrering"]
    assert registration.rows == [("Asa_Teacher Testsson", [4, 3, 75.0])]


def test_filters_by_gender_and_grade_year(town, unsuppressed):
    report = dashboard(
        [town.school],
        Filters(town.vt26.start, town.vt26.end, grade=9, gender="F"),
        title="x",
        per_teacher=True,
    )
    d = _tables(report)["fordelning"]
    assert d.total_row[1] == [5, 0, 5, 100.0]
    nobody = dashboard(
        [town.school], Filters(town.vt26.start, town.vt26.end, grade=7), title="x", per_teacher=True
    )
    assert nobody.messages == [
        "Inga elever matchar filtren under perioden: välj fler årskurser eller båda könen."
    ]
    assert not nobody.tables


def test_bad_periods_give_a_message_not_an_error(town):
    backwards = dashboard(
        [town.school], Filters(town.vt26.end, town.vt26.start), title="x", per_teacher=False
    )
    summer = dashboard(
        [town.school],
        Filters(
            town.vt26.start.replace(year=2025, month=7, day=1),
            town.vt26.start.replace(year=2025, month=7, day=31),
        ),
        title="x",
        per_teacher=False,
    )
    assert backwards.messages and not backwards.tables
    assert summer.messages and not summer.tables


def test_small_groups_are_hidden_as_shown(town):
    assert MINIMUM == 5
    report = dashboard(
        [town.school], Filters(town.vt26.start, town.vt26.end), title="x", per_teacher=True
    )
    d = _tables(report)["fordelning"]
    for _label, values in d.all_rows:
        for value in values[:3]:
            assert value is None or value == 0 or value >= 5
    shown = d.display_rows
    assert any(text == "< 5" for _l, cells in shown for text, _n in cells)


def _report(town, **kwargs):
    return ev.evaluate(
        ev.Request(
            title="Riskzon",
            pupil_ids=[p.pk for n, p in town.pupils.items() if n != "B1"],
            schools=[town.school],
            first=kwargs.get("first", town.vt25),
            second=kwargs.get("second", town.ht25),
            threshold=kwargs.get("threshold", 5),
        )
    )


def test_the_evaluation_report_by_hand(town, unsuppressed):
    report = _report(town)
    assert not report.messages
    t = _tables(report)
    # 12 selected: M1 moved away, L1 (eligible) and L2 (not) finished year 9
    assert t["urval"].rows == [
        ("Flyttat", [1]),
        ("Gått till ett nationellt program", [1]),
        ("Gått till ett introduktionsprogram", [1]),
        ("Kvar", [9]),
    ]
    assert t["urval"].total_row[1] == [12]
    # attendance change (points): G1 0, G2 +10, G3 +5, G4 -20, G5 +20, B2 -10, B3 +7, B4 -1, B5 0
    change = t["narvaroforandring"]
    assert [v[0] for _l, v in change.rows] == [3, 2, 4, 0]
    assert change.total_row[1] == [9, 100.0]
    # eligibility: the list VT 2025 6 of 12 (girls 3 of 6, boys 3 of 6); HT 2025 5 of 9
    # (girls 3 of 5, boys 2 of 4); the school adds B1, eligible both terms
    eligibility = [v for _l, v in t["behorighet"].rows]
    assert eligibility[0] == [12, 50.0, 6, 50.0, 6, 50.0]
    assert eligibility[1] == pytest.approx([9, 500 / 9, 5, 60.0, 4, 50.0])
    assert eligibility[2] == pytest.approx([13, 700 / 13, 6, 50.0, 7, 400 / 7])
    assert eligibility[3] == pytest.approx([10, 60.0, 5, 60.0, 5, 60.0])
    # correlation: attendance change and change in passed subjects of the nine remaining
    xs = [0, 10, 5, -20, 20, -10, 7, -1, 0]
    ys = [0, 2, 0, -1, 2, 0, 1, 0, 0]
    mx, my = sum(xs) / 9, sum(ys) / 9
    r = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / math.sqrt(
        sum((x - mx) ** 2 for x in xs) * sum((y - my) ** 2 for y in ys)
    )
    half = 1.959963984540054 / math.sqrt(9 - 3)
    low, high = math.tanh(math.atanh(r) - half), math.tanh(math.atanh(r) + half)
    corr = dict(t["samband"].rows)
    assert corr["Elever med närvaro och betyg båda terminerna"] == ["9"]
    assert corr["Korrelation (r)"] == [f"{r:.2f}".replace(".", ",")]
    assert (round(r, 2), round(low, 2), round(high, 2)) == (0.88, 0.52, 0.97)
    assert corr["95 % intervall, nedre"] == ["0,52"]
    assert corr["95 % intervall, övre"] == ["0,97"]
    assert report.texts == [
        "Det finns ett starkt positivt samband: elever vars närvaro ökade klarade oftare fler "
        "ämnen. Korrelationen är 0,88, och med 9 elever går 95 %-intervallet från 0,52 till "
        "0,97. Ett samband visar inte att det ena orsakade det andra."
    ]
    assert [v for _l, v in t["anpassad-studiegang"].rows] == [[0], [1]]


def test_an_interval_across_zero_reads_as_no_clear_relation():
    from fullfolj.reports.stats import Correlation

    words = ev.relation_in_words(Correlation(n=12, r=0.21, low=-0.41, high=0.69))
    assert words.startswith("Inget tydligt samband")
    assert "från −0,41 till 0,69" in words or "från -0,41 till 0,69" in words
    assert "För få elever" in ev.relation_in_words(Correlation(n=4, r=None, low=None, high=None))


def test_a_wider_threshold_counts_more_as_unchanged(town, unsuppressed):
    change = _tables(_report(town, threshold=9.5))["narvaroforandring"]
    assert [v[0] for _l, v in change.rows] == [2, 2, 5, 0]  # G2 +10, G5 +20; G4 -20, B2 -10


def test_bad_evaluation_input_gives_a_message(town):
    wrong_order = _report(town, first=town.ht25, second=town.vt25)
    assert wrong_order.messages and not wrong_order.tables
    empty = ev.evaluate(ev.Request("x", [], [town.school], town.vt25, town.ht25))
    assert empty.messages and not empty.tables
    gone = ev.evaluate(
        ev.Request(
            "x",
            [town.pupils[n].pk for n in ("L1", "L2", "M1")],
            [town.school],
            town.vt25,
            town.ht25,
        )
    )
    assert gone.messages and [t.key for t in gone.tables] == ["urval"]
    future = _report(
        town,
        first=town.ht25,
        second=town.vt26.__class__.objects.create(
            school_year=town.vt26.school_year.__class__.objects.create(
                name="2026/27",
                start=town.vt26.end.replace(month=8, day=17),
                end=town.vt26.end.replace(year=2027),
            ),
            kind="HT",
            start=town.vt26.end.replace(month=8, day=17),
            end=town.vt26.end.replace(month=12, day=18),
        ),
    )
    assert future.messages and not future.tables
