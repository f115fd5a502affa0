"""Store.consistency, and the two flags of earlier versions it replaces."""

from __future__ import annotations

from pathlib import Path

from zarrio.stores import HttpStore, MemoryStore, ZipStore
from zarrio.testing import ForwardingStore


class OldStyleVersioned(MemoryStore):
    versioned_reads = True


class OldStyleImmutable(MemoryStore):
    immutable = True


def test_built_in_stores_say_their_consistency(tmp_path: Path) -> None:
    assert MemoryStore().consistency == "mutable"
    assert HttpStore("http://127.0.0.1:9/x").consistency == "versioned"
    path = f"{tmp_path}/a.zip"
    with ZipStore(path, mode="w") as writing:
        assert writing.consistency == "mutable"
    reading = ZipStore(path)
    assert reading.consistency == "immutable" and reading.immutable and reading.versioned_reads
    assert ForwardingStore(reading).consistency == "immutable"
    reading.close()


def test_old_class_flags_are_read_as_consistency() -> None:
    assert OldStyleVersioned().consistency == "versioned"
    assert OldStyleImmutable().consistency == "immutable"
    assert not MemoryStore().versioned_reads and not MemoryStore().immutable


def test_old_instance_flags_set_consistency() -> None:
    store = MemoryStore()
    store.versioned_reads = True
    assert store.consistency == "versioned"
    store.immutable = True
    assert store.consistency == "immutable"
    store.immutable = False
    assert store.consistency == "mutable"
