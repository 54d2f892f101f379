"""Benchmark of the covariate fits (time-invariant covariates) on simulated customers.

Run with ``python benchmarks/bench_covariates.py [n_customers] [n_pareto]``
(defaults 1,000,000 and 1,000,000). Draws BG/NBD, MBG/NBD and Pareto/NBD
histories in weeks, first purchases spread over 78 weeks, with 5 standard
normal covariates acting on both the purchase and the dropout process (10
coefficients plus the 4 base parameters), fits them with the same 5 columns
as ``purchase_covariates`` and ``dropout_covariates``, and prints the time of
each fit (one call: a fit is not repeated; wall and CPU time, the latter
less disturbed by other work on a shared machine), its optimiser iterations, the
largest error of the coefficients against the truth in standard errors, and
the time of P(alive) and of the expected purchases over 52 weeks for all
customers. Every customer's history is distinct (its covariates are), so no
row compresses.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from crmcore.models import bgnbd, mbgnbd, pareto_nbd
from crmcore.simulate import bgnbd_histories, mbgnbd_histories, pareto_nbd_histories

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
N_PARETO = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
K = 5
GAMMA_P = np.array([0.4, -0.3, 0.2, 0.0, 0.1])
GAMMA_D = np.array([-0.3, 0.2, 0.0, 0.3, -0.1])


def run(label: str, module: object, draw: object, params: tuple[float, ...], n: int) -> None:
    rng = np.random.default_rng(2024)
    T = rng.integers(1, 78 * 7, n) / 7
    z = rng.normal(size=(n, K))
    sim = draw(  # type: ignore[operator]
        *params,
        T=T,
        rng=1,
        purchase_covariates=z,
        purchase_coefficients=GAMMA_P,
        dropout_covariates=z,
        dropout_coefficients=GAMMA_D,
    )
    start, cpu = time.perf_counter(), time.process_time()
    fit = module.fit(  # type: ignore[attr-defined]
        sim.frequency, sim.recency, sim.T, purchase_covariates=z, dropout_covariates=z
    )
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    err = np.concatenate(
        [
            (fit.purchase_coefficients - GAMMA_P) / fit.purchase_standard_errors,
            (fit.dropout_coefficients - GAMMA_D) / fit.dropout_standard_errors,
        ]
    )
    print(
        f"{label:<12s} {n:>9,d} customers: fit {seconds:7.2f} s ({cpu:.2f} s CPU), "
        f"{fit.n_iterations:3d} "
        f"iterations, converged {fit.converged}, largest |error| / SE {np.max(np.abs(err)):.2f}"
    )
    start = time.perf_counter()
    fit.probability_alive(
        sim.frequency, sim.recency, sim.T, purchase_covariates=z, dropout_covariates=z
    )
    alive = time.perf_counter() - start
    start = time.perf_counter()
    fit.conditional_expected_purchases(
        52.0, sim.frequency, sim.recency, sim.T, purchase_covariates=z, dropout_covariates=z
    )
    expected = time.perf_counter() - start
    print(f"{'':<12s} P(alive) {alive:6.2f} s, expected purchases over 52 weeks {expected:6.2f} s")


def main() -> None:
    run("BG/NBD", bgnbd, bgnbd_histories, (0.243, 4.414, 0.793, 2.426), N)
    run("MBG/NBD", mbgnbd, mbgnbd_histories, (0.525, 6.183, 0.891, 1.614), N)
    run("Pareto/NBD", pareto_nbd, pareto_nbd_histories, (0.55, 10.58, 0.61, 11.67), N_PARETO)


if __name__ == "__main__":
    main()
