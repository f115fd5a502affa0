"""What an HttpStore is besides its reads and the rules for answers (those are ``http.py``).

:class:`HttpStoreBase` holds the parts of the :class:`~zarrio.stores.Store`
contract that HTTP answers the same way whatever the reads do: it is read-only
(writes raise :class:`~zarrio.errors.ReadOnlyError`) and cannot list keys
(:class:`~zarrio.errors.ListingNotSupportedError`; consolidated metadata
stands in), and it forwards statistics, the connection warm-up hint and
closing to the transport (``_http_transport``).
"""

from __future__ import annotations

import builtins

import aiohttp

from ..errors import ListingNotSupportedError
from ._http_transport import HttpTransport
from ._keys import validate_prefix
from ._stats import TransportStats
from ._versions import VersionPins
from .base import Store

__all__ = ["HttpStoreBase"]


class HttpStoreBase(Store):
    """A read-only, unlistable store whose requests go through an :class:`HttpTransport`."""

    read_only = True
    listable = False
    #: the transport holds the one request limiter (max_concurrency per event loop, hedges included)
    limits_requests = True

    url: str
    transport: HttpTransport
    #: ``None`` until the server's first answer to a multi-range request, then whether it answers them
    multirange_supported: bool | None
    _seen: VersionPins

    def stats(self) -> TransportStats:
        """Requests, bytes, retries, hedges, multi-range use and latency percentiles so far."""
        return self.transport.snapshot()

    def reset_stats(self) -> None:
        self.transport.stats.reset()

    def seen_versions(self) -> VersionPins:
        return self._seen

    def expect_reads(self, count: int) -> None:
        """Open the connections about ``count`` reads that follow shortly will need (see docs/http.md).

        Not while multi-range requests may be used: then the reads that follow a shard's index are
        one request, on the connection the index read frees, and opening more costs the loop's time."""
        if self.multirange_supported is False:
            self.transport.expect_reads(self.url, count)

    async def _session(self) -> aiohttp.ClientSession:
        return await self.transport.session()

    async def close(self) -> None:
        """Close the current loop's session (not a user's); a later read opens a new one."""
        await self.transport.close()

    # ------------------------------------------------------------ writes and listing: not over HTTP
    async def set(self, key: str, value: bytes) -> None:
        self.check_writable()

    async def erase(self, key: str) -> None:
        self.check_writable()

    async def list(self, prefix: str = "") -> builtins.list[str]:
        validate_prefix(prefix)
        raise ListingNotSupportedError(
            "HTTP servers cannot list keys; browsing a hierarchy over HTTP needs consolidated metadata "
            "(zarrio.consolidate_metadata on the source)",
            key=prefix,
            location=self.url,
        )

    async def list_dir(self, prefix: str = "") -> tuple[builtins.list[str], builtins.list[str]]:
        await self.list(prefix)
        return [], []
