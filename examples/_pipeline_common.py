"""Pieces shared by ``dask_pipeline.py`` and ``spark_pipeline.py`` (private to examples/).

The two pipelines run the same four stages; only the engine that moves the data
differs. Every function here that a worker runs takes and returns a pandas
DataFrame of one *customer partition* (all the rows of the customers whose id
hashes to one bucket), so that dask's ``map_partitions`` and Spark's
``groupBy("bucket").applyInPandas`` can call it unchanged:

1. :func:`summarize_partition`: raw transactions -> one summary row per customer
   (``crmcore.summarize``; numpy only).
2. :func:`compress_partition`: summaries -> weighted distinct (frequency, recency,
   T) histories (``crmcore.compress``; numpy only). The driver merges the parts
   with ``CompressedHistories.combine`` and fits BG/NBD on the result.
3. :func:`sample_partition`: summaries -> the repeat customers with the smallest
   sampling keys. The driver keeps the ``sample_size`` smallest keys overall, a
   uniform random sample of the repeat customers, and fits Gamma-Gamma on it.
4. :func:`score_partition`: summaries + the two fits -> P(alive), expected
   purchases and CLV per customer (needs ``crmcore[models]``, i.e. scipy).

:func:`write_transactions` writes the simulated Parquet data set and
:func:`single_machine` runs the same analysis on one machine, without any
engine, for comparison.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import crmcore
from crmcore import CompressedHistories, CustomerSummary

# --------------------------------------------------------------------------- settings

#: First day of the simulated acquisition window and end of observation (UTC).
START = "2023-01-01"
OBSERVATION_END = "2024-12-31"
_ACQUISITION_DAYS = 365.0
#: How purchases are merged into occasions and the unit of recency and T.
PERIOD = "W"
TIME_UNIT = "W"
#: The true parameters of the simulation: BG/NBD (r, alpha per week, a, b) and
#: Gamma-Gamma (p, q, v). Mean purchase rate r/alpha = 0.3 a week; mean dropout
#: probability a/(a+b) = 0.12 after each repeat purchase.
TRUE_BGNBD = {"r": 0.9, "alpha": 3.0, "a": 0.8, "b": 5.9}
TRUE_GAMMA_GAMMA = {"p": 6.0, "q": 4.0, "v": 15.0}
#: CLV settings: 52 weeks ahead in steps of 4 weeks, 0.2 % discount a week
#: (about 11 % a year).
CLV_HORIZON = 52.0
CLV_STEP = 4.0
CLV_DISCOUNT_RATE = 0.002
#: Default size of the Gamma-Gamma sample (repeat customers).
DEFAULT_SAMPLE_SIZE = 50_000
_CHUNK_CUSTOMERS = 250_000
_SAMPLING_SALT = np.uint64(0x5DEECE66D)

TRANSACTIONS_SCHEMA = pa.schema(
    [
        ("customer_id", pa.int64()),
        ("time", pa.timestamp("us", tz="UTC")),
        ("amount", pa.float64()),
        ("bucket", pa.int32()),
    ]
)

# --------------------------------------------------------------------------- hashing


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """Mix 64-bit integers (the SplitMix64 finaliser): a fixed, well-spread hash."""
    z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def bucket_of(customer_ids: Any, n_buckets: int) -> np.ndarray:
    """Customer partition of each id: a hash of the id modulo ``n_buckets``.

    The hash is a fixed function (not Python's salted ``hash``), so every
    process, every run and every engine agree on it.
    """
    ids = np.asarray(customer_ids, dtype=np.int64)
    return (_splitmix64(ids) % np.uint64(n_buckets)).astype(np.int32)


def sampling_key(customer_ids: Any) -> np.ndarray:
    """A pseudo-random number in [0, 1) per customer, fixed by the id.

    Keeping the ``k`` customers with the smallest keys draws a uniform random
    sample of ``k`` without replacement (bottom-k sampling). Each partition can
    keep its own ``k`` smallest, and the ``k`` smallest of those are the sample
    of the whole base, whatever the partitioning.
    """
    ids = np.asarray(customer_ids, dtype=np.int64)
    mixed = _splitmix64(ids.astype(np.uint64) ^ _SAMPLING_SALT)
    return (mixed >> np.uint64(11)).astype(np.float64) / float(1 << 53)


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class DataSet:
    """Where a simulated transaction data set lives and what it holds."""

    path: Path
    n_transactions: int
    n_customers: int
    n_buckets: int
    seed: int

    @property
    def files(self) -> list[Path]:
        """One Parquet file per customer bucket."""
        return sorted(self.path.glob("bucket-*.parquet"))


def _simulate_chunk(
    seed: int, chunk: int, first_id: int, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Purchases of ``n`` customers with ids from ``first_id`` (``crmcore.simulate``).

    BG/NBD purchases and Gamma-Gamma spend with the parameters above; each
    customer's first purchase is uniform in the acquisition window. Rows come
    grouped by customer, each customer's purchases in time order.
    """
    from crmcore.simulate import customer_base

    base = customer_base(
        n,
        start=START,
        observation_end=OBSERVATION_END,
        acquisition_days=_ACQUISITION_DAYS,
        purchase=tuple(TRUE_BGNBD.values()),
        spend=tuple(TRUE_GAMMA_GAMMA.values()),
        time_unit=TIME_UNIT,
        rng=np.random.default_rng([seed, chunk]),
    )
    table = base.table
    ids = table.customer_ids[table.customer_codes] + (first_id - 1)
    micros = table.times.astype("datetime64[us]").astype(np.int64)
    cents = np.maximum(np.round(table.amounts, 2), 0.01)  # prices in cents, never 0
    return ids.astype(np.int64), micros, cents


def write_transactions(
    path: Path | str, n_transactions: int, *, n_buckets: int, seed: int = 2024
) -> DataSet:
    """Write ``n_transactions`` simulated purchases as one Parquet file per customer bucket.

    Customers are drawn in chunks until the log holds ``n_transactions`` rows
    (the last customer keeps only their first rows). Every row of a customer
    goes to the file ``bucket-<b>.parquet`` of the bucket ``b = bucket_of(id)``,
    so each file holds whole customers: a summary needs no data from other files.
    The bucket is also a column, the key Spark groups by. If ``path`` already
    holds a data set written with the same arguments it is reused.
    """
    out = Path(path)
    manifest = out / "_manifest.json"  # a leading "_": Parquet readers skip it
    wanted = {"n_transactions": n_transactions, "n_buckets": n_buckets, "seed": seed}
    if manifest.exists():
        meta = json.loads(manifest.read_text())
        if {k: meta.get(k) for k in wanted} == wanted:
            return DataSet(path=out, **meta)
        raise FileExistsError(f"{out} holds another data set ({meta}); choose an empty directory")
    out.mkdir(parents=True, exist_ok=True)
    writers = [
        pq.ParquetWriter(out / f"bucket-{b:05d}.parquet", TRANSACTIONS_SCHEMA)
        for b in range(n_buckets)
    ]
    written, next_id, chunk, n_customers = 0, 1, 0, 0
    try:
        while written < n_transactions:
            ids, micros, amount = _simulate_chunk(seed, chunk, next_id, _CHUNK_CUSTOMERS)
            next_id += _CHUNK_CUSTOMERS
            chunk += 1
            take = min(ids.size, n_transactions - written)
            ids, micros, amount = ids[:take], micros[:take], amount[:take]
            written += take
            n_customers += np.unique(ids).size  # chunks hold disjoint ids
            bucket = bucket_of(ids, n_buckets)
            order = np.argsort(bucket, kind="stable")
            cuts = np.searchsorted(bucket[order], np.arange(n_buckets + 1))
            for b, writer in enumerate(writers):
                rows = order[cuts[b] : cuts[b + 1]]
                if rows.size:
                    writer.write_table(
                        pa.table(
                            {
                                "customer_id": ids[rows],
                                "time": pa.array(micros[rows], pa.timestamp("us", tz="UTC")),
                                "amount": amount[rows],
                                "bucket": bucket[rows],
                            },
                            schema=TRANSACTIONS_SCHEMA,
                        )
                    )
    finally:
        for writer in writers:
            writer.close()
    meta = {**wanted, "n_customers": n_customers}
    manifest.write_text(json.dumps(meta))
    return DataSet(path=out, **meta)


def utc_ns(column: Any) -> np.ndarray:
    """Times of a pandas column as naive UTC datetime64[ns] (aware or naive input)."""
    s = pd.Series(column)
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    return s.to_numpy().astype("datetime64[ns]")


# --------------------------------------------------------------------------- stage 1: summaries

#: Columns of a summary partition: the customer id, its bucket, and the
#: per-customer arrays of :class:`crmcore.CustomerSummary`.
SUMMARY_COLUMNS: dict[str, str] = {
    "customer_id": "int64",
    "bucket": "int32",
    "frequency": "int64",
    "recency": "float64",
    "T": "float64",
    "monetary_value": "float64",
    "n_purchases": "int64",
    "n_transactions": "int64",
    "total_spend": "float64",
    "first_spend": "float64",
    "first_purchase": "datetime64[us]",
    "last_purchase": "datetime64[us]",
    "time_since_last": "float64",
}


def empty_frame(columns: dict[str, str]) -> pd.DataFrame:
    """An empty DataFrame with these columns and dtypes (dask's ``meta``)."""
    return pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in columns.items()})


def summary_frame(summary: CustomerSummary, bucket: Any) -> pd.DataFrame:
    """A summary as a DataFrame with :data:`SUMMARY_COLUMNS`."""
    cols = summary.columns()
    frame = {"customer_id": cols["customer_ids"], "bucket": bucket}
    frame.update({k: cols[k] for k in SUMMARY_COLUMNS if k in cols})
    return pd.DataFrame(frame).astype(SUMMARY_COLUMNS)


def summarize_partition(transactions: pd.DataFrame) -> pd.DataFrame:
    """Stage 1 (worker): the summary of one customer partition's transactions."""
    if len(transactions) == 0:
        return empty_frame(SUMMARY_COLUMNS)
    table = crmcore.InteractionTable.from_arrays(
        transactions["customer_id"].to_numpy(),
        utc_ns(transactions["time"]),
        amounts=transactions["amount"].to_numpy(),
    )
    summary = crmcore.summarize(
        table, observation_end=OBSERVATION_END, period=PERIOD, time_unit=TIME_UNIT
    )
    # the bucket of each customer (a partition may hold several whole buckets)
    bucket = np.empty(summary.n_customers, dtype=np.int32)
    bucket[table.customer_codes] = transactions["bucket"].to_numpy()
    return summary_frame(summary, bucket)


def summary_from_frame(frame: pd.DataFrame) -> CustomerSummary:
    """Rebuild a :class:`crmcore.CustomerSummary` (the model inputs) from a summary frame."""
    return CustomerSummary.from_arrays(
        frame["frequency"].to_numpy(),
        frame["recency"].to_numpy(),
        frame["T"].to_numpy(),
        monetary_value=frame["monetary_value"].to_numpy(),
        customer_ids=frame["customer_id"].to_numpy(),
        time_unit=TIME_UNIT,
    )


# --------------------------------------------------------------------------- stage 2: histories

HISTORY_COLUMNS: dict[str, str] = {
    "frequency": "float64",
    "recency": "float64",
    "T": "float64",
    "weights": "float64",
}


def compress_partition(summaries: pd.DataFrame) -> CompressedHistories:
    """Stage 2 (worker): the weighted distinct histories of one partition (numpy only)."""
    return crmcore.compress(
        summaries["frequency"].to_numpy(),
        summaries["recency"].to_numpy(),
        summaries["T"].to_numpy(),
    )


def histories_frame(histories: CompressedHistories) -> pd.DataFrame:
    """Compressed histories as a DataFrame with :data:`HISTORY_COLUMNS`."""
    return pd.DataFrame(
        {
            "frequency": histories.frequency,
            "recency": histories.recency,
            "T": histories.T,
            "weights": histories.weights,
        }
    )


def histories_from_frame(frame: pd.DataFrame) -> CompressedHistories:
    """Compressed histories back from :func:`histories_frame`'s layout."""
    return crmcore.compress(
        frame["frequency"].to_numpy(),
        frame["recency"].to_numpy(),
        frame["T"].to_numpy(),
        weights=frame["weights"].to_numpy(),
    )


# --------------------------------------------------------------------------- stage 3: sample

SAMPLE_COLUMNS: dict[str, str] = {
    "customer_id": "int64",
    "key": "float64",
    "frequency": "int64",
    "monetary_value": "float64",
}


def sample_partition(summaries: pd.DataFrame, sample_size: int) -> pd.DataFrame:
    """Stage 3 (worker): the ``sample_size`` repeat customers with the smallest keys."""
    repeat = summaries[summaries["frequency"] > 0]
    frame = pd.DataFrame(
        {
            "customer_id": repeat["customer_id"].to_numpy(),
            "key": sampling_key(repeat["customer_id"].to_numpy()),
            "frequency": repeat["frequency"].to_numpy(),
            "monetary_value": repeat["monetary_value"].to_numpy(),
        }
    ).astype(SAMPLE_COLUMNS)
    return smallest_keys(frame, sample_size)


def smallest_keys(frame: pd.DataFrame, sample_size: int) -> pd.DataFrame:
    """The ``sample_size`` rows with the smallest keys (ties broken by id), sorted by key."""
    ordered = frame.sort_values(["key", "customer_id"], kind="stable")
    return ordered.head(sample_size).reset_index(drop=True)


# --------------------------------------------------------------------------- fits


@dataclass(frozen=True)
class Fits:
    """What the driver fits and sends back to the workers for scoring."""

    purchase: Any  # crmcore.models.bgnbd.BgNbdFit
    spend: Any  # crmcore.models.gamma_gamma.GammaGammaFit


def fit_purchase_model(histories: CompressedHistories) -> Any:
    """BG/NBD on the weighted distinct histories (driver; needs scipy)."""
    from crmcore.models import bgnbd

    h = histories
    return bgnbd.fit(h.frequency, h.recency, h.T, weights=h.weights)


def fit_spend_model(sample: pd.DataFrame) -> Any:
    """Gamma-Gamma on the sample of repeat customers (driver; needs scipy)."""
    from crmcore.models import gamma_gamma

    return gamma_gamma.fit(sample["frequency"].to_numpy(), sample["monetary_value"].to_numpy())


# --------------------------------------------------------------------------- stage 4: scores

SCORE_COLUMNS: dict[str, str] = {
    "customer_id": "int64",
    "bucket": "int32",
    "p_alive": "float64",
    "expected_purchases": "float64",
    "clv": "float64",
}


def score_partition(summaries: pd.DataFrame, fits: Fits) -> pd.DataFrame:
    """Stage 4 (worker): P(alive) and CLV of one partition's customers (needs scipy)."""
    if len(summaries) == 0:
        return empty_frame(SCORE_COLUMNS)
    from crmcore.models import bgnbd, clv

    summaries = summaries.sort_values("customer_id")  # the row order of the summary
    summary = summary_from_frame(summaries)
    p_alive = bgnbd.probability_alive(
        fits.purchase.params, summary.frequency, summary.recency, summary.T
    )
    value = clv.customer_lifetime_value(
        fits.purchase,
        fits.spend,
        summary,
        horizon=CLV_HORIZON,
        step=CLV_STEP,
        discount_rate=CLV_DISCOUNT_RATE,
    )
    return pd.DataFrame(
        {
            "customer_id": summary.customer_ids,
            "bucket": summaries["bucket"].to_numpy(),
            "p_alive": np.asarray(p_alive),
            "expected_purchases": value.expected_purchases,
            "clv": value.clv,
        }
    ).astype(SCORE_COLUMNS)


# --------------------------------------------------------------------------- results


@dataclass
class PipelineResult:
    """What a pipeline run produced; ``summaries`` and ``scores`` are Parquet outputs."""

    engine: str
    data: DataSet
    summaries_path: Path
    scores_path: Path
    histories: CompressedHistories
    sample: pd.DataFrame
    fits: Fits
    timings: dict[str, float] = field(default_factory=dict)
    n_partitions: int = 0

    def save(self, out_dir: Path | str) -> None:
        """Write what the driver holds: the histories, the sample and the model.

        ``histories.parquet`` and ``sample.parquet`` hold the fitting data;
        ``model.json`` the fitted parameters (what scoring new customers needs
        later), with their standard errors and the stage times.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        histories_frame(self.histories).to_parquet(out / "histories.parquet", index=False)
        self.sample.to_parquet(out / "sample.parquet", index=False)
        model = {
            "engine": self.engine,
            "n_partitions": self.n_partitions,
            "bgnbd": _params_dict(self.fits.purchase.params),
            "bgnbd_standard_errors": _params_dict(self.fits.purchase.standard_errors),
            "gamma_gamma": _params_dict(self.fits.spend.params),
            "gamma_gamma_standard_errors": _params_dict(self.fits.spend.standard_errors),
            "timings": self.timings,
        }
        (out / "model.json").write_text(json.dumps(model, indent=2))

    def report(self) -> str:
        """A few lines for the console."""
        bg, gg = self.fits.purchase.params, self.fits.spend.params
        data, hist = self.data, self.histories
        lines = [
            f"{self.engine}: {data.n_transactions:,} transactions",
            f"  {data.n_customers:,} customers in {data.n_buckets} buckets",
            f"  distinct histories: {len(hist):,} (weight {hist.n_customers:,.0f})",
            f"  BG/NBD: {_format_params(bg)}",
            f"    (simulated with {TRUE_BGNBD}; purchases of one week are one occasion,",
            "    so the fitted rates, of weeks with a purchase, are lower)",
            f"  Gamma-Gamma on {len(self.sample):,} repeat customers: {_format_params(gg)}",
            f"    (simulated with {TRUE_GAMMA_GAMMA}; the mean spend is per purchase week)",
            f"  summaries: {self.summaries_path}",
            f"  scores:    {self.scores_path}",
            "  stage times (s): "
            + ", ".join(f"{name} {seconds:.1f}" for name, seconds in self.timings.items()),
        ]
        return "\n".join(lines)


def _params_dict(params: Any) -> dict[str, float]:
    return {k: float(v) for k, v in attrs.asdict(params).items()}


def _format_params(params: Any) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in _params_dict(params).items())


@dataclass(frozen=True)
class SavedOutputs:
    """A pipeline's outputs read back from its output directory."""

    summaries: pd.DataFrame
    scores: pd.DataFrame
    histories: CompressedHistories
    sample: pd.DataFrame
    model: dict[str, Any]


def load_outputs(out_dir: Path | str) -> SavedOutputs:
    """Read a pipeline's outputs; summaries and scores sorted by customer id."""
    out = Path(out_dir)
    return SavedOutputs(
        summaries=read_frame(out / "summaries").sort_values("customer_id", ignore_index=True),
        scores=read_frame(out / "scores").sort_values("customer_id", ignore_index=True),
        histories=histories_from_frame(read_frame(out / "histories.parquet")),
        sample=read_frame(out / "sample.parquet"),
        model=json.loads((out / "model.json").read_text()),
    )


@contextmanager
def timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    """Record the wall time of a block under ``stage``."""
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = time.perf_counter() - start


@contextmanager
def working_directory(path: Path | None) -> Iterator[Path]:
    """``path`` (created if needed), or a temporary directory removed afterwards."""
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="crmcore-pipeline-") as tmp:
        yield Path(tmp)


def read_frame(path: Path | str) -> pd.DataFrame:
    """A Parquet data set (a file or a directory of files) as one pandas frame."""
    return pq.read_table(path).to_pandas()


# --------------------------------------------------------------------------- one machine


@dataclass
class SingleMachineResult:
    """The same analysis on one machine: the reference the pipelines must equal."""

    summary: CustomerSummary
    histories: CompressedHistories
    sample: pd.DataFrame
    fits: Fits
    scores: pd.DataFrame


def single_machine(data: DataSet, *, sample_size: int) -> SingleMachineResult:
    """Run the whole analysis in one process on the whole log (no partitions, no engine)."""
    from crmcore.models import bgnbd, clv, gamma_gamma

    log = pq.read_table(data.path, columns=["customer_id", "time", "amount"]).to_pandas()
    table = crmcore.InteractionTable.from_arrays(
        log["customer_id"].to_numpy(), utc_ns(log["time"]), amounts=log["amount"].to_numpy()
    )
    summary = crmcore.summarize(
        table, observation_end=OBSERVATION_END, period=PERIOD, time_unit=TIME_UNIT
    )
    histories = crmcore.compress(summary.frequency, summary.recency, summary.T)
    purchase = bgnbd.fit(summary.frequency, summary.recency, summary.T)
    repeat = np.flatnonzero(summary.frequency > 0)
    keys = sampling_key(summary.customer_ids[repeat])
    chosen = repeat[np.lexsort((summary.customer_ids[repeat], keys))[:sample_size]]
    sample = pd.DataFrame(
        {
            "customer_id": summary.customer_ids[chosen],
            "key": sampling_key(summary.customer_ids[chosen]),
            "frequency": summary.frequency[chosen],
            "monetary_value": summary.monetary_value[chosen],
        }
    ).astype(SAMPLE_COLUMNS)
    spend = gamma_gamma.fit(summary.frequency[chosen], summary.monetary_value[chosen])
    p_alive = bgnbd.probability_alive(
        purchase.params, summary.frequency, summary.recency, summary.T
    )
    value = clv.customer_lifetime_value(
        purchase,
        spend,
        summary,
        horizon=CLV_HORIZON,
        step=CLV_STEP,
        discount_rate=CLV_DISCOUNT_RATE,
    )
    scores = pd.DataFrame(
        {
            "customer_id": summary.customer_ids,
            "bucket": bucket_of(summary.customer_ids, data.n_buckets),
            "p_alive": np.asarray(p_alive),
            "expected_purchases": value.expected_purchases,
            "clv": value.clv,
        }
    ).astype(SCORE_COLUMNS)
    return SingleMachineResult(
        summary=summary,
        histories=histories,
        sample=sample,
        fits=Fits(purchase=purchase, spend=spend),
        scores=scores,
    )


def add_common_arguments(parser: Any) -> None:
    """Command-line options both pipelines share."""
    parser.add_argument(
        "--transactions",
        type=int,
        default=20_000_000,
        help="number of simulated transactions (default 20,000,000)",
    )
    parser.add_argument(
        "--partitions",
        type=int,
        default=32,
        help="number of customer partitions (hash buckets of the customer id; default 32)",
    )
    parser.add_argument(
        "--sample-size",
        type=int,
        default=DEFAULT_SAMPLE_SIZE,
        help="repeat customers in the Gamma-Gamma sample (default 50,000)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="directory for the data set and the outputs (default: a temporary directory, "
        "removed at the end); an existing data set written with the same options is reused",
    )
    parser.add_argument("--seed", type=int, default=2024, help="simulation seed (default 2024)")
