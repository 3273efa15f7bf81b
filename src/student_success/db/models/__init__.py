"""Every table of the system. Importing this package registers them all on ``Base.metadata``."""

from student_success.db.base import Base
from student_success.db.models.accounts import (
    ROLES,
    ApiKey,
    AuditEvent,
    AuditTrailIsAppendOnly,
    CounsellorCaseload,
    Notification,
    User,
    UserSection,
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
from student_success.db.models.interventions import (
    INTERVENTION_STATUSES,
    PRIORITIES,
    Intervention,
    InterventionEvent,
)
from student_success.db.models.predictions import IMPORT_STATUSES, RISK_LEVELS, ImportBatch, Prediction

__all__ = [
    "IMPORT_STATUSES",
    "INTERVENTION_STATUSES",
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
    "Course",
    "Enrollment",
    "ImportBatch",
    "Intervention",
    "InterventionEvent",
    "Notification",
    "Prediction",
    "School",
    "Section",
    "Student",
    "StudentGroupAttribute",
    "User",
    "UserSection",
]
