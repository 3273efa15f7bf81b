"""The security layer around every request: authentication gate, API rate limit, CSRF, headers.

Installed by :func:`install_security` (one line in ``create_app``, before the routers are included):

* **Gate** (pure ASGI): reads the credentials once, stores the :class:`Principal` in ``request.state``,
  and answers 401 for every non-public route without valid credentials — JSON with
  ``WWW-Authenticate: Bearer`` under ``/api/``, the sign-in page (status 401, ``next=`` set) elsewhere.
* **Rate limit**: per caller on ``/api/`` (``api_rate_limit_per_minute``), 429 with ``Retry-After``;
  counted in Redis and shared by every worker when ``REDIS_URL`` is set, else in each process
  (``api/ratelimit.py``).
* **CSRF**: a state-changing request authenticated by the session cookie must carry the session's token
  (form field ``csrf_token`` or header ``X-CSRF-Token``); Bearer-key calls carry no ambient credential
  and need none.
* **Headers**: a Content-Security-Policy without ``unsafe-inline``, ``nosniff``, ``frame-ancestors`` and
  ``X-Frame-Options``, ``Referrer-Policy`` on every response, errors and static files included.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import math
import re
from collections.abc import Callable, MutableMapping
from typing import Any

from anyio import to_thread
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from student_success.api.auth import (
    BAD_CREDENTIALS,
    CSRF_FIELD,
    CSRF_HEADER,
    NOT_AUTHENTICATED,
    Principal,
    authenticate,
    bootstrap_principal,
    is_api_path,
    is_public,
    read_credentials,
)
from student_success.api.deps import ensure_migrated
from student_success.api.ratelimit import Limiter, make_limiter
from student_success.config import Settings
from student_success.services.sessions import csrf_matches, csrf_token

log = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
# Swagger UI and ReDoc load their scripts from a CDN and start with one inline script, allowed by hash
DOCS_PATHS = frozenset({"/docs", "/redoc"})
DOCS_CDN = "https://cdn.jsdelivr.net"
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FAILED = "the form expired or did not come from this site: reload the page and try again"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


class CsrfRejected(Exception):
    """A state-changing request from a signed-in browser without its session's CSRF token."""


def is_https(request: Request, settings: Settings) -> bool:
    """Whether the browser reached us over HTTPS (directly, or through a trusted reverse proxy)."""
    if request.url.scheme == "https":
        return True
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return settings.trusted_proxy and forwarded == "https"


def client_address(request: Request) -> str:
    """The client's address as the server sees it (``unknown`` when the transport gives none)."""
    return request.client.host if request.client else "unknown"


class AuthGate:
    """Authenticate every HTTP request once; refuse non-public routes without valid credentials."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.limiter: Limiter | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        settings: Settings = request.app.state.settings
        path, method = request.url.path, request.method
        public = is_public(method, path)
        state: MutableMapping[str, Any] = scope.setdefault("state", {})
        credentials = read_credentials(request)
        principal = bootstrap_principal(credentials, settings=settings)  # needs no database
        if principal is None and credentials.present:
            try:
                await to_thread.run_sync(ensure_migrated, request)
                principal = await to_thread.run_sync(
                    lambda: authenticate(
                        credentials, settings=settings, session_factory=request.app.state.session_factory
                    )
                )
            except (HTTPException, SQLAlchemyError) as exc:
                log.error("cannot check credentials: %s", exc)
                if not public:
                    response: Response = JSONResponse(
                        {"detail": "the database is unavailable; see GET /health"}, status_code=503
                    )
                    await response(scope, receive, send)
                    return
        state["principal"] = principal
        secret = settings.secret_key.get_secret_value() if settings.secret_key else ""
        if principal is not None and principal.via == "session" and credentials.session_token:
            state["session_token"] = credentials.session_token
            state["csrf_token"] = csrf_token(secret, credentials.session_token)
        if principal is None and not public:
            response = await self._unauthenticated(request, bad=credentials.present)
            await response(scope, receive, send)
            return
        if principal is not None and path.startswith("/api/"):
            wait = await self._limiter(settings).take(principal.label)
            if wait:
                response = JSONResponse(
                    {"detail": f"too many requests: at most {settings.api_rate_limit_per_minute} a minute"},
                    status_code=429,
                    headers={"Retry-After": str(max(1, math.ceil(wait)))},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _limiter(self, settings: Settings) -> Limiter:
        if self.limiter is None:
            self.limiter = make_limiter(settings)
        return self.limiter

    async def _unauthenticated(self, request: Request, *, bad: bool) -> Response:
        if is_api_path(request.url.path):
            return JSONResponse(
                {"detail": BAD_CREDENTIALS if bad else NOT_AUTHENTICATED},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        from student_success.web.auth_pages import login_page  # the pages import the API, not the reverse

        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        next_path = target if request.method in SAFE_METHODS else "/"
        message = "Your session has ended: please sign in again." if bad else None
        return await to_thread.run_sync(
            lambda: login_page(request, next_path=next_path, status_code=401, message=message)
        )


async def csrf_protect(request: Request) -> None:
    """Refuse a state-changing request made with the session cookie but without its CSRF token."""
    if request.method in SAFE_METHODS:
        return
    session_token = getattr(request.state, "session_token", None)
    principal = getattr(request.state, "principal", None)
    if not session_token or not isinstance(principal, Principal) or principal.via != "session":
        return  # Bearer keys and anonymous requests carry no ambient credential
    candidate = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if candidate is None and content_type.startswith(("application/x-www-form-urlencoded", "multipart/")):
        value = (await request.form()).get(CSRF_FIELD)
        candidate = value if isinstance(value, str) else None
    settings: Settings = request.app.state.settings
    secret = settings.secret_key.get_secret_value() if settings.secret_key else ""
    if not csrf_matches(secret, session_token, candidate):
        raise CsrfRejected(CSRF_FAILED)


async def _csrf_rejected(request: Request, exc: Exception) -> Response:
    if is_api_path(request.url.path):
        return JSONResponse({"detail": str(exc)}, status_code=403)
    from student_success.web.common import error_page

    return await to_thread.run_sync(
        lambda: error_page(
            request,
            title="This form cannot be sent",
            message="The form expired or did not come from this site. Go back, reload the page, try again.",
            status_code=403,
        )
    )


def _docs_policy(body: bytes) -> str:
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(body)
    )
    return (
        f"default-src 'self'; script-src 'self' {DOCS_CDN} {hashes}; style-src 'self' {DOCS_CDN} "
        "https://fonts.googleapis.com; font-src 'self' https://fonts.gstatic.com; "
        "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; worker-src 'self' blob:; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )


class SecurityHeaders:
    """Add the security headers to every response (outermost, so errors and static files get them)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope.get("path") in DOCS_PATHS:
            await self._docs(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _with_headers(message.get("headers", []), CONTENT_SECURITY_POLICY)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The API docs pages are small: buffer them to allow their own inline script by hash."""
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffer(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False) and start is not None:
                    body = b"".join(chunks)
                    start["headers"] = _with_headers(start.get("headers", []), _docs_policy(body))
                    await send(start)
                    await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, buffer)


def _with_headers(headers: Any, policy: str) -> list[tuple[bytes, bytes]]:
    existing = list(headers)
    names = {name.lower() for name, _ in existing}
    extra = [(name, value) for name, value in SECURITY_HEADERS if name not in names]
    if b"content-security-policy" not in names:
        extra.append((b"content-security-policy", policy.encode()))
    return existing + extra


def install_security(app: FastAPI) -> None:
    """Install the gate, the CSRF check on every route, and the security headers on ``app``.

    Call it before the routers are included: the CSRF dependency is added to the app's router and
    copied into each route as it is included.
    """
    app.add_middleware(AuthGate)
    app.router.dependencies.append(Depends(csrf_protect))
    app.add_exception_handler(CsrfRejected, _csrf_rejected)
    build_stack: Callable[[], ASGIApp] = app.build_middleware_stack

    def build_with_headers() -> ASGIApp:
        # outside Starlette's ServerErrorMiddleware, so even an unexpected 500 carries the headers
        return SecurityHeaders(build_stack())

    setattr(app, "build_middleware_stack", build_with_headers)  # noqa: B010


__all__ = ["CsrfRejected", "SecurityHeaders", "install_security"]
