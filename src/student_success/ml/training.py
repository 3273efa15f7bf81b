"""Train the OULAD model variants: calibrated binary at-risk and 4-class outcome, one per feature profile.

Protocol: fit on the training presentations' stacked snapshots; hold out 20 % of enrolments
(grouped, never a student split across sides) to fit Platt calibration and choose the alert
threshold; then refit on everything with the same settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupShuffleSplit

from student_success.features.catalog import (
    ACTIVITY_FEATURES,
    FULL_FEATURES,
    GRADEBOOK_FEATURES,
    SUMMARY_FEATURES,
)
from student_success.ingest.canonical import OUTCOMES
from student_success.ml.metrics import choose_threshold
from student_success.ml.registry import Calibration, VariantModel
from student_success.ml.snapshots import enrolment_groups

SEED = 42
CATEGORICAL_FEATURES: tuple[str, ...] = ("code_module",)

BINARY_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.2,
    "num_leaves": 8,
    # shallow trees: exact TreeSHAP costs grow with depth squared, and deeper trees scored no better
    "max_depth": 3,
    "min_data_in_leaf": 200,
    "lambda_l2": 5.0,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "verbose": -1,
    "seed": SEED,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 2,
}
BINARY_ROUNDS = 80
MULTICLASS_PARAMS: dict[str, Any] = {
    **BINARY_PARAMS,
    "objective": "multiclass",
    "num_class": len(OUTCOMES),
}
MULTICLASS_ROUNDS = 80
SUMMARY_OPTIONAL: tuple[str, ...] = ("score_mean", "studied_credits", "num_prev_attempts")


@dataclass(frozen=True)
class VariantSpec:
    """A feature profile: the model inputs and what a source must provide to use it."""

    name: str
    features: tuple[str, ...]
    requires: frozenset[str]
    description: str


VARIANT_SPECS: dict[str, VariantSpec] = {
    "full_activity": VariantSpec(
        "full_activity",
        (*FULL_FEATURES, *ACTIVITY_FEATURES, "code_module"),
        frozenset({"dates", "context", "pre_course", "activity", "module"}),
        "Everything in OULAD including the daily clickstream (studentVle).",
    ),
    "full": VariantSpec(
        "full",
        (*FULL_FEATURES, "code_module"),
        frozenset({"dates", "context", "pre_course", "module"}),
        "Everything in OULAD without the daily clickstream: scores, missing and late work, timing, "
        "registration, credit load, prior attempts, prior education, pre-course activity, course.",
    ),
    "gradebook": VariantSpec(
        "gradebook",
        GRADEBOOK_FEATURES,
        frozenset(),
        "Only what a gradebook export gives: scores as % of points possible, handed-in, missing and "
        "excused counts, score spread and trend, score and missing work relative to the class, day t.",
    ),
    "summary": VariantSpec(
        "summary",
        SUMMARY_FEATURES,
        frozenset({"summary"}),
        "One row per student with summary columns (average score, credit load, prior attempts); any "
        "subset of them.",
    ),
}


def model_matrix(df: pd.DataFrame, features: Sequence[str]) -> pd.DataFrame:
    """The model's input columns, typed: floats, and the course module as a category."""
    out = pd.DataFrame(index=df.index)
    for name in features:
        if name in CATEGORICAL_FEATURES:
            out[name] = df[name].astype("string").astype("category") if name in df else pd.NA
        else:
            out[name] = pd.to_numeric(df[name], errors="coerce").astype(float) if name in df else np.nan
    return out


def _fit(params: dict[str, Any], rounds: int, x: pd.DataFrame, y: np.ndarray) -> lgb.Booster:
    cats = [c for c in x.columns if c in CATEGORICAL_FEATURES]
    dataset = lgb.Dataset(x, label=y, categorical_feature=cats or "auto", free_raw_data=True)
    return lgb.train(params, dataset, num_boost_round=rounds)


def fit_platt(margin: np.ndarray, y: np.ndarray) -> Calibration:
    """Platt scaling fitted on held-out raw margins (an unpenalised logistic regression)."""
    lr = LogisticRegression(C=1e6, max_iter=1000)
    lr.fit(margin.reshape(-1, 1), y)
    return Calibration(a=float(lr.coef_[0][0]), b=float(lr.intercept_[0]))


def augment_missing(df: pd.DataFrame, columns: Sequence[str], *, seed: int = SEED) -> pd.DataFrame:
    """Append copies of the rows with each optional column blanked, so the model learns to do without it.

    The ``summary`` variant scores files that carry any subset of its columns; LightGBM routes a
    missing value down the branch learned for it only if training has seen missing values.
    """
    rng = np.random.default_rng(seed)
    parts = [df]
    for col in columns:
        part = df.sample(frac=0.25, random_state=int(rng.integers(1 << 31))).copy()
        part[col] = np.nan
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def train_variant(df: pd.DataFrame, spec: VariantSpec, *, multiclass: bool = True) -> VariantModel:
    """Train one variant on stacked snapshots (``build_snapshots`` output).

    Returns:
        The calibrated binary model, its alert threshold and (optionally) the 4-class model.
    """
    if spec.name == "summary":
        df = augment_missing(df, SUMMARY_OPTIONAL)
    x = model_matrix(df, spec.features)
    y = df["at_risk"].to_numpy()
    groups = enrolment_groups(df)
    split = GroupShuffleSplit(n_splits=1, test_size=0.2, random_state=SEED)
    fit_idx, cal_idx = next(split.split(x, y, groups))
    probe = _fit(BINARY_PARAMS, BINARY_ROUNDS, x.iloc[fit_idx], y[fit_idx])
    margin = np.asarray(probe.predict(x.iloc[cal_idx], raw_score=True), dtype=float)
    calibration = fit_platt(margin, y[cal_idx])
    threshold = choose_threshold(y[cal_idx], calibration.apply(margin))
    binary = _fit(BINARY_PARAMS, BINARY_ROUNDS, x, y)
    multi = None
    if multiclass:
        multi = _fit(MULTICLASS_PARAMS, MULTICLASS_ROUNDS, x, df["outcome"].to_numpy())
    return VariantModel(
        name=spec.name,
        features=list(spec.features),
        binary=binary,
        calibration=calibration,
        threshold=float(threshold),
        multiclass=multi,
        classes=list(OUTCOMES),
        extra={"description": spec.description, "requires": sorted(spec.requires)},
    )
