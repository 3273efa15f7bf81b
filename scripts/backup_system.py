#!/usr/bin/env python3
"""Back up, verify and restore the system (maintenance guide, "Full backup").

    python3 scripts/backup_system.py --full [--keep N] [--output-dir backups] [--database-url URL]
    python3 scripts/backup_system.py --verify ARCHIVE
    python3 scripts/backup_system.py --restore ARCHIVE [--migrate] [--yes] [--database-url URL]

A thin surface over :mod:`student_success.ops.backup`. When the interpreter lacks the project's
dependencies but the checkout has a ``.venv``, it re-runs itself with ``.venv/bin/python`` so the guide's
``python3 scripts/backup_system.py --full`` works as written. Exit code 0 on success, 1 with one line on
stderr on any error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from _project import use_project

use_project(__file__, "pydantic_settings", "sqlalchemy", "alembic")


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        description="Full backups (database, model artifacts, settings) with a verified manifest."
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--full", action="store_true", help="write a full backup archive")
    action.add_argument("--verify", metavar="ARCHIVE", type=Path, help="re-hash every member of ARCHIVE")
    action.add_argument("--restore", metavar="ARCHIVE", type=Path, help="restore ARCHIVE (overwrites!)")
    parser.add_argument("--output-dir", type=Path, default=Path("backups"), help="default: backups/")
    parser.add_argument("--keep", type=int, help="after --full, keep only the newest N archives")
    parser.add_argument("--database-url", help="database to back up or restore (default: DATABASE_URL)")
    parser.add_argument("--migrate", action="store_true", help="restore an older schema, then upgrade it")
    parser.add_argument("--no-models", action="store_true", help="restore the database only")
    parser.add_argument("--yes", action="store_true", help="do not ask before overwriting the database")
    return parser


def _confirm(archive: Path) -> bool:
    if not sys.stdin.isatty():
        return False
    answer = input(f"Restore {archive.name} over the current database and models? Type 'yes': ")
    return answer.strip().lower() == "yes"


def main(argv: list[str] | None = None) -> int:
    """Run one action; print one line per result; return the exit code."""
    from student_success.config import get_settings
    from student_success.errors import StudentSuccessError
    from student_success.ops.backup import create_backup, restore_backup, rotate_backups, verify_backup

    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
        if args.full:
            archive = create_backup(settings, output_dir=args.output_dir, database_url=args.database_url)
            manifest = verify_backup(archive)
            print(
                f"backup written: {archive} ({archive.stat().st_size:,} bytes, {len(manifest['members'])} "
                f"files, schema {manifest['schema_revision']}, model {manifest['model_version']})"
            )
            if args.keep is not None:
                for path in rotate_backups(args.output_dir, keep=args.keep):
                    print(f"removed old backup: {path}")
        elif args.verify:
            manifest = verify_backup(args.verify)
            print(
                f"backup OK: {args.verify} ({len(manifest['members'])} files verified; "
                f"app {manifest['app_version']}, {manifest['database_kind']} "
                f"schema {manifest['schema_revision']}, "
                f"model {manifest['model_version']}, made {manifest['created_at']})"
            )
        else:
            if not (args.yes or _confirm(args.restore)):
                print(
                    "error: restore not confirmed: rerun with --yes to overwrite the database",
                    file=sys.stderr,
                )
                return 1
            result = restore_backup(
                args.restore,
                settings,
                database_url=args.database_url,
                migrate=args.migrate,
                restore_models=not args.no_models,
            )
            migrated = f", migrated to {result.migrated_to}" if result.migrated_to else ""
            print(
                f"restored {result.database_kind} database from {result.archive} "
                f"(schema {result.schema_revision}{migrated}; model {result.model_version})"
            )
    except StudentSuccessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
