"""System health monitor behind ``scripts/system_health_monitor.py`` (maintenance guide, "Health Monitoring").

One run checks the API (``GET {url}/health``), the database (connect + ``SELECT 1``), the active model
(load and score three students), disk, memory, CPU, recent ``ERROR``/``CRITICAL`` lines in ``logs/*.log``
and the notifications subsystem (``GET {url}/api/notifications/health``: e-mail delivery and live
updates; a 404 is reported as "not available").

Each check gets a status: ``OK``, ``INFO``, ``WARNING`` or ``CRITICAL``. The guide's alert levels map to:

* critical: the API is unreachable or answers with an error, the database is down;
* warning: a KPI is missed (slow API / prediction / query, memory, disk or CPU usage), the model fails to
  load or predict, errors in the logs, the notifications endpoint fails;
* info: everything else (the run is a summary).

Exit code: 0 info (healthy), 1 warning, 2 critical. Thresholds are the guide's KPIs, overridable through
:class:`~student_success.config.Settings` (env ``HEALTH_API_MS``, ``HEALTH_PREDICTION_MS``,
``HEALTH_DB_MS``, ``HEALTH_MEMORY_PERCENT``, ``HEALTH_DISK_PERCENT``, ``HEALTH_CPU_PERCENT``,
``HEALTH_CPU_INTERVAL_S``, ``HEALTH_LOG_ERRORS_MAX``, ``HEALTH_HTTP_TIMEOUT_S``).

``--output file`` appends one JSON object per run to ``<LOGS_DIR>/health_monitor.log``; ``--email`` sends
the report through ``SMTP_HOST``/``SMTP_PORT`` to ``ALERT_EMAIL_TO``; ``--continuous MINUTES`` repeats the
run until interrupted (Ctrl-C or SIGTERM end it cleanly with exit code 0).
"""

from __future__ import annotations

import argparse
import io
import json
import re
import signal
import smtplib
import socket
import sys
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from types import FrameType
from typing import Any, Literal

import psutil
from rich import box
from rich.console import Console
from rich.table import Table

from student_success.config import PROJECT_ROOT, Settings, get_settings

DEFAULT_URL = "http://localhost:8001"
LOG_FILE_NAME = "health_monitor.log"
LOG_TAIL_LINES = 2000  # lines read from the end of each recent log file
LOG_RECENT_SECONDS = 24 * 3600
ERROR_LINE = re.compile(r"\b(ERROR|CRITICAL)\b")


def is_error_line(line: str) -> bool:
    """Whether a log line is an ERROR/CRITICAL one: the ``level`` of a JSON line, else the word."""
    if line.startswith("{"):
        try:
            entry = json.loads(line)
        except ValueError:
            entry = None
        if isinstance(entry, dict) and "level" in entry:
            return entry["level"] in ("ERROR", "CRITICAL")
    return ERROR_LINE.search(line) is not None


Status = Literal["OK", "INFO", "WARNING", "CRITICAL"]
OutputMode = Literal["console", "file", "both"]
_RANK: dict[str, int] = {"OK": 0, "INFO": 0, "WARNING": 1, "CRITICAL": 2}
LEVELS = ("INFO", "WARNING", "CRITICAL")  # overall level by exit code
CHECK_NAMES = ("api", "database", "model", "disk", "memory", "cpu", "logs", "notifications")

SAMPLE_STUDENTS: dict[str, list[float]] = {
    "id_student": [1, 2, 3],
    "early_avg_score": [85, 70, 92],
    "early_total_clicks": [150, 80, 200],
    "studied_credits": [60, 45, 75],
}


@dataclass
class CheckResult:
    """One line of the report."""

    name: str
    status: Status
    value: str
    threshold: str = ""
    detail: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass
class Report:
    """A whole run."""

    timestamp: str
    url: str
    host: str
    checks: list[CheckResult]

    @property
    def exit_code(self) -> int:
        return max((_RANK[check.status] for check in self.checks), default=0)

    @property
    def level(self) -> str:
        return LEVELS[self.exit_code]

    def to_json(self) -> dict[str, Any]:
        return {
            "timestamp": self.timestamp,
            "level": self.level,
            "exit_code": self.exit_code,
            "url": self.url,
            "host": self.host,
            "checks": [asdict(check) for check in self.checks],
        }


# --- the checks ---------------------------------------------------------------------------------------


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _get(url: str, timeout: float) -> tuple[int, float]:
    """``GET url``: (HTTP status, seconds). Raises OSError (URLError, timeouts) when nothing answers."""
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url!r}")
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (scheme checked above)
            response.read()
            status = int(response.status)
    except urllib.error.HTTPError as exc:  # 4xx/5xx: the server answered
        exc.read()
        status = exc.code
    return status, time.perf_counter() - start


def check_api(url: str, settings: Settings) -> CheckResult:
    """``GET {url}/health``: 200 within ``health_api_ms``."""
    threshold = f"< {settings.health_api_ms:g} ms"
    target = f"{url.rstrip('/')}/health"
    try:
        status, seconds = _get(target, settings.health_http_timeout_s)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return CheckResult("api", "CRITICAL", "unreachable", threshold, f"{target}: {reason}")
    elapsed = _ms(seconds)
    metrics = {"http_status": status, "response_ms": elapsed}
    value = f"HTTP {status}, {elapsed:g} ms"
    if status != 200:
        return CheckResult("api", "CRITICAL", value, threshold, f"{target} answered {status}", metrics)
    if elapsed >= settings.health_api_ms:
        return CheckResult("api", "WARNING", value, threshold, "slow response", metrics)
    return CheckResult("api", "OK", value, threshold, metrics=metrics)


def check_database(settings: Settings) -> CheckResult:
    """Connect to ``Settings.database_url`` and run ``SELECT 1`` within ``health_db_ms``."""
    from student_success.api.routes.health import check_database as select_one
    from student_success.db.engine import make_engine

    threshold = f"< {settings.health_db_ms:g} ms"
    try:
        engine = make_engine(settings.database_url)
    except Exception as exc:  # an unreadable or unsupported URL: the database is unusable
        return CheckResult("database", "CRITICAL", "down", threshold, str(exc)[:300])
    try:
        database = engine.url.database
        sqlite_file = engine.dialect.name == "sqlite" and database not in (None, "", ":memory:")
        if sqlite_file and not Path(str(database)).is_file():  # connecting would create an empty database
            return CheckResult("database", "CRITICAL", "down", threshold, f"no SQLite file at {database}")
        result = select_one(engine)
    finally:
        engine.dispose()
    if not result["ok"]:
        detail = f"{result['backend']}: {result['error']}"
        return CheckResult("database", "CRITICAL", "down", threshold, detail)
    latency = float(result["latency_ms"])
    metrics = {"backend": result["backend"], "query_ms": latency}
    value = f"{latency:g} ms ({result['backend']})"
    if latency >= settings.health_db_ms:
        return CheckResult("database", "WARNING", value, threshold, "slow query", metrics)
    return CheckResult("database", "OK", value, threshold, metrics=metrics)


def check_model(settings: Settings) -> CheckResult:
    """The active model loads and scores three students within ``health_prediction_ms``."""
    threshold = f"< {settings.health_prediction_ms:g} ms"
    try:
        import pandas as pd

        from student_success.ml.assess import InterventionRecommendationSystem

        start = time.perf_counter()
        system = InterventionRecommendationSystem(settings=settings)
        load_ms = _ms(time.perf_counter() - start)
        start = time.perf_counter()
        scored = system.assess_student_risk(pd.DataFrame(SAMPLE_STUDENTS))
        predict_ms = _ms(time.perf_counter() - start)
    except Exception as exc:  # a missing or corrupt model, or a scoring failure: "prediction errors"
        return CheckResult("model", "WARNING", "prediction failed", threshold, str(exc)[:300])
    if len(scored) != len(SAMPLE_STUDENTS["id_student"]):
        return CheckResult("model", "WARNING", "prediction failed", threshold, f"{len(scored)} rows for 3")
    metrics = {"version": system.model.version, "load_ms": load_ms, "prediction_ms": predict_ms}
    value = f"{predict_ms:g} ms (3 students)"
    detail = f"model {system.model.version}, loaded in {load_ms:g} ms"
    if predict_ms >= settings.health_prediction_ms:
        return CheckResult("model", "WARNING", value, threshold, f"slow prediction; {detail}", metrics)
    return CheckResult("model", "OK", value, threshold, detail, metrics)


def _usage(name: str, percent: float, limit: float, detail: str = "") -> CheckResult:
    threshold = f"< {limit:g} %"
    value = f"{percent:.1f} %"
    metrics = {"used_percent": round(percent, 1)}
    if percent >= limit:
        return CheckResult(name, "WARNING", value, threshold, f"high usage. {detail}".strip(), metrics)
    return CheckResult(name, "OK", value, threshold, detail, metrics)


def check_disk(settings: Settings, folder: Path = PROJECT_ROOT) -> CheckResult:
    """Usage of the file system that holds the project folder."""
    from student_success.api.routes.health import check_disk as disk_usage

    limit = settings.health_disk_percent
    result = disk_usage(folder)
    if "error" in result:
        return CheckResult("disk", "WARNING", "unknown", f"< {limit:g} %", f"{folder}: {result['error']}")
    detail = f"{result['free_bytes'] / 1024**3:.1f} GB free on {folder}"
    return _usage("disk", float(result["used_percent"]), limit, detail)


def check_memory(settings: Settings) -> CheckResult:
    memory = psutil.virtual_memory()
    detail = f"{memory.available / 1024**3:.1f} GB available"
    return _usage("memory", float(memory.percent), settings.health_memory_percent, detail)


def check_cpu(settings: Settings) -> CheckResult:
    """Average CPU usage over ``health_cpu_interval_s`` seconds."""
    percent = float(psutil.cpu_percent(interval=settings.health_cpu_interval_s))
    detail = f"average over {settings.health_cpu_interval_s:g} s"
    return _usage("cpu", percent, settings.health_cpu_percent, detail)


def check_logs(settings: Settings, *, now: float | None = None) -> CheckResult:
    """``ERROR``/``CRITICAL`` lines in the last lines of the ``*.log`` files written in the last 24 h.

    The monitor's own log is skipped (its JSON lines name the statuses).
    """
    limit = settings.health_log_errors_max
    threshold = f"<= {limit}"
    now = time.time() if now is None else now
    counts: dict[str, int] = {}
    folder = settings.logs_dir
    files = sorted(folder.glob("*.log")) if folder.is_dir() else []
    for path in files:
        try:
            if path.name == LOG_FILE_NAME or now - path.stat().st_mtime > LOG_RECENT_SECONDS:
                continue
            with path.open(encoding="utf-8", errors="replace") as handle:
                tail = deque(handle, maxlen=LOG_TAIL_LINES)
        except OSError:
            continue
        found = sum(1 for line in tail if is_error_line(line))
        if found:
            counts[path.name] = found
    total = sum(counts.values())
    metrics = {"error_lines": total, "files": counts}
    detail = ", ".join(f"{name}: {count}" for name, count in counts.items()) or f"{len(files)} log file(s)"
    value = f"{total} error line(s)"
    if total > limit:
        return CheckResult("logs", "WARNING", value, threshold, detail, metrics)
    return CheckResult("logs", "OK", value, threshold, detail, metrics)


def _get_json(url: str, timeout: float) -> tuple[int, float, dict[str, Any] | None]:
    """``GET url``: (HTTP status, seconds, the JSON object answered or ``None``)."""
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url!r}")
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (scheme checked above)
            raw, status = response.read(), int(response.status)
    except urllib.error.HTTPError as exc:  # 4xx/5xx: the server answered
        raw, status = exc.read(), exc.code
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    return status, time.perf_counter() - start, body if isinstance(body, dict) else None


def check_notifications(url: str, settings: Settings) -> CheckResult:
    """``GET {url}/api/notifications/health``: e-mail delivery and live updates.

    200 ``ok`` is OK, 200 ``degraded`` (SMTP unreachable, nothing waiting) and 503 (delivery failing)
    are warnings with the reasons; a 404 means the subsystem is not there (info).
    """
    target = f"{url.rstrip('/')}/api/notifications/health"
    expected = "HTTP 200, status ok"
    try:
        status, seconds, body = _get_json(target, settings.health_http_timeout_s)
    except (OSError, ValueError) as exc:
        detail = f"{target}: {getattr(exc, 'reason', exc)}"
        return CheckResult("notifications", "WARNING", "unreachable", expected, detail)
    metrics: dict[str, Any] = {"http_status": status, "response_ms": _ms(seconds)}
    if status == 404:
        detail = "the notifications subsystem is not installed (404)"
        return CheckResult("notifications", "INFO", "not available", expected, detail, metrics)
    if body is None:
        return CheckResult("notifications", "WARNING", f"HTTP {status}", expected, target, metrics)
    outbox, realtime = body.get("outbox") or {}, body.get("realtime") or {}
    metrics.update(
        outbox_depth=outbox.get("depth"),
        oldest_pending_age_s=outbox.get("oldest_pending_age_s"),
        last_delivery_at=outbox.get("last_delivery_at"),
        smtp_reachable=(body.get("smtp") or {}).get("reachable"),
        realtime_connections=realtime.get("connections"),
    )
    value = f"HTTP {status}, {body.get('status', 'unknown')}"
    problems = "; ".join(str(p) for p in body.get("problems") or [])
    connections = realtime.get("connections", 0)
    summary = f"outbox {outbox.get('depth', '?')} waiting, {connections} live connection(s)"
    if status != 200 or body.get("status") != "ok":
        return CheckResult("notifications", "WARNING", value, expected, problems or target, metrics)
    return CheckResult("notifications", "OK", value, expected, summary, metrics)


def run_checks(settings: Settings, url: str = DEFAULT_URL, skip: Sequence[str] = ()) -> Report:
    """Run every check not named in ``skip``."""
    runners: dict[str, Callable[[], CheckResult]] = {
        "api": lambda: check_api(url, settings),
        "database": lambda: check_database(settings),
        "model": lambda: check_model(settings),
        "disk": lambda: check_disk(settings),
        "memory": lambda: check_memory(settings),
        "cpu": lambda: check_cpu(settings),
        "logs": lambda: check_logs(settings),
        "notifications": lambda: check_notifications(url, settings),
    }
    checks: list[CheckResult] = []
    for name, runner in runners.items():
        if name in skip:
            continue
        try:
            checks.append(runner())
        except Exception as exc:  # a check that breaks must not hide the others
            checks.append(CheckResult(name, "WARNING", "check failed", "", f"{type(exc).__name__}: {exc}"))
    timestamp = datetime.now(UTC).isoformat(timespec="seconds")
    return Report(timestamp=timestamp, url=url, host=socket.gethostname(), checks=checks)


# --- output -------------------------------------------------------------------------------------------

_STYLE = {"OK": "green", "INFO": "cyan", "WARNING": "yellow", "CRITICAL": "bold red"}


def render(report: Report, console: Console) -> None:
    """The report as a table, then the overall level."""
    table = Table(title=f"System health {report.timestamp} ({report.host})", box=box.SIMPLE_HEAVY)
    for column in ("Check", "Status", "Value", "Threshold", "Detail"):
        table.add_column(column, overflow="fold")
    for check in report.checks:
        style = _STYLE[check.status]
        table.add_row(check.name, f"[{style}]{check.status}[/]", check.value, check.threshold, check.detail)
    console.print(table)
    summary = {0: "healthy", 1: "needs attention", 2: "action required"}[report.exit_code]
    level = f"[{_STYLE[report.level]}]{report.level}[/]"
    console.print(f"Overall level: {level} ({summary}, exit {report.exit_code})")


def render_text(report: Report) -> str:
    buffer = io.StringIO()
    render(report, Console(file=buffer, width=120, no_color=True, highlight=False, force_terminal=False))
    return buffer.getvalue()


def append_log(report: Report, logs_dir: Path) -> Path:
    """Append the run as one JSON line to ``<logs_dir>/health_monitor.log``."""
    logs_dir.mkdir(parents=True, exist_ok=True)
    path = logs_dir / LOG_FILE_NAME
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(report.to_json(), ensure_ascii=False) + "\n")
    return path


def send_email(report: Report, settings: Settings) -> str | None:
    """Send the report through SMTP. Returns a warning when nothing was sent, else None."""
    recipients = [part.strip() for part in (settings.alert_email_to or "").split(",") if part.strip()]
    if not settings.smtp_host or not recipients:
        return "SMTP is not configured (set SMTP_HOST and ALERT_EMAIL_TO): no email sent"
    message = EmailMessage()
    message["Subject"] = f"[Student Success] {report.level}: system health on {report.host}"
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(recipients)
    message.set_content(render_text(report))
    try:
        timeout = settings.health_http_timeout_s
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username and settings.smtp_password is not None:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        return f"email not sent: {type(exc).__name__}: {exc}"
    return None


# --- command line ---------------------------------------------------------------------------------------


def _pause(seconds: float) -> None:
    """The wait between runs of ``--continuous`` (a seam for the tests)."""
    time.sleep(seconds)


class _Stop(Exception):
    """SIGTERM in continuous mode."""


def _positive_minutes(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("MINUTES must be positive")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="system_health_monitor.py",
        description="Check API, database, model, disk, memory, CPU, logs and notifications. "
        "Exit code 0 healthy, 1 warning, 2 critical.",
    )
    parser.add_argument("--url", default=DEFAULT_URL, help=f"base URL of the service (default {DEFAULT_URL})")
    parser.add_argument(
        "--output",
        choices=("console", "file", "both"),
        default="console",
        help="console table, one JSON line in logs/health_monitor.log, or both",
    )
    parser.add_argument("--email", action="store_true", help="e-mail the report (SMTP_* settings)")
    parser.add_argument(
        "--continuous",
        type=_positive_minutes,
        metavar="MINUTES",
        help="run every MINUTES minutes until interrupted",
    )
    parser.add_argument(
        "--skip",
        action="append",
        choices=CHECK_NAMES,
        default=[],
        metavar="CHECK",
        help=f"leave a check out (repeatable): {', '.join(CHECK_NAMES)}",
    )
    return parser


def run_once(args: argparse.Namespace, console: Console, errors: Console) -> int:
    settings = get_settings()
    report = run_checks(settings, url=args.url, skip=args.skip)
    if args.output in ("console", "both"):
        render(report, console)
    if args.output in ("file", "both"):
        append_log(report, settings.logs_dir)
    if args.email:
        warning = send_email(report, settings)
        if warning:
            errors.print(f"WARNING: {warning}", markup=False, highlight=False)
    return report.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # cron and systemd capture stdout: give the table room instead of rich's 80-column default
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    if args.continuous is None:
        return run_once(args, console, errors)

    def _on_sigterm(_signum: int, _frame: FrameType | None) -> None:
        raise _Stop

    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        while True:
            run_once(args, console, errors)
            _pause(args.continuous * 60)
    except (KeyboardInterrupt, _Stop):
        errors.print("health monitor stopped", highlight=False)
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
