"""``GET /metrics`` in Prometheus text format, and the request-latency middleware.

Latency is labelled by the matched route's path template (``/api/students/{student_id}``), never the
raw path, so ids do not multiply the series; unmatched paths share the label ``<unmatched>``. The
endpoint needs an administrator's credentials like every non-public route: Prometheus scrapes it
with ``authorization: {credentials: <API key>}`` (see ``deploy/prometheus.yml.example``).
"""

from __future__ import annotations

import os
import time
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from student_success.api.auth import AdminDep
from student_success.ml.registry import ModelRegistry
from student_success.ops.metrics import ACTIVE_MODEL, HTTP_LATENCY

router = APIRouter(tags=["operations"])
UNMATCHED = "<unmatched>"


def route_template(scope: Scope) -> str:
    """The path of the request with each path parameter's value replaced by ``{name}``.

    ``/api/students/42`` answered by the route ``/students/{student_id}`` (under the ``/api`` prefix)
    gives ``/api/students/{student_id}``; a request no route answered gives ``<unmatched>``.
    """
    if scope.get("route") is None:
        return UNMATCHED
    segments = str(scope.get("path", "")).split("/")
    params: dict[str, Any] = scope.get("path_params") or {}
    for name, value in params.items():
        text = str(value)
        if not text:
            continue
        parts = text.split("/")
        # the last run of segments equal to the value (a {path} parameter may span several)
        for start in range(len(segments) - len(parts), -1, -1):
            if segments[start : start + len(parts)] == parts:
                segments[start : start + len(parts)] = [f"{{{name}}}"]
                break
    return "/".join(segments)


class LatencyMiddleware:
    """Observes every HTTP request's duration in the latency histogram."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one connection."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            HTTP_LATENCY.labels(route=route_template(scope), method=scope.get("method", "-"),
                                status=str(status)).observe(time.perf_counter() - started)  # fmt: skip


def _registry() -> CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, _admin: AdminDep) -> Response:
    """Prometheus metrics: request latency, imports, predictions scored, active model version."""
    version = ModelRegistry(request.app.state.settings.models_dir).active_version_id() or "none"
    ACTIVE_MODEL.clear()
    ACTIVE_MODEL.labels(version=version).set(1)
    return Response(generate_latest(_registry()), media_type=CONTENT_TYPE_LATEST)


def install_metrics(app: FastAPI) -> None:
    """Add ``GET /metrics`` and the latency middleware to ``app``."""
    app.include_router(router)
    app.add_middleware(LatencyMiddleware)
