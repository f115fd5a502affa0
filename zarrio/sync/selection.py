"""The indexing forms of the blocking :class:`~zarrio.sync.Array`: ``z.oindex[...]``,
``z.vindex[...]``, ``z.blocks[...]`` (get and set) and the ``get_*_selection`` /
``set_*_selection`` methods, each one call of its async twin
(:mod:`zarrio.array_selection`): in the calling thread where the store has blocking
access, else on the background loop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..array import AsyncArray
from ..indexing import AxisChunks
from ..indexing.forms import Form
from ..portal import check_not_portal_thread, run

__all__ = ["BlockIndex", "OIndex", "SyncSelectionMethods", "VIndex"]


class SyncSelectionMethods:
    """Mixed into :class:`~zarrio.sync.Array` (which holds ``aio``)."""

    aio: AsyncArray

    @property
    def block_shape(self) -> tuple[AxisChunks, ...]:
        """The grid ``blocks`` indexes: the stored objects (shards when sharded, as zarr-python);
        per axis a block size, or the boundaries of blocks of varying sizes (a rectilinear grid)."""
        return self.aio.block_shape

    def select(self, form: Form, selection: Any, *, timeout: float | None = None) -> Any:
        """Read ``selection`` in ``form`` (``"auto"``: as ``z[selection]``): over a blocking store in
        the calling thread, else on the background loop. With ``timeout``, the read runs on the
        background loop, where the deadline can cancel it, whatever the store."""
        engine = self.aio.blocking_engine if timeout is None else None
        if engine is not None:
            check_not_portal_thread()
            return engine.read_blocking(self.aio.resolve(form, selection))
        return run(self.aio.select(form, selection, timeout=timeout))

    def assign(self, form: Form, selection: Any, value: Any) -> None:
        """Write ``value`` into ``selection`` read in ``form``."""
        engine = self.aio.blocking_engine
        if engine is not None:
            check_not_portal_thread()
            self.aio.check_writable()
            engine.write_blocking(self.aio.resolve(form, selection), value)
            return
        run(self.aio.assign(form, selection, value))

    def get_basic_selection(self, selection: Any = ..., *, timeout: float | None = None) -> Any:
        return self.select("basic", selection, timeout=timeout)

    def set_basic_selection(self, selection: Any, value: Any) -> None:
        self.assign("basic", selection, value)

    def get_orthogonal_selection(self, selection: Any, *, timeout: float | None = None) -> Any:
        return self.select("orthogonal", selection, timeout=timeout)

    def set_orthogonal_selection(self, selection: Any, value: Any) -> None:
        self.assign("orthogonal", selection, value)

    def get_coordinate_selection(self, selection: Any, *, timeout: float | None = None) -> Any:
        return self.select("coordinate", selection, timeout=timeout)

    def set_coordinate_selection(self, selection: Any, value: Any) -> None:
        self.assign("coordinate", selection, value)

    def get_mask_selection(self, mask: Any, *, timeout: float | None = None) -> Any:
        return self.select("mask", mask, timeout=timeout)

    def set_mask_selection(self, mask: Any, value: Any) -> None:
        self.assign("mask", mask, value)

    def get_block_selection(self, selection: Any, *, timeout: float | None = None) -> Any:
        return self.select("block", selection, timeout=timeout)

    def set_block_selection(self, selection: Any, value: Any) -> None:
        self.assign("block", selection, value)

    @property
    def oindex(self) -> OIndex:
        """Orthogonal selections: ``z.oindex[[1, 3], [2, 4]]`` is a 2x2 block."""
        return OIndex(self)

    @property
    def vindex(self) -> VIndex:
        """Points: ``z.vindex[[1, 3], [2, 4]]`` is two values; ``z.vindex[mask]`` the true elements."""
        return VIndex(self)

    @property
    def blocks(self) -> BlockIndex:
        """Whole blocks of the chunk grid (shards when sharded): ``z.blocks[0, 1]``."""
        return BlockIndex(self)


@dataclass(frozen=True)
class _Accessor:
    array: SyncSelectionMethods
    form: Form = "auto"

    def __getitem__(self, selection: Any) -> Any:
        return self.array.select(self.form, selection)

    def __setitem__(self, selection: Any, value: Any) -> None:
        self.array.assign(self.form, selection, value)


@dataclass(frozen=True)
class OIndex(_Accessor):
    form: Form = "orthogonal"


@dataclass(frozen=True)
class VIndex(_Accessor):
    form: Form = "vectorized"


@dataclass(frozen=True)
class BlockIndex(_Accessor):
    form: Form = "block"
