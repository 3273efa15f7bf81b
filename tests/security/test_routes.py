"""Every route needs credentials except the public ones; every response carries the security headers."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from student_success.api.auth import PUBLIC_PREFIXES, PUBLIC_ROUTES, is_api_path
from student_success.api.security import CONTENT_SECURITY_POLICY

from .conftest import BOOTSTRAP_KEY, Account

EXPECTED_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


def _walk(routes: list[Any]) -> list[tuple[Any, str]]:
    """(route, full path) of every route, descending into included routers.

    FastAPI 0.12x+ keeps included routers as branches (``effective_candidates()``) instead of copying
    their routes into ``app.routes``.
    """
    found: list[tuple[Any, str]] = []
    for route in routes:
        if hasattr(route, "effective_candidates"):
            found += _walk(route.effective_candidates())
        else:
            found.append((getattr(route, "original_route", route), route.path))
    return found


def _every_route(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every route of the app, path parameters filled with 1."""
    found = []
    for route, path in _walk(list(app.routes)):
        if isinstance(route, Mount):
            found.append(("GET", path + "/app.css"))
        elif isinstance(route, APIRoute | Route):
            for method in sorted(route.methods or {"GET"}):
                found.append((method, re.sub(r"\{[^}]+\}", "1", path)))
    return found


def test_every_route_but_the_public_ones_answers_401_without_credentials(
    app: FastAPI, client: TestClient, make_user: Callable[..., Account]
) -> None:
    make_user("admin@school.example")  # with a user, the 401 page is the sign-in form
    routes = _every_route(app)
    assert ("GET", "/docs") in routes and ("GET", "/openapi.json") in routes
    assert ("PATCH", "/api/interventions/1") in routes and ("POST", "/students/1/interventions") in routes
    checked = 0
    for method, path in routes:
        if method == "HEAD" or (method, path) in PUBLIC_ROUTES or path.startswith(PUBLIC_PREFIXES):
            continue
        response = client.request(method, path)
        assert response.status_code == 401, (method, path, response.status_code)
        if is_api_path(path):
            assert response.headers["www-authenticate"] == "Bearer", path
            assert response.json() == {
                "detail": "not signed in: send Authorization: Bearer <API key>, or sign in at /login"
            }
        else:
            assert response.headers["content-type"].startswith("text/html"), path
            assert '<form method="post" action="/login"' in response.text, path
            expected_next = path if method == "GET" else "/"
            assert f'name="next" value="{expected_next}"' in response.text, path
        checked += 1
    assert checked >= 30, checked


def test_the_public_routes_answer_without_credentials(client: TestClient) -> None:
    assert client.get("/health").status_code in (200, 503)
    assert client.get("/login").status_code == 200
    assert client.get("/static/app.css").status_code == 200
    assert client.post("/logout").status_code == 303
    # a bad session cookie on a public route is ignored, not an error
    client.cookies.set("ss_session", "forged")
    assert client.get("/login").status_code == 200


def test_a_bad_key_is_refused_and_the_openapi_document_needs_a_key(client: TestClient) -> None:
    bad = client.get("/api/students", headers={"Authorization": "Bearer not-a-key"})
    assert bad.status_code == 401
    assert bad.json() == {
        "detail": "the API key or session is not valid (revoked, expired, or the user is disabled)"
    }
    basic = client.get("/api/students", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401
    assert client.get("/openapi.json").status_code == 401
    spec = client.get("/openapi.json", headers={"Authorization": f"Bearer {BOOTSTRAP_KEY}"})
    assert spec.status_code == 200
    assert "/api/students" in spec.json()["paths"]


@pytest.mark.parametrize(
    ("path", "auth", "status"),
    [
        ("/login", False, 200),  # a page
        ("/students", False, 401),  # the sign-in page in place of a page
        ("/api/students", False, 401),  # an API refusal
        ("/api/students?limit=50", True, 200),  # an API answer
        ("/api/no-such-route", True, 404),  # not found
        ("/static/app.css", False, 200),  # a static file
        ("/static/no-such.css", False, 404),  # a missing static file
    ],
)
def test_security_headers_on_every_kind_of_response(
    client: TestClient, path: str, auth: bool, status: int
) -> None:
    headers = {"Authorization": f"Bearer {BOOTSTRAP_KEY}"} if auth else {}
    response = client.get(path, headers=headers)
    assert response.status_code == status
    for name, value in EXPECTED_HEADERS.items():
        assert response.headers[name] == value, (path, name)
    assert "unsafe-inline" not in response.headers["content-security-policy"]


def test_an_unexpected_error_has_the_headers_and_no_trace(app: FastAPI) -> None:
    from student_success.services import students

    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internals /etc/passwd")

    original = students.dashboard_summary
    students.dashboard_summary = explode  # type: ignore[assignment]
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            response = client.get("/api/dashboard", headers={"Authorization": f"Bearer {BOOTSTRAP_KEY}"})
    finally:
        students.dashboard_summary = original  # type: ignore[assignment]
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error"}
    assert "/etc/passwd" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_pages_have_no_inline_script_or_style(client: TestClient) -> None:
    page = client.get("/login").text
    assert "<script>" not in page and "style=" not in page
    assert re.search(r"\son[a-z]+=", page) is None
