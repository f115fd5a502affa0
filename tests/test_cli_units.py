"""In-process tests of the CLI's pieces: selection parser, TARGET parser, option parsers,
progress line, copy planning and the copier's bounded concurrency."""

from __future__ import annotations

import asyncio
import io
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from zarrio import aio
from zarrio.array import AsyncArray
from zarrio.cli import copier
from zarrio.cli.blocks import plan_block
from zarrio.cli.copier import CopyJob, chunk_count, run_jobs, unit_regions
from zarrio.cli.copy_options import LayoutOptions, parse_codecs_option, parse_extents_option
from zarrio.cli.copy_plan import ArrayCopy, destination_layout
from zarrio.cli.formatting import format_bytes, format_duration
from zarrio.cli.progress import Progress
from zarrio.cli.selection import SelectionSyntaxError, parse_selection
from zarrio.cli.target import Target, parse_target
from zarrio.cli.usage import UsageError
from zarrio.errors import InvalidKeyError, StoreError
from zarrio.stores import MemoryStore

# ---------------------------------------------------------------- selections


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", (Ellipsis,)),
        ("[]", (Ellipsis,)),
        ("...", (Ellipsis,)),
        ("5", (5,)),
        ("[-3]", (-3,)),
        ("0:10", (slice(0, 10, None),)),
        ("[0:10, ::2]", (slice(0, 10, None), slice(None, None, 2))),
        (" [ 1 : : -1 ,  ... ] ", (slice(1, None, -1), Ellipsis)),
        (":, 3", (slice(None), 3)),
        ("[[1, 3], :]", ([1, 3], slice(None))),
        ("[[0,2]]", ([0, 2],)),
        ("[0, 1]", (0, 1)),
        ("4,", (4,)),
        ("+2:-2", (slice(2, -2, None),)),
    ],
)
def test_parse_selection(text: str, expected: tuple[Any, ...]) -> None:
    assert parse_selection(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "[0:3, ::3",
        "0:3:4:5",
        "a",
        "[0, 1]]",
        "..., ...",
        "1,,2",
        "::0",
        "[[1, [2]]]",
        "[]:",
        "[[]]",
        "1.5",
        "__import__('os').system('true')",
        "0x10",
        "[1, 2] 3",
    ],
)
def test_parse_selection_rejects(text: str) -> None:
    with pytest.raises(SelectionSyntaxError):
        parse_selection(text)


def test_selection_errors_are_usage_errors() -> None:
    assert issubclass(SelectionSyntaxError, UsageError)


def _render_item(item: Any) -> str:
    if item is Ellipsis:
        return "..."
    if isinstance(item, slice):
        parts = ["" if v is None else str(v) for v in (item.start, item.stop, item.step)]
        return ":".join(parts) if item.step is not None else ":".join(parts[:2])
    if isinstance(item, list):
        return "[" + ", ".join(str(v) for v in item) + "]"
    return str(item)


ints = st.integers(-(10**6), 10**6)
items = st.one_of(
    ints,
    st.builds(slice, st.none() | ints, st.none() | ints, st.none() | ints.filter(lambda v: v != 0)),
    st.lists(ints, min_size=1, max_size=4),
)


@given(st.lists(items, min_size=1, max_size=5), st.booleans(), st.booleans())
def test_parse_selection_round_trips(selection: list[Any], brackets: bool, ellipsis: bool) -> None:
    if ellipsis:
        selection = [*selection, Ellipsis]
    text = ", ".join(_render_item(i) for i in selection)
    if len(selection) == 1 and isinstance(selection[0], list):
        brackets = True  # "[1, 2]" alone reads as a[1, 2]; an index list alone is written "[[1, 2]]"
    assert parse_selection(f"[{text}]" if brackets else text) == tuple(selection)


# ---------------------------------------------------------------- targets


@pytest.mark.parametrize(
    ("text", "location", "node"),
    [
        ("data.zarr", "data.zarr", ""),
        ("data.zarr::a/b", "data.zarr", "a/b"),
        ("data.zarr::/a/b/", "data.zarr", "a/b"),
        ("archive.zip::x", "archive.zip", "x"),
        ("http://host:8000/d.zarr::t", "http://host:8000/d.zarr", "t"),
        ("http://[::1]:8000/d.zarr", "http://[::1]:8000/d.zarr", ""),
        ("https://[::1]/d.zarr::g/t", "https://[::1]/d.zarr", "g/t"),
    ],
)
def test_parse_target(text: str, location: str, node: str) -> None:
    assert parse_target(text) == Target(location, node)


def test_target_kinds_and_text() -> None:
    assert parse_target("HTTPS://h/x.zip").is_url
    assert not parse_target("HTTPS://h/x.zip").is_zip
    assert parse_target("a/b.ZIP::c").is_zip
    assert str(parse_target("d.zarr::a/b")) == "d.zarr::a/b"
    assert str(parse_target("d.zarr")) == "d.zarr"


def test_parse_target_rejects() -> None:
    with pytest.raises(InvalidKeyError):
        parse_target("d.zarr::a/../b")
    with pytest.raises(StoreError):
        parse_target("::a")


def test_http_targets_cannot_be_written() -> None:
    from zarrio.errors import ReadOnlyError

    with pytest.raises(ReadOnlyError):
        parse_target("http://127.0.0.1:1/x.zarr").open_store("w")


# ---------------------------------------------------------------- cp options


def test_parse_extents_option() -> None:
    assert parse_extents_option("100, 20", "--chunks") == (100, 20)
    assert parse_extents_option("(7,)", "--chunks") == (7,)
    for bad in ("", "0,4", "-1", "a,b", "1.5", ",,"):
        with pytest.raises(UsageError, match="--chunks"):
            parse_extents_option(bad, "--chunks")


def test_parse_codecs_shorthand() -> None:
    assert parse_codecs_option("none") == []
    assert parse_codecs_option("zstd") == [{"name": "zstd", "configuration": {"level": 0, "checksum": False}}]
    assert parse_codecs_option("zstd:7,crc32c") == [
        {"name": "zstd", "configuration": {"level": 7, "checksum": False}},
        {"name": "crc32c"},
    ]
    assert parse_codecs_option("gzip:3") == [{"name": "gzip", "configuration": {"level": 3}}]
    assert parse_codecs_option("blosc:lz4:5:bitshuffle") == [
        {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "bitshuffle"}}
    ]
    assert parse_codecs_option("blosc") == [{"name": "blosc", "configuration": {}}]


def test_parse_codecs_json() -> None:
    codecs = '[{"name": "transpose", "configuration": {"order": [1, 0]}}, "gzip"]'
    assert parse_codecs_option(codecs) == [
        {"name": "transpose", "configuration": {"order": [1, 0]}},
        {"name": "gzip"},
    ]
    assert parse_codecs_option('{"name": "zstd"}') == [{"name": "zstd"}]


@pytest.mark.parametrize("text", ["", "lzma", "zstd:x", "gzip:1:2", "blosc:lz4:high", "[{", "[1, 2]", "none:1"])
def test_parse_codecs_rejects(text: str) -> None:
    with pytest.raises(UsageError, match="--codecs"):
        parse_codecs_option(text)


# ---------------------------------------------------------------- formatting and progress


def test_format_bytes_and_duration() -> None:
    assert format_bytes(0) == "0 B"
    assert format_bytes(1023) == "1023 B"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(3 * 1024**3) == "3.0 GiB"
    assert format_duration(0) == "0:00"
    assert format_duration(75) == "1:15"
    assert format_duration(3725) == "1:02:05"
    assert format_duration(math.inf) == "--:--"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_line_rate_and_eta() -> None:
    clock = FakeClock()
    progress = Progress(4096, 8, io.StringIO(), enabled=False, clock=clock)
    assert "ETA --:--" in progress.render()
    clock.now += 10
    progress.advance(1024, 2)
    line = progress.render(200)
    assert line.startswith("copying  25% [######------------------]")
    assert "1.0 KiB/4.0 KiB" in line
    assert "2/8 chunks" in line
    assert "102 B/s" in line
    assert "ETA 0:30" in line  # a quarter took 10 s: 30 s to go


def test_progress_without_a_byte_total_uses_chunks() -> None:
    clock = FakeClock()
    progress = Progress(None, 4, io.StringIO(), enabled=False, clock=clock)
    clock.now += 3
    progress.advance(999, 3)
    line = progress.render(200)
    assert " 75%" in line and "999 B  3/4 chunks" in line and "ETA 0:01" in line


def test_progress_fits_narrow_terminals() -> None:
    clock = FakeClock()
    progress = Progress(10**9, 10**5, io.StringIO(), enabled=False, clock=clock)
    clock.now += 1
    progress.advance(10**8, 10**4)
    for width in (120, 80, 60, 40, 20):
        line = progress.render(width)
        assert len(line) <= width
        assert line.startswith("copying  10%")
    assert "ETA" in progress.render(60)


def test_progress_disabled_writes_nothing() -> None:
    stream = io.StringIO()
    progress = Progress(100, 1, stream, enabled=False)
    progress.start()
    progress.advance(100, 1)
    progress.close()
    assert stream.getvalue() == ""


def test_progress_enabled_redraws_in_place_and_throttles() -> None:
    stream = io.StringIO()
    clock = FakeClock()
    progress = Progress(100, 10, stream, enabled=True, clock=clock)
    progress.start()
    for _ in range(5):
        progress.advance(10, 1)  # no time passes: no redraws
    clock.now += 1
    progress.advance(10, 1)
    progress.close()
    progress.close()
    text = stream.getvalue()
    assert text.count("\r") == 3  # start, one throttled redraw, close
    assert text.endswith("\x1b[K\n")
    assert "60 B/100 B" in text and "6/10 chunks" in text


# ---------------------------------------------------------------- copy planning and copying


def test_plan_block_aligns_with_both_grids() -> None:
    # 20x20 destination chunks from 200x200 source chunks: one block per source chunk row segment or more
    block = plan_block((2000, 2000), (20, 20), (200, 200), 8, 16 << 20)
    assert all(b % 200 == 0 and b % 20 == 0 for b in block)
    assert math.prod(block) * 8 <= 16 << 20
    # coprime grids: the least common multiple when it fits
    assert plan_block((1000,), (7,), (10,), 1, 70) == (70,)
    # too tight for alignment: one destination unit
    assert plan_block((1000, 1000), (10, 10), (300, 300), 8, 800) == (10, 10)


def test_plan_block_growth_stops_at_max_chunks() -> None:
    # aligned with the 200x200 source chunks (2500 chunks of 4x4), then no further growth past 4096 chunks
    assert plan_block((2000, 2000), (4, 4), (200, 200), 8, 16 << 20, chunks=(4, 4), max_chunks=4096) == (200, 200)
    grown = plan_block((2000, 2000), (4, 4), (4, 4), 8, 16 << 20, chunks=(4, 4), max_chunks=4096)
    assert (grown[0] // 4) * (grown[1] // 4) <= 4096 and grown[1] >= 128
    # sharded destination: counts inner chunks, blocks stay whole shards
    assert plan_block((64, 64), (16, 16), (16, 16), 1, 1 << 20, chunks=(4, 4), max_chunks=16) == (16, 16)


def test_plan_block_never_exceeds_the_target_once_above_a_unit() -> None:
    for shape, unit, source, target in [
        ((5000, 300), (100, 30), (64, 64), 1 << 16),
        ((10, 10, 10), (3, 3, 3), (4, 4, 4), 1000),
        ((7,), (100,), (3,), 1),
        ((), (), (), 10),
    ]:
        block = plan_block(shape, unit, source, 4, target)
        assert all(b % u == 0 for b, u in zip(block, unit, strict=True))
        held = math.prod(min(b, s) for b, s in zip(block, shape, strict=True)) * 4
        assert block == unit or held <= target


@given(
    st.lists(st.tuples(st.integers(0, 50), st.integers(1, 12), st.integers(1, 12)), min_size=1, max_size=3),
    st.integers(1, 1 << 14),
)
def test_plan_block_is_whole_units_within_the_shape(axes: list[tuple[int, int, int]], target: int) -> None:
    shape, unit, source = (tuple(a[i] for a in axes) for i in range(3))
    block = plan_block(shape, unit, source, 2, target)
    for b, u, s in zip(block, unit, shape, strict=True):
        assert b % u == 0 and u <= b <= max(u, -(-s // u) * u)


@given(
    st.lists(st.integers(0, 30), min_size=0, max_size=3).flatmap(
        lambda shape: st.tuples(st.just(tuple(shape)), st.tuples(*(st.integers(1, 12) for _ in shape)))
    )
)
def test_unit_regions_tile_the_shape_exactly_once(case: tuple[tuple[int, ...], tuple[int, ...]]) -> None:
    shape, unit = case
    cover = np.zeros(shape, dtype=np.int32)
    regions = list(unit_regions(shape, unit))
    for region in regions:
        cover[region] += 1
        assert all(s.stop - s.start <= u for s, u in zip(region, unit, strict=True))
    assert (cover == 1).all()
    assert len(regions) == (chunk_count(shape, unit) if shape else 1)


async def _array(shape: tuple[int, ...], chunks: tuple[int, ...], shards: tuple[int, ...] | None = None) -> AsyncArray:
    return await aio.create(MemoryStore(), shape, "uint16", chunks=chunks, shards=shards, codecs=["gzip"])


async def test_destination_layout_keeps_or_changes_each_part() -> None:
    sharded = await _array((40, 40), (5, 5), (20, 20))
    keep = destination_layout(sharded, LayoutOptions())
    assert keep["chunks"] == (5, 5) and keep["shards"] == (20, 20)
    assert [c["name"] for c in keep["codecs"]] == ["bytes", "gzip"]  # the inner codecs, not the sharding codec
    rechunked = destination_layout(sharded, LayoutOptions(chunks=(10, 4)))
    assert rechunked["chunks"] == (10, 4) and rechunked["shards"] == (20, 20)
    assert destination_layout(sharded, LayoutOptions(unshard=True))["shards"] is None
    assert destination_layout(sharded, LayoutOptions(codecs=[]))["codecs"] == []
    with pytest.raises(UsageError, match="do not divide"):
        destination_layout(sharded, LayoutOptions(chunks=(3, 3)))
    with pytest.raises(UsageError, match="multiple"):
        destination_layout(sharded, LayoutOptions(chunks=(3, 3), shards=(10, 10)))
    with pytest.raises(UsageError, match="rank"):
        destination_layout(sharded, LayoutOptions(chunks=(3,)))
    plain = await _array((40,), (8,))
    assert destination_layout(plain, LayoutOptions(shards=(16,)))["shards"] == (16,)


@pytest.mark.parametrize(("jobs", "memory", "expected"), [(8, 1 << 30, 8), (3, 1 << 30, 3), (8, 2 * 400, 2), (8, 1, 1)])
async def test_reencode_holds_a_bounded_number_of_blocks(
    jobs: int, memory: int, expected: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = await _array((40, 40), (10, 10))
    await source.setitem(..., np.arange(1600, dtype="uint16").reshape(40, 40))
    destination = await _array((40, 40), (10, 10))
    # blocks of one 200-byte unit (100 uint16); a job holds its block and one 200-byte source chunk
    monkeypatch.setattr(copier, "BLOCK_BYTES", 200)
    in_flight = 0
    peak = 0
    read = source.getitem

    async def slow_read(selection: Any) -> Any:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.002)
        data = await read(selection)
        in_flight -= 1
        return data

    source.getitem = slow_read  # type: ignore[assignment]
    progress = Progress(source.nbytes, 16, io.StringIO(), enabled=False)
    job = CopyJob(ArrayCopy(source, destination, verbatim=False), None, 16, source.nbytes)
    await run_jobs([job], progress, concurrency=jobs, memory_budget=memory)
    assert peak == expected
    assert progress.done_chunks == 16 and progress.done_bytes == source.nbytes
    np.testing.assert_array_equal(await destination.getitem(...), await read(...))


# ---------------------------------------------------------------- main: every failure is one line


@pytest.mark.parametrize(
    ("error", "status", "text"),
    [
        (RuntimeError("boom"), 1, "zarrio: error: internal error: RuntimeError: boom (run with --debug for details)"),
        (ExceptionGroup("many", [ValueError("first\nproblem"), KeyError("x")]), 1, "zarrio: error: first problem"),
        (ExceptionGroup("usage", [UsageError("bad text")]), 2, "zarrio: error: bad text"),
        (KeyboardInterrupt(), 130, "zarrio: error: interrupted"),
    ],
)
def test_main_reports_any_failure_in_one_line(
    error: BaseException, status: int, text: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from zarrio.cli import info, main

    def failing(args: Any) -> int:
        raise error

    monkeypatch.setattr(info, "run", failing)
    assert main(["info", "anything"]) == status
    assert capsys.readouterr().err == text + "\n"
    with pytest.raises(type(error)):
        main(["info", "anything", "--debug"])


@pytest.mark.parametrize("command", ["info", "tree", "get", "consolidate", "rm", "cp", "serve"])
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    from zarrio.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: zarrio {command}")
    assert "--debug" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.metadata

    from zarrio.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"zarrio {importlib.metadata.version('zarrio')}\n"
