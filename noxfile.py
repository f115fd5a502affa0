"""nox sessions for zarrio: tests, lint, typecheck, docs, benchmarks.

    .venv/bin/nox -l            # list
    .venv/bin/nox -s tests -- -k zip -x

Every session runs on Python 3.11 and reuses its virtual environment under .nox/.
The tests session finds the reference interpreter (.venv-ref, built by
`python3 scripts/dev.py setup`) through tests/conftest.py; ZARRIO_REF_PYTHON overrides it.
"""

from __future__ import annotations

import nox

PYTHON = "3.11"

nox.options.reuse_venv = "yes"
nox.options.sessions = ["lint", "typecheck", "tests"]


def every_extra() -> str:
    """`.[a,b,...]` with every optional-dependency group of pyproject.toml, as scripts/dev.py installs."""
    extras = nox.project.load_toml("pyproject.toml")["project"].get("optional-dependencies", {})
    return f".[{','.join(sorted(extras))}]"


@nox.session(python=PYTHON)
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
