"""``zarrio tree TARGET``: the hierarchy below a group, with shapes and data types."""

from __future__ import annotations

import argparse
from typing import Any

from ..array import AsyncArray
from ..errors import ListingNotSupportedError
from .nodes import browsing_error, open_node, opened_store
from .target import parse_target

__all__ = ["add_parser", "run"]


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "tree",
        parents=parents,
        help="print the hierarchy with shapes and dtypes",
        description="Print the hierarchy below a group with each array's shape and data type. "
        "Consolidated metadata is used when the group has it (no further reads); a store that cannot "
        "list keys (HTTP) needs it.",
    )
    parser.add_argument("target", metavar="TARGET", help="PATH, FILE.zip or http(s)://URL, optionally ::node/path")
    parser.set_defaults(run=run)


def _data_type_text(node: AsyncArray) -> str:
    data_type = node.metadata.data_type.to_json()
    return data_type if isinstance(data_type, str) else str(data_type.get("name", data_type))


async def run(args: argparse.Namespace) -> int:
    target = parse_target(args.target)
    async with opened_store(target) as store:
        node = await open_node(store, target)
        if isinstance(node, AsyncArray):
            print(f"{node.name} {node.shape} {_data_type_text(node)}")
            return 0
        try:
            text = await node.tree()
        except ListingNotSupportedError as e:
            raise browsing_error(target, e) from e
        if node.consolidated is not None:
            first, _, rest = text.partition("\n")
            text = f"{first}  (from consolidated metadata)" + (f"\n{rest}" if rest else "")
    print(text)
    return 0
