"""Run the web server (``python3 run_mvp.py``, ``student-success serve``)."""

from __future__ import annotations

import uvicorn

from student_success.api.app import create_app
from student_success.config import Settings
from student_success.ops.logging_setup import configure_logging


def run(settings: Settings) -> None:
    """Serve the app with Uvicorn on ``settings.host``:``settings.port`` until interrupted."""
    configure_logging(settings)  # JSON lines in logs/; uvicorn keeps it (log_config=None) and its
    # access log is off in favour of ours (request id, no query string, principal)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        proxy_headers=True,
        access_log=False,
        log_config=None,
    )
