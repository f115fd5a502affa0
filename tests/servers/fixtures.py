"""Server fixtures shared by the HTTP test modules (import the ones a module uses)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prerequisites import skip_or_fail

from .nginx import NginxServer, find_nginx


@pytest.fixture(scope="session")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NginxServer]:
    """Debian's nginx serving a fresh directory on 127.0.0.1 (skips locally without nginx; fails in CI)."""
    binary = find_nginx()
    if binary is None:
        skip_or_fail("nginx is not installed (apt-get install -y nginx-light)")
    root = tmp_path_factory.mktemp("nginx-root")
    root.chmod(0o755)
    server = NginxServer(root, tmp_path_factory.mktemp("nginx-work"), binary).start()
    yield server
    server.stop()
