"""Generate the data sets the read workloads use, once per size set (cached by a stamp file).

The reference writer is zarr-python (default pipeline), so every library reads the same bytes,
written the way the most common Zarr v3 producer writes them. Run in its own process:
``python -m benchmarks.prepare --data-dir DIR [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .config import DEFAULT_DATA_DIR, ZSTD_LEVEL, DataPaths, Layout, Sizes, data_paths, point_sizes, sizes_for
from .extra_data import ensure_extras
from .synthetic import fill_image, fill_volume, plane_block, verify_whole, volume_block


def zstd_codec_json() -> dict[str, Any]:
    return {"name": "zstd", "configuration": {"level": ZSTD_LEVEL, "checksum": False}}


def write_with_zarr_python(path: Path, data: np.ndarray, layout: Layout) -> None:
    import zarr
    from zarr.codecs import ZstdCodec

    if path.exists():
        shutil.rmtree(path)
    array = zarr.create_array(
        store=str(path),
        shape=data.shape,
        dtype=data.dtype,
        chunks=layout.chunks,
        shards=layout.shards,
        compressors=[ZstdCodec(level=ZSTD_LEVEL, checksum=False)],
        fill_value=0,
        zarr_format=3,
    )
    array[...] = data


def hierarchy_layout(sizes: Sizes) -> dict[str, tuple[int, ...]]:
    """Array paths of the browsing hierarchy and their shapes (groups are implied by the paths)."""
    arrays: dict[str, tuple[int, ...]] = {}
    for g in range(sizes.hierarchy_groups):
        for a in range(sizes.hierarchy_arrays_per_group):
            arrays[f"group{g}/array{a}"] = (64 + 8 * g, 32 + a)
        arrays[f"group{g}/nested/deep/leaf"] = (16, 16, 4)
    return arrays


def write_hierarchy(path: Path, sizes: Sizes) -> None:
    import zarr

    if path.exists():
        shutil.rmtree(path)
    root = zarr.open_group(str(path), mode="w", attributes={"title": "zarrio benchmark hierarchy"})
    for name, shape in hierarchy_layout(sizes).items():
        array = root.create_array(name, shape=shape, dtype="float32", chunks=shape, attributes={"name": name})
        array[...] = np.arange(np.prod(shape), dtype="float32").reshape(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zarr-python says consolidated metadata is not in the v3 spec
        zarr.consolidate_metadata(str(path))


def build(paths: DataPaths, sizes: Sizes) -> dict[str, float]:
    """Write every data set; returns seconds spent per data set."""
    spent: dict[str, float] = {}
    paths.root.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    volume = fill_volume(sizes.volume_shape)
    write_with_zarr_python(paths.volume_plain, volume, sizes.volume_plain)
    write_with_zarr_python(paths.volume_sharded, volume, sizes.volume_sharded)
    spent["volume"] = time.perf_counter() - started
    del volume
    started = time.perf_counter()
    image = fill_image(sizes.image_shape)
    write_with_zarr_python(paths.image_plain, image, sizes.image_plain)
    write_with_zarr_python(paths.image_sharded, image, sizes.image_sharded)
    spent["image"] = time.perf_counter() - started
    del image
    started = time.perf_counter()
    write_hierarchy(paths.hierarchy, sizes)
    spent["hierarchy"] = time.perf_counter() - started
    return spent


def self_check(paths: DataPaths, sizes: Sizes) -> None:
    """Read the volume back with zarr-python and compare with the generator (guards the data itself)."""
    import zarr

    data = zarr.open_array(str(paths.volume_sharded), mode="r")[...]
    verify_whole(np.asarray(data), volume_block, 32)


def stored_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def ensure_points(paths: DataPaths, sizes: Sizes, force: bool = False) -> None:
    """Build the point-selection plane (V1) unless its own stamp says it exists."""
    points = point_sizes(sizes)
    if paths.points_stamp.is_file() and not force:
        return
    started = time.perf_counter()
    region = tuple(slice(0, n) for n in points.shape)
    write_with_zarr_python(paths.points_sharded, plane_block(region), points.layout)
    seconds = time.perf_counter() - started
    summary = {"seconds": seconds, "stored_bytes": stored_bytes(paths.points_sharded)}
    paths.points_stamp.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


def ensure_data(data_dir: Path, sizes: Sizes, force: bool = False) -> DataPaths:
    """Build the data sets unless a stamp says they already exist for these sizes."""
    paths = data_paths(data_dir, sizes)
    if paths.stamp.is_file() and not force:
        ensure_points(paths, sizes)
        ensure_extras(paths, sizes)
        return paths
    if paths.root.exists():
        shutil.rmtree(paths.root)
    spent = build(paths, sizes)
    self_check(paths, sizes)
    summary = {
        "seconds": spent,
        "stored_bytes": {
            p.name: stored_bytes(p)
            for p in (paths.volume_plain, paths.volume_sharded, paths.image_plain, paths.image_sharded, paths.hierarchy)
        },
    }
    paths.stamp.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    ensure_points(paths, sizes, force=True)
    ensure_extras(paths, sizes, force=True)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description="generate the benchmark data sets")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    paths = ensure_data(args.data_dir, sizes_for(args.quick), force=args.force)
    print(paths.stamp.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
