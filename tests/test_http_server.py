"""The dev server ``zarrio.server``: ranges, HEAD, ETag, path safety, latency, life cycle."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import aiohttp
import pytest
from yarl import URL

from zarrio.errors import StoreError
from zarrio.server import RangeNotSatisfiable, parse_range, serve

pytestmark = pytest.mark.timeout(30)

DATA = bytes(range(200))


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("bytes=0-9", 200, (0, 10)),
        ("bytes=190-300", 200, (190, 200)),
        ("bytes=5-", 200, (5, 200)),
        ("bytes=-10", 200, (190, 200)),
        ("bytes=-500", 200, (0, 200)),
        ("bytes=199-199", 200, (199, 200)),
        (None, 200, None),
        ("", 200, None),
        ("items=0-9", 200, None),
        ("bytes=0-1,4-5", 200, None),  # several ranges: the whole value is allowed
        ("bytes=9-3", 200, None),
        ("bytes=a-b", 200, None),
        ("bytes=-", 200, None),
    ],
)
def test_parse_range(header: str | None, size: int, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, size) == expected


@pytest.mark.parametrize(
    ("header", "size"), [("bytes=200-210", 200), ("bytes=0-0", 0), ("bytes=-5", 0), ("bytes=-0", 9)]
)
def test_parse_range_unsatisfiable(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, size)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "served" / "d").mkdir(parents=True)
    (tmp_path / "served" / "d" / "v").write_bytes(DATA)
    (tmp_path / "served" / "empty").write_bytes(b"")
    (tmp_path / "secret").write_bytes(b"outside")
    (tmp_path / "served" / "link").symlink_to(tmp_path / "secret")
    return tmp_path / "served"


async def test_ranges_head_and_etag(root: Path) -> None:
    async with serve(root) as server, aiohttp.ClientSession() as session:
        async with session.get(server.url + "/d/v", headers={"Range": "bytes=10-19"}) as r:
            assert (r.status, await r.read(), r.headers["Content-Range"]) == (206, DATA[10:20], "bytes 10-19/200")
            etag = r.headers["ETag"]
        async with session.get(server.url + "/d/v", headers={"Range": "bytes=-5"}) as r:
            assert (r.status, await r.read(), r.headers["Content-Range"]) == (206, DATA[-5:], "bytes 195-199/200")
        async with session.get(server.url + "/d/v", headers={"Range": "bytes=500-"}) as r:
            assert (r.status, r.headers["Content-Range"]) == (416, "bytes */200")
        async with session.get(server.url + "/empty", headers={"Range": "bytes=-5"}) as r:
            assert (r.status, r.headers["Content-Range"]) == (416, "bytes */0")
        async with session.head(server.url + "/d/v") as r:
            assert (r.status, r.headers["Content-Length"], await r.read()) == (200, "200", b"")
        async with session.get(server.url + "/d/v", headers={"If-Match": etag}) as r:
            assert (r.status, await r.read()) == (200, DATA)
        async with session.get(server.url + "/d/v", headers={"If-Match": '"other"'}) as r:
            assert r.status == 412
        for missing in ("/d", "/d/", "/nope", "/"):
            async with session.get(server.url + missing) as r:
                assert r.status == 404, missing
        assert server.request_count == 11


async def test_paths_escaping_the_directory_are_refused(root: Path) -> None:
    async with serve(root) as server, aiohttp.ClientSession() as session:
        for raw in ("/../secret", "/d/../../secret", "/%2E%2E/secret", "/link", "/d/..%2F..%2Fsecret"):
            async with session.get(URL(server.url + raw, encoded=True)) as r:
                assert r.status == 404, raw
                assert b"outside" not in await r.read()


def test_from_a_background_thread_with_latency(root: Path) -> None:
    with serve(root, latency=0.2) as server:
        assert server.url.startswith("http://127.0.0.1:")

        async def fetch() -> bytes:
            async with aiohttp.ClientSession() as session, session.get(server.url + "/d/v") as r:
                return await r.read()

        started = time.monotonic()
        assert asyncio.run(fetch()) == DATA
        assert time.monotonic() - started >= 0.2
        port = server.port
    with socket.socket() as probe:  # stopped: the port no longer accepts connections
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    server.stop()  # idempotent


def test_refuses_non_loopback_hosts_and_non_directories(root: Path) -> None:
    with pytest.raises(StoreError, match="loopback"):
        serve(root, host="0.0.0.0")
    with pytest.raises(StoreError, match="not a directory"):
        serve(root / "empty")
    with pytest.raises(StoreError, match="not running"):
        _ = serve(root).url


def test_port_in_use_is_a_store_error(root: Path) -> None:
    with serve(root) as first, pytest.raises(StoreError, match="cannot listen"):
        serve(root, port=first.port).start()
