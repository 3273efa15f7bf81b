"""What every page shares: the template engine, the page renderer, the request's scope and session."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from student_success.config import Settings
from student_success.errors import StudentSuccessError
from student_success.ml.service import load_active_model
from student_success.web import charts
from student_success.web.formatting import FILTERS, LEVEL_WORDS, STATUS_ACTIONS, STATUS_WORDS

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
PLAN_WEEKS = 6  # the usual length of a school intervention plan

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.filters.update(FILTERS)
templates.env.globals.update(
    LEVEL_WORDS=LEVEL_WORDS,
    STATUS_WORDS=STATUS_WORDS,
    STATUS_ACTIONS=STATUS_ACTIONS,
    charts=charts,
)


def active_model_version(settings: Settings) -> str | None:
    """The active model's version, or ``None`` when no model is trained yet."""
    try:
        return load_active_model(settings).version
    except StudentSuccessError:
        return None


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    """Render ``template`` with the shared context (navigation, the active model)."""
    settings: Settings = request.app.state.settings
    base = {
        "path": request.url.path,
        "model_version": active_model_version(settings),
        # the gate (api/security.py) puts the signed-in principal here; admins see admin links
        "is_admin": bool(getattr(getattr(request.state, "principal", None), "is_admin", False)),
    }
    return templates.TemplateResponse(request, template, {**base, **(context or {})}, status_code=status_code)


def error_page(request: Request, *, title: str, message: str, status_code: int) -> HTMLResponse:
    """A page that says in plain words what went wrong and where to go next."""
    return render(request, "error.html", {"title": title, "message": message}, status_code=status_code)


def student_not_found(request: Request) -> HTMLResponse:
    """The 404 page for a student who does not exist or is outside the caller's scope (the same words)."""
    return error_page(
        request, title="Student not found",
        message="There is no student with this number, or you cannot see them.", status_code=404,
    )  # fmt: skip


def see_other(path: str, **params: Any) -> RedirectResponse:
    """The redirect of post/redirect/get (303: the browser follows with a GET)."""
    query = urlencode({k: v for k, v in params.items() if v is not None and v != ""})
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=303)


def today() -> date:
    """Today's date (UTC until the school's timezone is a setting)."""
    return datetime.now(UTC).date()


def default_due_date() -> date:
    """The due date a new plan starts with: six weeks from today."""
    return today() + timedelta(weeks=PLAN_WEEKS)


def optional_int(raw: str | None) -> int | None:
    """A query or form value as an int; blank or not a number → ``None`` (a filter left empty)."""
    if raw is None or not raw.strip():
        return None
    try:
        return int(raw)
    except ValueError:
        return None
