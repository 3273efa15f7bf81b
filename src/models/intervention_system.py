"""The maintenance guide's import path for ``InterventionRecommendationSystem``."""

from __future__ import annotations

import sys
from pathlib import Path

_SRC = Path(__file__).resolve().parents[1]
if str(_SRC) not in sys.path:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(_SRC))

from student_success.ml.assess import InterventionRecommendationSystem  # noqa: E402

__all__ = ["InterventionRecommendationSystem"]
