"""Runs the plan: one fresh child process per (workload, library, repeat), libraries alternating.

Within a workload the repeats are interleaved (repeat 1 of every library, then repeat 2, ...) and
the library order rotates each repeat, so slow drift of the machine (page cache, thermal state)
is spread over all libraries rather than charged to one.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .config import HTTP_LATENCY_SECONDS, REPO_DIR
from .machine_load import LoadProbe, boost_session
from .snapshot import CodeUnderTest
from .workloads import Workload

CHILD_TIMEOUT_SECONDS = 900
#: a child during which other processes kept more than this many cores busy is run again
NOISY_CORES = 0.25
QUIET_CORES = 0.15
MAX_QUIET_WAIT_SECONDS = 5.0
#: autogroup nice of the children is -DEFAULT_BOOST (see machine_load.boost_session)
DEFAULT_BOOST = 10
MAX_ATTEMPTS = 2
LIMITS_LIBRARY = "limits"


@dataclass(frozen=True)
class Job:
    workload: Workload
    library: str
    repeat: int


def plan(
    workloads: Sequence[Workload], libraries: Sequence[str], limits: Sequence[Workload], repeats: int
) -> list[Job]:
    jobs: list[Job] = []
    for workload in limits:
        jobs.extend(Job(workload, LIMITS_LIBRARY, r) for r in range(repeats))
    for workload in workloads:
        mine = [lib for lib in libraries if workload.libraries is None or lib in workload.libraries]
        for r in range(repeats):
            shift = r % len(mine) if mine else 0
            order = [*mine[shift:], *mine[:shift]]
            jobs.extend(Job(workload, library, r) for library in order if r == 0 or library not in workload.once)
    return jobs


def run_child(
    job: Job, data_dir: Path, quick: bool, server_url: str | None, boost: int = 0, cwd: Path = REPO_DIR
) -> dict[str, Any]:
    """Run one child process in ``cwd`` (where the zarrio under test is importable first).

    With ``boost`` > 0 it runs in its own session at autogroup nice ``-boost``.
    """
    spec = {
        "workload": job.workload.name,
        "library": job.library,
        "repeat": job.repeat,
        "data_dir": str(data_dir),
        "quick": quick,
        "server_url": server_url if job.workload.http else None,
    }
    started = time.monotonic()
    with subprocess.Popen(
        [sys.executable, "-m", "benchmarks.child", json.dumps(spec)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=boost > 0,
    ) as child:
        boosted = boost > 0 and boost_session(child.pid, -boost)
        try:
            stdout, stderr = child.communicate(timeout=CHILD_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            return {**spec, "error": f"timed out after {CHILD_TIMEOUT_SECONDS} s"}
    proc = subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        tail = (proc.stderr or proc.stdout)[-800:]
        result = {**spec, "error": f"child exited with status {proc.returncode} and no result: {tail}"}
    if "error" in result and proc.stderr:
        result["stderr_tail"] = proc.stderr[-2000:]
    result["wall_seconds"] = time.monotonic() - started
    result["boosted"] = boosted
    return result


@contextmanager
def http_server(root: Path, latency: float = HTTP_LATENCY_SECONDS, boost: int = 0) -> Iterator[tuple[str, int]]:
    """Start the benchmark HTTP server on 127.0.0.1 in its own process; yields its base URL and pid."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.httpserver", "--root", str(root), "--latency", str(latency)],
        cwd=REPO_DIR,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=boost > 0,
    )
    if boost > 0:
        boost_session(proc.pid, -boost)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"the benchmark HTTP server did not start (said {line!r})")
        yield f"http://127.0.0.1:{int(line.split()[1])}", proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def git_commit() -> str:
    """The commit of the working tree, ``+dirty`` when zarrio/ has uncommitted changes."""
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_DIR, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "zarrio"], cwd=REPO_DIR, capture_output=True, text=True)
    return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def machine() -> dict[str, Any]:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            mem_kib = int(f.readline().split()[1])
    except OSError:
        mem_kib = 0
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(mem_kib / 2**20, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }


def run_guarded(
    job: Job,
    data_dir: Path,
    quick: bool,
    server_url: str | None,
    probe: LoadProbe,
    quiet_wait: float,
    boost: int,
    code: CodeUnderTest,
) -> dict[str, Any]:
    """Run a child when the machine is quiet; run it again if other processes disturbed it.

    ``quiet_wait`` is the longest wait for quiet before each attempt; 0 disables waiting and re-runs.
    """
    best: dict[str, Any] | None = None
    attempts = MAX_ATTEMPTS if quiet_wait > 0 else 1
    for attempt in range(1, attempts + 1):
        waited = probe.wait_for_quiet(QUIET_CORES, quiet_wait) if quiet_wait > 0 else 0.0
        probe.start()
        result = run_child(job, data_dir, quick, server_url, boost, code.cwd)
        result["zarrio_state"] = code.label
        result["background_cores"] = round(probe.background_cores(), 3)
        result["quiet_wait_seconds"] = round(waited, 1)
        result["attempt"] = attempt
        if best is None or result["background_cores"] < best["background_cores"]:
            best = result
        if result["background_cores"] <= NOISY_CORES or "error" in result:
            break
    assert best is not None
    return best


def run_plan(
    jobs: Sequence[Job],
    data_dir: Path,
    quick: bool,
    server_root: Path | None,
    quiet_wait: float = 0.0,
    boost: int = 0,
    code: CodeUnderTest | None = None,
) -> list[dict[str, Any]]:
    code = code or CodeUnderTest(REPO_DIR, "working tree")
    results: list[dict[str, Any]] = []
    needs_server = any(job.workload.http for job in jobs)

    def execute(server_url: str | None, probe: LoadProbe) -> None:
        for i, job in enumerate(jobs, 1):
            result = run_guarded(job, data_dir, quick, server_url, probe, quiet_wait, boost, code)
            results.append(result)
            print(f"[{i:>3}/{len(jobs)}] {describe(result)}", flush=True)

    if needs_server and server_root is not None:
        with http_server(server_root, boost=boost) as (url, server_pid):
            execute(url, LoadProbe(helper_pids=(server_pid,)))
    else:
        execute(None, LoadProbe())
    return results


def describe(result: dict[str, Any]) -> str:
    head = f"{result['workload']:<20} {result['library']:<18} r{result.get('repeat', 0)}"
    head += f" a{result.get('attempt', 1)}" if result.get("attempt", 1) > 1 else ""
    if "error" in result:
        return f"{head} ERROR {result['error'][:160]}"
    if "unsupported" in result:
        return f"{head} n/a ({result['unsupported']})"
    parts = []
    for name, phase in result["phases"].items():
        text = f"{name} {phase['seconds'] * 1e3:.1f} ms"
        if phase.get("requests") is not None:
            text += f" ({phase['requests']} req)"
        parts.append(text)
    peak = result.get("peak_rss")
    if peak:
        parts.append(f"peak {peak / 2**20:.0f} MiB")
    if result.get("background_cores", 0) > NOISY_CORES:
        label = "other work (boosted past it)" if result.get("boosted") else "NOISY: other work"
        parts.append(f"{label} {result['background_cores']:.2f} cores")
    return f"{head} " + ", ".join(parts)


def now_utc() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
