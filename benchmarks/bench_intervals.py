"""Time prediction intervals from parameter draws (crmcore.models.uncertainty).

Run: ``PYTHONPATH=src python benchmarks/bench_intervals.py [n_customers] [n_draws]``
(default 1,000,000 customers, 200 draws). Histories are simulated from a BG/NBD
model with T in whole days (as :func:`crmcore.summarize` gives them), and also
with continuous T (every history distinct: the worst case). Wall and CPU time
(``time.process_time``, this process only: the figure to quote on a shared
machine) are printed.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from crmcore import CustomerSummary, simulate
from crmcore.models import bgnbd, uncertainty


def main(n: int = 1_000_000, n_draws: int = 200) -> None:
    params = bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
    rng = np.random.default_rng(1)
    t_days = rng.integers(1, 39 * 7 + 1, size=n).astype(np.float64)
    sim = simulate.bgnbd_histories(params.r, params.alpha * 7, params.a, params.b, T=t_days, rng=2)
    recency_days = np.ceil(sim.recency)  # whole days, as summarize() gives them
    recency_days = np.where(sim.frequency > 0, np.minimum(np.maximum(recency_days, 1), t_days), 0)
    summary = CustomerSummary.from_arrays(sim.frequency, recency_days, t_days, time_unit="D")
    fit = bgnbd.fit(summary)
    for quantity, t in (("probability_alive", None), ("expected_purchases", 28.0)):
        start, cpu = time.perf_counter(), time.process_time()
        pi = uncertainty.prediction_interval(fit, quantity, summary, t=t, n_draws=n_draws, rng=0)
        elapsed, used = time.perf_counter() - start, time.process_time() - cpu
        print(
            f"{quantity:20s} {n:>9,} customers x {n_draws} draws: {elapsed:6.2f} s wall, "
            f"{used:6.2f} s CPU (total {pi.total_point:.1f} [{pi.total_lower:.1f}, "
            f"{pi.total_upper:.1f}])"
        )
    cont = CustomerSummary.from_arrays(sim.frequency, sim.recency, sim.T, time_unit="D")
    for quantity, t in (("probability_alive", None), ("expected_purchases", 28.0)):
        start, cpu = time.perf_counter(), time.process_time()
        uncertainty.prediction_interval(fit, quantity, cont, t=t, n_draws=n_draws, rng=0)
        elapsed, used = time.perf_counter() - start, time.process_time() - cpu
        print(f"{quantity:20s} all histories distinct: {elapsed:6.2f} s wall, {used:6.2f} s CPU")
    start, cpu = time.perf_counter(), time.process_time()
    uncertainty.purchase_count_interval(fit, cont, t=28.0)
    elapsed, used = time.perf_counter() - start, time.process_time() - cpu
    print(f"purchase_count_interval, all distinct: {elapsed:6.2f} s wall, {used:6.2f} s CPU")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*args)
