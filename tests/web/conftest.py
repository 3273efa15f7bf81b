"""The app with the pages mounted, on the test databases (``db_url``: SQLite and PostgreSQL).

Page tests commit through the app, so every test starts and ends with empty tables. Tests that
score need the trained model in ``results/models`` and are skipped until it exists.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api.support import wipe
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from student_success.api import create_app
from student_success.config import Settings
from student_success.db.engine import make_engine, session_scope

from .support import MODELS_DIR, TEST_API_KEY, ensure_user, sign_in


def build_app(settings: Settings) -> FastAPI:
    """The production app: ``create_app`` mounts the pages and their static files itself."""
    return create_app(settings)


@pytest.fixture
def web_settings(db_url: str, engine: Engine) -> Iterator[Settings]:
    """Settings on an emptied test database and the real model registry."""
    wipe(engine)
    yield Settings(
        database_url=db_url,
        models_dir=MODELS_DIR,
        environment="test",
        max_upload_bytes=1024 * 1024,
        max_upload_rows=5000,
        mvp_api_key=TEST_API_KEY,
    )
    wipe(engine)


@pytest.fixture
def web(web_settings: Settings) -> Iterator[TestClient]:
    """A real HTTP client on the app with the pages (redirects are not followed automatically).

    Signed in as an administrator through the sign-in form; it sends the session's CSRF token.
    """
    with TestClient(build_app(web_settings), follow_redirects=False) as client:
        ensure_user(web_settings.database_url)
        yield sign_in(client)


@pytest.fixture
def imported(web: TestClient) -> TestClient:
    """The client after the bundled Canvas example was imported through the overview's button."""
    response = web.post("/example")
    assert response.status_code == 303, response.text
    return web


@pytest.fixture
def db(web_settings: Settings) -> Iterator[Session]:
    """A session on the test database, to read what the services say the pages should show."""
    engine = make_engine(web_settings.database_url)
    with session_scope(engine) as session:
        yield session
    engine.dispose()
