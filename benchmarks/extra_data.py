"""The data sets of the issue 15 and 18 rows, each built once and cached by a stamp of its own
(so adding them rebuilt none of the other data sets):

- *tiny*: the image generator on a 2000² uint8 array (400² in quick mode) in chunks of 10², 20²
  and 50², plain and in 1000² shards (200²), written by zarr-python (T, P rows);
- *v2*: Zarr v2 copies of the 64³-chunk volume and of the unsharded image, written by zarr-python
  with ``zarr_format=2`` and the numcodecs zstd compressor at level 1 (the v2 rows of L3 and H1);
- *hierarchies*: unconsolidated hierarchies of 5,000 and 20,000 small arrays in groups of 100
  (200 and 800 in quick mode), every ``zarr.json`` a copy of one zarr-python wrote (G1 rows).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from .config import HIERARCHY_ARRAYS_PER_GROUP, ZSTD_LEVEL, DataPaths, Sizes, hierarchy_scales, tiny_sizes
from .synthetic import fill_image, fill_volume


def _stored_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _stamp(path: Path, summary: dict[str, Any]) -> None:
    path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


def ensure_tiny(paths: DataPaths, sizes: Sizes, force: bool = False) -> None:
    from .prepare import write_with_zarr_python

    if paths.tiny_stamp.is_file() and not force:
        return
    tiny = tiny_sizes(sizes)
    image = fill_image(tiny.shape, depth=200)
    spent: dict[str, float] = {}
    for layout in tiny.layouts():
        started = time.perf_counter()
        write_with_zarr_python(paths.tiny(layout), image, layout)
        spent[layout.name] = time.perf_counter() - started
    stored = {layout.name: _stored_bytes(paths.tiny(layout)) for layout in tiny.layouts()}
    _stamp(paths.tiny_stamp, {"seconds": spent, "stored_bytes": stored})


def write_v2_with_zarr_python(path: Path, data: np.ndarray, chunks: tuple[int, ...]) -> None:
    """A Zarr v2 array the way zarr-python 3 writes one: ``.zarray``, '.' separated keys, numcodecs zstd."""
    import numcodecs
    import zarr

    if path.exists():
        shutil.rmtree(path)
    array = zarr.create_array(
        store=str(path),
        shape=data.shape,
        dtype=data.dtype,
        chunks=chunks,
        compressors=numcodecs.Zstd(level=ZSTD_LEVEL),
        fill_value=0,
        zarr_format=2,
    )
    array[...] = data


def ensure_v2(paths: DataPaths, sizes: Sizes, force: bool = False) -> None:
    if paths.v2_stamp.is_file() and not force:
        return
    started = time.perf_counter()
    write_v2_with_zarr_python(paths.volume_plain_v2, fill_volume(sizes.volume_shape), sizes.volume_plain.chunks)
    write_v2_with_zarr_python(paths.image_plain_v2, fill_image(sizes.image_shape), sizes.image_plain.chunks)
    stored = {p.name: _stored_bytes(p) for p in (paths.volume_plain_v2, paths.image_plain_v2)}
    _stamp(paths.v2_stamp, {"seconds": time.perf_counter() - started, "stored_bytes": stored})


def hierarchy_names(arrays: int, per_group: int = HIERARCHY_ARRAYS_PER_GROUP) -> tuple[list[str], list[str]]:
    """(group paths, array paths) of a hierarchy of ``arrays`` arrays, ``per_group`` to a group."""
    groups = [f"g{g:04d}" for g in range(-(-arrays // per_group))]
    names = [f"{groups[i // per_group]}/a{i % per_group:03d}" for i in range(arrays)]
    return groups, names


def _templates() -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``zarr.json`` of a small array and of a group, as zarr-python 3 writes them."""
    import zarr

    with tempfile.TemporaryDirectory() as tmp:
        root = zarr.open_group(tmp, mode="w", zarr_format=3)
        root.create_array("a", shape=(4,), dtype="float32", chunks=(4,), fill_value=0)
        group = json.loads((Path(tmp) / "zarr.json").read_text(encoding="utf-8"))
        array = json.loads((Path(tmp) / "a" / "zarr.json").read_text(encoding="utf-8"))
    return group, array


def write_hierarchy_of(path: Path, arrays: int, templates: tuple[dict[str, Any], dict[str, Any]] | None = None) -> None:
    """Write the hierarchy's ``zarr.json`` files: copies of ``templates`` (a group's and an array's
    document; by default the ones zarr-python writes), each named in its attributes."""
    group_doc, array_doc = templates or _templates()
    if path.exists():
        shutil.rmtree(path)
    groups, names = hierarchy_names(arrays)
    for rel, doc in [("", group_doc), *((g, group_doc) for g in groups), *((n, array_doc) for n in names)]:
        node = path / rel
        node.mkdir(parents=True, exist_ok=True)
        body = {**doc, "attributes": {"name": rel or "/"}}
        (node / "zarr.json").write_text(json.dumps(body, indent=2), encoding="utf-8")


def ensure_hierarchies(paths: DataPaths, sizes: Sizes, force: bool = False) -> None:
    if paths.hierarchies_stamp.is_file() and not force:
        return
    spent: dict[str, float] = {}
    for arrays in hierarchy_scales(sizes):
        started = time.perf_counter()
        write_hierarchy_of(paths.hierarchy_of(arrays), arrays)
        spent[str(arrays)] = time.perf_counter() - started
    _stamp(paths.hierarchies_stamp, {"seconds": spent})


def ensure_extras(paths: DataPaths, sizes: Sizes, force: bool = False) -> None:
    ensure_tiny(paths, sizes, force)
    ensure_v2(paths, sizes, force)
    ensure_hierarchies(paths, sizes, force)
