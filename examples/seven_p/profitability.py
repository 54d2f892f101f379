"""Profitability (7P): margin per customer, and the customers who cost money.

On the shared simulated base (see ``_base.py``) a customer's net margin is the
margin of their purchases (after discounts), minus the margin given back by
their refunds (a refund row carries the margin of the returned item), minus the
cost to serve their support contacts and complaints (each row carries that cost
as a negative margin). The script prints the totals (revenue before and after
refunds), the customers whose net margin is negative and why, ABC tiers on the
net margin (losses counted as 0), the value tiers VIP / key / ordinary on the
net margin with losses kept (crmcore.metrics.value_tiers and
class_value_share), the share of the top 20% and the Gini coefficient.

Run it with ``python examples/seven_p/profitability.py``.
"""

from __future__ import annotations

import numpy as np
from _base import AS_OF, PURCHASE, REFUND, SUPPORT_KINDS, load, section

from crmcore.metrics import (
    VALUE_TIERS,
    abc_classes,
    class_value_share,
    gini,
    historical_value,
    pareto_share,
    value_tiers,
)


def main() -> None:
    table = load().table
    n = table.n_customers
    assert table.margins is not None
    assert table.discounted is not None
    codes = table.customer_codes
    revenue = historical_value(
        table, observation_end=AS_OF, measure="amount", refunds="ignore"
    ).realised
    net_revenue = historical_value(table, observation_end=AS_OF, measure="amount").realised
    refunded = revenue - net_revenue
    # Margin of the purchases before refunds. A refund gives back the margin of the item
    # returned, with its sign (returning an item sold at a loss gives the loss back), while
    # historical_value subtracts the absolute value of a refund's margin; so the margin of
    # the refunds is summed here, like the cost to serve (historical_value counts purchases
    # and refunds only).
    sold = historical_value(
        table, observation_end=AS_OF, measure="margin", refunds="ignore"
    ).realised
    refunds = table.kinds == REFUND
    given_back = np.bincount(codes[refunds], weights=table.margins[refunds], minlength=n)
    goods = sold - given_back
    service = np.isin(table.kinds, SUPPORT_KINDS)
    cost = -np.bincount(codes[service], weights=table.margins[service], minlength=n)
    contacts = np.bincount(codes[service], minlength=n)
    net = goods - cost
    print(f"Profitability: {n} customers, to {AS_OF}")

    section("Totals")
    for label, value in (
        ("revenue", revenue.sum()),
        (
            f"refunds ({int(refunds.sum())} items, {refunded.sum() / revenue.sum():.1%})",
            -refunded.sum(),
        ),
        ("revenue after refunds", net_revenue.sum()),
        (f"margin on purchases ({sold.sum() / revenue.sum():.1%})", sold.sum()),
        ("margin given back by refunds", -given_back.sum()),
        (f"cost to serve ({contacts.sum()} contacts)", -cost.sum()),
        ("net margin", net.sum()),
    ):
        print(f"  {label:<32}{value:12,.2f}")

    section("Customers who cost money (net margin < 0)")
    # Losing at least a cent: a customer who returned everything nets 0 up to round-off.
    losing = net < -0.005
    from_goods = losing & (goods < 0)
    print(
        f"  {int(losing.sum())} customers ({losing.mean():.1%}) lose {-net[losing].sum():,.2f} "
        f"in total"
    )
    print(
        f"    {int(from_goods.sum())} of them already lose money on their purchases "
        "(discounts, net of refunds)"
    )
    print(f"    {int((losing & ~from_goods).sum())} lose it on the cost to serve")
    buy = table.kinds == PURCHASE
    n_buys = np.bincount(table.customer_codes[buy], minlength=n)
    on_discount = np.bincount(
        table.customer_codes[buy], weights=table.discounted[buy].astype(float), minlength=n
    )
    print("                     customers      items  on discount  contacts  revenue")
    for label, rows in (("cost money", losing), ("earn money", ~losing)):
        print(
            f"  {label:<18} {int(rows.sum()):9d}  {n_buys[rows].mean():9.2f}"
            f"  {on_discount[rows].sum() / n_buys[rows].sum():11.1%}"
            f"  {contacts[rows].mean():8.2f}  {revenue[rows].mean():7.2f}"
        )

    section("ABC tiers on net margin (losses counted as 0; cutoffs 80% / 95%)")
    earned = np.clip(net, 0.0, None)
    abc = abc_classes(earned)
    print("  tier  customers   share   of margin   mean margin")
    for tier, count, share in zip("ABC", abc.class_counts, abc.class_shares, strict=True):
        mean = net[abc.labels == tier].mean()
        print(f"  {tier:>4}  {count:9d}  {count / n:6.1%}  {share:10.1%}  {mean:12.2f}")
    print(f"  (tier C includes the {int(losing.sum())} customers who cost money)")

    section("Value tiers on net margin (VIP 1%, key 4%, ordinary the rest; losses kept)")
    tiers = value_tiers(net)
    worth = class_value_share(tiers.labels, net, classes=VALUE_TIERS)
    print("  tier      customers   share   of net margin   loss-making")
    for k, tier in enumerate(VALUE_TIERS):
        in_tier = tiers.labels == tier
        print(
            f"  {tier:<8}  {worth.n_customers[k]:9d}  {worth.customer_shares[k]:6.1%}"
            f"  {worth.value_shares[k]:14.1%}  {int(tiers.loss_making[in_tier].sum()):12d}"
        )

    section("Concentration")
    print(f"  top 20% of customers earn {pareto_share(earned, top=0.2):.1%} of the margin earned")
    print(f"  top 1% earn {pareto_share(earned, top=0.01):.1%}")
    print(f"  Gini: net margin (losses as 0) {gini(earned):.3f}, revenue {gini(revenue):.3f}")


if __name__ == "__main__":
    main()
