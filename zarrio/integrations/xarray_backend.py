"""An xarray backend: ``xarray.open_dataset(path_or_url, engine="zarrio")``.

Install the optional extra: ``pip install "zarrio[xarray]"``; the entry point
``zarrio`` is registered in the ``xarray.backends`` group. It reads Zarr v3
and Zarr v2 datasets as xarray writes them (with zarr-python; for v2 the Zarr
``fill_value`` is the ``_FillValue``, as xarray reads v2):

* dimensions from the arrays' ``dimension_names`` (else the
  ``_ARRAY_DIMENSIONS`` attribute; else ``dim_0``, ``dim_1``, ...);
* attributes, with ``_FillValue`` decoded from xarray's Zarr v3 form (floats
  as base64 of a little-endian double), then CF decoding by xarray itself
  (``scale_factor``/``add_offset``, masking, time units, ``coordinates``);
* the Zarr ``fill_value`` is not a missing-value mask unless
  ``use_zarr_fill_value_as_mask=True`` (xarray's rule for Zarr v3);
* lazy loading: variables are xarray backend arrays with vectorized indexing
  (pointwise ``isel`` reads only the chunks holding the points; outer indexers
  go to ``oindex``), read through zarrio only when values are needed, blocking or
  awaited (``ds.load_async()``). ``encoding`` holds ``chunks``,
  ``preferred_chunks`` (whole shards for sharded arrays, so ``chunks={}``
  gives one dask task per shard; per-chunk sizes along the varying axes of
  a rectilinear grid), ``shards``, ``codecs`` and ``fill_value`` (``chunks``
  and ``shards`` only where they have one size per axis).

``filename_or_obj`` is a directory path, an ``http(s)://`` URL, an ``s3://``,
``gs://``, ``az://`` ... URL (through :class:`~zarrio.stores.ObjectStore`,
options in ``storage_options``), a zarrio store, or a zarrio Group.
:func:`xarray.open_datatree` (and ``open_groups``) read every group below
``group``.
"""

from __future__ import annotations

import base64
import os
import struct
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import numpy as np
from xarray import Dataset, DataTree, Variable
from xarray.backends import AbstractDataStore, BackendArray, BackendEntrypoint
from xarray.backends.store import StoreBackendEntrypoint
from xarray.core import indexing

from .. import aio, stores
from ..errors import MetadataError
from ..indexing.forms import Form
from ..sync import Array, Group

__all__ = ["ZarrioBackendArray", "ZarrioBackendEntrypoint", "ZarrioDataStore", "open_zarrio_group"]

#: where xarray keeps dimension names for arrays without ``dimension_names``
DIMENSIONS_ATTRIBUTE = "_ARRAY_DIMENSIONS"
_REMOTE_SCHEMES = ("s3://", "s3a://", "gs://", "gcs://", "az://", "azure://", "abfs://", "abfss://", "adl://")


# ---------------------------------------------------------------- opening
def open_zarrio_group(
    target: Any, *, group: str | None = None, storage_options: Mapping[str, Any] | None = None
) -> Group:
    """The zarrio group (read-only) for what ``xarray.open_dataset`` was given."""
    path = (group or "").strip("/")
    if isinstance(target, Group):
        node = target[path] if path else target
        if not isinstance(node, Group):
            raise MetadataError(f"{node.name} is an array, not a group", path=node.path)
        return node
    if isinstance(target, os.PathLike):
        target = os.fspath(target)
    from ..portal import run

    # URLs (s3://, https://, memory://, ...) and storage_options as zarrio.open_group takes them
    return Group(run(aio.open_group(target, path=path, mode="r", storage_options=storage_options)))


def _looks_like_zarr(target: Any) -> bool:
    if isinstance(target, stores.Store | Group):
        return True
    if isinstance(target, os.PathLike):
        target = os.fspath(target)
    if not isinstance(target, str):
        return False
    if target.lower().startswith((*_REMOTE_SCHEMES, "http://", "https://")):
        return target.rstrip("/").endswith(".zarr")
    # a local Zarr v3 or v2 hierarchy
    return any(os.path.isfile(os.path.join(target, name)) for name in ("zarr.json", ".zgroup", ".zarray"))


# ---------------------------------------------------------------- attributes
def decode_fill_attribute(value: Any, dtype: np.dtype[Any]) -> Any:
    """xarray's Zarr v3 ``_FillValue`` attribute as a value of ``dtype``'s kind.

    Floats are stored as the base64 of a little-endian double (so NaN
    survives JSON), complex numbers as two of those, byte strings as base64.
    """
    if isinstance(value, str) and dtype.kind in "fc":
        return struct.unpack("<d", base64.standard_b64decode(value))[0]
    if isinstance(value, list) and dtype.kind == "c" and len(value) == 2:
        real, imag = (decode_fill_attribute(part, np.dtype("float64")) for part in value)
        return complex(real, imag)
    if isinstance(value, str) and dtype.kind == "S":
        return base64.standard_b64decode(value)
    return value


def _dimension_names(array: Array) -> tuple[str, ...]:
    names = array.dimension_names
    if names is not None and all(name is not None for name in names):
        return tuple(str(name) for name in names)
    stored = array.attrs.get(DIMENSIONS_ATTRIBUTE)
    if isinstance(stored, list) and len(stored) == array.ndim:
        return tuple(str(name) for name in stored)
    if names is not None:  # some named, some not
        return tuple(str(name) if name is not None else f"dim_{i}" for i, name in enumerate(names))
    return tuple(f"dim_{i}" for i in range(array.ndim))


# ---------------------------------------------------------------- arrays and the data store
class ZarrioBackendArray(BackendArray):
    """A zarrio array seen through xarray's lazy-indexing protocol, with vectorized indexing:
    xarray's basic, outer and vectorized indexers are read as zarrio's basic, orthogonal
    (``oindex``) and coordinate (``vindex``) selections, so pointwise ``isel`` reads only
    the chunks holding the points."""

    __slots__ = ("array", "dtype", "shape")

    def __init__(self, array: Array) -> None:
        self.array = array
        self.shape = tuple(array.shape)
        self.dtype = np.dtype(array.dtype)

    def __getitem__(self, key: indexing.ExplicitIndexer) -> Any:
        form = _form_of(key)
        return indexing.explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.VECTORIZED, lambda k: self._read(form, k)
        )

    async def async_getitem(self, key: indexing.ExplicitIndexer) -> Any:
        form = _form_of(key)

        async def read(k: tuple[Any, ...]) -> np.ndarray[Any, Any]:
            return np.asarray(await self.array.aio.select(form, _points_key(form, k, self.shape)))

        return await indexing.async_explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.VECTORIZED, read
        )

    def _read(self, form: Form, key: tuple[Any, ...]) -> np.ndarray[Any, Any]:
        return np.asarray(self.array.select(form, _points_key(form, key, self.shape)))


def _form_of(key: indexing.ExplicitIndexer) -> Form:
    if isinstance(key, indexing.VectorizedIndexer):
        return "coordinate"
    if isinstance(key, indexing.OuterIndexer):
        return "orthogonal"
    return "basic"


def _points_key(form: Form, key: tuple[Any, ...], shape: tuple[int, ...]) -> tuple[Any, ...]:
    """A vectorized key with slices made arrays: xarray puts the sliced axes after the
    broadcast axes of the index arrays (its ``VectorizedIndexer`` rule)."""
    if form != "coordinate" or not any(isinstance(k, slice) for k in key):
        return key
    n_slices = sum(isinstance(k, slice) for k in key)
    arrays = [k for k in key if not isinstance(k, slice)]
    n_dim = np.ndim(arrays[0]) if arrays else 0
    out: list[Any] = []
    seen = 0
    for k, size in zip(key, shape, strict=True):
        if isinstance(k, slice):
            where = (1,) * (n_dim + seen) + (-1,) + (1,) * (n_slices - seen - 1)
            out.append(np.arange(*k.indices(size)).reshape(where))
            seen += 1
        else:
            k = np.asarray(k)
            out.append(k.reshape(k.shape + (1,) * n_slices))
    return tuple(out)


def _chunk_encoding(array: Array, dims: tuple[str, ...]) -> dict[str, Any]:
    """``chunks``, ``preferred_chunks`` and ``shards`` of a variable's encoding. For a rectilinear
    grid, ``preferred_chunks`` gives a varying axis as its per-chunk sizes (xarray and dask take
    them: ``chunks={}`` makes one dask block per stored chunk or shard); ``chunks`` (or ``shards``)
    is left out where it varies, as xarray's Zarr writer takes only one size per axis."""
    metadata = array.aio.metadata
    if metadata.is_regular:
        return {
            "chunks": tuple(array.chunks),
            "preferred_chunks": dict(zip(dims, tuple(array.shards or array.chunks), strict=True)),
            "shards": tuple(array.shards) if array.shards is not None else None,
        }
    preferred = {
        dim: axis if isinstance(axis, int) else sizes
        for dim, axis, sizes in zip(dims, metadata.chunk_grid.axis_chunks, array.aio.write_chunk_sizes, strict=True)
    }
    encoding: dict[str, Any] = {"preferred_chunks": preferred}
    if any(c.get("name") == "sharding_indexed" for c in metadata.codecs):
        encoding["chunks"] = tuple(array.chunks)  # the inner chunks of varying shards are regular
    return encoding


class ZarrioDataStore(AbstractDataStore):
    """One group's arrays as xarray variables (read-only)."""

    def __init__(self, group: Group, *, use_zarr_fill_value_as_mask: bool = False) -> None:
        self.group = group
        self.use_zarr_fill_value_as_mask = use_zarr_fill_value_as_mask

    def open_store_variable(self, array: Array) -> Variable:
        dims = _dimension_names(array)
        attrs = {k: v for k, v in array.attrs.asdict().items() if k != DIMENSIONS_ATTRIBUTE}
        metadata = array.aio.metadata
        v2 = metadata.zarr_format == 2
        if "_FillValue" in attrs and not v2:
            attrs["_FillValue"] = decode_fill_attribute(attrs["_FillValue"], np.dtype(array.dtype))
        elif (self.use_zarr_fill_value_as_mask or v2) and not getattr(metadata, "null_fill", False):
            # Zarr v2: the fill value is the missing-value mask, as xarray reads v2 (no null fill)
            attrs["_FillValue"] = array.fill_value
        encoding: dict[str, Any] = {
            **_chunk_encoding(array, dims),
            "codecs": array.codecs,
            "fill_value": array.fill_value,
        }
        data = indexing.LazilyIndexedArray(ZarrioBackendArray(array))
        return Variable(dims, data, attrs, encoding)

    def get_variables(self) -> dict[str, Variable]:
        return {name: self.open_store_variable(node) for name, node in self.group.members() if isinstance(node, Array)}

    def get_attrs(self) -> dict[str, Any]:
        return self.group.attrs.asdict()

    def get_dimensions(self) -> dict[str, int]:
        sizes: dict[str, int] = {}
        for variable in self.get_variables().values():
            sizes.update({str(dim): size for dim, size in variable.sizes.items()})
        return sizes

    def close(self) -> None:
        """Nothing to release: zarrio opens no files and shares its sessions."""


# ---------------------------------------------------------------- the entry point
class ZarrioBackendEntrypoint(BackendEntrypoint):
    """``engine="zarrio"``: Zarr v3 through zarrio."""

    description = "Open Zarr v3 datasets with zarrio (local, HTTP, S3/GCS/Azure via obstore)"
    supports_groups: ClassVar[bool] = True
    open_dataset_parameters = (
        "filename_or_obj",
        "mask_and_scale",
        "decode_times",
        "concat_characters",
        "decode_coords",
        "drop_variables",
        "use_cftime",
        "decode_timedelta",
        "group",
        "storage_options",
        "use_zarr_fill_value_as_mask",
    )

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        return _looks_like_zarr(filename_or_obj)

    def open_dataset(
        self,
        filename_or_obj: Any,
        *,
        mask_and_scale: bool = True,
        decode_times: bool = True,
        concat_characters: bool = True,
        decode_coords: bool | str = True,
        drop_variables: str | Iterable[str] | None = None,
        use_cftime: bool | None = None,
        decode_timedelta: bool | None = None,
        group: str | None = None,
        storage_options: Mapping[str, Any] | None = None,
        use_zarr_fill_value_as_mask: bool = False,
    ) -> Dataset:
        node = open_zarrio_group(filename_or_obj, group=group, storage_options=storage_options)
        return self._dataset(
            node,
            mask_and_scale=mask_and_scale,
            decode_times=decode_times,
            concat_characters=concat_characters,
            decode_coords=decode_coords,
            drop_variables=drop_variables,
            use_cftime=use_cftime,
            decode_timedelta=decode_timedelta,
            use_zarr_fill_value_as_mask=use_zarr_fill_value_as_mask,
        )

    def open_groups_as_dict(
        self,
        filename_or_obj: Any,
        *,
        group: str | None = None,
        storage_options: Mapping[str, Any] | None = None,
        use_zarr_fill_value_as_mask: bool = False,
        **decoding: Any,
    ) -> dict[str, Dataset]:
        """Every group at and below ``group``, keyed ``"/"``, ``"/child"``, ``"/child/grandchild"``, ..."""
        top = open_zarrio_group(filename_or_obj, group=group, storage_options=storage_options)
        found: dict[str, Dataset] = {}
        pending: list[tuple[str, Group]] = [("/", top)]
        while pending:
            path, node = pending.pop(0)
            found[path] = self._dataset(node, use_zarr_fill_value_as_mask=use_zarr_fill_value_as_mask, **decoding)
            children = [(name, child) for name, child in node.members() if isinstance(child, Group)]
            pending.extend((path.rstrip("/") + "/" + name, child) for name, child in children)
        return found

    def open_datatree(
        self,
        filename_or_obj: Any,
        *,
        group: str | None = None,
        storage_options: Mapping[str, Any] | None = None,
        use_zarr_fill_value_as_mask: bool = False,
        **decoding: Any,
    ) -> DataTree:
        groups = self.open_groups_as_dict(
            filename_or_obj,
            group=group,
            storage_options=storage_options,
            use_zarr_fill_value_as_mask=use_zarr_fill_value_as_mask,
            **decoding,
        )
        return DataTree.from_dict(groups)

    @staticmethod
    def _dataset(node: Group, *, use_zarr_fill_value_as_mask: bool = False, **decoding: Any) -> Dataset:
        store = ZarrioDataStore(node, use_zarr_fill_value_as_mask=use_zarr_fill_value_as_mask)
        dataset: Dataset = StoreBackendEntrypoint().open_dataset(store, **decoding)
        return dataset
