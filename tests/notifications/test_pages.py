"""The bell in the header and the /notifications page, signed in as a teacher through the real form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from api.support import wipe
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from student_success.api import create_app
from student_success.config import PROJECT_ROOT, Settings
from student_success.db.engine import session_scope
from student_success.db.models import Course, Enrollment, ImportBatch, Prediction, Section, Student
from student_success.services import accounts
from student_success.services.notifications import evaluate_import

PASSWORD = "a long test password"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"|<meta name="csrf-token" content="([^"]+)"')
WEB = PROJECT_ROOT / "src" / "student_success" / "web"


def _csrf(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1) or found.group(2)


@pytest.fixture
def teacher(engine: Engine, db_url: str) -> Iterator[tuple[TestClient, int]]:
    wipe(engine)
    settings = Settings(database_url=db_url, environment="test", notification_interval_s=0)
    with session_scope(engine) as session:
        course = Course(source="canvas", external_id="BIO_101", name="Biology 101")
        session.add(course)
        session.flush()
        section = Section(course_id=course.id, name="S1")
        ann = Student(source="canvas", external_id="a1", display_name="Ann Lee")
        session.add_all([section, ann])
        session.flush()
        session.add(Enrollment(student_id=ann.id, course_id=course.id, section_id=section.id))
        accounts.create_user(
            session, "t1@school.example", role="teacher", password=PASSWORD, section_ids=[section.id]
        )
        batch = ImportBatch(source_type="canvas", file_name="a.csv", file_sha256="a" * 64, status="completed")
        session.add(batch)
        session.flush()
        session.add(
            Prediction(
                student_id=ann.id, course_id=course.id, import_batch_id=batch.id, model_version="v",
                model_variant="gradebook", probability=0.81, risk_level="high",
            )
        )  # fmt: skip
        session.flush()
        evaluate_import(session, batch.id, settings=settings, now=datetime.now(UTC))
        ann_id = ann.id
    with TestClient(create_app(settings), follow_redirects=False) as client:
        token = _csrf(client.get("/login").text)
        signed = client.post(
            "/login",
            data={"email": "t1@school.example", "password": PASSWORD, "csrf_token": token, "next": "/"},
        )
        assert signed.status_code == 303, signed.text
        yield client, ann_id
    wipe(engine)


def test_bell_page_mark_read_and_preferences(teacher: tuple[TestClient, int]) -> None:
    client, ann = teacher
    page = client.get("/notifications")
    assert page.status_code == 200
    html = page.text
    assert '<span class="bell-count" id="notification-count">1</span>' in html
    assert f'<a href="/students/{ann}">Ann Lee now needs support in Biology 101 (risk 81 %).</a>' in html
    assert 'src="http://testserver/static/notifications.js"' in html or "/static/notifications.js" in html
    note_id = re.search(r'action="/notifications/(\d+)/read"', html)
    assert note_id
    done = client.post(f"/notifications/{note_id.group(1)}/read", data={"csrf_token": _csrf(html)})
    assert done.status_code == 303
    html = client.get("/notifications").text
    assert '<span class="bell-count" id="notification-count" hidden>0</span>' in html

    saved = client.post(
        "/notifications/preferences",
        data={
            "csrf_token": _csrf(html),
            "channel": "email_digest",
            "risk_rise_points": "20",
            "stale_days": "",
        },
    )
    assert saved.status_code == 303
    api = client.get("/api/notifications/preferences").json()
    assert (api["channel"], api["own_risk_rise_points"], api["own_stale_days"]) == (
        "email_digest",
        20.0,
        None,
    )

    snoozed = client.post(
        "/notifications/snoozes", data={"csrf_token": _csrf(html), "student_id": str(ann), "days": "7"}
    )
    assert snoozed.status_code == 303
    html = client.get("/notifications").text
    assert f'<a href="/students/{ann}">Student {ann}</a> until' in html


def test_templates_and_script_need_no_inline_code() -> None:
    for name in ("templates/notifications.html", "templates/_bell.html"):
        source = (WEB / name).read_text(encoding="utf-8")
        assert "style=" not in source
        assert re.search(r"<script(?![^>]*\bsrc=)", source) is None
        assert " on" + "click=" not in source
    script = (WEB / "static" / "notifications.js").read_text(encoding="utf-8")
    assert "innerHTML" not in script  # messages are set as text, never parsed as HTML
