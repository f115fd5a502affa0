"""Chunk key encodings."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zarrio.errors import MetadataError, UnsupportedError
from zarrio.metadata import ChunkKeyEncoding, parse_chunk_key_encoding


@pytest.mark.parametrize(
    ("encoding", "coords", "key"),
    [
        (ChunkKeyEncoding("default", "/"), (1, 2), "c/1/2"),
        (ChunkKeyEncoding("default", "."), (1, 2), "c.1.2"),
        (ChunkKeyEncoding("default", "/"), (), "c"),
        (ChunkKeyEncoding("default", "."), (), "c"),
        (ChunkKeyEncoding("default", "/"), (0,), "c/0"),
        (ChunkKeyEncoding("v2", "."), (1, 2), "1.2"),
        (ChunkKeyEncoding("v2", "/"), (1, 2), "1/2"),
        (ChunkKeyEncoding("v2", "."), (), "0"),
        (ChunkKeyEncoding("v2", "."), (12, 0, 345), "12.0.345"),
    ],
)
def test_encode_and_decode(encoding: ChunkKeyEncoding, coords: tuple[int, ...], key: str) -> None:
    assert encoding.encode(coords) == key
    assert encoding.decode(key, len(coords)) == coords


@pytest.mark.parametrize(
    ("obj", "name", "separator"),
    [
        ("default", "default", "/"),
        ("v2", "v2", "."),
        ({"name": "default"}, "default", "/"),
        ({"name": "v2"}, "v2", "."),
        ({"name": "default", "configuration": {"separator": "."}}, "default", "."),
        ({"name": "v2", "configuration": {"separator": "/"}}, "v2", "/"),
        ({"name": "v2", "configuration": {}}, "v2", "."),
    ],
)
def test_parse_and_write(obj: Any, name: str, separator: str) -> None:
    encoding = parse_chunk_key_encoding(obj)
    assert (encoding.name, encoding.separator) == (name, separator)
    assert encoding.to_json() == {"name": name, "configuration": {"separator": separator}}
    assert parse_chunk_key_encoding(encoding.to_json()) == encoding
    assert parse_chunk_key_encoding(encoding) is encoding


@pytest.mark.parametrize(
    ("obj", "error"),
    [
        ("v3", UnsupportedError),
        ({"name": "fancy"}, UnsupportedError),
        ({"name": "default", "configuration": {"separator": "-"}}, MetadataError),
        ({"name": "default", "configuration": {"separator": ["/"]}}, MetadataError),
        ({"name": "default", "configuration": "/"}, MetadataError),
        ({"configuration": {}}, MetadataError),
        (None, MetadataError),
        (3, MetadataError),
    ],
)
def test_invalid(obj: Any, error: type[MetadataError]) -> None:
    with pytest.raises(error) as info:
        parse_chunk_key_encoding(obj)
    assert info.value.field == "chunk_key_encoding"


@pytest.mark.parametrize(
    ("encoding", "key", "ndim"),
    [
        (ChunkKeyEncoding("default", "/"), "c/1", 2),
        (ChunkKeyEncoding("default", "/"), "c.1.2", 2),
        (ChunkKeyEncoding("default", "/"), "c/01/2", 2),
        (ChunkKeyEncoding("default", "/"), "c/-1/2", 2),
        (ChunkKeyEncoding("default", "/"), "zarr.json", 2),
        (ChunkKeyEncoding("default", "/"), "c", 1),
        (ChunkKeyEncoding("default", "/"), "c/", 1),
        (ChunkKeyEncoding("v2", "."), "1.x", 2),
        (ChunkKeyEncoding("v2", "."), "1", 0),
        (ChunkKeyEncoding("v2", "."), "", 1),
        (ChunkKeyEncoding("v2", "."), "\u0661", 1),  # an Arabic-Indic digit: isdigit() but not ASCII
    ],
)
def test_decode_rejects_foreign_keys(encoding: ChunkKeyEncoding, key: str, ndim: int) -> None:
    assert encoding.decode(key, ndim) is None


def test_constructor_validates() -> None:
    with pytest.raises(MetadataError):
        ChunkKeyEncoding("default", "-")  # type: ignore[arg-type]
    with pytest.raises(UnsupportedError):
        ChunkKeyEncoding("v9", "/")  # type: ignore[arg-type]


@given(
    name=st.sampled_from(["default", "v2"]),
    separator=st.sampled_from(["/", "."]),
    coords=st.lists(st.integers(min_value=0, max_value=2**62), max_size=6).map(tuple),
)
def test_encode_decode_round_trip(name: Any, separator: Any, coords: tuple[int, ...]) -> None:
    encoding = ChunkKeyEncoding(name, separator)
    key = encoding.encode(coords)
    assert encoding.decode(key, len(coords)) == coords
    if name == "v2" and not coords:
        return  # v2 writes rank 0 as "0", which is also chunk (0,) of a rank-1 array
    assert encoding.decode(key, len(coords) + 1) is None
