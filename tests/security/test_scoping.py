"""A teacher sees only the students of their sections, on every route: API, pages, exports, imports."""

from __future__ import annotations

from collections.abc import Callable

from api.support import seed_course
from fastapi.testclient import TestClient
from sqlalchemy import select

from student_success.config import PROJECT_ROOT, Settings
from student_success.db.engine import make_engine, session_scope
from student_success.db.models import Course, Section, Student
from student_success.services import schools

from .conftest import BOOTSTRAP_KEY, Account, login

ADMIN = {"Authorization": f"Bearer {BOOTSTRAP_KEY}"}
ROSTER = [("a1", "Ada Mine", "A", 0.9), ("a2", "Ali Mine", "A", 0.2), ("b1", "Bea Other", "B", 0.8)]


def _seed(settings: Settings) -> tuple[dict[str, int], dict[str, int]]:
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            seed_course(session, ROSTER)
            students = {s.external_id: s.id for s in session.scalars(select(Student))}
            sections = {s.name: s.id for s in session.scalars(select(Section))}
            return students, sections
    finally:
        engine.dispose()


def test_a_teacher_of_another_section_gets_404_on_every_student_route(
    client: TestClient, settings: Settings, make_user: Callable[..., Account]
) -> None:
    students, sections = _seed(settings)
    other = students["b1"]
    plan = client.post(
        "/api/interventions", json={"student_id": other, "type_key": "tutoring"}, headers=ADMIN
    )
    assert plan.status_code == 201, plan.text
    plan_id = plan.json()["id"]
    teacher = make_user("teacher@school.example", role="teacher", section_ids=[sections["A"]])
    key = teacher.bearer

    for path in (f"/api/students/{other}", f"/api/students/{other}/history", f"/api/interventions/{plan_id}"):
        response = client.get(path, headers=key)
        assert response.status_code == 404, path
        assert "Bea" not in response.text
    assert (
        client.patch(f"/api/interventions/{plan_id}", json={"status": "completed"}, headers=key).status_code
        == 404
    )
    create = client.post(
        "/api/interventions", json={"student_id": other, "type_key": "tutoring"}, headers=key
    )
    assert create.status_code == 404
    bulk = client.post(
        "/api/interventions/bulk",
        json={"student_ids": [students["a1"], other], "type_key": "tutoring"},
        headers=key,
    )
    assert bulk.status_code == 404
    listed = client.get("/api/students", headers=key).json()
    assert sorted(r["external_id"] for r in listed["data"]) == ["a1", "a2"]
    assert client.get("/api/interventions", headers=key).json()["count"] == 0
    assert client.get(f"/api/interventions?student_id={other}", headers=key).json()["count"] == 0
    risk = client.get("/api/exports/risk.csv", headers=key).text
    assert "Ada Mine" in risk and "Bea Other" not in risk
    assert "Bea Other" not in client.get("/api/exports/interventions.csv", headers=key).text
    assert client.get("/api/dashboard", headers=key).json()["counts"] == {"high": 1, "medium": 0, "low": 1}

    csrf = login(client, "teacher@school.example")
    page = client.get(f"/students/{other}")
    assert page.status_code == 404 and "Bea Other" not in page.text
    planned = client.post(
        f"/students/{other}/interventions", data={"type_key": "tutoring", "csrf_token": csrf}
    )
    assert planned.status_code == 404
    status = client.post(f"/interventions/{plan_id}/status", data={"status": "completed", "csrf_token": csrf})
    assert status.status_code in (303, 404)
    assert client.get(f"/api/interventions/{plan_id}", headers=ADMIN).json()["status"] == "planned"
    assert "Bea Other" not in client.get("/students").text
    assert "Bea Other" not in client.get("/interventions").text
    assert "Ada Mine" in client.get("/students").text


def test_a_counsellor_sees_only_the_caseload_and_without_one_nothing(
    client: TestClient, settings: Settings, make_user: Callable[..., Account]
) -> None:
    students, _ = _seed(settings)
    with_caseload = make_user("c1@school.example", role="counsellor", student_ids=[students["b1"]])
    without = make_user("c2@school.example", role="counsellor")
    rows = client.get("/api/students", headers=with_caseload.bearer).json()["data"]
    assert [r["external_id"] for r in rows] == ["b1"]
    assert client.get(f"/api/students/{students['a1']}", headers=with_caseload.bearer).status_code == 404
    assert client.get("/api/students", headers=without.bearer).json()["count"] == 0
    admin = make_user("admin@school.example")
    assert client.get("/api/students", headers=admin.bearer).json()["count"] == 3


def test_a_school_counsellor_sees_the_students_of_that_schools_courses_only(
    client: TestClient, settings: Settings, make_user: Callable[..., Account]
) -> None:
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            seed_course(session, ROSTER)
            seed_course(session, [("c1", "Cal Elsewhere", "C", 0.7)], course="CHEM_201")
            courses = {c.external_id: c.id for c in session.scalars(select(Course))}
            north = schools.create_school(session, "North High")
            schools.create_school(session, "South High")
            assert schools.assign_courses(session, north.id, [courses["BIO_101"]]) == 1
            students = {s.external_id: s.id for s in session.scalars(select(Student))}
            north_id = north.id
    finally:
        engine.dispose()
    counsellor = make_user("north@school.example", role="counsellor", school_ids=[north_id])
    both = make_user(
        "both@school.example", role="counsellor", school_ids=[north_id], student_ids=[students["c1"]]
    )

    rows = client.get("/api/students", headers=counsellor.bearer).json()["data"]
    assert sorted(r["external_id"] for r in rows) == ["a1", "a2", "b1"]
    assert client.get(f"/api/students/{students['c1']}", headers=counsellor.bearer).status_code == 404
    assert client.get("/api/students", headers=both.bearer).json()["count"] == 4
    listed = client.get("/api/users", headers=ADMIN).json()["data"]
    assert {u["email"]: u["school_ids"] for u in listed} == {
        "north@school.example": [north_id],
        "both@school.example": [north_id],
    }


def test_a_staged_upload_is_seen_and_imported_only_by_its_uploader(
    client: TestClient, make_user: Callable[..., Account]
) -> None:
    owner = make_user("owner@school.example", role="teacher")
    other = make_user("other@school.example", role="teacher")
    example = (PROJECT_ROOT / "examples" / "canvas_gradebook_export.csv").read_bytes()
    staged = client.post(
        "/upload", headers=owner.bearer, files={"file": ("gradebook.csv", example, "text/csv")},
        data={"as_of_day": "60"}, follow_redirects=False,
    )  # fmt: skip
    assert staged.status_code == 303
    preview = staged.headers["location"]

    assert client.get(preview, headers=other.bearer).status_code == 404
    assert client.post(f"{preview}/import", headers=other.bearer, follow_redirects=False).status_code == 404
    assert client.post(f"{preview}/mapping", headers=other.bearer, follow_redirects=False).status_code == 404
    assert client.get(preview, headers=owner.bearer).status_code == 200
