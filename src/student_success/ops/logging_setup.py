"""Structured logs: JSON lines in ``logs/app.log`` and ``logs/access.log``, a request id on every line.

``configure_logging(settings)`` is called by by every entry point (``run_mvp.py``, ``serve``,
``create_app``); calling it again with the same folder changes nothing. Every line carries
``timestamp``, ``level``, ``logger``, ``message`` and ``request_id`` (``-`` outside a request). Files
roll over at midnight (UTC) to ``app.YYYY-MM-DD.log``; ``student-success logs rotate`` then compresses
and deletes old files by the maintenance guide's policy.

Secrets never reach a file: :func:`redact` masks ``Authorization`` values, bearer tokens, passwords,
API keys, tokens and secrets (``name=value``, ``"name": "value"``), URL passwords, and the values
SQLAlchemy quotes in its errors (``[parameters: …]``: names, ids) in every message and traceback.
"""

from __future__ import annotations

import contextvars
import json
import logging
import logging.handlers
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from student_success.config import Settings

ACCESS_LOGGER = "student_success.access"
APP_LOG = "app.log"
ACCESS_LOG = "access.log"
_HANDLER_MARK = "_student_success_handler"

REDACTED = "[redacted]"
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# the names of secrets, to find their values
_SECRET_WORDS = r"(?:password|passwd|pwd|api[_-]?key|access[_-]?token|refresh[_-]?token|token|secret|session)"  # noqa: S105
_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization: Bearer abc / "authorization": "Basic xyz"
    (
        re.compile(r"(?i)authorization[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|token)\s+)?[^\s\"',;}]+"),
        REDACTED,
    ),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{4,}"), REDACTED),
    # password=…, "api_key": "…", token: …
    (re.compile(rf"(?i)\b\w*{_SECRET_WORDS}\w*[\"']?\s*[:=]\s*[\"']?[^\s\"'&,;}}]+"), REDACTED),
    # SQLAlchemy errors quote the statement's values (names, ids): keep the SQL, drop the values
    (re.compile(r"\[parameters: .*?\](?=\s*(?:\n|\(Background|$))", re.DOTALL), "[parameters: [redacted]]"),
    # scheme://user:password@host
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+@"), r"\1[redacted]@"),
)


def redact(text: str) -> str:
    """``text`` with every credential-looking ``name=value`` (name included) replaced by ``[redacted]``.

    The name goes too, so the guide's ``grep -r "password\\|token\\|key\\|secret" logs/`` stays quiet.
    """
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` from the current request (``-`` outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Attach the id; never drops a record."""
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; extra fields under ``record.fields`` are merged in."""

    def format(self, record: logging.LogRecord) -> str:
        """Format ``record`` as a redacted JSON line."""
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", request_id_var.get()),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update({k: redact(v) if isinstance(v, str) else v for k, v in fields.items()})
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class ConsoleFormatter(logging.Formatter):
    """``time level logger [request id] message`` for a person watching the console."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-8s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """Format and redact."""
        return redact(super().format(record))


def _dated_name(default_name: str) -> str:
    # app.log.2026-11-28 -> app.2026-11-28.log: rolled files still match the guide's "*.log"
    path = Path(default_name)
    base, _, day = path.name.partition(".log.")
    return str(path.with_name(f"{base}.{day}.log")) if day else default_name


def _file_handler(path: Path) -> logging.Handler:
    handler = logging.handlers.TimedRotatingFileHandler(
        path, when="midnight", utc=True, backupCount=0, encoding="utf-8", delay=True
    )
    handler.namer = _dated_name
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    setattr(handler, _HANDLER_MARK, str(path))
    return handler


def configure_logging(settings: Settings, *, console: bool = True, level: int = logging.INFO) -> Path:
    """Send the app's logs to ``<logs_dir>/app.log``, access lines to ``access.log``, and the console.

    Idempotent: handlers installed by an earlier call for the same folder are kept, those for another
    folder are replaced. Returns the logs folder.
    """
    folder = Path(settings.logs_dir)
    folder.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    access = logging.getLogger(ACCESS_LOGGER)
    wanted = {str(folder / APP_LOG), str(folder / ACCESS_LOG)}
    handlers = [*root.handlers, *access.handlers]
    current = {getattr(h, _HANDLER_MARK) for h in handlers if hasattr(h, _HANDLER_MARK)} - {"console"}
    if current == wanted:
        return folder
    for logger in (root, access):
        for handler in [h for h in logger.handlers if hasattr(h, _HANDLER_MARK)]:
            logger.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    root.addHandler(_file_handler(folder / APP_LOG))
    access.setLevel(logging.INFO)
    access.propagate = False  # access lines go to access.log (and the console), not app.log
    access.addHandler(_file_handler(folder / ACCESS_LOG))
    if console:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(ConsoleFormatter())
        stream.addFilter(RequestIdFilter())
        setattr(stream, _HANDLER_MARK, "console")
        for logger in (root, access):
            logger.addHandler(stream)
    # HTTP clients log whole URLs, whose query strings may carry names or tokens
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # uvicorn's own access log is off (``access_log=False``); its error log goes through the root
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    return folder
