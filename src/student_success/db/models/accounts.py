"""People who use the system, what they may see, how they authenticate, and what they did.

The user table is called ``app_user``: ``user`` is a reserved word in PostgreSQL, and an operator
typing ``SELECT * FROM user`` in psql would silently get the current role instead of the table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship

from student_success.db.base import Base, CreatedAtMixin, one_of, utcnow
from student_success.errors import StudentSuccessError

ROLES: tuple[str, ...] = ("admin", "counsellor", "teacher")


class User(CreatedAtMixin, Base):
    """A person who signs in. E-mail addresses are stored lower-cased (the service normalises them)."""

    __tablename__ = "app_user"
    __table_args__ = (one_of("role", ROLES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str | None]
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(doc="argon2 hash; None for API-key-only users")
    is_active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None]

    api_keys: Mapped[list[ApiKey]] = relationship(back_populates="user", passive_deletes=True)


class UserSection(Base):
    """A teacher's assignment to a section: teachers see only the students of their sections."""

    __tablename__ = "user_section"
    __table_args__ = (Index("ix_user_section_section_id", "section_id"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id", ondelete="CASCADE"), primary_key=True)


class CounsellorCaseload(Base):
    """A student on a counsellor's caseload."""

    __tablename__ = "counsellor_caseload"
    __table_args__ = (Index("ix_counsellor_caseload_student_id", "student_id"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id", ondelete="CASCADE"), primary_key=True)


class CounsellorSchool(Base):
    """A counsellor who works with a whole school: they see every student enrolled in its courses."""

    __tablename__ = "counsellor_school"
    __table_args__ = (Index("ix_counsellor_school_school_id", "school_id"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), primary_key=True)


class ApiKey(CreatedAtMixin, Base):
    """An API key. Only its SHA-256 is stored; the prefix identifies it in lists and logs."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None]
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="api_keys")


class UserSession(Base):
    """A signed-in browser. Only the SHA-256 of the cookie's token is stored: a copy of this table
    does not let anyone sign in."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    ip: Mapped[str | None] = mapped_column(String(45))

    user: Mapped[User] = relationship()


class LoginFailure(Base):
    """A failed sign-in, counted per e-mail and per address to throttle password guessing.

    Rows older than the lockout window are useless and are deleted whenever a failure is recorded.
    """

    __tablename__ = "login_failure"
    __table_args__ = (
        Index("ix_login_failure_email_at", "email", "at"),
        Index("ix_login_failure_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    email: Mapped[str] = mapped_column(String(320))
    ip: Mapped[str] = mapped_column(String(45))


class AuditEvent(Base):
    """One access or change, append-only.

    ``actor_id`` and ``student_id`` are plain integers, not foreign keys: the audit trail must outlive
    the rows it mentions (a deleted user or a student removed on request) and must never block or
    cascade a delete. ``actor`` keeps a readable label (e-mail, ``api-key:<prefix>``, ``system``).
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_at", "at"),
        Index("ix_audit_event_student_id_at", "student_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None]
    actor: Mapped[str | None]
    action: Mapped[str] = mapped_column(String(64), doc="e.g. student.view, intervention.update")
    entity: Mapped[str | None] = mapped_column(doc="e.g. intervention:42")
    student_id: Mapped[int | None]
    ip: Mapped[str | None] = mapped_column(String(45))
    details: Mapped[dict[str, Any] | None]


class AuditTrailIsAppendOnly(StudentSuccessError):
    """Code tried to change or delete an audit event through the ORM."""


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_audit_change(_mapper: Mapper[AuditEvent], _connection: Connection, target: AuditEvent) -> None:
    # Retention purges are an ops task with bulk SQL; the application itself only appends.
    raise AuditTrailIsAppendOnly(f"audit event {target.id} cannot be changed or deleted")
