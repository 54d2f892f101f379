"""Acquisition (客户开发): leads, conversion, the sales cycle, acquisition cost and its payback.

A *lead* is a prospect the company has contacted (a ``lead`` row of an
:class:`~crmcore.InteractionTable`); the funnel runs lead → qualified →
proposal → won (成交), and ``lost`` closes an opportunity at any stage (see
:class:`~crmcore.OpportunityStage`). The functions here turn the lead rows
into one row per prospect (:func:`leads_from_table`), measure conversion
(成交率) by source and by stage with Wilson score intervals
(:func:`conversion_rates`, :func:`stage_conversion`, :func:`wilson_interval`),
the sales cycle (销售周期) from first contact to the deal as a Kaplan-Meier
curve (:func:`sales_cycle`), the acquisition cost per customer by source
(:func:`acquisition_cost`) and the time the customers' margins take to pay it
back (:func:`payback_time`, :func:`clv_cac_ratio`).

Counts are sums over prospects, so the counts of disjoint sets of prospects
add up to those of their union; the rates and intervals are computed from the
counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, overload

import attrs
import numpy as np

from crmcore import _validation as v
from crmcore._tdist import normal_ppf
from crmcore._typing import ArrayLike, BoolArray, DatetimeArray, FloatArray, IntArray
from crmcore._validation import readonly as _ro
from crmcore.errors import InputError, InputTypeError
from crmcore.metrics.retention import (
    RestrictedMeanSurvival,
    SurvivalCurve,
    kaplan_meier,
    restricted_mean_survival,
)
from crmcore.records import InteractionKind, OpportunityStage
from crmcore.table import KIND_CODES, PURCHASE_CODE, InteractionTable, _missing_labels

__all__ = [
    "FUNNEL",
    "AcquisitionCost",
    "ConversionRates",
    "Leads",
    "Payback",
    "SalesCycle",
    "acquisition_cost",
    "clv_cac_ratio",
    "conversion_rates",
    "leads_from_table",
    "payback_time",
    "sales_cycle",
    "stage_conversion",
    "wilson_interval",
]

#: The stages of the sales funnel, in order: every lead starts at ``"lead"``.
FUNNEL: tuple[str, ...] = ("lead", "qualified", "proposal", "won")

CycleUnit = Literal["h", "D", "W"]
_UNITS = ("h", "D", "W")
_LEAD = KIND_CODES[InteractionKind.LEAD]
_OPPORTUNITY = KIND_CODES[InteractionKind.OPPORTUNITY]
_REFUND = KIND_CODES[InteractionKind.REFUND]
_STAGE_CODE = {s: i for i, s in enumerate(OpportunityStage)}
_NAT = np.datetime64("NaT", "ns")


def _check_confidence(confidence: object) -> float:
    return v.check_float(confidence, "confidence", low=0.0, high=1.0, low_open=True, high_open=True)


# ---------------------------------------------------------------- Wilson interval


def _wilson(k: FloatArray, n: FloatArray, z: float) -> tuple[FloatArray, FloatArray]:
    p = k / n
    z2n = z * z / n
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z * np.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n)) / (1.0 + z2n)
    lower = np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    upper = np.where(k == n, 1.0, np.clip(centre + half, 0.0, 1.0))
    return np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)


@overload
def wilson_interval(
    successes: int, trials: int, *, confidence: float = 0.95
) -> tuple[float, float]: ...
@overload
def wilson_interval(
    successes: ArrayLike, trials: ArrayLike, *, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]: ...
def wilson_interval(
    successes: ArrayLike, trials: ArrayLike, *, confidence: float = 0.95
) -> tuple[float, float] | tuple[FloatArray, FloatArray]:
    """Wilson score interval of a proportion ``successes / trials``.

    Parameters
    ----------
    successes : int or array-like of int
        Successes, ``0 <= successes <= trials``.
    trials : int or array-like of int
        Trials, positive; broadcast against ``successes``.
    confidence : float
        Two-sided confidence level in (0, 1).

    Returns
    -------
    (lower, upper) : floats, or ndarrays of float64 when an argument is an array
        The limits, inside [0, 1]; ``lower`` is exactly 0 when there is no
        success and ``upper`` exactly 1 when every trial succeeded.

    Raises
    ------
    InputError
        On trials that are not positive, successes outside ``0..trials``,
        shapes that do not broadcast, or a confidence outside (0, 1).
    InputTypeError
        On values that are not whole numbers.

    Notes
    -----
    With ``p = k/n`` and ``z`` the two-sided normal critical value, the
    limits are the roots in ``π`` of ``|p - π| = z √(π (1 - π)/n)``:

    ``(p + z²/(2n) ± z √(p (1 - p)/n + z²/(4n²))) / (1 + z²/n)``.

    Unlike the Wald interval ``p ± z √(p (1 - p)/n)`` it stays inside [0, 1]
    and does not collapse to a point at 0 or ``n`` successes, which matters
    for the small counts of a lead source or a funnel stage.

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and
    statistical inference. JASA 22(158), 209-212.
    Newcombe, R. G. (1998). Two-sided confidence intervals for the single
    proportion: comparison of seven methods. Statistics in Medicine 17,
    857-872 (method 3).

    Examples
    --------
    >>> lo, hi = wilson_interval(3, 10)
    >>> round(lo, 4), round(hi, 4)
    (0.1078, 0.6032)
    >>> wilson_interval([0, 5], [5, 5])[1].round(4).tolist()
    [0.4345, 1.0]
    >>> wilson_interval(3, 0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: trials must be positive; got 0
    """
    level = _check_confidence(confidence)
    scalar = v.ndim_of(successes, "successes") == 0 and v.ndim_of(trials, "trials") == 0
    k = v.as_int_array(successes, "successes", ndim=np.ndim(successes), allow_empty=True)
    n = v.as_int_array(trials, "trials", ndim=np.ndim(trials), allow_empty=True)
    if (n <= 0).any():
        if scalar:
            raise InputError(f"trials must be positive; got {int(n)}")
        flat = np.broadcast_to(n, n.shape).reshape(-1)
        raise InputError(
            "trials must be positive; " + v.describe_violations(flat <= 0, ("trials", flat))
        )
    try:
        kb, nb = np.broadcast_arrays(k, n)
    except ValueError as exc:
        raise InputError(
            f"successes and trials must broadcast together; got shapes {k.shape} and {n.shape}"
        ) from exc
    bad = (kb < 0) | (kb > nb)
    if bad.any():
        fk, fn, fb = kb.reshape(-1), nb.reshape(-1), bad.reshape(-1)
        raise InputError(
            "successes must lie in 0..trials; "
            + v.describe_violations(fb, ("successes", fk), ("trials", fn))
        )
    z = -normal_ppf(0.5 * (1.0 - level))
    lower, upper = _wilson(kb.astype(np.float64), nb.astype(np.float64), z)
    if scalar:
        return float(lower), float(upper)
    return _ro(lower), _ro(upper)


# ---------------------------------------------------------------- conversion rates


@attrs.frozen(kw_only=True, eq=False)
class ConversionRates:
    """Conversion (成交率) per group: counts, rates and Wilson intervals.

    Attributes
    ----------
    groups : ndarray of str
        The group labels (lead sources, or the funnel stages reached).
    trials : ndarray of int64
        Prospects that could convert in each group (the leads of a source; the
        prospects that reached the stage before, for a funnel step).
    successes : ndarray of int64
        Those that converted (reached the stage).
    rate : ndarray of float64
        ``successes / trials``.
    lower, upper : ndarray of float64
        Wilson score limits of ``rate``.
    confidence : float
        Confidence level of the limits.
    """

    groups: np.ndarray[Any, Any]
    trials: IntArray
    successes: IntArray
    rate: FloatArray
    lower: FloatArray
    upper: FloatArray
    confidence: float

    def __len__(self) -> int:
        return int(self.groups.size)

    def columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return one row per group by name, ready for a data frame.

        Returns
        -------
        dict of str to ndarray
            ``groups``, ``trials``, ``successes``, ``rate``, ``lower``, ``upper``.

        Examples
        --------
        >>> r = conversion_rates([True, False, True], ["web", "web", "fair"])
        >>> {k: c.tolist() for k, c in r.columns().items() if k != "lower" and k != "upper"}
        {'groups': ['fair', 'web'], 'trials': [1, 2], 'successes': [1, 1], 'rate': [1.0, 0.5]}
        """
        return v.result_columns(self, "groups", "trials", "successes", "rate", "lower", "upper")


def _rates(
    groups: np.ndarray[Any, Any], trials: IntArray, successes: IntArray, level: float
) -> ConversionRates:
    z = -normal_ppf(0.5 * (1.0 - level))
    n = trials.astype(np.float64)
    k = successes.astype(np.float64)
    lower, upper = _wilson(k, n, z)
    return ConversionRates(
        groups=_ro(groups),
        trials=_ro(trials.astype(np.int64)),
        successes=_ro(successes.astype(np.int64)),
        rate=_ro(k / n),
        lower=_ro(lower),
        upper=_ro(upper),
        confidence=level,
    )


def _labels(groups: ArrayLike, name: str, n: int) -> np.ndarray[Any, Any]:
    arr = v.as_ndarray(groups, name)
    if arr.ndim != 1:
        raise InputError(f"{name} must be 1-dimensional, got shape {arr.shape}")
    if arr.size != n:
        raise InputError(f"{name} must have one label per lead ({n}), got {arr.size}")
    if arr.dtype.kind not in "USOiub":
        raise InputTypeError(f"{name} must hold labels (str or int), got dtype {arr.dtype}")
    missing = _missing_labels(arr)
    if missing.any():
        raise InputError(
            f"{name} must not hold missing labels (None, NaN or ''); "
            + v.describe_violations(missing, (name, arr))
            + "; give unknown sources a label such as 'unknown'"
        )
    return np.asarray(arr.astype(str))


def conversion_rates(
    converted: ArrayLike, groups: ArrayLike | None = None, *, confidence: float = 0.95
) -> ConversionRates:
    """Conversion rate (成交率) of leads per group, with Wilson score intervals.

    Parameters
    ----------
    converted : array-like of bool
        One value per lead: True where the lead became a customer.
    groups : array-like of labels, optional
        One label per lead, e.g. its lead source (str or int; no missing
        values). Default: one group ``"all"``.
    confidence : float
        Confidence level of the intervals.

    Returns
    -------
    ConversionRates
        One row per distinct label, labels sorted (as strings).

    Raises
    ------
    InputError
        On no leads, mismatched lengths, missing labels, or a confidence
        outside (0, 1).
    InputTypeError
        On values that are not booleans or labels.

    See Also
    --------
    leads_from_table : the per-lead ``converted`` and ``sources`` of a table.
    stage_conversion : conversion from one funnel stage to the next.

    Notes
    -----
    ``rate = converted leads / leads`` in each group; the interval is
    :func:`wilson_interval` of those counts. The counts of disjoint sets of
    leads add up to those of their union.

    Examples
    --------
    >>> sources = ["web", "web", "web", "fair", "fair"]
    >>> r = conversion_rates([True, False, False, True, True], sources)
    >>> r.groups.tolist(), r.rate.round(4).tolist()
    (['fair', 'web'], [1.0, 0.3333])
    >>> conversion_rates([True, False], ["web"])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: groups must have one label per lead (2), got 1
    """
    level = _check_confidence(confidence)
    won = v.as_bool_array(converted, "converted")
    if groups is None:
        labels = np.array(["all"])
        codes = np.zeros(won.size, dtype=np.int64)
    else:
        labels, codes = np.unique(_labels(groups, "groups", won.size), return_inverse=True)
        codes = codes.reshape(-1)
    trials = np.bincount(codes, minlength=labels.size)
    successes = np.bincount(codes, weights=won, minlength=labels.size).astype(np.int64)
    return _rates(np.asarray(labels, dtype=str), trials, successes, level)


def stage_conversion(stages: ArrayLike, *, confidence: float = 0.95) -> ConversionRates:
    """Conversion from each stage of the sales funnel to the next, with Wilson intervals.

    Parameters
    ----------
    stages : array-like of str
        One value per lead: the highest stage of :data:`FUNNEL` it reached
        (``"lead"``, ``"qualified"``, ``"proposal"`` or ``"won"``; the
        members of :class:`~crmcore.OpportunityStage` are accepted).
    confidence : float
        Confidence level of the intervals.

    Returns
    -------
    ConversionRates
        One row per step, in funnel order: ``groups`` names the stage reached
        (``"qualified"``, ``"proposal"``, ``"won"``), ``trials`` counts the
        leads that reached the stage before it (or a later one),
        ``successes`` those that reached it (or a later one).

    Raises
    ------
    InputError
        On no leads, a value that is not a funnel stage (``"lost"`` is not:
        give the highest stage reached before the loss), or a confidence
        outside (0, 1).

    See Also
    --------
    leads_from_table : the per-lead ``stage`` of a table.

    Notes
    -----
    A lead that reached a stage has passed every stage before it, so the
    steps multiply: the product of the step rates is the share of leads
    won. A step whose previous stage no lead reached has no trials; its rate
    is then refused rather than reported as 0/0, so such a step is left out
    of the result (the message of an empty funnel says so).

    Examples
    --------
    >>> r = stage_conversion(["lead", "qualified", "proposal", "won", "won", "lead"])
    >>> r.groups.tolist(), r.trials.tolist(), r.successes.tolist()
    (['qualified', 'proposal', 'won'], [6, 4, 3], [4, 3, 2])
    >>> stage_conversion(["lead", "lost"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: stages must hold funnel stages (lead, qualified, proposal, won); ...
    """
    level = _check_confidence(confidence)
    arr = v.as_ndarray(stages, "stages")
    if arr.ndim != 1:
        raise InputError(f"stages must be 1-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        raise InputError("stages must not be empty")
    if arr.dtype.kind not in "UO":
        raise InputTypeError(f"stages must hold stage names (str), got dtype {arr.dtype}")
    text = np.asarray(arr.astype(str))
    rank = np.full(text.size, -1, dtype=np.int64)
    for i, name in enumerate(FUNNEL):
        rank[text == name] = i
    bad = rank < 0
    if bad.any():
        raise InputError(
            f"stages must hold funnel stages ({', '.join(FUNNEL)}); "
            + v.describe_violations(bad, ("stages", arr))
            + "; for a lost lead give the highest stage it reached"
        )
    reached = np.bincount(rank, minlength=len(FUNNEL))[::-1].cumsum()[::-1]
    trials, successes = reached[:-1], reached[1:]
    keep = trials > 0
    return _rates(np.asarray(FUNNEL[1:], dtype=str)[keep], trials[keep], successes[keep], level)


# ---------------------------------------------------------------- leads of a table


@attrs.frozen(kw_only=True, eq=False)
class Leads:
    """One row per prospect of an interaction table, as :func:`leads_from_table` builds it.

    Attributes
    ----------
    customer_ids : ndarray
        The prospect's id (the table's customer id), sorted.
    sources : ndarray of str
        The lead source: that of the earliest lead row carrying one, else the
        ``unknown_source`` label.
    first_contact : ndarray of datetime64[ns]
        The earliest ``lead`` row.
    stage : ndarray of str
        The highest stage of :data:`FUNNEL` reached by ``observation_end``.
    converted : ndarray of bool
        Won (成交) by ``observation_end``: ``stage == "won"``.
    won_at : ndarray of datetime64[ns]
        When the deal was made: the earlier of the first ``won`` opportunity
        row and the first purchase at or after ``first_contact``; NaT where
        not converted.
    lost : ndarray of bool
        Not converted and closed by a ``lost`` opportunity row.
    observation_end : numpy.datetime64
        The analysis date.
    """

    customer_ids: np.ndarray[Any, Any]
    sources: np.ndarray[Any, Any]
    first_contact: DatetimeArray
    stage: np.ndarray[Any, Any]
    converted: BoolArray
    won_at: DatetimeArray
    lost: BoolArray
    observation_end: np.datetime64

    def __len__(self) -> int:
        return int(self.customer_ids.size)

    @property
    def is_open(self) -> BoolArray:
        """Mask of the leads neither won nor lost."""
        return np.asarray(~self.converted & ~self.lost, dtype=np.bool_)

    def columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the per-prospect arrays by name, customer ids first, ready for a data frame.

        Returns
        -------
        dict of str to ndarray
            ``customer_ids``, ``sources``, ``first_contact``, ``stage``,
            ``converted``, ``won_at``, ``lost``.

        Examples
        --------
        >>> import numpy as np
        >>> from crmcore import InteractionTable
        >>> t = InteractionTable.from_arrays(
        ...     ["p1"], np.array(["2024-01-01"], dtype="datetime64[ns]"), kinds=["lead"])
        >>> list(leads_from_table(t, observation_end="2024-02-01").columns())[:3]
        ['customer_ids', 'sources', 'first_contact']
        """
        return v.result_columns(
            self,
            "customer_ids",
            "sources",
            "first_contact",
            "stage",
            "converted",
            "won_at",
            "lost",
        )


def _first_per_group(
    groups: IntArray, order_key: np.ndarray[Any, Any]
) -> tuple[IntArray, IntArray]:
    """Distinct groups and, for each, the position of its smallest key (first on ties)."""
    order = np.lexsort((order_key, groups))
    g = groups[order]
    first = np.ones(g.size, dtype=np.bool_)
    first[1:] = g[1:] != g[:-1]
    return g[first], order[first]


def leads_from_table(
    table: InteractionTable, *, observation_end: object, unknown_source: str = "unknown"
) -> Leads:
    """Collect the prospects of an interaction table: source, first contact, stage, deal.

    Parameters
    ----------
    table : InteractionTable
        Rows of kind ``lead`` (with ``lead_sources``), ``opportunity`` (with
        ``opportunity_stages``) and ``purchase``.
    observation_end : datetime, date, numpy.datetime64 or ISO string
        The analysis date: rows after it are ignored.
    unknown_source : str
        Source label of prospects whose lead rows carry none.

    Returns
    -------
    Leads
        One row per prospect: a customer id with a ``lead`` row at or before
        ``observation_end`` and no purchase before its first lead row.

    Raises
    ------
    InputError
        When no prospect has a lead row by ``observation_end``, or
        ``unknown_source`` is empty.
    InputTypeError
        If ``table`` is not an InteractionTable.

    See Also
    --------
    conversion_rates, stage_conversion, sales_cycle

    Notes
    -----
    A prospect's stage is the highest of :data:`FUNNEL` among its
    ``opportunity`` rows (``lead`` when it has none); it is ``won`` once a
    ``won`` row or a purchase at or after the first contact exists. A
    ``lost`` row closes the lead when it is not won (a prospect lost and won
    later counts as won). A customer who bought before its first lead row was
    a customer already, not a new lead, and is left out.

    Examples
    --------
    >>> import numpy as np
    >>> from crmcore import InteractionTable
    >>> t = InteractionTable.from_arrays(
    ...     ["a", "b", "a", "b", "c"],
    ...     np.array(["2024-01-01", "2024-01-02", "2024-01-20", "2024-02-01", "2024-01-05"],
    ...              dtype="datetime64[ns]"),
    ...     kinds=["lead", "lead", "opportunity", "opportunity", "lead"],
    ...     lead_sources=["web", "fair", None, None, None],
    ...     opportunity_stages=[None, None, "proposal", "lost", None])
    >>> leads = leads_from_table(t, observation_end="2024-03-01")
    >>> leads.sources.tolist(), leads.stage.tolist(), leads.lost.tolist()
    (['web', 'fair', 'unknown'], ['proposal', 'lead', 'lead'], [False, True, False])
    >>> leads_from_table(t, observation_end="2023-12-31")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: table has no lead row at or before observation_end ...
    """
    if not isinstance(table, InteractionTable):
        raise InputTypeError(f"table must be an InteractionTable, got {type(table).__name__}")
    cut = v.as_timestamp(observation_end, "observation_end")
    if not isinstance(unknown_source, str) or not unknown_source:
        raise InputError(f"unknown_source must be a non-empty str, got {unknown_source!r}")
    seen = table.times <= cut
    kinds = table.kinds
    codes = table.customer_codes
    times = table.times.view(np.int64)
    lead_rows = np.flatnonzero(seen & (kinds == _LEAD))
    if lead_rows.size == 0:
        raise InputError(
            f"table has no lead row at or before observation_end ({cut}); nothing to analyse"
        )
    big = np.iinfo(np.int64).max
    first = np.full(table.n_customers, big, dtype=np.int64)
    np.minimum.at(first, codes[lead_rows], times[lead_rows])
    is_lead = first < big
    # Purchases: one before the first contact marks an existing customer.
    purchase_rows = np.flatnonzero(seen & (kinds == PURCHASE_CODE))
    p_codes = codes[purchase_rows]
    p_times = times[purchase_rows]
    before = p_times < first[p_codes]
    existing = np.zeros(table.n_customers, dtype=np.bool_)
    existing[p_codes[before & is_lead[p_codes]]] = True
    won = np.full(table.n_customers, big, dtype=np.int64)
    np.minimum.at(won, p_codes[~before], p_times[~before])
    # Opportunity stages.
    rank = np.zeros(table.n_customers, dtype=np.int64)
    lost_row = np.zeros(table.n_customers, dtype=np.bool_)
    if table.opportunity_stages is not None:
        opp = np.flatnonzero(seen & (kinds == _OPPORTUNITY) & (table.opportunity_stages >= 0))
        o_codes, o_stage = codes[opp], table.opportunity_stages[opp]
        ranks_of = np.array(
            [FUNNEL.index(s.value) if s.value in FUNNEL else -1 for s in OpportunityStage]
        )
        o_rank = ranks_of[o_stage]
        in_funnel = o_rank >= 0
        np.maximum.at(rank, o_codes[in_funnel], o_rank[in_funnel])
        is_won = o_stage == _STAGE_CODE[OpportunityStage.WON]
        np.minimum.at(won, o_codes[is_won], times[opp][is_won])
        lost_row[o_codes[o_stage == _STAGE_CODE[OpportunityStage.LOST]]] = True
    converted = won < big
    rank[converted] = len(FUNNEL) - 1
    keep = np.flatnonzero(is_lead & ~existing)
    # Source: the earliest lead row that carries one.
    sources = np.full(table.n_customers, unknown_source, dtype=object)
    if table.lead_sources is not None:
        labelled = lead_rows[~_missing_labels(table.lead_sources[lead_rows])]
        if labelled.size:
            owners, pos = _first_per_group(codes[labelled], times[labelled])
            sources[owners] = np.asarray(table.lead_sources[labelled[pos]], dtype=object)
    won_at = np.where(converted, won, np.iinfo(np.int64).min).view("datetime64[ns]")
    return Leads(
        customer_ids=_ro(table.customer_ids[keep].copy()),
        sources=_ro(np.asarray(sources[keep].astype(str)).reshape(-1)),
        first_contact=_ro(first[keep].view("datetime64[ns]")),
        stage=_ro(np.asarray(FUNNEL, dtype=str)[rank[keep]]),
        converted=_ro(converted[keep]),
        won_at=_ro(won_at[keep].copy()),
        lost=_ro(lost_row[keep] & ~converted[keep]),
        observation_end=cut,
    )


# ---------------------------------------------------------------- the sales cycle


def _km_median(curve: SurvivalCurve) -> float | None:
    """Smallest time at which the Kaplan-Meier curve is at or below 1/2; None if never."""
    below = np.flatnonzero(curve.survival <= 0.5)
    return float(curve.times[below[0]]) if below.size else None


@attrs.frozen(kw_only=True, eq=False)
class SalesCycle:
    """The sales cycle (销售周期): time from first contact to the deal, as a survival curve.

    Attributes
    ----------
    durations : ndarray of float64
        Per lead, time from first contact to the deal, or to
        ``observation_end`` for a lead not won (censored), in ``time_unit``.
    events : ndarray of bool
        True where the deal was made by ``observation_end``.
    index : ndarray of int64
        Position of each row in the input (leads first contacted after
        ``observation_end`` are left out).
    curve : SurvivalCurve
        Kaplan-Meier estimate of the share of leads not yet won after a time;
        ``1 - S(t)`` is the share won within ``t``.
    median : float or None
        The Kaplan-Meier median time to the deal over all leads: the first
        time the curve is at or below 1/2; None when fewer than half the
        leads are won within the observed times.
    median_won : float or None
        The plain median cycle of the leads won (the practice's "sales cycle"
        of closed deals); None when none was won. It ignores the open leads,
        so it is shorter than the true cycle while many leads are open.
    restricted_mean : RestrictedMeanSurvival
        Mean time not yet won up to ``horizon`` (area under the curve).
    share_won : float
        Share of the leads won by ``observation_end``.
    horizon : float
        Horizon of ``restricted_mean``.
    time_unit : {"h", "D", "W"}
    observation_end : numpy.datetime64
    """

    durations: FloatArray
    events: BoolArray
    index: IntArray
    curve: SurvivalCurve
    median: float | None
    median_won: float | None
    restricted_mean: RestrictedMeanSurvival
    share_won: float
    horizon: float
    time_unit: str
    observation_end: np.datetime64

    def __len__(self) -> int:
        return int(self.durations.size)

    def columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the per-lead arrays by name, ready for a data frame.

        Returns
        -------
        dict of str to ndarray
            ``durations``, ``events``, ``index``.

        Examples
        --------
        >>> c = sales_cycle(["2024-01-01", "2024-01-05"], ["2024-01-11", None],
        ...                 observation_end="2024-02-01")
        >>> {k: c.tolist() for k, c in c.columns().items()}
        {'durations': [10.0, 27.0], 'events': [True, False], 'index': [0, 1]}
        """
        return v.result_columns(self, "durations", "events", "index")


def _is_missing(value: object) -> bool:
    """None, NaN or NaT (the only values unequal to themselves)."""
    return value is None or bool(value != value)  # noqa: PLR0124


def _optional_times(x: ArrayLike, name: str, n: int) -> DatetimeArray:
    """Datetimes where None, NaN, NaT mean "never"; returned as NaT."""
    arr = v.as_ndarray(v.utc_naive(x), name)
    if arr.ndim != 1 or arr.size != n:
        raise InputError(f"{name} must be 1-dimensional with {n} values, got shape {arr.shape}")
    if arr.dtype.kind == "M":
        missing = np.isnat(arr)
    elif arr.dtype.kind == "O":
        missing = np.array([_is_missing(e) for e in arr.tolist()], dtype=np.bool_)
    else:
        return v.as_datetime_array(arr, name)
    out = np.full(n, _NAT)
    if (~missing).any():
        out[~missing] = v.as_datetime_array(arr[~missing], name)
    return out


def sales_cycle(
    first_contact: ArrayLike,
    won_at: ArrayLike,
    *,
    observation_end: object,
    time_unit: CycleUnit = "D",
    horizon: float | None = None,
    confidence: float = 0.95,
) -> SalesCycle:
    """Estimate the sales cycle: the Kaplan-Meier curve of the time from first contact to the deal.

    Parameters
    ----------
    first_contact : array-like of datetime
        Per lead, the first contact.
    won_at : array-like of datetime
        Per lead, when it was won (the first purchase); None or NaT while it
        is not.
    observation_end : datetime, date, numpy.datetime64 or ISO string
        The analysis date: a deal after it is treated as not yet made (the
        lead is censored there); leads first contacted after it are left out.
    time_unit : {"h", "D", "W"}
        Unit of the durations.
    horizon : float, optional
        Horizon of the restricted mean, in ``time_unit``; default the longest
        observed duration.
    confidence : float
        Level of the curve's pointwise interval.

    Returns
    -------
    SalesCycle

    Raises
    ------
    InputError
        On no leads (or none contacted by ``observation_end``), missing first
        contacts, a deal before its first contact, mismatched lengths, a
        horizon that is not positive or lies beyond the observed durations
        while the curve is above 0.
    InputTypeError
        On values that are not datetimes.

    See Also
    --------
    leads_from_table : ``first_contact`` and ``won_at`` of a table.
    crmcore.metrics.kaplan_meier

    Notes
    -----
    Leads not won by ``observation_end`` (open or lost) are censored there:
    a lost lead may still come back, and counting it as won, or dropping it,
    would shorten the cycle. The curve ``S(t)`` is the share of leads not yet
    won ``t`` after first contact; it levels off at the share never won, so
    its median exists only when more than half the leads are won (else
    ``median`` is None). ``median_won`` is the median over the won leads
    alone, the figure a sales team quotes for closed deals.

    References
    ----------
    Kaplan, E. L. & Meier, P. (1958). Nonparametric estimation from incomplete
    observations. JASA 53(282), 457-481.
    Klein, J. P. & Moeschberger, M. L. (2003). Survival Analysis, 2nd ed.
    Springer, sections 4.2 and 4.5 (median and restricted mean).

    Examples
    --------
    >>> c = sales_cycle(["2024-01-01", "2024-01-01", "2024-01-01", "2024-01-01"],
    ...                 ["2024-01-11", "2024-01-21", None, "2024-01-31"],
    ...                 observation_end="2024-03-01")
    >>> c.median, c.median_won, c.share_won
    (20.0, 20.0, 0.75)
    >>> sales_cycle(["2024-01-05"], ["2024-01-01"], observation_end="2024-03-01")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: won_at must not be before first_contact; ...
    """
    unit = v.check_choice(time_unit, "time_unit", _UNITS)
    level = _check_confidence(confidence)
    cut = v.as_timestamp(observation_end, "observation_end")
    start = v.as_datetime_array(first_contact, "first_contact", allow_empty=False)
    missing = np.isnat(start)
    if missing.any():
        raise InputError(
            "first_contact must not hold missing times; "
            + v.describe_violations(missing, ("first_contact", start))
        )
    won = _optional_times(won_at, "won_at", start.size)
    backwards = ~np.isnat(won) & (won < start)
    if backwards.any():
        raise InputError(
            "won_at must not be before first_contact; "
            + v.describe_violations(backwards, ("first_contact", start), ("won_at", won))
        )
    keep = start <= cut
    if not keep.any():
        raise InputError(
            f"first_contact: every lead was first contacted after observation_end ({cut})"
        )
    event = ~np.isnat(won) & (won <= cut)
    end = np.where(event, won, cut)
    span = v.span_between(start, end, unit)
    durations, events = span[keep], event[keep]
    curve = kaplan_meier(durations, events, confidence=level)
    tau = (
        curve.max_duration
        if horizon is None
        else v.check_float(horizon, "horizon", low=0.0, low_open=True)
    )
    if tau <= 0.0:
        rmst = RestrictedMeanSurvival(mean=0.0, standard_error=0.0, horizon=0.0)
    else:
        rmst = restricted_mean_survival(curve, tau)
    won_d = durations[events]
    return SalesCycle(
        durations=_ro(durations),
        events=_ro(events),
        index=_ro(np.flatnonzero(keep).astype(np.int64)),
        curve=curve,
        median=_km_median(curve),
        median_won=float(np.median(won_d)) if won_d.size else None,
        restricted_mean=rmst,
        share_won=float(events.mean()),
        horizon=float(tau),
        time_unit=unit,
        observation_end=cut,
    )


# ---------------------------------------------------------------- acquisition cost


@attrs.frozen(kw_only=True, eq=False)
class AcquisitionCost:
    """Customer acquisition cost (CAC) per source.

    Attributes
    ----------
    sources : ndarray of str
        The sources, sorted.
    costs : ndarray of float64
        Cost spent on each source (0 for a source with customers but no cost
        given: organic customers).
    customers : ndarray of int64
        Customers won from each source (at least 1).
    cost_per_customer : ndarray of float64
        ``costs / customers``.
    total_cost : float
    total_customers : int
    blended : float
        ``total_cost / total_customers``, the CAC over every source.
    """

    sources: np.ndarray[Any, Any]
    costs: FloatArray
    customers: IntArray
    cost_per_customer: FloatArray
    total_cost: float
    total_customers: int
    blended: float

    def __len__(self) -> int:
        return int(self.sources.size)

    def cost_of(self, sources: ArrayLike) -> FloatArray:
        """Return the CAC of each given source label (e.g. of every customer).

        Raises
        ------
        InputError
            On a label that is not one of ``sources``.

        Examples
        --------
        >>> cac = acquisition_cost({"web": 100.0}, ["web", "web"])
        >>> cac.cost_of(["web"]).tolist()
        [50.0]
        """
        labels = _labels(sources, "sources", int(np.size(sources)))
        pos = np.searchsorted(self.sources, labels)
        pos = np.minimum(pos, max(self.sources.size - 1, 0))
        unknown = self.sources[pos] != labels
        if unknown.any():
            raise InputError(
                "sources must name sources of this result ("
                + ", ".join(self.sources.tolist())
                + "); "
                + v.describe_violations(unknown, ("sources", labels))
            )
        return np.asarray(self.cost_per_customer[pos], dtype=np.float64)

    def columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return one row per source by name, ready for a data frame.

        Returns
        -------
        dict of str to ndarray
            ``sources``, ``costs``, ``customers``, ``cost_per_customer``.

        Examples
        --------
        >>> list(acquisition_cost({"web": 100.0}, ["web"]).columns())
        ['sources', 'costs', 'customers', 'cost_per_customer']
        """
        return v.result_columns(self, "sources", "costs", "customers", "cost_per_customer")


def acquisition_cost(costs: Mapping[str, float], customer_sources: ArrayLike) -> AcquisitionCost:
    """Compute the acquisition cost per customer by source: cost over customers won.

    Parameters
    ----------
    costs : mapping of str to float
        The cost spent on each source (campaign, fair, ...), finite and
        non-negative.
    customer_sources : array-like of labels
        The source of every customer won (e.g. ``leads.sources[leads.converted]``).

    Returns
    -------
    AcquisitionCost
        One row per source named in ``costs`` or in ``customer_sources``.

    Raises
    ------
    InputError
        If a source of ``costs`` won no customer (its cost per customer would
        be infinite: leave it out, merge it into another source, or wait for
        its leads to convert), on negative or non-finite costs, on an empty
        ``costs`` with no customers, or on missing labels.
    InputTypeError
        If ``costs`` is not a mapping with str keys, or a cost is not a number.

    See Also
    --------
    payback_time : when the customers' margins pay the cost back.
    clv_cac_ratio

    Notes
    -----
    ``CAC = cost / customers won`` per source. A source with customers but no
    cost (referrals, walk-ins) has a CAC of 0 and enters the blended CAC with
    its customers. A source with a cost but no customer is refused rather
    than reported as an infinite CAC, which would poison any average taken
    over the sources.

    Examples
    --------
    >>> won = ["web"] * 6 + ["fair"] * 3 + ["referral"]
    >>> cac = acquisition_cost({"fair": 900.0, "web": 300.0}, won)
    >>> cac.sources.tolist(), cac.cost_per_customer.tolist(), cac.blended
    (['fair', 'referral', 'web'], [300.0, 0.0, 50.0], 120.0)
    >>> acquisition_cost({"fair": 900.0, "radio": 50.0}, ["fair"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: costs: 1 source(s) won no customer (first: 'radio' ...
    """
    if not isinstance(costs, Mapping):
        raise InputTypeError(
            f"costs must be a mapping of source to cost, got {type(costs).__name__}"
        )
    for key in costs:
        if not isinstance(key, str) or not key:
            raise InputTypeError(f"costs must have non-empty str keys (the sources), got {key!r}")
    values = {key: v.check_float(value, f"costs[{key!r}]", low=0.0) for key, value in costs.items()}
    arr = v.as_ndarray(customer_sources, "customer_sources")
    labels = (
        _labels(arr, "customer_sources", int(arr.size)) if arr.size else np.array([], dtype=str)
    )
    names = np.unique(np.concatenate([labels, np.asarray(list(values), dtype=str)]))
    if names.size == 0:
        raise InputError("costs and customer_sources are both empty: there is nothing to divide")
    customers = np.zeros(names.size, dtype=np.int64)
    if labels.size:
        customers = np.bincount(np.searchsorted(names, labels), minlength=names.size).astype(
            np.int64
        )
    cost = np.array([values.get(str(s), 0.0) for s in names.tolist()], dtype=np.float64)
    empty = customers == 0
    if empty.any():
        first = str(names[np.flatnonzero(empty)[0]])
        raise InputError(
            f"costs: {int(empty.sum())} source(s) won no customer (first: {first!r} with cost "
            f"{values[first]!r}); a cost per customer would be infinite: leave the source out, "
            "merge it into another, or wait for its leads to convert"
        )
    total_cost = float(cost.sum())
    total_customers = int(customers.sum())
    return AcquisitionCost(
        sources=_ro(names.astype(str)),
        costs=_ro(cost),
        customers=_ro(customers),
        cost_per_customer=_ro(cost / customers),
        total_cost=total_cost,
        total_customers=total_customers,
        blended=total_cost / total_customers,
    )


@overload
def clv_cac_ratio(clv: float, cac: float) -> float: ...
@overload
def clv_cac_ratio(clv: ArrayLike, cac: ArrayLike) -> FloatArray: ...
def clv_cac_ratio(clv: ArrayLike, cac: ArrayLike) -> float | FloatArray:
    """Compute the ratio of customer lifetime value to acquisition cost (CLV/CAC).

    Parameters
    ----------
    clv : float or array-like of float
        Customer lifetime value (finite; may be negative).
    cac : float or array-like of float
        Acquisition cost, positive and finite; broadcast against ``clv``.

    Returns
    -------
    float or ndarray of float64
        ``clv / cac``; above 1 the customer pays its acquisition back over
        its lifetime (practitioners often aim at 3).

    Raises
    ------
    InputError
        On a CAC that is not positive, non-finite values, or shapes that do
        not broadcast.

    See Also
    --------
    payback_time : when, not only whether, the cost is paid back.

    Examples
    --------
    >>> clv_cac_ratio(300.0, 100.0)
    3.0
    >>> clv_cac_ratio([300.0, 50.0], 100.0).tolist()
    [3.0, 0.5]
    >>> clv_cac_ratio(300.0, 0.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: cac must be > 0.0, got 0.0
    """
    scalar = v.ndim_of(clv, "clv") == 0 and v.ndim_of(cac, "cac") == 0
    if scalar:
        value = v.check_float(clv, "clv")
        cost = v.check_float(cac, "cac", low=0.0, low_open=True)
        return value / cost
    c = v.as_float_array(clv, "clv", ndim=np.ndim(clv), allow_empty=True)
    k = v.as_float_array(cac, "cac", ndim=np.ndim(cac), allow_empty=True, positive=True)
    try:
        a, b = np.broadcast_arrays(c, k)
    except ValueError as exc:
        raise InputError(
            f"clv and cac must broadcast together; got shapes {c.shape} and {k.shape}"
        ) from exc
    return _ro(np.asarray(a / b, dtype=np.float64))


# ---------------------------------------------------------------- payback


@attrs.frozen(kw_only=True, eq=False)
class Payback:
    """When each customer's margins pay its acquisition cost back.

    Attributes
    ----------
    customer_ids : ndarray
        The customers followed, as given.
    durations : ndarray of float64
        Time from acquisition to payback, or to ``observation_end`` for a
        customer not yet paid back (censored), in ``time_unit``.
    paid_back : ndarray of bool
        True where the cumulative margin reached the CAC by ``observation_end``.
    cac : ndarray of float64
        The acquisition cost of each customer.
    margin_to_date : ndarray of float64
        Cumulative margin from acquisition to ``observation_end``.
    curve : SurvivalCurve
        Kaplan-Meier estimate of the share not yet paid back after a time.
    median : float or None
        Kaplan-Meier median payback time; None while fewer than half the
        customers have paid back within the observed times.
    share_paid_back : float
        Share of the customers paid back by ``observation_end``.
    time_unit : {"h", "D", "W"}
    observation_end : numpy.datetime64
    """

    customer_ids: np.ndarray[Any, Any]
    durations: FloatArray
    paid_back: BoolArray
    cac: FloatArray
    margin_to_date: FloatArray
    curve: SurvivalCurve
    median: float | None
    share_paid_back: float
    time_unit: str
    observation_end: np.datetime64

    def __len__(self) -> int:
        return int(self.customer_ids.size)

    def columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the per-customer arrays by name, customer ids first, ready for a data frame.

        Returns
        -------
        dict of str to ndarray
            ``customer_ids``, ``durations``, ``paid_back``, ``cac``,
            ``margin_to_date``.

        Examples
        --------
        >>> import numpy as np
        >>> from crmcore import InteractionTable
        >>> t = InteractionTable.from_arrays(
        ...     [1], np.array(["2024-01-11"], dtype="datetime64[ns]"), amounts=[50.0],
        ...     margins=[20.0])
        >>> p = payback_time(t, [1], ["2024-01-01"], 10.0, observation_end="2024-02-01")
        >>> list(p.columns())[:3], p.durations.tolist()
        (['customer_ids', 'durations', 'paid_back'], [10.0])
        """
        return v.result_columns(
            self, "customer_ids", "durations", "paid_back", "cac", "margin_to_date"
        )


def payback_time(
    table: InteractionTable,
    customer_ids: ArrayLike,
    acquired: ArrayLike,
    cac: ArrayLike,
    *,
    observation_end: object,
    time_unit: CycleUnit = "D",
    confidence: float = 0.95,
) -> Payback:
    """Time for each customer's cumulative margin to pay back its acquisition cost.

    Parameters
    ----------
    table : InteractionTable
        With ``margins``: purchase rows add their margin, refund rows take
        theirs away (signed as at the sale, as in
        :func:`crmcore.metrics.historical_value`).
    customer_ids : array-like
        The customers to follow, distinct; a customer without rows in the
        table has a margin of 0.
    acquired : array-like of datetime
        Per customer, when it was acquired (its margins count from then), not
        after ``observation_end``.
    cac : float or array-like of float
        The acquisition cost of each customer (one for all, or one each),
        finite and non-negative; e.g. ``AcquisitionCost.cost_of(sources)``.
    observation_end : datetime, date, numpy.datetime64 or ISO string
        The analysis date: rows after it are ignored, customers not paid back
        by then are censored there.
    time_unit : {"h", "D", "W"}
        Unit of the durations.
    confidence : float
        Level of the curve's pointwise interval.

    Returns
    -------
    Payback

    Raises
    ------
    InputError
        On no customers, repeated customers, an acquisition after
        ``observation_end``, a table without margins or with a missing (NaN)
        margin on a purchase or refund row of a followed customer, negative
        or non-finite costs, mismatched lengths.
    InputTypeError
        If ``table`` is not an InteractionTable, or ids cannot be compared
        with the table's.

    See Also
    --------
    acquisition_cost, clv_cac_ratio

    Notes
    -----
    The payback time is the first instant at which the cumulative margin
    since acquisition (all rows of that instant included) reaches the CAC (a
    CAC of 0 is paid back at acquisition). Customers who never reach it by ``observation_end`` are
    censored there; ``share_paid_back`` counts those paid back, and the
    Kaplan-Meier ``median`` allows for the censoring (a customer may still
    pay back later, or never).

    Examples
    --------
    >>> import numpy as np
    >>> from crmcore import InteractionTable
    >>> t = InteractionTable.from_arrays(
    ...     [1, 1, 2], np.array(["2024-01-11", "2024-01-31", "2024-01-21"], dtype="datetime64[ns]"),
    ...     amounts=[50.0, 50.0, 20.0], margins=[6.0, 6.0, 4.0])
    >>> p = payback_time(t, [1, 2], ["2024-01-01", "2024-01-01"], 10.0,
    ...                  observation_end="2024-03-01")
    >>> p.durations.tolist(), p.paid_back.tolist(), p.share_paid_back
    ([30.0, 60.0], [True, False], 0.5)
    >>> payback_time(t, [1, 1], ["2024-01-01"] * 2, 10.0, observation_end="2024-03-01")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: customer_ids must be distinct; ...
    """
    if not isinstance(table, InteractionTable):
        raise InputTypeError(f"table must be an InteractionTable, got {type(table).__name__}")
    unit = v.check_choice(time_unit, "time_unit", _UNITS)
    level = _check_confidence(confidence)
    cut = v.as_timestamp(observation_end, "observation_end")
    ids = v.as_ndarray(customer_ids, "customer_ids")
    if ids.ndim != 1 or ids.size == 0:
        raise InputError(f"customer_ids must be a non-empty 1-d array, got shape {ids.shape}")
    n = int(ids.size)
    missing = _missing_labels(ids)
    if ids.dtype.kind == "f":
        missing |= ~np.isfinite(ids)
    if missing.any():
        raise InputError(
            "customer_ids must not hold missing or non-finite ids; "
            + v.describe_violations(missing, ("customer_ids", ids))
        )
    start = v.as_datetime_array(acquired, "acquired", allow_empty=False)
    v.check_same_length(("customer_ids", ids), ("acquired", start))
    bad = np.isnat(start) | (start > cut)
    if bad.any():
        raise InputError(
            "acquired must be given and not after observation_end; "
            + v.describe_violations(bad, ("acquired", start))
        )
    if np.ndim(cac) == 0:
        cost = np.full(n, v.check_float(cac, "cac", low=0.0))
    else:
        cost = v.as_float_array(cac, "cac", nonnegative=True)
        v.check_same_length(("customer_ids", ids), ("cac", cost))
    if table.margins is None:
        raise InputError("table must have margins: the payback is paid from the customers' margins")
    # Position of each table customer among the followed ones (-1 when not followed).
    kinds_of = {ids.dtype.kind, table.customer_ids.dtype.kind}
    if kinds_of & set("iu") and kinds_of & set("US"):
        raise InputTypeError(
            f"customer_ids must be comparable with the table's customer ids: got dtype "
            f"{ids.dtype} against the table's {table.customer_ids.dtype}"
        )
    try:
        order = np.argsort(ids, kind="stable")
        sorted_ids = ids[order]
        repeated = np.zeros(n, dtype=np.bool_)
        repeated[order[1:]] = sorted_ids[1:] == sorted_ids[:-1]
        pos = np.searchsorted(sorted_ids, table.customer_ids)
    except TypeError as exc:
        raise InputTypeError(
            f"customer_ids must be comparable with the table's customer ids: {exc}"
        ) from exc
    if repeated.any():
        raise InputError(
            "customer_ids must be distinct; "
            + v.describe_violations(repeated, ("customer_ids", ids))
        )
    pos = np.minimum(pos, n - 1)
    found = sorted_ids[pos] == table.customer_ids
    follow = np.where(found, order[pos], -1)
    owner_all = follow[table.customer_codes]
    kinds = table.kinds
    rows = np.flatnonzero(
        (owner_all >= 0) & ((kinds == PURCHASE_CODE) | (kinds == _REFUND)) & (table.times <= cut)
    )
    owner = owner_all[rows]
    when = table.times[rows]
    rows, owner, when = (
        rows[when >= start[owner]],
        owner[when >= start[owner]],
        when[when >= start[owner]],
    )
    margin = table.margins[rows]
    missing = np.isnan(margin)
    if missing.any():
        raise InputError(
            "margins must be known on the purchase and refund rows of the followed customers; "
            f"{int(missing.sum())} are NaN (first at table row "
            f"{int(rows[np.flatnonzero(missing)[0]])})"
        )
    signed = np.where(kinds[rows] == _REFUND, -margin, margin)
    order_rows = np.lexsort((when.view(np.int64), owner))
    owner, when, signed = owner[order_rows], when[order_rows], signed[order_rows]
    total = np.cumsum(signed)
    group_start = np.ones(owner.size, dtype=np.bool_)
    group_start[1:] = owner[1:] != owner[:-1]
    starts = np.flatnonzero(group_start)
    before = np.zeros(owner.size)
    if owner.size:
        offsets = np.concatenate([[0.0], total[starts[1:] - 1]]) if starts.size > 1 else np.zeros(1)
        before = np.repeat(offsets, np.diff(np.append(starts, owner.size)))
    cumulative = total - before
    to_date = np.zeros(n)
    if owner.size:
        last = np.append(starts[1:] - 1, owner.size - 1)
        to_date[owner[last]] = cumulative[last]
    # Rows at one instant count together: the margin is checked after the last of them,
    # so the result does not depend on the order of simultaneous rows.
    last_at_time = np.ones(owner.size, dtype=np.bool_)
    last_at_time[:-1] = (owner[1:] != owner[:-1]) | (when[1:] != when[:-1])
    reached = (cumulative >= cost[owner]) & last_at_time
    paid = cost == 0.0
    end = np.array(start, copy=True)
    later = np.flatnonzero(reached)
    if later.size:
        who, first = np.unique(owner[later], return_index=True)
        fresh = ~paid[who]
        end[who[fresh]] = when[later[first]][fresh]
        paid[who] = True
    end[~paid] = cut
    durations = v.span_between(start, end, unit)
    curve = kaplan_meier(durations, paid, confidence=level)
    return Payback(
        customer_ids=_ro(ids.copy()),
        durations=_ro(durations),
        paid_back=_ro(paid),
        cac=_ro(np.array(cost, dtype=np.float64)),
        margin_to_date=_ro(to_date),
        curve=curve,
        median=_km_median(curve),
        share_paid_back=float(paid.mean()),
        time_unit=unit,
        observation_end=cut,
    )
