"""A student's records on request (export, deletion) and the retention purge of raw imports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from api.support import seed_course
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from student_success.cli.main import app as cli
from student_success.config import Settings
from student_success.db.engine import make_engine, session_scope
from student_success.db.models import AuditEvent, ImportBatch, Student
from student_success.errors import ValidationFailed
from student_success.services.privacy import purge_raw_imports

from .conftest import BOOTSTRAP_KEY

ADMIN = {"Authorization": f"Bearer {BOOTSTRAP_KEY}"}
NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def _two_students(admin: TestClient, seed: Session) -> dict[str, int]:
    seed_course(seed, [("s1", "Ada Okafor", "A", 0.9), ("s2", "Bo Li", "B", 0.2)])
    rows = admin.get("/api/students").json()["data"]
    return {r["external_id"]: r["student_id"] for r in rows}


def test_record_holds_everything_about_the_student_and_who_viewed_it(
    admin: TestClient, seed: Session
) -> None:
    ids = _two_students(admin, seed)
    sid = ids["s1"]
    plan = admin.post(
        "/api/interventions", json={"student_id": sid, "type_key": "tutoring", "notes": "weekly"}
    )
    admin.patch(f"/api/interventions/{plan.json()['id']}", json={"status": "in_progress"})
    admin.get(f"/api/students/{sid}")

    response = admin.get(f"/api/students/{sid}/record")
    assert response.status_code == 200, response.text
    record = response.json()
    assert record["format"] == "student-record/1"
    assert {k: record["student"][k] for k in ("id", "source", "external_id", "display_name")} == {
        "id": sid, "source": "canvas", "external_id": "s1", "display_name": "Ada Okafor"
    }  # fmt: skip
    tables = {name: rows for name, rows in record["tables"].items() if rows}
    assert {"enrollment", "prediction", "intervention"} <= set(tables)
    assert [len(tables[t]) for t in ("enrollment", "prediction", "intervention")] == [1, 1, 1]
    assert tables["prediction"][0]["factors"][0]["sentence"] == "risk of s1"
    assert tables["intervention"][0]["notes"] == "weekly"
    assert [e["changes"].get("status") for e in record["intervention_events"]] == [
        [None, "planned"], ["planned", "in_progress"]
    ]  # fmt: skip
    assert [(e["action"], e["actor"]) for e in record["audit_events"]] == [
        ("intervention.create", "api-key:bootstrap"),
        ("intervention.update", "api-key:bootstrap"),
        ("student.view", "api-key:bootstrap"),
    ]
    # nothing about the other student
    assert all(row.get("student_id", sid) == sid for rows in tables.values() for row in rows)
    exported = admin.get("/api/audit", params={"action": "student.export"}).json()["data"]
    assert [(e["student_id"], e["details"]["rows"]["prediction"]) for e in exported] == [(sid, 1)]
    assert admin.get("/api/students/999999/record").status_code == 404


def test_delete_removes_every_record_and_keeps_the_audit_trail(admin: TestClient, seed: Session) -> None:
    ids = _two_students(admin, seed)
    sid = ids["s1"]
    plan = admin.post("/api/interventions", json={"student_id": sid, "type_key": "tutoring"}).json()
    admin.patch(f"/api/interventions/{plan['id']}", json={"status": "in_progress"})
    admin.get(f"/api/students/{sid}")

    response = admin.delete(f"/api/students/{sid}")
    assert response.status_code == 200, response.text
    deleted = response.json()["deleted"]
    expected = {"student": 1, "enrollment": 1, "prediction": 1, "intervention": 1, "intervention_event": 2}
    assert {k: deleted[k] for k in expected} == expected
    assert admin.get(f"/api/students/{sid}").status_code == 404
    assert admin.delete(f"/api/students/{sid}").status_code == 404
    assert [r["student_id"] for r in admin.get("/api/students").json()["data"]] == [ids["s2"]]
    seed.rollback()
    assert seed.scalar(select(func.count()).select_from(Student)) == 1
    trail = seed.scalars(
        select(AuditEvent.action).where(AuditEvent.student_id == sid).order_by(AuditEvent.id)
    )
    assert list(trail) == ["intervention.create", "intervention.update", "student.view", "student.delete"]


def test_only_administrators_delete(admin: TestClient, seed: Session) -> None:
    ids = _two_students(admin, seed)
    section = admin.get("/api/students").json()["data"][0]["section_id"]
    user = admin.post(
        "/api/users", json={"email": "t@school.org", "role": "teacher", "section_ids": [section]}
    )
    key = admin.post(f"/api/users/{user.json()['id']}/api-keys", json={}).json()["key"]
    teacher = {"Authorization": f"Bearer {key}"}
    visible = admin.get("/api/students").json()["data"][0]["student_id"]
    assert admin.delete(f"/api/students/{visible}", headers=teacher).status_code == 403
    page = admin.post(f"/students/{visible}/delete", data={"confirm": "delete"}, headers=teacher)
    assert page.status_code == 403
    assert sorted(r["student_id"] for r in admin.get("/api/students").json()["data"]) == sorted(ids.values())


def test_student_page_offers_export_and_a_confirmed_delete_to_admins(
    admin: TestClient, seed: Session
) -> None:
    sid = _two_students(admin, seed)["s1"]
    page = admin.get(f"/students/{sid}")
    assert f'href="/api/students/{sid}/record"' in page.text
    assert f'href="/students/{sid}/delete"' in page.text
    confirm = admin.get(f"/students/{sid}/delete")
    assert confirm.status_code == 200
    assert "Delete everything stored about Ada Okafor" in confirm.text
    assert f'action="/students/{sid}/delete"' in confirm.text
    unconfirmed = admin.post(f"/students/{sid}/delete")
    assert (unconfirmed.status_code, unconfirmed.headers["location"]) == (303, f"/students/{sid}/delete")
    assert admin.get(f"/api/students/{sid}").status_code == 200
    done = admin.post(f"/students/{sid}/delete", data={"confirm": "delete"})
    assert (done.status_code, done.headers["location"]) == (303, "/students?deleted=1")
    assert admin.get(f"/api/students/{sid}").status_code == 404


def _batch(
    session: Session, name: str, *, age_days: int, errors: list[dict[str, object]] | None
) -> ImportBatch:
    batch = ImportBatch(
        source_type="generic", file_name=name, file_sha256=name.ljust(64, "0"), rows_total=3, rows_rejected=1,
        status="failed" if errors else "completed", errors=errors, created_at=NOW - timedelta(days=age_days),
    )  # fmt: skip
    session.add(batch)
    session.flush()
    return batch


ROW_ERROR = {
    "file": "f.csv",
    "line": 3,
    "column": "score",
    "message": "expected a number",
    "value": "Ada: n/a",
}


def test_purge_drops_old_row_errors_and_keeps_the_summary(session: Session) -> None:
    old = _batch(session, "old.csv", age_days=40, errors=[ROW_ERROR])
    recent = _batch(session, "recent.csv", age_days=5, errors=[ROW_ERROR])
    clean = _batch(session, "clean.csv", age_days=90, errors=None)
    result = purge_raw_imports(session, days=30, now=NOW)
    assert (result.batches, result.cutoff) == (1, NOW - timedelta(days=30))
    session.expire_all()
    assert [session.get(ImportBatch, b.id).errors for b in (old, recent, clean)] == [None, [ROW_ERROR], None]  # type: ignore[union-attr]
    kept = session.get(ImportBatch, old.id)
    assert kept is not None
    assert (kept.file_sha256, kept.rows_total, kept.rows_rejected, kept.status) == (
        "old.csv".ljust(64, "0"),
        3,
        1,
        "failed",
    )
    assert purge_raw_imports(session, days=30, now=NOW).batches == 0  # idempotent
    with pytest.raises(ValidationFailed, match="at least 1 day"):
        purge_raw_imports(session, days=0)


def test_purge_command_uses_the_option_or_the_setting(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        _batch(session, "old.csv", age_days=400, errors=[ROW_ERROR])
    runner = CliRunner()
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.delenv("RAW_IMPORT_RETENTION_DAYS", raising=False)
    missing = runner.invoke(cli, ["privacy", "purge-imports"])
    assert (missing.exit_code, missing.output.strip()) == (
        1, "error: give --days N or set RAW_IMPORT_RETENTION_DAYS (no retention is set)"
    )  # fmt: skip
    monkeypatch.setenv("RAW_IMPORT_RETENTION_DAYS", "365")
    done = runner.invoke(cli, ["privacy", "purge-imports"])
    assert done.exit_code == 0, done.output
    assert done.output.startswith("purged the stored row errors of 1 import(s) created before ")
    assert done.output.strip().endswith("(older than 365 days)")
    again = runner.invoke(cli, ["privacy", "purge-imports", "--days", "30"])
    assert "of 0 import(s)" in again.output
    with session_scope(engine) as session:
        actions = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "privacy.purge_imports")
        )
        assert [(d["days"], d["batches"]) for d in actions] == [(365, 1), (30, 0)]
    engine.dispose()
