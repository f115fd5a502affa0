"""An awaitable that is already done: what a synchronous ``close()`` returns, so that both
``store.close()`` and ``await store.close()`` work."""

from __future__ import annotations

from collections.abc import Coroutine, Generator
from types import TracebackType
from typing import Any

__all__ = ["Finished"]


class Finished(Coroutine[Any, Any, None]):
    """An awaitable that is already done: what the synchronous ``close()`` returns."""

    def send(self, value: Any, /) -> Any:
        raise StopIteration

    def throw(self, typ: Any, val: Any = None, tb: TracebackType | None = None, /) -> Any:
        if isinstance(typ, BaseException):
            raise typ
        raise typ if val is None else val

    def close(self) -> None:
        pass

    def __await__(self) -> Generator[Any, Any, None]:
        return
        yield
