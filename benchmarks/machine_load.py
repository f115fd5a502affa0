"""How busy the rest of the machine is: CPU used by processes other than the benchmark's own.

The benchmark shares its 2-core machine with whatever else runs (tests, builds). The driver waits
for a quiet moment before each child, measures the CPU the rest of the system used while the child
ran, re-runs a child that was disturbed, and records the figure with every result.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass

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
