"""Intervention lifecycle over HTTP, its history, the board filters and the CSV exports."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from student_success.db.models import CounsellorCaseload, User

from .support import count, seed_course


def _student_ids(client: TestClient) -> dict[str, int]:
    rows = client.get("/api/students", params={"limit": 500}).json()["data"]
    return {r["external_id"]: r["student_id"] for r in rows}


def _seed(db: Session, client: TestClient) -> dict[str, int]:
    seed_course(
        db, [("s1", "Ada Okafor", "A", 0.9), ("s2", "=cmd|' /C calc'!A0", "A", 0.7), ("s3", None, "B", 0.2)]
    )
    return _student_ids(client)


def test_lifecycle_with_history_and_rejected_transitions(client: TestClient, db: Session) -> None:
    ids = _seed(db, client)
    created = client.post(
        "/api/interventions",
        json={"student_id": ids["s1"], "type_key": "tutoring", "due_date": "2030-01-31", "notes": "weekly"},
    )
    assert created.status_code == 201, created.text
    item = created.json()
    assert (item["status"], item["title"], item["tier"], item["priority"]) == (
        "planned",
        "Academic tutoring",
        2,
        "medium",
    )
    assert item["events"][0]["changes"]["status"] == [None, "planned"]
    iid = item["id"]

    started = client.patch(f"/api/interventions/{iid}", json={"status": "in_progress", "priority": "high"})
    assert started.status_code == 200
    assert started.json()["events"][-1]["changes"] == {
        "status": ["planned", "in_progress"],
        "priority": ["medium", "high"],
    }
    done = client.patch(f"/api/interventions/{iid}", json={"status": "completed", "outcome": "caught up"})
    assert done.json()["status"] == "completed"

    reopened = client.patch(f"/api/interventions/{iid}", json={"status": "in_progress"})
    assert reopened.status_code == 409
    allowed = "allowed: none (it is closed)"
    assert reopened.json() == {
        "detail": f"intervention {iid} is completed: it cannot become in_progress ({allowed})"
    }
    history = client.get(f"/api/interventions/{iid}").json()["events"]
    assert len(history) == 3
    assert history[2]["changes"] == {"status": ["in_progress", "completed"], "outcome": [None, "caught up"]}
    assert count(db, "intervention_event") == 3
    # the student page shows it
    assert [i["id"] for i in client.get(f"/api/students/{ids['s1']}").json()["interventions"]] == [iid]


def test_invalid_values_are_rejected_not_coerced(client: TestClient, db: Session) -> None:
    ids = _seed(db, client)
    iid = client.post("/api/interventions", json={"student_id": ids["s1"], "type_key": "tutoring"}).json()[
        "id"
    ]
    for body in (
        {"priority": "urgent"},
        {"tier": "2"},
        {"tier": 4},
        {"status": "done"},
        {"due_date": "next week"},
        {"student_id": ids["s2"]},
        {"title": 5},
    ):
        response = client.patch(f"/api/interventions/{iid}", json=body)
        assert response.status_code == 422, body
        assert "detail" in response.json()
    unknown_type = client.post("/api/interventions", json={"student_id": ids["s1"], "type_key": "magic"})
    assert unknown_type.status_code == 422
    assert unknown_type.json()["errors"][0]["column"] == "type_key"
    no_user = client.patch(f"/api/interventions/{iid}", json={"assignee_id": 4242})
    assert no_user.status_code == 422
    assert no_user.json()["errors"][0]["message"] == "no active user with id 4242"
    # nothing changed: one creation event only
    assert len(client.get(f"/api/interventions/{iid}").json()["events"]) == 1
    assert client.patch("/api/interventions/999999", json={"notes": "x"}).status_code == 404
    missing_student = client.post("/api/interventions", json={"student_id": 999999, "type_key": "tutoring"})
    assert missing_student.status_code == 404


def test_cancel_keeps_the_plan_and_only_from_open_states(client: TestClient, db: Session) -> None:
    ids = _seed(db, client)
    iid = client.post(
        "/api/interventions", json={"student_id": ids["s1"], "type_key": "guardian_contact"}
    ).json()["id"]
    assert client.patch(f"/api/interventions/{iid}", json={"status": "cancelled"}).status_code == 200
    assert client.get(f"/api/interventions/{iid}").json()["status"] == "cancelled"
    assert client.patch(f"/api/interventions/{iid}", json={"status": "planned"}).status_code == 409
    assert count(db, "intervention") == 1
    # planned cannot jump to completed
    other = client.post("/api/interventions", json={"student_id": ids["s1"], "type_key": "tutoring"}).json()[
        "id"
    ]
    assert client.patch(f"/api/interventions/{other}", json={"status": "completed"}).status_code == 409


def test_bulk_create_is_all_or_nothing(client: TestClient, db: Session) -> None:
    ids = _seed(db, client)
    body = {"student_ids": [ids["s1"], ids["s2"], ids["s1"]], "type_key": "other", "title": "Check-in call"}
    created = client.post("/api/interventions/bulk", json=body)
    assert created.status_code == 201
    assert created.json()["count"] == 2
    assert {i["title"] for i in created.json()["data"]} == {"Check-in call"}
    failed = client.post(
        "/api/interventions/bulk", json={"student_ids": [ids["s3"], 999999], "type_key": "tutoring"}
    )
    assert failed.status_code == 404
    assert failed.json() == {"detail": "student(s) not found: 999999"}
    assert count(db, "intervention") == 2


def test_board_filters_status_assignee_and_overdue(client: TestClient, db: Session) -> None:
    ids = _seed(db, client)
    db.add(User(email="coach@example.org", role="counsellor"))
    db.commit()
    coach = db.query(User).one().id
    refused = client.post(
        "/api/interventions", json={"student_id": ids["s1"], "type_key": "tutoring", "assignee_id": coach}
    )
    assert refused.status_code == 422  # an owner must be able to see the student
    assert refused.json()["errors"][0]["message"] == f"coach@example.org cannot see student {ids['s1']}"
    db.add(CounsellorCaseload(user_id=coach, student_id=ids["s1"]))
    db.commit()
    past = (date.today() - timedelta(days=3)).isoformat()
    future = (date.today() + timedelta(days=3)).isoformat()
    make = lambda sid, **kw: client.post(  # noqa: E731
        "/api/interventions", json={"student_id": sid, "type_key": "tutoring", **kw}
    ).json()["id"]
    late = make(ids["s1"], due_date=past, assignee_id=coach)
    make(ids["s2"], due_date=future)
    closed = make(ids["s3"], due_date=past)
    client.patch(f"/api/interventions/{closed}", json={"status": "cancelled"})
    board = lambda **params: client.get("/api/interventions", params=params).json()  # noqa: E731
    assert board()["count"] == 3
    assert [i["id"] for i in board(overdue=True)["data"]] == [late]
    assert board(overdue=True)["data"][0]["overdue"] is True
    assert board(overdue=False)["count"] == 2
    assert [i["id"] for i in board(assignee_id=coach)["data"]] == [late]
    assert board(status="cancelled")["count"] == 1
    assert board(status="planned")["count"] == 2
    assert client.get("/api/interventions", params={"status": "done"}).status_code == 422


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_exports_neutralise_formulas(client: TestClient, db: Session) -> None:
    ids = _seed(db, client)
    client.post(
        "/api/interventions",
        json={
            "student_id": ids["s2"],
            "type_key": "tutoring",
            "notes": '=HYPERLINK("http://x")',
            "goal": "+1",
        },
    )
    response = client.get("/api/exports/interventions.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="interventions.csv"'
    [row] = _csv(response.text)
    assert row["notes"] == '\'=HYPERLINK("http://x")'
    assert row["goal"] == "'+1"
    assert row["student_name"] == "'=cmd|' /C calc'!A0"
    assert row["status"] == "planned"

    risk = _csv(client.get("/api/exports/risk.csv").text)
    assert [r["external_id"] for r in risk] == ["s1", "s2", "s3"]
    assert risk[1]["display_name"] == "'=cmd|' /C calc'!A0"
    assert (risk[0]["risk_probability"], risk[0]["risk_level"], risk[0]["top_factors"]) == (
        "0.9",
        "high",
        "risk of s1",
    )
    assert risk[2]["display_name"] == ""
    high = _csv(client.get("/api/exports/risk.csv", params={"risk_level": "high"}).text)
    assert [r["external_id"] for r in high] == ["s1", "s2"]
