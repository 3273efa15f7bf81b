"""scripts/system_health_monitor.py: statuses, exit codes, the JSON log, e-mail and the database check.

A tiny http.server on loopback stands in for the API; aiosmtpd stands in for the mail server.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from student_success.config import PROJECT_ROOT, Settings
from student_success.ops import health_monitor
from student_success.ops.health_monitor import check_database, check_logs, check_model, main

FAST = ["--skip", "model"]  # the model check has its own tests
EXPECTED_KEYS = {"timestamp", "level", "exit_code", "url", "host", "checks"}


class FakeApi:
    """``/health`` answers ``health_status``; ``/api/notifications/health`` answers 404."""

    def __init__(self) -> None:
        self.health_status = 200
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status = api.health_status if self.path == "/health" else 404
                body = json.dumps({"status": "healthy" if status == 200 else "unhealthy"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def api() -> Iterator[FakeApi]:
    fake = FakeApi()
    thread = threading.Thread(target=fake.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Settings for a deterministic run: tmp logs and SQLite, resource KPIs out of reach, no SMTP."""
    db = tmp_path / "app.db"
    sqlite3.connect(db).close()
    values = {
        "LOGS_DIR": str(tmp_path / "logs"),
        "DATABASE_URL": f"sqlite:///{db}",
        "MODELS_DIR": str(tmp_path / "models"),
        "HEALTH_CPU_INTERVAL_S": "0.1",
        "HEALTH_API_MS": "5000",
        "HEALTH_DB_MS": "5000",
        "HEALTH_PREDICTION_MS": "5000",
        "HEALTH_MEMORY_PERCENT": "101",
        "HEALTH_DISK_PERCENT": "101",
        "HEALTH_CPU_PERCENT": "101",
        "HEALTH_HTTP_TIMEOUT_S": "2",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    for name in (
        "SMTP_HOST",
        "SMTP_PORT",
        "ALERT_EMAIL_TO",
        "SMTP_USERNAME",
        "SMTP_PASSWORD",
        "SMTP_STARTTLS",
    ):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _statuses(logs_dir: Path) -> dict[str, str]:
    line = (logs_dir / "health_monitor.log").read_text(encoding="utf-8").splitlines()[-1]
    return {check["name"]: check["status"] for check in json.loads(line)["checks"]}


def test_healthy_api_exits_0(env: Path, api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--url", api.url, "--output", "both", *FAST]) == 0
    assert _statuses(env / "logs") == {
        "api": "OK",
        "database": "OK",
        "disk": "OK",
        "memory": "OK",
        "cpu": "OK",
        "logs": "OK",
        "notifications": "INFO",
    }
    out = capsys.readouterr().out
    assert "not available" in out
    assert "Overall level: INFO" in out
    for word in ("Check", "Status", "Value", "Threshold", "api", "database", "notifications"):
        assert word in out


def test_api_answering_503_is_critical(env: Path, api: FakeApi) -> None:
    api.health_status = 503
    assert main(["--url", api.url, "--output", "file", *FAST]) == 2
    assert _statuses(env / "logs")["api"] == "CRITICAL"


def test_api_down_is_critical(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    assert main(["--url", url, "--output", "both", *FAST]) == 2
    statuses = _statuses(env / "logs")
    assert statuses["api"] == "CRITICAL"
    assert statuses["database"] == "OK"
    assert "Overall level: CRITICAL" in capsys.readouterr().out


def test_missed_kpi_is_a_warning(env: Path, api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEALTH_API_MS", "0.0001")
    assert main(["--url", api.url, "--output", "file", *FAST]) == 1
    assert _statuses(env / "logs")["api"] == "WARNING"


def test_file_output_appends_one_json_line_per_run(
    env: Path, api: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(2):
        assert main(["--url", api.url, "--output", "file", *FAST]) == 0
    assert capsys.readouterr().out == ""
    lines = (env / "logs" / "health_monitor.log").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    for line in lines:
        record = json.loads(line)
        assert set(record) == EXPECTED_KEYS
        assert record["level"] == "INFO"
        assert record["exit_code"] == 0
        assert [check["name"] for check in record["checks"]] == [
            "api",
            "database",
            "disk",
            "memory",
            "cpu",
            "logs",
            "notifications",
        ]
        assert {"name", "status", "value", "threshold", "detail", "metrics"} <= set(record["checks"][0])


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.original_content or envelope.content)
        return "250 OK"


@pytest.fixture
def smtp(env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[_Inbox]:
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(port))
    monkeypatch.setenv("ALERT_EMAIL_TO", "ops@example.org")
    yield inbox
    controller.stop()


def test_email_delivers_the_report(env: Path, api: FakeApi, smtp: _Inbox) -> None:
    api.health_status = 503
    assert main(["--url", api.url, "--email", *FAST]) == 2
    assert len(smtp.messages) == 1
    message = message_from_bytes(smtp.messages[0])
    assert "CRITICAL" in message["Subject"]
    assert message["To"] == "ops@example.org"
    body = message.get_payload(decode=True).decode()
    for name in ("api", "database", "disk", "memory", "cpu", "logs", "notifications"):
        assert name in body
    assert "Overall level: CRITICAL" in body


def test_email_without_smtp_settings_warns(
    env: Path, api: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--url", api.url, "--email", *FAST]) == 0
    assert "WARNING: SMTP is not configured" in capsys.readouterr().err


def test_database_check(env: Path, tmp_path: Path) -> None:
    good = Settings(database_url=f"sqlite:///{env / 'app.db'}")
    result = check_database(good)
    assert result.status == "OK"
    assert result.metrics["backend"] == "sqlite"
    for url in ("nosuchdb://user@host/db", f"sqlite:///{tmp_path / 'missing' / 'x.db'}"):
        assert check_database(Settings(database_url=url)).status == "CRITICAL"
    assert not (tmp_path / "missing").exists()  # the check never creates a database


def test_broken_database_url_exits_2(env: Path, api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "nosuchdb://user@host/db")
    assert main(["--url", api.url, "--output", "file", *FAST]) == 2
    assert _statuses(env / "logs")["database"] == "CRITICAL"


def test_log_errors_are_counted(env: Path) -> None:
    logs = env / "logs"
    logs.mkdir()
    (logs / "app.log").write_text("INFO start\nERROR boom\nWARNING slow\nCRITICAL down\nERROR again\n")
    old = logs / "old.log"
    old.write_text("ERROR long ago\n")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    (logs / "health_monitor.log").write_text('{"level": "CRITICAL"}\n')
    result = check_logs(Settings(logs_dir=logs))
    assert result.status == "WARNING"
    assert result.metrics == {"error_lines": 3, "files": {"app.log": 3}}
    assert check_logs(Settings(logs_dir=logs, health_log_errors_max=3)).status == "OK"


def test_missing_model_is_a_prediction_warning(env: Path) -> None:
    assert check_model(Settings(models_dir=env / "models")).status == "WARNING"


@pytest.mark.skipif(
    not (PROJECT_ROOT / "results" / "models" / "model_metadata.json").exists(), reason="no trained model"
)
def test_active_model_predicts_three_students(env: Path) -> None:
    result = check_model(Settings(models_dir=PROJECT_ROOT / "results" / "models", health_prediction_ms=5000))
    assert result.status == "OK"
    assert result.metrics["prediction_ms"] > 0


def test_continuous_stops_cleanly_on_ctrl_c(env: Path, api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(_seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(health_monitor, "_pause", interrupt)
    assert main(["--url", api.url, "--output", "file", "--continuous", "15", *FAST]) == 0
    assert len((env / "logs" / "health_monitor.log").read_text().splitlines()) == 1


def test_script_runs_as_written(env: Path) -> None:
    """``python3 scripts/system_health_monitor.py`` from the guide (re-executes with .venv when needed)."""
    python = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
    url = f"http://127.0.0.1:{_free_port()}"
    completed = subprocess.run(
        [python, "scripts/system_health_monitor.py", "--url", url, "--output", "file", *FAST],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2, completed.stderr
    assert _statuses(env / "logs")["api"] == "CRITICAL"
