"""The model card renders the report's numbers into exact Markdown lines."""

from __future__ import annotations

from typing import Any

from student_success.ml.model_card import fmt, render_model_card, variant_rows


def _metrics(roc_auc: float, n: int) -> dict[str, Any]:
    return {
        "roc_auc": roc_auc,
        "pr_auc": 0.8333,
        "brier": 0.1581,
        "accuracy": 0.75,
        "f1": 0.6667,
        "precision": 1.0,
        "recall": 0.5,
        "recall_at_top_30pct": 0.5,
        "base_rate": 0.5,
        "n": n,
        "positives": n // 2,
        "threshold": 0.42,
        "multiclass_macro_f1": 0.4167,
    }


GROUP_ROW = {
    "attribute": "gender",
    "group": "F",
    "n": 3,
    "positives": 2,
    "flagged": 2,
    "fnr": 0.5,
    "fpr": 1.0,
    "precision": 0.5,
    "mean_predicted": 0.6,
    "observed_rate": 0.6667,
    "small_sample": True,
}
BIG_GROUP = {**GROUP_ROW, "group": "M", "n": 40, "fnr": None, "small_sample": False}

REPORT: dict[str, Any] = {
    "version": "1.2.0",
    "training_date": "2025-01-31",
    "command": "student-success train --data /data/oulad --out models/",
    "data": {
        "train_presentations": ["2013B", "2013J", "2014B"],
        "test_presentation": "2014J",
        "n_train_rows": 61234,
        "n_test_enrolments_by_day": {"90": 6500, "30": 8000},
    },
    "variants": {
        "full": {
            "features": ["weighted_score", "n_missing"],
            "threshold": 0.42,
            "days": {"90": _metrics(0.8, 6500), "30": _metrics(0.75, 8000), "60": _metrics(0.751, 7000)},
            "reference_auc": {"30": 0.731, "60": 0.731, "90": 0.9},
            "calibration": [
                {"lower": 0.1, "upper": 0.2, "n": 12, "mean_predicted": 0.15, "observed_rate": 0.1667}
            ],
            "calibration_day": "90",
            "ece": 0.0312,
        },
        "no_clicks": {
            "features": ["weighted_score"],
            "threshold": 0.5,
            "days": {"30": _metrics(0.7, 8000)},
            "reference_auc": None,
            "calibration": [],
        },
    },
    "k12": {
        "description": "5-fold stratified CV on student-por.",
        "metrics": _metrics(0.9, 649),
        "fairness": [],
    },
    "fairness": {"full": {"90": [GROUP_ROW, BIG_GROUP]}},
    "limitations": ["One university; other settings may differ."],
    "tried": [],
}


def _lines() -> list[str]:
    return render_model_card(REPORT).splitlines()


def test_variant_table_rows_exact() -> None:
    lines = _lines()
    assert (
        "| Day | n | ROC-AUC | Reference | Δ | Beats ref + 0.02 | PR-AUC | Brier | Accuracy | F1 | "
        "Recall@top 30 % | 4-class macro-F1 |" in lines
    )
    assert (
        "| 30 | 8000 | 0.750 | 0.731 | +0.019 | no | 0.833 | 0.158 | 0.750 | 0.667 | 0.500 | 0.417 |" in lines
    )
    # exactly reference + 0.02 counts as beating it
    assert (
        "| 60 | 7000 | 0.751 | 0.731 | +0.020 | yes | 0.833 | 0.158 | 0.750 | 0.667 | 0.500 | 0.417 |"
        in lines
    )
    assert (
        "| 90 | 6500 | 0.800 | 0.900 | -0.100 | no | 0.833 | 0.158 | 0.750 | 0.667 | 0.500 | 0.417 |" in lines
    )
    # no reference: Δ and the verdict are blank
    assert "| 30 | 8000 | 0.700 | — | — | — | 0.833 | 0.158 | 0.750 | 0.667 | 0.500 | 0.417 |" in lines


def test_days_sorted_numerically() -> None:
    rows = variant_rows(REPORT["variants"]["full"])
    assert [r[0] for r in rows] == ["30", "60", "90"]


def test_header_data_and_protocol() -> None:
    text = render_model_card(REPORT)
    lines = text.splitlines()
    assert lines[0] == "# Model card: student-success early-warning models"
    assert "- **Version:** 1.2.0" in lines
    assert "student-success train --data /data/oulad --out models/" in lines
    assert "- **Training presentations:** 2013B, 2013J, 2014B (61234 training rows)" in lines
    assert "- **Test presentation:** 2014J" in lines
    assert "| 30 | 8000 |" in lines and lines.index("| 30 | 8000 |") < lines.index("| 90 | 6500 |")
    assert "Kuzilek J., Hlosta M., Zdrahal Z. (2017)" in text and "CC BY 4.0" in text
    assert "Cortez P., Silva A. (2008)" in text
    assert "## Intended use" in lines and "grading" in text and "sanctions" in text
    assert "2014J" in text and "withdrawn" in text.lower()
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_variant_details_and_calibration() -> None:
    lines = _lines()
    assert "### Variant `full`" in lines
    assert "- **Features (2):** `weighted_score`, `n_missing`" in lines
    assert "- **Decision threshold:** 0.420" in lines
    assert "#### Calibration (day 90)" in lines
    assert "Expected calibration error: 0.031" in lines
    assert "| 0.100–0.200 | 12 | 0.150 | 0.167 |" in lines


def test_group_table_exact() -> None:
    lines = _lines()
    assert "### `full`, day 90 (threshold 0.420)" in lines
    assert "| gender | F | 3 | 0.667 | 0.600 | 0.500 | 1.000 | 0.500 | yes (n < 30) |" in lines
    assert "| gender | M | 40 | 0.667 | 0.600 | — | 1.000 | 0.500 |  |" in lines


def test_k12_limitations_and_tried() -> None:
    lines = _lines()
    assert "5-fold stratified CV on student-por." in lines
    assert "| ROC-AUC | 0.900 |" in lines
    assert "| n | 649 |" in lines
    assert "- One university; other settings may differ." in lines
    tried = lines.index("## What was tried")
    assert lines[tried + 2] == "_None recorded._"


def test_minimal_report_renders() -> None:
    text = render_model_card({"version": "0"})
    assert "_Not evaluated._" in text
    assert "_No group report._" in text


def test_fmt() -> None:
    assert fmt(None) == "—"
    assert fmt(float("nan")) == "—"
    assert fmt(0.12345) == "0.123"
    assert fmt(True) == "yes"
    assert fmt(7) == "7"
    assert fmt("a|b") == "a\\|b"
