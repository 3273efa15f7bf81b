"""Prediction-core speed: the whole OULAD data at one day, and the guide's 3-student in-process call.

    python3 bench/bench_prediction.py [--repeat 5] [--day 60]

Prints one line per figure (median and best of the repeats). Targets: all 32,593 OULAD enrolments
(load, features, predict, explanations) in under 2 s; ``assess_student_risk`` on 3 students in
under 10 ms.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import pandas as pd  # noqa: E402

from student_success.config import get_settings  # noqa: E402
from student_success.ingest.oulad import read_oulad  # noqa: E402
from student_success.ml.assess import InterventionRecommendationSystem  # noqa: E402
from student_success.ml.scoring import score_data  # noqa: E402
from student_success.ml.service import load_active_model  # noqa: E402


def timed(func: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    """Median and best wall time in seconds over ``repeat`` runs (after one warm-up run)."""
    result = func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), result


def main() -> int:
    """Run the benchmarks and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--day", type=int, default=60)
    args = parser.parse_args()
    settings = get_settings()
    oulad = settings.datasets_dir / "oulad"
    model = load_active_model(settings)
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"model version: {model.version}")

    def whole_oulad(*, recommend: bool) -> object:
        data = read_oulad(oulad)
        return score_data(data, model=model, settings=settings, as_of_day=args.day, recommend=recommend)

    median, best, batch = timed(lambda: whole_oulad(recommend=False), args.repeat)
    n_scored = len(batch.predictions)  # type: ignore[attr-defined]
    print(
        f"OULAD all 32,593 enrolments, day {args.day} (load + features + predict + explanations; "
        f"{n_scored} still registered scored): median {median:.3f} s, best {best:.3f} s"
    )
    median, best, _ = timed(lambda: whole_oulad(recommend=True), args.repeat)
    print(f"  the same plus recommended interventions: median {median:.3f} s, best {best:.3f} s")

    system = InterventionRecommendationSystem()
    sample = pd.DataFrame(
        {
            "id_student": [1, 2, 3],
            "early_avg_score": [85, 70, 92],
            "early_total_clicks": [150, 80, 200],
            "studied_credits": [60, 45, 75],
        }
    )
    median, best, _ = timed(lambda: system.assess_student_risk(sample), max(args.repeat, 20))
    ms = f"median {median * 1000:.1f} ms, best {best * 1000:.1f} ms"
    print(f"assess_student_risk, 3 students in-process: {ms}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
