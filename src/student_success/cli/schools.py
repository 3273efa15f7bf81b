"""``student-success schools …``: schools and their courses, for counsellors who work with a whole school."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.orm import Session

from student_success.cli.accounts import run_unit
from student_success.services import schools

app = typer.Typer(help="Schools and the courses they run.", no_args_is_help=True)


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="The school's name (unique).")],
    course: Annotated[
        list[int] | None, typer.Option("--course", help="Course id it runs (repeatable).")
    ] = None,
    external_id: Annotated[str | None, typer.Option(help="The school's id in the SIS.")] = None,
) -> None:
    """Add a school, with the courses it runs."""

    def work(session: Session) -> tuple[int, int]:
        school = schools.create_school(session, name, external_id=external_id)
        return school.id, schools.assign_courses(session, school.id, course or ())

    school_id, moved = run_unit(work)
    typer.echo(f"created school {school_id} with {moved} course{'s' if moved != 1 else ''}")


@app.command("add-courses")
def add_courses(
    school_id: Annotated[int, typer.Argument(help="The school's id (see `schools list`).")],
    course: Annotated[list[int], typer.Argument(help="Course ids it runs.")],
) -> None:
    """Put courses in a school."""
    moved = run_unit(lambda session: schools.assign_courses(session, school_id, course))
    typer.echo(f"school {school_id} now runs {moved} more course{'s' if moved != 1 else ''}")


@app.command("list")
def list_() -> None:
    """List the schools: id, name, number of courses."""
    rows = run_unit(schools.list_schools)
    if not rows:
        typer.echo("no schools yet: student-success schools create NAME --course ID")
    for row in rows:
        typer.echo(f"{row['id']}\t{row['name']}\t{row['courses']} courses")
