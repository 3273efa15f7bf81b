"""Who is calling, and what they may see.

The interface every route uses:

- ``PrincipalDep``: the authenticated caller (:class:`Principal`): user id, a readable label for logs
  and the audit trail, role, and the :class:`Scope` of students they may see.
- ``ScopeDep``: just the scope, for routes that only filter queries.
- ``AdminDep``: the principal, when it is an administrator (403 otherwise).

Authentication happens once per request, in the gate installed by ``api/security.py``: an
``Authorization: Bearer <key>`` header (the ``MVP_API_KEY`` bootstrap key, or a user's API key), otherwise
the session cookie. Every route answers 401 without valid credentials, except :data:`PUBLIC_ROUTES` and
the paths under :data:`PUBLIC_PREFIXES`. ``current_principal`` only reads what the gate found.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session, sessionmaker

from student_success.config import Settings
from student_success.db.engine import session_scope
from student_success.services.accounts import Identity, authenticate_api_key
from student_success.services.scope import Scope
from student_success.services.sessions import resolve_session

SESSION_COOKIE = "ss_session"
LOGIN_CSRF_COOKIE = "ss_login_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
BOOTSTRAP_LABEL = "api-key:bootstrap"

PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/health"),
        ("GET", "/api/notifications/health"),
        ("GET", "/login"),
        ("POST", "/login"),
        ("POST", "/login/first-run"),
        ("POST", "/logout"),
    }
)
"""The only routes that answer without credentials (method, path). Nothing here reveals student data."""
PUBLIC_PREFIXES: tuple[str, ...] = ("/static/",)
"""Path prefixes served without credentials: the stylesheet and scripts of the pages."""
API_PATHS: tuple[str, ...] = ("/api/", "/openapi.json")
"""Paths that answer 401 as JSON; every other path answers with the sign-in page."""
NOT_AUTHENTICATED = "not signed in: send Authorization: Bearer <API key>, or sign in at /login"
BAD_CREDENTIALS = "the API key or session is not valid (revoked, expired, or the user is disabled)"


def is_public(method: str, path: str) -> bool:
    """Whether ``method path`` is served without credentials (``HEAD`` counts as ``GET``)."""
    verb = "GET" if method.upper() == "HEAD" else method.upper()
    return (verb, path) in PUBLIC_ROUTES or path.startswith(PUBLIC_PREFIXES)


def is_api_path(path: str) -> bool:
    """Whether ``path`` is answered in JSON (the API and its OpenAPI document)."""
    return path == "/api" or path.startswith(API_PATHS)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller.

    Attributes:
        user_id: ``app_user.id``, or ``None`` for the system and the bootstrap key.
        label: how logs and the audit trail name the caller (e-mail or ``api-key:<prefix>``), never a secret.
        role: ``admin``, ``counsellor`` or ``teacher``.
        scope: the students this caller may see.
        via: how the caller authenticated: ``session``, ``bearer`` or ``system``.
    """

    user_id: int | None
    label: str
    role: str
    scope: Scope
    via: str = "system"

    @property
    def is_admin(self) -> bool:
        """Whether the caller is an administrator."""
        return self.role == "admin"


@dataclass(frozen=True)
class Credentials:
    """What a request presented: a Bearer key and/or a session token (either may be missing)."""

    bearer: str | None
    session_token: str | None
    malformed: bool = False

    @property
    def present(self) -> bool:
        """Whether the request carried any credential at all."""
        return self.malformed or bool(self.bearer or self.session_token)


def read_credentials(request: Request) -> Credentials:
    """The credentials of a request. An ``Authorization`` header that is not ``Bearer <key>`` is malformed."""
    header = request.headers.get("authorization")
    session_token = request.cookies.get(SESSION_COOKIE) or None
    if header is None:
        return Credentials(bearer=None, session_token=session_token)
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return Credentials(bearer=None, session_token=None, malformed=True)
    return Credentials(bearer=value.strip(), session_token=None)


def _principal(identity: Identity, via: str) -> Principal:
    return Principal(identity.user_id, identity.label, identity.role, identity.scope, via=via)


def bootstrap_principal(credentials: Credentials, *, settings: Settings) -> Principal | None:
    """The administrator of the ``MVP_API_KEY`` bootstrap key (compared in constant time), or ``None``."""
    bootstrap = settings.mvp_api_key.get_secret_value() if settings.mvp_api_key else ""
    if not bootstrap or credentials.bearer is None:
        return None
    if not hmac.compare_digest(credentials.bearer.encode(), bootstrap.encode()):
        return None
    return Principal(None, BOOTSTRAP_LABEL, "admin", Scope.all(), via="bearer")


def authenticate(
    credentials: Credentials, *, settings: Settings, session_factory: sessionmaker[Session]
) -> Principal | None:
    """The principal the credentials belong to, or ``None`` when they are missing or not valid.

    A Bearer key is checked first (the bootstrap ``MVP_API_KEY`` in constant time, then the stored
    keys by SHA-256); a request with a Bearer header never falls back to its cookie. One indexed lookup
    (plus the sections or caseload of a teacher or counsellor).
    """
    if credentials.malformed:
        return None
    if credentials.bearer is not None:
        bootstrap = bootstrap_principal(credentials, settings=settings)
        if bootstrap is not None:
            return bootstrap
        with session_scope(session_factory) as session:
            identity = authenticate_api_key(session, credentials.bearer)
        return None if identity is None else _principal(identity, "bearer")
    if credentials.session_token:
        with session_scope(session_factory) as session:
            identity = resolve_session(session, credentials.session_token)
        return None if identity is None else _principal(identity, "session")
    return None


async def current_principal(request: Request) -> Principal:
    """The caller, as authenticated by the gate (401 when there is none, e.g. on a public route)."""
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal):
        raise HTTPException(401, NOT_AUTHENTICATED, headers={"WWW-Authenticate": "Bearer"})
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


async def current_scope(principal: PrincipalDep) -> Scope:
    """The caller's scope."""
    return principal.scope


async def require_admin(principal: PrincipalDep) -> Principal:
    """The caller, when an administrator."""
    if not principal.is_admin:
        raise HTTPException(403, "this needs an administrator")
    return principal


ScopeDep = Annotated[Scope, Depends(current_scope)]
AdminDep = Annotated[Principal, Depends(require_admin)]
