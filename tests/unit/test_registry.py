"""Model registry (``student_success.ml.registry``) on a tiny registry built in ``tmp_path``.

The boosters are trained on a few hundred synthetic rows, so every test runs in well under a second.
Nothing here reads or writes ``results/models/``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from student_success.errors import ModelError, ModelIntegrityError, NotFound
from student_success.ml.registry import (
    HISTORY_FILE,
    MANIFEST_FILE,
    METADATA_FILE,
    Calibration,
    ModelRegistry,
    VariantModel,
    sha256_file,
)

FEATURES = ["score_mean", "missing_count", "as_of_day"]
CLASSES = ["Distinction", "Pass", "Fail", "Withdrawn"]
PARAMS = {"verbose": -1, "seed": 7, "deterministic": True, "num_threads": 1, "min_data_in_leaf": 5}
V1, V2 = "v20260101-000000", "v20260102-000000"
GUIDE_SUMMARY = {
    "training_date": "2026-01-01T00:00:00+00:00",
    "binary_accuracy": 0.7555,
    "multi_f1_score": 0.4367,
    "feature_count": 3,
}


def _data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(300, len(FEATURES)))
    y = (x[:, 0] - x[:, 1] + rng.normal(scale=0.5, size=300) > 0).astype(int)
    return x, y


def make_variant(seed: int = 0, *, name: str = "gradebook", multiclass: bool = True) -> VariantModel:
    """A real (tiny) LightGBM variant: 10 binary rounds, optionally a 4-class model."""
    x, y = _data(seed)
    binary = lgb.train({**PARAMS, "objective": "binary"}, lgb.Dataset(x, label=y, feature_name=FEATURES), 10)
    multi = None
    if multiclass:
        y4 = np.clip((x[:, 0] * 1.5 + 1.5).astype(int), 0, 3)
        multi = lgb.train(
            {**PARAMS, "objective": "multiclass", "num_class": 4},
            lgb.Dataset(x, label=y4, feature_name=FEATURES),
            5,
        )
    return VariantModel(
        name=name,
        features=list(FEATURES),
        binary=binary,
        calibration=Calibration(a=0.9, b=-0.1),
        threshold=0.42,
        multiclass=multi,
        classes=list(CLASSES) if multiclass else [],
        metrics={"days": {"90": {"roc_auc": 0.8}}},
        extra={"description": "synthetic"},
    )


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    """A registry with two saved versions (v1: gradebook+summary, v2: gradebook); none active."""
    reg = ModelRegistry(tmp_path / "models")
    reg.save(
        [make_variant(0), make_variant(1, name="summary", multiclass=False)],
        version=V1,
        summary=GUIDE_SUMMARY,
        report={"version": V1},
    )
    reg.save([make_variant(2)], version=V2, summary={**GUIDE_SUMMARY, "binary_accuracy": 0.8})
    return reg


def test_save_writes_text_models_and_manifest_with_hashes(registry: ModelRegistry) -> None:
    folder = registry.root / V1
    assert sorted(p.name for p in folder.iterdir()) == [
        "evaluation.json",
        "gradebook_binary.txt",
        "gradebook_multiclass.txt",
        MANIFEST_FILE,
        "summary_binary.txt",
    ]
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    assert manifest["version"] == V1
    assert manifest["binary_accuracy"] == 0.7555
    entry = manifest["variants"]["gradebook"]
    assert entry["features"] == FEATURES
    assert entry["calibration"] == {"method": "platt", "a": 0.9, "b": -0.1}
    assert entry["threshold"] == 0.42
    assert entry["classes"] == CLASSES
    assert entry["description"] == "synthetic"
    assert entry["files"]["binary"] == {
        "file": "gradebook_binary.txt",
        "sha256": sha256_file(folder / "gradebook_binary.txt"),
    }
    assert set(manifest["variants"]["summary"]["files"]) == {"binary"}
    # no model is active until one is activated
    assert registry.active_version_id() is None
    assert not (registry.root / METADATA_FILE).exists()


def test_save_refuses_to_overwrite_a_version(registry: ModelRegistry) -> None:
    with pytest.raises(ModelError, match="already exists"):
        registry.save([make_variant(3)], version=V1, summary={})


def test_activate_writes_metadata_with_guide_keys(registry: ModelRegistry) -> None:
    metadata = registry.activate(V1)
    on_disk = json.loads((registry.root / METADATA_FILE).read_text())
    assert on_disk == metadata
    assert on_disk["active_version"] == V1
    assert on_disk["version"] == V1
    for key, value in GUIDE_SUMMARY.items():
        assert on_disk[key] == value
    meta = {"features": FEATURES, "metrics": {"days": {"90": {"roc_auc": 0.8}}}, "feature_count": 3}
    assert on_disk["variants"] == {"gradebook": meta, "summary": meta}
    assert registry.active_version_id() == V1
    # the first activation has no predecessor
    assert json.loads((registry.root / HISTORY_FILE).read_text()) == []
    assert not (registry.root / (METADATA_FILE + ".tmp")).exists()


def test_activate_unknown_version_is_not_found(registry: ModelRegistry) -> None:
    with pytest.raises(NotFound, match="'nope' not found"):
        registry.activate("nope")
    assert registry.active_version_id() is None


def test_load_round_trips_predictions(registry: ModelRegistry) -> None:
    original = make_variant(0)
    registry.activate(V1)
    loaded = registry.load()
    assert loaded.version == V1
    assert loaded.path == registry.root / V1
    assert sorted(loaded.variants) == ["gradebook", "summary"]
    variant = loaded.variant("gradebook")
    assert variant.features == FEATURES
    assert variant.calibration == Calibration(a=0.9, b=-0.1)
    assert variant.threshold == 0.42
    assert variant.classes == CLASSES
    assert variant.extra == {"description": "synthetic"}
    assert variant.multiclass is not None
    assert loaded.variant("summary").multiclass is None
    x, _ = _data(99)
    np.testing.assert_allclose(variant.binary.predict(x), original.binary.predict(x), rtol=1e-12)
    assert original.multiclass is not None
    np.testing.assert_allclose(variant.multiclass.predict(x), original.multiclass.predict(x), rtol=1e-12)
    with pytest.raises(NotFound, match="no variant 'k12'"):
        loaded.variant("k12")


def test_load_without_active_model_is_a_model_error(registry: ModelRegistry) -> None:
    with pytest.raises(ModelError, match="no active model"):
        registry.load()
    # an explicit version loads without activation
    assert registry.load(V2).version == V2


@pytest.mark.parametrize(
    "filename", ["gradebook_binary.txt", "gradebook_multiclass.txt", "summary_binary.txt"]
)
def test_load_detects_one_changed_byte(registry: ModelRegistry, filename: str) -> None:
    registry.activate(V1)
    path = registry.root / V1 / filename
    raw = bytearray(path.read_bytes())
    middle = len(raw) // 2
    raw[middle] = ord("7") if raw[middle] != ord("7") else ord("8")
    path.write_bytes(bytes(raw))
    with pytest.raises(ModelIntegrityError, match="the file was changed after training"):
        registry.load()
    # activating a tampered version is refused too, and the active version is unchanged
    registry.activate(V2)
    with pytest.raises(ModelIntegrityError):
        registry.activate(V1)
    assert registry.active_version_id() == V2


def test_load_detects_a_missing_model_file(registry: ModelRegistry) -> None:
    (registry.root / V2 / "gradebook_multiclass.txt").unlink()
    with pytest.raises(ModelIntegrityError, match="is missing"):
        registry.load(V2)


def test_activate_v2_then_rollback_reactivates_v1(registry: ModelRegistry) -> None:
    registry.activate(V1)
    registry.activate(V2)
    assert registry.active_version_id() == V2
    assert json.loads((registry.root / HISTORY_FILE).read_text()) == [V1]
    assert registry.rollback() == V1
    assert registry.active_version_id() == V1
    metadata = json.loads((registry.root / METADATA_FILE).read_text())
    assert metadata["active_version"] == V1
    assert metadata["binary_accuracy"] == 0.7555
    # the rollback consumed the history: there is nothing further back
    assert json.loads((registry.root / HISTORY_FILE).read_text()) == []
    with pytest.raises(NotFound, match="no earlier model version"):
        registry.rollback()
    assert registry.active_version_id() == V1


def test_rollback_without_history_is_not_found(registry: ModelRegistry) -> None:
    with pytest.raises(NotFound, match="no earlier model version to roll back to"):
        registry.rollback()
    registry.activate(V1)
    with pytest.raises(NotFound):
        registry.rollback()
    # re-activating the active version does not create history either
    registry.activate(V1)
    with pytest.raises(NotFound):
        registry.rollback()


def test_rollback_skips_versions_that_were_deleted(registry: ModelRegistry) -> None:
    registry.save([make_variant(4)], version="v20260103-000000", summary={})
    registry.activate(V1)
    registry.activate(V2)
    registry.activate("v20260103-000000")
    (registry.root / V2 / MANIFEST_FILE).unlink()
    assert registry.rollback() == V1


def test_backup_active_copies_metadata_and_version(registry: ModelRegistry) -> None:
    assert registry.backup_active(today=datetime(2026, 1, 2, tzinfo=UTC)) is None  # nothing active yet
    assert not list(registry.root.glob("backup_*"))
    registry.activate(V1)
    dest = registry.backup_active(today=datetime(2026, 1, 2, tzinfo=UTC))
    assert dest == registry.root / "backup_20260102"
    assert sorted(p.name for p in dest.iterdir()) == [METADATA_FILE, V1]
    assert (dest / METADATA_FILE).read_bytes() == (registry.root / METADATA_FILE).read_bytes()
    copied = sorted(p.name for p in (dest / V1).iterdir())
    assert copied == sorted(p.name for p in (registry.root / V1).iterdir())
    for name in copied:
        assert (dest / V1 / name).read_bytes() == (registry.root / V1 / name).read_bytes()
    # the backup is a complete registry that loads and verifies on its own
    assert ModelRegistry(dest).load().version == V1
    # a second backup the same day replaces the first; backups are not listed as versions
    registry.activate(V2)
    again = registry.backup_active(today=datetime(2026, 1, 2, tzinfo=UTC))
    assert again == dest
    assert json.loads((dest / METADATA_FILE).read_text())["active_version"] == V2
    assert (dest / V2 / MANIFEST_FILE).is_file()
    assert [v["version"] for v in registry.versions()] == [V1, V2]


def test_versions_lists_both_with_active_flag(registry: ModelRegistry) -> None:
    assert registry.versions() == [
        {"version": V1, "training_date": GUIDE_SUMMARY["training_date"], "variants": ["gradebook", "summary"],
         "active": False},
        {"version": V2, "training_date": GUIDE_SUMMARY["training_date"], "variants": ["gradebook"],
         "active": False},
    ]  # fmt: skip
    registry.activate(V2)
    assert [(v["version"], v["active"]) for v in registry.versions()] == [(V1, False), (V2, True)]
    registry.activate(V1)
    assert [(v["version"], v["active"]) for v in registry.versions()] == [(V1, True), (V2, False)]


def test_no_pickle_anywhere(registry: ModelRegistry) -> None:
    registry.activate(V1)
    registry.activate(V2)
    registry.backup_active(today=datetime(2026, 1, 2, tzinfo=UTC))
    registry.rollback()
    files = [p for p in registry.root.rglob("*") if p.is_file()]
    assert len(files) > 10
    assert [p for p in files if ".pkl" in p.name or ".pickle" in p.name or ".joblib" in p.name] == []
    assert {p.suffix for p in files} == {".json", ".txt"}
    for path in files:
        # a pickle stream starts with the PROTO opcode 0x80; text models and JSON never do
        assert not path.read_bytes().startswith(b"\x80")


def test_calibration_json_round_trip_and_unknown_method() -> None:
    cal = Calibration(a=2.0, b=-1.0)
    assert Calibration.from_json(cal.to_json()) == cal
    np.testing.assert_allclose(cal.apply(np.array([0.5, 0.0])), [0.5, 1 / (1 + np.exp(1.0))])
    with pytest.raises(ModelError, match="unknown calibration method 'isotonic'"):
        Calibration.from_json({"method": "isotonic"})
