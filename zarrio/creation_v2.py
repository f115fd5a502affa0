"""Turning ``create(..., zarr_format=2)`` arguments into Zarr v2 array metadata.

zarr-python 3.4.2's rules for a new v2 array: ``filters=`` are numcodecs filters and
``compressors=`` at most one numcodecs compressor (``"auto"``: blosc lz4, level 5, byte
shuffle); there is no serializer and no sharding; ``order="F"`` stores chunks in Fortran
order; the chunk key separator comes from ``chunk_key_encoding={"name": "v2", "separator": "/"}``
(or zarr-python 2's ``dimension_separator=``). A numcodecs codec object, its configuration
(``{"id": "zlib", "level": 5}``), zarrio's ``numcodecs.*`` codecs and its ``gzip``, ``zstd``
and ``blosc`` codecs are all accepted and stored as the numcodecs configuration.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from .codecs import BloscCodec, Codec, GzipCodec, ZstdCodec
from .codecs.numcodecs_compat import NumcodecsArrayArrayCodec, NumcodecsArrayBytesCodec, NumcodecsBytesBytesCodec
from .creation import default_chunks
from .errors import MetadataError, UnsupportedError
from .metadata import ChunkKeyEncoding, parse_data_type
from .metadata.v2 import DEFAULT_V2_COMPRESSOR, ArrayMetadataV2
from .metadata.v2_dtypes import Endian

__all__ = ["build_array_metadata_v2", "numcodec_config"]

_SHUFFLE_NUMBERS = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2, None: -1}
_NUMCODECS_WRAPPERS = (NumcodecsArrayArrayCodec, NumcodecsArrayBytesCodec, NumcodecsBytesBytesCodec)


def _normalized(config: Mapping[str, Any], field: str) -> dict[str, Any]:
    """The configuration numcodecs gives back for ``config`` (defaults filled in, as zarr-python stores it)."""
    import numcodecs  # imported on first use: it costs a fifth of `import zarrio`
    import numcodecs.errors

    try:
        out: dict[str, Any] = dict(numcodecs.get_codec(dict(config)).get_config())
    except numcodecs.errors.UnknownCodecError as e:
        raise UnsupportedError(f"numcodecs has no codec {config.get('id')!r}", field=field) from e
    except (TypeError, ValueError, KeyError) as e:
        raise MetadataError(f"invalid numcodecs configuration {dict(config)!r}: {e}", field=field) from e
    if out.get("id") == "zstd" and not out.get("checksum", False):
        out.pop("checksum", None)  # zarr-python writes zstd without a false checksum
    return out


def numcodec_config(codec: object, field: str) -> dict[str, Any]:
    """The numcodecs configuration (with ``id``) of one filter or compressor, in any accepted form."""
    import numcodecs.abc  # imported on first use, as in _normalized

    if isinstance(codec, numcodecs.abc.Codec):
        return _normalized(codec.get_config(), field)
    if isinstance(codec, _NUMCODECS_WRAPPERS):
        return _normalized({"id": codec.codec_id, **codec.configuration}, field)
    if isinstance(codec, GzipCodec):
        return _normalized({"id": "gzip", "level": codec.to_json()["configuration"]["level"]}, field)
    if isinstance(codec, ZstdCodec):
        config = codec.to_json()["configuration"]
        return _normalized({"id": "zstd", "level": config["level"], "checksum": config["checksum"]}, field)
    if isinstance(codec, BloscCodec):
        shuffle = _SHUFFLE_NUMBERS[codec.shuffle]
        blosc = {"id": "blosc", "cname": codec.cname, "clevel": codec.clevel, "shuffle": shuffle}
        return _normalized({**blosc, "blocksize": codec.blocksize}, field)
    if isinstance(codec, Mapping):
        if isinstance(codec.get("id"), str):
            return _normalized(codec, field)
        name = codec.get("name")
        if isinstance(name, str) and name.startswith("numcodecs."):
            return _normalized({"id": name[len("numcodecs.") :], **(codec.get("configuration") or {})}, field)
    if isinstance(codec, Codec | Mapping | str):
        raise UnsupportedError(f"{codec!r} has no Zarr v2 (numcodecs) form", field=field)
    raise MetadataError(f"expected a numcodecs codec or its configuration, got {codec!r}", field=field)


def _compressor(compressors: Any) -> dict[str, Any] | None:
    if isinstance(compressors, str) and compressors == "auto":
        return dict(DEFAULT_V2_COMPRESSOR)
    if compressors is None:
        return None
    items = list(compressors) if isinstance(compressors, list | tuple) else [compressors]
    if len(items) > 1:
        raise MetadataError(f"a Zarr v2 array has at most one compressor, got {len(items)}", field="compressors")
    return numcodec_config(items[0], "compressors") if items else None


def _filters(filters: Any) -> tuple[dict[str, Any], ...] | None:
    if filters is None or (isinstance(filters, str) and filters == "auto"):
        return None
    items = list(filters) if isinstance(filters, list | tuple) else [filters]
    return tuple(numcodec_config(item, "filters") for item in items) or None


def _separator(chunk_key_encoding: Any, dimension_separator: str | None) -> Literal[".", "/"]:
    separator: Any = dimension_separator or "."
    if isinstance(chunk_key_encoding, ChunkKeyEncoding):
        chunk_key_encoding = chunk_key_encoding.to_json()
    if isinstance(chunk_key_encoding, str):
        chunk_key_encoding = {"name": chunk_key_encoding}
    if isinstance(chunk_key_encoding, Mapping):
        if chunk_key_encoding.get("name") != "v2":
            raise UnsupportedError("a Zarr v2 array's chunk key encoding is 'v2'", field="chunk_key_encoding")
        separator = (chunk_key_encoding.get("configuration") or {}).get("separator", separator)
        separator = chunk_key_encoding.get("separator", separator)
    elif chunk_key_encoding is not None:
        raise MetadataError(f"invalid chunk key encoding {chunk_key_encoding!r}", field="chunk_key_encoding")
    if separator not in (".", "/"):
        raise MetadataError(f"the separator must be '.' or '/', not {separator!r}", field="chunk_key_encoding")
    return separator  # type: ignore[no-any-return]


def _endian(dtype: Any) -> Endian:
    """The byte order a dtype-like names (``">i4"``, a structured dtype of big-endian fields): the stored one."""
    if isinstance(dtype, str) and dtype in ("str", "string", "bytes"):
        return "little"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            native = np.dtype([tuple(f) for f in dtype] if isinstance(dtype, list) else dtype)
    except (TypeError, ValueError):
        return "little"
    fields = [native.fields[n][0] for n in native.names] if native.names and native.fields else [native]
    orders = {f.byteorder for f in fields if f.byteorder not in ("|", "=")}
    return "big" if orders == {">"} or (not orders and not np.little_endian) else "little"


def build_array_metadata_v2(
    shape: int | Sequence[int],
    dtype: Any,
    *,
    chunks: int | Sequence[int] | None = None,
    shards: Any = None,
    codecs: Sequence[Any] | None = None,
    filters: Any = "auto",
    compressors: Any = "auto",
    serializer: Any = "auto",
    fill_value: Any = None,
    order: Literal["C", "F"] | None = None,
    attributes: dict[str, Any] | None = None,
    dimension_names: Sequence[str | None] | None = None,
    chunk_key_encoding: Any = None,
    dimension_separator: str | None = None,
) -> ArrayMetadataV2:
    """The metadata of a new Zarr v2 array (``fill_value=None``: the data type's default, as
    zarr-python 3 writes it when none is given)."""
    for name, value, absent in (("shards", shards, None), ("codecs", codecs, None), ("serializer", serializer, "auto")):
        if not (value is absent or (isinstance(value, str) and value == absent)):
            raise UnsupportedError(f"a Zarr v2 array has no {name}= (use filters= and compressors=)", field=name)
    if dimension_names is not None:
        raise UnsupportedError("Zarr v2 arrays have no dimension names", field="dimension_names")
    shape_t = (shape,) if isinstance(shape, int) else tuple(int(s) for s in shape)
    data_type = parse_data_type(dtype)
    itemsize = data_type.numpy_dtype.itemsize if not data_type.is_variable_length else 16
    if chunks is None:
        chunk_t = default_chunks(shape_t, itemsize)
    else:
        chunk_t = (chunks,) * len(shape_t) if isinstance(chunks, int) else tuple(int(c) for c in chunks)
    return ArrayMetadataV2(
        shape=shape_t,
        data_type=data_type,
        chunk_shape=chunk_t,
        fill_value=data_type.fill_from_user(fill_value),
        attributes=dict(attributes or {}),
        order=order or "C",
        filters=_filters(filters),
        compressor=_compressor(compressors),
        dimension_separator=_separator(chunk_key_encoding, dimension_separator),
        endian=_endian(dtype),
    )
