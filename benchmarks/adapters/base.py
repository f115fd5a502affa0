"""What every library adapter offers the workloads: create/write, sync and async reads, browsing.

An adapter is used by one child process for one workload; it may configure its library globally.
"""

from __future__ import annotations

import importlib.metadata
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Layout

Region = tuple[slice, ...]


@dataclass(frozen=True)
class Location:
    """Where a Zarr node lives: a local directory, or an HTTP base URL (``remote``)."""

    root: str
    remote: bool = False
    #: the Zarr format stored there (zarrio and zarr-python find it themselves; tensorstore needs a driver)
    zarr_format: int = 3

    @classmethod
    def local(cls, path: Path, zarr_format: int = 3) -> Location:
        return cls(str(path), zarr_format=zarr_format)

    @classmethod
    def http(cls, url: str, zarr_format: int = 3) -> Location:
        return cls(url.rstrip("/"), remote=True, zarr_format=zarr_format)


def package_version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "?"


class NotSupportedError(Exception):
    """The library has no way to run this workload (reported as n/a, not as a failure)."""


class Adapter(ABC):
    """One library, seen through the operations the workloads time."""

    name: str = ""

    def setup(self) -> None:  # noqa: B027 - optional hook
        """Import and configure the library (e.g. choose a codec pipeline) before anything is timed."""

    def version(self) -> str:
        return ""

    @abstractmethod
    def create(self, path: Path, shape: tuple[int, ...], dtype: str, layout: Layout, durable: bool = False) -> Any:
        """Create an empty array with zstd level 1 compression; returns a handle for ``write``.

        Writes are not flushed to the disk unless ``durable`` (fsync of every file written, as
        tensorstore's file kvstore does by default); a library without that option raises
        :class:`NotSupportedError` for ``durable``.
        """

    @abstractmethod
    def write(self, handle: Any, data: np.ndarray) -> None:
        """Write ``data`` over the whole array."""

    def write_region(self, handle: Any, region: Region, data: np.ndarray) -> None:
        """Write ``data`` into one region through the blocking API (any thread)."""
        raise NotSupportedError(f"{self.name} has no region writes")

    @abstractmethod
    def open(self, where: Location) -> Any:
        """Open an array read-only through the blocking API."""

    @abstractmethod
    def read(self, handle: Any, region: Region) -> np.ndarray:
        """Read one region through the blocking API."""

    @abstractmethod
    async def aopen(self, where: Location) -> Any:
        """Open an array read-only through the async API."""

    @abstractmethod
    async def aread(self, handle: Any, region: Region) -> np.ndarray:
        """Read one region through the async API."""

    def open_cached(self, where: Location, cache_bytes: int) -> Any:
        """``open`` with a cache of decoded chunks of ``cache_bytes`` (C1, issue 17 (b))."""
        raise NotSupportedError(f"{self.name} has no decoded-chunk cache")

    def open_memory(self, files: dict[str, bytes]) -> Any:
        """Open read-only, through the blocking API, an array held by the library's in-memory store
        filled with ``files`` (key -> stored bytes, as read from a local copy)."""
        raise NotSupportedError(f"{self.name} has no in-memory store")

    def points(self, handle: Any, coords: tuple[np.ndarray, ...]) -> np.ndarray:
        """Read the points at ``coords`` (one integer array per axis) through the blocking API."""
        raise NotSupportedError(f"{self.name} has no coordinate (vindex) selection")

    async def aopen_group(self, where: Location) -> Any:
        raise NotSupportedError(f"{self.name} has no group API")

    async def abrowse(self, group: Any) -> dict[str, tuple[int, ...]]:
        """Every array below ``group``: path -> shape."""
        raise NotSupportedError(f"{self.name} has no group API")

    async def awalk(self, group: Any) -> int:
        """Walk the whole hierarchy below ``group`` (no consolidated metadata); returns how many nodes it has."""
        raise NotSupportedError(f"{self.name} has no group API")

    def consolidate(self, path: Path) -> None:
        """Consolidate the metadata of the hierarchy rooted at the local directory ``path`` (blocking API)."""
        raise NotSupportedError(f"{self.name} has no consolidated metadata")

    def facade_roundtrip(self, calls: int) -> None:
        """Run ``calls`` no-op coroutines through the library's blocking facade, one after another."""
        raise NotSupportedError(f"{self.name} has no async core behind a blocking facade to measure")

    def transport_stats(self) -> dict[str, Any]:
        """What the library's HTTP stores report about their traffic (requests, hedges, ...), if anything."""
        return {}

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections opened by the async API (inside the loop that opened them)."""
