"""The markdown report (docs/benchmarks/results.md) and its plot (results.png) from the raw results."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from .config import LIBRARIES, PEERS
from .driver import NOISY_CORES
from .goals import GoalResult, evaluate_goals
from .rows import HTTP_ROWS, LIMIT_ROWS, LIMITS_LIBRARY, ROWS, Outcomes, best_peer, ratio, rss_ratio, stat_of
from .summary import Stat, summarize
from .tail import tail_table

SHORT_NAMES = {
    "zarrio": "zarrio",
    "zarr-python": "zarr-python",
    "zarr-python-fused": "zp fused",
    "zarr-python-zarrs": "zp + zarrs",
    "tensorstore": "tensorstore",
}
MIB = 2**20


def fmt_seconds(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms" if seconds < 0.1 else f"{seconds * 1e3:.0f} ms"
    return f"{seconds:.2f} s"


def fmt_range(stat: Stat, per_call: bool) -> str:
    scale = 1 / max(stat.calls, 1) if per_call else 1.0
    median = fmt_seconds(stat.median * scale)
    if stat.count < 2:
        return median
    return f"{median} ({fmt_seconds(stat.low * scale)}-{fmt_seconds(stat.high * scale)})"


def fmt_ratio(ratio: float | None) -> str:
    if ratio is None:
        return "-"
    text = f"{ratio:.2f}x"
    return f"**{text}**" if ratio > 1.0 else text


def cell(outcomes: Outcomes, workload: str, library: str, render: Callable[[Stat], str], phase: str) -> str:
    outcome = outcomes.get((workload, library))
    if outcome is None:
        return "not run"
    if outcome.unsupported:
        return "n/a"
    stat = outcome.phases.get(phase)
    if stat is None:
        return f"error: {outcome.errors[0][:60]}" if outcome.errors else "-"
    text = render(stat)
    return text + (f" ({len(outcome.errors)} failed)" if outcome.errors else "")


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def time_table(outcomes: Outcomes) -> list[str]:
    header = ["workload", *(SHORT_NAMES[lib] for lib in LIBRARIES), "best peer", "zarrio / best"]
    rows = []
    for row in ROWS:
        render = partial(fmt_range, per_call=row.per_call)
        cells = [cell(outcomes, row.workload, lib, render, row.phase) for lib in LIBRARIES]
        best = best_peer(outcomes, row)
        rows.append(
            [
                row.label,
                *cells,
                SHORT_NAMES[best[0]] if best else "-",
                fmt_ratio(ratio(outcomes, row, best[0]) if best else None),
            ]
        )
    return table(header, rows)


def ratio_table(outcomes: Outcomes) -> list[str]:
    header = ["workload", *(f"zarrio / {SHORT_NAMES[p]}" for p in PEERS)]
    return table(header, [[row.label, *(fmt_ratio(ratio(outcomes, row, p)) for p in PEERS)] for row in ROWS])


def throughput_memory_table(outcomes: Outcomes) -> list[str]:
    header = ["workload", *(SHORT_NAMES[lib] for lib in LIBRARIES), "zarrio RSS / lowest peer"]
    rows = []
    for row in ROWS:
        if row.workload.startswith("H2"):
            continue
        cells = [cell(outcomes, row.workload, lib, _speed_and_rss, row.phase) for lib in LIBRARIES]
        rows.append([row.label, *cells, fmt_ratio(rss_ratio(outcomes, row))])
    return table(header, rows)


def _speed_and_rss(stat: Stat) -> str:
    speed = f"{stat.mb_per_s:,.0f} MB/s" if stat.mb_per_s is not None else "-"
    rss = f"{stat.peak_rss / MIB:,.0f} MiB" if stat.peak_rss is not None else "-"
    return f"{speed} · {rss}"


def cpu_table(outcomes: Outcomes) -> list[str]:
    header = ["workload", *(SHORT_NAMES[lib] for lib in LIBRARIES)]
    rows = []
    for row in ROWS:
        if row.workload.startswith("H"):
            continue
        rows.append([row.label, *(cell(outcomes, row.workload, lib, _cpu_cell, row.phase) for lib in LIBRARIES)])
    return table(header, rows)


def _cpu_cell(stat: Stat) -> str:
    if stat.cpu_seconds is None:
        return "-"
    return f"{fmt_seconds(stat.cpu_seconds)} ({stat.cpu_seconds / stat.median:.1f} cores)"


def http_table(outcomes: Outcomes) -> list[str]:
    header = ["workload", *(SHORT_NAMES[lib] for lib in LIBRARIES)]
    rows = []
    for row in HTTP_ROWS:
        rows.append([row.label, *(cell(outcomes, row.workload, lib, _http_cell, row.phase) for lib in LIBRARIES)])
    return table(header, rows)


def _http_cell(stat: Stat) -> str:
    requests = "?" if stat.requests is None else f"{stat.requests:.0f} req"
    moved = "" if not stat.http_bytes else f", {stat.http_bytes / MIB:.1f} MiB"
    return f"{requests}{moved}, {fmt_seconds(stat.median)}"


def limits_table(outcomes: Outcomes) -> list[str]:
    rows = []
    for label, workload in LIMIT_ROWS:
        outcome = outcomes.get((workload, LIMITS_LIBRARY))
        if outcome is None or not outcome.phases:
            rows.append([label, "not run", ""])
            continue
        parts = [outcome.phases[p] for p in ("warm", "fresh", "t1", "t2") if p in outcome.phases]
        rows.append(
            [
                label,
                " / ".join(fmt_range(s, False) for s in parts),
                " / ".join(f"{s.mb_per_s:,.0f}" for s in parts if s.mb_per_s is not None),
            ]
        )
    for tag, label in (("c64", "chunks 64³"), ("sharded", "sharded")):
        floor = read_floor(outcomes, tag)
        if floor is not None:
            what = f"whole-array read floor, {label}: (decode + file reads + fresh output) / 2"
            rows.append([what, fmt_seconds(floor), ""])
    return table(["limit (same data, same machine)", "time", "MB/s (array bytes; stored bytes for file reads)"], rows)


def read_floor(outcomes: Outcomes, tag: str) -> float | None:
    """What a whole-array read costs at best on 2 cores: every single-threaded part, shared by two cores."""
    parts = [
        stat_of(outcomes, f"X-zstd-decode-{tag}", LIMITS_LIBRARY, "t1"),
        stat_of(outcomes, f"X-read-files-{tag}", LIMITS_LIBRARY, "t1"),
        stat_of(outcomes, "X-numpy-copy", LIMITS_LIBRARY, "fresh"),
    ]
    if any(p is None for p in parts):
        return None
    return sum(p.median for p in parts if p is not None) / 2


def goals_table(goals: list[GoalResult]) -> list[str]:
    mark = {True: "✅ holds", False: "❌ gap", None: "- no data"}
    return table(
        ["goal", "measured", "target", "status"], [[g.goal, g.measured, g.target, mark[g.holds]] for g in goals]
    )


def versions(outcomes: Outcomes) -> str:
    seen: dict[str, str] = {}
    for (_, library), outcome in outcomes.items():
        if outcome.version and library not in seen:
            seen[library] = outcome.version
    ordered = [seen[lib] for lib in LIBRARIES if lib in seen]
    return ", ".join(dict.fromkeys(ordered))


def merge_notes(meta: dict[str, Any]) -> list[str]:
    """One line per later run merged into the table (``--merge``): its workloads, date and code."""
    lines = []
    for m in meta.get("merged", []):
        lines += [
            "",
            f"Re-run into this table (`--merge`) on {m['date']}: {', '.join(m['workloads'])} "
            f"({', '.join(m['libraries'])}; {m['repeats']} repeats; zarrio {m['zarrio']}).",
        ]
    return lines


def render_markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    outcomes = summarize(results["runs"])
    goals = evaluate_goals(outcomes)
    machine = meta.get("machine", {})
    failures = [r for r in results["runs"] if "error" in r]
    states = sorted({r["zarrio_state"] for r in results["runs"] if r.get("zarrio_state")})
    lines = [
        "# Benchmark results",
        "",
        f"Generated by `python -m benchmarks` ({meta.get('mode')} mode, {meta.get('repeats')} repeats, "
        f"each run a fresh process, libraries alternating) on {meta.get('date')}, repository at "
        f"`{meta.get('commit')}`; machine: {machine.get('cpus')} CPUs, {machine.get('memory_gib')} GiB, "
        f"Python {machine.get('python')}. Versions: {versions(outcomes)}. Whole run: {meta.get('seconds')} s.",
        "",
        "Cells are median (min-max) over the repeats. **Bold** ratios are above 1.0 (zarrio slower). "
        "HTTP workloads go through a local server adding 20 ms to every request. Method, goals and "
        "analysis: [docs/performance.md](../performance.md).",
        "",
        machine_load_note(results["runs"]),
        "",
        f"zarrio code measured: {', '.join(f'`{x}`' for x in states) or 'not recorded'} (a snapshot of that "
        "commit, unless it says working tree).",
        *merge_notes(meta),
        "",
        "![results](results.png)",
        "",
        "## Goals",
        "",
        *goals_table(goals),
        "",
        "## Time",
        "",
        *time_table(outcomes),
        "",
        "## zarrio / each peer",
        "",
        *ratio_table(outcomes),
        "",
        "## Throughput · peak RSS",
        "",
        "MB/s of uncompressed array data; peak RSS is the child process's `ru_maxrss` (imports included) "
        "when the timed step ended.",
        "",
        *throughput_memory_table(outcomes),
        "",
        "## CPU time of the timed step",
        "",
        "CPU seconds of the whole process (all threads) during the timed step (median), and the average "
        "number of cores that kept busy. Less sensitive to other load on the machine than wall time.",
        "",
        *cpu_table(outcomes),
        "",
        "## HTTP requests and bytes",
        "",
        *http_table(outcomes),
        "",
        "## HTTP at the tail (H3)",
        "",
        "1000 random tiles of the unsharded image at once; each tile's own time, median over the repeats.",
        "",
        *tail_table(results["runs"]),
        "",
        "## Limits",
        "",
        *limits_table(outcomes),
        "",
        "## Stored data",
        "",
        *table(["data set", "bytes on disk"], [[k, f"{v / MIB:,.1f} MiB"] for k, v in meta.get("stored", {}).items()]),
        "",
    ]
    if failures:
        lines += ["## Failed runs", ""]
        lines += [
            f"- {r['workload']} / {r['library']} (repeat {r.get('repeat')}): `{r['error'][:200]}`" for r in failures
        ]
        lines.append("")
    return "\n".join(lines)


def machine_load_note(runs: list[dict[str, Any]]) -> str:
    """One sentence on how busy the rest of the machine was during the runs."""
    loads = sorted(r["background_cores"] for r in runs if "background_cores" in r)
    if not loads:
        return "The load from other processes was not recorded."
    noisy = sum(1 for x in loads if x > NOISY_CORES)
    median = loads[len(loads) // 2]
    boosted = sum(1 for r in runs if r.get("boosted"))
    text = (
        f"Other processes on the machine used a median {median:.2f} cores while a run was going on "
        f"(the highest {loads[-1]:.2f}; {noisy} of {len(loads)} runs above {NOISY_CORES})."
    )
    if boosted:
        text += (
            f" {boosted} of {len(runs)} runs ran in their own scheduling group at a raised priority "
            "(autogroup nice -N, `--boost`), so that other work got the CPU only when the measured process "
            "left it idle; multi-threaded steps can still lose some time to it."
        )
    else:
        text += " Runs were not boosted: other work competed for the CPU, so treat small differences with care."
    return text


def write_report(results: dict[str, Any], docs_dir: Path) -> None:
    docs_dir.mkdir(parents=True, exist_ok=True)
    (docs_dir / "results.md").write_text(render_markdown(results), encoding="utf-8")
    from .plot import write_plot

    write_plot(summarize(results["runs"]), ROWS, docs_dir / "results.png")
