"""A timed-out test fails fast and names every thread's frames (tests/timeout_dumps.py), checked on a
tiny hanging pytest file run in a subprocess: one thread spins, the main thread is blocked."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent

HANGING_TESTS = """
import threading

stop = threading.Event()


def spinning_worker():
    count = 0
    while not stop.is_set():
        count += 1


def start_spinner():
    threading.Thread(target=spinning_worker, name="spinner-thread", daemon=True).start()


def blocked_on_a_lock(lock):
    lock.acquire()  # nobody releases it


def holding_the_gil():
    return sum(range(10**13))  # one C call: no signal handler runs until it returns


def test_blocked_main_thread():
    start_spinner()
    lock = threading.Lock()
    lock.acquire()
    blocked_on_a_lock(lock)


def test_gil_held_in_c():
    start_spinner()
    holding_the_gil()
"""


def run_hanging(
    tmp_path: Path, test_name: str, timeout: float = 2.0, grace: float = 2.0
) -> tuple[int, str, str, float]:
    """Run one test of HANGING_TESTS in a fresh pytest: (exit status, stdout (the report), stderr, seconds)."""
    (tmp_path / "test_hanging.py").write_text(HANGING_TESTS, encoding="utf-8")
    # an ini of its own, so that the repository's pyproject.toml (timeout, filterwarnings) is not read
    (tmp_path / "pytest.ini").write_text(f"[pytest]\ntimeout_hard_grace = {grace}\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS_DIR), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "pytest", "-p", "timeout_dumps", "-p", "no:cacheprovider"]
    command += [f"--timeout={timeout}", "-c", str(tmp_path / "pytest.ini"), f"test_hanging.py::{test_name}"]
    started = time.monotonic()
    result = subprocess.run(
        command,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result.returncode, result.stdout, result.stderr, time.monotonic() - started


def test_a_timed_out_test_fails_with_every_threads_stack(tmp_path: Path) -> None:
    # a grace long enough that the watchdog stays out of it, however slow the report is to make
    status, report, live, elapsed = run_hanging(tmp_path, "test_blocked_main_thread", grace=30.0)
    output = report + live
    assert status == 1, output
    assert "1 failed" in report, output
    assert elapsed < 30, f"took {elapsed:.1f} s for a 2 s timeout"
    assert "Timeout (0:00:" not in live  # the SIGALRM handler did it, not the watchdog
    assert "test_hanging.py::test_blocked_main_thread ran for more than 2 s" in output
    # both threads by name, each with its own frames; the main thread's starts at the blocked call
    main_part = output.split("--- thread 'MainThread'", 1)[1].split("--- thread", 1)[0]
    assert "in blocked_on_a_lock" in main_part and "lock.acquire()" in main_part
    spinner_part = output.split("--- thread 'spinner-thread'", 1)[1]
    assert "in spinning_worker" in spinner_part
    # printed to the terminal at the timeout, and again as the failure's message in the report
    assert "--- thread 'spinner-thread'" in live and "--- thread 'MainThread'" in live
    assert "--- thread 'spinner-thread'" in report and "--- thread 'MainThread'" in report
    assert "in on_timeout" not in main_part  # the handler's own frames are left out


def test_a_hang_holding_the_gil_is_dumped_by_the_watchdog_and_ended(tmp_path: Path) -> None:
    status, report, live, elapsed = run_hanging(tmp_path, "test_gil_held_in_c", timeout=1.0, grace=1.0)
    output = report + live
    assert status != 0, output
    assert elapsed < 30, f"took {elapsed:.1f} s for a 1 s timeout and 1 s grace"
    assert "Timeout (0:00:02)!" in output, output  # faulthandler's dump_traceback_later, all threads
    assert "in holding_the_gil" in output and "in test_gil_held_in_c" in output
    assert "in spinning_worker" in output


def test_the_suite_fails_a_hang_within_half_a_minute(pytestconfig: pytest.Config) -> None:
    # pyproject.toml's per-test default: what the slowest honest test needs, not minutes
    assert 0 < float(str(pytestconfig.getini("timeout"))) <= 30
