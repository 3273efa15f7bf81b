"""Retrain the K-12 variant on the UCI student performance data, as the maintenance guide runs it.

    python3 src/models/train_k12_models.py [--data DIR]

The other variants of the active model are kept; the active model is backed up first.
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
    """Run ``student-success train-k12`` with the bundled dataset as default."""
    args = ["train-k12"]
    if "--data" not in argv:
        args += ["--data", str(get_settings().datasets_dir / "uci_student_performance")]
    if "--model-card" not in argv:
        args += ["--model-card", str(ROOT / "docs" / "MODEL_CARD.md")]
    app(args + argv, prog_name="train_k12_models.py")


if __name__ == "__main__":
    main(sys.argv[1:])
