"""``numcodecs.categorize``: numcodecs' ``Categorize`` filter (Zarr v2 arrays of text labels).

Array->array: a ``U`` (or object) array of labels to small integers (``astype``, default
``|u1``; 0 stands for a value not among ``labels``), and back. Registered next to the other
``numcodecs.*`` codecs, under the name zarr-python 3 gives it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._config import fail
from .base import ChunkSpec, register_codec
from .numcodecs_compat import NumcodecsArrayArrayCodec

__all__ = ["NumcodecsCategorize"]


@register_codec("numcodecs.categorize")
class NumcodecsCategorize(NumcodecsArrayArrayCodec):
    codec_id = "categorize"

    def validate(self, spec: ChunkSpec) -> None:
        if spec.dtype.kind not in "UO":
            fail(self.name, f"needs a text data type, got {spec.dtype}")
        self._encoded_dtype()

    def _encoded_dtype(self) -> np.dtype[Any] | None:
        encoded = self.configuration.get("astype", "|u1")
        try:
            dtype = np.dtype(encoded)
        except (TypeError, ValueError) as e:
            fail(self.name, f"invalid data type {encoded!r}: {e}")
        if dtype.kind not in "iu":
            fail(self.name, f"encoding to data type {encoded!r} is not supported (integers only)")
        native: np.dtype[Any] = dtype.newbyteorder("=")
        return native
