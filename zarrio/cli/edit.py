"""``zarrio consolidate TARGET`` and ``zarrio rm TARGET NODE``: changes to a hierarchy."""

from __future__ import annotations

import argparse
from typing import Any

from .. import _paths, aio
from .nodes import opened_store
from .target import parse_target
from .usage import UsageError

__all__ = ["add_parsers", "run_consolidate", "run_rm"]


def add_parsers(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    consolidate = commands.add_parser(
        "consolidate",
        parents=parents,
        help="write consolidated metadata into a group's zarr.json",
        description="Inline the metadata of every node below the group into its zarr.json (zarr-python's "
        "v3 format), so browsing needs no listing and no further reads. Re-run after changing the hierarchy.",
    )
    consolidate.add_argument("target", metavar="TARGET", help="PATH or FILE.zip, optionally ::group/path")
    consolidate.set_defaults(run=run_consolidate)
    remove = commands.add_parser(
        "rm",
        parents=parents,
        help="delete a node and everything below it",
        description="Delete the array or group NODE (a path below TARGET) and everything below it; "
        "consolidated metadata of its ancestors is updated.",
    )
    remove.add_argument("target", metavar="TARGET", help="PATH or FILE.zip, optionally ::group/path")
    remove.add_argument("node", metavar="NODE", help="path of the node to delete, relative to TARGET")
    remove.set_defaults(run=run_rm)


async def run_consolidate(args: argparse.Namespace) -> int:
    target = parse_target(args.target)
    async with opened_store(target, "w") as store:
        group = await aio.consolidate_metadata(store, target.node)
    count = len(group.consolidated or {})
    print(f"consolidated the metadata of {count} node{'s' if count != 1 else ''} into {target}")
    return 0


async def run_rm(args: argparse.Namespace) -> int:
    target = parse_target(args.target)
    path = _paths.child_path(target.node, args.node)
    if not path:
        raise UsageError("refusing to delete the root group; name a node below it")
    async with opened_store(target, "w") as store:
        await aio.delete_node(store, path)
    print(f"removed /{path}")
    return 0
