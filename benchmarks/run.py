"""End-to-end benchmark: from a transaction log to CLV, in one table.

Run with ``python benchmarks/run.py [--transactions N] [--customers N] [--repeat K]``;
the default is 10 million transactions of 1 million customers (integer ids) and
10 million NPS answers. The log is drawn by :func:`crmcore.simulate.customer_base`
(BG/NBD purchases with the CDNOW heterogeneity, the purchase rate scaled so that the
customers make about the requested number of purchases over two years, and
Gamma-Gamma amounts), trimmed to exactly ``--transactions`` rows by dropping random
repeat purchases, and put in time order, as a real log comes. It is drawn in a separate
process, so its memory does not count against the pipeline.

Stages: ``InteractionTable.from_arrays``, ``summarize`` (daily occasions, weeks),
RFM scores (quantile), ABC classes, NPS, BG/NBD fit, Gamma-Gamma fit on the repeat
customers, P(alive), and CLV (52 weeks in 4-week steps, 0.2% discount a week).

Time: the pipeline runs ``--repeat`` times; each stage's time is its best over the
runs, and the pipeline's the best total (the machine is shared, so single runs are
noisy). Floor: the best time of one ``numpy.argsort`` of as many float64 values as the
stage has rows, for the passes over data (table, summary, RFM, ABC, NPS); goal: a stage
within 3x its floor. Memory: the process's peak resident set size (``resource``
``ru_maxrss``, inputs included) after each stage of the first run, and, from one more
run under :mod:`tracemalloc`, each stage's traced peak above what was live when it
started. Goals on a 2-core machine: the pipeline under 10 s and under 2.5 GB peak RSS.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import multiprocessing
import resource
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from _timing import best_of

import crmcore
from crmcore import metrics
from crmcore.models import bgnbd, clv, gamma_gamma
from crmcore.simulate import CDNOW_BGNBD_WEEKLY, customer_base

START, END = "2023-01-01", "2024-12-31"
ACQUISITION_DAYS = 365.0
MARGIN = 1.03  # draw about 3% more purchases than asked, then drop the excess
PIPELINE_GOAL_S = 10.0
RSS_GOAL_GB = 2.5
FLOOR_GOAL = 3.0


# --------------------------------------------------------------------------- the log


def _rate_scale(n_customers: int, n_transactions: int) -> float:
    """Factor dividing the CDNOW alpha so that the expected number of rows is on target."""
    r, alpha, a, b = CDNOW_BGNBD_WEEKLY
    span = (np.datetime64(END) - np.datetime64(START)).astype(np.int64) / 7
    big_t = np.linspace(span - ACQUISITION_DAYS / 7, span, 1001)  # weeks of observation
    wanted = n_transactions * MARGIN / n_customers - 1  # repeat purchases per customer

    def repeats(scale: float) -> float:
        params = bgnbd.BgNbdParams(r=r, alpha=alpha / scale, a=a, b=b)
        return float(bgnbd.expected_purchases(params, big_t).mean())

    lo, hi = 1e-3, 1e6
    for _ in range(80):  # bisection in log scale; the expectation grows with the scale
        mid = (lo * hi) ** 0.5
        lo, hi = (mid, hi) if repeats(mid) < wanted else (lo, mid)
    return hi


def simulate_log(n_customers: int, n_transactions: int, seed: int, out_dir: str) -> dict[str, Any]:
    """Draw the log and the NPS answers and save them as .npy files in ``out_dir``."""
    start = time.perf_counter()
    r, alpha, a, b = CDNOW_BGNBD_WEEKLY
    scale = _rate_scale(n_customers, n_transactions)
    for attempt in range(10):
        purchase = (r, alpha / scale, a, b)
        base = customer_base(
            n_customers,
            start=START,
            observation_end=END,
            acquisition_days=ACQUISITION_DAYS,
            purchase=purchase,
            rng=seed + attempt,
        )
        if len(base.table) >= n_transactions:
            break
        scale *= 1.05  # too few purchases drawn: ask for more
    else:
        raise RuntimeError("could not draw enough transactions; lower --transactions")
    table = base.table
    codes = np.asarray(table.customer_codes)
    drawn = codes.size
    # Rows come grouped by customer; keep every first purchase and a random subset of
    # the repeat purchases.
    first = np.ones(drawn, dtype=np.bool_)
    np.not_equal(codes[1:], codes[:-1], out=first[1:])
    rng = np.random.default_rng(seed)
    repeat_rows = np.flatnonzero(~first)
    keep = first
    keep[rng.choice(repeat_rows, n_transactions - n_customers, replace=False)] = True
    times = np.asarray(table.times)[keep]
    order = np.argsort(times, kind="stable")
    columns = {
        "ids": np.asarray(table.customer_ids)[codes[keep][order]],
        "times": times[order],
        "amounts": np.asarray(table.amounts)[keep][order],
        "answers": rng.binomial(10, rng.beta(4.0, 1.5, n_transactions)),
    }
    for name, column in columns.items():
        np.save(Path(out_dir) / f"{name}.npy", column)
    return {
        "purchase": purchase,
        "drawn": drawn,
        "seconds": time.perf_counter() - start,
    }


def load_log(out_dir: str) -> dict[str, np.ndarray[Any, Any]]:
    return {
        name: np.load(Path(out_dir) / f"{name}.npy")
        for name in ("ids", "times", "amounts", "answers")
    }


# --------------------------------------------------------------------------- stages


def _table(r: dict[str, Any]) -> Any:
    return crmcore.InteractionTable.from_arrays(r["ids"], r["times"], amounts=r["amounts"])


def _summary(r: dict[str, Any]) -> Any:
    return crmcore.summarize(r["table"], observation_end=END, period="D", time_unit="W")


def _gamma_gamma(r: dict[str, Any]) -> Any:
    s = r["summary"]
    repeat = s.frequency > 0
    return gamma_gamma.fit(s.frequency[repeat], s.monetary_value[repeat])


def _clv(r: dict[str, Any]) -> Any:
    return clv.customer_lifetime_value(
        r["bgnbd"], r["gamma_gamma"], r["summary"], horizon=52, step=4, discount_rate=0.002
    )


# (label, key of the result, what its rows are, the stage)
STAGES: list[tuple[str, str, str, Callable[[dict[str, Any]], Any]]] = [
    ("InteractionTable.from_arrays", "table", "transactions", _table),
    ("summarize", "summary", "transactions", _summary),
    ("RFM scores (quantile)", "rfm", "customers", lambda r: metrics.rfm_scores(r["summary"])),
    ("ABC classes", "abc", "customers", lambda r: metrics.abc_classes(r["summary"])),
    ("NPS", "nps", "answers", lambda r: metrics.nps(r["answers"])),
    ("BG/NBD fit", "bgnbd", "customers", lambda r: bgnbd.fit(r["summary"])),
    ("Gamma-Gamma fit (repeat)", "gamma_gamma", "repeat customers", _gamma_gamma),
    (
        "P(alive)",
        "p_alive",
        "customers",
        lambda r: bgnbd.probability_alive(r["bgnbd"].params, r["summary"]),
    ),
    ("CLV (52 w, 4-w steps)", "clv", "customers", _clv),
]
DATA_PASSES = ("table", "summary", "rfm", "abc", "nps")


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes / KiB


def run_pipeline(
    log: dict[str, np.ndarray[Any, Any]], *, trace: bool = False
) -> tuple[dict[str, Any], dict[str, float], dict[str, float], float]:
    """Run every stage once; return results, seconds, MB (RSS or traced) per stage, total."""
    results: dict[str, Any] = dict(log)
    seconds: dict[str, float] = {}
    memory: dict[str, float] = {}
    base = live = highest = 0
    if trace:
        tracemalloc.start()
        base, _ = tracemalloc.get_traced_memory()
    start = time.perf_counter()
    for _, key, _, stage in STAGES:
        if trace:
            tracemalloc.reset_peak()
            live, _ = tracemalloc.get_traced_memory()
        t0 = time.perf_counter()
        results[key] = stage(results)
        seconds[key] = time.perf_counter() - t0
        if trace:
            peak = tracemalloc.get_traced_memory()[1]
            highest = max(highest, peak)
            memory[key] = (peak - live) / 2**20
        else:
            memory[key] = peak_rss_mb()
    total = time.perf_counter() - start
    if trace:
        memory["pipeline"] = (highest - base) / 2**20
        tracemalloc.stop()
    else:
        memory["pipeline"] = peak_rss_mb()
    return results, seconds, memory, total


# --------------------------------------------------------------------------- report


def _count(n: float) -> str:
    return f"{n / 1e6:.2f}M" if n >= 1e5 else f"{n:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="timed pipeline runs")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not 1 <= args.customers <= args.transactions:
        parser.error("need 1 <= --customers <= --transactions")

    with tempfile.TemporaryDirectory(prefix="crmcore-bench-") as tmp:
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
            info = pool.submit(
                simulate_log, args.customers, args.transactions, args.seed, tmp
            ).result()
        log = load_log(tmp)
    rss_inputs = peak_rss_mb()

    times: dict[str, list[float]] = {key: [] for _, key, _, _ in STAGES}
    totals: list[float] = []
    rss: dict[str, float] = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for run in range(args.repeat):
            results, seconds, memory, total = run_pipeline(log)
            if run == 0:
                rss = memory
            for key, secs in seconds.items():
                times[key].append(secs)
            totals.append(total)
            del results
        results, _, traced, _ = run_pipeline(log, trace=True)
    rss_end = peak_rss_mb()

    summary = results["summary"]
    n_customers = len(summary)
    n_repeat = int(np.count_nonzero(summary.frequency > 0))
    rows = {
        "transactions": args.transactions,
        "customers": n_customers,
        "repeat customers": n_repeat,
        "answers": log["answers"].size,
    }
    floor_rng = np.random.default_rng(0)
    floors: dict[int, float] = {}
    for key in DATA_PASSES:
        n = rows[next(kind for _, k, kind, _ in STAGES if k == key)]
        if n not in floors:
            values = floor_rng.random(n)
            _, floors[n] = best_of(lambda v=values: np.argsort(v), args.repeat)
    del values

    fit, spend_fit = results["bgnbd"], results["gamma_gamma"]
    print(
        f"{args.transactions:,} transactions, {n_customers:,} customers "
        f"({n_repeat:,} repeat), {log['answers'].size:,} NPS answers; numpy {np.__version__}"
    )
    print(
        f"log drawn by crmcore.simulate.customer_base in {info['seconds']:.1f} s "
        f"(separate process): {info['drawn']:,} rows trimmed to {args.transactions:,}, "
        "time order, integer ids"
    )
    print(
        f"time: best of {args.repeat} runs (shared 2-core machine); floor: best numpy.argsort "
        "of as many float64 values; peak RSS: ru_maxrss of the process after the stage "
        "(first run, inputs included); traced: tracemalloc peak of the stage above live "
        "memory at its start"
    )
    header = (
        f"{'stage':30s} {'rows':>8s} {'time':>9s} {'rows/s':>10s} {'floor':>9s} "
        f"{'ratio':>6s} {'peak RSS':>10s} {'traced':>9s}  goal"
    )
    print(header)
    print("-" * (len(header) + 22))
    for label, key, kind, _ in STAGES:
        secs = min(times[key])
        n = rows[kind]
        line = f"{label:30s} {_count(n):>8s} {secs:7.3f} s {n / secs / 1e6:6.2f} M/s "
        if key in DATA_PASSES:
            floor = floors[n]
            ratio = secs / floor
            mark = "pass" if ratio <= FLOOR_GOAL else "MISS"
            line += f"{floor:7.3f} s {ratio:5.2f}x "
            goal = f"<= {FLOOR_GOAL:.0f}x floor {mark}"
        else:
            line += f"{'':9s} {'':6s} "
            goal = ""
        line += f"{rss[key]:7.0f} MB {traced[key]:6.0f} MB  {goal}"
        print(line.rstrip())
    total = min(totals)
    peak = rss["pipeline"]
    mark_t = "pass" if total < PIPELINE_GOAL_S else "MISS"
    mark_m = "pass" if peak < RSS_GOAL_GB * 1024 else "MISS"
    print(
        f"{'whole pipeline':30s} {_count(args.transactions):>8s} {total:7.3f} s "
        f"{args.transactions / total / 1e6:6.2f} M/s {'':9s} {'':6s} {peak:7.0f} MB "
        f"{traced['pipeline']:6.0f} MB  < {PIPELINE_GOAL_S:.0f} s {mark_t}, "
        f"< {RSS_GOAL_GB} GB RSS {mark_m}"
    )
    print(
        f"peak RSS with the inputs loaded, before the pipeline: {rss_inputs:.0f} MB; "
        f"at the end (after the traced run and the floors): {rss_end:.0f} MB"
    )
    print(f"pipeline totals of the runs: {', '.join(f'{t:.2f} s' for t in totals)}")
    true = np.round(info["purchase"], 3).tolist()
    print(
        f"BG/NBD estimates {np.round(fit.params.as_array(), 3).tolist()} "
        f"(log drawn with {true}; same-day purchases merge), "
        f"converged {fit.converged}; Gamma-Gamma {np.round(spend_fit.params.as_array(), 3)}"
    )
    notes = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    for note in notes:
        print(f"note: {note}")


if __name__ == "__main__":
    main()
