"""`model evaluate --csv` as an analyst meets it: large files, protected columns, the report."""

from __future__ import annotations

import io
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.utils import translation

from fullfolj.riskmodel import engine, report
from fullfolj.riskmodel.cli import EXIT_BAD_INPUT, build_parser, evaluate_csv_command
from fullfolj.riskmodel.history import (
    History,
    HistoryFileError,
    looks_protected,
    read_history_csv,
    stratified_sample,
)
from fullfolj.riskmodel.models import ProtectedColumn
from fullfolj.schools.models import Organiser

NBSP = "\xa0"


def tail_metrics(output: str) -> dict[str, str]:
    block = output.rstrip("\n").split("\n\n")[-1].splitlines()
    return dict(line.split(": ", 1) for line in block)


def pupils_csv(path: Path, n: int, *, seed: int = 0, extra: dict | None = None) -> Path:
    """Pupils whose dropout is driven by absence; `id` is the line's row, for checking samples."""
    rng = np.random.default_rng(seed)
    absence = rng.normal(0, 1, n)
    frame = pd.DataFrame(
        {
            "id": np.arange(n),
            "absence": absence.round(3),
            "noise": rng.normal(0, 1, n).round(3),
            "Kön": rng.choice(["0", "1"], n),
            "Avhopp": np.where(rng.random(n) < 1 / (1 + np.exp(-(2 * absence - 1))), "ja", "nej"),
            **(extra or {}),
        }
    )
    frame.to_csv(path, sep=";", index=False)
    return path


def run(argv: list[str], language: str = "en") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with translation.override(language):
        code = evaluate_csv_command(argv, out, err)
    return code, out.getvalue(), err.getvalue()


# --- Files of any size: the row limit and the sample ----------------------------------------


def test_above_the_row_limit_a_stratified_sample_of_whole_rows_is_read(tmp_path: Path) -> None:
    n = 1000
    path = tmp_path / "big.csv"
    ids = np.arange(n)
    outcome = np.where(ids % 10 < 3, "ja", "nej")  # 300 positives, known by the row
    pd.DataFrame({"id": ids, "absence": ids * 0.5, "Avhopp": outcome}).to_csv(
        path, sep=";", index=False
    )
    history = read_history_csv(path, target="Avhopp", positive="ja", max_rows=200, seed=3)
    assert (history.total_rows, history.total_positives) == (1000, 300)
    assert len(history.y) == 200 and history.sampled
    assert history.y.sum() == 60  # the file's share, 30 %
    kept = history.X["id"].to_numpy().astype(int)
    assert len(set(kept)) == 200
    # Each kept row is the file's row whole: its outcome and its other cells belong together.
    assert history.y.tolist() == (kept % 10 < 3).astype(int).tolist()
    assert history.X["absence"].tolist() == (kept * 0.5).tolist()
    again = read_history_csv(path, target="Avhopp", positive="ja", max_rows=200, seed=3)
    assert again.X["id"].tolist() == history.X["id"].tolist()  # the seed fixes the sample


def test_below_the_row_limit_every_row_is_read(tmp_path: Path) -> None:
    path = pupils_csv(tmp_path / "small.csv", 150)
    history = read_history_csv(path, target="Avhopp", positive="ja", max_rows=150)
    assert not history.sampled and len(history.y) == history.total_rows == 150


def test_the_stratified_sample_keeps_each_outcomes_share() -> None:
    y = np.array([1] * 50 + [0] * 950)
    keep = stratified_sample(y, 100, seed=0)
    assert len(keep) == 100 and y[keep].sum() == 5
    assert list(keep) == sorted(keep)
    assert len(stratified_sample(y, None, seed=0)) == 1000


def test_the_command_states_the_sampling_protocol_and_checks_the_sample(tmp_path: Path) -> None:
    path = pupils_csv(tmp_path / "big.csv", 600)
    code, out, err = run(
        [
            "--csv",
            str(path),
            "--target",
            "Avhopp",
            "--positive",
            "ja",
            "--max-rows",
            "300",
            "--folds",
            "2",
            "--repeats",
            "1",
            "--jobs",
            "1",
            "--learner",
            "logistic_regression",
            "--no-importance",
        ]
    )
    assert (code, err) == (0, "")
    assert "The file has 600 rows" in out
    assert "stratified sample: 300 rows drawn at random (seed 0)" in out
    metrics = tail_metrics(out)
    assert (metrics["file_rows"], metrics["rows"]) == ("600", "300")


def test_above_the_large_size_the_learners_that_scale_run_in_five_folds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "LARGE_ROWS", 100)
    path = pupils_csv(tmp_path / "large.csv", 200)
    code, out, _ = run(
        [
            *("--csv", str(path), "--target", "Avhopp", "--positive", "ja"),
            *("--jobs", "1", "--no-importance"),
        ]
    )
    assert code == 0
    metrics = tail_metrics(out)
    assert (metrics["folds"], metrics["repeats"]) == ("5", "1")
    members = {item.split("=")[0] for item in metrics["member_folds"].split(",")}
    assert members <= set(engine.SCALABLE_LEARNERS)
    assert "only the learners that scale are compared" in out


def test_progress_is_reported_as_each_fold_ends() -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"absence": rng.normal(0, 1, 120)})
    y = (X["absence"] + rng.normal(0, 1, 120) > 0).astype(int).to_numpy()
    seen: list[tuple[int, int]] = []
    engine.evaluate(
        X,
        y,
        folds=3,
        repeats=2,
        learners=["logistic_regression"],
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen == [(i, 6) for i in range(1, 7)]


# --- Protected columns -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "protected"),
    [
        ("Gender", True),
        ("kön", True),
        ("Kön", True),
        ("sex", True),
        ("Födelseland", True),
        ("Nacionality", True),
        ("Mother's nationality", True),
        ("pupil_gender", True),
        ("Sexual education", False),
        ("konto", False),
        ("absence", False),
    ],
)
def test_protected_columns_are_found_by_whole_words(name: str, protected: bool) -> None:
    assert looks_protected(name) is protected


def test_a_protected_column_is_no_input_unless_asked_and_is_audited(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    path = pupils_csv(
        tmp_path / "p.csv",
        40,
        extra={"Födelseland": rng.choice(["SE", "SY"], 40), "Skola": rng.choice(["A", "B"], 40)},
    )
    history = read_history_csv(path, target="Avhopp", positive="ja")
    assert "Kön" not in history.X and "Födelseland" not in history.X
    assert list(history.audit.columns) == ["Kön", "Födelseland"]
    assert history.protected == ["Kön", "Födelseland"]

    asked = read_history_csv(path, target="Avhopp", positive="ja", use_protected=["Kön"])
    assert "Kön" in asked.X and "Kön" in asked.audit  # an input on request, audited all the same
    assert asked.used_protected == ["Kön"]

    listed = read_history_csv(path, target="Avhopp", positive="ja", protected=["skola"])
    assert "Skola" not in listed.X and "Skola" in listed.audit  # the admin's list, any case


@pytest.mark.django_db
def test_the_command_keeps_the_admins_protected_columns_out(tmp_path: Path) -> None:
    ProtectedColumn.objects.create(name="Skola", note="a school is a neighbourhood")
    rng = np.random.default_rng(2)
    path = pupils_csv(tmp_path / "p.csv", 80, extra={"Skola": rng.choice(["A", "B"], 80)})
    out = io.StringIO()
    with translation.override("en"):
        call_command(
            "model",
            "evaluate",
            "--csv",
            str(path),
            "--target",
            "Avhopp",
            "--positive",
            "ja",
            "--folds",
            "2",
            "--repeats",
            "1",
            "--jobs",
            "1",
            "--learner",
            "logistic_regression",
            "--labels",
            "Kön=0:flicka,1:pojke",
            "--no-importance",
            stdout=out,
            stderr=io.StringIO(),
        )
    text = out.getvalue()
    assert "The column Skola looks like a protected attribute" in text
    assert "Fairness by Skola" in text and "Fairness by Kön" in text
    assert tail_metrics(text)["inputs"] == "3"  # id, absence, noise
    assert "flicka" in text and "pojke" in text  # readable labels, not 0 and 1


def test_labels_must_name_an_audited_column(tmp_path: Path) -> None:
    path = pupils_csv(tmp_path / "p.csv", 40)
    code, _, err = run(
        ["--csv", str(path), "--target", "Avhopp", "--positive", "ja", "--labels", "noise=0:a"]
    )
    assert code == EXIT_BAD_INPUT
    assert "--labels: 'noise' is not an audited column" in err


def test_a_badly_written_label_option_is_refused() -> None:
    code, _, err = run(["--csv", "x", "--target", "t", "--positive", "1", "--labels", "Kön=0"])
    assert code == EXIT_BAD_INPUT
    assert "COLUMN=CODE:LABEL" in err


def test_codes_declared_categorical_are_one_hot_encoded(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    path = pupils_csv(tmp_path / "c.csv", 40, extra={"Course": rng.choice([171, 9254, 33], 40)})
    plain = read_history_csv(path, target="Avhopp", positive="ja")
    coded = read_history_csv(path, target="Avhopp", positive="ja", categorical=["Course"])
    assert plain.X["Course"].dtype == float
    assert set(coded.X["Course"]) <= {"171", "9254", "33"}
    assert "Course" in engine.categorical_columns(coded.X)
    with pytest.raises(HistoryFileError, match="--categorical column 'Kurs' not found"):
        read_history_csv(path, target="Avhopp", positive="ja", categorical=["Kurs"])


# --- The report: figures against a hand-computed confusion matrix ---------------------------


def hand_made() -> tuple[History, engine.Evaluation]:
    """Ten pupils, three dropouts; the three highest risks are rows 0, 3 and 1.

    Flagged: rows 0 and 1 dropped out (2 right), row 3 did not (1 wrong); row 2 dropped out
    unflagged; six others are rightly left alone. Accuracy 8/10, recall 2/3, precision 2/3.
    """
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    risk = np.array([0.9, 0.7, 0.2, 0.8, 0.1, 0.15, 0.05, 0.3, 0.25, 0.12])
    history = History(
        X=pd.DataFrame({"frånvaro": np.arange(10.0)}),
        y=y,
        audit=pd.DataFrame({"kön": ["0", "1"] * 5}),
        target="Avhopp",
        positive="ja",
        separator=";",
        total_rows=10,
        total_positives=3,
        protected=["kön"],
    )
    evaluation = engine.Evaluation(
        fold_metrics=[
            {"roc_auc": 0.9, "accuracy": 0.8, "brier": 0.1, "k": 2.0},
            {"roc_auc": 0.8, "accuracy": 0.8, "brier": 0.2, "k": 1.0},
        ],
        learners=["logistic_regression"] * 2,
        candidate_brier=[{}, {}],
        candidate_accuracy=[{}, {}],
        oof_probability=risk,
        k_fraction=0.3,
        members=[["logistic_regression"]] * 2,
        importance=[{"frånvaro": 0.2}, {"frånvaro": 0.1}],
    )
    return history, evaluation


def test_wilson_interval_matches_the_formula_by_hand() -> None:
    low, high = report.wilson(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    low, high = report.wilson(2, 3)
    assert (round(low, 4), round(high, 4)) == (0.2077, 0.9385)
    assert report.wilson(0, 5)[0] == 0.0


def test_the_swedish_summary_gives_the_hand_computed_figures() -> None:
    history, evaluation = hand_made()
    with translation.override("sv"):
        summary = report.summarise(
            history,
            evaluation,
            source="elever.csv",
            folds=2,
            repeats=1,
            seed=0,
            labels={"kön": {"0": "flicka", "1": "pojke"}},
        )
        lines = report.text_lines(summary)
    c = summary.confusion
    assert (c.true_positive, c.false_positive, c.false_negative, c.true_negative) == (2, 1, 1, 6)
    text = "\n".join(lines)
    pct = f"{NBSP}%"
    assert f"Vad som förutsägs: Avhopp är ja. 3 av 10 rader hade utfallet (30{pct})." in text
    assert (
        "Så ofta har modellen rätt (flagga eller ingen flagga): "
        f"80{pct} (95{pct}-intervall 49–94{pct})." in text
    )
    assert (
        f"Av dem som fick utfallet hittar modellen 67{pct} (95{pct}-intervall 21–94{pct})." in text
    )
    assert f"Av modellens flaggor är 67{pct} (95{pct}-intervall 21–94{pct}) rätt." in text
    matrix = [line.split() for line in lines[lines.index("Flaggor mot utfall (antal)") + 1 :][:4]]
    assert matrix[1][-3:] == ["2", "1", "3"]  # fick utfallet: flagged, not flagged, total
    assert matrix[2][-3:] == ["1", "6", "7"]
    assert matrix[3][-3:] == ["3", "7", "10"]
    assert (
        "av 100 elever som dessa väntas ungefär 30 få utfallet. Modellen flaggar ungefär 30; "
        "ungefär 20 av dem får utfallet, medan ungefär 10 av dem som får det inte flaggas."
    ) in text
    assert "Rättvisa efter kön (ser skyddad ut: inte indata, granskas)" in text
    # Girls are rows 0, 2, 4, 6, 8: two dropouts, one of them (row 0) flagged.
    girls = next(line for line in lines if line.startswith("flicka")).split()
    # n, outcome 2/5, flagged 1/5, found 1/2, right 1/1, mean risk 1.5/5 ("40 %" splits in two)
    assert girls == ["flicka", "5", "40", "%", "20", "%", "50", "%", "100", "%", "30", "%"]
    assert "Tekniska mått" in text


def test_the_english_report_reads_the_same_figures() -> None:
    history, evaluation = hand_made()
    with translation.override("en"):
        summary = report.summarise(
            history, evaluation, source="pupils.csv", folds=2, repeats=1, seed=0
        )
        text = "\n".join(report.text_lines(summary))
    assert "How often the model is right (flag or no flag): 80" in text
    assert "Of the model's flags, 67" in text


def test_a_risk_threshold_sets_the_operating_point() -> None:
    history, evaluation = hand_made()
    summary = report.summarise(
        history, evaluation, source="x", folds=2, repeats=1, seed=0, threshold=0.25
    )
    c = summary.confusion  # risks >= 0.25: rows 0, 1, 3, 7, 8
    assert (c.true_positive, c.false_positive, c.false_negative, c.true_negative) == (2, 3, 1, 4)


def test_the_report_as_pdf(tmp_path: Path) -> None:
    history, evaluation = hand_made()
    with translation.override("sv"):
        summary = report.summarise(history, evaluation, source="x", folds=2, repeats=1, seed=0)
        page = report.html(summary)
        report.write_pdf(summary, tmp_path / "rapport.pdf")
    assert 'lang="sv"' in page and "Sammanfattning" in page
    assert '<th scope="row">fick utfallet</th><td>2</td><td>1</td>' in page
    assert (tmp_path / "rapport.pdf").read_bytes().startswith(b"%PDF")


def test_permutation_importance_finds_the_input_that_drives_the_risk() -> None:
    rng = np.random.default_rng(4)
    X = pd.DataFrame({"absence": rng.normal(0, 1, 300), "noise": rng.normal(0, 1, 300)})
    y = (rng.random(300) < 1 / (1 + np.exp(-3 * X["absence"]))).astype(int).to_numpy()
    evaluation = engine.evaluate(
        X, y, folds=3, repeats=1, learners=["logistic_regression"], importance=True
    )
    ranked = evaluation.mean_importance()
    assert ranked[0][0] == "absence"
    assert ranked[0][1] > 0.1 > abs(ranked[1][1])


# --- Rough edges ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_without_csv_on_an_empty_database_the_message_says_what_to_give() -> None:
    assert not Organiser.objects.exists()
    with pytest.raises(CommandError, match="no history in the database") as refusal:
        call_command("model", "evaluate", stdout=io.StringIO())
    assert "--csv FILE --target COLUMN --positive VALUE" in str(refusal.value)


@pytest.mark.django_db
def test_without_csv_on_a_database_never_migrated_there_is_no_traceback() -> None:
    missing = OperationalError("no such table: schools_organiser")
    with (
        mock.patch.object(Organiser.objects, "order_by", side_effect=missing),
        pytest.raises(CommandError, match="no history in the database"),
    ):
        call_command("model", "evaluate", stdout=io.StringIO())


def test_the_command_and_the_stand_alone_cli_share_one_default_for_jobs() -> None:
    parser = build_parser(io.StringIO(), io.StringIO())
    args = parser.parse_args(["--csv", "x", "--target", "t", "--positive", "1"])
    assert args.jobs == engine.DEFAULT_JOBS
    # The management command passes --jobs on only when given, so the CLI's default holds.
    from fullfolj.riskmodel.management.commands.model import CSV_OPTIONS, Command

    command_parser = Command().create_parser("fullfolj", "model")
    options = command_parser.parse_args(["evaluate", "--csv", "x"])
    assert "jobs" in CSV_OPTIONS and options.jobs is None


def test_results_md_is_rewritten_between_its_markers_only() -> None:
    from fullfolj.riskmodel import results

    metrics = {
        "folds": "5",
        "repeats": "2",
        "accuracy": "0.8801",
        "accuracy_std": "0.0110",
        "roc_auc": "0.9240",
        "brier": "0.0910",
        "precision_at_k": "0.8000",
        "recall_at_k": "0.7990",
        "member_folds": "gradient_boosting=10,random_forest=9",
        "seconds": "61.2",
    }
    outcome = results.Outcome(results.SETUPS[-1], metrics, 61.2)
    block = results.table([outcome], jobs=2, day="2026-03-18")
    assert "| Dropout (Dropout vs rest) | 5x2 | 0.880 ± 0.011 | 0.924 | 0.091 |" in block
    assert "gradient_boosting 10, random_forest 9" in block
    assert "--csv $D/dropout_academic_success/data.csv --target Target" in block
    before = f"# Title\n\nintro\n\n{results.BEGIN}\nold table\n{results.END}\n\nprose stays\n"
    after = results.rewrite(before, block)
    assert "old table" not in after and "prose stays" in after and after.startswith("# Title")
    assert after.count(results.BEGIN) == 1


def test_a_windows_1252_file_with_quoted_separators_and_blank_lines_is_read(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    text = 'Skola;Frånvaro;Avhopp\r\n"Ekbacken; norra";12,5;ja\r\n\r\nÅsen;3,0;nej\r\nÖn;1;nej\r\n'
    path.write_bytes(text.encode("cp1252"))
    history = read_history_csv(path, target="Avhopp", positive="ja")
    assert history.X["Skola"].tolist() == ["Ekbacken; norra", "Åsen", "Ön"]
    assert history.X["Frånvaro"].tolist() == [12.5, 3.0, 1.0]
    assert history.y.tolist() == [1, 0, 0]
    # Line numbers count the blank line, as a spreadsheet shows them.
    path.write_bytes(text.replace("1;nej", "x;nej").encode("cp1252"))
    with pytest.raises(HistoryFileError, match="column 'Frånvaro', line 5: 'x' is not a number"):
        read_history_csv(path, target="Avhopp", positive="ja")
