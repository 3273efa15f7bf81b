"""Full backups: database, model artifacts and settings in one verified, timestamped archive.

An archive ``student_success_backup_YYYYMMDD_HHMMSS.tar.gz`` holds::

    manifest.json                 app version, schema revision, model version, SHA-256 + size per member
    database/mvp_data.db          SQLite (online backup API), or
    database/postgresql.dump      PostgreSQL (pg_dump custom format: ``pg_restore`` reads it)
    models/…                      model_metadata.json, activation_history.json, the active version folder
    settings.json                 the settings in force, without passwords, keys, secrets or tokens

``verify_backup`` re-hashes every member; ``restore_backup`` verifies first, refuses an archive whose
schema revision differs from this version's (unless told to migrate afterwards), then restores the
database and the model artifacts.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from student_success import __version__
from student_success.config import Settings
from student_success.db.engine import make_engine
from student_success.db.migrate import alembic_config, current_revision, head_revision, upgrade_to_head
from student_success.errors import StudentSuccessError
from student_success.ml.registry import HISTORY_FILE, METADATA_FILE, ModelRegistry
from student_success.ops.dbdump import (
    POSTGRES_MEMBER,
    SQLITE_MEMBER,
    database_kind,
    dump_database,
    restore_database,
)

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
ARCHIVE_PREFIX = "student_success_backup_"
ARCHIVE_PATTERN = re.compile(rf"^{ARCHIVE_PREFIX}\d{{8}}_\d{{6}}(?:_\d+)?\.tar\.gz$")
SECRET_NAME = re.compile(r"password|passwd|key|secret|token|credential", re.IGNORECASE)
_CHUNK = 1 << 20


class BackupError(StudentSuccessError):
    """A backup cannot be made, verified or restored."""


@dataclass(frozen=True)
class RestoreResult:
    """What a restore did."""

    archive: Path
    database_kind: str
    schema_revision: str | None
    migrated_to: str | None
    model_version: str | None


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def safe_settings(settings: Settings) -> dict[str, Any]:
    """The settings as JSON, without secrets: no SecretStr field, nothing named like a password or key.

    The database URL keeps its host and name but loses its password.
    """
    out: dict[str, Any] = {}
    for name, value in settings.model_dump(mode="json").items():
        if SECRET_NAME.search(name) or isinstance(getattr(settings, name), _secret_types()):
            continue
        out[name] = value
    if "database_url" in out:
        out["database_url"] = make_url(settings.database_url).render_as_string(hide_password=True)
    return out


def _secret_types() -> tuple[type, ...]:
    from pydantic import SecretBytes, SecretStr

    return (SecretStr, SecretBytes)


def _model_files(models_dir: Path) -> list[Path]:
    """The registry files worth keeping: metadata, history and the active version's folder."""
    files = [models_dir / name for name in (METADATA_FILE, HISTORY_FILE) if (models_dir / name).is_file()]
    active = ModelRegistry(models_dir).active_version_id() if models_dir.is_dir() else None
    if active and (models_dir / active).is_dir():
        files += sorted(p for p in (models_dir / active).rglob("*") if p.is_file())
    return files


def _archive_name(output_dir: Path, now: datetime) -> Path:
    stem = f"{ARCHIVE_PREFIX}{now.strftime('%Y%m%d_%H%M%S')}"
    candidate, n = output_dir / f"{stem}.tar.gz", 1
    while candidate.exists():
        candidate, n = output_dir / f"{stem}_{n}.tar.gz", n + 1
    return candidate


def _schema_revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        return current_revision(engine)
    except SQLAlchemyError as exc:
        raise BackupError(f"cannot read the schema revision: {str(exc).splitlines()[0]}") from exc
    finally:
        engine.dispose()


def create_backup(
    settings: Settings,
    *,
    output_dir: Path,
    database_url: str | None = None,
    now: datetime | None = None,
) -> Path:
    """Write a full backup archive into ``output_dir`` and return its path.

    Args:
        settings: the settings in force (models folder, and what ``settings.json`` records).
        output_dir: where the archive goes (created if needed).
        database_url: the database to back up (default ``settings.database_url``).
        now: the timestamp of the archive name (default: now, UTC).

    Raises:
        BackupError: the database cannot be read or dumped.
    """
    url = database_url or settings.database_url
    now = now or datetime.now(UTC)
    output_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ss-backup-") as tmp:
        staging = Path(tmp)
        kind = database_kind(url)
        member = SQLITE_MEMBER if kind == "sqlite" else POSTGRES_MEMBER
        try:
            revision = _schema_revision(url) if kind == "postgresql" else None
            dump_database(url, staging / member)
            if kind == "sqlite":  # read from the snapshot itself: the revision matches the data
                revision = _schema_revision(f"sqlite:///{staging / member}")
            elif _schema_revision(url) != revision:
                raise BackupError(
                    "the database was migrated while it was being backed up: run the backup again"
                )
        except StudentSuccessError as exc:
            raise BackupError(str(exc)) from exc
        members: dict[str, Path] = {member: staging / member}
        for path in _model_files(settings.models_dir):
            members["models/" + path.relative_to(settings.models_dir).as_posix()] = path
        settings_file = staging / "settings.json"
        settings_file.write_text(json.dumps(safe_settings(settings), indent=2, sort_keys=True) + "\n")
        members["settings.json"] = settings_file
        manifest = {
            "format_version": FORMAT_VERSION,
            "app_version": __version__,
            "created_at": now.isoformat(timespec="seconds"),
            "database_kind": kind,
            "schema_revision": revision,
            "model_version": ModelRegistry(settings.models_dir).active_version_id()
            if settings.models_dir.is_dir()
            else None,
            "members": {
                name: {"sha256": sha256_file(path), "size": path.stat().st_size}
                for name, path in sorted(members.items())
            },
        }
        manifest_file = staging / MANIFEST
        manifest_file.write_text(json.dumps(manifest, indent=2) + "\n")
        archive = _archive_name(output_dir, now)
        partial = archive.with_name(archive.name + ".part")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(manifest_file, arcname=MANIFEST)
            for name, path in sorted(members.items()):
                tar.add(path, arcname=name)
        partial.replace(archive)  # a crash mid-write never leaves a file that looks like a backup
    return archive


def _check_member_name(name: str) -> None:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not name:
        raise BackupError(f"unsafe member name {name!r} in the archive")


def verify_backup(archive: Path) -> dict[str, Any]:
    """Re-hash every member of ``archive`` against its manifest and return the manifest.

    Raises:
        BackupError: the archive is unreadable, a member is missing, extra, or its size or SHA-256
            differs from the manifest.
    """
    if not archive.is_file():
        raise BackupError(f"no backup archive at {archive}")
    try:
        with tarfile.open(archive, "r:gz") as tar:
            manifest_member = tar.extractfile(MANIFEST)
            if manifest_member is None:
                raise BackupError(f"{archive.name}: {MANIFEST} is not a file")
            manifest: dict[str, Any] = json.loads(manifest_member.read())
            expected: dict[str, dict[str, Any]] = manifest["members"]
            seen: set[str] = set()
            for info in tar:
                if info.name == MANIFEST:
                    continue
                _check_member_name(info.name)
                if info.name not in expected:
                    raise BackupError(f"{archive.name}: {info.name} is not listed in the manifest")
                handle = tar.extractfile(info)
                if handle is None:
                    raise BackupError(f"{archive.name}: {info.name} is not a regular file")
                digest, size = hashlib.sha256(), 0
                while chunk := handle.read(_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                want = expected[info.name]
                if size != want["size"] or digest.hexdigest() != want["sha256"]:
                    raise BackupError(
                        f"{archive.name}: {info.name} does not match its SHA-256 in the manifest"
                    )
                seen.add(info.name)
    except KeyError as exc:
        raise BackupError(f"{archive.name}: not a backup archive (missing {exc.args[0]})") from exc
    except (tarfile.TarError, OSError, EOFError, json.JSONDecodeError) as exc:
        raise BackupError(f"{archive.name}: unreadable archive ({exc})") from exc
    missing = sorted(set(expected) - seen)
    if missing:
        raise BackupError(f"{archive.name}: members missing from the archive: {', '.join(missing)}")
    return manifest


def rotate_backups(output_dir: Path, *, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` archives in ``output_dir``; return the deleted ones.

    Only files named like this tool's archives are considered; anything else is left alone.
    """
    if keep < 1:
        raise BackupError(f"--keep must be at least 1, not {keep}")
    archives = sorted(
        (p for p in output_dir.iterdir() if ARCHIVE_PATTERN.match(p.name)), key=lambda p: p.name, reverse=True
    ) if output_dir.is_dir() else []  # fmt: skip
    doomed = archives[keep:]
    for path in doomed:
        path.unlink()
    return doomed


def _known_revision(revision: str | None) -> bool:
    if revision is None:
        return True
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False


def restore_backup(
    archive: Path,
    settings: Settings,
    *,
    database_url: str | None = None,
    migrate: bool = False,
    restore_models: bool = True,
) -> RestoreResult:
    """Verify ``archive``, then replace the database (and the model artifacts) with its contents.

    Args:
        archive: a file written by :func:`create_backup`.
        settings: the settings in force (models folder).
        database_url: the database to overwrite (default ``settings.database_url``).
        migrate: when the archive's schema revision is older than this version's, restore and then
            migrate to head; without it such an archive is refused.
        restore_models: also put back the model files (metadata, history, active version).

    Raises:
        BackupError: the archive fails verification, its schema does not match (see ``migrate``), or
            the database kinds differ; the database is then left as it was.
    """
    url = database_url or settings.database_url
    manifest = verify_backup(archive)
    revision, head = manifest.get("schema_revision"), head_revision()
    if revision != head:
        if not _known_revision(revision):
            raise BackupError(
                f"the backup's schema revision {revision} is newer than this version's ({head}): "
                "restore it with the version of the application that made it"
            )
        if not migrate:
            raise BackupError(
                f"the backup's schema revision {revision} differs from this version's ({head}): "
                "rerun with --migrate to restore it and then upgrade the schema"
            )
    kind = str(manifest["database_kind"])
    with tempfile.TemporaryDirectory(prefix="ss-restore-") as tmp:
        staging = Path(tmp)
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(staging, filter="data")
        member = SQLITE_MEMBER if kind == "sqlite" else POSTGRES_MEMBER
        try:
            restore_database(url, staging / member, kind=kind)
        except StudentSuccessError as exc:
            raise BackupError(str(exc)) from exc
        if restore_models and (staging / "models").is_dir():
            _restore_models(staging / "models", settings.models_dir)
    migrated_to = None
    if revision != head:
        engine = make_engine(url)
        try:
            migrated_to = upgrade_to_head(engine)
        finally:
            engine.dispose()
    return RestoreResult(
        archive=archive,
        database_kind=kind,
        schema_revision=revision,
        migrated_to=migrated_to,
        model_version=manifest.get("model_version"),
    )


def _restore_models(source: Path, models_dir: Path) -> None:
    models_dir.mkdir(parents=True, exist_ok=True)
    for folder in sorted(p for p in source.iterdir() if p.is_dir()):
        dest = models_dir / folder.name
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(folder, dest)
    # the metadata last: it names the active version, which is now in place
    for name in (HISTORY_FILE, METADATA_FILE):
        if (source / name).is_file():
            tmp = models_dir / (name + ".tmp")
            shutil.copy2(source / name, tmp)
            tmp.replace(models_dir / name)
