"""Zarr v3 codecs: pure, synchronous, thread-safe transforms of one chunk.

Importing this package registers every built-in codec. Build an array's codecs
with :meth:`CodecChain.from_json`; register your own with :func:`register_codec`.
"""

from __future__ import annotations

from .base import (
    ArrayArrayCodec,
    ArrayBytesCodec,
    BytesBytesCodec,
    ChunkSpec,
    Codec,
    codec_from_json,
    register_codec,
    registered_codecs,
)
from .bitround import BitroundCodec
from .blosc import BloscCodec
from .bytes import BytesCodec
from .cast_value import CastValueCodec
from .categorize import NumcodecsCategorize
from .chain import CodecChain
from .crc32c import Crc32cCodec
from .gzip import GzipCodec
from .json2 import Json2Codec
from .numcodecs_compat import (
    NumcodecsArrayArrayCodec,
    NumcodecsArrayBytesCodec,
    NumcodecsBytesBytesCodec,
    numcodecs_codec_class,
)
from .packbits import PackBitsCodec
from .reshape import ReshapeCodec
from .scale_offset import ScaleOffsetCodec
from .sharding import ShardingCodec
from .transpose import TransposeCodec
from .vlen import VlenBytesCodec, VlenUtf8Codec
from .zfp import ZfpCodec
from .zstd import ZstdCodec

#: zarr-python's names for the variable-length codecs
VLenUTF8Codec = VlenUtf8Codec
VLenBytesCodec = VlenBytesCodec

__all__ = [
    "ArrayArrayCodec",
    "ArrayBytesCodec",
    "BitroundCodec",
    "BloscCodec",
    "BytesBytesCodec",
    "BytesCodec",
    "CastValueCodec",
    "ChunkSpec",
    "Codec",
    "CodecChain",
    "Crc32cCodec",
    "GzipCodec",
    "Json2Codec",
    "NumcodecsArrayArrayCodec",
    "NumcodecsArrayBytesCodec",
    "NumcodecsBytesBytesCodec",
    "NumcodecsCategorize",
    "PackBitsCodec",
    "ReshapeCodec",
    "ScaleOffsetCodec",
    "ShardingCodec",
    "TransposeCodec",
    "VLenBytesCodec",
    "VLenUTF8Codec",
    "VlenBytesCodec",
    "VlenUtf8Codec",
    "ZfpCodec",
    "ZstdCodec",
    "codec_from_json",
    "numcodecs_codec_class",
    "register_codec",
    "registered_codecs",
]
