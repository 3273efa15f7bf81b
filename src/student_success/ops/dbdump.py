"""Consistent database dumps and their restore, for SQLite and PostgreSQL.

* SQLite: the online backup API (``sqlite3.Connection.backup``) copies every page in one step under a
  read transaction, so the copy is a consistent snapshot even while the app writes (WAL mode lets the
  writer go on). Restoring copies the pages back the same way, so open connections see the restored
  database instead of a file swapped underneath them.
* PostgreSQL: ``pg_dump -Fc`` (one serializable snapshot; the custom format is what ``pg_restore``
  reads). Restoring drops every table of the ``public`` schema and replays the dump in one ``psql``
  transaction: on any error nothing changes.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy.engine import URL

from student_success.db.engine import normalize_url
from student_success.errors import StudentSuccessError

SQLITE_MEMBER = "database/mvp_data.db"
POSTGRES_MEMBER = "database/postgresql.dump"

# Drops what a previous schema left behind (tables, views, sequences, enum types) before the replay.
_DROP_PUBLIC_OBJECTS = """
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT viewname FROM pg_views WHERE schemaname = 'public' LOOP
    EXECUTE format('DROP VIEW IF EXISTS public.%I CASCADE', r.viewname);
  END LOOP;
  FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
    EXECUTE format('DROP TABLE IF EXISTS public.%I CASCADE', r.tablename);
  END LOOP;
  FOR r IN SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = 'public' LOOP
    EXECUTE format('DROP SEQUENCE IF EXISTS public.%I CASCADE', r.sequence_name);
  END LOOP;
  FOR r IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
           WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd') LOOP
    EXECUTE format('DROP TYPE IF EXISTS public.%I CASCADE', r.typname);
  END LOOP;
END $$;
"""


class DumpError(StudentSuccessError):
    """A database could not be dumped or restored."""


def database_kind(url: str | URL) -> str:
    """``"sqlite"`` or ``"postgresql"`` for a database URL."""
    return normalize_url(url).get_backend_name()


def sqlite_path(url: str | URL) -> Path:
    """The file of a SQLite URL.

    Raises:
        DumpError: an in-memory database (nothing to back up).
    """
    database = normalize_url(url).database
    if database in (None, "", ":memory:"):
        raise DumpError("an in-memory SQLite database cannot be backed up: set DATABASE_URL to a file")
    return Path(database)


def libpq_target(url: str | URL) -> tuple[str, dict[str, str]]:
    """The ``postgresql://`` URL the client tools take, and the environment carrying its password.

    The password goes to ``PGPASSWORD`` so that it never shows in a process list.
    """
    sa_url = normalize_url(url)
    env = dict(os.environ)
    if sa_url.password:
        env["PGPASSWORD"] = str(sa_url.password)
    plain = sa_url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _client_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise DumpError(f"{name} not found: install the PostgreSQL client tools (version 15 or newer)")
    return path


def _run(command: list[str], *, env: dict[str, str], what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        message = (result.stderr or result.stdout).strip().splitlines()
        raise DumpError(f"{what} failed: {message[-1] if message else f'exit code {result.returncode}'}")


def dump_database(url: str | URL, dest: Path) -> str:
    """Write a consistent dump of the database at ``url`` to ``dest``; return the database kind.

    Raises:
        DumpError: the database is missing, or the dump tool failed.
    """
    kind = database_kind(url)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if kind == "sqlite":
        source = sqlite_path(url)
        if not source.is_file():
            raise DumpError(f"no SQLite database at {source}")
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dst = sqlite3.connect(dest)
        try:
            src.backup(dst)  # pages=-1: one step, one read transaction -> one consistent snapshot
        except sqlite3.Error as exc:
            raise DumpError(f"SQLite backup of {source} failed: {exc}") from exc
        finally:
            dst.close()
            src.close()
        return kind
    target, env = libpq_target(url)
    command = [_client_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges"]
    _run([*command, f"--file={dest}", f"--dbname={target}"], env=env, what="pg_dump")
    return kind


def restore_database(url: str | URL, dump: Path, *, kind: str) -> None:
    """Replace the database at ``url`` with the contents of ``dump`` (made by :func:`dump_database`).

    Raises:
        DumpError: the dump is of another kind of database, or the restore failed (the database is
            then unchanged).
    """
    target_kind = database_kind(url)
    if target_kind != kind:
        raise DumpError(f"the backup holds a {kind} database; DATABASE_URL names a {target_kind} database")
    if kind == "sqlite":
        dest = sqlite_path(url)
        dest.parent.mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
        dst = sqlite3.connect(dest, timeout=30)
        try:
            src.backup(dst)  # takes the write lock, so it waits for a running writer and excludes others
        except sqlite3.Error as exc:
            raise DumpError(f"SQLite restore into {dest} failed: {exc}") from exc
        finally:
            dst.close()
            src.close()
        return
    target, env = libpq_target(url)
    with tempfile.TemporaryDirectory(prefix="ss-restore-") as tmp:
        script = Path(tmp) / "restore.sql"
        drop = Path(tmp) / "drop.sql"
        drop.write_text(_DROP_PUBLIC_OBJECTS, encoding="utf-8")
        command = [_client_tool("pg_restore"), "--no-owner", "--no-privileges", f"--file={script}", str(dump)]
        _run(command, env=env, what="pg_restore")
        psql = [_client_tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction"]
        _run([*psql, f"--dbname={target}", "-f", str(drop), "-f", str(script)], env=env, what="psql restore")
