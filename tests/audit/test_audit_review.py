"""`trivium audit purge --older-than` with an age too large for a date: a usage error."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.audit.test_cli import app_module
from tests.audit.test_cli import run

from trivium.audit import parse_age
from trivium.db import Database

pytestmark = pytest.mark.drives_no_app


@pytest.fixture(autouse=True)
def _importable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))


@pytest.mark.parametrize("age", ["1000000d", "99999999999d", "999999999999999999999w"])
def test_an_age_reaching_before_the_year_1_is_a_usage_error(
    db: Database, tmp_path: Path, age: str
) -> None:
    result = run(app_module(tmp_path, db), "purge", "--older-than", age, "--dry-run")
    assert result.exit_code == 2, result.output
    assert "the age is too large" in result.output
    with pytest.raises(ValueError, match="too large"):
        parse_age(age)
