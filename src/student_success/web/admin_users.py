"""People and their access: administrators add and disable accounts, say who sees which students, and
issue API keys; everyone manages their own API keys on their account page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from student_success.api.auth import Principal
from student_success.api.deps import SessionDep
from student_success.api.routes.audit import AuditDep
from student_success.db.models import ROLES, ApiKey, User
from student_success.errors import Conflict, ValidationFailed
from student_success.services import accounts, schools
from student_success.web.common import error_page, render, see_other

router = APIRouter()
ROLE_WORDS = {"admin": "Administrator", "counsellor": "Counsellor", "teacher": "Teacher"}


def _not_admin(request: Request) -> Response:
    return error_page(
        request, title="Administrators only",
        message="Only an administrator can manage accounts.", status_code=403,
    )  # fmt: skip


def _admin_target(request: Request, session: Session, principal: Principal, user_id: int) -> User | Response:
    """The account an administrator acts on, or the page that says why not."""
    if not principal.is_admin:
        return _not_admin(request)
    user = session.get(User, user_id)
    if user is None:
        return error_page(
            request, title="No such person", message="This account does not exist.", status_code=404
        )
    return user


def _no_such_key(request: Request) -> Response:
    return error_page(
        request, title="No such key", message="You have no key with this prefix.", status_code=404
    )


def _ids(form: FormData, name: str) -> list[int]:
    """The whole numbers given for ``name`` (checkboxes, or one field of ids separated by commas)."""
    out: list[int] = []
    for value in form.getlist(name):
        for part in str(value).replace(",", " ").split():
            if not part.isdigit():
                raise ValidationFailed.single(f"{part!r} is not a number", file="form", column=name)
            out.append(int(part))
    return out


def _message(exc: Exception) -> str:
    text = exc.errors[0].message if isinstance(exc, ValidationFailed) and exc.errors else str(exc)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _people(session: Session) -> list[dict[str, Any]]:
    rows = []
    for user in accounts.list_users(session):
        sections, students = accounts.user_assignments(session, user.id)
        rows.append(
            {"user": user, "role": ROLE_WORDS.get(user.role, user.role), "sections": sections,
             "students": students, "schools": accounts.user_schools(session, user.id)}
        )  # fmt: skip
    return rows


def _users_page(
    request: Request, session: Session, *, error: str | None = None, new_key: tuple[User, str] | None = None,
    values: dict[str, Any] | None = None, status_code: int = 200,
) -> Response:  # fmt: skip
    return render(
        request,
        "admin_users.html",
        {
            "title": "People and access",
            "people": _people(session),
            "sections": schools.section_choices(session),
            "schools": schools.list_schools(session),
            "roles": [(r, ROLE_WORDS[r]) for r in ROLES],
            "error": error,
            "new_key": new_key,
            "values": values or {},
            "created": request.query_params.get("created"),
            "changed": request.query_params.get("changed"),
        },
        status_code=status_code,
    )


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, session: SessionDep, record: AuditDep) -> Response:
    """Everyone who signs in, what they see, and the form to add someone (administrators only)."""
    if not record.principal.is_admin:
        return _not_admin(request)
    record("user.list")
    return _users_page(request, session)


@router.post("/admin/users", response_class=HTMLResponse)
async def add_user(request: Request, session: SessionDep, record: AuditDep) -> Response:
    """Add a person with their role, password and access (administrators only)."""
    if not record.principal.is_admin:
        return _not_admin(request)
    form = await request.form()
    email, role = str(form.get("email", "")), str(form.get("role", ""))
    password, again = str(form.get("password", "")), str(form.get("password_again", ""))
    values = {"email": email, "role": role, "display_name": str(form.get("display_name", ""))}
    try:
        if password != again:
            raise ValidationFailed.single(
                "the two passwords are not the same", file="form", column="password"
            )
        user = accounts.create_user(
            session, email, role=role, password=password or None, display_name=values["display_name"],
            section_ids=_ids(form, "section_ids"), student_ids=_ids(form, "student_ids"),
            school_ids=_ids(form, "school_ids"),
        )  # fmt: skip
    except (ValidationFailed, Conflict) as exc:
        return _users_page(request, session, error=_message(exc), values=values, status_code=422)
    record("user.create", entity=f"user:{user.id}", details={"role": user.role})
    return see_other("/admin/users", created=user.email)


@router.post("/admin/users/{user_id}/access", response_class=HTMLResponse)
async def change_access(request: Request, user_id: int, session: SessionDep, record: AuditDep) -> Response:
    """Replace whom a person sees: sections, caseload and schools (administrators only)."""
    user = _admin_target(request, session, record.principal, user_id)
    if isinstance(user, Response):
        return user
    form = await request.form()
    try:
        accounts.set_access(
            session, user.email, section_ids=_ids(form, "section_ids"), student_ids=_ids(form, "student_ids"),
            school_ids=_ids(form, "school_ids"),
        )  # fmt: skip
    except ValidationFailed as exc:
        return _users_page(request, session, error=_message(exc), status_code=422)
    record("user.update", entity=f"user:{user.id}", details={"access": True})
    return see_other("/admin/users", changed=user.email)


@router.post("/admin/users/{user_id}/disable", response_class=HTMLResponse)
def disable(request: Request, user_id: int, session: SessionDep, record: AuditDep) -> Response:
    """Stop a person from signing in; their sessions end and their keys stop working (administrators only)."""
    user = _admin_target(request, session, record.principal, user_id)
    if isinstance(user, Response):
        return user
    if user.id == record.principal.user_id:
        return _users_page(request, session, error="You cannot disable your own account.", status_code=422)
    accounts.disable_user(session, user.email)
    record("user.disable", entity=f"user:{user.id}")
    return see_other("/admin/users", changed=user.email)


@router.post("/admin/users/{user_id}/api-keys", response_class=HTMLResponse)
def issue_key(request: Request, user_id: int, session: SessionDep, record: AuditDep) -> Response:
    """A new API key for a person, shown on this page once (administrators only)."""
    user = _admin_target(request, session, record.principal, user_id)
    if isinstance(user, Response):
        return user
    try:
        row, key = accounts.create_api_key(session, user.email, name="issued on the people page")
    except Conflict as exc:
        return _users_page(request, session, error=_message(exc), status_code=422)
    record("user.api_key.create", entity=f"user:{user.id}", details={"prefix": row.prefix})
    return _users_page(request, session, new_key=(user, key))


def _own_keys(session: Session, principal: Principal) -> list[ApiKey]:
    user = session.get(User, principal.user_id) if principal.user_id is not None else None
    return accounts.list_api_keys(session, user.email) if user is not None else []


def _account_page(
    request: Request, session: Session, principal: Principal, *, new_key: str | None = None
) -> Response:
    return render(
        request,
        "account.html",
        {"title": "Your account", "keys": _own_keys(session, principal), "new_key": new_key,
         "revoked": request.query_params.get("revoked"), "has_user": principal.user_id is not None},
    )  # fmt: skip


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, session: SessionDep, record: AuditDep) -> Response:
    """Your API keys: create one for a script, revoke one you no longer use."""
    return _account_page(request, session, record.principal)


@router.post("/account/api-keys", response_class=HTMLResponse)
def create_own_key(request: Request, session: SessionDep, record: AuditDep) -> Response:
    """A new API key of your own, shown once."""
    user = session.get(User, record.principal.user_id) if record.principal.user_id is not None else None
    if user is None:
        return error_page(
            request, title="No account", message="The bootstrap key has no account.", status_code=403
        )
    row, key = accounts.create_api_key(session, user.email, name="made on the account page")
    record("user.api_key.create", entity=f"user:{user.id}", details={"prefix": row.prefix})
    return _account_page(request, session, record.principal, new_key=key)


@router.post("/account/api-keys/{prefix}/revoke", response_class=HTMLResponse)
def revoke_own_key(request: Request, prefix: str, session: SessionDep, record: AuditDep) -> Response:
    """Revoke one of your API keys; it stops working at once."""
    mine = {k.prefix for k in _own_keys(session, record.principal)}
    if prefix not in mine:
        return _no_such_key(request)
    accounts.revoke_api_key(session, prefix)  # one of the caller's own keys, listed just above
    record("user.api_key.revoke", entity=f"user:{record.principal.user_id}", details={"prefix": prefix})
    return see_other("/account", revoked=prefix)
