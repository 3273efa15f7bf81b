"""One evaluation cycle (time-based rules, digests, delivery) and the periodic loop that repeats it.

Several workers may run the loop at once: the notification's unique key, the digest's unique
``Message-ID`` and the outbox claim make sure nothing is created or sent twice.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from student_success.config import Settings
from student_success.db.base import utcnow
from student_success.db.engine import session_scope
from student_success.services.notifications.delivery import DeliveryReport, deliver_due
from student_success.services.notifications.emails import compose_digests
from student_success.services.notifications.rules import evaluate_interventions

log = logging.getLogger(__name__)


@dataclass
class CycleReport:
    """What one cycle did."""

    notifications: int = 0
    digests: int = 0
    delivery: DeliveryReport = field(default_factory=DeliveryReport)


def run_cycle(
    factory: sessionmaker[Session], settings: Settings, *, now: datetime | None = None, deliver: bool = True
) -> CycleReport:
    """Evaluate the time-based rules and write due digests (one transaction), then deliver e-mail."""
    now = now or utcnow()
    report = CycleReport()
    with session_scope(factory) as session:
        report.notifications = len(evaluate_interventions(session, settings=settings, now=now))
        report.digests = compose_digests(session, settings=settings, now=now)
    if deliver:
        report.delivery = deliver_due(factory, settings, now=now)
    return report


async def run_periodically(factory: sessionmaker[Session], settings: Settings) -> None:
    """Run :func:`run_cycle` every ``notification_interval_s`` seconds (in a thread) until cancelled."""
    interval = settings.notification_interval_s
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(run_cycle, factory, settings)
        except Exception:  # a database outage must not end the loop; the next cycle retries
            log.exception("notification cycle failed")
