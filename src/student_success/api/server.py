"""Run the web server (``python3 run_mvp.py``, ``student-success serve``)."""

from __future__ import annotations

import uvicorn

from student_success.api.app import create_app
from student_success.config import Settings


def run(settings: Settings) -> None:
    """Serve the app with Uvicorn on ``settings.host``:``settings.port`` until interrupted."""
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, proxy_headers=True)
