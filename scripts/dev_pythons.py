"""Find Python interpreters by minor version, for scripts/dev.py (standard library only)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

#: the pyenv version asked for first when looking for an interpreter of that minor version
PYENV_PINS = {(3, 11): "3.11.7", (3, 12): "3.12.1", (3, 13): "3.13.0"}


def python_version(python: Path | str) -> tuple[int, int] | None:
    """The (major, minor) version of an interpreter, or None when it does not run."""
    try:
        out = subprocess.run(
            [str(python), "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    major, minor = out.stdout.split()
    return int(major), int(minor)


def find_python(version: tuple[int, int]) -> str | None:
    """Locate a Python `version` (major, minor): this interpreter when it is one, then pyenv's pinned
    version (PYENV_PINS), then ~/.pyenv/versions/3.X.*, then python3.X on PATH."""
    label = f"{version[0]}.{version[1]}"
    candidates: list[str] = []
    if sys.version_info[:2] == version:
        candidates.append(sys.executable)
    pyenv = shutil.which("pyenv")
    if pyenv and version in PYENV_PINS:
        out = subprocess.run(
            [pyenv, "which", "python"],
            capture_output=True,
            text=True,
            env={**os.environ, "PYENV_VERSION": PYENV_PINS[version]},
            check=False,
        )
        if out.returncode == 0 and out.stdout.strip():
            candidates.append(out.stdout.strip())
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates.extend(sorted(glob.glob(str(pyenv_root / "versions" / f"{label}.*" / "bin" / "python")), reverse=True))
    on_path = shutil.which(f"python{label}")
    if on_path:
        candidates.append(on_path)
    for candidate in candidates:
        if python_version(candidate) == version:
            return candidate
    return None
