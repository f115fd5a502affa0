"""No wait loop in the package relies on ``await`` yielding (issue 13's livelock).

A loop that waits for other tasks must wait on a condition their completion sets. Two
shapes of polling are refused outright, found with ``ast``: a ``while`` loop whose
condition asks whether futures are ``done()`` (the batcher that spun on Python 3.12,
where awaiting futures that are already done does not yield), and ``await
asyncio.sleep(0)`` inside any loop (a spin that only works while someone else is ready).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "zarrio"


def _is_done_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "done"


def _is_sleep_zero(node: ast.AST) -> bool:
    if not (isinstance(node, ast.Await) and isinstance(node.value, ast.Call)):
        return False
    func, args = node.value.func, node.value.args
    named_sleep = (isinstance(func, ast.Attribute) and func.attr == "sleep") or (
        isinstance(func, ast.Name) and func.id == "sleep"
    )
    return named_sleep and len(args) == 1 and isinstance(args[0], ast.Constant) and args[0].value == 0


def polling_loops(source: str, name: str) -> list[str]:
    found = []
    for loop in ast.walk(ast.parse(source)):
        if not isinstance(loop, ast.While | ast.For | ast.AsyncFor):
            continue
        if isinstance(loop, ast.While) and any(_is_done_call(n) for n in ast.walk(loop.test)):
            found.append(f"{name}:{loop.lineno}: a while loop polls done()")
        for node in ast.walk(loop):
            if _is_sleep_zero(node):
                found.append(f"{name}:{node.lineno}: await asyncio.sleep(0) inside a loop")
    return found


def test_the_package_has_no_polling_wait_loop() -> None:
    problems = [
        problem
        for file in sorted(PACKAGE_DIR.rglob("*.py"))
        for problem in polling_loops(file.read_text(encoding="utf-8"), str(file.relative_to(PACKAGE_DIR.parent)))
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "source",
    [
        "async def f(fs):\n    while any(not f.done() for f in fs):\n        await g()\n",
        "async def f(xs):\n    for x in xs:\n        await asyncio.sleep(0)\n",
        "async def f():\n    while True:\n        await sleep(0)\n",
    ],
)
def test_the_checker_sees_polling(source: str) -> None:
    assert polling_loops(source, "m.py")


def test_the_checker_accepts_waiting_on_a_future() -> None:
    source = "async def f(idle, policy):\n    while True:\n        await asyncio.sleep(policy.wait)\n    await idle\n"
    assert polling_loops(source, "m.py") == []
