"""The workloads behind issue 18's profiles, small enough to run under py-spy by hand.

    .venv/bin/python benchmarks/profiles/tiny_reads.py full      # 2000² uint8 in 40,000 chunks of 10², read whole
    .venv/bin/python benchmarks/profiles/tiny_reads.py threads   # 8,000 one-element reads by 1, then 16 threads

    .venv/bin/py-spy record -r 250 --native --threads -f raw -o out.txt -- \\
        .venv/bin/python benchmarks/profiles/tiny_reads.py threads

The array is written once into a temporary directory (a LocalStore) and read through the blocking
facade, as a notebook or a thread pool would.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time

import numpy as np

import zarrio
from zarrio.stores import LocalStore

READS = 8000


def main(which: str) -> None:
    store = LocalStore(tempfile.mkdtemp())
    writer = zarrio.create(store, (2000, 2000), "uint8", chunks=(10, 10))
    writer[...] = (np.arange(2000 * 2000) % 251).astype("uint8").reshape(2000, 2000)
    z = zarrio.open_array(store, mode="r")
    if which == "full":
        for _ in range(3):
            started = time.perf_counter()
            z[...]
            print(f"full read of 40,000 chunks: {time.perf_counter() - started:.2f} s")
        return
    for threads in (1, 16):

        def work(seed: int, count: int = READS // threads) -> None:
            for i, j in np.random.default_rng(seed).integers(0, 2000, (count, 2)).tolist():
                z[i, j]

        workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        print(f"{threads} thread(s), {READS} one-element reads in all: {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "threads")
