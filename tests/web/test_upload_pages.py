"""The upload flow: form → preview (format, mapping, variant, every bad row) → import → overview."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from .support import example_text, example_with, headings, needs_model, visible_text


def _stage(web: TestClient, content: bytes, *, as_of_day: str = "60", name: str = "gradebook.csv") -> str:
    response = web.post("/upload", files={"file": (name, content, "text/csv")}, data={"as_of_day": as_of_day})
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert re.fullmatch(r"/upload/[A-Za-z0-9_-]{16,64}", location)
    return location


def test_upload_form_labels_every_control(web: TestClient) -> None:
    page = web.get("/upload")
    assert page.status_code == 200
    assert headings(page.text, "h1") == ["Upload a gradebook"]
    for field_id in ("f-file", "f-as_of_day", "f-mapping"):
        assert f'<label for="{field_id}">' in page.text
        assert f'id="{field_id}"' in page.text
    assert 'enctype="multipart/form-data"' in page.text


def test_missing_file_and_bad_day_are_said_in_plain_words(web: TestClient) -> None:
    page = web.post("/upload", data={"as_of_day": "sixty"})
    assert page.status_code == 422
    text = visible_text(page.text)
    assert "Choose a file to upload." in text
    assert "Give the day of the term as a whole number, for example 60." in text
    assert 'value="sixty"' in page.text


def test_invalid_rows_are_listed_with_line_and_column(web: TestClient) -> None:
    bad = example_with("Section 1,8,15,17", "Section 1,eight,15,17")
    page = web.get(_stage(web, bad, name="bad gradebook.csv"))
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "This file cannot be imported yet: 1 problem(s) found." in text
    assert "Problems in the file" in headings(page.text, "h2")
    assert "3 Homework 1 (61667) expected a number, EX, N/A or empty eight" in text
    assert "Format Canvas gradebook export" in text
    assert "Import and score" not in text
    assert "Traceback" not in page.text


def test_canvas_export_without_a_day_says_what_is_missing(web: TestClient) -> None:
    page = web.get(_stage(web, example_text().encode(), as_of_day=""))
    text = visible_text(page.text)
    assert "whole file – this is a Canvas gradebook export, which carries no dates: give as_of_day" in text


def test_a_table_without_student_ids_says_which_names_are_accepted(web: TestClient) -> None:
    page = web.get(_stage(web, b"name,score\nAda,50\n", name="scores.csv"))
    text = visible_text(page.text)
    assert "Format Student table (CSV)" in text
    assert "This file cannot be imported yet: 1 problem(s) found." in text
    assert "whole file – no student id column; found: name, score; accepted: id_student" in text


def test_bad_mapping_is_reported_not_raised(web: TestClient) -> None:
    response = web.post(
        "/upload",
        files={"file": ("s.csv", b"student_id,score\n1,50\n", "text/csv")},
        data={"as_of_day": "", "mapping": "{not json"},
    )
    page = web.get(response.headers["location"])
    assert page.status_code == 200
    assert "the mapping must be a JSON object of strings" in visible_text(page.text)


def test_an_expired_upload_is_a_plain_404(web: TestClient) -> None:
    page = web.get("/upload/aaaaaaaaaaaaaaaaaaaaaaaa")
    assert page.status_code == 404
    assert headings(page.text, "h1") == ["This upload is no longer here"]
    assert web.get("/upload/..%2F..%2Fetc").status_code == 404


@needs_model
def test_preview_then_import_lands_on_the_overview(web: TestClient) -> None:
    preview_url = _stage(web, example_text().encode())
    page = web.get(preview_url)
    text = visible_text(page.text)
    assert headings(page.text, "h2") == ["What was found", "Column mapping", "First students"]
    assert "The file can be imported: 30 students found." in text
    assert "Format Canvas gradebook export Students 30" in text
    assert "Model that will score it gradebook only (gradebook)" in text
    assert "student_id ID" in text and "display_name Student" in text and "section Section" in text
    assert "Import and score 30 students" in text
    response = web.post(f"{preview_url}/import")
    assert response.status_code == 303
    assert re.fullmatch(r"/\?imported=\d+&created=1", response.headers["location"])
    overview = web.get(response.headers["location"])
    assert "Imported gradebook.csv: 30 students scored as of day 60." in visible_text(overview.text)
    # the staged file is gone once imported
    assert web.get(preview_url).status_code == 404


@needs_model
def test_names_with_markup_are_escaped_everywhere(web: TestClient) -> None:
    evil = "<script>alert('x')</script>"
    content = example_with('"Adeyemi, Emre"', f'"{evil}"')
    preview_url = _stage(web, content)
    preview = web.get(preview_url)
    assert "<script>alert" not in preview.text
    web.post(f"{preview_url}/import")
    listing = web.get(f"/students?q={evil}")
    assert "1 student shown" in visible_text(listing.text)
    assert "<script>alert" not in listing.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in listing.text
    student_id = re.search(r'href="/students/(\d+)\?course=', listing.text)
    assert student_id is not None
    detail = web.get(f"/students/{student_id.group(1)}")
    assert "<script>alert" not in detail.text
    assert headings(detail.text, "h1") == [evil]
    web.post(
        f"/students/{student_id.group(1)}/interventions", data={"type_key": "early_check_in", "goal": evil}
    )
    board = web.get("/interventions")
    assert "<script>alert" not in board.text
    escaped = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
    assert f'">{escaped}</a>' in board.text  # the student's name
    assert f'<div class="small">{escaped}</div>' in board.text  # the plan's goal
