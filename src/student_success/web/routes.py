"""The pages' router and static files. Mount both in the app factory::

from student_success.web.routes import mount_static, router as web_router

app.include_router(web_router)
mount_static(app)
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from student_success.web import (
    admin_users,
    audit_page,
    board,
    feedback_pages,
    home,
    model_page,
    notifications_page,
    status,
    student_pages,
    summary_page,
    uploads,
)
from student_success.web.auth_pages import router as auth_router
from student_success.web.common import STATIC_DIR

STATIC_PATH = "/static"

router = APIRouter(include_in_schema=False)
for _module in (
    admin_users,
    home,
    uploads,
    student_pages,
    summary_page,
    feedback_pages,
    board,
    model_page,
    status,
    audit_page,
    notifications_page,
):
    router.include_router(_module.router)
router.include_router(auth_router)  # sign in, sign out, first run


def mount_static(app: FastAPI) -> None:
    """Serve the pages' stylesheet under ``/static`` (route name ``web-static``)."""
    app.mount(STATIC_PATH, StaticFiles(directory=str(STATIC_DIR)), name="web-static")


__all__ = ["mount_static", "router"]
