"""Benchmark: InteractionTable.from_arrays and summarize on 10M transactions, 1M customers.

Run with ``python benchmarks/bench_summary.py [--rows N] [--customers N]``. Prints rows per
second and the peak memory (traced numpy allocations, tracemalloc) of each step, for
integer and for string customer ids. Each step runs three times: the first (cold) call and
the best call are both printed, since on a shared virtual machine the first touch of fresh
memory alone can double a cold call. Goal on a 2-core machine with integer ids: both steps
together under 2 s and under 1.5 GB peak.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

import crmcore


def make_log(n_rows: int, n_customers: int, seed: int = 7) -> dict[str, Any]:
    """Draw a purchase log: every customer buys at least once, over two years."""
    rng = np.random.default_rng(seed)
    ids = np.concatenate(
        [np.arange(n_customers), rng.integers(0, n_customers, n_rows - n_customers)]
    )
    rng.shuffle(ids)
    start = np.datetime64("2023-01-01T00:00:00", "s").astype("datetime64[ns]")
    offsets = rng.integers(0, 730 * 24 * 3600, n_rows) * np.int64(1_000_000_000)
    times = start + offsets.astype("timedelta64[ns]")
    amounts = np.round(rng.gamma(2.0, 20.0, n_rows), 2)
    return {"ids": ids, "times": times, "amounts": amounts}


def measure(step: Callable[[], Any], repeat: int = 3) -> tuple[Any, float, float, float]:
    """Run ``step`` ``repeat`` times; return its result, first and best seconds, peak MB.

    The peak is the traced peak of the first call.
    """
    tracemalloc.start()
    t0 = time.perf_counter()
    out = step()
    first = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    best = first
    for _ in range(repeat - 1):
        t0 = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - t0)
    return out, first, best, peak / 2**20


def run(n_rows: int, n_customers: int, string_ids: bool) -> float:
    log = make_log(n_rows, n_customers)
    ids = log["ids"].astype(str) if string_ids else log["ids"]
    label = "string ids" if string_ids else "integer ids"
    table, f_table, t_table, m_table = measure(
        lambda: crmcore.InteractionTable.from_arrays(ids, log["times"], amounts=log["amounts"])
    )
    summary, f_sum, t_sum, m_sum = measure(
        lambda: crmcore.summarize(table, observation_end="2024-12-31", time_unit="W")
    )
    assert summary.n_customers == n_customers
    for name, first, secs, mem in (
        ("InteractionTable.from_arrays", f_table, t_table, m_table),
        ("summarize", f_sum, t_sum, m_sum),
    ):
        print(
            f"{label:12s} {name:30s} best {secs:6.3f} s ({n_rows / secs / 1e6:6.2f} M rows/s), "
            f"first {first:6.3f} s, peak {mem:7.1f} MB"
        )
    total = t_table + t_sum
    print(
        f"{label:12s} {'both':30s} best {total:6.3f} s, first {f_table + f_sum:6.3f} s "
        "(goal for integer ids: < 2 s, < 1.5 GB)"
    )
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"{args.rows:,} transactions, {args.customers:,} customers, numpy {np.__version__}")
    run(args.rows, args.customers, string_ids=False)
    run(args.rows, args.customers, string_ids=True)


if __name__ == "__main__":
    main()
