"""Small pieces behind the endpoints: CSV neutralising, scopes, the server entry points."""

from __future__ import annotations

import importlib.util
from typing import Any

import pandas as pd
import pytest
from sqlalchemy.orm import Session

from student_success.config import PROJECT_ROOT, Settings
from student_success.ingest.canonical import CanonicalData
from student_success.services.exports import neutralise, to_csv
from student_success.services.imports import count_lines
from student_success.services.predictions import store_predictions
from student_success.services.scope import Scope, UnknownStudent, require_student
from student_success.services.storage import store_canonical
from student_success.services.students import StudentFilter, list_students


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("Ada", "Ada"),
        (-3, "-3"),
        (0.25, "0.25"),
        (None, ""),
        (True, "yes"),
    ],
)
def test_neutralise(value: object, cell: str) -> None:
    assert neutralise(value) == cell


def test_to_csv_quotes_and_neutralises() -> None:
    assert to_csv(["a", "b"], [["=1", 'say "hi", ok']]) == 'a,b\r\n\'=1,"say ""hi"", ok"\r\n'


@pytest.mark.parametrize(
    ("content", "lines"), [(b"", 0), (b"a", 1), (b"a\n", 1), (b"a\nb", 2), (b"a\nb\n", 2)]
)
def test_count_lines(content: bytes, lines: int) -> None:
    assert count_lines(content) == lines


def _seed(session: Session) -> dict[str, int]:
    students = [("s1", "A"), ("s2", "A"), ("s3", "B"), ("s4", None)]
    data = CanonicalData(
        source="canvas",
        courses=pd.DataFrame({"course_id": ["C1"], "name": ["C1"]}),
        enrollments=pd.DataFrame(
            [
                {"course_id": "C1", "student_id": s, "display_name": s.upper(), "section": sec}
                for s, sec in students
            ]
        ),
    )
    ids = store_canonical(session, data)
    scores = pd.DataFrame(
        {"student_id": [s for s, _ in students], "course_id": "C1", "as_of_day": 10, "risk_probability": 0.5,
         "risk_level": "medium", "model_variant": "gradebook", "model_version": "v"}
    )  # fmt: skip
    store_predictions(session, scores, ids, import_batch_id=None)
    return ids.students


def _visible(session: Session, scope: Scope) -> list[str]:
    rows, total = list_students(session, scope=scope, filters=StudentFilter(), sort="name")
    assert total == len(rows)
    return [r.external_id for r in rows]


def test_scope_limits_every_query_to_its_sections_and_students(session: Session) -> None:
    ids = _seed(session)
    from student_success.db.models import Section

    section_a = session.query(Section).filter_by(name="A").one().id
    assert _visible(session, Scope.all()) == ["s1", "s2", "s3", "s4"]
    teacher = Scope(user_id=None, role="teacher", section_ids=frozenset({section_a}))
    assert _visible(session, teacher) == ["s1", "s2"]
    counsellor = Scope(user_id=None, role="counsellor", student_ids=frozenset({ids["s4"]}))
    assert _visible(session, counsellor) == ["s4"]
    both = Scope(
        user_id=None, role="teacher", section_ids=frozenset({section_a}), student_ids=frozenset({ids["s3"]})
    )
    assert _visible(session, both) == ["s1", "s2", "s3"]
    nobody = Scope(user_id=None, role="teacher", section_ids=frozenset(), student_ids=frozenset())
    assert _visible(session, nobody) == []
    assert require_student(session, ids["s1"], scope=teacher).external_id == "s1"
    with pytest.raises(UnknownStudent, match=f"student {ids['s3']} not found"):
        require_student(session, ids["s3"], scope=teacher)


def test_server_run_uses_host_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from student_success.api import server

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    server.run(Settings(host="0.0.0.0", port=8123, database_url="sqlite://"))
    assert (calls[0]["host"], calls[0]["port"]) == ("0.0.0.0", 8123)
    assert calls[0]["app"].title == "Student Success API"


def test_run_mvp_takes_host_and_port_and_defaults_to_loopback_8001(monkeypatch: pytest.MonkeyPatch) -> None:
    from student_success.api import server

    seen: list[Settings] = []
    monkeypatch.setattr(server, "run", seen.append)
    monkeypatch.delenv("HOST", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    spec = importlib.util.spec_from_file_location("run_mvp", PROJECT_ROOT / "run_mvp.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main([]) == 0
    assert module.main(["--host", "0.0.0.0", "--port", "9001"]) == 0
    monkeypatch.setenv("PORT", "9002")
    assert module.main([]) == 0
    assert [(s.host, s.port) for s in seen] == [("127.0.0.1", 8001), ("0.0.0.0", 9001), ("127.0.0.1", 9002)]
