"""Every ```python block of README.md and docs/**/*.md runs as a test.

- one test id per block: `README.md:L42` (the line of the opening fence);
- the blocks of one file run in order, in one shared namespace (`__name__ == "__main__"`),
  in a temporary working directory of their own;
- top-level `await` is allowed: such a block is compiled with PyCF_ALLOW_TOP_LEVEL_AWAIT and
  run on an event loop kept for the whole file (so objects made in one block can be awaited
  in the next);
- a block whose info string carries `no-run` (e.g. ```python no-run needs the internet) is
  skipped with the rest of the info string as the reason; use sparingly;
- when a block fails, the later blocks of that file are skipped and name the failing block;
- tracebacks point at the real lines of the Markdown file.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
PYTHON_LANGUAGES = {"python", "py", "python3"}
NO_RUN_FLAGS = {"no-run", "norun", "skip"}
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
ATTRIBUTE = re.compile(r"""\b[\w-]+=(?:"[^"]*"|'[^']*'|\S+)""")


@dataclass(frozen=True)
class Block:
    file: Path
    index: int  # position among the python blocks of its file
    fence_line: int  # 1-based line of the opening fence
    code: str
    skip_reason: str | None

    @property
    def test_id(self) -> str:
        shown = self.file.relative_to(REPO_ROOT) if self.file.is_relative_to(REPO_ROOT) else self.file.name
        return f"{shown}:L{self.fence_line}"


@dataclass(frozen=True)
class Fenced:
    language: str
    flags: list[str]
    fence_line: int
    body: str
    #: mkdocs attributes of the fence, e.g. {"title": "dict_store.py"}
    attributes: dict[str, str] = field(default_factory=dict)


def fenced_blocks(text: str) -> Iterator[Fenced]:
    """All fenced code blocks of a Markdown text (CommonMark fences, up to 3 spaces of indent)."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening or (opening["fence"][0] == "`" and "`" in opening["info"]):
            i += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        words = ATTRIBUTE.sub(" ", opening["info"]).split()  # mkdocs attributes such as title="..." are not flags
        attributes = {
            name: value.strip("\"'")
            for name, value in (match.split("=", 1) for match in ATTRIBUTE.findall(opening["info"]))
        }
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            closing = FENCE.match(lines[j])
            same_kind = closing and closing["fence"][0] == fence[0] and len(closing["fence"]) >= len(fence)
            if closing and same_kind and not closing["info"].strip():
                break
            body.append(strip_indent(lines[j], indent))
            j += 1
        language = words[0].lower() if words else ""
        yield Fenced(language, words[1:], i + 1, "\n".join(body) + "\n", attributes)
        i = j + 1


def strip_indent(line: str, indent: int) -> str:
    removable = len(line) - len(line.lstrip(" "))
    return line[min(indent, removable) :]


def python_blocks(file: Path) -> list[Block]:
    blocks: list[Block] = []
    for fenced in fenced_blocks(file.read_text(encoding="utf-8")):
        if fenced.language not in PYTHON_LANGUAGES:
            continue
        flags = [flag for flag in fenced.flags if flag.lower() in NO_RUN_FLAGS]
        skip_reason = None
        if flags:
            rest = " ".join(word for word in fenced.flags if word not in flags).strip()
            skip_reason = f"marked {flags[0]} in the docs" + (f": {rest}" if rest else "")
        blocks.append(Block(file, len(blocks), fenced.fence_line, fenced.body, skip_reason))
    return blocks


def doc_files(root: Path = REPO_ROOT) -> list[Path]:
    readme = root / "README.md"
    return ([readme] if readme.is_file() else []) + sorted((root / "docs").rglob("*.md"))


ALL_BLOCKS = [block for file in doc_files() for block in python_blocks(file)]


# ---------------------------------------------------------------- running blocks


@dataclass
class FileRun:
    """The shared state of one Markdown file's blocks."""

    workdir: Path
    namespace: dict[str, object] = field(default_factory=lambda: {"__name__": "__main__"})
    loop: asyncio.AbstractEventLoop | None = None
    outcomes: dict[int, BaseException | None] = field(default_factory=dict)
    first_failure: str | None = None

    def execute(self, block: Block) -> None:
        """Run one block in this file's namespace; record (and re-raise) its failure."""
        padded = "\n" * block.fence_line + block.code  # code starts on the line after the fence
        try:
            code = compile(padded, str(block.file), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
            if code.co_flags & inspect.CO_COROUTINE:
                if self.loop is None:
                    self.loop = asyncio.new_event_loop()
                self.loop.run_until_complete(eval(code, self.namespace))
            else:
                exec(code, self.namespace)
        except BaseException as error:
            self.outcomes[block.index] = error
            self.first_failure = self.first_failure or block.test_id
            raise
        self.outcomes[block.index] = None

    def close(self) -> None:
        if self.loop is not None and not self.loop.is_closed():
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()


class FileRuns:
    """One FileRun per Markdown file, each with its own temporary working directory."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._tmp_path_factory = tmp_path_factory
        self._runs: dict[Path, FileRun] = {}

    def __getitem__(self, file: Path) -> FileRun:
        if file not in self._runs:
            self._runs[file] = FileRun(self._tmp_path_factory.mktemp(f"docs-{file.stem}"))
        return self._runs[file]

    def close(self) -> None:
        for run in self._runs.values():
            run.close()


@pytest.fixture(scope="session")
def file_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FileRuns]:
    runs = FileRuns(tmp_path_factory)
    yield runs
    runs.close()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("block", ALL_BLOCKS, ids=[block.test_id for block in ALL_BLOCKS])
def test_doc_block_runs(block: Block, file_runs: FileRuns, monkeypatch: pytest.MonkeyPatch) -> None:
    if block.skip_reason:
        pytest.skip(block.skip_reason)
    run = file_runs[block.file]
    monkeypatch.chdir(run.workdir)
    if block.index in run.outcomes:  # already run to catch up for a later block (tests run out of order)
        recorded = run.outcomes[block.index]
        if recorded is not None:
            raise recorded
        return
    earlier = [b for b in ALL_BLOCKS if b.file == block.file and b.index < block.index]
    for previous in earlier:
        if run.first_failure:
            break
        if previous.index not in run.outcomes and not previous.skip_reason:
            try:
                run.execute(previous)
            except Exception:
                break
    if run.first_failure:
        pytest.skip(f"not run: an earlier block of this file failed ({run.first_failure})")
    run.execute(block)


# ---------------------------------------------------------------- the README's promises and the harness itself


def test_readme_starts_with_the_two_commands() -> None:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    first = next(fenced_blocks(text))
    before = text.split("```", 1)[0]
    assert [line for line in before.splitlines() if line.startswith("#")] == [before.splitlines()[0]], (
        "only the title may come before the two commands"
    )
    assert first.language in {"sh", "bash", "shell", "console"}
    commands = [line.strip() for line in first.body.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert [c.split("#")[0].strip() for c in commands] == ["python3 scripts/dev.py demo", "python3 scripts/dev.py test"]
    ci_script = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python3 scripts/dev.py test" in ci_script


def test_block_extraction(tmp_path: Path) -> None:
    doc = tmp_path / "page.md"
    doc.write_text(
        "# t\n\n```sh\necho hi\n```\n\n"
        "```python\nx = 1\n```\n\n"
        "  ```py\n  y = x + 1\n    z = 0\n  ```\n\n"
        '````python title="a b" no-run needs the internet\nimport urllib\n```\nstill inside\n````\n'
        "~~~python\nawait f()\n~~~\n",
        encoding="utf-8",
    )
    blocks = python_blocks(doc)
    assert [b.code for b in blocks] == [
        "x = 1\n",
        "y = x + 1\n  z = 0\n",
        "import urllib\n```\nstill inside\n",
        "await f()\n",
    ]
    assert [b.fence_line for b in blocks] == [7, 11, 16, 21]
    assert [b.skip_reason for b in blocks] == [None, None, "marked no-run in the docs: needs the internet", None]


def test_blocks_share_a_namespace_and_await_on_one_loop(tmp_path: Path) -> None:
    doc = tmp_path / "page.md"
    doc.write_text(
        "```python\nimport asyncio\nasync def make():\n    return asyncio.get_running_loop()\n```\n"
        "```python\nfirst = await make()\n```\n"
        "```python\nsecond = await make()\nassert first is second\n```\n"
        "```python\nraise RuntimeError('boom')\n```\n",
        encoding="utf-8",
    )
    run = FileRun(tmp_path)
    blocks = python_blocks(doc)
    try:
        for block in blocks[:3]:
            run.execute(block)
        with pytest.raises(RuntimeError, match="boom") as caught:
            run.execute(blocks[3])
    finally:
        run.close()
    assert run.namespace["first"] is run.namespace["second"]
    assert run.first_failure == "page.md:L13"
    assert run.outcomes[3] is caught.value
    last = caught.traceback[-1]
    assert (Path(last.path), last.lineno + 1) == (doc, 14)  # the `raise` line of page.md; pytest counts from 0
