"""``/status``: the checks of ``GET /health`` as a page a person can read."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from student_success import __version__
from student_success.api.deps import EngineDep, SettingsDep
from student_success.api.routes.health import _data_folder as data_folder
from student_success.api.routes.health import check_database, check_disk, check_model
from student_success.web.common import render

router = APIRouter()


def _gigabytes(n_bytes: float) -> str:
    return f"{n_bytes / 1024**3:,.1f} GB"


def _database_row(check: dict[str, Any]) -> dict[str, Any]:
    backend = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}.get(check["backend"], check["backend"])
    if check["ok"]:
        detail = f"{backend} answered a test query in {check['latency_ms']:g} ms."
    else:
        detail = f"{backend} cannot be reached: {check['error']}"
    return {"name": "Database", "ok": check["ok"], "detail": detail}


def _model_row(check: dict[str, Any]) -> dict[str, Any]:
    if check["ok"]:
        variants = ", ".join(check["variants"])
        detail = f"Model {check['version']} loads and its files are intact (variants: {variants})."
    else:
        detail = f"The active model does not load: {check['error']}"
    return {"name": "Active model", "ok": check["ok"], "detail": detail}


def _disk_row(check: dict[str, Any]) -> dict[str, Any]:
    if "error" in check:
        detail = f"The free space of {check['path']} cannot be read: {check['error']}"
    else:
        free, used = _gigabytes(check["free_bytes"]), check["used_percent"]
        detail = f"{free} free where the data lives ({used:g} % used)."
        if check["ok"] and check.get("warning"):
            detail += " The disk is nearly full: make room soon."
        elif not check["ok"]:
            detail += " The disk is too full to keep working safely."
    return {"name": "Disk space", "ok": check["ok"], "detail": detail}


@router.get("/status", response_class=HTMLResponse)
def status_page(request: Request, engine: EngineDep, settings: SettingsDep) -> Response:
    """Database, active model and disk, each said in words, with the app's version."""
    database = check_database(engine)
    model = check_model(settings)
    rows = [_database_row(database), _model_row(model), _disk_row(check_disk(data_folder(engine)))]
    return render(
        request,
        "status.html",
        {
            "title": "System status",
            "rows": rows,
            "failing": [row["name"] for row in rows if not row["ok"]],
            "app_version": __version__,
            "active_version": model.get("version"),
        },
    )
