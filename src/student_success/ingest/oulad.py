"""OULAD (Open University Learning Analytics Dataset) folder → canonical records.

The seven official tables are read as published (every field quoted, empty = missing). The daily
clickstream ``studentVle.csv`` is optional and streamed in chunks (it has 10.6 M rows);
``derived/vle_pre_course_clicks.csv`` is optional too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from student_success.errors import RowError, ValidationFailed
from student_success.ingest.canonical import CanonicalData

REQUIRED_TABLES: dict[str, tuple[str, ...]] = {
    "courses.csv": ("code_module", "code_presentation", "module_presentation_length"),
    "studentInfo.csv": (
        "code_module",
        "code_presentation",
        "id_student",
        "num_of_prev_attempts",
        "studied_credits",
        "final_result",
    ),
    "studentRegistration.csv": (
        "code_module",
        "code_presentation",
        "id_student",
        "date_registration",
        "date_unregistration",
    ),
    "assessments.csv": (
        "code_module",
        "code_presentation",
        "id_assessment",
        "assessment_type",
        "date",
        "weight",
    ),
    "studentAssessment.csv": ("id_assessment", "id_student", "date_submitted", "is_banked", "score"),
}
# identifiers and labels: kept as text even when they look like numbers (ids are never arithmetic)
TEXT_COLUMNS = frozenset(
    {"code_module", "code_presentation", "id_student", "id_assessment", "id_site", "assessment_type"}
)
VLE_TABLE = "studentVle.csv"
PRE_COURSE_TABLE = Path("derived") / "vle_pre_course_clicks.csv"
VLE_CHUNK_ROWS = 1_000_000


def course_key(module: pd.Series, presentation: pd.Series) -> pd.Series:
    """``AAA`` + ``2013J`` → ``AAA-2013J``."""
    return (module.astype("string") + "-" + presentation.astype("string")).astype("string")


def _read_table(folder: Path, name: str) -> pd.DataFrame:
    path = folder / name
    if not path.is_file():
        raise ValidationFailed([RowError(str(path), None, None, f"required OULAD table {name} is missing")])
    # numbers are parsed by the C reader; a column holding text stays text and `_numeric` reports it
    df = pd.read_csv(path, keep_default_na=False, na_values=[""], low_memory=False)
    for column in df.columns:
        if column in TEXT_COLUMNS or not pd.api.types.is_numeric_dtype(df[column]):
            df[column] = df[column].astype("string")
    missing = [c for c in REQUIRED_TABLES[name] if c not in df.columns]
    if missing:
        raise ValidationFailed(
            [RowError(str(path), 1, c, "required column is missing from the header") for c in missing]
        )
    return df


def _numeric(df: pd.DataFrame, column: str, path: Path, errors: list[RowError]) -> pd.Series:
    """The column as numbers, recording every unparsable cell with its file line."""
    raw = df[column]
    if pd.api.types.is_numeric_dtype(raw):
        return raw.astype("Float64")
    parsed = pd.to_numeric(raw, errors="coerce").astype("Float64")
    bad = raw.notna() & parsed.isna()
    for idx in raw.index[bad][:50]:
        errors.append(RowError(str(path), int(idx) + 2, column, "expected a number", str(raw.loc[idx])))
    return parsed


def read_oulad(
    folder: Path,
    *,
    presentations: list[str] | None = None,
    include_vle: bool = True,
    progress: Callable[[int], None] | None = None,
) -> CanonicalData:
    """Read an OULAD folder into canonical records.

    Args:
        folder: the folder holding the OULAD CSV tables.
        presentations: keep only these presentations (e.g. ``["2013B", "2013J"]``); all when ``None``.
        include_vle: read ``studentVle.csv`` when it is present.
        progress: called with the number of clickstream rows read after each chunk.

    Returns:
        The canonical records, with ``has_dates`` and ``has_context`` set.

    Raises:
        ValidationFailed: a required table or column is missing, or a numeric cell holds text.
    """
    folder = Path(folder)
    errors: list[RowError] = []
    tables = {name: _read_table(folder, name) for name in REQUIRED_TABLES}
    if presentations is not None:
        wanted = set(presentations)
        known = set(tables["courses.csv"]["code_presentation"].dropna())
        unknown = sorted(wanted - known)
        if unknown:
            raise ValidationFailed(
                [
                    RowError(
                        str(folder / "courses.csv"),
                        None,
                        "code_presentation",
                        f"presentation(s) {', '.join(unknown)} not in the data "
                        f"(found {', '.join(sorted(known))})",
                    )
                ]
            )

    def keep(df: pd.DataFrame) -> pd.DataFrame:
        if presentations is None or "code_presentation" not in df.columns:
            return df
        return df[df["code_presentation"].isin(presentations)]

    c = keep(tables["courses.csv"])
    courses = pd.DataFrame(
        {
            "course_id": course_key(c["code_module"], c["code_presentation"]),
            "code_module": c["code_module"],
            "code_presentation": c["code_presentation"],
            "name": c["code_module"],
            "length_days": _numeric(c, "module_presentation_length", folder / "courses.csv", errors),
        }
    )

    info = keep(tables["studentInfo.csv"])
    reg = keep(tables["studentRegistration.csv"])
    info_path, reg_path = folder / "studentInfo.csv", folder / "studentRegistration.csv"
    enr = pd.DataFrame(
        {
            "course_id": course_key(info["code_module"], info["code_presentation"]),
            "student_id": info["id_student"],
            "studied_credits": _numeric(info, "studied_credits", info_path, errors),
            "num_prev_attempts": _numeric(info, "num_of_prev_attempts", info_path, errors),
            "highest_education": info.get("highest_education"),
            "gender": info.get("gender"),
            "age_band": info.get("age_band"),
            "disability": info.get("disability"),
            "imd_band": info.get("imd_band"),
            "region": info.get("region"),
            "final_result": info["final_result"],
        }
    )
    reg_df = pd.DataFrame(
        {
            "course_id": course_key(reg["code_module"], reg["code_presentation"]),
            "student_id": reg["id_student"],
            "registration_day": _numeric(reg, "date_registration", reg_path, errors),
            "unregistration_day": _numeric(reg, "date_unregistration", reg_path, errors),
        }
    )
    enrollments = enr.merge(reg_df, on=["course_id", "student_id"], how="left", validate="one_to_one")

    a = keep(tables["assessments.csv"])
    a_path = folder / "assessments.csv"
    assessments = pd.DataFrame(
        {
            "course_id": course_key(a["code_module"], a["code_presentation"]),
            "assessment_id": a["id_assessment"],
            "name": a["assessment_type"] + " " + a["id_assessment"],
            "kind": a["assessment_type"],
            "due_day": _numeric(a, "date", a_path, errors),
            "weight": _numeric(a, "weight", a_path, errors),
            "points_possible": 100.0,
        }
    )
    assessments = assessments.sort_values(["course_id", "due_day", "assessment_id"], na_position="last")
    assessments["position"] = assessments.groupby("course_id").cumcount()

    sa = tables["studentAssessment.csv"]
    sa_path = folder / "studentAssessment.csv"
    results = pd.DataFrame(
        {
            "assessment_id": sa["id_assessment"],
            "student_id": sa["id_student"],
            "submitted_day": _numeric(sa, "date_submitted", sa_path, errors),
            "score_pct": _numeric(sa, "score", sa_path, errors),
            "is_banked": _numeric(sa, "is_banked", sa_path, errors).fillna(0) == 1,
        }
    )
    if errors:
        raise ValidationFailed(errors)
    results = results.merge(assessments[["assessment_id", "course_id"]], on="assessment_id", how="inner")
    results["excused"] = False

    pre_course = None
    pre_path = folder / PRE_COURSE_TABLE
    if pre_path.is_file():
        p = keep(pd.read_csv(pre_path, dtype="string"))
        pre_course = pd.DataFrame(
            {
                "course_id": course_key(p["code_module"], p["code_presentation"]),
                "student_id": p["id_student"],
                "pre_course_clicks": pd.to_numeric(p["pre_course_clicks"]).astype("Float64"),
            }
        )
        # an enrolment absent from the derived table had no activity before the start
        pre_course = (
            enrollments[["course_id", "student_id"]]
            .merge(pre_course, how="left")
            .fillna({"pre_course_clicks": 0.0})
        )

    activity = None
    if include_vle and (folder / VLE_TABLE).is_file():
        activity = read_student_vle(folder / VLE_TABLE, presentations=presentations, progress=progress)

    return CanonicalData(
        source="oulad",
        courses=courses,
        enrollments=enrollments,
        assessments=assessments,
        results=results,
        activity=activity,
        pre_course=pre_course,
        has_dates=True,
        has_context=True,
    )


def read_student_vle(
    path: Path,
    *,
    presentations: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
    chunk_rows: int = VLE_CHUNK_ROWS,
) -> pd.DataFrame:
    """Stream ``studentVle.csv`` in chunks and sum clicks per student per day.

    Summing per (enrolment, day) inside each chunk keeps memory bounded by the number of distinct
    student-days, not by the 10.6 M raw rows.
    """
    parts: list[pd.DataFrame] = []
    read = 0
    usecols = ["code_module", "code_presentation", "id_student", "date", "sum_click"]
    keys = ["code_module", "code_presentation", "id_student", "date"]
    for chunk in pd.read_csv(path, usecols=usecols, chunksize=chunk_rows, dtype={"id_student": "string"}):
        if presentations is not None:
            chunk = chunk[chunk["code_presentation"].isin(presentations)]
        parts.append(chunk.groupby(keys, as_index=False).agg(sum_click=("sum_click", "sum")))
        read += len(chunk)
        if progress is not None:
            progress(read)
    if not parts:
        return pd.DataFrame(columns=["course_id", "student_id", "day", "clicks"])
    df = pd.concat(parts, ignore_index=True)
    df = df.groupby(keys, as_index=False).agg(sum_click=("sum_click", "sum"))
    return pd.DataFrame(
        {
            "course_id": course_key(df["code_module"], df["code_presentation"]),
            "student_id": df["id_student"].astype("string"),
            "day": df["date"].astype("Float64"),
            "clicks": df["sum_click"].astype("Float64"),
        }
    )
