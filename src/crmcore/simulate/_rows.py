"""The rows of a simulated customer base, collected in blocks, and the options' rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import attrs
import numpy as np

from crmcore._typing import BoolArray, FloatArray, IntArray
from crmcore._validation import readonly as _ro
from crmcore.errors import InputError
from crmcore.records import Channel
from crmcore.table import InteractionTable

from ._common import (
    _CHANNEL_CODES,
    _COMPLAINT,
    _DAY_S,
    _LEAD,
    _MARKETING,
    _MAX_DAYS,
    _MAX_ROWS,
    _NS_PER_S,
    _OPPORTUNITY,
    _PURCHASE,
    _REFUND,
    _SCALES,
    _SUPPORT,
    _SURVEY,
    _categorical,
    _check_amounts,
    _check_shares,
    _days_to_ns,
    _uniform_open,
    _within,
)
from .options import (
    CampaignOptions,
    CatalogOptions,
    LeadOptions,
    RefundOptions,
    SupportOptions,
    SurveyOptions,
)


class _Block(NamedTuple):
    owner: IntArray
    times: IntArray
    kind: int
    amounts: FloatArray | None


class _Blocks:
    """Rows collected by kind, with the optional columns filled per block."""

    def __init__(self, n_customers: int) -> None:
        self.n_customers = n_customers
        self.blocks: list[_Block] = []
        self.columns: list[dict[str, np.ndarray[Any, Any]]] = []
        self.customer_columns: dict[str, np.ndarray[Any, Any]] = {}

    def add(
        self,
        owner: IntArray,
        times: IntArray,
        kind: int,
        *,
        amounts: FloatArray | None = None,
        **columns: np.ndarray[Any, Any],
    ) -> int:
        self.blocks.append(_Block(owner, times, kind, amounts))
        self.columns.append(dict(columns))
        return len(self.blocks) - 1

    def purchase_blocks(self) -> list[int]:
        return [i for i, b in enumerate(self.blocks) if b.kind == _PURCHASE]

    def table(
        self,
        *,
        catalog: CatalogOptions | None,
        campaigns: tuple[CampaignOptions, ...],
        surveys: bool,
        support: SupportOptions | None,
        leads: LeadOptions | None = None,
    ) -> InteractionTable:
        sizes = [b.owner.size for b in self.blocks]
        total = sum(sizes)

        def gather(name: str, fill: Any, dtype: Any) -> np.ndarray[Any, Any]:
            out = np.full(total, fill, dtype=dtype)
            pos = 0
            for cols, size in zip(self.columns, sizes, strict=True):
                if name in cols:
                    out[pos : pos + size] = cols[name]
                pos += size
            return out

        owner = np.concatenate([b.owner for b in self.blocks])
        times = np.concatenate([b.times for b in self.blocks]).view("datetime64[ns]")
        kinds = np.concatenate([np.full(b.owner.size, b.kind, dtype=np.int8) for b in self.blocks])
        amounts = np.concatenate(
            [np.zeros(b.owner.size) if b.amounts is None else b.amounts for b in self.blocks]
        )
        extra: dict[str, Any] = {}
        labels: dict[str, np.ndarray[Any, Any]] = {}
        if catalog is not None:
            channels = gather("channels", -1, np.int8)
            if (channels < 0).any():  # lead rows: no channel (-1, set after construction)
                labels["channels"] = channels
            else:
                extra["channels"] = channels
            labels["products"] = _labels(catalog.products, gather("product", -1, np.int32))
            labels["categories"] = _labels(catalog.categories, gather("category", -1, np.int16))
            # Prospects who never bought (ids after the customers') have no region.
            region = np.full(owner.size, -1, dtype=np.int64)
            known = owner < self.n_customers
            region[known] = self.customer_columns["region"][owner[known]]
            labels["regions"] = _labels(catalog.regions, region)
        if catalog is not None or support is not None:
            extra["margins"] = gather("margins", np.nan, np.float64)
        if catalog is not None or campaigns:
            extra["discounted"] = gather("discounted", False, np.bool_)
        if campaigns:
            names = tuple(c.name for c in campaigns)
            labels["campaigns"] = _labels(names, gather("campaign", -1, np.int16))
            extra["in_control_group"] = gather("in_control_group", False, np.bool_)
        if surveys:
            extra["survey_scores"] = gather("survey_scores", np.nan, np.float64)
            extra["survey_scale_min"] = gather("survey_scale_min", np.nan, np.float64)
            extra["survey_scale_max"] = gather("survey_scale_max", np.nan, np.float64)
            labels["survey_questions"] = _labels(
                tuple(_SCALES), gather("survey_question", -1, np.int16)
            )
        if support is not None:
            extra["resolved_at_first_contact"] = gather("resolved_at_first_contact", -1, np.int8)
            extra["response_times"] = gather(
                "response_times", np.timedelta64("NaT", "ns"), "timedelta64[ns]"
            )
        if leads is not None:
            extra["opportunity_stages"] = gather("opportunity_stages", -1, np.int8)
            labels["lead_sources"] = _labels(leads.sources, gather("lead_source", -1, np.int16))
        table = InteractionTable.from_arrays(
            owner + 1, times, kinds=kinds, amounts=amounts, **extra
        )
        if not labels:
            return table
        # The label columns are built here from valid codes; set them after
        # construction so that from_arrays does not copy these wide string
        # arrays a second time (at a million customers they are the bulk of
        # the memory).
        return attrs.evolve(table, **{k: _ro(a) for k, a in labels.items()})


def _labels(names: Sequence[str], codes: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Label per row from codes into ``names``; code -1 gives the empty string."""
    width = max(1, *(len(s) for s in names))
    table = np.asarray([*names, ""], dtype=f"<U{width}")
    return np.asarray(table[codes])


def _in_window(times: IntArray, lo: int, hi: int) -> BoolArray:
    return (times >= lo) & (times < hi)


def _add_campaigns(
    blocks: _Blocks,
    *,
    p_block: int,
    campaigns: tuple[CampaignOptions, ...],
    rng: np.random.Generator,
    first_i: IntArray,
    start_i: int,
    end_i: int,
    scale: FloatArray,
    p_shape: float,
) -> None:
    n = first_i.size
    organic = blocks.blocks[p_block]
    label = np.full(organic.owner.size, -1, dtype=np.int64)
    control_flag = np.zeros(organic.owner.size, dtype=np.bool_)
    for k, c in enumerate(campaigns):
        send = start_i + round(c.send_day * _DAY_S) * _NS_PER_S
        window_end = send + round(c.response_days * _DAY_S) * _NS_PER_S
        eligible = first_i < send
        selected = eligible & (rng.random(n) < c.target_share)
        control = selected & (rng.random(n) < c.control_share)
        members = np.flatnonzero(selected)
        blocks.add(
            members,
            np.full(members.size, send, dtype=np.int64),
            _MARKETING,
            campaign=np.full(members.size, k),
            in_control_group=control[members],
            channels=np.full(members.size, _CHANNEL_CODES[Channel.EMAIL], dtype=np.int8),
        )
        # Organic purchases of members inside the response window carry the label.
        hit = (label < 0) & selected[organic.owner] & _in_window(organic.times, send, window_end)
        label[hit] = k
        control_flag[hit] = control[organic.owner[hit]]
        # Campaign-induced purchases of contacted customers.
        treated = np.flatnonzero(selected & ~control)
        responds = treated[rng.random(treated.size) < c.incremental_purchase_probability]
        delay = _days_to_ns(rng.random(responds.size) * c.response_days)
        keep = delay <= end_i - send
        responds, when = responds[keep], send + delay[keep]
        with np.errstate(invalid="ignore", over="ignore"):
            amounts = rng.standard_gamma(p_shape, responds.size) * scale[responds]
        _check_amounts(amounts, responds)
        blocks.add(
            responds,
            when,
            _PURCHASE,
            amounts=amounts,
            campaign=np.full(responds.size, k),
            discounted=np.ones(responds.size, dtype=np.bool_),
        )
    blocks.columns[p_block]["campaign"] = label
    blocks.columns[p_block]["in_control_group"] = control_flag


def _add_catalog(
    blocks: _Blocks, catalog: CatalogOptions, rng: np.random.Generator
) -> dict[str, np.ndarray[Any, Any]]:
    n = blocks.n_customers
    n_cat = len(catalog.categories)
    cat_shares = _check_shares(catalog.category_shares, n_cat, "category_shares", "categories")
    ch_shares = _check_shares(
        catalog.channel_shares, len(catalog.channels), "channel_shares", "channels"
    )
    reg_shares = _check_shares(
        catalog.region_shares, len(catalog.regions), "region_shares", "regions"
    )
    region = _categorical(rng, reg_shares, n)
    favourite = _categorical(rng, cat_shares, n)
    preferred = _categorical(rng, ch_shares, n)
    propensity = rng.beta(*catalog.discount_propensity, n)
    blocks.customer_columns["region"] = region
    blocks.customer_columns["favourite"] = favourite
    channel_codes = np.array([_CHANNEL_CODES[Channel(c)] for c in catalog.channels], dtype=np.int8)
    k = catalog.products_per_category
    weights = 1.0 / np.arange(1, k + 1)
    within = np.cumsum(weights) / weights.sum()
    margin_rates = np.asarray(catalog.margin_rates, dtype=np.float64)
    for i in blocks.purchase_blocks():
        blk = blocks.blocks[i]
        cols = blocks.columns[i]
        m = blk.owner.size
        loyal = rng.random(m) < catalog.category_loyalty
        category = np.where(loyal, favourite[blk.owner], _categorical(rng, cat_shares, m))
        rank = np.minimum(np.searchsorted(within, rng.random(m), side="right"), k - 1)
        cols["category"] = category
        cols["product"] = category * k + rank
        stay = rng.random(m) < catalog.channel_loyalty
        channel = np.where(stay, preferred[blk.owner], _categorical(rng, ch_shares, m))
        cols["channels"] = channel_codes[channel]
        discounted = rng.random(m) < propensity[blk.owner]
        if "discounted" in cols:
            discounted |= cols["discounted"]
        cols["discounted"] = discounted
        assert blk.amounts is not None  # purchase blocks always carry amounts
        cols["margins"] = blk.amounts * (
            margin_rates[category] - catalog.discount_depth * discounted
        )
    return {
        "region": np.asarray(catalog.regions)[region],
        "favourite_category": np.asarray(catalog.categories)[favourite],
        "preferred_channel": np.asarray([Channel(c).value for c in catalog.channels])[preferred],
        "discount_propensity": propensity,
    }


def _add_baskets(blocks: _Blocks, catalog: CatalogOptions, rng: np.random.Generator) -> None:
    """Turn every purchase into an order of 1 + Poisson(extra_items_mean) items.

    The purchase row becomes the order's first item; the extra items are new
    purchase rows, one block per purchase block, appended at the end. The
    order total (the purchase's amount) is split across the items with flat
    Dirichlet weights, and every item's margin is recomputed from its share.
    """
    n_cat = len(catalog.categories)
    cat_shares = _check_shares(catalog.category_shares, n_cat, "category_shares", "categories")
    favourite = blocks.customer_columns["favourite"]
    k = catalog.products_per_category
    weights = 1.0 / np.arange(1, k + 1)
    within = np.cumsum(weights) / weights.sum()
    margin_rates = np.asarray(catalog.margin_rates, dtype=np.float64)
    depth = catalog.discount_depth
    purchase_blocks = blocks.purchase_blocks()
    extra_rows = sum(int(blocks.blocks[i].owner.size) for i in purchase_blocks)
    total_rows = sum(int(b.owner.size) for b in blocks.blocks)
    if total_rows + catalog.extra_items_mean * extra_rows > _MAX_ROWS:
        raise InputError(
            f"CatalogOptions.extra_items_mean={catalog.extra_items_mean!r} gives about "
            f"{total_rows + catalog.extra_items_mean * extra_rows:.3g} rows, more than "
            f"{_MAX_ROWS} can be simulated"
        )
    new: list[tuple[IntArray, IntArray, FloatArray, dict[str, np.ndarray[Any, Any]]]] = []
    for i in purchase_blocks:
        blk = blocks.blocks[i]
        cols = blocks.columns[i]
        assert blk.amounts is not None  # purchase blocks always carry amounts
        m = blk.owner.size
        extra = rng.poisson(catalog.extra_items_mean, m)
        parent = np.repeat(np.arange(m), extra)
        owner = blk.owner[parent]
        size = parent.size
        loyal = rng.random(size) < catalog.category_loyalty
        category = np.where(loyal, favourite[owner], _categorical(rng, cat_shares, size))
        rank = np.minimum(np.searchsorted(within, rng.random(size), side="right"), k - 1)
        # Flat Dirichlet shares of the order total: normalised exponentials.
        w_first = rng.standard_exponential(m)
        w_extra = rng.standard_exponential(size)
        w_order = w_first + np.bincount(parent, weights=w_extra, minlength=m)
        totals = blk.amounts.copy()
        amounts = totals[parent] * (w_extra / w_order[parent])
        # The first item takes the rest, so that the items add up to the order total.
        blk.amounts[:] = np.maximum(totals - np.bincount(parent, weights=amounts, minlength=m), 0.0)
        discounted = cols["discounted"]
        cols["margins"] = blk.amounts * (margin_rates[cols["category"]] - depth * discounted)
        columns: dict[str, np.ndarray[Any, Any]] = {
            "category": category,
            "product": category * k + rank,
            "channels": cols["channels"][parent],
            "discounted": discounted[parent],
            "margins": amounts * (margin_rates[category] - depth * discounted[parent]),
        }
        for name in ("campaign", "in_control_group"):
            if name in cols:
                columns[name] = cols[name][parent]
        new.append((owner, blk.times[parent], amounts, columns))
    for owner, times, amounts, columns in new:
        blocks.add(owner, times, _PURCHASE, amounts=amounts, **columns)


def _add_refunds(
    blocks: _Blocks, options: RefundOptions, rng: np.random.Generator, end_i: int
) -> None:
    """Refund rows for a random share of the purchase rows, within the observation."""
    new: list[tuple[IntArray, IntArray, FloatArray, dict[str, np.ndarray[Any, Any]]]] = []
    for i in blocks.purchase_blocks():
        blk = blocks.blocks[i]
        cols = blocks.columns[i]
        assert blk.amounts is not None  # purchase blocks always carry amounts
        hit = np.flatnonzero(rng.random(blk.owner.size) < options.probability)
        delay = _days_to_ns(_uniform_open(rng, hit.size) * options.delay_days)
        keep = _within(blk.times[hit], delay, end_i)
        hit, when = hit[keep], blk.times[hit[keep]] + delay[keep]
        columns: dict[str, np.ndarray[Any, Any]] = {
            name: cols[name][hit] for name in ("product", "category", "channels") if name in cols
        }
        if "margins" in cols:
            columns["margins"] = options.fraction * cols["margins"][hit]
        new.append((blk.owner[hit], when, options.fraction * blk.amounts[hit], columns))
    for owner, times, amounts, columns in new:
        blocks.add(owner, times, _REFUND, amounts=amounts, **columns)


def _purchase_rows(blocks: _Blocks) -> tuple[IntArray, IntArray]:
    idx = blocks.purchase_blocks()
    owner = np.concatenate([blocks.blocks[i].owner for i in idx])
    times = np.concatenate([blocks.blocks[i].times for i in idx])
    return owner, times


def _add_surveys(
    blocks: _Blocks, options: SurveyOptions, rng: np.random.Generator, end_i: int
) -> FloatArray:
    satisfaction = rng.beta(*options.satisfaction, blocks.n_customers)
    owner, times = _purchase_rows(blocks)
    answers = rng.random(owner.size) < options.response_rate
    who = owner[answers]
    delay = _days_to_ns(rng.random(who.size) * options.delay_days)
    keep = _within(times[answers], delay, end_i)
    who, when = who[keep], times[answers][keep] + delay[keep]
    lows = np.array([_SCALES[q][0] for q in options.questions], dtype=np.float64)
    highs = np.array([_SCALES[q][1] for q in options.questions], dtype=np.float64)
    question = rng.integers(0, len(options.questions), who.size)
    low, high = lows[question], highs[question]
    score = low + rng.binomial((high - low).astype(np.int64), satisfaction[who])
    label = np.array([tuple(_SCALES).index(q) for q in options.questions], dtype=np.int16)
    blocks.add(
        who,
        when,
        _SURVEY,
        survey_question=label[question],
        survey_scores=score,
        survey_scale_min=low,
        survey_scale_max=high,
        channels=np.full(who.size, _CHANNEL_CODES[Channel.EMAIL], dtype=np.int8),
    )
    return satisfaction


def _add_support(
    blocks: _Blocks, options: SupportOptions, rng: np.random.Generator, end_i: int
) -> None:
    owner, times = _purchase_rows(blocks)
    contacts = rng.random(owner.size) < options.contact_rate
    who = owner[contacts]
    delay = _days_to_ns(rng.random(who.size) * options.delay_days)
    keep = _within(times[contacts], delay, end_i)
    who, when = who[keep], times[contacts][keep] + delay[keep]
    complaint = rng.random(who.size) < options.complaint_share
    resolved = (rng.random(who.size) < options.first_contact_resolution).astype(np.int8)
    with np.errstate(over="ignore"):
        hours = options.median_response_hours * np.exp(
            options.response_sigma * rng.standard_normal(who.size)
        )
    if hours.size and not float(hours.max()) <= _MAX_DAYS * 24:
        raise InputError(
            f"the drawn support response times reach {float(hours.max()):.3g} hours, more than "
            f"{_MAX_DAYS:g} days; lower SupportOptions.median_response_hours "
            f"({options.median_response_hours!r}) or SupportOptions.response_sigma "
            f"({options.response_sigma!r})"
        )
    response = np.round(hours * 3600.0 * _NS_PER_S).astype(np.int64).view("timedelta64[ns]")
    phone = _CHANNEL_CODES[Channel.PHONE]
    for kind, mask in ((_SUPPORT, ~complaint), (_COMPLAINT, complaint)):
        count = int(mask.sum())
        blocks.add(
            who[mask],
            when[mask],
            kind,
            resolved_at_first_contact=resolved[mask],
            response_times=response[mask],
            margins=np.full(count, -options.cost_per_contact),
            channels=np.full(count, phone, dtype=np.int8),
        )


_QUALIFIED, _PROPOSAL, _WON, _LOST = (np.int8(i) for i in range(4))  # OpportunityStage codes


def _add_leads(
    blocks: _Blocks,
    leads: LeadOptions,
    rng: np.random.Generator,
    *,
    first_i: IntArray,
    start_i: int,
    acq_ns: int,
    end_i: int,
) -> tuple[IntArray, int]:
    """Lead and opportunity rows of the customers and of the prospects who never buy.

    Returns each customer's source code and the number of prospects added.
    """
    n = first_i.size
    k = len(leads.sources)
    shares = _check_shares(leads.source_shares, k, "LeadOptions.source_shares", "sources")
    source = _categorical(rng, shares, n)
    mean_s = leads.cycle_days * _DAY_S
    # Customers: contact, qualified, proposal, won (at the first purchase).
    cycle = rng.gamma(leads.cycle_shape, mean_s / leads.cycle_shape, n)
    cycle_ns = np.floor(cycle).astype(np.int64) * _NS_PER_S
    contact = first_i - cycle_ns
    who = np.arange(n, dtype=np.int64)
    blocks.add(who, contact, _LEAD, lead_source=source)
    for stage, frac in ((_QUALIFIED, 1.0 / 3.0), (_PROPOSAL, 2.0 / 3.0)):
        step = np.floor(cycle * frac).astype(np.int64) * _NS_PER_S
        blocks.add(who, contact + step, _OPPORTUNITY, opportunity_stages=np.full(n, stage))
    blocks.add(who, first_i.copy(), _OPPORTUNITY, opportunity_stages=np.full(n, _WON))
    # Prospects who do not convert, per source.
    won_per_source = np.bincount(source, minlength=k).astype(np.float64)
    conv = np.asarray(leads.conversion, dtype=np.float64)
    counts = rng.poisson(won_per_source * (1.0 - conv) / conv)
    m = int(counts.sum())
    if m == 0:
        return source, 0
    if n + m > _MAX_ROWS:
        raise InputError(
            f"the lead options give {m} prospects who never buy, more than can be simulated; "
            "raise LeadOptions.conversion"
        )
    p_source = np.repeat(np.arange(k, dtype=np.int64), counts)
    p_owner = n + np.arange(m, dtype=np.int64)
    window = acq_ns + round(mean_s) * _NS_PER_S
    offset = np.floor(rng.random(m) * (window / _NS_PER_S)).astype(np.int64) * _NS_PER_S
    p_contact = start_i - round(mean_s) * _NS_PER_S + offset
    seen = p_contact <= end_i
    blocks.add(p_owner[seen], p_contact[seen], _LEAD, lead_source=p_source[seen])
    # Each step comes an exponential time after the one before; a prospect that
    # reaches a step has reached the ones before it.
    last = p_contact
    reached = np.ones(m, dtype=np.bool_)
    for stage, share in ((_QUALIFIED, leads.qualified_share), (_PROPOSAL, leads.proposal_share)):
        reached &= rng.random(m) < share
        when = last + np.floor(rng.exponential(mean_s, m)).astype(np.int64) * _NS_PER_S
        last = np.where(reached, when, last)
        keep = reached & (when <= end_i)
        blocks.add(
            p_owner[keep],
            when[keep],
            _OPPORTUNITY,
            opportunity_stages=np.full(int(keep.sum()), stage),
        )
    lost = rng.random(m) < leads.lost_share
    when = last + np.floor(rng.exponential(mean_s, m)).astype(np.int64) * _NS_PER_S
    keep = lost & (when <= end_i)
    blocks.add(
        p_owner[keep], when[keep], _OPPORTUNITY, opportunity_stages=np.full(int(keep.sum()), _LOST)
    )
    return source, m
