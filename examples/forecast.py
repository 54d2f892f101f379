"""Forecast purchases and lifetime value with BG/NBD and Gamma-Gamma.

Simulates a customer base acquired over 12 weeks (CDNOW-like parameters),
splits its log into a calibration period (2024) and a 26-week holdout, fits
the BG/NBD purchase model and the Gamma-Gamma spend model on the calibration
period, compares the forecast of the holdout purchases with what happened,
and ranks the customers by expected lifetime value.
Run: ``python examples/forecast.py``.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from crmcore import simulate, summarize
from crmcore.models import bgnbd, clv, gamma_gamma

SEED = 7


def show_params(name: str, fit: Any) -> None:
    params, ses = fit.params, fit.standard_errors
    print(f"{name}: log-likelihood {fit.log_likelihood:,.1f} over {fit.n_customers:,.0f} customers")
    for field in attrs.fields(type(params)):
        value, se = getattr(params, field.name), getattr(ses, field.name)
        print(f"  {field.name:>6s} = {value:8.3f}  (SE {se:.3f})")


def main() -> None:
    base = simulate.customer_base(
        5000, start="2024-01-01", observation_end="2025-07-01", acquisition_days=84.0, rng=SEED
    )
    # calibration: up to 2024-12-31 (weeks, purchases merged per day); holdout: the rest
    s = summarize(
        base.table,
        observation_end="2025-07-01",
        calibration_end="2024-12-31",
        period="D",
        time_unit="W",
    )
    buyers = s.select(s.has_purchase)
    print(f"{len(buyers):,} customers, holdout of {buyers.duration_holdout:.1f} weeks\n")

    purchases = bgnbd.fit(buyers)
    show_params("BG/NBD", purchases)
    spend = gamma_gamma.fit(buyers)
    show_params("Gamma-Gamma", spend)
    print(f"  mean spend per transaction {spend.expected_spend():.2f}\n")

    hc = clv.holdout_comparison(purchases, buyers)
    print("holdout purchases per customer by calibration frequency")
    print("  freq  customers  actual  expected")
    for k, n, a, e in zip(hc.frequency, hc.n_customers, hc.actual, hc.expected, strict=True):
        label = f"{k}+" if k == hc.frequency[-1] else str(k)
        print(f"  {label:>4s}  {n:9d}  {a:6.2f}  {e:8.2f}")
    print(f"  total: actual {hc.actual_total:,.0f}, expected {hc.expected_total:,.0f}\n")

    value = clv.customer_lifetime_value(
        purchases, spend, buyers, horizon=52, step=4, discount_rate=0.0019, margin=0.3
    )
    top = np.argsort(value.clv)[::-1][:10]
    print("top 10 customers by 52-week CLV (30% margin, 10% a year)")
    print("      id  freq  recency      T  P(alive)  E[purchases]     CLV")
    alive = purchases.probability_alive(buyers)
    for i in top:
        print(
            f"  {value.customer_ids[i]:6d}  {buyers.frequency[i]:4d}  {buyers.recency[i]:7.1f}"
            f"  {buyers.T[i]:5.1f}  {alive[i]:8.2f}  {value.expected_purchases[i]:12.2f}"
            f"  {value.clv[i]:6.1f}"
        )
    print(f"\ntotal 52-week CLV of the base: {value.clv.sum():,.0f}")


if __name__ == "__main__":
    main()
