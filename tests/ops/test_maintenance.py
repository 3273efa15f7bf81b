"""``student-success db maintain`` and ``student-success logs rotate``, on real databases and files."""

from __future__ import annotations

import gzip
import os
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from student_success.cli.main import app
from student_success.db.engine import make_engine
from student_success.db.migrate import upgrade_to_head
from student_success.ops.logrotate import rotate_logs
from student_success.ops.maintenance import maintain_database

DAY = 86_400
runner = CliRunner()


def _age(path: Path, days: float, now: float) -> None:
    os.utime(path, (now - days * DAY, now - days * DAY))


def test_rotation_follows_the_guides_policy_and_is_idempotent(tmp_path: Path) -> None:
    now = time.time()
    logs = tmp_path / "logs"
    (logs / "old").mkdir(parents=True)
    files = {"app.log": 1, "access.2026-01-01.log": 8, "old/health_monitor.log": 9,
             "keep.log.gz": 29.5, "stale.log.gz": 31, "notes.txt": 100}  # fmt: skip
    for name, days in files.items():
        (logs / name).write_text(f"{name}\n")
        _age(logs / name, days, now)
    report = rotate_logs(logs, now=now)
    assert report.compressed == [logs / "access.2026-01-01.log.gz", logs / "old" / "health_monitor.log.gz"]
    assert report.deleted == [logs / "stale.log.gz"]
    assert sorted(str(p.relative_to(logs)) for p in logs.rglob("*") if p.is_file()) == [
        "access.2026-01-01.log.gz", "app.log", "keep.log.gz", "notes.txt", "old/health_monitor.log.gz",
    ]  # fmt: skip
    assert gzip.decompress((logs / "access.2026-01-01.log.gz").read_bytes()) == b"access.2026-01-01.log\n"
    assert abs((logs / "access.2026-01-01.log.gz").stat().st_mtime - (now - 8 * DAY)) < 1
    again = rotate_logs(logs, now=now)
    assert again.compressed == [] and again.deleted == []


def test_logs_rotate_command_reports_what_it_did(tmp_path: Path) -> None:
    now = time.time()
    (tmp_path / "a.log").write_text("x\n")
    _age(tmp_path / "a.log", 3, now)
    result = runner.invoke(app, ["logs", "rotate", "--logs-dir", str(tmp_path), "--compress-after-days", "2"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"compressed {tmp_path / 'a.log.gz'}",
        f"{tmp_path}: 1 compressed, 0 deleted",
    ]
    bad = runner.invoke(app, ["logs", "rotate", "--logs-dir", str(tmp_path), "--delete-after-days", "-1"])
    assert bad.exit_code == 2


def test_maintain_vacuums_analyzes_and_reports_every_table(empty_db_url: str) -> None:
    engine: Engine = make_engine(empty_db_url)
    upgrade_to_head(engine)
    try:
        report = maintain_database(engine, reindex=True)
    finally:
        engine.dispose()
    if report.database == "postgresql":
        assert report.statements[0] == "VACUUM ANALYZE"
        assert report.statements[1] == f"REINDEX DATABASE {empty_db_url.rsplit('/', 1)[1]}"
    else:
        assert report.statements == ["VACUUM", "ANALYZE", "REINDEX"]
    names = {t.name for t in report.tables}
    assert {"student", "prediction", "import_batch", "alembic_version"} <= names
    assert all(t.rows == 0 for t in report.tables if t.name != "alembic_version")
    assert next(t.rows for t in report.tables if t.name == "alembic_version") == 1
    assert report.database_bytes is not None and report.database_bytes > 0


def test_db_maintain_command(empty_db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(empty_db_url)
    upgrade_to_head(engine)
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", empty_db_url)
    result = runner.invoke(app, ["db", "maintain"])
    assert result.exit_code == 0, result.output
    first = result.stdout.splitlines()[0]
    assert first.startswith(("sqlite: VACUUM; ANALYZE done in ", "postgresql: VACUUM ANALYZE done in "))
    assert "alembic_version" in result.stdout and "Table sizes" in result.stdout
    down = runner.invoke(app, ["db", "maintain", "--database-url", "postgresql://nobody@127.0.0.1:1/none"])
    assert down.exit_code == 1
    assert down.stderr.startswith("error: database maintenance failed: ")
    assert "Traceback" not in down.output
