"""Signing in and out: sessions, cookie flags, lockout, CSRF, first run, disabled users."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from student_success.api import create_app
from student_success.config import Settings
from student_success.db.engine import make_engine, session_scope
from student_success.db.models import LoginFailure, User, UserSession
from student_success.services import accounts

from .conftest import PASSWORD, Account, form_token, login


def _sessions(settings: Settings) -> list[str]:
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            return list(session.scalars(select(UserSession.token_hash)))
    finally:
        engine.dispose()


def test_login_sets_a_safe_cookie_and_stores_only_its_hash(
    client: TestClient, settings: Settings, make_user: Callable[..., Account]
) -> None:
    make_user("Teacher@School.example", role="teacher")
    token = form_token(client.get("/login").text)
    client.cookies.set("ss_session", "planted-by-an-attacker")
    response = client.post(
        "/login",
        data={
            "email": "TEACHER@school.example",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/students",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/students"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain HTTP here
    value = response.cookies["ss_session"]
    assert value != "planted-by-an-attacker"
    assert _sessions(settings) == [hashlib.sha256(value.encode()).hexdigest()]
    client.cookies.clear()
    client.cookies.set("ss_session", value)
    assert client.get("/students").status_code == 200


def test_each_login_gets_a_new_session_and_logout_ends_it(
    client: TestClient, settings: Settings, make_user: Callable[..., Account]
) -> None:
    make_user("admin@school.example")
    login(client, "admin@school.example")
    first = client.cookies["ss_session"]
    client.cookies.clear()  # a second browser
    csrf = login(client, "admin@school.example")
    second = client.cookies["ss_session"]
    assert first != second
    assert len(_sessions(settings)) == 2
    out = client.post("/logout", data={"csrf_token": csrf})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert _sessions(settings) == [hashlib.sha256(first.encode()).hexdigest()]
    client.cookies.clear()
    client.cookies.set("ss_session", second)
    assert client.get("/students").status_code == 401  # the signed-out session is gone for good


def test_secure_cookies_over_https_and_behind_a_trusted_proxy(
    settings: Settings, make_user: Callable[..., Account]
) -> None:
    make_user("admin@school.example")
    with TestClient(create_app(settings), follow_redirects=False, base_url="https://testserver") as client:
        token = form_token(client.get("/login").text)
        response = client.post(
            "/login", data={"email": "admin@school.example", "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 303
        assert "Secure" in response.headers["set-cookie"]
    proxied = {"X-Forwarded-Proto": "https"}
    for trusted, secure in ((True, True), (False, False)):
        app = create_app(settings.model_copy(update={"trusted_proxy": trusted}))
        with TestClient(app, follow_redirects=False, headers=proxied) as client:
            assert ("Secure" in client.get("/login").headers["set-cookie"]) is secure


def test_wrong_password_then_lockout_after_five_failures(
    client: TestClient, settings: Settings, make_user: Callable[..., Account]
) -> None:
    make_user("admin@school.example")
    token = form_token(client.get("/login").text)
    for attempt in range(5):
        wrong = client.post(
            "/login",
            data={"email": "admin@school.example", "password": f"wrong {attempt}", "csrf_token": token},
        )
        assert wrong.status_code == 401
        assert "The e-mail or password is not right." in wrong.text
    locked = client.post(
        "/login", data={"email": "admin@school.example", "password": PASSWORD, "csrf_token": token}
    )
    assert locked.status_code == 429
    assert 890 <= int(locked.headers["retry-after"]) <= 900
    assert "Too many failed sign-ins: try again in 15 minutes." in locked.text
    assert "ss_session" not in locked.cookies
    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        assert len(session.scalars(select(LoginFailure)).all()) == 5
    engine.dispose()


def test_unknown_email_fails_like_a_wrong_password(
    client: TestClient, make_user: Callable[..., Account]
) -> None:
    make_user("admin@school.example")
    token = form_token(client.get("/login").text)
    response = client.post(
        "/login", data={"email": "nobody@school.example", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 401
    assert "The e-mail or password is not right." in response.text


def test_csrf_is_required_on_every_form(client: TestClient, make_user: Callable[..., Account]) -> None:
    make_user("admin@school.example")
    no_token = client.post("/login", data={"email": "admin@school.example", "password": PASSWORD})
    assert no_token.status_code == 403
    assert "The form expired. Please try again." in no_token.text
    csrf = login(client, "admin@school.example")
    missing = client.post("/interventions/bulk", data={"status": "completed"})
    assert missing.status_code == 403
    assert "This form cannot be sent" in missing.text
    wrong = client.post("/interventions/bulk", data={"status": "completed", "csrf_token": "0" * 64})
    assert wrong.status_code == 403
    header = client.post("/interventions/bulk", data={"status": "completed"}, headers={"X-CSRF-Token": csrf})
    assert header.status_code != 403
    api = client.post("/api/interventions", json={})
    assert api.status_code == 403
    assert api.json() == {
        "detail": "the form expired or did not come from this site: reload the page and try again"
    }


def test_a_bearer_key_needs_no_csrf(client: TestClient, make_user: Callable[..., Account]) -> None:
    admin = make_user("admin@school.example")
    response = client.post("/api/interventions", json={}, headers=admin.bearer)
    assert response.status_code == 422  # the body is checked: no CSRF refusal


def test_a_disabled_user_is_refused_at_once(
    client: TestClient, settings: Settings, make_user: Callable[..., Account]
) -> None:
    teacher = make_user("teacher@school.example", role="teacher")
    login(client, "teacher@school.example")
    assert client.get("/students").status_code == 200
    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        accounts.disable_user(session, "teacher@school.example")
    engine.dispose()
    assert client.get("/students").status_code == 401
    assert client.get("/api/students", headers=teacher.bearer).status_code == 401
    client.cookies.clear()
    token = form_token(client.get("/login").text)
    again = client.post("/login", data={"email": teacher.email, "password": PASSWORD, "csrf_token": token})
    assert again.status_code == 401


def test_first_run_creates_the_administrator_only_from_this_machine(settings: Settings, app: FastAPI) -> None:
    with TestClient(app, follow_redirects=False) as remote:
        page = remote.get("/students")
        assert page.status_code == 401
        assert "student-success users create you@school.example --role admin" in page.text
        assert 'action="/login/first-run"' not in page.text
    with TestClient(app, follow_redirects=False, client=("127.0.0.1", 40000)) as local:
        page = local.get("/")
        assert page.status_code == 401
        assert "Create the administrator account" in page.text
        token = form_token(page.text)
        short = local.post(
            "/login/first-run",
            data={
                "email": "a@school.example",
                "password": "short",
                "password_again": "short",
                "csrf_token": token,
            },
        )
        assert short.status_code == 422
        assert "The password must have at least 12 characters." in short.text
        made = local.post(
            "/login/first-run",
            data={
                "email": "Head@School.example",
                "password": PASSWORD,
                "password_again": PASSWORD,
                "csrf_token": token,
            },
        )
        assert made.status_code == 303 and made.headers["location"] == "/"
        assert local.get("/").status_code == 200
        again = local.post(
            "/login/first-run",
            data={
                "email": "b@school.example",
                "password": PASSWORD,
                "password_again": PASSWORD,
                "csrf_token": token,
            },
        )
        assert again.status_code == 403
    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        users = [(u.email, u.role) for u in session.scalars(select(User))]
    engine.dispose()
    assert users == [("head@school.example", "admin")]


def test_next_never_leaves_the_site(client: TestClient, make_user: Callable[..., Account]) -> None:
    make_user("admin@school.example")
    token = form_token(client.get("/login").text)
    response = client.post(
        "/login",
        data={
            "email": "admin@school.example",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/x",
        },
    )
    assert response.headers["location"] == "/"
