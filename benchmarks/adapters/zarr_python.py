"""zarr-python 3.4 with its default (batched) pipeline, its fused pipeline, or the zarrs pipeline."""

from __future__ import annotations

import importlib
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..config import ZSTD_LEVEL, Layout
from .base import Adapter, Location, NotSupportedError, Region, package_version

PIPELINES = {
    "zarr-python": "zarr.core.codec_pipeline.BatchedCodecPipeline",
    "zarr-python-fused": "zarr.core.codec_pipeline.FusedCodecPipeline",
    "zarr-python-zarrs": "zarrs.ZarrsCodecPipeline",
}


class ZarrPythonAdapter(Adapter):
    def __init__(self, name: str) -> None:
        self.name = name
        self.pipeline = PIPELINES[name]
        self._stores: list[Any] = []

    def setup(self) -> None:
        import zarr
        import zarr.api.asynchronous
        import zarr.storage

        if self.name == "zarr-python-zarrs":
            import zarrs  # noqa: F401  (the pipeline class must be importable)
        importlib.import_module("fsspec.implementations.http")  # FsspecStore's HTTP client, imported before timing

        zarr.config.set({"codec_pipeline.path": self.pipeline})
        warnings.filterwarnings("ignore", module="zarr")

    def version(self) -> str:
        base = f"zarr {package_version('zarr')}"
        return f"{base} + zarrs {package_version('zarrs')}" if self.name == "zarr-python-zarrs" else base

    def _store(self, where: Location) -> Any:
        if not where.remote:
            return where.root
        from zarr.storage import FsspecStore

        store = FsspecStore.from_url(where.root, read_only=True)
        self._stores.append(store)
        return store

    def create(self, path: Path, shape: tuple[int, ...], dtype: str, layout: Layout, durable: bool = False) -> Any:
        import zarr
        from zarr.codecs import ZstdCodec

        if durable:
            raise NotSupportedError("zarr-python's LocalStore has no option to fsync what it writes")

        return zarr.create_array(
            store=str(path),
            shape=shape,
            dtype=dtype,
            chunks=layout.chunks,
            shards=layout.shards,
            compressors=[ZstdCodec(level=ZSTD_LEVEL, checksum=False)],
            fill_value=0,
            overwrite=True,
        )

    def write(self, handle: Any, data: np.ndarray) -> None:
        handle[...] = data

    def write_region(self, handle: Any, region: Region, data: np.ndarray) -> None:
        handle[region] = data

    def open(self, where: Location) -> Any:
        import zarr

        return zarr.open_array(store=self._store(where), mode="r")

    def read(self, handle: Any, region: Region) -> np.ndarray:
        return np.asarray(handle[region])

    def open_memory(self, files: dict[str, bytes]) -> Any:
        import zarr
        from zarr.core.buffer import cpu
        from zarr.storage import MemoryStore

        store = MemoryStore({key: cpu.Buffer.from_bytes(value) for key, value in files.items()}, read_only=True)
        return zarr.open_array(store=store, mode="r")

    def points(self, handle: Any, coords: tuple[np.ndarray, ...]) -> np.ndarray:
        return np.asarray(handle.vindex[coords])

    async def aopen(self, where: Location) -> Any:
        from zarr.api.asynchronous import open_array

        return await open_array(store=self._store(where), mode="r")

    async def aread(self, handle: Any, region: Region) -> np.ndarray:
        return np.asarray(await handle.getitem(region))

    async def aopen_group(self, where: Location) -> Any:
        from zarr.api.asynchronous import open_group

        return await open_group(store=self._store(where), mode="r")

    async def abrowse(self, group: Any) -> dict[str, tuple[int, ...]]:
        from zarr import AsyncArray

        found: dict[str, tuple[int, ...]] = {}
        async for name, node in group.members(max_depth=None):
            if isinstance(node, AsyncArray):
                found[name] = tuple(node.shape)
        return found

    async def awalk(self, group: Any) -> int:
        return len([name async for name, _ in group.members(max_depth=None)])

    def consolidate(self, path: Path) -> None:
        import zarr

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zarr-python says consolidated metadata is not in the v3 spec
            zarr.consolidate_metadata(str(path))

    def facade_roundtrip(self, calls: int) -> None:
        from zarr.core.sync import sync

        async def nothing() -> None:
            return None

        for _ in range(calls):
            sync(nothing())

    async def aclose(self) -> None:
        for store in self._stores:
            session = getattr(store.fs, "_session", None)
            if session is not None:
                await session.close()
        self._stores.clear()
