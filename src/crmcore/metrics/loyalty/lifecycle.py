"""Lifecycle classes: loyalty class, visit level, ladder stage, status, relationship level.

Also the inputs of the loyalty ladder (referral counts, :class:`LadderInputs`).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from typing import Any, overload

import attrs
import numpy as np

from crmcore import _validation as v
from crmcore._typing import ArrayLike, BoolArray, FloatArray, IntArray
from crmcore._validation import readonly as _ro
from crmcore.errors import InputError, InputTypeError
from crmcore.metrics._numeric import finish_labels, ndim_of, single_customer
from crmcore.metrics.loyalty._common import (
    _YEAR,
    StrArray,
    TimeUnit,
    _observation_end_shift,
)
from crmcore.records import Customer, CustomerStatus, LadderStage, RelationshipLevel
from crmcore.summary import CustomerSummary

__all__ = [
    "LOYALTY_CLASSES",
    "VISIT_LEVELS",
    "LadderInputs",
    "customer_status",
    "ladder_inputs",
    "ladder_stage",
    "loyalty_class",
    "recommended_level",
    "referral_counts",
    "visit_level",
]

#: Loyalty classes of :func:`loyalty_class`, from the weakest tie to the strongest.
LOYALTY_CLASSES: tuple[str, ...] = ("potential", "new", "old", "loyal")
#: Visit levels of :func:`visit_level`, from the weakest tie to the strongest.
VISIT_LEVELS: tuple[str, ...] = ("passer_by", "customer", "regular", "premium", "devotee")


# ------------------------------------------------------------- classifications


@attrs.frozen(kw_only=True, eq=False)
class _Activity:
    """Purchase history per customer, measured at the analysis date."""

    n_purchases: IntArray
    since_last: FloatArray  # time since the last purchase (0 without purchase)
    tenure: FloatArray  # time since the first purchase (0 without purchase, NaN if unknown)
    time_unit: str
    tenure_known: bool = True


def _activity(
    data: ArrayLike | CustomerSummary,
    times: ArrayLike | None,
    *,
    count_name: str,
    time_name: str,
    observation_end: object,
    time_unit: str | None,
    tenure: ArrayLike | None = None,
) -> _Activity:
    """Purchase counts with time since last (or first) purchase, from a summary or arrays.

    With arrays, ``tenure`` (time since the first purchase) is checked against
    ``times`` (time since the last one) when given; when left out the tenure
    is the ``times`` column itself (``visit_level`` passes tenure there) for
    visit levels, or NaN (unknown) when ``times`` is a time since last.
    """
    if time_unit is not None:
        v.check_choice(time_unit, "time_unit", tuple(_YEAR))
    if isinstance(data, CustomerSummary):
        s = data
        if times is not None:
            raise InputTypeError(
                f"{time_name} must be left out when {count_name} is a CustomerSummary"
            )
        if tenure is not None:
            raise InputTypeError(
                f"tenure must be left out when {count_name} is a CustomerSummary (its T is used)"
            )
        if time_unit is not None and time_unit != s.time_unit:
            raise InputError(
                f"time_unit must match the summary's time unit {s.time_unit!r} (or be left "
                f"out); got {time_unit!r}"
            )
        shift = _observation_end_shift(s, observation_end)
        has = np.asarray(s.has_purchase, dtype=np.bool_)
        n = np.where(has, np.asarray(s.n_purchases, dtype=np.int64), 0)
        since = np.where(has, np.asarray(s.time_since_last, dtype=np.float64) + shift, 0.0)
        tenure = np.where(has, np.asarray(s.T, dtype=np.float64) + shift, 0.0)
        return _Activity(n_purchases=n, since_last=since, tenure=tenure, time_unit=s.time_unit)
    if observation_end is not None:
        raise InputTypeError(
            "observation_end applies to a CustomerSummary only; arrays are already measured "
            "at their analysis date"
        )
    n = v.as_int_array(data, count_name, allow_empty=True, nonnegative=True)
    if times is None:
        raise InputTypeError(f"{time_name} is required unless {count_name} is a CustomerSummary")
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
    if time_name == "tenure":
        first = clean
    elif tenure is None:
        first = np.where(buyer, np.nan, 0.0)
    else:
        ten = v.as_float_array(tenure, "tenure", allow_empty=True, allow_nan=True)
        v.check_same_length((count_name, n), ("tenure", ten))
        bad = buyer & ~(ten >= clean)  # NaN, negative, or first purchase after the last
        if bad.any():
            raise InputError(
                f"tenure must be a number >= {time_name} where {count_name} > 0 (the first "
                "purchase comes no later than the last; NaN is allowed only without "
                "purchases); "
                + v.describe_violations(
                    bad, (count_name, n), (time_name, t), ("tenure", ten)
                ).replace("values", "customers")
            )
        first = np.where(buyer, ten, 0.0)
    return _Activity(
        n_purchases=n,
        since_last=clean,
        tenure=first,
        time_unit=time_unit or "D",
        tenure_known=time_name == "tenure" or tenure is not None,
    )


def _customers(*named: tuple[str, Any]) -> tuple[tuple[Any, ...], bool]:
    """Per-customer arguments as arrays, and whether they were one customer's single values.

    A summary as first argument is many customers (its companions are then
    checked by :func:`_activity` and :func:`_flags`).
    """
    if isinstance(named[0][1], CustomerSummary):
        return tuple(x for _, x in named), False
    return single_customer(*named)


def _window(value: float | None, name: str, unit: str, default_years: float) -> float:
    if value is None:
        return default_years * _YEAR[unit]
    return v.check_float(value, name, low=0)


def _loyal_mask(
    act: _Activity,
    *,
    loyal_min_purchases: object,
    active_within: float | None,
    min_tenure: float | None,
    satisfied: ArrayLike | None,
    n_referrals: IntArray | None,
) -> BoolArray:
    """Return the mask of the customers meeting the loyal conditions of loyalty_class."""
    k = v.check_int(loyal_min_purchases, "loyal_min_purchases", low=2)
    window = _window(active_within, "active_within", act.time_unit, 1.0)
    least = _window(min_tenure, "min_tenure", act.time_unit, 1.0)
    n = act.n_purchases
    if least > 0 and not act.tenure_known:
        raise InputTypeError(
            "tenure (time since the first purchase) is required with arrays to check the "
            f"loyal rule's min_tenure ({least:g} {act.time_unit}); pass tenure, or "
            "min_tenure=0 to drop the tenure condition"
        )
    loyal = (n >= k) & (act.since_last <= window) & ((act.tenure >= least) | (least == 0))
    if satisfied is not None:
        attitude = _flags(satisfied, "satisfied", n.size)
        if n_referrals is not None:
            attitude = attitude | (n_referrals > 0)
        loyal &= attitude
    return loyal


def _referrals(n_referrals: ArrayLike | None, size: int) -> IntArray | None:
    if n_referrals is None:
        return None
    refs = v.as_int_array(n_referrals, "n_referrals", allow_empty=True, nonnegative=True)
    if refs.size != size:
        raise InputError(f"n_referrals must have one value per customer ({size}), got {refs.size}")
    return refs


@overload
def loyalty_class(
    n_purchases: int,
    time_since_last: float,
    tenure: float | None = None,
    *,
    observation_end: object = None,
    time_unit: TimeUnit | None = None,
    loyal_min_purchases: int = 4,
    active_within: float | None = None,
    min_tenure: float | None = None,
    satisfied: ArrayLike | None = None,
    n_referrals: ArrayLike | None = None,
) -> str: ...


@overload
def loyalty_class(
    n_purchases: CustomerSummary | ArrayLike,
    time_since_last: ArrayLike | None = None,
    tenure: ArrayLike | None = None,
    *,
    observation_end: object = None,
    time_unit: TimeUnit | None = None,
    loyal_min_purchases: int = 4,
    active_within: float | None = None,
    min_tenure: float | None = None,
    satisfied: ArrayLike | None = None,
    n_referrals: ArrayLike | None = None,
) -> StrArray: ...


def loyalty_class(
    n_purchases: CustomerSummary | ArrayLike,
    time_since_last: ArrayLike | None = None,
    tenure: ArrayLike | None = None,
    *,
    observation_end: object = None,
    time_unit: TimeUnit | None = None,
    loyal_min_purchases: int = 4,
    active_within: float | None = None,
    min_tenure: float | None = None,
    satisfied: ArrayLike | None = None,
    n_referrals: ArrayLike | None = None,
) -> str | StrArray:
    """Classify customers as potential, new, old (repeat) or loyal.

    Loyal customers, in the practice's words, buy over a long time and
    repeatedly (长期、重复地): a loyal customer needs repeat purchases, a
    recent one, *and* a first purchase long enough ago.

    Parameters
    ----------
    n_purchases : CustomerSummary or array-like of int
        The number of purchase occasions per customer, or a summary (its
        ``n_purchases``, ``time_since_last``, ``T`` and ``has_purchase`` are
        used).
    time_since_last : array-like, optional
        With counts: time since each customer's last purchase (NaN allowed
        where the count is 0). Left out with a summary.
    tenure : array-like, optional
        With counts: time since each customer's first purchase (at least
        ``time_since_last``; NaN allowed where the count is 0). Required with
        arrays unless ``min_tenure=0``. Left out with a summary (its ``T``).
    observation_end : datetime, date, numpy.datetime64 or ISO string, optional
        Analysis date, for a summary built by :func:`~crmcore.summarize`:
        times are measured up to the period holding it (no later than the
        summary's data; purchases after the summary's end are unknown to
        it). Default: the summary's end of observation.
    time_unit : {"h", "D", "W", "M", "Y"}, optional
        Unit of the times, ``active_within`` and ``min_tenure``; a summary
        brings its own, arrays default to days.
    loyal_min_purchases : int, default 4
        Purchase occasions needed to count as loyal: three repeat purchases
        after the first show a habit rather than a trial.
    active_within : float, optional
        A loyal customer's last purchase is at most this long ago. Default one
        year (365 days, 52 weeks, 12 months, 8760 hours): a year covers
        seasonal and annual buyers.
    min_tenure : float, optional
        A loyal customer's first purchase is at least this long ago (the
        "long time" of 长期). Default one year, in the time unit: repeat
        buying across a whole year's seasons, not one burst of purchases.
        0 drops the condition.
    satisfied : array-like of bool, optional
        Where given, the attitude side of loyalty: satisfied with us (a top
        answer on a satisfaction survey, or a promoter). Customers not asked
        should be passed as True (no evidence against them).
    n_referrals : array-like of int, optional
        Customers each one has referred (:func:`referral_counts`); counts
        only together with ``satisfied`` (see Notes).

    Returns
    -------
    str or ndarray of str
        ``"potential"`` (no purchase yet), ``"new"`` (exactly one purchase
        occasion), ``"old"`` (repeat buyer, not loyal) or ``"loyal"``; the
        order of :data:`LOYALTY_CLASSES`.
        For one customer given as single values (Python or numpy scalars,
        0-d arrays), the label as a Python ``str``.

    Raises
    ------
    InputError
        On negative counts or times, a tenure shorter than the time since
        the last purchase, missing time for a buyer, mismatched lengths, bad
        thresholds, ``observation_end`` before the end of the summary, or a
        mix of single values and arrays among the per-customer arguments
        (one customer takes single values only, several customers arrays
        only: a single value is not broadcast).
    InputTypeError
        When ``time_since_last`` is missing with arrays, ``tenure`` is
        missing with arrays while ``min_tenure`` is positive, or either is
        given (like ``observation_end`` with arrays) where the first argument
        excludes it.

    Notes
    -----
    Rules, first match wins: no purchase -> potential; loyal conditions met
    -> loyal; at least two occasions -> old; one occasion -> new (however
    long ago: combine with :func:`customer_status` to tell lapsed one-time
    buyers). The loyal conditions:

    - at least ``loyal_min_purchases`` occasions (repeatedly, 重复地);
    - the last one within ``active_within`` (still buying);
    - the first one at least ``min_tenure`` ago (over a long time, 长期);
    - where ``satisfied`` is given: satisfied, or (where ``n_referrals`` is
      given too) referred at least one customer. A frequent buyer who is
      neither is held by habit or lack of choice, the "spurious loyalty" of
      Dick and Basu (1994), and stays old. Referrals alone never demote
      anyone: most loyal customers refer nobody.

    References
    ----------
    Dick, A. S., & Basu, K. (1994). Customer loyalty: toward an integrated
    conceptual framework. *Journal of the Academy of Marketing Science*,
    22(2), 99-113.

    Examples
    --------
    >>> loyalty_class([0, 1, 3, 6, 6, 6], [float("nan"), 400, 10, 20, 500, 20],
    ...               [float("nan"), 400, 600, 700, 900, 100]).tolist()
    ['potential', 'new', 'old', 'loyal', 'old', 'old']

    The last customer bought 6 times, the last 20 days ago, but started only
    100 days ago: not yet a long time. Satisfaction, where given, counts:

    >>> loyalty_class([6, 6], [20.0, 20.0], [700.0, 700.0], satisfied=[True, False]).tolist()
    ['loyal', 'old']
    >>> loyalty_class(6, 20.0, 700.0)  # one customer: a str
    'loyal'
    >>> loyalty_class([2, 5], [3.0, 2.0], time_unit="M", loyal_min_purchases=5,
    ...               min_tenure=0).tolist()
    ['old', 'loyal']
    >>> loyalty_class([1, 2], [-1.0, 3.0], [1.0, 3.0])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: time_since_last must be a non-negative number where ...
    """
    (n_purchases, time_since_last, tenure, satisfied, n_referrals), single = _customers(
        ("n_purchases", n_purchases),
        ("time_since_last", time_since_last),
        ("tenure", tenure),
        ("satisfied", satisfied),
        ("n_referrals", n_referrals),
    )
    act = _activity(
        n_purchases,
        time_since_last,
        count_name="n_purchases",
        time_name="time_since_last",
        observation_end=observation_end,
        time_unit=time_unit,
        tenure=tenure,
    )
    n = act.n_purchases
    loyal = _loyal_mask(
        act,
        loyal_min_purchases=loyal_min_purchases,
        active_within=active_within,
        min_tenure=min_tenure,
        satisfied=satisfied,
        n_referrals=_referrals(n_referrals, n.size),
    )
    code = np.where(n == 0, 0, np.where(n == 1, 1, 2))
    code[loyal] = 3
    return finish_labels(np.array(LOYALTY_CLASSES)[code], single)


@overload
def visit_level(
    n_visits: int,
    tenure: float,
    *,
    observation_end: object = None,
    time_unit: TimeUnit | None = None,
    customer_min_visits: int = 2,
    regular_rate: float = 4.0,
    premium_rate: float = 12.0,
    devotee_rate: float = 52.0,
    min_tenure: float | None = None,
) -> str: ...


@overload
def visit_level(
    n_visits: CustomerSummary | ArrayLike,
    tenure: ArrayLike | None = None,
    *,
    observation_end: object = None,
    time_unit: TimeUnit | None = None,
    customer_min_visits: int = 2,
    regular_rate: float = 4.0,
    premium_rate: float = 12.0,
    devotee_rate: float = 52.0,
    min_tenure: float | None = None,
) -> StrArray: ...


def visit_level(
    n_visits: CustomerSummary | ArrayLike,
    tenure: ArrayLike | None = None,
    *,
    observation_end: object = None,
    time_unit: TimeUnit | None = None,
    customer_min_visits: int = 2,
    regular_rate: float = 4.0,
    premium_rate: float = 12.0,
    devotee_rate: float = 52.0,
    min_tenure: float | None = None,
) -> str | StrArray:
    """Classify customers into the five visit levels passer-by ... devotee.

    Parameters
    ----------
    n_visits : CustomerSummary or array-like of int
        Visits per customer, or a summary (then visits are purchase occasions,
        ``n_purchases``, and tenure is ``T``, the time since the first one).
    tenure : array-like, optional
        With counts: time since each customer's first visit (NaN allowed where
        there is no visit). Left out with a summary.
    observation_end : optional
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
    str or ndarray of str
        ``"passer_by"``, ``"customer"``, ``"regular"``, ``"premium"`` or
        ``"devotee"``, the order of :data:`VISIT_LEVELS`.
        For one customer given as single values (Python or numpy scalars,
        0-d arrays), the label as a Python ``str``.

    Raises
    ------
    InputError
        On negative counts or tenures, mismatched lengths, or thresholds out
        of order (the rates must not decrease), or a mix of single values and
        arrays (as in :func:`loyalty_class`).
    InputTypeError
        As in :func:`loyalty_class`, on a missing or excluded companion argument.

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
    >>> visit_level(20, 365.0)  # one customer: a str
    'premium'
    >>> visit_level([5], [1.0], time_unit="Y", regular_rate=6).tolist()
    ['customer']
    >>> visit_level([2], [30.0], regular_rate=20, premium_rate=10)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: premium_rate must be >= regular_rate (20.0), got 10.0
    """
    (n_visits, tenure), single = _customers(("n_visits", n_visits), ("tenure", tenure))
    act = _activity(
        n_visits,
        tenure,
        count_name="n_visits",
        time_name="tenure",
        observation_end=observation_end,
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
    return finish_labels(np.array(VISIT_LEVELS)[code], single)


def _flags(x: ArrayLike | None, name: str, n: int) -> BoolArray:
    if x is None:
        return np.zeros(n, dtype=np.bool_)
    out = v.as_bool_array(x, name, allow_empty=True)
    if out.size != n:
        raise InputError(f"{name} must have one value per customer ({n}), got {out.size}")
    return out


@overload
def ladder_stage(
    n_purchases: int,
    time_since_last: float,
    tenure: float | None = None,
    *,
    member: ArrayLike | None = None,
    promoter: ArrayLike | None = None,
    n_referrals: ArrayLike | None = None,
    qualified: ArrayLike | None = None,
    satisfied: ArrayLike | None = None,
    observation_end: object = None,
    time_unit: TimeUnit | None = None,
    loyal_min_purchases: int = 4,
    active_within: float | None = None,
    min_tenure: float | None = None,
) -> str: ...


@overload
def ladder_stage(
    n_purchases: CustomerSummary | ArrayLike,
    time_since_last: ArrayLike | None = None,
    tenure: ArrayLike | None = None,
    *,
    member: ArrayLike | None = None,
    promoter: ArrayLike | None = None,
    n_referrals: ArrayLike | None = None,
    qualified: ArrayLike | None = None,
    satisfied: ArrayLike | None = None,
    observation_end: object = None,
    time_unit: TimeUnit | None = None,
    loyal_min_purchases: int = 4,
    active_within: float | None = None,
    min_tenure: float | None = None,
) -> StrArray: ...


def ladder_stage(
    n_purchases: CustomerSummary | ArrayLike,
    time_since_last: ArrayLike | None = None,
    tenure: ArrayLike | None = None,
    *,
    member: ArrayLike | None = None,
    promoter: ArrayLike | None = None,
    n_referrals: ArrayLike | None = None,
    qualified: ArrayLike | None = None,
    satisfied: ArrayLike | None = None,
    observation_end: object = None,
    time_unit: TimeUnit | None = None,
    loyal_min_purchases: int = 4,
    active_within: float | None = None,
    min_tenure: float | None = None,
) -> str | StrArray:
    """Place each customer on the loyalty ladder (prospect ... advocate), rung by rung.

    The ladder 预期客户 → 合格预期 → 首次购买 → 重复购买 → 忠诚 → 会员 → 拥护者
    (prospect, qualified prospect, first-time buyer, repeat buyer, loyal,
    member, advocate) is climbed one rung at a time: a customer stands on a
    rung only when the conditions of that rung *and of every rung below it*
    hold.

    Parameters
    ----------
    n_purchases : CustomerSummary or array-like of int
        Purchase occasions per customer, or a summary (its ``n_purchases``,
        ``time_since_last`` and ``T``).
    time_since_last : array-like, optional
        With counts: time since the last purchase (NaN allowed without
        purchases). Left out with a summary.
    tenure : array-like, optional
        With counts: time since the first purchase, for the loyal rung (as
        in :func:`loyalty_class`). Left out with a summary.
    member : array-like of bool, optional
        Member of the loyalty programme at the analysis date (from
        ``Customer.member_since``: set and not after the date). Left out
        when there is no programme: the member rung is then skipped (see
        Notes).
    promoter : array-like of bool, optional
        Gave a promoter answer (9-10 on the NPS question).
    n_referrals : array-like of int, optional
        How many other customers name this one in their ``referred_by``
        (see :func:`referral_counts`).
    qualified : array-like of bool, optional
        A non-buyer known to need the category and able to buy (a qualified
        lead).
    satisfied : array-like of bool, optional
        For the loyal rung, as in :func:`loyalty_class`.
    observation_end, time_unit
        As in :func:`loyalty_class`.
    loyal_min_purchases, active_within, min_tenure
        The loyal rung, as in :func:`loyalty_class` (default 4 occasions,
        the last within one year, the first at least one year ago).

    Returns
    -------
    str or ndarray of str
        One rung per customer: the value of a :class:`~crmcore.LadderStage`
        (``"prospect"`` ... ``"advocate"``), so ``stage == LadderStage.LOYAL``
        and ``LadderStage(stage[i])`` work.
        For one customer given as single values (Python or numpy scalars,
        0-d arrays), the label as a Python ``str``.

    Raises
    ------
    InputError
        On negative counts, mismatched lengths, non-boolean flags, bad
        thresholds, or a mix of single values and arrays among the
        per-customer arguments (as in :func:`loyalty_class`).
    InputTypeError
        As in :func:`loyalty_class`, on a missing or excluded companion
        argument (``tenure`` is required with arrays unless ``min_tenure=0``).

    See Also
    --------
    ladder_inputs : ``member`` and ``n_referrals`` from Customer records.
    loyalty_class, customer_status

    Notes
    -----
    The conditions of the rungs, each one required on top of all below:

    - qualified prospect: has not bought yet, and is qualified, a member, a
      promoter or a referrer (has shown interest);
    - first-time buyer: has bought (one occasion);
    - repeat buyer: two or more occasions;
    - loyal: the loyal conditions of :func:`loyalty_class` (purchase data
      cannot show that a customer buys the category only from us; frequent,
      long-standing, recent repeat purchase is the observable stand-in);
    - member: a programme member;
    - advocate: a promoter, or referred at least one customer.

    So a one-time buyer who referred a friend is a first-time buyer, not an
    advocate, and a one-time buyer who joined the programme is not a
    member: each stays on the highest rung up to which *every* condition
    holds. A buyer stands on the buyers' rungs whatever the qualified flag
    says (buying shows the need). The one place the climb skips a rung is
    the member rung when ``member`` is left out: without a programme (or
    without membership data) nobody can be a member, and advocates then
    need the loyal rung below them only.

    Examples
    --------
    >>> stages = ladder_stage([0, 0, 1, 2, 5, 5, 5], [0, 0, 9, 9, 9, 9, 9],
    ...                       [0, 0, 9, 400, 400, 400, 400],
    ...                       qualified=[0, 1, 0, 0, 0, 0, 0], member=[0, 0, 0, 0, 0, 1, 1],
    ...                       n_referrals=[0, 0, 0, 0, 0, 0, 2])
    >>> stages.tolist()
    ['prospect', 'qualified_prospect', 'first_time_buyer', 'repeat_buyer', 'loyal', 'member',
     'advocate']

    Rung by rung: a one-time buyer who referred a friend and joined the
    programme is still a first-time buyer.

    >>> ladder_stage(1, 900.0, 900.0, member=True, n_referrals=1)
    'first_time_buyer'
    >>> ladder_stage([1], [2.0], [2.0], member=[2])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: member must hold booleans (or 0/1); 1 of 1 values breaks this ...
    """
    named, single = _customers(
        ("n_purchases", n_purchases),
        ("time_since_last", time_since_last),
        ("tenure", tenure),
        ("member", member),
        ("promoter", promoter),
        ("n_referrals", n_referrals),
        ("qualified", qualified),
        ("satisfied", satisfied),
    )
    (n_purchases, time_since_last, tenure, member, promoter, n_referrals, qualified, satisfied) = (
        named
    )
    act = _activity(
        n_purchases,
        time_since_last,
        count_name="n_purchases",
        time_name="time_since_last",
        observation_end=observation_end,
        time_unit=time_unit,
        tenure=tenure,
    )
    n = act.n_purchases
    size = n.size
    is_member = _flags(member, "member", size)
    is_promoter = _flags(promoter, "promoter", size)
    is_qualified = _flags(qualified, "qualified", size)
    refs = _referrals(n_referrals, size)
    loyal = _loyal_mask(
        act,
        loyal_min_purchases=loyal_min_purchases,
        active_within=active_within,
        min_tenure=min_tenure,
        satisfied=satisfied,
        n_referrals=refs,
    )
    advocacy = is_promoter if refs is None else is_promoter | (refs > 0)
    buyer = n > 0
    stages = list(LadderStage)
    # Each rung's mask is the one below it and the rung's own condition.
    repeat = n >= 2
    loyal &= repeat
    member_rung = loyal & is_member if member is not None else loyal
    advocate = member_rung & advocacy
    code = np.zeros(size, dtype=np.int64)
    code[~buyer & (is_qualified | is_member | advocacy)] = 1
    code[buyer] = 2
    code[repeat] = 3
    code[loyal] = 4
    if member is not None:
        code[member_rung] = 5
    code[advocate] = 6
    return finish_labels(_labels(stages)[code], single)


def _labels(members: Sequence[enum.Enum]) -> StrArray:
    """Return the values of enum members as a string array (one label per code)."""
    return np.array([member.value for member in members], dtype=np.str_)


@overload
def customer_status(
    n_purchases: int,
    time_since_last: float,
    *,
    active_within: float | None = None,
    targeted: ArrayLike | None = None,
    prospects: ArrayLike | None = None,
    observation_end: object = None,
    time_unit: TimeUnit | None = None,
) -> str: ...


@overload
def customer_status(
    n_purchases: CustomerSummary | ArrayLike,
    time_since_last: ArrayLike | None = None,
    *,
    active_within: float | None = None,
    targeted: ArrayLike | None = None,
    prospects: ArrayLike | None = None,
    observation_end: object = None,
    time_unit: TimeUnit | None = None,
) -> StrArray: ...


def customer_status(
    n_purchases: CustomerSummary | ArrayLike,
    time_since_last: ArrayLike | None = None,
    *,
    active_within: float | None = None,
    targeted: ArrayLike | None = None,
    prospects: ArrayLike | None = None,
    observation_end: object = None,
    time_unit: TimeUnit | None = None,
) -> str | StrArray:
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
    active_within : float, optional
        A buyer whose last purchase is at most this long ago is actual, longer
        ago lost (the same threshold as in :func:`loyalty_class`). Default one
        year in the time unit (365 days, 52 weeks, 12 months): the usual
        horizon after which a non-contractual customer is counted as churned.
    targeted : array-like of bool, optional
        Non-buyers the company has chosen to pursue (a campaign's target list).
    prospects : array-like of bool, optional
        Non-buyers with a need for the category (leads, enquirers). Where
        given and False, a non-buyer who is not targeted is a non-customer.
        Default: every non-buyer is a prospect.
    observation_end, time_unit
        As in :func:`loyalty_class`.

    Returns
    -------
    str or ndarray of str
        One status per row: the value of a :class:`~crmcore.CustomerStatus`
        (``"non_customer"``, ``"potential"``, ``"target"``, ``"actual"``,
        ``"lost"``), so ``status == CustomerStatus.LOST`` works.
        For one customer given as single values (Python or numpy scalars,
        0-d arrays), the label as a Python ``str``.

    Raises
    ------
    InputError
        On negative counts or times, mismatched lengths, non-boolean masks, or
        a mix of single values and arrays among ``n_purchases``,
        ``time_since_last`` and the masks (as in :func:`loyalty_class`).
    InputTypeError
        As in :func:`loyalty_class`, on a missing or excluded companion argument.

    Notes
    -----
    Buyers: last purchase within ``active_within`` -> actual, else lost.
    Non-buyers: targeted -> target; else a prospect -> potential; else
    non-customer.

    Examples
    --------
    >>> st = customer_status([3, 1, 0, 0, 0], [20.0, 500.0, 0, 0, 0],
    ...                      targeted=[0, 0, 1, 0, 0], prospects=[1, 1, 1, 1, 0])
    >>> st.tolist()
    ['actual', 'lost', 'target', 'potential', 'non_customer']
    >>> customer_status(0, float("nan"), targeted=True)  # one customer: a str
    'target'
    >>> customer_status(3, [20.0, 500.0])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: n_purchases and time_since_last must all be single values ...
    >>> customer_status([2, 2], [5.0, 7.0], active_within=6, time_unit="M").tolist()
    ['actual', 'lost']
    >>> customer_status([1], [2.0], active_within=-1)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: active_within must be >= 0, got -1.0
    """
    (n_purchases, time_since_last, targeted, prospects), single = _customers(
        ("n_purchases", n_purchases),
        ("time_since_last", time_since_last),
        ("targeted", targeted),
        ("prospects", prospects),
    )
    act = _activity(
        n_purchases,
        time_since_last,
        count_name="n_purchases",
        time_name="time_since_last",
        observation_end=observation_end,
        time_unit=time_unit,
    )
    n = act.n_purchases
    size = n.size
    window = _window(active_within, "active_within", act.time_unit, 1.0)
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
    return finish_labels(_labels(order)[code], single)


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

    ids = v.as_ndarray(customer_ids, name)
    if ids.ndim != 1:
        raise InputError(f"{name} must be 1-dimensional, got shape {ids.shape}")
    uniques, codes = factorize_ids(ids, name)
    if uniques.size != ids.size:  # some id repeats: find the first repetition
        _, first_seen = np.unique(codes, return_index=True)
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
    customer_ids : ndarray or None
        The ids the arrays are aligned to (a copy of the ``customer_ids``
        passed to :func:`ladder_inputs`).
    """

    member: BoolArray
    n_referrals: IntArray
    customer_ids: np.ndarray[Any, Any] | None = None

    def columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the per-customer arrays by name, customer ids first, ready for a data frame.

        The same contract as :meth:`crmcore.CustomerSummary.columns`:
        equal-length 1-d read-only arrays, one row per id passed to
        :func:`ladder_inputs`, in that order.

        Returns
        -------
        dict of str to ndarray
            ``customer_ids``, ``member`` and ``n_referrals``.

        Examples
        --------
        >>> import datetime as dt
        >>> from crmcore.records import Customer
        >>> day = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        >>> base = [Customer(id=1, name="Ann", acquired=day, member_since=day),
        ...         Customer(id=2, name="Ben", acquired=day, referred_by=1)]
        >>> inputs = ladder_inputs(base, [2, 1], observation_end="2024-02-01")
        >>> {k: c.tolist() for k, c in inputs.columns().items()}
        {'customer_ids': [2, 1], 'member': [False, True], 'n_referrals': [0, 1]}
        """
        return v.result_columns(self, "customer_ids", "member", "n_referrals")


def ladder_inputs(
    customers: Sequence[Customer], customer_ids: ArrayLike, *, observation_end: object
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
    observation_end : datetime, date, numpy.datetime64 or ISO string
        Analysis date: membership counts from ``member_since`` on, and only
        customers acquired by this date count as referrals, so nothing after
        ``observation_end`` leaks in.

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
    >>> inputs = ladder_inputs(base, [1, 2, 3], observation_end="2024-02-01")
    >>> inputs.member.tolist(), inputs.n_referrals.tolist()
    ([True, False, False], [1, 0, 0])
    >>> ladder_inputs([base[0], base[0]], [1], observation_end="2024-02-01")
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: customers' ids must be distinct; 1 repeats (at index 1)
    """
    ts = v.as_timestamp(observation_end, "observation_end")
    records = v.as_sequence_of(customers, "customers", Customer, "Customer")
    ids = _distinct_ids(customer_ids, "customer_ids")
    if not records:
        return LadderInputs(
            member=_ro(np.zeros(ids.size, dtype=np.bool_)),
            n_referrals=_ro(np.zeros(ids.size, dtype=np.int64)),
            customer_ids=v.readonly_copy(ids),
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
        customer_ids=v.readonly_copy(ids),
    )


# ------------------------------------------------------------ relationship level


def _check_cuts(cuts: object, name: str) -> tuple[float, float]:
    if not isinstance(cuts, Sequence) or isinstance(cuts, str) or len(cuts) != 2:
        raise InputTypeError(f"{name} must be a pair (lower, upper), got {cuts!r}")
    lo = v.check_float(cuts[0], f"{name}[0]")
    hi = v.check_float(cuts[1], f"{name}[1]")
    if hi < lo:
        raise InputError(f"{name} must be in increasing order, got ({lo}, {hi})")
    return lo, hi


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
) -> StrArray: ...


def recommended_level(
    n_customers: ArrayLike,
    margin: ArrayLike,
    *,
    customer_cuts: tuple[float, float] = (100, 10_000),
    margin_cuts: tuple[float, float] = (0.10, 0.30),
) -> RelationshipLevel | StrArray:
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
    RelationshipLevel or ndarray of str
        A single level for two scalars, else an array of the broadcast shape
        holding the levels' values (``"basic"`` ... ``"partnership"``).

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
    >>> recommended_level([1e6, 5_000, 20], [0.05, 0.2, 0.05]).tolist()
    ['basic', 'accountable', 'accountable']
    >>> recommended_level(50, 25)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: margin must be at most 1.0; 1 of 1 values breaks this (at ...
    """
    few, many = _check_cuts(customer_cuts, "customer_cuts")
    low, high = _check_cuts(margin_cuts, "margin_cuts")
    counts_ndim = ndim_of(n_customers, "n_customers")
    margin_ndim = ndim_of(margin, "margin")
    scalar = counts_ndim == 0 and margin_ndim == 0
    counts = v.as_float_array(
        np.reshape(n_customers, -1) if counts_ndim == 0 else n_customers,
        "n_customers",
        ndim=max(counts_ndim, 1),
        allow_empty=True,
        nonnegative=True,
    )
    margins = v.as_float_array(
        np.reshape(margin, -1) if margin_ndim == 0 else margin,
        "margin",
        ndim=max(margin_ndim, 1),
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
    levels = _labels(list(RelationshipLevel))[size_class + margin_class]
    if scalar:
        return RelationshipLevel(str(levels.reshape(-1)[0]))
    out: StrArray = levels
    return out
