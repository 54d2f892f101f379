"""RFM scores: recency, frequency and monetary value scored 1..bins per customer."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeAlias

import attrs
import numpy as np

from crmcore import _validation as v
from crmcore._typing import ArrayLike, BoolArray, FloatArray, IntArray
from crmcore._validation import readonly as _ro
from crmcore.errors import DataQualityWarning, InputError, InputTypeError
from crmcore.metrics.loyalty._common import _observation_end_shift
from crmcore.summary import CustomerSummary

__all__ = ["RfmEdges", "RfmScores", "rfm_scores"]

RfmMethod: TypeAlias = Literal["quantile", "rank"]

# Exact order statistics: below this size np.partition of a copy is as fast as
# the sample-and-band selection of _order_statistics.
_SELECT_MIN_SIZE = 1 << 17
# Largest number of score levels: beyond it a score no longer summarises anything,
# and the cut points would cost memory in proportion.
_MAX_BINS = 1000
_SAMPLE_SIZE = 1 << 16


# --------------------------------------------------------------------------- RFM


def _time_since_last_edges(x: object) -> FloatArray:
    return _edges(x, "time_since_last")


def _n_purchases_edges(x: object) -> FloatArray:
    return _edges(x, "n_purchases")


def _total_spend_edges(x: object) -> FloatArray:
    return _edges(x, "total_spend")


@attrs.frozen(kw_only=True, eq=False)
class RfmEdges:
    """Cut points of RFM scoring, ``bins - 1`` per dimension, ascending in value.

    The bins are right-closed in the value of each quantity: with cut points
    ``e1 <= e2 <= ...`` the value bins are ``(-inf, e1], (e1, e2], ...,
    (e_last, inf)``. The number of purchases and total spend score 1 in the
    lowest value bin; time since the last purchase (RFM's recency, where
    smaller is better) scores ``bins`` there. Pass an instance as ``method``
    of :func:`rfm_scores` to score other customers with the same cut points.

    Attributes
    ----------
    time_since_last, n_purchases, total_spend : ndarray of float64
        Cut points of each dimension (read-only): RFM's recency, frequency and
        monetary value.
    """

    time_since_last: FloatArray = attrs.field(converter=_time_since_last_edges)
    n_purchases: FloatArray = attrs.field(converter=_n_purchases_edges)
    total_spend: FloatArray = attrs.field(converter=_total_spend_edges)

    def __attrs_post_init__(self) -> None:
        v.check_same_length(
            ("time_since_last", self.time_since_last),
            ("n_purchases", self.n_purchases),
            ("total_spend", self.total_spend),
        )


def _edges(x: object, name: str) -> FloatArray:
    """One dimension of :class:`RfmEdges`: at least one finite, non-decreasing cut point."""
    edges = v.as_float_array(x, name)  # type: ignore[arg-type]
    bad = np.zeros(edges.size, dtype=np.bool_)
    bad[1:] = edges[1:] < edges[:-1]
    if bad.any():
        raise InputError(
            f"{name} cut points must be non-decreasing; "
            + v.describe_violations(bad, (name, edges))
        )
    return v.readonly_unless_frozen(edges)


@attrs.frozen(kw_only=True, eq=False)
class RfmScores:
    """RFM scores 1..bins per customer, as returned by :func:`rfm_scores`.

    Attributes
    ----------
    r, f, m : ndarray of int64
        Recency, frequency and monetary scores (read-only); higher is better in
        each. 0 marks a customer without purchase when the scores were computed
        from a :class:`~crmcore.CustomerSummary`.
    edges : RfmEdges
        The cut points used.
    bins : int
        Number of score levels.
    method : str
        ``"quantile"``, ``"rank"``, ``"explicit"`` (given cut points), or
        ``"mixed"`` when the dimensions were scored by different methods.
    customer_ids : ndarray or None
        The summary's customer ids when the scores were computed from a
        :class:`~crmcore.CustomerSummary`; None for scores of plain arrays.
    """

    r: IntArray
    f: IntArray
    m: IntArray
    edges: RfmEdges
    bins: int
    method: str
    customer_ids: np.ndarray[Any, Any] | None = None

    def __len__(self) -> int:
        return int(self.r.size)

    def columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the scores by name, customer ids first, ready for a data frame.

        The same contract as :meth:`crmcore.CustomerSummary.columns`:
        equal-length 1-d read-only arrays, one row per customer
        (``pandas.DataFrame(scores.columns())``). ``customer_ids`` comes
        first when the scores were computed from a summary. The cut points
        come out through :meth:`edge_columns`.

        Returns
        -------
        dict of str to ndarray
            ``customer_ids`` (from a summary only), ``r``, ``f`` and ``m``.

        Examples
        --------
        >>> from crmcore import CustomerSummary
        >>> s = CustomerSummary.from_arrays([0, 2, 5], [0.0, 4.0, 9.0], [10.0, 10.0, 10.0],
        ...                                 monetary_value=[0.0, 3.0, 2.0],
        ...                                 customer_ids=["a", "b", "c"])
        >>> scores = rfm_scores(s, bins=3)
        >>> {k: c.tolist() for k, c in scores.columns().items()}
        {'customer_ids': ['a', 'b', 'c'], 'r': [1, 2, 3], 'f': [1, 2, 3], 'm': [1, 2, 3]}
        """
        return v.result_columns(self, "customer_ids", "r", "f", "m")

    def edge_columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the cut points by dimension, ``bins - 1`` rows, ready for a data frame.

        Row ``k`` holds the cut point between score levels ``k + 1`` and
        ``k + 2`` in value of each dimension (see :class:`RfmEdges`).

        Returns
        -------
        dict of str to ndarray
            ``time_since_last``, ``n_purchases`` and ``total_spend``.

        Examples
        --------
        >>> scores = rfm_scores(time_since_last=[1.0, 2.0, 3.0], n_purchases=[1, 2, 3],
        ...                     total_spend=[5.0, 6.0, 7.0], bins=2)
        >>> {k: c.tolist() for k, c in scores.edge_columns().items()}
        {'time_since_last': [2.0], 'n_purchases': [2.0], 'total_spend': [6.0]}
        """
        e = self.edges
        return v.result_columns(e, "time_since_last", "n_purchases", "total_spend")


def rfm_scores(
    summary: CustomerSummary | None = None,
    /,
    *,
    time_since_last: ArrayLike | None = None,
    n_purchases: ArrayLike | None = None,
    total_spend: ArrayLike | None = None,
    observation_end: object = None,
    bins: int = 5,
    method: RfmMethod
    | RfmEdges
    | Mapping[str, RfmMethod | ArrayLike]
    | Sequence[RfmMethod | ArrayLike] = "quantile",
) -> RfmScores:
    """Score recency, frequency and monetary value from 1 to ``bins``.

    Parameters
    ----------
    summary : CustomerSummary, optional (positional only)
        A summary from which the three RFM quantities are derived at the
        analysis date: time since the last purchase ``T - recency`` (the
        summary's ``time_since_last``, plus the time from the end of its data
        to ``observation_end``), ``n_purchases`` and ``total_spend``. Note that the
        summary's own ``recency``, ``frequency`` and ``monetary_value`` are
        the buy-till-you-die quantities (first-to-last time, repeat purchases,
        mean repeat spend), not the RFM ones. Leave out to pass the three
        arrays.
    time_since_last : array-like, keyword-only
        Time since each customer's last purchase (what RFM calls recency),
        >= 0. Smaller is better: the most recent customers get the top score.
    n_purchases : array-like, keyword-only
        Number of purchases (what RFM calls frequency; any activity count or
        rate), >= 0.
    total_spend : array-like, keyword-only
        Total spend (what RFM calls monetary value; any finite value, refunds
        may make it negative).
    observation_end : datetime, date, numpy.datetime64 or ISO string, optional
        Analysis date, with a summary built by :func:`~crmcore.summarize`
        only: time since the last purchase is measured up to the period
        holding ``observation_end`` (not before the end of the summary's data). Default:
        the end of the summary's data.
    bins : int, default 5
        Number of score levels (at least 2); 5 gives the classic quintile scores.
    method : {"quantile", "rank"}, RfmEdges, mapping or sequence of three
        How the cut points are found, for all three dimensions or per
        dimension. ``"quantile"``: cut points at the k/bins quantiles
        (k = 1..bins-1) with numpy's default (linear) interpolation; customers
        with equal values always share a score. ``"rank"``: equal-size bins by
        rank. An :class:`RfmEdges` (e.g. the ``edges`` of an earlier result):
        the cut points themselves. A mapping with exactly the keys
        ``"time_since_last"``, ``"n_purchases"`` and ``"total_spend"``, or a
        sequence of three entries in that order, gives each dimension its own
        method: ``"quantile"``, ``"rank"`` or its cut points, ``bins - 1``
        non-decreasing values (a sequence of three cut-point arrays is the
        same as an :class:`RfmEdges`). Typical: quantiles for recency and
        spend, fixed purchase counts for frequency, where one-time buyers make
        quantiles collapse.

    Returns
    -------
    RfmScores
        Scores ``r``, ``f``, ``m`` (int64, 1 = worst, ``bins`` = best) and the
        cut points used.

    Raises
    ------
    InputError
        On empty, NaN or infinite input, negative time since last purchase or
        number of purchases, mismatched lengths, ``bins`` outside 2..1000,
        ``observation_end`` with a summary not built by
        :func:`~crmcore.summarize` or before its end, an
        unknown method name, cut points of the wrong length or not ascending,
        a method mapping with unknown or missing keys, a method sequence not
        of length three, or a summary without any buyer.
    InputTypeError
        On non-numeric input, a ``method`` of another type, a summary together
        with arrays, missing arrays, or ``observation_end`` with arrays.

    Warns
    -----
    DataQualityWarning
        When a data-driven method leaves a score level unused in some
        dimension (the dimension collapses onto fewer levels).

    See Also
    --------
    rfm_segments : name the score cells (champions, at risk, ...).

    Notes
    -----
    **Bins.** All three dimensions are binned on their value axis with
    right-closed bins ``(e_{k-1}, e_k]``: a value equal to a cut point takes
    the lower value bin. For frequency and monetary value that is the lower
    score; recency is reversed (``r = bins + 1 - value bin``), so there a value
    on a cut point takes the higher score.

    **Quantile method.** Cut point k is numpy's default quantile at ``k/bins``
    (``h = (n - 1) k / bins``, linear interpolation between the order
    statistics ``floor(h)`` and ``floor(h) + 1``), equal bit for bit to
    ``numpy.quantile``. Ties are never split, so heavy ties make cut points
    coincide and scores are skipped: with 60% one-time buyers the frequency
    scores may be only 1, 4 and 5. A warning names the unused scores.

    **Rank method.** Customers are ordered by value, ties by their position in
    the input (a stable sort: for a summary, by customer id); the customer at
    position p (0-based) of n falls in value bin ``1 + floor(p * bins / n)``,
    so bin sizes differ by at most one. Among tied customers the one earlier
    in the input counts as the smaller value: it gets the lower frequency and
    monetary score, and the higher recency score. The returned cut points are
    the largest value of each value bin; scoring with them reproduces the
    ranks except inside tie groups that straddle a cut point.

    **Given cut points** are applied as they are; unused scores are not warned
    about (scoring a few new customers commonly leaves some levels empty).

    **Per-dimension methods.** Each dimension is scored exactly as the same
    method would score it alone: a mixed call equals, dimension by dimension,
    the calls with one method for all three, and warns only about the
    dimensions scored by a data-driven method. The result's ``method`` is then
    ``"mixed"`` (or the one method name when all three agree).

    **Customers without purchase.** From a summary, only customers with
    ``has_purchase`` enter the cut points; the others get score 0 in all three
    dimensions, so the arrays stay aligned with the summary's rows.

    The computation is vectorised: the needed order statistics are selected
    exactly from a sorted sample and a narrow band of values around each
    target (no full sort), and scores are counts of cut points below each
    value.

    References
    ----------
    Hughes, A. M. (1994). *Strategic Database Marketing*. Probus. (RFM
    quintile scoring.)

    Hyndman, R. J., & Fan, Y. (1996). Sample quantiles in statistical
    packages. *The American Statistician*, 50(4), 361-365. (Definition 7, the
    linear interpolation used for the cut points.)

    Examples
    --------
    >>> s = rfm_scores(
    ...     time_since_last=[1, 30, 7, 90, 3],
    ...     n_purchases=[5, 1, 2, 3, 8],
    ...     total_spend=[120.0, 15.0, 40.0, 9.0, 300.0],
    ... )
    >>> s.r.tolist(), s.f.tolist(), s.m.tolist()
    ([5, 2, 3, 1, 4], [4, 1, 2, 3, 5], [4, 2, 3, 1, 5])
    >>> s.edges.n_purchases.round(6).tolist()
    [1.8, 2.6, 3.8, 5.6]
    >>> rfm_scores(
    ...     time_since_last=[1, 2], n_purchases=[3, 4], total_spend=[5.0, 6.0], bins=2,
    ...     method="rank",
    ... ).r.tolist()
    [2, 1]

    Quantiles for recency and spend, fixed purchase counts for frequency
    (here the frequency quantiles would coincide and warn; the cut points 1, 2,
    4, 7 score one purchase 1, two 2, three or four 3, five to seven 4, more 5):

    >>> mixed = rfm_scores(
    ...     time_since_last=[1, 30, 7, 90, 3, 12],
    ...     n_purchases=[1, 1, 2, 1, 9, 4],
    ...     total_spend=[20.0, 15.0, 40.0, 9.0, 300.0, 80.0],
    ...     method={
    ...         "time_since_last": "quantile",
    ...         "n_purchases": [1, 2, 4, 7],
    ...         "total_spend": "quantile",
    ...     },
    ... )
    >>> mixed.f.tolist(), mixed.r.tolist(), mixed.method
    ([1, 1, 2, 1, 5, 3], [5, 2, 4, 1, 5, 3], 'mixed')
    >>> mixed.edges.n_purchases.tolist()
    [1.0, 2.0, 4.0, 7.0]
    >>> rfm_scores(time_since_last=[1, -2], n_purchases=[3, 4], total_spend=[5.0, 6.0])
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: time_since_last must be non-negative; 1 of 2 values breaks this ...
    """
    n_bins = v.check_int(bins, "bins", low=2, high=_MAX_BINS)
    methods = _dimension_methods(method, n_bins)
    kinds = {"explicit" if isinstance(m, np.ndarray) else m for m in methods.values()}
    method_name = kinds.pop() if len(kinds) == 1 else "mixed"
    buyers: BoolArray | None = None
    arrays = {
        "time_since_last": time_since_last,
        "n_purchases": n_purchases,
        "total_spend": total_spend,
    }
    if summary is not None:
        if not isinstance(summary, CustomerSummary):
            raise InputTypeError(
                "summary (rfm_scores' only positional argument) must be a CustomerSummary, "
                f"got {type(summary).__name__}; pass arrays by keyword: time_since_last=..., "
                "n_purchases=..., total_spend=..."
            )
        passed = [name for name, arr in arrays.items() if arr is not None]
        if passed:
            raise InputTypeError(
                f"{', '.join(passed)} must be left out when a CustomerSummary is given "
                "(the RFM quantities are derived from it)"
            )
        shift = _observation_end_shift(summary, observation_end)
        buyers = np.asarray(summary.has_purchase, dtype=np.bool_)
        if not buyers.any():
            raise InputError(
                f"summary has no customer with a purchase among its "
                f"{buyers.size} rows; RFM scores are undefined"
            )
        # Time since the last purchase at the analysis date: the summary's
        # time_since_last (T - recency, kept exact by the summary) plus the time
        # from the end of its data to observation_end.
        rec = np.asarray(summary.time_since_last, dtype=np.float64)[buyers] + shift
        freq = np.asarray(summary.n_purchases, dtype=np.float64)[buyers]
        mon = np.asarray(summary.total_spend, dtype=np.float64)[buyers]
    else:
        missing = [name for name, arr in arrays.items() if arr is None]
        if time_since_last is None or n_purchases is None or total_spend is None:
            raise InputTypeError(
                f"{', '.join(missing)} required: pass a CustomerSummary, or all of "
                "time_since_last, n_purchases and total_spend by keyword"
            )
        if observation_end is not None:
            raise InputTypeError(
                "observation_end applies to a CustomerSummary only; arrays are already measured at "
                "their analysis date"
            )
        rec = v.as_float_array(time_since_last, "time_since_last", nonnegative=True)
        freq = v.as_float_array(n_purchases, "n_purchases", nonnegative=True)
        mon = v.as_float_array(total_spend, "total_spend")
        v.check_same_length(("time_since_last", rec), ("n_purchases", freq), ("total_spend", mon))

    out_scores: dict[str, IntArray] = {}
    out_edges: dict[str, FloatArray] = {}
    for dim, x in (("time_since_last", rec), ("n_purchases", freq), ("total_spend", mon)):
        dim_method = methods[dim]
        given, kind = (
            (dim_method, "explicit") if isinstance(dim_method, np.ndarray) else (None, dim_method)
        )
        lower, edges, sizes = _value_bins(x, n_bins, kind, given)
        if dim == "time_since_last":
            score = np.subtract(n_bins, lower, dtype=np.int64)
            sizes = sizes[::-1]
        else:
            score = np.add(lower, 1, dtype=np.int64)
        if given is None and (sizes == 0).any():
            _warn_collapse(dim, sizes, edges, kind)
        if buyers is not None:
            full = np.zeros(buyers.size, dtype=np.int64)
            full[buyers] = score
            score = full
        out_scores[dim] = _ro(score.astype(np.int64, copy=False))
        out_edges[dim] = _ro(np.array(edges, dtype=np.float64))
    return RfmScores(
        r=out_scores["time_since_last"],
        f=out_scores["n_purchases"],
        m=out_scores["total_spend"],
        edges=RfmEdges(**out_edges),
        bins=n_bins,
        method=method_name,
        customer_ids=None if summary is None else summary.customer_ids,
    )


_RFM_DIMENSIONS = ("time_since_last", "n_purchases", "total_spend")
_RFM_METHOD_FORMS = (
    "'quantile', 'rank', an RfmEdges, a mapping from 'time_since_last', 'n_purchases' and "
    "'total_spend' to a method, or a sequence of three methods (time_since_last, n_purchases, "
    "total_spend), each method being 'quantile', 'rank' or bins - 1 cut points"
)


def _dimension_methods(method: object, bins: int) -> dict[str, str | FloatArray]:
    """Return the method of each dimension: "quantile", "rank" or checked cut points."""
    if isinstance(method, str):
        name = v.check_choice(method, "method", ("quantile", "rank"))
        return dict.fromkeys(_RFM_DIMENSIONS, name)
    if isinstance(method, RfmEdges):
        parts: list[tuple[str, object]] = [
            (f"method.{dim}", getattr(method, dim)) for dim in _RFM_DIMENSIONS
        ]
    elif isinstance(method, Mapping):
        keys = list(method)
        unknown = [k for k in keys if k not in _RFM_DIMENSIONS]
        if unknown:
            raise InputError(
                f"method has unknown key {unknown[0]!r}; a per-dimension method mapping takes "
                "the keys 'time_since_last', 'n_purchases' and 'total_spend'"
            )
        missing = [dim for dim in _RFM_DIMENSIONS if dim not in method]
        if missing:
            listed = ", ".join(repr(dim) for dim in missing)
            raise InputError(
                f"method lacks the key(s) {listed}; a per-dimension method mapping needs all "
                "of 'time_since_last', 'n_purchases' and 'total_spend' (use 'quantile' for the "
                "default)"
            )
        parts = [(f"method[{dim!r}]", method[dim]) for dim in _RFM_DIMENSIONS]
    elif isinstance(method, Sequence) and not isinstance(method, bytes):
        items = list(method)
        if len(items) != 3:
            raise InputError(f"method must be {_RFM_METHOD_FORMS}; got a sequence of {len(items)}")
        parts = [(f"method.{dim}", item) for dim, item in zip(_RFM_DIMENSIONS, items, strict=True)]
    else:
        raise InputTypeError(f"method must be {_RFM_METHOD_FORMS}; got {type(method).__name__}")
    out: dict[str, str | FloatArray] = {}
    for dim, (name, part) in zip(_RFM_DIMENSIONS, parts, strict=True):
        if isinstance(part, str):
            if part not in ("quantile", "rank"):
                raise InputError(
                    f"{name} must be 'quantile', 'rank' or bins - 1 = {bins - 1} cut points; "
                    f"got {part!r}"
                )
            out[dim] = part
        else:
            out[dim] = _cut_points(part, name, bins)
    return out


def _cut_points(part: object, name: str, bins: int) -> FloatArray:
    """Check ``bins - 1`` finite, non-decreasing cut points."""
    if part is None or isinstance(part, Mapping | bytes):
        raise InputTypeError(
            f"{name} must be 'quantile', 'rank' or bins - 1 = {bins - 1} cut points; "
            f"got {type(part).__name__}"
        )
    edges = v.as_float_array(part, name, allow_empty=True)  # type: ignore[arg-type]
    if edges.size != bins - 1:
        raise InputError(f"{name} must hold bins - 1 = {bins - 1} cut points, got {edges.size}")
    bad = np.zeros(edges.size, dtype=np.bool_)
    bad[1:] = edges[1:] < edges[:-1]
    if bad.any():
        raise InputError(
            f"{name} cut points must be non-decreasing; "
            + v.describe_violations(bad, (name, edges))
        )
    return edges


def _value_bins(
    x: FloatArray, bins: int, method: str, given: FloatArray | None
) -> tuple[np.ndarray[Any, Any], FloatArray, IntArray]:
    """Value bin - 1 (0..bins-1, right-closed bins) of each value, the cut points, bin sizes."""
    if given is not None:
        edges = given
    elif method == "quantile":
        edges = _quantile_edges(x, bins)
    else:
        return _rank_bins(x, bins)
    below, above = _edges_below(x, edges)
    return below, edges, _bin_sizes(x.size, above)


def _bin_sizes(n: int, above: IntArray) -> IntArray:
    """Sizes of the value bins from the number of values above each cut point."""
    upper = np.concatenate(([n], above))
    lower = np.concatenate((above, [0]))
    return (upper - lower).astype(np.int64)


def _edges_below(x: FloatArray, edges: FloatArray) -> tuple[np.ndarray[Any, Any], IntArray]:
    """Count cut points below each value and values above each cut point.

    Returns, for each value, the number of cut points strictly below it (its
    value bin - 1), and for each cut point the number of values strictly above it.
    """
    if edges.size <= 16:
        distinct, mult = np.unique(edges, return_counts=True)
        acc = np.zeros(x.size, dtype=np.int8)
        above_distinct = np.empty(distinct.size, dtype=np.int64)
        for j, (e, k) in enumerate(zip(distinct, mult, strict=True)):
            mask = x > e
            above_distinct[j] = np.count_nonzero(mask)
            if k == 1:
                acc += mask
            else:
                acc += mask.astype(acc.dtype) * np.int8(k)
        above = above_distinct[np.searchsorted(distinct, edges)]
        return acc, above
    idx = np.searchsorted(edges, x, side="left")
    counts = np.bincount(idx, minlength=edges.size + 1)
    above = (x.size - np.cumsum(counts)[:-1]).astype(np.int64)
    return idx, above


def _quantile_edges(x: FloatArray, bins: int) -> FloatArray:
    """Cut points at the k/bins quantiles, bit for bit numpy's default (linear) method."""
    n = x.size
    q = np.arange(1, bins) / bins
    h = (n - 1) * q
    prev = np.floor(h)
    gamma = h - prev
    lo = prev.astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    ranks = np.unique(np.concatenate((lo, hi)))
    stats = _order_statistics(x, ranks)
    a = stats[np.searchsorted(ranks, lo)]
    b = stats[np.searchsorted(ranks, hi)]
    # The same two-sided linear interpolation as numpy (exact at both ends).
    diff = b - a
    out = a + diff * gamma
    upper = gamma >= 0.5
    out[upper] = (b - diff * (1 - gamma))[upper]
    return out


def _rank_bins(x: FloatArray, bins: int) -> tuple[IntArray, FloatArray, IntArray]:
    """Equal-size value bins by stable rank, without sorting all values.

    Position p of the stable order falls in bin 1 + floor(p * bins / n); bin j
    ends at position C_j - 1 with C_j = ceil(j n / bins). With v_j the value
    at that position, a value above v_j lies past bin j and a value below it
    lies within bins 1..j, so only values equal to some v_j need their exact
    position: (number of smaller values) + (rank among equal values by input
    position).
    """
    n = x.size
    j = np.arange(1, bins, dtype=np.int64)
    ends = -((-j * n) // bins)  # C_j = ceil(j n / bins) >= 1
    ranks = np.unique(ends - 1)
    stats = _order_statistics(x, ranks)
    edges = stats[np.searchsorted(ranks, ends - 1)]
    below, _ = _edges_below(x, edges)
    lower = below.astype(np.int64)
    for value in np.unique(edges):
        tied = np.flatnonzero(x == value)
        smaller = np.count_nonzero(x < value)
        position = smaller + np.arange(tied.size, dtype=np.int64)
        lower[tied] = (position * bins) // n
    starts = np.concatenate(([0], ends))
    stops = np.concatenate((ends, [n]))
    return lower, edges, (stops - starts).astype(np.int64)


def _order_statistics(x: FloatArray, ranks: IntArray) -> FloatArray:
    """Exact ``numpy.sort(x)[ranks]`` for sorted, distinct ``ranks``, without a full sort.

    A strided sample is sorted; around each target's position in the sample a
    band of sample values brackets the target with a margin of about six
    standard deviations of a sample quantile. Heavy ties are resolved by
    counting alone; otherwise the values inside all bands are extracted in one
    pass and the targets selected there. Every answer is verified by counts,
    so an unlucky sample only costs time (a full partition), never exactness.
    """
    n = x.size
    if n < _SELECT_MIN_SIZE:
        return np.asarray(np.partition(x, ranks)[ranks], dtype=np.float64)
    step = n // _SAMPLE_SIZE
    sample = np.sort(x[::step])
    m = sample.size
    margin = 3 * math.isqrt(m) + 8
    centre = np.rint(ranks * ((m - 1) / (n - 1))).astype(np.int64)
    lo_i = np.maximum(centre - margin, 0)
    hi_i = np.minimum(centre + margin, m - 1)
    out = np.full(ranks.size, np.nan)
    # Bands: (first rank, end rank, lower value or None, upper value or None).
    pending: list[tuple[int, int, float | None, float | None]] = []
    start = 0
    for stop in range(1, ranks.size + 1):
        if stop < ranks.size and lo_i[stop] <= hi_i[stop - 1]:
            continue  # overlapping bands: select them together
        lo_s, hi_s = int(lo_i[start]), int(hi_i[stop - 1])
        candidates = np.unique(sample[lo_s : hi_s + 1])
        resolved = candidates.size <= 4 and _resolve_ties(
            x, ranks[start:stop], candidates, out[start:stop]
        )
        if not resolved:
            lo = float(sample[lo_s]) if lo_s > 0 else None
            hi = float(sample[hi_s]) if hi_s < m - 1 else None
            pending.append((start, stop, lo, hi))
        start = stop
    if pending:
        _select_in_bands(x, ranks, pending, out)
    return out


def _resolve_ties(x: FloatArray, ranks: IntArray, candidates: FloatArray, out: FloatArray) -> bool:
    """Try the few distinct sample values near the targets; True when all are found.

    ``out`` is the slice of the result that belongs to ``ranks``.
    """
    found = np.full(ranks.size, np.nan)
    for c in candidates:
        n_below = np.count_nonzero(x < c)
        n_up_to = np.count_nonzero(x <= c)
        found[(ranks >= n_below) & (ranks < n_up_to)] = c
    if np.isnan(found).any():
        return False
    out[:] = found
    return True


def _select_in_bands(
    x: FloatArray,
    ranks: IntArray,
    bands: list[tuple[int, int, float | None, float | None]],
    out: FloatArray,
) -> None:
    n = x.size
    union: BoolArray | None = None
    unbounded = False
    below: list[int] = []
    for _, _, lo, hi in bands:
        mask: BoolArray | None = None
        n_below = 0
        if lo is not None:
            mask = x >= lo
            n_below = n - int(np.count_nonzero(mask))
        if hi is not None:
            mask = x <= hi if mask is None else np.logical_and(mask, x <= hi, out=mask)
        below.append(n_below)
        if mask is None:
            unbounded = True
        elif union is None:
            union = mask
        else:
            np.logical_or(union, mask, out=union)
    values = x if unbounded or union is None else x[union]
    for (a, b, lo, hi), n_below in zip(bands, below, strict=True):
        inside = values
        if lo is not None:
            inside = inside[inside >= lo]
        if hi is not None:
            inside = inside[inside <= hi]
        k = ranks[a:b] - n_below
        if k[0] >= 0 and k[-1] < inside.size:
            out[a:b] = np.partition(inside, k)[k]
        else:
            # The sample misled us (e.g. values periodic in the sampling stride).
            out[a:b] = np.partition(x, ranks[a:b])[ranks[a:b]]


def _warn_collapse(dim: str, sizes: IntArray, edges: FloatArray, method: str) -> None:
    used = [k + 1 for k in range(sizes.size) if sizes[k] > 0]
    unused = [k + 1 for k in range(sizes.size) if sizes[k] == 0]
    n = int(sizes.sum())
    if method == "rank":
        why = f"only {n} customers for {sizes.size} bins"
    else:
        why = (
            f"tied values make cut points coincide or leave bins empty (cut points "
            f"{np.round(edges, 6).tolist()}); ties are never split by the quantile method, "
            "method='rank' gives equal-size bins, and a per-dimension method gives this "
            f"dimension its own cut points (method={{..., {dim!r}: [cut points], ...}})"
        )
    warnings.warn(
        f"{dim} scores collapse: {len(used)} of {sizes.size} score levels used "
        f"(scores {unused} are empty): {why}",
        DataQualityWarning,
        stacklevel=3,
    )
