"""Customer value report on a simulated customer base.

A fixed-seed base of 3,000 customers buys from a catalogue (products,
categories, discounts and margins) over 2023-2024, and one campaign with a
randomised control group runs in spring 2024. The report shows:

- value and tiering: realised margin (compounded at 8% a year), ABC classes,
  the 80/20 share, Gini and Lorenz points, Curry's pyramid, spend tiers, the
  value matrix, buyer types, and lifetime value by the margin multiple;
- change over time: month-over-month and year-over-year revenue, new,
  reactivated, repeating and lapsed customers, and the revenue tree;
- products and promotion: products bought together, and the campaign's uplift.

Run it with ``python examples/value.py``.
"""

from __future__ import annotations

import numpy as np

from crmcore import InteractionKind
from crmcore.metrics import (
    VALUE_QUADRANTS,
    SpendThresholds,
    abc_classes,
    buyer_type,
    campaign_uplift,
    clv_margin_multiple,
    co_purchase,
    gini,
    historical_value,
    lorenz_curve,
    new_lapsed_repeating,
    pareto_share,
    period_change,
    pyramid,
    revenue_tree,
    spend_tiers,
    value_matrix,
)
from crmcore.simulate import CampaignOptions, CatalogOptions, customer_base
from crmcore.table import KIND_CODES

SEED = 7
AS_OF = "2024-12-31"


def section(title: str) -> None:
    print()
    print(title)
    print("-" * len(title))


def main() -> None:
    base = customer_base(
        3_000,
        start="2023-01-01",
        observation_end=AS_OF,
        acquisition_days=540.0,
        catalog=CatalogOptions(),
        campaigns=(CampaignOptions(name="spring", send_day=450.0, response_days=28.0),),
        rng=SEED,
    )
    table = base.table
    purchases = table.kinds == KIND_CODES[InteractionKind.PURCHASE]
    print(f"Customers: {table.n_customers}, purchases: {int(purchases.sum())}, as of {AS_OF}")

    section("Realised value (margin, compounded at 8% a year)")
    realised = historical_value(table, observation_end=AS_OF, rate=0.08)
    margin = realised.value
    revenue = historical_value(table, observation_end=AS_OF, measure="amount").realised
    losing = margin < 0
    print(f"  total margin {margin.sum():,.0f}; {int(losing.sum())} customers cost money")

    section("ABC classes by margin (losses counted as 0)")
    abc = abc_classes(np.clip(margin, 0.0, None))
    n = table.n_customers
    for label, count, share in zip("ABC", abc.class_counts, abc.class_shares, strict=True):
        print(f"  {label}: {count:5d} customers ({100 * count / n:4.1f}%) hold {100 * share:4.1f}%")
    top20 = pareto_share(np.clip(margin, 0.0, None), top=0.2)
    print(f"  top 20% of customers hold {100 * top20:.1f}% of the margin")
    print(f"  Gini of revenue {gini(revenue):.3f}, of margin {gini(np.clip(margin, 0, None)):.3f}")
    curve = lorenz_curve(revenue)
    points = np.interp([0.5, 0.8, 0.9], curve.population_share, curve.value_share)
    print(
        "  Lorenz: the bottom 50% / 80% / 90% of customers bring "
        + " / ".join(f"{100 * p:.1f}%" for p in points)
        + " of revenue"
    )

    section("Customer pyramid by revenue (Curry: top 1%, big 4%, medium 15%, small 80%)")
    layers = pyramid(revenue)
    for name, count, share in zip(
        layers.band_names, layers.counts, layers.value_shares, strict=True
    ):
        print(f"  {name:<7} {count:5d} customers, {100 * share:5.1f}% of revenue")

    section("Spend tiers (silver: 500 and 0.5 purchases a month; VIP: 2,000 and 1)")
    first = base.first_purchase.astype("datetime64[D]")
    months = (np.datetime64(AS_OF, "D") - first).astype(np.float64) / 30.4375
    n_purchases = np.bincount(table.customer_codes[purchases], minlength=n)
    per_month = n_purchases / np.maximum(months, 1.0)
    thresholds = SpendThresholds(
        silver_spend=500, silver_frequency=0.5, vip_spend=2000, vip_frequency=1.0
    )
    tiers = spend_tiers(revenue, purchase_frequency=per_month, thresholds=thresholds)
    for tier in ("vip", "silver", "ordinary"):
        print(f"  {tier:<8} {int((tiers == tier).sum()):5d}")

    section("Value matrix: margin so far x expected margin next year")
    # The potential would come from a fitted model; here the simulation's true purchase rate
    # (per week), alive flag and mean spend stand in for it, at the base's mean margin rate.
    rate = float(margin.sum() / revenue.sum())
    alive = base.histories.alive
    potential = base.histories.lam * 52.0 * alive * base.spend.monetary_value * rate
    matrix = value_matrix(margin, potential)
    for quadrant, count in zip(VALUE_QUADRANTS, matrix.counts, strict=True):
        print(f"  {quadrant:<28} {count:5d}")

    section("Buyer types (electronics launched on 2024-03-01)")
    assert table.products is not None
    is_electronics = np.char.startswith(table.products.astype(str), "electronics")
    before_launch = is_electronics & (table.times < np.datetime64("2024-03-01", "ns"))
    launched = table.select(~before_launch)
    assert launched.products is not None
    electronics = np.unique(
        launched.products[np.char.startswith(launched.products.astype(str), "electronics")]
    )
    buyers = buyer_type(launched, launch_dates=dict.fromkeys(electronics.tolist(), "2024-03-01"))
    kinds, counts = np.unique(buyers.labels, return_counts=True)
    for kind, count in zip(kinds, counts, strict=True):
        print(f"  {kind:<15} {count:5d}")

    section("Lifetime value by the margin multiple (margin 100 a year, discount rate 10%)")
    print("  retention   infinite   5 years   paid up front")
    for r in (0.6, 0.7, 0.8, 0.9):
        print(
            f"  {r:9.0%} {clv_margin_multiple(100.0, r, 0.1):10.1f} "
            f"{clv_margin_multiple(100.0, r, 0.1, horizon=5):9.1f} "
            f"{clv_margin_multiple(100.0, r, 0.1, timing='start'):15.1f}"
        )

    section("Change over time")
    first_month = np.datetime64("2023-01", "M")
    months = np.arange(first_month, np.datetime64("2025-01", "M"))
    month_index = (table.times[purchases].astype("datetime64[M]") - first_month).astype(int)
    monthly = np.bincount(month_index, weights=table.amounts[purchases], minlength=months.size)
    mom = period_change(monthly)
    yoy = period_change(monthly, lag=12)
    print("  month     revenue   vs last month   vs a year ago")
    for i in range(21, 24):
        print(
            f"  {months[i]}  {monthly[i]:8.0f}   {100 * mom.relative[i - 1]:+12.1f}%"
            f"   {100 * yoy.relative[i - 12]:+12.1f}%"
        )
    q3, q4 = ("2024-07-01", "2024-10-01"), ("2024-10-01", "2025-01-01")
    flow = new_lapsed_repeating(table, q3, q4)
    print(
        f"  2024 Q3 -> Q4: {flow.n_repeating} repeating, {flow.n_lapsed} lapsed, "
        f"{flow.n_reactivated} reactivated, {flow.n_new} new customers"
    )
    repeating = flow.revenue_repeating_2 - flow.revenue_repeating_1
    gained = flow.revenue_new + flow.revenue_reactivated
    print(
        f"  revenue {flow.revenue_1:,.0f} -> {flow.revenue_2:,.0f}: "
        f"lapsed -{flow.revenue_lapsed:,.0f}, repeating {repeating:+,.0f}, "
        f"new and reactivated +{gained:,.0f}"
    )
    tree = revenue_tree(table, "2023", "2024")
    print(f"  revenue tree, 2023 -> 2024 (change {tree.change:+,.0f}):")
    print(
        f"    customers          {tree.n_customers_1:8d} -> {tree.n_customers_2:8d}"
        f"   {tree.contribution_customers:+10,.0f}"
    )
    print(
        f"    orders / customer  {tree.orders_per_customer_1:8.2f} -> "
        f"{tree.orders_per_customer_2:8.2f}   {tree.contribution_orders_per_customer:+10,.0f}"
    )
    print(
        f"    spend / order      {tree.spend_per_order_1:8.2f} -> "
        f"{tree.spend_per_order_2:8.2f}   {tree.contribution_spend_per_order:+10,.0f}"
    )

    section("Products bought by the same customers (by lift, pairs of 20+ customers)")
    pairs = co_purchase(table, basket="customer", min_count=20)
    best = np.argsort(-pairs.lift, kind="stable")[:5]
    for i in best:
        print(
            f"  {pairs.item_a[i]:<16} + {pairs.item_b[i]:<16} {pairs.n_together[i]:4d} customers"
            f"  lift {pairs.lift[i]:.2f}  confidence {pairs.confidence_a_to_b[i]:.2f}"
        )

    section("Campaign 'spring': purchase within 28 days of the mailing")
    uplift = campaign_uplift(table, campaign="spring", window_days=28.0)
    low, high = uplift.interval
    print(
        f"  treated {100 * uplift.treated_rate:.1f}% of {uplift.n_treated}, control "
        f"{100 * uplift.control_rate:.1f}% of {uplift.n_control}"
    )
    print(
        f"  uplift {100 * uplift.uplift:+.1f} points, 95% Newcombe interval "
        f"[{100 * low:+.1f}, {100 * high:+.1f}], about {uplift.incremental_responders:.0f} "
        "extra buyers"
    )


if __name__ == "__main__":
    main()
