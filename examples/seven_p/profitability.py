"""Profitability (7P): margin per customer, and the customers who cost money.

On the shared simulated base (see ``_base.py``) a customer's net margin is the
margin of their purchases (after discounts; refunds would be subtracted, but
the simulator draws none) minus the cost to serve their support contacts and
complaints (each row carries that cost as a negative margin). The script
prints the totals, the customers whose net margin is negative and why, ABC
tiers on the net margin (losses counted as 0), the share of the top 20% and the
Gini coefficient.

Run it with ``python examples/seven_p/profitability.py``.
"""

from __future__ import annotations

import numpy as np
from _base import AS_OF, PURCHASE, SUPPORT_KINDS, load, section

from crmcore.metrics import abc_classes, gini, historical_value, pareto_share


def main() -> None:
    table = load().table
    n = table.n_customers
    assert table.margins is not None
    assert table.discounted is not None
    revenue = historical_value(table, as_of=AS_OF, measure="amount").realised
    goods = historical_value(table, as_of=AS_OF, measure="margin").realised
    # historical_value counts purchases and refunds only; the cost to serve is added here.
    service = np.isin(table.kinds, SUPPORT_KINDS)
    cost = -np.bincount(table.customer_codes[service], weights=table.margins[service], minlength=n)
    contacts = np.bincount(table.customer_codes[service], minlength=n)
    net = goods - cost
    print(f"Profitability: {n} customers, to {AS_OF}")

    section("Totals")
    for label, value in (
        ("revenue", revenue.sum()),
        (f"margin on purchases ({goods.sum() / revenue.sum():.1%})", goods.sum()),
        (f"cost to serve ({contacts.sum()} contacts)", -cost.sum()),
        ("net margin", net.sum()),
    ):
        print(f"  {label:<32}{value:12,.2f}")

    section("Customers who cost money (net margin < 0)")
    losing = net < 0
    from_goods = losing & (goods < 0)
    print(
        f"  {int(losing.sum())} customers ({losing.mean():.1%}) lose {-net[losing].sum():,.2f} "
        f"in total"
    )
    print(f"    {int(from_goods.sum())} of them already lose money on their purchases (discounts)")
    print(f"    {int((losing & ~from_goods).sum())} lose it on the cost to serve")
    buy = table.kinds == PURCHASE
    n_buys = np.bincount(table.customer_codes[buy], minlength=n)
    on_discount = np.bincount(
        table.customer_codes[buy], weights=table.discounted[buy].astype(float), minlength=n
    )
    print("                     customers  purchases  on discount  contacts  revenue")
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

    section("Concentration")
    print(f"  top 20% of customers earn {pareto_share(earned, top=0.2):.1%} of the margin earned")
    print(f"  top 1% earn {pareto_share(earned, top=0.01):.1%}")
    print(f"  Gini: net margin (losses as 0) {gini(earned):.3f}, revenue {gini(revenue):.3f}")


if __name__ == "__main__":
    main()
