"""Evaluation metrics for the at-risk models, as plain JSON-serialisable dicts.

Every function takes array-likes (lists, NumPy arrays, pandas Series) and returns Python ``float``/
``int``/``str``/``None`` values only, so results can go straight into ``json.dump`` and the model card.
Floats are rounded to :data:`DECIMALS` places. A metric that is undefined on the given data (ROC-AUC
with one class only, precision with nobody flagged, …) is ``None``, never ``NaN``.

Conventions:
    * ``y_true`` is 1 for at-risk (Fail or Withdrawn), 0 otherwise; ``p`` is the predicted probability
      of being at risk, in [0, 1].
    * A student is *flagged* when ``p >= threshold``.
    * Calibration bins are equal-width on [0, 1]; bin ``i`` covers ``[i/bins, (i+1)/bins)`` and the last
      bin also holds ``p == 1``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, SupportsFloat

import numpy as np
import numpy.typing as npt
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

DECIMALS = 4
TOP_SHARE = 0.30  # recall_at_top_30pct flags this share of students, highest p first
_THRESHOLD_GRID: tuple[float, ...] = tuple(round(i / 100, 2) for i in range(1, 100))


def rounded(value: SupportsFloat | None) -> float | None:
    """Round to :data:`DECIMALS` places as a Python float; ``None``/NaN/inf become ``None``.

    Args:
        value: A number or ``None``.

    Returns:
        The rounded float, or ``None`` when the value is missing or not finite.
    """
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number):
        return None
    return round(number, DECIMALS)


def _ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else rounded(numerator / denominator)


def as_binary_arrays(y_true: Any, p: Any) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Validate and convert labels and probabilities to NumPy arrays.

    Args:
        y_true: 0/1 labels (booleans accepted).
        p: Predicted probabilities in [0, 1], same length as ``y_true``.

    Returns:
        ``(y, p)`` as an int array and a float array.

    Raises:
        ValueError: On different lengths, labels other than 0/1, or probabilities that are missing or
            outside [0, 1].
    """
    y_arr = np.asarray(y_true, dtype=float).ravel()
    p_arr = np.asarray(p, dtype=float).ravel()
    if y_arr.shape != p_arr.shape:
        raise ValueError(f"y_true has {y_arr.size} values but p has {p_arr.size}")
    if not np.isin(y_arr, (0.0, 1.0)).all():
        raise ValueError("y_true must contain only 0 and 1")
    if not np.isfinite(p_arr).all() or (p_arr < 0).any() or (p_arr > 1).any():
        raise ValueError("p must contain probabilities in [0, 1] without missing values")
    return y_arr.astype(np.int64), p_arr


def _counts(y: npt.NDArray[np.int64], flagged: npt.NDArray[np.bool_]) -> tuple[int, int, int, int]:
    positive = y == 1
    tp = int((flagged & positive).sum())
    fp = int((flagged & ~positive).sum())
    fn = int((~flagged & positive).sum())
    tn = int((~flagged & ~positive).sum())
    return tp, fp, fn, tn


def _f1(tp: int, fp: int, fn: int) -> float | None:
    denominator = 2 * tp + fp + fn
    return None if denominator == 0 else 2 * tp / denominator


def top_share_flags(p: Any, share: float = TOP_SHARE) -> npt.NDArray[np.bool_]:
    """Flag the ``ceil(share * n)`` highest probabilities.

    Ties are broken by stable order: among equal probabilities the earlier row is flagged first.

    Args:
        p: Predicted probabilities.
        share: Share of rows to flag, in (0, 1].

    Returns:
        A boolean array, ``True`` for flagged rows.
    """
    p_arr = np.asarray(p, dtype=float).ravel()
    k = math.ceil(round(share * p_arr.size, 9))
    order = np.argsort(-p_arr, kind="stable")
    flags = np.zeros(p_arr.size, dtype=bool)
    flags[order[:k]] = True
    return flags


def binary_metrics(y_true: Any, p: Any, *, threshold: float) -> dict[str, Any]:
    """Discrimination, calibration and thresholded metrics for a binary at-risk prediction.

    Args:
        y_true: 0/1 labels (1 = at risk).
        p: Predicted probabilities of being at risk.
        threshold: Students with ``p >= threshold`` are flagged.

    Returns:
        A dict with ``roc_auc``, ``pr_auc`` (average precision), ``brier``, ``accuracy``, ``f1``,
        ``precision``, ``recall`` (at ``threshold``), ``recall_at_top_30pct`` (recall when the top 30 %
        by ``p`` are flagged, ``ceil(0.3 n)`` students, ties in stable order), ``base_rate``, ``n``,
        ``positives`` and ``threshold``. Undefined values are ``None``.
    """
    y, p_arr = as_binary_arrays(y_true, p)
    n = int(y.size)
    positives = int(y.sum())
    both_classes = 0 < positives < n
    flagged = p_arr >= threshold
    tp, fp, fn, tn = _counts(y, flagged)
    top_tp, _, top_fn, _ = _counts(y, top_share_flags(p_arr))
    return {
        "roc_auc": rounded(roc_auc_score(y, p_arr)) if both_classes else None,
        "pr_auc": rounded(average_precision_score(y, p_arr)) if positives else None,
        "brier": rounded(float(np.mean((p_arr - y) ** 2))) if n else None,
        "accuracy": _ratio(tp + tn, n),
        "f1": rounded(_f1(tp, fp, fn)),
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "recall_at_top_30pct": _ratio(top_tp, top_tp + top_fn),
        "base_rate": _ratio(positives, n),
        "n": n,
        "positives": positives,
        "threshold": rounded(threshold),
    }


def multiclass_metrics(y_true_labels: Any, proba: Any, classes: Sequence[str]) -> dict[str, Any]:
    """Metrics for the 4-class outcome (Distinction, Pass, Fail, Withdrawn).

    Args:
        y_true_labels: True class labels (strings).
        proba: ``(n, len(classes))`` probabilities; column ``j`` belongs to ``classes[j]``.
        classes: Class labels in column order.

    Returns:
        ``{"macro_f1", "accuracy", "per_class_f1": {label: f1}, "n"}``. The prediction is the class
        with the highest probability (first column on ties); macro-F1 averages over all ``classes``,
        a class never predicted nor present scoring 0.

    Raises:
        ValueError: When the shapes disagree.
    """
    labels = [str(c) for c in classes]
    truth = np.asarray(y_true_labels, dtype=object).ravel().astype(str)
    matrix = np.asarray(proba, dtype=float)
    if matrix.ndim != 2 or matrix.shape != (truth.size, len(labels)):
        raise ValueError(f"proba must have shape ({truth.size}, {len(labels)}), got {matrix.shape}")
    if truth.size == 0:
        return {"macro_f1": None, "accuracy": None, "per_class_f1": dict.fromkeys(labels), "n": 0}
    predicted = np.asarray(labels, dtype=object)[matrix.argmax(axis=1)].astype(str)
    per_class = f1_score(truth, predicted, labels=labels, average=None, zero_division=0)
    return {
        "macro_f1": rounded(float(np.mean(per_class))),
        "accuracy": rounded(float(np.mean(truth == predicted))),
        "per_class_f1": {label: rounded(float(v)) for label, v in zip(labels, per_class, strict=True)},
        "n": int(truth.size),
    }


def _bin_index(p_arr: npt.NDArray[np.float64], bins: int) -> npt.NDArray[np.int64]:
    if bins < 1:
        raise ValueError("bins must be at least 1")
    return np.minimum(np.floor(p_arr * bins).astype(np.int64), bins - 1)


def calibration_table(y_true: Any, p: Any, *, bins: int = 10) -> list[dict[str, Any]]:
    """Reliability table over equal-width probability bins.

    Args:
        y_true: 0/1 labels.
        p: Predicted probabilities.
        bins: Number of equal-width bins on [0, 1].

    Returns:
        One dict per non-empty bin, in order: ``lower``, ``upper``, ``n``, ``mean_predicted`` and
        ``observed_rate`` (share of positives in the bin).
    """
    y, p_arr = as_binary_arrays(y_true, p)
    index = _bin_index(p_arr, bins)
    rows: list[dict[str, Any]] = []
    for b in range(bins):
        members = index == b
        count = int(members.sum())
        if count == 0:
            continue
        rows.append(
            {
                "lower": rounded(b / bins),
                "upper": rounded((b + 1) / bins),
                "n": count,
                "mean_predicted": rounded(float(p_arr[members].mean())),
                "observed_rate": rounded(float(y[members].mean())),
            }
        )
    return rows


def expected_calibration_error(y_true: Any, p: Any, *, bins: int = 10) -> float | None:
    """Expected calibration error: the n-weighted mean of ``|mean predicted − observed rate|`` per bin.

    Computed from unrounded per-bin values, on the bins of :func:`calibration_table`.

    Args:
        y_true: 0/1 labels.
        p: Predicted probabilities.
        bins: Number of equal-width bins on [0, 1].

    Returns:
        The ECE, or ``None`` for empty input.
    """
    y, p_arr = as_binary_arrays(y_true, p)
    if y.size == 0:
        return None
    index = _bin_index(p_arr, bins)
    total = 0.0
    for b in np.unique(index):
        members = index == b
        total += members.sum() * abs(float(p_arr[members].mean()) - float(y[members].mean()))
    return rounded(total / y.size)


def choose_threshold(y_true: Any, p: Any) -> float:
    """The threshold in {0.01, 0.02, …, 0.99} that maximises F1 of ``p >= threshold``.

    Use training or out-of-fold predictions, never the test set. On ties the lowest threshold wins
    (more students flagged: an early-warning system would rather over-reach than miss).

    Args:
        y_true: 0/1 labels.
        p: Predicted probabilities.

    Returns:
        The threshold rounded to 0.01; 0.5 when there are no positives (F1 undefined everywhere).
    """
    y, p_arr = as_binary_arrays(y_true, p)
    best_threshold, best_f1 = 0.5, -1.0
    for threshold in _THRESHOLD_GRID:
        tp, fp, fn, _ = _counts(y, p_arr >= threshold)
        score = _f1(tp, fp, fn)
        if score is not None and tp > 0 and score > best_f1 + 1e-12:
            best_threshold, best_f1 = threshold, score
    return best_threshold
