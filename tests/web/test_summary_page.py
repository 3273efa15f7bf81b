"""The one-page student summary for a support meeting."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from student_success.services import interventions, students
from student_success.services.scope import Scope
from student_success.web.formatting import level_word, percent

from .support import headings, needs_model, visible_text


@needs_model
def test_summary_shows_the_students_own_numbers_reasons_and_plans(imported: TestClient, db: Session) -> None:
    [top], _ = students.list_students(db, scope=Scope.all(), limit=1)
    detail = students.get_student(db, top.student_id, scope=Scope.all())
    current = detail["latest"][0]
    interventions.create_interventions(
        db,
        [detail["id"]],
        scope=Scope.all(),
        type_key=current["recommendations"][0]["key"],
        goal="Hand in lab 3",
    )
    db.commit()

    page = imported.get(f"/students/{detail['id']}/summary")

    assert page.status_code == 200
    assert headings(page.text, "h2") == [
        "How the student is doing",
        "Why",
        "What could help",
        "What has been tried",
        "Risk over time",
        "Notes from the meeting",
    ]
    text = visible_text(page.text)
    assert (
        f"{level_word(current['risk_level'])} — {percent(current['probability'])} chance of not passing"
        in text
    )
    risk_sentences = [f["sentence"] for f in current["risk_factors"]]
    shown = [s for s in risk_sentences if s in text]
    assert shown and len(shown) <= 3
    assert current["recommendations"][0]["title"] in text
    assert "Hand in lab 3" in text
    assert "Planned" in text
    assert f"version {current['model_version']}" in text
    assert 'src="http://testserver/static/print.js"' in page.text
    assert imported.get("/static/print.js").status_code == 200


@needs_model
def test_student_page_links_to_the_summary(imported: TestClient, db: Session) -> None:
    [top], _ = students.list_students(db, scope=Scope.all(), limit=1)
    page = imported.get(f"/students/{top.student_id}")
    assert f'href="/students/{top.student_id}/summary?course=' in page.text


def test_summary_of_an_unknown_student_is_a_plain_404(web: TestClient) -> None:
    page = web.get("/students/999999/summary")
    assert page.status_code == 404
    assert headings(page.text, "h1") == ["Student not found"]
