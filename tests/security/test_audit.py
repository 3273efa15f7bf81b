"""The audit trail: append-only events, filters, CSV export, and what the routes record."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from api.support import seed_course
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from student_success.db.models import AuditEvent, AuditTrailIsAppendOnly
from student_success.errors import ValidationFailed
from student_success.services import audit
from student_success.services.audit import AuditFilter, SystemActor

from .conftest import BOOTSTRAP_KEY

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
BOOTSTRAP = "api-key:bootstrap"
ADMIN = {"Authorization": f"Bearer {BOOTSTRAP_KEY}"}


def _seed_events(session: Session) -> list[AuditEvent]:
    ada, bo = SystemActor(user_id=1, label="Ada@School.org"), SystemActor(user_id=2, label="bo@school.org")
    hour = timedelta(hours=1)
    return [
        audit.record(session, ada, "student.view", student_id=7, entity="student:7", ip="10.0.0.1", at=T0),
        audit.record(session, ada, "student.list", details={"count": 2, "student_ids": [7, 8]}, at=T0 + hour),
        audit.record(session, bo, "student.export", student_id=8, ip="2001:db8::1", at=T0 + 2 * hour),
        audit.record(
            session, bo, "intervention.update", student_id=7, entity="intervention:3", at=T0 + 3 * hour
        ),
    ]


def test_record_and_query_with_every_filter(session: Session) -> None:
    rows = _seed_events(session)
    ids = [r.id for r in rows]
    got, total = audit.query(session)
    assert ([r.id for r in got], total) == (ids[::-1], 4)
    assert (got[-1].actor_id, got[-1].actor, got[-1].ip, got[-1].entity) == (
        1,
        "Ada@School.org",
        "10.0.0.1",
        "student:7",
    )
    assert [r.id for r in audit.query(session, actor="ada@school.org")[0]] == [ids[1], ids[0]]
    assert [r.id for r in audit.query(session, action="student.")[0]] == [ids[2], ids[1], ids[0]]
    assert [r.id for r in audit.query(session, action="student.view")[0]] == [ids[0]]
    assert [r.id for r in audit.query(session, student_id=7)[0]] == [ids[3], ids[0]]
    window = audit.query(session, since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=3))[0]
    assert [r.id for r in window] == [ids[2], ids[1]]
    page, total = audit.query(session, limit=2, offset=2)
    assert ([r.id for r in page], total) == ([ids[1], ids[0]], 4)
    assert got[2].details == {"count": 2, "student_ids": [7, 8]}


def test_events_are_append_only_through_the_orm(session: Session) -> None:
    event = _seed_events(session)[0]
    event.action = "student.list"
    with pytest.raises(AuditTrailIsAppendOnly, match=f"audit event {event.id} cannot be changed"):
        session.flush()
    session.rollback()
    kept = audit.record(session, SystemActor(), "audit.view")
    session.delete(kept)
    with pytest.raises(AuditTrailIsAppendOnly, match=f"audit event {kept.id} cannot be changed"):
        session.flush()
    session.rollback()
    assert session.scalars(select(AuditEvent.action)).all() == []


def test_unknown_actions_and_bad_filters_are_refused(session: Session) -> None:
    with pytest.raises(ValueError, match=r"unknown audit action 'student\.peek'"):
        audit.record(session, SystemActor(), "student.peek")
    with pytest.raises(ValidationFailed) as naive:
        audit.query(session, since=datetime(2026, 1, 1))
    assert naive.value.errors[0].column == "since"
    assert "with a time zone" in naive.value.errors[0].message
    with pytest.raises(ValidationFailed) as backwards:
        audit.query(session, since=T0, until=T0)
    assert backwards.value.errors[0].message == "'until' must be later than 'since'"
    with pytest.raises(ValidationFailed, match="between 1 and 500"):
        audit.query(session, limit=501)


def test_csv_export_is_oldest_first_and_neutralises_formulas(session: Session) -> None:
    rows = _seed_events(session)
    audit.record(session, SystemActor(label='=HYPERLINK("http://x")'), "audit.export", entity="-2+3")
    text, n = audit.export_csv(session, AuditFilter(student_id=7))
    parsed = list(csv.reader(io.StringIO(text)))
    assert n == 2
    assert parsed[0] == list(audit.CSV_COLUMNS)
    assert [r[0] for r in parsed[1:]] == [str(rows[0].id), str(rows[3].id)]
    first = [
        "2026-03-01T09:00:00+00:00",
        "1",
        "Ada@School.org",
        "student.view",
        "student:7",
        "7",
        "10.0.0.1",
        "",
    ]
    assert parsed[1][1:] == first
    evil, _ = audit.export_csv(session, AuditFilter(action="audit.export"))
    assert list(csv.reader(io.StringIO(evil)))[1][3:6] == [
        '\'=HYPERLINK("http://x")',
        "audit.export",
        "'-2+3",
    ]


def _events(client: TestClient, **params: object) -> list[dict[str, object]]:
    response = client.get("/api/audit", params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def test_views_lists_exports_and_plans_are_recorded_with_who_and_where(
    admin: TestClient, seed: Session
) -> None:
    seed_course(seed, [("s1", "Ada Okafor", "A", 0.9), ("s2", "Bo Li", "B", 0.2)])
    listed = admin.get("/api/students").json()["data"]
    sid = {r["external_id"]: r["student_id"] for r in listed}
    assert admin.get(f"/api/students/{sid['s1']}").status_code == 200
    assert admin.get(f"/api/students/{sid['s1']}/history").status_code == 200
    assert admin.get("/api/exports/risk.csv").status_code == 200
    plan = admin.post("/api/interventions", json={"student_id": sid["s2"], "type_key": "tutoring"}).json()
    assert admin.patch(f"/api/interventions/{plan['id']}", json={"status": "in_progress"}).status_code == 200
    assert admin.get("/api/students/999999").status_code == 404  # a failed view leaves no claim

    events = _events(admin)[::-1]  # oldest first
    assert [(e["action"], e["student_id"], e["entity"]) for e in events] == [
        ("student.list", None, None),
        ("student.view", sid["s1"], f"student:{sid['s1']}"),
        ("student.view", sid["s1"], f"student:{sid['s1']}"),
        ("export.risk_list", None, None),
        ("intervention.create", sid["s2"], f"intervention:{plan['id']}"),
        ("intervention.update", sid["s2"], f"intervention:{plan['id']}"),
    ]
    assert {(e["actor"], e["actor_id"], e["ip"]) for e in events} == {(BOOTSTRAP, None, "testclient")}
    assert events[0]["details"] == {"count": 2, "student_ids": sorted(sid.values())}
    assert events[2]["details"] == {"part": "history"}
    assert events[3]["details"] == {"rows": 2}
    assert events[5]["details"] == {"fields": ["status"]}
    # reading the trail is itself recorded, with the filters used
    admin.get("/api/audit", params={"action": "student.view", "student_id": sid["s1"]})
    assert _events(admin, action="audit.view")[0]["details"] == {
        "count": 2, "filters": {"action": "student.view", "student_id": sid["s1"]}
    }  # fmt: skip


def test_admin_api_filters_pages_and_exports_csv(admin: TestClient, seed: Session) -> None:
    seed_course(seed, [("s1", "Ada Okafor", "A", 0.9)])
    student = admin.get("/api/students").json()["data"][0]["student_id"]
    for _ in range(3):
        admin.get(f"/api/students/{student}")
    page = admin.get("/api/audit", params={"action": "student.view", "limit": 2, "offset": 1}).json()
    assert (page["count"], len(page["data"]), page["limit"], page["offset"]) == (3, 2, 2, 1)
    bad = admin.get("/api/audit", params={"since": "2026-01-01T00:00:00Z", "until": "2025-01-01T00:00:00Z"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["column"] == "until"

    exported = admin.get("/api/audit/export.csv", params={"student_id": student})
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert exported.headers["content-disposition"] == 'attachment; filename="audit.csv"'
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [r[4] for r in rows[1:]] == ["student.view"] * 3
    last = _events(admin, action="audit.export")[0]
    assert last["details"] == {"rows": 3, "filters": {"student_id": student}}


def test_audit_page_lists_events_for_admins_and_escapes_filters(admin: TestClient, seed: Session) -> None:
    seed_course(seed, [("s1", "Ada Okafor", "A", 0.9)])
    admin.get("/api/students")
    page = admin.get("/audit", params={"action": "student.list"})
    assert page.status_code == 200
    assert "<td>student.list</td>" in page.text
    assert f"<td>{BOOTSTRAP}</td>" in page.text
    assert 'href="/api/audit/export.csv?action=student.list"' in page.text
    hostile = admin.get("/audit", params={"actor": '"><script>alert(1)</script>'})
    assert hostile.status_code == 200
    assert "<script>alert(1)" not in hostile.text
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in hostile.text
    assert "No events match these filters." in hostile.text


def test_teachers_cannot_read_the_trail(admin: TestClient, seed: Session) -> None:
    seed_course(seed, [("s1", "Ada Okafor", "A", 0.9)])
    section = admin.get("/api/students").json()["data"][0]["section_id"]
    user = admin.post(
        "/api/users", json={"email": "t@school.org", "role": "teacher", "section_ids": [section]}
    )
    assert user.status_code == 201, user.text
    assert user.json()["section_ids"] == [section]
    key = admin.post(f"/api/users/{user.json()['id']}/api-keys", json={"name": "laptop"}).json()
    teacher = {"Authorization": f"Bearer {key['key']}"}
    assert admin.get("/api/audit", headers=teacher).status_code == 403
    assert admin.get("/api/audit/export.csv", headers=teacher).status_code == 403
    page = admin.get("/audit", headers=teacher)
    assert page.status_code == 403
    assert '<a href="/audit"' in admin.get("/students").text  # the navigation offers it to admins only
    assert '<a href="/audit"' not in admin.get("/students", headers=teacher).text
    assert "Only an administrator can see this page." in page.text
    # the teacher's own reads are in the trail, named by the key's prefix (never the key)
    admin.get("/api/students", headers=teacher)
    mine = _events(admin, actor=f"api-key:{key['prefix']}")
    assert [e["action"] for e in mine] == ["student.list", "student.list"]  # the API, and the page before
    assert mine[0]["actor_id"] == user.json()["id"]
    admin_events = _events(admin, action="user.")
    assert [e["action"] for e in admin_events] == ["user.api_key.create", "user.create"]
    assert key["key"] not in str(admin_events)
