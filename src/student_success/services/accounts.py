"""Users, their roles and what they may see, and their API keys.

Passwords are hashed with argon2 (``argon2-cffi``; a hash made with older parameters is replaced at
the next successful sign-in). An API key is shown once, when it is created: only its SHA-256 is stored,
and its prefix names it in lists, logs and the audit trail.

What each role sees (:func:`build_scope`):

* ``admin``: every student.
* ``teacher``: the students enrolled in the sections assigned to them (``user_section``).
* ``counsellor``: the students on their caseload (``counsellor_caseload``) and, for a counsellor who
  works with a whole school, every student enrolled in that school's courses (``counsellor_school``).
  A counsellor with neither sees **no** student: access is granted, never assumed.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from student_success.db.base import utcnow
from student_success.db.models import (
    ROLES,
    ApiKey,
    CounsellorCaseload,
    CounsellorSchool,
    School,
    Section,
    Student,
    User,
    UserSection,
    UserSession,
)
from student_success.errors import Conflict, NotFound, ValidationFailed
from student_success.services.scope import Scope

MIN_PASSWORD_LENGTH = 12
KEY_PREFIX = "ssk_"
LAST_USED_EVERY = timedelta(minutes=1)  # write api_key.last_used_at at most this often per key
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$|^[^@\s]+@localhost$")
_hasher = PasswordHasher()
# verified against when the e-mail is unknown, so a wrong e-mail takes as long as a wrong password
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class UnknownUser(NotFound):
    """No user with this e-mail."""


class UnknownApiKey(NotFound):
    """No API key with this prefix."""


class DuplicateUser(Conflict):
    """A user with this e-mail exists already."""


@dataclass(frozen=True)
class Identity:
    """Who a credential belongs to (the API layer turns it into its ``Principal``).

    Attributes:
        user_id: ``app_user.id``, or ``None`` for the bootstrap key.
        label: the e-mail, or ``api-key:<prefix>``; never a secret.
        role: ``admin``, ``counsellor`` or ``teacher``.
        scope: the students this identity may see.
    """

    user_id: int | None
    label: str
    role: str
    scope: Scope


def sha256_hex(secret: str) -> str:
    """The SHA-256 of ``secret`` as 64 hex digits (how keys and session tokens are stored)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def normalize_email(email: str) -> str:
    """``email`` trimmed and lower-cased.

    Raises:
        ValidationFailed: it does not look like an e-mail address.
    """
    value = email.strip().lower()
    if len(value) > 320 or not _EMAIL.match(value):
        raise ValidationFailed.single(f"not an e-mail address: {email!r}", file="user", column="email")
    return value


def check_role(role: str) -> str:
    """``role`` when it is one of :data:`ROLES`.

    Raises:
        ValidationFailed: any other value.
    """
    if role not in ROLES:
        raise ValidationFailed.single(
            f"role must be one of {', '.join(ROLES)}, not {role!r}", file="user", column="role"
        )
    return role


def check_password(password: str) -> str:
    """``password`` when it is long enough.

    Raises:
        ValidationFailed: shorter than :data:`MIN_PASSWORD_LENGTH` characters.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed.single(
            f"the password must have at least {MIN_PASSWORD_LENGTH} characters",
            file="user",
            column="password",
        )
    return password


def hash_password(password: str) -> str:
    """The argon2 hash of ``password`` (after :func:`check_password`)."""
    return _hasher.hash(check_password(password))


def verify_password(user: User | None, password: str) -> bool:
    """Whether ``password`` is ``user``'s; rehashes it when the hashing parameters changed.

    A missing user, a user without a password and a disabled user all fail, after the same work as
    a real check (the time taken says nothing about which e-mails exist).
    """
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    if user is None or not user.password_hash or not user.is_active:
        return False
    if _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)
    return True


def get_user(session: Session, email: str) -> User:
    """The user with this e-mail (any case).

    Raises:
        UnknownUser: there is none.
    """
    user = find_user(session, email)
    if user is None:
        raise UnknownUser(f"no user with e-mail {email.strip().lower()!r}")
    return user


def find_user(session: Session, email: str) -> User | None:
    """The user with this e-mail (any case), or ``None``."""
    return session.scalars(select(User).where(User.email == email.strip().lower())).first()


def count_users(session: Session) -> int:
    """How many users exist (zero on a fresh installation)."""
    return int(session.scalar(select(func.count()).select_from(User)) or 0)


def create_user(
    session: Session,
    email: str,
    *,
    role: str,
    password: str | None = None,
    display_name: str | None = None,
    section_ids: Iterable[int] = (),
    student_ids: Iterable[int] = (),
    school_ids: Iterable[int] = (),
) -> User:
    """Add a user, with the sections they teach, or the students and schools a counsellor works with.

    Args:
        session: the unit of work (flushed, not committed).
        email: the sign-in name; stored lower-cased.
        role: ``admin``, ``counsellor`` or ``teacher``.
        password: at least 12 characters; ``None`` for a user who only uses API keys.
        display_name: how pages name the user.
        section_ids: ``section.id`` values a teacher sees the students of.
        student_ids: ``student.id`` values on a counsellor's caseload.
        school_ids: ``school.id`` values of the schools a counsellor works with as a whole.

    Raises:
        ValidationFailed: bad e-mail, role or password, or an unknown section, student or school id.
        DuplicateUser: the e-mail is taken.
    """
    address = normalize_email(email)
    check_role(role)
    if find_user(session, address) is not None:
        raise DuplicateUser(f"a user with e-mail {address!r} exists already")
    sections, students, schools = sorted(set(section_ids)), sorted(set(student_ids)), sorted(set(school_ids))
    _check_ids(session, Section.id, sections, "section")
    _check_ids(session, Student.id, students, "student")
    _check_ids(session, School.id, schools, "school")
    user = User(
        email=address,
        role=role,
        display_name=(display_name or "").strip() or None,
        password_hash=None if password is None else hash_password(password),
        is_active=True,
    )
    session.add(user)
    session.flush()
    session.add_all(UserSection(user_id=user.id, section_id=s) for s in sections)
    session.add_all(CounsellorCaseload(user_id=user.id, student_id=s) for s in students)
    session.add_all(CounsellorSchool(user_id=user.id, school_id=s) for s in schools)
    session.flush()
    return user


def _check_ids(session: Session, column: InstrumentedAttribute[int], ids: list[int], what: str) -> None:
    if not ids:
        return
    found = set(session.scalars(select(column).where(column.in_(ids))))
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationFailed.single(
            f"no {what} with id {', '.join(map(str, missing))}", file="user", column=f"{what}_id"
        )


def list_users(session: Session) -> list[User]:
    """Every user, by e-mail."""
    return list(session.scalars(select(User).order_by(User.email)))


def user_schools(session: Session, user_id: int) -> list[int]:
    """The ids of the schools a counsellor works with as a whole."""
    return list(
        session.scalars(
            select(CounsellorSchool.school_id)
            .where(CounsellorSchool.user_id == user_id)
            .order_by(CounsellorSchool.school_id)
        )
    )


def user_assignments(session: Session, user_id: int) -> tuple[list[int], list[int]]:
    """The section ids and caseload student ids of a user."""
    sections = session.scalars(
        select(UserSection.section_id).where(UserSection.user_id == user_id).order_by(UserSection.section_id)
    )
    students = session.scalars(
        select(CounsellorCaseload.student_id)
        .where(CounsellorCaseload.user_id == user_id)
        .order_by(CounsellorCaseload.student_id)
    )
    return list(sections), list(students)


def disable_user(session: Session, email: str) -> User:
    """Stop a user from signing in: their sessions end at once and their API keys stop working.

    Raises:
        UnknownUser: no user with this e-mail.
    """
    user = get_user(session, email)
    user.is_active = False
    session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    session.flush()
    return user


def set_access(
    session: Session,
    email: str,
    *,
    section_ids: Iterable[int] = (),
    student_ids: Iterable[int] = (),
    school_ids: Iterable[int] = (),
) -> User:
    """Replace what a user sees: their sections, caseload and schools (the next request applies it).

    Raises:
        UnknownUser: no user with this e-mail.
        ValidationFailed: an unknown section, student or school id.
    """
    user = get_user(session, email)
    sections, students, schools = sorted(set(section_ids)), sorted(set(student_ids)), sorted(set(school_ids))
    _check_ids(session, Section.id, sections, "section")
    _check_ids(session, Student.id, students, "student")
    _check_ids(session, School.id, schools, "school")
    for table in (UserSection, CounsellorCaseload, CounsellorSchool):
        session.execute(delete(table).where(table.user_id == user.id))
    session.add_all(UserSection(user_id=user.id, section_id=s) for s in sections)
    session.add_all(CounsellorCaseload(user_id=user.id, student_id=s) for s in students)
    session.add_all(CounsellorSchool(user_id=user.id, school_id=s) for s in schools)
    session.flush()
    return user


def build_scope(session: Session, user: User) -> Scope:
    """The students ``user`` may see (see the module docstring)."""
    if user.role == "admin":
        return Scope.all(user_id=user.id)
    if user.role == "teacher":
        sections = session.scalars(select(UserSection.section_id).where(UserSection.user_id == user.id))
        return Scope(user_id=user.id, role="teacher", section_ids=frozenset(sections))
    students = session.scalars(
        select(CounsellorCaseload.student_id).where(CounsellorCaseload.user_id == user.id)
    )
    schools = session.scalars(select(CounsellorSchool.school_id).where(CounsellorSchool.user_id == user.id))
    return Scope(
        user_id=user.id, role=user.role, student_ids=frozenset(students), school_ids=frozenset(schools)
    )


def identity_of(session: Session, user: User, *, label: str | None = None) -> Identity:
    """The identity of an active user."""
    return Identity(
        user_id=user.id, label=label or user.email, role=user.role, scope=build_scope(session, user)
    )


def create_api_key(session: Session, email: str, *, name: str | None = None) -> tuple[ApiKey, str]:
    """Make a new API key for a user; returns the row and the key, which is never shown again.

    Raises:
        UnknownUser: no user with this e-mail.
        Conflict: the user is disabled.
    """
    user = get_user(session, email)
    if not user.is_active:
        raise Conflict(f"user {user.email!r} is disabled")
    prefix = KEY_PREFIX + secrets.token_hex(4)
    key = f"{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(user_id=user.id, name=(name or "").strip() or None, key_hash=sha256_hex(key), prefix=prefix)
    session.add(row)
    session.flush()
    return row, key


def list_api_keys(session: Session, email: str | None = None) -> list[ApiKey]:
    """Every API key (or one user's), newest first."""
    query = select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    if email is not None:
        query = query.where(ApiKey.user_id == get_user(session, email).id)
    return list(session.scalars(query))


def revoke_api_key(session: Session, prefix: str, *, now: datetime | None = None) -> ApiKey:
    """Revoke the key with this prefix; it stops working at once. Revoking twice changes nothing.

    Raises:
        UnknownApiKey: no key has this prefix.
    """
    row = session.scalars(select(ApiKey).where(ApiKey.prefix == prefix.strip())).first()
    if row is None:
        raise UnknownApiKey(f"no API key with prefix {prefix.strip()!r}")
    if row.revoked_at is None:
        row.revoked_at = now or utcnow()
        session.flush()
    return row


def authenticate_api_key(session: Session, key: str, *, now: datetime | None = None) -> Identity | None:
    """The identity an API key belongs to, or ``None`` (unknown, revoked, or its user disabled).

    One lookup by the key's SHA-256 (unique index). ``last_used_at`` is written at most once a minute
    per key, so a busy client does not turn every read into a write.
    """
    now = now or utcnow()
    row = session.execute(
        select(ApiKey, User).join(User, User.id == ApiKey.user_id).where(ApiKey.key_hash == sha256_hex(key))
    ).first()
    if row is None:
        return None
    api_key, user = row
    if api_key.revoked_at is not None or not user.is_active:
        return None
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_EVERY:
        session.execute(update(ApiKey).where(ApiKey.id == api_key.id).values(last_used_at=now))
    return identity_of(session, user, label=f"api-key:{api_key.prefix}")
