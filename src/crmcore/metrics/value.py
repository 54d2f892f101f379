"""Customer value: tiers, concentration, value matrix, buyer types, lifetime value.

ABC/Pareto classes, the value tiers VIP / key / ordinary, the value share of
any classes, Lorenz curve and Gini, spend tiers, the customer pyramid,
the value matrix, buyer types and lifetime-value closed forms: how customer
value is spread over the base, and who holds it.

Every function takes numpy array-likes (lists, numpy arrays, pandas or polars
columns); the ones that rank customers by value also take a
:class:`~crmcore.CustomerSummary`, whose ``total_spend`` is then used.
Shares are fractions in [0, 1].
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any, Literal, overload

import attrs
import numpy as np

from crmcore import _validation as v
from crmcore._typing import ArrayLike, BoolArray, FloatArray, IntArray
from crmcore._validation import readonly as _ro
from crmcore.errors import InputError, InputTypeError
from crmcore.metrics._numeric import ndim_of, pow2_scale, scaled_mean, single_customer
from crmcore.records import InteractionKind
from crmcore.summary import PERIODS, CustomerSummary, period_index
from crmcore.table import KIND_CODES, PURCHASE_CODE, InteractionTable, factorize_ids

__all__ = [
    "CUSTOMER_PYRAMID",
    "VALUE_QUADRANTS",
    "VALUE_TIERS",
    "AbcResult",
    "BuyerTypes",
    "ClassValueShare",
    "HistoricalValue",
    "LorenzCurve",
    "PyramidResult",
    "SpendThresholds",
    "ValueMatrix",
    "ValueTiers",
    "abc_classes",
    "buyer_type",
    "class_value_share",
    "clv_margin_multiple",
    "gini",
    "historical_value",
    "lorenz_curve",
    "pareto_share",
    "pyramid",
    "spend_tiers",
    "value_matrix",
    "value_tiers",
]

StrArray = np.ndarray[Any, np.dtype[np.str_]]

#: Relative tolerance of the comparisons of cumulative shares with cutoffs.
_REL_TOL = 1e-12
_DAY_NS = 86_400 * 10**9


def _value_column(
    values: ArrayLike | CustomerSummary, name: str, *, nonnegative: bool
) -> FloatArray:
    """Return the values to rank: an array-like, or a summary's ``total_spend``."""
    if isinstance(values, CustomerSummary):
        arr = np.asarray(values.total_spend, dtype=np.float64)
        if arr.size == 0:
            raise InputError(f"{name} must not be empty (the summary has no customers)")
        return arr
    return v.as_float_array(values, name, nonnegative=nonnegative)


def _scaled(x: FloatArray) -> tuple[FloatArray, float]:
    """``x`` divided by a power of two near its largest magnitude, and that power.

    Shares of value do not depend on the unit, and the scaled values (at most 2
    in magnitude) sum without overflow even for values near the float maximum.
    """
    scale = pow2_scale(x)
    return (x / scale if scale != 1.0 else x), scale


def _positive_total(x: FloatArray, name: str) -> float:
    total = float(x.sum())
    if not total > 0:
        raise InputError(
            f"{name} must have a positive total, got {total!r} over {x.size} values; "
            "shares of value are undefined when nobody holds any"
        )
    return total


# --------------------------------------------------------------------------- ordering


def _monotone_bits(x: FloatArray) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """Map finite floats to unsigned integers of the same order (a new array)."""
    key = np.add(x, 0.0).view(np.uint64)  # + 0.0 turns -0.0 into +0.0
    if x.size and x.min() < 0:
        # Negatives: invert every bit; non-negatives: set the sign bit.
        flip = (key.view(np.int64) >> np.int64(63)).view(np.uint64)
        flip |= np.uint64(1 << 63)
        key ^= flip
    # Without negatives the bit patterns already sort like the values.
    return key


def _sort_with_order(x: FloatArray) -> tuple[IntArray, FloatArray]:
    """Return a permutation sorting ``x`` (finite floats) ascending, and ``x`` in that order.

    The float's bits are mapped to an unsigned integer of the same order; the
    lowest ``ceil(log2 n)`` bits are replaced by the row index and the keys
    sorted (one 64-bit sort instead of the slower ``argsort``). Values that
    agree in all but those low bits can come out of order; those runs alone
    are re-sorted exactly afterwards.
    """
    n = x.size
    if n < 2:
        return np.zeros(n, dtype=np.int64), x.copy()
    bits = (n - 1).bit_length()
    low = np.uint64((1 << bits) - 1)
    key = _monotone_bits(x)
    key &= ~low
    key |= np.arange(n, dtype=np.uint64)
    key.sort()
    key &= low
    order = key.view(np.int64)
    ordered = x[order]
    wrong = ordered[1:] < ordered[:-1]
    if wrong.any():
        # Re-sort, exactly, each run of equal truncated keys that holds an inversion.
        high = _monotone_bits(ordered) >> np.uint64(bits)
        bad_keys = np.unique(high[np.flatnonzero(wrong)])
        starts = np.searchsorted(high, bad_keys, side="left")
        sizes = np.searchsorted(high, bad_keys, side="right") - starts
        offsets = np.cumsum(sizes) - sizes
        affected = np.repeat(starts - offsets, sizes) + np.arange(int(sizes.sum()))
        run = np.repeat(np.arange(sizes.size), sizes)
        within = np.lexsort((ordered[affected], run))
        order[affected] = order[affected][within]
        ordered[affected] = ordered[affected][within]
    return order, ordered


def _tie_group_ends(sorted_values: FloatArray) -> BoolArray:
    """Mask of the last position of each run of equal values in a sorted array."""
    last = np.empty(sorted_values.size, dtype=np.bool_)
    last[-1] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=last[:-1])
    return last


def _fill_back_from_group_ends(x: FloatArray, last: BoolArray) -> None:
    """Set every entry of ``x`` (non-decreasing) to the entry at the end of its group, in place."""
    np.copyto(x, np.inf, where=~last)
    rev = x[::-1]
    np.minimum.accumulate(rev, out=rev)


# --------------------------------------------------------------------------- ABC, Pareto


@attrs.frozen(kw_only=True, eq=False)
class AbcResult:
    """ABC classes of customers by cumulative share of value.

    Attributes
    ----------
    labels : ndarray of str
        ``"A"``, ``"B"`` or ``"C"`` per customer, in input order.
    shares : ndarray of float64
        Per customer, the cumulative share of value that decided the class:
        the value of everyone with a larger value plus the customer's whole
        tie group, over the total.
    cutoffs : (float, float)
        The cumulative shares that close class A and class B.
    class_counts : ndarray of int64
        Customers in A, B and C.
    class_shares : ndarray of float64
        Share of the total value held by A, B and C (sums to 1).
    customer_ids : ndarray or None
        The summary's customer ids when the values came from a
        :class:`~crmcore.CustomerSummary`; None for plain values.
    """

    labels: StrArray
    shares: FloatArray
    cutoffs: tuple[float, float]
    class_counts: IntArray
    class_shares: FloatArray
    customer_ids: np.ndarray[Any, Any] | None = None

    def columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the class of each customer by name, ready for a data frame.

        The same contract as :meth:`crmcore.CustomerSummary.columns`:
        equal-length 1-d read-only arrays, one row per customer in input
        order (``pandas.DataFrame(result.columns())``), ``customer_ids`` first
        when the values came from a summary. The per-class figures come out
        through :meth:`class_columns`.

        Returns
        -------
        dict of str to ndarray
            ``customer_ids`` (from a summary only), ``labels`` and ``shares``.

        Examples
        --------
        >>> r = abc_classes([70.0, 20.0, 10.0])
        >>> {k: c.tolist() for k, c in r.columns().items()}
        {'labels': ['A', 'B', 'C'], 'shares': [0.7, 0.9, 1.0]}
        """
        return v.result_columns(self, "customer_ids", "labels", "shares")

    def class_columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the per-class figures, one row per class A, B, C, ready for a data frame.

        Returns
        -------
        dict of str to ndarray
            ``class`` (``"A"``, ``"B"``, ``"C"``), ``class_counts`` and
            ``class_shares``.

        Examples
        --------
        >>> r = abc_classes([70.0, 20.0, 10.0])
        >>> {k: c.tolist() for k, c in r.class_columns().items()}
        {'class': ['A', 'B', 'C'], 'class_counts': [1, 1, 1], 'class_shares': [0.7, 0.2, 0.1]}
        """
        return v.result_columns(
            self, ("class", np.array(["A", "B", "C"])), "class_counts", "class_shares"
        )


def _check_cutoffs(cutoffs: object) -> tuple[float, float]:
    if not isinstance(cutoffs, Sequence) or isinstance(cutoffs, str) or len(cutoffs) != 2:
        raise InputTypeError(f"cutoffs must be a pair of shares (a, b), got {cutoffs!r}")
    a = v.check_float(cutoffs[0], "cutoffs[0]")
    b = v.check_float(cutoffs[1], "cutoffs[1]")
    if not 0 < a < b <= 1:
        raise InputError(
            f"cutoffs must satisfy 0 < cutoffs[0] < cutoffs[1] <= 1 (shares, not percent); "
            f"got ({a!r}, {b!r})"
        )
    return a, b


def abc_classes(
    values: ArrayLike | CustomerSummary,
    *,
    cutoffs: tuple[float, float] = (0.8, 0.95),
) -> AbcResult:
    r"""Split customers into classes A, B and C by cumulative share of value (80/20 analysis).

    **Tie rule.** Customers with equal values always share a class, and a
    class is closed by the cumulative *value* share, not by a number of
    customers. So a class can be empty and A is not necessarily the smallest
    class: ``[400, 300, 200] + [100] * 7`` gives A 3, B 0, C 7 (the tie
    group of 100s crosses both cutoffs at once), and ``[50] * 10 + [5] * 10``
    leaves A empty (the ten 50s together hold 10/11 of the value, more than
    0.8). For tiers by *rank* of customers, with a fixed number of customers
    per tier and losses allowed, use :func:`value_tiers`.

    Parameters
    ----------
    values : array-like or CustomerSummary
        Non-negative value per customer (spend, margin clipped at 0, ...). A
        summary contributes its ``total_spend``.
    cutoffs : (float, float), default (0.8, 0.95)
        Cumulative shares closing class A and class B, ``0 < a < b <= 1``.
        The defaults are the customary 80% / 95% split of ABC inventory and
        customer analysis (Pareto's 80/20 rule for A).

    Returns
    -------
    AbcResult
        Labels and cumulative shares per customer (input order), the cutoffs,
        and the count and value share of each class.

    Raises
    ------
    InputError
        On empty input, NaN or infinite values, negative values, a zero
        total, or cutoffs outside ``0 < a < b <= 1``.
    InputTypeError
        On non-numeric values or cutoffs that are not a pair of numbers.

    See Also
    --------
    value_tiers : VIP / key / ordinary by rank, losses allowed.
    pareto_share : the share of value held by a top fraction of customers.
    lorenz_curve, gini : the whole concentration curve and its summary.

    Notes
    -----
    Customers are sorted largest value first. A customer's cumulative share is

    .. math:: s_i = \frac{\sum_{j: x_j \ge x_i} x_j}{\sum_j x_j},

    i.e. the value of everyone with a larger value plus the customer's whole
    tie group. Tied customers therefore share their share and their class, and
    the result does not depend on the input order. The class is A when
    ``s_i <= a``, B when ``s_i <= b``, C otherwise, each comparison with a
    relative tolerance of 1e-12 (so floating-point rounding of the cumulative
    sum cannot move a customer whose share is exactly the cutoff). A larger
    value never gets a worse class.

    Consequences worth knowing: when one customer (or one tie group) holds
    more than ``a`` of the value on its own, class A is empty (a lone customer
    has share 1 and is C when ``b < 1``). Customers with
    value 0 have cumulative share 1 and are C (B when ``b == 1``). Negative
    values are refused: a cumulative share is not monotone once values can
    be negative, so the classes would not be defined; clip losses to 0 first
    (``numpy.clip(margin, 0, None)``) or use :func:`value_tiers`, which
    keeps loss-making customers and flags them.

    The work is one sort of 64-bit keys (the value's bits with the row index
    in the lowest bits, cheaper than ``argsort``), a cumulative sum, and a
    backward fill over tie groups found by comparing neighbours (no
    ``np.unique``): about 1.3 s for 10 million values on a busy 2-core
    machine, where ``argsort`` alone takes 1.7 s.

    References
    ----------
    Juran, J. M. (1951). Quality Control Handbook. McGraw-Hill (the "vital
    few and trivial many" reading of Pareto's principle).

    Examples
    --------
    >>> r = abc_classes([50.0, 10.0, 5.0, 30.0, 5.0])
    >>> r.labels.tolist()
    ['A', 'B', 'C', 'A', 'C']
    >>> r.shares.tolist()
    [0.5, 0.9, 1.0, 0.8, 1.0]
    >>> r.class_counts.tolist(), r.class_shares.tolist()
    ([2, 1, 2], [0.8, 0.1, 0.1])

    Tied values always share a class:

    >>> abc_classes([40, 20, 40]).labels.tolist()
    ['A', 'C', 'A']
    >>> abc_classes([400, 300, 200] + [100] * 7).class_counts.tolist()
    [3, 0, 7]
    >>> abc_classes([50] * 10 + [5] * 10).class_counts.tolist()
    [0, 10, 10]
    >>> abc_classes([10.0, -2.0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: values must be non-negative; 1 of 2 values breaks this (at index ...
    """
    a, b = _check_cutoffs(cutoffs)
    x, _ = _scaled(_value_column(values, "values", nonnegative=True))
    total = _positive_total(x, "values")
    ascending, sorted_x = _sort_with_order(x)
    order, desc = ascending[::-1], sorted_x[::-1]  # largest first (views)
    share_sorted = np.cumsum(desc)
    _fill_back_from_group_ends(share_sorted, _tie_group_ends(desc))
    share_sorted /= share_sorted[-1]
    shares = np.empty(x.size, dtype=np.float64)
    shares[order] = share_sorted
    n_a = int(np.searchsorted(share_sorted, a * (1 + _REL_TOL), side="right"))
    n_ab = int(np.searchsorted(share_sorted, b * (1 + _REL_TOL), side="right"))
    labels = np.full(x.size, "C", dtype="<U1")
    if n_ab > 0:
        labels[x >= desc[n_ab - 1]] = "B"
    if n_a > 0:
        labels[x >= desc[n_a - 1]] = "A"
    counts = np.array([n_a, n_ab - n_a, x.size - n_ab], dtype=np.int64)
    sums = np.array([desc[:n_a].sum(), desc[n_a:n_ab].sum(), desc[n_ab:].sum()], dtype=np.float64)
    return AbcResult(
        labels=_ro(labels),
        shares=_ro(shares),
        cutoffs=(a, b),
        class_counts=_ro(counts),
        class_shares=_ro(sums / total),
        customer_ids=values.customer_ids if isinstance(values, CustomerSummary) else None,
    )


#: Value tiers of :func:`value_tiers`, from the most valuable customers to the many.
VALUE_TIERS: tuple[str, ...] = ("vip", "key", "ordinary")


@attrs.frozen(kw_only=True, eq=False)
class ValueTiers:
    """Value tiers VIP / key / ordinary by rank of customer value (see :func:`value_tiers`).

    Attributes
    ----------
    labels : ndarray of str
        ``"vip"``, ``"key"`` or ``"ordinary"`` per customer, in input order.
    ranks : ndarray of int64
        Rank of each customer by value, 1 for the largest; tied values are
        ranked in input order (the earlier customer first).
    loss_making : ndarray of bool
        Customers with a negative value (they cost more than they bring).
    customer_shares : (float, float)
        The shares of customers aimed at for the VIP and the key tier.
    tier_counts : ndarray of int64
        Customers in the VIP, key and ordinary tier.
    tier_values : ndarray of float64
        Sum of the values in each tier (losses included, so the ordinary
        tier's sum can be negative).
    customer_ids : ndarray or None
        The summary's customer ids when the values came from a
        :class:`~crmcore.CustomerSummary`; None for plain values.
    """

    labels: StrArray
    ranks: IntArray
    loss_making: BoolArray
    customer_shares: tuple[float, float]
    tier_counts: IntArray
    tier_values: FloatArray
    customer_ids: np.ndarray[Any, Any] | None = None

    def columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the tier of each customer by name, ready for a data frame.

        The same contract as :meth:`crmcore.CustomerSummary.columns`: one row
        per customer in input order, ``customer_ids`` first when the values
        came from a summary. The per-tier figures come out through
        :meth:`tier_columns`.

        Returns
        -------
        dict of str to ndarray
            ``customer_ids`` (from a summary only), ``labels``, ``ranks`` and
            ``loss_making``.

        Examples
        --------
        >>> r = value_tiers([5.0, 90.0, -3.0], customer_shares=(0.3, 0.3))
        >>> for name, column in r.columns().items():
        ...     print(name, column.tolist())
        labels ['key', 'vip', 'ordinary']
        ranks [2, 1, 3]
        loss_making [False, False, True]
        """
        return v.result_columns(self, "customer_ids", "labels", "ranks", "loss_making")

    def tier_columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the per-tier figures, one row per tier VIP, key, ordinary.

        Returns
        -------
        dict of str to ndarray
            ``tier``, ``tier_counts`` and ``tier_values``.

        Examples
        --------
        >>> r = value_tiers([5.0, 90.0, -3.0], customer_shares=(0.3, 0.3))
        >>> for name, column in r.tier_columns().items():
        ...     print(name, column.tolist())
        tier ['vip', 'key', 'ordinary']
        tier_counts [1, 1, 1]
        tier_values [90.0, 5.0, -3.0]
        """
        return v.result_columns(self, ("tier", np.array(VALUE_TIERS)), "tier_counts", "tier_values")


def _check_customer_shares(shares: object) -> tuple[float, float]:
    if not isinstance(shares, Sequence) or isinstance(shares, str) or len(shares) != 2:
        raise InputTypeError(f"customer_shares must be a pair of shares (vip, key), got {shares!r}")
    vip = v.check_float(shares[0], "customer_shares[0]", low=0, low_open=True)
    key = v.check_float(shares[1], "customer_shares[1]", low=0)
    if vip + key > 1 + _REL_TOL:
        raise InputError(
            "customer_shares must add up to at most 1 (shares of customers, not percent); "
            f"got ({vip!r}, {key!r})"
        )
    return vip, key


def _quota(share: float, n: int) -> int:
    """Return ``ceil(share * n)``, the top ``share`` of ``n`` customers, blind to rounding noise."""
    return min(n, math.ceil(round(share * n, 9)))


def value_tiers(
    values: ArrayLike | CustomerSummary,
    *,
    customer_shares: tuple[float, float] = (0.01, 0.04),
) -> ValueTiers:
    """Tier customers into VIP, key and ordinary (贵宾型 / 重要型 / 普通型) by rank of value.

    Parameters
    ----------
    values : array-like or CustomerSummary
        Value per customer (margin, profit, spend, CLV); negative values
        (loss-making customers) are allowed. A summary contributes its
        ``total_spend``.
    customer_shares : (float, float), default (0.01, 0.04)
        Shares of *customers* in the VIP tier and in the key tier; the rest
        are ordinary. ``0 < vip`` and ``vip + key <= 1``. The practice
        describes VIP customers as the fewest (数量最少) who bring the most
        value, key customers as the next layer, ordinary customers as the
        many, some of whom even cause a loss (甚至会造成企业的亏损); it fixes
        the order, not the numbers. The default 1% / 4% / 95% is the split
        usually quoted with this three-tier scheme; pass your own shares.

    Returns
    -------
    ValueTiers
        Per customer (input order) the tier, the rank and whether the
        customer is loss-making; per tier the count and the sum of values.

    Raises
    ------
    InputError
        On empty input, NaN or infinite values, or shares out of range.
    InputTypeError
        On non-numeric values or shares that are not a pair of numbers.

    See Also
    --------
    abc_classes : classes by cumulative share of value (ABC analysis).
    pyramid : layers by share of customers with tied customers kept together.
    class_value_share : the share of value each tier (or any class) brings.

    Notes
    -----
    Customers are ranked by value, largest first; **ties are ranked in input
    order** (for a summary, whose rows are in sorted id order: the smaller
    id first), so the tiers hold exactly the planned numbers of customers
    and the result is deterministic. The VIP tier takes the first
    ``ceil(vip * n)`` ranks, the key tier the next ``ceil(key * n)`` (so a
    tier with a positive share is never empty: 10 customers give 1 VIP and
    1 key customer with the default shares), everyone else is ordinary. A
    customer whose value is zero or negative is ordinary whatever its rank
    (a customer who brings nothing is not among those who bring the most),
    so the VIP and key tiers can fall short of their quota. Loss-making
    customers (value < 0) are flagged in ``loss_making``. A larger value
    never gets a worse tier.

    The quota is rounded *up*, where :func:`pyramid` rounds down: of 23,570
    customers with distinct values, ``ceil(0.01 * 23570) = 236`` are VIP
    here, while the 1% top layer of a pyramid holds the 235 whose share of
    customers is at most 1%. Tiers are a service plan (every planned seat is
    filled, ties split by input order); the pyramid is a description of the
    value curve (a layer never holds more than its share, ties kept together).

    Compared with :func:`abc_classes`, which closes classes by cumulative
    value share and keeps tied customers together (so class sizes follow the
    value curve and a class can be empty), these tiers are sized by *number*
    of customers, the way a service programme is planned (how many customers
    get a key account manager).

    Examples
    --------
    >>> r = value_tiers([120.0, 3.0, -8.0, 40.0, 3.0], customer_shares=(0.2, 0.2))
    >>> r.labels.tolist()
    ['vip', 'ordinary', 'ordinary', 'key', 'ordinary']
    >>> r.loss_making.tolist()
    [False, False, True, False, False]
    >>> r.tier_counts.tolist(), r.tier_values.tolist()
    ([1, 1, 3], [120.0, 40.0, -2.0])

    With the default shares, 200 customers give 2 VIP and 8 key customers:

    >>> value_tiers(range(200)).tier_counts.tolist()
    [2, 8, 190]
    >>> value_tiers([1.0, 2.0], customer_shares=(0.6, 0.6))
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: customer_shares must add up to at most 1 (shares of customers, ...
    """
    vip, key = _check_customer_shares(customer_shares)
    x = _value_column(values, "values", nonnegative=False)
    n = x.size
    order = np.argsort(-x, kind="stable")  # largest first, ties in input order
    ranks = np.empty(n, dtype=np.int64)
    ranks[order] = np.arange(1, n + 1, dtype=np.int64)
    code = np.full(n, 2, dtype=np.int64)
    n_vip = _quota(vip, n)
    code[ranks <= min(n, n_vip + _quota(key, n))] = 1
    code[ranks <= n_vip] = 0
    code[x <= 0] = 2
    scaled, scale = _scaled(x)
    sums = np.bincount(code, weights=scaled, minlength=3) * scale
    return ValueTiers(
        labels=_ro(np.array(VALUE_TIERS)[code]),
        ranks=_ro(ranks),
        loss_making=_ro(x < 0),
        customer_shares=(vip, key),
        tier_counts=_ro(np.bincount(code, minlength=3).astype(np.int64)),
        tier_values=_ro(sums),
        customer_ids=values.customer_ids if isinstance(values, CustomerSummary) else None,
    )


@attrs.frozen(kw_only=True, eq=False)
class ClassValueShare:
    """Customers and value per class (see :func:`class_value_share`).

    Attributes
    ----------
    classes : ndarray of str
        The classes, in the order given to :func:`class_value_share` (sorted
        when none was given).
    n_customers : ndarray of int64
        Customers per class.
    customer_shares : ndarray of float64
        Share of all customers in each class.
    values : ndarray of float64
        Sum of the values (revenue, margin) of each class.
    value_shares : ndarray of float64
        Each class's sum over the total of all values (sums to 1).
    """

    classes: StrArray
    n_customers: IntArray
    customer_shares: FloatArray
    values: FloatArray
    value_shares: FloatArray

    def share_of(self, label: str) -> float:
        """Return the value share of one class.

        Parameters
        ----------
        label : str
            One of :attr:`classes`.

        Returns
        -------
        float
            That class's share of the total value.

        Raises
        ------
        InputError
            When ``label`` is not one of the classes.

        Examples
        --------
        >>> class_value_share(["loyal", "new", "loyal"], [50.0, 30.0, 20.0]).share_of("loyal")
        0.7
        >>> class_value_share(["a"], [1.0]).share_of("b")
        Traceback (most recent call last):
        ...
        crmcore.errors.InputError: label must be one of the classes ['a'], got 'b'
        """
        hit = np.flatnonzero(self.classes == label) if isinstance(label, str) else []
        if len(hit) == 0:
            raise InputError(
                f"label must be one of the classes {self.classes.tolist()}, got {label!r}"
            )
        return float(self.value_shares[hit[0]])

    def class_columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the per-class figures, one row per class, ready for a data frame.

        Returns
        -------
        dict of str to ndarray
            ``class``, ``n_customers``, ``customer_shares``, ``values`` and
            ``value_shares``.

        Examples
        --------
        >>> r = class_value_share(["b", "a", "b"], [1.0, 2.0, 1.0])
        >>> {k: c.tolist() for k, c in r.class_columns().items()}["value_shares"]
        [0.5, 0.5]
        """
        return v.result_columns(
            self,
            ("class", self.classes),
            "n_customers",
            "customer_shares",
            "values",
            "value_shares",
        )


def class_codes(
    labels: ArrayLike, name: str, classes: Sequence[str] | None
) -> tuple[StrArray, IntArray]:
    """Class names (as str) and each row's code for any labelling (shared with migration).

    Labels may be strings, integers or booleans; they are compared as their
    ``str``. With ``classes``, every label must be one of them and the codes
    follow that order; without, the classes are the distinct labels, sorted.
    """
    arr = v.as_ndarray(labels, name)
    if arr.ndim != 1:
        raise InputError(f"{name} must be 1-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        arr = arr.astype(np.str_)
    if arr.dtype.kind not in "USOiub":
        raise InputTypeError(f"{name} must hold labels (str, int or bool), got dtype {arr.dtype}")
    try:
        if arr.dtype.kind in "iu" or (arr.dtype.kind == "U" and not (arr == "").any()):
            # no missing label possible: the fast factorisation of ids (sorted uniques)
            uniques, codes = factorize_ids(arr, name)
        else:
            uniques, codes = _factorize_labels(arr)
    except InputTypeError as exc:
        raise InputTypeError(
            f"{name} must hold mutually comparable labels (all strings or all numbers)"
        ) from exc
    missing = codes < 0
    if missing.any():
        first = int(np.flatnonzero(missing)[0])
        raise InputError(
            f'{name} must not hold missing labels (None, NaN, ""); '
            f"{int(missing.sum())} of {arr.size} are missing (first at index {first})"
        )
    names = np.array([str(u) for u in uniques.tolist()], dtype=np.str_)
    if np.unique(names).size != names.size:
        raise InputTypeError(f'{name} must not mix labels that read alike (1 and "1")')
    if classes is None:
        return names, codes
    if isinstance(classes, str) or not isinstance(classes, Sequence):
        raise InputTypeError(f"classes must be a sequence of str, got {classes!r}")
    wanted = [str(c) if isinstance(c, str) else None for c in classes]
    if None in wanted:
        raise InputTypeError(f"classes must hold str only, got {list(classes)!r}")
    given = np.array(wanted, dtype=np.str_)
    if np.unique(given).size != given.size:
        raise InputError(f"classes must be distinct, got {list(classes)!r}")
    order = np.argsort(given, kind="stable")
    pos = np.searchsorted(given[order], names)
    pos = np.minimum(pos, max(given.size - 1, 0))
    found = given.size > 0
    known = (given[order][pos] == names) if found else np.zeros(names.size, dtype=np.bool_)
    if not known.all():
        raise InputError(
            f"{name} holds labels that are not in classes: "
            f"{names[~known][:5].tolist()} (classes: {given.tolist()})"
        )
    remap = order[pos]
    return given, remap[codes].astype(np.int64)


def class_value_share(
    labels: ArrayLike,
    values: ArrayLike,
    *,
    classes: Sequence[str] | None = None,
) -> ClassValueShare:
    """Share of customers and of value (revenue, margin) held by each class, for any labelling.

    Parameters
    ----------
    labels : array-like
        One class per customer: loyalty classes, RFM segments, value tiers,
        ABC classes or any labels (str, int or bool; compared as ``str``).
    values : array-like of float
        Value per customer (revenue, margin; negative values allowed), the
        same length as ``labels``.
    classes : sequence of str, optional
        The classes and their order, e.g. :data:`~crmcore.metrics.LOYALTY_CLASSES`;
        classes without customers get zeros. Default: the distinct labels,
        sorted.

    Returns
    -------
    ClassValueShare
        Per class: customers, their share, the sum of values and its share.

    Raises
    ------
    InputError
        On empty or mismatched inputs, missing labels, labels outside
        ``classes``, NaN or infinite values, or a total value that is not
        positive (shares of a zero or negative total have no meaning).
    InputTypeError
        On values that are not numbers or classes that are not strings.

    Notes
    -----
    The practice's check that loyal customers usually bring 60-70% of sales
    (忠诚客户通常贡献60%-70%的销售额) is
    ``class_value_share(loyalty_class(summary), summary.total_spend).share_of("loyal")``.
    With margins, a class of loss-making customers has a negative share and
    the other classes' shares add up to more than 1.

    Examples
    --------
    >>> r = class_value_share(["loyal", "new", "old", "loyal"], [500.0, 40.0, 160.0, 300.0],
    ...                       classes=["potential", "new", "old", "loyal"])
    >>> r.n_customers.tolist(), r.value_shares.tolist()
    ([0, 1, 1, 2], [0.0, 0.04, 0.16, 0.8])
    >>> class_value_share(["a", "b"], [1.0, -1.0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: values must have a positive total, got 0.0 over 2 values; ...
    """
    names, codes = class_codes(labels, "labels", classes)
    x = v.as_float_array(values, "values")
    v.check_same_length(("labels", codes), ("values", x))
    scaled, scale = _scaled(x)
    total = float(scaled.sum())
    if not total > 0:
        raise InputError(
            f"values must have a positive total, got {total * scale!r} over {x.size} values; "
            "shares of a zero or negative total have no meaning"
        )
    k = names.size
    counts = np.bincount(codes, minlength=k).astype(np.int64)
    sums = np.bincount(codes, weights=scaled, minlength=k)
    return ClassValueShare(
        classes=_ro(names),
        n_customers=_ro(counts),
        customer_shares=_ro(counts / x.size),
        values=_ro(sums * scale),
        value_shares=_ro(sums / total),
    )


@attrs.frozen(kw_only=True, eq=False)
class LorenzCurve:
    """Points of a Lorenz curve, from (0, 0) to (1, 1).

    Attributes
    ----------
    population_share : ndarray of float64
        ``k / n`` for k = 0..n (customers sorted by ascending value).
    value_share : ndarray of float64
        Share of the total value held by the ``k`` customers of least value.
    """

    population_share: FloatArray
    value_share: FloatArray


def lorenz_curve(values: ArrayLike | CustomerSummary) -> LorenzCurve:
    r"""Lorenz curve of the value held by customers.

    Parameters
    ----------
    values : array-like or CustomerSummary
        Non-negative value per customer; a summary contributes ``total_spend``.

    Returns
    -------
    LorenzCurve
        ``n + 1`` points; linear interpolation between them is the curve.

    Raises
    ------
    InputError
        On empty input, NaN, infinite or negative values, or a zero total.

    See Also
    --------
    gini : twice the area between this curve and the diagonal.
    pareto_share : reads the curve from the top.

    Notes
    -----
    With values sorted in ascending order :math:`x_{(1)} \le \dots \le
    x_{(n)}`, the points are :math:`(k/n, \sum_{i \le k} x_{(i)} / \sum_i x_i)`.
    The curve lies on or below the diagonal and is convex.

    References
    ----------
    Lorenz, M. O. (1905). Methods of measuring the concentration of wealth.
    Publications of the American Statistical Association, 9(70), 209-219.

    Examples
    --------
    >>> c = lorenz_curve([4.0, 1.0, 3.0, 2.0])
    >>> c.population_share.tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    >>> c.value_share.tolist()
    [0.0, 0.1, 0.3, 0.6, 1.0]
    >>> lorenz_curve([0.0, 0.0])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: values must have a positive total, got 0.0 over 2 values; shares ...
    """
    x, _ = _scaled(_value_column(values, "values", nonnegative=True))
    _positive_total(x, "values")
    cum = np.empty(x.size + 1, dtype=np.float64)
    cum[0] = 0.0
    np.cumsum(np.sort(x), out=cum[1:])
    value_share = cum / cum[-1]
    population = np.arange(x.size + 1, dtype=np.float64) / x.size
    return LorenzCurve(population_share=_ro(population), value_share=_ro(value_share))


def pareto_share(values: ArrayLike | CustomerSummary, *, top: float = 0.2) -> float:
    r"""Share of the total value held by the top fraction of customers.

    Parameters
    ----------
    values : array-like or CustomerSummary
        Non-negative value per customer; a summary contributes ``total_spend``.
    top : float, default 0.2
        Fraction of customers, in [0, 1], counted from the most valuable.
        The default reads the "20" of the 80/20 rule.

    Returns
    -------
    float
        In [0, 1]; at least ``top`` (the top fraction holds at least its
        proportional share).

    Raises
    ------
    InputError
        On empty input, NaN, infinite or negative values, a zero total, or
        ``top`` outside [0, 1].

    See Also
    --------
    lorenz_curve, abc_classes

    Notes
    -----
    Read off the Lorenz curve :math:`L` with linear interpolation between its
    points: the share is :math:`1 - L(1 - p)`. When :math:`p n = m + f` with
    integer :math:`m` and :math:`0 \le f < 1`, this is the value of the
    :math:`m` largest customers plus :math:`f` times the next one, over the
    total, so the result is continuous in ``top`` and does not depend on how
    ties are ordered. A linear-time partition finds the top values; no full
    sort is needed.

    Examples
    --------
    >>> pareto_share([1.0, 2.0, 3.0, 4.0], top=0.5)
    0.7
    >>> round(pareto_share([1.0, 2.0, 3.0, 4.0], top=0.2), 6)
    0.32
    >>> pareto_share([1.0, 2.0], top=20)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: top must be <= 1.0, got 20.0
    """
    p = v.check_float(top, "top", low=0.0, high=1.0)
    x, _ = _scaled(_value_column(values, "values", nonnegative=True))
    total = _positive_total(x, "values")
    n = x.size
    h = p * n
    m = min(math.floor(h), n)
    f = h - m
    if m >= n:
        return 1.0
    kth = n - m - 1  # position of the (m+1)-th largest value
    part = np.partition(x, kth)
    # Divide before scaling by f, so that tiny (subnormal) values do not underflow.
    held = float(part[kth + 1 :].sum()) / total + f * (float(part[kth]) / total)
    return min(max(held, 0.0), 1.0)


def gini(values: ArrayLike | CustomerSummary) -> float:
    r"""Gini coefficient of the value held by customers (population form).

    Parameters
    ----------
    values : array-like or CustomerSummary
        Non-negative value per customer; a summary contributes ``total_spend``.

    Returns
    -------
    float
        In ``[0, (n-1)/n]``: 0 when everyone holds the same value, ``(n-1)/n``
        when one customer holds everything.

    Raises
    ------
    InputError
        On empty input, NaN, infinite or negative values, or a zero total.

    See Also
    --------
    lorenz_curve

    Notes
    -----
    The population Gini (no ``n/(n-1)`` small-sample correction):

    .. math:: G = \frac{\sum_i \sum_j |x_i - x_j|}{2 n^2 \bar x}
              = \frac{\sum_{i=1}^n (2i - n - 1)\, x_{(i)}}{n \sum_i x_i},

    with :math:`x_{(i)}` sorted ascending. It equals one minus twice the area
    under the (piecewise linear) Lorenz curve. The second form is computed,
    in one sort; its integer weights avoid the cancellation of
    ``2 Σ i x / (n Σ x) - (n + 1)/n``. It is invariant to scaling the
    values and to their order.

    References
    ----------
    Gini, C. (1912). Variabilità e mutabilità. Bologna: Tipografia di Paolo
    Cuppini.

    Examples
    --------
    >>> gini([1.0, 2.0, 3.0, 4.0])
    0.25
    >>> gini([0.0, 0.0, 0.0, 5.0])
    0.75
    >>> gini([1.0, float("nan")])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: values must be finite (no NaN or infinity); 1 of 2 values breaks ...
    """
    x, _ = _scaled(_value_column(values, "values", nonnegative=True))
    total = _positive_total(x, "values")
    n = x.size
    weights = 2.0 * np.arange(1, n + 1, dtype=np.float64) - (n + 1)
    g = float(np.dot(weights, np.sort(x))) / (n * total)
    return min(max(g, 0.0), (n - 1) / n)


# --------------------------------------------------------------------------- tiers


@attrs.frozen(kw_only=True)
class SpendThresholds:
    """Thresholds of :func:`spend_tiers`: cumulative spend and steady frequency per tier.

    A customer reaches a tier when both its spend and its frequency reach the
    tier's thresholds. VIP thresholds must not be below the silver ones, so
    every VIP also qualifies as silver.

    Attributes
    ----------
    silver_spend, vip_spend : float
        Cumulative spend needed (same currency as the spend).
    silver_frequency, vip_frequency : float
        Purchase frequency needed (same unit as the frequency passed, e.g.
        purchases per month).

    Examples
    --------
    >>> SpendThresholds(silver_spend=500, silver_frequency=1, vip_spend=2000, vip_frequency=2)
    SpendThresholds(silver_spend=500.0, silver_frequency=1.0, vip_spend=2000.0, vip_frequency=2.0)
    >>> SpendThresholds(silver_spend=500, silver_frequency=1, vip_spend=100, vip_frequency=2)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: vip_spend must be at least silver_spend; got vip_spend=100.0, ...
    >>> SpendThresholds(silver_spend="500", silver_frequency=1, vip_spend=2000, vip_frequency=2)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputTypeError: silver_spend must be a real number, got str '500'
    """

    silver_spend: float
    silver_frequency: float
    vip_spend: float
    vip_frequency: float

    def __attrs_post_init__(self) -> None:
        for name in ("silver_spend", "silver_frequency", "vip_spend", "vip_frequency"):
            # real numbers only (no None, no strings), stored as float
            object.__setattr__(self, name, v.check_float(getattr(self, name), name, low=0.0))
        for kind in ("spend", "frequency"):
            lo, hi = getattr(self, f"silver_{kind}"), getattr(self, f"vip_{kind}")
            if hi < lo:
                raise InputError(
                    f"vip_{kind} must be at least silver_{kind}; got vip_{kind}={hi!r}, "
                    f"silver_{kind}={lo!r}"
                )


@overload
def spend_tiers(
    total_spend: float,
    *,
    purchase_frequency: float,
    thresholds: SpendThresholds,
) -> str: ...


@overload
def spend_tiers(
    total_spend: ArrayLike | CustomerSummary,
    *,
    purchase_frequency: ArrayLike | None = None,
    thresholds: SpendThresholds,
) -> StrArray: ...


def spend_tiers(
    total_spend: ArrayLike | CustomerSummary,
    *,
    purchase_frequency: ArrayLike | None = None,
    thresholds: SpendThresholds,
) -> str | StrArray:
    """Consumption tiers: ordinary, silver or VIP by cumulative spend and steady frequency.

    Parameters
    ----------
    total_spend : array-like or CustomerSummary
        Cumulative spend per customer (non-negative). A summary contributes
        ``total_spend`` and, unless ``purchase_frequency`` is given,
        ``n_purchases`` (not its ``frequency``, the number of repeat
        purchases of buy-till-you-die models).
    purchase_frequency : array-like, keyword-only, optional
        Non-negative purchase frequency per customer in the unit of the
        thresholds (purchases per month, visits per quarter, ...). Required
        unless ``total_spend`` is a summary.
    thresholds : SpendThresholds
        Spend and frequency each tier needs. There is no default: tiers are
        the business's own rule.

    Returns
    -------
    str or ndarray of str
        ``"vip"``, ``"silver"`` or ``"ordinary"`` per customer; for one
        customer given as single values (Python or numpy scalars, 0-d
        arrays), the tier as a Python ``str``.

    Raises
    ------
    InputError
        On NaN, infinite or negative inputs, mismatched lengths, empty input,
        or a single value with an array (one customer takes single values
        only, several customers arrays only: a single value is not broadcast).
    InputTypeError
        When ``thresholds`` is not a :class:`SpendThresholds` or
        ``purchase_frequency`` is missing.

    Notes
    -----
    VIP when ``spend >= vip_spend`` and ``purchase_frequency >=
    vip_frequency``; otherwise silver when ``spend >= silver_spend`` and
    ``purchase_frequency >= silver_frequency``; otherwise ordinary.
    Requiring both conditions keeps a single large purchase from making a
    VIP: the tier rewards cumulative spend that comes with steady buying.
    More spend or frequency never lowers the tier.

    Examples
    --------
    >>> th = SpendThresholds(silver_spend=500, silver_frequency=1, vip_spend=2000, vip_frequency=2)
    >>> spend = [2500, 2500, 600, 100]
    >>> spend_tiers(spend, purchase_frequency=[3.0, 0.5, 1.0, 4.0], thresholds=th).tolist()
    ['vip', 'ordinary', 'silver', 'ordinary']
    >>> spend_tiers(600.0, purchase_frequency=1.0, thresholds=th)  # one customer: a str
    'silver'
    >>> spend_tiers([100], purchase_frequency=[-1.0], thresholds=th)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: purchase_frequency must be non-negative; 1 of 1 values ...
    """
    if not isinstance(thresholds, SpendThresholds):
        raise InputTypeError(
            f"thresholds must be a SpendThresholds, got {type(thresholds).__name__}"
        )
    single = False
    if isinstance(total_spend, CustomerSummary):
        spend = np.asarray(total_spend.total_spend, dtype=np.float64)
        if purchase_frequency is None:
            freq_source: ArrayLike = total_spend.n_purchases
            freq_name = "total_spend.n_purchases"
        else:
            freq_source, freq_name = purchase_frequency, "purchase_frequency"
        freq = v.as_float_array(freq_source, freq_name, nonnegative=True, allow_empty=True)
    else:
        (spend_in, purchase_frequency), single = single_customer(
            ("total_spend", total_spend), ("purchase_frequency", purchase_frequency)
        )
        spend = v.as_float_array(spend_in, "total_spend", nonnegative=True)
        if purchase_frequency is None:
            raise InputTypeError(
                "purchase_frequency is required unless total_spend is a CustomerSummary"
            )
        freq_name = "purchase_frequency"
        freq = v.as_float_array(purchase_frequency, freq_name, nonnegative=True)
    v.check_same_length(("total_spend", spend), (freq_name, freq))
    labels = np.full(spend.size, "ordinary", dtype="<U8")
    labels[(spend >= thresholds.silver_spend) & (freq >= thresholds.silver_frequency)] = "silver"
    labels[(spend >= thresholds.vip_spend) & (freq >= thresholds.vip_frequency)] = "vip"
    if single:
        return str(labels[0])
    return _ro(labels)


#: The customer pyramid of Curry & Curry (2000): top 1%, big 4%, medium 15%,
#: small 80% of active customers by value.
CUSTOMER_PYRAMID: tuple[tuple[str, float], ...] = (
    ("top", 0.01),
    ("big", 0.04),
    ("medium", 0.15),
    ("small", 0.80),
)


@attrs.frozen(kw_only=True, eq=False)
class PyramidResult:
    """Customers placed in the layers of a value pyramid.

    Attributes
    ----------
    labels : ndarray of str
        Layer name per customer, in input order.
    band_names : tuple of str
        The layers, top first.
    counts : ndarray of int64
        Customers per layer.
    totals : ndarray of float64
        Sum of the values per layer.
    value_shares : ndarray of float64
        ``totals`` over the total value.
    customer_ids : ndarray or None
        The summary's customer ids when the values came from a
        :class:`~crmcore.CustomerSummary`; None for plain values.
    """

    labels: StrArray
    band_names: tuple[str, ...]
    counts: IntArray
    totals: FloatArray
    value_shares: FloatArray
    customer_ids: np.ndarray[Any, Any] | None = None

    def columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the layer of each customer by name, ready for a data frame.

        The same contract as :meth:`crmcore.CustomerSummary.columns`:
        equal-length 1-d read-only arrays, one row per customer in input
        order, ``customer_ids`` first when the values came from a summary.
        The per-layer figures come out through :meth:`band_columns`.

        Returns
        -------
        dict of str to ndarray
            ``customer_ids`` (from a summary only) and ``labels``.

        Examples
        --------
        >>> r = pyramid([6.0, 1.0, 3.0, 2.0], bands=[("top", 0.5), ("rest", 0.5)])
        >>> {k: c.tolist() for k, c in r.columns().items()}
        {'labels': ['top', 'rest', 'top', 'rest']}
        """
        return v.result_columns(self, "customer_ids", "labels")

    def band_columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the per-layer figures, one row per layer (top first), ready for a data frame.

        Returns
        -------
        dict of str to ndarray
            ``band_names``, ``counts``, ``totals`` and ``value_shares``.

        Examples
        --------
        >>> r = pyramid([6.0, 1.0, 3.0, 2.0], bands=[("top", 0.5), ("rest", 0.5)])
        >>> for name, column in r.band_columns().items():
        ...     print(name, column.tolist())
        band_names ['top', 'rest']
        counts [2, 2]
        totals [9.0, 3.0]
        value_shares [0.75, 0.25]
        """
        return v.result_columns(self, "band_names", "counts", "totals", "value_shares")


def _check_bands(bands: object) -> tuple[tuple[str, ...], FloatArray]:
    if not isinstance(bands, Sequence) or isinstance(bands, str) or len(bands) == 0:
        raise InputTypeError(
            f"bands must be a non-empty sequence of (name, fraction) pairs, got {bands!r}"
        )
    names: list[str] = []
    fractions: list[float] = []
    for i, band in enumerate(bands):
        if not isinstance(band, Sequence) or isinstance(band, str) or len(band) != 2:
            raise InputTypeError(f"bands[{i}] must be a (name, fraction) pair, got {band!r}")
        name, fraction = band
        if not isinstance(name, str) or not name:
            raise InputTypeError(f"bands[{i}] name must be a non-empty string, got {name!r}")
        fractions.append(
            v.check_float(fraction, f"bands[{i}] fraction", low=0.0, high=1.0, low_open=True)
        )
        names.append(name)
    if len(set(names)) != len(names):
        raise InputError(f"bands must have distinct names, got {names}")
    total = math.fsum(fractions)
    if abs(total - 1.0) > 1e-9:
        raise InputError(f"bands fractions must sum to 1, got {total!r} from {fractions}")
    return tuple(names), np.asarray(fractions, dtype=np.float64)


def pyramid(
    values: ArrayLike | CustomerSummary,
    *,
    bands: Sequence[tuple[str, float]] = CUSTOMER_PYRAMID,
) -> PyramidResult:
    """Place customers in the layers of a value pyramid by rank.

    Parameters
    ----------
    values : array-like or CustomerSummary
        Value per customer (may be negative: a loss-making customer ranks
        last); a summary contributes ``total_spend``.
    bands : sequence of (str, float), default CUSTOMER_PYRAMID
        Layer names and the fraction of customers in each, top layer first;
        the fractions must be positive and sum to 1. The default is Curry's
        pyramid: top 1%, big 4%, medium 15%, small 80%.

    Returns
    -------
    PyramidResult
        Layer per customer, and customers, value and value share per layer.

    Raises
    ------
    InputError
        On empty input, NaN or infinite values, a total value that is not
        positive, fractions that do not sum to 1, or repeated names.
    InputTypeError
        On bands that are not (name, fraction) pairs.

    See Also
    --------
    abc_classes : tiers by share of value instead of share of customers.

    Notes
    -----
    The rule mirrors :func:`abc_classes` with customers in place of value: a
    customer's population share is the number of customers with a larger
    value plus the size of its own tie group, over ``n``; the customer goes to
    the first layer whose cumulative fraction reaches that share (relative
    tolerance 1e-12). Ties therefore share a layer and the input order does not
    matter, and with fewer than 100 customers the default "top" layer is
    empty (one customer is already more than 1%). A layer thus holds at most
    ``floor(fraction * n)`` customers where the values are distinct (235 of
    23,570 in the top 1%), where :func:`value_tiers` fills ``ceil(share * n)``
    seats (236).

    References
    ----------
    Curry, J., & Curry, A. (2000). The Customer Marketing Method: How to
    Implement and Profit from Customer Relationship Management. Free Press.

    Zeithaml, V. A., Rust, R. T., & Lemon, K. N. (2001). The customer pyramid:
    creating and serving profitable customers. California Management Review,
    43(4), 118-142.

    Examples
    --------
    >>> p = pyramid([5.0, 1.0, 3.0, 2.0], bands=[("gold", 0.25), ("rest", 0.75)])
    >>> p.labels.tolist()
    ['gold', 'rest', 'rest', 'rest']
    >>> p.counts.tolist(), [round(s, 4) for s in p.value_shares.tolist()]
    ([1, 3], [0.4545, 0.5455])
    >>> pyramid([1.0, 2.0], bands=[("gold", 0.3), ("rest", 0.3)])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: bands fractions must sum to 1, got 0.6 from [0.3, 0.3]
    """
    names, fractions = _check_bands(bands)
    x, scale = _scaled(_value_column(values, "values", nonnegative=False))
    total = _positive_total(x, "values")
    n = x.size
    ascending, sorted_x = _sort_with_order(x)
    order, desc = ascending[::-1], sorted_x[::-1]  # largest first (views)
    population_sorted = np.arange(1, n + 1, dtype=np.float64)
    _fill_back_from_group_ends(population_sorted, _tie_group_ends(desc))
    population_sorted /= n
    bounds = np.cumsum(fractions)
    bounds[-1] = 1.0
    codes_sorted = np.searchsorted(bounds * (1 + _REL_TOL), population_sorted, side="left")
    codes_sorted = np.minimum(codes_sorted, len(names) - 1)
    codes = np.empty(n, dtype=np.int64)
    codes[order] = codes_sorted
    labels = np.asarray(names)[codes]
    counts = np.bincount(codes, minlength=len(names)).astype(np.int64)
    scaled_totals = np.bincount(codes, weights=x, minlength=len(names))
    with np.errstate(over="ignore"):
        totals = scaled_totals * scale
    if not np.isfinite(totals).all():
        first = int(np.flatnonzero(~np.isfinite(totals))[0])
        raise InputError(
            f"values: the total of band {names[first]!r} exceeds the largest float "
            f"({np.finfo(np.float64).max:.4g}); express the values in a larger unit "
            "(e.g. thousands)"
        )
    return PyramidResult(
        labels=_ro(labels),
        band_names=names,
        counts=_ro(counts),
        totals=_ro(totals),
        value_shares=_ro(scaled_totals / total),
        customer_ids=values.customer_ids if isinstance(values, CustomerSummary) else None,
    )


# --------------------------------------------------------------------------- value matrix

#: Quadrant labels of :func:`value_matrix`, in the order of ``ValueMatrix.counts``.
VALUE_QUADRANTS: tuple[str, ...] = (
    "high_current_high_potential",
    "high_current_low_potential",
    "low_current_high_potential",
    "low_current_low_potential",
)


@attrs.frozen(kw_only=True, eq=False)
class ValueMatrix:
    """Customers in the four quadrants of current value × potential value.

    Attributes
    ----------
    labels : ndarray of str
        Quadrant per customer (one of :data:`VALUE_QUADRANTS`).
    current_split, potential_split : float
        The values splitting low from high on each axis.
    counts : ndarray of int64
        Customers per quadrant, in the order of :data:`VALUE_QUADRANTS`.
    """

    labels: StrArray
    current_split: float
    potential_split: float
    counts: IntArray

    def columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the quadrant of each customer by name, ready for a data frame.

        The same contract as :meth:`crmcore.CustomerSummary.columns`:
        equal-length 1-d read-only arrays, one row per customer in input
        order (there are no ids: the inputs are plain arrays). The
        per-quadrant counts come out through :meth:`quadrant_columns`.

        Returns
        -------
        dict of str to ndarray
            ``labels``.

        Examples
        --------
        >>> m = value_matrix([1.0, 5.0], [4.0, 2.0])
        >>> m.columns()["labels"].tolist()
        ['low_current_high_potential', 'high_current_low_potential']
        """
        return v.result_columns(self, "labels")

    def quadrant_columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the customers per quadrant, in the order of :data:`VALUE_QUADRANTS`.

        Returns
        -------
        dict of str to ndarray
            ``quadrant`` and ``counts``.

        Examples
        --------
        >>> m = value_matrix([1.0, 5.0], [4.0, 2.0])
        >>> m.quadrant_columns()["counts"].tolist()
        [0, 1, 1, 0]
        """
        return v.result_columns(self, ("quadrant", np.array(VALUE_QUADRANTS)), "counts")


def _split_value(x: FloatArray, split: object, index: int) -> float:
    if isinstance(split, str):
        if split == "median":
            scale = pow2_scale(x)  # the mean of the two middle values must not overflow
            return float(np.median(x / scale)) * scale
        if split == "mean":
            return scaled_mean(x)
    elif isinstance(split, Sequence | np.ndarray) and np.shape(split) == (2,):
        return v.check_float(split[index], f"split[{index}]")
    shown = f"an array of shape {split.shape}" if isinstance(split, np.ndarray) else repr(split)
    raise InputError(
        f"split must be 'median', 'mean' or a pair (current, potential) of numbers; got {shown}"
    )


def value_matrix(
    current_value: ArrayLike,
    potential_value: ArrayLike,
    *,
    split: Literal["median", "mean"] | tuple[float, float] = "median",
) -> ValueMatrix:
    """Place customers in the value matrix: current value × potential value quadrants.

    Parameters
    ----------
    current_value : array-like
        Realised value per customer (e.g. :func:`historical_value` or spend
        in the last year). May be negative.
    potential_value : array-like
        Predicted future value per customer (e.g. model-based CLV, or share of
        wallet not yet won). May be negative.
    split : {"median", "mean"} or (float, float), default "median"
        Where each axis divides low from high: the median or mean of that
        axis, or explicit (current, potential) values. The median default
        makes the split robust to a few very large customers.

    Returns
    -------
    ValueMatrix
        Quadrant label per customer, the splits used and the counts.

    Raises
    ------
    InputError
        On empty input, NaN or infinite values, mismatched lengths or an
        unknown ``split``.

    Notes
    -----
    A customer is *high* on an axis when its value is strictly above the
    split (a value equal to the split counts as low), so raising a value never
    moves a customer to a lower quadrant. The quadrants are the usual reading
    of the matrix: high/high customers are to be kept at all costs,
    high-current/low-potential ones maintained, low-current/high-potential
    ones developed, low/low ones served at low cost.

    Examples
    --------
    >>> m = value_matrix([10, 50, 20, 70], [90, 5, 40, 80])
    >>> m.labels.tolist()
    ['low_current_high_potential', 'high_current_low_potential',
     'low_current_low_potential', 'high_current_high_potential']
    >>> m.current_split, m.potential_split
    (35.0, 60.0)
    >>> value_matrix([1, 2], [1, 2], split="mode")
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: split must be 'median', 'mean' or a pair (current, potential) of ...
    """
    cur = v.as_float_array(current_value, "current_value")
    pot = v.as_float_array(potential_value, "potential_value")
    v.check_same_length(("current_value", cur), ("potential_value", pot))
    cs = _split_value(cur, split, 0)
    ps = _split_value(pot, split, 1)
    codes = np.where(cur > cs, 0, 2) + np.where(pot > ps, 0, 1)
    labels = np.asarray(VALUE_QUADRANTS)[codes]
    counts = np.bincount(codes, minlength=4).astype(np.int64)
    return ValueMatrix(
        labels=_ro(labels),
        current_split=cs,
        potential_split=ps,
        counts=_ro(counts),
    )


# --------------------------------------------------------------------------- buyer types


def _factorize_labels(labels: np.ndarray[Any, Any]) -> tuple[np.ndarray[Any, Any], IntArray]:
    """Distinct labels (sorted) and each row's code; missing labels (None, NaN, "") get -1."""
    arr = np.asarray(labels)
    if arr.dtype.kind == "O":
        is_nan = np.not_equal(arr, arr)  # NaN is the only value unequal to itself
        missing = np.equal(arr, np.array([None], dtype=object)) | is_nan | np.equal(arr, "")
    elif arr.dtype.kind == "f":
        missing = np.isnan(arr)
    elif arr.dtype.kind in "US":
        missing = arr == arr.dtype.type()
    else:
        missing = np.zeros(arr.shape, dtype=np.bool_)
    codes = np.full(arr.size, -1, dtype=np.int64)
    present = ~missing
    if not present.any():
        return arr[:0], codes
    try:
        uniques, inverse = np.unique(arr[present], return_inverse=True)
    except TypeError as exc:
        raise InputTypeError(
            f"labels must be mutually comparable (all strings or all numbers): {exc}"
        ) from exc
    codes[present] = inverse.reshape(-1)
    return uniques, codes


@attrs.frozen(kw_only=True, eq=False)
class BuyerTypes:
    """Buyer type of each customer from adoption speed and discount buying.

    Attributes
    ----------
    customer_ids : ndarray
        The table's customers (sorted ids).
    labels : ndarray of str
        ``"lighthouse"``, ``"follower"``, ``"rational"``, ``"profit_seeking"``,
        or ``"no_purchase"`` for customers without a purchase row.
    median_days_after_launch : ndarray of float64
        Median, over the launch-dated products a customer bought, of the days
        from launch to the customer's first purchase of it; NaN where
        ``n_launched_products`` is 0.
    n_launched_products : ndarray of int64
        Launch-dated products the customer bought.
    discount_share : ndarray of float64
        Share of the customer's purchase rows made on discount; NaN where
        ``n_purchases`` is 0.
    n_purchases : ndarray of int64
        Purchase rows of the customer.
    """

    customer_ids: np.ndarray[Any, Any]
    labels: StrArray
    median_days_after_launch: FloatArray
    n_launched_products: IntArray
    discount_share: FloatArray
    n_purchases: IntArray

    def columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the per-customer arrays by name, customer ids first, ready for a data frame.

        The same contract as :meth:`crmcore.CustomerSummary.columns`:
        equal-length 1-d read-only arrays, one row per customer of the table
        (``pandas.DataFrame(types.columns())``).

        Returns
        -------
        dict of str to ndarray
            ``customer_ids``, ``labels``, ``median_days_after_launch``,
            ``n_launched_products``, ``discount_share`` and ``n_purchases``.

        Examples
        --------
        >>> import numpy as np
        >>> from crmcore import InteractionTable
        >>> t = np.array(["2024-01-02", "2024-03-01"], dtype="datetime64[ns]")
        >>> table = InteractionTable.from_arrays([1, 2], t, products=["x", "x"],
        ...                                      discounted=[False, True])
        >>> types = buyer_type(table, launch_dates={"x": "2024-01-01"})
        >>> list(types.columns())[:2], types.columns()["labels"].tolist()
        (['customer_ids', 'labels'], ['lighthouse', 'profit_seeking'])
        """
        return v.result_columns(
            self,
            "customer_ids",
            "labels",
            "median_days_after_launch",
            "n_launched_products",
            "discount_share",
            "n_purchases",
        )


def _launch_times(
    products: np.ndarray[Any, Any], launch_dates: Mapping[Any, object]
) -> tuple[IntArray, np.ndarray[Any, Any]]:
    """Per purchase row: product code and launch time (NaT when the product has none)."""
    uniques, codes = _factorize_labels(products)
    if uniques.size == 0:
        return codes, np.full(codes.size, np.datetime64("NaT", "ns"), dtype="datetime64[ns]")
    launch = np.full(uniques.size, np.datetime64("NaT", "ns"), dtype="datetime64[ns]")
    for i, label in enumerate(uniques.tolist()):
        if label in launch_dates:
            launch[i] = v.as_timestamp(launch_dates[label], f"launch_dates[{label!r}]")
    row_launch = np.where(codes >= 0, launch[np.maximum(codes, 0)], np.datetime64("NaT", "ns"))
    return codes, row_launch


def _run_starts(sorted_keys: np.ndarray[Any, Any]) -> BoolArray:
    """Mask of the first position of each run of equal keys in a sorted array."""
    starts = np.ones(sorted_keys.size, dtype=np.bool_)
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=starts[1:])
    return starts


def _group_medians(groups: IntArray, values: FloatArray, n_groups: int) -> FloatArray:
    """Median of ``values`` within each group (NaN for empty groups), by one lexsort."""
    out = np.full(n_groups, np.nan)
    if groups.size == 0:
        return out
    order = np.lexsort((values, groups))
    g, x = groups[order], values[order]
    starts = np.flatnonzero(_run_starts(g))
    counts = np.diff(np.r_[starts, g.size])
    lo = x[starts + (counts - 1) // 2]
    hi = x[starts + counts // 2]
    out[g[starts]] = 0.5 * (lo + hi)
    return out


def buyer_type(
    table: InteractionTable,
    *,
    launch_dates: Mapping[Any, object],
    lighthouse_days: float = 30.0,
    follower_days: float = 180.0,
    discount_share: float = 0.5,
) -> BuyerTypes:
    """Classify customers as lighthouse, follower, rational or profit-seeking buyers.

    Parameters
    ----------
    table : InteractionTable
        Needs ``products`` and ``discounted`` columns; only purchase rows count.
    launch_dates : mapping
        Product label → launch date (datetime, date, numpy.datetime64 or ISO
        string). Products without an entry are established products: they
        count for the discount share but not for adoption speed.
    lighthouse_days : float, default 30
        A customer whose median adoption delay is at most this many days is a
        lighthouse buyer (first month after launch).
    follower_days : float, default 180
        Median adoption delay up to this many days (the first half year)
        makes a follower; later adopters are rational buyers.
    discount_share : float, default 0.5
        Customers with at least this share of purchase rows on discount are
        profit-seeking (most of what they buy, they buy on discount).

    Returns
    -------
    BuyerTypes
        Label per customer of the table and the two measures behind it.

    Raises
    ------
    InputError
        When the table lacks products or discount flags, a launch date is not
        a time, or the thresholds are negative or out of order.
    InputTypeError
        When ``table`` is not an :class:`~crmcore.InteractionTable` or
        ``launch_dates`` is not a mapping.

    Notes
    -----
    For each customer and each launch-dated product the customer bought, the
    adoption delay is the time from the launch to the customer's first
    purchase of it, in days (a purchase before the launch, a pre-order,
    counts as 0). The rule, applied in this order:

    1. ``profit_seeking`` when the share of purchase rows flagged
       ``discounted`` is at least ``discount_share``: price drives them;
    2. ``lighthouse`` when the median adoption delay is at most
       ``lighthouse_days``: they buy new products first and set trends;
    3. ``follower`` when it is at most ``follower_days``: they buy once a
       product has proven itself;
    4. ``rational`` otherwise, including buyers of established products only:
       they buy mature products at full price, on quality and value.

    Customers without a purchase row get ``no_purchase``. The day thresholds
    are heuristics (the first month; the first half year): set them from
    the product life cycle of the business. The computation is vectorised
    (two lexsorts and bincounts).

    Examples
    --------
    >>> import numpy as np
    >>> from crmcore import InteractionTable
    >>> t = np.array(["2024-01-05", "2024-09-01", "2024-03-01", "2024-03-02"],
    ...              dtype="datetime64[ns]")
    >>> table = InteractionTable.from_arrays(
    ...     ["ann", "bob", "cy", "cy"], t, amounts=[10, 10, 10, 10],
    ...     products=["new", "new", "old", "old"], discounted=[False, False, True, True])
    >>> b = buyer_type(table, launch_dates={"new": "2024-01-01"})
    >>> b.labels.tolist()
    ['lighthouse', 'rational', 'profit_seeking']
    >>> b.median_days_after_launch.tolist()[:2]
    [4.0, 244.0]
    >>> buyer_type(table, launch_dates={"new": "2024-01-01"}, lighthouse_days=200)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: follower_days must be at least lighthouse_days; got ...
    """
    if not isinstance(table, InteractionTable):
        raise InputTypeError(f"table must be an InteractionTable, got {type(table).__name__}")
    if not isinstance(launch_dates, Mapping):
        raise InputTypeError(
            f"launch_dates must be a mapping product -> launch date, got "
            f"{type(launch_dates).__name__}"
        )
    light = v.check_float(lighthouse_days, "lighthouse_days", low=0.0)
    follow = v.check_float(follower_days, "follower_days", low=0.0)
    if follow < light:
        raise InputError(
            f"follower_days must be at least lighthouse_days; got follower_days={follow!r}, "
            f"lighthouse_days={light!r}"
        )
    threshold = v.check_float(discount_share, "discount_share", low=0.0, high=1.0)
    if table.products is None:
        raise InputError("table must have a products column to find adoption delays")
    if table.discounted is None:
        raise InputError("table must have a discounted column to find discount buying")
    n_c = table.n_customers
    purchase = table.kinds == PURCHASE_CODE
    cust = table.customer_codes[purchase]
    n_purchases = np.bincount(cust, minlength=n_c).astype(np.int64)
    n_discounted = np.bincount(cust[table.discounted[purchase]], minlength=n_c)
    bought = n_purchases > 0
    share = np.full(n_c, np.nan)
    share[bought] = n_discounted[bought] / n_purchases[bought]

    product_codes, launch = _launch_times(table.products[purchase], launch_dates)
    dated = ~np.isnat(launch)
    d_cust, d_prod = cust[dated], product_codes[dated]
    delay_ns = (table.times[purchase][dated] - launch[dated]).astype(np.int64)
    delay_days = np.maximum(delay_ns, 0) / _DAY_NS
    n_products = int(product_codes.max()) + 1 if product_codes.size else 0
    pair = d_cust * max(n_products, 1) + d_prod
    order = np.lexsort((delay_days, pair))
    first_rows = order[_run_starts(pair[order])]
    adopt_cust = d_cust[first_rows]
    adopt_delay = delay_days[first_rows]
    n_launched = np.bincount(adopt_cust, minlength=n_c).astype(np.int64)
    median_delay = _group_medians(adopt_cust, adopt_delay, n_c)

    labels = np.full(n_c, "rational", dtype="<U14")
    has = n_launched > 0
    with np.errstate(invalid="ignore"):
        labels[has & (median_delay <= follow)] = "follower"
        labels[has & (median_delay <= light)] = "lighthouse"
        labels[bought & (share >= threshold)] = "profit_seeking"
    labels[~bought] = "no_purchase"
    return BuyerTypes(
        customer_ids=table.customer_ids,
        labels=_ro(labels),
        median_days_after_launch=_ro(median_delay),
        n_launched_products=_ro(n_launched),
        discount_share=_ro(share),
        n_purchases=_ro(n_purchases),
    )


# --------------------------------------------------------------------------- lifetime value


@attrs.frozen(kw_only=True, eq=False)
class HistoricalValue:
    """Realised value per customer, optionally compounded to the analysis date.

    Attributes
    ----------
    customer_ids : ndarray
        The table's customers (sorted ids).
    realised : ndarray of float64
        Sum of the measure over the customer's rows up to ``observation_end``.
    value : ndarray of float64
        The same sum with each row compounded to ``observation_end`` at ``rate`` per
        period (equal to ``realised`` when ``rate`` is 0).
    n_rows : ndarray of int64
        Rows counted per customer (purchases and, if subtracted, refunds).
    rate : float
        Compounding rate per period.
    period : str
        The compounding period.
    """

    customer_ids: np.ndarray[Any, Any]
    realised: FloatArray
    value: FloatArray
    n_rows: IntArray
    rate: float
    period: str

    def columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the per-customer arrays by name, customer ids first, ready for a data frame.

        The same contract as :meth:`crmcore.CustomerSummary.columns`:
        equal-length 1-d read-only arrays, one row per customer of the table.
        ``rate`` and ``period`` stay attributes.

        Returns
        -------
        dict of str to ndarray
            ``customer_ids``, ``realised``, ``value`` and ``n_rows``.

        Examples
        --------
        >>> import numpy as np
        >>> from crmcore import InteractionTable
        >>> t = np.array(["2024-01-02", "2024-03-01"], dtype="datetime64[ns]")
        >>> table = InteractionTable.from_arrays(["a", "b"], t, amounts=[10.0, 4.0])
        >>> h = historical_value(table, observation_end="2024-12-31", measure="amount")
        >>> for name, column in h.columns().items():
        ...     print(name, column.tolist())
        customer_ids ['a', 'b']
        realised [10.0, 4.0]
        value [10.0, 4.0]
        n_rows [1, 1]
        """
        return v.result_columns(self, "customer_ids", "realised", "value", "n_rows")


def historical_value(
    table: InteractionTable,
    *,
    observation_end: object,
    measure: Literal["margin", "amount"] = "margin",
    rate: float = 0.0,
    period: Literal["h", "D", "W", "M", "Y"] = "Y",
    refunds: Literal["subtract", "ignore"] = "subtract",
) -> HistoricalValue:
    r"""Historical (realised) customer value: margin earned so far, optionally compounded.

    Parameters
    ----------
    table : InteractionTable
        The interaction log.
    observation_end : datetime, date, numpy.datetime64 or ISO string
        The analysis date; rows after it are ignored.
    measure : {"margin", "amount"}, default "margin"
        Sum the rows' margins (the table needs a ``margins`` column, known on
        every counted row) or their amounts (revenue).
    rate : float, default 0
        Rate per ``period`` at which past value is compounded to ``observation_end``
        (the firm's cost of capital: a margin earned years ago is worth more
        today). Greater than -1.
    period : {"h", "D", "W", "M", "Y"}, default "Y"
        The compounding period (calendar periods in UTC).
    refunds : {"subtract", "ignore"}, default "subtract"
        Whether refund rows reduce the value. With ``measure="amount"`` the
        absolute value of a refund's amount (the money returned) is subtracted,
        whatever sign the caller stored. With ``measure="margin"`` a refund's
        margin is *the margin given back, signed as it was recorded at the
        sale* (see :class:`~crmcore.Interaction`), and it is subtracted as
        stored: refunding a profitable sale lowers the value, refunding a sale
        made at a loss (negative margin) raises it back.

    Returns
    -------
    HistoricalValue
        Realised and compounded value per customer of the table.

    Raises
    ------
    InputError
        On an unknown option, ``rate <= -1``, a table without margins when
        ``measure="margin"``, or a counted row whose margin is unknown (NaN).
    InputTypeError
        When ``table`` is not an :class:`~crmcore.InteractionTable`.

    Notes
    -----
    .. math:: HV_i = \sum_{\text{rows } j \text{ of } i,\ t_j \le \text{as\_of}}
              s_j\, m_j\, (1 + \text{rate})^{k_j},

    with :math:`m_j` the row's margin (or amount; the absolute amount for a
    refund), :math:`s_j` +1 for a purchase and -1 for a subtracted refund, and
    :math:`k_j` the number of
    whole calendar periods from the row's period to the period holding
    ``observation_end`` (discrete compounding per completed period; rows in the period
    of ``observation_end`` are not compounded).

    References
    ----------
    Kumar, V., & Reinartz, W. (2016). Creating enduring customer value.
    Journal of Marketing, 80(6), 36-68 (past customer value).

    Examples
    --------
    >>> import numpy as np
    >>> from crmcore import InteractionTable
    >>> t = np.array(["2022-06-01", "2024-03-01", "2024-05-01"], dtype="datetime64[ns]")
    >>> table = InteractionTable.from_arrays(["a", "a", "b"], t, amounts=[100, 50, 80],
    ...                                      margins=[20.0, 10.0, 16.0])
    >>> hv = historical_value(table, observation_end="2024-12-31", rate=0.1)
    >>> hv.realised.tolist()
    [30.0, 16.0]
    >>> [round(x, 6) for x in hv.value.tolist()]
    [34.2, 16.0]

    A refund gives back the margin of its sale, with the sale's sign: taking
    back goods sold at a loss of 5 removes that loss.

    >>> t2 = np.array(["2024-01-05", "2024-01-20"], dtype="datetime64[ns]")
    >>> lossy = InteractionTable.from_arrays(["c", "c"], t2, kinds=["purchase", "refund"],
    ...                                      amounts=[40.0, 40.0], margins=[-5.0, -5.0])
    >>> historical_value(lossy, observation_end="2024-12-31").realised.tolist()
    [0.0]
    >>> historical_value(table, observation_end="2024-12-31", rate=-1.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: rate must be > -1.0, got -1.0
    """
    if not isinstance(table, InteractionTable):
        raise InputTypeError(f"table must be an InteractionTable, got {type(table).__name__}")
    v.check_choice(measure, "measure", ("margin", "amount"))
    v.check_choice(period, "period", PERIODS)
    v.check_choice(refunds, "refunds", ("subtract", "ignore"))
    r = v.check_float(rate, "rate", low=-1.0, low_open=True)
    end = v.as_timestamp(observation_end, "observation_end")
    is_purchase = table.kinds == PURCHASE_CODE
    if refunds == "subtract":
        is_refund = table.kinds == KIND_CODES[InteractionKind.REFUND]
    else:
        is_refund = np.zeros(len(table), dtype=np.bool_)
    rows = (is_purchase | is_refund) & (table.times <= end)
    if measure == "margin":
        if table.margins is None:
            raise InputError(
                "table must have a margins column for measure='margin' "
                "(or pass measure='amount' for revenue)"
            )
        source = table.margins
        unknown = rows & np.isnan(source)
        if unknown.any():
            raise InputError(
                "margins must be known on every purchase (and subtracted refund) up to "
                "observation_end; "
                + v.describe_violations(unknown, ("margins", source))
                + "; fill them or pass measure='amount'"
            )
    else:
        source = table.amounts
    idx = np.flatnonzero(rows)
    # Refund margins are the margin given back, signed as at the sale: subtracted as stored.
    # Refund amounts are money returned, whichever sign the caller stored.
    given_back = source[idx] if measure == "margin" else np.abs(source[idx])
    amount = np.where(is_refund[idx], -given_back, source[idx])
    cust = table.customer_codes[idx]
    n_c = table.n_customers
    realised = np.bincount(cust, weights=amount, minlength=n_c)
    if r == 0.0:
        compounded = realised.copy()
    else:
        k = int(period_index(end, period)) - period_index(table.times[idx], period)
        growth = np.exp(k.astype(np.float64) * math.log1p(r))
        compounded = np.bincount(cust, weights=amount * growth, minlength=n_c)
    n_rows = np.bincount(cust, minlength=n_c).astype(np.int64)
    return HistoricalValue(
        customer_ids=table.customer_ids,
        realised=_ro(realised),
        value=_ro(compounded),
        n_rows=_ro(n_rows),
        rate=r,
        period=period,
    )


def _is_scalar(x: object) -> bool:
    return isinstance(x, numbers.Real) or (isinstance(x, np.ndarray) and x.ndim == 0)


@overload
def clv_margin_multiple(
    margin: float,
    retention: float,
    discount_rate: float,
    *,
    timing: Literal["end", "start"] = "end",
    horizon: int | None = None,
) -> float: ...


@overload
def clv_margin_multiple(
    margin: ArrayLike,
    retention: ArrayLike,
    discount_rate: ArrayLike,
    *,
    timing: Literal["end", "start"] = "end",
    horizon: int | None = None,
) -> FloatArray: ...


def clv_margin_multiple(
    margin: ArrayLike,
    retention: ArrayLike,
    discount_rate: ArrayLike,
    *,
    timing: Literal["end", "start"] = "end",
    horizon: int | None = None,
) -> float | FloatArray:
    r"""Compute lifetime value from a constant margin, retention rate and discount rate.

    Parameters
    ----------
    margin : float or array-like
        Margin per period of a retained customer (may be negative).
    retention : float or array-like
        Probability of staying from one period to the next, in [0, 1].
    discount_rate : float or array-like
        Discount rate per period, >= 0.
    timing : {"end", "start"}, default "end"
        ``"end"``: margins arrive at the end of each period, the first one
        after the customer has survived one renewal. ``"start"``: the first
        margin is paid now (at the start), the next after one period, ...
    horizon : int, optional
        Number of margin payments; the infinite sum when omitted.

    Returns
    -------
    float or ndarray of float64
        A float when all three inputs are scalars, otherwise an array of their
        broadcast shape.

    Raises
    ------
    InputError
        On NaN or infinite inputs, retention outside [0, 1], a negative
        discount rate, a horizon below 1, or an infinite horizon with
        ``retention == 1`` and ``discount_rate == 0`` (the sum diverges), or
        shapes that do not broadcast.

    See Also
    --------
    historical_value : the value already realised.

    Notes
    -----
    With :math:`q = r / (1 + d)`, the per-period factor of survival and
    discounting:

    - ``timing="end"``: :math:`\sum_{t=1}^{H} m q^t = m q (1 - q^H) / (1 - q)`,
      which for :math:`H = \infty` is :math:`m r / (1 + d - r)`;
    - ``timing="start"``: :math:`\sum_{t=0}^{H-1} m q^t = m (1 - q^H) / (1 - q)`,
      for :math:`H = \infty` :math:`m (1 + d) / (1 + d - r)`.

    :math:`1 - q^H` is computed as ``-expm1(H log q)`` and :math:`1 - q` as
    :math:`(d + (1 - r))/(1 + d)` (and :math:`\log q` as ``log1p(r - 1) - log1p(d)``),
    so nothing cancels when ``q`` is close to 1;
    at ``q == 1`` the finite sum is ``m H``. The model assumes a constant
    margin and retention for every period (Gupta & Lehmann's margin
    multiple).

    References
    ----------
    Gupta, S., & Lehmann, D. R. (2003). Customers as assets. Journal of
    Interactive Marketing, 17(1), 9-24.

    Examples
    --------
    >>> round(clv_margin_multiple(100.0, 0.8, 0.1), 3)
    266.667
    >>> round(clv_margin_multiple(100.0, 0.8, 0.1, timing="start"), 3)
    366.667
    >>> round(clv_margin_multiple(100.0, 0.8, 0.1, horizon=2), 4)
    125.6198
    >>> clv_margin_multiple(100.0, 1.0, 0.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: the infinite sum diverges where retention == 1 and discount_rate ...
    """
    v.check_choice(timing, "timing", ("end", "start"))
    n_pay = None if horizon is None else v.check_int(horizon, "horizon", low=1)
    scalar = _is_scalar(margin) and _is_scalar(retention) and _is_scalar(discount_rate)
    m = _as_float_nd(margin, "margin")
    r = _as_float_nd(retention, "retention", low=0.0, high=1.0)
    d = _as_float_nd(discount_rate, "discount_rate", low=0.0)
    try:
        m, r, d = np.broadcast_arrays(m, r, d)
    except ValueError as exc:
        raise InputError(
            f"margin, retention and discount_rate must broadcast together; got shapes "
            f"{np.shape(m)}, {np.shape(r)}, {np.shape(d)}"
        ) from exc
    gap = d + (1.0 - r)  # (1 + d)(1 - q); 1 - r is exact for r in [0.5, 1]
    one_minus_q = gap / (1.0 + d)
    if n_pay is None:
        diverges = gap <= 0
        if diverges.any():
            raise InputError(
                "the infinite sum diverges where retention == 1 and discount_rate == 0 "
                f"({int(diverges.sum())} of {diverges.size} values); pass a horizon"
            )
        geometric = 1.0 / one_minus_q  # sum_{t>=0} q^t
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            log_q = np.log1p(-(1.0 - r)) - np.log1p(d)
            partial = -np.expm1(n_pay * log_q)  # 1 - q^H (log(0) = -inf gives 1)
            geometric = np.where(one_minus_q > 0, partial / one_minus_q, float(n_pay))
    q = r / (1.0 + d)
    with np.errstate(over="ignore", invalid="ignore"):
        value = m * (q * geometric) if timing == "end" else m * geometric
    out = np.asarray(value, dtype=np.float64)
    if not np.isfinite(out).all():
        bad = ~np.isfinite(out).reshape(-1)
        raise InputError(
            "margin: the lifetime value exceeds the largest float "
            f"({np.finfo(np.float64).max:.4g}); express the margin in a larger unit; "
            + v.describe_violations(bad, ("margin", m.reshape(-1)), ("retention", r.reshape(-1)))
        )
    if scalar:
        return float(out)
    return out


def _as_float_nd(
    x: ArrayLike, name: str, *, low: float | None = None, high: float | None = None
) -> FloatArray:
    if not isinstance(x, str | bytes):
        ndim_of(x, name)  # ragged nested lists: an InputError naming the argument
    arr = np.asarray(x) if not isinstance(x, str | bytes) else None
    if arr is None:
        raise InputTypeError(f"{name} must be a number or array of numbers, got a string {x!r}")
    return v.as_float_array(arr, name, ndim=arr.ndim, low=low, high=high)
