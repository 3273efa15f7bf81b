"""Account administration over the API: create users (with their sections or caseload) and API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from student_success.api.auth import AdminDep
from student_success.api.deps import SessionDep
from student_success.api.routes.audit import AuditDep
from student_success.db.models import User
from student_success.services import accounts

router = APIRouter(prefix="/users", tags=["users"])


class UserCreate(BaseModel):
    """A new account. Teachers see the students of ``section_ids``; counsellors those in ``student_ids``
    and those enrolled in the courses of ``school_ids``."""

    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    role: Literal["admin", "counsellor", "teacher"]
    display_name: str | None = Field(default=None, max_length=255)
    password: str | None = Field(default=None, min_length=12, max_length=1024)
    section_ids: list[int] = Field(default_factory=list, max_length=1000)
    student_ids: list[int] = Field(default_factory=list, max_length=10000)
    school_ids: list[int] = Field(default_factory=list, max_length=1000)


class UserPublic(BaseModel):
    """An account (never its password or keys)."""

    id: int
    email: str
    display_name: str | None
    role: str
    is_active: bool
    created_at: datetime
    section_ids: list[int]
    student_ids: list[int]
    school_ids: list[int]


class UsersPublic(BaseModel):
    """A page of accounts."""

    data: list[UserPublic]
    count: int
    limit: int
    offset: int


class ApiKeyCreate(BaseModel):
    """A new API key for a user."""

    name: str | None = Field(default=None, max_length=255)


class ApiKeyCreated(BaseModel):
    """A new API key. ``key`` is shown this once: only its hash is stored."""

    id: int
    user_id: int
    name: str | None
    prefix: str
    key: str


def _public(session: Session, user: User) -> dict[str, Any]:
    sections, students = accounts.user_assignments(session, user.id)
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role,
        "is_active": user.is_active,
        "created_at": user.created_at,
        "section_ids": sections,
        "student_ids": students,
        "school_ids": accounts.user_schools(session, user.id),
    }


@router.post("", response_model=UserPublic, status_code=201)
def create_user(body: UserCreate, session: SessionDep, admin: AdminDep, record: AuditDep) -> dict[str, Any]:
    """Create an account (administrators only)."""
    user = accounts.create_user(
        session, body.email, role=body.role, display_name=body.display_name,
        password=body.password, section_ids=body.section_ids, student_ids=body.student_ids,
        school_ids=body.school_ids,
    )  # fmt: skip
    record("user.create", entity=f"user:{user.id}", details={"role": user.role})
    return _public(session, user)


@router.get("", response_model=UsersPublic)
def list_users(
    session: SessionDep,
    admin: AdminDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Accounts by id (administrators only)."""
    total = session.scalar(select(func.count()).select_from(User)) or 0
    users = session.scalars(select(User).order_by(User.id).limit(limit).offset(offset)).all()
    return {"data": [_public(session, u) for u in users], "count": total, "limit": limit, "offset": offset}


@router.post("/{user_id}/api-keys", response_model=ApiKeyCreated, status_code=201)
def create_api_key(
    user_id: int, body: ApiKeyCreate, session: SessionDep, admin: AdminDep, record: AuditDep
) -> dict[str, Any]:
    """Issue an API key for a user; the key is in this response only (administrators only)."""
    user = session.get(User, user_id)
    if user is None:
        raise accounts.UnknownUser(f"user {user_id} not found")
    key, secret = accounts.create_api_key(session, user.email, name=body.name)
    record("user.api_key.create", entity=f"user:{user_id}", details={"api_key_id": key.id})
    return {"id": key.id, "user_id": key.user_id, "name": key.name, "prefix": key.prefix, "key": secret}
