"""Server fixtures shared by the HTTP test modules (import the ones a module uses)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from prerequisites import skip_or_fail

from .faults import FaultServer
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


def fault_server_fixtures(seed: int, files: Mapping[str, bytes]) -> tuple[Any, Any]:
    """A module's two fault-server fixtures: ``server_for_module`` (one FaultServer for the
    module, its faults drawn from ``seed``) and ``server`` (that server reset, serving ``files``).

        server_for_module, server = fault_server_fixtures(seed=19, files={"v": VALUE})
    """

    @pytest.fixture(scope="module")
    def server_for_module() -> Iterator[FaultServer]:
        with FaultServer(seed=seed) as server:
            yield server

    @pytest.fixture
    def server(server_for_module: FaultServer) -> FaultServer:
        server_for_module.reset()
        server_for_module.files = dict(files)
        return server_for_module

    return server_for_module, server
