"""The child processes of tests/test_concurrent_writers.py (spawned, so importable by name).

Each child opens the shared array and, round after round, writes its own row of that
round's chunk; a barrier starts every round in every process at once, so the
read-modify-writes of one chunk really overlap.
"""

from __future__ import annotations

import faulthandler
from typing import Any

import zarrio
from zarrio.stores import LocalStore, Store


#: what writer ``w`` writes in round ``r``: every row tells who wrote it and when
def row_value(writer: int, rnd: int) -> int:
    return writer + 1 + 1000 * rnd


def make_store(spec: dict[str, Any]) -> Store:
    if spec["kind"] == "local":
        return LocalStore(spec["root"], lock_chunks=spec["lock"])
    from obstore.store import S3Store

    from zarrio.stores.object_store import ObjectStore

    backend = S3Store(
        spec["bucket"],
        prefix=spec["prefix"],
        endpoint=spec["endpoint"],
        virtual_hosted_style_request=False,
        client_options={"allow_http": True},
        **spec["credentials"],
    )
    store = ObjectStore(backend)
    store.conditional_writes = spec.get("cas", True)  # off: to show what compare-and-swap prevents
    return store


def write_rows(spec: dict[str, Any], writer: int, barrier: Any) -> None:
    # a child that dies of a signal (one aborted once, -6, on 3.13 under the load of three suites)
    # prints every thread's Python stack to the test's captured stderr
    faulthandler.enable()
    z = zarrio.open_array(make_store(spec), path=spec["path"])
    for rnd in range(z.shape[0]):
        barrier.wait(timeout=20)
        z[rnd, writer, :] = row_value(writer, rnd)
