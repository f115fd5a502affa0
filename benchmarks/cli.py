"""``python -m benchmarks``: prepare data, run every workload on every library, write the report.

    python -m benchmarks                    # full run: ~10-15 min, writes results + docs/benchmarks/
    python -m benchmarks --quick            # small smoke run (~2 min), written under benchmarks/results/raw/
    python -m benchmarks --only L3,H1 --repeats 5 --merge   # re-run some workloads into latest.json
    python -m benchmarks --report-only      # rebuild the table and plot from latest.json

Run from the repository root with the reference interpreter (.venv-ref, Python 3.12), which has
zarr-python, zarrs, tensorstore, matplotlib and zarrio (editable) installed side by side.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .config import DEFAULT_DATA_DIR, DOCS_DIR, LIBRARIES, REPO_DIR, RESULTS_DIR, data_paths, sizes_for
from .driver import DEFAULT_BOOST, MAX_QUIET_WAIT_SECONDS, git_commit, machine, now_utc, plan, run_plan
from .limits import LIMITS
from .machine_load import can_boost
from .snapshot import code_under_test
from .workloads import WORKLOADS, Workload


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small data, one repeat: a smoke run")
    parser.add_argument("--only", default="", help="comma-separated workload names or prefixes (L1, L3-read, H1, X)")
    parser.add_argument("--libraries", default=",".join(LIBRARIES), help="comma-separated libraries to run")
    parser.add_argument("--repeats", type=int, default=None, help="repeats per workload and library (default 3)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--output", type=Path, default=None, help="results JSON (default: by mode)")
    parser.add_argument("--docs-dir", type=Path, default=None, help="where results.md/png go (default: by mode)")
    parser.add_argument("--merge", action="store_true", help="replace only the re-run workloads in the output")
    parser.add_argument("--report-only", action="store_true", help="only rebuild the report from the output")
    parser.add_argument(
        "--zarrio-ref",
        default="HEAD",
        help="git revision of zarrio to measure (exported to a snapshot), or 'worktree' for the live files",
    )
    parser.add_argument(
        "--boost",
        type=int,
        default=DEFAULT_BOOST,
        help=f"run each child in its own scheduling group at nice -N (root; default {DEFAULT_BOOST}; 0: off)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=None,
        help=f"longest wait (s) for other processes to go quiet before each run, re-running disturbed runs once "
        f"(default: 0 when boosting, else {MAX_QUIET_WAIT_SECONDS})",
    )
    return parser.parse_args(argv)


def select(only: str, candidates: dict[str, Workload]) -> list[Workload]:
    if not only:
        return list(candidates.values())
    wanted = [w.strip() for w in only.split(",") if w.strip()]
    return [w for name, w in candidates.items() if any(name == p or name.startswith(p) for p in wanted)]


def prepare_data(data_dir: Path, quick: bool) -> None:
    command = [sys.executable, "-m", "benchmarks.prepare", "--data-dir", str(data_dir)]
    print("[bench] preparing data (cached after the first run)", flush=True)
    subprocess.run([*command, *(["--quick"] if quick else [])], cwd=REPO_DIR, check=True, stdout=subprocess.DEVNULL)


def merged(previous: dict[str, Any], runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    replaced = {(r["workload"], r["library"]) for r in runs}
    kept = [r for r in previous.get("runs", []) if (r["workload"], r["library"]) not in replaced]
    return kept + runs


def merged_results(previous: dict[str, Any], new: dict[str, Any], libraries: list[str]) -> dict[str, Any]:
    """``new``'s runs merged into ``previous`` (:func:`merged`). The table stays the earlier run's
    (its date, commit and whole-run time), and its meta lists each run merged into it since."""
    rerun = {
        "workloads": sorted({r["workload"] for r in new["runs"]}),
        "libraries": libraries,
        "zarrio": new["meta"]["zarrio"],
        "date": new["meta"]["date"],
        "repeats": new["meta"]["repeats"],
    }
    meta = {**previous["meta"], "merged": [*previous["meta"].get("merged", []), rerun]}
    return {"meta": meta, "runs": merged(previous, new["runs"])}


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    mode = "quick" if args.quick else "full"
    output: Path = args.output or (RESULTS_DIR / ("raw/quick.json" if args.quick else "latest.json"))
    docs_dir: Path = args.docs_dir or (RESULTS_DIR / "raw" / "quick-docs" if args.quick else DOCS_DIR)
    from .report import write_report

    if args.report_only:
        write_report(json.loads(output.read_text(encoding="utf-8")), docs_dir)
        print(f"[bench] wrote {docs_dir}/results.md and results.png", flush=True)
        return 0
    sizes = sizes_for(args.quick)
    repeats = args.repeats or (1 if args.quick else 3)
    libraries = [lib.strip() for lib in args.libraries.split(",") if lib.strip()]
    unknown = sorted(set(libraries) - set(LIBRARIES))
    if unknown:
        print(f"unknown libraries {unknown}; choose from {list(LIBRARIES)}", file=sys.stderr)
        return 2
    workloads = select(args.only, WORKLOADS)
    limits = select(args.only, LIMITS)
    if not workloads and not limits:
        print(f"--only {args.only!r} matches nothing", file=sys.stderr)
        return 2
    started = time.monotonic()
    prepare_data(args.data_dir, args.quick)
    paths = data_paths(args.data_dir, sizes)
    jobs = plan(workloads, libraries, limits, repeats)
    print(f"[bench] {mode} run: {len(jobs)} child processes ({repeats} repeats)", flush=True)
    boost = args.boost if args.boost > 0 and can_boost() else 0
    if args.boost > 0 and not boost:
        print("[bench] cannot raise the children's priority here (needs root and autogroups): not boosting")
    quiet_wait = args.quiet_wait if args.quiet_wait is not None else (0.0 if boost else MAX_QUIET_WAIT_SECONDS)
    with code_under_test(args.zarrio_ref) as code:
        print(f"[bench] zarrio under test: {code.label}", flush=True)
        runs = run_plan(jobs, args.data_dir, args.quick, paths.root, quiet_wait, boost, code)
    results: dict[str, Any] = {
        "meta": {
            "date": now_utc(),
            "commit": git_commit(),
            "zarrio": code.label,
            "mode": mode,
            "repeats": repeats,
            "machine": machine(),
            "sizes_digest": sizes.digest(),
            "stored": json.loads(paths.stamp.read_text(encoding="utf-8")).get("stored_bytes", {}),
            "seconds": round(time.monotonic() - started, 1),
            "boost": boost if any(r.get("boosted") for r in runs) else 0,
            "quiet_wait": quiet_wait,
        },
        "runs": runs,
    }
    if args.merge and output.is_file():
        previous = json.loads(output.read_text(encoding="utf-8"))
        if previous.get("meta", {}).get("sizes_digest") == sizes.digest():
            results = merged_results(previous, results, libraries)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    write_report(results, docs_dir)
    failures = [r for r in runs if "error" in r]
    print(
        f"[bench] {len(runs)} runs, {len(failures)} failed, {time.monotonic() - started:.0f} s; "
        f"results in {output}, report in {docs_dir}",
        flush=True,
    )
    return 0
