"""The active model, its variants and how good each measured."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter

from student_success.api.deps import SettingsDep
from student_success.api.schemas import ModelsPublic
from student_success.errors import StudentSuccessError
from student_success.ml.registry import METADATA_FILE, ModelRegistry
from student_success.ml.service import load_active_model

router = APIRouter(tags=["models"])


@router.get("/models", response_model=ModelsPublic)
def list_models(settings: SettingsDep) -> dict[str, Any]:
    """The active model version, its variants with their measured metrics, and every stored version."""
    registry = ModelRegistry(settings.models_dir)
    path = settings.models_dir / METADATA_FILE
    metadata = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    try:
        model = load_active_model(settings)
    except StudentSuccessError:
        model = None
    variants = [] if model is None else [
        {"name": v.name, "feature_count": len(v.features), "features": v.features, "metrics": v.metrics}
        for v in model.variants.values()
    ]  # fmt: skip
    return {
        "active_version": None if model is None else model.version,
        "metadata": metadata,
        "variants": variants,
        "versions": registry.versions() if settings.models_dir.is_dir() else [],
    }
