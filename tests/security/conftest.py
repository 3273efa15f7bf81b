"""The app on the test databases (SQLite and PostgreSQL) with accounts, for the security tests.

Every test starts and ends with empty tables. ``make_user`` creates a user with a known password and
an API key; ``login`` signs a client in through the real form and returns the session's CSRF token.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from api.support import MODELS_DIR, wipe
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from student_success.api import create_app
from student_success.config import Settings
from student_success.db.engine import make_engine, session_scope
from student_success.services import accounts

BOOTSTRAP_KEY = "security-bootstrap-key-0123456789"
PASSWORD = "a long enough password"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Account:
    """A user made for a test: its id, e-mail and API key."""

    id: int
    email: str
    key: str

    @property
    def bearer(self) -> dict[str, str]:
        """The ``Authorization`` header of the user's API key."""
        return {"Authorization": f"Bearer {self.key}"}


@pytest.fixture
def settings(db_url: str, engine: Engine) -> Iterator[Settings]:
    """Settings on an emptied test database."""
    wipe(engine)
    yield Settings(database_url=db_url, models_dir=MODELS_DIR, environment="test", mvp_api_key=BOOTSTRAP_KEY)
    wipe(engine)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    """The application."""
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An anonymous client (no credentials), redirects not followed."""
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def admin(client: TestClient) -> TestClient:
    """The client, signed in as an administrator with the bootstrap key."""
    client.headers.update({"Authorization": f"Bearer {BOOTSTRAP_KEY}"})
    return client


@pytest.fixture
def seed(settings: Settings) -> Iterator[Session]:
    """A session on the app's database for seeding; the test commits what it seeds."""
    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
def make_user(settings: Settings) -> Callable[..., Account]:
    """A factory: ``make_user("t@school.example", role="teacher", section_ids=[...])``."""

    def make(email: str, *, role: str = "admin", **fields: Any) -> Account:
        engine = make_engine(settings.database_url)
        try:
            with session_scope(engine) as session:
                user = accounts.create_user(session, email, role=role, password=PASSWORD, **fields)
                _, key = accounts.create_api_key(session, email, name="tests")
                return Account(user.id, user.email, key)
        finally:
            engine.dispose()

    return make


def form_token(html: str) -> str:
    """The CSRF token in a page's form."""
    found = _CSRF.search(html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def login(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Sign in through the form; the session's CSRF token (from the next page)."""
    token = form_token(client.get("/login").text)
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 303, response.text
    return form_token(client.get("/upload").text)
