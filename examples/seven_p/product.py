"""Product (7P): which products are bought together.

On the shared simulated base (see ``_base.py``) this counts, with
crmcore.metrics.co_purchase, the pairs of products bought by the same
customer (the basket is everything a customer bought in 2023-2024), with
support, confidence and lift: the most frequent pairs, the pairs with the
highest lift among those of 25 customers or more, and the same for the five
categories. The simulator writes one product per purchase and draws the
products of one day independently, so same-day baskets carry no pattern
(their count is printed for comparison); the pattern it does build in is
category loyalty, which shows up as lift above 1 within a category and below
1 across categories.

Run it with ``python examples/seven_p/product.py``.
"""

from __future__ import annotations

import numpy as np
from _base import load, section

from crmcore.metrics import CoPurchase, co_purchase

MIN_CUSTOMERS = 25


def show(pairs: CoPurchase, rows: np.ndarray, unit: str) -> None:
    """Print the given pairs: customers buying both, support, confidence both ways, lift."""
    print(f"  {'pair':<32} {unit:>9}  support  conf a>b  conf b>a   lift")
    for i in rows:
        pair = f"{pairs.item_a[i]} + {pairs.item_b[i]}"
        print(
            f"  {pair:<32} {pairs.n_together[i]:9d}  {pairs.support[i]:7.3f}"
            f"  {pairs.confidence_a_to_b[i]:8.3f}  {pairs.confidence_b_to_a[i]:8.3f}"
            f"  {pairs.lift[i]:5.2f}"
        )


def main() -> None:
    table = load().table
    pairs = co_purchase(table, by="products", basket="customer")
    same_day = co_purchase(table, by="products", basket="occasion")
    print(
        f"Product: {pairs.items.size} products, {pairs.n_baskets} customers, "
        f"{pairs.lift.size} product pairs bought by the same customer"
    )
    print(
        f"  (for comparison: {same_day.n_baskets} same-day baskets hold only "
        f"{int(same_day.n_together.sum())} pairs of products)"
    )

    section("Most frequent pairs (customers who bought both)")
    show(pairs, np.arange(min(8, pairs.lift.size)), "customers")

    section(f"Highest lift, pairs bought by {MIN_CUSTOMERS}+ customers")
    common = co_purchase(table, by="products", basket="customer", min_count=MIN_CUSTOMERS)
    show(common, np.argsort(-common.lift, kind="stable")[:8], "customers")

    category = np.char.partition(common.item_a.astype(str), "-")[:, 0]
    within = category == np.char.partition(common.item_b.astype(str), "-")[:, 0]
    print(
        f"  median lift of the {int(within.sum())} pairs within a category "
        f"{np.median(common.lift[within]):.2f}, of the {int((~within).sum())} across categories "
        f"{np.median(common.lift[~within]):.2f}"
    )

    section("Categories bought by the same customers")
    categories = co_purchase(table, by="categories", basket="customer")
    show(categories, np.arange(categories.lift.size), "customers")


if __name__ == "__main__":
    main()
