"""Running a test's work in many threads at once, joined with a bound (a thread that hangs fails the test)."""

from __future__ import annotations

import threading
from collections.abc import Callable


def run_threads(n: int, target: Callable[[int], None], timeout: float = 30) -> None:
    """Run ``target(i)`` for ``i`` in ``range(n)``, one thread each; fail when any of them is still
    running ``timeout`` seconds into its join, or raised."""
    errors: list[BaseException] = []

    def guarded(i: int) -> None:
        try:
            target(i)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), "a thread hangs"
    assert not errors, errors
