"""Promotion (7P): response to each campaign against its control group.

On the shared simulated base (see ``_base.py``) four campaigns ran in 2024,
each with a randomised control group marked on its marketing rows. For every
campaign this prints, with crmcore.metrics.campaign_uplift, the share of
contacted and of control customers who bought within the campaign's response
window, the uplift in points with its 95% Newcombe interval, the relative
uplift and the extra buyers; then the revenue per customer in the window of
each group (from the purchases the table labels with the campaign) and the
incremental revenue.

Run it with ``python examples/seven_p/promotion.py``.
"""

from __future__ import annotations

import numpy as np
from _base import CAMPAIGNS, PURCHASE, START, load, section

from crmcore.metrics import campaign_uplift


def main() -> None:
    base = load()
    table = base.table
    assert table.campaigns is not None
    assert table.in_control_group is not None
    print(f"Promotion: {len(CAMPAIGNS)} campaigns to {table.n_customers} customers in 2024")

    section("Response: bought within the window after the mailing")
    print(
        f"  {'campaign':<8}  {'sent, window':<16}  {'treated':>7}  {'control':>7}"
        f"  {'bought':>6}  {'control':>7}  {'uplift':>6}  {'95% interval':>12}  {'rel.':>5}"
        f"  {'extra':>5}"
    )
    results = {}
    for c in CAMPAIGNS:
        r = campaign_uplift(table, campaign=c.name, window_days=c.response_days)
        results[c.name] = r
        sent = np.datetime64(START, "D") + np.timedelta64(round(c.send_day), "D")
        low, high = r.interval
        relative = "-" if r.relative_uplift is None else f"{r.relative_uplift:+.0%}"
        extra = r.incremental_responders
        print(
            f"  {c.name:<8}  {sent} +{c.response_days:2.0f}d  {r.n_treated:7d}  {r.n_control:7d}"
            f"  {r.treated_rate:6.1%}  {r.control_rate:7.1%}  {100 * r.uplift:+6.1f}"
            f"  {100 * low:+5.1f}..{100 * high:+5.1f}  {relative:>5}  {extra:5.0f}"
        )
    print("  (treated = contacted; uplift and its Newcombe interval in points;")
    print("   rel. = relative uplift; extra = uplift x treated, the added buyers)")
    significant = [name for name, r in results.items() if r.interval[0] > 0]
    print(f"  uplift above 0 at 95%: {', '.join(significant) or 'none'}")

    section("Revenue per customer in the window (purchases labelled with the campaign)")
    print("  campaign    treated   control   incremental per treated   in total")
    buy = table.kinds == PURCHASE
    for c in CAMPAIGNS:
        r = results[c.name]
        mine = buy & (table.campaigns == c.name)
        treated = table.amounts[mine & ~table.in_control_group].sum() / r.n_treated
        control = table.amounts[mine & table.in_control_group].sum() / r.n_control
        print(
            f"  {c.name:<8}  {treated:10.2f}  {control:8.2f}  {treated - control:24.2f}"
            f"  {(treated - control) * r.n_treated:9,.0f}"
        )
    print("  (the simulation adds one discounted purchase per contacted customer with")
    print(
        "   probability "
        + ", ".join(f"{c.incremental_purchase_probability:.2f} ({c.name})" for c in CAMPAIGNS)
        + ")"
    )


if __name__ == "__main__":
    main()
