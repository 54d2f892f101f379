"""Benchmark of the Erlang-k models (BG/CNBD-k, MBG/CNBD-k) on one million customers.

Run with ``python benchmarks/bench_cnbd.py [n_customers]``. Histories are drawn by
:func:`crmcore.simulate.bgcnbd_histories` (and ``mbgcnbd_histories``) with k = 3, in
weeks, first purchases spread over 78 weeks. The "daily" variant rounds recency and T
down to whole days, as :func:`crmcore.summarize` does with ``period="D",
time_unit="W"`` (litt is capped at its bound ``x log(t_x / x)`` for the rounded recency,
customers whose repeat purchases would all fall on their first day are left out); the
"exact" variant keeps continuous times, so every buyer's history is distinct. Prints the
best of two calls of: the fit with k given (k = 3), the fit with k chosen over 1..12,
and the predictions over all customers (P(alive), expected purchases and P(purchase) in
the next 52 weeks). The BG/NBD fit of the same daily histories is timed too, as the
yardstick of the machine's load. Goals on a 2-core machine: the fit with k given under
5 s, with k searched under 30 s.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np
from _timing import best_of

from crmcore.models import bgcnbd, bgnbd, mbgcnbd
from crmcore.simulate import bgcnbd_histories, mbgcnbd_histories

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
TRUE = (1.5, 6.0, 0.8, 2.5)
K = 3


def timed(label: str, func: Callable[[], Any], repeat: int = 2) -> Any:
    out, best = best_of(func, repeat)
    print(f"{label:<58s} {best:7.3f} s", flush=True)
    return out


def daily(sim: Any) -> tuple[np.ndarray, ...]:
    x = sim.frequency
    T = np.floor(sim.T * 7) / 7
    tx = np.minimum(np.floor(sim.recency * 7) / 7, T)
    keep = (x == 0) | (tx > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = np.where(x > 0, x * np.log(tx / np.maximum(x, 1)), 0.0)
    litt = np.where(x > 0, np.minimum(sim.litt, bound), 0.0)
    return x[keep], tx[keep], T[keep], litt[keep]


def bench(name: str, mod: Any, simulate: Any, T: np.ndarray) -> None:
    sim = simulate(*TRUE, K, T=T, rng=1)
    x, tx, big_t, litt = daily(sim)
    print(f"{name}: {x.size} customers (daily), {N} (exact)")
    if mod is bgcnbd:
        timed("BG/NBD fit (daily), the yardstick", lambda: bgnbd.fit(x, tx, big_t))
    f = timed(f"{name} fit, k = {K} given (daily)", lambda: mod.fit(x, tx, big_t, litt=litt, k=K))
    timed(
        f"{name} fit, k = {K} given (exact times)",
        lambda: mod.fit(sim.frequency, sim.recency, sim.T, litt=sim.litt, k=K),
        repeat=1,
    )
    g = timed(
        f"{name} fit, k searched in 1..12 (daily)",
        lambda: mod.fit(x, tx, big_t, litt=litt),
        repeat=1,
    )
    print(f"    chosen k = {g.k}, estimates {np.round(g.params.as_array(), 3).tolist()}")
    p = f.params
    timed(f"{name} probability_alive", lambda: mod.probability_alive(p, x, tx, big_t))
    timed(
        f"{name} conditional_expected_purchases (52 weeks)",
        lambda: mod.conditional_expected_purchases(p, 52.0, x, tx, big_t),
        repeat=1,
    )
    timed(
        f"{name} conditional_purchase_probability (52 weeks)",
        lambda: mod.conditional_purchase_probability(p, 52.0, x, tx, big_t),
        repeat=1,
    )


def main() -> None:
    rng = np.random.default_rng(2024)
    T = rng.integers(1, 78 * 7, N) / 7
    bench("BG/CNBD-k", bgcnbd, bgcnbd_histories, T)
    bench("MBG/CNBD-k", mbgcnbd, mbgcnbd_histories, T)


if __name__ == "__main__":
    main()
