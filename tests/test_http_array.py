"""Arrays over HTTP: the seed's HTTP lines against nginx, request counts, and
shards replaced while they are being read."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from servers.faults import FaultServer
from servers.nginx import NginxServer

import zarrio
from zarrio.errors import ListingNotSupportedError
from zarrio.stores import HttpStore, MemoryStore

pytestmark = pytest.mark.timeout(90)

SHAPE = (4096, 512)
DATA = (np.arange(SHAPE[0] * SHAPE[1], dtype=np.uint32) % 65521).astype("uint16").reshape(SHAPE)
ZSTD = [{"name": "zstd", "configuration": {"level": 1, "checksum": False}}]


@pytest.fixture(scope="module")
def site(nginx: NginxServer) -> str:
    """A hierarchy written into nginx's root: a sharded 'temperature' and an unsharded copy."""
    root = nginx.root / "site.zarr"
    zarrio.create_group(str(root), attributes={"title": "seed"})
    t = zarrio.create(
        str(root), SHAPE, "uint16", path="temperature", chunks=(256, 256), shards=(1024, 512), codecs=ZSTD
    )
    t[...] = DATA
    u = zarrio.create(str(root), SHAPE, "uint16", path="plain/temperature", chunks=(256, 256), codecs=ZSTD)
    u[...] = DATA
    return f"{nginx.url}/site.zarr"


def requests_since(nginx: NginxServer, mark: int) -> list[Any]:
    return nginx.access_log()[mark:]


def test_the_seed_http_lines(site: str, nginx: NginxServer) -> None:
    store = zarrio.stores.HttpStore(site)
    z = zarrio.open(store, path="temperature")  # direct opens always work
    tile = z[0:512, 0:512]
    assert np.array_equal(tile, DATA[0:512, 0:512])

    async def service() -> list[np.ndarray[Any, Any]]:
        a = await zarrio.aio.open(store, path="temperature")
        return await asyncio.gather(*(a.getitem((slice(i, i + 256), slice(0, 256))) for i in range(0, 4096, 256)))

    tiles = zarrio.run(service())
    for i, t in zip(range(0, 4096, 256), tiles, strict=True):
        assert np.array_equal(t, DATA[i : i + 256, 0:256])


def test_opening_an_array_is_one_request(site: str, nginx: NginxServer) -> None:
    mark = len(nginx.access_log())
    a = zarrio.open(HttpStore(site), path="plain/temperature")
    assert a.shape == SHAPE
    assert len(requests_since(nginx, mark)) == 1


def test_a_whole_shard_window_is_one_request(site: str, nginx: NginxServer) -> None:
    a = zarrio.open(HttpStore(site), path="temperature")
    mark = len(nginx.access_log())
    assert np.array_equal(a[1024:2048, :], DATA[1024:2048])
    # nginx logs a request once it has answered it: the open's zarr.json line can land after the mark
    sent = [r for r in requests_since(nginx, mark) if "zarr.json" not in r.uri]
    assert len(sent) == 1, sent


def test_tiles_of_a_shard_cost_one_index_request(site: str, nginx: NginxServer) -> None:
    async def read() -> list[np.ndarray[Any, Any]]:
        a = await zarrio.aio.open(HttpStore(site), path="temperature")
        windows = [(slice(y, y + 256), slice(x, x + 256)) for y in (0, 512) for x in (0, 256)]
        return await asyncio.gather(*(a.getitem(w) for w in windows))

    mark = len(nginx.access_log())
    got = zarrio.run(read())
    expected = [DATA[y : y + 256, x : x + 256] for y in (0, 512) for x in (0, 256)]
    assert all(np.array_equal(g, e) for g, e in zip(got, expected, strict=True))
    sent = [r for r in requests_since(nginx, mark) if "zarr.json" not in r.uri]
    # one suffix request for the shard index, then at most one ranged request per tile
    assert sum(r.range.startswith("bytes=-") for r in sent) == 1, sent
    assert len(sent) <= 1 + 4, sent


def test_browsing_over_http_needs_consolidated_metadata(site: str, nginx: NginxServer) -> None:
    with pytest.raises(ListingNotSupportedError, match="consolidat"):
        zarrio.open(HttpStore(site)).members()
    local = str(nginx.root / "site.zarr")
    zarrio.consolidate_metadata(local)
    mark = len(nginx.access_log())
    g = zarrio.open(HttpStore(site))
    assert [n for n, _ in g.members()] == ["plain", "temperature"]
    assert g["plain/temperature"].shape == SHAPE
    assert "temperature (4096, 512) uint16" in g.tree()
    assert len(requests_since(nginx, mark)) == 1  # opening a consolidated hierarchy is one request


def test_a_shard_replaced_between_index_and_data_reads_gives_the_new_data() -> None:
    source = MemoryStore()
    z = zarrio.create(source, (64, 64), "int32", chunks=(8, 8), shards=(64, 64))
    z[...] = 1
    with FaultServer(seed=3) as server:
        server.files = {k: v for k, v in source._values.items()}

        async def scenario() -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
            a = await zarrio.aio.open(HttpStore(server.url), mode="r")
            before = await a.getitem((slice(0, 8), slice(0, 8)))  # caches the index, pins the version
            await z.aio.setitem(..., 2)  # the shard is rewritten at the source...
            server.files = {k: v for k, v in source._values.items()}  # ...and published
            after = await a.getitem((slice(8, 16), slice(0, 8)))  # stale index: If-Match fails, re-read
            return before, after

        before, after = zarrio.run(scenario())
    assert (before == 1).all()
    assert (after == 2).all()


def test_unsharded_tiles_read_concurrently_and_correctly(site: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    corners = [(int(y) * 256, int(x) * 256) for y, x in rng.integers(0, [16, 2], (40, 2))]

    async def read() -> list[np.ndarray[Any, Any]]:
        a = await zarrio.aio.open(HttpStore(site), path="plain/temperature")
        return await asyncio.gather(*(a.getitem((slice(y, y + 256), slice(x, x + 256))) for y, x in corners))

    for (y, x), tile in zip(corners, zarrio.run(read()), strict=True):
        assert np.array_equal(tile, DATA[y : y + 256, x : x + 256])
