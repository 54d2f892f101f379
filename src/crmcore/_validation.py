"""Validation at the public boundary (private).

Every helper takes the argument's ``name`` and raises a crmcore error whose
message names the argument, the rule, how many values break it and the first
offending index and value. Public functions call these once; private helpers
trust their inputs.
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any, cast

import numpy as np

from ._typing import ArrayLike, BoolArray, DatetimeArray, FloatArray, IntArray, SeedLike
from .errors import InputError, InputTypeError

__all__ = [
    "as_bool_array",
    "as_datetime_array",
    "as_float_array",
    "as_generator",
    "as_int_array",
    "as_timestamp",
    "check_choice",
    "check_float",
    "check_int",
    "check_same_length",
    "describe_violations",
    "readonly",
    "readonly_copy",
]

_NS = "datetime64[ns]"
# datetime64[ns] holds 1677-09-21 .. 2262-04-11; numpy wraps around silently beyond.
_NS_MIN = _dt.datetime(1677, 9, 22)
_NS_MAX = _dt.datetime(2262, 4, 10)
_RANGE_RULE = "must lie between 1677-09-22 and 2262-04-10 (the range of datetime64[ns])"


def readonly(arr: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Mark an array that crmcore made itself read-only, and return it.

    Only for arrays no caller holds: never pass an array that came in through a
    public argument (use :func:`readonly_copy` for those).
    """
    arr.flags.writeable = False
    return arr


def readonly_copy(arr: ArrayLike) -> np.ndarray[Any, Any]:
    """Return a read-only copy of ``arr``, sharing no memory with the caller's data."""
    out = np.array(arr, copy=True)
    out.flags.writeable = False
    return out


def _check_datetime_range(value: _dt.datetime | _dt.date, name: str) -> None:
    naive = value if isinstance(value, _dt.datetime) else _dt.datetime.combine(value, _dt.time())
    if not _NS_MIN <= naive.replace(tzinfo=None) <= _NS_MAX:
        raise InputError(f"{name} {_RANGE_RULE}; got {value!r}")


def _to_ns(arr: np.ndarray[Any, Any], name: str) -> DatetimeArray:
    """Cast a datetime64 array to nanoseconds, refusing values numpy would wrap around."""
    if arr.dtype == np.dtype(_NS) or arr.size == 0:
        return arr.astype(_NS)
    valid = arr[~np.isnat(arr)]
    if valid.size:
        lo = np.datetime64(_NS_MIN).astype(arr.dtype)
        hi = np.datetime64(_NS_MAX).astype(arr.dtype)
        bad = ~np.isnat(arr) & ((arr < lo) | (arr > hi))
        if bad.any():
            raise InputError(f"{name} {_RANGE_RULE}; {describe_violations(bad, (name, arr))}")
    return arr.astype(_NS)


def describe_violations(bad: BoolArray, *columns: tuple[str, ArrayLike]) -> str:
    """Return ``"k of n values break this (first at index i: a=1.0, b=2.0)"``.

    Parameters
    ----------
    bad : ndarray of bool
        Mask of the offending positions (at least one True).
    *columns : (str, array)
        Named columns whose values at the first offending index are shown.
    """
    idx = np.flatnonzero(bad)
    n_bad, n = idx.size, bad.size
    first = int(idx[0]) if n_bad else -1
    where = f"first at index {first}" if n_bad > 1 else f"at index {first}"
    shown = ", ".join(f"{label}={_fmt(np.asarray(col)[first])}" for label, col in columns)
    detail = f"{where}: {shown}" if shown else where
    verb = "breaks" if n_bad == 1 else "break"
    return f"{n_bad} of {n} values {verb} this ({detail})"


def _fmt(value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def _to_array(x: ArrayLike, name: str) -> np.ndarray[Any, Any]:
    if x is None:
        raise InputTypeError(f"{name} must be array-like, got None")
    if isinstance(x, str | bytes):
        raise InputTypeError(f"{name} must be array-like, got a string {x!r}")
    try:
        return np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise InputTypeError(f"{name} must be array-like: {exc}") from exc


def _check_ndim(arr: np.ndarray[Any, Any], name: str, ndim: int) -> None:
    if arr.ndim != ndim:
        raise InputError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")


def _check_size(arr: np.ndarray[Any, Any], name: str, allow_empty: bool) -> None:
    if not allow_empty and arr.size == 0:
        raise InputError(f"{name} must not be empty")


def as_float_array(
    x: ArrayLike,
    name: str,
    *,
    ndim: int = 1,
    allow_empty: bool = False,
    nonnegative: bool = False,
    positive: bool = False,
    low: float | None = None,
    high: float | None = None,
    allow_nan: bool = False,
) -> FloatArray:
    """Convert ``x`` to a float64 array and check it.

    Booleans are accepted as 0/1. Rejects strings, objects that are not
    numbers, NaN and infinity (NaN only when ``allow_nan``), and values outside
    the stated bounds.
    """
    arr = _to_array(x, name)
    if arr.ndim == 0 and ndim == 1:
        raise InputError(f"{name} must be 1-dimensional, got a scalar {_fmt(arr[()])}")
    _check_ndim(arr, name, ndim)
    _check_size(arr, name, allow_empty)
    if arr.dtype.kind not in "biuf":
        if arr.dtype.kind == "O":
            try:
                arr = arr.astype(np.float64)
            except OverflowError as exc:
                raise InputError(
                    f"{name} must hold numbers within the float range (below 1.8e308): {exc}"
                ) from exc
            except (TypeError, ValueError) as exc:
                raise InputTypeError(
                    f"{name} must hold numbers, got dtype object that does not convert: {exc}"
                ) from exc
        else:
            raise InputTypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
    out = np.asarray(arr, dtype=np.float64)
    flat = out.reshape(-1)
    if allow_nan:
        bad = np.isinf(flat)
        rule = "must not be infinite"
    else:
        bad = ~np.isfinite(flat)
        rule = "must be finite (no NaN or infinity)"
    if bad.any():
        raise InputError(f"{name} {rule}; {describe_violations(bad, (name, flat))}")
    checks: list[tuple[BoolArray, str]] = []
    with np.errstate(invalid="ignore"):
        if positive:
            checks.append((flat <= 0, "must be positive"))
        if nonnegative:
            checks.append((flat < 0, "must be non-negative"))
        if low is not None:
            checks.append((flat < low, f"must be at least {low}"))
        if high is not None:
            checks.append((flat > high, f"must be at most {high}"))
    for mask, rule in checks:
        if mask.any():
            raise InputError(f"{name} {rule}; {describe_violations(mask, (name, flat))}")
    return out


def as_int_array(
    x: ArrayLike,
    name: str,
    *,
    ndim: int = 1,
    allow_empty: bool = False,
    nonnegative: bool = False,
    low: int | None = None,
    high: int | None = None,
) -> IntArray:
    """Convert ``x`` to an int64 array; floats must hold whole numbers."""
    arr = _to_array(x, name)
    if arr.ndim == 0 and ndim == 1:
        raise InputError(f"{name} must be 1-dimensional, got a scalar {_fmt(arr[()])}")
    _check_ndim(arr, name, ndim)
    _check_size(arr, name, allow_empty)
    if arr.dtype.kind in "iub":
        out = arr.astype(np.int64)
    elif arr.dtype.kind in "fO":
        f = as_float_array(arr, name, ndim=ndim, allow_empty=True)
        flat = f.reshape(-1)
        bad = flat != np.round(flat)
        if bad.any():
            raise InputError(
                f"{name} must hold whole numbers; {describe_violations(bad, (name, flat))}"
            )
        out = f.astype(np.int64)
    else:
        raise InputTypeError(f"{name} must hold integers, got dtype {arr.dtype}")
    flat_i = out.reshape(-1)
    if nonnegative and low is None:
        low = 0
    if low is not None and (flat_i < low).any():
        rule = "must be non-negative" if low == 0 else f"must be at least {low}"
        raise InputError(f"{name} {rule}; {describe_violations(flat_i < low, (name, flat_i))}")
    if high is not None and (flat_i > high).any():
        raise InputError(
            f"{name} must be at most {high}; {describe_violations(flat_i > high, (name, flat_i))}"
        )
    return out


def as_bool_array(x: ArrayLike, name: str, *, allow_empty: bool = False) -> BoolArray:
    """Convert ``x`` to a 1-d bool array; only bools or 0/1 numbers are accepted."""
    arr = _to_array(x, name)
    if arr.ndim == 0:
        raise InputError(f"{name} must be 1-dimensional, got a scalar {_fmt(arr[()])}")
    _check_ndim(arr, name, 1)
    _check_size(arr, name, allow_empty)
    if arr.dtype.kind == "b":
        return arr.astype(np.bool_)
    if arr.dtype.kind in "iufO":
        f = as_float_array(arr, name, allow_empty=True)
        bad = (f != 0) & (f != 1)
        if bad.any():
            raise InputError(
                f"{name} must hold booleans (or 0/1); {describe_violations(bad, (name, f))}"
            )
        return f.astype(np.bool_)
    raise InputTypeError(f"{name} must hold booleans, got dtype {arr.dtype}")


def check_same_length(*named: tuple[str, np.ndarray[Any, Any] | Sequence[Any]]) -> int:
    """Check that all named arrays have the same length; return it."""
    lengths = [(label, len(arr)) for label, arr in named]
    first_label, n = lengths[0]
    for label, m in lengths[1:]:
        if m != n:
            raise InputError(f"{label} must have the same length as {first_label}; got {m} and {n}")
    return n


def check_float(
    x: object,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    allow_inf: bool = False,
) -> float:
    """Check a real scalar and return it as ``float``."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise InputTypeError(f"{name} must be a real number, got {type(x).__name__} {x!r}")
    try:
        value = float(x)
    except OverflowError:
        raise InputError(
            f"{name} must be finite, got {type(x).__name__} beyond the float range (1.8e308)"
        ) from None
    if math.isnan(value) or (math.isinf(value) and not allow_inf):
        raise InputError(f"{name} must be finite, got {value!r}")
    if low is not None and (value < low or (low_open and value == low)):
        op = ">" if low_open else ">="
        raise InputError(f"{name} must be {op} {low}, got {value!r}")
    if high is not None and (value > high or (high_open and value == high)):
        op = "<" if high_open else "<="
        raise InputError(f"{name} must be {op} {high}, got {value!r}")
    return value


def check_int(x: object, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """Check an integer scalar (``bool`` is refused) and return it as ``int``."""
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise InputTypeError(f"{name} must be an integer, got {type(x).__name__} {x!r}")
    value = int(x)
    if low is not None and value < low:
        raise InputError(f"{name} must be >= {low}, got {value}")
    if high is not None and value > high:
        raise InputError(f"{name} must be <= {high}, got {value}")
    return value


def check_choice(x: object, name: str, choices: Iterable[str]) -> str:
    """Check that ``x`` is one of the allowed strings and return it."""
    options = tuple(choices)
    if not isinstance(x, str) or x not in options:
        listed = ", ".join(repr(c) for c in options)
        raise InputError(f"{name} must be one of {listed}; got {x!r}")
    return x


def as_generator(rng: SeedLike, name: str = "rng") -> np.random.Generator:
    """Turn an int seed or a Generator into a Generator; ``None`` is refused.

    Randomness is always explicit in crmcore: pass a seed for reproducible
    results.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    seed: object = rng
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise InputTypeError(
            f"{name} must be an int seed or a numpy.random.Generator, got {type(seed).__name__}"
        )
    if int(seed) < 0:
        raise InputError(f"{name} must be a non-negative seed, got {int(seed)}")
    return np.random.default_rng(int(seed))


def as_timestamp(x: object, name: str) -> np.datetime64:
    """Convert one point in time to ``numpy.datetime64[ns]`` in UTC.

    Accepts an aware ``datetime`` (converted to UTC), a naive ``datetime``,
    ``date``, ``numpy.datetime64`` or ISO string (all taken as UTC) and a
    pandas ``Timestamp`` (a ``datetime``).
    """
    if isinstance(x, _dt.datetime):
        if x.tzinfo is not None and x.utcoffset() is not None:
            x = x.astimezone(_dt.UTC).replace(tzinfo=None)
        _check_datetime_range(x, name)
        return np.datetime64(x.replace(tzinfo=None), "ns")
    if isinstance(x, _dt.date):
        _check_datetime_range(x, name)
        return np.datetime64(x, "ns")
    if isinstance(x, np.datetime64):
        if np.isnat(x):
            raise InputError(f"{name} must be a point in time, got NaT")
        return cast(np.datetime64, _to_ns(np.asarray(x).reshape(1), name)[0])
    if isinstance(x, str):
        try:
            value = np.datetime64(x, "ns")
        except ValueError as exc:
            raise InputError(f"{name} must be an ISO date or datetime, got {x!r}") from exc
        if np.isnat(value):
            raise InputError(f"{name} must be a point in time, got {x!r}")
        return value
    raise InputTypeError(
        f"{name} must be a datetime, date, numpy.datetime64 or ISO string, got {type(x).__name__}"
    )


def as_datetime_array(x: ArrayLike, name: str, *, allow_empty: bool = True) -> DatetimeArray:
    """Convert timestamps to a 1-d ``datetime64[ns]`` array in UTC.

    numpy ``datetime64`` values and naive ``datetime`` objects are taken as UTC;
    timezone-aware ``datetime`` objects and timezone-aware pandas columns are
    converted to UTC. Mixing naive and aware values, NaT and non-time values
    are errors.
    """
    dtype = getattr(x, "dtype", None)
    # A timezone-aware pandas column: convert to UTC, then drop the zone.
    if dtype is not None and getattr(dtype, "tz", None) is not None:
        converted = cast(Any, x).dt.tz_convert("UTC").dt.tz_localize(None)
        return as_datetime_array(converted.to_numpy(), name, allow_empty=allow_empty)
    # A timezone-aware polars column: same.
    if dtype is not None and getattr(dtype, "time_zone", None) is not None:
        converted = cast(Any, x).dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        return as_datetime_array(converted.to_numpy(), name, allow_empty=allow_empty)
    arr = _to_array(x, name)
    if arr.ndim != 1:
        raise InputError(f"{name} must be 1-dimensional, got shape {arr.shape}")
    _check_size(arr, name, allow_empty)
    if arr.dtype.kind == "M":
        out = _to_ns(arr, name)
    elif arr.dtype.kind in {"O", "U"}:
        out = _object_times_to_utc(arr, name)
    else:
        raise InputTypeError(
            f"{name} must hold datetimes (numpy datetime64 or datetime objects), "
            f"got dtype {arr.dtype}"
        )
    bad = np.isnat(out)
    if bad.any():
        raise InputError(
            f"{name} must not hold missing times (NaT); {describe_violations(bad, (name, out))}"
        )
    return out


def _object_times_to_utc(arr: np.ndarray[Any, Any], name: str) -> DatetimeArray:
    if arr.size == 0:
        return np.empty(0, dtype=_NS)
    if arr.dtype.kind == "U":
        try:
            return arr.astype(_NS)
        except ValueError as exc:
            raise InputError(f"{name} must hold ISO datetimes: {exc}") from exc
    aware = np.fromiter(
        (isinstance(v, _dt.datetime) and v.utcoffset() is not None for v in arr),
        dtype=np.bool_,
        count=arr.size,
    )
    if aware.any() and not aware.all():
        first_naive = int(np.flatnonzero(~aware)[0])
        raise InputError(
            f"{name} mixes timezone-aware and naive datetimes; {int((~aware).sum())} of "
            f"{arr.size} are naive (first at index {first_naive}: {arr[first_naive]!r}); "
            "make them all aware or all naive (naive values are taken as UTC)"
        )
    values: list[Any] = []
    for i, v in enumerate(arr):
        if isinstance(v, _dt.datetime):
            naive = v.astimezone(_dt.UTC).replace(tzinfo=None) if aware[i] else v
            _check_datetime_range(naive, f"{name}[{i}]")
            values.append(np.datetime64(naive, "ns"))
        elif isinstance(v, _dt.date):
            _check_datetime_range(v, f"{name}[{i}]")
            values.append(np.datetime64(v, "ns"))
        elif isinstance(v, np.datetime64):
            values.append(_to_ns(np.asarray(v).reshape(1), f"{name}[{i}]")[0])
        else:
            raise InputTypeError(
                f"{name} must hold datetimes; found {type(v).__name__} {v!r} at index {i}"
            )
    return np.array(values, dtype=_NS)


def as_histories(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    allow_empty: bool = False,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Check buy-till-you-die histories (x, t_x, T) and return float64 arrays.

    Rules (Fader, Hardie & Lee 2005): ``frequency`` is a whole number >= 0,
    ``0 <= recency <= T``, and ``recency == 0`` where ``frequency == 0``.
    """
    x = as_int_array(frequency, "frequency", allow_empty=allow_empty, nonnegative=True)
    tx = as_float_array(recency, "recency", allow_empty=allow_empty, nonnegative=True)
    t = as_float_array(T, "T", allow_empty=allow_empty, nonnegative=True)
    check_same_length(("frequency", x), ("recency", tx), ("T", t))
    bad = tx > t
    if bad.any():
        raise InputError(
            "recency must not exceed T; "
            + describe_violations(bad, ("recency", tx), ("T", t)).replace("values", "customers")
        )
    bad = (x == 0) & (tx > 0)
    if bad.any():
        raise InputError(
            "recency must be 0 where frequency is 0 (no repeat purchase); "
            + describe_violations(bad, ("frequency", x), ("recency", tx)).replace(
                "values", "customers"
            )
        )
    return x.astype(np.float64), tx, t
