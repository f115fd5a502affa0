"""Where I/O meets compute: batched, concurrent chunk fetches; codec work on
worker threads; results scattered straight into the output array.

:mod:`.kernels` is the synchronous chunk work (it runs on worker threads),
:mod:`.core` the async orchestration (:class:`ChunkEngine`, one per array).
"""

from .core import DEFAULT_MAX_READ_BYTES, ChunkEngine
from .fill_check import is_fill

__all__ = ["DEFAULT_MAX_READ_BYTES", "ChunkEngine", "is_fill"]
