"""The teacher's path in a real browser: upload → at-risk list → a student → plan support → done.

Debian's chromium at /usr/bin/chromium, driven by Playwright, against a live uvicorn server on a free
loopback port with a temporary SQLite database. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from student_success.config import PROJECT_ROOT, Settings

from .conftest import build_app
from .support import EXAMPLE, MODELS_DIR, needs_model

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"),
]
playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
axe_api = pytest.importorskip(
    "axe_playwright_python.sync_playwright", reason="axe-playwright-python is missing"
)
# WCAG 2.1 A and AA, plus axe's best practices (landmarks, one h1, headings in order)
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[str]:
    """The app (API and pages) served by uvicorn in a thread, on a fresh SQLite database."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'browser.db'}", models_dir=MODELS_DIR, environment="test"
    )
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(build_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def page(live_server: str) -> Iterator[object]:
    """A chromium page at 1280 × 900."""
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server)
        yield context.new_page()
        context.close()
        browser.close()


def _shot(page: object, name: str) -> None:
    """Save a screenshot and check the page with axe-core: no WCAG 2.1 AA violation is allowed."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]
    results = axe_api.Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, f"{name}: {results.generate_report()}"


@needs_model
def test_teacher_uploads_finds_a_student_plans_support_and_completes_it(page: object) -> None:
    p = page  # Playwright's Page (typed loosely: the package is optional)
    expect = playwright_api.expect
    p.goto("/")  # type: ignore[attr-defined]
    # a fresh installation opened on this machine: the first visit creates the administrator account
    expect(p.get_by_role("heading", level=1)).to_have_text("Create the administrator account")
    _shot(p, "00-first-run")
    p.get_by_label("E-mail").fill("admin@school.example")
    p.get_by_label("Password", exact=True).fill("a long browser password")
    p.get_by_label("Password again").fill("a long browser password")
    p.get_by_role("button", name="Create the administrator account").click()
    expect(p.get_by_role("heading", level=1)).to_have_text("See which students need support now")
    expect(p.get_by_text("Signed in as admin@school.example")).to_be_visible()
    _shot(p, "01-empty")

    p.get_by_role("link", name="Upload a gradebook").click()
    p.get_by_label("Gradebook file").set_input_files(str(EXAMPLE))
    p.get_by_label("Day of the term").fill("60")
    p.get_by_role("button", name="Preview the upload").click()
    expect(p.get_by_role("heading", level=1)).to_have_text("Check the upload")
    expect(p.get_by_text("The file can be imported: 30 students found.")).to_be_visible()
    _shot(p, "02-preview")

    p.get_by_role("button", name="Import and score 30 students").click()
    expect(p.get_by_role("heading", level=1)).to_have_text("Who needs support now")
    expect(
        p.get_by_text("Imported canvas_gradebook_export.csv: 30 students scored as of day 60.")
    ).to_be_visible()
    _shot(p, "03-overview")

    p.get_by_role("link", name="Students", exact=True).click()
    p.get_by_label("Level").select_option("high")
    p.get_by_role("button", name="Show").click()
    first = p.locator("tbody tr").first
    expect(first.get_by_text("Needs support now")).to_be_visible()
    name = first.locator("td.name a").inner_text()
    _shot(p, "04-at-risk-list")

    first.locator("td.name a").click()
    expect(p.get_by_role("heading", level=1)).to_have_text(name)
    student_url = p.url
    expect(p.get_by_role("heading", name="Why")).to_be_visible()
    expect(p.locator("ol.factors li").first).to_be_visible()
    expect(p.get_by_text("students with a record like this did not pass.")).to_be_visible()
    _shot(p, "05-student")

    plan = p.locator(".recommendation").first
    title = plan.locator("h3").evaluate("h => h.firstChild.textContent.trim()")
    plan.get_by_role("button", name="Plan this").click()
    expect(p.get_by_text("The plan was saved. It is on the interventions board.")).to_be_visible()
    expect(p.locator("#tried")).to_contain_text("Planned")
    _shot(p, "06-planned")

    p.get_by_role("link", name="Open the interventions board").click()
    card = p.locator("#col-planned").locator("xpath=..").locator("article.plan").first
    expect(card).to_contain_text(name)
    card.get_by_role("button", name="Start").click()
    card = p.locator("#col-in_progress").locator("xpath=..").locator("article.plan").first
    card.get_by_role("button", name="Mark completed").click()
    done = p.locator("#col-completed").locator("xpath=..")
    expect(done.locator("article.plan")).to_have_count(1)
    expect(done).to_contain_text(name)
    expect(done).to_contain_text(title)
    expect(p.locator("#col-completed")).to_contain_text("Completed 1")
    _shot(p, "07-board")

    p.goto(student_url)
    p.get_by_text("Was this flag right? Tell us").click()
    p.get_by_label("Not useful").check()
    p.get_by_label("Note (optional)").fill("Already supported by the SEN team")
    p.get_by_role("button", name="Send feedback").click()
    expect(p.get_by_text("Thank you: your feedback was saved.")).to_be_visible()
    expect(p.get_by_text("Feedback on this student so far: Not useful")).to_be_visible()

    p.get_by_role("link", name="One-page summary for a meeting").click()
    expect(p.get_by_role("heading", level=1)).to_have_text(name)
    expect(p.get_by_role("heading", name="What has been tried")).to_be_visible()
    expect(p.locator("section", has_text="What has been tried")).to_contain_text("Completed")
    p.emulate_media(media="print")
    expect(p.locator(".site-header")).to_be_hidden()
    expect(p.get_by_role("button", name="Print this summary")).to_be_hidden()
    p.screenshot(path=str(ARTIFACTS / "08-summary-print.png"), full_page=True)
    p.emulate_media(media="screen")
    _shot(p, "08-summary")

    p.get_by_role("link", name="People").click()
    expect(p.get_by_role("heading", level=1)).to_have_text("People and access")
    _shot(p, "09-people")
    p.get_by_role("link", name="admin@school.example").click()
    expect(p.get_by_role("heading", level=1)).to_have_text("Your account")
    p.get_by_role("link", name="Notifications").click()
    expect(p.get_by_role("heading", level=1)).to_have_text("Notifications")
    _shot(p, "09-notifications")
    p.get_by_role("link", name="Audit").click()
    expect(p.get_by_role("heading", level=1)).to_have_text("Audit trail")
    _shot(p, "09-audit")

    p.set_viewport_size({"width": 768, "height": 1024})
    p.goto("/")
    _shot(p, "10-overview-768")
    for path in (
        "/",
        "/students",
        student_url,
        student_url + "/summary",
        "/interventions",
        "/model",
        "/upload",
        "/admin/users",
        "/account",
        "/notifications",
        "/audit",
    ):
        p.goto(path)
        width = p.evaluate("document.documentElement.scrollWidth")
        assert width <= 768, f"{path} scrolls sideways at 768 px ({width} px wide)"

    p.get_by_role("button", name="Sign out").click()
    expect(p.get_by_role("heading", level=1)).to_have_text("Sign in")
    _shot(p, "11-signed-out")
    p.goto("/students")
    expect(p.get_by_role("heading", level=1)).to_have_text("Sign in")
