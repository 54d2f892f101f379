"""Customer lifetime value of a partitioned transaction log with pyspark (local mode).

Writes a Parquet data set of simulated transactions (20 million by default),
one file per customer bucket (a hash of the customer id, also stored as the
column ``bucket``), then:

1. executors summarise each bucket with ``crmcore.summarize``
   (``groupBy("bucket").applyInPandas``; numpy only) and the summaries are
   written to Parquet;
2. executors reduce each bucket to weighted distinct histories with
   ``crmcore.compress``; Spark merges the parts by summing the weights of equal
   (frequency, recency, T), which is what ``CompressedHistories.combine`` does,
   and the driver collects only the distinct rows;
3. executors keep the repeat customers with the smallest sampling keys; the
   driver keeps the ``--sample-size`` smallest overall (a uniform random sample);
4. the driver fits BG/NBD on the histories and Gamma-Gamma on the sample
   (scipy, ``crmcore[models]``);
5. executors score every customer (P(alive), CLV) with the fitted parameters and
   write the scores to Parquet (scipy on the executors).

Run::

    python examples/spark_pipeline.py                      # 20 million rows, temp dir
    python examples/spark_pipeline.py --transactions 1000000 --workdir /tmp/crm

Spark binds to 127.0.0.1 only (``SPARK_LOCAL_IP``, ``spark.driver.host``,
``spark.driver.bindAddress``) and runs no web UI. Needs Java 17 or later.
See docs/cluster.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import _pipeline_common as common
import pandas as pd
from _pipeline_common import DataSet, Fits, PipelineResult, timed

_SPARK_TYPES = {
    "int64": "long",
    "int32": "int",
    "float64": "double",
    "datetime64[us]": "timestamp",
}
_PANDAS3_WARNING = "PySpark does not yet fully support pandas"
#: Settings that keep Spark on the loopback interface and off the web (with the
#: environment variable SPARK_LOCAL_IP=127.0.0.1, set before the JVM starts).
LOOPBACK_CONF = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.ui.enabled": "false",
}


def spark_schema(columns: dict[str, str]) -> str:
    """A Spark DDL schema (``"customer_id long, ..."``) for pandas column dtypes."""
    return ", ".join(f"`{name}` {_SPARK_TYPES[dtype]}" for name, dtype in columns.items())


def local_session(cores: int = 2, driver_memory: str = "2g") -> Any:
    """A local Spark session bound to 127.0.0.1, without web UI."""
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    # the Python workers run this interpreter, which has crmcore installed
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    # pyspark 4 warns in every process that it does not fully support pandas 3;
    # the stages here are checked against the single-machine result (tests), so
    # silence that one warning in the driver and, through the environment the
    # JVM passes on, in the Python workers
    warnings.filterwarnings("ignore", _PANDAS3_WARNING, FutureWarning)
    os.environ["PYTHONWARNINGS"] = ",".join(
        filter(None, [os.environ.get("PYTHONWARNINGS"), f"ignore:{_PANDAS3_WARNING}:FutureWarning"])
    )
    from pyspark.sql import SparkSession

    settings = {
        **LOOPBACK_CONF,
        "spark.driver.memory": driver_memory,
        "spark.ui.showConsoleProgress": "false",
    }
    builder = SparkSession.builder.master(f"local[{cores}]").appName("crmcore-clv")
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def run_pipeline(
    spark: Any,
    data: DataSet,
    out_dir: Path | str,
    *,
    sample_size: int = common.DEFAULT_SAMPLE_SIZE,
) -> PipelineResult:
    """Run the four stages on ``data`` with the session ``spark``; outputs go to ``out_dir``."""
    from pyspark.sql import functions as sf

    out = Path(out_dir)
    timings: dict[str, float] = {}
    # executors import the stage functions from this file
    spark.sparkContext.addPyFile(common.__file__)
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    spark.conf.set("spark.sql.shuffle.partitions", str(data.n_buckets))

    with timed(timings, "summaries"):
        transactions = spark.read.parquet(str(data.path))
        summaries = (
            transactions.select("customer_id", "time", "amount", "bucket")
            .groupBy("bucket")
            .applyInPandas(common.summarize_partition, schema=spark_schema(common.SUMMARY_COLUMNS))
            .cache()
        )
        summaries.write.mode("overwrite").parquet(str(out / "summaries"))

    with timed(timings, "histories"):

        def compress_bucket(frame: pd.DataFrame) -> pd.DataFrame:
            return common.histories_frame(common.compress_partition(frame))

        merged = (
            summaries.groupBy("bucket")
            .applyInPandas(compress_bucket, schema=spark_schema(common.HISTORY_COLUMNS))
            .groupBy("frequency", "recency", "T")
            .agg(sf.sum("weights").alias("weights"))
            .toPandas()
        )
        histories = common.histories_from_frame(merged)

    with timed(timings, "sample"):

        def sample_bucket(frame: pd.DataFrame) -> pd.DataFrame:
            return common.sample_partition(frame, sample_size)

        candidates = (
            summaries.groupBy("bucket")
            .applyInPandas(sample_bucket, schema=spark_schema(common.SAMPLE_COLUMNS))
            .toPandas()
        )
        sample = common.smallest_keys(candidates, sample_size)

    with timed(timings, "fit"):
        fits = Fits(
            purchase=common.fit_purchase_model(histories),
            spend=common.fit_spend_model(sample),
        )

    with timed(timings, "scores"):

        def score_bucket(frame: pd.DataFrame) -> pd.DataFrame:
            return common.score_partition(frame, fits)

        scores = summaries.groupBy("bucket").applyInPandas(
            score_bucket, schema=spark_schema(common.SCORE_COLUMNS)
        )
        scores.write.mode("overwrite").parquet(str(out / "scores"))

    summaries.unpersist()
    result = PipelineResult(
        engine=f"spark ({spark.sparkContext.master}, {data.n_buckets} bucket groups)",
        data=data,
        summaries_path=out / "summaries",
        scores_path=out / "scores",
        histories=histories,
        sample=sample,
        fits=fits,
        timings=timings,
        n_partitions=data.n_buckets,
    )
    result.save(out)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    common.add_common_arguments(parser)
    parser.add_argument("--cores", type=int, default=2, help="local[N] (default 2)")
    parser.add_argument(
        "--driver-memory", default="2g", help="JVM heap of the local driver (default 2g)"
    )
    args = parser.parse_args(argv)
    with common.working_directory(args.workdir) as workdir:
        start = time.perf_counter()
        data = common.write_transactions(
            workdir / "transactions",
            args.transactions,
            n_buckets=args.partitions,
            seed=args.seed,
        )
        print(f"data set ready in {time.perf_counter() - start:.1f} s: {data.path}")
        start = time.perf_counter()
        spark = local_session(args.cores, args.driver_memory)
        spark.sparkContext.setLogLevel("ERROR")
        print(f"Spark session ready in {time.perf_counter() - start:.1f} s")
        try:
            start = time.perf_counter()
            result = run_pipeline(
                spark, data, workdir / "spark-output", sample_size=args.sample_size
            )
            print(result.report())
            print(f"pipeline: {time.perf_counter() - start:.1f} s")
        finally:
            spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
