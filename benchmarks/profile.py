"""Where a library spends the timed step of one workload, from py-spy samples.

    python -m benchmarks.profile L3-read-sharded [--library zarrio] [--rate 500] [--top 25]

Records the child process with ``py-spy record --format raw --threads`` and ``--native`` (so worker
threads and C code are seen), keeps the samples of the timed step (main-thread samples inside the
adapter's read/write, and every other thread's), drops native waits, and prints where the working
samples are: by thread, by innermost Python function and by innermost native frame. HTTP
workloads are not supported here (they need the server); profile those with py-spy by hand.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from .config import DEFAULT_DATA_DIR
from .snapshot import code_under_test

#: main-thread frames that mark the timed step (other threads run only while it runs)
TIMED_FRAMES = ("Adapter.read ", "Adapter.write ", "Adapter.aread ")
#: native leaves that mean the thread is waiting, not working
WAITING = re.compile(r"^(0x[0-9a-f]+ \(libc|epoll_wait|pthread_cond_|sem_|futex|__futex|poll |select |nanosleep)")
_FRAME = re.compile(r"^(?P<func>.+?) \((?P<file>[^:)]+)(:\d+)?\)$")


def parse_raw(text: str) -> list[tuple[list[str], int]]:
    """py-spy raw lines: ``frame;frame;... count`` -> (frames, count)."""
    samples = []
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            samples.append((stack.split(";"), int(count)))
    return samples


def short(frame: str) -> str:
    match = _FRAME.match(frame)
    if match is None:
        return frame
    path = match["file"]
    for marker in ("site-packages/", "lib/python3.12/"):
        path = path.split(marker, 1)[-1]
    return f"{match['func']} ({path})"


def thread_kind(first: str) -> str:
    name = first.split(":", 1)[1].strip() if ":" in first else "main"
    return re.sub(r"[_-]?\d+$", "", name) or "main"


def in_timed_step(frames: list[str]) -> bool:
    if thread_kind(frames[0]) != "MainThread":
        return not any("benchmarks/" in f for f in frames[1:])
    return any(marker in f for f in frames for marker in TIMED_FRAMES)


def python_leaf(frames: list[str]) -> str:
    return next((short(f) for f in reversed(frames) if ".py:" in f or ".py)" in f), short(frames[-1]))


def summarize(samples: list[tuple[list[str], int]], top: int) -> str:
    kept = [(frames, n) for frames, n in samples if in_timed_step(frames)]
    working = [(frames, n) for frames, n in kept if not WAITING.match(frames[-1])]
    total = sum(n for _, n in working) or 1
    waiting = sum(n for _, n in kept) - sum(n for _, n in working)
    by_thread: Counter[str] = Counter()
    native: Counter[str] = Counter()
    python: Counter[str] = Counter()
    for frames, n in working:
        by_thread[thread_kind(frames[0])] += n
        native[short(frames[-1])] += n
        python[python_leaf(frames)] += n
    lines = [f"{total} working samples in the timed step ({waiting} more samples of threads waiting)", ""]
    lines += ["working samples by thread:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in by_thread.most_common()]
    lines += ["", "by innermost Python function (its native callees included):"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in python.most_common(top)]
    lines += ["", "by innermost frame (native when recorded with --native):"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in native.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workload")
    parser.add_argument("--library", default="zarrio")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--rate", type=int, default=500, help="samples per second")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--python-only", action="store_true", help="no C frames (waiting threads then count)")
    parser.add_argument("--zarrio-ref", default="HEAD", help="git revision of zarrio, or 'worktree'")
    args = parser.parse_args()
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    spec = {"workload": args.workload, "library": args.library, "data_dir": str(args.data_dir)}
    with tempfile.TemporaryDirectory() as tmp, code_under_test(args.zarrio_ref) as code:
        raw = Path(tmp) / "profile.txt"
        command = [py_spy, "record", "--format", "raw", "--threads", "--rate", str(args.rate), "--output", str(raw)]
        command += [] if args.python_only else ["--native"]
        command += ["--", sys.executable, "-m", "benchmarks.child", json.dumps(spec)]
        subprocess.run(command, cwd=code.cwd, check=True, capture_output=True)
        print(f"zarrio under test: {code.label}")
        print(summarize(parse_raw(raw.read_text(encoding="utf-8")), args.top))


if __name__ == "__main__":
    main()
