"""Benchmark of the forecast models on one million simulated customers.

Run with ``python benchmarks/bench_models.py [n_customers]``. Prints the time
of each fit, of each prediction over all customers, and of a 52-week CLV in
4-week steps. Histories are drawn by :mod:`crmcore.simulate` in weeks; the
"daily" variant rounds recency and T down to whole days, as
:func:`crmcore.summarize` does with ``period="D", time_unit="W"``, which is
what real logs give; the "exact" variant keeps continuous times (every
buyer's history distinct) with T a whole number of days; the "continuous"
variant draws T uniformly over 1 to 78 weeks as well, so that no two
customers share (x, T) or (x, t_x, T) and nothing can be merged (the inputs of
``compare_peers.py``). The "floor" line times one ``np.log`` over as many
values as there are customers, the cost every prediction is compared with;
every line gives the best wall time, the best CPU time (``time.process_time``,
the steadier figure on a shared machine) and the CPU time as a multiple of
that floor.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from _timing import best_of

from crmcore import CustomerSummary
from crmcore.models import bgbb, bgnbd, clv, gamma_gamma, mbgnbd, pareto_nbd, sbg
from crmcore.simulate import (
    bgbb_histories,
    bgnbd_histories,
    gamma_gamma_spend,
    mbgnbd_histories,
    pareto_nbd_histories,
    sbg_cohort,
)

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
BG = (0.243, 4.414, 0.793, 2.426)  # CDNOW estimates (Fader, Hardie & Lee 2005)
MBG = (0.525, 6.183, 0.891, 1.614)
GG = (6.25, 3.74, 15.44)
PNBD = (0.55, 10.58, 0.61, 11.67)  # CDNOW estimates (Fader, Hardie & Lee 2005)
BGBB = (1.204, 0.750, 0.657, 2.783)  # donations (Fader, Hardie & Shang 2010)
SBG = (0.704, 1.182)  # "regular" segment (Fader & Hardie 2007)


FLOOR_CPU = [float("nan")]  # CPU time of one np.log over the customers, once measured


def timed(label: str, func: Callable[[], Any], repeat: int = 2) -> Any:
    """Print the best wall time and the best CPU time of ``repeat`` calls, and the CPU time
    as a multiple of the floor (one ``np.log`` over as many values as there are customers)."""
    out, best = best_of(func, repeat)
    cpu = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        func()
        cpu = min(cpu, time.process_time() - start)
    print(f"{label:<62s} {best:7.3f} s  cpu {cpu * 1e3:9.1f} ms  {cpu / FLOOR_CPU[0]:7.1f} x floor")
    return out


def _cpu_once(func: Callable[[], Any]) -> float:
    start = time.process_time()
    func()
    return time.process_time() - start


def daily(sim: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    T = np.floor(sim.T * 7) / 7
    tx = np.minimum(np.floor(sim.recency * 7) / 7, T)
    return sim.frequency, tx, T


def main() -> None:
    rng = np.random.default_rng(2024)
    T = rng.integers(1, 78 * 7, N) / 7  # first purchases spread over 78 weeks
    sim = bgnbd_histories(*BG, T=T, rng=1)
    x, tx, big_t = daily(sim)
    msim = mbgnbd_histories(*MBG, T=T, rng=2)
    mx, mtx, mt = daily(msim)
    spend = gamma_gamma_spend(*GG, frequency=x, rng=3)
    m = np.where(x > 0, spend.monetary_value, 0.0)
    print(f"{N:,} customers; {int((x > 0).sum()):,} repeat buyers; weekly time unit\n")

    print("fits")
    f = timed("BG/NBD fit (daily)", lambda: bgnbd.fit(x, tx, big_t))
    timed("BG/NBD fit (exact times)", lambda: bgnbd.fit(sim.frequency, sim.recency, sim.T))
    timed("MBG/NBD fit (daily)", lambda: mbgnbd.fit(mx, mtx, mt))
    timed("MBG/NBD fit (exact times)", lambda: mbgnbd.fit(msim.frequency, msim.recency, msim.T))
    g = timed("Gamma-Gamma fit", lambda: gamma_gamma.fit(x, m))
    print(f"  BG/NBD estimates {np.round(f.params.as_array(), 3)} (true {BG})")
    print(f"  Gamma-Gamma estimates {np.round(g.params.as_array(), 3)} (true {GG})\n")

    print("predictions for all customers")
    values = x + 1.0
    FLOOR_CPU[0] = 1.0
    timed("floor: one np.log over the customers", lambda: np.log(values), repeat=7)
    FLOOR_CPU[0] = min(_cpu_once(lambda: np.log(values)) for _ in range(7))
    print(f"  (floor: {FLOOR_CPU[0] * 1e3:.1f} ms CPU)")
    p = f.params
    timed("BG/NBD probability_alive", lambda: bgnbd.probability_alive(p, x, tx, big_t))
    timed(
        "BG/NBD conditional_expected_purchases (t = 52)",
        lambda: bgnbd.conditional_expected_purchases(p, 52.0, x, tx, big_t),
    )
    timed(
        "BG/NBD conditional_expected_purchases (t = 52, exact)",
        lambda: bgnbd.conditional_expected_purchases(p, 52.0, sim.frequency, sim.recency, sim.T),
    )
    timed(
        "BG/NBD conditional_purchase_probability (t = 52)",
        lambda: bgnbd.conditional_purchase_probability(p, 52.0, x, tx, big_t),
    )
    timed("BG/NBD expected_purchases (t = each T)", lambda: bgnbd.expected_purchases(p, big_t))
    timed(
        "BG/NBD purchase_probability (n = frequency, t = T)",
        lambda: bgnbd.purchase_probability(p, x, big_t),
    )
    timed(
        "BG/NBD log_likelihood_per_customer",
        lambda: bgnbd.log_likelihood_per_customer(p, x, tx, big_t),
    )
    mp_ = mbgnbd.MbgNbdParams(r=MBG[0], alpha=MBG[1], a=MBG[2], b=MBG[3])
    timed("MBG/NBD probability_alive", lambda: mbgnbd.probability_alive(mp_, mx, mtx, mt))
    timed(
        "MBG/NBD conditional_expected_purchases (t = 52)",
        lambda: mbgnbd.conditional_expected_purchases(mp_, 52.0, mx, mtx, mt),
    )
    timed(
        "Gamma-Gamma conditional_expected_spend",
        lambda: gamma_gamma.conditional_expected_spend(g.params, x, m),
    )
    print()

    continuous(p, mp_, g.params)

    summary = CustomerSummary.from_arrays(x, tx, big_t, monetary_value=m, time_unit="W")
    timed(
        "CLV (52 weeks, 4-week steps, 0.2% a week)",
        lambda: clv.customer_lifetime_value(f, g, summary, horizon=52, step=4, discount_rate=0.002),
    )


def continuous(p: Any, mp_: Any, gp: Any) -> None:
    """Predictions and fits on continuous histories (T uniform: no (x, T) pair repeats)."""
    rng = np.random.default_rng(7)
    c = bgnbd_histories(*BG, T=rng.uniform(1.0, 78.0, N), rng=1)
    cm = mbgnbd_histories(*MBG, T=rng.uniform(1.0, 78.0, N), rng=2)
    cx = c.frequency.astype(np.float64)
    spend = gamma_gamma_spend(*GG, frequency=cx, rng=3)
    m = np.where(cx > 0, spend.monetary_value, 0.0)
    print("\ncontinuous histories (T uniform over 1 to 78 weeks)")
    hist = (c.frequency, c.recency, c.T)
    mhist = (cm.frequency, cm.recency, cm.T)
    timed("BG/NBD fit (continuous)", lambda: bgnbd.fit(*hist))
    timed("BG/NBD probability_alive (continuous)", lambda: bgnbd.probability_alive(p, *hist))
    timed(
        "BG/NBD conditional_expected_purchases (t = 39, continuous)",
        lambda: bgnbd.conditional_expected_purchases(p, 39.0, *hist),
    )
    timed(
        "BG/NBD conditional_purchase_probability (t = 39, continuous)",
        lambda: bgnbd.conditional_purchase_probability(p, 39.0, *hist),
    )
    timed("MBG/NBD probability_alive (continuous)", lambda: mbgnbd.probability_alive(mp_, *mhist))
    timed(
        "MBG/NBD conditional_expected_purchases (t = 39, continuous)",
        lambda: mbgnbd.conditional_expected_purchases(mp_, 39.0, *mhist),
    )
    timed(
        "MBG/NBD conditional_purchase_probability (t = 39, continuous)",
        lambda: mbgnbd.conditional_purchase_probability(mp_, 39.0, *mhist),
    )
    timed(
        "Gamma-Gamma conditional_expected_spend (continuous)",
        lambda: gamma_gamma.conditional_expected_spend(gp, cx, m),
    )


def pareto_bgbb_sbg() -> None:
    """Pareto/NBD (same T as above), BG/BB (one cohort, 6 opportunities) and sBG."""
    rng = np.random.default_rng(2024)
    T = rng.integers(1, 78 * 7, N) / 7
    sim = pareto_nbd_histories(*PNBD, T=T, rng=4)
    x, tx, big_t = daily(sim)
    print("\nPareto/NBD")
    f = timed("Pareto/NBD fit (daily)", lambda: pareto_nbd.fit(x, tx, big_t), repeat=1)
    timed(
        "Pareto/NBD fit (exact times)",
        lambda: pareto_nbd.fit(sim.frequency, sim.recency, sim.T),
        repeat=1,
    )
    print(f"  estimates {np.round(f.params.as_array(), 3)} (true {PNBD})")
    p = f.params
    c = pareto_nbd_histories(*PNBD, T=np.random.default_rng(7).uniform(1.0, 78.0, N), rng=4)
    hist = (c.frequency, c.recency, c.T)
    timed("Pareto/NBD fit (continuous)", lambda: pareto_nbd.fit(*hist), repeat=1)
    timed(
        "Pareto/NBD probability_alive (continuous)",
        lambda: pareto_nbd.probability_alive(p, *hist),
    )
    timed(
        "Pareto/NBD conditional_expected_purchases (t = 39, continuous)",
        lambda: pareto_nbd.conditional_expected_purchases(p, 39.0, *hist),
    )
    timed(
        "Pareto/NBD conditional_purchase_probability (t = 39, continuous)",
        lambda: pareto_nbd.conditional_purchase_probability(p, 39.0, *hist),
        repeat=1,
    )
    timed("Pareto/NBD probability_alive", lambda: pareto_nbd.probability_alive(p, x, tx, big_t))
    timed(
        "Pareto/NBD conditional_expected_purchases (t = 52)",
        lambda: pareto_nbd.conditional_expected_purchases(p, 52.0, x, tx, big_t),
    )
    timed(
        "Pareto/NBD log_likelihood_per_customer",
        lambda: pareto_nbd.log_likelihood_per_customer(p, x, tx, big_t),
    )
    timed(
        "Pareto/NBD expected_purchases (t = each T)",
        lambda: pareto_nbd.expected_purchases(p, big_t),
    )
    timed(
        "Pareto/NBD purchase_probability (n = 0..99, t = 52)",
        lambda: pareto_nbd.purchase_probability(p, np.arange(100), 52.0),
    )

    print("\nBG/BB")
    h = bgbb_histories(*BGBB, n_periods=6, n_customers=N, rng=5)
    b = timed("BG/BB fit", lambda: bgbb.fit(h.frequency, h.recency, 6))
    print(f"  estimates {np.round(b.params.as_array(), 3)} (true {BGBB})")
    q = b.params
    timed("BG/BB probability_alive", lambda: bgbb.probability_alive(q, h.frequency, h.recency, 6))
    timed(
        "BG/BB conditional_expected_purchases (5 opportunities)",
        lambda: bgbb.conditional_expected_purchases(q, 5, h.frequency, h.recency, 6),
    )

    print("\nsBG")
    cohort = sbg_cohort(*SBG, n_customers=N, n_periods=12, rng=6)
    s = timed("sBG fit (one cohort, 12 periods)", lambda: sbg.fit(cohort.alive))
    print(f"  estimates {np.round(s.params.as_array(), 3)} (true {SBG})")
    timed(
        "sBG DERL (0..999 renewals, d = 0.1)",
        lambda: sbg.discounted_expected_residual_lifetime(
            s.params, np.arange(1000), discount_rate=0.1
        ),
    )


if __name__ == "__main__":
    main()
    pareto_bgbb_sbg()
