"""The app on the test databases (``db_url``: SQLite and PostgreSQL), a real HTTP client, a seeding session.

API tests commit through the app, so every test starts and ends with empty tables (the schema and
the Alembic revision stay). Tests that need the trained model use the real registry at
``results/models`` and are skipped until it exists (``support.needs_model``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from student_success.api import create_app
from student_success.config import Settings
from student_success.db.engine import make_engine, session_scope

from .support import AUTH, MODELS_DIR, TEST_API_KEY, wipe


@pytest.fixture
def clean_engine(engine: Engine) -> Iterator[Engine]:
    """The migrated test database, emptied before and after the test."""
    wipe(engine)
    yield engine
    wipe(engine)


@pytest.fixture
def settings(db_url: str, clean_engine: Engine) -> Settings:
    """Settings on the test database and the real model registry."""
    return Settings(
        database_url=db_url,
        models_dir=MODELS_DIR,
        environment="test",
        max_upload_bytes=1024 * 1024,
        max_upload_rows=5000,
        mvp_api_key=TEST_API_KEY,
    )


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    """The application on the test database."""
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A real HTTP client (httpx through the ASGI app), start-up and shut-down included.

    It authenticates as an administrator with the bootstrap key (``Authorization: Bearer``).
    """
    with TestClient(app, headers=AUTH) as test_client:
        yield test_client


@pytest.fixture
def db(settings: Settings) -> Iterator[Session]:
    """A session on the test database for seeding and checking; the test commits what it seeds."""
    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        yield session
    engine.dispose()
