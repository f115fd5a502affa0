"""Tests of the benchmark harness itself (benchmarks/): data generation, the HTTP server,
the plan, the summaries, the goals and the report. No timing is asserted anywhere.

The libraries being compared live in the reference interpreter; these tests need only numpy,
zstandard and aiohttp, so they run in the main test environment.
"""

from __future__ import annotations

import asyncio
import json
import struct
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zstandard

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # the suite is a top-level package next to zarrio, not installed
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks import (  # noqa: E402
    config,
    extra_data,
    goals,
    hierarchies,
    httpserver,
    limits,
    machine_load,
    report,
    rows,
    summary,
    synthetic,
    tiny,
)
from benchmarks.driver import plan  # noqa: E402
from benchmarks.measure import RunContext  # noqa: E402
from benchmarks.workloads import ISSUE18_LIBRARIES, WORKLOADS  # noqa: E402

# --- synthetic data ---------------------------------------------------------------------------


def test_volume_block_is_a_function_of_coordinates_only() -> None:
    big = synthetic.volume_block((slice(0, 40), slice(8, 48), slice(16, 80)))
    small = synthetic.volume_block((slice(10, 20), slice(20, 30), slice(40, 64)))
    assert big.dtype == np.uint16
    np.testing.assert_array_equal(small, big[10:20, 12:22, 24:48])


def test_image_block_is_a_function_of_coordinates_only() -> None:
    big = synthetic.image_block((slice(100, 400), slice(0, 300)))
    small = synthetic.image_block((slice(200, 256), slice(128, 256)))
    assert big.dtype == np.uint8
    np.testing.assert_array_equal(small, big[100:156, 128:256])


def test_fill_volume_matches_blocks_across_slab_boundaries() -> None:
    whole = synthetic.fill_volume((20, 16, 24), depth=6)
    np.testing.assert_array_equal(whole, synthetic.volume_block((slice(0, 20), slice(0, 16), slice(0, 24))))


def test_generated_data_is_neither_constant_nor_incompressible() -> None:
    block = synthetic.volume_block((slice(0, 32), slice(0, 32), slice(0, 32))).tobytes()
    ratio = len(block) / len(zstandard.ZstdCompressor(level=1).compress(block))
    assert len(np.unique(np.frombuffer(block, np.uint16))) >= 32
    assert 1.5 < ratio < 10


def test_random_aligned_regions_are_distinct_aligned_and_reproducible() -> None:
    regions = synthetic.random_aligned_regions((128, 64, 96), 32, 20, seed=7)
    assert regions == synthetic.random_aligned_regions((128, 64, 96), 32, 20, seed=7)
    assert regions != synthetic.random_aligned_regions((128, 64, 96), 32, 20, seed=8)
    assert len({tuple((s.start, s.stop) for s in r) for r in regions}) == 20
    for region in regions:
        for sl, n in zip(region, (128, 64, 96), strict=True):
            assert sl.start % 32 == 0 and sl.stop - sl.start == 32 and sl.stop <= n


def test_random_aligned_regions_refuses_more_than_fit() -> None:
    with pytest.raises(ValueError, match="only 4 distinct"):
        synthetic.random_aligned_regions((64, 64), 32, 5, seed=1)


def test_verify_reports_the_first_mismatch() -> None:
    region = (slice(0, 4), slice(0, 4), slice(0, 4))
    good = synthetic.volume_block(region)
    synthetic.verify(good, region, synthetic.volume_block)
    bad = good.copy()
    bad[1, 2, 3] += 1
    with pytest.raises(synthetic.VerificationError, match=r"\(1, 2, 3\)"):
        synthetic.verify(bad, region, synthetic.volume_block)
    with pytest.raises(synthetic.VerificationError, match="expected"):
        synthetic.verify(good.astype(np.int32), region, synthetic.volume_block)


# --- sizes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("sizes", [config.FULL, config.QUICK], ids=["full", "quick"])
def test_layouts_tile_the_arrays(sizes: config.Sizes) -> None:
    for shape, layout in (
        (sizes.volume_shape, sizes.volume_plain),
        (sizes.volume_shape, sizes.volume_sharded),
        (sizes.image_shape, sizes.image_plain),
        (sizes.image_shape, sizes.image_sharded),
    ):
        assert all(n % g == 0 for n, g in zip(shape, layout.grid, strict=True))
        assert all(g % c == 0 for g, c in zip(layout.grid, layout.inner, strict=True))
    assert sizes.region_count <= np.prod([n // sizes.region_edge for n in sizes.volume_shape])


def test_full_sizes_are_the_issue_workloads() -> None:
    full = config.FULL
    assert full.volume_shape == (512, 512, 512) and full.volume_dtype == "uint16"
    assert full.volume_plain.chunks == (64, 64, 64)
    assert full.volume_sharded.shards == (256, 256, 256) and full.volume_sharded.chunks == (32, 32, 32)
    assert (full.region_count, full.region_edge) == (500, 32)
    assert full.image_shape == (16384, 16384) and full.image_sharded.shards == (4096, 4096)
    assert full.image_sharded.chunks == (256, 256) == full.image_plain.chunks
    assert full.tile_count == 256
    assert config.FULL.digest() != config.QUICK.digest()


# --- HTTP server ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-9", (0, 10)),
        ("bytes=90-", (90, 100)),
        ("bytes=-10", (90, 100)),
        ("bytes=-500", (0, 100)),
        ("bytes=95-200", (95, 100)),
        ("bytes=0-1,5-6", None),
        ("items=0-1", None),
    ],
)
def test_resolve_range(header: str | None, expected: tuple[int, int] | None) -> None:
    assert httpserver.resolve_range(header, 100) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=-0", "bytes=5-2"])
def test_resolve_range_unsatisfiable(header: str) -> None:
    with pytest.raises(httpserver.RangeNotSatisfiable):
        httpserver.resolve_range(header, 100)


async def test_server_serves_ranges_counts_requests_and_adds_latency(tmp_path: Path) -> None:
    import aiohttp
    from aiohttp import web

    payload = bytes(range(256)) * 4
    (tmp_path / "a.zarr" / "c").mkdir(parents=True)
    (tmp_path / "a.zarr" / "c" / "0").write_bytes(payload)
    (tmp_path / "secret").write_bytes(b"outside")
    server = httpserver.BenchServer(tmp_path / "a.zarr", latency=0.05)
    runner = web.AppRunner(server.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            loop = asyncio.get_running_loop()
            started = loop.time()
            async with session.get(f"{base}/c/0", headers={"Range": "bytes=10-19"}) as r:
                assert r.status == 206 and await r.read() == payload[10:20]
                assert r.headers["Content-Range"] == f"bytes 10-19/{len(payload)}"
            assert loop.time() - started >= 0.05
            async with session.get(f"{base}/c/0", headers={"Range": "bytes=-4"}) as r:
                assert r.status == 206 and await r.read() == payload[-4:]
            async with session.get(f"{base}/c/0") as r:
                assert r.status == 200 and await r.read() == payload
            async with session.head(f"{base}/c/0") as r:
                assert r.status == 200 and r.headers["Content-Length"] == str(len(payload))
            async with session.get(f"{base}/zarr.json") as r:
                assert r.status == 404
            async with session.get(f"{base}/../secret") as r:
                assert r.status == 404
            async with session.get(f"{base}/c/0", headers={"Range": "bytes=5000-"}) as r:
                assert r.status == 416
            async with session.get(f"{base}/__bench/stats") as r:
                stats = await r.json()
            assert stats["requests"] == 7
            assert stats["bytes"] == 10 + 4 + len(payload)
            assert stats["by_kind"]["GET 206"] == 2 and stats["by_kind"]["GET 404"] == 2
            async with session.get(f"{base}/__bench/reset") as r:
                assert r.status == 200
            async with session.get(f"{base}/__bench/stats") as r:
                assert (await r.json())["requests"] == 0
    finally:
        await runner.cleanup()


# --- limits helpers ---------------------------------------------------------------------------


def test_inner_chunks_are_cut_out_of_a_shard_by_its_index() -> None:
    units = [b"first", b"", b"third!"]
    body = units[0] + units[2]
    entries = [(0, 5), (limits.MISSING, limits.MISSING), (5, 6)]
    index = b"".join(struct.pack("<QQ", o, n) for o, n in entries) + b"\0\0\0\0"
    assert limits.inner_chunks_of_shard(body + index, 3) == [b"first", b"third!"]


def test_run_threaded_keeps_order() -> None:
    items = list(range(37))
    for threads in (1, 2, 3):
        assert limits.run_threaded(lambda x: x * 2, items, threads) == [x * 2 for x in items]


# --- the plan ---------------------------------------------------------------------------------


def test_plan_alternates_libraries_and_covers_every_repeat() -> None:
    workloads = [WORKLOADS["L3-read-c64"], WORKLOADS["L1-write-c64"]]
    libraries = list(config.LIBRARIES)
    jobs = plan(workloads, libraries, [], repeats=3)
    assert len(jobs) == 2 * len(libraries) * 3
    keys = {(j.workload.name, j.library, j.repeat) for j in jobs}
    assert len(keys) == len(jobs)
    first_of_each_repeat = [jobs[r * len(libraries)].library for r in range(3)]
    assert len(set(first_of_each_repeat)) == 3
    assert [j.workload.name for j in jobs[: 3 * len(libraries)]] == ["L3-read-c64"] * (3 * len(libraries))


# --- summaries, goals, report -----------------------------------------------------------------


def fake_run(workload: str, library: str, seconds: list[float], **phase: Any) -> list[dict[str, Any]]:
    runs = []
    for i, s in enumerate(seconds):
        phases = {
            phase.pop("name", "read") if i == 0 else "read": {
                "seconds": s,
                "payload_bytes": 1000,
                "calls": 10,
                "requests": None,
                "http_bytes": None,
            }
        }
        runs.append(
            {
                "workload": workload,
                "library": library,
                "repeat": i,
                "phases": phases,
                "peak_rss": 100 * 2**20,
                "baseline_rss": 10 * 2**20,
                "notes": {},
                "version": "v",
            }
        )
    return runs


def test_summary_takes_median_min_max() -> None:
    outcomes = summary.summarize(fake_run("L3-read-c64", "zarrio", [3.0, 1.0, 2.0]))
    stat = outcomes[("L3-read-c64", "zarrio")].phases["read"]
    assert (stat.median, stat.low, stat.high, stat.count) == (2.0, 1.0, 3.0, 3)
    assert stat.per_call == pytest.approx(0.2)
    assert stat.mb_per_s == pytest.approx(1000 / 2.0 / 1e6)


def test_summary_keeps_errors_and_unsupported() -> None:
    runs = [
        {"workload": "H2-hierarchy", "library": "tensorstore", "unsupported": "no groups"},
        {"workload": "L3-read-c64", "library": "zarrio", "error": "Boom: it broke"},
    ]
    outcomes = summary.summarize(runs)
    assert outcomes[("H2-hierarchy", "tensorstore")].unsupported == "no groups"
    assert outcomes[("L3-read-c64", "zarrio")].errors == ["Boom: it broke"]
    assert outcomes[("L3-read-c64", "zarrio")].phases == {}


def test_goals_compare_zarrio_with_the_best_peer() -> None:
    runs = fake_run("L3-read-c64", "zarrio", [1.0, 1.0, 1.0])
    runs += fake_run("L3-read-c64", "tensorstore", [2.0, 2.0, 2.0])
    runs += fake_run("L3-read-c64", "zarr-python", [0.5, 0.5, 0.5])
    outcomes = summary.summarize(runs)
    results = {g.goal: g for g in goals.evaluate_goals(outcomes)}
    beat = results["L3 read all, chunks 64³: at most the best peer"]
    assert beat.holds is False and beat.measured.startswith("2.00x zarr-python")
    assert results["L3 read all, sharded: at most the best peer"].holds is None


def test_report_renders_every_section_and_marks_slower_ratios() -> None:
    runs = fake_run("L3-read-c64", "zarrio", [1.0, 1.2, 1.1])
    runs += fake_run("L3-read-c64", "tensorstore", [0.5, 0.5, 0.5])
    runs += [{"workload": "L1-write-c64", "library": "zarrio", "error": "Boom"}]
    results = {"meta": {"mode": "full", "repeats": 3, "date": "today", "commit": "abc", "machine": {}}, "runs": runs}
    text = report.render_markdown(results)
    for heading in ("## Goals", "## Time", "## zarrio / each peer", "## Throughput", "## HTTP", "## Limits"):
        assert heading in text
    assert "**2.20x**" in text  # 1.1 s / 0.5 s, bold because zarrio is slower
    assert "1.10 s (1.00 s-1.20 s)" in text
    assert "## Failed runs" in text and "Boom" in text


def test_a_merged_rerun_keeps_the_tables_run_and_is_named_in_the_report() -> None:
    from benchmarks.cli import merged_results

    meta = {"mode": "full", "repeats": 5, "date": "monday", "commit": "abc", "zarrio": "abc", "machine": {}}
    previous = {"meta": meta, "runs": fake_run("L3-read-c64", "zarrio", [1.0]) + fake_run("G1-x", "zarrio", [9.0])}
    new_meta = {**meta, "repeats": 3, "date": "tuesday", "commit": "def", "zarrio": "working tree (def)"}
    new = {"meta": new_meta, "runs": fake_run("G1-x", "zarrio", [4.0])}
    out = merged_results(previous, new, ["zarrio", "zarr-python"])
    assert out["meta"]["date"] == "monday" and out["meta"]["commit"] == "abc" and out["meta"]["repeats"] == 5
    assert [(r["workload"], r["phases"]["read"]["seconds"]) for r in out["runs"]] == [
        ("L3-read-c64", 1.0),
        ("G1-x", 4.0),
    ]
    again = merged_results(out, new, ["zarrio"])
    assert [m["date"] for m in again["meta"]["merged"]] == ["tuesday", "tuesday"]
    text = report.render_markdown(out)
    assert (
        "Re-run into this table (`--merge`) on tuesday: G1-x (zarrio, zarr-python; 3 repeats; zarrio working tree (def))."
        in text
    )


def test_every_report_row_names_a_real_workload_and_phase() -> None:
    for row in rows.ROWS:
        assert row.workload in WORKLOADS
    for _, workload in rows.LIMIT_ROWS:
        assert workload in limits.LIMITS


def test_read_floor_shares_every_single_threaded_part_over_two_cores() -> None:
    def limit(workload: str, phase: str, seconds: float) -> dict[str, Any]:
        stat = {"seconds": seconds, "payload_bytes": 1, "calls": 1, "requests": None, "http_bytes": None}
        return {"workload": workload, "library": "limits", "phases": {phase: stat}, "notes": {}}

    runs = [
        limit("X-zstd-decode-c64", "t1", 0.30),
        limit("X-read-files-c64", "t1", 0.06),
        limit("X-numpy-copy", "fresh", 0.08),
    ]
    outcomes = summary.summarize(runs)
    assert report.read_floor(outcomes, "c64") == pytest.approx(0.22)
    assert report.read_floor(outcomes, "sharded") is None


# --- issue 18 and issue 15 rows: helpers ------------------------------------------------------


def test_image_values_are_the_image_block_at_points() -> None:
    block = synthetic.image_block((slice(30, 130), slice(60, 100)))
    ys, xs = np.array([30, 31, 129, 77]), np.array([60, 99, 61, 80])
    np.testing.assert_array_equal(synthetic.image_values(ys, xs), block[ys - 30, xs - 60])


@pytest.mark.parametrize("tiny_sizes", [config.TINY_FULL, config.TINY_QUICK], ids=["full", "quick"])
def test_tiny_layouts_tile_the_image_and_name_distinct_phases(tiny_sizes: config.TinySizes) -> None:
    layouts = tiny_sizes.layouts()
    assert len({layout.name for layout in layouts}) == len(layouts) == 2 * len(tiny_sizes.edges)
    for layout in layouts:
        assert all(n % g == 0 for n, g in zip(tiny_sizes.shape, layout.grid, strict=True))
        assert all(g % c == 0 for g, c in zip(layout.grid, layout.inner, strict=True))
    phases = {tiny.phase_name(layout) for layout in layouts}
    assert phases == {"c10", "c20", "c50", "c10-sharded", "c20-sharded", "c50-sharded"}
    assert tiny_sizes.threads_edge in tiny_sizes.edges


def test_full_tiny_sizes_are_the_issue_18_workloads() -> None:
    full = config.TINY_FULL
    assert full.shape == (2000, 2000) and full.dtype == "uint8"
    assert full.edges == (10, 20, 50) and full.shard == 1000 and full.thread_counts == (1, 4, 16)
    assert tiny.chunk_count(full.shape, full.layout(10, sharded=True)) == 40_000
    assert tiny.chunk_count((25, 10), config.Layout("x", chunks=(10, 10))) == 3
    assert config.hierarchy_scales(config.FULL) == (5000, 20000)


def test_every_issue18_row_phase_is_one_its_workload_records() -> None:
    """The phases the T/P/G workloads time (by name) are the ones the rows show."""
    t_phases = {tiny.phase_name(layout) for layout in config.TINY_QUICK.layouts()}
    p_phases = {f"t{n}" for n in config.TINY_QUICK.thread_counts}
    busy = {f"read-c{config.TINY_QUICK.threads_edge}", "t1", "t16"}
    g_phases = {f"{verb}-{tag}" for verb in ("walk", "consolidate") for tag in hierarchies.SCALE_NAMES}
    expected = {"T": t_phases, "P1": p_phases, "P2": busy, "G1": g_phases}
    for row in rows.ISSUE18_ROWS:
        key = next(k for k in ("P1", "P2", "G1", "T") if row.workload.startswith(k))
        assert row.phase in expected[key], row
        assert WORKLOADS[row.workload].libraries == ISSUE18_LIBRARIES
    durable = {r.phase for r in rows.ISSUE18_ROWS if r.workload == "T3-write-durable"}
    assert durable == {"c50", "c10-sharded"}


def test_thread_points_are_reproducible_in_bounds_and_per_thread() -> None:
    points = tiny.thread_points((40, 30), threads=4, per_thread=100, seed=3)
    assert len(points) == 4 and all(p.shape == (100, 2) for p in points)
    assert all(p[:, 0].max() < 40 and p[:, 1].max() < 30 and p.min() >= 0 for p in points)
    again = tiny.thread_points((40, 30), threads=4, per_thread=100, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(points, again, strict=True))
    assert not np.array_equal(points[0], points[1])


def test_hierarchy_names_fill_groups_of_a_hundred() -> None:
    groups, names = extra_data.hierarchy_names(250)
    assert groups == ["g0000", "g0001", "g0002"]
    assert len(names) == len(set(names)) == 250
    assert names[0] == "g0000/a000" and names[-1] == "g0002/a049"


def test_consolidated_count_reads_the_inline_metadata() -> None:
    doc = {"consolidated_metadata": {"kind": "inline", "metadata": {"a": {}, "a/b": {}}}}
    assert hierarchies.consolidated_count(doc) == 2
    assert hierarchies.consolidated_count({"node_type": "group"}) == 0


def test_plan_runs_a_workload_only_on_its_libraries() -> None:
    jobs = plan([WORKLOADS["T1-read-tiny"], WORKLOADS["L3-read-c64"]], list(config.LIBRARIES), [], repeats=2)
    tiny_jobs = [j for j in jobs if j.workload.name == "T1-read-tiny"]
    assert sorted({j.library for j in tiny_jobs}) == sorted(ISSUE18_LIBRARIES)
    # zarr-python runs them once; the others every repeat, in a rotating order
    assert [j.repeat for j in tiny_jobs if j.library == "zarr-python"] == [0]
    assert [j.repeat for j in tiny_jobs if j.library == "tensorstore"] == [0, 1]
    assert tiny_jobs[0].library != next(j for j in tiny_jobs if j.repeat == 1).library
    assert len([j for j in jobs if j.workload.name == "L3-read-c64"]) == 2 * len(config.LIBRARIES)


def test_busy_core_keeps_a_core_busy_and_stops() -> None:
    import os
    import time

    with machine_load.busy_core(max_seconds=10) as spinner:
        assert spinner.running()
        time.sleep(2.0)  # long enough for the spinner to get CPU also while test suites load both cores
    assert spinner.cpu_seconds > 0.1
    assert not spinner.running()
    with pytest.raises(ProcessLookupError):
        os.kill(spinner.pid, 0)  # terminated and waited for
    started = time.monotonic()
    with machine_load.busy_core(max_seconds=0.3) as spinner:
        while spinner.running() and time.monotonic() - started < 5:
            time.sleep(0.05)
        assert not spinner.running()  # it stopped by itself at its deadline
    with machine_load.busy_core(max_seconds=10, rounds=1) as spinner:
        while spinner.running() and time.monotonic() - started < 5:
            time.sleep(0.05)
        assert not spinner.running()  # and after its count of rounds


# --- issue 18 and issue 15 rows: goals --------------------------------------------------------


def phase_runs(workload: str, library: str, phases: dict[str, float], calls: int = 1) -> list[dict[str, Any]]:
    entry = {
        name: {"seconds": s, "payload_bytes": 1, "calls": calls, "requests": None, "http_bytes": None}
        for name, s in phases.items()
    }
    return [{"workload": workload, "library": library, "repeat": 0, "phases": entry, "notes": {}, "version": "v"}]


def test_issue18_goals_tensorstore_threads_and_linearity() -> None:
    runs = phase_runs("P1-threads-local", "zarrio", {"t1": 0.1, "t4": 0.5, "t16": 2.0}, calls=500)
    runs += phase_runs("P1-threads-local", "tensorstore", {"t1": 0.2, "t4": 0.3, "t16": 1.0}, calls=500)
    runs += phase_runs("G1-hierarchy-scaling", "zarrio", {"walk-small": 1.0, "walk-large": 4.2})
    runs += phase_runs("G1-hierarchy-scaling", "zarr-python", {"walk-small": 2.0, "walk-large": 4.0})
    runs += phase_runs("G1-hierarchy-scaling", "zarrio", {"consolidate-small": 1.0, "consolidate-large": 6.0})
    results = {g.goal: g for g in goals.evaluate_goals(summary.summarize(runs))}
    assert results["P1 1 thread x 500 one-element reads, local: at most tensorstore's time"].holds is True
    assert results["P1 16 threads x 500 one-element reads, local: at most tensorstore's time"].holds is False
    # per call (calls are recorded per phase): t16 and t1 are both 500 calls here, so 2.0 s vs 0.1 s
    scaling = results["P local: reads per second with 16 threads at least those with 1 thread"]
    assert scaling.holds is False and scaling.measured.startswith("0.05x")
    assert results["P memory: reads per second with 16 threads at least those with 1 thread"].holds is None
    walk = results["G1 async walk: 20,000 arrays at most 4.4x the time of 5,000 (linear)"]
    assert walk.holds is True and walk.measured == "4.20x"
    consolidate = results["G1 consolidate_metadata: 20,000 arrays at most 4.4x the time of 5,000 (linear)"]
    assert consolidate.holds is False
    assert results["G1 walk (async, unconsolidated), 20,000 arrays: at most the best peer's time"].holds is False


def test_v2_goal_compares_the_ratio_to_the_best_peer_with_v3s() -> None:
    runs = phase_runs("L3-read-c64", "zarrio", {"read": 1.0}) + phase_runs("L3-read-c64", "tensorstore", {"read": 1.0})
    runs += phase_runs("L3-read-c64-v2", "zarrio", {"read": 1.2})
    runs += phase_runs("L3-read-c64-v2", "tensorstore", {"read": 1.0})
    results = {g.goal: g for g in goals.evaluate_goals(summary.summarize(runs))}
    v2 = results["L3 read all, chunks 64³, Zarr v2 copy: zarrio / best peer no higher than on v3"]
    assert v2.holds is False and v2.measured == "v2 1.20x, v3 1.00x"
    assert results["H1 tiles, unsharded, Zarr v2 copy: zarrio / best peer no higher than on v3"].holds is None


# --- issue 18 workloads, run on zarrio in quick sizes -----------------------------------------


@pytest.fixture(scope="module")
def quick_tiny_paths(tmp_path_factory: pytest.TempPathFactory) -> config.DataPaths:
    """The quick tiny-chunk data sets and hierarchies, written by zarrio (the suite uses zarr-python)."""
    import zarrio

    paths = config.DataPaths(tmp_path_factory.mktemp("bench-data"))
    tiny_sizes = config.TINY_QUICK
    image = synthetic.fill_image(tiny_sizes.shape)
    for layout in tiny_sizes.layouts():
        z = zarrio.create(
            str(paths.tiny(layout)), tiny_sizes.shape, "uint8", chunks=layout.chunks, shards=layout.shards
        )
        z[...] = image
    template_root = paths.root / "template"
    zarrio.create_group(str(template_root))
    zarrio.create(str(template_root), (4,), "float32", path="a", chunks=(4,))
    docs = tuple(
        json.loads(p.read_text(encoding="utf-8"))
        for p in (template_root / "zarr.json", template_root / "a" / "zarr.json")
    )
    for arrays in config.hierarchy_scales(config.QUICK):
        extra_data.write_hierarchy_of(paths.hierarchy_of(arrays), arrays, templates=docs)  # type: ignore[arg-type]
    return paths


def zarrio_context(paths: config.DataPaths) -> RunContext:
    from benchmarks.adapters import adapter_for

    adapter = adapter_for("zarrio")
    adapter.setup()
    return RunContext("zarrio", adapter, config.QUICK, paths)


@pytest.mark.parametrize("sharded", [False, True], ids=["plain", "sharded"])
def test_tiny_reads_time_one_phase_per_chunk_size(quick_tiny_paths: config.DataPaths, sharded: bool) -> None:
    ctx = zarrio_context(quick_tiny_paths)
    tiny.tiny_reads(ctx, sharded)
    suffix = "-sharded" if sharded else ""
    assert list(ctx.phases) == [f"c50{suffix}", f"c20{suffix}", f"c10{suffix}"]
    assert ctx.phases[f"c10{suffix}"].calls == 40 * 40
    assert ctx.peak_rss is not None


@pytest.mark.parametrize("memory", [False, True], ids=["local", "memory"])
def test_threaded_reads_verify_every_value(quick_tiny_paths: config.DataPaths, memory: bool) -> None:
    ctx = zarrio_context(quick_tiny_paths)
    tiny.threaded_reads(ctx, memory)
    assert list(ctx.phases) == ["t1", "t4", "t16"]
    assert ctx.phases["t16"].calls == 16 * config.TINY_QUICK.reads_per_thread


@pytest.mark.timing
def test_busy_machine_records_the_spinners_load(quick_tiny_paths: config.DataPaths) -> None:
    """The spinner's share of a core is a share of the machine: with three suites at once on two
    cores it got 0.13 core, so the check runs in the timing phase, one Python at a time."""
    ctx = zarrio_context(quick_tiny_paths)
    tiny.busy_machine(ctx)
    assert list(ctx.phases) == ["read-c20", "t1", "t16"]
    assert ctx.notes["busy_core_cores"] > 0.2


def test_hierarchy_scaling_walks_consolidates_and_restores(quick_tiny_paths: config.DataPaths) -> None:
    ctx = zarrio_context(quick_tiny_paths)
    _, large = config.hierarchy_scales(config.QUICK)
    before = (quick_tiny_paths.hierarchy_of(large) / "zarr.json").read_bytes()
    hierarchies.hierarchy_scaling(ctx)
    assert list(ctx.phases) == ["walk-small", "consolidate-small", "walk-large", "consolidate-large"]
    groups, names = extra_data.hierarchy_names(large)
    assert ctx.phases["walk-large"].calls == len(groups) + len(names)
    assert (quick_tiny_paths.hierarchy_of(large) / "zarr.json").read_bytes() == before
