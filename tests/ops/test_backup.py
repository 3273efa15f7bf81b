"""Restore drills on SQLite and PostgreSQL: write data, back up, wipe, restore, compare everything.

Each drill runs on a brand-new database (``empty_db_url``) and a private copy of the model registry,
and goes through ``scripts/backup_system.py`` as an operator would.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

import pytest
from api.support import EXAMPLE, MODELS_DIR, needs_model
from sqlalchemy import Engine, MetaData, func, select, text

from student_success.config import Settings
from student_success.db.engine import make_engine, session_scope
from student_success.db.migrate import downgrade_to, head_revision, upgrade_to_head
from student_success.db.models import ImportBatch, Intervention, Prediction
from student_success.ml.registry import ModelRegistry
from student_success.ml.service import load_active_model
from student_success.ops.backup import restore_backup, rotate_backups, safe_settings, verify_backup
from student_success.services.imports import import_upload
from student_success.services.interventions import create_interventions
from student_success.services.scope import Scope

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "backup_system.py"


def canvas_variant(k: int) -> bytes:
    """The bundled Canvas export with student ids shifted by ``k`` million (a different file)."""
    rows = list(csv.reader(io.StringIO(EXAMPLE.read_text(encoding="utf-8"))))
    for row in rows[1:]:
        if row and row[1].strip().isdigit():
            row[1] = str(int(row[1]) + k * 1_000_000)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def table_fingerprints(engine: Engine) -> dict[str, tuple[int, str]]:
    """Per table: row count and SHA-256 of every row, ordered by primary key."""
    out: dict[str, tuple[int, str]] = {}
    metadata = MetaData()
    metadata.reflect(bind=engine)  # the tables the database has, whatever the models say
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows = connection.execute(select(table).order_by(*order)).all()
            digest = hashlib.sha256("\n".join(repr(tuple(r)) for r in rows).encode()).hexdigest()
            out[table.name] = (len(rows), digest)
    return out


def run_backup(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True, cwd=ROOT, check=False
    )


@pytest.fixture
def models_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "models"
    shutil.copytree(MODELS_DIR, dest, ignore=shutil.ignore_patterns("backup_*"))
    return dest


@pytest.fixture
def drill(empty_db_url: str, models_copy: Path, tmp_path: Path) -> tuple[Settings, dict[str, str]]:
    settings = Settings(database_url=empty_db_url, models_dir=models_copy, logs_dir=tmp_path / "logs")
    engine = make_engine(empty_db_url)
    upgrade_to_head(engine)
    engine.dispose()
    env = {
        **os.environ,
        "DATABASE_URL": empty_db_url,
        "MODELS_DIR": str(models_copy),
        "MVP_API_KEY": "s3cr3t",
    }
    return settings, env


def seed(settings: Settings, files: range) -> None:
    model = load_active_model(settings)
    engine = make_engine(settings.database_url)
    try:
        for k in files:
            with session_scope(engine) as session:
                import_upload(session, canvas_variant(k), filename=f"course_{k}.csv", as_of_day=60,
                              mapping=None, settings=settings, model=model)  # fmt: skip
        with session_scope(engine) as session:
            ids = session.scalars(select(Prediction.student_id).order_by(Prediction.id).limit(3)).all()
            create_interventions(session, ids, scope=Scope.all(), type_key="tutoring", goal="pass quiz 4")
    finally:
        engine.dispose()


@needs_model
def test_restore_drill_gives_back_every_row_and_the_models(drill: tuple[Settings, dict[str, str]],
                                                           tmp_path: Path) -> None:  # fmt: skip
    settings, env = drill
    seed(settings, range(2))
    engine = make_engine(settings.database_url)
    before = table_fingerprints(engine)
    assert before["import_batch"][0] == 2
    assert before["prediction"][0] == 60
    assert before["intervention"][0] == 3
    assert before["alembic_version"][0] == 1

    made = run_backup("--full", "--output-dir", str(tmp_path / "out"), env=env)
    assert made.returncode == 0, made.stderr
    archive = next((tmp_path / "out").glob("student_success_backup_*.tar.gz"))
    manifest = verify_backup(archive)
    assert manifest["schema_revision"] == head_revision()
    assert manifest["model_version"] == ModelRegistry(settings.models_dir).active_version_id()
    assert manifest["database_kind"] == make_engine(settings.database_url).dialect.name
    assert manifest["app_version"] == "0.1.0"
    active = manifest["model_version"]
    assert f"models/{active}/manifest.json" in manifest["members"]
    assert "models/model_metadata.json" in manifest["members"]
    with tarfile.open(archive) as tar:
        saved = json.loads(tar.extractfile("settings.json").read())  # type: ignore[union-attr]
    assert "mvp_api_key" not in saved and "smtp_password" not in saved
    assert "s3cr3t" not in json.dumps(saved)

    # wipe: every table gone, and the active model's files with them
    downgrade_to(engine, "base")
    shutil.rmtree(settings.models_dir / active)
    (settings.models_dir / "model_metadata.json").unlink()

    refused = run_backup("--restore", str(archive), env={**env, "PYTHONUNBUFFERED": "1"})
    assert refused.returncode == 1
    assert (
        refused.stderr.strip() == "error: restore not confirmed: rerun with --yes to overwrite the database"
    )

    restored = run_backup("--restore", str(archive), "--yes", env=env)
    assert restored.returncode == 0, restored.stderr
    assert table_fingerprints(engine) == before
    assert ModelRegistry(settings.models_dir).load().version == active
    engine.dispose()


@needs_model
def test_backup_while_imports_run_restores_to_a_consistent_state(drill: tuple[Settings, dict[str, str]],
                                                                 tmp_path: Path) -> None:  # fmt: skip
    settings, env = drill
    model = load_active_model(settings)
    engine = make_engine(settings.database_url)
    stop, done, failures = threading.Event(), [], []

    def keep_importing() -> None:
        k = 10
        while not stop.is_set() and k < 40:
            try:
                with session_scope(engine) as session:
                    import_upload(session, canvas_variant(k), filename=f"course_{k}.csv", as_of_day=60,
                                  mapping=None, settings=settings, model=model)  # fmt: skip
                done.append(k)
            except Exception as exc:  # a locked SQLite database is retried; anything else fails the test
                if "locked" not in str(exc):
                    failures.append(exc)
            k += 1

    worker = threading.Thread(target=keep_importing)
    worker.start()
    try:
        while len(done) < 2 and worker.is_alive():
            stop.wait(0.05)
        made = run_backup("--full", "--output-dir", str(tmp_path / "out"), env=env)
    finally:
        stop.set()
        worker.join()
    assert not failures
    assert made.returncode == 0, made.stderr
    archive = next((tmp_path / "out").glob("*.tar.gz"))
    downgrade_to(engine, "base")
    assert run_backup("--restore", str(archive), "--yes", env=env).returncode == 0

    with session_scope(engine) as session:
        batches = session.scalars(select(ImportBatch)).all()
        assert len(batches) >= 2
        for batch in batches:  # no half import: every batch's recorded counts match the rows present
            assert batch.status == "completed"
            stored = session.scalar(select(func.count()).where(Prediction.import_batch_id == batch.id))
            assert stored == batch.row_counts["prediction"]["inserted"] == 30
        assert session.scalar(select(func.count()).select_from(Intervention)) == 0
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
        else:
            orphans = connection.execute(
                text("SELECT count(*) FROM prediction p LEFT JOIN student s ON s.id = p.student_id "
                     "WHERE s.id IS NULL")
            ).scalar_one()  # fmt: skip
            assert orphans == 0
    engine.dispose()


def test_verify_rejects_a_changed_member_and_restore_refuses_another_schema(
    drill: tuple[Settings, dict[str, str]], tmp_path: Path
) -> None:
    settings, env = drill
    assert run_backup("--full", "--output-dir", str(tmp_path / "out"), env=env).returncode == 0
    archive = next((tmp_path / "out").glob("*.tar.gz"))

    # same members, one byte changed in the settings file
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(tampered, "w:gz") as dst:
        for info in src:
            data = src.extractfile(info).read()  # type: ignore[union-attr]
            if info.name == "settings.json":
                data = data.replace(b"development", b"developmenT")
            info.size = len(data)
            dst.addfile(info, io.BytesIO(data))
    bad = run_backup("--verify", str(tampered), env=env)
    assert bad.returncode == 1
    assert bad.stderr == "error: tampered.tar.gz: settings.json does not match its SHA-256 in the manifest\n"
    good = run_backup("--verify", str(archive), env=env)
    assert good.returncode == 0 and good.stdout.startswith(f"backup OK: {archive}")

    # an archive whose schema is older than the code: refused, then restored with --migrate
    old = tmp_path / "old.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(old, "w:gz") as dst:
        manifest = json.loads(src.extractfile("manifest.json").read())  # type: ignore[union-attr]
        manifest["schema_revision"] = "0001"
        body = json.dumps(manifest).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(body)
        dst.addfile(info, io.BytesIO(body))
        for member in src:
            if member.name != "manifest.json":
                dst.addfile(member, src.extractfile(member))
    refused = run_backup("--restore", str(old), "--yes", env=env)
    assert refused.returncode == 1
    assert refused.stderr == (
        f"error: the backup's schema revision 0001 differs from this version's ({head_revision()}): "
        "rerun with --migrate to restore it and then upgrade the schema\n"
    )
    result = restore_backup(old, settings, migrate=True, restore_models=False)
    assert result.schema_revision == "0001"
    assert result.migrated_to == head_revision()

    missing = run_backup("--verify", str(tmp_path / "nope.tar.gz"), env=env)
    assert missing.returncode == 1
    assert missing.stderr == f"error: no backup archive at {tmp_path / 'nope.tar.gz'}\n"


def test_rotation_keeps_the_newest_archives_only(tmp_path: Path) -> None:
    names = [f"student_success_backup_2026010{d}_020000.tar.gz" for d in range(1, 6)]
    for name in [*names, "notes.txt"]:
        (tmp_path / name).write_bytes(b"x")
    removed = rotate_backups(tmp_path, keep=2)
    assert sorted(p.name for p in removed) == names[:3]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*names[3:], "notes.txt"])
    assert rotate_backups(tmp_path, keep=2) == []


def test_settings_in_a_backup_carry_no_secret() -> None:
    settings = Settings(
        database_url="postgresql://app:hunter2@db.example:5432/student_success",
        mvp_api_key="k-123",  # type: ignore[arg-type]
        smtp_password="p-456",  # type: ignore[arg-type]
    )
    saved = safe_settings(settings)
    text_form = json.dumps(saved)
    assert saved["database_url"] == "postgresql://app:***@db.example:5432/student_success"
    assert "hunter2" not in text_form and "k-123" not in text_form and "p-456" not in text_form
    assert not [name for name in saved if any(w in name for w in ("password", "key", "secret", "token"))]
    assert saved["port"] == 8001
