"""Failed imports: recorded like the API records them, and explained in plain words."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from student_success.config import Settings
from student_success.db.engine import session_scope
from student_success.errors import StudentSuccessError, ValidationFailed
from student_success.services import imports


def import_failure_message(exc: StudentSuccessError) -> str:
    """What to tell a teacher when an import fails."""
    if isinstance(exc, imports.NoActiveModel):
        return (
            "No risk model is trained yet, so the students cannot be scored. "
            "Ask the person who runs this system to train one (student-success train)."
        )
    if isinstance(exc, ValidationFailed):
        return f"The file has {len(exc.errors)} problem(s); see the list below."
    return f"The file could not be scored: {exc}"


def record_failure(
    session: Session,
    engine: Engine,
    content: bytes,
    *,
    filename: str,
    error: StudentSuccessError,
    as_of_day: int | None,
    user_id: int | None,
    settings: Settings | None = None,
) -> None:
    """Roll back the request's work and record the failed import in a transaction of its own."""
    session.rollback()  # release the request's transaction (and SQLite's write lock) first
    with session_scope(engine) as failure_session:
        imports.record_failed_import(
            failure_session, content, filename=filename, error=error, as_of_day=as_of_day, user_id=user_id,
            settings=settings,
        )  # fmt: skip
