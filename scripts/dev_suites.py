"""Run the pytest suite under several interpreters at once and add up their tallies (for scripts/dev.py).

Each run writes its whole output to its own log file and streams every line to our stdout with a
`[3.12] ` prefix. A run counts as failed when pytest exits non-zero, including status 5 ("no tests
ran"). Only the standard library is used.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

PYTEST_NO_TESTS_RAN = 5
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
TALLY_WORD = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected|warnings?)")
#: pytest's closing line, e.g. "==== 3 failed, 10 passed in 2.10s ====" or "5 passed in 0.50s" under -q
CLOSING_LINE = re.compile(r"\d+ \w+.* in [\d.]+s")


def pytest_tally(last_line: str) -> dict[str, int]:
    """Counts from pytest's closing line, e.g. '==== 3 failed, 10 passed, 1 skipped in 2.1s ===='."""
    counts: dict[str, int] = {}
    for number, word in TALLY_WORD.findall(ANSI_ESCAPE.sub("", last_line)):
        key = {"error": "errors", "warning": "warnings"}.get(word, word)
        counts[key] = counts.get(key, 0) + int(number)
    return counts


@dataclass(frozen=True)
class Suite:
    """One pytest run to make: which interpreter, under what label, logging where."""

    label: str
    python: Path
    log_file: Path


@dataclass
class SuiteResult:
    label: str
    status: int
    elapsed: float
    log_file: Path
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 0

    @property
    def failed(self) -> int:
        """Failed tests and errors; a failed run with none of those (no tests ran, a crash, a
        watchdog's exit) counts as one, so that the summary never reads `0 failed` for a failed run."""
        failed = self.counts.get("failed", 0) + self.counts.get("errors", 0)
        return failed if failed or self.ok else 1

    def describe(self) -> str:
        tally = f"{self.counts.get('passed', 0)} passed, {self.failed} failed"
        if self.counts.get("skipped"):
            tally += f", {self.counts['skipped']} skipped"
        verdict = "ok" if self.ok else "FAILED"
        if self.status == PYTEST_NO_TESTS_RAN:
            verdict = "FAILED (no tests ran)"
        elif not self.ok and not self.counts:
            verdict = "FAILED (the run ended without pytest's closing tally)"
        return f"python {self.label}: {tally} in {self.elapsed:.0f} s, pytest exit status {self.status}: {verdict}"


def run_suite(
    suite: Suite,
    pytest_args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    emit: Callable[[str], None],
    color: bool = False,
) -> SuiteResult:
    """Run `python -m pytest` once, teeing its output into the log file and `emit` (one prefixed line per call)."""
    command = [str(suite.python), "-m", "pytest", *pytest_args]
    if color:
        command.append("--color=yes")
    suite.log_file.parent.mkdir(parents=True, exist_ok=True)
    run_env = dict(env)
    # each interpreter's pytest keeps its tmp_path directories under a root of its own: runs at once
    # sharing one pytest-of-<user> removed each other's old directories at exit (ENOTEMPTY, a failed run)
    temp_root = Path(run_env.get("PYTEST_DEBUG_TEMPROOT") or tempfile.gettempdir()) / f"zarrio-pytest-{suite.label}"
    temp_root.mkdir(parents=True, exist_ok=True)
    run_env["PYTEST_DEBUG_TEMPROOT"] = str(temp_root)
    prefix = f"[{suite.label}] "
    emit(prefix + "$ " + " ".join(command))
    started = time.monotonic()
    closing = ""
    with (
        suite.log_file.open("w", encoding="utf-8") as log,
        subprocess.Popen(
            command,
            cwd=cwd,
            env=run_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        ) as proc,
    ):
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            log.flush()
            emit(prefix + line.rstrip("\n"))
            plain = ANSI_ESCAPE.sub("", line).strip()
            if CLOSING_LINE.search(plain):
                closing = plain
        status = proc.wait()
    return SuiteResult(suite.label, status, time.monotonic() - started, suite.log_file, pytest_tally(closing))


def summary_line(results: Sequence[SuiteResult]) -> str:
    """`summary: N passed, M failed` (plus `, K skipped`), totalled over every run."""
    passed = sum(r.counts.get("passed", 0) for r in results)
    failed = sum(r.failed for r in results)
    skipped = sum(r.counts.get("skipped", 0) for r in results)
    line = f"summary: {passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    return line


def _run_together(
    suites: Sequence[Suite],
    pytest_args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    jobs: int,
) -> list[SuiteResult]:
    """Run every suite, at most `jobs` at once; the results in the order given."""
    lock = threading.Lock()
    color = sys.stdout.isatty()

    def emit(line: str) -> None:
        with lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(run_suite, s, pytest_args, cwd=cwd, env=env, emit=emit, color=color) for s in suites]
        return [future.result() for future in futures]


def _report(results: Sequence[SuiteResult], log: Callable[[str], None]) -> int:
    for result in results:
        log(f"{result.describe()} (log: {result.log_file})")
    print(summary_line(results), flush=True)
    return 0 if results and all(r.ok for r in results) else 1


def run_suites(
    suites: Sequence[Suite],
    pytest_args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    jobs: int,
    log: Callable[[str], None],
) -> tuple[int, list[SuiteResult]]:
    """Run every suite, at most `jobs` at once; returns (exit status, results in the order given)."""
    started = time.monotonic()
    results = _run_together(suites, pytest_args, cwd=cwd, env=env, jobs=jobs)
    log(f"{len(results)} run(s), {max(1, jobs)} at a time, in {time.monotonic() - started:.0f} s")
    return _report(results, log), results


@dataclass(frozen=True)
class Phase:
    """One round of runs: the same suites (by label) with extra pytest arguments, `jobs` at a time."""

    suites: Sequence[Suite]
    pytest_args: Sequence[str]
    jobs: int


def combined(label: str, parts: Sequence[SuiteResult]) -> SuiteResult:
    """One interpreter's phases as one result: tallies and times added, failed when any phase failed
    (the status of the first failed phase), logged where the first phase logged."""
    counts: dict[str, int] = {}
    for part in parts:
        for key, value in part.counts.items():
            counts[key] = counts.get(key, 0) + value
    failing = [part.status for part in parts if part.status != 0]
    status = failing[0] if failing else 0
    return SuiteResult(label, status, sum(p.elapsed for p in parts), parts[0].log_file, counts)


def run_phases(
    phases: Sequence[Phase], *, cwd: Path, env: Mapping[str, str], log: Callable[[str], None]
) -> tuple[int, list[SuiteResult]]:
    """Run the phases one after the other; report one combined result per interpreter label and one
    summary line. Returns (exit status, combined results in the first phase's order)."""
    by_label: dict[str, list[SuiteResult]] = {}
    started = time.monotonic()
    for number, phase in enumerate(phases, 1):
        phase_started = time.monotonic()
        for result in _run_together(phase.suites, phase.pytest_args, cwd=cwd, env=env, jobs=phase.jobs):
            by_label.setdefault(result.label, []).append(result)
        log(
            f"phase {number} ({' '.join(phase.pytest_args)}): {len(phase.suites)} run(s), "
            f"{max(1, phase.jobs)} at a time, in {time.monotonic() - phase_started:.0f} s"
        )
    results = [combined(label, parts) for label, parts in by_label.items()]
    log(f"{len(phases)} phase(s) in {time.monotonic() - started:.0f} s")
    return _report(results, log), results
