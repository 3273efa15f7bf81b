"""Two API workers on one PostgreSQL database: a notification made in one reaches a page on the other.

Worker A and worker B are separate ``uvicorn`` processes on two ports. A page (an SSE client) connects to
B; a teacher's failed upload through A's API creates an ``import_failed`` notification, which travels by
PostgreSQL ``LISTEN/NOTIFY`` to B and down B's stream. With ``REDIS_URL`` set, Redis carries it instead.
"""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from student_success.db.base import Base
from student_success.db.engine import session_scope
from student_success.db.models import Course, Enrollment, Section, Student
from student_success.services import accounts

pytestmark = pytest.mark.postgres


def _wipe(engine: Engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in reversed(Base.metadata.sorted_tables))
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Worker:
    """One ``uvicorn`` process serving the app factory on its own port."""

    def __init__(self, db_url: str, logs: Path, **env: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {
            **os.environ,
            "DATABASE_URL": db_url,
            "LOGS_DIR": str(logs),
            "NOTIFICATION_INTERVAL_S": "0",
            "ENVIRONMENT": "test",
            **env,
        }
        if "REDIS_URL" not in env:
            environment.pop("REDIS_URL", None)
        self.log = (logs / f"worker-{self.port}.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "student_success.api.app:create_app",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            env=environment, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def wait_listening(self, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"worker on {self.port} exited with {self.process.returncode}")
            try:
                last = httpx.get(f"{self.url}/api/notifications/health", timeout=2).json()
                if last["realtime"]["listening"]:
                    return dict(last)
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            time.sleep(0.3)
        raise AssertionError(f"worker on {self.port} never listened: {last}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.log.close()


@pytest.fixture
def teacher_key(db_backend: str, engine: Engine) -> Iterator[str]:
    if db_backend != "postgresql":
        pytest.skip("several workers share PostgreSQL")
    _wipe(engine)
    with session_scope(engine) as session:
        course = Course(source="canvas", external_id="BIO_101", name="Biology 101")
        session.add(course)
        session.flush()
        section = Section(course_id=course.id, name="S1")
        student = Student(source="canvas", external_id="a1", display_name="Ann Lee")
        session.add_all([section, student])
        session.flush()
        session.add(Enrollment(student_id=student.id, course_id=course.id, section_id=section.id))
        session.flush()
        accounts.create_user(session, "t1@school.example", role="teacher", section_ids=[section.id])
        _, key = accounts.create_api_key(session, "t1@school.example")
    yield key
    _wipe(engine)


def _read_stream(url: str, key: str, events: queue.Queue[tuple[str, Any]], stop: threading.Event) -> None:
    headers = {"Authorization": f"Bearer {key}", "Accept": "text/event-stream"}
    try:
        with httpx.stream("GET", url, headers=headers, timeout=httpx.Timeout(5, read=30)) as response:
            events.put(("status", response.status_code))
            name = None
            for line in response.iter_lines():
                if stop.is_set():
                    return
                if line.startswith("event:"):
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and name:
                    events.put((name, json.loads(line.split(":", 1)[1])))
    except httpx.HTTPError as exc:
        events.put(("error", str(exc)))


def _next_event(events: queue.Queue[tuple[str, Any]], name: str, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            got, data = events.get(timeout=left)
        except queue.Empty:
            break
        if got == "error":
            raise AssertionError(f"stream failed: {data}")
        if got == name:
            return data
    raise AssertionError(f"no {name!r} event within {timeout} s")


@pytest.mark.parametrize("transport", ["postgresql", "redis"])
def test_a_notification_made_on_worker_a_reaches_a_page_on_worker_b(
    transport: str, teacher_key: str, db_url: str, tmp_path: Path
) -> None:
    extra = {"REDIS_URL": "redis://127.0.0.1:6379/0"} if transport == "redis" else {}
    worker_a, worker_b = Worker(db_url, tmp_path, **extra), Worker(db_url, tmp_path, **extra)
    stop = threading.Event()
    try:
        assert worker_a.wait_listening()["realtime"]["broker"] == transport
        assert worker_b.wait_listening()["realtime"]["broker"] == transport
        events: queue.Queue[tuple[str, Any]] = queue.Queue()
        reader = threading.Thread(
            target=_read_stream, args=(f"{worker_b.url}/api/notifications/stream", teacher_key, events, stop),
            daemon=True,
        )  # fmt: skip
        reader.start()
        assert _next_event(events, "status", 15) == 200
        assert _next_event(events, "unread", 15) == {"unread": 0}
        health_b = httpx.get(f"{worker_b.url}/api/notifications/health", timeout=5).json()
        assert health_b["realtime"]["connections"] == 1

        upload = httpx.post(
            f"{worker_a.url}/api/uploads",
            headers={"Authorization": f"Bearer {teacher_key}"},
            files={"file": ("broken.csv", b"this is not a gradebook\n", "text/csv")},
            timeout=30,
        )
        assert upload.status_code == 422, upload.text

        started = time.monotonic()
        note = _next_event(events, "notification", 10)
        assert time.monotonic() - started < 10
        assert note["rule"] == "import_failed"
        assert note["message"].startswith("The import of broken.csv failed:")
        listed = httpx.get(
            f"{worker_b.url}/api/notifications", headers={"Authorization": f"Bearer {teacher_key}"}, timeout=5
        ).json()
        assert [n["id"] for n in listed["data"]] == [note["id"]] and listed["unread"] == 1
    finally:
        stop.set()
        worker_a.stop()
        worker_b.stop()
