"""Options of :func:`customer_base`: catalogue, surveys, support, refunds, campaigns, leads."""

from __future__ import annotations

import attrs

from crmcore import _validation as val
from crmcore.errors import InputError
from crmcore.records import Channel

from ._common import (
    _MAX_DAYS,
    _MAX_PRODUCTS_PER_CATEGORY,
    _SCALES,
    _check_days,
    _check_positive,
    _check_probability,
    _check_shares,
    _require_tuple,
    _to_tuple,
)


@attrs.frozen(kw_only=True)
class SurveyOptions:
    """How :func:`customer_base` draws survey answers.

    After each purchase the customer answers one survey question with
    probability ``response_rate``, at a time uniform within ``delay_days`` after
    the purchase (answers falling after the end of observation are dropped).
    The question is drawn uniformly from ``questions``: ``"nps"`` (likelihood to
    recommend, 0-10), ``"csat"`` (satisfaction, 1-5) or ``"ces"`` (ease, 1-7,
    higher is easier), and its label goes into the table's
    ``survey_questions``, so ``nps(table)`` and ``csat(table)`` find their
    answers. Each customer has a latent satisfaction
    ``s ~ Beta(*satisfaction)``; an answer on the scale ``low..high`` is
    ``low + Binomial(high - low, s)``, so the truth is known: for instance the
    expected answer is ``low + (high - low) * a / (a + b)``.

    Parameters
    ----------
    response_rate : float
        Probability that a purchase is followed by an answer, in [0, 1].
    questions : tuple of {"nps", "csat", "ces"}
        The questions asked.
    satisfaction : (float, float)
        The Beta parameters (a, b) of the latent satisfaction, both positive.
    delay_days : float
        Answers arrive uniformly within this many days after the purchase
        (0 to 36,525).

    Examples
    --------
    >>> SurveyOptions(response_rate=0.5).questions
    ('nps', 'csat', 'ces')
    >>> SurveyOptions(response_rate=1.5)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: SurveyOptions.response_rate must be <= 1.0, got 1.5
    """

    response_rate: float = 0.2
    questions: tuple[str, ...] = attrs.field(default=("nps", "csat", "ces"), converter=_to_tuple)
    satisfaction: tuple[float, float] = attrs.field(default=(4.0, 1.5), converter=_to_tuple)
    delay_days: float = 3.0

    def __attrs_post_init__(self) -> None:
        _check_probability(self.response_rate, "SurveyOptions.response_rate")
        _require_tuple(self.questions, "SurveyOptions.questions")
        if not self.questions:
            raise InputError("SurveyOptions.questions must name at least one question")
        for q in self.questions:
            val.check_choice(q, "SurveyOptions.questions", tuple(_SCALES))
        _require_tuple(self.satisfaction, "SurveyOptions.satisfaction", length=2)
        _check_positive(self.satisfaction[0], "SurveyOptions.satisfaction[0]")
        _check_positive(self.satisfaction[1], "SurveyOptions.satisfaction[1]")
        _check_days(self.delay_days, "SurveyOptions.delay_days")


@attrs.frozen(kw_only=True)
class SupportOptions:
    """How :func:`customer_base` draws support contacts and complaints.

    After each purchase the customer contacts support with probability
    ``contact_rate``, at a time uniform within ``delay_days`` after the purchase
    (contacts after the end of observation are dropped). A contact is a
    complaint with probability ``complaint_share`` (a ``complaint`` row) and a
    ``support`` row otherwise. Either kind is resolved at first contact with
    probability ``first_contact_resolution`` and answered after a log-normal
    response time with median ``median_response_hours`` and log-scale standard
    deviation ``response_sigma``. Each contact costs ``cost_per_contact``: its
    margin is minus that (when the table has margins).

    Parameters
    ----------
    contact_rate, complaint_share, first_contact_resolution : float
        Probabilities in [0, 1].
    median_response_hours : float
        Median response time, positive, at most 876,600 hours (100 years).
    response_sigma : float
        Standard deviation of the log response time, non-negative.
    delay_days : float
        Contacts arrive uniformly within this many days after the purchase
        (0 to 36,525).
    cost_per_contact : float
        Cost to serve one contact, non-negative.

    Examples
    --------
    >>> SupportOptions().first_contact_resolution
    0.7
    """

    contact_rate: float = 0.1
    complaint_share: float = 0.25
    first_contact_resolution: float = 0.7
    median_response_hours: float = 4.0
    response_sigma: float = 1.0
    delay_days: float = 14.0
    cost_per_contact: float = 6.0

    def __attrs_post_init__(self) -> None:
        _check_probability(self.contact_rate, "SupportOptions.contact_rate")
        _check_probability(self.complaint_share, "SupportOptions.complaint_share")
        _check_probability(self.first_contact_resolution, "SupportOptions.first_contact_resolution")
        val.check_float(
            self.median_response_hours,
            "SupportOptions.median_response_hours",
            low=0.0,
            low_open=True,
            high=_MAX_DAYS * 24,
        )
        val.check_float(self.response_sigma, "SupportOptions.response_sigma", low=0.0)
        _check_days(self.delay_days, "SupportOptions.delay_days")
        val.check_float(self.cost_per_contact, "SupportOptions.cost_per_contact", low=0.0)


@attrs.frozen(kw_only=True)
class RefundOptions:
    """How :func:`customer_base` draws refunds.

    Each purchase row (every item of an order, organic or campaign-induced)
    is refunded with probability ``probability``, independently, at a time
    uniform within ``delay_days`` after the purchase, truncated to the whole
    second (so never before it). Refunds that would fall after the end of
    observation are dropped: purchases made less than ``delay_days`` before
    ``observation_end`` are refunded less often than ``probability``.

    A refund is a ``refund`` row of the same customer with the purchase's
    product, category and channel (when the table has them). Its amount is
    ``fraction`` times the purchase's amount, stored as a positive number (the
    money returned; :func:`crmcore.metrics.historical_value` subtracts it), and
    its margin, when the purchase has one, is ``fraction`` times the
    purchase's margin (the margin given back, with its sign). ``fraction=1``
    refunds in full. The purchase row itself is left unchanged, so
    :func:`crmcore.summarize` and the simulated histories still count it.

    Parameters
    ----------
    probability : float
        Probability that a purchase row is refunded, in [0, 1].
    fraction : float
        Share of the purchase's amount (and margin) refunded, in (0, 1].
    delay_days : float
        Refunds arrive uniformly within this many days after the purchase,
        positive, at most 36,525.

    Examples
    --------
    >>> RefundOptions().fraction
    1.0
    >>> RefundOptions(fraction=0.0)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: RefundOptions.fraction must be > 0.0, got 0.0
    """

    probability: float = 0.05
    fraction: float = 1.0
    delay_days: float = 30.0

    def __attrs_post_init__(self) -> None:
        _check_probability(self.probability, "RefundOptions.probability")
        val.check_float(self.fraction, "RefundOptions.fraction", low=0.0, low_open=True, high=1.0)
        _check_days(self.delay_days, "RefundOptions.delay_days", positive=True)


@attrs.frozen(kw_only=True)
class CatalogOptions:
    """Products, categories, channels, regions, discounts and margins.

    With a catalogue, :func:`customer_base` draws per customer a region, a
    favourite category, a preferred channel and a discount propensity
    ``d ~ Beta(*discount_propensity)``, and per purchase:

    - the category: the favourite with probability ``category_loyalty``, else
      drawn by ``category_shares`` (so products of one category are bought
      together by the same customers more often than chance);
    - the product within the category, with popularity proportional to
      1 / rank (product ``"<category>-01"`` is the most popular);
    - the channel: the preferred one with probability ``channel_loyalty``, else
      drawn by ``channel_shares``;
    - whether it was bought on discount, with probability d;
    - its margin: ``amount * (margin_rate[category] - discount_depth)`` on
      discount, ``amount * margin_rate[category]`` otherwise (a deep discount
      can make a sale lose money).

    Every row of the customer carries the region; survey answers and
    marketing touches are by e-mail, support contacts by phone.

    Orders of several items (baskets): with ``extra_items_mean`` above 0,
    every purchase (organic or campaign-induced) is an order of
    ``1 + Poisson(extra_items_mean)`` items, one purchase row each, sharing the
    customer, the timestamp, the channel, the discount flag and the campaign
    label; the table has no order id, so an order is the customer's purchase
    rows with one timestamp (``co_purchase(..., basket="order")``). The first
    item is drawn as above (with the default 0 the draws are exactly those of
    a single-item catalogue); each extra item draws its own category (the
    favourite with probability ``category_loyalty``) and product. The
    Gamma-Gamma amount of the purchase is the order total, split across its
    items in proportions drawn from a flat Dirichlet; each item's margin uses
    its own category's rate. So the order totals, the ``spend`` truth and
    :func:`crmcore.summarize` (which sums same-day rows) are those of the base
    without the extra items, while there are more purchase rows than orders.
    Survey answers and support contacts are drawn per order, as without
    baskets; refunds per item.

    Parameters
    ----------
    categories : tuple of str
        Category names.
    products_per_category : int
        Number of products in each category (1 to 100,000).
    category_shares : tuple of float, optional
        Relative popularity of the categories (default equal).
    margin_rates : tuple of float
        Margin as a fraction of the amount, per category (may be negative).
    category_loyalty : float
        Probability that a purchase is in the customer's favourite category.
    channels : tuple of Channel
        The sales channels.
    channel_shares : tuple of float, optional
        Relative use of the channels (default equal).
    channel_loyalty : float
        Probability that a purchase uses the customer's preferred channel.
    regions : tuple of str
        Region names.
    region_shares : tuple of float, optional
        Relative size of the regions (default equal).
    discount_propensity : (float, float)
        Beta parameters of the share of a customer's purchases made on discount.
    discount_depth : float
        Reduction of the margin rate on a discounted purchase, in [0, 1].
    extra_items_mean : float
        Mean number of items beyond the first in an order (Poisson),
        non-negative; default 0, one item per purchase.

    Examples
    --------
    >>> CatalogOptions().categories
    ('grocery', 'household', 'beauty', 'electronics', 'clothing')
    >>> CatalogOptions(margin_rates=(0.2,))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: CatalogOptions.margin_rates must have one rate per category ...
    """

    categories: tuple[str, ...] = attrs.field(
        default=("grocery", "household", "beauty", "electronics", "clothing"),
        converter=_to_tuple,
    )
    products_per_category: int = 8
    category_shares: tuple[float, ...] | None = attrs.field(
        default=(0.35, 0.2, 0.15, 0.1, 0.2),
        converter=_to_tuple,
    )
    margin_rates: tuple[float, ...] = attrs.field(
        default=(0.18, 0.25, 0.45, 0.12, 0.4), converter=_to_tuple
    )
    category_loyalty: float = 0.6
    channels: tuple[Channel, ...] = attrs.field(
        default=(Channel.STORE, Channel.ONLINE, Channel.MOBILE_APP, Channel.PHONE),
        converter=_to_tuple,
    )
    channel_shares: tuple[float, ...] | None = attrs.field(
        default=(0.5, 0.3, 0.15, 0.05), converter=_to_tuple
    )
    channel_loyalty: float = 0.8
    regions: tuple[str, ...] = attrs.field(
        default=("north", "south", "east", "west"), converter=_to_tuple
    )
    region_shares: tuple[float, ...] | None = attrs.field(
        default=(0.3, 0.3, 0.25, 0.15), converter=_to_tuple
    )
    discount_propensity: tuple[float, float] = attrs.field(default=(1.0, 6.0), converter=_to_tuple)
    discount_depth: float = 0.2
    extra_items_mean: float = 0.0

    def __attrs_post_init__(self) -> None:
        for label in ("categories", "margin_rates", "channels", "regions"):
            _require_tuple(getattr(self, label), f"CatalogOptions.{label}")
        for label in ("category_shares", "channel_shares", "region_shares"):
            if getattr(self, label) is not None:
                _require_tuple(getattr(self, label), f"CatalogOptions.{label}")
        _require_tuple(self.discount_propensity, "CatalogOptions.discount_propensity", length=2)
        n_cat = len(self.categories)
        if n_cat == 0 or not all(isinstance(c, str) and c for c in self.categories):
            raise InputError("CatalogOptions.categories must be one or more non-empty names")
        if len(set(self.categories)) != n_cat:
            raise InputError("CatalogOptions.categories must be distinct")
        val.check_int(
            self.products_per_category,
            "CatalogOptions.products_per_category",
            low=1,
            high=_MAX_PRODUCTS_PER_CATEGORY,
        )
        _check_shares(self.category_shares, n_cat, "CatalogOptions.category_shares", "categories")
        if len(self.margin_rates) != n_cat:
            raise InputError(
                f"CatalogOptions.margin_rates must have one rate per category ({n_cat}), "
                f"got {len(self.margin_rates)}"
            )
        for i, m in enumerate(self.margin_rates):
            val.check_float(m, f"CatalogOptions.margin_rates[{i}]", high=1.0)
        _check_probability(self.category_loyalty, "CatalogOptions.category_loyalty")
        if not self.channels:
            raise InputError("CatalogOptions.channels must name at least one channel")
        for c in self.channels:
            try:
                Channel(c)
            except ValueError as exc:
                allowed = ", ".join(m.value for m in Channel)
                raise InputError(
                    f"CatalogOptions.channels has an unknown channel {c!r}; allowed: {allowed}"
                ) from exc
        if len(set(self.channels)) != len(self.channels):
            raise InputError("CatalogOptions.channels must be distinct")
        _check_shares(
            self.channel_shares, len(self.channels), "CatalogOptions.channel_shares", "channels"
        )
        _check_probability(self.channel_loyalty, "CatalogOptions.channel_loyalty")
        if not self.regions or not all(isinstance(r, str) and r for r in self.regions):
            raise InputError("CatalogOptions.regions must be one or more non-empty names")
        if len(set(self.regions)) != len(self.regions):
            raise InputError("CatalogOptions.regions must be distinct")
        _check_shares(
            self.region_shares, len(self.regions), "CatalogOptions.region_shares", "regions"
        )
        _check_positive(self.discount_propensity[0], "CatalogOptions.discount_propensity[0]")
        _check_positive(self.discount_propensity[1], "CatalogOptions.discount_propensity[1]")
        _check_probability(self.discount_depth, "CatalogOptions.discount_depth")
        val.check_float(self.extra_items_mean, "CatalogOptions.extra_items_mean", low=0.0)

    @property
    def products(self) -> tuple[str, ...]:
        """Product labels, ``"<category>-<rank>"``, grouped by category.

        Examples
        --------
        >>> CatalogOptions(categories=("tea",), margin_rates=(0.3,), category_shares=None,
        ...                products_per_category=2).products
        ('tea-01', 'tea-02')
        """
        width = max(2, len(str(self.products_per_category)))
        return tuple(
            f"{c}-{k:0{width}d}"
            for c in self.categories
            for k in range(1, self.products_per_category + 1)
        )


@attrs.frozen(kw_only=True)
class CampaignOptions:
    """One marketing campaign with a randomised control group.

    At ``start + send_day`` days, each customer already acquired is selected
    with probability ``target_share``; a selected customer is held out as
    control with probability ``control_share``. Every selected customer gets a
    ``marketing`` row at the send time carrying the campaign name and
    ``in_control_group`` (control customers are not contacted: their row only
    records the assignment). Each contacted customer makes one extra,
    campaign-induced purchase with probability ``incremental_purchase_probability``,
    at a time uniform within ``response_days`` after the send (dropped when it
    falls after the end of observation); it is bought on discount, with an
    amount from the customer's Gamma-Gamma spend.

    Every purchase a selected customer makes within the response window
    carries the campaign name and the customer's group flag, so the uplift
    (mean purchases in the window, contacted minus control) is estimable from
    the table; its true value is ``incremental_purchase_probability`` extra
    purchases per contacted customer (before the end-of-observation cut).
    When windows of several campaigns overlap, a purchase is labelled with the
    first campaign (in the order given) that selected the customer.

    Campaign-induced purchases are outside the BG/NBD process: they are in the
    table (so a summary of it counts them) but not in the simulated histories.

    Parameters
    ----------
    name : str
        Campaign label.
    send_day : float
        Days after ``start`` when the campaign is sent (0 to 36,525).
    target_share, control_share, incremental_purchase_probability : float
        Probabilities in [0, 1].
    response_days : float
        Length of the response window, positive, at most 36,525 days.

    Examples
    --------
    >>> CampaignOptions(name="spring", send_day=120.0).control_share
    0.2
    """

    name: str
    send_day: float
    target_share: float = 0.5
    control_share: float = 0.2
    incremental_purchase_probability: float = 0.15
    response_days: float = 28.0

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InputError(f"CampaignOptions.name must be a non-empty string, got {self.name!r}")
        _check_days(self.send_day, "CampaignOptions.send_day")
        _check_probability(self.target_share, "CampaignOptions.target_share")
        _check_probability(self.control_share, "CampaignOptions.control_share")
        _check_probability(
            self.incremental_purchase_probability,
            "CampaignOptions.incremental_purchase_probability",
        )
        _check_days(self.response_days, "CampaignOptions.response_days", positive=True)


@attrs.frozen(kw_only=True)
class LeadOptions:
    """How :func:`customer_base` draws leads (客户开发): prospects, their sources and stages.

    Every customer of the base was first a lead: its first contact (a
    ``lead`` row with its source) comes ``cycle`` days before its first
    purchase, with the cycle drawn from a gamma distribution of mean
    ``cycle_days`` and shape ``cycle_shape``; ``qualified`` and ``proposal``
    opportunity rows follow at a third and two thirds of the cycle, and a
    ``won`` row at the first purchase. A customer's source is drawn with
    ``source_shares``.

    Prospects that do not convert come on top, with the ids after the
    customers' (``n_customers + 1``, ...): for a source with conversion rate
    ``c`` and ``k`` customers, their number is Poisson with mean
    ``k (1 - c) / c``, so that ``c`` is the expected share of the source's
    leads that convert (before the end of observation cuts the cycles). A
    prospect's first contact is uniform over the acquisition window shifted
    back by ``cycle_days``; with probability ``qualified_share`` it gets a
    ``qualified`` row, and a qualified prospect with probability
    ``proposal_share`` a ``proposal`` row after it; with probability
    ``lost_share`` the prospect gets a ``lost`` row. Each comes an
    exponential time (mean ``cycle_days``) after the step before (the
    ``lost`` row after the last stage reached); rows after the end of
    observation are dropped, so the prospect stays open.

    Parameters
    ----------
    sources : tuple of str
        The lead sources (non-empty, distinct).
    source_shares : tuple of float, optional
        Share of the customers from each source (non-negative, normalised);
        default equal shares.
    conversion : tuple of float
        Per source, the share of its leads that convert, in (0, 1].
    cycle_days : float
        Mean sales cycle in days (positive, at most 36,525).
    cycle_shape : float
        Shape of the gamma distribution of the cycle (positive).
    qualified_share, proposal_share, lost_share : float
        Probabilities in [0, 1] for the prospects that do not convert.

    Examples
    --------
    >>> LeadOptions().sources
    ('web', 'referral', 'trade_show', 'cold_call')
    >>> LeadOptions(conversion=(0.5, 0.5, 0.5, 0.0))
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: LeadOptions.conversion[3] must be > 0.0, got 0.0
    """

    sources: tuple[str, ...] = attrs.field(
        default=("web", "referral", "trade_show", "cold_call"), converter=_to_tuple
    )
    source_shares: tuple[float, ...] | None = attrs.field(
        default=(0.4, 0.2, 0.25, 0.15), converter=_to_tuple
    )
    conversion: tuple[float, ...] = attrs.field(
        default=(0.15, 0.45, 0.25, 0.05), converter=_to_tuple
    )
    cycle_days: float = 30.0
    cycle_shape: float = 2.0
    qualified_share: float = 0.4
    proposal_share: float = 0.5
    lost_share: float = 0.5

    def __attrs_post_init__(self) -> None:
        _require_tuple(self.sources, "LeadOptions.sources")
        if not self.sources or not all(isinstance(s, str) and s for s in self.sources):
            raise InputError("LeadOptions.sources must be one or more non-empty names")
        if len(set(self.sources)) != len(self.sources):
            raise InputError("LeadOptions.sources must be distinct")
        if self.source_shares is not None:
            _require_tuple(self.source_shares, "LeadOptions.source_shares")
        _check_shares(self.source_shares, len(self.sources), "LeadOptions.source_shares", "sources")
        _require_tuple(self.conversion, "LeadOptions.conversion")
        if len(self.conversion) != len(self.sources):
            raise InputError(
                f"LeadOptions.conversion must have one rate per source ({len(self.sources)}), "
                f"got {len(self.conversion)}"
            )
        for i, c in enumerate(self.conversion):
            val.check_float(c, f"LeadOptions.conversion[{i}]", low=0.0, high=1.0, low_open=True)
        _check_days(self.cycle_days, "LeadOptions.cycle_days", positive=True)
        _check_positive(self.cycle_shape, "LeadOptions.cycle_shape")
        _check_probability(self.qualified_share, "LeadOptions.qualified_share")
        _check_probability(self.proposal_share, "LeadOptions.proposal_share")
        _check_probability(self.lost_share, "LeadOptions.lost_share")
