"""Benchmark of the GGompertz/NBD model on one million simulated customers.

Run with ``python benchmarks/bench_ggomnbd.py [n_customers]``. Histories are
drawn by :func:`crmcore.simulate.ggomnbd_histories` in weeks, first purchases
spread over 78 weeks;
the "daily" variant rounds recency and T down to whole days, as
:func:`crmcore.summarize` does with ``period="D", time_unit="W"``; the "exact"
variant keeps continuous times (every buyer's history distinct). Prints the
time of the fit (wall and CPU: the machine may be shared) and of the
predictions over all customers.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from _timing import best_of

from crmcore.models import ggomnbd
from crmcore.simulate import ggomnbd_histories
from crmcore.summary import compress

N = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 1_000_000
TRUE = (0.8, 8.0, 0.05, 0.5, 2.0)  # r, alpha, b (per week), s, beta


def timed(label: str, func: Callable[[], Any], repeat: int = 1) -> Any:
    out, best = best_of(func, repeat)
    print(f"{label:<58s} {best:7.3f} s")
    return out


def simulate(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    big_t = rng.integers(1, 78 * 7, n) / 7
    h = ggomnbd_histories(*TRUE, T=big_t, rng=rng)
    return h.frequency, h.recency, h.T


def main() -> None:
    x, tx_exact, big_t = simulate(N, 2024)
    tx = np.minimum(np.floor(tx_exact * 7) / 7, big_t)
    rows = len(compress(x, tx, big_t))
    print(
        f"{N:,} customers; {int((x > 0).sum()):,} repeat buyers; {rows:,} distinct daily histories"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        truth = ggomnbd.GGompertzNbdParams(r=0.8, alpha=8.0, b=0.05, s=0.5, beta=2.0)
        one = ggomnbd.log_likelihood(truth, x, tx, big_t)
        label = "log-likelihood at the truth (compress included)"
        print(f"{label:<58s} {time.perf_counter() - t0:7.3f} s ({one:.10g})")
        t0, c0 = time.perf_counter(), time.process_time()
        f = ggomnbd.fit(x, tx, big_t)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"{'GGompertz/NBD fit (daily)':<58s} {wall:7.3f} s ({cpu:.3f} s CPU)")
        print(f"  estimates {np.round(f.params.as_array(), 4)} (true {TRUE}), {f.n_iterations} it.")
        if "--exact" in sys.argv:
            timed("GGompertz/NBD fit (exact times)", lambda: ggomnbd.fit(x, tx_exact, big_t))
    p = f.params
    timed("probability_alive", lambda: ggomnbd.probability_alive(p, x, tx, big_t))
    timed(
        "conditional_expected_purchases (t = 52)",
        lambda: ggomnbd.conditional_expected_purchases(p, 52.0, x, tx, big_t),
    )
    timed(
        "conditional_purchase_probability (t = 52)",
        lambda: ggomnbd.conditional_purchase_probability(p, 52.0, x, tx, big_t),
    )
    timed(
        "discounted_expected_residual_purchases (0.2% a week)",
        lambda: ggomnbd.discounted_expected_residual_purchases(
            p, x, tx, big_t, discount_rate=0.002
        ),
    )
    timed(
        "log_likelihood_per_customer", lambda: ggomnbd.log_likelihood_per_customer(p, x, tx, big_t)
    )
    timed(
        "purchase_probability (n = 0..99, t = 52)",
        lambda: ggomnbd.purchase_probability(p, np.arange(100), 52.0),
    )


if __name__ == "__main__":
    main()
