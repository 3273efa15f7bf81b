"""A real server for the security tests: ``run_mvp.py`` in a subprocess on a free port.

``live_server(database_url, folder)`` starts it on a fresh database (SQLite file or PostgreSQL database
from the ``empty_db_url`` fixture) with an administrator API key, waits until ``GET /health`` answers,
and stops it afterwards. The log of the server is kept in ``folder`` and shown when start-up fails.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from student_success.config import PROJECT_ROOT

START_TIMEOUT_S = 90.0
MAX_UPLOAD_BYTES = 1024 * 1024
MAX_UPLOAD_ROWS = 5000


@dataclass(frozen=True)
class LiveServer:
    """A running server."""

    url: str
    api_key: str
    log: Path
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    max_upload_rows: int = MAX_UPLOAD_ROWS


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(database_url: str, folder: Path, **env: str) -> Iterator[LiveServer]:
    """Start ``run_mvp.py`` on ``database_url``; yield it once ``/health`` answers; stop it.

    Args:
        database_url: the server's database (a fresh one: the server migrates it at start-up).
        folder: where the server's log and application logs go.
        **env: more settings as environment variables (e.g. ``API_RATE_LIMIT_PER_MINUTE="0"``).
    """
    port = free_port()
    api_key = secrets.token_urlsafe(32)
    log = folder / "server.log"
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MVP_API_KEY": api_key,
        "ENVIRONMENT": "test",
        "MAX_UPLOAD_BYTES": str(MAX_UPLOAD_BYTES),
        "MAX_UPLOAD_ROWS": str(MAX_UPLOAD_ROWS),
        "LOGS_DIR": str(folder / "logs"),
        "NOTIFICATION_INTERVAL_S": "0",
        **env,
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(PROJECT_ROOT / "run_mvp.py"), "--host", "127.0.0.1", "--port", str(port)],
            cwd=folder, env=environment, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read_text()[-4000:]}")
            try:
                httpx.get(url + "/health", timeout=2.0)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not answer within {START_TIMEOUT_S:g} s") from None
                time.sleep(0.3)
        yield LiveServer(url=url, api_key=api_key, log=log)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
