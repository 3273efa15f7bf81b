"""Names and every user-supplied string render as text: XSS payloads in a gradebook show literally."""

from __future__ import annotations

import re

import pytest
from api.support import EXAMPLE, needs_model
from fastapi.testclient import TestClient

from student_success.ops.security_probe import XSS_FILENAME, XSS_PAYLOADS, xss_gradebook

from .conftest import BOOTSTRAP_KEY

SCRIPT, IMG = XSS_PAYLOADS
ESCAPED = {
    SCRIPT: "&lt;script&gt;alert(1)&lt;/script&gt;",
    IMG: "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;",
}
pytestmark = needs_model


@pytest.fixture
def admin(client: TestClient) -> TestClient:
    """The client, signed in as an administrator with the bootstrap key."""
    client.headers.update({"Authorization": f"Bearer {BOOTSTRAP_KEY}"})
    return client


def _shows_literally(html: str, *payloads: str) -> None:
    for payload in XSS_PAYLOADS:
        assert payload not in html
    assert "onerror=alert(1)>" not in html
    for payload in payloads:
        assert ESCAPED[payload] in html, f"{payload!r} is not shown as text"


def test_gradebook_payloads_render_as_text_on_every_page(admin: TestClient) -> None:
    content = xss_gradebook(EXAMPLE.read_bytes())
    assert SCRIPT in content.decode()
    # the preview of the upload, before anything is stored
    staged = admin.post(
        "/upload", files={"file": (XSS_FILENAME, content, "text/csv")}, data={"as_of_day": "60"}
    )
    assert staged.status_code == 303, staged.text
    preview = admin.get(staged.headers["location"])
    assert preview.status_code == 200
    _shows_literally(preview.text, SCRIPT, IMG)

    imported = admin.post(
        "/api/uploads", files={"file": (XSS_FILENAME, content, "text/csv")}, data={"as_of_day": "60"}
    )
    assert imported.status_code == 201, imported.text
    rows = admin.get("/api/students", params={"q": "alert", "limit": 10}).json()["data"]
    by_name = {r["display_name"]: r for r in rows}
    assert set(by_name) == {SCRIPT, IMG}
    assert by_name[SCRIPT]["section_name"] == SCRIPT  # stored as given, escaped only when shown
    script_id, img_id = by_name[SCRIPT]["student_id"], by_name[IMG]["student_id"]
    plan = admin.post(
        "/api/interventions",
        json={"student_id": img_id, "type_key": "tutoring", "goal": SCRIPT, "notes": IMG},
    )
    assert plan.status_code == 201, plan.text

    pages = {
        "/students?q=alert": (SCRIPT, IMG),
        f"/students/{script_id}": (SCRIPT,),
        f"/students/{img_id}": (IMG, SCRIPT),
        f"/students/{img_id}/summary": (IMG,),
        "/interventions": (IMG,),
        "/": (),
    }
    for path, expected in pages.items():
        response = admin.get(path)
        assert response.status_code == 200, path
        _shows_literally(response.text, *expected)
    # the section's name is escaped in the list's filter options too
    options = admin.get("/students").text
    assert re.search(r"<option value=\"\d+\">[^<]*&lt;script&gt;alert\(1\)&lt;/script&gt;", options)


def test_reflected_payloads_are_escaped(admin: TestClient) -> None:
    for path, params in (
        ("/students", {"q": IMG}),
        ("/audit", {"actor": SCRIPT}),
        ("/interventions", {"status": IMG}),
    ):
        response = admin.get(path, params=params)
        assert response.status_code == 200, path
        assert IMG not in response.text
        assert SCRIPT not in response.text
    search = admin.get("/students", params={"q": IMG})
    assert 'value="&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"' in search.text
