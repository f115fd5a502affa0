"""The array creators of a blocking Group: ``g.create_array(name, ...)``, ``g.zeros(name=..., shape=...)``,
``ones``, ``empty``, ``full``, ``array`` -- zarr-python's group methods, with the parameters of
:func:`zarrio.create_array` and friends spelled out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from .. import _paths
from ..errors import NodeExistsError, NodeNotFoundError

if TYPE_CHECKING:
    from .._arguments import ArrayConfig
    from ..group import AsyncGroup
    from . import Array

__all__ = ["GroupCreators"]


class GroupCreators:
    """Mixed into :class:`zarrio.Group`."""

    aio: AsyncGroup

    def _child(self, name: str) -> str:
        return _paths.child_path(self.aio.path, _paths.normalize_path(name))

    def create_array(
        self,
        name: str,
        *,
        shape: int | Sequence[int] | None = None,
        dtype: Any = None,
        data: Any = None,
        chunks: Any = None,
        shards: int | Sequence[int] | None = None,
        filters: Any = "auto",
        compressors: Any = "auto",
        serializer: Any = "auto",
        codecs: Sequence[Any] | None = None,
        fill_value: Any = None,
        order: Literal["C", "F"] | None = None,
        attributes: dict[str, Any] | None = None,
        dimension_names: Sequence[str | None] | None = None,
        chunk_key_encoding: Any = None,
        overwrite: bool = False,
        config: ArrayConfig | None = None,
        write_data: bool = True,
        write_empty_chunks: bool | None = None,
    ) -> Array:
        """``create_array`` below this group (see :func:`zarrio.create_array`)."""
        from . import api  # imported here: zarrio.api imports the facade this class is part of

        return api.create_array(
            self.aio.store,
            shape,
            dtype,
            path=self._child(name),
            zarr_format=self.aio.metadata.zarr_format,
            data=data,
            chunks=chunks,
            shards=shards,
            filters=filters,
            compressors=compressors,
            serializer=serializer,
            codecs=codecs,
            fill_value=fill_value,
            order=order,
            attributes=attributes,
            dimension_names=dimension_names,
            chunk_key_encoding=chunk_key_encoding,
            overwrite=overwrite,
            config=config,
            write_data=write_data,
            write_empty_chunks=write_empty_chunks,
        )

    def require_array(
        self,
        name: str,
        *,
        shape: int | Sequence[int],
        dtype: Any = None,
        exact: bool = False,
        chunks: Any = None,
        shards: int | Sequence[int] | None = None,
        filters: Any = "auto",
        compressors: Any = "auto",
        serializer: Any = "auto",
        codecs: Sequence[Any] | None = None,
        fill_value: Any = None,
        attributes: dict[str, Any] | None = None,
        dimension_names: Sequence[str | None] | None = None,
        chunk_key_encoding: Any = None,
        config: ArrayConfig | None = None,
        write_empty_chunks: bool | None = None,
    ) -> Array:
        """The array ``name``, created (with ``shape``, ``dtype`` and ``create_array``'s arguments) when
        missing; an existing one must have that shape and (``exact``: exactly) a dtype it casts to,
        else NodeExistsError (zarr-python: TypeError)."""
        from . import Array

        try:
            node = self[name]  # type: ignore[index]
        except NodeNotFoundError:
            return self.create_array(
                name, shape=shape, dtype=dtype, chunks=chunks, shards=shards, filters=filters,
                compressors=compressors, serializer=serializer, codecs=codecs, fill_value=fill_value,
                attributes=attributes, dimension_names=dimension_names, chunk_key_encoding=chunk_key_encoding,
                config=config, write_empty_chunks=write_empty_chunks,
            )  # fmt: skip
        if not isinstance(node, Array):
            raise NodeExistsError(node.path, f"a group, not an array, exists at {node.path!r}")
        wanted = (shape,) if isinstance(shape, int) else tuple(shape)
        if node.shape != wanted:
            raise NodeExistsError(node.path, f"the array at {node.path!r} has shape {node.shape}, not {wanted}")
        if dtype is not None:
            want = np.dtype(dtype)
            if (exact and node.dtype != want) or not np.can_cast(node.dtype, want):
                raise NodeExistsError(node.path, f"the array at {node.path!r} has dtype {node.dtype}, not {want}")
        return node

    def zeros(
        self,
        *,
        name: str,
        shape: int | Sequence[int],
        dtype: Any = "float64",
        chunks: Any = None,
        shards: int | Sequence[int] | None = None,
        filters: Any = "auto",
        compressors: Any = "auto",
        serializer: Any = "auto",
        codecs: Sequence[Any] | None = None,
        attributes: dict[str, Any] | None = None,
        dimension_names: Sequence[str | None] | None = None,
        chunk_key_encoding: Any = None,
        overwrite: bool = False,
        config: Mapping[str, Any] | None = None,
        write_empty_chunks: bool | None = None,
    ) -> Array:
        """``zeros`` below this group (see :func:`zarrio.zeros`)."""
        from . import creators

        return creators.zeros(
            shape,
            store=self.aio.store,
            dtype=dtype,
            path=self._child(name),
            zarr_format=self.aio.metadata.zarr_format,
            chunks=chunks,
            shards=shards,
            filters=filters,
            compressors=compressors,
            serializer=serializer,
            codecs=codecs,
            attributes=attributes,
            dimension_names=dimension_names,
            chunk_key_encoding=chunk_key_encoding,
            overwrite=overwrite,
            config=config,
            write_empty_chunks=write_empty_chunks,
        )

    def ones(
        self,
        *,
        name: str,
        shape: int | Sequence[int],
        dtype: Any = "float64",
        chunks: Any = None,
        shards: int | Sequence[int] | None = None,
        filters: Any = "auto",
        compressors: Any = "auto",
        serializer: Any = "auto",
        codecs: Sequence[Any] | None = None,
        attributes: dict[str, Any] | None = None,
        dimension_names: Sequence[str | None] | None = None,
        chunk_key_encoding: Any = None,
        overwrite: bool = False,
        config: Mapping[str, Any] | None = None,
        write_empty_chunks: bool | None = None,
    ) -> Array:
        """``ones`` below this group (see :func:`zarrio.ones`)."""
        from . import creators

        return creators.ones(
            shape,
            store=self.aio.store,
            dtype=dtype,
            path=self._child(name),
            zarr_format=self.aio.metadata.zarr_format,
            chunks=chunks,
            shards=shards,
            filters=filters,
            compressors=compressors,
            serializer=serializer,
            codecs=codecs,
            attributes=attributes,
            dimension_names=dimension_names,
            chunk_key_encoding=chunk_key_encoding,
            overwrite=overwrite,
            config=config,
            write_empty_chunks=write_empty_chunks,
        )

    def empty(
        self,
        *,
        name: str,
        shape: int | Sequence[int],
        dtype: Any = "float64",
        fill_value: Any = None,
        chunks: Any = None,
        shards: int | Sequence[int] | None = None,
        filters: Any = "auto",
        compressors: Any = "auto",
        serializer: Any = "auto",
        codecs: Sequence[Any] | None = None,
        attributes: dict[str, Any] | None = None,
        dimension_names: Sequence[str | None] | None = None,
        chunk_key_encoding: Any = None,
        overwrite: bool = False,
        config: Mapping[str, Any] | None = None,
        write_empty_chunks: bool | None = None,
    ) -> Array:
        """``empty`` below this group (see :func:`zarrio.empty`)."""
        from . import creators

        return creators.empty(
            shape,
            store=self.aio.store,
            dtype=dtype,
            fill_value=fill_value,
            path=self._child(name),
            zarr_format=self.aio.metadata.zarr_format,
            chunks=chunks,
            shards=shards,
            filters=filters,
            compressors=compressors,
            serializer=serializer,
            codecs=codecs,
            attributes=attributes,
            dimension_names=dimension_names,
            chunk_key_encoding=chunk_key_encoding,
            overwrite=overwrite,
            config=config,
            write_empty_chunks=write_empty_chunks,
        )

    def full(
        self,
        *,
        name: str,
        shape: int | Sequence[int],
        fill_value: Any,
        dtype: Any = None,
        chunks: Any = None,
        shards: int | Sequence[int] | None = None,
        filters: Any = "auto",
        compressors: Any = "auto",
        serializer: Any = "auto",
        codecs: Sequence[Any] | None = None,
        attributes: dict[str, Any] | None = None,
        dimension_names: Sequence[str | None] | None = None,
        chunk_key_encoding: Any = None,
        overwrite: bool = False,
        config: Mapping[str, Any] | None = None,
        write_empty_chunks: bool | None = None,
    ) -> Array:
        """``full`` below this group (see :func:`zarrio.full`)."""
        from . import creators

        return creators.full(
            shape,
            fill_value,
            store=self.aio.store,
            dtype=dtype,
            path=self._child(name),
            zarr_format=self.aio.metadata.zarr_format,
            chunks=chunks,
            shards=shards,
            filters=filters,
            compressors=compressors,
            serializer=serializer,
            codecs=codecs,
            attributes=attributes,
            dimension_names=dimension_names,
            chunk_key_encoding=chunk_key_encoding,
            overwrite=overwrite,
            config=config,
            write_empty_chunks=write_empty_chunks,
        )

    def array(
        self,
        *,
        name: str,
        data: Any,
        dtype: Any = None,
        fill_value: Any = None,
        chunks: Any = None,
        shards: int | Sequence[int] | None = None,
        filters: Any = "auto",
        compressors: Any = "auto",
        serializer: Any = "auto",
        codecs: Sequence[Any] | None = None,
        attributes: dict[str, Any] | None = None,
        dimension_names: Sequence[str | None] | None = None,
        chunk_key_encoding: Any = None,
        overwrite: bool = False,
        config: Mapping[str, Any] | None = None,
        write_empty_chunks: bool | None = None,
    ) -> Array:
        """``array`` below this group (see :func:`zarrio.array`)."""
        from . import creators

        return creators.array(
            data,
            store=self.aio.store,
            dtype=dtype,
            fill_value=fill_value,
            path=self._child(name),
            zarr_format=self.aio.metadata.zarr_format,
            chunks=chunks,
            shards=shards,
            filters=filters,
            compressors=compressors,
            serializer=serializer,
            codecs=codecs,
            attributes=attributes,
            dimension_names=dimension_names,
            chunk_key_encoding=chunk_key_encoding,
            overwrite=overwrite,
            config=config,
            write_empty_chunks=write_empty_chunks,
        )
