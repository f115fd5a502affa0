"""The indexing forms of the blocking :class:`~zarrio.sync.Array`: ``z.oindex[...]``,
``z.vindex[...]``, ``z.blocks[...]`` (get and set) and the ``get_*_selection`` /
``set_*_selection`` methods, each one call of its async twin
(:mod:`zarrio.array_selection`): in the calling thread where the store has blocking
access, else on the background loop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .array import AsyncArray
from .indexing.forms import Form
from .portal import check_not_portal_thread, run

__all__ = ["BlockIndex", "OIndex", "SyncSelectionMethods", "VIndex"]


class SyncSelectionMethods:
    """Mixed into :class:`~zarrio.sync.Array` (which holds ``aio``)."""

    aio: AsyncArray

    def _get(self, form: Form, selection: Any) -> Any:
        if self.aio.supports_blocking:
            check_not_portal_thread()
            return self.aio.select_blocking(form, selection)
        return run(self.aio.select(form, selection))

    def _set(self, form: Form, selection: Any, value: Any) -> None:
        if self.aio.supports_blocking:
            check_not_portal_thread()
            self.aio.assign_blocking(form, selection, value)
            return
        run(self.aio.assign(form, selection, value))

    def get_basic_selection(self, selection: Any = ...) -> Any:
        return self._get("basic", selection)

    def set_basic_selection(self, selection: Any, value: Any) -> None:
        self._set("basic", selection, value)

    def get_orthogonal_selection(self, selection: Any) -> Any:
        return self._get("orthogonal", selection)

    def set_orthogonal_selection(self, selection: Any, value: Any) -> None:
        self._set("orthogonal", selection, value)

    def get_coordinate_selection(self, selection: Any) -> Any:
        return self._get("coordinate", selection)

    def set_coordinate_selection(self, selection: Any, value: Any) -> None:
        self._set("coordinate", selection, value)

    def get_mask_selection(self, mask: Any) -> Any:
        return self._get("mask", mask)

    def set_mask_selection(self, mask: Any, value: Any) -> None:
        self._set("mask", mask, value)

    def get_block_selection(self, selection: Any) -> Any:
        return self._get("block", selection)

    def set_block_selection(self, selection: Any, value: Any) -> None:
        self._set("block", selection, value)

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
        return self.array._get(self.form, selection)

    def __setitem__(self, selection: Any, value: Any) -> None:
        self.array._set(self.form, selection, value)


@dataclass(frozen=True)
class OIndex(_Accessor):
    form: Form = "orthogonal"


@dataclass(frozen=True)
class VIndex(_Accessor):
    form: Form = "vectorized"


@dataclass(frozen=True)
class BlockIndex(_Accessor):
    form: Form = "block"
