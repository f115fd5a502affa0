"""A Zarr v2 array's ``order``, ``filters`` and ``compressor`` as one Zarr v3 codec list.

The chunk pipeline of a v2 array is expressed in the codecs the engine already runs::

    [transpose (order "F")] + array->array filters + serializer + bytes->bytes filters + compressor

* ``order: "F"`` stores each chunk in Fortran order: a ``transpose`` that reverses the axes,
  then C order, lays out the same bytes.
* the serializer is ``bytes`` with the byte order of the stored data type, or, for object
  arrays, the object codec (``vlen-utf8``, ``vlen-bytes``, ``json2`` as ``numcodecs.json2``)
  that must be the first filter; ``json2`` stores items in their logical order whatever
  ``order`` says, so it has no ``transpose``;
* numcodecs filters and compressors become ``numcodecs.<id>`` codecs (configuration: the
  numcodecs configuration without ``id``), except ``blosc``, which becomes the ``blosc`` codec
  so that it shuffles by the item size, as numcodecs does when zarr-python hands it the array.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import MetadataError, UnsupportedError
from .dtype_base import DataType
from .v2_dtypes import OBJECT_CODEC_IDS, Endian, object_codec_id

__all__ = ["ARRAY_ARRAY_IDS", "check_numcodec_config", "v2_codecs"]

#: numcodecs filters that map arrays to arrays (the rest work on bytes)
ARRAY_ARRAY_IDS = frozenset(("delta", "bitround", "fixedscaleoffset", "quantize", "packbits", "astype", "categorize"))
#: the configuration key naming the data type a filter encodes to
_ENCODED_DTYPE_KEY = {
    "delta": "astype",
    "fixedscaleoffset": "astype",
    "quantize": "astype",
    "categorize": "astype",
    "astype": "encode_dtype",
}
_BLOSC_SHUFFLE = {0: "noshuffle", 1: "shuffle", 2: "bitshuffle", -1: None}
_VLEN = {"vlen-utf8": "vlen-utf8", "vlen-bytes": "vlen-bytes", "json2": "numcodecs.json2"}


def check_numcodec_config(config: object, field: str) -> dict[str, Any]:
    """A numcodecs configuration: an object with a string ``id``."""
    if not isinstance(config, Mapping) or not isinstance(config.get("id"), str):
        raise MetadataError(f"expected a numcodecs configuration with an 'id', got {config!r}", field=field)
    return dict(config)


def _numcodecs(config: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": f"numcodecs.{config['id']}", "configuration": {k: v for k, v in config.items() if k != "id"}}


def _blosc(config: Mapping[str, Any]) -> dict[str, Any]:
    shuffle = config.get("shuffle", 1)
    if shuffle not in _BLOSC_SHUFFLE:
        raise MetadataError(f"blosc shuffle must be -1, 0, 1 or 2, got {shuffle!r}", field="compressor")
    out: dict[str, Any] = {"cname": config.get("cname", "lz4"), "clevel": config.get("clevel", 5)}
    if _BLOSC_SHUFFLE[shuffle] is not None:
        out["shuffle"] = _BLOSC_SHUFFLE[shuffle]
    out["blocksize"] = config.get("blocksize", 0)
    return {"name": "blosc", "configuration": out}


def _bytes_to_bytes(config: Mapping[str, Any]) -> dict[str, Any]:
    return _blosc(config) if config["id"] == "blosc" else _numcodecs(config)


def _stored_endian(filters: Sequence[Mapping[str, Any]], endian: Endian) -> Endian:
    """The byte order of what the last dtype-changing filter hands the serializer."""
    for config in reversed(filters):
        if config["id"] == "packbits":
            return None
        key = _ENCODED_DTYPE_KEY.get(config["id"])
        encoded = config.get(key) if key is not None else None
        if isinstance(encoded, str):
            try:
                dtype = np.dtype(encoded)
            except (TypeError, ValueError) as e:
                raise MetadataError(f"filter {config['id']!r}: invalid data type {encoded!r}", field="filters") from e
            if dtype.itemsize <= 1:
                return None
            return "big" if encoded.startswith(">") else "little"
    return endian


def v2_codecs(
    data_type: DataType,
    endian: Endian,
    ndim: int,
    order: str,
    filters: Sequence[Mapping[str, Any]] | None,
    compressor: Mapping[str, Any] | None,
) -> tuple[dict[str, Any], ...]:
    """The v3 codec list that reads and writes chunks exactly as the v2 metadata describes them."""
    chain: list[dict[str, Any]] = []
    remaining = list(filters or ())
    wanted = object_codec_id(data_type)
    if order == "F" and ndim > 1 and wanted != "json2":
        chain.append({"name": "transpose", "configuration": {"order": list(range(ndim))[::-1]}})
    array_filters: list[Mapping[str, Any]] = []
    if wanted is not None:
        if not remaining or remaining[0]["id"] not in OBJECT_CODEC_IDS:
            raise MetadataError(f"an object array needs the {wanted!r} codec as its first filter", field="filters")
        object_codec = remaining.pop(0)
        first = object_codec["id"]
        if first not in _VLEN:
            raise UnsupportedError(f"object arrays encoded with {first!r} are not supported", field="filters")
        settings = {k: v for k, v in object_codec.items() if k != "id"} if first == "json2" else {}
        serializer: dict[str, Any] = {"name": _VLEN[first], "configuration": settings}
    else:
        while remaining and remaining[0]["id"] in ARRAY_ARRAY_IDS:
            array_filters.append(remaining.pop(0))
        if array_filters and endian == "big":
            raise UnsupportedError("filters on a big-endian v2 array are not supported", field="filters")
        stored = _stored_endian(array_filters, endian)
        serializer = {"name": "bytes"}
        if stored is not None:
            serializer["configuration"] = {"endian": stored}
    for config in remaining:
        if config["id"] in ARRAY_ARRAY_IDS or config["id"] in OBJECT_CODEC_IDS:
            raise UnsupportedError(
                f"filter {config['id']!r} after a filter that works on bytes is not supported", field="filters"
            )
    chain.extend(_numcodecs(config) for config in array_filters)
    chain.append(serializer)
    chain.extend(_bytes_to_bytes(config) for config in remaining)
    if compressor is not None:
        chain.append(_bytes_to_bytes(compressor))
    return tuple(chain)
