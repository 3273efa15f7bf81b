"""``student-success notifications run``: evaluate the time-based rules and deliver e-mail once (for cron).

Exit codes: 0 when the cycle ran (e-mails that could not be sent are retried by the next run and show in
``GET /api/notifications/health``), 1 when the database cannot be reached.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from student_success.config import get_settings
from student_success.db.engine import make_engine, make_session_factory
from student_success.db.migrate import upgrade_to_head
from student_success.services.notifications import broker as brokers
from student_success.services.notifications.runner import run_cycle

app = typer.Typer(help="Notification rules and e-mail delivery.", no_args_is_help=True)


@app.command("run")
def run(
    no_deliver: Annotated[bool, typer.Option("--no-deliver", help="leave e-mail queued")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Evaluate overdue and stale plans, write due digests, and send the queued e-mail once."""
    settings = get_settings()
    engine = make_engine(settings.database_url)
    publisher = brokers.RedisBroker(settings.redis_url) if settings.redis_url else None
    if publisher is not None:  # pages connected to the servers hear of new notifications through Redis
        brokers.attach(engine, publisher)
    try:
        upgrade_to_head(engine)
        report = run_cycle(make_session_factory(engine), settings, deliver=not no_deliver)
    except SQLAlchemyError as exc:
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        typer.echo(f"error: the database is unavailable: {reason}", err=True)
        raise typer.Exit(1) from None
    finally:
        brokers.detach(engine)
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(asdict(report)))
        return
    delivery = report.delivery
    typer.echo(
        f"{report.notifications} notification(s) created, {report.digests} digest(s) written, "
        f"{delivery.sent} e-mail(s) sent, {delivery.failed} failed"
        + (f" ({delivery.error})" if delivery.error else "")
    )
