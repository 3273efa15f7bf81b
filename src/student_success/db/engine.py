"""Engines and units of work.

The edge (an API route, a CLI command, a script) owns the transaction::

    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        import_gradebook(session, path)   # library code flushes, never commits

SQLite engines are set up so that SQLAlchemy, not the ``sqlite3`` driver, emits ``BEGIN``. The driver's
legacy mode skips ``BEGIN`` for SELECT, DDL and SAVEPOINT, which breaks transactional DDL (migrations),
repeatable reads and savepoints (and with them the per-test rollback recipe). See SQLAlchemy's SQLite
dialect docs, "Enabling Non-Legacy SQLite Transactional Modes".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from student_success.errors import StudentSuccessError

# Accepted spellings of a PostgreSQL URL, all served by psycopg 3 (the engine is synchronous; the
# maintenance guide's asyncpg form names the same database).
_POSTGRES_DRIVERS = frozenset({"postgres", "postgresql", "postgresql+psycopg", "postgresql+asyncpg"})
_SQLITE_DRIVERS = frozenset({"sqlite", "sqlite+pysqlite"})

_SQLITE_BEGIN_MODES = frozenset({"DEFERRED", "IMMEDIATE", "EXCLUSIVE"})

DEFAULT_BUSY_TIMEOUT_MS = 5000


class UnsupportedDatabaseURL(StudentSuccessError, ValueError):
    """``DATABASE_URL`` names a database or driver this system does not run on."""


def normalize_url(url: str | URL) -> URL:
    """Return ``url`` in the form the engine uses.

    ``postgresql://``, ``postgres://`` and ``postgresql+asyncpg://`` become ``postgresql+psycopg://``;
    SQLite URLs are kept as they are.

    Raises:
        UnsupportedDatabaseURL: the URL cannot be parsed, or names another database or driver.
    """
    try:
        parsed = make_url(url)
    except Exception as exc:  # ArgumentError and ValueError, depending on how the URL is broken
        raise UnsupportedDatabaseURL(f"cannot read database URL: {exc}") from exc
    if parsed.drivername in _POSTGRES_DRIVERS:
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername in _SQLITE_DRIVERS:
        return parsed
    raise UnsupportedDatabaseURL(
        f"unsupported database URL scheme {parsed.drivername!r}: use sqlite:///path or postgresql://…"
    )


def is_sqlite(engine: Engine) -> bool:
    """Whether ``engine`` talks to SQLite."""
    return engine.dialect.name == "sqlite"


def make_engine(
    url: str | URL,
    *,
    echo: bool = False,
    busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    **engine_kwargs: Any,
) -> Engine:
    """Create an engine for ``url`` (see :func:`normalize_url` for the accepted forms).

    SQLite connections get foreign keys on, the WAL journal (readers do not block the writer) and a
    busy timeout, and SQLAlchemy emits ``BEGIN`` itself so that DDL and savepoints are transactional.
    PostgreSQL connections are checked before use (``pool_pre_ping``) so a restarted server is survived.

    Args:
        url: the database URL, e.g. ``Settings.database_url``.
        echo: log every statement (debugging).
        busy_timeout_ms: SQLite only: how long a writer waits for a lock before failing.
        **engine_kwargs: passed to :func:`sqlalchemy.create_engine`.

    Raises:
        UnsupportedDatabaseURL: see :func:`normalize_url`.
    """
    sa_url = normalize_url(url)
    if sa_url.get_backend_name() == "postgresql":
        engine_kwargs.setdefault("pool_pre_ping", True)
        return create_engine(sa_url, echo=echo, **engine_kwargs)

    engine = create_engine(sa_url, echo=echo, **engine_kwargs)
    _configure_sqlite(engine, busy_timeout_ms=busy_timeout_ms)
    return engine


def _configure_sqlite(engine: Engine, *, busy_timeout_ms: int) -> None:
    """Install the connect/begin hooks described in the module docstring."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Stop sqlite3 from emitting BEGIN (and from committing before DDL); SQLAlchemy does it below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            if engine.url.database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode = WAL")
                # WAL makes NORMAL durable against application crashes; only power loss may drop the
                # last transactions, never corrupt the file.
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # ``connection.execution_options(sqlite_begin="IMMEDIATE")`` takes the write lock up front: a
        # deferred transaction that reads and then writes fails at once (no busy wait) when another
        # writer committed in between.
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode not in _SQLITE_BEGIN_MODES:
            raise ValueError(f"sqlite_begin must be one of {sorted(_SQLITE_BEGIN_MODES)}, not {mode!r}")
        connection.exec_driver_sql(f"BEGIN {mode}")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to ``engine``.

    ``expire_on_commit=False`` lets the edge format the objects it just committed (a response, a CLI
    table) after the unit of work is closed, without another round trip.
    """
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine | sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit when the block succeeds, roll back when it raises, always close.

    Only the edge opens a scope; library functions take the session and call ``flush()`` at most.

    Args:
        engine: an engine, or a session factory from :func:`make_session_factory`.
    """
    factory = engine if isinstance(engine, sessionmaker) else make_session_factory(engine)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
