"""docs/CONFIGURATION.md names every setting, and names nothing that is not one."""

from __future__ import annotations

import re

from student_success.config import PROJECT_ROOT, Settings

DOC = (PROJECT_ROOT / "docs" / "CONFIGURATION.md").read_text(encoding="utf-8")


def test_every_setting_is_documented_and_every_documented_setting_exists() -> None:
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", DOC, flags=re.MULTILINE))
    settings = {name.upper() for name in Settings.model_fields}
    assert sorted(settings - documented) == []
    assert sorted(documented - settings) == []
