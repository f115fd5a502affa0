"""The same zarr-python snippets under zarr-python 3.4.2 (the reference interpreter) and under
``import zarrio as zarr``: equal results, or the documented difference (snippets.DIFFERENT)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from .snippets import DIFFERENT, DRIVER, MODE_BETTER, MODE_SNIPPETS, SNIPPETS

ALL = {**SNIPPETS, **MODE_SNIPPETS}


def _run_zarrio() -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, "zarrio"],
        input=json.dumps(ALL),
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    return dict(json.loads(proc.stdout))


@pytest.fixture(scope="module")
def results(run_ref: Callable[..., str]) -> tuple[dict[str, Any], dict[str, Any]]:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "driver.py"
        script.write_text(DRIVER)
        feed = Path(tmp) / "snippets.json"
        feed.write_text(json.dumps(ALL))
        reference = run_ref(
            f"import sys, runpy; sys.argv = ['driver', 'zarr']; sys.stdin = open({str(feed)!r}); "
            f"runpy.run_path({str(script)!r}, run_name='__main__')",
            timeout=240,
        )
    return json.loads(reference.strip().splitlines()[-1]), _run_zarrio()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_snippet(name: str, results: tuple[dict[str, Any], dict[str, Any]]) -> None:
    reference, ours = results
    if name in DIFFERENT:
        expected, why = DIFFERENT[name]
        assert ours[name] == expected, why
        assert reference[name] != ours[name], f"{name} no longer differs: {why}"
        return
    assert families(ours[name]) == families(reference[name]), f"zarrio {ours[name]} != zarr-python {reference[name]}"


def families(outcome: dict[str, Any]) -> dict[str, Any]:
    """A result as is; an error as the builtin families it belongs to (the class names differ)."""
    return {"error": outcome["error"]} if "error" in outcome else outcome


@pytest.mark.timeout(300)
@pytest.mark.parametrize("cell", sorted(MODE_SNIPPETS))
def test_mode_cell(cell: str, results: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """Where zarr-python opens or creates, zarrio gives the same node, data and writability; where
    zarr-python raises, zarrio raises too (its own typed error: see docs/migrating.md)."""
    reference, ours = results
    if cell in MODE_BETTER:
        assert "error" in reference[cell] and "result" in ours[cell], MODE_BETTER[cell]
    elif "error" in reference[cell]:
        assert "error" in ours[cell], f"zarr-python raises {reference[cell]}, zarrio gives {ours[cell]}"
    else:
        assert ours[cell] == reference[cell]
