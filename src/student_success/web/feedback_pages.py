"""Staff tell the system whether a flag was useful; the model page sums it up."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from student_success.api.auth import PrincipalDep
from student_success.api.deps import SessionDep
from student_success.api.routes.audit import AuditDep
from student_success.errors import NotFound, ValidationFailed
from student_success.services import feedback
from student_success.web.common import error_page, optional_int, see_other, student_not_found

router = APIRouter()


@router.post("/students/{student_id}/feedback", response_class=HTMLResponse)
def give_feedback(
    request: Request,
    student_id: int,
    session: SessionDep,
    principal: PrincipalDep,
    record: AuditDep,
    verdict: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    prediction_id: Annotated[str, Form()] = "",
    course_id: Annotated[str, Form()] = "",
) -> Response:
    """Keep the verdict on this student's score, then show the student again."""
    try:
        item = feedback.record_feedback(
            session, student_id, scope=principal.scope, verdict=verdict, note=note,
            prediction_id=optional_int(prediction_id), user_id=principal.user_id,
        )  # fmt: skip
    except NotFound:
        return student_not_found(request)
    except ValidationFailed as exc:
        if any(e.column == "verdict" for e in exc.errors):
            message = "Choose one of the answers: useful, not useful, incorrectly flagged or not applicable."
        else:
            message = "; ".join(e.message for e in exc.errors).capitalize() + "."
        return error_page(request, title="The feedback was not saved", message=message, status_code=422)
    record(
        "feedback.create", student_id=student_id, entity=f"feedback:{item.id}", details={"verdict": verdict}
    )
    course_part = {"course": course_id} if optional_int(course_id) else {}
    response = see_other(f"/students/{student_id}", **course_part, feedback=1)
    response.headers["location"] += "#feedback"
    return response
