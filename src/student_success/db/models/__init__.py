"""Every table of the system. Importing this package registers them all on ``Base.metadata``."""

from student_success.db.base import Base
from student_success.db.models.accounts import (
    ROLES,
    ApiKey,
    AuditEvent,
    AuditTrailIsAppendOnly,
    CounsellorCaseload,
    CounsellorSchool,
    LoginFailure,
    User,
    UserSection,
    UserSession,
)
from student_success.db.models.core import (
    OUTCOMES,
    Course,
    Enrollment,
    School,
    Section,
    Student,
    StudentGroupAttribute,
)
from student_success.db.models.coursework import Activity, Assessment, AssessmentResult
from student_success.db.models.feedback import FEEDBACK_VERDICTS, FlagFeedback
from student_success.db.models.interventions import (
    INTERVENTION_STATUSES,
    PRIORITIES,
    Intervention,
    InterventionEvent,
)
from student_success.db.models.notifications import (
    CHANNELS,
    NOTIFICATION_RULES,
    OUTBOX_STATUSES,
    EmailOutbox,
    Notification,
    NotificationPreference,
    NotificationSnooze,
)
from student_success.db.models.predictions import (
    IMPORT_STATUSES,
    RISK_LEVELS,
    ImportBatch,
    LatestPrediction,
    Prediction,
)

__all__ = [
    "CHANNELS",
    "FEEDBACK_VERDICTS",
    "IMPORT_STATUSES",
    "INTERVENTION_STATUSES",
    "NOTIFICATION_RULES",
    "OUTBOX_STATUSES",
    "OUTCOMES",
    "PRIORITIES",
    "RISK_LEVELS",
    "ROLES",
    "Activity",
    "ApiKey",
    "Assessment",
    "AssessmentResult",
    "AuditEvent",
    "AuditTrailIsAppendOnly",
    "Base",
    "CounsellorCaseload",
    "CounsellorSchool",
    "Course",
    "EmailOutbox",
    "Enrollment",
    "FlagFeedback",
    "ImportBatch",
    "Intervention",
    "InterventionEvent",
    "LatestPrediction",
    "LoginFailure",
    "Notification",
    "NotificationPreference",
    "NotificationSnooze",
    "Prediction",
    "School",
    "Section",
    "Student",
    "StudentGroupAttribute",
    "User",
    "UserSection",
    "UserSession",
]
