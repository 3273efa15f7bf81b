"""People and access from the pages: administrators add, scope and disable accounts and issue keys."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from student_success.config import Settings
from student_success.db.models import ApiKey, AuditEvent, Enrollment, Section, User
from student_success.services import accounts

from .conftest import build_app
from .support import needs_model, sign_in, visible_text

TEACHER_PASSWORD = "another long password"
KEY = re.compile(r'<code class="secret">([^<]+)</code>')


@needs_model
def test_an_admin_adds_a_teacher_who_then_sees_only_their_section(
    imported: TestClient, db: Session, web_settings: Settings
) -> None:
    page = imported.get("/admin/users")
    assert page.status_code == 200
    assert "admin@school.example" in visible_text(page.text)
    section = db.scalars(select(Section).order_by(Section.name)).first()
    assert section is not None

    added = imported.post(
        "/admin/users",
        data={"email": "Teacher@School.example", "display_name": "Ms Teacher", "role": "teacher",
              "password": TEACHER_PASSWORD, "password_again": TEACHER_PASSWORD,
              "section_ids": [str(section.id)]},
    )  # fmt: skip

    assert added.status_code == 303
    assert added.headers["location"] == "/admin/users?created=teacher%40school.example"
    assert "Added teacher@school.example." in visible_text(imported.get(added.headers["location"]).text)
    db.rollback()
    teacher = db.scalars(select(User).where(User.email == "teacher@school.example")).one()
    assert accounts.user_assignments(db, teacher.id) == ([section.id], [])
    expected = db.scalar(
        select(func.count()).select_from(Enrollment).where(Enrollment.section_id == section.id)
    )
    with TestClient(build_app(web_settings), follow_redirects=False) as browser:
        sign_in(browser, "teacher@school.example", TEACHER_PASSWORD)
        listed = browser.get("/api/students", params={"limit": 500}).json()
        assert listed["count"] == expected < 30
        assert browser.get("/admin/users").status_code == 403  # teachers do not manage accounts
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.action.like("user.%"))).all()
    assert sorted(set(actions)) == ["user.create", "user.list"]


def test_a_bad_form_says_what_is_wrong_and_adds_nobody(web: TestClient, db: Session) -> None:
    mismatch = web.post(
        "/admin/users",
        data={"email": "x@school.example", "role": "teacher", "password": TEACHER_PASSWORD,
              "password_again": TEACHER_PASSWORD + "!"},
    )  # fmt: skip
    assert mismatch.status_code == 422
    assert "The two passwords are not the same." in visible_text(mismatch.text)
    bad_section = web.post(
        "/admin/users", data={"email": "y@school.example", "role": "teacher", "section_ids": "999999"}
    )
    assert bad_section.status_code == 422
    assert "No section with id 999999." in visible_text(bad_section.text)
    db.rollback()
    assert [u.email for u in db.scalars(select(User))] == ["admin@school.example"]


def test_keys_are_shown_once_work_and_are_revoked_from_the_account_page(web: TestClient, db: Session) -> None:
    web.post("/admin/users", data={"email": "script@school.example", "role": "counsellor"})
    db.rollback()
    user = db.scalars(select(User).where(User.email == "script@school.example")).one()

    issued = web.post(f"/admin/users/{user.id}/api-keys")
    assert issued.status_code == 200
    [key] = KEY.findall(issued.text)
    assert web.get("/admin/users").text.count(key) == 0  # never shown again
    assert web.get("/api/students", headers={"Authorization": f"Bearer {key}"}).json()["count"] == 0

    own = web.post("/account/api-keys")
    [mine] = KEY.findall(own.text)
    db.rollback()
    prefix = db.scalars(select(ApiKey.prefix).where(ApiKey.name == "made on the account page")).one()
    assert mine.startswith(prefix)
    assert f"{prefix}…" in visible_text(web.get("/account").text)
    revoked = web.post(f"/account/api-keys/{prefix}/revoke")
    assert revoked.headers["location"] == f"/account?revoked={prefix}"
    assert web.get("/api/models", headers={"Authorization": f"Bearer {mine}"}).status_code == 401
    other = db.scalars(select(ApiKey.prefix).where(ApiKey.user_id == user.id)).one()
    assert web.post(f"/account/api-keys/{other}/revoke").status_code == 404  # not one of mine


def test_disabling_ends_access_and_an_admin_cannot_disable_themselves(web: TestClient, db: Session) -> None:
    leaving = {"email": "leaver@school.example", "role": "teacher", "password": TEACHER_PASSWORD,
               "password_again": TEACHER_PASSWORD}  # fmt: skip
    web.post("/admin/users", data=leaving)
    db.rollback()
    leaver = db.scalars(select(User).where(User.email == "leaver@school.example")).one()
    me = db.scalars(select(User).where(User.email == "admin@school.example")).one()

    assert web.post(f"/admin/users/{leaver.id}/disable").status_code == 303
    refused = web.post(f"/admin/users/{me.id}/disable")
    assert refused.status_code == 422
    assert "You cannot disable your own account." in visible_text(refused.text)
    db.rollback()
    assert [(u.email, u.is_active) for u in db.scalars(select(User).order_by(User.email))] == [
        ("admin@school.example", True),
        ("leaver@school.example", False),
    ]
