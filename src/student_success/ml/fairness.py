"""Error rates by student group, for the fairness section of the model card.

Group attributes (:data:`student_success.ingest.canonical.GROUP_ATTRIBUTES`) are never model inputs;
they are read here only, to check that the model's errors do not fall unevenly on one group.

For each attribute and each of its values, :func:`group_report` gives the false-negative rate (at-risk
students the model missed), the false-positive rate (students flagged who were not at risk), the
precision of a flag, the mean predicted risk and the observed at-risk rate. Rates that cannot be
computed (e.g. FNR in a group without at-risk students) are ``None``. Groups with fewer than
:data:`MIN_GROUP_SIZE` students are marked ``small_sample: True``: their rates are too noisy to read.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

from student_success.ingest.canonical import GROUP_ATTRIBUTES
from student_success.ml.metrics import as_binary_arrays, rounded

MIN_GROUP_SIZE = 30
UNKNOWN = "unknown"

MOST_DEPRIVED = "most deprived (0–30 %)"
MIDDLE_DEPRIVATION = "middle (30–70 %)"
LEAST_DEPRIVED = "least deprived (70–100 %)"
DEPRIVATION_BANDS: tuple[str, ...] = (MOST_DEPRIVED, MIDDLE_DEPRIVATION, LEAST_DEPRIVED)

# OULAD age bands, as the publisher spells them, → readable labels.
OULAD_AGE_BANDS: dict[str, str] = {"0-35": "under 35", "35-55": "35–55", "55<=": "55 and over"}
_DECILE = re.compile(r"^\s*(\d{1,3})\s*%?\s*[-–]\s*(\d{1,3})\s*%?\s*$")


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def deprivation_band(imd_band: object) -> str:
    """Map an OULAD Index of Multiple Deprivation decile to one of three coarser bands.

    OULAD writes deciles as ``"0-10%"``, ``"20-30%"``, …, ``"90-100%"``, with the publisher's typo
    ``"10-20"`` (no ``%``); both spellings (and en dashes) are accepted. Lower deciles are more deprived.

    Args:
        imd_band: The decile label, or a missing value.

    Returns:
        :data:`MOST_DEPRIVED` (0–30 %), :data:`MIDDLE_DEPRIVATION` (30–70 %), :data:`LEAST_DEPRIVED`
        (70–100 %), or ``"unknown"`` for missing or unrecognised labels.
    """
    if _is_missing(imd_band):
        return UNKNOWN
    match = _DECILE.match(str(imd_band))
    if match is None:
        return UNKNOWN
    lower, upper = int(match.group(1)), int(match.group(2))
    if upper - lower != 10 or lower % 10 or upper > 100:
        return UNKNOWN
    if upper <= 30:
        return MOST_DEPRIVED
    if upper <= 70:
        return MIDDLE_DEPRIVATION
    return LEAST_DEPRIVED


def age_band(age: object) -> str:
    """A readable age band from an OULAD band label or a numeric (K-12) age.

    Args:
        age: An OULAD label (``"0-35"``, ``"35-55"``, ``"55<="``), a numeric age in years (the UCI
            K-12 files give 15–22), or a missing value.

    Returns:
        ``"under 35"``, ``"35–55"`` or ``"55 and over"`` for OULAD labels; ``"16 and under"``,
        ``"17–18"`` or ``"19 and over"`` for numeric ages; ``"unknown"`` when missing; any other label
        is returned stripped, unchanged.
    """
    if _is_missing(age):
        return UNKNOWN
    text = str(age).strip()
    if text in OULAD_AGE_BANDS:
        return OULAD_AGE_BANDS[text]
    try:
        years = float(text)
    except ValueError:
        return text
    if not math.isfinite(years):
        return UNKNOWN
    if years < 17:
        return "16 and under"
    if years < 19:
        return "17–18"
    return "19 and over"


def fairness_groups(frame: pd.DataFrame) -> pd.DataFrame:
    """Pick the group attributes out of a frame and make them report-ready.

    ``imd_band`` becomes ``deprivation_band`` (three bands); ``age_band`` and the K-12 ``age`` become
    ``age_band`` via :func:`age_band`; other attributes are kept as strings. Missing values become
    ``"unknown"``.

    Args:
        frame: Enrolments (or K-12 students) with any of the columns in ``GROUP_ATTRIBUTES``.

    Returns:
        A frame with the same index and one string column per attribute present.
    """
    out = pd.DataFrame(index=frame.index)
    for column in GROUP_ATTRIBUTES:
        if column not in frame.columns:
            continue
        values = frame[column].astype(object)
        if column == "imd_band":
            out["deprivation_band"] = values.map(deprivation_band)
        elif column in ("age_band", "age"):
            if "age_band" not in out.columns:
                out["age_band"] = values.map(age_band)
        else:
            out[column] = values.map(lambda v: UNKNOWN if _is_missing(v) else str(v).strip())
    return out


def _group_label(value: object) -> str:
    if _is_missing(value):
        return UNKNOWN
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _sort_key(label: str) -> tuple[int, float, str]:
    if label == UNKNOWN:
        return (2, 0.0, label)
    if label in DEPRIVATION_BANDS:
        return (0, float(DEPRIVATION_BANDS.index(label)), label)
    match = re.match(r"\s*(under\s+)?(\d+(?:\.\d+)?)", label)
    if match:
        below = 0.5 if match.group(1) else 0.0  # "under 35" sorts before "35–55"
        return (0, float(match.group(2)) - below, label)
    return (1, 0.0, label)


def _group_row(attribute: str, label: str, y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, Any]:
    n = int(y.size)
    positive = y == 1
    flagged = p >= threshold
    positives = int(positive.sum())
    negatives = n - positives
    tp = int((flagged & positive).sum())
    fp = int((flagged & ~positive).sum())
    fn = positives - tp
    n_flagged = tp + fp
    return {
        "attribute": attribute,
        "group": label,
        "n": n,
        "positives": positives,
        "flagged": n_flagged,
        "fnr": rounded(fn / positives) if positives else None,
        "fpr": rounded(fp / negatives) if negatives else None,
        "precision": rounded(tp / n_flagged) if n_flagged else None,
        "mean_predicted": rounded(float(p.mean())) if n else None,
        "observed_rate": rounded(positives / n) if n else None,
        "small_sample": n < MIN_GROUP_SIZE,
    }


def group_report(y_true: Any, p: Any, groups: pd.DataFrame, *, threshold: float) -> list[dict[str, Any]]:
    """Per-group error rates at a decision threshold.

    Rows of ``groups`` are matched to ``y_true``/``p`` by position, not by index.

    Args:
        y_true: 0/1 labels (1 = at risk).
        p: Predicted probabilities of being at risk.
        groups: One column per group attribute (e.g. ``gender``, ``age_band``, ``disability``,
            ``deprivation_band``); missing values are reported as ``"unknown"``.
        threshold: Students with ``p >= threshold`` are flagged.

    Returns:
        One dict per (attribute, group), attributes in column order and groups in natural order
        (``"unknown"`` last), with keys ``attribute``, ``group``, ``n``, ``positives``, ``flagged``,
        ``fnr`` (missed at-risk / at-risk), ``fpr`` (flagged not-at-risk / not-at-risk), ``precision``
        (at-risk among flagged), ``mean_predicted``, ``observed_rate`` and ``small_sample``
        (``n < 30``). Undefined rates are ``None``.

    Raises:
        ValueError: When ``groups`` has a different number of rows than ``y_true``.
    """
    y, p_arr = as_binary_arrays(y_true, p)
    if len(groups) != y.size:
        raise ValueError(f"groups has {len(groups)} rows but y_true has {y.size}")
    rows: list[dict[str, Any]] = []
    for column in groups.columns:
        labels = np.asarray([_group_label(v) for v in groups[column].tolist()], dtype=object)
        for label in sorted(set(labels.tolist()), key=_sort_key):
            members = labels == label
            rows.append(_group_row(str(column), label, y[members], p_arr[members], threshold))
    return rows
