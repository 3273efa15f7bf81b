"""Every command block of ``docs/MAINTENANCE.md`` runs, in order, against a live app.

The runbook is run in a scratch application folder (the code linked in, a copy of the model registry,
fresh ``logs/`` and ``backups/``) on a brand-new SQLite or PostgreSQL database, with the virtualenv on
``PATH`` as the runbook's conventions say. The app is started by the runbook's own start block on a
free port; ``localhost:8001`` in the commands is rewritten to it. Blocks marked
``<!-- runbook: skip: reason -->`` are not run; the list of them is pinned below so a new skip is a
visible change.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from api.support import MODELS_DIR, needs_model
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "MAINTENANCE.md"
VENV_BIN = ROOT / ".venv" / "bin"
BLOCK = re.compile(r"(?:<!-- runbook: (?P<marker>[^>]*?) -->\n)?```bash\n(?P<body>.*?)```", re.DOTALL)
KNOWN_SKIPS = [
    "needs a running systemd (PID 1) with the units installed",
    "this is the test suite that runs this file; it would run itself",
    "asks the package index about every installed package and changes the installed versions",
    "trains on the full OULAD data set (many minutes of CPU) and activates a new model",
    "runs the benchmarks of the test suite (minutes of full CPU)",
    "installs units, a crontab and an nginx site on the host (root, systemd and nginx needed)",
]
LINKED = ("src", "scripts", "run_mvp.py", "examples", "docs", "alembic.ini", "pyproject.toml", "README.md")


@dataclass(frozen=True)
class Block:
    marker: str | None
    body: str
    line: int


def runbook_blocks() -> list[Block]:
    text = DOC.read_text(encoding="utf-8")
    return [
        Block(m.group("marker"), m.group("body"), text.count("\n", 0, m.start("body")) + 1)
        for m in BLOCK.finditer(text)
    ]


def test_every_skip_is_explained_and_pinned() -> None:
    skips = [
        b.marker.removeprefix("skip: ") for b in runbook_blocks() if b.marker and b.marker.startswith("skip")
    ]
    assert skips == KNOWN_SKIPS
    markers = {b.marker for b in runbook_blocks() if b.marker}
    assert markers - {f"skip: {s}" for s in KNOWN_SKIPS} == {"postgresql", "sqlite"}


def test_the_runbook_covers_every_section_of_the_guide() -> None:
    text = DOC.read_text(encoding="utf-8")
    headings = ["## Daily", "## Weekly", "## Monthly", "## Quarterly", "## Emergency procedures",
                "### Database maintenance", "### Log rotation", "### Full backup", "### Security incident",
                "### Restore from a backup", "### Data corruption", "## Deployment"]  # fmt: skip
    for heading in headings:
        assert heading in text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def app_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "student-success"
    folder.mkdir()
    for name in LINKED:
        (folder / name).symlink_to(ROOT / name)
    (folder / ".venv").symlink_to(ROOT / ".venv")
    shutil.copytree(ROOT / "deploy", folder / "deploy", ignore=shutil.ignore_patterns("rendered"))
    shutil.copytree(MODELS_DIR, folder / "results" / "models", ignore=shutil.ignore_patterns("backup_*"))
    yield folder
    pid_file = folder / "logs" / "run_mvp.pid"
    if pid_file.is_file():  # the app the runbook started here, stopped by its own id
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)


@needs_model
def test_every_command_block_runs(empty_db_url: str, db_backend: str, app_dir: Path) -> None:
    port = _free_port()
    if db_backend == "sqlite":
        database_url = f"sqlite:///{app_dir / 'mvp_data.db'}"
    else:
        database_url = (
            make_url(empty_db_url).set(drivername="postgresql").render_as_string(hide_password=False)
        )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "PYTEST_", "TEST_"))},
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "VIRTUAL_ENV": str(ROOT / ".venv"),
        "DATABASE_URL": database_url,
        "MVP_API_KEY": "runbook-admin-key-5c1f0e9d8b7a6",
        "MODELS_DIR": str(app_dir / "results" / "models"),
        "LOGS_DIR": str(app_dir / "logs"),
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "ENVIRONMENT": "development",
        "HEALTH_CPU_INTERVAL_S": "0.2",
    }
    ran = 0
    for block in runbook_blocks():
        if block.marker and (block.marker.startswith("skip") or block.marker != db_backend):
            continue
        script = "set -eu\n" + block.body.replace("localhost:8001", f"127.0.0.1:{port}")
        result = subprocess.run(["bash", "-c", script], cwd=app_dir, env=env, capture_output=True, text=True,
                                timeout=300, check=False)  # fmt: skip
        assert result.returncode == 0, (
            f"docs/MAINTENANCE.md line {block.line}: exit {result.returncode}\n{block.body}\n"
            f"stdout: {result.stdout[-2000:]}\nstderr: {result.stderr[-2000:]}"
        )
        ran += 1
    assert ran >= 25

    # what the blocks left behind is what the runbook says they do
    archives = sorted((app_dir / "backups").glob("student_success_backup_*.tar.gz"))
    assert len(archives) == 1
    assert (app_dir / "deploy" / "rendered" / "student-success-api.service").is_file()
    assert (
        (app_dir / "logs" / "security_incidents.log").read_text().endswith(": Security incident detected\n")
    )
    access = (app_dir / "logs" / "access.log").read_text()
    assert '"message": "GET /api/students 401 Unauthorized' in access
    assert "runbook-admin-key" not in access + (app_dir / "logs" / "app.log").read_text()
