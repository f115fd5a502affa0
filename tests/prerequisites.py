"""Missing prerequisites: skipped on a developer's machine, failures in CI (CI=true), where
the project's setup installs every one of them."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

__all__ = ["in_ci", "skip_or_fail", "skip_without"]


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
