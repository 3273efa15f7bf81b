"""Alembic environment.

The database comes from, in order: a connection handed over by
:func:`student_success.db.migrate.upgrade_to_head` (``config.attributes["connection"]``), the
``-x url=…`` command-line option, or ``Settings().database_url`` (env ``DATABASE_URL`` / ``.env``).

Migrations run in one transaction on both databases: PostgreSQL has transactional DDL, and our SQLite
engines emit ``BEGIN`` themselves (see :mod:`student_success.db.engine`), so a failed upgrade leaves
the schema as it was. SQLite uses batch mode, because it can only alter a table by copying it.
"""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import JSONB

from student_success.config import Settings
from student_success.db.base import UTCDateTime
from student_success.db.engine import make_engine, normalize_url
from student_success.db.models import Base

config = context.config
target_metadata = Base.metadata

if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _database_url() -> str:
    """The URL from ``-x url=…`` or the settings."""
    url = context.get_x_argument(as_dictionary=True).get("url")
    return url or Settings().database_url


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Render the app's column types as plain SQLAlchemy types.

    A revision must not import application code: the code changes later, the revision must not.
    """
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, JSONB):
        # Alembic's default rendering, JSONB(astext_type=Text()), names an unimported Text
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return "postgresql.JSONB()"
    return False


def _configure_options(dialect_name: str) -> dict[str, Any]:
    return {
        "target_metadata": target_metadata,
        "render_as_batch": dialect_name == "sqlite",
        "render_item": _render_item,
        "compare_type": True,
    }


def run_migrations_offline() -> None:
    """Write the migration SQL to stdout (``alembic upgrade head --sql``)."""
    url = normalize_url(_database_url())
    context.configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **_configure_options(url.get_backend_name()),
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_on(connection: Connection) -> None:
    context.configure(connection=connection, **_configure_options(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate the database in one transaction."""
    connection = config.attributes.get("connection")
    if connection is not None:
        # the caller (upgrade_to_head, the tests) owns this connection and its transaction
        _run_on(connection)
        return
    engine = make_engine(_database_url())
    try:
        with engine.begin() as new_connection:
            _run_on(new_connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
