"""Helpers shared by the metric modules: scale-safe sums and means, one customer as numbers."""

from __future__ import annotations

import math
import numbers
from typing import Any, cast

import numpy as np

from crmcore import _validation as v
from crmcore._typing import ArrayLike, FloatArray
from crmcore.errors import InputError

__all__ = ["finish_labels", "is_single", "ndim_of", "pow2_scale", "scaled_mean", "single_customer"]


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


def is_single(value: object) -> bool:
    """Return whether ``value`` is one value: a Python or numpy scalar, or a 0-d array.

    Strings, bytes and None are not (the validators refuse them with their own
    message).

    Examples
    --------
    >>> is_single(2), is_single(np.float64(2.0)), is_single(np.array(2.0)), is_single(True)
    (True, True, True, True)
    >>> is_single([2]), is_single("2"), is_single(None)
    (False, False, False)
    """
    if isinstance(value, numbers.Number):  # Python and numpy scalars (the common case)
        return True
    if value is None or isinstance(value, str | bytes):
        return False
    try:
        return bool(np.ndim(cast(Any, value)) == 0)
    except (ValueError, TypeError):  # ragged nested sequences: the validators report them
        return False


def single_customer(*named: tuple[str, object]) -> tuple[tuple[Any, ...], bool]:
    """Sort out one customer given as single values from many given as arrays.

    ``named`` holds (argument name, value) pairs of the per-customer arguments
    of a call; None values (arguments left out) are passed through and do not
    count. When every other value is a single number (see :func:`is_single`),
    they come back as one-element arrays and the flag is True: the call is
    about one customer and its result is unwrapped (see
    :func:`finish_labels`). When none is, they come back unchanged and the
    flag is False. A mix of single values and arrays is ambiguous (one
    customer, or one value for every customer?) and raises an InputError
    naming both kinds: there is no broadcasting of a single value.

    Examples
    --------
    >>> single_customer(("n", 3), ("t", np.array(2.5)), ("flag", None))
    ((array([3]), array([2.5]), None), True)
    >>> single_customer(("n", [3]), ("t", [2.5]))
    (([3], [2.5]), False)
    >>> single_customer(("n", 3), ("t", [2.5, 1.0]))
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: n and t must all be single values (one customer) or all arrays ...
    """
    given = [(name, x) for name, x in named if x is not None]
    singles = [name for name, x in given if is_single(x)]
    values = tuple(x for _, x in named)
    if not singles:
        return values, False
    if len(singles) < len(given):
        arrays = [name for name, x in given if name not in singles]
        names = [name for name, _ in given]
        listed = ", ".join(names[:-1]) + " and " + names[-1]
        raise InputError(
            f"{listed} must all be single values (one customer) or all arrays (one value per "
            f"customer); got single values for {', '.join(singles)} and arrays for "
            f"{', '.join(arrays)}: pass arrays of equal length for several customers"
        )
    return tuple(None if x is None else np.array([x]) for x in values), True


def finish_labels(
    labels: np.ndarray[Any, np.dtype[np.str_]], single: bool
) -> str | np.ndarray[Any, np.dtype[np.str_]]:
    """Return the label of one customer as a Python str, or the labels of many as they are.

    Examples
    --------
    >>> finish_labels(np.array(["loyal"]), True)
    'loyal'
    >>> finish_labels(np.array(["loyal"]), False)
    array(['loyal'], dtype='<U5')
    """
    if not single:
        return labels
    return str(labels.reshape(-1)[0])
