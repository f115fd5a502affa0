"""nox sessions for zarrio: tests, lint, typecheck, docs, benchmarks.

    .venv/bin/nox -l            # list
    .venv/bin/nox -s tests -- -k zip -x

The tests session runs on each supported Python (3.11, 3.12, 3.13: `nox -s tests-3.13` picks one); the
others run on Python 3.11. Sessions reuse their virtual environments under .nox/. Every tests session
finds the reference interpreter (.venv-ref, Python 3.12, built by `python3 scripts/dev.py setup`)
through tests/conftest.py; ZARRIO_REF_PYTHON overrides it.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nox

sys.path.insert(0, str(Path(__file__).resolve().parent / "scripts"))
from dev_pythons import PYENV_PINS

PYTHON = "3.11"
#: the Pythons the whole suite runs on: pyproject.toml's classifiers, scripts/dev.py's venvs
TEST_PYTHONS = [f"{major}.{minor}" for major, minor in sorted(PYENV_PINS)]

# pyenv's shims answer `python3.12` only for a selected version: select the pinned ones that are installed
# (when nothing else is), so that nox finds every interpreter it is asked for
_PYENV_VERSIONS = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
_INSTALLED_PINS = [pin for _, pin in sorted(PYENV_PINS.items()) if (_PYENV_VERSIONS / pin).is_dir()]
if shutil.which("pyenv") and "PYENV_VERSION" not in os.environ and _INSTALLED_PINS:
    os.environ["PYENV_VERSION"] = ":".join(_INSTALLED_PINS)

nox.options.reuse_venv = "yes"
nox.options.sessions = ["lint", "typecheck", "tests"]


def every_extra() -> str:
    """`.[a,b,...]` with every optional-dependency group of pyproject.toml, as scripts/dev.py installs."""
    extras = nox.project.load_toml("pyproject.toml")["project"].get("optional-dependencies", {})
    return f".[{','.join(sorted(extras))}]"


@nox.session(python=TEST_PYTHONS)
def tests(session: nox.Session) -> None:
    """The whole pytest suite, every extra installed so its tests run (arguments after -- go to pytest)."""
    session.install("-e", every_extra())
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole repository."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the zarrio package (configuration in pyproject.toml)."""
    session.install("-e", ".[dev]")
    session.run("mypy", "--strict", "zarrio")


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the site with `mkdocs build --strict` (offline) and run every python block of README.md and docs/."""
    # the extras docs/scaling.md uses; ruff lets mkdocstrings format signatures
    session.install("-e", ".[test,docs,dask,xarray,obstore]", "ruff")
    session.run("mkdocs", "build", "--strict", "--site-dir", "site", env={"NO_MKDOCS_2_WARNING": "1"})
    docs_tests = ["tests/test_docs_examples.py", "tests/test_docs_build.py", "tests/test_docs_store_suite.py"]
    session.run("python", "-m", "pytest", *docs_tests, "tests/test_docs_interop.py", *session.posargs)


@nox.session(python="3.12")
def benchmarks(session: nox.Session) -> None:
    """Run the benchmarks package side by side with the peers (python -m benchmarks; arguments after --
    are passed on). Python 3.12, because zarr-python 3.4 needs it; every library runs in the same one."""
    session.install("zarr==3.4.2", "tensorstore==0.1.86", "-r", "benchmarks/requirements.txt")
    session.install("--no-deps", "-e", ".")
    session.run("python", "-m", "benchmarks", *session.posargs)
