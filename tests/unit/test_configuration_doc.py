"""docs/CONFIGURATION.md names every setting, and names nothing that is not one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from student_success.config import PROJECT_ROOT, Settings

DOC = (PROJECT_ROOT / "docs" / "CONFIGURATION.md").read_text(encoding="utf-8")


def test_every_setting_is_documented_and_every_documented_setting_exists() -> None:
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", DOC, flags=re.MULTILINE))
    settings = {name.upper() for name in Settings.model_fields}
    assert sorted(settings - documented) == []
    assert sorted(documented - settings) == []


def test_the_production_example_names_only_real_settings_and_is_refused_until_filled_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = PROJECT_ROOT / "deploy" / "env.production.example"
    names = [line.split("=", 1)[0] for line in example.read_text().splitlines() if line and line[0] != "#"]
    assert sorted(set(names) - {n.upper() for n in Settings.model_fields}) == []
    for name in names:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(example.read_text())
    with pytest.raises(ValidationError, match="SECRET_KEY must be set"):
        Settings()
    with_secret = example.read_text().replace("SECRET_KEY=\n", "SECRET_KEY=" + "s" * 40 + "\n")
    (tmp_path / ".env").write_text(with_secret)
    with pytest.raises(ValidationError, match="MVP_API_KEY"):
        Settings()
    (tmp_path / ".env").write_text(with_secret.replace("MVP_API_KEY=\n", "MVP_API_KEY=" + "k" * 40 + "\n"))
    settings = Settings()
    assert (settings.environment, settings.trusted_proxy, settings.raw_import_retention_days) == (
        "production",
        True,
        365,
    )
