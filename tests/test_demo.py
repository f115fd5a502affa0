"""The demo program (`python -m zarrio.demo`) runs end to end and verifies what it reads."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from zarrio import demo


def test_demo_reads_back_what_it_wrote(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = demo.main(["--data-dir", str(tmp_path), "--tiles", "12", "--latency-ms", "1", "--seed", "3"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "demo OK" in out
    assert (tmp_path / demo.ARRAY_PATH / "zarr.json").is_file()
    for label in ("async", "sync"):
        line = next(line for line in out.splitlines() if line.strip().startswith(label))
        requests = re.search(r"(\d+) HTTP requests", line)
        assert requests is not None and int(requests.group(1)) > 0, line
        assert "all match" in line


def test_mismatches_are_counted() -> None:
    image = demo.make_image(0)
    tiles = demo.random_tiles(4, 0)
    good = [image[r : r + demo.TILE, c : c + demo.TILE] for r, c in tiles]
    bad = [tile.copy() for tile in good]
    bad[2][5, 5] ^= 1
    assert demo.count_mismatches(image, tiles, good) == 0
    assert demo.count_mismatches(image, tiles, bad) == 1


def test_tiles_are_aligned_and_inside_the_array() -> None:
    tiles = demo.random_tiles(200, 7)
    rows, cols = np.array(tiles).T
    assert (rows % demo.TILE == 0).all() and (cols % demo.TILE == 0).all()
    assert rows.max() + demo.TILE <= demo.SHAPE[0] and cols.max() + demo.TILE <= demo.SHAPE[1]
