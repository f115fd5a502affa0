"""How busy the rest of the machine is: CPU used by processes other than the benchmark's own.

The benchmark shares its 2-core machine with whatever else runs (tests, builds). Two defences:

- *boost*: each child runs in a session of its own whose scheduling group (Linux autogroup) gets a
  negative nice value, so the CPU goes to the measured process first (root only; without autogroup
  or the privilege this is a no-op, and the report says so);
- *quiet gating*: the driver can wait for a quiet moment before each child, measures the CPU the
  rest of the system used while the child ran, and re-runs a disturbed child once.

And one deliberate load: :func:`busy_core`, a process of the benchmark's own keeping one core
busy during a workload (the "busy machine" rows of issue 18), bounded in time and in count.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def system_busy_seconds() -> float:
    """CPU seconds all CPUs have spent busy since boot (user, nice, system, irq, softirq, steal)."""
    with open("/proc/stat", encoding="ascii") as f:
        fields = [int(v) for v in f.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def process_cpu_seconds(pid: int) -> float:
    """CPU seconds used by one running process (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            after_name = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(after_name[11]) + int(after_name[12])) / CLOCK_TICKS


def own_cpu_seconds() -> float:
    """CPU used by this process plus its children already waited for."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


@dataclass
class LoadProbe:
    """Measures the CPU used by everything except this process, its waited children and ``helper_pids``."""

    helper_pids: tuple[int, ...] = ()

    def _mine(self) -> float:
        return own_cpu_seconds() + sum(process_cpu_seconds(pid) for pid in self.helper_pids)

    def start(self) -> None:
        self._busy = system_busy_seconds()
        self._mine0 = self._mine()
        self._wall = time.monotonic()

    def background_cores(self) -> float:
        """Average number of cores other processes kept busy since ``start``."""
        wall = max(time.monotonic() - self._wall, 1e-6)
        other = (system_busy_seconds() - self._busy) - (self._mine() - self._mine0)
        return max(other, 0.0) / wall

    def wait_for_quiet(self, threshold: float, max_wait: float, sample: float = 0.5) -> float:
        """Wait until other processes use under ``threshold`` cores over one sample (at most ``max_wait`` s).

        Returns the seconds waited.
        """
        started = time.monotonic()
        while True:
            self.start()
            time.sleep(sample)
            if self.background_cores() < threshold or time.monotonic() - started >= max_wait:
                return time.monotonic() - started


def boost_session(pid: int, nice: int) -> bool:
    """Set the nice value of the scheduling group (autogroup) of the session ``pid`` leads.

    Returns False when the kernel has no autogroups or refuses (a negative value needs root).
    """
    try:
        Path(f"/proc/{pid}/autogroup").write_text(f"{nice}\n", encoding="ascii")
    except OSError:
        return False
    return True


def can_boost() -> bool:
    """Whether ``boost_session`` can raise priority here: root, on a kernel with autogroups enabled."""
    try:
        enabled = Path("/proc/sys/kernel/sched_autogroup_enabled").read_text(encoding="ascii").strip() == "1"
    except OSError:
        return False
    return enabled and os.geteuid() == 0


#: the spinning loop of :func:`busy_core`: bounded by its deadline and by a count of rounds
_SPIN = """
import sys, time
deadline = time.monotonic() + float(sys.argv[1])
rounds = int(sys.argv[2])
print("spinning", flush=True)
while rounds > 0 and time.monotonic() < deadline:
    for _ in range(10_000):
        pass
    rounds -= 1
"""
#: at most this many rounds of 10,000 empty loop iterations (far more than any deadline allows)
BUSY_MAX_ROUNDS = 50_000_000
BUSY_MAX_SECONDS = 180.0


@contextmanager
def busy_core(max_seconds: float = BUSY_MAX_SECONDS, rounds: int = BUSY_MAX_ROUNDS) -> Iterator[BusyCore]:
    """Keep one core busy with another process (a Python loop) while the block runs.

    The process is started here, is running (it said so) when the block starts, and is
    terminated, then waited for, when the block ends; it also stops by itself after
    ``max_seconds`` or ``rounds`` rounds, whichever comes first, so it cannot outlive a
    benchmark that dies. Being a waited-for child, its CPU time counts as the benchmark's own
    in :class:`LoadProbe`, not as other work on the machine.
    """
    proc = subprocess.Popen(
        [sys.executable, "-c", _SPIN, str(max_seconds), str(rounds)], stdout=subprocess.PIPE, text=True
    )
    spinner = BusyCore(proc)
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "spinning":
            raise RuntimeError("the busy-core process did not start")
        started = process_cpu_seconds(proc.pid)
        yield spinner
        spinner.cpu_seconds = process_cpu_seconds(proc.pid) - started
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


@dataclass
class BusyCore:
    """The process :func:`busy_core` runs, and the CPU it used during the block."""

    proc: subprocess.Popen[str]
    cpu_seconds: float = 0.0

    @property
    def pid(self) -> int:
        return self.proc.pid

    def running(self) -> bool:
        return self.proc.poll() is None
