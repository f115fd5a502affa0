"""``zarrio serve DIR``: serve a directory over HTTP on 127.0.0.1 (with Range support) until Ctrl-C."""

from __future__ import annotations

import argparse
import os
import sys
import threading
from typing import Any

from ..errors import StoreError

__all__ = ["add_parser", "run", "zarr_roots"]


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "serve",
        parents=parents,
        help="serve a directory over HTTP on 127.0.0.1",
        description="Serve DIR over HTTP on 127.0.0.1 with Range support, for local development and demos "
        "(e.g. 'zarrio info http://127.0.0.1:PORT/data.zarr'). Stops on Ctrl-C.",
    )
    parser.add_argument("directory", metavar="DIR", help="the directory to serve")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000; 0 picks a free one)")
    parser.set_defaults(run=run)


def zarr_roots(directory: str) -> list[str]:
    """The Zarr nodes to advertise: the directory itself ("") and its direct children that hold a zarr.json."""
    if os.path.isfile(os.path.join(directory, "zarr.json")):
        return [""]
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    return [n for n in names if os.path.isfile(os.path.join(directory, n, "zarr.json"))]


def run(args: argparse.Namespace) -> int:
    from ..server import serve

    if not os.path.isdir(args.directory):
        raise StoreError("not a directory", location=args.directory)
    if not 0 <= args.port <= 65535:
        raise StoreError(f"port must be between 0 and 65535, got {args.port}")
    with serve(args.directory, host="127.0.0.1", port=args.port) as server:
        print(f"serving {os.path.abspath(args.directory)} at {server.url} (Ctrl-C to stop)")
        for name in zarr_roots(args.directory):
            print(f"  {server.url.rstrip('/')}/{name}" if name else f"  {server.url}")
        sys.stdout.flush()
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopped", flush=True)
    return 0
