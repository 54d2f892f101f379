"""Input handling shared by the forecast models (private).

One definition of what every model's public functions do with their
arguments before any numerics:

* :func:`summary_or_arrays` sorts out the two ways of passing histories (a
  summary object alone, or three arrays) for any summary class and any name
  of the third array, so that the continuous-time models (``T``) and the
  discrete-time ones (``n_periods``) raise the same errors for the same
  mistakes;
* :func:`histories` returns validated (x, t_x, T) arrays of the
  continuous-time models; :func:`single_customer` and :func:`finish` let
  every per-customer function take one customer as plain numbers and return
  a float for it; :func:`horizon` gives each customer a forecast horizon
  (one number for all, or one per customer);
* :func:`times` and :func:`counts_and_times` validate the times and counts of
  the predictions, scalars or arrays of any shape;
* :func:`prepare_fit_data` validates and compresses the histories of a fit
  or a log-likelihood;
* :func:`positive_param` declares a field of a parameter class;
* :func:`check_params` checks the type of a ``params`` (or ``initial``)
  argument.

Python integers beyond the float range or int64 are refused by
:mod:`crmcore._validation` itself, with an InputError naming the argument.
This module does not import :mod:`crmcore.models._mle` (the optimiser), so
both can be imported by every model without a cycle.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, NamedTuple, TypeVar, cast

import attrs
import numpy as np

from crmcore import _validation as v
from crmcore._typing import ArrayLike, FloatArray, IntArray
from crmcore.errors import InputError, InputTypeError
from crmcore.summary import CompressedHistories, CustomerSummary, compress

__all__ = [
    "Histories",
    "as_any_array",
    "check_params",
    "check_time",
    "chunk_valid",
    "counts_and_times",
    "counts_per_customer",
    "distinct_rows",
    "finish",
    "histories",
    "horizon",
    "is_single",
    "one_customer",
    "one_time",
    "plain_histories",
    "positive_param",
    "prepare_fit_data",
    "single_customer",
    "spread_single",
    "summary_or_arrays",
    "times",
    "whole_counts",
]

S = TypeVar("S")


def summary_or_arrays(
    frequency: object,
    recency: object,
    third: object,
    *,
    summary_type: type[S],
    third_name: str,
) -> S | None:
    """Return the summary when ``frequency`` is one, else None (then all three arrays are given).

    A summary together with ``recency`` or the third array, or arrays without
    them, is a wrong combination of arguments, like a call with a missing or
    an unexpected argument, for which Python raises TypeError: hence
    :class:`~crmcore.errors.InputTypeError`, in the fits as in the
    predictions, so that both raise the same error for the same call.

    Examples
    --------
    >>> summary_or_arrays([1], None, [2.0], summary_type=CustomerSummary, third_name="T")
    Traceback (most recent call last):
    ...
    crmcore.errors.InputTypeError: recency and T are required unless frequency is a CustomerSummary
    """
    kind = summary_type.__name__
    if isinstance(frequency, summary_type):
        if recency is not None or third is not None:
            raise InputTypeError(
                f"recency and {third_name} must be left out when frequency is a {kind}"
            )
        return frequency
    if recency is None or third is None:
        raise InputTypeError(f"recency and {third_name} are required unless frequency is a {kind}")
    return None


def is_single(value: object) -> bool:
    """Return whether ``value`` is one number: a Python or numpy scalar, or a 0-d array.

    Examples
    --------
    >>> is_single(2), is_single(np.float64(2.0)), is_single(np.array(2.0))
    (True, True, True)
    >>> is_single([2]), is_single("2"), is_single(None)
    (False, False, False)
    """
    if isinstance(value, numbers.Number):  # Python and numpy scalars (the fast, common case)
        return True
    if value is None or isinstance(value, str | bytes):
        return False
    try:
        return bool(np.ndim(cast(Any, value)) == 0)
    except (ValueError, TypeError):  # ragged nested sequences: the validators report them
        return False


def single_customer(*values: object) -> tuple[tuple[Any, ...], bool]:
    """Wrap ``values`` as one-element arrays when every one of them is a single number.

    Returns the values (unchanged unless all are single) and whether they
    were; pass that flag to :func:`finish`, which unwraps the result. This is
    how every per-customer function accepts one customer as plain numbers.

    Examples
    --------
    >>> single_customer(2, 30.43, np.array(38.86))
    ((array([2]), array([30.43]), array([38.86])), True)
    >>> single_customer(2, [30.43], 38.86)[1]
    False
    """
    if values and all(is_single(x) for x in values):
        return tuple(np.array([x]) for x in values), True
    return values, False


def finish(out: FloatArray, single: bool) -> Any:
    """Return ``out`` as computed for one customer (a float, or a row) or for many (as is).

    Examples
    --------
    >>> finish(np.array([0.5]), True), finish(np.array([[1.0, 2.0]]), True).tolist()
    (0.5, [1.0, 2.0])
    >>> finish(np.array([0.5]), False)
    array([0.5])
    """
    if not single:
        return out
    return float(out[0]) if out.ndim == 1 else out[0]


# Types whose values convert to float64 exactly as numpy's conversion of an array of them does.
_PLAIN_FLOAT = (float, np.float64, np.float32, np.float16)
_PLAIN_INT = (int, np.int64, np.int32, np.int16, np.int8, np.uint64, np.uint32, np.uint16, np.uint8)
_INT64_BOUND = 2**63


def _plain(value: object) -> float | int | None:
    """Return a number as a Python float or int when it is a plain one, else None.

    Plain: a Python or numpy float or integer (not bool), or a 0-d array of one.
    Everything else (bools, decimals, strings, other arrays...) is left to the
    array path.
    """
    tp = type(value)
    if tp is float or tp is int:
        return cast("float | int", value)
    if tp in _PLAIN_FLOAT:
        return float(cast(Any, value))
    if tp in _PLAIN_INT:
        return int(cast(Any, value))
    if tp is np.ndarray and cast(Any, value).ndim == 0:
        return _plain(cast(Any, value)[()])
    return None


def _whole(x: float | int | None) -> float | None:
    """Return a count >= 0 that fits in int64 as a float (0.0 for -0.0), else None."""
    if x is None:
        return None
    if type(x) is int:
        return float(x) if 0 <= x < _INT64_BOUND else None
    xf = float(x)
    return xf + 0.0 if xf.is_integer() and 0.0 <= xf < 2.0**63 else None


def one_customer(
    frequency: object, recency: object, T: object
) -> tuple[float, float, float] | None:
    """Return (x, t_x, T) as floats when they are one valid customer given as plain numbers.

    This is the boundary check of the scalar fast path: it accepts exactly
    the plain numbers (Python or numpy ints and floats, 0-d arrays of them)
    that :func:`histories` accepts as one customer, with the same values.
    Anything else, a summary, arrays, other types, and every value that
    breaks a rule, gives None: the caller then takes the array path, whose
    validators raise the errors, so a bad customer raises the same error as
    a single number as it does inside an array.

    Examples
    --------
    >>> one_customer(2, 30.43, np.float64(38.86))
    (2.0, 30.43, 38.86)
    >>> one_customer(2, 40.0, 38.86) is None  # recency > T: histories() raises
    True
    """
    xf = _whole(_plain(frequency))
    tx = _plain(recency)
    big_t = _plain(T)
    if xf is None or tx is None or big_t is None:
        return None
    try:
        txf = float(tx)
        tf = float(big_t)
    except OverflowError:  # an int beyond the float range
        return None
    # 0 <= t_x <= T < inf (also refuses NaN), and t_x = 0 without repeat purchase
    ok = 0.0 <= txf <= tf < math.inf and (xf > 0.0 or txf == 0.0)
    return (xf, txf, tf) if ok else None


def one_time(t: object) -> float | None:
    """Return a valid horizon (finite, >= 0) given as a plain number as a float, else None.

    None sends the caller to the array path (see :func:`one_customer`).

    Examples
    --------
    >>> one_time(39), one_time(np.array(1.5)), one_time(-1.0), one_time([1.0])
    (39.0, 1.5, None, None)
    """
    value = _plain(t)
    if value is None:
        return None
    try:
        out = float(value)
    except OverflowError:
        return None
    return out if 0.0 <= out < math.inf else None


class Histories(NamedTuple):
    """Validated histories of the continuous-time models, and whether they were one customer."""

    x: FloatArray
    tx: FloatArray
    T: FloatArray
    single: bool


def histories(
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None,
    T: ArrayLike | None,
) -> Histories:
    """Return validated (x, t_x, T) float arrays, from arrays or from every row of a summary.

    Three single numbers (Python scalars or 0-d arrays) are one customer:
    arrays of one element and ``single=True`` (see :func:`finish`).

    Examples
    --------
    >>> [a.tolist() for a in histories([2, 0], [3.0, 0.0], [5.0, 5.0])[:3]]
    [[2.0, 0.0], [3.0, 0.0], [5.0, 5.0]]
    >>> histories(2, 3.0, 5.0)
    Histories(x=array([2.]), tx=array([3.]), T=array([5.]), single=True)
    >>> histories([1], [10**400], [2.0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: recency must be finite numbers (within the float range, ...
    """
    s = summary_or_arrays(frequency, recency, T, summary_type=CustomerSummary, third_name="T")
    if s is not None:
        return Histories(
            s.frequency.astype(np.float64),
            np.asarray(s.recency, dtype=np.float64),
            np.asarray(s.T, dtype=np.float64),
            False,
        )
    read = _read_histories(frequency, recency, T)
    if read is not None:  # valid arrays, checked in chunks: no copy of float64 arrays
        return Histories(*read, False)
    (f, r, t), single = single_customer(frequency, recency, T)
    x, tx, big_t = v.as_histories(f, r, t, allow_empty=True)
    return Histories(x, tx, big_t, single)


_CHUNK = 1 << 16  # rows per vector operation of the checks (the chunks stay in cache)
_BITS_2_63 = int(np.array(2.0**63).view(np.int64))  # bits of 2**63: larger bits, larger floats


def _read_histories(
    frequency: object, recency: object, T: object
) -> tuple[FloatArray, FloatArray, FloatArray] | None:
    """Return valid 1-d histories as read-only float64 arrays, sharing the caller's memory.

    For the predictions, which only read the histories and keep nothing:
    non-empty int64 or float64 ``frequency`` and float64 ``recency`` and ``T``
    of one length are checked in chunks of :data:`_CHUNK` rows (each chunk
    read from memory once), with every rule of :func:`crmcore._validation.as_histories`:
    counts whole, >= 0 and below 2**63, recency >= 0, T finite and >= 0, recency <= T,
    and recency 0 where the count is 0 (NaN fails every test). The result is
    read-only views of ``recency``, ``T`` and float64 counts (int64 counts are
    converted, in the same chunks); float64 counts holding -0.0 are left to
    :func:`~crmcore._validation.as_histories`, which gives 0.0 in a copy.
    Anything else, every invalid input included, gives None: the full checks
    then build the message.

    Examples
    --------
    >>> x, tx, big_t = _read_histories(np.array([2, 0]), np.array([3.0, 0.0]), np.array([5.0, 5.0]))
    >>> x.tolist(), x.flags.writeable
    ([2.0, 0.0], False)
    >>> _read_histories(np.array([0.0]), np.array([1.0]), np.array([5.0])) is None
    True
    """
    if not plain_histories(frequency, recency, T):
        return None
    f, tx, t = cast(tuple[FloatArray, FloatArray, FloatArray], (frequency, recency, T))
    n = f.size
    x = f if f.dtype.kind == "f" else np.empty(n)
    buf = np.empty(min(n, _CHUNK))
    flag = np.empty(buf.size, dtype=np.bool_)
    with np.errstate(invalid="ignore"):
        for s0 in range(0, n, _CHUNK):
            rows = slice(s0, s0 + _CHUNK)
            if not chunk_valid(f[rows], x[rows], tx[rows], t[rows], buf=buf, flag=flag):
                return None
    return _read_only_view(x), _read_only_view(tx), _read_only_view(t)


def plain_histories(frequency: object, recency: object, T: object) -> bool:
    """Return whether the histories are plain arrays for the chunked checks of :func:`chunk_valid`.

    Non-empty 1-d numpy arrays of one length: int64 or float64 counts, float64
    recency and T.

    Examples
    --------
    >>> plain_histories(np.array([1]), np.array([0.5]), np.array([2.0]))
    True
    >>> plain_histories([1], np.array([0.5]), np.array([2.0]))
    False
    """
    f, tx, t = frequency, recency, T
    return bool(
        type(f) is np.ndarray
        and type(tx) is np.ndarray
        and type(t) is np.ndarray
        and f.ndim == tx.ndim == t.ndim == 1
        and f.dtype.kind in "if"
        and f.dtype.itemsize == 8
        and tx.dtype == np.float64
        and t.dtype == np.float64
        and 0 < f.size == tx.size == t.size
    )


def chunk_valid(
    part: np.ndarray[Any, Any],
    xs: FloatArray,
    txs: FloatArray,
    ts: FloatArray,
    *,
    buf: FloatArray,
    flag: np.ndarray[Any, Any],
) -> bool:
    """Return whether one chunk of plain histories keeps every rule of :func:`histories`.

    ``part`` holds the counts as given; int64 counts are converted into
    ``xs`` (float64 counts are checked in place, ``xs`` is ``part``). ``buf``
    and ``flag`` are scratch arrays of at least the chunk's length. The rules:
    counts whole, >= 0 and below 2**63 (float64 counts also without -0.0,
    which :func:`histories` reads as 0.0 in a copy), recency >= 0, T finite and >= 0,
    recency <= T, recency 0 where the count is 0; NaN fails every test.
    """
    k = part.size
    b = buf[:k]
    if part.dtype.kind == "f":
        # sign bit clear (no negative value, no -0.0) and below 2**63 (no inf, no NaN)
        bits = part.view(np.int64)
        if not (bits.min() >= 0 and bits.max() < _BITS_2_63):
            return False
        np.floor(part, out=b)
        if np.not_equal(b, part, out=flag[:k]).any():
            return False  # not whole
    else:
        if not part.min() >= 0:
            return False
        np.copyto(xs, part, casting="unsafe")
    if not (txs.min() >= 0.0 and ts.min() >= 0.0 and ts.max() < np.inf):
        return False
    # recency <= T, and 0 where the count is 0: recency <= min(x, 1) T (x whole, T finite)
    np.minimum(xs, 1.0, out=b)
    b *= ts
    return bool(np.less_equal(txs, b, out=flag[:k]).all())


def _read_only_view(arr: FloatArray) -> FloatArray:
    """Return a read-only view of ``arr`` (the caller's array stays writeable)."""
    out = arr.view()
    out.flags.writeable = False
    return out


def horizon(t: object, n_customers: int, name: str = "t") -> FloatArray:
    """Return forecast horizons (finite, >= 0), one per customer.

    ``t`` is one number for every customer or a 1-d array with one value per
    customer; the result has shape ``(n_customers,)`` (a read-only broadcast
    view for a number).

    Examples
    --------
    >>> horizon(39, 3).tolist(), horizon([1.0, 2.0], 2).tolist()
    ([39.0, 39.0, 39.0], [1.0, 2.0])
    >>> horizon([1.0, 2.0], 3)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: t must be one number, or one value per customer (3); got shape (2,)
    """
    arr, single = times(t, name)  # type: ignore[arg-type]
    if single:
        return np.broadcast_to(arr, (n_customers,))
    if arr.shape != (n_customers,):
        raise InputError(
            f"{name} must be one number, or one value per customer ({n_customers}); "
            f"got shape {arr.shape}"
        )
    return arr


def prepare_fit_data(
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None,
    T: ArrayLike | None,
    weights: ArrayLike | None,
) -> CompressedHistories:
    """Validate (frequency, recency, T[, weights]) and compress them for a fit.

    ``frequency`` may be a :class:`~crmcore.CustomerSummary`; then ``recency``
    and ``T`` must be None and the rows with ``has_purchase`` are used.

    Parameters
    ----------
    frequency : array-like or CustomerSummary
    recency, T : array-like or None
    weights : array-like or None
        Non-negative weight per customer (default 1).

    Returns
    -------
    CompressedHistories
        Distinct rows with their total weight; at least one row with
        positive weight; sorted by frequency (by (frequency, recency, T) when
        some rows merged).

    Raises
    ------
    InputError
        On invalid histories, mismatched lengths, negative weights, or no
        customer of positive weight.
    InputTypeError
        When a summary is given together with recency or T, or arrays without
        them (see :func:`summary_or_arrays`).

    Examples
    --------
    >>> c = prepare_fit_data([0, 1, 0], [0.0, 2.0, 0.0], [5.0, 5.0, 5.0], None)
    >>> c.frequency.tolist(), c.weights.tolist()
    ([0.0, 1.0], [2.0, 1.0])
    >>> prepare_fit_data([1], [1.0], [10**400], None)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: T must be finite numbers (within the float range, ...
    """
    s = summary_or_arrays(frequency, recency, T, summary_type=CustomerSummary, third_name="T")
    if s is not None:
        rows = s.has_purchase
        w = None
        if weights is not None:
            w = v.as_float_array(weights, "weights", allow_empty=True, nonnegative=True)
            if w.size != rows.size:
                raise InputError(
                    f"weights must have one value per summary row ({rows.size}), got {w.size}"
                )
            w = w[rows]
        out = _fit_rows(s.frequency[rows], s.recency[rows], s.T[rows], w)
    else:
        out = _fit_rows(frequency, recency, T, weights)  # type: ignore[arg-type]
    if len(out) == 0:
        raise InputError(
            "frequency must describe at least one customer (with positive weight); got none"
        )
    return out


def check_time(t: object, name: str = "t") -> float:
    """Return a scalar time (finite, >= 0) as a float.

    Examples
    --------
    >>> check_time(3)
    3.0
    >>> check_time(-1.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: t must be >= 0.0, got -1.0
    """
    return v.check_float(t, name, low=0.0)


def as_any_array(x: object, name: str) -> Any:
    """Return ``np.asarray(x)`` (strings and None unchanged, for the validators to refuse).

    Ragged nested sequences raise an InputError naming ``name``, not numpy's
    ValueError.

    Examples
    --------
    >>> as_any_array([[1, 2], [3]], "n")
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: n must be a flat sequence (or rows of equal length); got ragged ...
    """
    if x is None or isinstance(x, str | bytes):
        return x
    try:
        return np.asarray(x)
    except ValueError as exc:
        raise InputError(
            f"{name} must be a flat sequence (or rows of equal length); got ragged nested "
            f"sequences: {exc}"
        ) from None


def whole_counts(values: object, name: str, *, low: int = 0) -> tuple[IntArray, bool]:
    """Return whole numbers >= ``low`` of any shape as int64, and whether ``values`` was a scalar.

    A scalar becomes an array of one element.

    Examples
    --------
    >>> whole_counts(3, "n")
    (array([3]), True)
    >>> whole_counts([[0, 2]], "n")[0].shape
    (1, 2)
    >>> whole_counts(None, "n")
    Traceback (most recent call last):
    ...
    crmcore.errors.InputTypeError: n must be a whole number or an array of them, got None
    """
    if values is None:
        raise InputTypeError(f"{name} must be a whole number or an array of them, got None")
    arr = as_any_array(values, name)
    scalar = np.ndim(arr) == 0
    out = v.as_int_array(
        np.atleast_1d(arr) if scalar else arr,
        name,
        ndim=max(1, np.ndim(arr)),
        allow_empty=True,
        low=low,
    )
    return out, bool(scalar)


def times(t: ArrayLike, name: str) -> tuple[FloatArray, bool]:
    """Return ``t`` as a float array and whether it was a scalar.

    The array has the shape of ``t``, one element for a scalar. Values must be
    finite and >= 0.

    Examples
    --------
    >>> times(2, "t")
    (array([2.]), True)
    >>> times([[1.0, 2.0]], "t")[0].shape
    (1, 2)
    >>> times(10**400, "t")
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: t must be a finite number within the float range ...
    """
    arr = as_any_array(t, name)
    if np.ndim(arr) == 0:
        value = v.check_float(arr.item() if isinstance(arr, np.ndarray) else arr, name, low=0.0)
        return np.array([value]), True
    out = v.as_float_array(arr, name, ndim=np.ndim(arr), allow_empty=True, nonnegative=True)
    return out, False


def counts_and_times(
    n: ArrayLike, t: ArrayLike, *, n_name: str = "n", t_name: str = "t"
) -> tuple[FloatArray, FloatArray, bool]:
    """Validate whole counts ``n`` >= 0 and times ``t`` >= 0 and broadcast them together.

    Both may be scalars or arrays of any shape. Returns two float arrays of
    the broadcast shape (one element each when both are scalars) and whether
    both were scalars.

    Examples
    --------
    >>> nn, tt, scalar = counts_and_times([[0, 1], [2, 3]], 5.0)
    >>> nn.shape, tt.tolist(), scalar
    ((2, 2), [[5.0, 5.0], [5.0, 5.0]], False)
    >>> counts_and_times([1, 2], [1.0, 2.0, 3.0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: n and t must broadcast together; got shapes (2,) and (3,)
    """
    nn, n_scalar = whole_counts(n, n_name)
    tt, t_scalar = times(t, t_name)
    try:
        nb, tb = np.broadcast_arrays(nn.astype(np.float64), tt[0] if t_scalar else tt)
    except ValueError as exc:
        raise InputError(
            f"{n_name} and {t_name} must broadcast together; got shapes "
            f"{nn.shape if not n_scalar else ()} and {tt.shape if not t_scalar else ()}"
        ) from exc
    if n_scalar and t_scalar:
        return nb.reshape(1), tb.reshape(1), True
    return np.array(nb), np.array(tb), False


def check_params(params: object, cls: type, name: str = "params") -> None:
    """Raise InputTypeError unless ``params`` is an instance of ``cls``.

    Examples
    --------
    >>> check_params(None, int)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputTypeError: params must be int, got NoneType
    """
    if not isinstance(params, cls):
        raise InputTypeError(f"{name} must be {cls.__name__}, got {type(params).__name__}")


def _to_float(value: object) -> object:
    """Store real numbers (numpy scalars included) as float; leave the rest to the validator."""
    if isinstance(value, bool):
        return value  # refused by the validator
    if isinstance(value, numbers.Real):
        try:
            return float(value)
        except OverflowError:
            return value  # an integer beyond the float range: the validator names it
    return value


def _check_positive(instance: object, attribute: attrs.Attribute[float], value: object) -> None:
    v.check_float(value, attribute.name, low=0.0, low_open=True)


def positive_param() -> Any:
    """Return an attrs field for a model parameter: a positive, finite float.

    Numbers (numpy scalars included) are stored as ``float``; anything else
    raises :class:`~crmcore.errors.InputTypeError`, and NaN, infinity, values
    <= 0 and integers beyond the float range raise
    :class:`~crmcore.errors.InputError`, naming the field.

    Examples
    --------
    >>> @attrs.frozen(kw_only=True)
    ... class ToyParams:
    ...     k: float = positive_param()
    >>> ToyParams(k=2).k
    2.0
    >>> ToyParams(k=0.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: k must be > 0.0, got 0.0
    >>> ToyParams(k=10**400)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: k must be a finite number within the float range ...
    """
    return attrs.field(converter=_to_float, validator=_check_positive)


def counts_per_customer(n: object, n_customers: int, name: str = "n") -> FloatArray:
    """Return whole counts (>= 0), one per customer, as floats.

    ``n`` is one whole number for every customer or a 1-d array with one
    value per customer, like a horizon (see :func:`horizon`).

    Examples
    --------
    >>> counts_per_customer(2, 3).tolist(), counts_per_customer([0, 4], 2).tolist()
    ([2.0, 2.0, 2.0], [0.0, 4.0])
    >>> counts_per_customer([1, 2], 3)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: n must be one number, or one value per customer (3); got shape (2,)
    """
    arr, single = whole_counts(n, name)
    out = arr.astype(np.float64)
    if single:
        return np.broadcast_to(out, (n_customers,))
    if out.shape != (n_customers,):
        raise InputError(
            f"{name} must be one number, or one value per customer ({n_customers}); "
            f"got shape {out.shape}"
        )
    return out


def distinct_rows(*columns: FloatArray) -> tuple[tuple[FloatArray, ...], IntArray]:
    """Return the distinct rows of equal-length 1-d columns and the index of each row among them.

    ``out[j][inverse]`` rebuilds column j. Faster than ``np.unique(axis=0)``:
    each column is coded by its own ``np.unique`` and the codes are combined
    into one integer key (several keys when the product of the column sizes
    exceeds int64, which does not happen for the columns of one data set).

    Examples
    --------
    >>> (a, b), inverse = distinct_rows(np.array([1.0, 2.0, 1.0]), np.array([5.0, 5.0, 5.0]))
    >>> a.tolist(), b.tolist(), inverse.tolist()
    ([1.0, 2.0], [5.0, 5.0], [0, 1, 0])
    """
    values, codes = [], []
    for col in columns:
        u, c = np.unique(col, return_inverse=True)
        values.append(u)
        codes.append(c.reshape(-1).astype(np.int64))
    key = np.zeros(columns[0].size, dtype=np.int64)
    radix = 1
    for u, c in zip(values, codes, strict=True):
        if radix * max(u.size, 1) >= 2**62:  # pragma: no cover - beyond any real data set
            raise InputError("too many distinct rows to combine")
        key += c * radix
        radix *= max(u.size, 1)
    keys, inverse = np.unique(key, return_inverse=True)
    out = []
    for u, size_before in zip(values, _radices([u.size for u in values]), strict=True):
        out.append(u[(keys // size_before) % max(u.size, 1)])
    return tuple(out), inverse.reshape(-1).astype(np.int64)


def _radices(sizes: list[int]) -> list[int]:
    out, radix = [], 1
    for n in sizes:
        out.append(radix)
        radix *= max(n, 1)
    return out


def spread_single(hist: Histories, counts: object) -> Histories:
    """Repeat one customer's history once per count when ``counts`` is an array.

    So that a distribution over counts (``n = [0, 1, 2, ...]``) of one customer
    given as plain numbers comes back as an array; anything else is returned
    unchanged (and ``counts`` is validated by the caller).

    Examples
    --------
    >>> spread_single(histories(2, 3.0, 5.0), [0, 1, 2]).x.tolist()
    [2.0, 2.0, 2.0]
    """
    if not hist.single or is_single(counts):
        return hist
    size = int(np.size(as_any_array(counts, "n")))
    return Histories(
        np.repeat(hist.x, size), np.repeat(hist.tx, size), np.repeat(hist.T, size), False
    )


def _fit_rows(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, weights: ArrayLike | None
) -> CompressedHistories:
    """:func:`crmcore.compress`, but rows that cannot merge are only sorted by frequency.

    When no two rows share T (continuous histories), no two histories are equal:
    a plain sort of T tells (a fraction of the lexicographic sort compress does),
    and a stable radix sort of the counts gives the rows grouped by frequency,
    which is all the fits need (terms in x once per distinct x; a systematic
    sample stratified by x).
    """
    x, tx, t = v.as_histories(frequency, recency, T, allow_empty=True)
    if weights is None:
        w = np.ones(x.size)
    else:
        w = v.as_float_array(weights, "weights", allow_empty=True, nonnegative=True)
        v.check_same_length(("frequency", x), ("weights", w))
    if x.size > 1 and bool(np.all(w > 0)):
        ordered = np.sort(t)
        if bool(np.all(ordered[1:] != ordered[:-1])):
            key = x.astype(np.uint16) if float(x.max()) < 65_536 else x
            order = np.argsort(key, kind="stable")
            return CompressedHistories(
                frequency=v.readonly(x[order]),
                recency=v.readonly(tx[order]),
                T=v.readonly(t[order]),
                weights=v.readonly(w[order]),
            )
    return compress(x, tx, t, w)
