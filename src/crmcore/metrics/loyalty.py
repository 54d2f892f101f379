"""Loyalty metrics: RFM scores and segments, loyalty classes, visit levels, the ladder.

Everything here is a pure function over per-customer arrays (or a
:class:`~crmcore.CustomerSummary`):

- :func:`rfm_scores` scores recency, frequency and monetary value 1..bins by
  quantiles, by rank, or by given cut points, one method for all three or one
  per dimension; :func:`rfm_segments` names the
  score cells with rules that are plain data (:data:`RF_GRID`,
  :data:`RFM_CUBE`), and :func:`validate_segment_rules` checks such rules for
  gaps, overlaps and dead rules.
- :func:`loyalty_class`, :func:`visit_level`, :func:`ladder_stage` and
  :func:`customer_status` classify customers from their purchase history with
  documented, configurable thresholds.
- :func:`recommended_level` reads Kotler's grid of relationship levels;
  :func:`health_score` and :func:`band` build and band weighted 0-100 scores.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, Literal, TypeAlias, overload

import attrs
import numpy as np

from crmcore import _validation as v
from crmcore._periods import unit_factor
from crmcore._typing import ArrayLike, BoolArray, FloatArray, IntArray
from crmcore._validation import readonly as _ro
from crmcore.errors import DataQualityWarning, InputError, InputTypeError
from crmcore.records import Customer, CustomerStatus, LadderStage, RelationshipLevel
from crmcore.summary import CustomerSummary, period_index

__all__ = [
    "LOYALTY_CLASSES",
    "RFM_CUBE",
    "RF_GRID",
    "VISIT_LEVELS",
    "LadderInputs",
    "RfmEdges",
    "RfmScores",
    "SegmentRuleReport",
    "band",
    "customer_status",
    "health_score",
    "ladder_inputs",
    "ladder_stage",
    "loyalty_class",
    "recommended_level",
    "referral_counts",
    "rfm_scores",
    "rfm_segments",
    "validate_segment_rules",
    "visit_level",
]

RfmMethod: TypeAlias = Literal["quantile", "rank"]
TimeUnit: TypeAlias = Literal["h", "D", "W", "M", "Y"]
#: Segment rules: segment name -> {dimension ("r", "f", "m") -> (lowest, highest) score}.
SegmentRules: TypeAlias = Mapping[str, Mapping[str, tuple[int, int]]]
ObjectArray: TypeAlias = np.ndarray[Any, np.dtype[np.object_]]
StrArray: TypeAlias = np.ndarray[Any, np.dtype[np.str_]]

_DIMENSIONS = ("r", "f", "m")
#: One year in each time unit: 8760 hours, 365 days, 52 weeks, 12 months.
_YEAR = {"h": 8760.0, "D": 365.0, "W": 52.0, "M": 12.0, "Y": 1.0}
# Exact order statistics: below this size np.partition of a copy is as fast as
# the sample-and-band selection of _order_statistics.
_SELECT_MIN_SIZE = 1 << 17
# Largest number of score levels: beyond it a score no longer summarises anything,
# and the cut points would cost memory in proportion.
_MAX_BINS = 1000
_SAMPLE_SIZE = 1 << 16
# Above this many cells segment labels are found rule by rule, not by a lookup table.
_MAX_LOOKUP_CELLS = 1 << 20

#: Loyalty classes of :func:`loyalty_class`, from the weakest tie to the strongest.
LOYALTY_CLASSES: tuple[str, ...] = ("potential", "new", "old", "loyal")
#: Visit levels of :func:`visit_level`, from the weakest tie to the strongest.
VISIT_LEVELS: tuple[str, ...] = ("passer_by", "customer", "regular", "premium", "devotee")


def _frozen_rules(rules: dict[str, dict[str, tuple[int, int]]]) -> SegmentRules:
    return MappingProxyType({name: MappingProxyType(dict(spec)) for name, spec in rules.items()})


#: The common ten-segment map over (R, F) scores 1-5; it partitions the 25 cells.
#: First match wins (the cells do not overlap, so the order does not matter here).
RF_GRID: SegmentRules = _frozen_rules(
    {
        "champions": {"r": (5, 5), "f": (4, 5)},
        "loyal": {"r": (3, 4), "f": (4, 5)},
        "potential_loyalists": {"r": (4, 5), "f": (2, 3)},
        "new": {"r": (5, 5), "f": (1, 1)},
        "promising": {"r": (4, 4), "f": (1, 1)},
        "need_attention": {"r": (3, 3), "f": (3, 3)},
        "about_to_sleep": {"r": (3, 3), "f": (1, 2)},
        "at_risk": {"r": (1, 2), "f": (3, 4)},
        "cannot_lose": {"r": (1, 2), "f": (5, 5)},
        "hibernating": {"r": (1, 2), "f": (1, 2)},
    }
)

_HIGH, _LOW = (4, 5), (1, 3)
#: The eight-class R×F×M cube over scores 1-5: each dimension high (4-5) or
#: low (1-3); it partitions the 125 cells.
RFM_CUBE: SegmentRules = _frozen_rules(
    {
        "important_value": {"r": _HIGH, "f": _HIGH, "m": _HIGH},
        "important_develop": {"r": _HIGH, "f": _LOW, "m": _HIGH},
        "important_retain": {"r": _LOW, "f": _HIGH, "m": _HIGH},
        "important_win_back": {"r": _LOW, "f": _LOW, "m": _HIGH},
        "general_value": {"r": _HIGH, "f": _HIGH, "m": _LOW},
        "general_develop": {"r": _HIGH, "f": _LOW, "m": _LOW},
        "general_retain": {"r": _LOW, "f": _HIGH, "m": _LOW},
        "general_win_back": {"r": _LOW, "f": _LOW, "m": _LOW},
    }
)


# --------------------------------------------------------------------------- RFM


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

    time_since_last: FloatArray
    n_purchases: FloatArray
    total_spend: FloatArray


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
    """

    r: IntArray
    f: IntArray
    m: IntArray
    edges: RfmEdges
    bins: int
    method: str

    def __len__(self) -> int:
        return int(self.r.size)


def rfm_scores(
    summary: CustomerSummary | None = None,
    /,
    *,
    time_since_last: ArrayLike | None = None,
    n_purchases: ArrayLike | None = None,
    total_spend: ArrayLike | None = None,
    as_of: object = None,
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
        to ``as_of``), ``n_purchases`` and ``total_spend``. Note that the
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
    as_of : datetime, date, numpy.datetime64 or ISO string, optional
        Analysis date, with a summary built by :func:`~crmcore.summarize`
        only: time since the last purchase is measured up to the period
        holding ``as_of`` (not before the end of the summary's data). Default:
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
        a summary together with arrays, missing arrays, ``as_of`` without a
        summary built by :func:`~crmcore.summarize` or before its end, an
        unknown method name, cut points of the wrong length or not ascending,
        a method mapping with unknown or missing keys, a method sequence not
        of length three, or a summary without any buyer.
    InputTypeError
        On non-numeric input or a ``method`` of another type.

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
                "rfm_scores takes only a CustomerSummary positionally, got "
                f"{type(summary).__name__}; pass arrays by keyword: time_since_last=..., "
                "n_purchases=..., total_spend=..."
            )
        passed = [name for name, arr in arrays.items() if arr is not None]
        if passed:
            raise InputError(
                f"{', '.join(passed)} must be left out when a CustomerSummary is given "
                "(the RFM quantities are derived from it)"
            )
        shift = _as_of_shift(summary, as_of)
        buyers = np.asarray(summary.has_purchase, dtype=np.bool_)
        if not buyers.any():
            raise InputError(
                f"summary has no customer with a purchase among its "
                f"{buyers.size} rows; RFM scores are undefined"
            )
        # Time since the last purchase at the analysis date: the summary's
        # time_since_last (T - recency, kept exact by the summary) plus the time
        # from the end of its data to as_of.
        rec = np.asarray(summary.time_since_last, dtype=np.float64)[buyers] + shift
        freq = np.asarray(summary.n_purchases, dtype=np.float64)[buyers]
        mon = np.asarray(summary.total_spend, dtype=np.float64)[buyers]
    else:
        missing = [name for name, arr in arrays.items() if arr is None]
        if time_since_last is None or n_purchases is None or total_spend is None:
            raise InputError(
                f"{', '.join(missing)} required: pass a CustomerSummary, or all of "
                "time_since_last, n_purchases and total_spend by keyword"
            )
        if as_of is not None:
            raise InputError(
                "as_of applies to a CustomerSummary only; arrays are already measured at "
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


# ---------------------------------------------------------------------- segments


@attrs.frozen(kw_only=True, eq=False)
class SegmentRuleReport:
    """What :func:`validate_segment_rules` found about a set of segment rules.

    Attributes
    ----------
    dimensions : tuple of str
        ``("r", "f")``, or ``("r", "f", "m")`` when a rule uses ``"m"``.
    bins : int
        Scores per dimension (1..bins).
    grid : ndarray of str
        The winning segment of each cell, indexed by score - 1
        (``grid[r - 1, f - 1]``); ``""`` for a gap.
    gaps : ndarray of int64, shape (k, len(dimensions))
        Score cells no rule matches.
    overlaps : ndarray of int64, shape (k, len(dimensions))
        Score cells more than one rule matches (the first one wins).
    overlapping_pairs : tuple of (str, str)
        Pairs of rules that share at least one cell.
    unreachable : tuple of str
        Rules that win no cell: earlier rules take all of their cells, or their
        ranges lie outside 1..bins.
    """

    dimensions: tuple[str, ...]
    bins: int
    grid: StrArray
    gaps: IntArray
    overlaps: IntArray
    overlapping_pairs: tuple[tuple[str, str], ...]
    unreachable: tuple[str, ...]

    @property
    def is_partition(self) -> bool:
        """True when every cell is matched by exactly one rule and every rule wins a cell."""
        return self.gaps.shape[0] == 0 and self.overlaps.shape[0] == 0 and not self.unreachable


def _check_rules(rules: object) -> list[tuple[str, dict[str, tuple[int, int]]]]:
    """Validate segment rules and return them as (name, {dim: (lo, hi)}) in order."""
    if not isinstance(rules, Mapping):
        raise InputTypeError(
            "rules must be a mapping of segment name -> {dimension: (low, high)}, "
            f"got {type(rules).__name__}"
        )
    if not rules:
        raise InputError("rules must hold at least one segment")
    parsed: list[tuple[str, dict[str, tuple[int, int]]]] = []
    for name, spec in rules.items():
        if not isinstance(name, str) or not name:
            raise InputTypeError(f"rules: segment names must be non-empty strings, got {name!r}")
        if not isinstance(spec, Mapping):
            raise InputTypeError(
                f"rules[{name!r}] must be a mapping of dimension -> (low, high), "
                f"got {type(spec).__name__}"
            )
        ranges: dict[str, tuple[int, int]] = {}
        for dim, rng in spec.items():
            if dim not in _DIMENSIONS:
                raise InputError(
                    f"rules[{name!r}] has an unknown dimension {dim!r}; use 'r', 'f' or 'm'"
                )
            ranges[dim] = _check_range(rng, f"rules[{name!r}][{dim!r}]")
        parsed.append((name, ranges))
    return parsed


def _check_range(rng: object, label: str) -> tuple[int, int]:
    def is_int(x: object) -> bool:
        return isinstance(x, numbers.Integral) and not isinstance(x, bool)

    if is_int(rng):
        lo = hi = int(rng)  # type: ignore[call-overload]
    elif isinstance(rng, Sequence) and not isinstance(rng, str) and len(rng) == 2:
        if not (is_int(rng[0]) and is_int(rng[1])):
            raise InputTypeError(f"{label} must hold two integer scores, got {rng!r}")
        lo, hi = int(rng[0]), int(rng[1])
    else:
        raise InputTypeError(f"{label} must be a score or a (low, high) pair, got {rng!r}")
    if lo < 1 or hi < lo:
        raise InputError(f"{label} must satisfy 1 <= low <= high, got ({lo}, {hi})")
    return lo, hi


def _rule_dimensions(parsed: list[tuple[str, dict[str, tuple[int, int]]]]) -> tuple[str, ...]:
    if any("m" in spec for _, spec in parsed):
        return _DIMENSIONS
    return ("r", "f")


def rfm_segments(
    scores: RfmScores | None = None,
    /,
    *,
    r: ArrayLike | None = None,
    f: ArrayLike | None = None,
    m: ArrayLike | None = None,
    rules: SegmentRules = RF_GRID,
    unmatched: str = "unclassified",
) -> StrArray:
    """Name each customer's segment from its RFM scores; the first matching rule wins.

    Parameters
    ----------
    scores : RfmScores, optional (positional only)
        Scores from :func:`rfm_scores`; its ``r``, ``f`` and ``m`` are used.
        Leave out to pass the score arrays.
    r, f : array-like of int, keyword-only
        Recency and frequency scores (1 = worst), when ``scores`` is left out.
    m : array-like of int, keyword-only, optional
        Monetary scores; required when a rule uses ``"m"``.
    rules : mapping, default RF_GRID
        Segment name -> {``"r"``/``"f"``/``"m"`` -> ``(low, high)`` inclusive
        score range, or a single score}. A dimension a rule leaves out matches
        any score (so ``{}`` is a catch-all). Rules are tried in order; the
        first that matches wins. Presets: :data:`RF_GRID`, :data:`RFM_CUBE`.
    unmatched : str, default "unclassified"
        Label of customers no rule matches: customers with score 0 (no
        purchase, from a summary) and any gap in the rules
        (see :func:`validate_segment_rules`).

    Returns
    -------
    ndarray of str
        One segment name per customer.

    Raises
    ------
    InputError
        On malformed rules, negative or non-integer scores, mismatched
        lengths, or rules using ``"m"`` without ``m``.
    InputTypeError
        On rules that are not mappings of ranges.

    Notes
    -----
    :data:`RF_GRID` is the ten-segment (R, F) map common in RFM practice:
    champions R5 F4-5; loyal R3-4 F4-5; potential loyalists R4-5 F2-3; new R5
    F1; promising R4 F1; need attention R3 F3; about to sleep R3 F1-2; at risk
    R1-2 F3-4; cannot lose R1-2 F5; hibernating R1-2 F1-2.

    :data:`RFM_CUBE` splits each of R, F and M into high (4-5) and low (1-3)
    and names the eight corners as in the common eight-class RFM model
    (important/general value, develop, retain, win back): "important" means
    high M; R and F high is "value", R high and F low "develop", R low and F
    high "retain", both low "win back". High is the top two quintiles, above
    the middle score 3 that holds the median.

    Examples
    --------
    >>> rfm_segments(r=[5, 3, 1, 4], f=[5, 3, 2, 1]).tolist()
    ['champions', 'need_attention', 'hibernating', 'promising']
    >>> rules = {"best": {"r": (4, 5), "f": (4, 5)}, "rest": {}}
    >>> rfm_segments(r=[5, 2], f=[4, 5], rules=rules).tolist()
    ['best', 'rest']
    >>> rfm_segments(r=[5, 0], f=[4, 0]).tolist()
    ['champions', 'unclassified']
    >>> rfm_segments(r=[5, 4], f=[4, 4], rules=RFM_CUBE)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: m is required: rule 'important_value' uses the monetary score
    """
    if scores is not None:
        if not isinstance(scores, RfmScores):
            raise InputTypeError(
                "rfm_segments takes only an RfmScores positionally, got "
                f"{type(scores).__name__}; pass score arrays by keyword: r=..., f=..., m=..."
            )
        given = [name for name, arr in (("r", r), ("f", f), ("m", m)) if arr is not None]
        if given:
            raise InputError(
                f"{', '.join(given)} must be left out when an RfmScores is given "
                "(its r, f and m are used)"
            )
        r, f, m = scores.r, scores.f, scores.m
    if r is None or f is None:
        raise InputError("r and f are required unless an RfmScores is given")
    if not isinstance(unmatched, str):
        raise InputTypeError(f"unmatched must be a string, got {type(unmatched).__name__}")
    parsed = _check_rules(rules)
    dims = _rule_dimensions(parsed)
    by_dim: dict[str, IntArray] = {
        "r": v.as_int_array(r, "r", allow_empty=True, nonnegative=True),
        "f": v.as_int_array(f, "f", allow_empty=True, nonnegative=True),
    }
    if "m" in dims:
        if m is None:
            first = next(name for name, spec in parsed if "m" in spec)
            raise InputError(f"m is required: rule {first!r} uses the monetary score")
        by_dim["m"] = v.as_int_array(m, "m", allow_empty=True, nonnegative=True)
    elif m is not None:
        by_dim["m"] = v.as_int_array(m, "m", allow_empty=True, nonnegative=True)
    v.check_same_length(*((d, by_dim[d]) for d in by_dim))
    names = np.array([name for name, _ in parsed] + [unmatched])
    n = by_dim["r"].size
    if n == 0:
        return names[np.zeros(0, dtype=np.int64)]
    top = max(int(by_dim[d].max()) for d in dims)
    if (top + 1) ** len(dims) <= _MAX_LOOKUP_CELLS:
        # One lookup table over all score cells, then one gather.
        table = _cell_codes(parsed, dims, top)
        flat = np.zeros(n, dtype=np.int64)
        for d in dims:
            flat *= top + 1
            flat += by_dim[d]
        code = table.reshape(-1)[flat]
    else:
        code = _codes_by_rule(parsed, by_dim, n)
    return names[code]


def _codes_by_rule(
    parsed: list[tuple[str, dict[str, tuple[int, int]]]], scores: Mapping[str, IntArray], n: int
) -> IntArray:
    code = np.full(n, len(parsed), dtype=np.int64)
    free = np.ones(n, dtype=np.bool_)
    for i, (_, spec) in enumerate(parsed):
        hit = free.copy()
        for dim, (lo, hi) in spec.items():
            s = scores[dim]
            hit &= (s >= lo) & (s <= hi)
        code[hit] = i
        free &= ~hit
    return code


def _cell_codes(
    parsed: list[tuple[str, dict[str, tuple[int, int]]]], dims: tuple[str, ...], top: int
) -> IntArray:
    """Winning rule index of every cell with scores 0..top (len(parsed) where none matches)."""
    axes = np.meshgrid(*([np.arange(top + 1)] * len(dims)), indexing="ij")
    cells = {d: a.reshape(-1) for d, a in zip(dims, axes, strict=True)}
    size = (top + 1) ** len(dims)
    return _codes_by_rule(parsed, cells, size).reshape((top + 1,) * len(dims))


def validate_segment_rules(rules: SegmentRules, *, bins: int = 5) -> SegmentRuleReport:
    """Check segment rules for gaps, overlaps and rules that can never win.

    Parameters
    ----------
    rules : mapping
        Segment rules as accepted by :func:`rfm_segments`.
    bins : int, default 5
        Scores per dimension. The cells checked are all score combinations
        1..bins over (R, F), or over (R, F, M) when a rule uses ``"m"``.

    Returns
    -------
    SegmentRuleReport
        The gaps, overlaps, overlapping rule pairs and unreachable rules, and
        the winning segment of every cell; ``is_partition`` tells whether the
        rules cover every cell exactly once with no dead rule.

    Raises
    ------
    InputError
        On malformed rules or ``bins < 1``.
    InputTypeError
        On rules that are not mappings of ranges.

    Examples
    --------
    >>> validate_segment_rules(RF_GRID).is_partition
    True
    >>> rules = {"top": {"r": (4, 5)}, "high": {"r": 5}, "low": {"r": (1, 2)}}
    >>> report = validate_segment_rules(rules)
    >>> report.gaps.tolist()[:2], report.unreachable, report.overlapping_pairs
    ([[3, 1], [3, 2]], ('high',), (('top', 'high'),))
    >>> validate_segment_rules({"bad": {"x": (1, 2)}})
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: rules['bad'] has an unknown dimension 'x'; use 'r', 'f' or 'm'
    """
    parsed = _check_rules(rules)
    n_bins = v.check_int(bins, "bins", low=1)
    dims = _rule_dimensions(parsed)
    d = len(dims)
    axes = np.meshgrid(*([np.arange(1, n_bins + 1)] * d), indexing="ij")
    cells = np.stack([a.reshape(-1) for a in axes], axis=1).astype(np.int64)
    matches = np.zeros((len(parsed), cells.shape[0]), dtype=np.bool_)
    for i, (_, spec) in enumerate(parsed):
        hit = np.ones(cells.shape[0], dtype=np.bool_)
        for dim, (lo, hi) in spec.items():
            if dim in dims:
                col = cells[:, dims.index(dim)]
                hit &= (col >= lo) & (col <= hi)
        matches[i] = hit
    n_match = matches.sum(axis=0)
    winner = np.where(n_match > 0, matches.argmax(axis=0), -1)
    names = [name for name, _ in parsed]
    grid = np.array([*names, ""])[winner].reshape((n_bins,) * d)
    won = np.zeros(len(parsed), dtype=np.bool_)
    won[winner[winner >= 0]] = True
    pairs = [
        (names[i], names[j])
        for i in range(len(parsed))
        for j in range(i + 1, len(parsed))
        if (matches[i] & matches[j]).any()
    ]
    return SegmentRuleReport(
        dimensions=dims,
        bins=n_bins,
        grid=_ro(grid),
        gaps=_ro(cells[n_match == 0]),
        overlaps=_ro(cells[n_match > 1]),
        overlapping_pairs=tuple(pairs),
        unreachable=tuple(name for name, w in zip(names, won, strict=True) if not w),
    )


# ------------------------------------------------------------- classifications


@attrs.frozen(kw_only=True, eq=False)
class _Activity:
    """Purchase history per customer, measured at the analysis date."""

    n_purchases: IntArray
    since_last: FloatArray  # time since the last purchase (0 without purchase)
    tenure: FloatArray  # time since the first purchase (0 without purchase)
    time_unit: str


def _as_of_shift(summary: CustomerSummary, as_of: object) -> float:
    """Time from the end of the summary's data to ``as_of``, in its time unit."""
    if as_of is None:
        return 0.0
    end = (
        summary.calibration_end if summary.calibration_end is not None else summary.observation_end
    )
    if end is None or not summary.period:
        raise InputError(
            "as_of needs a summary built by summarize() (this one has no observation_end, "
            "e.g. from CustomerSummary.from_arrays); leave as_of=None to classify at the end "
            "of its data"
        )
    ts = v.as_timestamp(as_of, "as_of")
    gap = int(period_index(ts, summary.period)) - int(period_index(end, summary.period))
    if gap < 0:
        raise InputError(
            f"as_of must not fall in a period before the end of the summary's data ({end}); "
            f"got {ts}: the summary counts purchases made after as_of"
        )
    return gap * unit_factor(summary.period, summary.time_unit)


def _activity(
    data: ArrayLike | CustomerSummary,
    times: ArrayLike | None,
    *,
    count_name: str,
    time_name: str,
    as_of: object,
    time_unit: str | None,
) -> _Activity:
    """Purchase counts with time since last (or first) purchase, from a summary or arrays."""
    if time_unit is not None:
        v.check_choice(time_unit, "time_unit", tuple(_YEAR))
    if isinstance(data, CustomerSummary):
        s = data
        if times is not None:
            raise InputError(f"{time_name} must be left out when {count_name} is a CustomerSummary")
        if time_unit is not None and time_unit != s.time_unit:
            raise InputError(
                f"time_unit must match the summary's time unit {s.time_unit!r} (or be left "
                f"out); got {time_unit!r}"
            )
        shift = _as_of_shift(s, as_of)
        has = np.asarray(s.has_purchase, dtype=np.bool_)
        n = np.where(has, np.asarray(s.n_purchases, dtype=np.int64), 0)
        since = np.where(has, np.asarray(s.time_since_last, dtype=np.float64) + shift, 0.0)
        tenure = np.where(has, np.asarray(s.T, dtype=np.float64) + shift, 0.0)
        return _Activity(n_purchases=n, since_last=since, tenure=tenure, time_unit=s.time_unit)
    if as_of is not None:
        raise InputError(
            "as_of applies to a CustomerSummary only; arrays are already measured at their "
            "analysis date"
        )
    n = v.as_int_array(data, count_name, allow_empty=True, nonnegative=True)
    if times is None:
        raise InputError(f"{time_name} is required unless {count_name} is a CustomerSummary")
    t = v.as_float_array(times, time_name, allow_empty=True, allow_nan=True)
    v.check_same_length((count_name, n), (time_name, t))
    buyer = n > 0
    bad = buyer & ~(t >= 0)  # NaN or negative where the customer has purchases
    if bad.any():
        raise InputError(
            f"{time_name} must be a non-negative number where {count_name} > 0 (NaN is allowed "
            f"only without purchases); "
            + v.describe_violations(bad, (count_name, n), (time_name, t)).replace(
                "values", "customers"
            )
        )
    clean = np.where(buyer, t, 0.0)
    return _Activity(n_purchases=n, since_last=clean, tenure=clean, time_unit=time_unit or "D")


def _window(value: float | None, name: str, unit: str, default_years: float) -> float:
    if value is None:
        return default_years * _YEAR[unit]
    return v.check_float(value, name, low=0)


def loyalty_class(
    summary: CustomerSummary | ArrayLike,
    time_since_last: ArrayLike | None = None,
    *,
    as_of: object = None,
    time_unit: TimeUnit | None = None,
    loyal_min_purchases: int = 4,
    active_within: float | None = None,
) -> StrArray:
    """Classify customers as potential, new, old (repeat) or loyal.

    Parameters
    ----------
    summary : CustomerSummary or array-like of int
        A summary (its ``n_purchases``, ``time_since_last`` and
        ``has_purchase`` are used), or the number of purchase occasions per
        customer.
    time_since_last : array-like, optional
        With counts: time since each customer's last purchase (NaN allowed
        where the count is 0). Left out with a summary.
    as_of : datetime, date, numpy.datetime64 or ISO string, optional
        Analysis date, for a summary built by :func:`~crmcore.summarize`:
        time since the last purchase is measured up to the period holding it
        (no later than the summary's data; purchases after the summary's end
        are unknown to it). Default: the summary's end of observation.
    time_unit : {"h", "D", "W", "M", "Y"}, optional
        Unit of ``time_since_last`` and ``active_within``; a summary brings its
        own, arrays default to days.
    loyal_min_purchases : int, default 4
        Purchase occasions needed to count as loyal: three repeat purchases
        after the first show a habit rather than a trial.
    active_within : float, optional
        A loyal customer's last purchase is at most this long ago. Default one
        year (365 days, 52 weeks, 12 months, 8760 hours): a year covers
        seasonal and annual buyers.

    Returns
    -------
    ndarray of str
        ``"potential"`` (no purchase yet), ``"new"`` (exactly one purchase
        occasion), ``"old"`` (repeat buyer, not loyal) or ``"loyal"``; the
        order of :data:`LOYALTY_CLASSES`.

    Raises
    ------
    InputError
        On negative counts or times, missing time for a buyer, mismatched
        lengths, bad thresholds, or ``as_of`` before the end of the summary.

    Notes
    -----
    Rules, first match wins: no purchase -> potential; at least
    ``loyal_min_purchases`` occasions and last purchase within
    ``active_within`` -> loyal; at least two occasions -> old; one occasion
    -> new (however long ago: combine with :func:`customer_status` to tell
    lapsed one-time buyers).

    Examples
    --------
    >>> loyalty_class([0, 1, 3, 6, 6], [float("nan"), 400, 10, 20, 500]).tolist()
    ['potential', 'new', 'old', 'loyal', 'old']
    >>> loyalty_class([2, 5], [3.0, 2.0], time_unit="M", loyal_min_purchases=5).tolist()
    ['old', 'loyal']
    >>> loyalty_class([1, 2], [-1.0, 3.0])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: time_since_last must be a non-negative number where ...
    """
    act = _activity(
        summary,
        time_since_last,
        count_name="n_purchases",
        time_name="time_since_last",
        as_of=as_of,
        time_unit=time_unit,
    )
    k = v.check_int(loyal_min_purchases, "loyal_min_purchases", low=2)
    window = _window(active_within, "active_within", act.time_unit, 1.0)
    n = act.n_purchases
    code = np.where(n == 0, 0, np.where(n == 1, 1, 2))
    code[(n >= k) & (act.since_last <= window)] = 3
    return np.array(LOYALTY_CLASSES)[code]


def visit_level(
    n_visits: CustomerSummary | ArrayLike,
    tenure: ArrayLike | None = None,
    *,
    as_of: object = None,
    time_unit: TimeUnit | None = None,
    customer_min_visits: int = 2,
    regular_rate: float = 4.0,
    premium_rate: float = 12.0,
    devotee_rate: float = 52.0,
    min_tenure: float | None = None,
) -> StrArray:
    """Classify customers into the five visit levels passer-by ... devotee.

    Parameters
    ----------
    n_visits : CustomerSummary or array-like of int
        Visits per customer, or a summary (then visits are purchase occasions,
        ``n_purchases``, and tenure is ``T``, the time since the first one).
    tenure : array-like, optional
        With counts: time since each customer's first visit (NaN allowed where
        there is no visit). Left out with a summary.
    as_of : optional
        Analysis date for a summary (see :func:`loyalty_class`).
    time_unit : {"h", "D", "W", "M", "Y"}, optional
        Unit of ``tenure`` and ``min_tenure``; a summary brings its own,
        arrays default to days.
    customer_min_visits : int, default 2
        Fewer visits than this make a passer-by: one visit is no relationship.
    regular_rate, premium_rate, devotee_rate : float, default 4, 12, 52
        Visits per year needed for the three upper levels: a quarterly,
        monthly and weekly rhythm.
    min_tenure : float, optional
        Tenure needed before a visit rate counts (two visits in one day are no
        weekly rhythm). Default a quarter of a year (3 months, 13 weeks,
        91.25 days).

    Returns
    -------
    ndarray of str
        ``"passer_by"``, ``"customer"``, ``"regular"``, ``"premium"`` or
        ``"devotee"``, the order of :data:`VISIT_LEVELS`.

    Raises
    ------
    InputError
        On negative counts or tenures, mismatched lengths, or thresholds out
        of order (the rates must not decrease).

    Notes
    -----
    With rate = visits / (tenure in years): fewer than
    ``customer_min_visits`` visits -> passer-by; otherwise, once tenure is at
    least ``min_tenure``, the highest level whose rate is reached (devotee,
    premium, regular); otherwise customer.

    Examples
    --------
    >>> visit_level([1, 3, 6, 20, 120], [10, 300, 360, 365, 700]).tolist()
    ['passer_by', 'customer', 'regular', 'premium', 'devotee']
    >>> visit_level([5], [1.0], time_unit="Y", regular_rate=6).tolist()
    ['customer']
    >>> visit_level([2], [30.0], regular_rate=20, premium_rate=10)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: premium_rate must be >= regular_rate (20.0), got 10.0
    """
    act = _activity(
        n_visits,
        tenure,
        count_name="n_visits",
        time_name="tenure",
        as_of=as_of,
        time_unit=time_unit,
    )
    min_visits = v.check_int(customer_min_visits, "customer_min_visits", low=1)
    r1 = v.check_float(regular_rate, "regular_rate", low=0, low_open=True)
    r2 = v.check_float(premium_rate, "premium_rate", low=0, low_open=True)
    r3 = v.check_float(devotee_rate, "devotee_rate", low=0, low_open=True)
    if r2 < r1:
        raise InputError(f"premium_rate must be >= regular_rate ({r1}), got {r2}")
    if r3 < r2:
        raise InputError(f"devotee_rate must be >= premium_rate ({r2}), got {r3}")
    year = _YEAR[act.time_unit]
    if min_tenure is None:
        least = 0.25 * year
    else:
        least = v.check_float(min_tenure, "min_tenure", low=0, low_open=True)
    n = act.n_purchases
    years = act.tenure / year
    seasoned = (n >= min_visits) & (act.tenure >= least)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(seasoned, n / np.where(seasoned, years, 1.0), 0.0)
    code = np.where(n >= min_visits, 1, 0)
    code[seasoned & (rate >= r1)] = 2
    code[seasoned & (rate >= r2)] = 3
    code[seasoned & (rate >= r3)] = 4
    return np.array(VISIT_LEVELS)[code]


def _flags(x: ArrayLike | None, name: str, n: int) -> BoolArray:
    if x is None:
        return np.zeros(n, dtype=np.bool_)
    out = v.as_bool_array(x, name, allow_empty=True)
    if out.size != n:
        raise InputError(f"{name} must have one value per customer ({n}), got {out.size}")
    return out


def ladder_stage(
    n_purchases: CustomerSummary | ArrayLike,
    time_since_last: ArrayLike | None = None,
    *,
    member: ArrayLike | None = None,
    promoter: ArrayLike | None = None,
    n_referrals: ArrayLike | None = None,
    qualified: ArrayLike | None = None,
    as_of: object = None,
    time_unit: TimeUnit | None = None,
    loyal_min_purchases: int = 4,
    active_within: float | None = None,
) -> ObjectArray:
    """Place each customer on the loyalty ladder (prospect ... advocate).

    Parameters
    ----------
    n_purchases : CustomerSummary or array-like of int
        Purchase occasions per customer, or a summary (its ``n_purchases``
        and ``time_since_last``).
    time_since_last : array-like, optional
        With counts: time since the last purchase (NaN allowed without
        purchases). Left out with a summary.
    member : array-like of bool, optional
        Member of the loyalty programme at the analysis date (from
        ``Customer.member_since``: set and not after the date).
    promoter : array-like of bool, optional
        Gave a promoter answer (9-10 on the NPS question).
    n_referrals : array-like of int, optional
        How many other customers name this one in their ``referred_by``
        (see :func:`referral_counts`).
    qualified : array-like of bool, optional
        A non-buyer known to need the category and able to buy (a qualified
        lead).
    as_of, time_unit
        As in :func:`loyalty_class`.
    loyal_min_purchases, active_within
        The loyal rung, as in :func:`loyalty_class` (default 4 occasions,
        the last within one year).

    Returns
    -------
    ndarray of LadderStage (dtype object)
        One :class:`~crmcore.LadderStage` per customer.

    Raises
    ------
    InputError
        On negative counts, mismatched lengths, non-boolean flags or bad
        thresholds.

    See Also
    --------
    ladder_inputs : ``member`` and ``n_referrals`` from Customer records.
    loyalty_class, customer_status

    Notes
    -----
    Each customer stands on the highest rung whose condition holds:

    - advocate: has bought, and is a promoter or referred at least one customer;
    - member: has bought and is a programme member;
    - loyal: as loyal in :func:`loyalty_class` (purchase data cannot show
      that a customer buys the category only from us; frequent, recent
      repeat purchase is the observable stand-in);
    - repeat buyer: two or more purchase occasions; first-time buyer: one;
    - qualified prospect: no purchase, but qualified, a member, a promoter or
      a referrer (has shown interest);
    - prospect: everyone else.

    Examples
    --------
    >>> stages = ladder_stage([0, 0, 1, 2, 5, 1, 3], [0, 0, 9, 9, 9, 9, 9],
    ...                       qualified=[0, 1, 0, 0, 0, 0, 0], member=[0, 0, 0, 0, 0, 1, 0],
    ...                       n_referrals=[0, 0, 0, 0, 0, 0, 2])
    >>> [s.value for s in stages]
    ['prospect', 'qualified_prospect', 'first_time_buyer', 'repeat_buyer', 'loyal', 'member',
     'advocate']
    >>> ladder_stage([1], [2.0], member=[2])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: member must hold booleans (or 0/1); 1 of 1 values breaks this ...
    """
    act = _activity(
        n_purchases,
        time_since_last,
        count_name="n_purchases",
        time_name="time_since_last",
        as_of=as_of,
        time_unit=time_unit,
    )
    n = act.n_purchases
    size = n.size
    is_member = _flags(member, "member", size)
    is_promoter = _flags(promoter, "promoter", size)
    is_qualified = _flags(qualified, "qualified", size)
    if n_referrals is None:
        refs = np.zeros(size, dtype=np.int64)
    else:
        refs = v.as_int_array(n_referrals, "n_referrals", allow_empty=True, nonnegative=True)
        if refs.size != size:
            raise InputError(
                f"n_referrals must have one value per customer ({size}), got {refs.size}"
            )
    k = v.check_int(loyal_min_purchases, "loyal_min_purchases", low=2)
    window = _window(active_within, "active_within", act.time_unit, 1.0)
    advocacy = is_promoter | (refs > 0)
    buyer = n > 0
    stages = list(LadderStage)
    code = np.zeros(size, dtype=np.int64)
    code[~buyer & (is_qualified | is_member | advocacy)] = 1
    code[n == 1] = 2
    code[n >= 2] = 3
    code[(n >= k) & (act.since_last <= window)] = 4
    code[buyer & is_member] = 5
    code[buyer & advocacy] = 6
    return _enum_array(stages)[code]


def _enum_array(members: Sequence[Any]) -> ObjectArray:
    out = np.empty(len(members), dtype=object)
    for i, member in enumerate(members):
        out[i] = member
    return out


def customer_status(
    n_purchases: CustomerSummary | ArrayLike,
    time_since_last: ArrayLike | None = None,
    *,
    churn_window: float | None = None,
    targeted: ArrayLike | None = None,
    prospects: ArrayLike | None = None,
    as_of: object = None,
    time_unit: TimeUnit | None = None,
) -> ObjectArray:
    """Status of each person or organisation towards the company.

    Parameters
    ----------
    n_purchases : CustomerSummary or array-like of int
        Purchase occasions per customer, or a summary (its ``n_purchases``
        and ``time_since_last``; every row of a summary has interacted with
        us, so its non-buyers are at least potential customers).
    time_since_last : array-like, optional
        With counts: time since the last purchase (NaN allowed without
        purchases). Left out with a summary.
    churn_window : float, optional
        A buyer whose last purchase is longer ago than this is lost. Default
        one year in the time unit (365 days, 52 weeks, 12 months): the usual
        horizon after which a non-contractual customer is counted as churned.
    targeted : array-like of bool, optional
        Non-buyers the company has chosen to pursue (a campaign's target list).
    prospects : array-like of bool, optional
        Non-buyers with a need for the category (leads, enquirers). Where
        given and False, a non-buyer who is not targeted is a non-customer.
        Default: every non-buyer is a prospect.
    as_of, time_unit
        As in :func:`loyalty_class`.

    Returns
    -------
    ndarray of CustomerStatus (dtype object)
        One :class:`~crmcore.CustomerStatus` per row (a ``str`` enum, so
        ``status == "lost"`` works).

    Raises
    ------
    InputError
        On negative counts or times, mismatched lengths or non-boolean masks.

    Notes
    -----
    Buyers: last purchase within ``churn_window`` -> actual, else lost.
    Non-buyers: targeted -> target; else a prospect -> potential; else
    non-customer.

    Examples
    --------
    >>> st = customer_status([3, 1, 0, 0, 0], [20.0, 500.0, 0, 0, 0],
    ...                      targeted=[0, 0, 1, 0, 0], prospects=[1, 1, 1, 1, 0])
    >>> [s.value for s in st]
    ['actual', 'lost', 'target', 'potential', 'non_customer']
    >>> [s.value for s in customer_status([2, 2], [5.0, 7.0], churn_window=6, time_unit="M")]
    ['actual', 'lost']
    >>> customer_status([1], [2.0], churn_window=-1)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: churn_window must be >= 0, got -1.0
    """
    act = _activity(
        n_purchases,
        time_since_last,
        count_name="n_purchases",
        time_name="time_since_last",
        as_of=as_of,
        time_unit=time_unit,
    )
    n = act.n_purchases
    size = n.size
    window = _window(churn_window, "churn_window", act.time_unit, 1.0)
    is_target = _flags(targeted, "targeted", size)
    if prospects is None:
        is_prospect = np.ones(size, dtype=np.bool_)
    else:
        is_prospect = _flags(prospects, "prospects", size)
    order = [
        CustomerStatus.NON_CUSTOMER,
        CustomerStatus.POTENTIAL,
        CustomerStatus.TARGET,
        CustomerStatus.ACTUAL,
        CustomerStatus.LOST,
    ]
    buyer = n > 0
    code = np.where(is_prospect, 1, 0)
    code[is_target] = 2
    code[buyer] = 3
    code[buyer & (act.since_last > window)] = 4
    return _enum_array(order)[code]


def referral_counts(customer_ids: ArrayLike, referred_by: ArrayLike | Sequence[object]) -> IntArray:
    """Count, for each customer, how many customers name it in ``referred_by``.

    Parameters
    ----------
    customer_ids : array-like
        The customers to count for (distinct ids; any mutually comparable type).
    referred_by : array-like
        The referrer named by each customer of the base (``Customer.referred_by``);
        ``None`` or NaN where there is none. Its length is independent of
        ``customer_ids``.

    Returns
    -------
    ndarray of int64
        Referrals per customer in ``customer_ids`` order: the ``n_referrals``
        of :func:`ladder_stage`.

    Raises
    ------
    InputError
        On repeated or missing customer ids.
    InputTypeError
        When ids cannot be ordered (mixed ``1`` and ``"1"``).

    Notes
    -----
    Referrers that are not among ``customer_ids`` are ignored. The counting is
    one sort of the combined ids, with no Python loop over customers.

    Examples
    --------
    >>> referral_counts(["a", "b", "c"], [None, "a", "a", "c", "zz"]).tolist()
    [2, 0, 1]
    >>> referral_counts(["a", "a"], ["a"])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: customer_ids must be distinct; 'a' repeats (at index 1)
    """
    ids = _distinct_ids(customer_ids, "customer_ids")
    raw = np.asarray(referred_by, dtype=object)
    if raw.ndim != 1:
        raise InputError(f"referred_by must be 1-dimensional, got shape {raw.shape}")
    present = np.fromiter(
        (r is not None and not (isinstance(r, float) and math.isnan(r)) for r in raw),
        dtype=np.bool_,
        count=raw.size,
    )
    refs = np.asarray(raw[present].tolist()) if present.any() else ids[:0]
    n_unique, id_codes, ref_codes = _joint_codes(ids, refs, "customer_ids and referred_by")
    return np.bincount(ref_codes, minlength=n_unique)[id_codes].astype(np.int64)


def _distinct_ids(customer_ids: ArrayLike, name: str) -> np.ndarray[Any, Any]:
    from crmcore.table import factorize_ids

    ids = np.asarray(customer_ids)
    if ids.ndim != 1:
        raise InputError(f"{name} must be 1-dimensional, got shape {ids.shape}")
    _, codes = factorize_ids(ids, name)
    _, first_seen = np.unique(codes, return_index=True)
    if first_seen.size != ids.size:
        repeat = np.ones(ids.size, dtype=np.bool_)
        repeat[first_seen] = False
        dup = int(np.flatnonzero(repeat)[0])
        raise InputError(
            f"{name} must be distinct; {ids[dup : dup + 1].tolist()[0]!r} repeats (at index {dup})"
        )
    return ids


def _joint_codes(
    ids: np.ndarray[Any, Any], others: np.ndarray[Any, Any], name: str
) -> tuple[int, IntArray, IntArray]:
    """Dense codes of two id arrays over their union: (number of ids, codes of ids, of others)."""
    from crmcore.table import factorize_ids

    same_kind = (ids.dtype.kind in "iu" and others.dtype.kind in "iu") or (
        ids.dtype.kind in "US" and others.dtype.kind == ids.dtype.kind
    )
    if same_kind:
        combined = np.concatenate((ids, others))
    else:
        combined = np.concatenate((ids.astype(object), others.astype(object)))
    uniques, codes = factorize_ids(combined, name)
    return int(uniques.size), codes[: ids.size], codes[ids.size :]


@attrs.frozen(kw_only=True, eq=False)
class LadderInputs:
    """Membership and advocacy per customer, from records (see :func:`ladder_inputs`).

    Attributes
    ----------
    member : ndarray of bool
        Member of the programme at the analysis date.
    n_referrals : ndarray of int64
        Customers acquired by the analysis date who name this one in ``referred_by``.
    """

    member: BoolArray
    n_referrals: IntArray


def ladder_inputs(
    customers: Sequence[Customer], customer_ids: ArrayLike, *, as_of: object
) -> LadderInputs:
    """Read membership and referrals from customer records, aligned to ``customer_ids``.

    Parameters
    ----------
    customers : sequence of Customer
        The customer base (:class:`~crmcore.records.Customer` records with
        distinct ids).
    customer_ids : array-like
        The order to align to, e.g. ``summary.customer_ids``. Ids without a
        record get ``member=False``; their referrals are still counted.
    as_of : datetime, date, numpy.datetime64 or ISO string
        Analysis date: membership counts from ``member_since`` on, and only
        customers acquired by this date count as referrals, so nothing after
        ``as_of`` leaks in.

    Returns
    -------
    LadderInputs
        ``member`` and ``n_referrals`` for :func:`ladder_stage`.

    Raises
    ------
    InputTypeError
        When an element of ``customers`` is not a Customer.
    InputError
        On repeated ids among the records or in ``customer_ids``.

    Examples
    --------
    >>> import datetime as dt
    >>> from crmcore.records import Customer
    >>> day = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    >>> base = [Customer(id=1, name="Ann", acquired=day, member_since=day),
    ...         Customer(id=2, name="Ben", acquired=day, referred_by=1),
    ...         Customer(id=3, name="Cy", acquired=day + dt.timedelta(days=90), referred_by=1)]
    >>> inputs = ladder_inputs(base, [1, 2, 3], as_of="2024-02-01")
    >>> inputs.member.tolist(), inputs.n_referrals.tolist()
    ([True, False, False], [1, 0, 0])
    >>> ladder_inputs([base[0], base[0]], [1], as_of="2024-02-01")
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: customers' ids must be distinct; 1 repeats (at index 1)
    """
    ts = v.as_timestamp(as_of, "as_of")
    records = list(customers)
    for i, c in enumerate(records):
        if not isinstance(c, Customer):
            raise InputTypeError(
                f"customers must hold Customer records; found {type(c).__name__} at index {i}"
            )
    ids = _distinct_ids(customer_ids, "customer_ids")
    if not records:
        return LadderInputs(
            member=_ro(np.zeros(ids.size, dtype=np.bool_)),
            n_referrals=_ro(np.zeros(ids.size, dtype=np.int64)),
        )
    record_ids = _distinct_ids([c.id for c in records], "customers' ids")
    is_member = np.array(
        [
            c.member_since is not None and v.as_timestamp(c.member_since, "member_since") <= ts
            for c in records
        ],
        dtype=np.bool_,
    )
    referrers = [
        c.referred_by
        if c.referred_by is not None and v.as_timestamp(c.acquired, "acquired") <= ts
        else None
        for c in records
    ]
    n_unique, id_codes, rec_codes = _joint_codes(ids, record_ids, "customer_ids and customers")
    member_by_code = np.zeros(n_unique, dtype=np.bool_)
    member_by_code[rec_codes] = is_member
    return LadderInputs(
        member=_ro(member_by_code[id_codes]),
        n_referrals=_ro(referral_counts(ids, referrers)),
    )


# ------------------------------------------------------------ relationship level


@overload
def recommended_level(
    n_customers: float,
    margin: float,
    *,
    customer_cuts: tuple[float, float] = ...,
    margin_cuts: tuple[float, float] = ...,
) -> RelationshipLevel: ...


@overload
def recommended_level(
    n_customers: ArrayLike,
    margin: ArrayLike,
    *,
    customer_cuts: tuple[float, float] = ...,
    margin_cuts: tuple[float, float] = ...,
) -> ObjectArray: ...


def recommended_level(
    n_customers: ArrayLike,
    margin: ArrayLike,
    *,
    customer_cuts: tuple[float, float] = (100, 10_000),
    margin_cuts: tuple[float, float] = (0.10, 0.30),
) -> RelationshipLevel | ObjectArray:
    r"""Kotler's recommended relationship level for a number of customers and a margin.

    Parameters
    ----------
    n_customers : float or array-like
        Number of customers served (of the company, product line or segment), >= 0.
    margin : float or array-like
        Profit margin as a fraction of revenue (0.25 for 25%), at most 1.
        Broadcast against ``n_customers``.
    customer_cuts : (float, float), default (100, 10_000)
        ``(few, many)``: at most ``few`` customers are few, more than ``many``
        are many, the rest medium. Kotler gives no numbers: 100 is about the
        number of accounts a small team can know personally, 10,000 the scale
        of a mass market served through channels.
    margin_cuts : (float, float), default (0.10, 0.30)
        ``(low, high)``: a margin below ``low`` is low, at least ``high`` is
        high, the rest medium. Conventions for gross margins of distribution
        (under 10%) versus branded and specialised goods (30% and more).

    Returns
    -------
    RelationshipLevel or ndarray of RelationshipLevel (dtype object)
        A single level for two scalars, else an array of the broadcast shape.

    Raises
    ------
    InputError
        On negative customer counts, margins above 1, NaN, or cuts out of order.

    Notes
    -----
    With many/medium/few customers counted 0/1/2 and low/medium/high margin
    counted 0/1/2, the level is the sum: basic, reactive, accountable,
    proactive, partnership. The grid:

    ======== ============ ============ ============
    \        low margin   medium       high margin
    ======== ============ ============ ============
    many     basic        reactive     accountable
    medium   reactive     accountable  proactive
    few      accountable  proactive    partnership
    ======== ============ ============ ============

    References
    ----------
    Kotler, P. (2000). *Marketing Management* (Millennium ed.), ch. 2:
    levels of relationship marketing by number of customers and profit margin.

    Examples
    --------
    >>> recommended_level(50, 0.45)
    <RelationshipLevel.PARTNERSHIP: 'partnership'>
    >>> [x.value for x in recommended_level([1e6, 5_000, 20], [0.05, 0.2, 0.05])]
    ['basic', 'accountable', 'accountable']
    >>> recommended_level(50, 25)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: margin must be at most 1.0; 1 of 1 values breaks this (at ...
    """
    few, many = _check_cuts(customer_cuts, "customer_cuts")
    low, high = _check_cuts(margin_cuts, "margin_cuts")
    scalar = np.ndim(n_customers) == 0 and np.ndim(margin) == 0
    counts = v.as_float_array(
        np.reshape(n_customers, -1) if np.ndim(n_customers) == 0 else n_customers,
        "n_customers",
        ndim=max(np.ndim(n_customers), 1),
        allow_empty=True,
        nonnegative=True,
    )
    margins = v.as_float_array(
        np.reshape(margin, -1) if np.ndim(margin) == 0 else margin,
        "margin",
        ndim=max(np.ndim(margin), 1),
        allow_empty=True,
        high=1.0,
    )
    try:
        counts, margins = np.broadcast_arrays(counts, margins)
    except ValueError as exc:
        raise InputError(
            f"n_customers and margin must broadcast together; shapes {counts.shape} and "
            f"{margins.shape}"
        ) from exc
    size_class = np.where(counts <= few, 2, np.where(counts <= many, 1, 0))
    margin_class = np.where(margins < low, 0, np.where(margins < high, 1, 2))
    levels = _enum_array(list(RelationshipLevel))[size_class + margin_class]
    if scalar:
        first: RelationshipLevel = levels.reshape(-1)[0]
        return first
    out: ObjectArray = levels
    return out


def _check_cuts(cuts: object, name: str) -> tuple[float, float]:
    if not isinstance(cuts, Sequence) or isinstance(cuts, str) or len(cuts) != 2:
        raise InputTypeError(f"{name} must be a pair (lower, upper), got {cuts!r}")
    lo = v.check_float(cuts[0], f"{name}[0]")
    hi = v.check_float(cuts[1], f"{name}[1]")
    if hi < lo:
        raise InputError(f"{name} must be in increasing order, got ({lo}, {hi})")
    return lo, hi


# ------------------------------------------------------------------ health score


def health_score(
    measures: ArrayLike,
    weights: ArrayLike,
    *,
    missing: Literal["renormalize", "zero", "raise"] = "renormalize",
) -> float | FloatArray:
    """Weighted 0-100 score of several 0-100 measures (a customer health score).

    Parameters
    ----------
    measures : array-like, shape (k,) or (n_customers, k)
        Measures on a 0-100 scale, one column per measure; NaN marks a missing
        measure.
    weights : array-like, shape (k,)
        Non-negative weights, at least one positive (need not sum to 1 or 100).
    missing : {"renormalize", "zero", "raise"}, default "renormalize"
        ``"renormalize"``: a missing measure drops out and the other weights
        are rescaled; ``"zero"``: a missing measure counts as 0; ``"raise"``:
        any missing measure is an error.

    Returns
    -------
    float or ndarray of float64
        The score of the one customer (1-d ``measures``) or of each customer
        (2-d), between 0 and 100.

    Raises
    ------
    InputError
        On measures outside 0-100, infinite values, negative or all-zero
        weights, a weight count that differs from the measure count, a missing
        measure with ``missing="raise"``, or a customer with no weight left
        under ``"renormalize"`` (the score is undefined).

    Notes
    -----
    ``score = Σ_j w_j x_j / Σ_j w_j`` over the measures present
    (``"renormalize"``) or over all measures with missing ones as 0
    (``"zero"``). A weighted mean of values in [0, 100] stays in [0, 100].

    Examples
    --------
    >>> round(health_score([47, 59, 21], [20, 15, 22]), 2)  # 2287 / 57
    40.12
    >>> health_score([[80, float("nan")], [50, 100]], [1, 3]).tolist()
    [80.0, 87.5]
    >>> health_score([[80, float("nan")]], [1, 3], missing="zero").tolist()
    [20.0]
    >>> health_score([120, 50], [1, 1])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: measures must be at most 100.0; 1 of 2 values breaks this ...
    """
    v.check_choice(missing, "missing", ("renormalize", "zero", "raise"))
    ndim = np.ndim(measures)
    if ndim not in (1, 2):
        raise InputError(
            f"measures must be 1-dimensional (one customer) or 2-dimensional (customers x "
            f"measures), got {ndim} dimensions"
        )
    x = v.as_float_array(measures, "measures", ndim=ndim, allow_nan=True, low=0.0, high=100.0)
    w = v.as_float_array(weights, "weights", nonnegative=True)
    x2 = x.reshape(1, -1) if ndim == 1 else x
    if x2.shape[1] != w.size:
        raise InputError(f"weights must have one value per measure ({x2.shape[1]}), got {w.size}")
    if not (w > 0).any():
        raise InputError("weights must have at least one positive value")
    present = ~np.isnan(x2)
    if missing == "raise" and not present.all():
        bad = ~present.reshape(-1)
        raise InputError(
            "measures must not be missing (NaN) with missing='raise'; "
            + v.describe_violations(bad, ("measures", x2.reshape(-1)))
        )
    filled = np.where(present, x2, 0.0)
    total = filled @ w
    if missing == "renormalize":
        denom = present @ w
        empty = denom <= 0
        if empty.any():
            first = int(np.flatnonzero(empty)[0])
            raise InputError(
                f"measures leave no weight for {int(empty.sum())} of {empty.size} customers "
                f"(first at row {first}): every measure with a positive weight is missing, so "
                "the score is undefined"
            )
    else:
        denom = np.full(total.shape, w.sum())
    score = np.clip(total / denom, 0.0, 100.0)
    if ndim == 1:
        return float(score[0])
    return score


def band(
    scores: ArrayLike,
    edges: ArrayLike,
    labels: Sequence[str],
    *,
    closed: Literal["left", "right"] = "left",
) -> StrArray:
    """Label scores by bands between edges (e.g. red / amber / green health).

    Parameters
    ----------
    scores : float or array-like
        Finite scores, any shape.
    edges : array-like
        Strictly increasing, finite band boundaries (at least one).
    labels : sequence of str
        ``len(edges) + 1`` labels, lowest band first.
    closed : {"left", "right"}, default "left"
        ``"left"``: bands ``[e_k, e_{k+1})``, so a score equal to an edge
        joins the upper band (edges read as "at least"); ``"right"``: bands
        ``(e_k, e_{k+1}]``, a score on an edge stays in the lower band.

    Returns
    -------
    ndarray of str
        One label per score, the shape of ``scores``.

    Raises
    ------
    InputError
        On NaN or infinite scores, edges not strictly increasing, or a label
        count other than ``len(edges) + 1``.

    Examples
    --------
    >>> band([12.0, 40.0, 69.9, 70.0], [40, 70], ["red", "amber", "green"]).tolist()
    ['red', 'amber', 'amber', 'green']
    >>> band([40.0], [40, 70], ["red", "amber", "green"], closed="right").tolist()
    ['red']
    >>> band([50.0], [70, 40], ["red", "amber", "green"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: edges must be strictly increasing; 1 of 2 values breaks this ...
    """
    v.check_choice(closed, "closed", ("left", "right"))
    ndim = np.ndim(scores)
    x = v.as_float_array(scores, "scores", ndim=ndim, allow_empty=True)
    e = v.as_float_array(edges, "edges")
    bad = np.zeros(e.size, dtype=np.bool_)
    bad[1:] = e[1:] <= e[:-1]
    if bad.any():
        raise InputError(
            "edges must be strictly increasing; " + v.describe_violations(bad, ("edges", e))
        )
    if isinstance(labels, str) or not isinstance(labels, Sequence):
        raise InputTypeError(f"labels must be a sequence of strings, got {type(labels).__name__}")
    names = list(labels)
    for i, label in enumerate(names):
        if not isinstance(label, str):
            raise InputTypeError(
                f"labels must hold strings; found {type(label).__name__} {label!r} at index {i}"
            )
    if len(names) != e.size + 1:
        raise InputError(f"labels must hold len(edges) + 1 = {e.size + 1} labels, got {len(names)}")
    side: Literal["left", "right"] = "right" if closed == "left" else "left"
    idx = np.searchsorted(e, x, side=side)
    return np.asarray(np.array(names)[idx])
