"""K-12 risk model on the UCI student performance data (predict ``G3 < 10`` after the first period).

The model sees only :data:`K12_MODEL_FEATURES`: the ``K12_FEATURES`` columns (first-period grade ``G1``,
never ``G2``/``G3``) and ``subject_math``. Student-group and socio-economic attributes (sex, age,
address, parents' education and jobs, …) are never inputs; sex and age are used for the fairness table
only, and the README's merge keys only to keep a student who is in both files inside one fold.

Training cross-validates a small LightGBM model with :class:`~sklearn.model_selection.StratifiedGroupKFold`,
fits Platt scaling (``p = 1 / (1 + exp(-(a * margin + b)))``) on the out-of-fold raw margins, reports
metrics on the out-of-fold calibrated probabilities and then trains the final booster on all rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    f1_score,
    roc_auc_score,
)
from sklearn.model_selection import StratifiedGroupKFold

from student_success.config import get_settings
from student_success.features.catalog import K12_FEATURES
from student_success.ingest.k12 import BINARY_COLUMNS, UCI_FILES

K12_MODEL_FEATURES: tuple[str, ...] = (*K12_FEATURES, "subject_math")
# README merge keys: a student in both files has the same values in both.
UCI_MERGE_KEYS: tuple[str, ...] = (
    "school",
    "sex",
    "age",
    "address",
    "famsize",
    "Pstatus",
    "Medu",
    "Fedu",
    "Mjob",
    "Fjob",
    "reason",
    "nursery",
    "internet",
)
# Later grades and group / socio-economic attributes: never model inputs.
FORBIDDEN_FEATURES: frozenset[str] = frozenset(
    {"G2", "G3", *UCI_MERGE_KEYS, "guardian", "famrel", "romantic"}
)
THRESHOLD = 0.5
TOP_SHARE = 0.3
LGB_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.03,
    "num_leaves": 7,
    "min_child_samples": 20,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 1,
    "verbose": -1,
}
NUM_BOOST_ROUND = 200


@dataclass
class K12TrainResult:
    """A trained K-12 model and its cross-validated evaluation.

    Attributes:
        booster: the final LightGBM booster, trained on all rows.
        features: the input columns, in the booster's order.
        calibration: ``{"method": "platt", "a": float, "b": float}`` fitted on out-of-fold margins.
        metrics: out-of-fold metrics (JSON-serialisable, floats rounded to 4 places).
        fairness: one dict per student group (sex, age band) with error rates at the 0.5 threshold.
    """

    booster: lgb.Booster
    features: list[str]
    calibration: dict[str, Any]
    metrics: dict[str, Any]
    fairness: list[dict[str, Any]]


def k12_feature_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Build the model input from K-12 records (the output of ``load_uci_dataset``).

    Args:
        df: ``K12_FEATURES`` columns (yes/no columns already 1/0) and ``subject`` (``"mat"``/``"por"``).

    Returns:
        A new float frame with exactly the :data:`K12_MODEL_FEATURES` columns, same index as ``df``.

    Raises:
        ValueError: a feature column or ``subject`` is missing, or a yes/no column holds other values.
    """
    missing = [c for c in (*K12_FEATURES, "subject") if c not in df.columns]
    if missing:
        raise ValueError(f"missing K-12 column(s): {', '.join(missing)}")
    out = pd.DataFrame(index=df.index)
    for name in K12_FEATURES:
        values = pd.to_numeric(df[name], errors="raise").astype("float64")
        if name in BINARY_COLUMNS and not values.dropna().isin([0.0, 1.0]).all():
            raise ValueError(f"column {name} must hold 1/0 (yes/no), got {sorted(values.unique())[:5]}")
        out[name] = values
    out["subject_math"] = (df["subject"].astype("string") == "mat").fillna(False).astype("float64")
    return out


def read_uci_attributes(dataset_dir: Path | str) -> pd.DataFrame:
    """Read the raw UCI files' merge keys (sex and age among them) with ``load_uci_dataset`` ids.

    Args:
        dataset_dir: the folder holding ``student-mat.csv`` and ``student-por.csv``.

    Returns:
        ``student_id`` (``"mat-row-<line>"``, line 2 being the first data row), the merge keys and
        ``G3`` (to check the alignment).
    """
    frames = []
    for subject, name in UCI_FILES.items():
        raw = pd.read_csv(Path(dataset_dir) / name, sep=";")
        frame = raw[[*UCI_MERGE_KEYS, "G3"]].copy()
        frame.insert(0, "student_id", [f"{subject}-row-{i + 2}" for i in range(len(raw))])
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def k12_group_ids(attributes: pd.DataFrame) -> np.ndarray:
    """Give every student one integer id, the same in both files (rows equal on all merge keys).

    Args:
        attributes: a frame with the :data:`UCI_MERGE_KEYS` columns.

    Returns:
        Integer group ids, one per row.
    """
    key = attributes[list(UCI_MERGE_KEYS)].astype(str).agg("|".join, axis=1)
    codes, _ = pd.factorize(key, sort=True)
    return np.asarray(codes, dtype=np.int64)


def _with_attributes(df: pd.DataFrame, dataset_dir: Path | str | None) -> pd.DataFrame:
    if all(c in df.columns for c in UCI_MERGE_KEYS):
        return df
    if dataset_dir is None:
        dataset_dir = get_settings().datasets_dir / "uci_student_performance"
    attrs = read_uci_attributes(dataset_dir).rename(columns={"G3": "_raw_G3"})
    merged = df.merge(attrs, on="student_id", how="left", validate="one_to_one")
    if merged["school"].isna().any() or not np.allclose(merged["G3"], merged["_raw_G3"]):
        raise ValueError("the K-12 rows do not line up with the raw UCI files in " + str(dataset_dir))
    merged.index = df.index
    return merged.drop(columns="_raw_G3")


def k12_folds(y: np.ndarray, groups: np.ndarray, *, n_splits: int = 5, seed: int = 42) -> np.ndarray:
    """Assign each row to a cross-validation fold; all rows of one group share a fold.

    Args:
        y: the binary target.
        groups: a group id per row (see :func:`k12_group_ids`).
        n_splits: number of folds.
        seed: shuffling seed.

    Returns:
        The fold number (0 … n_splits - 1) of each row.
    """
    cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    fold = np.full(len(y), -1, dtype=np.int64)
    for k, (_, test) in enumerate(cv.split(np.zeros((len(y), 1)), y, groups)):
        fold[test] = k
    return fold


def _fit(x: pd.DataFrame, y: np.ndarray, seed: int) -> lgb.Booster:
    data = lgb.Dataset(x, label=y, free_raw_data=True)
    return lgb.train({**LGB_PARAMS, "seed": seed}, data, num_boost_round=NUM_BOOST_ROUND)


def raw_k12(booster: lgb.Booster, df_features: pd.DataFrame) -> np.ndarray:
    """Raw margins (log-odds before calibration).

    Args:
        booster: a booster from :func:`train_k12`.
        df_features: a frame from :func:`k12_feature_frame`.

    Returns:
        One raw score per row.
    """
    x = df_features[list(booster.feature_name())]
    return np.asarray(booster.predict(x, raw_score=True), dtype=np.float64)


def _platt(margin: np.ndarray, a: float, b: float) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-(a * margin + b))), dtype=np.float64)


def predict_k12(
    booster: lgb.Booster, calibration: Mapping[str, Any], df_features: pd.DataFrame
) -> np.ndarray:
    """Calibrated probabilities of ``G3 < 10``.

    Args:
        booster: a booster from :func:`train_k12`.
        calibration: ``{"method": "platt", "a": …, "b": …}``.
        df_features: a frame from :func:`k12_feature_frame`.

    Returns:
        One probability per row.

    Raises:
        ValueError: an unknown calibration method.
    """
    if calibration.get("method") != "platt":
        raise ValueError(f"unknown calibration method {calibration.get('method')!r}")
    return _platt(raw_k12(booster, df_features), float(calibration["a"]), float(calibration["b"]))


def fit_platt(margin: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Fit Platt scaling (a practically unpenalised logistic regression on the raw margin).

    Args:
        margin: raw scores.
        y: binary target.

    Returns:
        ``(a, b)`` with ``p = 1 / (1 + exp(-(a * margin + b)))``.
    """
    model = LogisticRegression(C=1e6, max_iter=1000)
    model.fit(margin.reshape(-1, 1), y)
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def _r(value: float) -> float | None:
    return None if not math.isfinite(value) else round(float(value), 4)


def _ratio(num: float, den: float) -> float | None:
    return _r(num / den) if den else None


def recall_at_top(y: np.ndarray, p: np.ndarray, share: float = TOP_SHARE) -> float:
    """Share of positives among the ``ceil(share * n)`` highest-risk rows (ties: first row first).

    Args:
        y: binary target.
        p: risk scores.
        share: the share of rows flagged.

    Returns:
        Recall of the flagged set (NaN without positives).
    """
    k = math.ceil(share * len(y))
    top = np.argsort(-p, kind="stable")[:k]
    positives = y.sum()
    return float(y[top].sum() / positives) if positives else math.nan


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    return float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else math.nan


def k12_metrics(y: np.ndarray, p: np.ndarray, subject: np.ndarray) -> dict[str, Any]:
    """Evaluation metrics of calibrated probabilities.

    Args:
        y: binary target.
        p: calibrated probabilities.
        subject: ``"mat"``/``"por"`` per row.

    Returns:
        roc_auc, pr_auc, brier, accuracy and f1 at 0.5, recall_at_top_30pct, base_rate,
        mean_predicted, n and auc_by_subject (floats rounded to 4).
    """
    flag = (p >= THRESHOLD).astype(int)
    return {
        "n": len(y),
        "base_rate": _r(float(y.mean())),
        "mean_predicted": _r(float(p.mean())),
        "roc_auc": _r(_auc(y, p)),
        "pr_auc": _r(float(average_precision_score(y, p))),
        "brier": _r(float(brier_score_loss(y, p))),
        "threshold": THRESHOLD,
        "accuracy": _r(float(accuracy_score(y, flag))),
        "f1": _r(float(f1_score(y, flag, zero_division=0))),
        "recall_at_top_30pct": _r(recall_at_top(y, p)),
        "auc_by_subject": {str(s): _r(_auc(y[subject == s], p[subject == s])) for s in np.unique(subject)},
    }


def age_band(age: float) -> str:
    """Fairness age band: ``"15-16"``, ``"17-18"`` or ``"19+"``."""
    return "15-16" if age <= 16 else "17-18" if age <= 18 else "19+"


def k12_fairness(y: np.ndarray, p: np.ndarray, sex: np.ndarray, age: np.ndarray) -> list[dict[str, Any]]:
    """Per-group error rates at the 0.5 threshold, for sex and age band.

    Args:
        y: binary target.
        p: calibrated probabilities.
        sex: ``"F"``/``"M"`` per row.
        age: age in years per row.

    Returns:
        One dict per group: attribute, group, n, positives, fnr, fpr, precision, mean_predicted,
        observed_rate (``None`` when undefined).
    """
    bands = np.array([age_band(float(a)) for a in age])
    rows: list[dict[str, Any]] = []
    for attribute, values in (("sex", sex.astype(str)), ("age_band", bands)):
        for group in sorted(np.unique(values)):
            m = values == group
            yg, fg = y[m], p[m] >= THRESHOLD
            tp = int((fg & (yg == 1)).sum())
            fp = int((fg & (yg == 0)).sum())
            pos = int(yg.sum())
            neg = int(m.sum()) - pos
            rows.append(
                {
                    "attribute": attribute,
                    "group": str(group),
                    "n": int(m.sum()),
                    "positives": pos,
                    "fnr": _ratio(pos - tp, pos),
                    "fpr": _ratio(fp, neg),
                    "precision": _ratio(tp, tp + fp),
                    "mean_predicted": _r(float(p[m].mean())),
                    "observed_rate": _r(float(yg.mean())),
                }
            )
    return rows


def cross_validate_k12(
    df: pd.DataFrame, *, seed: int = 42, n_splits: int = 5, dataset_dir: Path | str | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.DataFrame]:
    """Out-of-fold raw margins of the K-12 model.

    Args:
        df: K-12 records with ``G3`` (``load_uci_dataset`` output, or with the merge keys as columns).
        seed: LightGBM and fold-shuffling seed.
        n_splits: number of folds.
        dataset_dir: the raw UCI files, read when ``df`` lacks the merge keys (default: settings).

    Returns:
        ``(margin, y, fold, data)``: out-of-fold margins, target, fold per row, and ``df`` with the
        merge-key columns.
    """
    data = _with_attributes(df, dataset_dir)
    x = k12_feature_frame(data)
    y = (data["G3"].to_numpy(dtype=np.float64) < 10).astype(np.int64)
    fold = k12_folds(y, k12_group_ids(data), n_splits=n_splits, seed=seed)
    margin = np.zeros(len(y), dtype=np.float64)
    for k in range(n_splits):
        test = fold == k
        booster = _fit(x.loc[~test], y[~test], seed)
        margin[test] = raw_k12(booster, x.loc[test])
    return margin, y, fold, data


def train_k12(
    df: pd.DataFrame, *, seed: int = 42, n_splits: int = 5, dataset_dir: Path | str | None = None
) -> K12TrainResult:
    """Cross-validate, calibrate and train the K-12 risk model (target ``G3 < 10``).

    Args:
        df: K-12 records with ``G3`` (``load_uci_dataset`` output, or with the merge keys as columns).
        seed: LightGBM and fold-shuffling seed; equal seeds give identical results.
        n_splits: number of folds.
        dataset_dir: the raw UCI files, read for the group ids, sex and age when ``df`` lacks them
            (default: ``Settings.datasets_dir / "uci_student_performance"``).

    Returns:
        The final booster, features, Platt calibration, out-of-fold metrics and fairness table.
    """
    margin, y, _, data = cross_validate_k12(df, seed=seed, n_splits=n_splits, dataset_dir=dataset_dir)
    a, b = fit_platt(margin, y)
    p = _platt(margin, a, b)
    subject = data["subject"].astype(str).to_numpy()
    metrics = k12_metrics(y, p, subject)
    metrics.update({"n_splits": n_splits, "seed": seed, "n_groups": len(np.unique(k12_group_ids(data)))})
    fairness = k12_fairness(y, p, data["sex"].to_numpy(), data["age"].to_numpy(dtype=np.float64))
    booster = _fit(k12_feature_frame(data), y, seed)
    return K12TrainResult(
        booster=booster,
        features=list(K12_MODEL_FEATURES),
        calibration={"method": "platt", "a": a, "b": b},
        metrics=metrics,
        fairness=fairness,
    )
