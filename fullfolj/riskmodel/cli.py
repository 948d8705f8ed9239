"""`fullfolj model evaluate --csv FILE ...`: argument handling and printing, no Django.

The management command passes its arguments and stdout here. The output ends with the
metrics, one `name: value` per line after a blank line, so scripts can read the tail.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any, NoReturn, TextIO

import numpy as np

from fullfolj.riskmodel import engine, metrics
from fullfolj.riskmodel.history import History, HistoryFileError, read_history_csv

PROG = "fullfolj model evaluate"
EXIT_BAD_INPUT = 2


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse that writes to the given streams and raises instead of exiting."""

    def __init__(self, out: TextIO, err: TextIO, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._out, self._err = out, err

    def _print_message(self, message: str, file: Any = None) -> None:
        if message:
            (self._err if file is sys.stderr else self._out).write(message)

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def build_parser(out: TextIO, err: TextIO) -> argparse.ArgumentParser:
    parser = _Parser(
        out,
        err,
        prog=PROG,
        description="Cross-validate the at-risk model on a CSV with one row per pupil.",
    )
    parser.add_argument("--csv", required=True, help="the file; separator found automatically")
    parser.add_argument("--target", required=True, help="the outcome column")
    parser.add_argument(
        "--positive",
        required=True,
        help="the at-risk outcome: a value (Dropout) or a comparison (<10, >=10)",
    )
    parser.add_argument(
        "--drop",
        action="append",
        default=[],
        metavar="COLUMN",
        help="leave a column out of the inputs (repeatable)",
    )
    parser.add_argument(
        "--audit",
        action="append",
        default=[],
        metavar="COLUMN",
        help="protected attribute: not an input, only for fairness figures",
    )
    parser.add_argument(
        "--learner",
        action="append",
        choices=list(engine.LEARNERS),
        default=None,
        help="candidate learner (repeatable; default: every one, compared by inner CV)",
    )
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--k-fraction",
        type=float,
        default=None,
        help="share of pupils flagged for precision/recall at k "
        "(default: the positive share of the training fold)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="folds fitted in parallel (default: all cores)",
    )
    return parser


def evaluate_csv_command(argv: list[str], out: TextIO, err: TextIO | None = None) -> int:
    """Run `model evaluate` on `argv`; 0 on success, 2 on bad arguments or a bad file."""
    err = err if err is not None else sys.stderr
    parser = build_parser(out, err)
    try:
        args = parser.parse_args(argv)
        _check_numbers(args)
    except _UsageError as error:
        err.write(f"{parser.format_usage()}{PROG}: error: {error}\n")
        return EXIT_BAD_INPUT
    except SystemExit as done:  # --help
        return int(done.code or 0)
    try:
        history = read_history_csv(
            args.csv, target=args.target, positive=args.positive, drop=args.drop, audit=args.audit
        )
        _check_enough_rows(history, args.folds)
    except HistoryFileError as error:
        err.write(f"{PROG}: {error}\n")
        return EXIT_BAD_INPUT

    started = time.monotonic()
    evaluation = engine.evaluate(
        history.X,
        history.y,
        folds=args.folds,
        repeats=args.repeats,
        seed=args.seed,
        k_fraction=args.k_fraction,
        learners=tuple(args.learner or engine.LEARNERS),
        n_jobs=args.jobs,
    )
    seconds = time.monotonic() - started
    write = _writer(out)
    write(
        f"file: {args.csv} ({len(history.y)} rows, {history.X.shape[1]} inputs, "
        f"separator {history.separator!r})"
    )
    write(
        f"outcome: {args.target} {args.positive} is positive "
        f"({int(history.y.sum())} of {len(history.y)})"
    )
    _print_fairness(write, history, evaluation)
    _print_calibration(write, history, evaluation)
    write("")
    for name, value in summary_metrics(history, evaluation, args, seconds).items():
        write(f"{name}: {value}")
    return 0


def summary_metrics(
    history: History, evaluation: engine.Evaluation, args: argparse.Namespace, seconds: float
) -> dict[str, str]:
    """The closing `name: value` lines, means over all outer folds unless named `_std`."""
    y = history.y
    votes = Counter(evaluation.learners)
    candidates = evaluation.candidate_brier[0].keys()
    # Inner-CV accuracy (the comparison that picked each outer fold's learner) and Brier.
    metrics: dict[str, Any] = {
        "rows": len(y),
        "positives": int(y.sum()),
        "inputs": history.X.shape[1],
        "folds": args.folds,
        "repeats": args.repeats,
        "seed": args.seed,
        "learner": evaluation.learner(),
        "learner_folds": ",".join(f"{name}={count}" for name, count in votes.most_common()),
        # How often each learner was one of the averaged members.
        "member_folds": ",".join(
            f"{name}={count}"
            for name, count in Counter(
                name for members in evaluation.members for name in members
            ).most_common()
        ),
    }
    for name in candidates:
        accuracy = np.mean([fold[name] for fold in evaluation.candidate_accuracy])
        metrics[f"inner_accuracy_{name}"] = accuracy
    for name in candidates:
        brier = np.mean([fold[name] for fold in evaluation.candidate_brier])
        metrics[f"inner_brier_{name}"] = brier
    metrics |= {
        "k": evaluation.mean("k"),
        "k_fraction": evaluation.k_fraction,
        "baseline_accuracy": max(y.mean(), 1 - y.mean()),
        "roc_auc": evaluation.mean("roc_auc"),
        "roc_auc_std": evaluation.std("roc_auc"),
        "accuracy": evaluation.mean("accuracy"),
        "accuracy_std": evaluation.std("accuracy"),
        "precision_at_k": evaluation.mean("precision_at_k"),
        "recall_at_k": evaluation.mean("recall_at_k"),
        "brier": evaluation.mean("brier"),
        "brier_std": evaluation.std("brier"),
        "log_loss": evaluation.mean("log_loss"),
        "seconds": f"{seconds:.1f}",
    }
    return {name: _format(value) for name, value in metrics.items()}


def _print_fairness(write: Any, history: History, evaluation: engine.Evaluation) -> None:
    # Out-of-fold risks (mean over repeats) ranked over everyone, the same share flagged.
    k = metrics.choose_k(len(history.y), prevalence=evaluation.k_fraction, k_fraction=None)
    for column in history.audit.columns:
        rows = metrics.fairness_table(
            history.y, evaluation.oof_probability, history.audit[column], k
        )
        write("")
        write(f"fairness by {column} (top {k} of {len(history.y)} out-of-fold risks flagged)")
        write(f"{'group':<12} {'n':>6} {'flag_rate':>10} {'recall':>8} {'precision':>10}")
        for row in rows:
            write(
                f"{row.group:<12} {row.n:>6} {row.flag_rate:>10.3f} {row.recall:>8.3f} "
                f"{row.precision:>10.3f}"
            )
        for metric in ("flag_rate", "recall", "precision"):
            gap = metrics.largest_disparity(rows, metric)
            if gap is not None:
                write(f"largest {metric} gap: {gap.higher} vs {gap.lower} {gap.gap:.3f}")


def _print_calibration(write: Any, history: History, evaluation: engine.Evaluation) -> None:
    write("")
    write("calibration (out-of-fold risks, mean over repeats)")
    write(f"{'risk':<10} {'n':>6} {'predicted':>10} {'observed':>9}")
    for row in metrics.calibration_table(history.y, evaluation.oof_probability):
        write(
            f"{row.lower:.1f}-{row.upper:.1f}    {row.n:>6} {row.mean_predicted:>10.3f} "
            f"{row.observed_rate:>9.3f}"
        )


def _check_numbers(args: argparse.Namespace) -> None:
    if args.folds < 2:
        raise _UsageError("--folds must be at least 2")
    if args.repeats < 1:
        raise _UsageError("--repeats must be at least 1")
    if args.jobs < 1:
        raise _UsageError("--jobs must be at least 1")
    if args.k_fraction is not None and not 0 < args.k_fraction <= 1:
        raise _UsageError("--k-fraction must be above 0 and at most 1")


def _check_enough_rows(history: History, folds: int) -> None:
    counts = {"positive": int(history.y.sum()), "other": int(len(history.y) - history.y.sum())}
    for outcome, count in counts.items():
        if count < folds:
            raise HistoryFileError(
                f"only {count} {outcome} rows of '{history.target}'; {folds}-fold "
                f"cross-validation needs at least {folds} (use fewer --folds)"
            )


def _writer(out: TextIO) -> Any:
    def write(line: str) -> None:
        out.write(line + "\n")

    return write


def _format(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):.4f}"
    return str(value)


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry point, for use before the Django command exists."""
    return evaluate_csv_command(list(sys.argv[1:] if argv is None else argv), sys.stdout)


if __name__ == "__main__":
    raise SystemExit(main())
