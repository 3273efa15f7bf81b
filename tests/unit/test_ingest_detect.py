"""Format detection, dispatch and safe zip extraction."""

from __future__ import annotations

import io
import sys
import types
import zipfile
from pathlib import Path

import pytest

from student_success.errors import ValidationFailed
from student_success.ingest.canonical import CanonicalData
from student_success.ingest.detect import detect_format, read_any, safe_extract_zip

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"

CANVAS = 'Student,ID,Section,HW (1),Current Score\n    Points Possible,,,10,(read only)\n"A, B",1,S,5,50\n'


def write(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def make_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def fake_oulad(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Replace the OULAD adapter (written elsewhere) by a recorder of the folders it is given."""
    calls: list[Path] = []

    def read_oulad(path: Path, *, presentations: list[str] | None = None) -> CanonicalData:
        calls.append(path)
        assert (path / "studentInfo.csv").read_text(encoding="utf-8").startswith("code_module")
        return CanonicalData(source="oulad")

    module = types.ModuleType("student_success.ingest.oulad")
    module.read_oulad = read_oulad  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "student_success.ingest.oulad", module)
    return calls


def test_detect_real_datasets() -> None:
    assert detect_format(DATASETS / "oulad", filename="oulad") == "oulad"
    assert detect_format(DATASETS / "uci_student_performance" / "student-por.csv") == "k12"


def test_detect_csv_kinds(tmp_path: Path) -> None:
    assert detect_format(write(tmp_path, CANVAS, "c.csv")) == "canvas"
    assert detect_format(CANVAS.encode(), filename="c.csv") == "canvas"
    assert detect_format(write(tmp_path, "G1;absences;failures\n1;2;0\n", "k.csv")) == "k12"
    assert detect_format(write(tmp_path, "id,avg_score\n1,2\n", "g.csv")) == "generic"
    # a Canvas export that lost its Points Possible row still goes to the Canvas reader (clear error)
    assert detect_format(write(tmp_path, 'Student,ID,HW (1)\n"A, B",1,5\n', "c2.csv")) == "canvas"


def test_detect_zip_and_folder(tmp_path: Path) -> None:
    assert detect_format(make_zip({"oulad/studentInfo.csv": b"code_module\n"}), filename="o.zip") == "oulad"
    with pytest.raises(ValidationFailed, match=r"no studentInfo\.csv"):
        detect_format(make_zip({"x.csv": b"a\n"}), filename="x.zip")
    with pytest.raises(ValidationFailed, match=r"no studentInfo\.csv"):
        detect_format(tmp_path, filename="folder")


def test_read_any_dispatches(tmp_path: Path) -> None:
    assert read_any(write(tmp_path, CANVAS, "c.csv"), as_of_day=7).source == "canvas"
    assert read_any(write(tmp_path, "G1,absences,failures\n1,2,0\n", "k.csv")).source == "k12"
    generic = read_any(
        write(tmp_path, "Who,Avg\nx,50\n", "g.csv"), mapping={"student_id": "Who", "early_avg_score": "Avg"}
    )
    assert generic.source == "generic"
    assert generic.summary is not None
    assert generic.summary["early_avg_score"].tolist() == [50.0]


def test_read_any_canvas_requires_as_of_day(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as exc:
        read_any(write(tmp_path, CANVAS, "c.csv"))
    (error,) = exc.value.errors
    assert error.file == "c.csv"
    assert error.message.startswith(
        "this is a Canvas gradebook export, which carries no dates: give as_of_day"
    )


def test_read_any_oulad_folder_and_zip(tmp_path: Path, fake_oulad: list[Path]) -> None:
    folder = tmp_path / "data" / "anonymised"
    folder.mkdir(parents=True)
    (folder / "studentInfo.csv").write_text("code_module\n", encoding="utf-8")
    assert read_any(tmp_path / "data").source == "oulad"
    assert fake_oulad == [folder]

    zip_path = tmp_path / "oulad.zip"
    zip_path.write_bytes(make_zip({"anonymisedData/studentInfo.csv": b"code_module\nAAA\n"}))
    assert read_any(zip_path).source == "oulad"
    extracted = fake_oulad[-1]
    assert extracted.name == "anonymisedData"
    assert not extracted.exists()  # the temporary folder is removed afterwards


@pytest.mark.parametrize(
    ("member", "problem"),
    [
        ("../evil.csv", "'..' in the path"),
        ("/etc/evil.csv", "absolute path"),
        ("a/../../x", "'..' in the path"),
    ],
)
def test_unsafe_zip_members_are_rejected(tmp_path: Path, member: str, problem: str) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(zipfile.ZipInfo(member), b"x")
    with pytest.raises(ValidationFailed) as exc:
        safe_extract_zip(buffer.getvalue(), tmp_path / "out", filename="bad.zip")
    (error,) = exc.value.errors
    assert (error.file, error.message, error.value) == ("bad.zip", f"unsafe zip member: {problem}", member)
    assert not (tmp_path / "evil.csv").exists()


def test_zip_bomb_ratio_is_rejected(tmp_path: Path) -> None:
    bomb = make_zip({"studentInfo.csv": b"0" * (4 * 1024 * 1024)})
    with pytest.raises(ValidationFailed, match="compression ratio above 200"):
        safe_extract_zip(bomb, tmp_path / "out")


def test_zip_total_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import student_success.ingest.detect as detect

    monkeypatch.setattr(detect, "MAX_UNZIPPED_BYTES", 10)
    with pytest.raises(ValidationFailed, match="unpacks to 20 bytes; the limit is 10"):
        safe_extract_zip(make_zip({"a.csv": b"0123456789abcdefghij"}), tmp_path / "out")


def test_safe_extract_zip_extracts(tmp_path: Path) -> None:
    safe_extract_zip(make_zip({"d/studentInfo.csv": b"code_module\n", "d/": b""}), tmp_path / "out")
    assert (tmp_path / "out" / "d" / "studentInfo.csv").read_bytes() == b"code_module\n"


def test_not_a_zip(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="not a valid zip"):
        detect_format(b"PK\x03\x04garbage", filename="broken.zip")
