"""``zarrio get TARGET [SELECTION] [-o FILE.npy]``: read a selection, print it or save it."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

from ..array import AsyncArray
from .nodes import open_node, opened_store
from .selection import parse_selection
from .target import parse_target
from .usage import UsageError

__all__ = ["add_parser", "run"]


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "get",
        parents=parents,
        help="print or save a selection of an array",
        description='Read a NumPy-style selection such as "[0:10, ::2]" (ints, slices with steps, "...", '
        "integer lists like [1,5,7]; the brackets are optional) and print it, or save it as .npy.",
    )
    parser.add_argument("target", metavar="TARGET", help="PATH, FILE.zip or http(s)://URL, optionally ::node/path")
    parser.add_argument("selection", metavar="SELECTION", nargs="?", default="", help="default: everything")
    parser.add_argument("-o", "--output", metavar="FILE.npy", help="save to this .npy file instead of printing")
    parser.add_argument("--full", action="store_true", help="print every element (no '...' summary)")
    parser.set_defaults(run=run)


def _save(path: str, data: Any) -> None:
    with open(path, "wb") as file:  # np.save(path) would add ".npy" to other names
        np.save(file, np.asarray(data), allow_pickle=False)


async def run(args: argparse.Namespace) -> int:
    selection = parse_selection(args.selection)
    target = parse_target(args.target)
    async with opened_store(target) as store:
        node = await open_node(store, target)
        if not isinstance(node, AsyncArray):
            raise UsageError(f"{target} is a group; name an array with ::path (see 'zarrio tree')")
        data = await node.get_orthogonal_selection(selection)  # index lists per axis, as the grammar says
    if args.output:
        if np.asarray(data).dtype == object:
            raise UsageError("variable-length strings or bytes cannot be saved as .npy without pickling")
        _save(args.output, data)
        return 0
    options: dict[str, Any] = {"threshold": sys.maxsize} if args.full else {}
    with np.printoptions(**options):
        print(data)
    return 0
