"""A test that times out fails fast and shows the stack of EVERY thread (a pytest plugin; tests/conftest.py
loads it).

pytest-timeout's `signal` method prints the stacks of the threads other than the current one, then fails
the test from a SIGALRM handler; that handler runs only once the main thread is back in the interpreter.
This plugin takes over the `signal` method (through pytest-timeout's `pytest_timeout_set_timer` hook):

- at the timeout, the SIGALRM handler formats the Python stack of every thread, the main thread's
  included, each under its thread name; it writes that to the terminal at once (so it is in the log even
  if the run dies later) and fails the test with it as the message (so it is in the test's report);
- a faulthandler watchdog, a C thread that needs no GIL, is armed `timeout_hard_grace` seconds later
  (ini option, default 10; re-armed from the moment the handler runs, to bound the unwinding): for a
  hang the handler cannot interrupt (a C call that holds the GIL or never returns to the interpreter)
  it dumps every thread to the terminal and ends the process.

`--timeout-method=thread` stays pytest-timeout's own (it dumps every other thread, then exits).
"""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
import threading
import traceback
from types import FrameType
from typing import Any

import pytest

HARD_GRACE_INI = "timeout_hard_grace"
DEFAULT_HARD_GRACE = 10.0
_terminal_fd = pytest.StashKey[int]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        HARD_GRACE_INI,
        "seconds after a test's timeout before faulthandler dumps every thread and ends the process "
        f"(default {DEFAULT_HARD_GRACE:g})",
        default=str(DEFAULT_HARD_GRACE),
    )


def pytest_configure(config: pytest.Config) -> None:
    # capture is suspended while plugins are configured: this is the real stderr (as pytest's faulthandler
    # plugin does it), kept for the watchdog, which writes from C while the test's output is captured
    try:
        fileno = sys.stderr.fileno()
    except (AttributeError, ValueError):
        assert sys.__stderr__ is not None
        fileno = sys.__stderr__.fileno()
    config.stash[_terminal_fd] = os.dup(fileno)


def pytest_unconfigure(config: pytest.Config) -> None:
    fd = config.stash.get(_terminal_fd, None)
    if fd is not None:
        faulthandler.cancel_dump_traceback_later()
        os.close(fd)
        del config.stash[_terminal_fd]


def every_thread_stack(interrupted: FrameType | None = None) -> str:
    """The Python stack of every thread, by name, most recent call last; the calling thread's from the
    frame `interrupted` (where a signal handler was entered) when given."""
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    here = threading.get_ident()
    frames = sys._current_frames()
    if interrupted is not None:
        frames[here] = interrupted
    parts = []
    for ident, frame in sorted(frames.items(), key=lambda item: item[0] != here):
        where = " (timed out here)" if ident == here else ""
        parts.append(f"--- thread {names.get(ident, '<unknown>')!r} (id {ident}){where}\n")
        parts.append("".join(traceback.format_stack(frame)))
    return "".join(parts)


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_set_timer(item: pytest.Item, settings: Any) -> bool | None:
    if settings.method != "signal" or threading.current_thread() is not threading.main_thread():
        return None  # pytest-timeout does it (the thread method)
    timeout = float(settings.timeout)
    terminal = item.config.stash[_terminal_fd]
    grace = float(str(item.config.getini(HARD_GRACE_INI)))

    def on_timeout(signum: int, frame: FrameType | None) -> None:
        __tracebackhide__ = True
        report = f"Timeout: {item.nodeid} ran for more than {timeout:g} s. The stack of every thread:\n"
        report += every_thread_stack(frame)
        os.write(terminal, f"\n{'+' * 40} Timeout {'+' * 40}\n{report}{'+' * 89}\n".encode(errors="replace"))
        # the watchdog now guards the failure's unwinding and report (slow on a loaded machine), from here
        faulthandler.dump_traceback_later(grace, exit=True, file=terminal)
        pytest.fail(report, pytrace=True)

    def cancel() -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        faulthandler.cancel_dump_traceback_later()

    item.cancel_timeout = cancel  # type: ignore[attr-defined]  # pytest-timeout's cancel hook calls it
    signal.signal(signal.SIGALRM, on_timeout)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    faulthandler.dump_traceback_later(timeout + grace, exit=True, file=terminal)
    return True
