"""``zarrio consolidate TARGET`` and ``zarrio rm TARGET NODE``: changes to a hierarchy."""

from __future__ import annotations

import argparse
import os
from typing import Any

from .. import _paths, aio
from ..errors import NodeNotFoundError, StoreError
from .nodes import opened_store
from .target import Target, parse_target
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


def _existing(text: str) -> Target:
    """The target ``text`` names; a missing directory or zip is an error (nothing is created)."""
    target = parse_target(text)
    if not target.is_url and not os.path.exists(target.location):
        raise StoreError("no such file or directory", location=target.location)
    return target


def _not_found(target: Target, path: str, error: NodeNotFoundError) -> NodeNotFoundError:
    if error.path != path:
        return error
    shown = Target(target.location, path)
    return NodeNotFoundError(path, f"no Zarr array or group at {shown}")


async def run_consolidate(args: argparse.Namespace) -> int:
    target = _existing(args.target)
    async with opened_store(target, "w") as store:
        try:
            group = await aio.consolidate_metadata(store, target.node)
        except NodeNotFoundError as e:
            raise _not_found(target, target.node, e) from e
    count = len(group.consolidated or {})
    print(f"consolidated the metadata of {count} node{'s' if count != 1 else ''} into {target}")
    return 0


async def run_rm(args: argparse.Namespace) -> int:
    target = _existing(args.target)
    path = _paths.child_path(target.node, args.node)
    if not path:
        raise UsageError("refusing to delete the root group; name a node below it")
    async with opened_store(target, "w") as store:
        try:
            await aio.delete_node(store, path)
        except NodeNotFoundError as e:
            raise _not_found(target, path, e) from e
    print(f"removed /{path}")
    return 0
