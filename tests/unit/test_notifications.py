"""Notifications on SQLite and PostgreSQL: rules, recipients by scope, dedup, snoozes, e-mail, API, health.

E-mail goes to a real local SMTP server (aiosmtpd) started by the tests: down first (nothing listens on
the port), then up; every message must arrive exactly once.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from api.support import wipe
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from student_success.api import create_app
from student_success.config import PROJECT_ROOT, Settings
from student_success.db.engine import make_session_factory, session_scope
from student_success.db.models import (
    Course,
    EmailOutbox,
    Enrollment,
    ImportBatch,
    Intervention,
    Notification,
    Prediction,
    Section,
    Student,
    User,
)
from student_success.services import accounts, schools
from student_success.services.notifications import broker as brokers
from student_success.services.notifications import (
    deliver_due,
    evaluate_failed_import,
    evaluate_import,
    evaluate_interventions,
)
from student_success.services.notifications.emails import compose_digests
from student_success.services.notifications.preferences import snooze, update_preferences
from student_success.services.notifications.recipients import recipients_by_student

NOW = datetime(2025, 3, 10, 9, 30, tzinfo=UTC)


def make_settings(db_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "models_dir": PROJECT_ROOT / "results" / "models",
        "environment": "test",
        "notification_interval_s": 0,
        "smtp_host": None,
        "smtp_from": "alerts@school.example",
        **overrides,
    }
    return Settings(**values)


@dataclass
class World:
    """Two sections of one course, a student in each, and who may see them."""

    course: int
    ann: int  # student in section 1
    ben: int  # student in section 2, also on the counsellor's caseload
    teacher1: User
    teacher2: User
    counsellor: User
    admin_in: User
    admin_out: User
    gone: User  # inactive teacher of section 1


def build_world(session: Session) -> World:
    course = Course(source="canvas", external_id="BIO_101", name="Biology 101")
    session.add(course)
    session.flush()
    s1, s2 = Section(course_id=course.id, name="S1"), Section(course_id=course.id, name="S2")
    ann = Student(source="canvas", external_id="a1", display_name="Ann Lee")
    ben = Student(source="canvas", external_id="b2", display_name="Ben Okafor")
    session.add_all([s1, s2, ann, ben])
    session.flush()
    session.add_all(
        [
            Enrollment(student_id=ann.id, course_id=course.id, section_id=s1.id),
            Enrollment(student_id=ben.id, course_id=course.id, section_id=s2.id),
        ]
    )
    session.flush()
    mk = accounts.create_user
    world = World(
        course=course.id,
        ann=ann.id,
        ben=ben.id,
        teacher1=mk(session, "t1@school.example", role="teacher", section_ids=[s1.id]),
        teacher2=mk(session, "t2@school.example", role="teacher", section_ids=[s2.id]),
        counsellor=mk(session, "c@school.example", role="counsellor", student_ids=[ben.id]),
        admin_in=mk(session, "boss@school.example", role="admin"),
        admin_out=mk(session, "quiet@school.example", role="admin"),
        gone=mk(session, "gone@school.example", role="teacher", section_ids=[s1.id]),
    )
    world.gone.is_active = False
    session.flush()
    return world


def opt_in(session: Session, world: World, settings: Settings) -> None:
    update_preferences(session, world.admin_in.id, settings=settings, channel="in_app", admin_opt_in=True)


def score(session: Session, world: World, probabilities: dict[int, float], *, name: str) -> int:
    batch = ImportBatch(
        source_type="canvas", file_name=name, file_sha256=name.ljust(64, "0"), status="completed"
    )
    session.add(batch)
    session.flush()
    for student_id, p in probabilities.items():
        level = "high" if p >= 0.6 else "medium" if p >= 0.35 else "low"
        session.add(
            Prediction(
                student_id=student_id, course_id=world.course, import_batch_id=batch.id,
                model_version="vtest", model_variant="gradebook", probability=p, risk_level=level,
            )
        )  # fmt: skip
    session.flush()
    return batch.id


def sent(notes: list[Notification], session: Session) -> set[tuple[str, str, int | None]]:
    emails = {u.id: u.email for u in session.scalars(select(User))}
    return {(emails[n.user_id], n.rule, n.student_id) for n in notes}


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(db_url)


@pytest.fixture
def world(session: Session, settings: Settings) -> World:
    built = build_world(session)
    opt_in(session, built, settings)
    return built


def test_recipients_are_the_people_who_may_see_the_student(session: Session, world: World) -> None:
    found = recipients_by_student(session, [world.ann, world.ben])
    assert [u.email for u in found[world.ann]] == ["t1@school.example", "boss@school.example"]
    assert [u.email for u in found[world.ben]] == [
        "t2@school.example",
        "c@school.example",
        "boss@school.example",
    ]
    for student_id, users in found.items():
        for user in users:  # each of them may see the student, by the same scope the API applies
            scope = accounts.build_scope(session, user)
            visible = session.scalar(
                select(Student.id).where(Student.id == student_id, scope.student_filter(Student.id))
            )
            assert visible == student_id


def test_a_school_counsellor_is_told_about_the_students_of_that_schools_courses(
    session: Session, world: World
) -> None:
    north = schools.create_school(session, "North High")
    schools.assign_courses(session, north.id, [world.course])
    school_wide = accounts.create_user(
        session, "north@school.example", role="counsellor", school_ids=[north.id]
    )
    elsewhere = schools.create_school(session, "South High")
    accounts.create_user(session, "south@school.example", role="counsellor", school_ids=[elsewhere.id])

    found = recipients_by_student(session, [world.ann, world.ben])

    assert [u.email for u in found[world.ann]] == [
        "t1@school.example",
        school_wide.email,
        "boss@school.example",
    ]
    assert [u.email for u in found[world.ben]] == [
        "t2@school.example",
        "c@school.example",
        school_wide.email,
        "boss@school.example",
    ]
    scope = accounts.build_scope(session, school_wide)
    visible = session.scalars(select(Student.id).where(scope.student_filter(Student.id)).order_by(Student.id))
    assert list(visible) == sorted([world.ann, world.ben])


def test_becoming_high_risk_and_rising_risk(session: Session, world: World, settings: Settings) -> None:
    first = score(session, world, {world.ann: 0.72, world.ben: 0.30}, name="week1.csv")
    notes = evaluate_import(session, first, settings=settings, now=NOW)
    assert sent(notes, session) == {
        ("t1@school.example", "high_risk", world.ann),
        ("boss@school.example", "high_risk", world.ann),
    }
    assert notes[0].message == "Ann Lee now needs support in Biology 101 (risk 72 %)."
    assert notes[0].link == f"/students/{world.ann}"

    second = score(session, world, {world.ann: 0.77, world.ben: 0.50}, name="week2.csv")
    notes = evaluate_import(session, second, settings=settings, now=NOW + timedelta(hours=1))
    assert sent(notes, session) == {
        ("t2@school.example", "risk_rise", world.ben),
        ("c@school.example", "risk_rise", world.ben),
        ("boss@school.example", "risk_rise", world.ben),
    }
    assert notes[0].message == "Ben Okafor's risk in Biology 101 rose by 20 points to 50 %."


def test_a_users_own_threshold_applies(session: Session, world: World, settings: Settings) -> None:
    update_preferences(session, world.counsellor.id, settings=settings, channel="in_app", risk_rise_points=25)
    update_preferences(session, world.teacher2.id, settings=settings, channel="in_app", risk_rise_points=10)
    score(session, world, {world.ben: 0.20}, name="a.csv")
    batch = score(session, world, {world.ben: 0.32}, name="b.csv")  # +12 points
    notes = evaluate_import(session, batch, settings=settings, now=NOW)
    assert sent(notes, session) == {("t2@school.example", "risk_rise", world.ben)}


def test_the_same_alert_fires_once_per_window(session: Session, world: World, settings: Settings) -> None:
    batch = score(session, world, {world.ann: 0.9}, name="a.csv")
    assert len(evaluate_import(session, batch, settings=settings, now=NOW)) == 2
    assert evaluate_import(session, batch, settings=settings, now=NOW + timedelta(minutes=5)) == []
    assert session.scalar(select(func.count()).select_from(Notification)) == 2
    next_day = evaluate_import(session, batch, settings=settings, now=NOW + timedelta(hours=24))
    assert len(next_day) == 2


def test_snoozes_and_the_none_channel_silence_alerts(
    session: Session, world: World, settings: Settings
) -> None:
    scope1 = accounts.build_scope(session, world.teacher1)
    snooze(
        session, world.teacher1.id, scope=scope1, student_id=world.ann, until=NOW + timedelta(days=7), now=NOW
    )
    update_preferences(session, world.admin_in.id, settings=settings, channel="none", admin_opt_in=True)
    batch = score(session, world, {world.ann: 0.9}, name="a.csv")
    assert evaluate_import(session, batch, settings=settings, now=NOW) == []
    # after the snooze ends, the teacher is told again
    later = evaluate_import(session, batch, settings=settings, now=NOW + timedelta(days=8))
    assert sent(later, session) == {("t1@school.example", "high_risk", world.ann)}
    # a rule snooze
    scope2 = accounts.build_scope(session, world.teacher2)
    snooze(
        session, world.teacher2.id, scope=scope2, rule="high_risk", until=NOW + timedelta(days=30), now=NOW
    )
    batch = score(session, world, {world.ben: 0.95}, name="b.csv")
    assert sent(evaluate_import(session, batch, settings=settings, now=NOW), session) == {
        ("c@school.example", "high_risk", world.ben)
    }


def test_snoozing_a_student_one_cannot_see_is_refused(session: Session, world: World) -> None:
    from student_success.services.scope import UnknownStudent

    scope = accounts.build_scope(session, world.teacher1)
    with pytest.raises(UnknownStudent):
        snooze(
            session,
            world.teacher1.id,
            scope=scope,
            student_id=world.ben,
            until=NOW + timedelta(days=1),
            now=NOW,
        )


def test_overdue_and_stale_plans(session: Session, world: World, settings: Settings) -> None:
    old = NOW - timedelta(days=20)
    owned = Intervention(
        student_id=world.ann, type_key="tutoring", title="Tutoring", status="in_progress",
        assignee_id=world.teacher1.id, due_date=date(2025, 3, 1), created_at=old, updated_at=old,
    )  # fmt: skip
    shared = Intervention(
        student_id=world.ben, type_key="call_home", title="Call home", status="planned",
        due_date=date(2025, 4, 1), created_at=old, updated_at=old,
    )  # fmt: skip
    done = Intervention(
        student_id=world.ben, type_key="mentor", title="Mentor", status="completed",
        due_date=date(2025, 1, 1), created_at=old, updated_at=old,
    )  # fmt: skip
    session.add_all([owned, shared, done])
    session.flush()
    update_preferences(session, world.teacher2.id, settings=settings, channel="in_app", stale_days=30)
    notes = evaluate_interventions(session, settings=settings, now=NOW)
    assert sent(notes, session) == {
        ("t1@school.example", "intervention_overdue", world.ann),
        ("t1@school.example", "intervention_stale", world.ann),
        ("boss@school.example", "intervention_overdue", world.ann),
        ("boss@school.example", "intervention_stale", world.ann),
        ("c@school.example", "intervention_stale", world.ben),
        ("boss@school.example", "intervention_stale", world.ben),
    }
    overdue = next(n for n in notes if n.rule == "intervention_overdue")
    assert overdue.message == "The plan “Tutoring” for Ann Lee was due on 2025-03-01 and is still open."
    assert overdue.intervention_id == owned.id
    assert evaluate_interventions(session, settings=settings, now=NOW + timedelta(hours=2)) == []


def test_a_failed_import_tells_the_uploader(session: Session, world: World, settings: Settings) -> None:
    batch = ImportBatch(
        source_type="canvas", file_name="bad.csv", file_sha256="f" * 64, status="failed",
        errors=[{"line": 2}, {"line": 3}], created_by=world.teacher2.id,
    )  # fmt: skip
    session.add(batch)
    session.flush()
    notes = evaluate_failed_import(session, batch, settings=settings, now=NOW)
    assert sent(notes, session) == {
        ("t2@school.example", "import_failed", None),
        ("boss@school.example", "import_failed", None),
    }
    assert notes[0].message == "The import of bad.csv failed: 2 problem(s) in the file."


def test_email_at_once_goes_to_the_outbox_with_a_link(
    session: Session, world: World, settings: Settings
) -> None:
    update_preferences(session, world.teacher1.id, settings=settings, channel="email_immediate")
    batch = score(session, world, {world.ann: 0.8}, name="a.csv")
    notes = evaluate_import(session, batch, settings=settings, now=NOW)
    rows = session.scalars(select(EmailOutbox)).all()
    assert [r.recipient for r in rows] == ["t1@school.example"]
    mail = rows[0]
    assert mail.subject == "Student Success: Ann Lee now needs support in Biology 101 (risk 80 %)."
    assert f"Open in Student Success: http://localhost:8001/students/{world.ann}" in mail.body_text
    assert f'<a href="http://localhost:8001/students/{world.ann}">' in mail.body_html
    assert "Ben" not in mail.body_text
    assert mail.message_id.endswith("@school.example>") and mail.status == "pending"
    teacher_note = next(n for n in notes if n.user_id == world.teacher1.id)
    assert teacher_note.emailed_at == NOW


def test_daily_digest_once_per_day(session: Session, world: World, settings: Settings) -> None:
    update_preferences(session, world.counsellor.id, settings=settings, channel="email_digest")
    score(session, world, {world.ben: 0.1}, name="a.csv")
    batch = score(session, world, {world.ben: 0.7}, name="b.csv")
    evaluate_import(session, batch, settings=settings, now=NOW.replace(hour=5))
    assert compose_digests(session, settings=settings, now=NOW.replace(hour=6)) == 0  # before 07:00
    assert compose_digests(session, settings=settings, now=NOW) == 1
    assert compose_digests(session, settings=settings, now=NOW + timedelta(hours=1)) == 0
    digest = session.scalars(select(EmailOutbox)).one()
    assert digest.recipient == "c@school.example"
    assert digest.subject == "Student Success: 1 notification for 2025-03-10"
    assert "Ben Okafor now needs support in Biology 101 (risk 70 %)." in digest.body_text
    assert digest.message_id == f"<digest-{world.counsellor.id}-20250310@school.example>"


# --- delivery against a real SMTP server -------------------------------------------------------------


@pytest.fixture
def clean(engine: Engine) -> Iterator[Engine]:
    wipe(engine)
    yield engine
    wipe(engine)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Inbox:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def queue_mail(engine: Engine, n: int) -> list[str]:
    with session_scope(engine) as session:
        for i in range(n):
            session.add(
                EmailOutbox(
                    recipient=f"r{i}@school.example", subject=f"s{i}", body_text=f"text {i}",
                    body_html=f"<p>html {i}</p>", message_id=f"<m{i}@school.example>", next_attempt_at=NOW,
                )
            )  # fmt: skip
    return [f"<m{i}@school.example>" for i in range(n)]


def test_delivery_retries_while_smtp_is_down_then_sends_each_once(clean: Engine, db_url: str) -> None:
    port = free_port()
    settings = make_settings(db_url, smtp_host="127.0.0.1", smtp_port=port)
    factory = make_session_factory(clean)
    ids = queue_mail(clean, 3)

    down = deliver_due(factory, settings, now=NOW)
    assert (down.claimed, down.sent, down.failed) == (3, 0, 3)
    with session_scope(clean) as session:
        rows = session.scalars(select(EmailOutbox).order_by(EmailOutbox.id)).all()
        assert {(r.status, r.attempts, r.next_attempt_at) for r in rows} == {
            ("pending", 1, NOW + timedelta(seconds=30))
        }
        assert all("Connection" in (r.last_error or "") for r in rows)
    again = deliver_due(factory, settings, now=NOW + timedelta(seconds=40))
    assert (again.sent, again.failed) == (0, 3)
    with session_scope(clean) as session:
        assert {r.next_attempt_at for r in session.scalars(select(EmailOutbox))} == {
            NOW + timedelta(seconds=40) + timedelta(seconds=60)  # backoff doubled
        }
    assert deliver_due(factory, settings, now=NOW + timedelta(seconds=60)).claimed == 0  # not due yet

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        later = NOW + timedelta(minutes=5)
        back = deliver_due(factory, settings, now=later)
        assert (back.sent, back.failed) == (3, 0)
        assert deliver_due(factory, settings, now=later + timedelta(hours=1)).claimed == 0
        assert sorted(m["Message-ID"] for m in inbox.messages) == ids
        first = next(m for m in inbox.messages if m["Message-ID"] == ids[0])
        assert first["To"] == "r0@school.example" and first["From"] == "alerts@school.example"
        parts = {p.get_content_type(): p.get_content().strip() for p in first.walk() if not p.is_multipart()}
        assert parts == {"text/plain": "text 0", "text/html": "<p>html 0</p>"}

        # a worker that crashed after claiming: the row is sent again after the claim timeout, same id
        with session_scope(clean) as session:
            row = session.scalars(select(EmailOutbox).where(EmailOutbox.message_id == ids[1])).one()
            row.status, row.claimed_at = "sending", later
        assert deliver_due(factory, settings, now=later + timedelta(minutes=1)).claimed == 0
        assert deliver_due(factory, settings, now=later + timedelta(minutes=11)).sent == 1
        assert [m["Message-ID"] for m in inbox.messages].count(ids[1]) == 2
    finally:
        controller.stop()
    with session_scope(clean) as session:
        statuses = session.execute(
            select(EmailOutbox.status, EmailOutbox.attempts).order_by(EmailOutbox.id)
        ).all()
        # two failed attempts and one delivery each; the second message was resent once more
        assert [tuple(s) for s in statuses] == [("sent", 3), ("sent", 4), ("sent", 3)]


def test_delivery_gives_up_after_the_last_attempt(clean: Engine, db_url: str) -> None:
    settings = make_settings(
        db_url, smtp_host="127.0.0.1", smtp_port=free_port(), notification_max_attempts=2
    )
    factory = make_session_factory(clean)
    queue_mail(clean, 1)
    deliver_due(factory, settings, now=NOW)
    report = deliver_due(factory, settings, now=NOW + timedelta(hours=2))
    assert report.gave_up == 1
    with session_scope(clean) as session:
        assert session.scalars(select(EmailOutbox.status)).one() == "failed"


# --- the API ---------------------------------------------------------------------------------------


@pytest.fixture
def api(clean: Engine, db_url: str) -> Iterator[tuple[TestClient, dict[str, Any]]]:
    settings = make_settings(db_url)
    with session_scope(clean) as session:
        world = build_world(session)
        opt_in(session, world, settings)
        batch = score(session, world, {world.ann: 0.8, world.ben: 0.9}, name="a.csv")
        evaluate_import(session, batch, settings=settings, now=NOW)
        _, key1 = accounts.create_api_key(session, "t1@school.example")
        _, key2 = accounts.create_api_key(session, "t2@school.example")
        ids = {"ann": world.ann, "ben": world.ben, "key1": key1, "key2": key2}
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {key1}"}) as client:
        yield client, ids


def test_api_lists_and_marks_read(api: tuple[TestClient, dict[str, Any]]) -> None:
    client, ids = api
    body = client.get("/api/notifications").json()
    assert (body["count"], body["unread"]) == (1, 1)
    [note] = body["data"]
    assert (note["rule"], note["student_id"], note["link"]) == (
        "high_risk",
        ids["ann"],
        f"/students/{ids['ann']}",
    )
    read = client.post(f"/api/notifications/{note['id']}/read")
    assert read.status_code == 200 and read.json()["read_at"] is not None
    assert client.get("/api/notifications").json()["unread"] == 0
    # someone else's notification does not exist for this caller
    other = client.get("/api/notifications", headers={"Authorization": f"Bearer {ids['key2']}"}).json()
    assert client.post(f"/api/notifications/{other['data'][0]['id']}/read").status_code == 404
    marked = client.post("/api/notifications/read-all", headers={"Authorization": f"Bearer {ids['key2']}"})
    assert marked.json() == {"marked": 1}


def test_api_preferences_and_snoozes(api: tuple[TestClient, dict[str, Any]]) -> None:
    client, ids = api
    assert client.get("/api/notifications/preferences").json() == {
        "channel": "in_app", "risk_rise_points": 15.0, "stale_days": 14, "admin_opt_in": False,
        "own_risk_rise_points": None, "own_stale_days": None,
    }  # fmt: skip
    saved = client.put(
        "/api/notifications/preferences",
        json={"channel": "email_digest", "stale_days": 5, "admin_opt_in": True},
    ).json()
    assert (saved["channel"], saved["stale_days"], saved["own_stale_days"], saved["admin_opt_in"]) == (
        "email_digest", 5, 5, False,  # a teacher cannot opt in to every student
    )  # fmt: skip
    bad = client.put("/api/notifications/preferences", json={"channel": "pigeon"})
    assert bad.status_code == 422 and "channel" in bad.text
    created = client.post("/api/notifications/snoozes", json={"student_id": ids["ann"], "days": 2})
    assert created.status_code == 201 and created.json()["student_id"] == ids["ann"]
    hidden = client.post("/api/notifications/snoozes", json={"student_id": ids["ben"]})
    assert hidden.status_code == 404  # Ben is not this teacher's student
    assert [s["student_id"] for s in client.get("/api/notifications/snoozes").json()] == [ids["ann"]]
    assert client.delete(f"/api/notifications/snoozes/{created.json()['id']}").status_code == 204
    assert client.get("/api/notifications/snoozes").json() == []


def test_health_needs_no_sign_in_and_reports_failing_delivery(
    api: tuple[TestClient, dict[str, Any]], clean: Engine
) -> None:
    client, _ = api
    anonymous = {"Authorization": ""}
    client.headers.pop("Authorization")
    ok = client.get("/api/notifications/health", headers={k: v for k, v in anonymous.items() if v})
    assert ok.status_code == 200
    body = ok.json()
    assert body["status"] == "ok" and body["outbox"]["depth"] == 0
    assert body["smtp"] == {"configured": False, "reachable": None, "error": None}
    assert body["realtime"]["broker"] in ("local", "postgresql") and body["realtime"]["connections"] == 0
    with session_scope(clean) as session:
        session.add(
            EmailOutbox(
                recipient="x@school.example", subject="s", body_text="t", body_html="h", message_id="<old@x>",
                created_at=datetime.now(UTC) - timedelta(hours=2), next_attempt_at=datetime.now(UTC),
            )
        )  # fmt: skip
    failing = client.get("/api/notifications/health")
    assert failing.status_code == 503
    assert failing.json()["status"] == "failing"
    assert "x@school.example" not in failing.text  # channel status only


def test_local_broker_publishes_after_commit_only(clean: Engine) -> None:
    async def scenario() -> list[dict[str, Any]]:
        broker = brokers.LocalBroker()
        await broker.start()
        brokers.attach(clean, broker)
        queue = broker.hub.subscribe(7)
        factory = make_session_factory(clean)
        try:
            with factory() as session:
                brokers.emit(session, {"user_id": 7, "id": 1})
                session.rollback()
            with session_scope(factory) as session:
                brokers.emit(session, {"user_id": 8, "id": 2})  # another user's
                brokers.emit(session, {"user_id": 7, "id": 3})
            await asyncio.sleep(0.05)
            got = []
            while not queue.empty():
                got.append(queue.get_nowait())
            return got
        finally:
            brokers.detach(clean)
            broker.hub.unsubscribe(7, queue)

    started = time.monotonic()
    assert asyncio.run(scenario()) == [{"user_id": 7, "id": 3}]
    assert time.monotonic() - started < 5
