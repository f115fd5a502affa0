"""The indexing forms of :class:`~zarrio.array.AsyncArray`: ``getitem`` as zarr-python reads
``z[...]``, the ``get_*_selection`` / ``set_*_selection`` coroutines, and the ``oindex``,
``vindex`` and ``blocks`` accessors (``await a.oindex.getitem(sel)``, zarr-python's spelling,
plus ``setitem``). What each form means: :mod:`zarrio.indexing.forms`.

``select`` / ``assign`` take the form by name; they are what the sync facade calls (or, over a
blocking store, ``resolve`` and the engine's blocking reads and writes).
"""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from ._tasks import within_deadline
from .indexing import AxisChunks
from .indexing.forms import Form, resolve

__all__ = ["AsyncBlockIndex", "AsyncOIndex", "AsyncVIndex", "SelectionMethods"]


class SelectionMethods:
    """Mixed into AsyncArray, which provides the engine hooks below."""

    # ------------------------------------------------------------ hooks (AsyncArray)
    @property
    def shape(self) -> tuple[int, ...]:
        raise NotImplementedError

    @property
    def block_shape(self) -> tuple[AxisChunks, ...]:
        """The grid ``blocks`` indexes: the stored objects (shards when sharded, as zarr-python);
        per axis a block size, or the boundaries of blocks of varying sizes."""
        raise NotImplementedError

    def _read(self, selection: Any) -> Coroutine[Any, Any, Any]:
        """The read of a resolved selection, to await (a plain function: no coroutine of its own)."""
        raise NotImplementedError

    async def _write(self, selection: Any, value: Any) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------ by form
    def resolve(self, form: Form, selection: Any) -> Any:
        """``selection`` read in ``form``, in the engine's terms (what ``select`` and ``assign`` hand it)."""
        return resolve(form, selection, self.shape, self.block_shape)

    async def select(self, form: Form, selection: Any, *, timeout: float | None = None) -> Any:
        """Read ``selection`` in ``form`` (``"auto"``: as ``z[selection]``). With ``timeout``
        (seconds), a read not finished by then is cancelled, every request behind it included,
        and :class:`~zarrio.errors.DeadlineExceededError` is raised."""
        resolved = self.resolve(form, selection)
        if timeout is None:
            return await self._read(resolved)
        return await within_deadline(self._read(resolved), timeout)

    async def assign(self, form: Form, selection: Any, value: Any) -> None:
        """Write ``value`` (broadcast to the selection) into ``selection`` read in ``form``."""
        await self._write(self.resolve(form, selection), value)

    # ------------------------------------------------------------ zarr-python's names
    async def get_basic_selection(self, selection: Any = ..., *, timeout: float | None = None) -> Any:
        return await self.select("basic", selection, timeout=timeout)

    async def set_basic_selection(self, selection: Any, value: Any) -> None:
        await self.assign("basic", selection, value)

    async def get_orthogonal_selection(self, selection: Any, *, timeout: float | None = None) -> Any:
        return await self.select("orthogonal", selection, timeout=timeout)

    async def set_orthogonal_selection(self, selection: Any, value: Any) -> None:
        await self.assign("orthogonal", selection, value)

    async def get_coordinate_selection(self, selection: Any, *, timeout: float | None = None) -> Any:
        return await self.select("coordinate", selection, timeout=timeout)

    async def set_coordinate_selection(self, selection: Any, value: Any) -> None:
        await self.assign("coordinate", selection, value)

    async def get_mask_selection(self, mask: Any, *, timeout: float | None = None) -> Any:
        return await self.select("mask", mask, timeout=timeout)

    async def set_mask_selection(self, mask: Any, value: Any) -> None:
        await self.assign("mask", mask, value)

    async def get_block_selection(self, selection: Any, *, timeout: float | None = None) -> Any:
        return await self.select("block", selection, timeout=timeout)

    async def set_block_selection(self, selection: Any, value: Any) -> None:
        await self.assign("block", selection, value)

    @property
    def oindex(self) -> AsyncOIndex:
        """Orthogonal selections: ``await a.oindex.getitem(([1, 3], [2, 4]))`` is a 2x2 block."""
        return AsyncOIndex(self)

    @property
    def vindex(self) -> AsyncVIndex:
        """Points: ``await a.vindex.getitem(([1, 3], [2, 4]))`` is two values; or a boolean mask."""
        return AsyncVIndex(self)

    @property
    def blocks(self) -> AsyncBlockIndex:
        """Whole blocks of the chunk grid: ``await a.blocks.getitem((0, 1))``."""
        return AsyncBlockIndex(self)


@dataclass(frozen=True)
class _AsyncAccessor:
    array: SelectionMethods
    form: Form = "auto"

    async def getitem(self, selection: Any) -> Any:
        return await self.array.select(self.form, selection)

    async def setitem(self, selection: Any, value: Any) -> None:
        await self.array.assign(self.form, selection, value)


@dataclass(frozen=True)
class AsyncOIndex(_AsyncAccessor):
    form: Form = "orthogonal"


@dataclass(frozen=True)
class AsyncVIndex(_AsyncAccessor):
    form: Form = "vectorized"


@dataclass(frozen=True)
class AsyncBlockIndex(_AsyncAccessor):
    form: Form = "block"
