"""Scoring (``student_success.ml.scoring``) with a copy of the committed model registry.

The registry under ``results/models/`` is copied into a temporary folder once per module and only the
copy is loaded; the tests never write to ``results/models/``.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from student_success.config import Settings
from student_success.errors import ModelError, StudentSuccessError
from student_success.features.asof import KEY, build_features
from student_success.features.catalog import FEATURE_DIRECTION
from student_success.ingest.canonical import GROUP_ATTRIBUTES, CanonicalData
from student_success.ingest.detect import read_any
from student_success.ingest.k12 import read_k12_csv
from student_success.ingest.oulad import read_oulad
from student_success.ml.registry import Calibration, ModelRegistry, ModelVersion
from student_success.ml.scoring import ScoredBatch, choose_variant, score_data, score_frame
from student_success.ml.training import model_matrix

REPO = Path(__file__).resolve().parents[2]
COMMITTED_MODELS = REPO / "results" / "models"
EXAMPLES = REPO / "examples"
DATASETS = REPO.parent / "shared" / "datasets"
OULAD = DATASETS / "oulad"
STUDENT_MAT = DATASETS / "uci_student_performance" / "student-mat.csv"
HIGH, MEDIUM = 0.6, 0.35
# a student-group attribute named in a sentence, as a whole word ("Average" does not count as "age")
GROUP_WORDS = re.compile(r"\b(gender|sex|age|age band|disability|disabled|deprivation|imd|region)\b", re.I)


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the committed registry."""
    if not (COMMITTED_MODELS / "model_metadata.json").is_file():
        pytest.fail(f"no trained model in {COMMITTED_MODELS}: run `python3 src/models/train_models.py`")
    dest = tmp_path_factory.mktemp("registry") / "models"
    shutil.copytree(COMMITTED_MODELS, dest)
    return dest


@pytest.fixture(scope="module")
def settings(models_dir: Path) -> Settings:
    return Settings(
        _env_file=None, models_dir=models_dir, high_risk_threshold=HIGH, medium_risk_threshold=MEDIUM
    )


@pytest.fixture(scope="module")
def model(models_dir: Path) -> ModelVersion:
    return ModelRegistry(models_dir).load()


@pytest.fixture(scope="module")
def canvas_data() -> CanonicalData:
    return read_any(EXAMPLES / "canvas_gradebook_export.csv", as_of_day=60)


@pytest.fixture(scope="module")
def canvas(canvas_data: CanonicalData, model: ModelVersion, settings: Settings) -> ScoredBatch:
    return score_data(canvas_data, model=model, settings=settings, as_of_day=60)


@pytest.fixture(scope="module")
def oulad_2014j() -> CanonicalData:
    return read_oulad(OULAD, presentations=["2014J"])


@pytest.fixture(scope="module")
def oulad(oulad_2014j: CanonicalData, model: ModelVersion, settings: Settings) -> ScoredBatch:
    return score_data(oulad_2014j, model=model, settings=settings, as_of_day=60)


@pytest.fixture(scope="module")
def k12_first_rows() -> bytes:
    """The first 10 students of ``student-mat.csv``, semicolon-separated like the published file."""
    raw = pd.read_csv(STUDENT_MAT, sep=";").head(10)
    return raw.to_csv(index=False, sep=";").encode("utf-8")


def _levels(prob: np.ndarray) -> np.ndarray:
    return np.where(prob >= HIGH, "high", np.where(prob >= MEDIUM, "medium", "low"))


def _assert_levels_follow_thresholds(p: pd.DataFrame) -> None:
    """Levels match the 0.6/0.35 cut-offs; the shown probability is rounded to 4 places, so a value
    within half a unit of the last place of a cut-off may fall on either side (see the xfail below)."""
    prob = p["risk_probability"].to_numpy(dtype=float)
    assert np.all((prob >= 0.0) & (prob <= 1.0))
    assert np.array_equal(prob, np.round(prob, 4))
    levels = p["risk_level"].to_numpy()
    exact = levels == _levels(prob)
    tie = (levels == _levels(prob - 5e-5)) | (levels == _levels(prob + 5e-5))
    assert np.all(exact | tie), p.loc[~(exact | tie), ["risk_probability", "risk_level"]]
    assert np.all(exact | np.isin(prob, [HIGH, MEDIUM]))


def _assert_factors_readable(p: pd.DataFrame, *, digits: bool) -> None:
    """At most 3 risk/protective factors a row, none about a student group; with ``digits``, every risk
    factor's sentence carries a number (qualitative OULAD/K-12 inputs such as prior education do not)."""
    for factors in p["risk_factors"]:
        assert len(factors) <= 3
        for f in factors:
            assert f["feature"] not in GROUP_ATTRIBUTES
            if digits:
                assert re.search(r"\d", f["sentence"]), f["sentence"]
            assert not GROUP_WORDS.search(f["sentence"]), f["sentence"]
            assert f["contribution"] > 0
    for factors in p["protective_factors"]:
        assert len(factors) <= 3
        for f in factors:
            assert f["feature"] not in GROUP_ATTRIBUTES
            assert not GROUP_WORDS.search(f["sentence"]), f["sentence"]
    # somebody in the class has a reason at all
    assert sum(len(f) for f in p["risk_factors"]) > 0


def test_settings_default_thresholds_are_the_documented_ones() -> None:
    assert Settings.model_fields["high_risk_threshold"].default == HIGH
    assert Settings.model_fields["medium_risk_threshold"].default == MEDIUM


# --- Canvas gradebook ------------------------------------------------------------------------------


def test_canvas_uses_gradebook_variant(canvas: ScoredBatch, model: ModelVersion) -> None:
    assert canvas.variant == "gradebook"
    assert canvas.model_version == model.version
    assert canvas.as_of_day == 60
    assert canvas.features_used == model.variant("gradebook").features
    assert canvas.inputs_unused == []
    p = canvas.predictions
    assert len(p) == 30
    assert p["student_id"].is_unique
    assert p["student_id"].iloc[0] == "322757"  # "Adeyemi, Emre", the first row of the export
    assert set(p["as_of_day"]) == {60}
    assert set(p["model_variant"]) == {"gradebook"}
    assert set(p["model_version"]) == {model.version}
    assert set(p["section"]) == {"Section 1", "Section 2"}
    assert {"risk_probability", "risk_level", "risk_in_words", "top_factors", "recommendations"} <= set(
        p.columns
    )


def test_canvas_risk_levels_follow_thresholds(canvas: ScoredBatch) -> None:
    _assert_levels_follow_thresholds(canvas.predictions)
    # the example class is mixed: each level occurs
    assert set(canvas.predictions["risk_level"]) == {"high", "medium", "low"}


def test_canvas_factors_are_plain_sentences_with_numbers(canvas: ScoredBatch) -> None:
    p = canvas.predictions
    _assert_factors_readable(p, digits=True)
    for factors, text in zip(p["risk_factors"], p["top_factors"], strict=True):
        assert text == "; ".join(f["sentence"] for f in factors)


def test_canvas_contributions_add_up_to_the_margin_and_calibrate(
    canvas: ScoredBatch, canvas_data: CanonicalData, model: ModelVersion
) -> None:
    variant = model.variant("gradebook")
    feats = build_features(canvas_data, as_of_day=60)
    assert feats["student_id"].astype(str).tolist() == canvas.predictions["student_id"].tolist()
    x = model_matrix(feats, variant.features).iloc[:5]
    contrib = np.asarray(variant.binary.predict(x, pred_contrib=True), dtype=float)
    raw = np.asarray(variant.binary.predict(x, raw_score=True), dtype=float)
    assert contrib.shape == (5, len(variant.features) + 1)  # one column per feature, then the bias
    np.testing.assert_allclose(contrib[:, :-1].sum(axis=1) + contrib[:, -1], raw, atol=1e-9)
    calibrated = np.round(variant.calibration.apply(raw), 4)
    np.testing.assert_array_equal(calibrated, canvas.predictions["risk_probability"].to_numpy()[:5])
    # the listed risk factors carry the row's own TreeSHAP contributions
    for i in range(5):
        by_name = dict(zip(variant.features, contrib[i, :-1], strict=True))
        for f in canvas.predictions["risk_factors"].iloc[i]:
            assert f["contribution"] == pytest.approx(by_name[f["feature"]], abs=5e-5)


def test_recommendations_for_high_risk_only(canvas: ScoredBatch) -> None:
    p = canvas.predictions
    high = p[p["risk_level"] == "high"]
    low = p[p["risk_level"] == "low"]
    assert len(high) > 0 and len(low) > 0
    for recs in high["recommendations"]:
        assert 1 <= len(recs) <= 3
        assert all(r["priority"] in {"high", "medium"} for r in recs)
        assert all(r["title"] and r["reason"] for r in recs)
    for recs in low["recommendations"]:
        assert recs == []


def test_canvas_without_day_is_refused(model: ModelVersion, settings: Settings) -> None:
    data = read_any(EXAMPLES / "canvas_gradebook_export.csv", as_of_day=60)
    data.as_of_day = None
    with pytest.raises(StudentSuccessError, match="as-of day is required"):
        score_data(data, model=model, settings=settings)


# --- OULAD -----------------------------------------------------------------------------------------


def _expected_2014j_enrolments_on_day_60() -> int:
    reg = pd.read_csv(OULAD / "studentRegistration.csv", dtype=str, keep_default_na=False)
    reg = reg[reg["code_presentation"] == "2014J"]
    unreg = pd.to_numeric(reg["date_unregistration"].replace("", np.nan), errors="raise")
    regd = pd.to_numeric(reg["date_registration"].replace("", np.nan), errors="raise")
    keep = (unreg.isna() | (unreg > 60)) & (regd.isna() | (regd <= 60))
    return int(keep.sum())


def test_oulad_2014j_day_60_uses_full_variant(oulad: ScoredBatch, model: ModelVersion) -> None:
    assert oulad.variant == "full"
    assert oulad.as_of_day == 60
    assert oulad.features_used == model.variant("full").features
    assert not set(oulad.features_used) & set(GROUP_ATTRIBUTES)
    p = oulad.predictions
    expected = _expected_2014j_enrolments_on_day_60()
    assert expected == 8816  # the published data set: 11,260 enrolments in 2014J, 8,816 still there on day 60
    assert len(p) == expected
    assert {"code_module", "code_presentation"} <= set(p.columns)
    assert set(p["code_presentation"]) == {"2014J"}
    assert set(p["code_module"]) == {"AAA", "BBB", "CCC", "DDD", "EEE", "FFF", "GGG"}
    assert not p.duplicated(["code_module", "student_id"]).any()
    assert (p["course_id"] == p["code_module"] + "-2014J").all()
    assert set(p["as_of_day"]) == {60}
    _assert_levels_follow_thresholds(p)


def test_oulad_factors_never_name_group_attributes(oulad: ScoredBatch) -> None:
    _assert_factors_readable(oulad.predictions, digits=False)


# --- generic summary CSV ---------------------------------------------------------------------------


def test_generic_summary_csv_uses_summary_variant(model: ModelVersion, settings: Settings) -> None:
    data = read_any(EXAMPLES / "generic_students.csv")
    assert data.summary is not None
    batch = score_data(data, model=model, settings=settings)
    assert batch.variant == "summary"
    assert batch.inputs_unused == ["early_total_clicks"]
    assert batch.features_used == ["early_avg_score", "studied_credits", "num_of_prev_attempts"]
    p = batch.predictions
    assert len(p) == len(pd.read_csv(EXAMPLES / "generic_students.csv")) == 25
    assert p["student_id"].iloc[0] == "123587"
    assert set(p["model_variant"]) == {"summary"}
    _assert_levels_follow_thresholds(p)
    # a higher average score never raises the risk, all else equal
    probe = pd.DataFrame(
        {"student_id": ["a", "b"], "early_avg_score": [40.0, 95.0], "studied_credits": [60, 60]}
    )
    data2 = read_any(probe.to_csv(index=False).encode(), filename="probe.csv")
    p2 = score_data(data2, model=model, settings=settings, explain=False).predictions
    assert p2["risk_probability"].iloc[0] > p2["risk_probability"].iloc[1]


# --- K-12 -------------------------------------------------------------------------------------------


def test_k12_first_rows_use_k12_variant(
    k12_first_rows: bytes, model: ModelVersion, settings: Settings
) -> None:
    data = read_k12_csv(k12_first_rows, filename="student-mat.csv")
    assert choose_variant(data, model) == "k12"
    batch = score_data(data, model=model, settings=settings)
    assert batch.variant == "k12"
    assert batch.inputs_unused == []
    assert "G1" in batch.features_used and "subject" in batch.features_used
    p = batch.predictions
    assert len(p) == 10
    assert p["student_id"].tolist() == [f"row-{line}" for line in range(2, 12)]
    assert set(p["model_variant"]) == {"k12"}
    _assert_levels_follow_thresholds(p)
    _assert_factors_readable(p, digits=False)
    # a first-period grade is a number: its sentence says which
    for factors in p["risk_factors"]:
        for f in factors:
            if f["feature"] in {"G1", "absences", "failures"}:
                assert re.search(r"\d", f["sentence"]), f["sentence"]


def test_k12_without_subject_is_scored_with_the_subject_unknown(
    k12_first_rows: bytes, model: ModelVersion, settings: Settings
) -> None:
    data = read_k12_csv(k12_first_rows, filename="my_class.csv")
    assert data.k12 is not None and "subject" not in data.k12.columns
    batch = score_data(data, model=model, settings=settings)
    assert batch.variant == "k12"
    assert len(batch.predictions) == 10
    assert "subject" not in batch.features_used
    assert {"G1", "absences", "failures"} <= set(batch.features_used)
    named = score_data(
        read_k12_csv(k12_first_rows, filename="student-mat.csv"), model=model, settings=settings
    )
    assert "subject" in named.features_used


def test_k12_needs_a_model_with_k12_variant(k12_first_rows: bytes, model: ModelVersion) -> None:
    data = read_k12_csv(k12_first_rows, filename="student-mat.csv")
    without = ModelVersion(
        version=model.version,
        path=model.path,
        manifest=model.manifest,
        variants={k: v for k, v in model.variants.items() if k != "k12"},
    )
    with pytest.raises(ModelError, match="no k12 variant"):
        choose_variant(data, without)


def test_choose_variant_falls_back_to_gradebook(canvas_data: CanonicalData, model: ModelVersion) -> None:
    assert choose_variant(canvas_data, model) == "gradebook"
    only_full = ModelVersion(model.version, model.path, model.manifest, {"full": model.variant("full")})
    with pytest.raises(ModelError, match="no variant of model"):
        choose_variant(canvas_data, only_full)


def test_key_columns_are_course_and_student() -> None:
    assert KEY == ["course_id", "student_id"]


def test_shown_probability_and_level_agree_at_the_cut_off(
    canvas_data: CanonicalData, model: ModelVersion, settings: Settings
) -> None:
    variant = model.variant("gradebook")
    just_below = 0.349996  # rounds to 0.35
    # a calibration that ignores the margin: every student gets exactly `just_below`
    flat = replace(variant, calibration=Calibration(a=0.0, b=float(np.log(just_below / (1 - just_below)))))
    feats = build_features(canvas_data, as_of_day=60)
    out = score_frame(feats, flat, settings=settings, explain=False)
    assert set(out["risk_probability"]) == {0.35}
    assert set(out["risk_level"]) == {"medium"}


@pytest.mark.parametrize("which", ["canvas", "oulad"])
def test_reasons_never_contradict_the_class_comparison(
    which: str, request: pytest.FixtureRequest, canvas_data: CanonicalData, oulad_2014j: CanonicalData
) -> None:
    """Better than the class median is never a listed risk; worse than it is never listed as helping."""
    batch: ScoredBatch = request.getfixturevalue(which)
    data = canvas_data if which == "canvas" else oulad_2014j
    feats = build_features(data, as_of_day=int(batch.as_of_day or 0))
    directed = [f for f in FEATURE_DIRECTION if f in feats.columns]
    medians = feats.groupby("course_id")[directed].transform("median")
    p = batch.predictions
    assert p["student_id"].tolist() == feats["student_id"].tolist()
    checked = 0
    for i in range(len(p)):
        for kind, factors in (
            ("risk", p["risk_factors"].iloc[i]),
            ("protective", p["protective_factors"].iloc[i]),
        ):
            for f in factors:
                name = f["feature"]
                if (
                    name not in FEATURE_DIRECTION
                    or pd.isna(feats[name].iloc[i])
                    or pd.isna(medians[name].iloc[i])
                ):
                    continue
                gap = (feats[name].iloc[i] - medians[name].iloc[i]) * FEATURE_DIRECTION[name]
                checked += 1
                if kind == "risk":
                    assert gap <= 0, (p["student_id"].iloc[i], f["sentence"])
                else:
                    assert gap >= 0, (p["student_id"].iloc[i], f["sentence"])
    assert checked > (50 if which == "canvas" else 20_000)
