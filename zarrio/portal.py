"""The background event loop behind the synchronous facade.

One daemon thread runs one asyncio loop, started lazily on first use. Every
blocking call (``z[0:10]``, ``zarrio.open(...)``) submits a coroutine to it
and waits for the result, so the facade works:

* in plain scripts;
* from many threads at once (they share the loop, and so share each store's
  request limit);
* where the calling thread already runs an event loop (Jupyter, an async
  framework): the call blocks that thread, never the portal's loop;
* in a child process after ``os.fork()`` (the child starts a new loop thread);
* at interpreter exit (the thread is a daemon; an ``atexit`` hook stops the
  loop first so pending work is cancelled, not torn down mid-flight).

Calling the facade from the portal's own thread (e.g. inside a coroutine run
by ``zarrio.run``) would wait on itself forever; it raises
:class:`~zarrio.errors.FacadeError` instead.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import sys
import threading
from collections.abc import Coroutine
from time import sleep as _sleep
from typing import Any, TypeVar

from ._tasks import start_task
from .errors import FacadeError

__all__ = ["check_not_portal_thread", "in_portal_thread", "run", "shutdown"]

T = TypeVar("T")


class _Portal:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self.pid = os.getpid()

    def ensure_loop(self) -> asyncio.AbstractEventLoop:
        loop = self.loop
        if loop is not None and self.pid == os.getpid() and loop.is_running():
            return loop
        with self.lock:
            if self.loop is None or self.pid != os.getpid() or not self.loop.is_running():
                self._start()
            assert self.loop is not None
            return self.loop

    def _start(self) -> None:
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def main() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            try:
                loop.run_forever()
            finally:
                _cancel_all(loop)
                loop.close()

        thread = threading.Thread(target=main, name="zarrio-portal", daemon=True)
        thread.start()
        if not ready.wait(timeout=30):  # pragma: no cover - a thread that cannot start
            raise FacadeError("the zarrio event-loop thread did not start")
        self.loop, self.thread, self.pid = loop, thread, os.getpid()

    def stop(self) -> None:
        with self.lock:
            loop, thread = self.loop, self.thread
            self.loop = self.thread = None
        if loop is None or thread is None or self.pid != os.getpid():
            return
        if loop.is_running():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)

    def after_fork(self) -> None:
        # the loop thread does not exist in the child; forget it (never touch its loop)
        self.lock = threading.Lock()
        self.loop = None
        self.thread = None
        self.pid = os.getpid()


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for t in tasks:
        t.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())


_portal = _Portal()


def in_portal_thread() -> bool:
    """Whether the caller runs on the facade's own loop thread."""
    return _portal.thread is not None and threading.current_thread() is _portal.thread


def check_not_portal_thread() -> None:
    """Raise FacadeError when called on the facade's own loop thread."""
    if in_portal_thread():
        raise FacadeError(
            "a blocking zarrio call was made from zarrio's own event-loop thread, where it would deadlock; "
            "await the zarrio.aio API there instead"
        )


def run(coro: Coroutine[Any, Any, T], *, timeout: float | None = None) -> T:
    """Run ``coro`` on zarrio's background loop and return its result (blocking).

    Safe from any thread, including one that runs its own event loop. If the
    wait is interrupted (``KeyboardInterrupt``) or ``timeout`` passes, the
    coroutine is cancelled before this returns, so no task is left running.
    """
    if not asyncio.iscoroutine(coro):
        raise TypeError(f"zarrio.run needs a coroutine object, got {type(coro).__name__}")
    if in_portal_thread():
        coro.close()
    check_not_portal_thread()
    loop = _portal.ensure_loop()
    call = _Call(coro)
    loop.call_soon_threadsafe(call.start)
    try:
        if not call.finished.acquire(timeout=-1 if timeout is None else max(timeout, 0)):
            call.cancel_and_wait(loop)
            raise TimeoutError(f"zarrio operation did not finish within {timeout} s (it was cancelled)")
    except BaseException:
        if not call.done:
            call.cancel_and_wait(loop)
        raise
    result: T = call.outcome()
    return result


class _Call:
    """One coroutine run on the portal's loop for a blocked caller thread.

    The caller waits on a plain lock that the task's done callback releases: one
    wake-up each way, no concurrent future, no extra wrapper coroutine.
    """

    __slots__ = ("coro", "done", "failed", "finished", "task")

    def __init__(self, coro: Coroutine[Any, Any, Any]) -> None:
        self.coro: Coroutine[Any, Any, Any] | None = coro
        self.task: asyncio.Task[Any] | None = None
        self.failed: BaseException | None = None
        self.done = False
        self.finished = threading.Lock()
        self.finished.acquire()

    def start(self) -> None:  # on the loop
        coro, self.coro = self.coro, None
        assert coro is not None
        try:
            # 3.12+: the task's first step runs here, and a call that needs no I/O
            # (metadata already known, a blocking-store read) finishes without another loop turn
            self.task = start_task(coro)
        except BaseException as e:  # the caller must not wait forever on a task that never began
            coro.close()
            self.failed = e
            self._finish(None)
            return
        if self.task.done():
            self._finish(self.task)
        else:
            self.task.add_done_callback(self._finish)

    def _finish(self, _: asyncio.Task[Any] | None) -> None:  # on the loop
        self.done = True
        self.finished.release()

    def _cancel(self) -> None:  # on the loop, after start (call_soon_threadsafe keeps order)
        if self.task is not None:
            self.task.cancel()

    def cancel_and_wait(self, loop: asyncio.AbstractEventLoop) -> None:
        """Cancel the task and wait until it has really stopped (its ``finally`` blocks ran),
        so nothing is left running when the caller returns."""
        if not self.done:
            loop.call_soon_threadsafe(self._cancel)
            if self.finished.acquire(timeout=30):
                self.finished.release()

    def outcome(self) -> Any:
        if self.failed is not None:
            raise self.failed
        assert self.task is not None
        return self.task.result()


def shutdown() -> None:
    """Stop the background loop (it restarts lazily on the next blocking call)."""
    _portal.stop()


#: at exit, how long the GIL is let go after the loop stopped (see :func:`_at_exit`)
EXIT_GRACE = 0.02


def _at_exit() -> None:
    """Stop the loop, then let the GIL go for a moment when obstore is loaded. Its runtime's
    threads hand each result to the loop with ``call_soon_threadsafe``, whose wake-up write lets
    the GIL go; a thread still waiting to take it back when the interpreter finalizes is ended
    by CPython (3.13: ``pthread_exit``), and unwinding through its Rust frames aborts the process
    (exit -6 after a script's last read; seen as a rare failure of the suite's child processes)."""
    _portal.stop()
    if "obstore" in sys.modules:  # loaded through zarrio or not, used from this loop or from asyncio.run
        _sleep(EXIT_GRACE)


atexit.register(_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_portal.after_fork)
