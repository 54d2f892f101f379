"""Product (7P): which products are bought together.

On the shared simulated base (see ``_base.py``) this counts, with
crmcore.metrics.co_purchase, the pairs of products bought together, with
support, confidence and lift, for two meanings of "together": by the same
customer (the basket is everything a customer bought in 2023-2024: cross-selling
over time) and in the same order (the basket is one order, the customer's
items with one timestamp: market-basket analysis). For each it prints the most
frequent pairs and the pairs with the highest lift among those found 25 times
or more, then the five categories by order. The pattern the simulator builds
in is category loyalty (each item is in the customer's favourite category with
probability 0.6), which shows up as lift above 1 within a category and below 1
across categories.

Run it with ``python examples/seven_p/product.py``.
"""

from __future__ import annotations

import numpy as np
from _base import PURCHASE, load, section

from crmcore import InteractionTable
from crmcore.metrics import CoPurchase, co_purchase

MIN_BASKETS = 25
TOP = 5


def show(pairs: CoPurchase, rows: np.ndarray, unit: str) -> None:
    """Print the given pairs: baskets holding both, support, confidence both ways, lift."""
    print(f"  {'pair':<32} {unit:>9}  support  conf a>b  conf b>a   lift")
    for i in rows:
        pair = f"{pairs.item_a[i]} + {pairs.item_b[i]}"
        print(
            f"  {pair:<32} {pairs.n_together[i]:9d}  {pairs.support[i]:7.3f}"
            f"  {pairs.confidence_a_to_b[i]:8.3f}  {pairs.confidence_b_to_a[i]:8.3f}"
            f"  {pairs.lift[i]:5.2f}"
        )


def highest_lift(table: InteractionTable, basket: str, unit: str) -> None:
    """Print the pairs of highest lift found in MIN_BASKETS baskets or more, and the medians."""
    common = co_purchase(table, by="products", basket=basket, min_count=MIN_BASKETS)
    show(common, np.argsort(-common.lift, kind="stable")[:TOP], unit)
    category = np.char.partition(common.item_a.astype(str), "-")[:, 0]
    within = category == np.char.partition(common.item_b.astype(str), "-")[:, 0]
    print(
        f"  median lift of the {int(within.sum())} pairs within a category "
        f"{np.median(common.lift[within]):.2f}, of the {int((~within).sum())} across categories "
        f"{np.median(common.lift[~within]):.2f}"
    )


def main() -> None:
    table = load().table
    pairs = co_purchase(table, by="products", basket="customer")
    orders = co_purchase(table, by="products", basket="order")
    items = int(np.count_nonzero(table.kinds == PURCHASE))
    print(
        f"Product: {pairs.items.size} products, {pairs.n_baskets} customers, "
        f"{pairs.lift.size} product pairs bought by the same customer"
    )
    print(
        f"  {orders.n_baskets} orders of {items / orders.n_baskets:.2f} items on average, "
        f"{orders.lift.size} product pairs bought in the same order"
    )

    section("Most frequent pairs (customers who bought both)")
    show(pairs, np.arange(min(TOP, pairs.lift.size)), "customers")
    section(f"Highest lift, pairs bought by {MIN_BASKETS}+ customers")
    highest_lift(table, "customer", "customers")

    section("Most frequent pairs in one order (orders holding both)")
    show(orders, np.arange(min(TOP, orders.lift.size)), "orders")
    section(f"Highest lift, pairs in {MIN_BASKETS}+ orders")
    highest_lift(table, "order", "orders")

    section("Categories bought in the same order")
    categories = co_purchase(table, by="categories", basket="order")
    show(categories, np.arange(categories.lift.size), "orders")


if __name__ == "__main__":
    main()
