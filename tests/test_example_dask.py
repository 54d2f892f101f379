"""Run examples/dask_pipeline.py on small data: its results equal one machine's.

The script runs as a user runs it (a subprocess with command-line options) on
50,000 simulated transactions in 4 customer partitions; its Parquet and JSON
outputs are compared with ``single_machine`` (the same analysis with plain
crmcore calls on the whole log in one process).

The extra ``crmcore[distributed]`` (dask, pyarrow) is optional on a user's
machine: without it these tests skip. In CI (environment variable ``CI`` set)
a missing package fails them instead.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from tests.support import require

require("dask.dataframe", "distributed")
require("distributed", "distributed")
require("pyarrow", "distributed")
pytest.importorskip("scipy")  # crmcore.models; part of the test extra

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
N_TRANSACTIONS = 50_000
N_PARTITIONS = 4
SAMPLE_SIZE = 1_000
SEED = 11


@pytest.fixture(scope="module")
def common() -> Any:
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(EXAMPLES))
        yield importlib.import_module("_pipeline_common")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dask")
    cmd = [
        sys.executable,
        str(EXAMPLES / "dask_pipeline.py"),
        f"--transactions={N_TRANSACTIONS}",
        f"--partitions={N_PARTITIONS}",
        f"--sample-size={SAMPLE_SIZE}",
        f"--seed={SEED}",
        "--workers=2",
        f"--workdir={path}",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (path / "stdout.txt").write_text(proc.stdout)
    return path


@pytest.fixture(scope="module")
def data(common: Any, workdir: Path) -> Any:
    # the data set the script wrote (same options: reused, not rewritten)
    return common.write_transactions(
        workdir / "transactions", N_TRANSACTIONS, n_buckets=N_PARTITIONS, seed=SEED
    )


@pytest.fixture(scope="module")
def outputs(common: Any, workdir: Path) -> Any:
    return common.load_outputs(workdir / "dask-output")


@pytest.fixture(scope="module")
def reference(common: Any, data: Any) -> Any:
    return common.single_machine(data, sample_size=SAMPLE_SIZE)


def test_each_file_holds_whole_customers_of_its_bucket(common, data):
    import pyarrow.parquet as pq

    seen: set[int] = set()
    n_rows = 0
    for path in data.files:
        part = pq.read_table(path).to_pandas()
        ids = part["customer_id"].to_numpy()
        assert_array_equal(part["bucket"].to_numpy(), common.bucket_of(ids, N_PARTITIONS))
        distinct = set(ids.tolist())
        assert not distinct & seen
        seen |= distinct
        n_rows += len(part)
    assert len(data.files) == N_PARTITIONS
    assert n_rows == N_TRANSACTIONS
    assert len(seen) == data.n_customers


def test_ran_on_several_partitions(outputs):
    assert outputs.model["n_partitions"] == N_PARTITIONS
    assert outputs.summaries["bucket"].nunique() == N_PARTITIONS


def test_summaries_equal_single_machine(common, outputs, reference):
    got, want = outputs.summaries, reference.summary
    assert_array_equal(got["customer_id"].to_numpy(), want.customer_ids)
    for name in ("frequency", "n_purchases", "n_transactions"):
        assert_array_equal(got[name].to_numpy(), getattr(want, name), err_msg=name)
    for name in ("recency", "T", "monetary_value", "total_spend", "first_spend"):
        assert_allclose(got[name].to_numpy(), getattr(want, name), rtol=1e-12, err_msg=name)
    assert_allclose(got["time_since_last"].to_numpy(), want.time_since_last, rtol=1e-12)
    for name in ("first_purchase", "last_purchase"):
        assert_array_equal(common.utc_ns(got[name]), getattr(want, name), err_msg=name)


def test_compressed_histories_equal_single_machine(outputs, reference):
    got, want = outputs.histories, reference.histories
    # exact: the rows are copies of summary values, the weights integer counts
    for name in ("frequency", "recency", "T", "weights"):
        assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)
    assert got.n_customers == len(reference.summary)
    assert len(got) < len(reference.summary)  # compression did something


def test_gamma_gamma_sample_equals_single_machine(outputs, reference):
    assert len(outputs.sample) == SAMPLE_SIZE
    assert_array_equal(
        outputs.sample["customer_id"].to_numpy(), reference.sample["customer_id"].to_numpy()
    )
    assert (outputs.sample["frequency"] > 0).all()


def test_fitted_parameters_equal_single_machine(outputs, reference):
    for key, fit in (("bgnbd", reference.fits.purchase), ("gamma_gamma", reference.fits.spend)):
        got = outputs.model[key]
        want = {name: float(value) for name, value in attrs.asdict(fit.params).items()}
        assert got.keys() == want.keys()
        # the same optimiser on the same weighted histories and sample
        assert_allclose([got[k] for k in want], list(want.values()), rtol=1e-9, err_msg=key)


def test_scores_equal_single_machine(outputs, reference):
    got, want = outputs.scores, reference.scores
    assert_array_equal(got["customer_id"].to_numpy(), want["customer_id"].to_numpy())
    assert_array_equal(got["bucket"].to_numpy(), want["bucket"].to_numpy())
    # the same fits on the same histories: equal up to the order of float sums
    for name in ("p_alive", "expected_purchases", "clv"):
        assert_allclose(got[name].to_numpy(), want[name].to_numpy(), rtol=1e-9, err_msg=name)
    p = got["p_alive"].to_numpy()
    assert ((p >= 0) & (p <= 1)).all()
    assert (got["clv"].to_numpy() >= 0).all()


def test_report_lists_the_stages(workdir):
    report = (workdir / "stdout.txt").read_text()
    for stage in ("summaries", "histories", "sample", "fit", "scores"):
        assert f"{stage} " in report.split("stage times (s):")[1]
