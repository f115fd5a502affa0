"""Missing prerequisites: skipped on a developer's machine, failures in CI (CI=true), where
the project's setup installs every one of them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

__all__ = ["CONFORMANCE_ENV", "conformance_location", "in_ci", "pytest_runtest_setup", "skip_or_fail", "skip_without"]

CONFORMANCE_ENV = "ZARRIO_CONFORMANCE"


def conformance_location() -> Path:
    """Where the shared conformance corpus should be: $ZARRIO_CONFORMANCE, else `../shared/conformance`
    next to the repository. It may be missing: the `conformance_dir` fixture (tests/conftest.py) skips,
    or fails in CI; modules that parametrize over the corpus at collection use this same place."""
    override = os.environ.get(CONFORMANCE_ENV)
    return Path(override) if override else Path(__file__).resolve().parent.parent.parent / "shared" / "conformance"


def in_ci() -> bool:
    """True when running under CI (CI=true), where missing prerequisites are failures, not skips."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def skip_or_fail(reason: str) -> NoReturn:
    """Skip the test with `reason`, or fail it when running in CI."""
    if in_ci():
        pytest.fail(f"{reason} (a failure, not a skip, because CI=true)")
    pytest.skip(reason)


def skip_without(what: str, missing: ImportError) -> NoReturn:
    """For an optional import that failed: skip (the whole module, when called at its top level),
    or raise the ImportError itself in CI."""
    if in_ci():
        raise missing
    pytest.skip(f"{what} is not installed ({missing})", allow_module_level=True)


#: the reason of pytest's skip mark for a parametrize that got no values
EMPTY_PARAMETER_SET = "got empty parameter set"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A hook (tests/conftest.py takes it): with CI=true a test parametrized over nothing fails instead
    of skipping, since its values come from something that is missing (a corpus, a server's data)."""
    if not in_ci():
        return
    for mark in item.iter_markers("skip"):
        reason = str(mark.kwargs.get("reason", ""))
        if reason.startswith(EMPTY_PARAMETER_SET):
            pytest.fail(f"{reason}: whatever provides its values is missing (a failure, not a skip, because CI=true)")
