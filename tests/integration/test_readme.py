"""The README's commands and Python example work as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def test_readme_opens_with_the_install_run_and_install_test_commands() -> None:
    first = _blocks("bash")[0].strip().splitlines()
    commands = [line for line in first if line and not line.startswith("#")]
    assert commands == [
        "python3 -m venv .venv && .venv/bin/pip install -r requirements.txt && .venv/bin/student-success "
        "predict examples/canvas_gradebook_export.csv --as-of-day 60",
        "python3 -m venv .venv && .venv/bin/pip install -r requirements.txt && .venv/bin/python "
        "scripts/run_automated_tests.py",
    ]
    assert "scripts/run_automated_tests.py" in (ROOT / ".ci" / "run").read_text()


def test_the_first_command_scores_the_bundled_example() -> None:
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
