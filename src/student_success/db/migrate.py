"""Create or migrate the database from code: the app calls :func:`upgrade_to_head` at start-up.

The same migrations run from the command line with ``alembic upgrade head`` (see ``alembic.ini``).
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

SCRIPT_LOCATION = "student_success.db:migrations"

# Any constant works; it only has to be the same for every process migrating the same database.
_PG_MIGRATION_LOCK = 0x5354_5544  # "STUD"


def alembic_config(*, connection: Connection | None = None) -> Config:
    """An Alembic configuration pointing at the packaged migrations.

    Args:
        connection: when given, ``env.py`` migrates through it, inside the caller's transaction.
    """
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    """The newest revision shipped with this version of the package."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; ``None`` for an empty (never migrated) database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(engine: Engine) -> str | None:
    """Create the schema, or bring it up to date, in one transaction; return the new revision.

    Safe to call at every start: it does nothing when the database is current. Several processes
    starting together are serialised (a PostgreSQL advisory lock; on SQLite an immediate transaction
    takes the write lock first), so only one of them migrates.
    """
    _migrate(engine, "upgrade", "head")
    return current_revision(engine)


def downgrade_to(engine: Engine, revision: str) -> None:
    """Downgrade to ``revision`` (``"base"`` drops every table) in one transaction."""
    _migrate(engine, "downgrade", revision)


def _migrate(engine: Engine, direction: str, revision: str) -> None:
    # This function is an edge: it owns the transaction and commits it.
    with engine.connect().execution_options(sqlite_begin="IMMEDIATE") as connection, connection.begin():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        config = alembic_config(connection=connection)
        if direction == "upgrade":
            command.upgrade(config, revision)
        else:
            command.downgrade(config, revision)
