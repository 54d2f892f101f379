"""Profiling (7P): who the customers are.

On the shared simulated base (see ``_base.py``) this prints the mix of
customer sources, regions and main sales channels, how many customers were
acquired each month, the distribution of what a customer spent in total
(quantiles), and the sizes of the RFM segments (recency and spend scored 1-5 by
quintile, frequency by fixed purchase counts, segments of the usual RF grid).

Run it with ``python examples/seven_p/profiling.py``.
"""

from __future__ import annotations

import numpy as np
from _base import (
    AS_OF,
    PURCHASE,
    channel_names,
    load,
    section,
    segments,
    share_table,
)

from crmcore import summarize
from crmcore.metrics import RF_GRID


def main() -> None:
    base = load()
    table = base.table
    n = table.n_customers
    summary = summarize(table, observation_end=AS_OF, period="D", time_unit="D")
    print(
        f"Profiling: {n} customers, {int(summary.n_purchases.sum())} purchase days, "
        f"{int(summary.n_transactions.sum())} items bought, to {AS_OF}"
    )

    section("Customer source (drawn by the simulator, independently of behaviour)")
    assert base.source is not None
    names, counts = np.unique(base.source, return_counts=True)
    share_table(names.tolist(), counts, header="source", unit="customers")

    section("Region (the region on each customer's rows)")
    assert table.regions is not None
    first_row = np.unique(table.customer_codes, return_index=True)[1]
    names, counts = np.unique(table.regions[first_row], return_counts=True)
    share_table(names.tolist(), counts, header="region", unit="customers")

    section("Main channel (the channel of most of a customer's purchases)")
    assert table.channels is not None
    buy = table.kinds == PURCHASE
    per_channel = np.zeros((n, int(table.channels.max()) + 1), dtype=np.int64)
    np.add.at(per_channel, (table.customer_codes[buy], table.channels[buy]), 1)
    names, counts = np.unique(channel_names(per_channel.argmax(axis=1)), return_counts=True)
    share_table(names.tolist(), counts, header="channel", unit="customers")

    section("Acquired per month (first purchase)")
    months, counts = np.unique(summary.first_purchase.astype("datetime64[M]"), return_counts=True)
    cells = [f"{m}: {c:4d}" for m, c in zip(months, counts, strict=True)]
    for i in range(0, len(cells), 4):
        print("  " + "   ".join(cells[i : i + 4]))

    section("Total spend per customer")
    levels = (0.1, 0.25, 0.5, 0.75, 0.9, 0.99)
    quantiles = np.quantile(summary.total_spend, levels)
    print("  " + "  ".join(f"{f'p{round(100 * q)}':>8}" for q in levels) + "      mean")
    print("  " + "  ".join(f"{x:8.2f}" for x in quantiles) + f"  {summary.total_spend.mean():8.2f}")

    section("RFM segments (the RF grid; F1..F5 = 1, 2, 3, 4-5, 6+ purchase days)")
    labels = segments(summary)  # see _base.segments for the cut points
    counts = np.array([np.count_nonzero(labels == name) for name in RF_GRID])
    share_table(list(RF_GRID), counts, header="segment", unit="customers", keep_order=True)
    if counts[list(RF_GRID).index("new")] == 0:
        print("  (nobody was acquired in 2024, so no one-time buyer is recent: no 'new' segment)")


if __name__ == "__main__":
    main()
