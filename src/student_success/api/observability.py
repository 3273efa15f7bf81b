"""Request ids and the access log (a pure ASGI middleware, so streaming responses pass untouched).

Each request gets an id: the incoming ``X-Request-ID`` when it is a safe token (letters, digits,
``.-_:``, at most 64 characters), otherwise a new one. It is set in a context variable that every
log line of the request carries, and echoed in the response's ``X-Request-ID`` header.

When the response is done one access line is written to ``logs/access.log``::

    POST /api/uploads 401 Unauthorized 3.1 ms

with ``method``, ``path`` (never the query string: searches carry student names), ``status``,
``duration_ms``, ``principal`` (the caller's label, when authentication named one) and ``client``.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from student_success.ops.logging_setup import ACCESS_LOGGER, request_id_var

REQUEST_ID_HEADER = "x-request-id"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
access_log = logging.getLogger(ACCESS_LOGGER)
log = logging.getLogger(__name__)


def incoming_request_id(value: str | None) -> str:
    """The client's request id when it is safe to log and echo, else a new one."""
    if value and _SAFE_ID.match(value):
        return value
    return uuid.uuid4().hex


def note_principal(scope: Scope, label: str) -> None:
    """Record the authenticated caller's label for the access line (called by authentication)."""
    scope.setdefault("state", {})["principal_label"] = label


def _principal_label(scope: Scope) -> str | None:
    state: Any = scope.get("state") or {}
    label = state.get("principal_label")
    if label is None and state.get("principal") is not None:
        label = getattr(state["principal"], "label", None)
    return str(label) if label else None


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class RequestContextMiddleware:
    """Sets the request id, echoes it, and writes the access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one connection."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        raw = headers.get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        request_id = incoming_request_id(raw)
        token = request_id_var.set(request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [
                    *[
                        (k, v)
                        for k, v in message.get("headers", [])
                        if k.lower() != REQUEST_ID_HEADER.encode()
                    ],
                    (REQUEST_ID_HEADER.encode(), request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            duration_ms = (time.perf_counter() - started) * 1000
            method, path = scope.get("method", "-"), scope.get("path", "-")
            client = scope.get("client")
            phrase = _phrase(status)
            access_log.info(
                "%s %s %d %s %.1f ms",
                method,
                path,
                status,
                phrase,
                duration_ms,
                extra={
                    "fields": {
                        "method": method,
                        "path": path,
                        "status": status,
                        "duration_ms": round(duration_ms, 1),
                        "principal": _principal_label(scope),
                        "client": client[0] if client else None,
                    }
                },
            )
            request_id_var.reset(token)


def install_observability(app: FastAPI) -> None:
    """Wrap ``app`` in :class:`RequestContextMiddleware`, outside every other middleware.

    Outermost, so that a request refused by the sign-in gate and an unexpected 500 (and the error line
    it logs) still carry the request id and get an access line.
    """
    build_stack = app.build_middleware_stack

    def build_with_context() -> ASGIApp:
        return RequestContextMiddleware(build_stack())

    setattr(app, "build_middleware_stack", build_with_context)  # noqa: B010
