"""Before any model is trained: the pages still work and say, in plain words, what is missing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from student_success.config import Settings

from .conftest import build_app
from .support import ensure_user, example_text, headings, sign_in, visible_text


@pytest.fixture
def bare(web_settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    """The app on the emptied test database with an empty model registry."""
    settings = web_settings.model_copy(update={"models_dir": tmp_path / "no-models"})
    with TestClient(build_app(settings), follow_redirects=False) as client:
        ensure_user(settings.database_url)
        yield sign_in(client)


def test_the_example_cannot_be_scored_and_says_why(bare: TestClient) -> None:
    page = bare.post("/example")
    assert page.status_code == 503
    assert headings(page.text, "h1") == ["The example could not be imported"]
    assert "No risk model is trained yet, so the students cannot be scored." in visible_text(page.text)
    assert "Traceback" not in page.text
    assert "No model is trained yet: see Model." in visible_text(page.text)


def test_preview_names_the_variant_the_file_needs_but_offers_no_import(bare: TestClient) -> None:
    response = bare.post(
        "/upload",
        files={"file": ("gradebook.csv", example_text().encode(), "text/csv")},
        data={"as_of_day": "60"},
    )
    page = bare.get(response.headers["location"])
    text = visible_text(page.text)
    assert "The file can be imported: 30 students found." in text
    assert "Model that will score it gradebook only (gradebook)" in text
    assert "No risk model is trained yet, so the file cannot be scored." in text
    assert "Import and score" not in text
    refused = bare.post(f"{response.headers['location']}/import")
    assert refused.headers["location"] == response.headers["location"]
    again = visible_text(bare.get(refused.headers["location"]).text)
    assert "The import did not work: No risk model is trained yet" in again


def test_model_page_says_no_model_is_trained(bare: TestClient) -> None:
    page = bare.get("/model")
    assert page.status_code == 200
    assert "No model is trained yet. The person who runs this system can train one" in visible_text(page.text)


def test_empty_lists_point_to_the_upload(bare: TestClient) -> None:
    assert "No students yet. Upload a gradebook to see who needs support." in visible_text(
        bare.get("/students").text
    )
    assert headings(bare.get("/interventions").text, "h2") == [
        "Planned 0",
        "In progress 0",
        "Completed 0",
        "Cancelled 0",
    ]
