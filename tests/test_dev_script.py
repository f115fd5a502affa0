"""scripts/dev.py: the bootstrap's pure parts (tally parsing, stamps, argument passing, exit status 5)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "dev.py"


@pytest.fixture(scope="module")
def dev() -> ModuleType:
    spec = importlib.util.spec_from_file_location("zarrio_dev_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("==== 3 failed, 10 passed, 1 skipped in 2.10s ====", {"failed": 3, "passed": 10, "skipped": 1}),
        ("= 1 passed, 1 error, 2 warnings in 0.1s =", {"passed": 1, "errors": 1, "warnings": 2}),
        ("\x1b[32m\x1b[1m5 passed\x1b[0m\x1b[32m in 0.50s\x1b[0m", {"passed": 5}),
        ("==== 63 deselected in 0.46s ====", {"deselected": 63}),
        ("ImportError while loading conftest", {}),
    ],
)
def test_pytest_tally(dev: ModuleType, line: str, expected: dict[str, int]) -> None:
    assert dev.pytest_tally(line) == expected


def test_extra_arguments_go_to_pytest(dev: ModuleType) -> None:
    args = dev.parse_args(["test", "--", "-k", "zip", "-x"])
    assert (args.command, args.extra) == ("test", ["-k", "zip", "-x"])
    assert dev.parse_args(["demo"]).extra == []


def test_stamp_matches_only_the_same_spec_and_a_working_python(dev: ModuleType, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    dev.write_stamp(venv, "abc")
    assert not dev.stamp_matches(venv, "abc")  # no interpreter in the venv
    (venv / "bin" / "python").symlink_to(sys.executable)
    assert dev.stamp_matches(venv, "abc")
    assert not dev.stamp_matches(venv, "abd")


def test_no_tests_ran_is_a_failure(dev: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    (tmp_path / "test_nothing.py").write_text("x = 1\n", encoding="utf-8")
    monkeypatch.setattr(dev, "VENV", venv)
    monkeypatch.setattr(dev, "REPO", tmp_path)
    status = dev.run_tests({"PATH": "/usr/bin:/bin"}, ["-p", "no:cacheprovider", "-q", str(tmp_path)])
    assert status == 1


def test_passing_run_keeps_status_zero_and_prints_a_plain_tally(
    dev: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    (tmp_path / "test_two.py").write_text("def test_a():\n    pass\n\ndef test_b():\n    pass\n", encoding="utf-8")
    monkeypatch.setattr(dev, "VENV", venv)
    monkeypatch.setattr(dev, "REPO", tmp_path)
    status = dev.run_tests({"PATH": "/usr/bin:/bin"}, ["-p", "no:cacheprovider", "-q", str(tmp_path)])
    assert status == 0
    assert capsys.readouterr().out.rstrip().splitlines()[-1] == "summary: 2 passed, 0 failed"


@pytest.mark.parametrize("ci", ["true", ""])
def test_missing_python_312_warns_locally_and_fails_in_ci(
    dev: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], ci: str
) -> None:
    monkeypatch.setattr(dev, "VENV_REF", tmp_path / "no-venv-ref")
    monkeypatch.setattr(dev, "find_python_312", lambda: None)
    monkeypatch.setenv("CI", ci)
    if ci:
        with pytest.raises(dev.SetupError, match=r"NO PYTHON 3\.12 FOUND"):
            dev.setup_reference_venv()
    else:
        assert dev.setup_reference_venv() is False
        assert "WARNING: NO PYTHON 3.12 FOUND" in capsys.readouterr().out
    assert not (tmp_path / "no-venv-ref").exists()
