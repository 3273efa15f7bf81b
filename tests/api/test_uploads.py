"""Uploads over HTTP: preview, import, idempotent re-import, new scoring points, row errors, limits."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from student_success.config import Settings

from .support import count, example_bytes, make_client, needs_model

CANVAS = "canvas_gradebook_export.csv"


def _post(client: TestClient, url: str, content: bytes, *, name: str = CANVAS, **form: str):
    return client.post(url, files={"file": (name, content, "text/csv")}, data=form)


def _bad_export() -> bytes:
    # line 3 is the first student (line 2 is Points Possible); "15" is their Quiz 1 score
    lines = example_bytes().split(b"\n")
    assert lines[2].startswith(b'"Adeyemi, Emre",322757')
    lines[2] = lines[2].replace(b",8,15,17,", b",8,abc,17,", 1)
    return b"\n".join(lines)


def test_preview_reports_format_mapping_and_variant_and_stores_nothing(
    client: TestClient, db: Session
) -> None:
    response = _post(client, "/api/uploads/preview", example_bytes(), as_of_day="60")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["format"] == "canvas"
    assert body["students"] == 30
    assert body["courses"] == ["canvas_gradebook_export"]
    assert body["assessments"] == 8
    assert body["column_mapping"] == {"student_id": "ID", "display_name": "Student", "section": "Section"}
    assert body["variant"] == "gradebook"
    assert body["sample"][0] == {
        "student_id": "322757",
        "display_name": "Emre Adeyemi",
        "section": "Section 1",
    }
    assert count(db, "student") == 0
    assert count(db, "import_batch") == 0


def test_preview_of_a_bad_file_lists_row_errors(client: TestClient, db: Session) -> None:
    body = _post(client, "/api/uploads/preview", _bad_export(), as_of_day="60").json()
    assert body["ok"] is False
    assert body["errors"] == [
        {
            "file": CANVAS,
            "line": 3,
            "column": "Quiz 1 (61670)",
            "message": "expected a number, EX, N/A or empty",
            "value": "abc",
        }
    ]
    assert count(db, "import_batch") == 0


def test_bad_csv_is_422_with_line_and_column_and_nothing_stored(client: TestClient, db: Session) -> None:
    response = _post(client, "/api/uploads", _bad_export(), as_of_day="60")
    assert response.status_code == 422
    body = response.json()
    assert body["detail"].startswith("1 problem(s) in the input")
    assert [(e["line"], e["column"], e["value"]) for e in body["errors"]] == [(3, "Quiz 1 (61670)", "abc")]
    for table in ("course", "student", "enrollment", "assessment", "assessment_result", "prediction"):
        assert count(db, table) == 0, table
    # the failure itself is recorded (in its own transaction), once per file
    _post(client, "/api/uploads", _bad_export(), as_of_day="60")
    imports = client.get("/api/imports").json()
    assert imports["count"] == 1
    [failed] = imports["data"]
    assert (failed["status"], failed["source_type"], failed["rows_rejected"]) == ("failed", "canvas", 1)
    assert failed["errors"][0]["line"] == 3


def test_canvas_export_without_as_of_day_is_422(client: TestClient) -> None:
    response = _post(client, "/api/uploads", example_bytes())
    assert response.status_code == 422
    assert "as_of_day" in response.json()["detail"]


def test_mapping_must_be_a_json_object(client: TestClient) -> None:
    response = _post(client, "/api/uploads/preview", b"id,score\n1,50\n", name="x.csv", mapping="[1, 2]")
    assert response.status_code == 422
    assert response.json()["errors"][0]["file"] == "mapping"


def test_generic_preview_uses_the_explicit_mapping(client: TestClient) -> None:
    content = b"learner,avg\n1,50\n2,70\n"
    mapping = json.dumps({"student_id": "learner", "early_avg_score": "avg"})
    body = _post(client, "/api/uploads/preview", content, name="x.csv", mapping=mapping).json()
    assert body["format"] == "generic"
    assert body["column_mapping"] == {"student_id": "learner", "early_avg_score": "avg"}
    assert (body["ok"], body["students"], body["variant"]) == (True, 2, "summary")


def test_oversized_upload_is_413(settings: Settings) -> None:
    small = settings.model_copy(update={"max_upload_bytes": 1000})
    with make_client(small) as client:
        # refused from Content-Length before the body is read
        huge = _post(client, "/api/uploads", b"x" * 200_000, as_of_day="60")
        assert huge.status_code == 413
        assert huge.json() == {"detail": "the file is larger than the limit of 1,000 bytes"}
        # a little over: refused after reading at most limit + 1 bytes
        over = _post(client, "/api/uploads/preview", example_bytes()[:1001], as_of_day="60")
        assert over.status_code == 413
        assert over.json()["detail"] == "the file is larger than the limit of 1,000 bytes"


def test_too_many_rows_is_413(settings: Settings) -> None:
    few = settings.model_copy(update={"max_upload_rows": 10})
    with make_client(few) as client:
        response = _post(client, "/api/uploads", example_bytes(), as_of_day="60")
    assert response.status_code == 413
    assert response.json() == {"detail": "the file has more than the limit of 10 rows"}


def test_upload_without_a_model_is_503_and_stores_nothing(
    settings: Settings, tmp_path: Path, db: Session
) -> None:
    no_model = settings.model_copy(update={"models_dir": tmp_path})
    with make_client(no_model) as client:
        response = _post(client, "/api/uploads", example_bytes(), as_of_day="60")
    assert response.status_code == 503
    assert "no trained model" in response.json()["detail"]
    assert count(db, "student") == 0
    assert count(db, "import_batch") == 0


@needs_model
def test_upload_scores_30_students_and_reimport_changes_nothing(client: TestClient, db: Session) -> None:
    first = _post(client, "/api/uploads", example_bytes(), as_of_day="60")
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["created"], body["predictions"], body["variant"]) == (True, 30, "gradebook")
    batch = body["batch"]
    assert (batch["status"], batch["rows_total"], batch["as_of_day"]) == ("completed", 30, 60)
    assert batch["row_counts"]["student"] == {"inserted": 30, "updated": 0}
    assert batch["row_counts"]["assessment_result"]["inserted"] == count(db, "assessment_result")
    assert count(db, "prediction") == 30
    students = client.get("/api/students", params={"limit": 500}).json()
    assert students["count"] == 30
    assert {s["as_of_day"] for s in students["data"]} == {60}
    probabilities = [s["probability"] for s in students["data"]]
    assert probabilities == sorted(probabilities, reverse=True)

    again = _post(client, "/api/uploads", example_bytes(), as_of_day="60")
    assert again.status_code == 200
    assert again.json()["created"] is False
    assert again.json()["batch"]["id"] == batch["id"]
    assert count(db, "prediction") == 30
    assert count(db, "import_batch") == 1
    assert client.get("/api/students").json()["count"] == 30


@needs_model
def test_a_newer_export_adds_a_scoring_point(client: TestClient, db: Session) -> None:
    assert _post(client, "/api/uploads", example_bytes(), as_of_day="60").status_code == 201
    newer = example_bytes().replace(b'"Adeyemi, Emre",322757,S2024001,eadeyemi,Section 1,8,15,',
                                    b'"Adeyemi, Emre",322757,S2024001,eadeyemi,Section 1,2,3,')  # fmt: skip
    second = _post(client, "/api/uploads", newer, as_of_day="67")
    assert second.status_code == 201, second.text
    assert second.json()["batch"]["row_counts"]["assessment_result"]["updated"] == 2
    assert count(db, "prediction") == 60
    assert count(db, "student") == 30
    emre = client.get("/api/students", params={"q": "322757"}).json()["data"][0]
    history = client.get(f"/api/students/{emre['student_id']}/history").json()["data"]
    assert [p["as_of_day"] for p in history] == [60, 67]
    assert emre["as_of_day"] == 67
    assert client.get("/api/students").json()["count"] == 30
    assert client.get("/api/dashboard").json()["total"] == 30


@needs_model
def test_health_is_200_when_database_and_model_work(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "healthy"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "model": True,
        "disk": True,
    }
