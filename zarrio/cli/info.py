"""``zarrio info TARGET``: what an array or group is, and what it holds in its store."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..array import AsyncArray
from ..group import AsyncGroup
from ..node_info import array_facts, group_facts
from ..stored import PROBE_LIMIT
from .formatting import dump, format_bytes
from .nodes import describe_codecs, open_node, opened_store
from .target import Target, parse_target

__all__ = ["add_parser", "array_info", "group_info", "run"]


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "info",
        parents=parents,
        help="describe an array or group",
        description="Describe an array (shape, dtype, chunks, shards, codecs, fill value, stored size, "
        "compression ratio, stored chunks) or a group (attributes, members).",
    )
    parser.add_argument("target", metavar="TARGET", help="PATH, FILE.zip or http(s)://URL, optionally ::node/path")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.set_defaults(run=run)


async def array_info(array: AsyncArray, target: Target) -> dict[str, Any]:
    facts = await array_facts(array, complete=True)
    return {"target": str(target), **{k: v for k, v in facts.items() if k not in ("store", "read_only")}}


async def group_info(group: AsyncGroup, target: Target) -> dict[str, Any]:
    """The group's facts; ``arrays``/``groups`` are ``None`` when the store cannot list and nothing is consolidated."""
    facts = await group_facts(group)
    return {"target": str(target), **{k: v for k, v in facts.items() if k not in ("store", "read_only")}}


def _shape_text(value: list[int] | None) -> str:
    return "(" + ", ".join(str(v) for v in value) + ("," if len(value) == 1 else "") + ")" if value is not None else "-"


def format_array_info(info: dict[str, Any]) -> list[str]:
    data_type = info["data_type"]
    dtype = data_type if isinstance(data_type, str) else dump(data_type).replace("\n", " ")
    chunks_total = info["nchunks"]
    stored = info["nchunks_stored"]
    objects = "shards" if info["shards"] else "chunks"
    if stored is None:
        stored_text = f"unknown (the store cannot list keys and the grid has over {PROBE_LIMIT} {objects} to probe)"
    else:
        stored_text = f"{stored} of {chunks_total} {objects}"
    if info["stored_bytes"] is None:
        size_text = "unknown (the store cannot list keys or report sizes)"
    else:
        ratio = info["compression_ratio"]
        size_text = f"{format_bytes(info['stored_bytes'])} ({info['stored_bytes']} bytes)"
        size_text += f", ratio {ratio:.2f}" if ratio is not None else ""
    lines = [
        ("type", "array"),
        ("format", f"Zarr v{info['zarr_format']}"),
        ("shape", _shape_text(info["shape"])),
        ("dtype", f"{dtype} ({info['dtype']})" if dtype != info["dtype"] else dtype),
        ("chunks", _shape_text(info["chunks"])),
        ("shards", _shape_text(info["shards"]) if info["shards"] else "none"),
        ("codecs", describe_codecs(info["codecs"])),
        ("fill value", json.dumps(info["fill_value"])),  # one line, a complex [re, im] too
        ("logical size", f"{format_bytes(info['nbytes'])} ({info['nbytes']} bytes)"),
        ("stored size", size_text),
        ("stored", stored_text),
    ]
    if info["dimension_names"] is not None:
        lines.insert(2, ("dimensions", ", ".join(str(n) for n in info["dimension_names"])))
    if info["attributes"]:
        lines.append(("attributes", dump(info["attributes"]).replace("\n", "\n" + " " * 15)))
    return [f"{info['target']}", *(f"  {k:<12} {v}" for k, v in lines)]


def format_group_info(info: dict[str, Any]) -> list[str]:
    unknown = "unknown (the store cannot list keys; browsing needs consolidated metadata)"
    lines = [
        ("type", "group"),
        ("format", f"Zarr v{info['zarr_format']}"),
        ("arrays", unknown if info["arrays"] is None else ", ".join(info["arrays"]) or "(none)"),
        ("groups", unknown if info["groups"] is None else ", ".join(info["groups"]) or "(none)"),
        ("consolidated", "yes" if info["consolidated_metadata"] else "no"),
    ]
    if info["attributes"]:
        lines.append(("attributes", dump(info["attributes"]).replace("\n", "\n" + " " * 15)))
    return [f"{info['target']}", *(f"  {k:<12} {v}" for k, v in lines)]


async def run(args: argparse.Namespace) -> int:
    target = parse_target(args.target)
    async with opened_store(target) as store:
        node = await open_node(store, target)
        if isinstance(node, AsyncArray):
            info = await array_info(node, target)
            lines = format_array_info(info)
        else:
            info = await group_info(node, target)
            lines = format_group_info(info)
    print(dump(info) if args.json else "\n".join(lines))
    return 0
