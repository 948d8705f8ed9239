"""The report of `model evaluate --csv`: what a principal reads first, then the technical figures.

Everything is computed from the out-of-fold risks (each row scored by a model that never saw
it, the mean over repeats), so the counts add up to the rows checked. The operating point is
either a risk threshold or, by default, the k highest risks with k the share expected to have
the outcome. Each share has a 95 % Wilson interval (Wilson 1927; it stays inside 0-1 and is
sound for small groups, where the normal approximation is not).

Texts are English msgids translated in the riskmodel catalogue; numbers are written by
`lib.formatting` in the active language. `text_lines` is the command's output, `html` the same
report as a page for the PDF (`write_pdf`, WeasyPrint).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from fullfolj.lib import formatting

from . import engine, metrics
from .history import History, looks_protected

Z_95 = 1.959964
MIN_GROUP = 20  # smaller groups are pooled as "other" in the audit: too few to compare
IMPORTANCE_SHOWN = 10


def wilson(successes: int, total: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval for a share `successes / total` (NaN, NaN without rows)."""
    if total <= 0:
        return math.nan, math.nan
    p = successes / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Share:
    """`count` of `total`, with its 95 % interval."""

    count: int
    total: int

    @property
    def value(self) -> float:
        return self.count / self.total if self.total else math.nan

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.count, self.total)


@dataclass(frozen=True)
class Confusion:
    """Flags against outcomes, in counts."""

    true_positive: int  # flagged, had the outcome
    false_positive: int  # flagged, did not
    false_negative: int  # not flagged, had the outcome
    true_negative: int  # not flagged, did not

    @classmethod
    def of(cls, y: np.ndarray, flags: np.ndarray) -> Confusion:
        y = np.asarray(y, dtype=bool)
        flags = np.asarray(flags, dtype=bool)
        return cls(
            true_positive=int((flags & y).sum()),
            false_positive=int((flags & ~y).sum()),
            false_negative=int((~flags & y).sum()),
            true_negative=int((~flags & ~y).sum()),
        )

    @property
    def total(self) -> int:
        return self.true_positive + self.false_positive + self.false_negative + self.true_negative

    @property
    def accuracy(self) -> Share:
        return Share(self.true_positive + self.true_negative, self.total)

    @property
    def recall(self) -> Share:
        return Share(self.true_positive, self.true_positive + self.false_negative)

    @property
    def precision(self) -> Share:
        return Share(self.true_positive, self.true_positive + self.false_positive)

    @property
    def flag_rate(self) -> Share:
        return Share(self.true_positive + self.false_positive, self.total)

    @property
    def base_rate(self) -> Share:
        return Share(self.true_positive + self.false_negative, self.total)


@dataclass(frozen=True)
class GroupRow:
    label: str
    confusion: Confusion
    mean_risk: float  # the model's mean estimated risk: beside the base rate, its calibration


@dataclass(frozen=True)
class Audit:
    column: str
    rows: list[GroupRow]
    protected: bool  # found by its name (not only asked for with --audit)
    used_as_input: bool


@dataclass
class Summary:
    """Everything the report says, computed once; `text_lines` and `html` only write it."""

    source: str
    target: str
    positive: str
    total_rows: int
    total_positives: int
    rows: int
    inputs: int
    folds: int
    repeats: int
    seed: int
    threshold: float | None  # None: the top k
    k: int
    confusion: Confusion
    roc_auc: float
    roc_auc_std: float
    accuracy_at_half: float
    baseline_accuracy: float
    brier: float
    calibration: list[metrics.CalibrationBin]
    learners: list[tuple[str, int]]  # member of the average in how many outer folds
    importance: list[tuple[str, float]]
    audits: list[Audit] = field(default_factory=list)
    protected_found: list[str] = field(default_factory=list)
    scalable: bool = False  # the large-file learners were chosen for the analyst

    @property
    def sampled(self) -> bool:
        return self.total_rows > self.rows


def operating_flags(
    probability: np.ndarray, *, threshold: float | None, k_fraction: float
) -> tuple[np.ndarray, int]:
    """The flags at the operating point and their number: risk >= threshold, or the top k."""
    if threshold is not None:
        flags = np.asarray(probability) >= threshold
        return flags, int(flags.sum())
    k = metrics.choose_k(len(probability), prevalence=k_fraction, k_fraction=None)
    return metrics.flag_top_k(probability, k), k


def summarise(
    history: History,
    evaluation: engine.Evaluation,
    *,
    source: str,
    folds: int,
    repeats: int,
    seed: int,
    threshold: float | None = None,
    labels: Mapping[str, Mapping[str, str]] | None = None,
    scalable: bool = False,
) -> Summary:
    """The report's figures from a finished evaluation of `history`."""
    y = np.asarray(history.y, dtype=int)
    probability = evaluation.oof_probability
    flags, k = operating_flags(probability, threshold=threshold, k_fraction=evaluation.k_fraction)
    members: dict[str, int] = {}
    for fold_members in evaluation.members:
        for name in fold_members:
            members[name] = members.get(name, 0) + 1
    audits = [
        Audit(
            column=column,
            rows=group_rows(
                y, probability, flags, history.audit[column], (labels or {}).get(column, {})
            ),
            protected=(
                column in history.protected
                or column in history.used_protected
                or looks_protected(column)
            ),
            used_as_input=column in history.used_protected,
        )
        for column in history.audit.columns
    ]
    return Summary(
        source=source,
        target=history.target,
        positive=history.positive,
        total_rows=history.total_rows or len(y),
        total_positives=history.total_positives or int(y.sum()),
        rows=len(y),
        inputs=history.X.shape[1],
        folds=folds,
        repeats=repeats,
        seed=seed,
        threshold=threshold,
        k=k,
        confusion=Confusion.of(y, flags),
        roc_auc=evaluation.mean("roc_auc"),
        roc_auc_std=evaluation.std("roc_auc"),
        accuracy_at_half=evaluation.mean("accuracy"),
        baseline_accuracy=float(max(y.mean(), 1 - y.mean())),
        brier=evaluation.mean("brier"),
        calibration=metrics.calibration_table(y, probability),
        learners=sorted(members.items(), key=lambda item: (-item[1], item[0])),
        importance=evaluation.mean_importance()[:IMPORTANCE_SHOWN],
        audits=audits,
        protected_found=list(history.protected),
        scalable=scalable,
    )


def group_rows(
    y: np.ndarray,
    probability: np.ndarray,
    flags: np.ndarray,
    groups: pd.Series,
    labels: Mapping[str, str],
) -> list[GroupRow]:
    """Per group (named by `labels` where given; groups under MIN_GROUP rows pooled)."""
    raw = pd.Series(groups).astype(str).str.strip().to_numpy()
    named = np.array([labels.get(_code(value), value) for value in raw], dtype=object)
    counts = pd.Series(named).value_counts()
    small = set(counts[counts < MIN_GROUP].index)
    # Many small groups (countries of birth) are pooled; two groups are always shown apart.
    if len(small) > 1 and len(counts) > 2:
        other = _("other ({count} groups)").format(count=len(small))
        named = np.array([other if value in small else value for value in named], dtype=object)
    rows = []
    for label in sorted(set(named), key=str):
        inside = named == label
        rows.append(
            GroupRow(
                label=str(label),
                confusion=Confusion.of(y[inside], flags[inside]),
                mean_risk=float(np.mean(probability[inside])),
            )
        )
    return rows


def parse_labels(specs: Sequence[str]) -> dict[str, dict[str, str]]:
    """`--labels 'Gender=0:woman,1:man'` as {"Gender": {"0": "woman", "1": "man"}}."""
    result: dict[str, dict[str, str]] = {}
    for spec in specs:
        column, equals, pairs = spec.partition("=")
        mapping = {}
        for pair in pairs.split(","):
            code, colon, label = pair.partition(":")
            if not (equals and colon and code.strip() and label.strip()):
                raise ValueError(
                    f"--labels '{spec}': write COLUMN=CODE:LABEL,CODE:LABEL (Gender=0:woman,1:man)"
                )
            mapping[_code(code)] = label.strip()
        result.setdefault(column.strip(), {}).update(mapping)
    return result


def _code(value: str) -> str:
    # "1" and "1.0" are the same code.
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text


# ---------------------------------------------------------------------------------------------
# Words


def _num(value: float, decimals: int) -> str:
    return "–" if math.isnan(value) else formatting.number(value, decimals)


def _pct(value: float) -> str:
    return "–" if math.isnan(value) else formatting.percent(100 * value, 0)


def _share(share: Share) -> str:
    """Share and interval: "72 % (95 % interval 68–75 %)"."""
    if not share.total:
        return "–"
    low, high = share.interval
    return _("{value} ({level} interval {low}–{high})").format(
        level=formatting.percent(95, 0),
        value=_pct(share.value),
        low=formatting.number(100 * low, 0),
        high=_pct(high),
    )


def outcome_text(summary: Summary) -> str:
    return _("{target} is {positive}").format(target=summary.target, positive=summary.positive)


def headline(summary: Summary) -> list[str]:
    """The principal's part: what was predicted, how often right, what it finds, what it means."""
    c = summary.confusion
    n = formatting.number(summary.rows, 0)
    lines = [
        _("What was predicted: {outcome}. {positives} of {rows} rows had it ({share}).").format(
            outcome=outcome_text(summary),
            positives=formatting.number(c.base_rate.count, 0),
            rows=n,
            share=_pct(c.base_rate.value),
        ),
    ]
    if summary.threshold is None:
        lines.append(
            _(
                "The model flags the {k} rows with the highest risk ({share} of all, as many "
                "as are expected to have the outcome)."
            ).format(k=formatting.number(summary.k, 0), share=_pct(c.flag_rate.value))
        )
    else:
        lines.append(
            _("The model flags the rows whose risk is at least {threshold}: {k} of {rows}.").format(
                threshold=_pct(summary.threshold), k=formatting.number(summary.k, 0), rows=n
            )
        )
    lines += [
        _("How often the model is right (flag or no flag): {share}.").format(
            share=_share(c.accuracy)
        ),
        _("Of those who had the outcome, the model finds {share}.").format(share=_share(c.recall)),
        _("Of the model's flags, {share} are right.").format(share=_share(c.precision)),
        ngettext(
            "Each row was scored by a model that had not seen it ({folds}-fold cross-validation, "
            "once).",
            "Each row was scored by a model that had not seen it ({folds}-fold cross-validation, "
            "{repeats} times over, the mean taken).",
            summary.repeats,
        ).format(folds=summary.folds, repeats=summary.repeats),
    ]
    return lines


def meaning(summary: Summary) -> str:
    """One sentence for a school: the figures per 100 pupils like these."""
    c = summary.confusion
    per_100 = 100 / c.total
    having = round(c.base_rate.count * per_100)
    flagged = round(c.flag_rate.count * per_100)
    found = round(c.true_positive * per_100)
    return _(
        "For a school this means: of 100 pupils like these, about {having} will have the "
        "outcome. The model flags about {flagged}; about {found} of them will have it, and "
        "about {missed} of those who will have it are not flagged. A flag is a reason to look "
        "closer at the pupil, not a verdict."
    ).format(having=having, flagged=flagged, found=found, missed=max(having - found, 0))


def confusion_lines(summary: Summary) -> list[str]:
    c = summary.confusion
    header = (_("flagged"), _("not flagged"))
    width = max(len(header[0]), len(header[1]), 8) + 2
    first = max(len(_("had the outcome")), len(_("did not")), len(_("total"))) + 2

    def row(name: str, a: int, b: int) -> str:
        return (
            f"{name:<{first}}{formatting.number(a, 0):>{width}}"
            f"{formatting.number(b, 0):>{width}}{formatting.number(a + b, 0):>{width}}"
        )

    return [
        f"{'':<{first}}{header[0]:>{width}}{header[1]:>{width}}{_('total'):>{width}}",
        row(_("had the outcome"), c.true_positive, c.false_negative),
        row(_("did not"), c.false_positive, c.true_negative),
        row(
            _("total"),
            c.true_positive + c.false_positive,
            c.false_negative + c.true_negative,
        ),
    ]


def gap_sentences(audit: Audit) -> list[str]:
    """The largest difference between two groups on each figure, in words."""
    if len(audit.rows) < 2:
        return []
    measures = (
        (
            lambda row: row.confusion.base_rate.value,
            _("The outcome is most common in the group {high} ({hv}) and least in {low} ({lv})."),
        ),
        (
            lambda row: row.confusion.flag_rate.value,
            _("The model flags {hv} of the group {high} but {lv} of {low}."),
        ),
        (
            lambda row: row.confusion.recall.value,
            _(
                "Of those who had the outcome, the model finds {hv} in the group {high} but {lv} in {low}."
            ),
        ),
        (
            lambda row: row.confusion.precision.value,
            _("Of the flags, {hv} are right in the group {high} but {lv} in {low}."),
        ),
    )
    sentences = []
    for measure, text in measures:
        defined = [row for row in audit.rows if not math.isnan(measure(row))]
        if len(defined) < 2:
            continue
        high = max(defined, key=measure)
        low = min(defined, key=measure)
        if _pct(measure(high)) == _pct(measure(low)):
            continue  # no gap worth a sentence at the precision shown
        sentences.append(
            text.format(
                high=high.label, low=low.label, hv=_pct(measure(high)), lv=_pct(measure(low))
            )
        )
    worst = max(audit.rows, key=lambda row: abs(row.mean_risk - row.confusion.base_rate.value))
    sentences.append(
        _(
            "Calibration: the model's risk is furthest from the outcome in the group {group}: "
            "{predicted} estimated, {observed} had the outcome."
        ).format(
            group=worst.label,
            predicted=_pct(worst.mean_risk),
            observed=_pct(worst.confusion.base_rate.value),
        )
    )
    return sentences


def audit_table(audit: Audit) -> tuple[str, list[str], list[list[str]], str]:
    """Title, column names, rows of cells and the legend of one audit."""
    if audit.used_as_input:
        note = _("protected; used as an input on request")
    elif audit.protected:
        note = _("looks protected: not an input, audited")
    else:
        note = _("audited, not an input")
    title = _("Fairness by {column} ({note})").format(column=audit.column, note=note)
    names = [_("group"), _("n"), _("outcome"), _("flagged"), _("found"), _("right"), _("risk")]
    rows = [
        [
            row.label,
            formatting.number(row.confusion.total, 0),
            _pct(row.confusion.base_rate.value),
            _pct(row.confusion.flag_rate.value),
            _pct(row.confusion.recall.value),
            _pct(row.confusion.precision.value),
            _pct(row.mean_risk),
        ]
        for row in audit.rows
    ]
    legend = _(
        "outcome: share with the outcome; flagged: share flagged; found: share of those with "
        "the outcome flagged; right: share of flags right; risk: the model's mean estimated risk"
    )
    return title, names, rows, legend


def audit_lines(audit: Audit) -> list[str]:
    title, names, rows, legend = audit_table(audit)

    def line(cells: list[str]) -> str:
        return f"{cells[0][:23]:<24}{cells[1]:>8}" + "".join(f"{cell:>10}" for cell in cells[2:])

    return [
        title,
        line(names),
        *(line(cells) for cells in rows),
        f"({legend})",
        *gap_sentences(audit),
    ]


def protocol_lines(summary: Summary) -> list[str]:
    lines = []
    if summary.sampled:
        lines.append(
            _(
                "The file has {total} rows ({positives} with the outcome). Above {limit} rows the "
                "check runs on a stratified sample: {limit} rows drawn at random (seed {seed}) "
                "with the same share with the outcome. Give --max-rows to change the limit."
            ).format(
                total=formatting.number(summary.total_rows, 0),
                positives=formatting.number(summary.total_positives, 0),
                limit=formatting.number(summary.rows, 0),
                seed=summary.seed,
            )
        )
    if summary.scalable:
        lines.append(
            _(
                "Above {rows} rows only the learners that scale are compared ({learners}), "
                "in {folds} folds; give --learner, --folds and --repeats to choose."
            ).format(
                rows=formatting.number(engine.LARGE_ROWS, 0),
                learners=", ".join(engine.SCALABLE_LEARNERS),
                folds=summary.folds,
            )
        )
    for column in summary.protected_found:
        lines.append(
            _(
                "The column {column} looks like a protected attribute: it is not an input, it is "
                "audited below (--use-protected {column} to use it anyway)."
            ).format(column=column)
        )
    return lines


def technical_lines(summary: Summary) -> list[str]:
    lines = [
        _("Ranking (ROC AUC; 0.5 is chance, 1 is perfect): {value} (± {std} between folds)").format(
            value=_num(summary.roc_auc, 3),
            std=_num(summary.roc_auc_std, 3),
        ),
        _(
            "Right at a risk of {half}: {value}; always guessing the most common outcome: {base}"
        ).format(
            half=formatting.percent(50, 0),
            value=_pct(summary.accuracy_at_half),
            base=_pct(summary.baseline_accuracy),
        ),
        _("Brier score (mean squared error of the risks, lower is better): {value}").format(
            value=_num(summary.brier, 3)
        ),
        _("Learners averaged (in how many of the {total} folds):").format(
            total=summary.folds * summary.repeats
        )
        + " "
        + ", ".join(f"{name} {count}" for name, count in summary.learners),
        _("Calibration (estimated risk beside the share that had the outcome):"),
    ]
    for bin_ in summary.calibration:
        lines.append(
            "  "
            + _("risk {low}–{high}: {n} rows, estimated {predicted}, had it {observed}").format(
                low=formatting.number(100 * bin_.lower, 0),
                high=_pct(bin_.upper),
                n=formatting.number(bin_.n, 0),
                predicted=_pct(bin_.mean_predicted),
                observed=_pct(bin_.observed_rate),
            )
        )
    if summary.importance:
        lines.append(
            _(
                "Inputs the model leans on most (the fall in ROC AUC on held-out rows when the "
                "input is shuffled):"
            )
        )
        for name, fall in summary.importance:
            lines.append(f"  {name}: {_num(fall, 3)}")
    return lines


def text_lines(summary: Summary) -> list[str]:
    """The report as the command prints it."""
    lines = [
        _("Risk model check: {source}").format(source=summary.source),
        *protocol_lines(summary),
        "",
        *headline(summary),
        "",
        _("Flags against outcomes (counts)"),
        *confusion_lines(summary),
        "",
        meaning(summary),
    ]
    for audit in summary.audits:
        lines += ["", *audit_lines(audit)]
    lines += ["", _("Technical figures"), *technical_lines(summary)]
    return lines


def html(summary: Summary) -> str:
    """The same report as a page (for the PDF)."""
    c = summary.confusion
    audits = []
    for audit in summary.audits:
        title, names, rows, legend = audit_table(audit)
        audits.append(
            {
                "title": title,
                "names": names,
                "rows": rows,
                "legend": legend,
                "gaps": gap_sentences(audit),
            }
        )
    return render_to_string(
        "riskmodel/csv_report.html",
        {
            "title": _("Risk model check: {source}").format(source=summary.source),
            "protocol": protocol_lines(summary),
            "headline": headline(summary),
            "meaning": meaning(summary),
            "matrix": [
                (_("had the outcome"), c.true_positive, c.false_negative),
                (_("did not"), c.false_positive, c.true_negative),
            ],
            "audits": audits,
            "technical": technical_lines(summary),
        },
    )


def write_pdf(summary: Summary, path: str | Path) -> None:
    """The report as a PDF (WeasyPrint: HTML and CSS to PDF, no browser)."""
    from weasyprint import HTML  # heavy; only when a PDF is asked for

    HTML(string=html(summary)).write_pdf(str(path))
