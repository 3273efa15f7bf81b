"""``student-success privacy …``: a student's records on request, and the retention purge of raw imports.

Every command is recorded in the audit trail as the ``system`` actor (the operator at the console).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from student_success.config import get_settings
from student_success.db.engine import make_engine, session_scope
from student_success.db.migrate import upgrade_to_head
from student_success.errors import StudentSuccessError
from student_success.services import audit, privacy
from student_success.services.scope import Scope

app = typer.Typer(
    help="A student's records on request; the retention purge of raw imports.", no_args_is_help=True
)
SYSTEM = audit.SystemActor()


def _fail(exc: StudentSuccessError) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(1)


@app.command("purge-imports")
def purge_imports(
    days: Annotated[
        int | None,
        typer.Option(min=1, help="Purge imports older than N days (default: RAW_IMPORT_RETENTION_DAYS)."),
    ] = None,
) -> None:
    """Remove the row errors (which quote the file's cells) kept from imports older than N days.

    Each import keeps its summary: file name, SHA-256, row counts, status and who uploaded it. Uploaded
    files themselves are never stored. Safe to run again: a purged import has nothing left to remove.
    """
    settings = get_settings()
    keep = days if days is not None else settings.raw_import_retention_days
    if keep is None:
        typer.echo("error: give --days N or set RAW_IMPORT_RETENTION_DAYS (no retention is set)", err=True)
        raise typer.Exit(1)
    engine = make_engine(settings.database_url)
    try:
        upgrade_to_head(engine)
        with session_scope(engine) as session:
            result = privacy.purge_raw_imports(session, days=keep)
            audit.record(
                session, SYSTEM, "privacy.purge_imports",
                details={"days": keep, "cutoff": result.cutoff.isoformat(), "batches": result.batches},
            )  # fmt: skip
    except StudentSuccessError as exc:
        raise _fail(exc) from None
    finally:
        engine.dispose()
    typer.echo(
        f"purged the stored row errors of {result.batches} import(s) created before "
        f"{result.cutoff:%Y-%m-%d %H:%M} UTC (older than {keep} days)"
    )


@app.command("export")
def export_student(
    student_id: Annotated[int, typer.Argument(help="The student's number (student.id, as in the page URL).")],
    output: Annotated[Path | None, typer.Option(help="Write the JSON to this file.")] = None,
) -> None:
    """Everything stored about one student, as JSON (recorded in the audit trail)."""
    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        upgrade_to_head(engine)
        with session_scope(engine) as session:
            data = privacy.export_student_record(session, student_id, scope=Scope.all())
            entity = f"student:{student_id}"
            audit.record(session, SYSTEM, "student.export", student_id=student_id, entity=entity)
    except StudentSuccessError as exc:
        raise _fail(exc) from None
    finally:
        engine.dispose()
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"wrote the record of student {student_id} to {output}")


@app.command("delete")
def delete_student(
    student_id: Annotated[int, typer.Argument(help="The student's number (student.id).")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: this cannot be undone.")] = False,
) -> None:
    """Delete a student and every record about them (the audit trail keeps the deletion)."""
    if not yes:
        typer.echo("error: deleting cannot be undone; add --yes to confirm", err=True)
        raise typer.Exit(1)
    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        upgrade_to_head(engine)
        with session_scope(engine) as session:
            deleted = privacy.delete_student_records(session, student_id, scope=Scope.all())
            audit.record(
                session, SYSTEM, "student.delete", student_id=student_id, entity=f"student:{student_id}",
                details={"rows": deleted},
            )  # fmt: skip
    except StudentSuccessError as exc:
        raise _fail(exc) from None
    finally:
        engine.dispose()
    rows = ", ".join(f"{name} {n}" for name, n in deleted.items())
    typer.echo(f"deleted student {student_id}: {rows}")
