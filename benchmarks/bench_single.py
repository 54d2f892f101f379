"""Benchmark of scoring one customer given as plain numbers (the scalar fast path).

Run with ``python benchmarks/bench_single.py``. Prints the best time per call,
in microseconds, of the BG/NBD and MBG/NBD per-customer predictions for one
customer (x = 2, t_x = 30.43, T = 38.86, horizon t = 39), through a fit and
through the module functions, and of the Pareto/NBD P(alive). The figure is
the best of several rounds of many calls, the one least disturbed by other
work on a shared machine.
"""

from __future__ import annotations

import timeit
from collections.abc import Callable
from typing import Any

import numpy as np

from crmcore.models import bgnbd, mbgnbd, pareto_nbd

ROUNDS = 7
CALLS = 2000


def per_call(label: str, func: Callable[[], Any], calls: int = CALLS) -> None:
    best = min(timeit.repeat(func, number=calls, repeat=ROUNDS)) / calls
    print(f"{label:<60s} {best * 1e6:8.1f} us")


def main() -> None:
    p = bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)  # CDNOW (Fader et al. 2005)
    cov = np.eye(4)
    f = bgnbd.BgNbdFit(
        params=p,
        standard_errors=p,
        covariance=cov,
        log_likelihood=0.0,
        n_customers=1.0,
        converged=True,
        n_iterations=0,
    )
    mp = mbgnbd.MbgNbdParams(r=0.525, alpha=6.183, a=0.891, b=1.614)
    per_call(
        "BG/NBD fit.probability_alive(2, 30.43, 38.86)",
        lambda: f.probability_alive(2, 30.43, 38.86),
    )
    per_call("BG/NBD probability_alive", lambda: bgnbd.probability_alive(p, 2, 30.43, 38.86))
    per_call(
        "BG/NBD conditional_purchase_probability(t=39)",
        lambda: bgnbd.conditional_purchase_probability(p, 39, 2, 30.43, 38.86),
    )
    per_call(
        "BG/NBD conditional_expected_purchases(t=39)",
        lambda: bgnbd.conditional_expected_purchases(p, 39, 2, 30.43, 38.86),
    )
    per_call(
        "BG/NBD fit.conditional_expected_purchases(t=39)",
        lambda: f.conditional_expected_purchases(39, 2, 30.43, 38.86),
    )
    per_call("MBG/NBD probability_alive", lambda: mbgnbd.probability_alive(mp, 2, 30.43, 38.86))
    per_call(
        "MBG/NBD conditional_purchase_probability(t=39)",
        lambda: mbgnbd.conditional_purchase_probability(mp, 39, 2, 30.43, 38.86),
    )
    per_call(
        "MBG/NBD conditional_expected_purchases(t=39)",
        lambda: mbgnbd.conditional_expected_purchases(mp, 39, 2, 30.43, 38.86),
    )
    pp = pareto_nbd.ParetoNbdParams(r=0.55, alpha=10.58, s=0.61, beta=11.67)  # CDNOW
    per_call(
        "Pareto/NBD probability_alive (scalar validation only)",
        lambda: pareto_nbd.probability_alive(pp, 2, 30.43, 38.86),
        calls=200,
    )


if __name__ == "__main__":
    main()
