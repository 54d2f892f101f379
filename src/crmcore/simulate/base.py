"""A whole simulated customer base: :func:`customer_base` and its result."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from crmcore import _validation as val
from crmcore._typing import DatetimeArray, FloatArray, IntArray, SeedLike
from crmcore._validation import readonly as _ro
from crmcore.errors import InputError, InputTypeError
from crmcore.records import CustomerSource
from crmcore.table import InteractionTable

from ._common import (
    _DAY_S,
    _MAX_CUSTOMERS,
    _MAX_DAYS,
    _MAX_ROWS,
    _NS_PER_S,
    _PURCHASE,
    _SECONDS,
    PurchaseModel,
    TimeUnit,
    _categorical,
    _check_amounts,
    _check_days,
    _check_positive,
    _child_generators,
    _days_to_ns,
    _four,
    _iso,
    _log_standard_gamma,
)
from ._rows import (
    _add_baskets,
    _add_campaigns,
    _add_catalog,
    _add_leads,
    _add_refunds,
    _add_support,
    _add_surveys,
    _Blocks,
)
from .bgnbd import _bg_process
from .gamma_gamma import SimulatedSpend
from .histories import SimulatedHistories, _Process
from .options import (
    CampaignOptions,
    CatalogOptions,
    LeadOptions,
    RefundOptions,
    SupportOptions,
    SurveyOptions,
)
from .pareto_nbd import _pareto_process

__all__ = ["CDNOW_BGNBD_WEEKLY", "CDNOW_GAMMA_GAMMA", "SimulatedCustomerBase", "customer_base"]


#: BG/NBD estimates for the CDNOW cohort, time unit one week (Fader, Hardie & Lee
#: 2005, "Counting your customers the easy way"): (r, alpha, a, b).
CDNOW_BGNBD_WEEKLY: tuple[float, float, float, float] = (0.243, 4.414, 0.793, 2.426)
#: Gamma-Gamma estimates for the CDNOW cohort, in US dollars (Fader, Hardie &
#: Lee 2005, "RFM and CLV: using iso-value curves"): (p, q, v).
CDNOW_GAMMA_GAMMA: tuple[float, float, float] = (6.25, 3.74, 15.44)


@attrs.frozen(kw_only=True, eq=False)
class SimulatedCustomerBase:
    """A simulated transaction log with the truth behind it.

    Attributes
    ----------
    table : InteractionTable
        The log: purchases (first and repeat), and the optional survey answers,
        support contacts, complaints, campaign touches, campaign purchases,
        extra items of orders and refunds. Rows come in blocks, not sorted by
        time: the purchase process's purchases (by customer, each customer's in
        time order), then for each campaign its touches and induced purchases,
        then survey answers, support contacts and complaints, then the extra
        items of multi-item orders, then refunds, then leads and opportunities
        (with :class:`LeadOptions`; prospects who never buy have the ids after
        the customers', so ``table.n_customers`` then exceeds ``n_customers``).
    histories : SimulatedHistories
        The exact continuous-time histories of the purchase process, in
        ``time_unit``, measured from each first purchase to ``observation_end``
        (before any rounding of times or merging of same-day purchases).
        Campaign-induced purchases are not part of them.
    spend : SimulatedSpend
        Per customer: the number of repeat purchases, the mean amount of the
        repeat purchases in the table (the Gamma-Gamma model's monetary value;
        with multi-item orders, the mean order total) and the latent nu.
    customer_ids : ndarray of int64
        The ids 1..n_customers; row i of ``histories`` and ``spend`` is customer
        ``customer_ids[i]`` (also ``table.customer_ids[i]``).
    first_purchase : ndarray of datetime64[ns]
        Acquisition time of each customer (whole seconds, UTC).
    start, observation_end : numpy.datetime64
        Start of the acquisition window and end of observation.
    time_unit : {"h", "D", "W"}
        Unit of the purchase parameters and of the histories.
    model : {"bgnbd", "mbgnbd", "pareto_nbd"}
        The purchase model.
    purchase_params : tuple of float
        (r, alpha, a, b) for the BG models, (r, alpha, s, beta) for Pareto/NBD,
        in ``time_unit``.
    spend_params : tuple of float
        (p, q, v) of the Gamma-Gamma spend model.
    region, favourite_category : ndarray of str or None
        Per customer, with a catalogue.
    preferred_channel : ndarray of str or None
        Per customer, a :class:`~crmcore.Channel` value, with a catalogue.
    discount_propensity : ndarray of float64 or None
        Per customer, the probability that a purchase is on discount.
    satisfaction : ndarray of float64 or None
        Per customer, the latent satisfaction behind survey answers.
    source : ndarray of str or None
        Per customer, a :class:`~crmcore.CustomerSource` value, drawn with
        ``source_shares``.
    lead_source : ndarray of str or None
        Per customer, the source of the lead it came from, with :class:`LeadOptions`.
    n_prospects : int
        Prospects who never bought (lead rows only), with :class:`LeadOptions`.
    catalog, surveys, support, refunds, leads : options or None
        The options used.
    campaigns : tuple of CampaignOptions
        The campaigns run.
    """

    table: InteractionTable
    histories: SimulatedHistories
    spend: SimulatedSpend
    customer_ids: IntArray
    first_purchase: DatetimeArray
    start: np.datetime64
    observation_end: np.datetime64
    time_unit: str
    model: str
    purchase_params: tuple[float, ...]
    spend_params: tuple[float, float, float]
    region: np.ndarray[Any, Any] | None = None
    favourite_category: np.ndarray[Any, Any] | None = None
    preferred_channel: np.ndarray[Any, Any] | None = None
    discount_propensity: FloatArray | None = None
    satisfaction: FloatArray | None = None
    source: np.ndarray[Any, Any] | None = None
    lead_source: np.ndarray[Any, Any] | None = None
    n_prospects: int = 0
    catalog: CatalogOptions | None = None
    surveys: SurveyOptions | None = None
    support: SupportOptions | None = None
    refunds: RefundOptions | None = None
    campaigns: tuple[CampaignOptions, ...] = ()
    leads: LeadOptions | None = None

    def __len__(self) -> int:
        return int(self.customer_ids.size)

    def columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """Return the per-customer arrays by name, customer ids first, ready for a data frame.

        The same contract as :meth:`crmcore.CustomerSummary.columns`:
        equal-length 1-d read-only arrays, one row per customer; the optional
        per-customer arrays are included when the base has them. The latent
        truth comes out through ``histories.columns()`` and
        ``spend.columns()``, row by row in the same order.

        Returns
        -------
        dict of str to ndarray
            ``customer_ids``, ``first_purchase`` and, where present,
            ``region``, ``favourite_category``, ``preferred_channel``,
            ``discount_propensity``, ``satisfaction``, ``source`` and
            ``lead_source``.

        Examples
        --------
        >>> base = customer_base(3, start="2024-01-01", observation_end="2024-06-30", rng=1)
        >>> list(base.columns()), base.columns()["customer_ids"].tolist()
        (['customer_ids', 'first_purchase'], [1, 2, 3])
        >>> list(base.histories.columns())[:3]
        ['frequency', 'recency', 'T']
        """
        return val.result_columns(
            self,
            "customer_ids",
            "first_purchase",
            "region",
            "favourite_category",
            "preferred_channel",
            "discount_propensity",
            "satisfaction",
            "source",
            "lead_source",
        )


def _draw_process(
    rng: np.random.Generator,
    model: str,
    params: tuple[float, float, float, float],
    T: FloatArray,
    holdout: float,
) -> _Process:
    if model == "pareto_nbd":
        return _pareto_process(rng, params, T, holdout)
    return _bg_process(rng, params, T, holdout, modified=model == "mbgnbd")


def _named_params(value: object, names: tuple[str, ...], arg: str) -> tuple[float, ...]:
    if all(hasattr(value, n) for n in names):
        values = [getattr(value, n) for n in names]
    elif isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != len(names):
            raise InputError(
                f"{arg} must hold {len(names)} parameters ({', '.join(names)}), got {len(value)}"
            )
        values = list(value)
    else:
        raise InputTypeError(
            f"{arg} must be a sequence ({', '.join(names)}) or an object with those "
            f"attributes, got {type(value).__name__}"
        )
    return tuple(_check_positive(x, f"{arg}.{n}") for x, n in zip(values, names, strict=True))


def _segment_fractions(rng: np.random.Generator, counts: IntArray) -> FloatArray:
    """Per customer, ``counts[i]`` sorted fractions in (0, 1], the last exactly 1.

    Normalised partial sums of exponential spacings: the first ``k - 1`` are
    distributed as the order statistics of ``k - 1`` uniforms on (0, 1), which
    is how the earlier purchases lie before the last one. No sort is needed.
    """
    total = int(counts.sum())
    spacing = rng.standard_exponential(total)
    csum = np.cumsum(spacing)
    ends = np.cumsum(counts)
    padded = np.concatenate(([0.0], csum))
    base = padded[ends - counts]
    length = padded[ends] - base
    owner = np.repeat(np.arange(counts.size), counts)
    return np.asarray((csum - base[owner]) / length[owner], dtype=np.float64)


def _check_source_shares(shares: object) -> dict[CustomerSource, float]:
    """Validate ``source_shares``: known sources, non-negative shares summing to 1."""
    if not isinstance(shares, Mapping):
        raise InputTypeError(
            "source_shares must be a mapping of CustomerSource to share, "
            f"got {type(shares).__name__}"
        )
    if not shares:
        raise InputError("source_shares must give a share to at least one CustomerSource")
    out: dict[CustomerSource, float] = {}
    for key, share in shares.items():
        try:
            source = CustomerSource(key)
        except ValueError as exc:
            allowed = ", ".join(m.value for m in CustomerSource)
            raise InputError(
                f"source_shares has an unknown source {key!r}; allowed: {allowed}"
            ) from exc
        if source in out:
            raise InputError(f"source_shares names {source.value!r} twice")
        out[source] = val.check_float(share, f"source_shares[{source.value!r}]", low=0.0)
    total = math.fsum(out.values())
    if abs(total - 1.0) > 1e-9:
        raise InputError(f"source_shares must sum to 1, got {total!r}")
    return out


def customer_base(
    n_customers: int,
    *,
    start: object,
    observation_end: object,
    acquisition_days: float = 84.0,
    model: PurchaseModel = "bgnbd",
    purchase: object = None,
    spend: object = CDNOW_GAMMA_GAMMA,
    time_unit: TimeUnit = "W",
    catalog: CatalogOptions | None = None,
    surveys: SurveyOptions | None = None,
    support: SupportOptions | None = None,
    campaigns: Sequence[CampaignOptions] = (),
    refunds: RefundOptions | None = None,
    source_shares: Mapping[CustomerSource | str, float] | None = None,
    leads: LeadOptions | None = None,
    rng: SeedLike,
) -> SimulatedCustomerBase:
    """Simulate a customer base as a calendar transaction log.

    Parameters
    ----------
    n_customers : int
        Number of customers, 1 to 10**8; their ids are 1..n_customers.
    start : datetime, date, numpy.datetime64 or ISO string
        Start of the acquisition window (UTC), within the range of
        datetime64[ns] (1677-09-22 to 2262-04-10).
    observation_end : datetime, date, numpy.datetime64 or ISO string
        End of observation; no interaction is drawn after it. It must not be
        earlier than the end of the acquisition window, nor more than 36,525
        days (100 years) after ``start``.
    acquisition_days : float
        Length of the acquisition window in days (positive, at most 36,525): each customer's
        first purchase is uniform in [start, start + acquisition_days).
    model : {"bgnbd", "mbgnbd", "pareto_nbd"}
        The purchase process after the first purchase.
    purchase : sequence of 4 floats or params object, optional
        (r, alpha, a, b) for the BG models or (r, alpha, s, beta) for
        Pareto/NBD, in ``time_unit``; any object with those attributes (a
        fitted model's params) works too. Default for BG/NBD: the CDNOW
        estimates :data:`CDNOW_BGNBD_WEEKLY` converted to ``time_unit``;
        required for the other models.
    spend : sequence of 3 floats or params object
        (p, q, v) of the Gamma-Gamma spend model; default the CDNOW estimates
        :data:`CDNOW_GAMMA_GAMMA` (US dollars).
    time_unit : {"h", "D", "W"}
        Unit of the purchase parameters and of the returned histories (an
        hour, a day, a week of seven days).
    catalog : CatalogOptions, optional
        Add products, categories, channels, regions, discounts and margins,
        and optionally orders of several items
        (:attr:`CatalogOptions.extra_items_mean`).
    surveys : SurveyOptions, optional
        Add survey answers (NPS, CSAT, CES).
    support : SupportOptions, optional
        Add support contacts and complaints.
    campaigns : sequence of CampaignOptions
        Campaigns with control groups (marketing rows and induced purchases).
    refunds : RefundOptions, optional
        Add refunds of purchases.
    source_shares : mapping of CustomerSource to float, optional
        Draw each customer's :class:`~crmcore.CustomerSource` independently
        with these probabilities (non-negative, summing to 1; sources left out
        have probability 0), returned as ``source``. The source is independent
        of behaviour. Default: no source.
    leads : LeadOptions, optional
        Add the acquisition funnel: a lead row (with its source) and
        opportunity rows before each customer's first purchase, and prospects
        who never buy (see :class:`LeadOptions`). Default: no leads.
    rng : int or numpy.random.Generator
        Seed or generator. The purchase process, the spend and each option draw
        from separate streams, so switching an option on or off leaves the
        other rows unchanged; with every option at its default the draws are
        those of the earlier releases.

    Returns
    -------
    SimulatedCustomerBase
        The :class:`~crmcore.InteractionTable`, the exact histories, the spend
        truth, and the latent per-customer attributes.

    Raises
    ------
    InputError
        On non-positive parameters or counts, counts or durations beyond their
        bounds (above), dates outside the range of datetime64[ns], an
        observation end before the end of the acquisition window or more than
        100 years after the start, a campaign sent after it, or source shares
        that are negative, name an unknown source or do not sum to 1.
    InputTypeError
        On arguments of the wrong type (a bad ``rng``, options of the wrong
        class), or a missing ``purchase`` for MBG/NBD or Pareto/NBD.

    See Also
    --------
    bgnbd_histories, gamma_gamma_spend, crmcore.summarize

    Notes
    -----
    Customer i's first purchase is at a time uniform in the acquisition window,
    truncated to the whole second. From there the purchase model runs in
    ``time_unit`` (see :func:`bgnbd_histories`, :func:`mbgnbd_histories`,
    :func:`pareto_nbd_histories`) up to ``observation_end``, with
    T = observation_end - first purchase exactly. The x - 1 repeat purchases
    before the last one (at t_x) are uniform order statistics on (0, t_x),
    drawn from exponential spacings, so each customer's rows come out in time
    order without a sort. Purchase times are truncated to the whole second in
    the table; ``histories`` keeps them exact. Every purchase, the first
    included, has an amount z ~ Gamma(shape p, rate nu) with the customer's
    nu ~ Gamma(shape q, rate v) (:func:`gamma_gamma_spend`).

    Speed and memory: everything is vectorised, with no loop over customers
    or rows. Measured on a shared 2-core machine, one million customers with
    about nine million purchases and no options take 1-2 s (up to about 4 s
    when the machine is busy) with a peak of about 0.9 GB. The options add rows
    and fixed-width string columns (products, categories, regions, campaigns),
    which dominate then: with every option on, the same base takes 10-20 s and
    about 4 GB. Build large bases without the options you do not need.

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your
    customers" the easy way: an alternative to the Pareto/NBD model.
    Marketing Science, 24(2), 275-284.

    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). RFM and CLV: using
    iso-value curves for customer base analysis. Journal of Marketing
    Research, 42(4), 415-430.

    Examples
    --------
    >>> import numpy as np
    >>> base = customer_base(
    ...     2_000, start="2024-01-01", observation_end="2025-06-30",
    ...     catalog=CatalogOptions(), surveys=SurveyOptions(), support=SupportOptions(),
    ...     campaigns=[CampaignOptions(name="spring", send_day=200.0)], rng=42)
    >>> purchases = base.table.is_purchase
    >>> int(base.histories.frequency.sum()) + 2_000 <= int(purchases.sum())
    True
    >>> sorted(set(base.table.regions.tolist()))
    ['east', 'north', 'south', 'west']

    Customer sources, orders of several items and refunds are opt-in:

    >>> base = customer_base(
    ...     2_000, start="2024-01-01", observation_end="2025-06-30",
    ...     catalog=CatalogOptions(extra_items_mean=1.0), refunds=RefundOptions(),
    ...     source_shares={CustomerSource.CONSUMER: 0.9, CustomerSource.DEALER: 0.1}, rng=42)
    >>> sorted(set(base.source.tolist()))
    ['consumer', 'dealer']
    >>> int(base.table.kind_mask("refund").sum()) > 0
    True

    Leads (the acquisition funnel) are opt-in too; they come from a stream of
    their own, so every other row stays as it was:

    >>> with_leads = customer_base(
    ...     2_000, start="2024-01-01", observation_end="2025-06-30",
    ...     catalog=CatalogOptions(extra_items_mean=1.0), refunds=RefundOptions(),
    ...     source_shares={CustomerSource.CONSUMER: 0.9, CustomerSource.DEALER: 0.1},
    ...     leads=LeadOptions(), rng=42)
    >>> bool((with_leads.table.amounts[with_leads.table.is_purchase]
    ...       == base.table.amounts[base.table.is_purchase]).all())
    True
    >>> sorted(set(with_leads.lead_source.tolist()))
    ['cold_call', 'referral', 'trade_show', 'web']
    >>> start, too_early = "2024-01-01", "2024-02-01"
    >>> customer_base(10, start=start, observation_end=too_early, rng=1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: observation_end must not be earlier than the end of the ...
    """
    n = val.check_int(n_customers, "n_customers", low=1, high=_MAX_CUSTOMERS)
    start_ns = val.as_timestamp(start, "start")
    end_ns = val.as_timestamp(observation_end, "observation_end")
    acq = _check_days(acquisition_days, "acquisition_days", positive=True)
    val.check_choice(model, "model", ("bgnbd", "mbgnbd", "pareto_nbd"))
    val.check_choice(time_unit, "time_unit", tuple(_SECONDS))
    # In Python integers: nothing here can overflow int64.
    start_i = int(start_ns.astype(np.int64))
    end_i = int(end_ns.astype(np.int64))
    acq_end = start_i + round(acq * _DAY_S * _NS_PER_S)
    if end_i < acq_end:
        raise InputError(
            "observation_end must not be earlier than the end of the acquisition window "
            f"(start + acquisition_days = {_iso(acq_end)}); got {_iso(end_ns)}"
        )
    if end_i - start_i > _MAX_DAYS * _DAY_S * _NS_PER_S:
        raise InputError(
            f"observation_end must be at most {_MAX_DAYS:g} days (100 years) after start; got "
            f"{_iso(start_ns)} to {_iso(end_ns)}"
        )
    names4 = ("r", "alpha", "s", "beta") if model == "pareto_nbd" else ("r", "alpha", "a", "b")
    if purchase is None:
        if model != "bgnbd":
            raise InputTypeError(
                f"purchase is required for model={model!r}: give its parameters "
                f"({', '.join(names4)}) in time unit {time_unit!r}"
            )
        r0, alpha0, a0, b0 = CDNOW_BGNBD_WEEKLY
        params = (r0, alpha0 * _SECONDS["W"] / _SECONDS[time_unit], a0, b0)
    else:
        params = _four(_named_params(purchase, names4, "purchase"))
    spend_params = _named_params(spend, ("p", "q", "v"), "spend")
    for label, option, cls in (
        ("catalog", catalog, CatalogOptions),
        ("surveys", surveys, SurveyOptions),
        ("support", support, SupportOptions),
        ("refunds", refunds, RefundOptions),
        ("leads", leads, LeadOptions),
    ):
        if option is not None and not isinstance(option, cls):
            raise InputTypeError(
                f"{label} must be a {cls.__name__} or None, got {type(option).__name__}"
            )
    if isinstance(campaigns, CampaignOptions):
        campaigns = (campaigns,)
    if isinstance(campaigns, str | bytes | Mapping) or not isinstance(campaigns, Iterable):
        raise InputTypeError(
            f"campaigns must be a sequence of CampaignOptions, got {type(campaigns).__name__}"
        )
    camp = tuple(campaigns)
    for i, c in enumerate(camp):
        if not isinstance(c, CampaignOptions):
            raise InputTypeError(
                f"campaigns must hold CampaignOptions; found {type(c).__name__} at index {i}"
            )
        send = start_i + round(c.send_day * _DAY_S) * _NS_PER_S
        if send > end_i:
            raise InputError(
                f"campaigns[{i}] ({c.name!r}) is sent at {_iso(send)}, after observation_end "
                f"{_iso(end_ns)}"
            )
    if len({c.name for c in camp}) != len(camp):
        raise InputError("campaigns must have distinct names")

    sources = None if source_shares is None else _check_source_shares(source_shares)

    gen = val.as_generator(rng)
    # Spawning more children leaves the first six (and so every earlier draw) unchanged.
    streams = _child_generators(gen, 10)
    g_purchase, g_spend, g_catalog, g_campaign, g_survey, g_support = streams[:6]
    g_basket, g_refund, g_source, g_lead = streams[6:]
    unit_s = _SECONDS[time_unit]

    # --- first purchases and the purchase process (exact, in time_unit)
    first_i = start_i + _days_to_ns(g_purchase.random(n) * acq)
    T = (end_i - first_i) / (unit_s * _NS_PER_S)
    proc = _draw_process(g_purchase, model, params, T, 0.0)
    x = proc.frequency
    expected_rows = int(x.sum()) + n
    if expected_rows > _MAX_ROWS:
        raise InputError(
            f"the purchase parameters give {expected_rows} purchases, more than "
            f"{_MAX_ROWS} rows can be simulated; check purchase against time_unit"
        )

    # --- organic purchase rows: each customer's first, then the repeats in time order
    counts = x + 1
    owner = np.repeat(np.arange(n, dtype=np.int64), counts)
    first_row = np.cumsum(counts) - counts
    offsets = np.zeros(owner.size)
    repeat_rows = np.ones(owner.size, dtype=np.bool_)
    repeat_rows[first_row] = False
    buyers = np.flatnonzero(x > 0)
    fractions = _segment_fractions(g_purchase, x[buyers])
    offsets[repeat_rows] = fractions * np.repeat(proc.recency[buyers], x[buyers])
    offset_ns = np.floor(offsets * unit_s).astype(np.int64) * _NS_PER_S
    times_i = np.minimum(first_i[owner] + offset_ns, end_i)
    del offsets, offset_ns, fractions

    # --- spend: the customer's nu and Gamma(p, nu) amounts for every purchase
    p_s, q_s, v_s = spend_params
    log_nu = _log_standard_gamma(g_spend, np.full(n, q_s)) - math.log(v_s)
    with np.errstate(over="ignore"):
        scale = np.exp(-log_nu)
    with np.errstate(invalid="ignore", over="ignore"):
        amounts = g_spend.standard_gamma(p_s, owner.size) * scale[owner]
    _check_amounts(amounts, owner)
    repeat_amount = np.where(repeat_rows, amounts, 0.0)
    sums = np.bincount(owner, weights=repeat_amount, minlength=n)
    del repeat_amount
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(x > 0, sums / np.maximum(x, 1), 0.0)
    with np.errstate(under="ignore"):
        nu = np.exp(log_nu)

    # --- blocks of rows; purchases first
    blocks = _Blocks(n)
    p_block = blocks.add(owner, times_i, _PURCHASE, amounts=amounts)
    del owner, times_i, amounts

    labels: dict[str, Any] = {}
    if camp:
        _add_campaigns(
            blocks,
            p_block=p_block,
            campaigns=camp,
            rng=g_campaign,
            first_i=first_i,
            start_i=start_i,
            end_i=end_i,
            scale=scale,
            p_shape=p_s,
        )
    if catalog is not None:
        labels.update(_add_catalog(blocks, catalog, g_catalog))
    if surveys is not None:
        labels["satisfaction"] = _add_surveys(blocks, surveys, g_survey, end_i)
    if support is not None:
        _add_support(blocks, support, g_support, end_i)
    if catalog is not None and catalog.extra_items_mean > 0:
        _add_baskets(blocks, catalog, g_basket)
    if refunds is not None:
        _add_refunds(blocks, refunds, g_refund, end_i)
    if sources is not None:
        names = np.asarray([s.value for s in sources])
        labels["source"] = names[_categorical(g_source, tuple(sources.values()), n)]

    n_prospects = 0
    if leads is not None:
        lead_code, n_prospects = _add_leads(
            blocks,
            leads,
            g_lead,
            first_i=first_i,
            start_i=start_i,
            acq_ns=acq_end - start_i,
            end_i=end_i,
        )
        labels["lead_source"] = np.asarray(leads.sources)[lead_code]

    table = blocks.table(
        catalog=catalog,
        campaigns=camp,
        surveys=surveys is not None,
        support=support,
        leads=leads,
    )
    ids = np.arange(1, n + 1, dtype=np.int64)
    histories = SimulatedHistories(
        frequency=_ro(x),
        recency=_ro(proc.recency),
        T=_ro(T),
        alive=_ro(proc.alive),
        lam=_ro(proc.lam),
        p=None if proc.p is None else _ro(proc.p),
        mu=None if proc.mu is None else _ro(proc.mu),
        dropout_time=_ro(proc.dropout_time),
        frequency_holdout=_ro(np.zeros(n, dtype=np.int64)),
        duration_holdout=0.0,
        model=model,
    )
    return SimulatedCustomerBase(
        table=table,
        histories=histories,
        spend=SimulatedSpend(frequency=_ro(x.copy()), monetary_value=_ro(monetary), nu=_ro(nu)),
        customer_ids=_ro(ids),
        first_purchase=_ro(first_i.astype("datetime64[ns]")),
        start=start_ns,
        observation_end=end_ns,
        time_unit=time_unit,
        model=model,
        purchase_params=tuple(params),
        spend_params=(p_s, q_s, v_s),
        catalog=catalog,
        surveys=surveys,
        support=support,
        refunds=refunds,
        campaigns=camp,
        leads=leads,
        n_prospects=n_prospects,
        **{k: _ro(a) for k, a in labels.items()},
    )
