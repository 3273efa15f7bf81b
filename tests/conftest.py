"""Database fixtures shared by every test: real SQLite and real PostgreSQL, one rollback per test.

``TEST_DATABASES`` (comma list of ``sqlite``, ``postgresql``; default both) picks the backends; every
test that uses a database fixture runs once per backend (ids ``[sqlite]`` and ``[postgresql]``).
``TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``) is the server's
maintenance database, used only to create and drop throw-away ``ss_test_<random>`` databases.

Fixtures:

* ``db_backend``  — ``"sqlite"`` or ``"postgresql"`` (session scope, parametrized).
* ``db_url``      — a database created for this test session, dropped at its end.
* ``engine``      — an engine on ``db_url``, migrated to head once per session and backend.
* ``session``     — an ORM session inside a transaction that is rolled back after the test; the code
  under test may ``commit()``, which only releases a savepoint.
* ``empty_db_url`` — a brand-new empty database for one test (migration tests), dropped afterwards.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from student_success.db.engine import make_engine, normalize_url
from student_success.db.migrate import upgrade_to_head

KNOWN_BACKENDS = ("sqlite", "postgresql")
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _selected_backends() -> list[str]:
    raw = os.environ.get("TEST_DATABASES", ",".join(KNOWN_BACKENDS))
    names = [name.strip().lower() for name in raw.split(",") if name.strip()]
    unknown = sorted(set(names) - set(KNOWN_BACKENDS))
    if unknown:
        raise pytest.UsageError(f"TEST_DATABASES: unknown backend(s) {unknown}; use {list(KNOWN_BACKENDS)}")
    return names


def _backend_params() -> list[object]:
    return [
        pytest.param(name, id=name, marks=[pytest.mark.postgres] if name == "postgresql" else [])
        for name in _selected_backends()
    ]


class _PostgresDatabases:
    """Creates and drops throw-away databases on the test server."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = normalize_url(admin_url)
        self._admin: Engine | None = None

    def _admin_engine(self) -> Engine:
        if self._admin is None:
            engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
            try:
                with engine.connect():
                    pass
            except OperationalError as exc:
                engine.dispose()
                pytest.fail(
                    f"PostgreSQL is not reachable at {self.admin_url.render_as_string()}: {exc.orig}\n"
                    "Start it, point TEST_POSTGRES_URL at it, or run with TEST_DATABASES=sqlite.",
                    pytrace=False,
                )
            self._admin = engine
        return self._admin

    def create(self) -> str:
        name = f"ss_test_{secrets.token_hex(6)}"  # generated, so safe to place in the statement
        with self._admin_engine().connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self._admin_engine().connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        if self._admin is not None:
            self._admin.dispose()


@pytest.fixture(scope="session")
def _postgres_databases() -> Iterator[_PostgresDatabases]:
    databases = _PostgresDatabases(POSTGRES_ADMIN_URL)
    yield databases
    databases.close()


def _new_database(backend: str, folder: Path, postgres: _PostgresDatabases) -> str:
    if backend == "sqlite":
        return f"sqlite:///{folder / f'ss_test_{secrets.token_hex(6)}.db'}"
    return postgres.create()


def _drop_database(backend: str, url: str, postgres: _PostgresDatabases) -> None:
    if backend == "postgresql":
        postgres.drop(url)
    # SQLite files live in pytest's temporary folder, which pytest cleans up itself


@pytest.fixture(scope="session", params=_backend_params())
def db_backend(request: pytest.FixtureRequest) -> str:
    """The database backend of this test run: ``sqlite`` or ``postgresql``."""
    return str(request.param)


@pytest.fixture(scope="session")
def db_url(
    db_backend: str, tmp_path_factory: pytest.TempPathFactory, _postgres_databases: _PostgresDatabases
) -> Iterator[str]:
    """A fresh database for this test session (SQLite file or PostgreSQL ``ss_test_*`` database)."""
    url = _new_database(db_backend, tmp_path_factory.mktemp("db"), _postgres_databases)
    yield url
    _drop_database(db_backend, url, _postgres_databases)


@pytest.fixture
def empty_db_url(db_backend: str, tmp_path: Path, _postgres_databases: _PostgresDatabases) -> Iterator[str]:
    """A brand-new, empty database for one test; dropped afterwards."""
    url = _new_database(db_backend, tmp_path, _postgres_databases)
    yield url
    _drop_database(db_backend, url, _postgres_databases)


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on the session database, migrated to head once per backend."""
    engine = make_engine(db_url)
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session joined into an outer transaction that is rolled back after the test.

    SQLAlchemy 2 "Joining a Session into an External Transaction": the session works in a SAVEPOINT,
    so ``session.commit()`` and ``session.rollback()`` in the code under test behave normally while
    nothing outlives the test. SQLite needs SQLAlchemy to emit BEGIN for this; ``make_engine`` does.
    """
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()
