"""The README's commands and Python example work as written."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def test_readme_opens_with_the_install_run_and_install_test_commands() -> None:
    first = _blocks("bash")[0].strip().splitlines()
    commands = [line for line in first if line and not line.startswith("#")]
    assert commands == [
        "python3 -m venv .venv && .venv/bin/pip install -r requirements.txt && .venv/bin/python run_mvp.py",
        "python3 -m venv .venv && .venv/bin/pip install -r requirements.txt && .venv/bin/python "
        "scripts/run_automated_tests.py",
    ]
    assert "scripts/run_automated_tests.py" in (ROOT / ".ci" / "run").read_text()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_first_command_starts_the_app_on_a_page_that_says_what_to_do(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'mvp_data.db'}", "PORT": str(port)}
    server = subprocess.Popen(
        [sys.executable, "run_mvp.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        page = None
        while time.monotonic() < deadline and page is None:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
            except httpx.TransportError:
                time.sleep(0.2)
        assert page is not None, "the app did not answer within 60 s"
        # a fresh install asks the person at this machine to create the administrator account first
        assert page.status_code == 401
        assert "Create the administrator account" in page.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", cookies=page.cookies, timeout=10) as browser:
            password = "a long first password"
            made = browser.post(
                "/login/first-run",
                data={"email": "head@school.example", "password": password, "password_again": password,
                      "csrf_token": token.group(1)},
            )  # fmt: skip
            assert made.status_code == 303
            overview = browser.get(made.headers["location"])
        assert overview.status_code == 200
        assert "Upload a gradebook" in overview.text
        assert "Try the example gradebook" in overview.text
        health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
        assert health.status_code == 200
        assert health.json()["status"] == "healthy"
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert (tmp_path / "mvp_data.db").is_file()  # the first start created the database


def test_the_readme_predict_command_scores_the_bundled_example() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "student_success.cli.main", "predict", "examples/canvas_gradebook_export.csv",
         "--as-of-day", "60"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("course_id,section,student_id,as_of_day,risk_probability,risk_level,")
    assert len(lines) == 31  # header + the example's 30 students (the Test Student row is dropped)


def test_the_python_example_runs_and_says_which_columns_it_could_not_use() -> None:
    (code,) = _blocks("python")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "['early_total_clicks']"
    lines = result.stdout.strip().splitlines()
    assert lines[0].split() == ["student_id", "risk_score", "risk_level"]
    rows = [line.split() for line in lines[1:4]]
    assert [r[1] for r in rows] == ["1", "2", "3"]
    assert all(0.0 <= float(r[2]) <= 1.0 and r[3] in {"low", "medium", "high"} for r in rows)
