"""Change over time: period-over-period change, customer flows, and the revenue tree.

Month over month (环比) and year over year (同比) change of any series of
period figures; new, reactivated, repeating and lapsed customers between two
periods; and revenue split into customers × orders per customer × spend per
order with each factor's contribution to the change, to tell whether
growth came from more customers, more orders or larger orders; and the
migration of customers between classes (segments, loyalty classes, value
tiers) from one snapshot to the next.

Periods are given as ``(start, end)`` pairs, the start included and the end
excluded, or as a calendar label: ``"2024"`` (a year), ``"2024-03"`` (a
month) or ``"2024-03-05"`` (a day), in UTC.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

from crmcore import _validation as v
from crmcore._typing import ArrayLike, BoolArray, FloatArray
from crmcore._validation import readonly as _ro
from crmcore.errors import InputError, InputTypeError
from crmcore.table import PURCHASE_CODE, InteractionTable

__all__ = [
    "CUSTOMER_FLOW_STATUSES",
    "MIGRATION_LOST",
    "MIGRATION_NEW",
    "CustomerFlow",
    "PeriodChange",
    "RevenueTree",
    "SegmentMigration",
    "new_lapsed_repeating",
    "period_change",
    "revenue_tree",
    "segment_migration",
]

_NS = "datetime64[ns]"
_LABEL_UNITS = ("Y", "M", "D")

#: Status labels of :func:`new_lapsed_repeating`.
CUSTOMER_FLOW_STATUSES: tuple[str, ...] = (
    "new",
    "reactivated",
    "repeating",
    "lapsed",
    "inactive",
)


# --------------------------------------------------------------------------- period change


@attrs.frozen(kw_only=True, eq=False)
class PeriodChange:
    """Change of a series against the value ``lag`` periods earlier.

    Every array has ``n - lag`` entries, aligned with ``values[lag:]``.

    Attributes
    ----------
    current : ndarray of float64
        ``values[lag:]``.
    base : ndarray of float64
        ``values[:-lag]``, the value compared against.
    difference : ndarray of float64
        ``current - base``.
    relative : ndarray of float64
        ``difference / |base|``; NaN where ``zero_base`` is True.
    zero_base : ndarray of bool
        Where the base is 0, so that no relative change exists.
    lag : int
        Periods between the compared values.
    """

    current: FloatArray
    base: FloatArray
    difference: FloatArray
    relative: FloatArray
    zero_base: BoolArray
    lag: int


def period_change(values: ArrayLike, *, lag: int = 1) -> PeriodChange:
    r"""Period-over-period change of a series: month over month, year over year.

    Parameters
    ----------
    values : array-like
        One figure per consecutive period, oldest first (monthly revenue,
        weekly active customers, quarterly NPS, ...). Finite; may be negative.
    lag : int, default 1
        How many periods back the base lies: 1 compares each period with the
        previous one (month over month for monthly data, 环比); 12 compares a
        month with the same month a year earlier (year over year, 同比).

    Returns
    -------
    PeriodChange
        Current and base values, absolute and relative change, and a flag
        where the base is 0.

    Raises
    ------
    InputError
        On NaN or infinite values, a non-1-d input, or fewer than ``lag + 1``
        values.
    InputTypeError
        On a non-integer ``lag`` or non-numeric values.

    Notes
    -----
    .. math:: \Delta_t = x_t - x_{t-\ell}, \qquad
              \rho_t = \frac{x_t - x_{t-\ell}}{|x_{t-\ell}|}.

    Dividing by the absolute base keeps the sign of the relative change equal
    to the sign of the difference when the base is negative (a loss shrinking
    from -10 to -5 is +50%, an improvement). A zero base has no relative
    change: ``relative`` holds NaN there and ``zero_base`` is True, never an
    infinity, and no numpy warning is raised. (A base so close to 0 that the
    ratio exceeds the float range, below about 1e-308 times the difference,
    gives ±inf.)

    Examples
    --------
    >>> c = period_change([100.0, 120.0, 0.0, 30.0])
    >>> c.difference.tolist()
    [20.0, -120.0, 30.0]
    >>> c.relative.tolist()
    [0.2, -1.0, nan]
    >>> c.zero_base.tolist()
    [False, False, True]
    >>> period_change([100.0, 120.0], lag=2)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: values must hold more than lag=2 values, got 2
    """
    k = v.check_int(lag, "lag", low=1)
    x = v.as_float_array(values, "values")
    if x.size <= k:
        raise InputError(f"values must hold more than lag={k} values, got {x.size}")
    current = x[k:].copy()
    base = x[:-k].copy()
    difference = current - base
    zero = base == 0
    relative = np.full(difference.size, np.nan)
    with np.errstate(over="ignore"):  # a subnormal base: the change is beyond float range
        np.divide(difference, np.abs(base), out=relative, where=~zero)
    return PeriodChange(
        current=_ro(current),
        base=_ro(base),
        difference=_ro(difference),
        relative=_ro(relative),
        zero_base=_ro(zero),
        lag=k,
    )


# --------------------------------------------------------------------------- periods


def _as_period(period: object, name: str) -> tuple[np.datetime64, np.datetime64]:
    """Turn a ``(start, end)`` pair or a calendar label into ``[start, end)`` in ns."""
    if isinstance(period, str | np.datetime64) or (
        isinstance(period, _dt.date) and not isinstance(period, _dt.datetime)
    ):
        try:
            label = np.datetime64(period)
        except ValueError as exc:
            raise InputError(
                f"{name} must be a (start, end) pair or a calendar label such as '2024', "
                f"'2024-03' or '2024-03-05'; got {period!r}"
            ) from exc
        unit, _ = np.datetime_data(label.dtype)
        if np.isnat(label) or unit not in _LABEL_UNITS:
            raise InputError(
                f"{name} as a label must name a year, month or day ('2024', '2024-03', "
                f"'2024-03-05'); got {period!r} (unit {unit!r}); pass a (start, end) pair instead"
            )
        # through as_timestamp: a label outside the nanosecond range is refused, not wrapped
        start = v.as_timestamp(label, name)
        end = v.as_timestamp(label + 1, name)  # one year, month or day later
        return start, end
    if isinstance(period, Sequence) and len(period) == 2:
        start = v.as_timestamp(period[0], f"{name}[0]")
        end = v.as_timestamp(period[1], f"{name}[1]")
        if not end > start:
            raise InputError(
                f"{name} must end after it starts (the end is excluded); "
                f"got start={start}, end={end}"
            )
        return start, end
    raise InputTypeError(
        f"{name} must be a (start, end) pair or a calendar label such as '2024-03'; "
        f"got {type(period).__name__} {period!r}"
    )


def _check_table(table: object) -> InteractionTable:
    if not isinstance(table, InteractionTable):
        raise InputTypeError(f"table must be an InteractionTable, got {type(table).__name__}")
    return table


def _purchase_rows_in(
    table: InteractionTable, start: np.datetime64, end: np.datetime64
) -> BoolArray:
    rows: BoolArray = (table.kinds == PURCHASE_CODE) & (table.times >= start) & (table.times < end)
    return rows


# --------------------------------------------------------------------------- customer flow


@attrs.frozen(kw_only=True, eq=False)
class CustomerFlow:
    """Customers of two periods split into new, reactivated, repeating and lapsed.

    Attributes
    ----------
    customer_ids : ndarray
        The table's customers (sorted ids).
    status : ndarray of str
        Per customer, one of :data:`CUSTOMER_FLOW_STATUSES`.
    n_new, n_reactivated, n_repeating, n_lapsed : int
        Customers per status (``inactive`` customers bought in neither period).
    n_customers_1, n_customers_2 : int
        Buyers in each period: ``n_repeating + n_lapsed`` and
        ``n_new + n_reactivated + n_repeating``.
    revenue_1, revenue_2 : float
        Purchase amounts in each period.
    revenue_new, revenue_reactivated : float
        Period-2 revenue of new and of reactivated customers.
    revenue_repeating_1, revenue_repeating_2 : float
        Revenue of the repeating customers in each period.
    revenue_lapsed : float
        Period-1 revenue of the lapsed customers (the revenue lost).
    """

    customer_ids: np.ndarray[Any, Any]
    status: np.ndarray[Any, np.dtype[np.str_]]
    n_new: int
    n_reactivated: int
    n_repeating: int
    n_lapsed: int
    n_customers_1: int
    n_customers_2: int
    revenue_1: float
    revenue_2: float
    revenue_new: float
    revenue_reactivated: float
    revenue_repeating_1: float
    revenue_repeating_2: float
    revenue_lapsed: float

    def columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the status of each customer by name, customer ids first, ready for a data frame.

        The same contract as :meth:`crmcore.CustomerSummary.columns`:
        equal-length 1-d read-only arrays, one row per customer of the table.
        The counts and revenues stay attributes.

        Returns
        -------
        dict of str to ndarray
            ``customer_ids`` and ``status``.

        Examples
        --------
        >>> import numpy as np
        >>> from crmcore import InteractionTable
        >>> t = np.array(["2024-01-05", "2024-02-05", "2024-02-07"], dtype="datetime64[ns]")
        >>> table = InteractionTable.from_arrays(["a", "a", "b"], t, amounts=[1.0, 2.0, 3.0])
        >>> flow = new_lapsed_repeating(table, "2024-01", "2024-02")
        >>> {k: c.tolist() for k, c in flow.columns().items()}
        {'customer_ids': ['a', 'b'], 'status': ['repeating', 'new']}
        """
        return v.result_columns(self, "customer_ids", "status")


def new_lapsed_repeating(
    table: InteractionTable, period_1: object, period_2: object
) -> CustomerFlow:
    """Split the buyers of two periods into new, reactivated, repeating and lapsed customers.

    Parameters
    ----------
    table : InteractionTable
        The interaction log; only purchase rows count.
    period_1 : (start, end) pair or calendar label
        The earlier period, e.g. ``"2024-01"`` or ``("2024-01-01", "2024-04-01")``.
    period_2 : (start, end) pair or calendar label
        The later period; it must start at or after the end of ``period_1``.

    Returns
    -------
    CustomerFlow
        Status per customer and counts and revenue per status.

    Raises
    ------
    InputError
        On malformed periods, or ``period_2`` starting before ``period_1`` ends.
    InputTypeError
        When ``table`` is not an :class:`~crmcore.InteractionTable`.

    Notes
    -----
    Each customer of the table gets one status:

    - ``repeating``: bought in both periods (retained);
    - ``lapsed``: bought in period 1, not in period 2;
    - ``new``: bought in period 2 and never before it (first purchase ever);
    - ``reactivated``: bought in period 2, not in period 1, but at some time
      before period 2 (won back);
    - ``inactive``: bought in neither period.

    The counts and revenues bridge the two periods exactly:
    ``revenue_2 - revenue_1 = revenue_new + revenue_reactivated +
    (revenue_repeating_2 - revenue_repeating_1) - revenue_lapsed``, and
    ``n_customers_2 - n_customers_1 = n_new + n_reactivated - n_lapsed``.
    Purchases after period 2 are ignored; refunds are not netted.

    Examples
    --------
    >>> import numpy as np
    >>> from crmcore import InteractionTable
    >>> t = np.array(["2023-11-05", "2024-01-10", "2024-02-03", "2024-01-20", "2024-02-14",
    ...               "2024-02-20"], dtype="datetime64[ns]")
    >>> table = InteractionTable.from_arrays(["old", "kept", "kept", "gone", "fresh", "old"], t,
    ...                                      amounts=[5.0, 10.0, 12.0, 7.0, 4.0, 6.0])
    >>> flow = new_lapsed_repeating(table, "2024-01", "2024-02")
    >>> flow.customer_ids.tolist(), flow.status.tolist()
    (['fresh', 'gone', 'kept', 'old'], ['new', 'lapsed', 'repeating', 'reactivated'])
    >>> flow.revenue_1, flow.revenue_2, flow.revenue_lapsed
    (17.0, 22.0, 7.0)
    >>> new_lapsed_repeating(table, "2024-02", "2024-01")
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: period_2 must start at or after the end of period_1; ...
    """
    tab = _check_table(table)
    s1, e1 = _as_period(period_1, "period_1")
    s2, e2 = _as_period(period_2, "period_2")
    if s2 < e1:
        raise InputError(
            "period_2 must start at or after the end of period_1; "
            f"got period_1=[{s1}, {e1}), period_2=[{s2}, {e2})"
        )
    n_c = tab.n_customers
    codes = tab.customer_codes
    in_1 = _purchase_rows_in(tab, s1, e1)
    in_2 = _purchase_rows_in(tab, s2, e2)
    before_2 = (tab.kinds == PURCHASE_CODE) & (tab.times < s2)
    rev_1 = np.bincount(codes[in_1], weights=tab.amounts[in_1], minlength=n_c)
    rev_2 = np.bincount(codes[in_2], weights=tab.amounts[in_2], minlength=n_c)
    bought_1 = np.bincount(codes[in_1], minlength=n_c) > 0
    bought_2 = np.bincount(codes[in_2], minlength=n_c) > 0
    earlier = np.bincount(codes[before_2], minlength=n_c) > 0
    repeating = bought_1 & bought_2
    lapsed = bought_1 & ~bought_2
    new = bought_2 & ~earlier
    reactivated = bought_2 & ~bought_1 & earlier
    status = np.full(n_c, "inactive", dtype="<U11")
    status[repeating] = "repeating"
    status[lapsed] = "lapsed"
    status[new] = "new"
    status[reactivated] = "reactivated"
    return CustomerFlow(
        customer_ids=tab.customer_ids,
        status=_ro(status),
        n_new=int(new.sum()),
        n_reactivated=int(reactivated.sum()),
        n_repeating=int(repeating.sum()),
        n_lapsed=int(lapsed.sum()),
        n_customers_1=int(bought_1.sum()),
        n_customers_2=int(bought_2.sum()),
        revenue_1=float(rev_1.sum()),
        revenue_2=float(rev_2.sum()),
        revenue_new=float(rev_2[new].sum()),
        revenue_reactivated=float(rev_2[reactivated].sum()),
        revenue_repeating_1=float(rev_1[repeating].sum()),
        revenue_repeating_2=float(rev_2[repeating].sum()),
        revenue_lapsed=float(rev_1[lapsed].sum()),
    )


# --------------------------------------------------------------------------- revenue tree


@attrs.frozen(kw_only=True)
class RevenueTree:
    """Revenue of two periods as customers × orders per customer × spend per order.

    Attributes
    ----------
    revenue_1, revenue_2 : float
        Purchase amounts in each period.
    change : float
        ``revenue_2 - revenue_1``.
    n_customers_1, n_customers_2 : int
        Distinct buyers in each period.
    n_orders_1, n_orders_2 : int
        Purchase rows in each period.
    orders_per_customer_1, orders_per_customer_2 : float
        ``n_orders / n_customers``.
    spend_per_order_1, spend_per_order_2 : float
        ``revenue / n_orders``.
    contribution_customers : float
        Part of ``change`` due to the number of buyers.
    contribution_orders_per_customer : float
        Part due to how often each buyer ordered.
    contribution_spend_per_order : float
        Part due to the size of an order. The three contributions add up to
        ``change``.
    """

    revenue_1: float
    revenue_2: float
    change: float
    n_customers_1: int
    n_customers_2: int
    n_orders_1: int
    n_orders_2: int
    orders_per_customer_1: float
    orders_per_customer_2: float
    spend_per_order_1: float
    spend_per_order_2: float
    contribution_customers: float
    contribution_orders_per_customer: float
    contribution_spend_per_order: float


def _log_ratio(a: float, b: float) -> float:
    """Return ``ln(b / a)`` for positive ``a``, ``b``, accurate when ``b`` is close to ``a``."""
    return math.log1p((b - a) / a)


def _period_totals(
    table: InteractionTable, start: np.datetime64, end: np.datetime64, name: str
) -> tuple[float, int, int]:
    rows = _purchase_rows_in(table, start, end)
    if table.order_ids is None:
        n_orders = int(rows.sum())
    else:
        n_orders = int(np.unique(table.order_codes()[rows]).size)
    revenue = float(table.amounts[rows].sum())
    n_customers = int(np.count_nonzero(np.bincount(table.customer_codes[rows])))
    if n_orders == 0 or not revenue > 0:
        raise InputError(
            f"{name} must hold purchases with positive revenue to decompose it; got "
            f"{n_orders} purchase rows of table and revenue {revenue!r} in [{start}, {end})"
        )
    return revenue, n_customers, n_orders


def revenue_tree(table: InteractionTable, period_1: object, period_2: object) -> RevenueTree:
    r"""Decompose the change of revenue into customers, orders per customer and spend per order.

    Parameters
    ----------
    table : InteractionTable
        The interaction log; only purchase rows count, each row one order.
    period_1 : (start, end) pair or calendar label
        The base period, e.g. ``"2023"`` or ``("2023-01-01", "2023-07-01")``.
    period_2 : (start, end) pair or calendar label
        The period compared with it (usually later; overlaps are allowed).

    Returns
    -------
    RevenueTree
        The three factors in each period and each factor's contribution to
        the change of revenue.

    Raises
    ------
    InputError
        On malformed periods, or a period without purchases or with zero
        revenue (the decomposition is then undefined).
    InputTypeError
        When ``table`` is not an :class:`~crmcore.InteractionTable`.

    Notes
    -----
    Revenue is a product of three factors,

    .. math:: R = C \times \frac{O}{C} \times \frac{R}{O},

    with :math:`C` the distinct buyers and :math:`O` the orders: the
    purchase rows, or, when the table has ``order_ids``, the distinct orders
    among them (:meth:`~crmcore.InteractionTable.order_codes`). The change
    is split with the logarithmic mean Divisia index
    (LMDI-I): with :math:`L(a, b) = (b - a)/(\ln b - \ln a)` (and
    :math:`L(a, a) = a`), factor :math:`k` contributes

    .. math:: \Delta_k = L(R_1, R_2)\, \ln\frac{x_{k,2}}{x_{k,1}}.

    Because the logs of the factors add up to the log of revenue, the three
    contributions add up to :math:`R_2 - R_1` exactly (in exact arithmetic;
    to rounding in floats), with no residual or interaction term, and each
    is zero when its factor did not change. Unlike a sequential
    ("shift-share") substitution the result does not depend on the order in
    which factors are replaced, and swapping the periods negates every
    contribution.

    Each log ratio is computed as ``log1p((b - a) / a)`` and the logs of the
    per-customer and per-order factors as differences of the logs of
    revenue, orders and customers, so periods with almost equal figures keep
    full relative accuracy.

    References
    ----------
    Ang, B. W. (2005). The LMDI approach to decomposition analysis: a
    practical guide. Energy Policy, 33(7), 867-871.

    Examples
    --------
    >>> import numpy as np
    >>> from crmcore import InteractionTable
    >>> t = np.array(["2023-03-01", "2023-05-01", "2024-02-01", "2024-03-01", "2024-04-01"],
    ...              dtype="datetime64[ns]")
    >>> table = InteractionTable.from_arrays(["a", "b", "a", "a", "c"], t,
    ...                                      amounts=[50.0, 50.0, 40.0, 40.0, 40.0])
    >>> tree = revenue_tree(table, "2023", "2024")
    >>> tree.revenue_1, tree.revenue_2, tree.orders_per_customer_2
    (100.0, 120.0, 1.5)
    >>> parts = (tree.contribution_customers, tree.contribution_orders_per_customer,
    ...          tree.contribution_spend_per_order)
    >>> [round(p, 3) for p in parts], round(sum(parts), 9)
    ([0.0, 44.478, -24.478], 20.0)
    >>> revenue_tree(table, "2022", "2024")
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: period_1 must hold purchases with positive revenue to decompose ...
    """
    tab = _check_table(table)
    s1, e1 = _as_period(period_1, "period_1")
    s2, e2 = _as_period(period_2, "period_2")
    r1, c1, o1 = _period_totals(tab, s1, e1, "period_1")
    r2, c2, o2 = _period_totals(tab, s2, e2, "period_2")
    # Log ratios of revenue, orders and customers, each as log1p of a relative change, which
    # stays accurate when the two periods are close; the factors' logs are their differences.
    log_r, log_o, log_c = _log_ratio(r1, r2), _log_ratio(o1, o2), _log_ratio(c1, c2)
    weight = r1 if r1 == r2 else (r2 - r1) / log_r  # logarithmic mean L(R1, R2)
    log_opc = 0.0 if o1 * c2 == o2 * c1 else log_o - log_c  # exact test on the integers
    opc1, opc2 = o1 / c1, o2 / c2
    spo1, spo2 = r1 / o1, r2 / o2
    return RevenueTree(
        revenue_1=r1,
        revenue_2=r2,
        change=r2 - r1,
        n_customers_1=c1,
        n_customers_2=c2,
        n_orders_1=o1,
        n_orders_2=o2,
        orders_per_customer_1=opc1,
        orders_per_customer_2=opc2,
        spend_per_order_1=spo1,
        spend_per_order_2=spo2,
        contribution_customers=weight * log_c,
        contribution_orders_per_customer=weight * log_opc,
        contribution_spend_per_order=weight * (log_r - log_o),
    )


# --------------------------------------------------------------------------- migration

#: Row label of :func:`segment_migration` for customers only in the later snapshot.
MIGRATION_NEW = "(new)"
#: Column label of :func:`segment_migration` for customers only in the earlier snapshot.
MIGRATION_LOST = "(lost)"


@attrs.frozen(kw_only=True, eq=False)
class SegmentMigration:
    """Customers moving between classes from one snapshot to the next (:func:`segment_migration`).

    Attributes
    ----------
    classes : ndarray of str
        The classes, in the order of the rows and columns.
    row_labels : ndarray of str
        ``classes`` then :data:`MIGRATION_NEW` (customers only in the later
        snapshot): the class *before*.
    column_labels : ndarray of str
        ``classes`` then :data:`MIGRATION_LOST` (customers only in the
        earlier snapshot): the class *after*.
    counts : ndarray of int64, shape (k + 1, k + 1)
        ``counts[i, j]``: customers in row class ``i`` before and column class
        ``j`` after. The corner ``(new, lost)`` is always 0.
    row_shares : ndarray of float64, shape (k + 1, k + 1)
        Each row of ``counts`` over its sum: where the customers of a class
        went. A row without customers holds zeros.
    n_before : int
        Customers in the earlier snapshot (the sum of the first ``k`` rows).
    n_after : int
        Customers in the later snapshot (the sum of the first ``k`` columns).
    """

    classes: np.ndarray[Any, np.dtype[np.str_]]
    row_labels: np.ndarray[Any, np.dtype[np.str_]]
    column_labels: np.ndarray[Any, np.dtype[np.str_]]
    counts: np.ndarray[Any, np.dtype[np.int64]]
    row_shares: FloatArray
    n_before: int
    n_after: int

    def cell_columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the matrix in long format, one row per (before, after) cell, for a data frame.

        Returns
        -------
        dict of str to ndarray
            ``before``, ``after``, ``count`` and ``row_share``, row-major
            (all cells of the first row class first).

        Examples
        --------
        >>> m = segment_migration(["a", "b"], ["b", "b"])
        >>> cells = m.cell_columns()
        >>> moved = cells["count"] > 0
        >>> cells["before"][moved].tolist(), cells["after"][moved].tolist()
        (['a', 'b'], ['b', 'b'])
        """
        k1 = self.row_labels.size
        return v.result_columns(
            self,
            ("before", np.repeat(self.row_labels, k1)),
            ("after", np.tile(self.column_labels, k1)),
            ("count", self.counts.reshape(-1)),
            ("row_share", self.row_shares.reshape(-1)),
        )


def segment_migration(
    classes_before: ArrayLike,
    classes_after: ArrayLike,
    *,
    customer_ids_before: ArrayLike | None = None,
    customer_ids_after: ArrayLike | None = None,
    classes: Sequence[str] | None = None,
) -> SegmentMigration:
    """Transition matrix of customers between classes of two snapshots (变动情况).

    Parameters
    ----------
    classes_before, classes_after : array-like
        One class per customer at the earlier and at the later snapshot: RFM
        segments, loyalty classes, value tiers, ladder stages or any labels
        (str, int or bool; compared as ``str``).
    customer_ids_before, customer_ids_after : array-like, optional
        The customer of each label (distinct ids within a snapshot), e.g. the
        ``customer_ids`` of the two summaries. Customers only in the later
        snapshot are new, customers only in the earlier one lost. Leave both
        out when the two label arrays are aligned row by row (same
        customers, same order; then nobody is new or lost).
    classes : sequence of str, optional
        The classes and their order (e.g. :data:`~crmcore.metrics.LOYALTY_CLASSES`);
        must hold every label. Default: the distinct labels of both
        snapshots, sorted.

    Returns
    -------
    SegmentMigration
        Counts and row shares of the ``(k + 1) x (k + 1)`` matrix, class
        before by class after, with a row for new and a column for lost
        customers.

    Raises
    ------
    InputError
        On missing labels, labels outside ``classes``, repeated ids, lengths
        that do not match their ids (or each other without ids), a class
        named like the new/lost markers, or only one of the two id arrays.
    InputTypeError
        On labels that are not str, int or bool, or ids that cannot be
        ordered.

    Notes
    -----
    The result does not depend on the order of the customers. Each row of
    the first ``k`` sums to the customers of that class before, so the first
    ``k`` rows sum to ``n_before``; the last row counts the new customers
    by their class after. Counting is one ``bincount`` over joint codes,
    with no Python loop over customers.

    Examples
    --------
    >>> m = segment_migration(
    ...     ["loyal", "old", "new", "new"], ["loyal", "loyal", "old", "new"],
    ...     customer_ids_before=[1, 2, 3, 4], customer_ids_after=[1, 2, 3, 5],
    ...     classes=["new", "old", "loyal"])
    >>> m.row_labels.tolist(), m.column_labels.tolist()
    (['new', 'old', 'loyal', '(new)'], ['new', 'old', 'loyal', '(lost)'])
    >>> m.counts.tolist()
    [[0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 1, 0], [1, 0, 0, 0]]
    >>> m.row_shares[0].tolist()
    [0.0, 0.5, 0.0, 0.5]
    >>> segment_migration(["a", "b"], ["a"])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: classes_before and classes_after must have the same length ...
    """
    from crmcore.metrics.loyalty.lifecycle import _distinct_ids, _joint_codes
    from crmcore.metrics.value import class_codes

    raw_before = v.as_ndarray(classes_before, "classes_before")
    raw_after = v.as_ndarray(classes_after, "classes_after")
    for name, arr in (("classes_before", raw_before), ("classes_after", raw_after)):
        if arr.ndim != 1:
            raise InputError(f"{name} must be 1-dimensional, got shape {arr.shape}")
    if classes is None:
        names_b, code_b = class_codes(raw_before, "classes_before", None)
        names_a, code_a = class_codes(raw_after, "classes_after", None)
        names = np.union1d(names_b, names_a).astype(np.str_)
        code_b = np.searchsorted(names, names_b)[code_b].astype(np.int64)
        code_a = np.searchsorted(names, names_a)[code_a].astype(np.int64)
    else:
        names, code_b = class_codes(raw_before, "classes_before", classes)
        _, code_a = class_codes(raw_after, "classes_after", classes)
    for marker in (MIGRATION_NEW, MIGRATION_LOST):
        if marker in names.tolist():
            raise InputError(f"classes must not hold the label {marker!r} (it marks a row/column)")
    k = names.size
    if (customer_ids_before is None) != (customer_ids_after is None):
        raise InputError(
            "customer_ids_before and customer_ids_after must be given together (or both left "
            "out for labels aligned row by row)"
        )
    if customer_ids_before is None or customer_ids_after is None:
        if code_b.size != code_a.size:
            raise InputError(
                "classes_before and classes_after must have the same length without customer "
                f"ids (rows aligned); got {code_b.size} and {code_a.size}: pass "
                "customer_ids_before and customer_ids_after"
            )
        row = code_b
        col = code_a
    else:
        ids_b = _distinct_ids(customer_ids_before, "customer_ids_before")
        ids_a = _distinct_ids(customer_ids_after, "customer_ids_after")
        v.check_same_length(("classes_before", code_b), ("customer_ids_before", ids_b))
        v.check_same_length(("classes_after", code_a), ("customer_ids_after", ids_a))
        n_u, where_b, where_a = _joint_codes(
            ids_b, ids_a, "customer_ids_before and customer_ids_after"
        )
        row = np.full(n_u, k, dtype=np.int64)
        col = np.full(n_u, k, dtype=np.int64)
        row[where_b] = code_b
        col[where_a] = code_a
    counts = np.bincount(row * (k + 1) + col, minlength=(k + 1) ** 2).reshape(k + 1, k + 1)
    sums = counts.sum(axis=1, keepdims=True)
    shares = counts / np.maximum(sums, 1)
    return SegmentMigration(
        classes=_ro(names),
        row_labels=_ro(np.append(names, MIGRATION_NEW)),
        column_labels=_ro(np.append(names, MIGRATION_LOST)),
        counts=_ro(counts.astype(np.int64)),
        row_shares=_ro(shares),
        n_before=int(code_b.size),
        n_after=int(code_a.size),
    )
