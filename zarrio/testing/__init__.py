"""Test helpers shipped with zarrio: the store conformance suite and store wrappers.

``StoreSuite`` is a pytest test class to subclass: give it a way to make your
store and it runs the conformance tests against it::

    from zarrio.testing import StoreSuite

    class TestMyStore(StoreSuite):
        async def make_store(self) -> Store:          # an empty, writable store
            return MyStore(self.tmp_path / "data")

Hooks (override at least one; each may be a plain method or a coroutine):

* ``make_store()``: a fresh, empty store. The default is ``populate({})``.
* ``populate(items)``: a store holding exactly ``items``. The default makes an
  empty store with ``make_store()`` and ``set``-s every item. Override it for
  read-only stores (HTTP, a zip archive opened for reading): write the items
  to the backend yourself (e.g. into the directory a test server serves) and
  return a store reading them.

Tests that write skip themselves on a read-only store, listing tests skip on
a store that cannot list, and the ``ReadOnlyError`` test skips on a writable
store; each skip says why. ``self.tmp_path`` is pytest's ``tmp_path`` for the
current test. Every store the hooks return is closed after its test
(``aclose()`` when the store has one, else ``close()``); register more
teardown (stopping a test server, say) with ``self.add_cleanup(fn)``, where
``fn`` is a plain function or a coroutine function, run last-in first-out
after the stores are closed. The tests carry
``@pytest.mark.asyncio``, so they run under pytest-asyncio in both strict and
auto mode.

Wrappers, for tests and benchmarks: :class:`CountingStore` counts calls and
bytes per method, :class:`LatencyStore` adds a delay to every call. They need
no pytest: ``StoreSuite`` (which does) is imported when first asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .wrappers import CountingStore, ForwardingStore, LatencyStore, close_store

if TYPE_CHECKING:
    from .store_suite import StoreSuite

__all__ = ["CountingStore", "ForwardingStore", "LatencyStore", "StoreSuite", "close_store"]


def __getattr__(name: str) -> Any:
    if name == "StoreSuite":  # imports pytest: only for those who ask for the suite
        from .store_suite import StoreSuite

        return StoreSuite
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
