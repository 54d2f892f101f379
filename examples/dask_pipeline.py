"""Customer lifetime value of a partitioned transaction log with dask (a local cluster).

Writes a Parquet data set of simulated transactions (20 million by default),
one file per customer bucket (a hash of the customer id), then:

1. workers summarise each customer partition with ``crmcore.summarize``
   (``map_partitions``; numpy only) and the summaries are written to Parquet;
2. workers reduce each partition to weighted distinct histories with
   ``crmcore.compress``, merged in a tree with ``CompressedHistories.combine``
   (numpy only); the driver receives a few thousand rows;
3. workers keep the repeat customers with the smallest sampling keys; the driver
   keeps the ``--sample-size`` smallest overall (a uniform random sample);
4. the driver fits BG/NBD on the histories and Gamma-Gamma on the sample
   (scipy, ``crmcore[models]``);
5. workers score every customer (P(alive), CLV) with the fitted parameters and
   write the scores to Parquet (scipy on the workers).

Run::

    python examples/dask_pipeline.py                       # 20 million rows, temp dir
    python examples/dask_pipeline.py --transactions 1000000 --workdir /tmp/crm

The cluster binds to 127.0.0.1 only and runs no dashboard. See docs/cluster.md.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import _pipeline_common as common
from _pipeline_common import DataSet, Fits, PipelineResult, timed

from crmcore import CompressedHistories

_COMBINE_FAN_IN = 8  # parts merged by one combine task


def run_pipeline(
    data: DataSet,
    out_dir: Path | str,
    *,
    sample_size: int = common.DEFAULT_SAMPLE_SIZE,
    workers: int = 2,
    processes: bool = False,
) -> PipelineResult:
    """Run the four stages on ``data`` with a local dask cluster; outputs go to ``out_dir``.

    With ``processes=False`` (the default) one worker runs ``workers`` threads
    inside this process (crmcore's numpy work releases the GIL); with
    ``processes=True`` ``workers`` worker processes of one thread each.
    """
    import dask
    import dask.dataframe as dd
    from dask.distributed import Client, LocalCluster

    out = Path(out_dir)
    timings: dict[str, float] = {}
    # Everything listens on 127.0.0.1 only. The scheduler's dashboard is off, but
    # scheduler and workers still serve HTTP health routes: pin those to loopback
    # too (in-process workers would otherwise listen on every interface).
    cluster = LocalCluster(
        n_workers=workers if processes else 1,
        threads_per_worker=1 if processes else workers,
        processes=processes,
        host="127.0.0.1" if processes else None,  # in-process workers use no sockets
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        worker_dashboard_address=None if processes else "127.0.0.1:0",
        silence_logs=logging.WARNING,
    )
    with cluster, Client(cluster) as client:
        if processes:  # worker processes import the stage functions from this module
            client.upload_file(common.__file__)

        with timed(timings, "summaries"):
            # one partition per file: each holds whole customers, so no shuffle is needed
            transactions = dd.read_parquet(
                str(data.path),
                split_row_groups=False,
                columns=["customer_id", "time", "amount", "bucket"],
            )
            meta = common.empty_frame(common.SUMMARY_COLUMNS)
            summaries = transactions.map_partitions(common.summarize_partition, meta=meta)
            summaries = summaries.persist()
            summaries.to_parquet(out / "summaries", write_index=False, overwrite=True)

        with timed(timings, "histories"):
            parts = [dask.delayed(common.compress_partition)(p) for p in summaries.to_delayed()]
            while len(parts) > 1:  # a tree of combines on the workers
                parts = [
                    dask.delayed(CompressedHistories.combine)(parts[i : i + _COMBINE_FAN_IN])
                    for i in range(0, len(parts), _COMBINE_FAN_IN)
                ]
            histories = parts[0].compute()

        with timed(timings, "sample"):
            candidates = summaries.map_partitions(
                common.sample_partition,
                sample_size,
                meta=common.empty_frame(common.SAMPLE_COLUMNS),
            ).compute()
            sample = common.smallest_keys(candidates, sample_size)

        with timed(timings, "fit"):
            fits = Fits(
                purchase=common.fit_purchase_model(histories),
                spend=common.fit_spend_model(sample),
            )

        with timed(timings, "scores"):
            scores = summaries.map_partitions(
                common.score_partition, fits, meta=common.empty_frame(common.SCORE_COLUMNS)
            )
            scores.to_parquet(out / "scores", write_index=False, overwrite=True)

        n_partitions = summaries.npartitions
    result = PipelineResult(
        engine=f"dask ({n_partitions} partitions, "
        f"{workers} {'processes' if processes else 'threads'})",
        data=data,
        summaries_path=out / "summaries",
        scores_path=out / "scores",
        histories=histories,
        sample=sample,
        fits=fits,
        timings=timings,
        n_partitions=n_partitions,
    )
    result.save(out)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    common.add_common_arguments(parser)
    parser.add_argument("--workers", type=int, default=2, help="threads or processes (default 2)")
    parser.add_argument(
        "--processes", action="store_true", help="run worker processes instead of threads"
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
        result = run_pipeline(
            data,
            workdir / "dask-output",
            sample_size=args.sample_size,
            workers=args.workers,
            processes=args.processes,
        )
        print(result.report())
        print(f"pipeline: {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
