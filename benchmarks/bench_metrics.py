"""Benchmark: RFM scores (quantile and rank), ABC classes and NPS over 10 million values.

Run with ``python benchmarks/bench_metrics.py [--values N] [--repeat K]``. The inputs are
drawn from the models in :mod:`crmcore.simulate`: BG/NBD histories (CDNOW estimates,
first purchases spread over 78 weeks, times rounded down to whole days) give the time
since the last purchase and the number of purchases, Gamma-Gamma spend gives the
total spend (in cents), and the NPS answers are ``Binomial(10, s)`` with a latent
satisfaction ``s ~ Beta(4, 1.5)`` per respondent, as :class:`crmcore.simulate.SurveyOptions`
draws them. The inputs are therefore heavily tied, as real ones are.

Each call is timed ``--repeat`` times and the best time is reported (the machine is
shared, so single runs are noisy). The peak memory is measured in one further call under
:mod:`tracemalloc`: the largest amount of traced memory (numpy's arrays included)
allocated by the call on top of what was live before it. Goals on a 2-core machine:
under 1 s per call, under 4 s for the rank method.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from _timing import best_of

from crmcore import metrics
from crmcore.simulate import (
    CDNOW_BGNBD_WEEKLY,
    CDNOW_GAMMA_GAMMA,
    bgnbd_histories,
    gamma_gamma_spend,
)


def make_inputs(n: int, seed: int = 2024) -> dict[str, np.ndarray[Any, Any]]:
    """Draw the per-customer RFM inputs and ``n`` NPS answers."""
    rng = np.random.default_rng(seed)
    big_t = rng.integers(1, 78 * 7, n) / 7  # weeks since the first purchase, whole days
    hist = bgnbd_histories(*CDNOW_BGNBD_WEEKLY, T=big_t, rng=rng)
    last = np.minimum(np.floor(hist.recency * 7) / 7, big_t)
    n_purchases = hist.frequency + 1
    spend = gamma_gamma_spend(*CDNOW_GAMMA_GAMMA, frequency=n_purchases, rng=rng)
    satisfaction = rng.beta(4.0, 1.5, n)
    return {
        "time_since_last": big_t - last,
        "n_purchases": n_purchases,
        "total_spend": np.round(spend.monetary_value * n_purchases, 2),
        "answers": rng.binomial(10, satisfaction),
    }


def traced_peak(call: Callable[[], Any]) -> float:
    """MB allocated by one call at its peak, above what was live when it started."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    call()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return (peak - base) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=10_000_000, help="values per input")
    parser.add_argument("--repeat", type=int, default=5, help="timed calls per function")
    args = parser.parse_args()
    n, repeat = args.values, args.repeat

    start = time.perf_counter()
    data = make_inputs(n)
    drawn = time.perf_counter() - start
    rec, freq, spend = data["time_since_last"], data["n_purchases"], data["total_spend"]
    cases: list[tuple[str, Callable[[], Any], float]] = [
        (
            "rfm_scores(method='quantile')",
            lambda: metrics.rfm_scores(time_since_last=rec, n_purchases=freq, total_spend=spend),
            1.0,
        ),
        (
            "rfm_scores(method='rank')",
            lambda: metrics.rfm_scores(
                time_since_last=rec, n_purchases=freq, total_spend=spend, method="rank"
            ),
            4.0,
        ),
        ("abc_classes", lambda: metrics.abc_classes(spend), 1.0),
        ("nps", lambda: metrics.nps(data["answers"]), 1.0),
    ]

    print(f"{n:,} values per input (drawn in {drawn:.1f} s), numpy {np.__version__}")
    print(
        f"inputs: {np.mean(freq == 1):.0%} one-time buyers, "
        f"{np.unique(rec).size:,} distinct times since last purchase, "
        f"{np.unique(spend).size:,} distinct spends"
    )
    print(f"time: best of {repeat} calls (shared machine); memory: tracemalloc peak of one call")
    header = (
        f"{'function':32s} {'time':>9s} {'values/s':>11s} {'peak':>10s} {'goal':>8s} {'result':>6s}"
    )
    print(header)
    print("-" * len(header))
    notes: list[str] = []
    for name, call, goal in cases:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _, seconds = best_of(call, repeat)
            peak = traced_peak(call)
        for w in caught:
            note = f"{name}: {w.category.__name__}: {w.message}"
            if note not in notes:
                notes.append(note)
        mark = "pass" if seconds < goal else "MISS"
        print(
            f"{name:32s} {seconds:7.3f} s {n / seconds / 1e6:7.1f} M/s "
            f"{peak:7.0f} MB {'< ' + format(goal, '.0f') + ' s':>8s} {mark:>6s}"
        )
    for note in notes:
        print(f"note: {note}")


if __name__ == "__main__":
    main()
