"""Retrain the OULAD model variants (and K-12), as the maintenance guide runs it.

    python3 src/models/train_models.py [--data DIR] [--presentations 2013B,2013J,2014B]

Backs up the active model to results/models/backup_YYYYMMDD/ first, then activates the new version.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

from student_success.cli.main import app  # noqa: E402
from student_success.config import get_settings  # noqa: E402


def main(argv: list[str]) -> None:
    """Run ``student-success train`` with the bundled datasets as defaults."""
    datasets = get_settings().datasets_dir
    args = ["train"]
    if "--data" not in argv:
        args += ["--data", str(datasets / "oulad")]
    if "--k12-data" not in argv:
        args += ["--k12-data", str(datasets / "uci_student_performance")]
    if "--model-card" not in argv:
        args += ["--model-card", str(ROOT / "docs" / "MODEL_CARD.md")]
    if not argv:
        args += ["--command", "python3 src/models/train_models.py"]
    app(args + argv, prog_name="train_models.py")


if __name__ == "__main__":
    main(sys.argv[1:])
