"""The ``student-success`` command line (``student_success.cli.main``) on a copy of the committed registry.

Every command gets ``MODELS_DIR`` pointing at a private copy, so nothing under ``results/models/`` is
read for writing or changed.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from student_success.cli.main import app

REPO = Path(__file__).resolve().parents[2]
COMMITTED_MODELS = REPO / "results" / "models"
CANVAS = REPO / "examples" / "canvas_gradebook_export.csv"
GENERIC = REPO / "examples" / "generic_students.csv"
OULAD = REPO.parent / "shared" / "datasets" / "oulad"
CSV_HEADER = (
    "course_id,section,student_id,as_of_day,risk_probability,risk_level,model_variant,model_version,"
    "top_factors,p_distinction,p_pass,p_fail,p_withdrawn"
)
OLD_VERSION = "v20000101-000000"


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    """A private copy of the committed registry."""
    if not (COMMITTED_MODELS / "model_metadata.json").is_file():
        pytest.fail(f"no trained model in {COMMITTED_MODELS}: run `python3 src/models/train_models.py`")
    dest = tmp_path / "models"
    shutil.copytree(COMMITTED_MODELS, dest)
    return dest


@pytest.fixture
def active_version(models_dir: Path) -> str:
    return str(json.loads((models_dir / "model_metadata.json").read_text())["active_version"])


def invoke(models_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"MODELS_DIR": str(models_dir), "COLUMNS": "200"})


def _assert_clean_failure(result: Result) -> None:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout


def test_predict_canvas_csv(models_dir: Path, active_version: str) -> None:
    result = invoke(models_dir, "predict", str(CANVAS), "--as-of-day", "60", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == CSV_HEADER
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 30
    assert rows[0]["student_id"] == "322757"
    assert rows[0]["course_id"] == "canvas_gradebook_export"
    assert rows[0]["section"] == "Section 1"
    assert {r["as_of_day"] for r in rows} == {"60"}
    assert {r["model_variant"] for r in rows} == {"gradebook"}
    assert {r["model_version"] for r in rows} == {active_version}
    for r in rows:
        p = float(r["risk_probability"])
        assert 0.0 <= p <= 1.0
        assert r["risk_level"] in {"high", "medium", "low"}
        # the four class probabilities sum to one (each rounded to 4 places)
        total = sum(float(r[c]) for c in ("p_distinction", "p_pass", "p_fail", "p_withdrawn"))
        assert total == pytest.approx(1.0, abs=3e-4)
        assert len(r["top_factors"].split("; ")) <= 3


def test_predict_canvas_json(models_dir: Path, active_version: str) -> None:
    result = invoke(models_dir, "predict", str(CANVAS), "--as-of-day", "60", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["model_version"] == active_version
    assert doc["model_variant"] == "gradebook"
    assert doc["as_of_day"] == 60
    assert doc["input_columns_not_used"] == []
    assert len(doc["students"]) == 30
    first = doc["students"][0]
    assert first["student_id"] == "322757"
    assert first["display_name"] == "Emre Adeyemi"  # "Adeyemi, Emre" in the export
    assert isinstance(first["risk_factors"], list) and len(first["risk_factors"]) <= 3
    assert isinstance(first["recommendations"], list)
    for s in doc["students"]:
        assert s["risk_level"] != "low" or s["recommendations"] == []


def test_predict_output_file(models_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    result = invoke(models_dir, "predict", str(CANVAS), "--as-of-day", "60", "--output", str(target))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "30 students scored with variant gradebook" in result.stderr
    assert target.read_text(encoding="utf-8").splitlines()[0] == CSV_HEADER


def test_predict_generic_csv_drops_course_columns(models_dir: Path) -> None:
    result = invoke(models_dir, "predict", str(GENERIC), "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["model_variant"] == "summary"
    assert doc["input_columns_not_used"] == ["early_total_clicks"]
    assert len(doc["students"]) == 25


def test_predict_canvas_without_day_fails_cleanly(models_dir: Path) -> None:
    result = invoke(models_dir, "predict", str(CANVAS))
    _assert_clean_failure(result)
    assert "Canvas gradebook export" in result.stderr
    assert "as_of_day" in result.stderr
    assert "canvas_gradebook_export.csv" in result.stderr


def test_predict_canvas_without_day_is_one_line(models_dir: Path) -> None:
    # no COLUMNS override here: what a user sees when stderr goes to a pipe or a log file
    result = CliRunner().invoke(app, ["predict", str(CANVAS)], env={"MODELS_DIR": str(models_dir)})
    assert result.exit_code == 1
    assert "which carries no dates" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_predict_missing_path_fails_cleanly(models_dir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no_such_export.csv"
    result = invoke(models_dir, "predict", str(missing), "--as-of-day", "60")
    _assert_clean_failure(result)
    assert "no_such_export.csv" in result.stderr
    assert "No such file or directory" in result.stderr


def test_predict_unknown_format_is_a_usage_error(models_dir: Path) -> None:
    result = invoke(models_dir, "predict", str(CANVAS), "--as-of-day", "60", "--format", "xml")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "error: --format must be csv or json" in result.stderr


def test_predict_without_model_fails_cleanly(tmp_path: Path) -> None:
    result = invoke(tmp_path / "empty", "predict", str(CANVAS), "--as-of-day", "60")
    _assert_clean_failure(result)
    assert "no active model" in result.stderr


def _add_old_version(models_dir: Path, active_version: str) -> None:
    """A second stored version: a copy of the active one under an older id."""
    shutil.copytree(models_dir / active_version, models_dir / OLD_VERSION)
    manifest_path = models_dir / OLD_VERSION / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["version"] = OLD_VERSION
    manifest["training_date"] = "2000-01-01T00:00:00+00:00"
    manifest_path.write_text(json.dumps(manifest))


def _list_lines(models_dir: Path) -> list[str]:
    result = invoke(models_dir, "models", "list")
    assert result.exit_code == 0, result.stderr
    return result.stdout.splitlines()


def test_models_list_marks_the_active_version(models_dir: Path, active_version: str) -> None:
    lines = _list_lines(models_dir)
    assert lines == [line for line in lines if line.startswith(("* ", "  "))]
    marked = [line for line in lines if line.startswith("* ")]
    assert len(marked) == 1
    assert marked[0].startswith(f"* {active_version}  trained ")
    assert marked[0].endswith("variants: full, gradebook, k12, summary")
    assert not any("backup_" in line for line in lines)


def test_models_activate_and_rollback(models_dir: Path, active_version: str) -> None:
    _add_old_version(models_dir, active_version)
    lines = _list_lines(models_dir)
    assert lines[0].startswith(f"  {OLD_VERSION}  trained 2000-01-01T00:00:00+00:00  variants: ")
    assert any(line.startswith(f"* {active_version}") for line in lines)

    result = invoke(models_dir, "models", "activate", OLD_VERSION)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"model version {OLD_VERSION} is now active"
    assert json.loads((models_dir / "model_metadata.json").read_text())["active_version"] == OLD_VERSION
    assert [line[:1] for line in _list_lines(models_dir) if OLD_VERSION in line] == ["*"]

    result = invoke(models_dir, "models", "rollback")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"rolled back: model version {active_version} is now active"
    assert json.loads((models_dir / "model_metadata.json").read_text())["active_version"] == active_version


def test_models_activate_unknown_version_fails(models_dir: Path, active_version: str) -> None:
    before = (models_dir / "model_metadata.json").read_bytes()
    result = invoke(models_dir, "models", "activate", "nope")
    _assert_clean_failure(result)
    assert result.stderr.strip() == f"error: model version 'nope' not found in {models_dir}"
    assert (models_dir / "model_metadata.json").read_bytes() == before


def test_models_activate_tampered_version_fails(models_dir: Path, active_version: str) -> None:
    _add_old_version(models_dir, active_version)
    model_file = models_dir / OLD_VERSION / "gradebook_binary.txt"
    model_file.write_text(model_file.read_text() + "\n")
    result = invoke(models_dir, "models", "activate", OLD_VERSION)
    _assert_clean_failure(result)
    assert "the file was changed after training" in result.stderr
    assert json.loads((models_dir / "model_metadata.json").read_text())["active_version"] == active_version


def test_evaluate_json_on_held_out_presentation(models_dir: Path, active_version: str) -> None:
    result = invoke(models_dir, "evaluate", "--data", str(OULAD), "--days", "60", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["model_version"] == active_version
    assert doc["test_presentations"] == ["2014J"]
    assert {"full", "gradebook"} <= set(doc["variants"])
    assert "k12" not in doc["variants"]
    for name in ("full", "gradebook"):
        days = doc["variants"][name]["days"]
        assert list(days) == ["60"]
        m = days["60"]
        assert m["n"] == 8816  # 2014J enrolments still registered on day 60
        assert 0 < m["positives"] < m["n"]
        assert 0.5 < m["roc_auc"] <= 1.0
        assert 0.0 <= m["brier"] <= 0.25
        assert doc["variants"][name]["reference_auc"]["60"] in (0.791, 0.759)
    # the richer variant separates better than the gradebook-only one
    assert (
        doc["variants"]["full"]["days"]["60"]["roc_auc"]
        > doc["variants"]["gradebook"]["days"]["60"]["roc_auc"]
    )
