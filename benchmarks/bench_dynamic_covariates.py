"""Benchmark of the Pareto/NBD fit with time-varying covariates on simulated customers.

Run with ``python benchmarks/bench_dynamic_covariates.py [n_customers] [n_weeks]``
(defaults 100,000 and 52). Draws a Pareto/NBD purchase log under weekly
covariates (one acting on purchases, one on dropout, standard normal per
customer and week; first purchases spread over the first half of the weeks),
summarises it by hour in weeks, and prints the time of the long-table layout
(``TimeVaryingCovariates.from_long``), of one likelihood evaluation with its
gradient, and of the fit (one call; wall and CPU time, the latter less
disturbed by other work on a shared machine), its iterations and the errors of
the coefficients against the truth in standard errors.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from crmcore import summarize
from crmcore.models import _dynamic_covariates as dc
from crmcore.models import pareto_nbd
from crmcore.models.pareto_nbd import TimeVaryingCovariates
from crmcore.simulate import pareto_nbd_time_varying

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
WEEKS = int(sys.argv[2]) if len(sys.argv) > 2 else 52
GAMMA_P, GAMMA_D = 0.5, -0.4


def main() -> None:
    sim = pareto_nbd_time_varying(
        0.8,
        5.0,
        0.7,
        12.0,
        n_customers=N,
        n_periods=WEEKS,
        start="2024-01-01",
        rng=1,
        purchase_coefficients=[GAMMA_P],
        dropout_coefficients=[GAMMA_D],
    )
    summary = summarize(sim.table, observation_end=sim.observation_end, period="h", time_unit="W")
    cols = sim.covariates.columns()
    start, cpu = time.perf_counter(), time.process_time()
    cov = TimeVaryingCovariates.from_long(
        cols["customer_ids"], cols["period_starts"], {"z0": cols["z0"], "w0": cols["w0"]}
    )
    print(
        f"from_long   {len(cov):>11,d} rows: {time.perf_counter() - start:7.2f} s "
        f"({time.process_time() - cpu:.2f} s CPU)"
    )
    lay = dc._layout(summary, sim.table, cov, (("z0",), ("w0",)))
    u = np.array([np.log(0.8), np.log(5.0), np.log(0.7), np.log(12.0), GAMMA_P, GAMMA_D])
    start, cpu = time.perf_counter(), time.process_time()
    dc._Engine(lay).value_grad(u)
    print(
        f"likelihood  {lay.cust.size:>11,d} customer-weeks: "
        f"{time.perf_counter() - start:7.2f} s ({time.process_time() - cpu:.2f} s CPU) "
        "per evaluation with gradient"
    )
    start, cpu = time.perf_counter(), time.process_time()
    fit = pareto_nbd.fit_time_varying(summary, sim.table, cov, purchase="z0", dropout="w0")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    err_p = (fit.purchase_coefficients[0] - GAMMA_P) / fit.purchase_standard_errors[0]
    err_d = (fit.dropout_coefficients[0] - GAMMA_D) / fit.dropout_standard_errors[0]
    print(
        f"fit         {N:>11,d} customers x {WEEKS} weeks x 2 covariates: {seconds:7.2f} s "
        f"({cpu:.2f} s CPU), {fit.n_iterations} iterations, coefficient errors "
        f"{err_p:+.2f} and {err_d:+.2f} standard errors"
    )


if __name__ == "__main__":
    main()
