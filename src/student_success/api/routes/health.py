"""``GET /health``: can the service do its job right now?"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text

from student_success import __version__
from student_success.api.deps import EngineDep, SettingsDep
from student_success.api.schemas import HealthPublic
from student_success.config import PROJECT_ROOT, Settings
from student_success.ml.service import load_active_model

router = APIRouter(tags=["health"])
DISK_FAIL_PERCENT = 95.0  # the service stops being able to write well before the disk is full
DISK_WARN_PERCENT = 85.0  # the guide's KPI


def check_database(engine: Engine) -> dict[str, Any]:
    """``SELECT 1`` on the database, with its latency."""
    start = time.perf_counter()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure here means "unhealthy", whatever the driver raised
        return {"ok": False, "backend": engine.dialect.name, "error": str(exc).splitlines()[0][:300]}
    return {
        "ok": True,
        "backend": engine.dialect.name,
        "latency_ms": round((time.perf_counter() - start) * 1000, 1),
    }


def check_model(settings: Settings) -> dict[str, Any]:
    """The active model loads (its files match their SHA-256)."""
    try:
        model = load_active_model(settings)
    except Exception as exc:  # a corrupt or missing model, whatever the cause
        return {"ok": False, "error": str(exc)[:300]}
    return {"ok": True, "version": model.version, "variants": sorted(model.variants)}


def _data_folder(engine: Engine) -> Path:
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database not in (None, "", ":memory:"):
        folder = Path(str(database)).resolve().parent
        while not folder.exists() and folder != folder.parent:  # a missing folder is the database's fault
            folder = folder.parent
        return folder
    return PROJECT_ROOT


def check_disk(folder: Path) -> dict[str, Any]:
    """Free space where the data lives."""
    try:
        usage = shutil.disk_usage(folder)
    except OSError as exc:
        return {"ok": False, "path": str(folder), "error": exc.strerror or str(exc)}
    used = round(100 * usage.used / usage.total, 1) if usage.total else 100.0
    return {
        "ok": used < DISK_FAIL_PERCENT,
        "path": str(folder),
        "used_percent": used,
        "free_bytes": usage.free,
        "warning": used >= DISK_WARN_PERCENT,
    }


@router.get("/health", response_model=HealthPublic, responses={503: {"model": HealthPublic}})
def health(engine: EngineDep, settings: SettingsDep) -> Any:
    """Database, active model and disk: 200 when all work, 503 naming the failing part."""
    checks = {
        "database": check_database(engine),
        "model": check_model(settings),
        "disk": check_disk(_data_folder(engine)),
    }
    failing = [name for name, check in checks.items() if not check["ok"]]
    body: dict[str, Any] = {
        "status": "healthy" if not failing else "unhealthy",
        "checks": checks,
        "version": __version__,
    }
    if failing:
        body["detail"] = f"unhealthy: {', '.join(failing)}"
        return JSONResponse(body, status_code=503)
    return body
