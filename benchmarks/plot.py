"""results.png: time relative to the best peer per workload, and peak RSS, one bar per library."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .config import LIBRARIES
from .rows import Outcomes, Row, best_peer, stat_of

COLORS = {
    "zarrio": "#d62728",
    "zarr-python": "#7f7f7f",
    "zarr-python-fused": "#1f77b4",
    "zarr-python-zarrs": "#9467bd",
    "tensorstore": "#2ca02c",
}
MIB = 2**20


def write_plot(outcomes: Outcomes, rows: Sequence[Row], target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in rows if best_peer(outcomes, r) is not None]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(max(14, 0.3 * len(shown)), 9), sharex=True)
    width = 0.8 / len(LIBRARIES)
    for i, library in enumerate(LIBRARIES):
        xs, ratios, low, high, rss = [], [], [], [], []
        for x, row in enumerate(shown):
            best = best_peer(outcomes, row)
            stat = stat_of(outcomes, row.workload, library, row.phase)
            if best is None or stat is None:
                continue
            base = best[1].median
            xs.append(x + (i - (len(LIBRARIES) - 1) / 2) * width)
            ratios.append(stat.median / base)
            low.append((stat.median - stat.low) / base)
            high.append((stat.high - stat.median) / base)
            rss.append((stat.peak_rss or 0) / MIB)
        top.bar(xs, ratios, width, yerr=[low, high], color=COLORS[library], label=library, capsize=1.5)
        bottom.bar(xs, rss, width, color=COLORS[library], label=library)
    top.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
    top.set_yscale("log")
    top.set_ylabel("time / best peer's median (log)")
    top.set_title("zarrio vs peers: median time relative to the best peer (lower is better; bars: min-max)")
    top.legend(ncols=len(LIBRARIES), fontsize=8, loc="upper left")
    bottom.set_ylabel("peak RSS (MiB)")
    bottom.set_title("peak RSS of the process (imports included)")
    bottom.set_xticks(range(len(shown)), [r.label for r in shown], rotation=35, ha="right", fontsize=8)
    fig.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, dpi=110)
    plt.close(fig)
