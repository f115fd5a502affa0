"""The shared conformance corpus, both directions, through the corpus' own verifiers.

- read:  `tools/verify_read.py --strict-optional` reads every case (zarr-python / tensorstore data)
  with zarrio, the optional ones (zarr-python-specific data types, numcodecs.* codecs) included;
- write: `tools/verify_write.py` has zarrio write every case, then zarr-python 3.4.2 and
  tensorstore (the reference interpreter, REF_PYTHON) read it back.

Both print one line per case and close with "N passed, M failed"; a test passes only when
that line says 0 failed (and at least one case passed). The corpus and the verifiers are
never edited here: failures are fixed in zarrio.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

VERIFIER_TIMEOUT_S = 900
TALLY = re.compile(r"^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$")


def run_verifier(script: Path, *args: str, env: dict[str, str] | None = None) -> list[str]:
    """Run one verifier with this interpreter (the one with zarrio); return its non-empty output lines.
    Neither it nor the reference interpreter it starts writes bytecode into the corpus's directory."""
    try:
        done = subprocess.run(
            [sys.executable, str(script), *args],
            capture_output=True,
            text=True,
            timeout=VERIFIER_TIMEOUT_S,
            env={**(os.environ if env is None else env), "PYTHONDONTWRITEBYTECODE": "1"},
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"{script.name} did not finish within {VERIFIER_TIMEOUT_S} s: {error}")
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if not lines:
        pytest.fail(f"{script.name} printed nothing (exit status {done.returncode}); stderr:\n{done.stderr[-3000:]}")
    return lines


def assert_no_failures(script_name: str, lines: list[str]) -> None:
    tally = TALLY.match(lines[-1].strip())
    failing = [line for line in lines if line.startswith("FAIL ")]
    report = "\n".join(failing[:200]) or "(no FAIL lines)"
    assert tally is not None, f"{script_name}: last line is not a tally: {lines[-1]!r}\n{report}"
    passed, failed = int(tally.group(1)), int(tally.group(2))
    assert failed == 0, f"{script_name}: {lines[-1]}\n{report}"
    assert passed > 0, f"{script_name}: no case passed: {lines[-1]}"


@pytest.mark.timeout(VERIFIER_TIMEOUT_S + 60)
def test_zarrio_reads_every_reference_case(conformance_dir: Path) -> None:
    lines = run_verifier(
        conformance_dir / "tools" / "verify_read.py", "--corpus", str(conformance_dir), "--strict-optional"
    )
    assert_no_failures("verify_read.py", lines)


@pytest.mark.interop
@pytest.mark.timeout(VERIFIER_TIMEOUT_S + 60)
def test_reference_implementations_read_what_zarrio_writes(
    conformance_dir: Path, ref_python: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "REF_PYTHON": str(ref_python)}
    lines = run_verifier(
        conformance_dir / "tools" / "verify_write.py",
        "--corpus",
        str(conformance_dir),
        "--out",
        str(tmp_path / "written"),
        env=env,
    )
    assert_no_failures("verify_write.py", lines)


@pytest.mark.parametrize(
    ("lines", "ok"),
    [
        (["PASS a", "2 passed, 0 failed"], True),
        (["PASS a", "SKIP b optional", "1 passed, 0 failed, 1 skipped"], True),
        (["PASS a", "FAIL b shape (2,) != (3,)", "1 passed, 1 failed"], False),
        (["0 passed, 0 failed"], False),
        (["Traceback (most recent call last):", "ImportError: zarrio"], False),
    ],
)
def test_tally_check_rejects_failures_and_empty_runs(lines: list[str], ok: bool) -> None:
    if ok:
        assert_no_failures("verifier", lines)
    else:
        with pytest.raises(AssertionError):
            assert_no_failures("verifier", lines)
