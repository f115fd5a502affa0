"""The consistency flags of stores written before :attr:`Store.consistency` existed.

Such stores set ``versioned_reads`` or ``immutable`` (class attributes, or instance
attributes set at run time). They are read as the consistency they meant, and both
names stay as properties over ``consistency``.
"""

from __future__ import annotations

from typing import Any, Literal

__all__ = ["LegacyConsistencyFlags"]


class LegacyConsistencyFlags:
    """A mixin of :class:`~zarrio.stores.Store`: ``versioned_reads`` and ``immutable`` over ``consistency``."""

    consistency: Literal["mutable", "versioned", "immutable"]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Stores written before ``consistency`` set ``versioned_reads`` / ``immutable`` as class
        attributes: they are read as the consistency they meant."""
        super().__init_subclass__(**kwargs)
        for legacy, meaning in (("versioned_reads", "versioned"), ("immutable", "immutable")):
            value = cls.__dict__.get(legacy)
            if isinstance(value, bool):
                delattr(cls, legacy)
                if value:
                    cls.consistency = meaning  # type: ignore[assignment]

    @property
    def versioned_reads(self) -> bool:
        """Whether a value read in several ranges is one version (``consistency`` is not mutable)."""
        return self.consistency != "mutable"

    @versioned_reads.setter
    def versioned_reads(self, value: bool) -> None:
        if value and self.consistency == "mutable":
            self.consistency = "versioned"
        elif not value:
            self.consistency = "mutable"

    @property
    def immutable(self) -> bool:
        """Whether no value changes while the store is open."""
        return self.consistency == "immutable"

    @immutable.setter
    def immutable(self, value: bool) -> None:
        if value:
            self.consistency = "immutable"
        elif self.consistency == "immutable":
            self.consistency = "mutable"
