"""The model page: the active version, each variant's measured quality, and the model card."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markdown_it import MarkdownIt

from student_success.api.deps import SessionDep, SettingsDep
from student_success.api.routes.models import list_models
from student_success.config import PROJECT_ROOT
from student_success.services import feedback
from student_success.web.common import render

router = APIRouter()
MODEL_CARD = PROJECT_ROOT / "docs" / "MODEL_CARD.md"
# The measures a reader needs, in the order they read them, with what each means.
MEASURES: list[tuple[str, str, str]] = [
    ("roc_auc", "ROC-AUC",
     "how often a student who did not pass ranks above one who did (0.5 is chance, 1 is perfect)"),
    ("pr_auc", "PR-AUC", "how well the students flagged first are the ones who did not pass"),
    ("brier", "Brier score", "average squared error of the probabilities (lower is better)"),
    ("accuracy", "Accuracy", "share of students on the right side of the threshold"),
    ("recall_at_top_30pct", "Found in the top 30 %",
     "share of students who did not pass among the 30 % flagged first"),
    ("base_rate", "Did not pass", "share of students who did not pass in the test data"),
]  # fmt: skip


def variant_rows(metrics: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """How a variant was measured, and one row per checkpoint (day of term, or cross-validation)."""
    days = metrics.get("days") or {}
    if days:
        holdout = ", ".join(metrics.get("holdout") or [])
        how = f"Measured on a later presentation the model never saw ({holdout})." if holdout else ""
        rows = [{"label": f"Day {d}", **m} for d, m in sorted(days.items(), key=lambda kv: int(kv[0]))]
        return how, rows
    cv = metrics.get("cross_validated") or {}
    if cv:
        n = cv.get("n")
        return f"Cross-validated on {n} students (not measured on a later year).", [{"label": "All", **cv}]
    return "No measurements are stored for this variant.", []


def model_card_html() -> str | None:
    """The model card rendered from Markdown (raw HTML in it is escaped, not run)."""
    if not MODEL_CARD.is_file():
        return None
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    return md.render(MODEL_CARD.read_text(encoding="utf-8"))


@router.get("/model", response_class=HTMLResponse)
def model_page(request: Request, settings: SettingsDep, session: SessionDep) -> Response:
    """Which model scores the data and how good each of its variants measured."""
    info = list_models(settings)
    variants = [{**v, "how": variant_rows(v["metrics"])[0], "rows": variant_rows(v["metrics"])[1]}
                for v in info["variants"]]  # fmt: skip
    return render(
        request,
        "model.html",
        {
            "title": "Model",
            "info": info,
            "variants": variants,
            "measures": MEASURES,
            "card_html": model_card_html(),
            "feedback_rows": feedback.feedback_summary(session),
            "verdicts": list(feedback.VERDICT_WORDS.items()),
        },
    )
