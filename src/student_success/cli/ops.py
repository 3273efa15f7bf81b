"""``student-success db maintain`` and ``student-success logs rotate``: thin shells over ``ops``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from student_success.config import get_settings
from student_success.db.engine import make_engine
from student_success.errors import StudentSuccessError
from student_success.ops.logrotate import rotate_logs
from student_success.ops.maintenance import maintain_database

db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
logs_app = typer.Typer(help="Log files.", no_args_is_help=True)
out = Console(soft_wrap=True)


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover - the loop always returns


@db_app.command("maintain")
def maintain(
    reindex: Annotated[bool, typer.Option(help="Also rebuild every index (monthly).")] = False,
    database_url: Annotated[str | None, typer.Option(help="Default: DATABASE_URL.")] = None,
) -> None:
    """VACUUM and ANALYZE the database (REINDEX with --reindex), then report the table sizes."""
    settings = get_settings()
    try:
        engine = make_engine(database_url or settings.database_url)
        try:
            report = maintain_database(engine, reindex=reindex)
        finally:
            engine.dispose()
    except StudentSuccessError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    out.print(f"{report.database}: {'; '.join(report.statements)} done in {report.seconds:.2f} s")
    table = Table("table", "rows", "size", title=f"Table sizes (database {_size(report.database_bytes)})")
    for t in report.tables:
        table.add_row(t.name, f"{t.rows:,}", _size(t.total_bytes))
    out.print(table)


@logs_app.command("rotate")
def rotate(
    compress_after_days: Annotated[int, typer.Option(min=0, help="gzip *.log older than this.")] = 7,
    delete_after_days: Annotated[int, typer.Option(min=0, help="Delete *.gz older than this.")] = 30,
    logs_dir: Annotated[Path | None, typer.Option(help="Default: LOGS_DIR (logs/).")] = None,
) -> None:
    """Compress old logs and delete old archives (the guide's policy: 7 and 30 days)."""
    folder = logs_dir or get_settings().logs_dir
    report = rotate_logs(folder, compress_after_days=compress_after_days, delete_after_days=delete_after_days)
    for path in report.compressed:
        out.print(f"compressed {path}")
    for path in report.deleted:
        out.print(f"deleted {path}")
    out.print(f"{folder}: {len(report.compressed)} compressed, {len(report.deleted)} deleted")
