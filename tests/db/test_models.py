"""The schema stores exactly what it is given and refuses what it must, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from student_success.db.models import (
    OUTCOMES,
    AuditEvent,
    AuditTrailIsAppendOnly,
    Course,
    Enrollment,
    ImportBatch,
    Intervention,
    InterventionEvent,
    Prediction,
    Section,
    Student,
    StudentGroupAttribute,
    User,
)
from student_success.ingest import canonical

CEST = timezone(timedelta(hours=2))


def _course(session: Session, external_id: str = "AAA-2013J") -> Course:
    course = Course(
        source="oulad",
        external_id=external_id,
        code_module="AAA",
        code_presentation="2013J",
        name="Introductory module",
        start_date=date(2013, 10, 1),
        length_days=268,
    )
    session.add(course)
    session.flush()
    return course


def _student(session: Session, external_id: str = "11391", *, source: str = "oulad") -> Student:
    student = Student(source=source, external_id=external_id, display_name="Student 11391")
    session.add(student)
    session.flush()
    return student


def test_outcomes_match_the_canonical_records() -> None:
    assert OUTCOMES == canonical.OUTCOMES


def test_course_student_enrollment_round_trip(session: Session) -> None:
    course = _course(session)
    section = Section(course=course, name="Group B")
    session.add(section)
    student = _student(session)
    student.group_attributes = [
        StudentGroupAttribute(attribute="gender", value="M"),
        StudentGroupAttribute(attribute="imd_band", value="90-100%"),
    ]
    session.add(
        Enrollment(
            student=student,
            course=course,
            section=section,
            registration_day=-159.0,
            unregistration_day=None,
            studied_credits=240.0,
            num_prev_attempts=0,
            highest_education="HE Qualification",
            final_result="Pass",
        )
    )
    session.flush()
    student_id = student.id
    session.expunge_all()

    loaded = session.get_one(Student, student_id)
    assert (loaded.source, loaded.external_id, loaded.display_name) == ("oulad", "11391", "Student 11391")
    assert {a.attribute: a.value for a in loaded.group_attributes} == {"gender": "M", "imd_band": "90-100%"}
    assert loaded.created_at.tzinfo is UTC
    [enrollment] = loaded.enrollments
    assert (
        enrollment.registration_day,
        enrollment.unregistration_day,
        enrollment.studied_credits,
        enrollment.num_prev_attempts,
        enrollment.highest_education,
        enrollment.final_result,
    ) == (-159.0, None, 240.0, 0, "HE Qualification", "Pass")
    assert enrollment.section is not None
    assert enrollment.section.name == "Group B"
    assert (enrollment.course.external_id, enrollment.course.start_date, enrollment.course.length_days) == (
        "AAA-2013J",
        date(2013, 10, 1),
        268,
    )


def test_prediction_round_trip_keeps_json_floats_and_utc_time(session: Session) -> None:
    course, student = _course(session), _student(session)
    batch = ImportBatch(
        course=course,
        source_type="oulad",
        file_name="studentAssessment.csv",
        file_sha256="ab" * 32,
        as_of_day=60,
        rows_total=3,
        rows_rejected=1,
        row_counts={"results": 2},
        errors=[{"file": "studentAssessment.csv", "line": 3, "column": "score", "message": "not a number"}],
        status="completed",
    )
    made_at = datetime(2024, 3, 31, 2, 30, 15, 123456, tzinfo=CEST)
    session.add(
        Prediction(
            student=student,
            course=course,
            import_batch=batch,
            model_version="2024.03.1",
            model_variant="gradebook+activity",
            as_of_day=60,
            probability=0.8734219,
            risk_level="high",
            class_probabilities={"Distinction": 0.01, "Pass": 0.1165781, "Fail": 0.5, "Withdrawn": 0.3734219},
            factors=[
                {"feature": "missing_share", "value": 0.6, "text": "3 of 5 assignments due are missing"}
            ],
            recommendations=["tutoring", "call_home"],
            created_at=made_at,
        )
    )
    session.flush()
    session.expunge_all()

    prediction = session.scalars(select(Prediction)).one()
    assert prediction.probability == 0.8734219
    assert prediction.class_probabilities == {
        "Distinction": 0.01,
        "Pass": 0.1165781,
        "Fail": 0.5,
        "Withdrawn": 0.3734219,
    }
    assert prediction.factors == [
        {"feature": "missing_share", "value": 0.6, "text": "3 of 5 assignments due are missing"}
    ]
    assert prediction.recommendations == ["tutoring", "call_home"]
    assert prediction.created_at == datetime(2024, 3, 31, 0, 30, 15, 123456, tzinfo=UTC)
    assert prediction.created_at.tzinfo is UTC
    assert (
        prediction.model_version,
        prediction.model_variant,
        prediction.as_of_day,
        prediction.risk_level,
    ) == (
        "2024.03.1",
        "gradebook+activity",
        60,
        "high",
    )
    assert prediction.import_batch is not None
    assert prediction.import_batch.errors == [
        {"file": "studentAssessment.csv", "line": 3, "column": "score", "message": "not a number"}
    ]
    assert prediction.import_batch.row_counts == {"results": 2}


def test_intervention_round_trip_with_history(session: Session) -> None:
    student = _student(session)
    counsellor = User(email="c@school.example", display_name="Ms C", role="counsellor", password_hash="x")
    session.add(counsellor)
    session.flush()
    intervention = Intervention(
        student=student,
        type_key="tutoring",
        title="Weekly maths tutoring",
        tier=2,
        status="in_progress",
        priority="high",
        assignee=counsellor,
        due_date=date(2024, 4, 15),
        goal="Hand in the next two assignments",
        notes="Prefers mornings",
        created_by=counsellor.id,
    )
    intervention.events.append(
        InterventionEvent(
            actor=counsellor,
            at=datetime(2024, 3, 1, 9, 0, tzinfo=UTC),
            changes={"status": ["planned", "in_progress"]},
        )
    )
    session.add(intervention)
    session.flush()
    session.expunge_all()

    loaded = session.scalars(select(Intervention)).one()
    assert (loaded.type_key, loaded.title, loaded.tier, loaded.status, loaded.priority) == (
        "tutoring",
        "Weekly maths tutoring",
        2,
        "in_progress",
        "high",
    )
    assert (loaded.due_date, loaded.goal, loaded.notes, loaded.outcome) == (
        date(2024, 4, 15),
        "Hand in the next two assignments",
        "Prefers mornings",
        None,
    )
    assert loaded.assignee is not None
    assert loaded.assignee.email == "c@school.example"
    assert [(e.at, e.changes) for e in loaded.events] == [
        (datetime(2024, 3, 1, 9, 0, tzinfo=UTC), {"status": ["planned", "in_progress"]})
    ]


@pytest.mark.parametrize(
    ("field", "bad_value"),
    [("status", "done"), ("priority", "urgent"), ("tier", 4)],
)
def test_intervention_checks_refuse_unknown_values(session: Session, field: str, bad_value: object) -> None:
    student = _student(session)
    intervention = Intervention(student=student, type_key="tutoring", title="Tutoring")
    setattr(intervention, field, bad_value)
    session.add(intervention)
    with pytest.raises(IntegrityError, match=f"ck_intervention_{field}"):
        session.flush()
    session.rollback()


def test_other_enumerations_are_checked(session: Session) -> None:
    session.add(User(email="x@school.example", role="superuser"))
    with pytest.raises(IntegrityError, match="ck_app_user_role"):
        session.flush()
    session.rollback()
    student = _student(session)
    session.add(
        Prediction(
            student=student, model_version="1", model_variant="full", probability=0.5, risk_level="critical"
        )
    )
    with pytest.raises(IntegrityError, match="ck_prediction_risk_level"):
        session.flush()


def test_student_source_and_external_id_are_unique(session: Session) -> None:
    _student(session, "42", source="canvas")
    _student(session, "42", source="oulad")  # the same id from another source is another student
    session.add(Student(source="canvas", external_id="42"))
    with pytest.raises(IntegrityError):
        session.flush()


def test_foreign_keys_are_enforced(session: Session) -> None:
    course = _course(session)
    session.add(Enrollment(student_id=987654, course_id=course.id))
    with pytest.raises(IntegrityError):
        session.flush()


def test_deleting_a_student_deletes_their_records(session: Session) -> None:
    course, student = _course(session), _student(session)
    session.add_all(
        [
            Enrollment(student=student, course=course),
            Prediction(
                student=student, model_version="1", model_variant="full", probability=0.2, risk_level="low"
            ),
        ]
    )
    session.flush()
    session.delete(student)
    session.flush()
    assert session.scalar(select(func.count()).select_from(Enrollment)) == 0
    assert session.scalar(select(func.count()).select_from(Prediction)) == 0


@pytest.mark.parametrize("with_course", [True, False], ids=["course", "no-course"])
def test_the_same_file_cannot_be_imported_twice(session: Session, with_course: bool) -> None:
    course_id = _course(session).id if with_course else None
    for _ in range(2):
        session.add(
            ImportBatch(
                course_id=course_id, source_type="canvas", file_name="grades.csv", file_sha256="cd" * 32
            )
        )
    with pytest.raises(IntegrityError):
        session.flush()


def test_naive_datetimes_are_refused(session: Session) -> None:
    session.add(AuditEvent(action="student.view", at=datetime(2024, 3, 1, 9, 0)))
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()


def test_audit_events_are_append_only(session: Session) -> None:
    event = AuditEvent(action="student.view", actor="c@school.example", ip="10.0.0.7", details={"page": 1})
    session.add(event)
    session.flush()
    event.action = "student.edit"
    with pytest.raises(AuditTrailIsAppendOnly):
        session.flush()


LEAK_CHECK_ID = "leak-check"


def _leak_check_count(connection: Session | Connection) -> int:
    statement = select(func.count()).select_from(Student).where(Student.external_id == LEAK_CHECK_ID)
    return int(connection.scalar(statement) or 0)


@pytest.mark.parametrize("attempt", [1, 2])
def test_rows_do_not_leak_between_tests(session: Session, engine: Engine, attempt: int) -> None:
    """Runs twice on the same database: each run must start without the other's committed row."""
    assert _leak_check_count(session) == 0
    session.add(Student(source="test", external_id=LEAK_CHECK_ID))
    session.commit()  # only releases the test's savepoint
    assert _leak_check_count(session) == 1
    with engine.connect() as other_connection:
        assert _leak_check_count(other_connection) == 0
