"""tests/prerequisites.py: what is missing skips locally and fails with CI=true, also through an empty
parametrize (checked in a subprocess pytest that loads the same hook)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent


@pytest.mark.parametrize(("ci", "outcome"), [("true", "1 error"), ("", "1 skipped")])
def test_an_empty_parametrize_fails_only_in_ci(tmp_path: Path, ci: str, outcome: str) -> None:
    (tmp_path / "conftest.py").write_text("from prerequisites import pytest_runtest_setup\n", encoding="utf-8")
    (tmp_path / "test_empty.py").write_text(
        "import pytest\n\n@pytest.mark.parametrize('case', [])\ndef test_cases(case):\n    pass\n", encoding="utf-8"
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    env = {**os.environ, "CI": ci, "PYTHONPATH": str(TESTS_DIR)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", "-c", str(tmp_path / "pytest.ini"), "."],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert outcome in result.stdout, result.stdout
    if ci:
        assert "a failure, not a skip, because CI=true" in result.stdout
        assert result.returncode == 1


def test_conformance_location_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from prerequisites import conformance_location

    monkeypatch.setenv("ZARRIO_CONFORMANCE", str(tmp_path))
    assert conformance_location() == tmp_path
    monkeypatch.delenv("ZARRIO_CONFORMANCE")
    assert conformance_location() == TESTS_DIR.parent.parent / "shared" / "conformance"
