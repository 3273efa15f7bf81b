"""Signing in and out, and creating the first administrator on a fresh installation.

The sign-in form is protected against cross-site submission before any session exists: a random
cookie (``ss_login_csrf``) and a form token derived from it with the server's secret must match.
On a fresh installation (no user at all) a visitor on this machine (loopback) is offered
"Create the administrator account"; anyone else is told to run ``student-success users create``.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.exc import SQLAlchemyError

from student_success.api.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE, Principal
from student_success.api.deps import SessionDep, ensure_migrated
from student_success.api.security import client_address, is_https
from student_success.config import Settings
from student_success.db.engine import session_scope
from student_success.errors import ValidationFailed
from student_success.services.accounts import MIN_PASSWORD_LENGTH, count_users, create_user
from student_success.services.sessions import (
    LoginLocked,
    SignIn,
    csrf_matches,
    csrf_token,
    end_session,
    new_session,
    sign_in,
)
from student_success.web.common import render

router = APIRouter()
log = logging.getLogger(__name__)
FORM_EXPIRED = "The form expired. Please try again."


def _secret(request: Request) -> str:
    settings: Settings = request.app.state.settings
    return settings.secret_key.get_secret_value() if settings.secret_key else ""


def is_loopback(request: Request) -> bool:
    """Whether the request comes from this machine."""
    host = client_address(request)
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def safe_next(raw: str | None) -> str:
    """A local path to go to after signing in (anything else, e.g. another site, becomes ``/``)."""
    value = (raw or "").strip()
    parts = urlsplit(value)
    if not value.startswith("/") or value.startswith("//") or "\\" in value or parts.scheme or parts.netloc:
        return "/"
    return value


def _no_users_yet(request: Request) -> bool:
    try:
        ensure_migrated(request)
        with session_scope(request.app.state.session_factory) as session:
            return count_users(session) == 0
    except (SQLAlchemyError, HTTPException) as exc:  # the page must still render
        log.error("cannot count users: %s", exc)
        return False


def login_page(
    request: Request,
    *,
    next_path: str = "/",
    status_code: int = 200,
    message: str | None = None,
    error: str | None = None,
    email: str = "",
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The sign-in page (or the first-run form), with a fresh anonymous CSRF token.

    Used for ``GET /login`` and, with status 401, for every page requested without a valid sign-in.
    """
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    request.state.csrf_token = csrf_token(_secret(request), "login:" + cookie)
    first_run = _no_users_yet(request)
    response = render(
        request,
        "login.html",
        {
            "title": "Create the administrator account" if first_run and is_loopback(request) else "Sign in",
            "next_path": safe_next(next_path),
            "message": message,
            "error": error,
            "email": email,
            "first_run": first_run,
            "may_set_up": first_run and is_loopback(request),
            "min_password": MIN_PASSWORD_LENGTH,
        },
        status_code=status_code,
    )
    settings: Settings = request.app.state.settings
    response.set_cookie(
        LOGIN_CSRF_COOKIE, cookie, httponly=True, samesite="strict", secure=is_https(request, settings)
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _login_form_ok(request: Request, token: str) -> bool:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    return bool(cookie) and csrf_matches(_secret(request), "login:" + str(cookie), token)


def _signed_in(request: Request, started: SignIn, next_path: str) -> Response:
    settings: Settings = request.app.state.settings
    response = RedirectResponse(safe_next(next_path), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        started.token,
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=is_https(request, settings),
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> Response:
    """The sign-in page (a signed-in visitor goes straight on)."""
    if isinstance(getattr(request.state, "principal", None), Principal):
        return RedirectResponse(safe_next(next), status_code=303)
    return login_page(request, next_path=next)


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    """Check the e-mail and password; start a new session and go on, or say what went wrong."""
    if not _login_form_ok(request, csrf_token):
        return login_page(request, next_path=next, status_code=403, error=FORM_EXPIRED, email=email)
    settings: Settings = request.app.state.settings
    try:
        started = sign_in(session, email, password, ip=client_address(request), settings=settings)
    except LoginLocked as exc:
        text = str(exc)
        return login_page(
            request, next_path=next, status_code=429, error=text[:1].upper() + text[1:] + ".", email=email,
            headers={"Retry-After": str(exc.retry_after)},
        )  # fmt: skip
    if started is None:
        return login_page(
            request,
            next_path=next,
            status_code=401,
            error="The e-mail or password is not right.",
            email=email,
        )
    return _signed_in(request, started, next)


@router.post("/login/first-run", response_class=HTMLResponse)
def first_run(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    password_again: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Create the first administrator (only from this machine, only while there is no user)."""
    if not _login_form_ok(request, csrf_token):
        return login_page(request, status_code=403, error=FORM_EXPIRED, email=email)
    if count_users(session) > 0 or not is_loopback(request):
        return login_page(
            request,
            status_code=403,
            error="The administrator account can only be created once, on this machine.",
        )
    if password != password_again:
        return login_page(request, status_code=422, error="The two passwords are not the same.", email=email)
    settings: Settings = request.app.state.settings
    try:
        user = create_user(session, email, role="admin", password=password)
    except ValidationFailed as exc:
        message = exc.errors[0].message if exc.errors else str(exc)
        return login_page(
            request, status_code=422, error=message[:1].upper() + message[1:] + ".", email=email
        )
    started = new_session(session, user, hours=settings.session_hours, ip=client_address(request))
    return _signed_in(request, started, "/")


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> Response:
    """Sign out: the session is deleted on the server and the cookie removed."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        end_session(session, token)
    response = RedirectResponse("/login", status_code=303)
    settings: Settings = request.app.state.settings
    response.delete_cookie(SESSION_COOKIE, path="/", secure=is_https(request, settings), httponly=True)
    return response
