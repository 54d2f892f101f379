"""The default draws of customer_base stay those of the stored reference.

``tests/data/simulate_reference.npz`` holds the draws of two bases of 300
customers for seed 11 (see ``tests/simulate/make_reference.py``, which wrote it
with the code of commit 8fae9f7; on the machine that wrote it that code draws
the same arrays, bit for bit, as commit cadb748, before customer sources,
refunds and multi-item orders existed). So with every new option off, the
output must stay the same for the same seed.

It replaces a SHA-256 over the arrays, which was not portable: numpy's
vectorised exp/log and its summation differ in the last bits between CPUs.
Integer, boolean and string columns are compared exactly; float columns with
rtol 1e-9 (NaN where the reference has NaN); timestamps, truncated from float
times to the whole second, within one second; response times, rounded from
float hours to the nanosecond, with rtol 1e-9.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from tests.simulate.make_reference import FULL_FIELDS, PLAIN_FIELDS, arrays, bases

PATH = Path(__file__).resolve().parents[1] / "data" / "simulate_reference.npz"


@pytest.fixture(scope="module")
def reference() -> dict[str, np.ndarray]:
    with np.load(PATH, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


@pytest.fixture(scope="module")
def drawn() -> dict[str, Any]:
    return bases()


def assert_same_draws(name: str, got: np.ndarray, want: np.ndarray) -> None:
    assert got.dtype == want.dtype, name
    assert got.shape == want.shape, name
    kind = want.dtype.kind
    if kind in "iubU":
        assert_array_equal(got, want, err_msg=name)
    elif kind == "f":
        assert_array_equal(np.isnan(got), np.isnan(want), err_msg=name)
        assert_allclose(got, want, rtol=1e-9, atol=0.0, equal_nan=True, err_msg=name)
    elif kind == "M":
        gap = np.abs(got.astype(np.int64) - want.astype(np.int64))
        assert int(gap.max(initial=0)) <= 1_000_000_000, name
    elif kind == "m":
        assert_array_equal(np.isnat(got), np.isnat(want), err_msg=name)
        ok = ~np.isnat(want)
        assert_allclose(
            got[ok].astype(np.int64), want[ok].astype(np.int64), rtol=1e-9, atol=1, err_msg=name
        )
    else:  # pragma: no cover - the reference holds no other kind
        raise AssertionError(f"{name}: unexpected dtype {want.dtype}")


def test_the_reference_is_small_and_complete(reference: dict[str, np.ndarray]) -> None:
    assert PATH.stat().st_size < 100_000
    expected = {f"plain.{p}.{n}" for p, names in PLAIN_FIELDS.items() for n in names}
    expected |= {f"full.{p}.{n}" for p, names in FULL_FIELDS.items() for n in names}
    assert set(reference) == expected


def test_plain_base_draws_as_the_reference(
    reference: dict[str, np.ndarray], drawn: dict[str, Any]
) -> None:
    base = drawn["plain"]
    for name, got in arrays(base, PLAIN_FIELDS, "plain").items():
        assert_same_draws(name, got, reference[name])
    # What the reference leaves out follows from what it holds.
    n = len(base)
    assert_array_equal(base.customer_ids, np.arange(1, n + 1))
    assert_array_equal(base.table.customer_ids, np.arange(1, n + 1))
    assert_array_equal(base.spend.frequency, base.histories.frequency)
    assert_array_equal(base.histories.frequency_holdout, np.zeros(n, dtype=np.int64))
    assert base.source is None
    assert base.refunds is None


def test_full_base_draws_as_the_reference(
    reference: dict[str, np.ndarray], drawn: dict[str, Any]
) -> None:
    base = drawn["full"]
    for name, got in arrays(base, FULL_FIELDS, "full").items():
        assert_same_draws(name, got, reference[name])
    # Every column of the table is pinned.
    present = {f for f in _table_fields(base) if getattr(base.table, f) is not None}
    assert present - {"customer_ids", "survey_questions"} == set(FULL_FIELDS["table"])
    # The question labels are no draw of their own: each follows from the pinned scale
    # (0-10 nps, 1-5 csat, 1-7 ces), and rows without an answer carry none.
    top = reference["full.table.survey_scale_max"]
    names = {10.0: "nps", 5.0: "csat", 7.0: "ces"}
    want = np.array([names.get(float(x), "") for x in top])
    assert_array_equal(base.table.survey_questions, want)
    # The options draw from their own streams: the purchase process is the plain one.
    for name, got in arrays(base, PLAIN_FIELDS, "plain").items():
        if name.startswith("plain.table."):
            continue
        assert_same_draws(name, got, reference[name])
    assert base.source is None
    assert base.refunds is None


def _table_fields(base: Any) -> list[str]:
    import attrs

    return [f.name for f in attrs.fields(type(base.table))]
