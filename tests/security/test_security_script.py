"""``scripts/security_test.py`` against a live server on SQLite and on PostgreSQL: every attack defended."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from api.support import needs_model

from student_success.config import PROJECT_ROOT

from .live_server import free_port, live_server

SCRIPT = PROJECT_ROOT / "scripts" / "security_test.py"
CATEGORIES = {
    "no-auth", "cross-section", "privilege", "sql-injection", "xss", "upload", "path-traversal", "csrf",
    "session", "brute-force", "headers", "errors", "audit",
}  # fmt: skip


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=600,
        env={**os.environ, **(env or {})}, check=False,
    )  # fmt: skip


@needs_model
def test_every_attack_is_defended_on_a_live_server(empty_db_url: str, tmp_path: Path) -> None:
    with live_server(empty_db_url, tmp_path) as server:
        limits = ["--max-upload-bytes", str(server.max_upload_bytes)]
        limits += ["--max-upload-rows", str(server.max_upload_rows)]
        done = _run("--url", server.url, "--logs-dir", str(tmp_path / "reports"), *limits,
                    env={"MVP_API_KEY": server.api_key})  # fmt: skip
    failed = [line for line in done.stdout.splitlines() if line.rstrip().endswith("FAIL")]
    assert done.returncode == 0, "\n".join(failed) or done.stdout[-3000:] + done.stderr[-3000:]
    assert server.api_key not in done.stdout + done.stderr
    [report_path] = (tmp_path / "reports").glob("security_test_*.json")
    [text_path] = (tmp_path / "reports").glob("security_test_*.txt")
    report = json.loads(report_path.read_text())
    results = report["results"]
    assert (report["url"], report["failed"], report["attacks"]) == (server.url, 0, len(results))
    assert len({(r["category"], r["name"], r["target"]) for r in results}) == len(results) >= 40
    assert {r["category"] for r in results} == CATEGORIES
    assert all(r["passed"] for r in results)
    assert server.api_key not in report_path.read_text() + text_path.read_text()
    assert done.stdout.splitlines()[-2] == f"{len(results)} attacks, {len(results)} passed, 0 failed"
    assert text_path.read_text().splitlines()[-1] == done.stdout.splitlines()[-2]


def test_unreachable_server_exits_2_and_a_missing_key_exits_1(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    down = _run("--url", url, "--api-key", "k" * 20, "--logs-dir", str(tmp_path))
    assert down.returncode == 2
    assert down.stdout.strip() == f"error: {url} does not answer: ConnectError"
    no_key = _run("--url", url, env={"MVP_API_KEY": ""})
    assert no_key.returncode == 1
    assert (
        no_key.stdout.strip()
        == "error: give an administrator's API key with --api-key or the MVP_API_KEY variable"
    )
    assert list(tmp_path.iterdir()) == []
