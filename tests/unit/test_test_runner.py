"""Tests of the automated test runner (scripts/run_automated_tests.py, student_success.ops.test_runner)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from student_success.ops import test_runner
from student_success.ops.test_runner import Counts, main, parse_junit, parse_options

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "run_automated_tests.py"

PASS_AND_FAIL = """\
import os


def test_passes():
    assert os.environ["TEST_DATABASES"] == "sqlite,postgresql"


def test_fails():
    assert 1 == 2
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def last_line(text: str) -> str:
    return text.rstrip("\n").splitlines()[-1]


@pytest.fixture
def logs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep every log write of these tests out of the real logs/ folder."""
    logs = tmp_path / "logs"
    monkeypatch.setenv("STUDENT_SUCCESS_LOGS_DIR", str(logs))
    return logs


def test_parse_options_defaults(logs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STUDENT_SUCCESS_ROOT", raising=False)
    options = parse_options([])
    assert options.root == REPO_ROOT
    assert options.logs_dir == logs_dir
    assert options.suites is None
    assert (options.output, options.database, options.keyword, options.exitfirst) == (
        "console",
        "both",
        None,
        False,
    )
    assert (options.performance_only, options.coverage_only) == (False, False)


def test_parse_options_all_flags(tmp_path: Path, logs_dir: Path) -> None:
    options = parse_options(
        [
            *("--suites", "unit_tests", "api_tests", "--output", "both", "--database", "sqlite"),
            *("-k", "risk and not slow", "-x", "--root", str(tmp_path)),
        ]
    )
    assert options.suites == ("unit_tests", "api_tests")
    assert options.output == "both"
    assert options.database == "sqlite"
    assert options.keyword == "risk and not slow"
    assert options.exitfirst is True
    assert options.root == tmp_path.resolve()


def test_root_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDENT_SUCCESS_ROOT", str(tmp_path))
    assert parse_options([]).root == tmp_path.resolve()


def test_unknown_suite_exits_2_and_lists_the_names(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--suites", "unit_tests", "smoke_tests"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'smoke_tests'" in err
    for name in (
        "unit_tests",
        "integration_tests",
        "api_tests",
        "notification_tests",
        "integration_system_tests",
        "performance_tests",
    ):
        assert f"'{name}'" in err


def test_performance_only_rejects_suites() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--performance-only", "--suites", "unit_tests"])
    assert exit_info.value.code == 2


def test_suite_mapping_matches_the_guide() -> None:
    assert {name: suite.paths for name, suite in test_runner.SUITES.items()} == {
        "unit_tests": ("tests/unit",),
        "integration_tests": ("tests/integration",),
        "api_tests": ("tests/unit/test_api_endpoints.py", "tests/api"),
        "notification_tests": ("tests/unit/test_notifications.py",),
        "integration_system_tests": ("tests/unit/test_integrations.py",),
        "performance_tests": ("bench",),
    }
    assert test_runner.SUITES["performance_tests"].kind == "bench"
    assert test_runner.ALL_TESTS.paths == ("tests",)


def test_api_tests_use_the_paths_that_exist(tmp_path: Path) -> None:
    api = test_runner.SUITES["api_tests"]
    assert test_runner.existing_paths(api, tmp_path) == []
    (tmp_path / "tests" / "api").mkdir(parents=True)
    assert test_runner.existing_paths(api, tmp_path) == ["tests/api"]
    write(tmp_path / "tests" / "unit" / "test_api_endpoints.py", "")
    assert test_runner.existing_paths(api, tmp_path) == ["tests/unit/test_api_endpoints.py", "tests/api"]


def test_coverage_merges_the_chosen_suites_into_one_run(tmp_path: Path, logs_dir: Path) -> None:
    options = parse_options(
        ["--coverage-only", "--suites", "unit_tests", "api_tests", "--root", str(tmp_path)]
    )
    [suite] = test_runner.selected_suites(options)
    assert suite.name == "unit_tests+api_tests"
    assert suite.paths == ("tests/unit", "tests/unit/test_api_endpoints.py", "tests/api")


def test_database_option_sets_test_databases(tmp_path: Path, logs_dir: Path) -> None:
    for choice, expected in (
        ("sqlite", "sqlite"),
        ("postgresql", "postgresql"),
        ("both", "sqlite,postgresql"),
    ):
        options = parse_options(["--database", choice, "--root", str(tmp_path)])
        assert test_runner.build_env(options)["TEST_DATABASES"] == expected


def test_parse_junit_counts_every_testsuite() -> None:
    xml = """<?xml version="1.0" encoding="utf-8"?>
    <testsuites>
      <testsuite name="pytest" tests="7" failures="2" errors="1" skipped="1" time="0.4">
        <testcase classname="a" name="t1"/>
      </testsuite>
      <testsuite name="other" tests="3" failures="0" errors="0" skipped="2"/>
    </testsuites>"""
    counts = parse_junit(xml)
    assert counts == Counts(tests=10, failures=2, errors=1, skipped=3)
    assert (counts.passed, counts.failed) == (4, 3)


def test_parse_junit_single_testsuite_root() -> None:
    counts = parse_junit('<testsuite tests="4" failures="1" errors="0" skipped="0"/>')
    assert (counts.passed, counts.failed, counts.skipped) == (3, 1, 0)


def test_end_to_end_one_pass_one_fail(tmp_path: Path, logs_dir: Path) -> None:
    """The real script on a tiny checkout: exit 1, the closing line, the log under --output both."""
    root = tmp_path / "checkout"
    write(root / "tests" / "test_demo.py", PASS_AND_FAIL)
    env = {**os.environ, "STUDENT_SUCCESS_ROOT": str(root)}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--output", "both"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert last_line(done.stdout) == "1 passed, 1 failed"
    assert "all_tests" in done.stdout
    assert "FAILED" in done.stdout
    log = (logs_dir / "automated_tests.log").read_text(encoding="utf-8")
    assert "1 passed, 1 failed\n" in log
    assert "suites=all_tests passed=1 failed=1 skipped=0" in last_line(log)
    assert last_line(log).endswith("exit=1")


def test_output_file_appends_and_stays_quiet(
    tmp_path: Path, logs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "tests" / "test_ok.py", "def test_ok():\n    pass\n")
    argv = ["--output", "file", "--root", str(tmp_path)]
    assert main(argv) == 0
    assert main(argv) == 0
    assert capsys.readouterr().out == ""
    lines = (logs_dir / "automated_tests.log").read_text(encoding="utf-8").splitlines()
    summaries = [line for line in lines if " suites=" in line]
    assert len(summaries) == 2
    assert all(
        "suites=all_tests passed=1 failed=0 skipped=0" in s and s.endswith("exit=0") for s in summaries
    )
    assert lines.count("1 passed, 0 failed") == 2


def test_console_output_does_not_write_the_log(
    tmp_path: Path, logs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "tests" / "test_ok.py", "def test_ok():\n    pass\n")
    assert main(["--root", str(tmp_path)]) == 0
    assert last_line(capsys.readouterr().out) == "1 passed, 0 failed"
    assert not logs_dir.exists()


def test_missing_suite_is_skipped_and_does_not_fail(
    tmp_path: Path, logs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "tests" / "unit" / "test_ok.py", "def test_ok():\n    pass\n")
    code = main(["--suites", "unit_tests", "notification_tests", "--root", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "not present (skipped)" in out
    assert last_line(out) == "1 passed, 0 failed"


def test_no_tests_collected_fails_only_when_test_files_exist(
    tmp_path: Path, logs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "tests" / "integration").mkdir(parents=True)
    assert main(["--suites", "integration_tests", "--root", str(tmp_path)]) == 0
    write(tmp_path / "tests" / "integration" / "test_empty.py", "HELPER = 1\n")
    assert main(["--suites", "integration_tests", "--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "FAILED (no tests collected)" in out
    assert last_line(out) == "0 passed, 1 failed"


def test_suite_that_cannot_start_counts_as_one_error(
    tmp_path: Path, logs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "tests" / "conftest.py", "import no_such_module_for_the_runner_test\n")
    write(tmp_path / "tests" / "test_ok.py", "def test_ok():\n    pass\n")
    assert main(["--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "ERROR (pytest exit 4)" in out
    assert last_line(out) == "0 passed, 1 failed"


def test_keyword_and_database_are_passed_to_pytest(
    tmp_path: Path, logs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        tmp_path / "tests" / "test_select.py",
        "import os\n\ndef test_database_env():\n    assert os.environ['TEST_DATABASES'] == 'postgresql'\n\n"
        "def test_other():\n    assert False\n",
    )
    assert main(["-k", "database_env", "--database", "postgresql", "--root", str(tmp_path)]) == 0
    assert last_line(capsys.readouterr().out) == "1 passed, 0 failed"
    assert main(["-k", "no_such_test", "--root", str(tmp_path)]) == 1
    assert last_line(capsys.readouterr().out) == "0 passed, 0 failed"


def test_performance_only_runs_each_benchmark(
    tmp_path: Path, logs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "bench" / "bench_fast.py", "print('fast: 3 ms')\n")
    write(tmp_path / "bench" / "bench_broken.py", "raise SystemExit(3)\n")
    write(tmp_path / "bench" / "helper.py", "raise SystemExit(9)\n")
    assert main(["--performance-only", "--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "fast: 3 ms" in out
    assert "FAILED (exit 3)" in out
    assert "helper.py" not in out
    assert last_line(out) == "1 passed, 1 failed"


def test_coverage_only_prints_the_total(
    tmp_path: Path, logs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        tmp_path / "tests" / "test_cov.py",
        "from student_success.errors import RowError\n\n"
        "def test_row_error():\n    assert RowError('f', 2, 'c', 'm').line == 2\n",
    )
    assert main(["--coverage-only", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "TOTAL" in out
    [total] = [line for line in out.splitlines() if line.startswith("Total coverage: ")]
    assert re.fullmatch(r"Total coverage: \d{1,3}\.\d%", total)
    assert last_line(out) == "1 passed, 0 failed"
