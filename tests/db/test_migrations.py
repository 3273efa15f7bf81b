"""Migrations create exactly the schema the models describe, and undo it completely."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from student_success.db.engine import make_engine
from student_success.db.migrate import (
    alembic_config,
    current_revision,
    downgrade_to,
    head_revision,
    upgrade_to_head,
)
from student_success.db.models import Base

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _schema_diffs(engine: Engine) -> list[object]:
    """What ``alembic check`` would report: differences between the database and the models."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_there_is_exactly_one_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert heads == ["0007"]
    assert head_revision() == "0007"


def test_upgrade_matches_models_and_downgrade_removes_everything(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        assert current_revision(engine) is None
        assert _tables(engine) == set()

        assert upgrade_to_head(engine) == head_revision()
        assert current_revision(engine) == "0007"
        assert _tables(engine) == set(Base.metadata.tables) | {"alembic_version"}
        assert _schema_diffs(engine) == []

        downgrade_to(engine, "base")
        assert current_revision(engine) is None
        assert _tables(engine) - {"alembic_version"} == set()
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM alembic_version")) == 0

        # a downgraded database upgrades again cleanly
        upgrade_to_head(engine)
        assert _schema_diffs(engine) == []
    finally:
        engine.dispose()


def test_upgrade_to_head_is_idempotent(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        upgrade_to_head(engine)
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO school (name, created_at) VALUES ('Kept', CURRENT_TIMESTAMP)")
            )
        assert upgrade_to_head(engine) == "0007"
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT name FROM school")) == "Kept"
    finally:
        engine.dispose()


def test_alembic_command_line_uses_alembic_ini_and_x_url(empty_db_url: str) -> None:
    """Operators can run ``alembic -x url=… upgrade head`` from the project root."""
    completed = subprocess.run(
        [sys.executable, "-m", "alembic", "-x", f"url={empty_db_url}", "upgrade", "head"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    engine = make_engine(empty_db_url)
    try:
        assert current_revision(engine) == "0007"
        assert _schema_diffs(engine) == []
    finally:
        engine.dispose()
