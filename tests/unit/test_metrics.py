"""Binary, 4-class and calibration metrics on tiny inputs with hand-computed answers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from student_success.ml.metrics import (
    binary_metrics,
    calibration_table,
    choose_threshold,
    expected_calibration_error,
    multiclass_metrics,
    rounded,
    top_share_flags,
)

Y = [0, 0, 1, 1]
P = [0.1, 0.4, 0.35, 0.8]
CLASSES = ["Distinction", "Pass", "Fail", "Withdrawn"]


def test_binary_metrics_exact() -> None:
    m = binary_metrics(Y, P, threshold=0.5)
    assert m == {
        "roc_auc": 0.75,
        "pr_auc": 0.8333,  # 0.5 * 1 + 0.5 * 2/3
        "brier": 0.1581,  # (0.01 + 0.16 + 0.4225 + 0.04) / 4
        "accuracy": 0.75,
        "f1": 0.6667,
        "precision": 1.0,
        "recall": 0.5,
        "recall_at_top_30pct": 0.5,  # ceil(1.2) = 2 flagged: 0.8 (at risk) and 0.4 (not)
        "base_rate": 0.5,
        "n": 4,
        "positives": 2,
        "threshold": 0.5,
    }


def test_binary_metrics_are_plain_python_and_json() -> None:
    m = binary_metrics(np.array(Y), pd.Series(P), threshold=0.3)
    json.dumps(m, allow_nan=False)
    for key, value in m.items():
        assert type(value) in (float, int), key
    assert type(m["n"]) is int and type(m["positives"]) is int


def test_threshold_is_inclusive() -> None:
    m = binary_metrics(Y, P, threshold=0.35)
    assert (m["precision"], m["recall"]) == (0.6667, 1.0)


def test_undefined_metrics_are_none() -> None:
    m = binary_metrics([0, 0, 0], [0.1, 0.2, 0.3], threshold=0.9)
    assert m["roc_auc"] is None
    assert m["pr_auc"] is None
    assert m["precision"] is None  # nobody flagged
    assert m["recall"] is None  # nobody at risk
    assert m["recall_at_top_30pct"] is None
    assert m["f1"] is None
    assert m["accuracy"] == 1.0
    assert m["base_rate"] == 0.0
    json.dumps(m, allow_nan=False)


def test_top_30pct_ties_broken_by_stable_order() -> None:
    same = [0.5, 0.5, 0.5, 0.5]
    assert top_share_flags(same).tolist() == [True, True, False, False]
    assert binary_metrics([1, 0, 0, 1], same, threshold=0.5)["recall_at_top_30pct"] == 0.5
    assert binary_metrics([0, 0, 1, 1], same, threshold=0.5)["recall_at_top_30pct"] == 0.0


def test_top_30pct_of_ten_flags_three() -> None:
    p = [i / 10 for i in range(10)]
    assert top_share_flags(p).sum() == 3
    assert top_share_flags(p)[-3:].all()


@pytest.mark.parametrize(
    ("y", "p"),
    [([0, 1], [0.1]), ([0, 2], [0.1, 0.2]), ([0, 1], [0.1, 1.2]), ([0, 1], [0.1, float("nan")])],
)
def test_invalid_input_raises(y: list[int], p: list[float]) -> None:
    with pytest.raises(ValueError):
        binary_metrics(y, p, threshold=0.5)


def test_multiclass_metrics_exact() -> None:
    truth = ["Pass", "Fail", "Withdrawn", "Pass"]
    proba = [
        [0.1, 0.6, 0.2, 0.1],  # Pass ✓
        [0.0, 0.1, 0.8, 0.1],  # Fail ✓
        [0.0, 0.1, 0.5, 0.4],  # Fail ✗ (Withdrawn)
        [0.2, 0.5, 0.2, 0.1],  # Pass ✓
    ]
    m = multiclass_metrics(truth, np.array(proba), CLASSES)
    assert m["accuracy"] == 0.75
    assert m["per_class_f1"] == {"Distinction": 0.0, "Pass": 1.0, "Fail": 0.6667, "Withdrawn": 0.0}
    assert m["macro_f1"] == 0.4167
    assert m["n"] == 4
    json.dumps(m, allow_nan=False)


def test_multiclass_shape_mismatch_raises() -> None:
    with pytest.raises(ValueError):
        multiclass_metrics(["Pass"], [[0.5, 0.5]], CLASSES)


def test_calibration_table_exact() -> None:
    table = calibration_table(Y, P, bins=10)
    assert table == [
        {"lower": 0.1, "upper": 0.2, "n": 1, "mean_predicted": 0.1, "observed_rate": 0.0},
        {"lower": 0.3, "upper": 0.4, "n": 1, "mean_predicted": 0.35, "observed_rate": 1.0},
        {"lower": 0.4, "upper": 0.5, "n": 1, "mean_predicted": 0.4, "observed_rate": 0.0},
        {"lower": 0.8, "upper": 0.9, "n": 1, "mean_predicted": 0.8, "observed_rate": 1.0},
    ]
    assert expected_calibration_error(Y, P, bins=10) == 0.3375  # (0.1 + 0.65 + 0.4 + 0.2) / 4


def test_calibration_two_bins_and_p_equal_one() -> None:
    table = calibration_table([0, 0, 1, 1], [0.1, 0.4, 0.35, 1.0], bins=2)
    assert table == [
        {"lower": 0.0, "upper": 0.5, "n": 3, "mean_predicted": 0.2833, "observed_rate": 0.3333},
        {"lower": 0.5, "upper": 1.0, "n": 1, "mean_predicted": 1.0, "observed_rate": 1.0},
    ]
    # 3/4 * |0.2833 - 0.3333| + 1/4 * 0
    assert expected_calibration_error([0, 0, 1, 1], [0.1, 0.4, 0.35, 1.0], bins=2) == 0.0375


def test_expected_calibration_error_empty_is_none() -> None:
    assert expected_calibration_error([], []) is None


def test_choose_threshold_maximises_f1_lowest_on_ties() -> None:
    # F1 is 0.8 for any threshold in (0.10, 0.35] (flags 0.35, 0.4, 0.8): the lowest, 0.11, wins.
    assert choose_threshold(Y, P) == 0.11


def test_choose_threshold_without_positives_defaults() -> None:
    assert choose_threshold([0, 0], [0.2, 0.7]) == 0.5


def test_rounded() -> None:
    assert rounded(None) is None
    assert rounded(float("nan")) is None
    assert rounded(np.float64(0.123456)) == 0.1235
    assert type(rounded(np.float32(0.5))) is float
