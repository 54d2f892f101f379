"""Benchmark: InteractionTable.from_arrays and summarize, against one argsort and lifetimes.

Run with ``python benchmarks/bench_summary.py [--rows N --customers N] [--repeat K]
[--lifetimes-python PATH]``. Without ``--rows``, two logs are timed: 640,000 rows of
300,000 customers (the size of the comparison with lifetimes) and 10M rows of 1M
customers. For each, integer and string customer ids, the script prints the best and the
first (cold) call of each step, the peak memory of the first call (traced numpy
allocations, tracemalloc), and the ratio of both steps together to one ``np.argsort`` of
the customer ids (the floor of any summary that sorts the rows once). On a shared virtual
machine the first touch of fresh memory alone can double a cold call, hence best of K.

lifetimes (0.11.3) is never imported here: when its interpreter exists (by default the
environment that ``benchmarks/compare_lifetimes.py`` builds in
``benchmarks/.peer-envs/lifetimes-0.11.3/``, or ``--lifetimes-python PATH``), the 640k-row
log goes to it through ``.npy`` files and ``summary_data_from_transaction_data`` is timed
there, on a DataFrame built before the clock starts, with daily periods and a daily unit
(crmcore: ``period="D"``, ``time_unit="D"``); the two summaries are compared.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import textwrap
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import crmcore

OBSERVATION_END = "2024-12-31"
LIFETIMES_PYTHON = (
    Path(__file__).resolve().parent / ".peer-envs" / "lifetimes-0.11.3" / "bin" / "python"
)


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


def measure(step: Callable[[], Any], repeat: int) -> tuple[Any, float, float, float]:
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


def run(log: dict[str, Any], n_customers: int, string_ids: bool, repeat: int) -> float:
    n_rows = log["ids"].size
    ids = log["ids"].astype(str) if string_ids else log["ids"]
    label = "string ids" if string_ids else "integer ids"
    _, _, t_sort, _ = measure(lambda: np.argsort(ids), repeat)
    table, f_table, t_table, m_table = measure(
        lambda: crmcore.InteractionTable.from_arrays(ids, log["times"], amounts=log["amounts"]),
        repeat,
    )
    summary, f_sum, t_sum, m_sum = measure(
        lambda: crmcore.summarize(table, observation_end=OBSERVATION_END, time_unit="W"), repeat
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
    print(f"{label:12s} {'np.argsort(ids)':30s} best {t_sort:6.3f} s")
    print(
        f"{label:12s} {'both':30s} best {total:6.3f} s, first {f_table + f_sum:6.3f} s, "
        f"{total / t_sort:5.2f} x one argsort"
    )
    return total


LIFETIMES_WORKER = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    import pandas as pd
    from lifetimes.utils import summary_data_from_transaction_data

    work, repeat, end = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    df = pd.DataFrame({
        "id": np.load(f"{work}/ids.npy"),
        "date": np.load(f"{work}/times.npy"),
        "amount": np.load(f"{work}/amounts.npy"),
    })
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = summary_data_from_transaction_data(
            df, "id", "date", monetary_value_col="amount", observation_period_end=end, freq="D"
        )
        best = min(best, time.perf_counter() - t0)
    out = out.sort_index()
    for col in ("frequency", "recency", "T", "monetary_value"):
        np.save(f"{work}/lt_{col}.npy", out[col].to_numpy(dtype=float))
    json.dump({"seconds": best}, open(f"{work}/lt.json", "w"))
    """
)


def run_lifetimes(log: dict[str, Any], python: Path, repeat: int) -> None:
    """Time lifetimes' summary on ``log`` (daily periods and unit) against crmcore's."""
    if not python.exists():
        print(f"lifetimes: no interpreter at {python} (run benchmarks/compare_lifetimes.py once)")
        return
    _, t_cr = measure(
        lambda: crmcore.summarize(
            crmcore.InteractionTable.from_arrays(log["ids"], log["times"], amounts=log["amounts"]),
            observation_end=OBSERVATION_END,
        ),
        repeat,
    )[::2]
    ours = crmcore.summarize(
        crmcore.InteractionTable.from_arrays(log["ids"], log["times"], amounts=log["amounts"]),
        observation_end=OBSERVATION_END,
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for key in ("ids", "times", "amounts"):
            np.save(work / f"{key}.npy", log[key])
        (work / "worker.py").write_text(LIFETIMES_WORKER)
        proc = subprocess.run(
            [str(python), str(work / "worker.py"), tmp, str(repeat), OBSERVATION_END],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            print("lifetimes: the worker failed:\n" + proc.stderr[-2000:])
            return
        t_lt = json.loads((work / "lt.json").read_text())["seconds"]
        theirs = {c: np.load(work / f"lt_{c}.npy") for c in ("frequency", "recency", "T")}
    agree = all(
        np.array_equal(theirs[c], np.asarray(getattr(ours, c), dtype=float))
        for c in ("frequency", "recency", "T")
    )
    print(
        f"lifetimes 0.11.3 summary_data_from_transaction_data (freq='D'): best {t_lt:6.3f} s; "
        f"crmcore from_arrays + summarize (period='D'): best {t_cr:6.3f} s; "
        f"{t_lt / t_cr:5.1f} x faster; frequency, recency, T identical: {agree}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--customers", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--lifetimes-python", type=Path, default=LIFETIMES_PYTHON)
    args = parser.parse_args()
    if args.rows is None:
        sizes = [(640_000, 300_000), (10_000_000, 1_000_000)]
    else:
        sizes = [(args.rows, args.customers or max(1, args.rows // 10))]
    print(f"numpy {np.__version__}, best of {args.repeat}")
    for n_rows, n_customers in sizes:
        print(f"\n{n_rows:,} transactions, {n_customers:,} customers")
        log = make_log(n_rows, n_customers)
        run(log, n_customers, string_ids=False, repeat=args.repeat)
        run(log, n_customers, string_ids=True, repeat=args.repeat)
        if n_rows <= 1_000_000:
            run_lifetimes(log, args.lifetimes_python, args.repeat)


if __name__ == "__main__":
    main()
