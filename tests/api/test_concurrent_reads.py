"""Many people reading at once: every read answers, and every view is audited exactly once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from student_success.db.models import AuditEvent

from .support import seed_course

ROSTER = [(f"s{i:02d}", f"Student {i}", "A", i / 40) for i in range(1, 31)]
READERS = 24  # more than the connection pool holds (5 + 10 overflow)
ROUNDS = 3


def test_concurrent_views_never_wait_for_a_second_connection_and_are_each_audited(
    client: TestClient, db: Session
) -> None:
    ids = sorted(seed_course(db, ROSTER).students.values())

    def read(n: int) -> tuple[int, int]:
        student = ids[n % len(ids)]
        detail = client.get(f"/api/students/{student}")
        listing = client.get("/api/students", params={"limit": 5})
        return detail.status_code, listing.status_code

    with ThreadPoolExecutor(max_workers=READERS) as pool:
        answers = list(pool.map(read, range(READERS * ROUNDS)))

    assert answers == [(200, 200)] * (READERS * ROUNDS)
    db.rollback()
    counts = dict(db.execute(select(AuditEvent.action, func.count()).group_by(AuditEvent.action)).all())
    assert counts == {"student.view": READERS * ROUNDS, "student.list": READERS * ROUNDS}
