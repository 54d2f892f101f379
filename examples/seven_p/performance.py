"""Performance (7P): sales by product, channel and region, and period over period.

On the shared simulated base (see ``_base.py``) this prints revenue, items sold
and margin rate by product category (and the five best-selling products), by
sales channel and by region, then the monthly revenue of 2024 with its change
month over month and year over year (crmcore.metrics.period_change), and the
two years' totals.

Run it with ``python examples/seven_p/performance.py``.
"""

from __future__ import annotations

import numpy as np
from _base import AS_OF, PURCHASE, START, channel_names, load, section

from crmcore.metrics import period_change


def breakdown(
    title: str, labels: np.ndarray, amounts: np.ndarray, margins: np.ndarray, *, total: float
) -> None:
    """Print revenue, share of ``total``, items sold and margin rate per label, largest first."""
    names, codes = np.unique(labels, return_inverse=True)
    revenue = np.bincount(codes, weights=amounts)
    margin = np.bincount(codes, weights=margins)
    count = np.bincount(codes)
    width = max(len(title), *(len(str(x)) for x in names))
    print(f"  {title:<{width}}      revenue   share      items  margin")
    for i in np.argsort(-revenue, kind="stable"):
        print(
            f"  {names[i]!s:<{width}}  {revenue[i]:11,.2f}  {revenue[i] / total:6.1%}"
            f"  {count[i]:9d}  {margin[i] / revenue[i]:6.1%}"
        )


def main() -> None:
    table = load().table
    assert table.products is not None
    assert table.categories is not None
    assert table.regions is not None
    assert table.channels is not None
    assert table.margins is not None
    buy = table.kinds == PURCHASE
    amounts, margins = table.amounts[buy], table.margins[buy]
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
    breakdown("category", table.categories[buy], amounts, margins, total=total)
    section("Best-selling products")
    products = table.products[buy]
    names, codes = np.unique(products, return_inverse=True)
    top = np.argsort(-np.bincount(codes, weights=amounts), kind="stable")[:5]
    keep = np.isin(products, names[top])
    breakdown("product", products[keep], amounts[keep], margins[keep], total=total)
    section("By channel")
    breakdown("channel", channel_names(table.channels[buy]), amounts, margins, total=total)
    section("By region")
    breakdown("region", table.regions[buy], amounts, margins, total=total)

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
