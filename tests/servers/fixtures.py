"""Server fixtures shared by the HTTP test modules (import the ones a module uses)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from .nginx import NginxServer, find_nginx


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NginxServer]:
    """Debian's nginx serving a fresh directory on 127.0.0.1 (skips locally without nginx; fails in CI)."""
    binary = find_nginx()
    if binary is None:
        reason = "nginx is not installed (apt-get install -y nginx-light)"
        if in_ci():
            pytest.fail(reason + "; CI=true, so this is a failure")
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("nginx-root")
    root.chmod(0o755)
    server = NginxServer(root, tmp_path_factory.mktemp("nginx-work"), binary).start()
    yield server
    server.stop()
