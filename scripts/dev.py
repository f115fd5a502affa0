#!/usr/bin/env python3
"""Set up the zarrio development environment, then run the demo or the tests.

    python3 scripts/dev.py demo      # set up, then run `python -m zarrio.demo`
    python3 scripts/dev.py test      # set up, then run the whole pytest suite
    python3 scripts/dev.py setup     # only set up
    python3 scripts/dev.py test -- -k conformance -x   # extra arguments go to pytest
    python3 scripts/dev.py bench -- --quick   # benchmarks/ on .venv-ref (installs benchmarks/requirements.txt)

Setting up is idempotent and fast when already done. It creates or refreshes:

- `.venv`     on this interpreter (Python 3.11), with `pip install -e ".[<every extra>]"` (test, dev,
  docs and the optional integrations: their tests run too);
- `.venv-ref` on Python 3.12 with zarr-python 3.4.2 and tensorstore, the reference
  implementations used by the interop tests and the conformance write verifier;
- nginx (Debian's `nginx-light`), installed with apt-get when missing and we are root;
  the HTTP tests start their own nginx on 127.0.0.1.

Each venv keeps a stamp file holding a hash of its dependency spec; pip runs only
when the hash changed. Only the standard library is used here, so the script runs on
a bare `python3`. With CI=true in the environment, a missing Python 3.12 is an error.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv"
VENV_REF = REPO / ".venv-ref"
STAMP_NAME = ".zarrio-setup-stamp"
#: the reference implementations, plus zarrio's own runtime dependencies (zstandard, aiohttp), so tests
#: can also run zarrio itself (from the source tree) under Python 3.12 (tests/test_engine_eager.py)
REF_REQUIREMENTS = (
    "zarr==3.4.2",
    "tensorstore==0.1.86",
    "numpy",
    "google-crc32c",
    "xarray",
    "zstandard>=0.22",
    "aiohttp>=3.9",
)
REF_MIN_VERSION = (3, 12)
PYTEST_NO_TESTS_RAN = 5
# Bump when the way the venvs are installed changes, so that existing stamps no longer match.
SETUP_RECIPE = 2


class SetupError(Exception):
    """Raised when the environment cannot be set up; the message says what to do."""


def log(message: str) -> None:
    print(f"[dev.py] {message}", flush=True)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def run(command: Sequence[str | os.PathLike[str]], cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    printable = " ".join(str(part) for part in command)
    log(f"$ {printable}")
    result = subprocess.run([str(part) for part in command], cwd=cwd, env=env, check=False)
    if result.returncode != 0:
        raise SetupError(f"command failed with exit status {result.returncode}: {printable}")


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


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


def spec_hash(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def read_project_table() -> dict[str, Any]:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return dict(pyproject)


def all_extras() -> list[str]:
    """Every optional-dependency group of pyproject.toml: the tests of each extra run in CI."""
    return sorted(read_project_table().get("project", {}).get("optional-dependencies", {}))


def main_venv_spec() -> str:
    """Hash of what `pip install -e .[<all extras>]` depends on: dependency lists, build system, entry points."""
    pyproject = read_project_table()
    project = pyproject.get("project", {})
    return spec_hash(
        SETUP_RECIPE,
        pyproject.get("build-system"),
        project.get("dependencies"),
        project.get("optional-dependencies"),
        project.get("scripts"),
        project.get("requires-python"),
    )


def stamp_matches(venv: Path, expected: str) -> bool:
    stamp = venv / STAMP_NAME
    if not stamp.is_file() or stamp.read_text(encoding="utf-8").strip() != expected:
        return False
    return python_version(venv_python(venv)) is not None


def write_stamp(venv: Path, value: str) -> None:
    (venv / STAMP_NAME).write_text(value + "\n", encoding="utf-8")


def ensure_venv(venv: Path, base_python: str, minimum: tuple[int, int]) -> None:
    """Create `venv` from `base_python` unless a working one of a suitable version exists."""
    existing = python_version(venv_python(venv)) if venv_python(venv).exists() else None
    if existing is not None and existing >= minimum:
        return
    if venv.exists():
        log(f"{venv.name} is broken or too old ({existing}); recreating it")
        shutil.rmtree(venv)
    run([base_python, "-m", "venv", venv])
    run([venv_python(venv), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])


def setup_main_venv() -> None:
    expected = main_venv_spec()
    if stamp_matches(VENV, expected):
        log(".venv is up to date")
        return
    ensure_venv(VENV, sys.executable, (3, 11))
    extras = ",".join(all_extras())
    run([venv_python(VENV), "-m", "pip", "install", "--quiet", "-e", f".[{extras}]" if extras else "."], cwd=REPO)
    write_stamp(VENV, expected)
    log(".venv ready")


def find_python_312() -> str | None:
    """Locate a Python 3.12 interpreter: pyenv first, then ~/.pyenv, then PATH."""
    candidates: list[str] = []
    pyenv = shutil.which("pyenv")
    if pyenv:
        out = subprocess.run(
            [pyenv, "which", "python"],
            capture_output=True,
            text=True,
            env={**os.environ, "PYENV_VERSION": "3.12.1"},
            check=False,
        )
        if out.returncode == 0 and out.stdout.strip():
            candidates.append(out.stdout.strip())
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates.extend(sorted(glob.glob(str(pyenv_root / "versions" / "3.12.*" / "bin" / "python")), reverse=True))
    on_path = shutil.which("python3.12")
    if on_path:
        candidates.append(on_path)
    for candidate in candidates:
        version = python_version(candidate)
        if version is not None and version >= REF_MIN_VERSION:
            return candidate
    return None


def setup_reference_venv() -> bool:
    """Build `.venv-ref`; returns False (after a loud warning) when no Python 3.12 exists outside CI."""
    expected = spec_hash(REF_REQUIREMENTS)
    if stamp_matches(VENV_REF, expected):
        log(".venv-ref is up to date")
        return True
    existing = python_version(venv_python(VENV_REF)) if venv_python(VENV_REF).exists() else None
    usable = existing is not None and existing >= REF_MIN_VERSION
    base = None if usable else find_python_312()
    if not usable and base is None:
        message = (
            "NO PYTHON 3.12 FOUND (tried `PYENV_VERSION=3.12.1 pyenv which python`, ~/.pyenv/versions/3.12.*, "
            "python3.12 on PATH). zarr-python 3.4 needs Python >= 3.12: the interop tests and the conformance "
            "write check cannot run. Install Python 3.12 (e.g. `pyenv install 3.12`) and run this again."
        )
        if in_ci():
            raise SetupError(message)
        log("!" * 100)
        log(f"WARNING: {message}")
        log("!" * 100)
        return False
    if base is not None:
        ensure_venv(VENV_REF, base, REF_MIN_VERSION)
    log("installing the reference implementations into .venv-ref (a first install takes a minute)")
    run([venv_python(VENV_REF), "-m", "pip", "install", "--quiet", *REF_REQUIREMENTS])
    write_stamp(VENV_REF, expected)
    log(".venv-ref ready")
    return True


def find_nginx() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    for candidate in ("/usr/sbin/nginx", "/usr/local/sbin/nginx"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def setup_nginx() -> str | None:
    """Make sure nginx is installed; return its path (None when it cannot be installed here)."""
    found = find_nginx()
    if found:
        log(f"nginx is installed ({found})")
        return found
    if os.geteuid() != 0:
        log("WARNING: nginx is not installed and we are not root; tests that need nginx will be skipped")
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-q"], env=env)
    run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "nginx-light"], env=env)
    found = find_nginx()
    if not found:
        raise SetupError("apt-get installed nginx-light but no nginx binary was found")
    return found


def setup() -> dict[str, str]:
    """Set everything up; return the environment variables the tests and the demo should see."""
    started = time.monotonic()
    setup_main_venv()
    have_ref = setup_reference_venv()
    nginx = setup_nginx()
    env = dict(os.environ)
    if nginx and shutil.which("nginx") is None:  # e.g. /usr/sbin missing from a non-login PATH
        env["PATH"] = os.pathsep.join([str(Path(nginx).parent), env.get("PATH", "")])
    if have_ref:
        env.setdefault("ZARRIO_REF_PYTHON", str(venv_python(VENV_REF)))
    log(f"setup done in {time.monotonic() - started:.1f} s")
    return env


ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
TALLY_WORD = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected|warnings?)")


def pytest_tally(last_line: str) -> dict[str, int]:
    """Counts from pytest's closing line, e.g. '==== 3 failed, 10 passed, 1 skipped in 2.1s ===='."""
    counts: dict[str, int] = {}
    for number, word in TALLY_WORD.findall(ANSI_ESCAPE.sub("", last_line)):
        key = {"error": "errors", "warning": "warnings"}.get(word, word)
        counts[key] = counts.get(key, 0) + int(number)
    return counts


def run_tests(env: dict[str, str], pytest_args: Sequence[str]) -> int:
    command = [str(venv_python(VENV)), "-m", "pytest", *pytest_args]
    if sys.stdout.isatty():
        command.append("--color=yes")
    log("$ " + " ".join(command))
    started = time.monotonic()
    last_line = ""
    with subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            if line.strip():
                last_line = line
        status = proc.wait()
    elapsed = time.monotonic() - started
    counts = pytest_tally(last_line)
    if status == PYTEST_NO_TESTS_RAN:
        log(f"pytest ran no tests (exit status 5) after {elapsed:.0f} s: treated as a failure")
        status = 1
    else:
        log(f"pytest exited with status {status} after {elapsed:.0f} s")
    failed = counts.get("failed", 0) + counts.get("errors", 0)
    tail = f"summary: {counts.get('passed', 0)} passed, {failed} failed"
    if counts.get("skipped"):
        tail += f", {counts['skipped']} skipped"
    print(tail, flush=True)
    return status


def run_demo(env: dict[str, str], demo_args: Sequence[str]) -> int:
    command = [str(venv_python(VENV)), "-m", "zarrio.demo", *demo_args]
    log("$ " + " ".join(command))
    started = time.monotonic()
    status = subprocess.run(command, cwd=REPO, env=env, check=False).returncode
    log(f"demo {'finished' if status == 0 else 'FAILED'} (exit status {status}) in {time.monotonic() - started:.1f} s")
    return status


def run_bench(env: dict[str, str], bench_args: Sequence[str]) -> int:
    """Install the benchmark suite's extra packages into .venv-ref (again only when its requirements change), run it."""
    if "ZARRIO_REF_PYTHON" not in env:
        log("the benchmarks need .venv-ref (Python 3.12); see the warning above")
        return 1
    python = venv_python(VENV_REF)
    requirements = REPO / "benchmarks" / "requirements.txt"
    stamp = VENV_REF / ".zarrio-bench-stamp"
    expected = spec_hash(requirements.read_text(encoding="utf-8"))
    if not stamp.is_file() or stamp.read_text(encoding="utf-8").strip() != expected:
        try:
            run([python, "-m", "pip", "install", "--quiet", "-r", requirements])
            run([python, "-m", "pip", "install", "--quiet", "--no-deps", "-e", REPO])
        except SetupError as error:
            log(f"SETUP FAILED: {error}")
            return 1
        stamp.write_text(expected + "\n", encoding="utf-8")
    command = [str(python), "-m", "benchmarks", *bench_args]
    log("$ " + " ".join(command))
    return subprocess.run(command, cwd=REPO, env=env, check=False).returncode


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("setup", "demo", "test", "bench"))
    parser.add_argument("extra", nargs=argparse.REMAINDER, help="arguments passed on to pytest or the demo")
    args = parser.parse_args(argv)
    if args.extra and args.extra[0] == "--":
        args.extra = args.extra[1:]
    return args


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    try:
        env = setup()
    except SetupError as error:
        log(f"SETUP FAILED: {error}")
        return 1
    if args.command == "demo":
        return run_demo(env, args.extra)
    if args.command == "test":
        return run_tests(env, args.extra)
    if args.command == "bench":
        return run_bench(env, args.extra)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
