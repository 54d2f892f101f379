"""Performance (7P): sales by product, channel and region, and period over period.

On the shared simulated base (see ``_base.py``) this prints revenue, its share,
buying customers, orders, items sold and margin rate by product category (and
the five best-selling products), by sales channel and by region
(crmcore.metrics.sales_breakdown), then the monthly revenue of 2024 with its
change month over month and year over year (crmcore.metrics.period_change),
and the two years' totals.

Run it with ``python examples/seven_p/performance.py``.
"""

from __future__ import annotations

import numpy as np
from _base import AS_OF, PURCHASE, START, load, section

from crmcore.metrics import SalesBreakdown, period_change, sales_breakdown


def show(result: SalesBreakdown, *, top: int | None = None) -> None:
    """Print one line per group of a sales breakdown, largest revenue first."""
    assert result.margin_rates is not None
    labels = [str(x) or "(unknown)" for x in result.labels.tolist()]
    width = max(len(result.by), *(len(x) for x in labels))
    print(f"  {result.by:<{width}}      revenue   share  customers     orders      items  margin")
    for i in range(len(labels) if top is None else min(top, len(labels))):
        print(
            f"  {labels[i]:<{width}}  {result.revenue[i]:11,.2f}  {result.revenue_shares[i]:6.1%}"
            f"  {result.n_customers[i]:9d}  {result.n_purchases[i]:9d}  {result.n_items[i]:9d}"
            f"  {result.margin_rates[i]:6.1%}"
        )


def main() -> None:
    table = load().table
    buy = table.kinds == PURCHASE
    amounts = table.amounts[buy]
    # An order is a customer's purchase rows (items) with one timestamp.
    n_orders = np.unique(
        np.stack([table.customer_codes[buy], table.times[buy].view(np.int64)]), axis=1
    ).shape[1]
    print(
        f"Performance: {int(buy.sum())} items in {n_orders} orders by {table.n_customers} "
        f"customers, to {AS_OF}"
    )
    total = float(amounts.sum())
    print(f"  total revenue {total:,.2f}, mean order {total / n_orders:.2f} (before refunds)")

    section("By product category")
    show(sales_breakdown(table, "category"))
    section("Best-selling products")
    show(sales_breakdown(table, "product"), top=5)
    section("By channel")
    show(sales_breakdown(table, "channel"))
    section("By region")
    show(sales_breakdown(table, "region"))

    section("Monthly revenue, month over month and year over year")
    first = np.datetime64(START, "M")
    months = np.arange(first, np.datetime64(AS_OF, "M") + 1)
    index = (table.times[buy].astype("datetime64[M]") - first).astype(np.int64)
    monthly = np.bincount(index, weights=amounts, minlength=months.size)
    mom = period_change(monthly, lag=1)
    yoy = period_change(monthly, lag=12)
    print("  month        revenue  vs month before  vs year before")
    for i in range(12, months.size):
        print(
            f"  {months[i]}  {monthly[i]:11,.2f}  {mom.relative[i - 1]:+15.1%}"
            f"  {yoy.relative[i - 12]:+14.1%}"
        )
    years = period_change([monthly[:12].sum(), monthly[12:].sum()])
    print(
        f"  year 2023 {years.base[0]:,.2f} -> 2024 {years.current[0]:,.2f} "
        f"({years.relative[0]:+.1%}: 2023 was the year of acquisition)"
    )


if __name__ == "__main__":
    main()
