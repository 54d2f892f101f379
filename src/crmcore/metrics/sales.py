"""Sales analyses: sales by group, products bought together, campaign response.

:func:`sales_breakdown` splits revenue, margin, customers and orders by
category, product, channel or region; :func:`co_purchase` counts pairs of
products (or categories) in the same basket with their support, confidence
and lift; :func:`campaign_uplift` compares the response rate of a campaign's
targets with its held-out control group. Together they cover the
performance analysis (what sells where), the product analysis (what sells
with what) and the promotion analysis (did the campaign add responses).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from statistics import NormalDist
from types import MappingProxyType
from typing import Any, Literal

import attrs
import numpy as np

from crmcore import _validation as v
from crmcore._typing import ArrayLike, BoolArray, FloatArray, IntArray
from crmcore._validation import readonly as _ro
from crmcore.errors import InputError, InputTypeError
from crmcore.metrics.value import _factorize_labels, _run_starts
from crmcore.records import InteractionKind
from crmcore.summary import PERIODS, period_index
from crmcore.table import _CHANNELS, KIND_CODES, PURCHASE_CODE, InteractionTable

__all__ = [
    "BREAKDOWN_DIMENSIONS",
    "CoPurchase",
    "SalesBreakdown",
    "UpliftResult",
    "campaign_uplift",
    "co_purchase",
    "sales_breakdown",
]

_DAY_NS = 86_400 * 10**9
_MARKETING_CODE = KIND_CODES[InteractionKind.MARKETING]


def _plain(value: Any) -> Any:
    """Turn a numpy scalar into the Python value, for messages."""
    return value.item() if isinstance(value, np.generic) else value


def _check_table(table: object) -> InteractionTable:
    if not isinstance(table, InteractionTable):
        raise InputTypeError(f"table must be an InteractionTable, got {type(table).__name__}")
    return table


# --------------------------------------------------------------------------- co-purchase


@attrs.frozen(kw_only=True, eq=False)
class CoPurchase:
    """Pairs of items bought in the same basket, with support, confidence and lift.

    Pairs are listed once, ``item_a`` before ``item_b`` in sorted label
    order, most frequent pair first (ties: higher lift first, then label
    order).

    Attributes
    ----------
    items : ndarray
        The distinct items (sorted labels).
    item_baskets : ndarray of int64
        Baskets holding each item, aligned with ``items``.
    n_baskets : int
        Baskets with at least one labelled item.
    item_a, item_b : ndarray
        The two items of each pair.
    n_together : ndarray of int64
        Baskets holding both.
    support : ndarray of float64
        ``n_together / n_baskets``.
    confidence_a_to_b, confidence_b_to_a : ndarray of float64
        Share of the baskets with ``item_a`` that also hold ``item_b``, and
        the reverse.
    lift : ndarray of float64
        ``support / (share of a × share of b)``: above 1 the items go
        together more often than by chance.
    basket : str
        The basket definition used.
    """

    items: np.ndarray[Any, Any]
    item_baskets: IntArray
    n_baskets: int
    item_a: np.ndarray[Any, Any]
    item_b: np.ndarray[Any, Any]
    n_together: IntArray
    support: FloatArray
    confidence_a_to_b: FloatArray
    confidence_b_to_a: FloatArray
    lift: FloatArray
    basket: str


def _basket_ids(table: InteractionTable, rows: IntArray, basket: str, period: str) -> IntArray:
    """Basket key per row as one int64 per (customer, time slot)."""
    cust = table.customer_codes[rows]
    if basket == "customer":
        return cust
    if basket == "order" and table.order_ids is not None:
        _, ids = np.unique(table.order_codes()[rows], return_inverse=True)
        return ids.reshape(-1).astype(np.int64, copy=False)
    times = table.times[rows]
    slot = times.view(np.int64) if basket == "order" else period_index(times, period)
    lo, hi = int(slot.min()), int(slot.max())
    span = hi - lo + 1
    if int(cust.max()) >= (1 << 62) // span:
        # Nanosecond times over years: replace the slots by their dense ranks (below n).
        _, slot = np.unique(slot, return_inverse=True)
        slot = slot.reshape(-1).astype(np.int64, copy=False)
        lo, span = 0, int(slot.max()) + 1
    # One int64 key per (customer, slot): a single sort instead of a lexsort.
    key = cust * span + (slot - lo)
    _, ids = np.unique(key, return_inverse=True)
    return ids.reshape(-1).astype(np.int64, copy=False)


def _pair_counts(bid: IntArray, item: IntArray, n_items: int) -> tuple[IntArray, IntArray]:
    """Count the baskets holding each pair of items (``bid`` and ``item`` sorted, distinct).

    Every entry is paired with the later entries of its basket: ``np.repeat``
    expands the sparse basket × item incidence into its pairs, so the cost is
    the number of pairs, sum over baskets of k(k-1)/2.
    """
    n = bid.size
    starts = np.flatnonzero(_run_starts(bid))
    ends = np.r_[starts[1:], n]
    size = ends - starts
    basket_end = np.repeat(ends, size)
    partners = basket_end - np.arange(n) - 1
    total = int(partners.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    left = np.repeat(np.arange(n), partners)
    offset = np.arange(total) - np.repeat(np.cumsum(partners) - partners, partners)
    right = left + 1 + offset
    code = item[left] * n_items + item[right]
    if n_items * n_items <= 1 << 24:
        counts = np.bincount(code, minlength=n_items * n_items)
        present = np.flatnonzero(counts)
        return present.astype(np.int64), counts[present].astype(np.int64)
    uniq, counts = np.unique(code, return_counts=True)
    return uniq.astype(np.int64), counts.astype(np.int64)


def co_purchase(
    table: InteractionTable,
    *,
    by: Literal["products", "categories"] = "products",
    basket: Literal["order", "occasion", "customer"] = "occasion",
    period: Literal["h", "D", "W", "M", "Y"] = "D",
    min_count: int = 1,
) -> CoPurchase:
    r"""Count the pairs of products (or categories) bought together, with support, confidence, lift.

    Parameters
    ----------
    table : InteractionTable
        The interaction log; purchase rows with a known label count.
    by : {"products", "categories"}, default "products"
        Which label column defines an item.
    basket : {"order", "occasion", "customer"}, default "occasion"
        What "together" means: ``"order"``, purchase rows of one order (one
        customer and order id, see :meth:`~crmcore.InteractionTable.order_codes`;
        without order ids, one customer and timestamp); ``"occasion"``, rows
        of one customer in the same
        calendar ``period`` (UTC), e.g. one shopping day; ``"customer"``,
        everything a customer ever bought (cross-selling across time).
    period : {"h", "D", "W", "M", "Y"}, default "D"
        The calendar period of an occasion (ignored for other baskets).
    min_count : int, default 1
        Only pairs found in at least this many baskets are listed.

    Returns
    -------
    CoPurchase
        Per item the baskets holding it; per pair the baskets holding both,
        support, both confidences and lift.

    Raises
    ------
    InputError
        When the table lacks the label column, no purchase row carries a
        label, or an option is unknown.
    InputTypeError
        When ``table`` is not an :class:`~crmcore.InteractionTable` or the
        labels cannot be ordered.

    Notes
    -----
    An item counts once per basket, whatever the quantity. With :math:`N`
    baskets, :math:`n_a` of them holding item :math:`a` and :math:`n_{ab}`
    holding both :math:`a` and :math:`b`:

    .. math:: \text{support} = \frac{n_{ab}}{N}, \quad
              \text{conf}(a \to b) = \frac{n_{ab}}{n_a}, \quad
              \text{lift} = \frac{n_{ab} N}{n_a n_b}.

    Rows whose label is missing (None, NaN, empty) are left out, and
    baskets are counted over the labelled rows only. The counts are the
    off-diagonal entries of :math:`B^\top B` for the sparse basket × item
    incidence matrix :math:`B`, computed by expanding each basket into its
    pairs with numpy (no Python loop over rows or baskets): the cost grows
    with the sum over baskets of :math:`k(k-1)/2` for :math:`k` items in a
    basket, which can be large with ``basket="customer"`` and heavy buyers.

    References
    ----------
    Agrawal, R., Imieliński, T., & Swami, A. (1993). Mining association rules
    between sets of items in large databases. Proceedings of ACM SIGMOD,
    207-216.

    Brin, S., Motwani, R., Ullman, J. D., & Tsur, S. (1997). Dynamic itemset
    counting and implication rules for market basket data. Proceedings of ACM
    SIGMOD, 255-264 (lift, there called interest).

    Examples
    --------
    >>> import numpy as np
    >>> from crmcore import InteractionTable
    >>> t = np.array(["2024-01-01T10", "2024-01-01T11", "2024-01-02", "2024-01-02",
    ...               "2024-01-03", "2024-01-03"], dtype="datetime64[ns]")
    >>> table = InteractionTable.from_arrays(
    ...     [1, 1, 1, 2, 2, 2], t, amounts=[3, 2, 3, 3, 2, 1],
    ...     products=["bread", "butter", "bread", "bread", "butter", "jam"])
    >>> cp = co_purchase(table)
    >>> cp.n_baskets, cp.items.tolist(), cp.item_baskets.tolist()
    (4, ['bread', 'butter', 'jam'], [3, 2, 1])
    >>> cp.item_a.tolist(), cp.item_b.tolist(), cp.n_together.tolist()
    (['butter', 'bread'], ['jam', 'butter'], [1, 1])
    >>> cp.lift.tolist(), cp.confidence_a_to_b.tolist()
    ([2.0, 0.6666666666666666], [0.5, 0.3333333333333333])
    >>> co_purchase(table, basket="week")
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: basket must be one of 'order', 'occasion', 'customer'; got 'week'
    """
    tab = _check_table(table)
    v.check_choice(by, "by", ("products", "categories"))
    v.check_choice(basket, "basket", ("order", "occasion", "customer"))
    v.check_choice(period, "period", PERIODS)
    floor = v.check_int(min_count, "min_count", low=1)
    labels = tab.products if by == "products" else tab.categories
    if labels is None:
        raise InputError(f"table must have a {by} column to count co-purchases by {by}")
    purchase = np.flatnonzero(tab.kinds == PURCHASE_CODE)
    items, codes = _factorize_labels(labels[purchase])
    known = codes >= 0
    if not known.any():
        raise InputError(
            f"table must hold purchase rows with a known label in {by}; "
            f"{purchase.size} purchase rows, none labelled"
        )
    rows, item = purchase[known], codes[known]
    bid = _basket_ids(tab, rows, basket, period)
    # Sort entries by (basket, item) and keep each item once per basket: basket ids are below
    # the number of rows, so one int64 key holds both.
    n_items = int(items.size)
    entry = np.unique(bid * n_items + item)
    bid, item = entry // n_items, entry % n_items
    n_baskets = int(np.count_nonzero(_run_starts(bid)))
    item_baskets = np.bincount(item, minlength=n_items).astype(np.int64)
    pair_code, n_ab = _pair_counts(bid, item, n_items)
    wanted = n_ab >= floor
    pair_code, n_ab = pair_code[wanted], n_ab[wanted]
    a, b = pair_code // n_items, pair_code % n_items
    n_a = item_baskets[a].astype(np.float64)
    n_b = item_baskets[b].astype(np.float64)
    lift = n_ab * float(n_baskets) / (n_a * n_b)
    rank = np.lexsort((b, a, -lift, -n_ab))
    a, b, n_ab, n_a, n_b, lift = a[rank], b[rank], n_ab[rank], n_a[rank], n_b[rank], lift[rank]
    return CoPurchase(
        items=_ro(items.copy()),
        item_baskets=_ro(item_baskets),
        n_baskets=n_baskets,
        item_a=_ro(items[a]),
        item_b=_ro(items[b]),
        n_together=_ro(n_ab),
        support=_ro(n_ab / float(n_baskets)),
        confidence_a_to_b=_ro(n_ab / n_a),
        confidence_b_to_a=_ro(n_ab / n_b),
        lift=_ro(lift),
        basket=basket,
    )


# --------------------------------------------------------------------------- uplift


@attrs.frozen(kw_only=True)
class UpliftResult:
    """Response of a campaign's targets against its control group.

    Attributes
    ----------
    treated_rate, control_rate : float
        Response rates of the treated customers and of the control group.
    uplift : float
        ``treated_rate - control_rate`` (absolute uplift, a difference of
        fractions).
    interval : (float, float)
        Confidence interval of the uplift.
    standard_error : float
        Wald standard error of the uplift.
    relative_uplift : float or None
        ``treated_rate / control_rate - 1``; None when the control group did
        not respond at all (no relative change exists).
    incremental_responders : float
        ``uplift × n_treated``: responses the campaign added.
    n_treated, n_control : int
        Customers in each group.
    responders_treated, responders_control : int
        Responding customers in each group.
    confidence : float
        Confidence level of ``interval``.
    method : str
        ``"newcombe"`` or ``"wald"``.
    """

    treated_rate: float
    control_rate: float
    uplift: float
    interval: tuple[float, float]
    standard_error: float
    relative_uplift: float | None
    incremental_responders: float
    n_treated: int
    n_control: int
    responders_treated: int
    responders_control: int
    confidence: float
    method: str


def _wilson(k: int, n: int, z: float) -> tuple[float, float]:
    """Wilson score interval of a proportion ``k / n``."""
    p = k / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(centre - half, 0.0), min(centre + half, 1.0)


def _groups_from_table(
    table: InteractionTable, campaign: object, window_days: float
) -> tuple[BoolArray, BoolArray]:
    """Per targeted customer: responded, and in the control group."""
    if table.in_control_group is None:
        raise InputError("table must have an in_control_group column to measure uplift")
    if table.campaigns is None:
        raise InputError("table must have a campaigns column to find the campaign's contacts")
    marketing = np.flatnonzero(table.kinds == _MARKETING_CODE)
    names, codes = _factorize_labels(table.campaigns[marketing])
    if names.size == 0:
        raise InputError(
            f"table must hold marketing rows that name a campaign; {marketing.size} marketing "
            "rows, none with a campaign label"
        )
    if campaign is None:
        if names.size != 1:
            raise InputError(
                f"campaign must be given when the table's marketing rows name "
                f"{names.size} campaigns (here: {names.tolist()[:5]})"
            )
        wanted = codes == 0
        label = _plain(names[0])
    else:
        wanted = np.zeros(marketing.size, dtype=np.bool_)
        hit = np.flatnonzero(names == campaign) if names.size else np.empty(0, np.int64)
        if hit.size:
            wanted = codes == hit[0]
        label = campaign
    contacts = marketing[wanted]
    if contacts.size == 0:
        raise InputError(f"campaign {label!r} has no marketing rows in the table")
    n_c = table.n_customers
    cust = table.customer_codes[contacts]
    control = table.in_control_group[contacts]
    n_control_rows = np.bincount(cust[control], minlength=n_c)
    n_treated_rows = np.bincount(cust[~control], minlength=n_c)
    both = (n_control_rows > 0) & (n_treated_rows > 0)
    if both.any():
        first = _plain(table.customer_ids[int(np.flatnonzero(both)[0])])
        raise InputError(
            f"customers must be in one group per campaign; {int(both.sum())} of "
            f"{int(np.count_nonzero(n_control_rows + n_treated_rows))} customers of campaign "
            f"{label!r} have both control and treated rows (first: {first!r})"
        )
    targeted = (n_control_rows + n_treated_rows) > 0
    never = np.iinfo(np.int64).max
    first_contact = np.full(n_c, never, dtype=np.int64)
    np.minimum.at(first_contact, cust, table.times[contacts].view(np.int64))
    purchase = np.flatnonzero(table.kinds == PURCHASE_CODE)
    p_cust = table.customer_codes[purchase]
    start = first_contact[p_cust]
    t = table.times[purchase].view(np.int64)
    # In unsigned arithmetic t - start (with t >= start) is exact even across the whole
    # nanosecond range; a window beyond it (e.g. window_days=1e300) covers everything.
    window_ns = window_days * _DAY_NS
    window = np.uint64(2**64 - 1) if window_ns >= 2.0**64 else np.uint64(round(window_ns))
    after = (start != never) & (t >= start)
    elapsed = t.astype(np.uint64) - start.astype(np.uint64)  # wraps only where not `after`
    inside = after & (elapsed < window)
    responded = np.bincount(p_cust[inside], minlength=n_c) > 0
    return responded[targeted], (n_control_rows > 0)[targeted]


def campaign_uplift(
    data: InteractionTable | ArrayLike,
    in_control_group: ArrayLike | None = None,
    *,
    campaign: object | None = None,
    window_days: float = 30.0,
    confidence: float = 0.95,
    interval: Literal["newcombe", "wald"] = "newcombe",
) -> UpliftResult:
    r"""Campaign response of treated customers against the control group, with an interval.

    Parameters
    ----------
    data : InteractionTable or array-like of bool
        Either an interaction log, or one response flag per customer (True:
        the customer responded).
    in_control_group : array-like of bool, optional
        With a response array: True for customers held out of the campaign.
        Not used with a table (the table's own column is used).
    campaign : label, optional
        With a table: the campaign to evaluate, as in the ``campaigns``
        column. May be omitted when the marketing rows name one campaign.
    window_days : float, default 30
        With a table: a targeted customer responded when it made a purchase
        within this many days from its first contact (marketing row) of the
        campaign, the contact time included.
    confidence : float, default 0.95
        Confidence level of the interval, in (0, 1).
    interval : {"newcombe", "wald"}, default "newcombe"
        ``"newcombe"``: Newcombe's hybrid score interval built from the two
        Wilson intervals (method 10 of Newcombe 1998), which keeps its
        coverage with small groups and rates near 0 or 1; ``"wald"``: the
        normal approximation, estimate ± z × SE.

    Returns
    -------
    UpliftResult
        Rates of both groups, absolute uplift with its interval and standard
        error, relative uplift, and the counts.

    Raises
    ------
    InputError
        When a group is empty, the flags are not booleans, lengths differ,
        the table lacks ``in_control_group`` or ``campaigns``, the campaign is
        ambiguous or unknown, or a customer sits in both groups.
    InputTypeError
        When ``in_control_group`` is missing with arrays.

    Notes
    -----
    With :math:`\hat p_t = k_t/n_t` and :math:`\hat p_c = k_c/n_c`, the uplift
    is :math:`d = \hat p_t - \hat p_c` and its Wald standard error
    :math:`\sqrt{\hat p_t(1-\hat p_t)/n_t + \hat p_c(1-\hat p_c)/n_c}`. With
    :math:`(l_t, u_t)` and :math:`(l_c, u_c)` the Wilson score intervals of
    the two rates, Newcombe's interval is

    .. math:: \left[d - \sqrt{(\hat p_t - l_t)^2 + (u_c - \hat p_c)^2},\;
              d + \sqrt{(u_t - \hat p_t)^2 + (\hat p_c - l_c)^2}\right].

    The Wald interval is clipped to [-1, 1]. The relative uplift
    :math:`\hat p_t / \hat p_c - 1` is None when :math:`\hat p_c = 0`. The
    analysis assumes the control group was drawn at random from the same
    targets; a response is any purchase in the window, so the control group's
    rate is the baseline purchase rate the campaign has to beat.

    References
    ----------
    Newcombe, R. G. (1998). Interval estimation for the difference between
    independent proportions: comparison of eleven methods. Statistics in
    Medicine, 17(8), 873-890.

    Examples
    --------
    >>> r = campaign_uplift([True] * 56 + [False] * 14 + [True] * 48 + [False] * 32,
    ...                     [False] * 70 + [True] * 80)
    >>> r.treated_rate, r.control_rate, round(r.uplift, 4)
    (0.8, 0.6, 0.2)
    >>> [round(x, 4) for x in r.interval]
    [0.0524, 0.3339]
    >>> campaign_uplift([True, False], [False, False])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: in_control_group must mark at least one control customer; ...
    """
    method = v.check_choice(interval, "interval", ("newcombe", "wald"))
    level = v.check_float(
        confidence, "confidence", low=0.0, high=1.0, low_open=True, high_open=True
    )
    if isinstance(data, InteractionTable):
        days = v.check_float(window_days, "window_days", low=0.0, low_open=True)
        responded, control = _groups_from_table(data, campaign, days)
    else:
        if in_control_group is None:
            raise InputTypeError(
                "in_control_group is required when data is an array of response flags"
            )
        responded = v.as_bool_array(data, "data")
        control = v.as_bool_array(in_control_group, "in_control_group")
        v.check_same_length(("data", responded), ("in_control_group", control))
    n_c = int(control.sum())
    n_t = int(control.size - n_c)
    if n_c == 0:
        raise InputError(
            f"in_control_group must mark at least one control customer; all {n_t} are treated"
        )
    if n_t == 0:
        raise InputError(
            f"in_control_group must leave at least one treated customer; all {n_c} are control"
        )
    k_c = int(np.count_nonzero(responded & control))
    k_t = int(np.count_nonzero(responded & ~control))
    p_t, p_c = k_t / n_t, k_c / n_c
    d = p_t - p_c
    se = math.sqrt(p_t * (1 - p_t) / n_t + p_c * (1 - p_c) / n_c)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    if method == "wald":
        lo, hi = max(d - z * se, -1.0), min(d + z * se, 1.0)
    else:
        l_t, u_t = _wilson(k_t, n_t, z)
        l_c, u_c = _wilson(k_c, n_c, z)
        lo = d - math.sqrt((p_t - l_t) ** 2 + (u_c - p_c) ** 2)
        hi = d + math.sqrt((u_t - p_t) ** 2 + (p_c - l_c) ** 2)
    return UpliftResult(
        treated_rate=p_t,
        control_rate=p_c,
        uplift=d,
        interval=(lo, hi),
        standard_error=se,
        relative_uplift=None if k_c == 0 else p_t / p_c - 1.0,
        incremental_responders=d * n_t,
        n_treated=n_t,
        n_control=n_c,
        responders_treated=k_t,
        responders_control=k_c,
        confidence=level,
        method=method,
    )


# --------------------------------------------------------------------------- breakdown

#: Dimensions of :func:`sales_breakdown` and the table column each one reads.
BREAKDOWN_DIMENSIONS: Mapping[str, str] = MappingProxyType(
    {
        "category": "categories",
        "product": "products",
        "channel": "channels",
        "region": "regions",
    }
)


@attrs.frozen(kw_only=True, eq=False)
class SalesBreakdown:
    """Revenue, margin, customers and orders per category, product, channel or region.

    One row per group, largest revenue first (ties in label order). See
    :func:`sales_breakdown`.

    Attributes
    ----------
    by : str
        The dimension: ``"category"``, ``"product"``, ``"channel"`` or
        ``"region"``.
    labels : ndarray of str
        The groups; ``""`` collects the purchase rows without a value.
    revenue : ndarray of float64
        Sum of the purchase amounts per group.
    revenue_shares : ndarray of float64
        Each group's revenue over the total (0 everywhere when the total is 0).
    margin : ndarray of float64 or None
        Sum of the purchase margins per group; None when the table has no margins.
    margin_rates : ndarray of float64 or None
        ``margin / revenue`` per group; NaN where a group's revenue is 0.
    n_customers : ndarray of int64
        Distinct customers who bought in the group.
    n_purchases : ndarray of int64
        Purchase occasions (orders: a customer's purchase rows with one
        timestamp) with at least one row in the group.
    n_items : ndarray of int64
        Purchase rows (items) in the group.
    """

    by: str
    labels: np.ndarray[Any, np.dtype[np.str_]]
    revenue: FloatArray
    revenue_shares: FloatArray
    margin: FloatArray | None
    margin_rates: FloatArray | None
    n_customers: IntArray
    n_purchases: IntArray
    n_items: IntArray

    def group_columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return one row per group, ready for a data frame.

        Returns
        -------
        dict of str to ndarray
            The dimension's name (``by``) holding the labels, then
            ``revenue``, ``revenue_shares``, ``margin`` and ``margin_rates``
            (when the table has margins), ``n_customers``, ``n_purchases`` and
            ``n_items``.

        Examples
        --------
        >>> import numpy as np
        >>> from crmcore import InteractionTable
        >>> t = InteractionTable.from_arrays(
        ...     [1, 1, 2], np.array(["2024-01-02", "2024-01-02", "2024-02-01"], "datetime64[ns]"),
        ...     amounts=[10.0, 30.0, 20.0], categories=["tea", "cups", "tea"])
        >>> list(sales_breakdown(t, "category").group_columns())
        ['category', 'revenue', 'revenue_shares', 'n_customers', 'n_purchases', 'n_items']
        """
        return v.result_columns(
            self,
            (self.by, self.labels),
            "revenue",
            "revenue_shares",
            "margin",
            "margin_rates",
            "n_customers",
            "n_purchases",
            "n_items",
        )


def _distinct_per_group(group: IntArray, *keys: np.ndarray[Any, Any], n_groups: int) -> IntArray:
    """Count the distinct key tuples within each group (one lexsort, no loop)."""
    if group.size == 0:
        return np.zeros(n_groups, dtype=np.int64)
    order = np.lexsort((*keys[::-1], group))
    sorted_cols = [group[order], *(k[order] for k in keys)]
    first = np.ones(group.size, dtype=np.bool_)
    for col in sorted_cols:
        first[1:] &= col[1:] == col[:-1]
    first = ~first
    first[0] = True
    return np.bincount(sorted_cols[0][first], minlength=n_groups).astype(np.int64)


def sales_breakdown(table: InteractionTable, by: str) -> SalesBreakdown:
    """Break the purchases of a table down by category, product, channel or region (7P performance).

    Parameters
    ----------
    table : InteractionTable
        The interactions; purchase rows are used (refunds and other kinds
        are left out, so the figures are before refunds).
    by : {"category", "product", "channel", "region"}
        The dimension to group by; the table must hold that column.

    Returns
    -------
    SalesBreakdown
        Per group: revenue and its share, margin and margin rate (when the
        table has margins), distinct customers, distinct orders and items.

    Raises
    ------
    InputTypeError
        When ``table`` is not an InteractionTable.
    InputError
        On an unknown ``by``, or a table without that column.

    Notes
    -----
    An order (a purchase occasion, counted in ``n_purchases``) is the
    purchase rows of one customer with one order id, or, where the table has
    no order ids (or a row's is unknown), with one timestamp
    (:meth:`crmcore.InteractionTable.order_codes`). An order or a customer
    spanning several groups counts once in each, so
    ``n_purchases`` and ``n_customers`` do not add up to the table's totals;
    revenue, margin and items do. Purchase rows without a value in the
    column (None, ``""``, an unknown channel) form the group ``""``.

    Examples
    --------
    >>> import numpy as np
    >>> from crmcore import InteractionTable
    >>> t = InteractionTable.from_arrays(
    ...     [1, 1, 2, 3],
    ...     np.array(["2024-01-02", "2024-01-02", "2024-02-01", "2024-03-01"], "datetime64[ns]"),
    ...     amounts=[10.0, 30.0, 20.0, 40.0], margins=[4.0, 6.0, 8.0, 10.0],
    ...     regions=["north", "north", "south", "north"])
    >>> b = sales_breakdown(t, "region")
    >>> b.labels.tolist(), b.revenue.tolist(), b.revenue_shares.tolist()
    (['north', 'south'], [80.0, 20.0], [0.8, 0.2])
    >>> b.margin_rates.tolist(), b.n_customers.tolist(), b.n_purchases.tolist(), b.n_items.tolist()
    ([0.25, 0.4], [2, 1], [2, 1], [3, 1])
    >>> sales_breakdown(t, "category")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: by='category' needs the table's categories column, which it ...
    """
    table = _check_table(table)
    by = v.check_choice(by, "by", tuple(BREAKDOWN_DIMENSIONS))
    column = getattr(table, BREAKDOWN_DIMENSIONS[by])
    if column is None:
        raise InputError(
            f"by={by!r} needs the table's {BREAKDOWN_DIMENSIONS[by]} column, which it does not hold"
        )
    buy = table.kinds == PURCHASE_CODE
    values = np.asarray(column)[buy]
    if by == "channel":
        names = np.array([str(c.value) for c in _CHANNELS] + [""], dtype=np.str_)
        raw = values.astype(np.int64)
        present = np.unique(np.where(raw < 0, len(_CHANNELS), raw))
        labels = names[present]
        group = np.searchsorted(present, np.where(raw < 0, len(_CHANNELS), raw))
    else:
        uniques, codes = _factorize_labels(values)
        labels = np.array([str(u) for u in uniques.tolist()], dtype=np.str_)
        if (codes < 0).any():
            labels = np.append(labels, "")
            codes = np.where(codes < 0, labels.size - 1, codes)
        group = codes
    n_groups = labels.size
    amounts = table.amounts[buy]
    revenue = np.bincount(group, weights=amounts, minlength=n_groups)
    total = float(revenue.sum())
    shares = revenue / total if total > 0 else np.zeros(n_groups)
    margin = rates = None
    if table.margins is not None:
        margin = np.bincount(group, weights=table.margins[buy], minlength=n_groups)
        with np.errstate(divide="ignore", invalid="ignore"):
            rates = np.where(revenue != 0, margin / np.where(revenue != 0, revenue, 1.0), np.nan)
    customers = table.customer_codes[buy]
    n_customers = _distinct_per_group(group, customers, n_groups=n_groups)
    n_purchases = _distinct_per_group(group, table.order_codes()[buy], n_groups=n_groups)
    n_items = np.bincount(group, minlength=n_groups).astype(np.int64)
    order = np.lexsort((labels, -revenue))
    return SalesBreakdown(
        by=by,
        labels=_ro(labels[order]),
        revenue=_ro(revenue[order]),
        revenue_shares=_ro(shares[order]),
        margin=None if margin is None else _ro(margin[order]),
        margin_rates=None if rates is None else _ro(rates[order]),
        n_customers=_ro(n_customers[order]),
        n_purchases=_ro(n_purchases[order]),
        n_items=_ro(n_items[order]),
    )
