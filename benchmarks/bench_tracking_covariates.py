"""Time tracking intervals of covariate fits (crmcore.models.uncertainty.tracking_interval).

Run: ``PYTHONPATH=src python benchmarks/bench_tracking_covariates.py [n_customers] [n_draws]``
(default 100,000 customers, 200 draws). A log of two purchases per customer,
first purchases spread over 12 weeks, tracked weekly over 2024 (52 periods).
Cases: Pareto/NBD with a continuous purchase and dropout covariate, Pareto/NBD
with a three-level dropout covariate, BG/NBD with two three-level covariates,
and BG/NBD with two continuous covariates (every customer its own group; timed
at 4 draws and scaled, as it costs about a hypergeometric function per customer,
period and draw). CPU time (``time.process_time``) is the figure to quote on a
shared machine.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from crmcore import InteractionTable
from crmcore.models import _covariates as cov
from crmcore.models import bgnbd, pareto_nbd, uncertainty


def _fit(cls: type, params: object) -> object:
    return cls(
        params=params,
        standard_errors=params,
        purchase_coefficients=np.array([0.4]),
        purchase_standard_errors=np.array([0.1]),
        purchase_names=("z",),
        dropout_coefficients=np.array([-0.3]),
        dropout_standard_errors=np.array([0.1]),
        dropout_names=("w",),
        covariance=np.diag(np.linspace(0.05, 0.2, 6) ** 2),
        log_likelihood=0.0,
        n_customers=1000.0,
        converged=True,
        n_iterations=1,
        time_unit="W",
    )


def main(n: int = 100_000, n_draws: int = 200) -> None:
    g = np.random.default_rng(0)
    first = g.integers(0, 84, size=n)
    days = np.concatenate([first, first + g.integers(0, 300, size=n)])
    ids = np.concatenate([np.arange(n), np.arange(n)])
    times = np.datetime64("2024-01-01", "ns") + days.astype("timedelta64[D]")
    table = InteractionTable.from_arrays(ids, times)
    z, w = g.normal(size=n), g.normal(size=n)
    levels = g.integers(0, 3, size=n).astype(np.float64)
    bg = bgnbd.BgNbdParams(r=0.5, alpha=4.0, a=0.6, b=2.5)
    pn = pareto_nbd.ParetoNbdParams(r=0.55, alpha=10.6, s=0.61, beta=11.7)
    cases = [
        ("Pareto/NBD, continuous z and w", cov.ParetoNbdCovariateFit, pn, (z, w), n_draws),
        (
            "Pareto/NBD, continuous z, 3-level w",
            cov.ParetoNbdCovariateFit,
            pn,
            (z, levels),
            n_draws,
        ),
        ("BG/NBD, 3-level z and w", cov.BgNbdCovariateFit, bg, (levels, levels[::-1]), n_draws),
        ("BG/NBD, continuous z and w", cov.BgNbdCovariateFit, bg, (z, w), 4),
    ]
    for label, cls, params, (zp, zd), draws in cases:
        fit = _fit(cls, params)
        start, cpu = time.perf_counter(), time.process_time()
        ti = uncertainty.tracking_interval(
            fit,
            table,
            observation_end="2024-12-29",
            n_draws=draws,
            purchase_covariates=zp,
            dropout_covariates=zd,
        )
        elapsed, used = time.perf_counter() - start, time.process_time() - cpu
        scaled = used * (n_draws + 1) / (draws + 1)
        print(
            f"{label:38s} {n:>8,} customers x {draws:>3} draws, {ti.period_start.size} periods: "
            f"{elapsed:7.1f} s wall, {used:7.1f} s CPU (~{scaled:.0f} s CPU at {n_draws} draws)"
        )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
