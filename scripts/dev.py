#!/usr/bin/env python3
"""Set up the zarrio development environment, then run the demo or the tests.

    python3 scripts/dev.py demo      # set up, then run `python -m zarrio.demo` (Python 3.11)
    python3 scripts/dev.py test      # set up, then run the whole pytest suite on 3.11, 3.12 and 3.13
    python3 scripts/dev.py setup     # only set up (all three)
    python3 scripts/dev.py test -- -k conformance -x   # extra arguments go to pytest (every run)
    python3 scripts/dev.py test --python 3.12 --python 3.13   # only these Pythons
    python3 scripts/dev.py test --jobs 1                       # one run at a time (default: all at once)
    python3 scripts/dev.py bench -- --quick   # benchmarks/ on .venv-ref (installs benchmarks/requirements.txt)

Setting up is idempotent and fast when already done. It creates or refreshes:

- `.venv` (Python 3.11: this interpreter when it is 3.11), `.venv-py312` and `.venv-py313`, each with
  `pip install -e ".[<every extra>]"` (test, dev, docs and the optional integrations: their tests run too);
- `.venv-ref` on Python 3.12 with zarr-python 3.4.2 and tensorstore, the reference
  implementations used by the interop tests and the conformance write verifier (every run uses it);
- `.venv-zarr2` on Python 3.12 with zarr-python 2.18.7 (numcodecs 0.15.2), the third reference, which
  the Zarr v2 interop tests run (tests/test_v2_zarr2.py);
- nginx (Debian's `nginx-light`), installed with apt-get when missing and we are root;
  the HTTP tests start their own nginx on 127.0.0.1.

Python 3.X is looked up with `PYENV_VERSION=<pinned> pyenv which python`, then
~/.pyenv/versions/3.X.*, then python3.X on PATH. Each venv keeps a stamp file holding a hash of its
dependency spec; pip runs only when the hash changed; the venvs are built side by side. Each test
run writes `.test-logs/py3.X.log` (the `timing` tests, run last and one Python at a time:
`py3.X-timing.log`) and streams its lines prefixed with `[3.X]`; the last line is `summary: N passed, M failed`
(`, K skipped`) over all runs. Only the standard library is used here, so the script runs on a bare
`python3`. A missing interpreter is a loud warning, and with CI=true in the environment an error.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# our sibling module (the script runs as a file, not from a package)
sys.path.insert(0, str(Path(__file__).resolve().parent))
import dev_suites
from dev_pythons import PYENV_PINS, find_python, python_version

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv"
VENV_REF = REPO / ".venv-ref"
LOG_DIR = REPO / ".test-logs"
STAMP_NAME = ".zarrio-setup-stamp"
#: the reference implementations (zarr-python with fsspec, as a user who opens URLs has it: tests/compat
#: compares zarrio's answers with its), plus zarrio's own runtime dependencies (zstandard, aiohttp), so
#: tests can also run zarrio itself (from the source tree) under Python 3.12 (tests/test_engine_eager.py)
REF_REQUIREMENTS = (
    "zarr==3.4.2",
    "tensorstore==0.1.86",
    "fsspec>=2024.6",
    "numpy",
    "google-crc32c",
    "xarray",
    "zstandard>=0.22",
    "aiohttp>=3.9",
    # zarr-python's cast_value codec runs on cast-value-rs; numcodecs.zfpy / numcodecs.pcodec need their packages
    "cast-value-rs>=0.4.2",
    "zfpy>=1.0.1,!=1.0.1.post0",
    "pcodec>=0.3",
    # zarrs (Rust) as zarr-python's codec pipeline: the peer that writes packbits, reshape and the
    # low-precision and complex_<T> types (tests/test_extension_codecs_zarrs.py)
    "zarrs==0.2.3",
)
REF_MIN_VERSION = (3, 12)
VENV_ZARR2 = REPO / ".venv-zarr2"
#: zarr-python 2.18 (its last release), the third reference: what zarrio writes as Zarr v2 it reads
#: bit-exactly, and what it writes zarrio reads (tests/test_v2_zarr2.py). numcodecs as zarr 2.18.7
#: allows it (>=0.10, <0.16, not 0.14.0 / 0.14.1): its newest.
ZARR2_REQUIREMENTS = ("zarr==2.18.7", "numcodecs==0.15.2", "numpy")
#: zarr 2.18 runs on 3.11 and newer; the venv is built on 3.12, as .venv-ref is
ZARR2_MIN_VERSION = (3, 12)
# Bump when the way the venvs are installed changes, so that existing stamps no longer match.
SETUP_RECIPE = 2
#: suites at once by default: all three (on 2 cores, 2 + 1 runs take two run-lengths, 3 at once about 1.5)
DEFAULT_JOBS = 3
#: the pytest marker of tests that assert wall-clock bounds: they run last, one Python at a time
TIMING_MARKER = "timing"


@dataclass(frozen=True)
class SuitePython:
    """A Python the whole suite runs under, and the venv holding zarrio with every extra for it."""

    version: tuple[int, int]
    venv: Path

    @property
    def label(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"


TEST_PYTHONS = (
    SuitePython((3, 11), VENV),
    SuitePython((3, 12), REPO / ".venv-py312"),
    SuitePython((3, 13), REPO / ".venv-py313"),
)


#: held while `pip install -e .` runs (see setup_suite_venv)
EDITABLE_BUILD = threading.Lock()


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


def spec_hash(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def read_project_table() -> dict[str, Any]:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return dict(pyproject)


def all_extras() -> list[str]:
    """Every optional-dependency group of pyproject.toml: the tests of each extra run in CI."""
    return sorted(read_project_table().get("project", {}).get("optional-dependencies", {}))


def all_requirements() -> list[str]:
    """zarrio's dependencies and those of every extra, as pip requirement strings."""
    project = read_project_table().get("project", {})
    requirements = list(project.get("dependencies", []))
    for group in project.get("optional-dependencies", {}).values():
        requirements.extend(group)
    return requirements


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


def ensure_venv(venv: Path, base_python: str, accept: tuple[int, int], *, exact: bool = False) -> None:
    """Create `venv` from `base_python` unless a working one of an accepted version exists
    (`accept` or newer; only `accept` itself when `exact`)."""
    existing = python_version(venv_python(venv)) if venv_python(venv).exists() else None
    if existing is not None and (existing == accept if exact else existing >= accept):
        return
    if venv.exists():
        log(f"{venv.name} is broken or of another version ({existing}); recreating it")
        shutil.rmtree(venv)
    run([base_python, "-m", "venv", venv])
    run([venv_python(venv), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])


def missing_python(version: tuple[int, int], consequence: str) -> bool:
    """Report a Python that cannot be found: a SetupError in CI, a loud warning (and False) elsewhere."""
    label = f"{version[0]}.{version[1]}"
    pin = PYENV_PINS.get(version, label)
    message = (
        f"NO PYTHON {label} FOUND (tried `PYENV_VERSION={pin} pyenv which python`, ~/.pyenv/versions/{label}.*, "
        f"python{label} on PATH). {consequence} Install Python {label} (e.g. `pyenv install {label}`) "
        "and run this again."
    )
    if in_ci():
        raise SetupError(message)
    log("!" * 100)
    log(f"WARNING: {message}")
    log("!" * 100)
    return False


def setup_suite_venv(suite: SuitePython) -> bool:
    """Build the venv `suite` runs in: zarrio editable with every extra. False (after a loud warning)
    when its interpreter is missing outside CI."""
    expected = main_venv_spec()
    name = suite.venv.name
    if stamp_matches(suite.venv, expected) and python_version(venv_python(suite.venv)) == suite.version:
        log(f"{name} (Python {suite.label}) is up to date")
        return True
    started = time.monotonic()
    existing = python_version(venv_python(suite.venv)) if venv_python(suite.venv).exists() else None
    base = None if existing == suite.version else find_python(suite.version)
    if existing != suite.version and base is None:
        return missing_python(suite.version, f"The test suite cannot run on Python {suite.label}.")
    if base is not None:
        ensure_venv(suite.venv, base, suite.version, exact=True)
    # the dependencies first (venvs side by side), then zarrio itself, one venv at a time: an editable
    # build writes zarrio.egg-info into the source tree, which two builds at once would race on
    run([venv_python(suite.venv), "-m", "pip", "install", "--quiet", *all_requirements()], cwd=REPO)
    with EDITABLE_BUILD:
        run([venv_python(suite.venv), "-m", "pip", "install", "--quiet", "--no-deps", "-e", "."], cwd=REPO)
    write_stamp(suite.venv, expected)
    log(f"{name} (Python {suite.label}) ready in {time.monotonic() - started:.0f} s")
    return True


def _setup_reference(venv: Path, requirements: Sequence[str], minimum: tuple[int, int], consequence: str) -> bool:
    """Build a reference venv (Python `minimum` or newer) holding `requirements`; False (after a loud
    warning) when no such Python exists outside CI."""
    expected = spec_hash(requirements)
    if stamp_matches(venv, expected):
        log(f"{venv.name} is up to date")
        return True
    started = time.monotonic()
    existing = python_version(venv_python(venv)) if venv_python(venv).exists() else None
    usable = existing is not None and existing >= minimum
    base = None if usable else find_python(minimum)
    if not usable and base is None:
        return missing_python(minimum, consequence)
    if base is not None:
        ensure_venv(venv, base, minimum)
    log(f"installing {', '.join(requirements[:2])} ... into {venv.name} (a first install takes a minute)")
    run([venv_python(venv), "-m", "pip", "install", "--quiet", *requirements])
    write_stamp(venv, expected)
    log(f"{venv.name} ready in {time.monotonic() - started:.0f} s")
    return True


def setup_reference_venv() -> bool:
    """Build `.venv-ref`; returns False (after a loud warning) when no Python 3.12 exists outside CI."""
    return _setup_reference(
        VENV_REF,
        REF_REQUIREMENTS,
        REF_MIN_VERSION,
        "zarr-python 3.4 needs Python >= 3.12: the interop tests and the conformance write check cannot run.",
    )


def setup_zarr2_venv() -> bool:
    """Build `.venv-zarr2` (zarr-python 2.18); False (after a loud warning) when no Python 3.12 exists outside CI."""
    return _setup_reference(
        VENV_ZARR2,
        ZARR2_REQUIREMENTS,
        ZARR2_MIN_VERSION,
        "The zarr-python 2.18 interop tests (tests/test_v2_zarr2.py) cannot run.",
    )


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


def setup(pythons: Sequence[SuitePython] = TEST_PYTHONS) -> tuple[dict[str, str], list[SuitePython]]:
    """Set everything up for `pythons`; return the environment variables the tests and the demo should see,
    and the Pythons whose venv is ready (a missing one was warned about, or raised SetupError in CI)."""
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(pythons) + 3) as pool:  # side by side: mostly downloads and unpacking
        venvs = [(suite, pool.submit(setup_suite_venv, suite)) for suite in pythons]
        reference = pool.submit(setup_reference_venv)
        zarr2 = pool.submit(setup_zarr2_venv)
        nginx_path = pool.submit(setup_nginx)
        ready = [suite for suite, done in venvs if done.result()]
        have_ref = reference.result()
        have_zarr2 = zarr2.result()
        nginx = nginx_path.result()
    env = dict(os.environ)
    if nginx and shutil.which("nginx") is None:  # e.g. /usr/sbin missing from a non-login PATH
        env["PATH"] = os.pathsep.join([str(Path(nginx).parent), env.get("PATH", "")])
    if have_ref:
        env.setdefault("ZARRIO_REF_PYTHON", str(venv_python(VENV_REF)))
    if have_zarr2:
        env.setdefault("ZARRIO_ZARR2_PYTHON", str(venv_python(VENV_ZARR2)))
    log(f"setup done in {time.monotonic() - started:.1f} s")
    return env, ready


def run_tests(env: dict[str, str], pythons: Sequence[SuitePython], pytest_args: Sequence[str], jobs: int) -> int:
    """The whole suite once per Python; non-zero when any run fails or runs no tests.

    With no pytest arguments (the whole suite), it runs in two phases: every test not marked
    ``timing`` under all Pythons, ``jobs`` at a time; then the ``timing`` tests (they assert wall-clock
    bounds, e.g. that a stalled HTTP answer is cut off within seconds) one Python at a time, so that
    another suite's load cannot stretch their clocks. With pytest arguments, one run per Python."""
    if not pythons:
        log("no Python to run the tests under (see the warnings above)")
        print(dev_suites.summary_line([]), flush=True)
        return 1

    def suites(suffix: str) -> list[dev_suites.Suite]:
        return [
            dev_suites.Suite(suite.label, venv_python(suite.venv), LOG_DIR / f"py{suite.label}{suffix}.log")
            for suite in pythons
        ]

    # the runs cache bytecode even where the environment says not to (PYTHONDONTWRITEBYTECODE): the
    # suite starts hundreds of Pythons that import zarrio (the CLI, writer processes), and compiling
    # it afresh costs each of them about 150 ms; pytest, too, keeps its rewritten test modules then
    env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if pytest_args:
        status, _ = dev_suites.run_suites(suites(""), pytest_args, cwd=REPO, env=env, jobs=jobs, log=log)
        return status
    phases = [
        dev_suites.Phase(suites(""), ["-m", f"not {TIMING_MARKER}"], jobs),
        dev_suites.Phase(suites("-timing"), ["-m", TIMING_MARKER], 1),
    ]
    status, _ = dev_suites.run_phases(phases, cwd=REPO, env=env, log=log)
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
    """`<command> [--python 3.X]... [--jobs N] [--] [arguments for pytest, the demo or the benchmarks]`."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False
    )
    parser.add_argument("command", choices=("setup", "demo", "test", "bench"))
    labels = [suite.label for suite in TEST_PYTHONS]
    parser.add_argument(
        "--python",
        action="append",
        choices=labels,
        dest="pythons",
        metavar="3.X",
        help=f"test (or set up) only under this Python; repeatable (default: all of {', '.join(labels)})",
    )
    parser.add_argument("--jobs", type=int, default=DEFAULT_JOBS, help=f"test runs at once (default {DEFAULT_JOBS})")
    argv = list(argv)
    passed_on: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, passed_on = argv[:cut], argv[cut + 1 :]
    args, unknown = parser.parse_known_args(argv)
    args.extra = [*unknown, *passed_on]  # `dev.py test -x` works as well as `dev.py test -- -x`
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    return args


def selected_pythons(args: argparse.Namespace) -> list[SuitePython]:
    """The Pythons a command sets up: the demo and the benchmarks need only 3.11's .venv."""
    if args.command in {"demo", "bench"}:
        return [TEST_PYTHONS[0]]
    wanted = set(args.pythons or [suite.label for suite in TEST_PYTHONS])
    return [suite for suite in TEST_PYTHONS if suite.label in wanted]


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    try:
        env, ready = setup(selected_pythons(args))
    except SetupError as error:
        log(f"SETUP FAILED: {error}")
        return 1
    if args.command == "demo":
        if VENV not in {suite.venv for suite in ready}:
            log("the demo needs .venv (Python 3.11); see the warning above")
            return 1
        return run_demo(env, args.extra)
    if args.command == "test":
        return run_tests(env, ready, args.extra, args.jobs)
    if args.command == "bench":
        return run_bench(env, args.extra)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
