"""Run code under the reference interpreter (zarr-python 3.4.2 + tensorstore, Python 3.12).

    from interop import run_ref, find_ref_python

    out = run_ref("import sys, zarr; print(zarr.open_array(sys.argv[1])[:].sum())", str(path))

`find_ref_python()` looks at the environment variable ZARRIO_REF_PYTHON first, then at
`.venv-ref/bin/python` in the repository (built by `python3 scripts/dev.py setup`).
Tests normally use the `ref_python` / `run_ref` fixtures of tests/conftest.py, which skip
(locally) or fail (with CI=true) when the interpreter is missing.

`find_zarr2_python()` finds the third reference, zarr-python 2.18 (ZARRIO_ZARR2_PYTHON, then
`.venv-zarr2/bin/python`); snippets run under it with `run_ref(code, python=...)` (fixtures
`zarr2_python` / `run_zarr2`).
"""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
REF_PYTHON_ENV = "ZARRIO_REF_PYTHON"
ZARR2_PYTHON_ENV = "ZARRIO_ZARR2_PYTHON"
DEFAULT_TIMEOUT_S = 120.0
# Variables that would make the reference interpreter import packages from the zarrio venv.
_LEAKY_VARIABLES = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")


class RefRunError(AssertionError):
    """A snippet run under the reference interpreter failed or timed out; carries its output."""

    def __init__(self, message: str, stdout: str = "", stderr: str = "") -> None:
        super().__init__(f"{message}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}")
        self.stdout = stdout
        self.stderr = stderr


def find_ref_python() -> Path | None:
    """The reference interpreter, or None when neither the override nor `.venv-ref` exists."""
    override = os.environ.get(REF_PYTHON_ENV)
    candidate = Path(override) if override else REPO_ROOT / ".venv-ref" / "bin" / "python"
    return candidate if candidate.exists() else None


def find_zarr2_python() -> Path | None:
    """The zarr-python 2.18 interpreter, or None when neither the override nor `.venv-zarr2` exists."""
    override = os.environ.get(ZARR2_PYTHON_ENV)
    candidate = Path(override) if override else REPO_ROOT / ".venv-zarr2" / "bin" / "python"
    return candidate if candidate.exists() else None


def ref_environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _LEAKY_VARIABLES}
    env["PYTHONWARNINGS"] = "ignore"
    return env


def run_ref(
    code: str,
    *args: str,
    python: Path | str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    cwd: Path | str | None = None,
) -> str:
    """Run `code` (dedented) under the reference interpreter with `sys.argv[1:] == args`; return its stdout.

    Raises RefRunError (an AssertionError, so a test shows it as a failure with both output
    streams) on a non-zero exit status or after `timeout` seconds.
    """
    interpreter = python if python is not None else find_ref_python()
    if interpreter is None:
        raise RefRunError(f"no reference interpreter: set {REF_PYTHON_ENV} or run `python3 scripts/dev.py setup`")
    command = [str(interpreter), "-c", textwrap.dedent(code), *args]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, cwd=cwd, env=ref_environment(), check=False
        )
    except subprocess.TimeoutExpired as error:
        raise RefRunError(
            f"reference snippet timed out after {timeout} s",
            _as_text(error.stdout),
            _as_text(error.stderr),
        ) from error
    if done.returncode != 0:
        raise RefRunError(f"reference snippet exited with status {done.returncode}", done.stdout, done.stderr)
    return done.stdout


def _as_text(output: str | bytes | None) -> str:
    if output is None:
        return ""
    return output.decode(errors="replace") if isinstance(output, bytes) else output
