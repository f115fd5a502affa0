"""Shared test fixtures: the reference interpreter, the conformance corpus, the `interop` marker.

- `ref_python`: path of the reference interpreter (zarr-python 3.4.2 + tensorstore). The
  environment variable ZARRIO_REF_PYTHON overrides the default `.venv-ref/bin/python`.
  Missing: the test is skipped locally and FAILS when CI=true.
- `run_ref`: `run_ref(code, *args, timeout=120) -> stdout`, the snippet runner of
  `tests/interop` bound to that interpreter.
- `zarr2_python` / `run_zarr2`: the same for zarr-python 2.18 (`.venv-zarr2`, built by setup;
  ZARRIO_ZARR2_PYTHON overrides), the third reference of the Zarr v2 tests. Same skip / CI-fail rule.
- `conformance_dir`: the shared conformance corpus (`../shared/conformance` next to the
  repository; ZARRIO_CONFORMANCE overrides; prerequisites.conformance_location). Same skip / CI-fail rule.
- plugins: `servers.fixtures` (nginx) and `timeout_dumps` (a timed-out test shows every thread's stack).
- with CI=true, a test whose parametrize list came out empty fails instead of skipping.

Store- and codec-specific fixtures belong in their own test files, not here.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from interop import (
    REF_PYTHON_ENV,
    ZARR2_PYTHON_ENV,
    RefRunError,
    find_ref_python,
    find_zarr2_python,
    ref_environment,
)
from interop import run_ref as _run_ref
from prerequisites import CONFORMANCE_ENV, conformance_location, in_ci, skip_or_fail
from prerequisites import pytest_runtest_setup as pytest_runtest_setup  # in CI, an empty parametrize fails

# the nginx fixture, shared by the HTTP test modules; every thread's stack when a test times out
pytest_plugins = ["servers.fixtures", "timeout_dumps"]

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


def _interpreter(python: Path | None, missing: str, probe_code: str, broken: str) -> Path:
    """``python`` once it runs ``probe_code``; a skip (a failure in CI) saying ``missing`` or ``broken``."""
    if python is None:
        skip_or_fail(missing)
    probe = subprocess.run(
        [str(python), "-c", probe_code], capture_output=True, text=True, timeout=120, env=ref_environment(), check=False
    )
    if probe.returncode != 0:
        skip_or_fail(f"{python} {broken}: {probe.stderr.strip()[-500:]}")
    assert python is not None
    return python


def _runner(python: Path) -> Callable[..., str]:
    def runner(code: str, *args: str, timeout: float = 120.0, cwd: Path | str | None = None) -> str:
        return _run_ref(code, *args, python=python, timeout=timeout, cwd=cwd)

    return runner


@pytest.fixture(scope="session")
def ref_python() -> Path:
    return _interpreter(
        find_ref_python(),
        f"no reference interpreter: set {REF_PYTHON_ENV} or run `python3 scripts/dev.py setup` to build .venv-ref",
        "import zarr, tensorstore; print(zarr.__version__)",
        "(the reference interpreter) cannot import zarr and tensorstore",
    )


@pytest.fixture(scope="session")
def run_ref(ref_python: Path) -> Callable[..., str]:
    """`run_ref(code, *args, timeout=120, cwd=None) -> stdout` under the reference interpreter."""
    return _runner(ref_python)


@pytest.fixture(scope="session")
def zarr2_python() -> Path:
    return _interpreter(
        find_zarr2_python(),
        f"no zarr-python 2.18 interpreter: set {ZARR2_PYTHON_ENV} or run `python3 scripts/dev.py setup` "
        "to build .venv-zarr2",
        "import zarr; assert zarr.__version__.startswith('2.18'), zarr.__version__",
        "has no zarr-python 2.18",
    )


@pytest.fixture(scope="session")
def run_zarr2(zarr2_python: Path) -> Callable[..., str]:
    """`run_zarr2(code, *args, timeout=120, cwd=None) -> stdout` under zarr-python 2.18."""
    return _runner(zarr2_python)


@pytest.fixture(scope="session")
def conformance_dir() -> Path:
    corpus = conformance_location()
    if not (corpus / "cases.json").is_file():
        skip_or_fail(f"conformance corpus not found at {corpus} (set {CONFORMANCE_ENV})")
    return corpus.resolve()


__all__ = ["RefRunError", "in_ci", "skip_or_fail"]
