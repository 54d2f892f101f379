"""The one simulated customer base behind the seven 7P scripts, and a few print helpers.

4,000 customers are acquired through 2023 and observed to the end of 2024. They
buy from the default catalogue (five categories of eight products, four sales
channels, four regions, discounts and margins) in orders of 1 + Poisson(1.2)
items (the items of one order share the customer and the timestamp; the order
total is the simulator's Gamma-Gamma spend, split across the items), return
some purchases for a full refund, contact support and complain (each contact
costs money), and four campaigns with randomised control groups run in 2024.
Each customer has a source (end customer, dealer, public body, ...), drawn by
the simulator with SOURCE_SHARES, independently of behaviour. The seed is
fixed, so every script sees exactly the same base. :func:`load_with_leads`
adds the acquisition funnel (LEADS: every customer's lead row, source and
opportunity stages, plus the prospects who never bought); the simulator draws
the leads from a stream of their own, so the customers' rows are those of
:func:`load`.

This module is imported by the scripts next to it (their own directory is on
``sys.path`` when they run as ``python examples/seven_p/<name>.py``); it is not
meant to be run.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from crmcore import Channel, CustomerSource, CustomerSummary, InteractionKind
from crmcore.metrics import rfm_scores, rfm_segments
from crmcore.simulate import (
    CampaignOptions,
    CatalogOptions,
    LeadOptions,
    RefundOptions,
    SimulatedCustomerBase,
    SupportOptions,
    customer_base,
)
from crmcore.table import KIND_CODES

SEED = 2024
N_CUSTOMERS = 4_000
START = "2023-01-01"
#: End of observation: the last second of 2024, so that December is a whole month.
AS_OF = "2024-12-31T23:59:59"
ACQUISITION_DAYS = 365.0
CAMPAIGNS = (
    CampaignOptions(
        name="new-year",
        send_day=380.0,
        target_share=0.5,
        control_share=0.2,
        incremental_purchase_probability=0.10,
        response_days=21.0,
    ),
    CampaignOptions(
        name="spring",
        send_day=455.0,
        target_share=0.6,
        control_share=0.2,
        incremental_purchase_probability=0.20,
        response_days=28.0,
    ),
    CampaignOptions(
        name="summer",
        send_day=545.0,
        target_share=0.4,
        control_share=0.25,
        incremental_purchase_probability=0.02,
        response_days=28.0,
    ),
    CampaignOptions(
        name="autumn",
        send_day=640.0,
        target_share=0.5,
        control_share=0.1,
        incremental_purchase_probability=0.12,
        response_days=28.0,
    ),
)
SUPPORT = SupportOptions(contact_rate=0.12, cost_per_contact=8.0)
#: Orders hold 1 + Poisson(EXTRA_ITEMS_MEAN) items.
EXTRA_ITEMS_MEAN = 1.2
#: Each purchased item is refunded in full with probability 4%, within 30 days.
REFUNDS = RefundOptions(probability=0.04, fraction=1.0, delay_days=30.0)
#: Shares of the customer sources drawn by the simulator.
SOURCE_SHARES = {
    CustomerSource.CONSUMER: 0.72,
    CustomerSource.DISTRIBUTOR: 0.04,
    CustomerSource.DEALER: 0.08,
    CustomerSource.RESELLER: 0.06,
    CustomerSource.INTERNAL: 0.04,
    CustomerSource.PUBLIC: 0.06,
}

#: Lead sources, the share of the customers won from each, and each source's conversion.
LEADS = LeadOptions(
    sources=("web", "referral", "trade_show", "cold_call"),
    source_shares=(0.4, 0.2, 0.25, 0.15),
    conversion=(0.15, 0.45, 0.25, 0.05),
    cycle_days=30.0,
)

PURCHASE = KIND_CODES[InteractionKind.PURCHASE]
REFUND = KIND_CODES[InteractionKind.REFUND]
SUPPORT_KINDS = (KIND_CODES[InteractionKind.SUPPORT], KIND_CODES[InteractionKind.COMPLAINT])
CHANNELS = tuple(Channel)


@functools.cache
def load() -> SimulatedCustomerBase:
    """Return the simulated base (drawn once per process)."""
    return _draw(None)


@functools.cache
def load_with_leads() -> SimulatedCustomerBase:
    """Return the simulated base with its leads (the customers' rows are those of load())."""
    return _draw(LEADS)


def _draw(leads: LeadOptions | None) -> SimulatedCustomerBase:
    return customer_base(
        N_CUSTOMERS,
        start=START,
        observation_end=AS_OF,
        acquisition_days=ACQUISITION_DAYS,
        catalog=CatalogOptions(extra_items_mean=EXTRA_ITEMS_MEAN),
        support=SUPPORT,
        campaigns=CAMPAIGNS,
        refunds=REFUNDS,
        source_shares=SOURCE_SHARES,
        leads=leads,
        rng=SEED,
    )


def segments(summary: CustomerSummary) -> np.ndarray:
    """RF-grid segment per customer; F1..F5 = 1, 2, 3, 4-5, 6+ purchase occasions.

    Over 40% of the customers bought once, so frequency quintiles would
    coincide (and rfm_scores would warn that a score is empty): frequency gets
    fixed cut points, recency and spend their quintiles.
    """
    quintiles = (0.2, 0.4, 0.6, 0.8)
    edges = (
        np.quantile(summary.time_since_last, quintiles),
        [1, 2, 3, 5],
        np.quantile(summary.total_spend, quintiles),
    )
    return rfm_segments(rfm_scores(summary, method=edges))


def channel_names(codes: np.ndarray) -> np.ndarray:
    """Channel value per InteractionTable channel code (-1, unknown, gives "")."""
    names = np.array([c.value for c in CHANNELS] + [""])
    return names[codes]


def section(title: str) -> None:
    """Print a heading underlined with dashes."""
    print()
    print(title)
    print("-" * len(title))


def share_table(
    labels: Sequence[str],
    values: np.ndarray,
    *,
    header: str,
    unit: str = "",
    keep_order: bool = False,
) -> None:
    """Print one line per label (largest first unless ``keep_order``) with its share."""
    total = float(np.sum(values))
    width = max(len(header), *(len(str(x)) for x in labels))
    order = range(len(labels)) if keep_order else np.argsort(-np.asarray(values), kind="stable")
    print(f"  {header:<{width}}  {unit:>12}   share")
    for i in order:
        label, value = labels[i], values[i]
        print(f"  {label!s:<{width}}  {value:12,.0f}  {100 * value / total:5.1f}%")
