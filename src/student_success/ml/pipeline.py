"""Train, evaluate and register: the work behind ``student-success train`` and ``evaluate``.

Honest validation: the OULAD variants train on the chosen presentations (default 2013B, 2013J,
2014B) and are measured on the presentations left out (2014J) at each checkpoint day, among the
students still registered that day. The K-12 variant is measured by grouped 5-fold cross-validation.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from student_success import __version__
from student_success.errors import ValidationFailed
from student_success.ingest.canonical import OUTCOMES, CanonicalData
from student_success.ingest.k12 import load_uci_dataset
from student_success.ingest.oulad import read_oulad
from student_success.ml.fairness import fairness_groups, group_report
from student_success.ml.k12 import K12_MODEL_FEATURES, train_k12
from student_success.ml.metrics import (
    binary_metrics,
    calibration_table,
    expected_calibration_error,
    multiclass_metrics,
)
from student_success.ml.registry import Calibration, ModelRegistry, ModelVersion, VariantModel, new_version_id
from student_success.ml.scoring import available_inputs
from student_success.ml.snapshots import DEFAULT_SNAPSHOT_DAYS, build_snapshots
from student_success.ml.training import VARIANT_SPECS, model_matrix, train_variant

DEFAULT_TRAIN_PRESENTATIONS: tuple[str, ...] = ("2013B", "2013J", "2014B")
DEFAULT_EVAL_DAYS: tuple[int, ...] = (30, 60, 90, 120)
# ROC-AUC of the quick reference models built with the same protocol (the bar to beat by 0.02)
REFERENCE_AUC: dict[str, dict[str, float]] = {
    "full": {"30": 0.731, "60": 0.791, "90": 0.814, "120": 0.857},
    "gradebook": {"30": 0.680, "60": 0.759, "90": 0.788, "120": 0.847},
}
FAIRNESS_DAYS: tuple[int, ...] = (30, 90)
Progress = Callable[[str], None]


def _noop(_: str) -> None:
    return None


def data_fingerprint(folder: Path) -> dict[str, str]:
    """SHA-256 of each CSV that training read, so a model can be traced to its data."""
    out = {}
    for path in sorted(Path(folder).glob("*.csv")) + sorted(Path(folder).glob("derived/*.csv")):
        out[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def trainable_variants(data: CanonicalData) -> list[str]:
    """The OULAD variants whose inputs the training data provides (always gradebook and summary)."""
    have = available_inputs(data) | {"summary"}
    return [name for name, spec in VARIANT_SPECS.items() if spec.requires <= have]


def evaluate_variant(
    variant: VariantModel,
    data: CanonicalData,
    *,
    days: Sequence[int],
    fairness_days: Sequence[int] = FAIRNESS_DAYS,
) -> dict[str, Any]:
    """Metrics of one variant on held-out data at each day (students still registered that day)."""
    snaps = build_snapshots(data, days=days)
    groups_src = data.enrollments[["course_id", "student_id", "gender", "age_band", "disability", "imd_band"]]
    per_day: dict[str, Any] = {}
    fairness: dict[str, Any] = {}
    calibration: list[dict[str, Any]] = []
    ece = None
    for day in days:
        df = snaps[snaps["as_of_day"] == day].reset_index(drop=True)
        x = model_matrix(df, variant.features)
        margin = np.asarray(variant.binary.predict(x, raw_score=True), dtype=float)
        p = variant.calibration.apply(margin)
        y = df["at_risk"].to_numpy()
        m = binary_metrics(y, p, threshold=variant.threshold)
        if variant.multiclass is not None:
            proba = np.asarray(variant.multiclass.predict(x), dtype=float)
            labels = df["final_result"].astype(str).to_numpy()
            m["multiclass_macro_f1"] = multiclass_metrics(labels, proba, list(OUTCOMES))["macro_f1"]
        per_day[str(day)] = m
        if day in fairness_days:
            g = df[["course_id", "student_id"]].merge(groups_src, how="left")
            fairness[str(day)] = group_report(y, p, fairness_groups(g), threshold=variant.threshold)
        if day == days[len(days) // 2]:
            calibration = calibration_table(y, p)
            ece = expected_calibration_error(y, p)
    return {
        "features": variant.features,
        "threshold": variant.threshold,
        "days": per_day,
        "reference_auc": REFERENCE_AUC.get(variant.name),
        "calibration": calibration,
        "calibration_day": str(days[len(days) // 2]),
        "ece": ece,
        "fairness": fairness,
        "description": VARIANT_SPECS[variant.name].description if variant.name in VARIANT_SPECS else "",
    }


def train_oulad(
    data_dir: Path,
    *,
    presentations: Sequence[str] = DEFAULT_TRAIN_PRESENTATIONS,
    snapshot_days: Sequence[int] = DEFAULT_SNAPSHOT_DAYS,
    eval_days: Sequence[int] = DEFAULT_EVAL_DAYS,
    progress: Progress = _noop,
) -> tuple[list[VariantModel], dict[str, Any]]:
    """Train every OULAD variant the data supports and evaluate each on the held-out presentations.

    Returns:
        The trained variants (with their held-out metrics attached) and the evaluation report.
    """
    data_dir = Path(data_dir)
    progress("reading OULAD tables")
    everything = read_oulad(data_dir)
    known = sorted(everything.courses["code_presentation"].dropna().unique())
    unknown = sorted(set(presentations) - set(known))
    if unknown:
        raise ValidationFailed.single(
            f"presentation(s) {', '.join(unknown)} not in the data (found {', '.join(known)})",
            file=str(data_dir / "courses.csv"),
        )
    test_presentations = [p for p in known if p not in presentations]
    train_data = read_oulad(data_dir, presentations=list(presentations))
    test_data = read_oulad(data_dir, presentations=test_presentations) if test_presentations else None
    progress(f"building snapshots at {len(snapshot_days)} days")
    snaps = build_snapshots(train_data, days=snapshot_days)
    variants: list[VariantModel] = []
    report_variants: dict[str, Any] = {}
    fairness: dict[str, Any] = {}
    for name in trainable_variants(train_data):
        progress(f"training variant {name}")
        variant = train_variant(snaps, VARIANT_SPECS[name])
        if test_data is not None:
            progress(f"evaluating variant {name} on {', '.join(test_presentations)}")
            result = evaluate_variant(variant, test_data, days=eval_days)
            fairness[name] = result.pop("fairness")
            report_variants[name] = result
            variant.metrics = {"holdout": test_presentations, "days": result["days"], "ece": result["ece"]}
        variants.append(variant)
    report = {
        "data": {
            "train_presentations": list(presentations),
            "test_presentation": ", ".join(test_presentations) or None,
            "n_train_rows": len(snaps),
            "n_train_enrolments": len(train_data.enrollments),
            "snapshot_days": list(snapshot_days),
            "fingerprint": data_fingerprint(data_dir),
        },
        "variants": report_variants,
        "fairness": fairness,
    }
    return variants, report


def train_k12_variant(dataset_dir: Path) -> tuple[VariantModel, dict[str, Any]]:
    """Train the K-12 variant on the UCI student performance data (cross-validated metrics)."""
    df = load_uci_dataset(dataset_dir)
    result = train_k12(df, dataset_dir=dataset_dir)
    variant = VariantModel(
        name="k12",
        features=list(K12_MODEL_FEATURES),
        binary=result.booster,
        calibration=Calibration.from_json(result.calibration),
        threshold=float(result.metrics.get("threshold", 0.5)),
        metrics={"cross_validated": result.metrics},
        extra={
            "description": "K-12 (UCI student performance): predicts a final grade below 10 of 20 "
            "from the first-period grade, absences, past failures and other early columns."
        },
    )
    report = {
        "description": f"Grouped {result.metrics.get('n_splits', 5)}-fold cross-validation on "
        f"{result.metrics.get('n')} students (Mathematics and Portuguese), "
        "out-of-fold calibrated probabilities.",
        "metrics": result.metrics,
        "fairness": result.fairness,
    }
    return variant, report


def summary_metadata(variants: Sequence[VariantModel], *, training_date: str) -> dict[str, Any]:
    """The guide's top-level keys, taken from the richest OULAD variant at day 90 (or K-12)."""
    by_name = {v.name: v for v in variants}
    main = next((by_name[n] for n in ("full_activity", "full", "gradebook", "k12") if n in by_name), None)
    out: dict[str, Any] = {"training_date": training_date, "app_version": __version__}
    if main is None:
        return out
    days = main.metrics.get("days") or {}
    day_metrics = days.get("90") or (
        next(iter(days.values())) if days else main.metrics.get("cross_validated", {})
    )
    out.update(
        {
            "primary_variant": main.name,
            "binary_accuracy": day_metrics.get("accuracy"),
            "binary_roc_auc": day_metrics.get("roc_auc"),
            "multi_f1_score": day_metrics.get("multiclass_macro_f1"),
            "metrics_day": 90 if "90" in days else None,
            "feature_count": len(main.features),
        }
    )
    return out


def register(
    registry: ModelRegistry,
    new_variants: list[VariantModel],
    *,
    report: dict[str, Any],
    command: str,
    keep_others: bool = True,
) -> str:
    """Back up the active version, save a new one (carrying over variants not retrained), activate it."""
    carried: list[VariantModel] = []
    active: ModelVersion | None = None
    if keep_others and registry.active_version_id() is not None:
        active = registry.load()
        retrained = {v.name for v in new_variants}
        carried = [v for name, v in active.variants.items() if name not in retrained]
    registry.backup_active()
    now = datetime.now(UTC)
    version = new_version_id(now)
    variants = [*new_variants, *carried]
    full_report = dict(report)
    if active is not None:
        old_report_path = active.path / "evaluation.json"
        if old_report_path.is_file():
            old = json.loads(old_report_path.read_text())
            for key in ("variants", "fairness"):
                merged = {**old.get(key, {}), **full_report.get(key, {})}
                full_report[key] = {k: v for k, v in merged.items() if k in {x.name for x in variants}}
            full_report.setdefault("k12", old.get("k12"))
            if "data" not in full_report:
                full_report["data"] = old.get("data")
    full_report.update({"version": version, "training_date": now.date().isoformat(), "command": command})
    summary = summary_metadata(variants, training_date=now.isoformat(timespec="seconds"))
    registry.save(variants, version=version, summary=summary, report=full_report)
    registry.activate(version)
    return version


def load_report(registry: ModelRegistry, version: str | None = None) -> dict[str, Any]:
    """The evaluation report stored with a version (default: the active one)."""
    model = registry.load(version)
    path = model.path / "evaluation.json"
    return dict(json.loads(path.read_text())) if path.is_file() else {}


def evaluate_active(
    registry: ModelRegistry,
    data_dir: Path,
    *,
    days: Sequence[int],
    presentations: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Re-measure the active OULAD variants on the presentations they were not trained on."""
    model = registry.load()
    report = load_report(registry)
    trained_on = (report.get("data") or {}).get("train_presentations") or list(DEFAULT_TRAIN_PRESENTATIONS)
    everything = read_oulad(Path(data_dir))
    known = sorted(everything.courses["code_presentation"].dropna().unique())
    test = list(presentations) if presentations else [p for p in known if p not in trained_on]
    if not test:
        raise ValidationFailed.single(
            "no held-out presentation to evaluate on (the model was trained on all)"
        )
    data = read_oulad(Path(data_dir), presentations=test)
    have = available_inputs(data) | {"summary"}
    out: dict[str, Any] = {"model_version": model.version, "test_presentations": test, "variants": {}}
    for name, variant in model.variants.items():
        if name == "k12" or not VARIANT_SPECS[name].requires <= have:
            continue
        result = evaluate_variant(variant, data, days=days, fairness_days=())
        out["variants"][name] = {"days": result["days"], "reference_auc": result["reference_auc"]}
    return out
