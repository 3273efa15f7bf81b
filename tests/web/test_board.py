"""Planning support from a student's page, and the interventions board (status changes, bulk, filters)."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from student_success.config import Settings
from student_success.services import interventions, students
from student_success.services.scope import Scope
from student_success.web.common import today

from .support import ensure_user, headings, needs_model, visible_text


def _top_student(db: Session) -> students.StudentRow:
    return students.list_students(db, scope=Scope.all(), limit=1)[0][0]


def _plan(web: TestClient, student_id: int, **fields: str) -> int:
    response = web.post(f"/students/{student_id}/interventions", data={"type_key": "tutoring", **fields})
    assert response.status_code == 303, response.text
    match = re.fullmatch(
        rf"/students/{student_id}\?(?:course=\d+&)?planned=(\d+)#tried", response.headers["location"]
    )
    assert match, response.headers["location"]
    return int(match.group(1))


def _column(html: str, status: str) -> str:
    start = html.index(f'id="col-{status}"')
    end = html.find('<section class="column"', start)
    return html[start : end if end != -1 else len(html)]


def test_empty_board_has_four_columns(web: TestClient) -> None:
    page = web.get("/interventions")
    assert page.status_code == 200
    assert headings(page.text, "h1") == ["Interventions"]
    assert headings(page.text, "h2") == ["Planned 0", "In progress 0", "Completed 0", "Cancelled 0"]
    assert "0 plans shown." in visible_text(page.text)


@needs_model
def test_plan_this_prefills_type_reason_owner_and_due_date(imported: TestClient, db: Session) -> None:
    top = _top_student(db)
    page = imported.get(f"/students/{top.student_id}")
    rec = students.get_student(db, top.student_id, scope=Scope.all())["latest"][0]["recommendations"][0]
    due = (today() + timedelta(weeks=6)).isoformat()
    assert f'<input type="hidden" name="type_key" value="{rec["key"]}">' in page.text
    assert f'name="due_date" value="{due}"' in page.text
    assert "Owner: you · due in 6 weeks" in visible_text(page.text)
    form = re.search(
        r'<form method="post" action="/students/\d+/interventions" aria-label="Plan [^"]+">(.*?)</form>',
        page.text,
        re.S,
    )
    assert form is not None
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form.group(1)))
    response = imported.post(f"/students/{top.student_id}/interventions", data=fields)
    assert response.status_code == 303
    db.rollback()  # a fresh transaction sees what the app committed
    item = interventions.list_interventions(db, scope=Scope.all(), student_id=top.student_id)[0][0]
    assert (item.type_key, item.goal, item.due_date.isoformat(), item.status) == (
        rec["key"],
        rec["reason"],
        due,
        "planned",
    )
    after = imported.get(response.headers["location"])
    assert "The plan was saved. It is on the interventions board." in visible_text(after.text)
    assert f"{rec['title']} Planned" in visible_text(after.text)


@needs_model
def test_board_moves_a_plan_to_completed_one_click_at_a_time(imported: TestClient, db: Session) -> None:
    top = _top_student(db)
    plan_id = _plan(imported, top.student_id, goal="catch up on homework")
    board = imported.get("/interventions")
    assert "Academic tutoring" in visible_text(_column(board.text, "planned"))
    started = imported.post(f"/interventions/{plan_id}/status", data={"status": "in_progress"})
    assert (started.status_code, started.headers["location"]) == (303, "/interventions?updated=1")
    board = imported.get(started.headers["location"])
    assert "1 plan updated." in visible_text(board.text)
    assert "Academic tutoring" in visible_text(_column(board.text, "in_progress"))
    done = imported.post(
        f"/interventions/{plan_id}/status", data={"status": "completed", "outcome": "  handed in all work "}
    )
    board = imported.get(done.headers["location"])
    completed = visible_text(_column(board.text, "completed"))
    assert f"Academic tutoring {top.display_name}" in completed
    assert "Mark completed" not in completed  # a closed plan offers no more moves
    student_page = visible_text(imported.get(f"/students/{top.student_id}").text)
    assert "Academic tutoring Completed" in student_page
    assert "Outcome: handed in all work" in student_page
    # a move the status does not allow changes nothing and says so
    again = imported.post(f"/interventions/{plan_id}/status", data={"status": "in_progress"})
    assert again.headers["location"] == "/interventions?updated=0&skipped=1"
    db.rollback()
    assert interventions.get_intervention(db, plan_id, scope=Scope.all()).status == "completed"


@needs_model
def test_bulk_actions_change_the_selected_plans_and_skip_impossible_moves(
    imported: TestClient, db: Session
) -> None:
    rows = students.list_students(db, scope=Scope.all(), limit=2)[0]
    first, second = (_plan(imported, r.student_id) for r in rows)
    response = imported.post(
        "/interventions/bulk", data={"status": "in_progress", "ids": [str(first), str(second)]}
    )
    assert response.headers["location"] == "/interventions?updated=2&skipped=0"
    assert "2 plans updated." in visible_text(imported.get(response.headers["location"]).text)
    third = _plan(imported, rows[0].student_id)
    response = imported.post(
        "/interventions/bulk", data={"status": "completed", "ids": [str(first), str(third)]}
    )
    assert response.headers["location"] == "/interventions?updated=1&skipped=1"
    db.rollback()
    statuses = {i.id: i.status for i in interventions.list_interventions(db, scope=Scope.all())[0]}
    assert statuses == {first: "completed", second: "in_progress", third: "planned"}
    nothing = imported.post("/interventions/bulk", data={"status": "cancelled"})
    assert "Nothing was selected, so nothing changed." in visible_text(
        imported.get(nothing.headers["location"]).text
    )


@needs_model
def test_board_filters_by_status_and_overdue(imported: TestClient, db: Session) -> None:
    rows = students.list_students(db, scope=Scope.all(), limit=2)[0]
    late = _plan(imported, rows[0].student_id, due_date="2020-01-31")
    _plan(imported, rows[1].student_id)
    overdue = imported.get("/interventions?overdue=yes")
    assert "1 plan shown." in visible_text(overdue.text)
    planned = visible_text(_column(overdue.text, "planned"))
    # the plan belongs to the person who planned it: the signed-in admin
    assert f"{rows[0].display_name} Tier 2 · due 31 Jan 2020 · owner: admin@school.example Overdue" in planned
    assert rows[1].display_name not in planned
    imported.post(f"/interventions/{late}/status", data={"status": "cancelled"})
    cancelled = imported.get("/interventions?status=cancelled")
    assert "1 plan shown." in visible_text(cancelled.text)
    assert headings(cancelled.text, "h2") == ["Planned 0", "In progress 0", "Completed 0", "Cancelled 1"]


@needs_model
def test_a_bad_due_date_is_explained(imported: TestClient, db: Session) -> None:
    top = _top_student(db)
    page = imported.post(
        f"/students/{top.student_id}/interventions", data={"type_key": "tutoring", "due_date": "soon"}
    )
    assert page.status_code == 422
    assert "Give the due date as a date, for example 2026-03-31." in visible_text(page.text)
    page = imported.post(f"/students/{top.student_id}/interventions", data={"type_key": "magic"})
    assert page.status_code == 422
    assert "Unknown intervention type" in visible_text(page.text)


@needs_model
def test_a_plan_is_given_to_an_owner_who_can_see_the_student(
    imported: TestClient, db: Session, web_settings: Settings
) -> None:
    top = _top_student(db)
    first = _plan(imported, top.student_id)
    second = _plan(imported, top.student_id, type_key="study_skills")
    counsellor = ensure_user(web_settings.database_url, "coach@school.example", role="counsellor",
                             display_name="Coach Kim", student_ids=[top.student_id])  # fmt: skip
    stranger = ensure_user(web_settings.database_url, "far@school.example", role="teacher")

    given = imported.post(f"/interventions/{first}/owner", data={"assignee_id": str(counsellor)})
    assert given.status_code == 303
    board = imported.get("/interventions")
    assert "owner: Coach Kim" in visible_text(_column(board.text, "planned"))
    refused = imported.post(f"/interventions/{first}/owner", data={"assignee_id": str(stranger)})
    assert refused.status_code == 422
    assert f"Far@school.example cannot see student {top.student_id}." in visible_text(refused.text)

    bulk = imported.post(
        "/interventions/bulk", data={"status": f"assign:{counsellor}", "ids": [first, second]}
    )
    assert bulk.headers["location"] == "/interventions?updated=2&skipped=0"
    db.rollback()
    owners = {i.id: i.assignee_id for i in interventions.list_interventions(db, scope=Scope.all())[0]}
    assert owners == {first: counsellor, second: counsellor}
    assert "Give to Coach Kim" in imported.get("/interventions").text
