"""Structured logs and Prometheus metrics, through real requests to the app on both databases."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from api.support import EXAMPLE, MODELS_DIR, needs_model, wipe
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from student_success.api import create_app
from student_success.config import Settings
from student_success.ops.logging_setup import configure_logging, redact

KEY = "ops-test-admin-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def ops_settings(db_url: str, engine: Engine, tmp_path: Path) -> Iterator[Settings]:
    wipe(engine)
    settings = Settings(
        database_url=db_url,
        models_dir=MODELS_DIR,
        logs_dir=tmp_path / "logs",
        environment="test",
        mvp_api_key=KEY,  # type: ignore[arg-type]
    )
    configure_logging(settings, console=False)
    yield settings
    for handler in [*logging.getLogger().handlers, *logging.getLogger("student_success.access").handlers]:
        handler.flush()
    wipe(engine)


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_redaction_masks_credentials_in_any_message() -> None:
    assert redact("Authorization: Bearer abc.def-123 from 10.0.0.1") == "[redacted] from 10.0.0.1"
    assert redact("login password=hunter2&remember=1") == "login [redacted]&remember=1"
    assert redact('{"api_key": "k-1", "x": 2}') == '{"[redacted]", "x": 2}'
    assert redact("db postgresql://app:hunter2@db/x up") == "db postgresql://app:[redacted]@db/x up"
    assert redact("sent bearer XYZ12345 and token=t0k") == "sent [redacted] and [redacted]"
    assert redact("GET /api/students 200 OK 3.1 ms") == "GET /api/students 200 OK 3.1 ms"
    database_error = (
        "(psycopg.errors.UniqueViolation) duplicate key\n[SQL: INSERT INTO student (display_name) VALUES "
        "(%(n)s)]\n[parameters: {'n': 'Adeyemi, Emre'}]\n(Background on this error at: https://sqlalche.me/e/20/gkpj)"
    )
    assert redact(database_error) == (
        "(psycopg.errors.UniqueViolation) duplicate key\n[SQL: INSERT INTO student (display_name) VALUES "
        "(%(n)s)]\n[parameters: [redacted]]\n(Background on this error at: https://sqlalche.me/e/20/gkpj)"
    )


@needs_model
def test_every_line_has_a_request_id_and_no_secret_or_name(ops_settings: Settings) -> None:
    logs = ops_settings.logs_dir
    with TestClient(create_app(ops_settings)) as client:
        upload = client.post(
            "/api/uploads",
            files={"file": (EXAMPLE.name, EXAMPLE.read_bytes(), "text/csv")},
            data={"as_of_day": "60"},
            headers={**AUTH, "X-Request-ID": "upload-42"},
        )
        assert upload.status_code in (200, 201), upload.text
        assert upload.headers["x-request-id"] == "upload-42"
        search = client.get("/api/students", params={"q": "Adeyemi"}, headers=AUTH)
        assert search.status_code == 200 and search.json()["count"] == 1
        denied = client.get("/api/students", headers={"Authorization": "Bearer wrong-key-987654"})
        assert denied.status_code == 401
        login = client.post("/login", data={"email": "a@example.org", "password": "hunter2-pass"})
        unsafe = client.get("/health", headers={"X-Request-ID": "bad id <script>"})
        assert re.fullmatch(r"[0-9a-f]{32}", unsafe.headers["x-request-id"])
        logging.getLogger("student_success.probe").warning(
            "connecting with password=%s and Authorization: Bearer %s", "pw-0001", "tok-0002"
        )

    access = _lines(logs / "access.log")
    assert [(a["method"], a["path"], a["status"]) for a in access] == [
        ("POST", "/api/uploads", upload.status_code),
        ("GET", "/api/students", 200),
        ("GET", "/api/students", 401),
        ("POST", "/login", login.status_code),
        ("GET", "/health", 200),
    ]
    assert access[0]["request_id"] == "upload-42"
    assert access[0]["principal"] == ops_settings_label(access)
    assert access[2]["message"].startswith("GET /api/students 401 Unauthorized ")  # type: ignore[union-attr]
    assert access[4]["message"].startswith("GET /health 200 OK ")  # type: ignore[union-attr]
    assert access[4]["request_id"] == unsafe.headers["x-request-id"]
    assert {a["client"] for a in access} == {"testclient"}
    assert all(isinstance(a["duration_ms"], float) for a in access)

    app_lines = _lines(logs / "app.log")
    assert {"timestamp", "level", "logger", "message", "request_id"} <= set(app_lines[-1])
    assert app_lines[-1]["message"] == "connecting with [redacted] and [redacted]"
    for line in [*access, *app_lines]:
        assert line["request_id"]
    everything = (logs / "access.log").read_text() + (logs / "app.log").read_text()
    for secret in (KEY, "wrong-key-987654", "hunter2-pass", "pw-0001", "tok-0002", "Adeyemi", "q="):
        assert secret not in everything


def ops_settings_label(access: list[dict[str, object]]) -> object:
    """The label the gate gives the bootstrap key (never the key itself)."""
    label = access[0]["principal"]
    assert isinstance(label, str) and KEY not in label
    return label


def _sample(text: str, name: str, **labels: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0] if "{" not in line else line))
            if all(found.get(k) == v for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    return None


@needs_model
def test_metrics_need_an_admin_and_count_routes_imports_and_the_model(ops_settings: Settings) -> None:
    with TestClient(create_app(ops_settings)) as client:
        assert client.get("/metrics").status_code == 401
        before = client.get("/metrics", headers=AUTH).text
        for _ in range(2):
            client.get("/api/students/999999", headers=AUTH)
        files = {"file": (EXAMPLE.name, EXAMPLE.read_bytes(), "text/csv")}
        first = client.post("/api/uploads", files=files, data={"as_of_day": "60"}, headers=AUTH)
        again = client.post("/api/uploads", files=files, data={"as_of_day": "60"}, headers=AUTH)
        assert first.status_code in (200, 201) and again.status_code in (200, 201)
        response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    route = "/api/students/{student_id}"
    count = "student_success_http_request_duration_seconds_count"
    assert (_sample(text, count, route=route, method="GET", status="404") or 0) - (
        _sample(before, count, route=route, method="GET", status="404") or 0
    ) == 2
    assert "/api/students/999999" not in text
    imports = "student_success_imports_total"
    for outcome in ("completed", "unchanged"):
        assert (_sample(text, imports, source_type="canvas", outcome=outcome) or 0) - (
            _sample(before, imports, source_type="canvas", outcome=outcome) or 0
        ) == 1
    scored = "student_success_predictions_scored_total"
    assert (_sample(text, scored, variant="gradebook") or 0) - (
        _sample(before, scored, variant="gradebook") or 0
    ) == 30
    version = json.loads((MODELS_DIR / "model_metadata.json").read_text())["active_version"]
    assert _sample(text, "student_success_active_model_info", version=version) == 1.0


def test_health_monitor_counts_json_error_lines_by_their_level(tmp_path: Path) -> None:
    from student_success.ops.health_monitor import check_logs

    (tmp_path / "app.log").write_text(
        '{"level": "ERROR", "message": "database unavailable", "request_id": "-"}\n'
        '{"level": "INFO", "message": "GET /reports/ERROR 200 OK", "request_id": "a1"}\n'
        "2026-11-28 06:00:00 CRITICAL plain text line\n"
    )
    result = check_logs(Settings(logs_dir=tmp_path, health_log_errors_max=0))
    assert result.status == "WARNING"
    assert result.metrics == {"error_lines": 2, "files": {"app.log": 2}}
