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

    @classmethod
    def local(cls, path: Path) -> Location:
        return cls(str(path))

    @classmethod
    def http(cls, url: str) -> Location:
        return cls(url.rstrip("/"), remote=True)


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
    def create(self, path: Path, shape: tuple[int, ...], dtype: str, layout: Layout) -> Any:
        """Create an empty array with zstd level 1 compression; returns a handle for ``write``."""

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

    def points(self, handle: Any, coords: tuple[np.ndarray, ...]) -> np.ndarray:
        """Read the points at ``coords`` (one integer array per axis) through the blocking API."""
        raise NotSupportedError(f"{self.name} has no coordinate (vindex) selection")

    async def aopen_group(self, where: Location) -> Any:
        raise NotSupportedError(f"{self.name} has no group API")

    async def abrowse(self, group: Any) -> dict[str, tuple[int, ...]]:
        """Every array below ``group``: path -> shape."""
        raise NotSupportedError(f"{self.name} has no group API")

    def facade_roundtrip(self, calls: int) -> None:
        """Run ``calls`` no-op coroutines through the library's blocking facade, one after another."""
        raise NotSupportedError(f"{self.name} has no async core behind a blocking facade to measure")

    def transport_stats(self) -> dict[str, Any]:
        """What the library's HTTP stores report about their traffic (requests, hedges, ...), if anything."""
        return {}

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections opened by the async API (inside the loop that opened them)."""
