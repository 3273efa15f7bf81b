"""Web-path speed on SQLite and PostgreSQL: the risk list, uploads through the HTTP API, concurrent readers.

    python3 bench/bench_web.py [--database sqlite|postgresql|both] [--duration 60] [--repeat 20]
                               [--postgres-url postgresql://postgres@127.0.0.1:5432/postgres]

For each database a scratch database is created (SQLite: a temporary file; PostgreSQL: ``ss_bench_<random>``,
dropped at the end) and seeded through the import service with 10,000 students in 10 Canvas courses,
each course imported twice (day 30 and day 60), so every student has 2 predictions. Then:

1. ``list_students`` (first page of 50, default sort), in-process: median and p95 of ``--repeat`` runs.
   Target < 50 ms.
2. ``POST /api/uploads`` of a 30-student Canvas export against a live uvicorn server (a subprocess on a
   free 127.0.0.1 port), a new file each time (another seed and course): p50 and p95 of 20 uploads,
   target p50 < 100 ms; and a 1,000-student export: median of 5, target < 1 s.
3. 20 concurrent clients (threads, one ``httpx.Client`` each) on ``GET /api/students`` and
   ``GET /api/students/{id}`` for ``--duration`` seconds: requests, errors, p50/p95/p99 latency.
   Target p99 < 500 ms and no errors.

Figures 1 and 3 are measured on the 10,000 seeded students before the uploads of figure 2 add more.
Prints one line per figure with its target; no asserts.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import httpx  # noqa: E402
import psycopg  # noqa: E402
from sqlalchemy import Engine, func, select  # noqa: E402

from student_success.config import Settings, get_settings  # noqa: E402
from student_success.db.engine import make_engine, session_scope  # noqa: E402
from student_success.db.migrate import upgrade_to_head  # noqa: E402
from student_success.db.models import Prediction, Student  # noqa: E402
from student_success.ingest.synthetic import make_canvas_export  # noqa: E402
from student_success.ml.service import load_active_model  # noqa: E402
from student_success.services.imports import import_upload  # noqa: E402
from student_success.services.scope import Scope  # noqa: E402
from student_success.services.students import list_students  # noqa: E402

SEED_COURSES = 10
SEED_STUDENTS_PER_COURSE = 1000  # 10 x 1,000 = 10,000 students, each scored twice (day 30, day 60)
SYNTHETIC_MAX = 900  # the synthetic generator has 30 x 30 distinct names
N_ASSIGNMENTS = 8
SMALL_UPLOADS = 20
LARGE_UPLOADS = 5
CLIENTS = 20
REQUEST_TIMEOUT_S = 30.0
# the server's bootstrap administrator key (MVP_API_KEY): every API request is authenticated
BENCH_API_KEY = secrets.token_urlsafe(32)
AUTH = {"Authorization": f"Bearer {BENCH_API_KEY}"}


# --------------------------------------------------------------------------------------------- helpers


def percentile(values: list[float], pct: float) -> float:
    """The ``pct``-th percentile (linear interpolation between closest ranks)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * pct / 100.0
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def canvas_export(n_students: int, *, seed: int, id_base: int, n_graded: int = 6) -> bytes:
    """A Canvas gradebook export of ``n_students`` (more than the generator's 900 by joining pieces).

    Student ``ID`` and ``SIS User ID`` are rewritten to ``id_base + k`` so that the same ``(seed, id_base)``
    gives the same students whatever ``n_graded`` is (a later export of the same course).
    """
    pieces = []
    left, part = n_students, 0
    while left > 0:
        size = min(left, SYNTHETIC_MAX)
        text = make_canvas_export(
            size, seed=seed * 100 + part, n_assignments=N_ASSIGNMENTS, n_graded=n_graded
        )
        pieces.append(list(csv.reader(io.StringIO(text))))
        left -= size
        part += 1
    header, points = pieces[0][0], pieces[0][1]
    test_student = pieces[0][-1]
    students = [row for rows in pieces for row in rows[2:-1]]
    for k, row in enumerate(students):
        row[1] = str(id_base + k)
        row[2] = f"B{id_base + k}"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, points, *students, test_student])
    return out.getvalue().encode("utf-8")


def export_name(course: str) -> str:
    return f"2026-11-28T2100_Grades-{course}.csv"


@dataclass
class Figures:
    lines: list[str] = field(default_factory=list)

    def add(self, line: str) -> None:
        self.lines.append(line)
        print(f"  … {line}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------- databases


@contextmanager
def scratch_database(kind: str, postgres_url: str) -> Iterator[str]:
    """A new empty database URL, removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="ss_bench_") as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
        return
    name = f"ss_bench_{uuid.uuid4().hex[:12]}"
    admin = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(engine: Engine, settings: Settings) -> tuple[int, int, float]:
    """10,000 students in 10 courses, each course imported at day 30 and at day 60 (import service)."""
    model = load_active_model(settings)
    start = time.perf_counter()
    for day, graded in ((30, 4), (60, 6)):
        for c in range(SEED_COURSES):
            content = canvas_export(
                SEED_STUDENTS_PER_COURSE, seed=1000 + c, id_base=1_000_000 + c * 10_000, n_graded=graded
            )
            with session_scope(engine) as session:
                import_upload(
                    session, content, filename=export_name(f"SEED_{c:02d}"), as_of_day=day, mapping=None,
                    settings=settings, model=model,
                )  # fmt: skip
    seconds = time.perf_counter() - start
    with session_scope(engine) as session:
        students = session.scalar(select(func.count()).select_from(Student)) or 0
        predictions = session.scalar(select(func.count()).select_from(Prediction)) or 0
    return int(students), int(predictions), seconds


# ---------------------------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def live_server(database_url: str, settings: Settings) -> Iterator[str]:
    """``student_success.api.server.run`` in a subprocess on a free loopback port; yields the base URL."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MODELS_DIR": str(settings.models_dir),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PYTHONPATH": str(ROOT / "src"),
        "MVP_API_KEY": BENCH_API_KEY,
        "API_RATE_LIMIT_PER_MINUTE": "0",  # measure the server, not the limiter
    }
    code = (
        "from student_success.api.server import run; from student_success.config import Settings; "
        "run(Settings())"
    )
    # the server's console log goes to a file: a pipe nobody reads fills up and blocks the server
    log_dir = Path(tempfile.mkdtemp(prefix="ss_bench_logs_"))
    env["LOGS_DIR"] = str(log_dir)
    console = (log_dir / "console.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=console, stderr=console)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                err = (log_dir / "console.log").read_text(errors="replace")
                raise RuntimeError(f"the server exited ({proc.returncode}):\n{err[-2000:]}")
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not answer /health within 60 s")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        console.close()
        print(f"  … server logs: {log_dir}", file=sys.stderr)


# ------------------------------------------------------------------------------------------ benchmarks


def bench_list(engine: Engine, repeat: int) -> list[float]:
    def once() -> None:
        with session_scope(engine) as session:
            rows, total = list_students(session, scope=Scope.all(), limit=50, offset=0)
            assert len(rows) == 50 and total > 0

    once()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        once()
        times.append(time.perf_counter() - start)
    return times


def upload(client: httpx.Client, content: bytes, filename: str, day: int) -> float:
    start = time.perf_counter()
    response = client.post(
        "/api/uploads", files={"file": (filename, content, "text/csv")}, data={"as_of_day": str(day)}
    )
    seconds = time.perf_counter() - start
    body = response.json()
    if response.status_code != 201 or not body.get("created"):
        raise RuntimeError(f"upload {filename}: HTTP {response.status_code}: {str(body)[:500]}")
    return seconds


def bench_uploads(base: str, n_students: int, count: int, *, tag: str, id_base: int) -> list[float]:
    files = [
        (
            canvas_export(n_students, seed=5000 + k, id_base=id_base + k * 10_000),
            export_name(f"{tag}_{k:02d}"),
        )
        for k in range(count + 1)
    ]
    times = []
    with httpx.Client(base_url=base, timeout=120, headers=AUTH) as client:
        upload(client, *files[0], day=45)  # warm-up (first request of its kind in the server)
        for content, name in files[1:]:
            times.append(upload(client, content, name, day=45))
    return times


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    by_kind: dict[str, list[float]] = field(default_factory=lambda: {"list": [], "detail": []})
    error_samples: list[str] = field(default_factory=list)


def bench_concurrent(base: str, student_ids: list[int], total: int, duration: float) -> LoadResult:
    result = LoadResult()
    lock = threading.Lock()
    deadline = time.monotonic() + duration
    pages = max(1, min(total, 10_000) // 50)

    def client_loop(worker: int) -> None:
        rng = random.Random(worker)
        local: list[tuple[str, float]] = []
        errors, samples = 0, list[str]()
        with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT_S, headers=AUTH) as client:
            while time.monotonic() < deadline:
                if rng.random() < 0.5:
                    kind = "list"
                    # mostly the first page, sometimes a later one, as people page through
                    offset = 0 if rng.random() < 0.7 else 50 * rng.randrange(pages)
                    url, params = "/api/students", {"limit": 50, "offset": offset}
                else:
                    kind = "detail"
                    url, params = f"/api/students/{rng.choice(student_ids)}", {}
                start = time.perf_counter()
                try:
                    response = client.get(url, params=params)
                    ok = response.status_code == 200
                    if not ok and len(samples) < 3:
                        samples.append(f"{url}: HTTP {response.status_code} {response.text[:200]}")
                except httpx.HTTPError as exc:
                    ok = False
                    if len(samples) < 3:
                        samples.append(f"{url}: {type(exc).__name__}: {exc}")
                local.append((kind, time.perf_counter() - start))
                errors += not ok
        with lock:
            for kind, seconds in local:
                result.latencies.append(seconds)
                result.by_kind[kind].append(seconds)
            result.errors += errors
            result.error_samples += samples

    threads = [threading.Thread(target=client_loop, args=(w,), daemon=True) for w in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=duration + REQUEST_TIMEOUT_S + 10)
    return result


def run_database(kind: str, args: argparse.Namespace, settings: Settings) -> list[str]:
    figures = Figures()
    label = "SQLite" if kind == "sqlite" else "PostgreSQL"
    with scratch_database(kind, args.postgres_url) as url:
        engine = make_engine(url)
        try:
            upgrade_to_head(engine)
            students, predictions, seconds = seed(engine, settings)
            figures.add(
                f"[{label}] seeded {students:,} students / {predictions:,} predictions through import_upload "
                f"(20 imports of 1,000) in {seconds:.1f} s"
            )
            times = bench_list(engine, args.repeat)
            med, p95 = statistics.median(times), percentile(times, 95)
            figures.add(
                f"[{label}] 1. list_students, first page of 50 of {students:,} students "
                f"({args.repeat} runs): median {ms(med)}, p95 {ms(p95)}  "
                f"(target < 50 ms: {verdict(p95 < 0.05)})"
            )
            with session_scope(engine) as session:
                ids = list(session.scalars(select(Student.id)))
            with live_server(url, settings) as base:
                load = bench_concurrent(base, ids, students, args.duration)
                lat = load.latencies
                n = len(lat)
                p50, p95, p99 = (percentile(lat, p) for p in (50, 95, 99)) if lat else (0.0, 0.0, 0.0)
                line3 = (
                    f"[{label}] 3. {CLIENTS} concurrent clients, GET /api/students + /api/students/{{id}}, "
                    f"{args.duration:g} s: {n:,} requests ({n / args.duration:.0f}/s), {load.errors} errors, "
                    f"p50 {ms(p50)}, p95 {ms(p95)}, p99 {ms(p99)}  "
                    f"(target p99 < 500 ms, no errors: {verdict(p99 < 0.5 and load.errors == 0 and n > 0)})"
                )
                parts = []
                for name, values in load.by_kind.items():
                    if values:
                        parts.append(
                            f"{name} {len(values):,} req p50 {ms(percentile(values, 50))} "
                            f"p99 {ms(percentile(values, 99))}"
                        )
                line3b = f"[{label}]    by endpoint: " + "; ".join(parts)
                figures.add(line3)
                figures.add(line3b)
                for sample in load.error_samples[:3]:
                    figures.add(f"[{label}]    error: {sample}")

                small = bench_uploads(base, 30, SMALL_UPLOADS, tag="SMALL", id_base=5_000_000)
                p50s, p95s = percentile(small, 50), percentile(small, 95)
                line2a = (
                    f"[{label}] 2a. POST /api/uploads, 30-student Canvas export, end to end "
                    f"({SMALL_UPLOADS} new files): p50 {ms(p50s)}, p95 {ms(p95s)}  "
                    f"(target p50 < 100 ms: {verdict(p50s < 0.1)})"
                )
                large = bench_uploads(base, 1000, LARGE_UPLOADS, tag="LARGE", id_base=7_000_000)
                medl = statistics.median(large)
                line2b = (
                    f"[{label}] 2b. POST /api/uploads, 1,000-student Canvas export "
                    f"({LARGE_UPLOADS} new files): "
                    f"median {medl:.3f} s, best {min(large):.3f} s  (target < 1 s: {verdict(medl < 1.0)})"
                )
                figures.add(line2a)
                figures.add(line2b)
        finally:
            engine.dispose()
    # print in the brief's order: seeding, 1, 2a, 2b, 3 (3 was measured before the uploads)
    first, second, third = figures.lines[:2], figures.lines[-2:], figures.lines[2:-2]
    return [*first, *second, *third]


def main() -> int:
    """Run the benchmarks and print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of the concurrent-clients run")
    parser.add_argument("--repeat", type=int, default=20, help="runs of the in-process student list")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="an administrative connection; a scratch database ss_bench_<random> is created and dropped",
    )
    args = parser.parse_args()
    settings = get_settings()
    model = load_active_model(settings)
    kinds = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    lines = [
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"model version: {model.version}",
    ]
    for kind in kinds:
        lines += run_database(kind, args, settings)
    lines.append(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
