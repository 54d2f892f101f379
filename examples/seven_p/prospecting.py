"""Prospecting (7P): winning customers (客户开发) and forecasting the ones won.

On the shared simulated base (see ``_base.py``) this fits the BG/NBD model
(crmcore.models.bgnbd) to the purchase days up to the end of 2024, in weeks,
and forecasts the next quarter (13 weeks): P(alive) per customer, the expected
purchases (conditional_expected_purchases) and the expected number of buyers.
A back-test first fits on the data up to 2024-09-30 and compares its forecast
of the last quarter of 2024 with what happened. The forecast is then split by
the RFM segments of the profiling script.

The acquisition sections use the same base with its leads
(``load_with_leads``): per lead source the conversion rate (成交率) with its
Wilson interval and the acquisition cost per customer from the campaign costs
in LEAD_COSTS (crmcore.metrics.leads_from_table, conversion_rates,
acquisition_cost), the funnel from stage to stage (stage_conversion), the sales
cycle (销售周期) from first contact to the first purchase as a Kaplan-Meier
curve (sales_cycle), and the time the customers' margins take to pay their
acquisition cost back (payback_time).

Run it with ``python examples/seven_p/prospecting.py``.
"""

from __future__ import annotations

import numpy as np
from _base import AS_OF, load, load_with_leads, section, segments

from crmcore import CustomerSummary, summarize
from crmcore.metrics import (
    RF_GRID,
    acquisition_cost,
    conversion_rates,
    leads_from_table,
    payback_time,
    sales_cycle,
    stage_conversion,
)
from crmcore.models import bgnbd

QUARTER_WEEKS = 13.0
BACKTEST_END = "2024-09-30T23:59:59"
#: What each lead source cost over the acquisition year (referrals cost nothing).
LEAD_COSTS = {"web": 24_000.0, "trade_show": 36_000.0, "cold_call": 15_000.0}


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
    section("Next quarter by RFM segment")
    print(f"  {'RFM segment':<20} customers  P(alive)   buyers  purchases   share")
    for label in RF_GRID:
        rows = by_segment == label
        if not rows.any():
            continue
        print(
            f"  {label:<20} {int(rows.sum()):9d}  {alive[rows].mean():8.2f}"
            f"  {buy[rows].sum():7.1f}  {purchases[rows].sum():9.1f}"
            f"  {purchases[rows].sum() / purchases.sum():6.1%}"
        )
    acquisition()


def acquisition() -> None:
    """Conversion, acquisition cost, funnel, sales cycle and payback by lead source."""
    table = load_with_leads().table
    leads = leads_from_table(table, observation_end=AS_OF)
    rates = conversion_rates(leads.converted, leads.sources)
    cac = acquisition_cost(LEAD_COSTS, leads.sources[leads.converted])
    section(f"Acquisition by lead source ({len(leads)} leads)")
    print(f"  {'source':<11} leads    won   rate  95% interval      CAC")
    for i, source in enumerate(rates.groups.tolist()):
        print(
            f"  {source:<11} {rates.trials[i]:5d}  {rates.successes[i]:5d}  {rates.rate[i]:5.1%}"
            f"  {rates.lower[i]:5.1%}-{rates.upper[i]:5.1%}  {cac.cost_of([source])[0]:7.2f}"
        )
    print(f"  all sources: CAC {cac.blended:.2f} ({cac.total_cost:,.0f} / {cac.total_customers})")
    steps = stage_conversion(leads.stage)
    funnel = ", ".join(f"{g} {r:.1%}" for g, r in zip(steps.groups, steps.rate, strict=True))
    print(f"  funnel, stage to stage: {funnel}")

    section("Sales cycle and payback")
    cycle = sales_cycle(leads.first_contact, leads.won_at, observation_end=AS_OF)
    print(
        f"  days from first contact to first purchase: median of the won {cycle.median_won:.1f},"
        f" {cycle.share_won:.1%} won"
    )
    within = 1.0 - cycle.curve.survival_at([30.0, 60.0, 90.0])
    print(
        "  leads won within 30 / 60 / 90 days of first contact (KM): "
        + " / ".join(f"{w:.1%}" for w in within)
    )
    won = leads.converted
    payback = payback_time(
        table,
        leads.customer_ids[won],
        leads.won_at[won],
        cac.cost_of(leads.sources[won]),
        observation_end=AS_OF,
    )
    median = "not reached" if payback.median is None else f"{payback.median:.0f} days"
    print(
        f"  customers whose margins paid back their CAC: {payback.share_paid_back:.1%};"
        f" median payback (KM) {median}"
    )


if __name__ == "__main__":
    main()
