"""Score canonical records with the richest model variant their inputs allow, and explain each score.

``score_data`` is what every surface calls (CLI ``predict``, the web upload, the guide's
``assess_student_risk``): features as of day t → calibrated probability → risk level → exact
TreeSHAP factors in plain words → recommended interventions.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from student_success.config import Settings
from student_success.errors import ModelError, ValidationFailed
from student_success.features.asof import KEY, build_features
from student_success.features.catalog import FEATURE_DIRECTION, K12_FEATURES
from student_success.ingest.canonical import CanonicalData
from student_success.interventions.recommend import recommend_interventions
from student_success.ml.k12 import k12_feature_frame
from student_success.ml.registry import ModelVersion, VariantModel
from student_success.ml.sentences import (
    NOT_REASONS,
    PROTECTED_FEATURES,
    describe_factor,
    is_changeable,
    plain_probability,
)
from student_success.ml.training import CATEGORICAL_FEATURES, VARIANT_SPECS, model_matrix

VARIANT_LADDER: tuple[str, ...] = ("full_activity", "full", "gradebook")
TOP_FACTORS = 3
NOT_SHOWN = frozenset({"subject_math"})  # model inputs that are not a reason to tell a teacher


@dataclass
class ScoredBatch:
    """The predictions for one input, with how they were made."""

    predictions: pd.DataFrame
    variant: str
    model_version: str
    as_of_day: int | None
    features_used: list[str]
    inputs_unused: list[str] = field(default_factory=list)
    variant_quality: dict[str, Any] = field(default_factory=dict)


def available_inputs(data: CanonicalData) -> set[str]:
    """What a source provides, in the vocabulary of ``VariantSpec.requires``."""
    have: set[str] = set()
    if data.has_dates:
        have.add("dates")
    if data.has_context:
        have.add("context")
    if data.pre_course is not None:
        have.add("pre_course")
    if data.activity is not None:
        have.add("activity")
    if data.courses["code_module"].notna().any():
        have.add("module")
    if data.summary is not None:
        have.add("summary")
    return have


def choose_variant(data: CanonicalData, model: ModelVersion) -> str:
    """The richest variant of ``model`` whose inputs are all present in ``data``."""
    if data.k12 is not None:
        if "k12" not in model.variants:
            raise ModelError(
                "the active model has no k12 variant: run `python3 src/models/train_k12_models.py`"
            )
        return "k12"
    have = available_inputs(data)
    if data.summary is not None:
        ladder: tuple[str, ...] = ("summary",)
    else:
        ladder = VARIANT_LADDER
    for name in ladder:
        spec = VARIANT_SPECS[name]
        if name in model.variants and spec.requires <= have:
            return name
    raise ModelError(
        f"no variant of model {model.version} fits this input (it provides: {sorted(have) or 'nothing'})"
    )


def risk_level(p: np.ndarray, settings: Settings) -> np.ndarray:
    """``high`` (needs support now), ``medium`` (keep an eye on) or ``low`` (on track)."""
    return np.where(
        p >= settings.high_risk_threshold,
        "high",
        np.where(p >= settings.medium_risk_threshold, "medium", "low"),
    )


def _contributions(variant: VariantModel, x: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Exact TreeSHAP contributions (n × features) and raw margins (their row sums plus bias)."""
    contrib = np.asarray(variant.binary.predict(x, pred_contrib=True), dtype=float)
    return contrib[:, :-1], contrib.sum(axis=1)


def _class_context(df: pd.DataFrame, features: list[str], group: str | None) -> pd.DataFrame:
    """Per-row class medians of each numeric feature (the row's course, or everyone)."""
    numeric = [f for f in features if f not in CATEGORICAL_FEATURES]
    values = df[numeric].apply(pd.to_numeric, errors="coerce").astype(float)
    if group is None or group not in df:
        return pd.DataFrame({c: values[c].median() for c in numeric}, index=df.index)
    return values.groupby(df[group].astype(str)).transform("median")


@lru_cache(maxsize=1 << 16)
def _sentence(feature: str, value: float | None, class_value: float | None, n_due: float | None) -> str:
    """A factor's sentence; it depends only on these four things, so many students share one."""
    return describe_factor(
        feature, value, features={feature: value, "n_due": n_due}, class_context={feature: class_value}
    )


def _top(contrib: np.ndarray, usable: np.ndarray, *, sign: float) -> np.ndarray:
    """Column indices of the ``TOP_FACTORS`` largest contributions of one sign per row (-1: none).

    ``usable`` is a boolean mask over the columns, or over every cell (rows × columns).
    """
    signed = np.where(usable if usable.ndim == 2 else usable[None, :], contrib * sign, 0.0)
    signed = np.where(signed > 0, signed, 0.0)
    order = np.argsort(-signed, axis=1, kind="stable")[:, :TOP_FACTORS]
    order[np.take_along_axis(signed, order, axis=1) <= 0] = -1
    return order


def _value(v: float) -> float | None:
    return None if math.isnan(v) else float(v)


class _RowView(Mapping[str, float | None]):
    """One student's feature values, read on demand (most rows need only a few of them)."""

    def __init__(self, values: np.ndarray, position: dict[str, int]) -> None:
        self._values, self._position = values, position

    def __getitem__(self, name: str) -> float | None:
        return _value(self._values[self._position[name]])

    def __iter__(self) -> Iterator[str]:
        return iter(self._position)

    def __len__(self) -> int:
        return len(self._position)


# per row: the chosen feature columns, and the student's values, class medians and contributions there
_Picks = tuple[list[list[int]], list[list[float]], list[list[float]], list[list[float]]]


def _compared_with_class(
    names: list[str], values: np.ndarray, ctx: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Cells where the student is better / worse than the class median, for features with a direction."""
    direction = np.array([float(FEATURE_DIRECTION.get(n, 0)) for n in names])
    with np.errstate(invalid="ignore"):
        gap = np.nan_to_num((values - ctx) * direction[None, :], nan=0.0)
    return gap > 0, gap < 0


def _none_if_nan(a: np.ndarray) -> list[float | None]:
    return [None if math.isnan(v) else float(v) for v in a]


def _explain_rows(
    variant: VariantModel,
    feats: pd.DataFrame,
    contrib: np.ndarray,
    context: pd.DataFrame,
    levels: np.ndarray,
    *,
    recommend: bool = True,
) -> tuple[list[list[dict[str, Any]]], list[list[dict[str, Any]]], list[list[dict[str, Any]]]]:
    """Top risk and protective factors (changeable first) and recommendations, for every row."""
    names = list(variant.features)
    usable = np.array(
        [n not in NOT_REASONS and n not in PROTECTED_FEATURES and n not in NOT_SHOWN for n in names]
    )
    changeable = [is_changeable(n) for n in names]
    numeric = [n for n in names if n not in CATEGORICAL_FEATURES]
    values = np.full((len(feats), len(names)), np.nan)
    ctx = np.full((len(feats), len(names)), np.nan)
    for j, name in enumerate(names):
        if name in numeric:
            values[:, j] = pd.to_numeric(feats[name], errors="coerce").astype(float).to_numpy()
            ctx[:, j] = context[name].to_numpy(dtype=float)
    n_due = _none_if_nan(values[:, names.index("n_due")]) if "n_due" in names else [None] * len(feats)
    position = {name: j for j, name in enumerate(names)}
    kinds = ["changeable" if c else "context" for c in changeable]
    context_first = np.array([not c for c in changeable] + [True])  # the -1 "none" slot sorts last

    def picked(
        idx: np.ndarray,
    ) -> tuple[list[list[int]], list[list[float]], list[list[float]], list[list[float]]]:
        """Each row's picks (changeable first, strongest first within a kind, -1 last) with the
        student's value, the class median and the contribution of each, as plain Python lists."""
        idx = np.take_along_axis(idx, np.argsort(context_first[idx], axis=1, kind="stable"), axis=1)
        safe = np.where(idx >= 0, idx, 0)
        gather = lambda a: np.take_along_axis(a, safe, axis=1).tolist()  # noqa: E731
        return idx.tolist(), gather(values), gather(ctx), gather(np.round(contrib, 4))

    better, worse = _compared_with_class(names, values, ctx)
    # a reason must read as one: "score above the class median" never raises the risk in the list,
    # and "2 assessments missing (class median: 0)" never appears under what helps
    risk_picks = picked(_top(contrib, usable[None, :] & ~better, sign=1.0))
    prot_picks = picked(_top(contrib, usable[None, :] & ~worse, sign=-1.0))

    def factors(
        i: int, picks: tuple[list[list[int]], list[list[float]], list[list[float]], list[list[float]]]
    ) -> list[dict[str, Any]]:
        cols, vals, cvals, crow = picks[0][i], picks[1][i], picks[2][i], picks[3][i]
        due = n_due[i]
        out = []
        for k, j in enumerate(cols):
            if j < 0:
                break
            v, c = vals[k], cvals[k]  # NaN != NaN: unknown
            out.append(
                {
                    "feature": names[j],
                    "sentence": _sentence(names[j], v if v == v else None, c if c == c else None, due),
                    "contribution": crow[k],
                    "changeable": changeable[j],
                    "kind": kinds[j],
                }
            )
        return out

    risk_out: list[list[dict[str, Any]]] = []
    prot_out: list[list[dict[str, Any]]] = []
    recs_out: list[list[dict[str, Any]]] = []
    for i in range(len(feats)):
        risk = factors(i, risk_picks)
        risk_out.append(risk)
        prot_out.append(factors(i, prot_picks))
        if levels[i] == "low" or not recommend:
            recs_out.append([])
            continue
        row = _RowView(values[i], position)
        recs = recommend_interventions(risk, risk_level=str(levels[i]), features=row)
        recs_out.append([dict(r) for r in recs])
    return risk_out, prot_out, recs_out


def score_frame(
    feats: pd.DataFrame,
    variant: VariantModel,
    *,
    settings: Settings,
    explain: bool = True,
    recommend: bool = True,
    context_group: str | None = "course_id",
) -> pd.DataFrame:
    """Predict, explain and recommend for a feature frame that holds ``variant.features``."""
    x = model_matrix(feats, variant.features)
    contrib, margin = _contributions(variant, x)
    # the level is read off the probability as shown (4 decimals), so the two never disagree
    p = np.round(variant.calibration.apply(margin), 4)
    levels = risk_level(p, settings)
    out = pd.DataFrame(index=feats.index)
    out["risk_probability"] = p
    out["risk_level"] = levels
    out["risk_in_words"] = [plain_probability(float(v)) for v in p]
    if variant.multiclass is not None:
        proba = np.asarray(variant.multiclass.predict(x), dtype=float)
        for j, cls in enumerate(variant.classes):
            out[f"p_{cls.lower()}"] = np.round(proba[:, j], 4)
    if explain:
        context = _class_context(feats, variant.features, context_group)
        risk, prot, recs = _explain_rows(variant, feats, contrib, context, levels, recommend=recommend)
        out["risk_factors"] = pd.Series(risk, index=out.index, dtype=object)
        out["protective_factors"] = pd.Series(prot, index=out.index, dtype=object)
        out["recommendations"] = pd.Series(recs, index=out.index, dtype=object)
        out["top_factors"] = ["; ".join(f["sentence"] for f in r) for r in risk]
    return out


def score_data(
    data: CanonicalData,
    *,
    model: ModelVersion,
    settings: Settings,
    as_of_day: int | None = None,
    explain: bool = True,
    recommend: bool = True,
) -> ScoredBatch:
    """Score every student (every enrolment for OULAD) in ``data``.

    Args:
        data: canonical records from any adapter.
        model: the loaded model version.
        settings: risk-level cut-offs.
        as_of_day: day t of the course; defaults to the day the source states.
        explain: add factors and their sentences.
        recommend: add recommended interventions (with ``explain``).

    Returns:
        A :class:`ScoredBatch` whose ``predictions`` has one row per student/enrolment.
    """
    name = choose_variant(data, model)
    variant = model.variant(name)
    day = as_of_day if as_of_day is not None else data.as_of_day
    if name == "k12":
        assert data.k12 is not None
        feats, used = k12_inputs(data.k12)
        scored = score_frame(
            feats, variant, settings=settings, explain=explain, recommend=recommend, context_group=None
        )
        ids = feats[["student_id"]]
        unused = [c for c in data.k12.columns if c not in (*used, "student_id", "G2", "G3")]
    elif name == "summary":
        assert data.summary is not None
        day = DEFAULT_EARLY_DAY if day is None else day  # "early": the guide's summary columns carry no day
        feats, used, unused = summary_features(data.summary, as_of_day=day)
        scored = score_frame(
            feats, variant, settings=settings, explain=explain, recommend=recommend, context_group=None
        )
        ids = feats[["student_id"]]
    else:
        if day is None:
            raise ValidationFailed.single(
                "as-of day is required: give --as-of-day N (days since the term started)"
            )
        feats = build_features(data, as_of_day=day)
        scored = score_frame(feats, variant, settings=settings, explain=explain, recommend=recommend)
        ids = feats[KEY].merge(data.courses[["course_id", "code_module", "code_presentation"]], how="left")
        ids = ids.merge(data.enrollments[[*KEY, "display_name", "section"]], on=KEY, how="left")
        used, unused = list(variant.features), []
    predictions = pd.concat([ids.reset_index(drop=True), scored.reset_index(drop=True)], axis=1)
    predictions.insert(len(ids.columns), "as_of_day", day)
    predictions["model_variant"] = name
    predictions["model_version"] = model.version
    return ScoredBatch(
        predictions=predictions,
        variant=name,
        model_version=model.version,
        as_of_day=day,
        features_used=used,
        inputs_unused=unused,
        variant_quality=variant.metrics,
    )


def k12_inputs(k12: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The K-12 model inputs; optional columns the file lacks are unknown (NaN), never guessed.

    Returns:
        The feature frame (``student_id`` first) and the input columns the file provided.
    """
    df = k12.copy()
    present = [c for c in (*K12_FEATURES, "subject") if c in df.columns]
    for name in K12_FEATURES:
        if name not in df.columns:
            df[name] = np.nan
    subject = df["subject"] if "subject" in df.columns else pd.Series(pd.NA, index=df.index, dtype="string")
    df["subject"] = "mat"  # placeholder for the frame builder; replaced just below
    feats = k12_feature_frame(df)
    feats["subject_math"] = (subject.astype("string") == "mat").astype("Float64").astype(float)
    feats.insert(0, "student_id", k12["student_id"].astype(str).to_numpy())
    return feats, present


SUMMARY_INPUTS: dict[str, str] = {
    "early_avg_score": "score_mean",
    "studied_credits": "studied_credits",
    "num_of_prev_attempts": "num_prev_attempts",
}
DEFAULT_EARLY_DAY = 30


def summary_features(
    summary: pd.DataFrame, *, as_of_day: int | None
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Map one-row-per-student summary columns onto the ``summary`` variant's inputs.

    Returns:
        The feature frame, the input columns the model used, and the input columns it could not use
        (the model was trained without them, e.g. click counts when no clickstream was available).
    """
    feats = pd.DataFrame({"student_id": summary["student_id"].astype(str).to_numpy()})
    day = DEFAULT_EARLY_DAY if as_of_day is None else as_of_day
    if "as_of_day" in summary:
        feats["as_of_day"] = pd.to_numeric(summary["as_of_day"], errors="coerce").fillna(day).to_numpy()
    else:
        feats["as_of_day"] = float(day)
    used, unused = [], []
    for column in summary.columns:
        if column in ("student_id", "as_of_day"):
            continue
        target = SUMMARY_INPUTS.get(column)
        if target is None:
            unused.append(column)
            continue
        feats[target] = pd.to_numeric(summary[column], errors="coerce").astype(float).to_numpy()
        used.append(column)
    for target in SUMMARY_INPUTS.values():
        if target not in feats:
            feats[target] = np.nan
    return feats, used, unused
