"""Which zarrio the children import: a snapshot of one commit (default ``HEAD``), or the live tree.

Other people edit zarrio/ while a run goes on; a snapshot keeps every child of one run on the same
code. The snapshot directory holds ``zarrio/`` exported from git and a copy of ``benchmarks/``; the
children run with it as their working directory, so ``import zarrio`` finds the snapshot first.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .config import BENCH_DIR, REPO_DIR

WORKTREE = "worktree"


@dataclass(frozen=True)
class CodeUnderTest:
    cwd: Path
    label: str


def _git(*args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=REPO_DIR, capture_output=True, check=True).stdout


def worktree_state() -> str:
    """The last commit touching zarrio/ plus a hash of uncommitted changes (tracked and untracked)."""
    last = _git("log", "-1", "--format=%h", "--", "zarrio").decode().strip()
    changes = _git("diff", "HEAD", "--", "zarrio")
    for name in _git("ls-files", "--others", "--exclude-standard", "--", "zarrio").decode().split():
        changes += name.encode() + (REPO_DIR / name).read_bytes()
    return last + (f"+{hashlib.sha256(changes).hexdigest()[:8]}" if changes else "")


@contextmanager
def code_under_test(ref: str) -> Iterator[CodeUnderTest]:
    """Yield where the children should run for zarrio at ``ref`` (a git revision, or ``worktree``)."""
    if ref == WORKTREE:
        yield CodeUnderTest(REPO_DIR, f"working tree ({worktree_state()})")
        return
    commit = _git("rev-parse", "--short", f"{ref}^{{commit}}").decode().strip()
    with tempfile.TemporaryDirectory(prefix=f"zarrio-bench-{commit}-") as tmp:
        root = Path(tmp)
        with tarfile.open(fileobj=io.BytesIO(_git("archive", "--format=tar", commit, "zarrio"))) as archive:
            archive.extractall(root, filter="data")
        shutil.copytree(
            BENCH_DIR, root / "benchmarks", ignore=shutil.ignore_patterns(".data", "results", "__pycache__")
        )
        yield CodeUnderTest(root, commit)
