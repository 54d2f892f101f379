"""Numeric helpers shared by the metric modules: scale-safe sums and means."""

from __future__ import annotations

import math

import numpy as np

from crmcore import _validation as v
from crmcore._typing import ArrayLike, FloatArray

__all__ = ["ndim_of", "pow2_scale", "scaled_mean"]


def pow2_scale(x: FloatArray) -> float:
    """Return a power of two in ``(max |x| / 2, max |x|]`` (1.0 for all-zero or empty ``x``).

    Dividing by a power of two is exact (outside the subnormal range), so sums
    and shares of ``x / scale`` equal those of ``x`` bit for bit where the
    latter do not overflow, and ``n`` values of magnitude below 2 never
    overflow a sum.
    """
    if x.size == 0:
        return 1.0
    top = float(np.max(np.abs(x)))
    if not top > 0 or not math.isfinite(top):
        return 1.0
    _, exponent = math.frexp(top)  # top = mantissa * 2**exponent, mantissa in [0.5, 1)
    return math.ldexp(1.0, exponent - 1)


def scaled_mean(x: FloatArray) -> float:
    """Return the mean of finite values without overflow in the sum (e.g. values near 1e308)."""
    scale = pow2_scale(x)
    mean = float(np.mean(x / scale)) * scale
    # rounding of the sum must not carry the mean past the extreme values
    return min(max(mean, float(np.min(x))), float(np.max(x)))


def ndim_of(x: ArrayLike, name: str) -> int:
    """``numpy.ndim`` of an argument, refusing ragged nested lists with an InputError."""
    return v.ndim_of(x, name)
