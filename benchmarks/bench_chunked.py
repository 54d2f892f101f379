"""Benchmark: summarising a Parquet log larger than memory, in chunks, with bounded memory.

Run with ``python benchmarks/bench_chunked.py [--rows 10M,30M,100M] [--customers N]
[--chunk-rows N] [--row-group-rows N] [--in-memory-max N] [--keep DIR]``. Needs pyarrow.

For each size the script writes a purchase log of that many rows itself, with pyarrow, into
a temporary folder (``--keep DIR`` writes there instead and keeps the files): one Parquet
file in row groups of ``--row-group-rows`` rows, columns ``customer_id`` (int64), ``time``
(timestamp, ns, UTC) and ``amount`` (float64), in time order as a log is appended (two years
of purchases; ``--customers`` customers drawn uniformly, so customers span every chunk).

It then summarises the file in two ways, each in a fresh process so that its peak resident
memory (``resource.getrusage``, ``ru_maxrss``) is its own:

* chunked: ``pyarrow.parquet.ParquetFile.read_row_groups`` reads ``--chunk-rows`` rows (whole
  row groups) at a time; each chunk becomes an ``InteractionTable.from_arrays``; the first chunk is
  ``summarize``-d with the chunk's last time as observation end, and every later chunk is
  folded in with ``CustomerSummary.update`` (the last one with the log's true observation
  end). Memory holds one chunk and the running summary, whatever the length of the log.
* in memory: the whole file is read, made into one table and summarised (only up to
  ``--in-memory-max`` rows, default 30 million).

Where both ran, every column of the two summaries is compared (exactly for counts, ids,
dates and times; spend sums within 1e-12 relative, since the chunked path adds the spend
of one customer in another order). Reported per path: seconds (read, table + summary,
total), nanoseconds per row, and peak RSS; at the end a least-squares line of the chunked
cost over the sizes that ran. Summaries use ``period="D"`` and ``time_unit="W"``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

START = np.datetime64("2023-01-01T00:00:00", "ns")
SPAN_NS = 730 * 24 * 3600 * 10**9  # two years
END = "2024-12-31"  # observation end: the last day of the log


def parse_size(text: str) -> int:
    """``"10M"`` -> 10_000_000, ``"500k"`` -> 500_000, ``"1234"`` -> 1234."""
    text = text.strip().lower().replace("_", "")
    scale = {"k": 10**3, "m": 10**6, "g": 10**9}.get(text[-1:], 1)
    number = text[:-1] if text[-1:] in "kmg" else text
    return int(float(number) * scale)


def write_log(path: Path, n_rows: int, n_customers: int, group: int, seed: int = 11) -> float:
    """Write the log in row groups of ``group`` rows, in time order; return seconds taken."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [
            ("customer_id", pa.int64()),
            ("time", pa.timestamp("ns", tz="UTC")),
            ("amount", pa.float64()),
        ]
    )
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    n_groups = -(-n_rows // group)
    with pq.ParquetWriter(path, schema) as writer:
        for k in range(n_groups):
            n = min(group, n_rows - k * group)
            lo = SPAN_NS * (k * group) // n_rows  # this group's slice of the two years
            hi = SPAN_NS * (k * group + n) // n_rows
            offsets = np.sort(rng.integers(lo, max(hi, lo + 1), n))
            times = START + offsets.astype("timedelta64[ns]")
            batch = pa.table(
                {
                    "customer_id": rng.integers(0, n_customers, n),
                    "time": pa.array(times, type=pa.timestamp("ns", tz="UTC")),
                    "amount": np.round(rng.gamma(2.0, 20.0, n), 2),
                },
                schema=schema,
            )
            writer.write_table(batch, row_group_size=group)
    return time.perf_counter() - t0


def columns_of(batch: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ids = batch.column(0).to_numpy()
    times = batch.column(1).to_numpy().astype("datetime64[ns]")
    amounts = batch.column(2).to_numpy()
    return ids, times, amounts


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def worker(mode: str, path: Path, chunk_rows: int, out: Path) -> None:
    """Summarise ``path`` in one mode; write timings, peak RSS and the summary to ``out``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from crmcore import InteractionTable, summarize

    read_s = work_s = 0.0
    t_all, cpu_all = time.perf_counter(), time.process_time()
    n_chunks = 0
    if mode == "memory":
        t0 = time.perf_counter()
        ids, times, amounts = columns_of(pq.read_table(path))
        read_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        table = InteractionTable.from_arrays(ids, times, amounts=amounts)
        del ids, times, amounts
        summary = summarize(table, observation_end=END, period="D", time_unit="W")
        del table
        work_s = time.perf_counter() - t0
        n_chunks = 1
    else:
        summary = None
        log = pq.ParquetFile(path)
        groups = list(range(log.num_row_groups))
        per_chunk = max(1, chunk_rows // max(1, log.metadata.row_group(0).num_rows))
        t0 = time.perf_counter()
        for first in range(0, len(groups), per_chunk):
            ids, times, amounts = columns_of(log.read_row_groups(groups[first : first + per_chunk]))
            last = first + per_chunk >= len(groups)
            read_s += time.perf_counter() - t0
            t0 = time.perf_counter()
            end: object = END if last else times[-1]
            table = InteractionTable.from_arrays(ids, times, amounts=amounts)
            del ids, times, amounts
            if summary is None:
                summary = summarize(table, observation_end=end, period="D", time_unit="W")
            else:
                summary = summary.update(table, observation_end=end)
            del table
            n_chunks += 1
            work_s += time.perf_counter() - t0
            t0 = time.perf_counter()
        read_s += time.perf_counter() - t0
    total_s = time.perf_counter() - t_all
    cpu_s = time.process_time() - cpu_all
    assert summary is not None
    result = {
        "read_s": read_s,
        "work_s": work_s,
        "total_s": total_s,
        "cpu_s": cpu_s,
        "chunks": n_chunks,
        "customers": len(summary),
        "peak_rss_mb": peak_rss_mb(),
        "arrow_pool_peak_mb": pa.default_memory_pool().max_memory() / 2**20,
    }
    out.with_suffix(".json").write_text(json.dumps(result))
    np.savez(out.with_suffix(".npz"), **summary.columns())


def run_worker(mode: str, path: Path, chunk_rows: int, out: Path) -> dict[str, Any] | None:
    cmd = [sys.executable, __file__, "--worker", mode, str(path), str(chunk_rows), str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(f"  {mode}: failed\n{proc.stderr.strip()[-2000:]}")
        return None
    result: dict[str, Any] = json.loads(out.with_suffix(".json").read_text())
    return result


def compare(a_path: Path, b_path: Path) -> str:
    """Compare two summaries column by column; return a one-line verdict."""
    a, b = np.load(a_path), np.load(b_path)
    worst = 0.0
    for name in a.files:
        x, y = a[name], b[name]
        if x.shape != y.shape:
            return f"DIFFERENT: {name} has shape {x.shape} vs {y.shape}"
        if x.dtype.kind == "f":
            scale = np.maximum(np.abs(x), np.abs(y))
            diff = np.abs(x - y)
            rel = float(np.max(diff / np.where(scale > 0, scale, 1.0), initial=0.0))
            if not rel <= 1e-12:
                return f"DIFFERENT: {name} differs by {rel:.2e} relative"
            worst = max(worst, rel)
        elif not np.array_equal(x, y):
            return f"DIFFERENT: {name}"
    return f"equal (every column; largest relative difference of a float column {worst:.1e})"


def line_fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares line ``y = a + b x``; return (a, b)."""
    b, a = np.polyfit(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float), 1)
    return float(a), float(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="2M", help="comma-separated sizes, e.g. 10M,30M,100M")
    parser.add_argument("--customers", default="1M", help="customers in the log (default 1M)")
    parser.add_argument("--chunk-rows", default="5M", help="rows per chunk (default 5M)")
    parser.add_argument("--row-group-rows", default="1M", help="rows per row group (1M)")
    parser.add_argument(
        "--in-memory-max", default="30M", help="largest log also summarised in memory (30M)"
    )
    parser.add_argument("--keep", default=None, help="write the logs here and keep them")
    args = parser.parse_args()
    sizes = [parse_size(s) for s in args.rows.split(",")]
    n_customers = parse_size(args.customers)
    chunk = parse_size(args.chunk_rows)
    group = parse_size(args.row_group_rows)
    mem_max = parse_size(args.in_memory_max)
    print(
        f"{n_customers:,} customers; chunks of {chunk:,} rows; row groups of {group:,} rows; "
        "period D, time unit W"
    )
    header = (
        f"{'rows':>12s} {'path':<9s} {'chunks':>6s} {'read s':>8s} {'summ. s':>8s} "
        f"{'total s':>8s} {'CPU s':>7s} {'ns/row':>7s} {'peak RSS':>9s} {'arrow pool':>10s}"
    )
    fitted: list[tuple[int, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep) if args.keep else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for n in sizes:
            path = folder / f"log_{n}.parquet"
            if not path.exists():
                secs = write_log(path, n, n_customers, group)
                size_mb = path.stat().st_size / 2**20
                print(f"\nwrote {n:,} rows ({size_mb:,.0f} MB) in {secs:.1f} s")
            print(header)
            runs: dict[str, dict[str, Any]] = {}
            for mode in ("chunked", "memory"):
                if mode == "memory" and n > mem_max:
                    continue
                res = run_worker(mode, path, chunk, Path(tmp) / f"{mode}_{n}")
                if res is None:
                    continue
                runs[mode] = res
                print(
                    f"{n:>12,} {mode:<9s} {res['chunks']:>6d} {res['read_s']:8.2f} "
                    f"{res['work_s']:8.2f} {res['total_s']:8.2f} {res['cpu_s']:7.2f} "
                    f"{1e9 * res['total_s'] / n:7.0f} "
                    f"{res['peak_rss_mb']:7.0f}MB {res['arrow_pool_peak_mb']:8.0f}MB"
                )
            if "chunked" in runs:
                fitted.append((n, runs["chunked"]["total_s"], runs["chunked"]["cpu_s"]))
            if len(runs) == 2:
                c, m = runs["chunked"], runs["memory"]
                verdict = compare(Path(tmp) / f"chunked_{n}.npz", Path(tmp) / f"memory_{n}.npz")
                print(
                    f"  chunked / in memory: {c['total_s'] / m['total_s']:.2f}x in total, "
                    f"{c['work_s'] / m['work_s']:.2f}x without reading, "
                    f"{c['cpu_s'] / m['cpu_s']:.2f}x in CPU time; "
                    f"{c['customers']:,} customers; summaries {verdict}"
                )
            for mode in runs:
                for suffix in (".json", ".npz"):
                    (Path(tmp) / f"{mode}_{n}").with_suffix(suffix).unlink(missing_ok=True)
            if not args.keep:
                path.unlink()
    if len(fitted) >= 2:
        rows = [float(n) for n, _, _ in fitted]
        a, b = line_fit(rows, [s for _, s, _ in fitted])
        ca, cb = line_fit(rows, [c for _, _, c in fitted])
        print(
            f"\nchunked cost over {len(fitted)} sizes ({n_customers:,} customers): "
            f"wall {a:.2f} s + {1e9 * b:.0f} ns per row; CPU {ca:.2f} s + {1e9 * cb:.0f} ns per row"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5]))
    else:
        main()
