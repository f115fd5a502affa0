"""Finite float64 values to a float type under one of cast_value's rounding modes.

The result is what rounding with an unbounded exponent range gives, as zarr-python's cast_value
(cast-value-rs) computes it: NumPy's (or ml_dtypes') conversion rounds to nearest-even, and a
directed mode then steps the results that went the wrong way by one value of the target type.
A value whose rounded magnitude exceeds the type's largest finite value is out of range
(:func:`out_of_range`): the caller decides what becomes of it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["finite_max", "out_of_range", "rounded_to"]

_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def finite_max(dtype: np.dtype[Any]) -> float:
    """The largest finite value of a float ``dtype`` (ml_dtypes' ``finfo`` knows the low-precision ones)."""
    if dtype.kind == "f":
        return float(np.finfo(dtype).max)
    import ml_dtypes

    return float(ml_dtypes.finfo(dtype).max)  # type: ignore[no-untyped-call]


def _sign_mask(dtype: np.dtype[Any]) -> int:
    """The sign bit of ``dtype``'s patterns (0 for a type without negative values, float8_e8m0fnu)."""
    with np.errstate(invalid="ignore", over="ignore"):
        plus, minus = np.array([1.0, -1.0]).astype(dtype)
    if np.isnan(float(minus)):
        return 0
    patterns = np.array([plus, minus], dtype=dtype).view(_UNSIGNED[dtype.itemsize])
    return int(patterns[0] ^ patterns[1])


def _ulp_at_max(dtype: np.dtype[Any]) -> float:
    top = np.array([finite_max(dtype)], dtype=dtype)
    below = _step(top, np.array([False]))
    return finite_max(dtype) - float(below.astype(np.float64)[0])


def _step(values: np.ndarray[Any, Any], up: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Each value moved to the next value of its type towards +inf (``up``) or -inf: on the patterns,
    the magnitude grows or shrinks by one; from a zero, the smallest value of the other sign."""
    unsigned = np.dtype(_UNSIGNED[values.dtype.itemsize])
    sign_bit = _sign_mask(values.dtype)
    bits = values.view(unsigned).copy()
    negative = (bits & np.array(sign_bit, dtype=unsigned)) != 0
    magnitude = bits & np.array(((1 << (8 * unsigned.itemsize)) - 1) ^ sign_bit, dtype=unsigned)
    one = np.array(1, dtype=unsigned)
    grow = np.where(negative, ~up, up)
    zero = magnitude == 0
    bits = np.where(grow, bits + one, np.where(zero, bits, bits - one))
    if sign_bit:  # shrinking past a zero crosses to the other sign's smallest value
        smallest = np.where(negative, one, np.array(sign_bit | 1, dtype=unsigned))
        bits = np.where(zero & ~grow, smallest, bits)
    stepped: np.ndarray[Any, Any] = bits.astype(unsigned).view(values.dtype)
    return stepped


def out_of_range(x: np.ndarray[Any, Any], dtype: np.dtype[Any], mode: str) -> np.ndarray[Any, Any]:
    """Which finite float64 ``x`` round (by ``mode``) past the largest finite value of ``dtype``."""
    top = finite_max(dtype)
    ulp = _ulp_at_max(dtype)
    if mode in ("nearest-even", "nearest-away"):  # the tie at top + ulp/2 rounds to the next binade
        outside: np.ndarray[Any, Any] = np.abs(x) >= top + ulp / 2
    elif mode == "towards-zero":
        outside = np.abs(x) >= top + ulp
    elif mode == "towards-positive":
        outside = (x > top) | (x <= -(top + ulp))
    else:
        outside = (x < -top) | (x >= top + ulp)
    return outside


def rounded_to(x: np.ndarray[Any, Any], dtype: np.dtype[Any], mode: str) -> np.ndarray[Any, Any]:
    """Finite float64 ``x``, none of them :func:`out_of_range`, as ``dtype`` rounded by ``mode``."""
    top = finite_max(dtype)
    result: np.ndarray[Any, Any] = np.clip(x, -top, top).astype(dtype)  # past the top: the top, by the mode
    if mode == "nearest-even" or x.size == 0:
        return result
    back = result.astype(np.float64)
    if mode == "towards-zero":
        wrong, up = np.abs(back) > np.abs(x), back < x
    elif mode == "towards-positive":
        wrong, up = back < x, np.ones(x.shape, dtype=bool)
    elif mode == "towards-negative":
        wrong, up = back > x, np.zeros(x.shape, dtype=bool)
    else:  # nearest-away: only a tie that went towards zero is wrong
        away = x > 0
        other = _step(result, away).astype(np.float64)
        wrong, up = (np.abs(back) < np.abs(x)) & (x == (back + other) / 2), away
    if wrong.any():
        result = np.where(wrong, _step(result, up), result)
    return result
