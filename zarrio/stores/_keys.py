"""What a store key may be: the checks every built-in store makes on the keys it receives."""

from __future__ import annotations

from ..errors import InvalidKeyError

__all__ = ["validate_key", "validate_prefix"]


def validate_key(key: str) -> str:
    """Return ``key`` if it is a clean relative key, else raise InvalidKeyError.

    Refused: empty keys, absolute keys, backslashes, NUL, and empty, ``.`` or
    ``..`` segments. Every built-in store calls this on every key it receives.
    """
    if not isinstance(key, str):
        raise InvalidKeyError(f"store keys are str, not {type(key).__name__}", key=repr(key))
    if not key:
        raise InvalidKeyError("empty store key", key=key)
    if "\\" in key or "\x00" in key:
        raise InvalidKeyError("store keys may not contain backslashes or NUL", key=key)
    if key[0] == "/" or (key[1:2] == ":" and key[0].isascii() and key[0].isalpha()):
        raise InvalidKeyError("store keys must be relative", key=key)
    # cheap tests first (this runs on every key of every store call); segments only when a dot is there
    if key[-1] == "/" or "//" in key or ("." in key and any(s in (".", "..") for s in key.split("/"))):
        raise InvalidKeyError("store keys may not have empty, '.' or '..' segments", key=key)
    return key


def validate_prefix(prefix: str) -> str:
    """Validate a listing prefix: ``""`` (the root) or a key, optionally ending in ``/``."""
    if prefix == "":
        return prefix
    validate_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix
