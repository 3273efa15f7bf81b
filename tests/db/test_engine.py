"""Engine URLs, SQLite connection settings and the unit of work."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from student_success.config import PROJECT_ROOT, Settings
from student_success.db.engine import UnsupportedDatabaseURL, make_engine, normalize_url, session_scope
from student_success.db.migrate import upgrade_to_head
from student_success.db.models import Student


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://postgres@127.0.0.1:5432/ss", "postgresql+psycopg://postgres@127.0.0.1:5432/ss"),
        ("postgres://u:p@db/ss", "postgresql+psycopg://u:p@db/ss"),
        ("postgresql+asyncpg://u@db/ss", "postgresql+psycopg://u@db/ss"),
        ("postgresql+psycopg://u@db/ss", "postgresql+psycopg://u@db/ss"),
        ("sqlite:///mvp_data.db", "sqlite:///mvp_data.db"),
        ("sqlite:////var/lib/ss/mvp_data.db", "sqlite:////var/lib/ss/mvp_data.db"),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url).render_as_string(hide_password=False) == expected


@pytest.mark.parametrize("url", ["mysql://u@db/ss", "postgresql+psycopg2://u@db/ss", "not a url"])
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(UnsupportedDatabaseURL):
        normalize_url(url)


def test_database_url_defaults_to_sqlite_file_in_project_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert Settings(_env_file=None).database_url == f"sqlite:///{PROJECT_ROOT / 'mvp_data.db'}"  # type: ignore[call-arg]
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/ss")
    assert Settings(_env_file=None).database_url == "postgresql://postgres@127.0.0.1:5432/ss"  # type: ignore[call-arg]


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/pragmas.db", busy_timeout_ms=1234)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1234
    finally:
        engine.dispose()


def _count_students(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(Student)) or 0)


def test_session_scope_commits_on_success_and_rolls_back_on_error(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        upgrade_to_head(engine)
        with session_scope(engine) as session:
            session.add(Student(source="test", external_id="kept"))
        assert _count_students(engine) == 1

        with pytest.raises(RuntimeError, match="boom"), session_scope(engine) as session:
            session.add(Student(source="test", external_id="dropped"))
            session.flush()
            raise RuntimeError("boom")
        assert _count_students(engine) == 1
        with session_scope(engine) as session:
            assert session.scalars(select(Student.external_id)).all() == ["kept"]
    finally:
        engine.dispose()
