"""Prospecting (7P): expected active customers and purchases next quarter, by segment.

On the shared simulated base (see ``_base.py``) this fits the BG/NBD model
(crmcore.models.bgnbd) to the purchase days up to the end of 2024, in weeks,
and forecasts the next quarter (13 weeks): P(alive) per customer, the expected
purchases (conditional_expected_purchases) and the expected number of buyers.
A back-test first fits on the data up to 2024-09-30 and compares its forecast
of the last quarter of 2024 with what happened. The forecast is then split by
the RFM segments of the profiling script and by region.

Run it with ``python examples/seven_p/prospecting.py``.
"""

from __future__ import annotations

import numpy as np
from _base import AS_OF, load, section, segments

from crmcore import CustomerSummary, summarize
from crmcore.metrics import RF_GRID
from crmcore.models import bgnbd

QUARTER_WEEKS = 13.0
BACKTEST_END = "2024-09-30T23:59:59"


def forecast(
    fit: bgnbd.BgNbdFit, s: CustomerSummary, weeks: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """P(alive), expected purchases and P(at least one purchase) in the next ``weeks``."""
    alive = fit.probability_alive(s)
    purchases = fit.conditional_expected_purchases(weeks, s)
    # A customer alive at T buys in the next t with probability 1 - E[exp(-lambda t)], lambda
    # ~ Gamma(r + x, alpha + T) given the history; crmcore has no function for this yet.
    p = fit.params
    silent = ((p.alpha + s.T) / (p.alpha + s.T + weeks)) ** (p.r + s.frequency)
    return alive, purchases, alive * (1.0 - silent)


def main() -> None:
    base = load()
    table = base.table
    print(f"Prospecting: BG/NBD on {table.n_customers} customers (purchase days, in weeks)")

    section("Back-test: fit to 2024-09-30, forecast October-December 2024")
    s = summarize(
        table, observation_end=AS_OF, calibration_end=BACKTEST_END, period="D", time_unit="W"
    )
    assert s.frequency_holdout is not None
    assert s.duration_holdout is not None
    _, expected, buyers = forecast(bgnbd.fit(s), s, s.duration_holdout)
    actual, active = int(s.frequency_holdout.sum()), int(np.count_nonzero(s.frequency_holdout))
    print(f"  purchases: expected {expected.sum():7.1f}, actual {actual:5d}")
    print(f"  buyers:    expected {buyers.sum():7.1f}, actual {active:5d}")
    print("  (the autumn campaign's extra purchases are outside the model)")

    section("Fit to 2024-12-31")
    summary = summarize(table, observation_end=AS_OF, period="D", time_unit="W")
    fit = bgnbd.fit(summary)
    p, se = fit.params, fit.standard_errors
    for name in ("r", "alpha", "a", "b"):
        print(f"  {name:>5} = {getattr(p, name):.6f}  (SE {getattr(se, name):.4f})")

    section(f"Next quarter ({QUARTER_WEEKS:.0f} weeks)")
    alive, purchases, buy = forecast(fit, summary, QUARTER_WEEKS)
    truth = int(base.histories.alive.sum())
    print(f"  customers alive now:    expected {alive.sum():7.1f} of {summary.n_customers}")
    print(f"  (the simulation's truth: {truth} alive)")
    print(f"  buyers next quarter:    expected {buy.sum():7.1f}")
    print(f"  purchases next quarter: expected {purchases.sum():7.1f}")
    print("  (one-time buyers have P(alive) = 1: BG/NBD drops customers only after a purchase)")

    by_segment = segments(summary)
    first_row = np.unique(table.customer_codes, return_index=True)[1]
    assert table.regions is not None
    for title, labels, order in (
        ("RFM segment", by_segment, list(RF_GRID)),
        ("region", table.regions[first_row], sorted(set(table.regions.tolist()))),
    ):
        section(f"Next quarter by {title}")
        print(f"  {title:<20} customers  P(alive)   buyers  purchases   share")
        for label in order:
            rows = labels == label
            if not rows.any():
                continue
            print(
                f"  {label:<20} {int(rows.sum()):9d}  {alive[rows].mean():8.2f}"
                f"  {buy[rows].sum():7.1f}  {purchases[rows].sum():9.1f}"
                f"  {purchases[rows].sum() / purchases.sum():6.1%}"
            )


if __name__ == "__main__":
    main()
