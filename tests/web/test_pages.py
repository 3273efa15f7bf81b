"""Every page after importing the bundled Canvas example: status, headings and the services' numbers."""

from __future__ import annotations

import csv
import html
import io
import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from student_success.services import students
from student_success.services.scope import Scope
from student_success.web.formatting import percent

from .support import example_text, headings, needs_model, visible_text


def test_empty_overview_offers_one_clear_action(web: TestClient) -> None:
    response = web.get("/")
    assert response.status_code == 200
    assert headings(response.text, "h1") == ["See which students need support now"]
    text = visible_text(response.text)
    assert "Upload a gradebook" in text
    assert "Try the example gradebook" in text
    assert 'action="/example"' in response.text


def test_static_stylesheet_is_served(web: TestClient) -> None:
    response = web.get("/static/app.css")
    assert response.status_code == 200
    assert ":focus-visible" in response.text


@needs_model
def test_example_button_imports_and_redirects_to_the_overview(web: TestClient, db: Session) -> None:
    response = web.post("/example")
    assert response.status_code == 303
    assert re.fullmatch(r"/\?imported=\d+&created=1", response.headers["location"])
    page = web.get(response.headers["location"])
    assert page.status_code == 200
    assert "Imported canvas_gradebook_export.csv: 30 students scored as of day 60." in visible_text(page.text)
    again = web.post("/example")
    assert again.headers["location"].endswith("&created=0")
    assert "canvas_gradebook_export.csv was imported before, so nothing changed." in visible_text(
        web.get(again.headers["location"]).text
    )


@needs_model
def test_overview_shows_counts_chart_changes_and_model(imported: TestClient, db: Session) -> None:
    summary = students.dashboard_summary(db, scope=Scope.all())
    rows, _ = students.list_students(db, scope=Scope.all(), limit=100)
    page = imported.get("/")
    assert page.status_code == 200
    assert headings(page.text, "h1") == ["Who needs support now"]
    assert headings(page.text, "h2") == [
        "Students by level",
        "Start with these students",
        "Spread of risk",
        "What changed since the last upload",
    ]
    assert headings(page.text, "h3") == ["New to the list (0)", "Rising (0)", "Improving (0)"]
    text = visible_text(page.text)
    counts = summary["counts"]
    assert summary["total"] == 30
    for level, words in (("high", "Needs support now"), ("medium", "Keep an eye on"), ("low", "On track")):
        assert f"{words} {counts[level]} See these {counts[level]} students" in text
    assert "30 students in all. Scored by the gradebook only (gradebook) model" in text
    assert 'href="/model#variant-gradebook"' in page.text
    # the chart is an SVG with a table of the same numbers
    assert '<svg class="chart"' in page.text and 'role="img"' in page.text
    for bucket in summary["histogram"]:
        low, high = round(bucket["from"] * 100), round(bucket["to"] * 100)
        assert f'<th scope="row">{low}–{high} %</th><td class="num">{bucket["count"]}</td>' in page.text
    first = rows[0]
    assert f"{first.display_name} {percent(first.probability)} {first.top_factors[0]}" in text


@needs_model
def test_overview_filters_by_course_and_section(imported: TestClient, db: Session) -> None:
    rows = students.iter_risk_list(db, scope=Scope.all())
    section = next(r for r in rows if r.section_name == "Section 1")
    in_section = [r for r in rows if r.section_id == section.section_id]
    page = imported.get(f"/?course={section.course_id}&section={section.section_id}")
    assert page.status_code == 200
    assert f"{len(in_section)} students in all." in visible_text(page.text)
    assert f'<option value="{section.section_id}" selected>' in page.text


@needs_model
def test_student_list_shows_level_words_percent_reason_and_open_plans(
    imported: TestClient, db: Session
) -> None:
    rows, total = students.list_students(db, scope=Scope.all(), limit=25)
    page = imported.get("/students")
    assert page.status_code == 200
    assert headings(page.text, "h1") == ["Students"]
    text = visible_text(page.text)
    assert f"{total} students shown" in text
    assert total == 30
    headers = re.findall(r'<th scope="col"[^>]*>(?:<a href="[^"]*">)?([^<]+)(?:</a>)?</th>', page.text)
    assert headers == [
        "Student",
        "Course · section",
        "Level",
        "Chance of not passing",
        "Main reason",
        "Open plans",
    ]
    top = rows[0]
    assert (
        f"{top.display_name} ID {top.external_id} {top.course_name} · {top.section_name} ! Needs support now "
        f"{percent(top.probability)} {top.top_factors[0]} 0"
    ) in text
    assert "Page 1 of 2" in text and "Next page" in text
    page2 = imported.get("/students?page=2")
    assert "Page 2 of 2" in visible_text(page2.text)
    assert page2.text.count('<td class="name">') == 5


@needs_model
def test_student_list_filters_searches_and_sorts(imported: TestClient, db: Session) -> None:
    _, n_high = students.list_students(
        db, scope=Scope.all(), filters=students.StudentFilter(risk_level="high"), limit=100
    )
    page = imported.get("/students?level=high")
    assert f"{n_high} student{'s' if n_high != 1 else ''} shown" in visible_text(page.text)
    assert page.text.count("Keep an eye on</span>") == 0
    by_name, _ = students.list_students(db, scope=Scope.all(), sort="name", limit=25)
    page = imported.get("/students?sort=name")
    names = re.findall(r'<td class="name"><a href="/students/\d+\?course=\d+">([^<]+)</a>', page.text)
    assert [html.unescape(n) for n in names] == [r.display_name for r in by_name]
    assert '<th scope="col" aria-sort="ascending"><a href="?sort=-name">Student</a></th>' in page.text
    page = imported.get("/students?q=Okafor")
    assert "1 student shown" in visible_text(page.text)
    assert "Layla Okafor" in visible_text(page.text)
    page = imported.get("/students?q=nobody-like-this")
    assert "No students match these filters." in visible_text(page.text)


@needs_model
def test_student_page_answers_the_five_questions_in_order(imported: TestClient, db: Session) -> None:
    top = students.list_students(db, scope=Scope.all(), limit=1)[0][0]
    detail = students.get_student(db, top.student_id, scope=Scope.all())
    current = detail["latest"][0]
    page = imported.get(f"/students/{top.student_id}")
    assert page.status_code == 200
    assert headings(page.text, "h1") == [top.display_name]
    assert headings(page.text, "h2") == [
        f"How is {top.display_name} doing?",
        "Why",
        "What could help",
        "What has been tried",
        "Risk over time",
    ]
    text = visible_text(page.text)
    assert f"Needs support now {percent(current['probability'])} chance of not passing" in text
    assert current["risk_in_words"] in text
    assert re.fullmatch(
        r"About \d in 10 students with a record like this did not pass\.|.+", current["risk_in_words"]
    )
    for factor in current["risk_factors"]:
        assert factor["sentence"] in text
    for rec in current["recommendations"]:
        assert rec["title"] in text and rec["reason"] in text
    assert text.count("Plan this") == len(current["recommendations"]) >= 1
    assert "No support has been planned yet." in text
    # the contribution chart has a table equivalent, and the risk line too
    assert "Each reason and how much it moves the estimate" in text
    assert f"Scored by the gradebook only (gradebook) model, version {current['model_version']}" in text


@needs_model
def test_unknown_student_is_a_plain_404_page(imported: TestClient) -> None:
    page = imported.get("/students/999999")
    assert page.status_code == 404
    assert headings(page.text, "h1") == ["Student not found"]
    assert "Traceback" not in page.text


def test_model_page_names_version_variants_and_card(web: TestClient) -> None:
    from student_success.api.routes.models import list_models

    info = list_models(web.app.state.settings)  # type: ignore[attr-defined]
    page = web.get("/model")
    assert page.status_code == 200
    assert headings(page.text, "h1")[0] == "The risk model"
    if info["active_version"] is None:
        assert "No model is trained yet." in visible_text(page.text)
        return
    assert f"Active version {info['active_version']}" in visible_text(page.text)
    h2 = headings(page.text, "h2")
    for variant in info["variants"]:
        assert f'id="variant-{variant["name"]}"' in page.text
    assert "Variant: gradebook only (gradebook)" in h2
    assert "Model card" in h2
    assert "What the measures mean" in h2


def _export_with_scores(changes: dict[str, str]) -> bytes:
    """The example export with every assignment of some students set to full marks or to zero.

    ``changes`` maps a student's Canvas ID to ``"full"`` or ``"zero"``.
    """
    rows = list(csv.reader(io.StringIO(example_text())))
    header, possible = rows[0], rows[1]
    assignments = [i for i, name in enumerate(header) if re.search(r"\(\d+\)$", name)]
    for row in rows[2:]:
        how = changes.get(row[1])
        for i in assignments if how else []:
            row[i] = possible[i] if how == "full" else "0"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


@needs_model
def test_overview_says_what_changed_since_the_last_upload(imported: TestClient, db: Session) -> None:
    before = {r.external_id: r for r in students.iter_risk_list(db, scope=Scope.all())}
    riskiest = max(before.values(), key=lambda r: r.probability)
    safest = min(before.values(), key=lambda r: r.probability)
    content = _export_with_scores({riskiest.external_id: "full", safest.external_id: "zero"})
    staged = imported.post(
        "/upload",
        files={"file": ("canvas_gradebook_export.csv", content, "text/csv")},
        data={"as_of_day": "60"},
    )
    done = imported.post(f"{staged.headers['location']}/import")
    assert done.status_code == 303
    db.rollback()
    changes = students.dashboard_summary(db, scope=Scope.all())["changes"]
    assert riskiest.student_id in {c["student_id"] for c in changes["improving"]}
    assert safest.student_id in {c["student_id"] for c in changes["rising"]}
    page = imported.get("/")
    text = visible_text(page.text)
    for key, heading in (
        ("new_to_high", "New to the list"),
        ("rising", "Rising"),
        ("improving", "Improving"),
    ):
        assert f"{heading} ({len(changes[key])})" in headings(page.text, "h3")
        for c in changes[key]:
            before_now = (
                f"{percent(c['previous_probability'])} → " if c["previous_probability"] is not None else ""
            )
            assert f"{c['display_name']}: {before_now}{percent(c['probability'])}" in text
