"""Write the synthetic example files into ``examples/`` (run from the repository root).

Usage: ``.venv/bin/python scripts/make_examples.py``
"""

from __future__ import annotations

from pathlib import Path

from student_success.ingest.synthetic import example_files

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def main() -> None:
    """Generate every example file and write it (UTF-8, ``\\n`` line ends)."""
    EXAMPLES.mkdir(exist_ok=True)
    for name, text in example_files().items():
        (EXAMPLES / name).write_text(text, encoding="utf-8", newline="")
        print(f"wrote {EXAMPLES / name}")


if __name__ == "__main__":
    main()
