"""Error bodies are always ``{"detail": ...}``; ``/health`` names the failing part."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from student_success.config import Settings
from student_success.services import students

from .support import make_client

BAD_VALUES = {"integer": "not-a-number", "boolean": "maybe"}


def _failing_request(path: str, method: str, operation: dict) -> tuple[str, dict] | None:
    """A request this route must refuse: a bad path id, an empty body, or a bad query value."""
    params = operation.get("parameters", [])
    if any(p["in"] == "path" for p in params):
        return re.sub(r"\{[^}]+\}", "999999", path), {}
    if method in ("post", "patch", "put"):
        return path, {}
    for p in params:
        schemas = [p["schema"], *p["schema"].get("anyOf", [])]
        kind = next((s["type"] for s in schemas if s.get("type") not in (None, "null")), None)
        longest = next((s["maxLength"] for s in schemas if "maxLength" in s), None)
        if kind == "string" and longest is not None:
            return path, {"params": {p["name"]: "x" * (longest + 1)}}
        if kind in BAD_VALUES and kind != "string":
            return path, {"params": {p["name"]: BAD_VALUES[kind]}}
    return None


def test_every_route_in_openapi_answers_errors_as_detail_json(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    checked = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("description") or operation.get("summary"), (
                f"{method} {path} has no docstring"
            )
            request = _failing_request(path, method, operation)
            if request is None:
                continue
            url, kwargs = request
            response = client.request(method.upper(), url, **kwargs)
            assert 400 <= response.status_code < 500, (method, url, response.status_code)
            assert response.headers["content-type"].startswith("application/json"), (method, url)
            assert "detail" in response.json(), (method, url)
            checked.append(f"{method.upper()} {path}")
    # every route was made to fail but these, which take no input that could be wrong
    every = {f"{m.upper()} {path}" for path, ops in spec["paths"].items() for m in ops}
    assert sorted(every - set(checked)) == [
        "GET /api/feedback/summary",
        "GET /api/models",
        "GET /api/notifications/health",
        "GET /api/notifications/preferences",
        "GET /api/notifications/snoozes",
        "GET /api/notifications/stream",
        "GET /health",
    ]
    assert "PATCH /api/interventions/{intervention_id}" in checked
    assert client.get("/api/no-such-route").json() == {"detail": "Not Found"}


def test_unexpected_errors_are_500_without_a_trace(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(students, "dashboard_summary", explode)
    with make_client(settings, raise_server_exceptions=False) as client:
        response = client.get("/api/dashboard")
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error"}
    assert "secret" not in response.text


def test_health_is_503_naming_the_database_when_it_is_unreachable(settings: Settings, tmp_path: Path) -> None:
    broken = settings.model_copy(
        update={"database_url": f"sqlite:///{tmp_path / 'missing' / 'folder' / 'x.db'}"}
    )
    with make_client(broken) as client:
        response = client.get("/health")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unhealthy"
        assert body["checks"]["database"]["ok"] is False
        assert body["checks"]["disk"]["ok"] is True
        # the model check depends on results/models, which this test does not control
        model_down = [] if body["checks"]["model"]["ok"] else ["model"]
        assert body["detail"] == "unhealthy: " + ", ".join(["database", *model_down])
        # the other routes say the database is down instead of failing obscurely
        students_response = client.get("/api/students")
        assert students_response.status_code == 503
        assert students_response.json() == {"detail": "the database is unavailable; see GET /health"}


def test_health_is_503_naming_the_model_when_none_is_trained(settings: Settings, tmp_path: Path) -> None:
    with make_client(settings.model_copy(update={"models_dir": tmp_path})) as client:
        response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["model"]["ok"] is False
    assert body["detail"] == "unhealthy: model"


def test_postgres_url_on_a_closed_port_is_reported(settings: Settings) -> None:
    broken = settings.model_copy(update={"database_url": "postgresql://postgres@127.0.0.1:1/none"})
    with make_client(broken) as client:
        body = client.get("/health").json()
    assert body["checks"]["database"] == {
        "ok": False,
        "backend": "postgresql",
        "error": body["checks"]["database"]["error"],
    }
    assert body["status"] == "unhealthy"


def test_models_route_without_a_model(settings: Settings, tmp_path: Path) -> None:
    with make_client(settings.model_copy(update={"models_dir": tmp_path})) as client:
        body = client.get("/api/models").json()
    assert body == {"active_version": None, "metadata": {}, "variants": [], "versions": []}
