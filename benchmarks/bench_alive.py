"""CPU time of the BG/NBD, MBG/NBD and Gamma-Gamma predictions on compare_peers.py's inputs.

Run with ``python benchmarks/bench_alive.py [repeat] [task ...]``. The inputs are those of
``compare_peers.py`` (1 million continuous histories, T uniform over 1 to 78 weeks, int64
counts; the Gamma-Gamma model on the repeat buyers); horizon 39 weeks. Each line gives the best
CPU time (``time.process_time``) of ``repeat`` calls (default 7) after one warm-up call. To
compare two versions on a shared machine, run this script alternately with each version on
``PYTHONPATH`` (benchmarks/README.md, "Third round").
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from crmcore.models import _inputs, bgnbd, gamma_gamma, mbgnbd
from crmcore.simulate import bgnbd_histories, gamma_gamma_spend

N = 1_000_000
BG = (0.243, 4.414, 0.793, 2.426)  # CDNOW estimates (Fader, Hardie & Lee 2005)
GG = (6.25, 3.74, 15.44)
HORIZON = 39.0


def main() -> None:
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    rng = np.random.default_rng(2024)
    sim = bgnbd_histories(*BG, T=rng.uniform(1.0, 78.0, N), rng=1)
    x = np.asarray(sim.frequency).astype(np.int64)
    tx, big_t = np.asarray(sim.recency, dtype=float), np.asarray(sim.T, dtype=float)
    buyers = x > 0
    gx = x[buyers]
    gm = np.asarray(gamma_gamma_spend(*GG, frequency=gx, rng=3).monetary_value, dtype=float)
    xf = x.astype(np.float64)
    values = xf + 1.0
    p = bgnbd.BgNbdParams(r=BG[0], alpha=BG[1], a=BG[2], b=BG[3])
    mp = mbgnbd.MbgNbdParams(r=BG[0], alpha=BG[1], a=BG[2], b=BG[3])
    gp = gamma_gamma.GammaGammaParams(p=GG[0], q=GG[1], v=GG[2])
    tasks: dict[str, Callable[[], Any]] = {
        "floor: np.log over 1M": lambda: np.log(values),
        "validation, int64 counts": lambda: _inputs.histories(x, tx, big_t),
        "validation, float64 counts": lambda: _inputs.histories(xf, tx, big_t),
        "BG/NBD P(alive)": lambda: bgnbd.probability_alive(p, x, tx, big_t),
        "BG/NBD P(alive), float64 counts": lambda: bgnbd.probability_alive(p, xf, tx, big_t),
        "BG/NBD expected purchases": lambda: bgnbd.conditional_expected_purchases(
            p, HORIZON, x, tx, big_t
        ),
        "BG/NBD P(at least one purchase)": lambda: bgnbd.conditional_purchase_probability(
            p, HORIZON, x, tx, big_t
        ),
        "MBG/NBD P(alive)": lambda: mbgnbd.probability_alive(mp, x, tx, big_t),
        "MBG/NBD P(at least one purchase)": lambda: mbgnbd.conditional_purchase_probability(
            mp, HORIZON, x, tx, big_t
        ),
        "MBG/NBD expected purchases": lambda: mbgnbd.conditional_expected_purchases(
            mp, HORIZON, x, tx, big_t
        ),
        f"Gamma-Gamma expected spend ({gx.size:,} buyers)": lambda: (
            gamma_gamma.conditional_expected_spend(gp, gx, gm)
        ),
    }
    chosen = sys.argv[2:]
    for label, func in tasks.items():
        if chosen and not any(c in label for c in chosen):
            continue
        func()
        best = float("inf")
        for _ in range(repeat):
            start = time.process_time()
            func()
            best = min(best, time.process_time() - start)
        print(f"{label:<48s} {best * 1e3:8.2f} ms cpu", flush=True)


if __name__ == "__main__":
    main()
