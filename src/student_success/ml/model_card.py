"""Render ``docs/MODEL_CARD.md`` from an evaluation report.

The report is a plain JSON-serialisable dict (the training command writes it next to the models);
:func:`render_model_card` turns it into Markdown. Its shape is documented on that function.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

REFERENCE_MARGIN = 0.02  # a variant "beats the reference" when ROC-AUC ≥ reference + this margin
OULAD_CITATION = (
    "Kuzilek J., Hlosta M., Zdrahal Z. (2017). *Open University Learning Analytics dataset*. "
    "Scientific Data 4:170171, doi:10.1038/sdata.2017.171. Licence: CC BY 4.0."
)
K12_CITATION = (
    "Cortez P., Silva A. (2008). *Using data mining to predict secondary school student performance*. "
    "Proceedings of 5th FUture BUsiness TEChnology Conference (FUBUTEC 2008), pp. 5–12. "
    "UCI Machine Learning Repository, Student Performance dataset. Licence: CC BY 4.0."
)
MISSING = "—"

_VARIANT_COLUMNS: tuple[str, ...] = (
    "Day", "n", "ROC-AUC", "Reference", "Δ", "Beats ref + 0.02", "PR-AUC", "Brier", "Accuracy", "F1",
    "Recall@top 30 %", "4-class macro-F1",
)  # fmt: skip
_GROUP_COLUMNS: tuple[str, ...] = (
    "Attribute", "Group", "n", "At-risk rate", "Mean predicted", "FNR", "FPR", "Precision", "Small sample",
)  # fmt: skip
_K12_METRICS: tuple[tuple[str, str], ...] = (
    ("n", "n"), ("base_rate", "At-risk rate"), ("roc_auc", "ROC-AUC"), ("pr_auc", "PR-AUC"),
    ("brier", "Brier"), ("accuracy", "Accuracy"), ("f1", "F1"), ("precision", "Precision"),
    ("recall", "Recall"), ("recall_at_top_30pct", "Recall@top 30 %"), ("threshold", "Threshold"),
)  # fmt: skip


def fmt(value: Any) -> str:
    """Format one table cell: floats with 3 decimals, ints as is, ``None``/NaN as ``—``, bools yes/no."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return MISSING if not math.isfinite(value) else f"{value:.3f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.extend("| " + " | ".join(fmt(cell) for cell in row) + " |" for row in rows)
    return lines


def _day_sorted(days: Mapping[str, Any]) -> list[str]:
    def key(day: str) -> tuple[float, str]:
        try:
            return (float(day), day)
        except ValueError:
            return (math.inf, day)

    return sorted((str(d) for d in days), key=key)


def _get(mapping: Mapping[str, Any] | None, key: str) -> Any:
    return None if mapping is None else mapping.get(key, mapping.get(str(key)))


def _delta(auc: Any, reference: Any) -> float | None:
    if not isinstance(auc, int | float) or not isinstance(reference, int | float):
        return None
    return round(float(auc) - float(reference), 4)


def variant_rows(variant: Mapping[str, Any]) -> list[list[Any]]:
    """Rows (one per day) of a variant's results table, as raw values in :data:`_VARIANT_COLUMNS` order."""
    days: Mapping[str, Any] = variant.get("days") or {}
    references: Mapping[str, Any] | None = variant.get("reference_auc")
    rows: list[list[Any]] = []
    for day in _day_sorted(days):
        m = days[day]
        reference = _get(references, day)
        delta = _delta(m.get("roc_auc"), reference)
        beats = None if delta is None else delta >= REFERENCE_MARGIN
        delta_text = MISSING if delta is None else f"{delta:+.3f}"
        rows.append(
            [
                day, m.get("n"), m.get("roc_auc"), reference, delta_text, beats, m.get("pr_auc"),
                m.get("brier"), m.get("accuracy"), m.get("f1"), m.get("recall_at_top_30pct"),
                m.get("multiclass_macro_f1"),
            ]
        )  # fmt: skip
    return rows


def _group_table(report: Sequence[Mapping[str, Any]]) -> list[str]:
    rows = [
        [
            r.get("attribute"), r.get("group"), r.get("n"), r.get("observed_rate"), r.get("mean_predicted"),
            r.get("fnr"), r.get("fpr"), r.get("precision"), "yes (n < 30)" if r.get("small_sample") else "",
        ]
        for r in report
    ]  # fmt: skip
    return _table(_GROUP_COLUMNS, rows)


def _bullets(items: Sequence[Any] | None) -> list[str]:
    return [f"- {item}" for item in items] if items else ["_None recorded._"]


def _header(report: Mapping[str, Any]) -> list[str]:
    return [
        "# Model card: student-success early-warning models",
        "",
        f"- **Version:** {report.get('version', MISSING)}",
        f"- **Training date:** {report.get('training_date', MISSING)}",
        "- **Reproduce with:**",
        "",
        "```bash",
        str(report.get("command", "")),
        "```",
        "",
        "## Intended use",
        "",
        "The models estimate, at several days of a term, the probability that an enrolment ends in *Fail* "
        'or *Withdrawn* ("at risk"). They are meant for **early warning**: to help tutors and support '
        "staff decide whom to contact first and which support to offer.",
        "",
        "- **Never** use a score for grading, progression, admissions, sanctions or any decision made "
        "against a student. A score is a prompt for a conversation, not a verdict.",
        "- Scores are probabilities for a group of similar students, not certainties about one person; "
        "staff judgement and the student's own account come first.",
        "",
    ]


def _data_section(data: Mapping[str, Any]) -> list[str]:
    train = data.get("train_presentations") or []
    lines = [
        "## Data",
        "",
        f"- **Training presentations:** {', '.join(str(t) for t in train) or MISSING} "
        f"({fmt(data.get('n_train_rows'))} training rows)",
        f"- **Test presentation:** {fmt(data.get('test_presentation'))}",
        f"- **OULAD:** {data.get('dataset_citation') or OULAD_CITATION}",
        f"- **K-12 (UCI Student Performance):** {K12_CITATION}",
        "",
    ]
    by_day: Mapping[str, Any] = data.get("n_test_enrolments_by_day") or {}
    if by_day:
        lines += [*_table(("Day", "Test enrolments"), [[d, by_day[d]] for d in _day_sorted(by_day)]), ""]
    return lines


_PROTOCOL: tuple[str, ...] = (
    "## Evaluation protocol",
    "",
    "- **Temporal holdout:** train on the 2013B, 2013J and 2014B presentations, test on 2014J (a later "
    "presentation the models never saw).",
    "- **As-of-day features:** at day *t* only what was known by day *t* is used (work handed in with "
    "`date_submitted <= t`, including early work for later deadlines; missing and late work counted against "
    "deadlines on or before *t*; clicks up to *t*); `date_unregistration` is never a feature. A "
    "property-based test (`tests/unit/test_features_leakage.py`) checks that altering or deleting any "
    "record dated after *t* leaves the features at *t* unchanged.",
    "- **Scored students:** those registered on day *t*: students who had unregistered by day *t*, or who "
    "register later, are not scored at day *t*.",
    "- **One model per variant for every day:** training stacks feature snapshots taken every 14 days "
    "(day 0 to 238), the as-of day being an input; calibration (Platt scaling) and the threshold are fitted "
    "on 20 % of the training enrolments held out as a group.",
    "- **Group attributes are not inputs:** gender, age band, disability, deprivation (IMD) band and region "
    "are used only for the fairness tables below.",
    "- **Threshold:** chosen to maximise F1 on the held-out training enrolments, never on the test set.",
    "- **Reference:** ROC-AUC of a quick reference model built with the same protocol; "
    '"Beats ref + 0.02" is *yes* when '
    f"ROC-AUC ≥ reference + {REFERENCE_MARGIN:.2f}.",
    "",
)


def _variant_section(name: str, variant: Mapping[str, Any]) -> list[str]:
    features = variant.get("features") or []
    lines = [
        f"### Variant `{name}`",
        "",
        f"- **Features ({len(features)}):** " + (", ".join(f"`{f}`" for f in features) or MISSING),
        f"- **Decision threshold:** {fmt(variant.get('threshold'))}",
        "",
    ]
    lines += [*_table(_VARIANT_COLUMNS, variant_rows(variant)), ""]
    calibration = variant.get("calibration") or []
    if calibration:
        day = variant.get("calibration_day")
        title = "#### Calibration" + (f" (day {day})" if day is not None else "")
        ece = variant.get("ece")
        lines += [title, ""] + ([f"Expected calibration error: {fmt(ece)}", ""] if ece is not None else [])
        rows = [
            [f"{fmt(r.get('lower'))}–{fmt(r.get('upper'))}", r.get("n"), r.get("mean_predicted"),
             r.get("observed_rate")]
            for r in calibration
        ]  # fmt: skip
        lines += [*_table(("Predicted", "n", "Mean predicted", "Observed rate"), rows), ""]
    return lines


def _fairness_section(fairness: Mapping[str, Any], variants: Mapping[str, Any]) -> list[str]:
    lines = [
        "## Errors by student group",
        "",
        "FNR: share of at-risk students not flagged. FPR: share of not-at-risk students flagged. "
        "Precision: share of flagged students who were at risk. Groups with fewer than 30 students are "
        "marked: their rates are too noisy to compare.",
        "",
    ]
    if not fairness:
        return [*lines, "_No group report._", ""]
    for name, by_day in fairness.items():
        threshold = _get(variants.get(name), "threshold")
        for day in _day_sorted(by_day):
            lines += [f"### `{name}`, day {day} (threshold {fmt(threshold)})", ""]
            lines += [*_group_table(by_day[day]), ""]
    return lines


def _k12_section(k12: Mapping[str, Any] | None) -> list[str]:
    lines = ["## K-12 (UCI Student Performance), cross-validated", ""]
    if not k12:
        return [*lines, "_Not evaluated._", ""]
    if k12.get("description"):
        lines += [str(k12["description"]), ""]
    metrics: Mapping[str, Any] = k12.get("metrics") or {}
    lines += [*_table(("Metric", "Value"), [[label, metrics.get(key)] for key, label in _K12_METRICS]), ""]
    if k12.get("fairness"):
        lines += ["### By group", "", *_group_table(k12["fairness"]), ""]
    return lines


def render_model_card(report: Mapping[str, Any]) -> str:
    """Render the model card as Markdown.

    The report dict (all values JSON-serialisable; days are string keys such as ``"30"``)::

        {
          "version": "1.0.0",
          "training_date": "2025-01-31",
          "command": "student-success train --data ...",   # reproduces the models and this card
          "data": {
            "train_presentations": ["2013B", "2013J", "2014B"],
            "test_presentation": "2014J",
            "n_train_rows": 61234,
            "n_test_enrolments_by_day": {"30": 8000, "90": 6500},
            "dataset_citation": "...",                        # optional; default OULAD_CITATION
          },
          "variants": {
            "<variant>": {
              "features": ["weighted_score", ...],
              "threshold": 0.42,                              # metrics.choose_threshold
              "days": {"30": {**metrics.binary_metrics(...), "multiclass_macro_f1": 0.41}, ...},
              "reference_auc": {"30": 0.731, ...} or None,    # published baseline per day
              "calibration": metrics.calibration_table(...),  # at one day
              "calibration_day": "90",                        # optional
              "ece": 0.031,                                   # optional
            },
          },
          "k12": {"description": "5-fold CV ...",            # optional text
                  "metrics": metrics.binary_metrics(...),
                  "fairness": fairness.group_report(...)} or None,
          "fairness": {"<variant>": {"<day>": fairness.group_report(...)}},
          "limitations": ["...", ...],
          "tried": ["...", ...],
        }

    Missing keys render as ``—`` or "_None recorded._" rather than failing.

    Args:
        report: The evaluation report described above.

    Returns:
        The Markdown text, ending with a newline.
    """
    variants: Mapping[str, Any] = report.get("variants") or {}
    lines = _header(report) + _data_section(report.get("data") or {}) + list(_PROTOCOL)
    lines += ["## Results on the test presentation", ""]
    for name, variant in variants.items():
        lines += _variant_section(str(name), variant)
    lines += _fairness_section(report.get("fairness") or {}, variants)
    lines += _k12_section(report.get("k12"))
    lines += ["## Limitations", "", *_bullets(report.get("limitations")), ""]
    lines += ["## What was tried", "", *_bullets(report.get("tried")), ""]
    return "\n".join(lines).rstrip("\n") + "\n"
