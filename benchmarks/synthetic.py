"""Deterministic synthetic data: every value is a closed-form function of its coordinates.

Any region can be regenerated on its own, so a read is verified block by block without
holding a second copy of the whole array (which would distort the peak-RSS numbers).
The values mix a smooth ramp with hashed noise in the low bits, so zstd level 1 compresses
them about 1.5-2.5x, like real measurement data, rather than to almost nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

Region = tuple[slice, ...]
BlockFn = Callable[[Region], np.ndarray]

_MIX_A = np.uint32(0x9E3779B1)
_MIX_B = np.uint32(0x85EBCA77)
_MIX_C = np.uint32(0xC2B2AE3D)
_MIX_D = np.uint32(0x2C1B3C6D)


def _hash3(z: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """A cheap integer hash of broadcast uint32 coordinates (wrapping arithmetic)."""
    h = (z * _MIX_A) ^ (y * _MIX_B) ^ (x * _MIX_C)
    h ^= h >> np.uint32(15)
    h *= _MIX_D
    h ^= h >> np.uint32(13)
    return h


def _axes(region: Region) -> list[np.ndarray]:
    return [np.arange(s.start, s.stop, dtype=np.uint32) for s in region]


def volume_block(region: Region) -> np.ndarray:
    """uint16 values of the 3-D volume over ``region`` (three unit-step slices)."""
    zs, ys, xs = _axes(region)
    z, y, x = zs[:, None, None], ys[None, :, None], xs[None, None, :]
    smooth = ((z + y + x * np.uint32(2)) >> np.uint32(3)) & np.uint32(0xFFF)
    noise = _hash3(z, y, x) >> np.uint32(30)
    out: np.ndarray = ((smooth << np.uint32(2)) | noise).astype(np.uint16)
    return out


def image_values(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """uint8 values of the 2-D image at coordinates ``y``, ``x`` (broadcast)."""
    y, x = np.asarray(y, dtype=np.uint32), np.asarray(x, dtype=np.uint32)
    smooth = ((y >> np.uint32(6)) + (x >> np.uint32(6))) & np.uint32(0x3F)
    noise = _hash3(np.full((1,) * y.ndim, 7, dtype=np.uint32), y, x) >> np.uint32(30)
    out: np.ndarray = ((smooth << np.uint32(2)) | noise).astype(np.uint8)
    return out


def image_block(region: Region) -> np.ndarray:
    """uint8 values of the 2-D image over ``region`` (two unit-step slices)."""
    ys, xs = _axes(region)
    return image_values(ys[:, None], xs[None, :])


def plane_values(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """uint16 values of the 2-D point-selection plane at coordinates ``y``, ``x`` (broadcast)."""
    y, x = np.asarray(y, dtype=np.uint32), np.asarray(x, dtype=np.uint32)
    smooth = ((y + x * np.uint32(2)) >> np.uint32(3)) & np.uint32(0xFFF)
    noise = _hash3(np.full((1,) * y.ndim, 3, dtype=np.uint32), y, x) >> np.uint32(30)
    out: np.ndarray = ((smooth << np.uint32(2)) | noise).astype(np.uint16)
    return out


def plane_block(region: Region) -> np.ndarray:
    """The plane over ``region`` (two unit-step slices)."""
    ys, xs = _axes(region)
    return plane_values(ys[:, None], xs[None, :])


def random_points(shape: tuple[int, ...], count: int, seed: int) -> tuple[np.ndarray, ...]:
    """``count`` uniformly random coordinates (one int64 array per axis; repeats possible)."""
    rng = np.random.default_rng(seed)
    return tuple(rng.integers(0, n, size=count, dtype=np.int64) for n in shape)


def slabs(shape: tuple[int, ...], depth: int) -> Iterator[Region]:
    """Regions covering ``shape`` in slabs of ``depth`` along the first axis."""
    for start in range(0, shape[0], depth):
        yield (slice(start, min(start + depth, shape[0])), *(slice(0, n) for n in shape[1:]))


def fill_volume(shape: tuple[int, int, int], depth: int = 16) -> np.ndarray:
    """The whole volume, generated slab by slab into one array (no large temporaries)."""
    out = np.empty(shape, dtype=np.uint16)
    for region in slabs(shape, depth):
        out[region] = volume_block(region)
    return out


def fill_image(shape: tuple[int, int], depth: int = 512) -> np.ndarray:
    out = np.empty(shape, dtype=np.uint8)
    for region in slabs(shape, depth):
        out[region] = image_block(region)
    return out


def random_aligned_regions(shape: tuple[int, ...], edge: int, count: int, seed: int) -> list[Region]:
    """``count`` distinct random regions of ``edge`` per side, aligned to ``edge``, reproducible from ``seed``."""
    cells = tuple(n // edge for n in shape)
    total = int(np.prod(cells))
    if count > total:
        raise ValueError(f"only {total} distinct regions of edge {edge} fit in {shape}, not {count}")
    flat = np.random.default_rng(seed).choice(total, size=count, replace=False)
    picks = np.stack(np.unravel_index(flat, cells), axis=1)
    return [tuple(slice(int(i) * edge, (int(i) + 1) * edge) for i in row) for row in picks]


class VerificationError(AssertionError):
    """A library returned values that differ from the generated data."""


def verify(actual: np.ndarray, region: Region, block: BlockFn) -> None:
    """Check ``actual`` against the generated values of ``region``; raise with the first mismatch."""
    expected = block(region)
    if actual.shape != expected.shape or actual.dtype != expected.dtype:
        raise VerificationError(
            f"{region}: got {actual.dtype}{actual.shape}, expected {expected.dtype}{expected.shape}"
        )
    if not np.array_equal(actual, expected):
        where = tuple(int(i) for i in np.argwhere(actual != expected)[0])
        raise VerificationError(f"{region}: first mismatch at {where}: {actual[where]} != {expected[where]}")


def verify_whole(actual: np.ndarray, block: BlockFn, depth: int) -> None:
    """Verify a whole array slab by slab."""
    for region in slabs(actual.shape, depth):
        verify(actual[region], region, block)
