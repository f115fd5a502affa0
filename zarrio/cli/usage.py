"""The CLI's own error: an argument whose text cannot be understood (exit status 2)."""

from __future__ import annotations

__all__ = ["UsageError"]


class UsageError(Exception):
    """A malformed command-line argument (a selection, ``--chunks``, ``--codecs``...)."""
