"""`fullfolj model evaluate --csv FILE ...`: argument handling and printing.

The management command passes its arguments and stdout here; `main` runs it stand-alone with
just enough Django for the translations. The output is the report (`report.text_lines`: the
summary a principal reads first, then the technical figures) and ends with the metrics, one
`name: value` per line after a blank line, so scripts can read the tail.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn, Protocol, TextIO

import numpy as np
from django.utils.translation import gettext as _

from fullfolj.riskmodel import engine, report
from fullfolj.riskmodel.history import MAX_ROWS, History, HistoryFileError, read_history_csv

PROG = "fullfolj model evaluate"
EXIT_BAD_INPUT = 2
FOLDS, REPEATS = 10, 3  # nested CV on a file that is read whole
# Above engine.LARGE_ROWS rows checked: folds big enough to be steady once, the learners that
# scale, folds in threads (no process per fold holding its own copy of the libraries).
LARGE_FOLDS, LARGE_REPEATS = 5, 1


class Stream(Protocol):
    """Where progress goes: a terminal's stderr or a command's OutputWrapper."""

    def write(self, text: str, /) -> object: ...
    def flush(self) -> None: ...


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
        help="a column for the fairness audit only, never an input (repeatable); columns "
        "that look protected (gender, sex, kön, födelseland, nationality) are audited anyway",
    )
    parser.add_argument(
        "--protected",
        action="append",
        default=[],
        metavar="COLUMN",
        help="one more column name to treat as protected (the command adds the admin's list)",
    )
    parser.add_argument(
        "--use-protected",
        action="append",
        default=[],
        metavar="COLUMN",
        help="use a protected column as an input all the same (it is still audited)",
    )
    parser.add_argument(
        "--labels",
        action="append",
        default=[],
        metavar="COLUMN=CODE:LABEL,...",
        help="readable group names in the audit, e.g. Gender=0:woman,1:man",
    )
    parser.add_argument(
        "--categorical",
        action="append",
        default=[],
        metavar="COLUMN",
        help="a column of codes: one-hot encode it although it holds numbers (repeatable)",
    )
    parser.add_argument(
        "--learner",
        action="append",
        choices=list(engine.LEARNERS),
        default=None,
        help="candidate learner (repeatable; default: every one, compared by inner CV; above "
        f"{engine.LARGE_ROWS} rows {', '.join(engine.SCALABLE_LEARNERS)})",
    )
    parser.add_argument(
        "--folds",
        type=int,
        default=None,
        help=f"outer folds (default {FOLDS}, or {LARGE_FOLDS} above {engine.LARGE_ROWS} rows)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help=f"repeats (default {REPEATS}, or {LARGE_REPEATS} above {engine.LARGE_ROWS} rows)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--max-rows",
        type=int,
        default=MAX_ROWS,
        help=f"above this many rows, check on a stratified sample of it (default {MAX_ROWS}; "
        "0: every row)",
    )
    parser.add_argument(
        "--k-fraction",
        type=float,
        default=None,
        help="share of pupils flagged for precision/recall at k "
        "(default: the positive share of the training fold)",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="flag a pupil whose risk is at least this (0-1) in the report "
        "(default: the k highest risks)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=engine.DEFAULT_JOBS,
        help=f"folds fitted in parallel (default: every core, here {engine.DEFAULT_JOBS})",
    )
    parser.add_argument("--pdf", metavar="FILE", help="also write the report as a PDF")
    parser.add_argument(
        "--details",
        action="store_true",
        help="also print each candidate learner's inner cross-validation figures",
    )
    parser.add_argument(
        "--no-importance",
        action="store_true",
        help="skip the permutation importance (faster)",
    )
    return parser


def evaluate_csv_command(
    argv: list[str],
    out: TextIO,
    err: TextIO | None = None,
    progress: Stream | None = None,
) -> int:
    """Run `model evaluate` on `argv`; 0 on success, 2 on bad arguments or a bad file.

    `progress` (the terminal's stderr) gets a line as reading ends and as each fold ends.
    """
    err = err if err is not None else sys.stderr
    parser = build_parser(out, err)
    try:
        args = parser.parse_args(argv)
        _check_numbers(args)
        labels = report.parse_labels(args.labels)
    except (_UsageError, ValueError) as error:
        err.write(f"{parser.format_usage()}{PROG}: error: {error}\n")
        return EXIT_BAD_INPUT
    except SystemExit as done:  # --help
        return int(done.code or 0)
    started = time.monotonic()
    note = _progress_writer(progress, started)
    try:
        history = read_history_csv(
            args.csv,
            target=args.target,
            positive=args.positive,
            drop=args.drop,
            audit=args.audit,
            categorical=args.categorical,
            protected=args.protected,
            use_protected=args.use_protected,
            max_rows=args.max_rows or None,
            seed=args.seed,
        )
        for column in labels:
            if column not in history.audit.columns:
                raise HistoryFileError(f"--labels: '{column}' is not an audited column")
        large = len(history.y) > engine.LARGE_ROWS
        folds = args.folds or (LARGE_FOLDS if large else FOLDS)
        repeats = args.repeats or (LARGE_REPEATS if large else REPEATS)
        learners = tuple(
            args.learner or (engine.SCALABLE_LEARNERS if large else tuple(engine.LEARNERS))
        )
        _check_enough_rows(history, folds)
    except HistoryFileError as error:
        err.write(f"{PROG}: {error}\n")
        return EXIT_BAD_INPUT
    note(
        f"read {history.total_rows} rows"
        + (f", checking a stratified sample of {len(history.y)}" if history.sampled else "")
        + f"; {folds} folds x {repeats} repeats, {args.jobs} in parallel"
    )
    evaluation = engine.evaluate(
        history.X,
        history.y,
        folds=folds,
        repeats=repeats,
        seed=args.seed,
        k_fraction=args.k_fraction,
        learners=learners,
        n_jobs=args.jobs,
        threads=large,
        importance=not args.no_importance,
        progress=lambda done, total: note(f"fold {done} of {total} done"),
    )
    seconds = time.monotonic() - started
    summary = report.summarise(
        history,
        evaluation,
        source=Path(args.csv).name,
        folds=folds,
        repeats=repeats,
        seed=args.seed,
        threshold=args.threshold,
        labels=labels,
        scalable=large and not args.learner,
    )
    write = _writer(out)
    for line in report.text_lines(summary):
        write(line)
    if args.details:
        _print_details(write, evaluation)
    if args.pdf:
        report.write_pdf(summary, args.pdf)
        write("")
        write(_("The report as PDF: {path}").format(path=args.pdf))
    write("")
    for name, value in summary_metrics(history, evaluation, summary, seconds).items():
        write(f"{name}: {value}")
    return 0


def summary_metrics(
    history: History,
    evaluation: engine.Evaluation,
    summary: report.Summary,
    seconds: float,
) -> dict[str, str]:
    """The closing `name: value` lines for scripts; means over the outer folds unless `_std`."""
    y = history.y
    votes = Counter(evaluation.learners)
    confusion = summary.confusion
    metrics: dict[str, Any] = {
        "file_rows": summary.total_rows,
        "rows": len(y),
        "positives": int(y.sum()),
        "inputs": history.X.shape[1],
        "folds": summary.folds,
        "repeats": summary.repeats,
        "seed": summary.seed,
        "learner": evaluation.learner(),
        "learner_folds": ",".join(f"{name}={count}" for name, count in votes.most_common()),
        "member_folds": ",".join(f"{name}={count}" for name, count in summary.learners),
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
        "flagged": confusion.true_positive + confusion.false_positive,
        "true_positive": confusion.true_positive,
        "false_positive": confusion.false_positive,
        "false_negative": confusion.false_negative,
        "true_negative": confusion.true_negative,
        "seconds": f"{seconds:.1f}",
    }
    return {name: _format(value) for name, value in metrics.items()}


def _print_details(write: Any, evaluation: engine.Evaluation) -> None:
    write("")
    write("inner cross-validation of each candidate (mean over outer folds)")
    for name in evaluation.candidate_brier[0]:
        accuracy = np.mean([fold[name] for fold in evaluation.candidate_accuracy])
        brier = np.mean([fold[name] for fold in evaluation.candidate_brier])
        write(f"  {name}: accuracy {accuracy:.4f}, Brier {brier:.4f}")


def _progress_writer(stream: Stream | None, started: float) -> Any:
    def note(text: str) -> None:
        if stream is not None:
            stream.write(f"[{time.monotonic() - started:6.0f} s] {text}\n")
            stream.flush()

    return note


def _check_numbers(args: argparse.Namespace) -> None:
    if args.folds is not None and args.folds < 2:
        raise _UsageError("--folds must be at least 2")
    if args.repeats is not None and args.repeats < 1:
        raise _UsageError("--repeats must be at least 1")
    if args.jobs < 1:
        raise _UsageError("--jobs must be at least 1")
    if args.k_fraction is not None and not 0 < args.k_fraction <= 1:
        raise _UsageError("--k-fraction must be above 0 and at most 1")
    if args.threshold is not None and not 0 < args.threshold < 1:
        raise _UsageError("--threshold must be above 0 and below 1")
    if args.max_rows < 0 or 0 < args.max_rows < 100:
        raise _UsageError("--max-rows must be 0 (every row) or at least 100")


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
    """Stand-alone entry point: the same command without the rest of Fullfölj's setup."""
    _configure_django()
    return evaluate_csv_command(
        list(sys.argv[1:] if argv is None else argv), sys.stdout, progress=sys.stderr
    )


def _configure_django() -> None:
    """Just enough Django for the translations, number formats and the PDF's template."""
    from django.conf import settings

    if settings.configured:
        return
    import django

    here = Path(__file__).resolve().parent
    settings.configure(
        USE_I18N=True,
        LANGUAGE_CODE=os.environ.get("FULLFOLJ_LANGUAGE", "sv"),
        LOCALE_PATHS=[here / "locale"],
        FORMAT_MODULE_PATH=["fullfolj.formats"],
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [here / "templates"],
            }
        ],
    )
    django.setup()


if __name__ == "__main__":
    raise SystemExit(main())
