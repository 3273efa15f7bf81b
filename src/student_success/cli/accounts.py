"""``student-success users …`` and ``student-success api-keys …``: accounts from the command line.

The database comes from the settings (``DATABASE_URL``) and is migrated first. Passwords are never
taken from a command-line flag (it would land in the shell history): they are typed at a prompt, or
read from standard input with ``--password-stdin``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

import typer
from sqlalchemy.orm import Session

from student_success.config import get_settings
from student_success.db.engine import make_engine, session_scope
from student_success.db.migrate import upgrade_to_head
from student_success.errors import StudentSuccessError, ValidationFailed
from student_success.services import accounts

users_app = typer.Typer(help="Create, list and disable the people who sign in.", no_args_is_help=True)
keys_app = typer.Typer(
    help="Create and revoke API keys (sent as Authorization: Bearer <key>).", no_args_is_help=True
)
T = TypeVar("T")


@contextmanager
def _unit_of_work() -> Iterator[Session]:
    engine = make_engine(get_settings().database_url)
    try:
        upgrade_to_head(engine)
        with session_scope(engine) as session:
            yield session
    finally:
        engine.dispose()


def run_unit(work: Callable[[Session], T]) -> T:
    """Run ``work`` in one transaction; a domain error is one line on stderr and exit code 1."""
    try:
        with _unit_of_work() as session:
            return work(session)
    except ValidationFailed as exc:
        typer.echo(f"error: {exc.errors[0] if exc.errors else exc}", err=True)
        raise typer.Exit(1) from None
    except StudentSuccessError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Argument(help="E-mail address the person signs in with.")],
    role: Annotated[str, typer.Option(help="admin, counsellor or teacher.")],
    name: Annotated[str | None, typer.Option(help="Name shown on the pages.")] = None,
    section: Annotated[
        list[int] | None, typer.Option("--section", help="Section id a teacher sees (repeatable).")
    ] = None,
    student: Annotated[
        list[int] | None, typer.Option("--student", help="Student id on a counsellor's caseload (repeat).")
    ] = None,
    school: Annotated[
        list[int] | None,
        typer.Option("--school", help="School id a counsellor works with as a whole (repeatable)."),
    ] = None,
    password_stdin: Annotated[bool, typer.Option(help="Read the password from standard input.")] = False,
    no_password: Annotated[bool, typer.Option(help="No password: the user only uses API keys.")] = False,
) -> None:
    """Add a user (the password is asked for, or read from standard input)."""
    try:
        accounts.check_role(role)  # say a wrong role before asking for a password
    except ValidationFailed as exc:
        typer.echo(f"error: {exc.errors[0]}", err=True)
        raise typer.Exit(1) from None
    password = None if no_password else _read_password(password_stdin)
    user = run_unit(
        lambda session: accounts.create_user(
            session,
            email,
            role=role,
            password=password,
            display_name=name,
            section_ids=section or (),
            student_ids=student or (),
            school_ids=school or (),
        )
    )
    typer.echo(f"created {user.role} {user.email} (id {user.id})")


@users_app.command("list")
def users_list() -> None:
    """List every user: e-mail, role, active or disabled, sections or caseload."""

    def rows(session: Session) -> list[str]:
        lines = []
        for user in accounts.list_users(session):
            sections, students = accounts.user_assignments(session, user.id)
            access = "all students" if user.role == "admin" else (
                f"sections {','.join(map(str, sections)) or '-'}" if user.role == "teacher"
                else f"caseload of {len(students)} student{'s' if len(students) != 1 else ''}"
                + "".join(f", school {school}" for school in accounts.user_schools(session, user.id))
            )  # fmt: skip
            state = "active" if user.is_active else "disabled"
            lines.append(f"{user.email}\t{user.role}\t{state}\t{access}")
        return lines

    lines = run_unit(rows)
    if not lines:
        typer.echo("no users yet: student-success users create EMAIL --role admin")
    for line in lines:
        typer.echo(line)


@users_app.command("disable")
def users_disable(email: Annotated[str, typer.Argument(help="E-mail of the user.")]) -> None:
    """Stop a user from signing in; their sessions end and their API keys stop working."""
    user = run_unit(lambda session: accounts.disable_user(session, email))
    typer.echo(f"disabled {user.email}")


@keys_app.command("create")
def keys_create(
    email: Annotated[str, typer.Argument(help="E-mail of the user the key acts as.")],
    name: Annotated[str | None, typer.Option(help="What the key is for, e.g. 'SIS sync'.")] = None,
) -> None:
    """Make an API key; it is printed once and cannot be shown again."""
    row, key = run_unit(lambda session: accounts.create_api_key(session, email, name=name))
    typer.echo(key)
    typer.echo(f"API key {row.prefix} created: store it now, it is not shown again", err=True)


@keys_app.command("revoke")
def keys_revoke(prefix: Annotated[str, typer.Argument(help="The key's prefix, e.g. ssk_1a2b3c4d.")]) -> None:
    """Revoke an API key; it stops working at once."""
    row = run_unit(lambda session: accounts.revoke_api_key(session, prefix))
    typer.echo(f"revoked API key {row.prefix}")
