"""The editable column mapping on the upload preview, and the ``/status`` page."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from student_success import __version__
from student_success.config import Settings
from student_success.ingest.generic import CANONICAL_NAMES

from .conftest import build_app
from .support import AUTH, HAS_MODEL, MODELS_DIR, example_text, headings, needs_model, visible_text

# one row per student, with an id column no synonym recognises
LEARNERS = (
    b"Learner Code,Full Name,Average Score,Credits\n"
    b"L-001,Ada Lovelace,72,60\n"
    b"L-002,Alan Turing,38,120\n"
    b"L-003,Grace Hopper,55,60\n"
)


def _stage(web: TestClient, content: bytes, *, name: str, as_of_day: str = "") -> str:
    response = web.post("/upload", files={"file": (name, content, "text/csv")}, data={"as_of_day": as_of_day})
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def _selected(html: str, field: str) -> str:
    """The text of the option selected in the mapping select of ``field``."""
    select = re.search(rf'<select id="f-map-{field}"[^>]*>(.*?)</select>', html, re.S)
    assert select is not None, field
    chosen = re.search(r"<option value=\"[^\"]*\" selected>([^<]*)</option>", select.group(1))
    assert chosen is not None, field
    return chosen.group(1)


def _choose(web: TestClient, preview_url: str, **chosen: str) -> httpx.Response:
    data = {f"col_{field}": column for field, column in chosen.items()}
    return web.post(f"{preview_url}/mapping", data=data)


def test_an_unknown_id_column_shows_the_mapping_missing_and_an_error(web: TestClient) -> None:
    page = web.get(_stage(web, LEARNERS, name="learners.csv"))
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "Format Student table (CSV)" in text
    assert "This file cannot be imported yet: 1 problem(s) found." in text
    assert "Not found in this file: choose the column that holds each student's ID." in text
    assert "whole file – no student id column; found: Learner Code, Full Name, Average Score, Credits" in text
    assert _selected(page.text, "student_id") == "— not in this file —"
    # what was recognised by its name is pre-selected
    assert _selected(page.text, "name") == "Full Name"
    assert _selected(page.text, "early_avg_score") == "Average Score"
    assert _selected(page.text, "studied_credits") == "Credits"
    # one labelled select per canonical field, the options being the file's header cells
    for field in sorted(CANONICAL_NAMES):
        assert f'<label for="f-map-{field}">' in page.text
        assert f'<select id="f-map-{field}" name="col_{field}"' in page.text
    assert '<option value="Learner Code">Learner Code</option>' in page.text
    assert f'action="{page.url.path}/mapping"' in page.text
    assert "Import and score" not in text


def test_choosing_the_id_column_fixes_the_preview(web: TestClient) -> None:
    preview_url = _stage(web, LEARNERS, name="learners.csv")
    response = _choose(
        web, preview_url, student_id="Learner Code", name="Full Name", early_avg_score="Average Score",
        studied_credits="Credits",
    )  # fmt: skip
    assert response.status_code == 303
    assert response.headers["location"] == f"{preview_url}?mapping=saved"
    page = web.get(f"{preview_url}?mapping=saved")
    text = visible_text(page.text)
    assert "Your choice of columns is saved: the preview below uses it." in text
    assert "The file can be imported: 3 students found." in text
    assert "Problems in the file" not in headings(page.text, "h2")
    assert "cannot be imported yet" not in text
    assert _selected(page.text, "student_id") == "Learner Code"
    assert "L-001 Ada Lovelace" in text


@needs_model
def test_the_import_uses_the_chosen_mapping(web: TestClient) -> None:
    preview_url = _stage(web, LEARNERS, name="learners.csv")
    _choose(web, preview_url, student_id="Learner Code")
    page = web.get(preview_url)
    assert "Import and score 3 students" in visible_text(page.text)
    response = web.post(f"{preview_url}/import")
    assert response.status_code == 303, response.text
    assert re.fullmatch(r"/\?imported=\d+&created=1", response.headers["location"])
    students = web.get("/api/students").json()
    assert students["count"] == 3
    assert sorted(s["external_id"] for s in students["data"]) == ["L-001", "L-002", "L-003"]


def test_a_text_column_as_a_score_is_a_row_error_and_is_not_kept(web: TestClient) -> None:
    preview_url = _stage(web, LEARNERS, name="learners.csv")
    page = _choose(web, preview_url, student_id="Learner Code", early_avg_score="Full Name")
    assert page.status_code == 422
    text = visible_text(page.text)
    assert "Your choice of columns was not saved: the file does not read with it." in text
    assert "This file cannot be imported yet: 3 problem(s) found." in text
    assert "2 Full Name expected a number Ada Lovelace" in text
    assert "4 Full Name expected a number Grace Hopper" in text
    # the form keeps what was chosen, so it can be corrected
    assert _selected(page.text, "early_avg_score") == "Full Name"
    # nothing was stored: the preview still has no mapping
    again = web.get(preview_url)
    assert _selected(again.text, "student_id") == "— not in this file —"


def test_one_column_for_two_fields_is_an_error(web: TestClient) -> None:
    preview_url = _stage(web, LEARNERS, name="learners.csv")
    page = _choose(web, preview_url, student_id="Learner Code", name="Learner Code")
    assert page.status_code == 422
    text = visible_text(page.text)
    assert (
        "whole file Learner Code this column is chosen for student_id and name; choose each column once"
        in text
    )


def test_a_canvas_export_shows_its_fixed_mapping_read_only(web: TestClient) -> None:
    preview_url = _stage(web, example_text().encode(), name="gradebook.csv", as_of_day="60")
    page = web.get(preview_url)
    text = visible_text(page.text)
    assert (
        "A Canvas gradebook export always has the same columns, so this mapping is fixed by the format "
        "and cannot be changed here." in text
    )
    assert "student_id ID" in text
    assert "<select" not in page.text
    assert f"{preview_url}/mapping" not in page.text
    # posting a mapping anyway changes nothing
    response = _choose(web, preview_url, student_id="Student")
    assert response.status_code == 400
    assert "student_id ID" in visible_text(web.get(preview_url).text)


def test_mapping_an_expired_upload_is_a_plain_404(web: TestClient) -> None:
    response = web.post("/upload/aaaaaaaaaaaaaaaaaaaaaaaa/mapping", data={"col_student_id": "x"})
    assert response.status_code == 404
    assert headings(response.text, "h1") == ["This upload is no longer here"]


def test_status_page_says_everything_works(web: TestClient) -> None:
    page = web.get("/status")
    assert page.status_code == 200
    assert headings(page.text, "h1") == ["System status"]
    text = visible_text(page.text)
    assert re.search(r"Database ✓ Working (SQLite|PostgreSQL) answered a test query in [\d.]+ ms\.", text)
    assert re.search(r"Disk space ✓ Working [\d,.]+ GB free where the data lives", text)
    assert f"App version {__version__}" in text
    assert '<a href="/health">The same checks as JSON (/health)</a>' in page.text
    assert '<a href="/status" aria-current="page">System status</a>' in page.text
    if HAS_MODEL:
        version = web.get("/health").json()["checks"]["model"]["version"]
        assert "Everything is working." in text
        assert f"Active model ✓ Working Model {version} loads and its files are intact" in text
    assert '<span class="check-icon" aria-hidden="true">✓</span> Working' in page.text


@needs_model
def test_status_page_names_the_model_version(web: TestClient) -> None:
    metadata = json.loads((MODELS_DIR / "model_metadata.json").read_text(encoding="utf-8"))
    active = metadata["active_version"]
    text = visible_text(web.get("/status").text)
    assert f"Active model ✓ Working Model {active} loads and its files are intact" in text
    assert f"Active model {active} For monitoring" in text


def test_status_page_says_when_the_database_is_not_working(
    web_settings: Settings, db_backend: str, tmp_path: Path
) -> None:
    broken_url = (
        f"sqlite:///{tmp_path / 'missing' / 'folder' / 'x.db'}"
        if db_backend == "sqlite"
        else "postgresql://postgres@127.0.0.1:1/none"
    )
    broken = web_settings.model_copy(update={"database_url": broken_url})
    with TestClient(build_app(broken), follow_redirects=False, headers=AUTH) as client:  # no DB to sign in
        page = client.get("/status")
    assert page.status_code == 200
    text = visible_text(page.text)
    backend = "SQLite" if db_backend == "sqlite" else "PostgreSQL"
    assert f"Database ✗ Not working {backend} cannot be reached:" in text
    assert "Not everything is working: database" in text
    assert "Disk space ✓ Working" in text
