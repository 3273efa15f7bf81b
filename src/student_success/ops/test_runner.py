"""Automated test runner behind ``scripts/run_automated_tests.py`` (maintenance guide, "Test Automation").

Each selected suite runs as its own ``python -m pytest`` subprocess with the current interpreter and a
``--junitxml`` report in a temporary folder; the counts in the summary come from those reports, not from
pytest's console text. Benchmarks (``--performance-only`` or the ``performance_tests`` suite) run every
``bench/bench_*.py`` as ``python bench/<file>``; each script counts as one test that passes when it exits 0.

The run always ends with one line ``N passed, N failed`` (failed = failures + errors; a suite whose pytest
run fails without any failing test, e.g. a conftest import error, counts as one error) and exits 0 only
when nothing failed. ``TEST_DATABASES`` is set for the tests to ``sqlite``, ``postgresql`` or
``sqlite,postgresql`` (``--database both``, the default).

Environment: ``STUDENT_SUCCESS_ROOT`` (or the hidden ``--root``) points the runner at another checkout;
``STUDENT_SUCCESS_LOGS_DIR`` overrides the log folder (default: ``Settings.logs_dir``, i.e. ``logs/``).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from rich import box
from rich.console import Console
from rich.table import Table

from student_success.config import PROJECT_ROOT, get_settings

LOG_FILE_NAME = "automated_tests.log"
DATABASE_CHOICES: dict[str, str] = {
    "sqlite": "sqlite",
    "postgresql": "postgresql",
    "both": "sqlite,postgresql",
}
OutputMode = Literal["console", "file", "both"]


@dataclass(frozen=True)
class Suite:
    """A named group of tests.

    Attributes:
        name: The name used with ``--suites``.
        paths: Paths relative to the repository root; those that exist are run, the rest are ignored.
        kind: ``"pytest"`` for test paths, ``"bench"`` for the benchmark scripts.
    """

    name: str
    paths: tuple[str, ...]
    kind: Literal["pytest", "bench"] = "pytest"


SUITES: dict[str, Suite] = {
    suite.name: suite
    for suite in (
        Suite("unit_tests", ("tests/unit",)),
        Suite("integration_tests", ("tests/integration",)),
        Suite("api_tests", ("tests/unit/test_api_endpoints.py", "tests/api")),
        Suite("notification_tests", ("tests/unit/test_notifications.py",)),
        Suite("integration_system_tests", ("tests/unit/test_integrations.py",)),
        Suite("performance_tests", ("bench",), kind="bench"),
    )
}
# The default run: every pytest test exactly once (the named suites overlap: api_tests lives in tests/unit).
ALL_TESTS = Suite("all_tests", ("tests",))


@dataclass(frozen=True)
class Counts:
    """Test counts of one suite or of the whole run, as reported in JUnit XML."""

    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0

    @property
    def passed(self) -> int:
        """Tests that neither failed, errored nor were skipped."""
        return self.tests - self.failures - self.errors - self.skipped

    @property
    def failed(self) -> int:
        """Failures plus errors."""
        return self.failures + self.errors

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.tests + other.tests,
            self.failures + other.failures,
            self.errors + other.errors,
            self.skipped + other.skipped,
        )


@dataclass(frozen=True)
class SuiteResult:
    """Outcome of one suite (or one benchmark script)."""

    name: str
    status: str
    ok: bool
    counts: Counts = Counts()
    seconds: float = 0.0


@dataclass(frozen=True)
class Options:
    """Validated command-line options."""

    root: Path
    logs_dir: Path
    suites: tuple[str, ...] | None = None
    performance_only: bool = False
    coverage_only: bool = False
    output: OutputMode = "console"
    database: str = "both"
    keyword: str | None = None
    exitfirst: bool = False


class Transcript:
    """Collects everything the run prints, echoing it to stdout unless the output goes to the log only."""

    def __init__(self, *, echo: bool) -> None:
        self.echo = echo
        self._parts: list[str] = []

    def write(self, text: str) -> None:
        """Record ``text`` and print it when echoing."""
        self._parts.append(text)
        if self.echo:
            sys.stdout.write(text)
            sys.stdout.flush()

    def line(self, text: str = "") -> None:
        """Record one line."""
        self.write(text + "\n")

    def text(self) -> str:
        """Everything recorded so far."""
        return "".join(self._parts)


def parse_junit(xml_text: str) -> Counts:
    """Sum the counts of every ``<testsuite>`` in a JUnit XML report.

    Args:
        xml_text: The report, with either ``<testsuites>`` or a single ``<testsuite>`` at the root.

    Returns:
        The summed tests, failures, errors and skipped counts.
    """
    root = ET.fromstring(xml_text)  # noqa: S314 - our own pytest report, not untrusted input
    total = Counts()
    for suite in root.iter("testsuite"):
        total += Counts(
            tests=int(suite.get("tests", "0")),
            failures=int(suite.get("failures", "0")),
            errors=int(suite.get("errors", "0")),
            skipped=int(suite.get("skipped", "0")),
        )
    return total


def existing_paths(suite: Suite, root: Path) -> list[str]:
    """The paths of ``suite`` that exist under ``root``, in declaration order."""
    return [path for path in suite.paths if (root / path).exists()]


def contains_test_files(root: Path, paths: Sequence[str]) -> bool:
    """Whether any of ``paths`` is a file or a folder holding ``test_*.py`` / ``*_test.py`` files."""
    for path in paths:
        target = root / path
        if target.is_file():
            return True
        if any(target.rglob("test_*.py")) or any(target.rglob("*_test.py")):
            return True
    return False


def build_env(options: Options) -> dict[str, str]:
    """Environment for the test and benchmark subprocesses.

    Sets ``TEST_DATABASES``, unbuffered output (so benchmark output streams) and puts ``<root>/src`` first
    on ``PYTHONPATH`` so an uninstalled checkout still imports ``student_success``.
    """
    env = dict(os.environ)
    env["TEST_DATABASES"] = DATABASE_CHOICES[options.database]
    env["PYTHONUNBUFFERED"] = "1"
    src = options.root / "src"
    if src.is_dir():
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(src), env.get("PYTHONPATH", "")) if p)
    return env


def stream(command: Sequence[str], *, cwd: Path, env: dict[str, str], out: Transcript) -> int:
    """Run ``command``, copying its combined stdout/stderr line by line into ``out``; return its exit code."""
    with subprocess.Popen(
        list(command),
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        bufsize=1,
    ) as proc:
        if proc.stdout is not None:
            for line in proc.stdout:
                out.write(line)
        return proc.wait()


def run_pytest_suite(
    suite: Suite, options: Options, *, env: dict[str, str], workdir: Path, out: Transcript
) -> SuiteResult:
    """Run one pytest suite and classify its outcome.

    pytest's exit code 5 ("no tests collected") fails the suite only when its paths hold test files and no
    ``-k`` filter was given (a filter legitimately selects nothing in some suites).
    """
    paths = existing_paths(suite, options.root)
    if not paths:
        out.line(f"=== {suite.name}: not present (skipped)")
        return SuiteResult(suite.name, "not present (skipped)", ok=True)
    report = workdir / f"{suite.name}.xml"
    command = [sys.executable, "-m", "pytest", *paths, f"--junitxml={report}"]
    if options.coverage_only:
        # Keep coverage's data file in the temporary folder, not in the checkout.
        env = {**env, "COVERAGE_FILE": str(workdir / ".coverage")}
        command += [
            "--cov=student_success",
            "--cov-report=term-missing",
            f"--cov-report=json:{workdir / 'coverage.json'}",
        ]
    if options.keyword is not None:
        command += ["-k", options.keyword]
    if options.exitfirst:
        command.append("-x")
    out.line(f"=== {suite.name}: {' '.join(paths)}")
    started = time.monotonic()
    code = stream(command, cwd=options.root, env=env, out=out)
    seconds = time.monotonic() - started
    counts = parse_junit(report.read_text(encoding="utf-8")) if report.exists() else Counts()
    if code == 0:
        return SuiteResult(suite.name, "passed", True, counts, seconds)
    if code == 5 and (options.keyword is not None or not contains_test_files(options.root, paths)):
        return SuiteResult(suite.name, "no tests", True, counts, seconds)
    if code == 5:
        status = "FAILED (no tests collected)"
    else:
        status = "FAILED" if code == 1 else f"ERROR (pytest exit {code})"
    if counts.failed == 0:
        # pytest failed without a failing test (conftest import error, nothing collected): count the
        # suite itself as one error so the closing line never reads "0 failed" on a failed run.
        counts += Counts(tests=1, errors=1)
    return SuiteResult(suite.name, status, False, counts, seconds)


def run_benchmarks(options: Options, *, env: dict[str, str], out: Transcript) -> list[SuiteResult]:
    """Run every ``bench/bench_*.py`` as its own process; each is one row that passes when it exits 0."""
    scripts = sorted((options.root / "bench").glob("bench_*.py"))
    if not scripts:
        out.line("=== performance_tests: not present (skipped)")
        return [SuiteResult("performance_tests", "not present (skipped)", ok=True)]
    results = []
    for script in scripts:
        name = f"bench/{script.name}"
        out.line(f"=== {name}")
        started = time.monotonic()
        code = stream([sys.executable, name], cwd=options.root, env=env, out=out)
        ok = code == 0
        results.append(
            SuiteResult(
                name,
                "passed" if ok else f"FAILED (exit {code})",
                ok,
                Counts(tests=1, failures=0 if ok else 1),
                time.monotonic() - started,
            )
        )
    return results


def selected_suites(options: Options) -> list[Suite]:
    """The suites this run executes, in order."""
    if options.performance_only:
        return [SUITES["performance_tests"]]
    if options.suites is None:
        return [ALL_TESTS]
    chosen = [SUITES[name] for name in dict.fromkeys(options.suites)]
    if options.coverage_only:
        # One pytest run over every chosen path gives a single coverage total.
        paths = tuple(dict.fromkeys(path for suite in chosen for path in suite.paths))
        return [Suite("+".join(suite.name for suite in chosen), paths)]
    return chosen


def render_summary(results: Sequence[SuiteResult]) -> str:
    """The summary table as plain text."""
    table = Table(title="Automated test summary", box=box.ASCII, title_justify="left")
    table.add_column("Suite")
    table.add_column("Result")
    for column in ("Passed", "Failed", "Skipped", "Seconds"):
        table.add_column(column, justify="right")
    for result in results:
        counts = result.counts
        table.add_row(
            result.name,
            result.status,
            str(counts.passed),
            str(counts.failed),
            str(counts.skipped),
            f"{result.seconds:.1f}",
        )
    buffer = io.StringIO()
    Console(file=buffer, width=110, no_color=True, force_terminal=False).print(table)
    return buffer.getvalue()


def append_log(logs_dir: Path, text: str, summary: str) -> Path:
    """Append the run's full output and its one-line summary to ``<logs_dir>/automated_tests.log``."""
    logs_dir.mkdir(parents=True, exist_ok=True)
    log_file = logs_dir / LOG_FILE_NAME
    with log_file.open("a", encoding="utf-8") as handle:
        handle.write(text)
        handle.write(summary + "\n")
    return log_file


def run(options: Options) -> int:
    """Run the selected suites or benchmarks, print the summary, write the log; return the exit code."""
    out = Transcript(echo=options.output in ("console", "both"))
    env = build_env(options)
    suites = selected_suites(options)
    out.line(
        f"Automated tests in {options.root} with {sys.executable}; TEST_DATABASES={env['TEST_DATABASES']}"
    )
    started = time.monotonic()
    results: list[SuiteResult] = []
    coverage: float | None = None
    with tempfile.TemporaryDirectory(prefix="student-success-tests-") as tmp:
        workdir = Path(tmp)
        for suite in suites:
            if suite.kind == "bench":
                results += run_benchmarks(options, env=env, out=out)
            else:
                results.append(run_pytest_suite(suite, options, env=env, workdir=workdir, out=out))
            if options.exitfirst and not all(result.ok for result in results):
                break
        coverage_report = workdir / "coverage.json"
        if coverage_report.exists():
            coverage = float(
                json.loads(coverage_report.read_text(encoding="utf-8"))["totals"]["percent_covered"]
            )
    duration = time.monotonic() - started
    total = sum((result.counts for result in results), Counts())
    ok = all(result.ok for result in results)
    if options.keyword is not None and total.tests == 0:
        out.line(f"No test matched -k {options.keyword!r}.")
        ok = False
    exit_code = 0 if ok else 1
    out.write(render_summary(results))
    if options.coverage_only:
        out.line(
            f"Total coverage: {coverage:.1f}%" if coverage is not None else "Total coverage: unavailable"
        )
    out.line(f"{total.passed} passed, {total.failed} failed")
    if options.output in ("file", "both"):
        names = ",".join(suite.name for suite in suites)
        summary = (
            f"[{datetime.now().astimezone().isoformat(timespec='seconds')}] suites={names} "
            f"passed={total.passed} failed={total.failed} skipped={total.skipped} "
            f"duration={duration:.1f}s exit={exit_code}"
        )
        append_log(options.logs_dir, out.text(), summary)
    return exit_code


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser of ``scripts/run_automated_tests.py``."""
    parser = argparse.ArgumentParser(
        prog="run_automated_tests.py",
        description="Run the pytest suites, coverage or the benchmarks; end with 'N passed, N failed'.",
    )
    parser.add_argument(
        "--suites",
        nargs="+",
        choices=list(SUITES),
        metavar="SUITE",
        help=f"suites to run (default: every test once); one or more of: {', '.join(SUITES)}",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--performance-only", action="store_true", help="run every bench/bench_*.py")
    mode.add_argument(
        "--coverage-only", action="store_true", help="run the tests under pytest-cov and print the total"
    )
    parser.add_argument(
        "--output",
        choices=["console", "file", "both"],
        default="console",
        help=f"console (default), file (append to logs/{LOG_FILE_NAME}) or both",
    )
    parser.add_argument(
        "--database",
        choices=list(DATABASE_CHOICES),
        default="both",
        help="databases the tests use, via TEST_DATABASES (default: both)",
    )
    parser.add_argument("-k", dest="keyword", metavar="EXPR", help="passed to pytest: select tests by EXPR")
    parser.add_argument("-x", dest="exitfirst", action="store_true", help="stop at the first failure")
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    return parser


def parse_options(argv: Sequence[str] | None = None) -> Options:
    """Parse and validate the command line (exit 2 on a usage error, as argparse does)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.performance_only and args.suites:
        parser.error("--performance-only runs the benchmarks; it does not take --suites")
    if args.coverage_only and args.suites and "performance_tests" in args.suites:
        parser.error("--coverage-only measures the pytest suites; drop performance_tests")
    root = args.root or Path(os.environ.get("STUDENT_SUCCESS_ROOT") or PROJECT_ROOT)
    logs_env = os.environ.get("STUDENT_SUCCESS_LOGS_DIR")
    return Options(
        root=root.resolve(),
        logs_dir=Path(logs_env) if logs_env else get_settings().logs_dir,
        suites=tuple(args.suites) if args.suites else None,
        performance_only=args.performance_only,
        coverage_only=args.coverage_only,
        output=args.output,
        database=args.database,
        keyword=args.keyword,
        exitfirst=args.exitfirst,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse ``argv`` (default ``sys.argv[1:]``), run, and return the exit code."""
    options = parse_options(argv)
    try:
        return run(options)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
