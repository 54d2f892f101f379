"""Tests of crmcore.datasets: the shipped data sets and their loaders.

Reference values: the sizes the papers state (23,570 customers in the CDNOW
cohort, a 1/10 sample of 2,357, 11,104 donors, cohorts of 1,000), the cohort's
definition (first purchase in the first quarter of 1997), and checks of one
shipped file against another: :func:`crmcore.summarize` of the sample log must
give the published calibration summary, and every sample purchase must be a
purchase of the full log.
"""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from numpy.testing import assert_array_equal

from crmcore import CustomerSummary, DiscreteSummary, InteractionTable, datasets, summarize
from crmcore.errors import InputError

Q1_END = np.datetime64("1997-03-31T23:59:59", "ns")


@pytest.fixture(scope="module")
def full():
    return datasets.cdnow()


@pytest.fixture(scope="module")
def sample():
    return datasets.cdnow_sample()


@pytest.fixture(scope="module")
def published():
    return datasets.cdnow_sample_summary()


def _first_purchase(table: InteractionTable) -> np.ndarray:
    first = np.full(table.n_customers, np.datetime64("2262-01-01", "ns"))
    np.minimum.at(first, table.customer_codes, table.times)
    return first


@pytest.mark.parametrize(
    ("loader", "n_rows", "n_customers"),
    [("full", 69_659, 23_570), ("sample", 6_919, 2_357)],
)
def test_cdnow_logs_have_the_published_sizes(request, loader, n_rows, n_customers):
    table = request.getfixturevalue(loader)
    assert isinstance(table, InteractionTable)
    assert (len(table), table.n_customers) == (n_rows, n_customers)
    assert_array_equal(table.customer_ids, np.arange(1, n_customers + 1))
    assert table.is_purchase.all()
    assert np.all(table.amounts >= 0)
    # the cohort: first purchase in the first quarter of 1997; the log ends in June 1998
    assert _first_purchase(table).max() <= Q1_END
    assert table.times.min() == np.datetime64("1997-01-01", "ns")
    assert table.times.max() == np.datetime64(datasets.CDNOW_OBSERVATION_END, "ns")
    # days at midnight UTC, amounts in cents
    assert np.all(table.times == table.times.astype("datetime64[D]"))
    assert_array_equal(np.round(table.amounts * 100) / 100, table.amounts)


def test_every_sample_purchase_is_a_purchase_of_the_full_log(full, sample):
    # The two files use different customer ids, so compare the multisets of
    # (day, amount in cents): each pair occurs in the sample at most as often as in
    # the full log, and the sample is about a tenth of the log.
    def pairs(table):
        days = table.times.astype("datetime64[D]").astype(np.int64)
        cents = np.round(table.amounts * 100).astype(np.int64)
        return days * 10**9 + cents

    keys_full, count_full = np.unique(pairs(full), return_counts=True)
    keys_sample, count_sample = np.unique(pairs(sample), return_counts=True)
    where = np.searchsorted(keys_full, keys_sample)
    assert np.all(where < keys_full.size)
    assert_array_equal(keys_full[where], keys_sample)
    assert np.all(count_sample <= count_full[where])
    assert 0.09 < len(sample) / len(full) < 0.11


def test_summary_of_the_sample_log_is_the_published_summary(sample, published):
    # Independent check of both files: the published summary (weeks, to two decimals)
    # is what summarize computes from the log with days as occasions.
    mine = summarize(
        sample,
        observation_end=datasets.CDNOW_OBSERVATION_END,
        calibration_end=datasets.CDNOW_CALIBRATION_END,
        period="D",
        time_unit="W",
    )
    assert isinstance(published, CustomerSummary)
    assert published.time_unit == "W"
    assert_array_equal(mine.customer_ids, published.customer_ids)
    assert_array_equal(mine.frequency, published.frequency)
    half_cent = 0.005 + 1e-9
    np.testing.assert_allclose(mine.recency, published.recency, rtol=0, atol=half_cent)
    np.testing.assert_allclose(mine.T, published.T, rtol=0, atol=half_cent)
    np.testing.assert_allclose(
        mine.monetary_value, published.monetary_value, rtol=0, atol=half_cent
    )
    np.testing.assert_allclose(mine.first_spend, published.first_spend, rtol=0, atol=1e-9)
    assert_array_equal(mine.frequency_holdout, published.frequency_holdout)
    np.testing.assert_allclose(
        mine.monetary_value_holdout, published.monetary_value_holdout, rtol=1e-12
    )
    assert published.duration_holdout == mine.duration_holdout == 39.0


def test_published_summary_describes_the_papers_sample(published):
    # Fader, Hardie & Lee (2005): 2,357 customers, 946 of whom made a repeat purchase in
    # the 39-week calibration period; T is measured from the first purchase, in the first
    # 12 weeks, to the end of week 39 (day 272 after 1997-01-01 is 38.86 weeks).
    assert len(published) == 2_357
    assert int((published.frequency > 0).sum()) == 946
    assert published.T.max() == 38.86
    assert published.T.min() >= (272 - 89) / 7 - 0.005
    assert np.all(published.recency <= published.T)
    assert np.all(published.monetary_value[published.frequency == 0] == 0)


def test_donations_is_the_papers_count_table():
    # Fader, Hardie & Shang (2010): 11,104 first-time donors of 1995, six opportunities
    # (1996-2001); 3,464 never gave again and 1,203 gave every year.
    d = datasets.donations()
    assert isinstance(d, DiscreteSummary)
    assert (len(d), d.n_periods, d.period) == (11_104, 6, "Y")
    assert d.start == np.datetime64("1995-01-01", "ns")
    assert_array_equal(d.customer_ids, np.arange(1, 11_105))
    assert int((d.frequency == 0).sum()) == 3_464
    assert int((d.frequency == 6).sum()) == 1_203
    assert np.all(d.frequency <= d.recency)
    assert np.all((d.recency == 0) == (d.frequency == 0))
    assert np.all(d.recency <= 6)


@pytest.mark.parametrize("segment", ["regular", "high_end"])
def test_retention_survivors(segment):
    alive = datasets.retention_survivors(segment)
    assert alive.dtype == np.int64
    assert alive.shape == (13,)
    assert alive[0] == 1000
    assert np.all(np.diff(alive) < 0)
    assert not alive.flags.writeable


def test_retention_survivors_rejects_an_unknown_segment():
    with pytest.raises(InputError, match=r"segment must be one of 'regular', 'high_end'; got 'x'"):
        datasets.retention_survivors("x")  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"segment must be one of .*; got None"):
        datasets.retention_survivors(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "loader",
    [
        datasets.cdnow,
        datasets.cdnow_sample,
        datasets.cdnow_sample_summary,
        datasets.donations,
        lambda: datasets.retention_survivors("regular"),
    ],
)
def test_loaders_return_fresh_read_only_objects(loader):
    first, second = loader(), loader()
    if isinstance(first, np.ndarray):
        arrays_1, arrays_2 = [first], [second]
    else:
        names = [f.name for f in attrs.fields(type(first))]
        arrays_1 = [getattr(first, n) for n in names if isinstance(getattr(first, n), np.ndarray)]
        arrays_2 = [getattr(second, n) for n in names if isinstance(getattr(second, n), np.ndarray)]
    assert arrays_1
    for a, b in zip(arrays_1, arrays_2, strict=True):
        assert not a.flags.writeable
        assert not np.shares_memory(a, b)
        assert_array_equal(a, b)


def test_loaders_read_their_data_through_importlib_resources(tmp_path):
    # Imported from a zip file (as from a zipped wheel) the package has no data files on
    # disk: the loaders still work, so they read nothing but their package resources.
    import subprocess
    import sys
    import zipfile
    from pathlib import Path

    package = Path(datasets.__file__).resolve().parents[1]
    archive = tmp_path / "crmcore.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in package.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                zf.write(path, path.relative_to(package.parent).as_posix())
    code = (
        "import crmcore.datasets as d\n"
        "assert d.__file__.startswith(" + repr(str(archive)) + "), d.__file__\n"
        "print(len(d.cdnow_sample()), len(d.cdnow_sample_summary()), len(d.donations()))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={"PYTHONPATH": str(archive)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["6919", "2357", "11104"]
