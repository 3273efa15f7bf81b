"""Request and response bodies: one schema family per entity (XCreate / XUpdate / XPublic / XsPublic)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, StrictStr

Status = Literal["planned", "in_progress", "completed", "cancelled"]
Priority = Literal["low", "medium", "high"]
RiskLevel = Literal["high", "medium", "low"]


def _iso_date(value: object) -> object:
    # JSON has no date type: accept "YYYY-MM-DD" text only (no timestamps, no other spellings)
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError("expected a date like 2025-03-31") from None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise ValueError("expected a date like 2025-03-31")


IsoDate = Annotated[date, BeforeValidator(_iso_date)]


def _no_coercion(value: object) -> object:
    # "2" or true is not a tier: anything but a real int becomes text, which the Literal rejects
    return value if isinstance(value, int) and not isinstance(value, bool) else repr(value)


Tier = Annotated[Literal[1, 2, 3], BeforeValidator(_no_coercion)]


class Public(BaseModel):
    """Base of response bodies: built from ORM objects or dataclasses as well as dicts."""

    model_config = ConfigDict(from_attributes=True)


class Page(Public):
    """Paging fields shared by list responses."""

    count: int = Field(description="rows matching the filters, over all pages")
    limit: int | None = None
    offset: int = 0


# --- imports ------------------------------------------------------------------------------------
class RowErrorPublic(Public):
    """One problem in an uploaded file, located by line and column."""

    file: str
    line: int | None
    column: str | None
    message: str
    value: str | None = None


class ImportPublic(Public):
    """An import batch: one uploaded file."""

    id: int
    course_id: int | None
    source_type: str
    file_name: str
    file_sha256: str
    as_of_day: int | None
    rows_total: int
    rows_rejected: int
    row_counts: dict[str, Any] | None
    errors: list[RowErrorPublic] | None
    status: str
    created_by: int | None
    created_at: datetime


class ImportsPublic(Page):
    """A page of import batches, newest first."""

    data: list[ImportPublic]


class UploadPublic(Public):
    """The result of an upload: the batch, and whether anything changed."""

    batch: ImportPublic
    created: bool = Field(description="false when the same file was imported before: nothing changed")
    variant: str | None
    model_version: str | None
    predictions: int
    warnings: list[str] = []


class PreviewPublic(Public):
    """What an upload would import; nothing is stored."""

    ok: bool
    filename: str
    file_sha256: str
    format: str
    as_of_day: int | None
    column_mapping: dict[str, str]
    variant: str | None
    errors: list[RowErrorPublic]
    warnings: list[str] = []
    source: str | None = None
    students: int | None = None
    courses: list[str] = []
    assessments: int | None = None
    results: int | None = None
    sample: list[dict[str, str | None]] = []


# --- students -----------------------------------------------------------------------------------
class StudentRowPublic(Public):
    """A row of the risk list: a student's latest prediction in one course."""

    student_id: int
    external_id: str
    display_name: str | None
    course_id: int | None
    course_name: str | None
    section_id: int | None
    section_name: str | None
    prediction_id: int
    probability: float
    risk_level: RiskLevel
    risk_in_words: str
    as_of_day: int | None
    model_variant: str
    model_version: str
    scored_at: datetime
    top_factors: list[str]


class StudentsPublic(Page):
    """A page of the risk list."""

    data: list[StudentRowPublic]


class PredictionPublic(Public):
    """A prediction with its reasons and recommended support."""

    id: int
    course_id: int | None
    course_name: str | None
    as_of_day: int | None
    probability: float
    risk_level: RiskLevel
    risk_in_words: str
    class_probabilities: dict[str, float | None] | None
    risk_factors: list[dict[str, Any]]
    protective_factors: list[dict[str, Any]]
    recommendations: list[dict[str, Any]]
    model_variant: str
    model_version: str
    import_batch_id: int | None
    scored_at: datetime


class HistoryPointPublic(Public):
    """One scoring of a student: a point of the risk-over-time chart."""

    prediction_id: int
    course_id: int | None
    as_of_day: int | None
    probability: float
    risk_level: RiskLevel
    model_variant: str
    model_version: str
    import_batch_id: int | None
    scored_at: datetime


class HistoryPublic(Public):
    """A student's risk over time, oldest first."""

    student_id: int
    data: list[HistoryPointPublic]


class EnrollmentPublic(Public):
    """A course (and section) the student is in."""

    course_id: int
    course_name: str | None
    section_id: int | None
    section_name: str | None


# --- interventions ------------------------------------------------------------------------------
class InterventionFields(BaseModel):
    """Fields shared by the create bodies. Values are never coerced (``"2"`` is not a tier)."""

    model_config = ConfigDict(extra="forbid")

    type_key: StrictStr = Field(
        min_length=1, max_length=64, description="catalogue key, or 'other' with a title"
    )
    title: StrictStr | None = Field(default=None, max_length=255)
    tier: Tier | None = None
    priority: Priority = "medium"
    assignee_id: StrictInt | None = None
    due_date: IsoDate | None = None
    goal: StrictStr | None = None
    notes: StrictStr | None = None
    course_id: StrictInt | None = None


class InterventionCreate(InterventionFields):
    """Plan support for one student."""

    student_id: StrictInt


class InterventionBulkCreate(InterventionFields):
    """Plan the same support for many students (all or none are created)."""

    student_ids: list[StrictInt] = Field(min_length=1, max_length=1000)


class InterventionUpdate(BaseModel):
    """Fields to change; omitted fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    status: Status | None = None
    priority: Priority | None = None
    assignee_id: StrictInt | None = None
    due_date: IsoDate | None = None
    tier: Tier | None = None
    title: StrictStr | None = Field(default=None, max_length=255)
    goal: StrictStr | None = None
    notes: StrictStr | None = None
    outcome: StrictStr | None = None


class InterventionEventPublic(Public):
    """One change: who, when, and ``{field: [old, new]}``."""

    id: int
    actor_id: int | None
    at: datetime
    changes: dict[str, Any]


class InterventionPublic(Public):
    """An intervention plan."""

    id: int
    student_id: int
    student_external_id: str
    student_name: str | None
    course_id: int | None
    type_key: str
    title: str
    tier: int | None
    status: Status
    priority: Priority
    assignee_id: int | None
    due_date: date | None
    overdue: bool
    goal: str | None
    notes: str | None
    outcome: str | None
    created_by: int | None
    created_at: datetime
    updated_at: datetime


class InterventionDetailPublic(InterventionPublic):
    """An intervention plan with its full history."""

    events: list[InterventionEventPublic]


class InterventionsPublic(Page):
    """A page of interventions for the board."""

    data: list[InterventionPublic]


class StudentDetailPublic(Public):
    """One student's page: how they are doing, why, what could help, what was tried, and since."""

    id: int
    external_id: str
    display_name: str | None
    source: str
    enrollments: list[EnrollmentPublic]
    latest: list[PredictionPublic]
    history: list[HistoryPointPublic]
    interventions: list[InterventionPublic]


# --- dashboard, models, health ------------------------------------------------------------------
class ChangePublic(Public):
    """A student whose risk changed since the previous import of the course."""

    student_id: int
    external_id: str
    display_name: str | None
    course_id: int | None
    probability: float
    risk_level: RiskLevel
    previous_probability: float | None
    previous_risk_level: RiskLevel | None


class BucketPublic(Public):
    """A histogram bucket of risk probabilities, ``[from, to)``."""

    from_: float = Field(alias="from")
    to: float
    count: int

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class DashboardPublic(Public):
    """Counts by level, a probability histogram, and what changed since the previous import."""

    total: int
    counts: dict[RiskLevel, int]
    histogram: list[BucketPublic]
    changes: dict[str, list[ChangePublic]]
    last_import: dict[str, Any] | None


class VariantPublic(Public):
    """A model variant: what it needs and how good it measured."""

    name: str
    feature_count: int
    features: list[str]
    metrics: dict[str, Any]


class ModelsPublic(Public):
    """The active model, its variants with their measured metrics, and the stored versions."""

    active_version: str | None
    metadata: dict[str, Any]
    variants: list[VariantPublic]
    versions: list[dict[str, Any]]


class HealthPublic(Public):
    """Health of the service; ``checks`` names each part and its state."""

    status: Literal["healthy", "unhealthy"]
    checks: dict[str, dict[str, Any]]
    detail: str | None = None
