"""Database layer: SQLAlchemy 2 models, engine and unit of work, Alembic migrations.

Typical use at an edge (route, CLI command, script)::

    from student_success.db import make_engine, session_scope, upgrade_to_head

    engine = make_engine(settings.database_url)
    upgrade_to_head(engine)                 # at start-up: create or migrate the schema
    with session_scope(engine) as session:  # commits on success, rolls back on error
        ...                                 # library functions take `session` and only flush
"""

from student_success.db.engine import (
    UnsupportedDatabaseURL,
    make_engine,
    make_session_factory,
    normalize_url,
    session_scope,
)
from student_success.db.migrate import current_revision, downgrade_to, head_revision, upgrade_to_head

__all__ = [
    "UnsupportedDatabaseURL",
    "current_revision",
    "downgrade_to",
    "head_revision",
    "make_engine",
    "make_session_factory",
    "normalize_url",
    "session_scope",
    "upgrade_to_head",
]
