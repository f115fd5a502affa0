"""scripts/dev.py: the bootstrap's pure parts (tally parsing, stamps, argument passing, interpreter lookup)
and the test runner (one pytest run per Python, in parallel, exit status 5, the closing summary line)."""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "dev.py"


@pytest.fixture(scope="module")
def dev() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("zarrio_dev_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being made
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


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
    assert dev.dev_suites.pytest_tally(line) == expected


def test_extra_arguments_go_to_pytest(dev: ModuleType) -> None:
    args = dev.parse_args(["test", "--", "-k", "zip", "-x"])
    assert (args.command, args.extra, args.pythons) == ("test", ["-k", "zip", "-x"], None)
    assert dev.parse_args(["demo"]).extra == []
    assert dev.parse_args(["test", "-x"]).extra == ["-x"]
    # what follows -- is pytest's even when it looks like ours
    picked = dev.parse_args(["test", "--python", "3.12", "--python", "3.13", "--jobs", "1", "--", "--python", "x"])
    assert (picked.pythons, picked.jobs, picked.extra) == (["3.12", "3.13"], 1, ["--python", "x"])
    with pytest.raises(SystemExit):
        dev.parse_args(["test", "--python", "3.10"])
    with pytest.raises(SystemExit):
        dev.parse_args(["test", "--jobs", "0"])


def test_the_suite_runs_on_three_pythons_and_the_demo_on_one(dev: ModuleType) -> None:
    labels = {
        argv: [suite.label for suite in dev.selected_pythons(dev.parse_args(argv.split()))]
        for argv in ("test", "setup", "demo", "bench", "test --python 3.13", "test --python 3.13 --python 3.11")
    }
    assert labels == {
        "test": ["3.11", "3.12", "3.13"],
        "setup": ["3.11", "3.12", "3.13"],
        "demo": ["3.11"],
        "bench": ["3.11"],
        "test --python 3.13": ["3.13"],
        "test --python 3.13 --python 3.11": ["3.11", "3.13"],
    }
    assert [suite.venv.name for suite in dev.TEST_PYTHONS] == [".venv", ".venv-py312", ".venv-py313"]


def test_stamp_matches_only_the_same_spec_and_a_working_python(dev: ModuleType, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    dev.write_stamp(venv, "abc")
    assert not dev.stamp_matches(venv, "abc")  # no interpreter in the venv
    (venv / "bin" / "python").symlink_to(sys.executable)
    assert dev.stamp_matches(venv, "abc")
    assert not dev.stamp_matches(venv, "abd")


def fake_venv(root: Path) -> Path:
    """A venv whose python runs this one (with its packages: a bare symlink would lose the venv's
    site-packages), telling the tests it runs which fake venv it is through FAKE_VENV."""
    (root / "bin").mkdir(parents=True)
    python = root / "bin" / "python"
    python.write_text(f'#!/bin/sh\nFAKE_VENV={root.name} exec {sys.executable} "$@"\n', encoding="utf-8")
    python.chmod(0o755)
    return root


def fake_suites(dev: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *venvs: str) -> list[Any]:
    """The runner pointed at ``tmp_path`` (repository and logs), with one fake venv per name for
    Python 3.11, 3.12, ... in order."""
    monkeypatch.setattr(dev, "REPO", tmp_path)
    monkeypatch.setattr(dev, "LOG_DIR", tmp_path / "logs")
    return [dev.SuitePython((3, 11 + i), fake_venv(tmp_path / name)) for i, name in enumerate(venvs)]


def test_no_tests_ran_is_a_failure(
    dev: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "test_nothing.py").write_text("x = 1\n", encoding="utf-8")
    suites = fake_suites(dev, tmp_path, monkeypatch, "venv")
    status = dev.run_tests({"PATH": "/usr/bin:/bin"}, suites, ["-p", "no:cacheprovider", "-q", str(tmp_path)], 1)
    assert status == 1
    out = capsys.readouterr().out
    assert "python 3.11: 0 passed, 1 failed" in out and "FAILED (no tests ran)" in out
    assert out.rstrip().splitlines()[-1] == "summary: 0 passed, 1 failed"  # the run itself failed


def test_a_run_that_dies_without_a_tally_counts_as_a_failure(
    dev: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "test_dies.py").write_text("import os\ndef test_exit():\n    os._exit(3)\n", encoding="utf-8")
    suites = fake_suites(dev, tmp_path, monkeypatch, "venv")
    status = dev.run_tests({"PATH": "/usr/bin:/bin"}, suites, ["-p", "no:cacheprovider", "-q", str(tmp_path)], 1)
    assert status == 1
    out = capsys.readouterr().out
    assert "pytest exit status 3: FAILED (the run ended without pytest's closing tally)" in out
    assert out.rstrip().splitlines()[-1] == "summary: 0 passed, 1 failed"


def test_runs_in_parallel_each_logged_and_prefixed_with_one_total(
    dev: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # the run whose interpreter is the fake venv "bad" fails one test: the total adds up all three runs;
    # test_together passes only when the three runs are under way at the same time
    markers = tmp_path / "started"
    markers.mkdir()
    (tmp_path / "test_mixed.py").write_text(
        "import os, sys, time, pytest\n"
        "def test_together():\n"
        f"    open(os.path.join({str(markers)!r}, str(os.getpid())), 'w').close()\n"
        "    deadline = time.monotonic() + 30\n"
        f"    while len(os.listdir({str(markers)!r})) < 3 and time.monotonic() < deadline:\n"
        "        time.sleep(0.05)\n"
        f"    assert len(os.listdir({str(markers)!r})) == 3\n"
        "def test_not_under_bad():\n    assert os.environ['FAKE_VENV'] != 'bad'\n"
        "@pytest.mark.skip(reason='shown in the tally')\ndef test_skipped():\n    pass\n",
        encoding="utf-8",
    )
    suites = fake_suites(dev, tmp_path, monkeypatch, "one", "two", "bad")
    args = ["-p", "no:cacheprovider", "-q", str(tmp_path / "test_mixed.py")]
    status = dev.run_tests({"PATH": "/usr/bin:/bin"}, suites, args, 3)
    assert status == 1
    lines = capsys.readouterr().out.rstrip().splitlines()
    assert lines[-1] == "summary: 5 passed, 1 failed, 3 skipped"
    assert any(line.startswith("[3.13] FAILED") and "test_not_under_bad" in line for line in lines)
    assert any(line.startswith("[3.12] ") and "2 passed, 1 skipped" in line for line in lines)
    verdicts = [line for line in lines if line.startswith("[dev.py] python 3.")]
    assert [v.split(":")[0] for v in verdicts] == [
        "[dev.py] python 3.11",
        "[dev.py] python 3.12",
        "[dev.py] python 3.13",
    ]
    assert "2 passed, 0 failed, 1 skipped" in verdicts[0] and verdicts[0].count(": ok") == 1
    assert "2 passed, 0 failed, 1 skipped" in verdicts[1]
    assert "1 passed, 1 failed, 1 skipped" in verdicts[2] and "FAILED" in verdicts[2]
    assert "3 run(s), 3 at a time" in "\n".join(lines)
    logs = {label: (tmp_path / "logs" / f"py{label}.log").read_text(encoding="utf-8") for label in ("3.11", "3.13")}
    assert "2 passed, 1 skipped in" in logs["3.11"] and "1 failed, 1 passed, 1 skipped in" in logs["3.13"]


@pytest.mark.timeout(180)  # six pytest runs of their own: 8 s each when the machine is busy
def test_the_whole_suite_runs_timing_tests_last_one_python_at_a_time(
    dev: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # phase 1: the unmarked tests of all three runs at once; phase 2: the `timing` tests, alone on the
    # machine: each sees every unmarked test finished and no other timing test under way
    done, running = tmp_path / "done", tmp_path / "running"
    done.mkdir()
    running.mkdir()
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\naddopts = -p no:cacheprovider -q\nmarkers =\n    timing: a wall-clock test\n", encoding="utf-8"
    )
    (tmp_path / "test_phased.py").write_text(
        "import os, time, pytest\n"
        "def test_ordinary():\n"
        f"    open(os.path.join({str(done)!r}, str(os.getpid())), 'w').close()\n"
        "@pytest.mark.timing\n"
        "def test_clocked():\n"
        f"    assert len(os.listdir({str(done)!r})) == 3\n"
        f"    mine = os.path.join({str(running)!r}, str(os.getpid()))\n"
        "    open(mine, 'w').close()\n"
        "    time.sleep(0.3)\n"
        f"    assert os.listdir({str(running)!r}) == [str(os.getpid())]\n"
        "    os.remove(mine)\n",
        encoding="utf-8",
    )
    suites = fake_suites(dev, tmp_path, monkeypatch, "a", "b", "c")
    status = dev.run_tests({"PATH": "/usr/bin:/bin"}, suites, [], 3)
    lines = capsys.readouterr().out.rstrip().splitlines()
    assert status == 0, "\n".join(lines)
    assert lines[-1] == "summary: 6 passed, 0 failed"
    assert any("phase 1 (-m not timing): 3 run(s), 3 at a time" in line for line in lines)
    assert any("phase 2 (-m timing): 3 run(s), 1 at a time" in line for line in lines)
    verdicts = [line for line in lines if line.startswith("[dev.py] python 3.")]
    assert len(verdicts) == 3 and all("2 passed, 0 failed" in v and ": ok" in v for v in verdicts)
    assert (tmp_path / "logs" / "py3.12-timing.log").read_text(encoding="utf-8").count("1 passed") == 1


def test_find_python_asks_pyenv_for_the_pinned_version(
    dev: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    interpreter = tmp_path / "python-3.99"
    interpreter.write_text("#!/bin/sh\necho 3 99\n", encoding="utf-8")  # answers the version probe only
    pyenv = bin_dir / "pyenv"
    pyenv.write_text(f'#!/bin/sh\n[ "$PYENV_VERSION" = 3.99.1 ] && echo {interpreter} && exit 0\nexit 1\n')
    for script in (interpreter, pyenv):
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv-root"))
    monkeypatch.setitem(sys.modules["dev_pythons"].PYENV_PINS, (3, 99), "3.99.1")
    assert dev.find_python((3, 99)) == str(interpreter)
    assert dev.find_python((3, 98)) is None
    assert dev.python_version(interpreter) == (3, 99)


@pytest.mark.parametrize("ci", ["true", ""])
def test_missing_test_python_warns_locally_and_fails_in_ci(
    dev: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], ci: str
) -> None:
    monkeypatch.setattr(dev, "find_python", lambda version: None)
    monkeypatch.setenv("CI", ci)
    suite = dev.SuitePython((3, 13), tmp_path / "no-venv-py313")
    if ci:
        with pytest.raises(dev.SetupError, match=r"NO PYTHON 3\.13 FOUND"):
            dev.setup_suite_venv(suite)
    else:
        assert dev.setup_suite_venv(suite) is False
        assert "WARNING: NO PYTHON 3.13 FOUND" in capsys.readouterr().out
    assert not suite.venv.exists()


@pytest.mark.parametrize("ci", ["true", ""])
@pytest.mark.parametrize(
    ("venv_attr", "builder"), [("VENV_REF", "setup_reference_venv"), ("VENV_ZARR2", "setup_zarr2_venv")]
)
def test_missing_python_312_warns_locally_and_fails_in_ci(
    dev: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    ci: str,
    venv_attr: str,
    builder: str,
) -> None:
    """Both reference venvs (.venv-ref: zarr-python 3.4.2; .venv-zarr2: zarr-python 2.18) need Python 3.12."""
    monkeypatch.setattr(dev, venv_attr, tmp_path / "no-venv-ref")
    monkeypatch.setattr(dev, "find_python", lambda version: None)
    monkeypatch.setenv("CI", ci)
    build = getattr(dev, builder)
    if ci:
        with pytest.raises(dev.SetupError, match=r"NO PYTHON 3\.12 FOUND"):
            build()
    else:
        assert build() is False
        assert "WARNING: NO PYTHON 3.12 FOUND" in capsys.readouterr().out
    assert not (tmp_path / "no-venv-ref").exists()


def test_the_zarr2_reference_is_set_up_beside_the_others(dev: ModuleType) -> None:
    """zarr 2.18.7 with a numcodecs it allows (<0.16, not 0.14.0/0.14.1); setup builds it in its pool."""
    assert dev.ZARR2_REQUIREMENTS[0] == "zarr==2.18.7"
    numcodecs = next(r for r in dev.ZARR2_REQUIREMENTS if r.startswith("numcodecs=="))
    major, minor, _ = (int(x) for x in numcodecs.removeprefix("numcodecs==").split("."))
    assert (major, minor) < (0, 16) and (major, minor) != (0, 14)
    assert "setup_zarr2_venv" in inspect.getsource(dev.setup)


def test_runs_at_once_keep_their_pytest_temp_directories_apart(
    dev: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # three pytest sessions sharing one pytest-of-<user> root removed each other's old tmp_path
    # directories at exit (ENOTEMPTY, which filterwarnings=error makes a failed run): each label
    # gets a root of its own under PYTEST_DEBUG_TEMPROOT
    roots = tmp_path / "roots"
    roots.mkdir()
    (tmp_path / "test_where.py").write_text(
        "import os\n"
        "def test_where(tmp_path):\n"
        f"    open(os.path.join({str(roots)!r}, os.environ['FAKE_VENV']), 'w').write(str(tmp_path))\n",
        encoding="utf-8",
    )
    suites = fake_suites(dev, tmp_path, monkeypatch, "one", "two")
    base = tmp_path / "temp"
    args = ["-p", "no:cacheprovider", "-q", str(tmp_path / "test_where.py")]
    assert dev.run_tests({"PATH": "/usr/bin:/bin", "PYTEST_DEBUG_TEMPROOT": str(base)}, suites, args, 2) == 0
    where = {name: Path((roots / name).read_text(encoding="utf-8")) for name in ("one", "two")}
    assert where["one"].is_relative_to(base / "zarrio-pytest-3.11")
    assert where["two"].is_relative_to(base / "zarrio-pytest-3.12")
