"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from student_success import __version__
from student_success.api.errors import install_error_handlers
from student_success.api.metrics import install_metrics
from student_success.api.observability import install_observability
from student_success.api.routes import audit as audit_routes
from student_success.api.routes import exports, feedback, health, interventions, models, students, uploads
from student_success.api.routes import notifications as notification_routes
from student_success.api.routes import privacy as privacy_routes
from student_success.api.routes import users as users_routes
from student_success.api.security import install_security
from student_success.config import Settings, get_settings
from student_success.db.engine import make_engine, make_session_factory
from student_success.db.migrate import upgrade_to_head
from student_success.errors import StudentSuccessError
from student_success.ml.service import load_active_model
from student_success.ops.logging_setup import configure_logging

log = logging.getLogger(__name__)
UPLOAD_PATHS = ("/api/uploads",)
MULTIPART_OVERHEAD = 64 * 1024  # form boundaries and the other fields around the file


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    state = app.state
    # few threads for the synchronous routes: with the GIL, more threads only interleave requests
    # (each finishes later) instead of serving them sooner; the rest wait their turn in order
    anyio.to_thread.current_default_thread_limiter().total_tokens = state.settings.worker_threads
    try:
        upgrade_to_head(state.engine)
        state.migrated = True
    except SQLAlchemyError as exc:
        # keep serving: /health reports the database, and the next request retries the migration
        log.error("database unavailable at start-up: %s", exc)
    try:
        load_active_model(state.settings)
    except StudentSuccessError as exc:
        log.warning("no usable model at start-up: %s", exc)
    async with notification_routes.notifications_lifespan(app):
        yield
    state.engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application: routers under ``/api``, ``/health``, one error mapping.

    On start-up the database is created or migrated (``upgrade_to_head``) and the active model is
    loaded; when either fails the app still starts, and ``GET /health`` names what is wrong.

    Args:
        settings: the settings to run with (default: from the environment).
    """
    settings = settings or get_settings()
    app = FastAPI(
        title="Student Success API",
        version=__version__,
        description="Early-warning risk scores with reasons, recommended support and intervention tracking.",
        lifespan=_lifespan,
        # set up before, and torn down after, each route's own session: see Auditor
        dependencies=[Depends(audit_routes.flush_read_audits, scope="function")],
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings.database_url)
    app.state.session_factory = make_session_factory(app.state.engine)
    app.state.migrated = False
    install_error_handlers(app)
    install_security(app)  # sign-in gate, CSRF, rate limit, security headers (before the routers)

    @app.middleware("http")
    async def refuse_oversized_uploads(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # refuse before the body is received, when the client says how big it is
        length = request.headers.get("content-length", "")
        limit = settings.max_upload_bytes + MULTIPART_OVERHEAD
        if request.url.path.startswith(UPLOAD_PATHS) and length.isdigit() and int(length) > limit:
            return JSONResponse(
                {"detail": f"the file is larger than the limit of {settings.max_upload_bytes:,} bytes"},
                status_code=413,
            )
        return await call_next(request)

    for module in (uploads, students, interventions, exports, models, feedback):
        app.include_router(module.router, prefix="/api")
    app.include_router(health.router)
    app.include_router(notification_routes.router, prefix="/api")
    for extra in (audit_routes, privacy_routes, users_routes):
        app.include_router(extra.router, prefix="/api")
    # the server-rendered pages call the same services as the API
    from student_success.web.routes import mount_static
    from student_success.web.routes import router as web_router

    app.include_router(web_router)
    mount_static(app)
    install_metrics(app)  # GET /metrics (admin) and the request-latency histogram
    install_observability(app)  # request ids and the access log, outside every other middleware
    if settings.environment != "test":  # tests configure logging themselves, into their own folder
        configure_logging(settings)
    return app
