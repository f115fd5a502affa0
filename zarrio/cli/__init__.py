"""The ``zarrio`` command-line tool.

::

    zarrio info TARGET [--json]          shape, dtype, chunks, codecs, stored size...
    zarrio tree TARGET                   the hierarchy with shapes and dtypes
    zarrio get TARGET [SELECTION] [-o F] a selection, printed or saved as .npy
    zarrio consolidate TARGET            write consolidated metadata
    zarrio rm TARGET NODE                delete a node recursively
    zarrio cp SRC DST [--chunks ...]     copy between stores, optionally re-laid out
    zarrio compact TARGET [--dry-run]    rewrite shards carrying garbage compactly
    zarrio serve DIR [--port N]          serve a directory over HTTP on 127.0.0.1

TARGET is a directory path, a ``.zip`` file or an ``http(s)://`` URL, with an
optional ``::node/path``. Errors print one line (``zarrio: error: ...``) and
exit with status 1 (2 for a malformed command line); ``--debug`` shows the
traceback instead.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import inspect
import os
import sys
from collections.abc import Sequence

from ..errors import ZarrioError
from . import compact, copy, edit, get, info, serve, tree
from .usage import UsageError

__all__ = ["build_parser", "main"]

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``zarrio`` command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show the full traceback on errors"
    )
    parser = argparse.ArgumentParser(
        prog="zarrio",
        description="Inspect, read, copy and serve Zarr v3 arrays and groups.",
        epilog="TARGET is a directory path, a .zip file or an http(s):// URL, optionally followed by "
        "::node/path (e.g. data.zarr::group/array). Run 'zarrio COMMAND --help' for a command's options.",
    )
    parser.add_argument("--debug", action="store_true", default=False, help="show the full traceback on errors")
    parser.add_argument("--version", action="version", version=f"zarrio {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    parents = [common]
    info.add_parser(commands, parents)
    tree.add_parser(commands, parents)
    get.add_parser(commands, parents)
    edit.add_parsers(commands, parents)
    copy.add_parser(commands, parents)
    compact.add_parser(commands, parents)
    serve.add_parser(commands, parents)
    return parser


def _version() -> str:
    try:
        return importlib.metadata.version("zarrio")
    except importlib.metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "(not installed)"


def _fail(message: str, status: int) -> int:
    print(f"zarrio: error: {message}", file=sys.stderr)
    return status


def _one_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return " ".join(text.split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``zarrio`` command with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        result = args.run(args)
        status: int = asyncio.run(result) if inspect.iscoroutine(result) else result
        sys.stdout.flush()
        return status
    except KeyboardInterrupt:
        if args.debug:
            raise
        return _fail("interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:
        # e.g. "zarrio get ... | head": the reader left; nothing to report, and nothing more to flush
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except UsageError as e:
        if args.debug:
            raise
        return _fail(_one_line(e), EXIT_USAGE)
    except (ZarrioError, OSError, ValueError, TypeError) as e:
        if args.debug:
            raise
        return _fail(_one_line(e), EXIT_ERROR)
    except ExceptionGroup as group:
        if args.debug:
            raise
        first = _first_leaf(group)
        return _fail(_one_line(first), EXIT_USAGE if isinstance(first, UsageError) else EXIT_ERROR)
    except Exception as e:  # a bug: still one line, and the way to see more
        if args.debug:
            raise
        return _fail(f"internal error: {type(e).__name__}: {_one_line(e)} (run with --debug for details)", EXIT_ERROR)


def _first_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first
