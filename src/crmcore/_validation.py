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
import re
import warnings
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar, cast

import numpy as np

from ._typing import ArrayLike, BoolArray, DatetimeArray, FloatArray, IntArray, SeedLike
from .errors import InputError, InputTypeError

__all__ = [
    "as_bool_array",
    "as_datetime_array",
    "as_float_array",
    "as_generator",
    "as_int_array",
    "as_row_selection",
    "as_sequence_of",
    "as_timestamp",
    "check_choice",
    "check_float",
    "check_int",
    "check_same_length",
    "describe_violations",
    "readonly",
    "readonly_copy",
    "span_between",
]

_T = TypeVar("_T")
_NS = "datetime64[ns]"
# datetime64[ns] holds 1677-09-21 .. 2262-04-11 and numpy wraps around silently beyond.
# crmcore accepts whole years inside that range, so that the start of every calendar
# period (hour .. year) holding an accepted time is representable too.
_NS_MIN = _dt.datetime(1678, 1, 1)
_NS_END = _dt.datetime(2262, 1, 1)  # exclusive
_NS_LOW = np.datetime64("1678-01-01")
_NS_HIGH = np.datetime64("2261-12-31T23:59:59.999999999")
_RANGE_RULE = (
    "must lie between 1678-01-01 and 2261-12-31 (inside the range of numpy's datetime64[ns])"
)
_FINER_THAN_NS = frozenset({"ps", "fs", "as"})
# Integers above this round to infinity (or overflow) as float64.
_FLOAT_MAX_INT = int(np.finfo(np.float64).max)
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


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
    if not _NS_MIN <= naive.replace(tzinfo=None) < _NS_END:
        raise InputError(f"{name} {_RANGE_RULE}; got {value!r}")


def _to_ns(arr: np.ndarray[Any, Any], name: str, out: DatetimeArray | None = None) -> DatetimeArray:
    """Cast a datetime64 array to nanoseconds, refusing values outside the accepted range.

    The comparison runs in the array's own unit (casting first would wrap around).
    With ``out`` (nanoseconds, the shape of ``arr``), the cast is written into it.
    """
    if arr.size:
        unit, _ = np.datetime_data(arr.dtype)
        if unit not in _FINER_THAN_NS:  # those hold only ~100 days around 1970: always inside
            lo = _NS_LOW.astype(arr.dtype)
            if lo.astype("datetime64[D]") < _NS_LOW:  # a coarse unit starting before the bound
                lo = lo + np.timedelta64(1, cast(Any, unit))
            hi = _NS_HIGH.astype(arr.dtype)
            # two reductions settle the common case (a NaT propagates through min and
            # max and fails it: the masks then say which values are out of range)
            inside = bool(arr.min() >= lo) and bool(arr.max() <= hi)
            bad = None if inside else ~np.isnat(arr) & ((arr < lo) | (arr > hi))
            if bad is not None and bad.any():
                raise InputError(f"{name} {_RANGE_RULE}; {describe_violations(bad, (name, arr))}")
    if out is not None:
        np.copyto(out, arr, casting="unsafe")  # the cast of astype, into memory given
        return out
    return arr.astype(_NS)


# An ISO time of day, optionally followed by a UTC offset: Z, +hh, +hhmm or +hh:mm.
_ISO_TIME = re.compile(
    r"(?P<time>[^+\-Zz]*)(?P<offset>[Zz]|(?P<sign>[+-])(?P<hh>\d{2}):?(?P<mm>\d{2})?)?"
)


def _parse_iso(text: str, name: str) -> tuple[np.datetime64, bool]:
    """Parse an ISO date or datetime to datetime64 in UTC (in the string's own unit).

    Returns the time and whether the string carried a UTC offset. Offsets are
    applied here: numpy would warn about them.
    """
    stripped = text.strip()
    date, sep, clock = stripped.partition("T") if "T" in stripped else stripped.partition(" ")
    offset_minutes: int | None = None
    if sep:
        match = _ISO_TIME.fullmatch(clock)
        if match is not None and match["offset"]:
            clock = match["time"]
            if match["sign"] is None:
                offset_minutes = 0
            else:
                size = int(match["hh"]) * 60 + int(match["mm"] or 0)
                offset_minutes = size if match["sign"] == "+" else -size
    base = f"{date}T{clock}" if sep else date
    hint = "an ISO date or datetime such as '2024-05-01' or '2024-05-01T09:30+02:00'"
    if base.lower() in {"now", "today"}:
        raise InputError(f"{name} must be {hint}; got {text!r} (crmcore never reads the clock)")
    try:
        value = np.datetime64(base)
    except ValueError as exc:
        raise InputError(f"{name} must be {hint}; got {text!r}") from exc
    if np.isnat(value):
        raise InputError(f"{name} must be a point in time, got {text!r}")
    if offset_minutes:
        value = value - np.timedelta64(offset_minutes, "m")
    return value, offset_minutes is not None


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
    if isinstance(value, int) and abs(value) >= 10**30:
        return _huge_int(value)
    return repr(value)


def _huge_int(value: int) -> str:
    """Describe an integer too long to print (str() refuses past 4300 digits)."""
    digits = int(abs(value).bit_length() * math.log10(2)) + 1
    return f"an integer of about {digits} digits"


def _to_array(x: ArrayLike, name: str) -> np.ndarray[Any, Any]:
    if x is None:
        raise InputTypeError(f"{name} must be array-like, got None")
    if isinstance(x, str | bytes):
        raise InputTypeError(f"{name} must be array-like, got a string {x!r}")
    try:
        return np.asarray(x)
    except ValueError as exc:  # numpy's message for ragged nested sequences
        raise InputError(
            f"{name} must be a flat sequence (or rows of equal length); got ragged nested "
            f"sequences: {exc}"
        ) from exc
    except TypeError as exc:
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
            nested = np.fromiter(
                (isinstance(e, list | tuple | np.ndarray) for e in arr.reshape(-1)),
                dtype=np.bool_,
                count=arr.size,
            )
            if nested.any():
                first = int(np.flatnonzero(nested)[0])
                raise InputError(
                    f"{name} must hold numbers, not nested sequences; "
                    f"{int(nested.sum())} of {arr.size} values are sequences "
                    f"(first at index {first}: {arr.reshape(-1)[first]!r})"
                )
            big = np.fromiter(
                (
                    isinstance(e, numbers.Integral) and abs(int(e)) > _FLOAT_MAX_INT
                    for e in arr.flat
                ),
                dtype=np.bool_,
                count=arr.size,
            )
            if big.any():
                raise InputError(
                    f"{name} must be finite numbers (within the float range, about 1.8e308); "
                    + describe_violations(big.reshape(-1), (name, arr.reshape(-1)))
                )
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
    int64_rule = f"{name} must fit in a 64-bit integer (|value| < 2**63)"
    if arr.dtype.kind == "u" and arr.dtype.itemsize == 8:
        big = arr.reshape(-1) > np.uint64(_INT64_MAX)
        if big.any():
            raise InputError(f"{int64_rule}; {describe_violations(big, (name, arr.reshape(-1)))}")
    if arr.dtype.kind in "iub":
        out = arr.astype(np.int64)
    elif arr.dtype.kind in "fO":
        if arr.dtype.kind == "O":
            # exact integers beyond int64 (but inside float range) would round on the way
            flat_o = arr.reshape(-1)
            big = np.fromiter(
                (
                    isinstance(e, numbers.Integral) and not _INT64_MIN <= int(e) <= _INT64_MAX
                    for e in flat_o
                ),
                dtype=np.bool_,
                count=flat_o.size,
            )
            if big.any():
                raise InputError(f"{int64_rule}; {describe_violations(big, (name, flat_o))}")
        f = as_float_array(arr, name, ndim=ndim, allow_empty=True)
        flat = f.reshape(-1)
        bad = flat != np.round(flat)
        if bad.any():
            raise InputError(
                f"{name} must hold whole numbers; {describe_violations(bad, (name, flat))}"
            )
        # 2**63 itself is a float64 but not an int64: the bound is exclusive
        big = (flat >= 2.0**63) | (flat < -(2.0**63))
        if big.any():
            raise InputError(f"{int64_rule}; {describe_violations(big, (name, flat))}")
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
    except OverflowError as exc:  # an int beyond the float range, such as 10**400
        raise InputError(
            f"{name} must be a finite number within the float range (about 1.8e308), "
            f"got {_huge_int(int(cast(Any, x)))}"
        ) from exc
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
    if not _INT64_MIN <= value <= _INT64_MAX:
        shown = _fmt(value)
        raise InputError(f"{name} must fit in a 64-bit integer (|value| < 2**63), got {shown}")
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


def _is_nat_datetime(x: _dt.datetime) -> bool:
    """pandas.NaT is a ``datetime`` that equals nothing, not even itself."""
    return bool(x != x)  # noqa: PLR0124 - the self-comparison is the test


def as_timestamp(x: object, name: str) -> np.datetime64:
    """Convert one point in time to ``numpy.datetime64[ns]`` in UTC.

    Accepts an aware ``datetime`` (converted to UTC), a naive ``datetime``,
    ``date``, ``numpy.datetime64`` of any unit (or a 0-d array of one) or ISO
    string (all taken as UTC; an ISO string's UTC offset is applied) and a
    pandas ``Timestamp`` (a ``datetime``). Missing times (NaT) and times
    outside 1678-01-01 .. 2261-12-31 are refused.
    """
    if isinstance(x, np.ndarray) and x.ndim == 0 and x.dtype.kind in "MU":
        x = x[()]
    if isinstance(x, _dt.datetime):
        if _is_nat_datetime(x):
            raise InputError(f"{name} must be a point in time, got NaT")
        if x.tzinfo is not None and x.utcoffset() is not None:
            x = x.astimezone(_dt.UTC).replace(tzinfo=None)
        _check_datetime_range(x, name)
        return np.datetime64(x.replace(tzinfo=None), "ns")
    if isinstance(x, _dt.date):
        _check_datetime_range(x, name)
        return np.datetime64(x, "ns")
    if isinstance(x, str):
        x, _ = _parse_iso(x, name)
    if isinstance(x, np.datetime64):
        if np.isnat(x):
            raise InputError(f"{name} must be a point in time, got NaT")
        return cast(np.datetime64, _to_ns(np.asarray(x).reshape(1), name)[0])
    raise InputTypeError(
        f"{name} must be a datetime, date, numpy.datetime64 or ISO string, got {type(x).__name__}"
    )


def as_datetime_array(
    x: ArrayLike, name: str, *, allow_empty: bool = True, into: DatetimeArray | None = None
) -> DatetimeArray:
    """Convert timestamps to a 1-d ``datetime64[ns]`` array in UTC.

    numpy ``datetime64`` values and naive ``datetime`` objects are taken as UTC;
    timezone-aware ``datetime`` objects and timezone-aware pandas columns are
    converted to UTC. Mixing naive and aware values, NaT and non-time values
    are errors. With ``into`` (a ``datetime64[ns]`` array), numpy datetimes of
    its length are converted into it (no fresh array), and it is returned.
    """
    arr = _to_array(utc_naive(x), name)
    if arr.ndim != 1:
        raise InputError(f"{name} must be 1-dimensional, got shape {arr.shape}")
    _check_size(arr, name, allow_empty)
    if arr.dtype.kind == "M":
        out = _to_ns(arr, name, into if into is not None and into.shape == arr.shape else None)
    elif arr.dtype.kind == "U":
        out = _iso_strings_to_utc(arr, name)
    elif arr.dtype.kind == "O":
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


def _iso_strings_to_utc(arr: np.ndarray[Any, Any], name: str) -> DatetimeArray:
    """ISO strings to UTC: numpy's vectorised parser, or one by one for offsets and errors."""
    if arr.size == 0:
        return np.empty(0, dtype=_NS)
    natural: np.ndarray[Any, Any] | None = None
    with warnings.catch_warnings():
        # numpy warns about (deprecated) UTC offsets: those go the careful way below
        warnings.simplefilter("error")
        try:
            natural = arr.astype("datetime64")
        except (ValueError, UserWarning, DeprecationWarning):
            natural = None
    clock = np.isin(np.char.lower(np.char.strip(arr)), ("now", "today"))
    if natural is None or clock.any():
        return _object_times_to_utc(arr, name)
    return _to_ns(natural, name)


def _object_times_to_utc(arr: np.ndarray[Any, Any], name: str) -> DatetimeArray:
    if arr.size == 0:
        return np.empty(0, dtype=_NS)
    parsed: dict[int, np.datetime64] = {}
    aware_strings: set[int] = set()
    for i, v in enumerate(arr.tolist() if arr.dtype.kind == "U" else arr):
        if isinstance(v, str):
            parsed[i], is_aware = _parse_iso(v, f"{name}[{i}]")
            if is_aware:
                aware_strings.add(i)
    aware = np.fromiter(
        (
            i in aware_strings
            or (
                isinstance(v, _dt.datetime)
                and not _is_nat_datetime(v)
                and v.utcoffset() is not None
            )
            for i, v in enumerate(arr)
        ),
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
        if i in parsed:
            values.append(_to_ns(np.asarray(parsed[i]).reshape(1), f"{name}[{i}]")[0])
        elif (
            v is None
            or (isinstance(v, float) and math.isnan(v))
            or (isinstance(v, _dt.datetime) and _is_nat_datetime(v))
        ):
            values.append(np.datetime64("NaT", "ns"))  # reported as missing by the caller
        elif isinstance(v, _dt.datetime):
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
    fast = _histories_fast(frequency, recency, T)
    if fast is not None:
        return fast
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


def _whole_float_copy(counts: np.ndarray[Any, Any]) -> FloatArray | None:
    """Return int64 or float64 counts >= 0 as a new float64 array, None unless whole and < 2**63."""
    if counts.dtype.kind != "f":
        converted: FloatArray = counts.astype(np.float64)
        return converted
    if not counts.max() < 2.0**63:
        return None
    x: FloatArray = np.floor(counts)  # the one new array
    if not np.array_equal(x, counts):
        return None
    x += 0.0  # -0.0 becomes 0.0, as through int64
    return x


def _histories_fast(
    frequency: object, recency: object, T: object
) -> tuple[FloatArray, FloatArray, FloatArray] | None:
    """Return what :func:`as_histories` returns when valid 1-d arrays prove so cheaply, else None.

    For non-empty int64 or float64 ``frequency`` and float64 ``recency`` and
    ``T`` of one length, a few reductions decide that every rule holds (NaN
    fails every comparison, so it drops to the full check); anything else,
    including every invalid input, returns None and the full check builds the
    message. The result is the one of the full check: a new float64 array of
    the counts (-0.0 read as 0.0), and ``recency`` and ``T`` as given.
    """
    if not (
        type(frequency) is np.ndarray
        and type(recency) is np.ndarray
        and type(T) is np.ndarray
        and frequency.ndim == recency.ndim == T.ndim == 1
        and frequency.dtype.kind in "if"
        and frequency.dtype.itemsize == 8
        and recency.dtype == np.float64
        and T.dtype == np.float64
        and 0 < frequency.size == recency.size == T.size
    ):
        return None
    with np.errstate(invalid="ignore"):
        if not (recency.min() >= 0.0 and T.max() < np.inf and frequency.min() >= 0):
            return None
        x = _whole_float_copy(frequency)
        if x is None or not np.less_equal(recency, T).all():
            return None
        zero = x == 0.0
        if zero.any() and np.logical_and(zero, recency > 0.0, out=zero).any():
            return None
    return x, recency, T


_SPAN_UNIT_NS = {
    "W": 7 * 86_400 * 10**9,
    "D": 86_400 * 10**9,
    "h": 3_600 * 10**9,
    "m": 60 * 10**9,
    "s": 10**9,
    "ms": 10**6,
    "us": 10**3,
    "ns": 1,
}
_DAY_NS = 86_400 * 10**9


def span_between(
    start: DatetimeArray | np.datetime64, end: DatetimeArray | np.datetime64, unit: str
) -> FloatArray:
    """Return ``end - start`` in ``unit`` as float64, without int64 overflow.

    Subtracting two ``datetime64[ns]`` values overflows int64 (and numpy wraps
    around silently) when they lie more than about 292 years apart, which
    happens inside the range crmcore accepts. Here each time is split into
    whole days and the nanoseconds within the day; both differences are exact
    in int64 and are combined in float days.

    Parameters
    ----------
    start, end : datetime64[ns] arrays or scalars
        Valid (not NaT) times; broadcast against each other.
    unit : {"W", "D", "h", "m", "s", "ms", "us", "ns"}
        Unit of the result (fixed-length units only: months and years have no
        fixed length).

    Returns
    -------
    ndarray of float64
        The signed span (negative where ``end`` is before ``start``).

    Examples
    --------
    >>> import numpy as np
    >>> a = np.datetime64("1700-01-01", "ns")
    >>> b = np.datetime64("2200-01-01", "ns")
    >>> float(span_between(a, b, "D"))
    182621.0
    >>> span_between(a, b, "M")
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: unit must be one of 'W', 'D', 'h', 'm', 's', 'ms', 'us', ...
    """
    check_choice(unit, "unit", _SPAN_UNIT_NS)
    s = np.asarray(start, dtype=_NS).astype(np.int64)
    e = np.asarray(end, dtype=_NS).astype(np.int64)
    s_day, s_rest = np.divmod(s, _DAY_NS)
    e_day, e_rest = np.divmod(e, _DAY_NS)
    days = (e_day - s_day).astype(np.float64) + (e_rest - s_rest) / _DAY_NS
    unit_ns = _SPAN_UNIT_NS[unit]
    # integer ratios both ways, so that whole days give exact weeks or hours
    out: FloatArray = (
        days / (unit_ns // _DAY_NS) if unit_ns >= _DAY_NS else days * (_DAY_NS // unit_ns)
    )
    return out


def as_row_selection(
    rows: object, n: int, name: str = "rows", *, increasing: bool = False
) -> IntArray:
    """Check a selection of rows (a boolean mask or integer indices); return the indices.

    A mask must have ``n`` values; indices must lie in ``0..n-1`` (negative
    indices are refused) and must not repeat. With ``increasing`` the indices
    must also be in increasing order (for containers sorted by a key).
    """
    if rows is None:
        raise InputTypeError(f"{name} must be a boolean mask or integer indices, got None")
    arr = _to_array(cast(ArrayLike, rows), name)
    if arr.ndim != 1:
        what = f"a scalar {_fmt(arr[()])}" if arr.ndim == 0 else f"shape {arr.shape}"
        raise InputError(f"{name} must be a 1-d boolean mask or 1-d integer indices, got {what}")
    if arr.dtype.kind == "b":
        if arr.size != n:
            raise InputError(f"{name} mask must have length {n}, got {arr.size}")
        return np.flatnonzero(arr).astype(np.int64)
    if arr.size == 0:  # np.asarray([]) is float64
        return np.empty(0, dtype=np.int64)
    if arr.dtype.kind not in "iu":
        raise InputTypeError(
            f"{name} must be a boolean mask or integer indices, got dtype {arr.dtype}"
        )
    outside = (arr < 0) | (arr >= n)
    if outside.any():
        raise InputError(
            f"{name} indices must lie in 0..{n - 1}; {describe_violations(outside, (name, arr))}"
        )
    idx = arr.astype(np.int64)
    if increasing:
        wrong = np.zeros(idx.size, dtype=np.bool_)
        wrong[1:] = idx[1:] <= idx[:-1]
        if wrong.any():
            raise InputError(
                f"{name} indices must be increasing and distinct (the rows stay sorted by "
                f"customer id); {describe_violations(wrong, (name, idx))}"
            )
        return idx
    seen = np.zeros(n, dtype=np.bool_)
    seen[idx] = True
    if int(seen.sum()) != idx.size:
        order = np.argsort(idx, kind="stable")
        repeat = np.zeros(idx.size, dtype=np.bool_)
        repeat[order[1:]] = idx[order[1:]] == idx[order[:-1]]
        raise InputError(
            f"{name} indices must not repeat (a row would appear twice); "
            f"{describe_violations(repeat, (name, idx))}"
        )
    return idx


def as_sequence_of(items: object, name: str, kind: type[_T], kind_name: str) -> list[_T]:
    """Return ``items`` as a list, checking that each is a ``kind`` (e.g. a list of summaries)."""
    if items is None or isinstance(items, str | bytes) or not isinstance(items, Iterable):
        raise InputTypeError(
            f"{name} must be a sequence of {kind_name} objects, got {type(items).__name__}"
        )
    out = list(items)
    for i, item in enumerate(out):
        if not isinstance(item, kind):
            raise InputTypeError(
                f"{name} must hold {kind_name} objects; found {type(item).__name__} at index {i}"
            )
    return out


def readonly_unless_frozen(arr: ArrayLike) -> np.ndarray[Any, Any]:
    """Return ``arr`` itself when it is a read-only array that owns its data, else a read-only copy.

    For attrs fields that take a caller's array: arrays crmcore built are marked
    read-only and own their data (or are read-only views of such an array, as the
    columns of one allocation are), so storing them again costs no second copy,
    while a caller's writeable array, or a read-only view of memory someone can
    still write through, is copied (:func:`readonly_copy`).
    """
    if isinstance(arr, np.ndarray) and _frozen_memory(arr):
        return arr
    return readonly_copy(arr)


def as_ndarray(x: ArrayLike, name: str) -> np.ndarray[Any, Any]:
    """``numpy.asarray`` of an argument of any dtype, with crmcore's errors.

    None and strings are an InputTypeError; ragged nested sequences (rows of
    unequal length) are an InputError, like any other shape problem.
    """
    return _to_array(x, name)


def ndim_of(x: ArrayLike, name: str) -> int:
    """``numpy.ndim`` of an argument, refusing ragged nested sequences with an InputError."""
    try:
        return int(np.ndim(x))
    except ValueError as exc:  # numpy: "inhomogeneous shape" of nested lists
        raise InputError(
            f"{name} must be a rectangular array; got nested sequences of unequal lengths "
            f"(a ragged list): {exc}"
        ) from exc


def utc_naive(x: ArrayLike) -> ArrayLike:
    """Return a timezone-aware pandas or polars column as naive UTC ``datetime64``; else ``x``.

    Handles a pandas ``Series`` (methods on its ``.dt`` accessor), a
    ``DatetimeIndex`` or ``DatetimeArray`` (methods on the object itself) and a
    polars ``Series``. Anything else is returned unchanged.
    """
    obj: Any = x
    dtype = getattr(obj, "dtype", None)
    out: ArrayLike = x
    if dtype is None:
        return out
    if getattr(dtype, "tz", None) is not None:  # pandas
        utc = getattr(obj, "dt", obj).tz_convert("UTC")
        out = getattr(utc, "dt", utc).tz_localize(None).to_numpy()
    elif getattr(dtype, "time_zone", None) is not None:  # polars
        out = obj.dt.convert_time_zone("UTC").dt.replace_time_zone(None).to_numpy()
    return out


_ARRAY_ANNOTATION = re.compile(r"\bndarray\b|Array\b")


def _stored_array(x: Any) -> Any:
    """Store a numpy array of an attrs field (see :func:`copy_array_fields`)."""
    return readonly_unless_frozen(x) if isinstance(x, np.ndarray) else x


def copy_array_fields(cls: type, fields: list[Any]) -> list[Any]:
    """Give array fields a converter that keeps a read-only copy of a caller's array.

    An attrs ``field_transformer``: every field annotated as an array
    (``ndarray``, ``FloatArray``, ...) without a converter of its own gets one
    that stores a numpy array through :func:`readonly_unless_frozen`: an array
    crmcore built (read-only, owning its data) is kept as it is, a caller's
    array is copied once. So a direct constructor call never aliases the
    caller's data, and the ``from_arrays`` and ``summarize`` paths pay no
    second copy. Values other than numpy arrays
    (None, or what a later validation refuses) pass unchanged.
    """
    return [
        f.evolve(converter=_stored_array)
        if f.converter is None and _ARRAY_ANNOTATION.search(str(f.type))
        else f
        for f in fields
    ]


def result_columns(
    result: object, *columns: str | tuple[str, object]
) -> dict[str, np.ndarray[Any, Any]]:
    """Return equal-length 1-d columns of a result, in the order given, for a data frame.

    Each entry is the name of an array attribute of ``result`` or a pair
    ``(column name, values)`` for a column that is not an attribute as it is
    (per-group labels, a property). Entries whose value is None (optional
    arrays a result does not hold) are left out. Arrays come back as read-only
    views of the result's own arrays (a result never holds a caller's array),
    anything else as a fresh read-only array, so that no column can change the
    result. Lengths are checked: a result assembled by hand with arrays of
    different lengths is refused rather than giving a frame that fails later.
    """
    out: dict[str, np.ndarray[Any, Any]] = {}
    first: str | None = None
    for entry in columns:
        name, value = (entry, getattr(result, entry)) if isinstance(entry, str) else entry
        if value is None:
            continue
        if isinstance(value, np.ndarray):
            column = value.view()
            column.flags.writeable = False
        else:
            column = readonly_copy(np.asarray(value))
        if column.ndim != 1:
            raise InputError(
                f"{type(result).__name__}.{name} must be 1-d to be a column, "
                f"got shape {column.shape}"
            )
        if first is not None and column.size != out[first].size:
            raise InputError(
                f"the columns of a {type(result).__name__} must have equal lengths; "
                f"{name} has {column.size} entries, {first} has {out[first].size}"
            )
        first = name if first is None else first
        out[name] = column
    return out


def _frozen_memory(arr: np.ndarray[Any, Any]) -> bool:
    """Whether nobody can write ``arr``'s memory without first unfreezing an owner.

    True for a read-only array that owns its data, and for a read-only view whose
    owner (``arr.base``, which numpy points at the array owning the memory) is a
    read-only array that owns its data: a view of a read-only array cannot be made
    writeable. See :func:`readonly_unless_frozen`.
    """
    if arr.flags.writeable:
        return False
    if arr.flags.owndata:
        return True
    base = arr.base
    return (
        isinstance(base, np.ndarray)
        and base.base is None
        and base.flags.owndata
        and not base.flags.writeable
    )
