"""zarrio through its public sync facade and its async API."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np

from ..config import ZSTD_LEVEL, Layout
from .base import Adapter, Location, Region, package_version


class ZarrioAdapter(Adapter):
    name = "zarrio"

    def __init__(self) -> None:
        self._stores: list[Any] = []

    def setup(self) -> None:
        import aiohttp  # noqa: F401  (HttpStore's client: imported here so no timed step pays for it)

        import zarrio
        import zarrio.aio
        import zarrio.stores.http  # noqa: F401  (loaded lazily by zarrio.stores; FsspecStore's HTTP module is imported likewise)

    def version(self) -> str:
        return f"zarrio {package_version('zarrio')}"

    def _store(self, where: Location) -> Any:
        if not where.remote:
            return where.root
        import zarrio.stores

        store = zarrio.stores.HttpStore(where.root)
        self._stores.append(store)
        return store

    def create(self, path: Path, shape: tuple[int, ...], dtype: str, layout: Layout, durable: bool = False) -> Any:
        import zarrio
        import zarrio.stores

        return zarrio.create(
            zarrio.stores.LocalStore(path, fsync=True) if durable else str(path),
            shape,
            dtype,
            chunks=layout.chunks,
            shards=layout.shards,
            codecs=[{"name": "zstd", "configuration": {"level": ZSTD_LEVEL, "checksum": False}}],
            fill_value=0,
            overwrite=True,
        )

    def write(self, handle: Any, data: np.ndarray) -> None:
        handle[...] = data

    def write_region(self, handle: Any, region: Region, data: np.ndarray) -> None:
        handle[region] = data

    def open(self, where: Location) -> Any:
        import zarrio

        return zarrio.open(self._store(where), mode="r")

    def read(self, handle: Any, region: Region) -> np.ndarray:
        return np.asarray(handle[region])

    def open_cached(self, where: Location, cache_bytes: int) -> Any:
        import zarrio

        return zarrio.open_array(self._store(where), mode="r", cache_bytes=cache_bytes)

    def open_memory(self, files: dict[str, bytes]) -> Any:
        import zarrio
        import zarrio.stores

        store = zarrio.stores.MemoryStore()

        async def fill() -> None:
            await asyncio.gather(*(store.set(key, value) for key, value in files.items()))

        zarrio.run(fill())
        return zarrio.open(store, mode="r")

    def points(self, handle: Any, coords: tuple[np.ndarray, ...]) -> np.ndarray:
        return np.asarray(handle.vindex[coords])

    async def aopen(self, where: Location) -> Any:
        import zarrio.aio

        return await zarrio.aio.open(self._store(where), mode="r")

    async def aread(self, handle: Any, region: Region) -> np.ndarray:
        return np.asarray(await handle.getitem(region))

    async def aopen_group(self, where: Location) -> Any:
        import zarrio.aio

        return await zarrio.aio.open(self._store(where), mode="r")

    async def abrowse(self, group: Any) -> dict[str, tuple[int, ...]]:
        import zarrio.aio

        found: dict[str, tuple[int, ...]] = {}
        for name, node in await group.members():
            if isinstance(node, zarrio.aio.AsyncArray):
                found[name] = tuple(node.shape)
            else:
                found.update({f"{name}/{k}": v for k, v in (await self.abrowse(node)).items()})
        return found

    async def awalk(self, group: Any) -> int:
        return len(await group.walk())

    def consolidate(self, path: Path) -> None:
        import zarrio

        zarrio.consolidate_metadata(str(path))

    def facade_roundtrip(self, calls: int) -> None:
        import zarrio

        async def nothing() -> None:
            return None

        for _ in range(calls):
            zarrio.run(nothing())

    def transport_stats(self) -> dict[str, Any]:
        stats = [store.stats() for store in self._stores if hasattr(store, "stats")]
        keys = ("requests", "retries", "hedges", "hedges_won", "multirange_requests")
        return {f"zarrio_{key}": sum(getattr(s, key) for s in stats) for key in keys} if stats else {}

    async def aclose(self) -> None:
        for store in self._stores:
            await store.close()
        self._stores.clear()
