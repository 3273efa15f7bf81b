"""Model registry: versions of LightGBM text models with JSON metadata, checked by SHA-256 at load.

Layout under ``results/models/``::

    model_metadata.json          the active version's metadata (the guide reads its top-level keys)
    <version>/manifest.json      one version: variants, features, calibration, metrics, file hashes
    <version>/<variant>_<task>.txt   LightGBM text models
    backup_YYYYMMDD/             copy of the active version and metadata, made before every retrain

No pickle anywhere: a text model and JSON cannot run code when loaded.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from student_success.errors import ModelError, ModelIntegrityError, NotFound

METADATA_FILE = "model_metadata.json"
MANIFEST_FILE = "manifest.json"
HISTORY_FILE = "activation_history.json"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Calibration:
    """Platt scaling of the raw margin: ``p = 1 / (1 + exp(-(a * margin + b)))``."""

    a: float = 1.0
    b: float = 0.0

    def apply(self, margin: np.ndarray) -> np.ndarray:
        """Calibrated probabilities from raw LightGBM margins (log-odds)."""
        return np.asarray(1.0 / (1.0 + np.exp(-(self.a * margin + self.b))), dtype=float)

    def to_json(self) -> dict[str, Any]:
        """JSON form stored in the manifest."""
        return {"method": "platt", "a": self.a, "b": self.b}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Calibration:
        """Inverse of :meth:`to_json`."""
        if data.get("method") != "platt":
            raise ModelError(f"unknown calibration method {data.get('method')!r}")
        return cls(a=float(data["a"]), b=float(data["b"]))


@dataclass
class VariantModel:
    """One model variant (feature profile): a calibrated binary model and optionally a 4-class one."""

    name: str
    features: list[str]
    binary: lgb.Booster
    calibration: Calibration
    threshold: float
    multiclass: lgb.Booster | None = None
    classes: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class ModelVersion:
    """A loaded registry version."""

    version: str
    path: Path
    manifest: dict[str, Any]
    variants: dict[str, VariantModel]

    def variant(self, name: str) -> VariantModel:
        """The named variant, or :class:`NotFound`."""
        try:
            return self.variants[name]
        except KeyError as exc:
            raise NotFound(f"model version {self.version} has no variant {name!r}") from exc


def new_version_id(now: datetime | None = None) -> str:
    """A sortable version id such as ``v20261128-2010``."""
    now = now or datetime.now(UTC)
    return now.strftime("v%Y%m%d-%H%M%S")


class ModelRegistry:
    """Versions of trained models in one folder, one of them active."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # --- writing ---------------------------------------------------------------------------------
    def save(
        self,
        variants: list[VariantModel],
        *,
        version: str,
        summary: dict[str, Any],
        report: dict[str, Any] | None = None,
    ) -> Path:
        """Write a new version folder (text models + manifest with SHA-256 of each file).

        Args:
            variants: the trained variants.
            version: the version id (folder name).
            summary: top-level metadata (the guide's keys: binary_accuracy, multi_f1_score,
                training_date, feature_count) and anything else to show.
            report: the full evaluation report, stored beside the models.

        Returns:
            The version folder.
        """
        folder = self.root / version
        if folder.exists():
            raise ModelError(f"model version {version} already exists in {self.root}")
        folder.mkdir(parents=True)
        entries: dict[str, Any] = {}
        for v in variants:
            files: dict[str, Any] = {}
            for task, booster in (("binary", v.binary), ("multiclass", v.multiclass)):
                if booster is None:
                    continue
                path = folder / f"{v.name}_{task}.txt"
                booster.save_model(str(path))
                files[task] = {"file": path.name, "sha256": sha256_file(path)}
            entries[v.name] = {
                "features": v.features,
                "calibration": v.calibration.to_json(),
                "threshold": v.threshold,
                "classes": v.classes,
                "files": files,
                "metrics": v.metrics,
                **v.extra,
            }
        manifest = {"version": version, **summary, "variants": entries}
        if report is not None:
            (folder / "evaluation.json").write_text(json.dumps(report, indent=2) + "\n")
        (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
        return folder

    def backup_active(self, *, today: datetime | None = None) -> Path | None:
        """Copy the active version and metadata to ``backup_YYYYMMDD/`` (before a retrain)."""
        active = self.active_version_id()
        if active is None:
            return None
        day = (today or datetime.now(UTC)).strftime("%Y%m%d")
        dest = self.root / f"backup_{day}"
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(self.root / METADATA_FILE, dest / METADATA_FILE)
        src = self.root / active
        if (dest / active).exists():
            shutil.rmtree(dest / active)
        shutil.copytree(src, dest / active)
        return dest

    def activate(self, version: str) -> dict[str, Any]:
        """Make ``version`` active: verify its files, then write ``model_metadata.json``."""
        manifest = self._verified_manifest(version)
        previous = self.active_version_id()
        metadata = {key: value for key, value in manifest.items() if key != "variants"}
        metadata["active_version"] = version
        metadata["variants"] = {
            name: {
                "features": v["features"],
                "metrics": v.get("metrics", {}),
                "feature_count": len(v["features"]),
            }
            for name, v in manifest["variants"].items()
        }
        tmp = self.root / (METADATA_FILE + ".tmp")
        tmp.write_text(json.dumps(metadata, indent=2) + "\n")
        tmp.replace(self.root / METADATA_FILE)
        history = self._history()
        if previous is not None and previous != version:
            history.append(previous)
        (self.root / HISTORY_FILE).write_text(json.dumps(history, indent=2) + "\n")
        return metadata

    def rollback(self) -> str:
        """Re-activate the version that was active before the current one."""
        history = self._history()
        current = self.active_version_id()
        while history:
            candidate = history.pop()
            if candidate != current and (self.root / candidate / MANIFEST_FILE).is_file():
                (self.root / HISTORY_FILE).write_text(json.dumps(history, indent=2) + "\n")
                self.activate(candidate)
                # activating pushes the current version onto the history: drop it, a rollback is not a step
                (self.root / HISTORY_FILE).write_text(json.dumps(history, indent=2) + "\n")
                return candidate
        raise NotFound("no earlier model version to roll back to")

    # --- reading ---------------------------------------------------------------------------------
    def versions(self) -> list[dict[str, Any]]:
        """Every stored version, oldest first, with its date and whether it is active."""
        active = self.active_version_id()
        out = []
        for manifest_path in sorted(self.root.glob(f"*/{MANIFEST_FILE}")):
            if manifest_path.parent.name.startswith("backup_"):
                continue
            m = json.loads(manifest_path.read_text())
            out.append(
                {
                    "version": m["version"],
                    "training_date": m.get("training_date"),
                    "variants": sorted(m.get("variants", {})),
                    "active": m["version"] == active,
                }
            )
        return out

    def active_version_id(self) -> str | None:
        """The active version id, or ``None`` when no model was ever activated."""
        path = self.root / METADATA_FILE
        if not path.is_file():
            return None
        value = json.loads(path.read_text()).get("active_version")
        return str(value) if value else None

    def load(self, version: str | None = None) -> ModelVersion:
        """Load a version (default: the active one), checking every file's SHA-256."""
        version = version or self.active_version_id()
        if version is None:
            raise ModelError(f"no active model in {self.root}: run `student-success train` first")
        manifest = self._verified_manifest(version)
        folder = self.root / version
        variants: dict[str, VariantModel] = {}
        for name, entry in manifest["variants"].items():
            files = entry["files"]
            binary = lgb.Booster(model_file=str(folder / files["binary"]["file"]))
            multi = None
            if "multiclass" in files:
                multi = lgb.Booster(model_file=str(folder / files["multiclass"]["file"]))
            extra = {
                k: v
                for k, v in entry.items()
                if k not in {"features", "calibration", "threshold", "classes", "files", "metrics"}
            }
            variants[name] = VariantModel(
                name=name,
                features=list(entry["features"]),
                binary=binary,
                calibration=Calibration.from_json(entry["calibration"]),
                threshold=float(entry["threshold"]),
                multiclass=multi,
                classes=list(entry.get("classes", [])),
                metrics=entry.get("metrics", {}),
                extra=extra,
            )
        return ModelVersion(version=version, path=folder, manifest=manifest, variants=variants)

    def _verified_manifest(self, version: str) -> dict[str, Any]:
        folder = self.root / version
        manifest_path = folder / MANIFEST_FILE
        if not manifest_path.is_file():
            raise NotFound(f"model version {version!r} not found in {self.root}")
        manifest: dict[str, Any] = json.loads(manifest_path.read_text())
        for name, entry in manifest["variants"].items():
            for task, info in entry["files"].items():
                path = folder / info["file"]
                if not path.is_file():
                    raise ModelIntegrityError(f"{path} is missing ({name} {task} model)")
                actual = sha256_file(path)
                if actual != info["sha256"]:
                    raise ModelIntegrityError(
                        f"{path} has SHA-256 {actual[:12]}…, expected {info['sha256'][:12]}…: "
                        "the file was changed after training"
                    )
        return manifest

    def _history(self) -> list[str]:
        path = self.root / HISTORY_FILE
        return list(json.loads(path.read_text())) if path.is_file() else []
