"""``InterventionRecommendationSystem``: the guide's in-process Python API over the scoring service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from student_success.config import Settings, get_settings
from student_success.errors import RowError, ValidationFailed
from student_success.features.catalog import K12_FEATURES
from student_success.ingest.canonical import CanonicalData
from student_success.ingest.detect import read_any
from student_success.ingest.generic import LONG_SYNONYMS, SUMMARY_SYNONYMS, detect_generic_mapping
from student_success.ml.scoring import ScoredBatch, score_data
from student_success.ml.service import load_active_model

RESULT_COLUMNS: tuple[str, ...] = (
    "student_id",
    "risk_score",
    "risk_level",
    "risk_in_words",
    "top_risk_factors",
    "protective_factors",
    "recommendations",
    "model_variant",
    "model_version",
)


class InterventionRecommendationSystem:
    """Assess students' risk and recommend interventions with the active model.

    Example:
        >>> system = InterventionRecommendationSystem()
        >>> df = system.assess_student_risk(pd.DataFrame({"id_student": [1], "early_avg_score": [48]}))
    """

    def __init__(self, models_dir: Path | str | None = None, *, settings: Settings | None = None) -> None:
        settings = settings or get_settings()
        if models_dir is not None:
            settings = settings.model_copy(update={"models_dir": Path(models_dir)})
        self.settings = settings
        self.model = load_active_model(settings)
        self.input_columns_used: list[str] = []
        self.input_columns_not_used: list[str] = []

    def assess_student_risk(self, df: pd.DataFrame, *, as_of_day: int | None = None) -> pd.DataFrame:
        """Score a DataFrame with one row per student.

        Accepts any subset of the summary columns (``id_student, early_avg_score, early_total_clicks,
        studied_credits, num_of_prev_attempts`` and their synonyms), or K-12 columns (``G1, absences,
        failures, …``). Bad values raise :class:`~student_success.errors.ValidationFailed` naming the row
        and column.

        Returns:
            One row per student: ``student_id, risk_score, risk_level, risk_in_words, top_risk_factors,
            protective_factors, recommendations, model_variant, model_version``. The input columns the
            model used and could not use are in ``result.attrs`` and on this object.
        """
        batch = self._score(df, as_of_day=as_of_day)
        p = batch.predictions
        result = pd.DataFrame(
            {
                "student_id": p["student_id"],
                "risk_score": p["risk_probability"],
                "risk_level": p["risk_level"],
                "risk_in_words": p["risk_in_words"],
                "top_risk_factors": p["risk_factors"],
                "protective_factors": p["protective_factors"],
                "recommendations": p["recommendations"],
                "model_variant": p["model_variant"],
                "model_version": p["model_version"],
            }
        )
        self.input_columns_used = list(batch.features_used)
        self.input_columns_not_used = list(batch.inputs_unused)
        result.attrs["input_columns_used"] = self.input_columns_used
        result.attrs["input_columns_not_used"] = self.input_columns_not_used
        return result

    def _score(self, df: pd.DataFrame, *, as_of_day: int | None) -> ScoredBatch:
        data = typed_summary(df)
        if data is None:  # text cells, K-12 columns or a long format: the file reader validates them
            content = df.to_csv(index=False).encode("utf-8")
            data = read_any(content, as_of_day=as_of_day, filename="DataFrame")
        return score_data(data, model=self.model, settings=self.settings, as_of_day=as_of_day)


def typed_summary(df: pd.DataFrame) -> CanonicalData | None:
    """A one-row-per-student frame whose summary columns are already numbers, as canonical records.

    Returns ``None`` when the frame needs the CSV reader's full validation (text in a value column,
    K-12 or long-format columns): that path reports each bad cell with its row and column.
    """
    header = [str(c) for c in df.columns]
    mapping = detect_generic_mapping(header)
    if "student_id" not in mapping or any(c in K12_FEATURES for c in header):
        return None
    values = [c for c in mapping if c in SUMMARY_SYNONYMS]
    if any(c in LONG_SYNONYMS for c in mapping):
        return None
    if not all(pd.api.types.is_numeric_dtype(df[mapping[c]]) for c in values):
        return None
    ids = df[mapping["student_id"]].astype("string")
    errors = [
        RowError("DataFrame", int(i) + 2, mapping["student_id"], "duplicate student id", str(ids.iloc[i]))
        for i in range(len(ids))
        if ids.duplicated(keep="first").iloc[i]
    ]
    summary = pd.DataFrame({"student_id": ids.to_numpy()})
    for canonical in values:
        column = pd.to_numeric(df[mapping[canonical]]).astype(float).reset_index(drop=True)
        if canonical != "as_of_day":
            header_name = mapping[canonical]
            for i in column.index[column < 0]:
                errors.append(
                    RowError("DataFrame", int(i) + 2, header_name, "expected 0 or more", str(column[i]))
                )
        summary[canonical] = column.to_numpy()
    if errors:
        raise ValidationFailed(errors)
    return CanonicalData(source="generic", summary=summary)

    def describe(self) -> dict[str, Any]:
        """The active model version and its variants."""
        return {"model_version": self.model.version, "variants": sorted(self.model.variants)}
