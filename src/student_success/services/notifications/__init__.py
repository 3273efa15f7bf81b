"""Notifications: rules, recipients, in-app inbox, e-mail outbox and delivery, real-time fan-out.

The hooks the rest of the system calls:

* :func:`evaluate_import` after an import stored its scores (same transaction);
* :func:`evaluate_failed_import` when an import failed (the edge's own transaction);
* :func:`run_cycle` periodically (the app's background task, ``student-success notifications run``).
"""

from student_success.services.notifications.delivery import DeliveryReport, deliver_due
from student_success.services.notifications.rules import (
    Alert,
    create_notifications,
    evaluate_failed_import,
    evaluate_import,
    evaluate_interventions,
)
from student_success.services.notifications.runner import CycleReport, run_cycle, run_periodically

__all__ = [
    "Alert",
    "CycleReport",
    "DeliveryReport",
    "create_notifications",
    "deliver_due",
    "evaluate_failed_import",
    "evaluate_import",
    "evaluate_interventions",
    "run_cycle",
    "run_periodically",
]
