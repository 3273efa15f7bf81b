"""Helpers for the page tests: the example gradebook, HTML headings and visible text."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from student_success.config import PROJECT_ROOT
from student_success.db.engine import make_engine, session_scope
from student_success.services import accounts

MODELS_DIR = PROJECT_ROOT / "results" / "models"
EXAMPLE = PROJECT_ROOT / "examples" / "canvas_gradebook_export.csv"
HAS_MODEL = (MODELS_DIR / "model_metadata.json").is_file()
needs_model = pytest.mark.skipif(not HAS_MODEL, reason="no trained model in results/models yet")


TEST_API_KEY = "test-bootstrap-key-0123456789"  # the settings' MVP_API_KEY: an administrator
AUTH = {"Authorization": f"Bearer {TEST_API_KEY}"}
ADMIN_EMAIL = "admin@school.example"
ADMIN_PASSWORD = "a long test password"
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
_CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    """The CSRF token a page carries (its meta tag, or a form's hidden field)."""
    found = _CSRF_META.search(html) or _CSRF_INPUT.search(html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def ensure_user(database_url: str, email: str = ADMIN_EMAIL, *, role: str = "admin", **fields: Any) -> int:
    """The id of the user with this e-mail, created (password :data:`ADMIN_PASSWORD`) when missing."""
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:
            user = accounts.find_user(session, email)
            if user is None:
                user = accounts.create_user(session, email, role=role, password=ADMIN_PASSWORD, **fields)
            return user.id
    finally:
        engine.dispose()


def sign_in(client: TestClient, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> TestClient:
    """Sign ``client`` in through the real form; later requests send the session's CSRF token header."""
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token, "next": "/upload"}
    )
    assert response.status_code == 303, response.text
    page = client.get("/upload")
    assert page.status_code == 200, page.text
    client.headers["X-CSRF-Token"] = csrf_from(page.text)
    return client


def example_text() -> str:
    """The bundled Canvas gradebook export (30 students)."""
    return Path(EXAMPLE).read_text(encoding="utf-8")


def example_with(old: str, new: str) -> bytes:
    """The example export with one piece of text replaced (it must occur)."""
    content = example_text()
    assert old in content, old
    return content.replace(old, new, 1).encode("utf-8")


_BREAKS = frozenset({"br", "p", "div", "li", "td", "th", "tr", "dt", "dd", "section"})


class _Text(HTMLParser):
    """Collects headings and the visible text of a page (script/style/title excluded)."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[tuple[str, str]] = []
        self.parts: list[str] = []
        self._heading: str | None = None
        self._buffer: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "title"):
            self._skip += 1
        if tag in _BREAKS:
            self.parts.append(" ")
        if re.fullmatch(r"h[1-6]", tag):
            self._heading, self._buffer = tag, []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "title"):
            self._skip -= 1
        if tag == self._heading:
            self.headings.append((tag, " ".join("".join(self._buffer).split())))
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.parts.append(data)
        if self._heading:
            self._buffer.append(data)


def headings(html: str, level: str | None = None) -> list[str]:
    """The text of every heading (or of every ``level`` heading, e.g. ``"h2"``), in order."""
    parser = _Text()
    parser.feed(html)
    return [t for tag, t in parser.headings if level is None or tag == level]


def visible_text(html: str) -> str:
    """The page's text with whitespace collapsed, as a reader sees it."""
    parser = _Text()
    parser.feed(html)
    return " ".join("".join(parser.parts).split())
