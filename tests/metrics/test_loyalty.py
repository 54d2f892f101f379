"""Tests of crmcore.metrics.loyalty: reference values, properties and errors."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import warnings
from collections.abc import Iterator
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from crmcore import InteractionTable, summarize
from crmcore.errors import DataQualityWarning, InputError, InputTypeError
from crmcore.metrics import loyalty
from crmcore.metrics.loyalty import (
    LOYALTY_CLASSES,
    RF_GRID,
    RFM_CUBE,
    VISIT_LEVELS,
    RfmEdges,
    RfmScores,
    band,
    customer_status,
    health_score,
    ladder_inputs,
    ladder_stage,
    loyalty_class,
    recommended_level,
    referral_counts,
    rfm_scores,
    rfm_segments,
    validate_segment_rules,
    visit_level,
)
from crmcore.metrics.loyalty import rfm as loyalty_rfm
from crmcore.metrics.loyalty import segments as loyalty_segments
from crmcore.records import Customer, CustomerStatus, LadderStage, RelationshipLevel

# --------------------------------------------------------------------- helpers


RFM_ARGS = ("time_since_last", "n_purchases", "total_spend")


def by_name(cols: tuple[object, ...] | list[object]) -> dict[str, object]:
    """The three RFM arrays as keyword arguments of rfm_scores (in that order)."""
    return dict(zip(RFM_ARGS, cols, strict=False))


def quiet_rfm(*args: object, **kwargs: object) -> RfmScores:
    """rfm_scores with collapse warnings silenced (property tests on arbitrary data)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return rfm_scores(**by_name(args), **kwargs)  # type: ignore[arg-type]


def fraction_quantile(values: list[float], k: int, bins: int) -> float:
    """Hyndman & Fan definition 7 in exact rational arithmetic (independent of numpy)."""
    y = sorted(Fraction(x) for x in values)
    h = Fraction(len(y) - 1) * Fraction(k, bins)
    lo = int(h)  # floor, h >= 0
    hi = min(lo + 1, len(y) - 1)
    return float(y[lo] + (h - lo) * (y[hi] - y[lo]))


def stable_rank_bins(x: np.ndarray, bins: int) -> np.ndarray:
    """Value bins 1..bins by a full stable sort: the definition of the rank method."""
    order = np.argsort(x, kind="stable")
    out = np.empty(x.size, dtype=np.int64)
    out[order] = 1 + (np.arange(x.size) * bins) // x.size
    return out


def value_arrays(min_size: int = 1, max_size: int = 40) -> st.SearchStrategy[np.ndarray]:
    """Non-negative values with plenty of ties (small integers) or continuous ones."""
    ints = st.lists(st.integers(0, 6), min_size=min_size, max_size=max_size)
    floats = st.lists(
        st.floats(0, 1e6, allow_nan=False, allow_infinity=False),
        min_size=min_size,
        max_size=max_size,
    )
    return st.one_of(ints, floats).map(lambda v: np.asarray(v, dtype=np.float64))


@st.composite
def rfm_columns(draw: st.DrawFn, min_size: int = 1, max_size: int = 40) -> tuple[np.ndarray, ...]:
    n = draw(st.integers(min_size, max_size))
    cols = [draw(value_arrays(n, n)) for _ in range(3)]
    return tuple(cols)


@st.composite
def large_samples(draw: st.DrawFn) -> np.ndarray:
    """Arrays large enough for the sample-and-band selection (with shrunk thresholds)."""
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(2_048, 6_000))
    kind = draw(st.sampled_from(["continuous", "few_values", "mixed", "sorted", "constant"]))
    rng = np.random.default_rng(seed)
    if kind == "continuous":
        x = rng.gamma(2.0, 50.0, n)
    elif kind == "few_values":
        x = rng.geometric(0.4, n).astype(np.float64)
    elif kind == "mixed":
        x = np.where(rng.random(n) < 0.5, 0.0, rng.normal(10, 3, n))
    elif kind == "sorted":
        x = np.sort(rng.integers(0, 50, n)).astype(np.float64)
    else:
        x = np.full(n, 3.5)
    return x


@contextlib.contextmanager
def module_settings(**values: int) -> Iterator[None]:
    """Temporarily change module constants of the loyalty modules (usable inside hypothesis
    tests): the lookup-table limit of loyalty.segments, the selection sizes of loyalty.rfm."""
    home = {"_MAX_LOOKUP_CELLS": loyalty_segments}
    old = {name: getattr(home.get(name, loyalty_rfm), name) for name in values}
    try:
        for name, value in values.items():
            setattr(home.get(name, loyalty_rfm), name, value)
        yield
    finally:
        for name, value in old.items():
            setattr(home.get(name, loyalty_rfm), name, value)


def small_selection() -> contextlib.AbstractContextManager[None]:
    """Run the sample-and-band selection on arrays of a few thousand values."""
    return module_settings(_SELECT_MIN_SIZE=2_048, _SAMPLE_SIZE=1_024)


def make_summary() -> object:
    """Four customers: three buyers and one with a complaint only (observation end 2024-03-31).

    a: purchases on 2024-01-10, 2024-02-01, 2024-03-21 -> n_purchases 3, time_since_last 10 days
    b: purchase on 2024-03-31                          -> n_purchases 1, time_since_last 0
    c: purchases on 2023-04-01, 2023-06-01             -> n_purchases 2, time_since_last 304 days
    d: complaint on 2024-03-01 only                    -> no purchase
    """
    ids = ["a", "a", "a", "b", "c", "c", "d"]
    times = np.array(
        [
            "2024-01-10",
            "2024-02-01",
            "2024-03-21",
            "2024-03-31",
            "2023-04-01",
            "2023-06-01",
            "2024-03-01",
        ],
        dtype="datetime64[ns]",
    )
    kinds = ["purchase"] * 6 + ["complaint"]
    amounts = [10.0, 20.0, 30.0, 100.0, 5.0, 5.0, 0.0]
    table = InteractionTable.from_arrays(ids, times, kinds=kinds, amounts=amounts)
    return summarize(table, observation_end="2024-03-31")


# ------------------------------------------------------------ rfm_scores: values


def test_rfm_quantile_hand_worked() -> None:
    # recency sorted [1, 3, 7, 30, 90], n = 5, h = 4k/5 = 0.8, 1.6, 2.4, 3.2:
    #   e1 = 1 + 0.8*(3-1) = 2.6, e2 = 3 + 0.6*(7-3) = 5.4,
    #   e3 = 7 + 0.4*(30-7) = 16.2, e4 = 30 + 0.2*(90-30) = 42
    # value bins: 1->1, 30->4, 7->3, 90->5, 3->2; R = 6 - bin = 5, 2, 3, 1, 4
    # frequency sorted [1, 2, 3, 5, 8]: e = 1.8, 2.6, 3.8, 5.6 -> 5->4, 1->1, 2->2, 3->3, 8->5
    # monetary all distinct, so the scores are the ranks: 120->4, 15->2, 40->3, 9->1, 300->5
    s = rfm_scores(
        time_since_last=[1, 30, 7, 90, 3],
        n_purchases=[5, 1, 2, 3, 8],
        total_spend=[120.0, 15.0, 40.0, 9.0, 300.0],
    )
    assert_array_equal(s.r, [5, 2, 3, 1, 4])
    assert_array_equal(s.f, [4, 1, 2, 3, 5])
    assert_array_equal(s.m, [4, 2, 3, 1, 5])
    assert_allclose(s.edges.time_since_last, [2.6, 5.4, 16.2, 42.0], rtol=1e-14)
    assert_allclose(s.edges.n_purchases, [1.8, 2.6, 3.8, 5.6], rtol=1e-14)
    assert s.bins == 5
    assert s.method == "quantile"
    assert len(s) == 5
    assert s.r.dtype == np.int64


def test_rfm_value_on_cut_point_takes_lower_value_bin() -> None:
    # n = 6, h = 5k/5 = k: the cut points are the order statistics y[1..4] = 20, 30, 40, 50.
    # 20 equals e1: it takes the lower bin (-inf, 20] -> frequency score 1 (the lower score),
    # recency (reversed) 6 - 1 = 5 (the higher score).
    x = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]
    s = rfm_scores(time_since_last=x, n_purchases=x, total_spend=x)
    assert_array_equal(s.edges.n_purchases, [20.0, 30.0, 40.0, 50.0])
    assert_array_equal(s.f, [1, 1, 2, 3, 4, 5])
    assert_array_equal(s.m, [1, 1, 2, 3, 4, 5])
    assert_array_equal(s.r, [5, 5, 4, 3, 2, 1])


def test_rfm_ties_skip_scores_and_warn() -> None:
    # frequency sorted [1,1,1,1,1,1,2,3,4,5] (60% one-time buyers), h = 9k/5 = 1.8, 3.6, 5.4, 7.2
    #   e1 = 1, e2 = 1, e3 = 1 + 0.4*(2-1) = 1.4, e4 = 3 + 0.2*(4-3) = 3.2
    # 1 -> bin 1; 2 and 3 -> (1.4, 3.2] bin 4; 4, 5 -> bin 5: scores 2 and 3 are skipped.
    freq = [1, 1, 1, 1, 1, 1, 2, 3, 4, 5]
    distinct = list(range(10))
    with pytest.warns(DataQualityWarning, match=r"n_purchases scores collapse: 3 of 5 .*\[2, 3\]"):
        s = rfm_scores(time_since_last=distinct, n_purchases=freq, total_spend=distinct)
    assert_allclose(s.edges.n_purchases, [1.0, 1.0, 1.4, 3.2], rtol=1e-14)
    assert_array_equal(s.f, [1, 1, 1, 1, 1, 1, 4, 4, 5, 5])


def test_rfm_constant_dimension_warns_once_per_dimension() -> None:
    with pytest.warns(DataQualityWarning, match="total_spend scores collapse: 1 of 5") as record:
        s = rfm_scores(
            time_since_last=[1, 2, 3, 4, 5], n_purchases=[1, 2, 3, 4, 5], total_spend=[7.0] * 5
        )
    assert len(record) == 1
    assert_array_equal(s.m, [1] * 5)


def test_rfm_rank_hand_worked() -> None:
    # x = [5, 3, 5, 1, 5, 2], bins = 3. Stable order (ties by position): 1(i3), 2(i5), 3(i1),
    # 5(i0), 5(i2), 5(i4); position p -> bin 1 + floor(3p/6) = 1, 1, 2, 2, 3, 3.
    # so value bins by index: i0 2, i1 2, i2 3, i3 1, i4 3, i5 1. The tie group of 5 is split:
    # the earlier i0 counts as smaller. Cut points = largest value of bins 1, 2 = 2, 5.
    x = [5.0, 3.0, 5.0, 1.0, 5.0, 2.0]
    s = rfm_scores(time_since_last=x, n_purchases=x, total_spend=x, bins=3, method="rank")
    assert_array_equal(s.f, [2, 2, 3, 1, 3, 1])
    assert_array_equal(s.m, [2, 2, 3, 1, 3, 1])
    assert_array_equal(s.r, [2, 2, 1, 3, 1, 3])  # 4 - value bin
    assert_array_equal(s.edges.n_purchases, [2.0, 5.0])
    assert s.method == "rank"


def test_rfm_rank_too_few_customers_warns() -> None:
    # n = 2 < bins = 5: positions 0, 1 -> bins 1 + floor(5p/2) = 1, 3
    with pytest.warns(DataQualityWarning, match="only 2 customers for 5 bins"):
        s = rfm_scores(
            time_since_last=[1.0, 2.0],
            n_purchases=[1.0, 2.0],
            total_spend=[1.0, 2.0],
            method="rank",
        )
    assert_array_equal(s.f, [1, 3])
    assert_array_equal(s.r, [5, 3])


def test_rfm_explicit_cut_points() -> None:
    # recency cut points (7, 30): <=7 -> R3, (7, 30] -> R2, > 30 -> R1
    # frequency (1, 3): 1 -> F1, 2..3 -> F2, 4+ -> F3; monetary (50, 200)
    s = rfm_scores(
        time_since_last=[3, 7, 8, 31],
        n_purchases=[1, 2, 3, 4],
        total_spend=[10, 50, 51, 500],
        bins=3,
        method=([7, 30], [1, 3], [50, 200]),
    )
    assert_array_equal(s.r, [3, 3, 2, 1])
    assert_array_equal(s.f, [1, 2, 2, 3])
    assert_array_equal(s.m, [1, 1, 2, 3])
    assert s.method == "explicit"
    # no warning for unused levels with explicit cut points (filterwarnings=error would fail)
    rfm_scores(
        time_since_last=[1],
        n_purchases=[1],
        total_spend=[1],
        bins=3,
        method=([7, 30], [1, 3], [50, 200]),
    )


def test_rfm_edges_reproduce_quantile_scores() -> None:
    rng = np.random.default_rng(7)
    r, f, m = rng.exponential(30, 500), rng.poisson(3, 500) + 1.0, rng.gamma(2, 40, 500)
    s = quiet_rfm(time_since_last=r, n_purchases=f, total_spend=m)
    again = rfm_scores(time_since_last=r, n_purchases=f, total_spend=m, method=s.edges)
    assert_array_equal(again.r, s.r)
    assert_array_equal(again.f, s.f)
    assert_array_equal(again.m, s.m)


def test_rfm_quantile_edges_match_numpy_and_fractions() -> None:
    rng = np.random.default_rng(3)
    x = np.round(rng.gamma(1.5, 20, 37), 2)
    bins = 7
    s = quiet_rfm(time_since_last=x, n_purchases=x, total_spend=x, bins=bins)
    # numpy.quantile (Hyndman & Fan 1996 definition 7, the documented rule) -- bit for bit
    assert_array_equal(s.edges.total_spend, np.quantile(x, np.arange(1, bins) / bins))
    # exact rational arithmetic, an independent implementation
    expected = [fraction_quantile(list(x), k, bins) for k in range(1, bins)]
    assert_allclose(s.edges.total_spend, expected, rtol=1e-13)


def test_rfm_from_summary_scores_buyers_and_zeros_non_buyers() -> None:
    s = make_summary()
    # buyers a, b, c: time_since_last 10, 0, 304 days; n_purchases 3, 1, 2; spend 60, 100, 10
    scores = rfm_scores(s, bins=3)
    ref = rfm_scores(
        time_since_last=[10.0, 0.0, 304.0],
        n_purchases=[3, 1, 2],
        total_spend=[60.0, 100.0, 10.0],
        bins=3,
    )
    assert s.customer_ids.tolist() == ["a", "b", "c", "d"]
    assert_array_equal(scores.r, [*ref.r.tolist(), 0])
    assert_array_equal(scores.f, [*ref.f.tolist(), 0])
    assert_array_equal(scores.m, [*ref.m.tolist(), 0])
    # with three distinct values and bins = 3 every value has its own score
    assert_array_equal(ref.r, [2, 3, 1])
    assert_array_equal(ref.f, [3, 1, 2])
    assert_array_equal(ref.m, [2, 3, 1])


def test_rfm_from_summary_at_observation_end_equals_hand_computed_rfm_quantities() -> None:
    s = make_summary()
    # Hand-worked from the log of make_summary, analysis date 2024-04-30 (30 days after the
    # end of the data): a last bought 2024-03-21 -> 40 days, b 2024-03-31 -> 30 days,
    # c 2023-06-01 -> 304 + 30 = 334 days; purchases 3, 1, 2; total spend 60, 100, 10.
    scores = rfm_scores(s, observation_end="2024-04-30", bins=3)
    ref = rfm_scores(
        time_since_last=[40.0, 30.0, 334.0],
        n_purchases=[3, 1, 2],
        total_spend=[60.0, 100.0, 10.0],
        bins=3,
    )
    assert_array_equal(scores.r, [*ref.r.tolist(), 0])
    assert_array_equal(scores.f, [*ref.f.tolist(), 0])
    assert_array_equal(scores.m, [*ref.m.tolist(), 0])
    # quantile cut points of [30, 40, 334] at h = 2/3, 4/3: 36.67 and 138 days
    assert_allclose(scores.edges.time_since_last, [30 + 20 / 3, 40 + 294 / 3], rtol=1e-14)
    assert_array_equal(ref.r, [2, 3, 1])
    # The summary's buy-till-you-die fields are other quantities: recency (first to last)
    # 71, 0, 61 days, frequency (repeat purchases) 2, 0, 1, mean repeat spend 25, 0, 5.
    assert_array_equal(s.recency[:3], [71.0, 0.0, 61.0])
    assert_array_equal(s.frequency[:3], [2, 0, 1])
    btyd = rfm_scores(
        time_since_last=s.recency[:3],
        n_purchases=s.frequency[:3],
        total_spend=[25.0, 0.0, 5.0],
        bins=3,
    )
    assert btyd.r.tolist() != ref.r.tolist()


def test_rfm_observation_end_errors() -> None:
    s = make_summary()
    with pytest.raises(InputError, match="observation_end must not fall in a period before"):
        rfm_scores(s, observation_end="2024-03-01")
    with pytest.raises(InputTypeError, match="observation_end applies to a CustomerSummary only"):
        rfm_scores(
            time_since_last=[1], n_purchases=[1], total_spend=[1.0], observation_end="2024-03-01"
        )
    with pytest.raises(InputError, match="bins must be <= 1000"):
        rfm_scores(s, bins=10**9)


def test_rfm_accepts_pandas_and_polars_columns() -> None:
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    a = rfm_scores(
        time_since_last=pd.Series([1, 5, 9]),
        n_purchases=pl.Series([3, 1, 2]),
        total_spend=np.array([9.0, 8.0, 7.0]),
        bins=3,
    )
    assert_array_equal(a.r, [3, 2, 1])
    assert_array_equal(a.f, [3, 1, 2])


def test_rfm_selection_fallback_on_stride_periodic_data() -> None:
    # n = 4096 -> the sample is x[::4]; make every sampled value 0 and the others large, so
    # the sample's quantiles are far off and the exact fallback must be used.
    n = 4_096
    x = np.arange(n, dtype=np.float64) + 1000.0
    x[::4] = 0.0
    with small_selection():
        edges = loyalty_rfm._quantile_edges(x, 5)
        lower, _, _ = loyalty_rfm._rank_bins(x, 5)
    assert_array_equal(edges, np.quantile(x, [0.2, 0.4, 0.6, 0.8]))
    assert_array_equal(lower + 1, stable_rank_bins(x, 5))


def test_rfm_selection_value_between_sampled_ties() -> None:
    # n = 4096, sample x[::4]. 2047 zeros (indices 2..2048), one 0.5 at index 1 (never
    # sampled), ones elsewhere. Sorted: x[0..2046] = 0, x[2047] = 0.5, x[2048..] = 1. The sample
    # near rank 2047 holds only 0 and 1, so counting the two tie values alone cannot place rank
    # 2047: the band selection must find the unsampled 0.5.
    x = np.ones(4_096)
    x[1] = 0.5
    x[2:2_049] = 0.0
    with small_selection():
        median = loyalty_rfm._quantile_edges(x, 2)  # h = 4095/2 = 2047.5: (0.5 + 1) / 2
        lower, rank_edges, _ = loyalty_rfm._rank_bins(x, 2)  # bin 1 ends at rank 2047
    assert_array_equal(median, [0.75])
    assert_array_equal(rank_edges, [0.5])
    assert_array_equal(lower + 1, stable_rank_bins(x, 2))


def test_rfm_large_input_default_path_matches_numpy() -> None:
    rng = np.random.default_rng(11)
    n = 300_000  # above _SELECT_MIN_SIZE: the sample-and-band selection runs
    rec = rng.integers(0, 365, n).astype(np.float64)
    mon = rng.gamma(2, 50, n)
    freq = rng.geometric(0.4, n).astype(np.float64)
    s = quiet_rfm(time_since_last=rec, n_purchases=freq, total_spend=mon)
    for x, e in (
        (rec, s.edges.time_since_last),
        (freq, s.edges.n_purchases),
        (mon, s.edges.total_spend),
    ):
        assert_array_equal(e, np.quantile(x, [0.2, 0.4, 0.6, 0.8]))
    assert_array_equal(s.m, 1 + np.searchsorted(s.edges.total_spend, mon, side="left"))
    rank = quiet_rfm(time_since_last=rec, n_purchases=freq, total_spend=mon, method="rank")
    assert_array_equal(rank.m, stable_rank_bins(mon, 5))
    assert_array_equal(rank.r, 6 - stable_rank_bins(rec, 5))


# -------------------------------------------------------- rfm_scores: properties


@given(cols=rfm_columns(), bins=st.integers(2, 7), method=st.sampled_from(["quantile", "rank"]))
def test_rfm_scores_bounds_and_shape(cols: tuple[np.ndarray, ...], bins: int, method: str) -> None:
    s = quiet_rfm(*cols, bins=bins, method=method)
    for score in (s.r, s.f, s.m):
        assert score.shape == cols[0].shape
        assert score.min() >= 1
        assert score.max() <= bins
    for e in (s.edges.time_since_last, s.edges.n_purchases, s.edges.total_spend):
        assert e.size == bins - 1
        assert np.all(np.diff(e) >= 0)


@given(cols=rfm_columns(), bins=st.integers(2, 7), method=st.sampled_from(["quantile", "rank"]))
def test_rfm_better_value_never_gets_lower_score(
    cols: tuple[np.ndarray, ...], bins: int, method: str
) -> None:
    rec, freq, mon = cols
    s = quiet_rfm(time_since_last=rec, n_purchases=freq, total_spend=mon, bins=bins, method=method)
    i, j = np.triu_indices(rec.size, k=1)
    for x, score, sign in ((rec, s.r, -1), (freq, s.f, 1), (mon, s.m, 1)):
        better_j = sign * (x[j] - x[i]) > 0
        assert np.all(score[j][better_j] >= score[i][better_j])
        better_i = sign * (x[i] - x[j]) > 0
        assert np.all(score[i][better_i] >= score[j][better_i])


@given(cols=rfm_columns(), bins=st.integers(2, 7), seed=st.integers(0, 2**32 - 1))
def test_rfm_quantile_is_order_equivariant_and_keeps_ties_together(
    cols: tuple[np.ndarray, ...], bins: int, seed: int
) -> None:
    s = quiet_rfm(*cols, bins=bins)
    perm = np.random.default_rng(seed).permutation(cols[0].size)
    p = quiet_rfm(*(c[perm] for c in cols), bins=bins)
    assert_array_equal(p.r, s.r[perm])
    assert_array_equal(p.f, s.f[perm])
    assert_array_equal(p.m, s.m[perm])
    assert_array_equal(p.edges.total_spend, s.edges.total_spend)
    for x, score in zip(cols, (s.r, s.f, s.m), strict=True):
        same = x[:, None] == x[None, :]
        assert np.all(score[:, None] == score[None, :], where=same)


@given(x=value_arrays(), bins=st.integers(2, 7))
def test_rfm_quantile_matches_numpy_quantile_and_searchsorted(x: np.ndarray, bins: int) -> None:
    s = quiet_rfm(time_since_last=x, n_purchases=x, total_spend=x, bins=bins)
    edges = np.quantile(x, np.arange(1, bins) / bins)
    assert_array_equal(s.edges.n_purchases, edges)
    assert_array_equal(s.f, 1 + np.searchsorted(edges, x, side="left"))
    assert_array_equal(s.r, bins - np.searchsorted(edges, x, side="left"))


@given(x=value_arrays(), bins=st.integers(2, 7))
def test_rfm_rank_matches_a_stable_sort(x: np.ndarray, bins: int) -> None:
    s = quiet_rfm(time_since_last=x, n_purchases=x, total_spend=x, bins=bins, method="rank")
    expected = stable_rank_bins(x, bins)
    assert_array_equal(s.f, expected)
    assert_array_equal(s.r, bins + 1 - expected)
    counts = np.bincount(s.f, minlength=bins + 1)[1:]
    if x.size >= bins:  # equal-size bins: sizes differ by at most one
        assert counts.max() - counts.min() <= 1


@given(x=value_arrays(), bins=st.integers(2, 7), seed=st.integers(0, 2**32 - 1))
def test_rfm_rank_is_order_equivariant_for_distinct_values(
    x: np.ndarray, bins: int, seed: int
) -> None:
    assume(np.unique(x).size == x.size)
    perm = np.random.default_rng(seed).permutation(x.size)
    s = quiet_rfm(time_since_last=x, n_purchases=x, total_spend=x, bins=bins, method="rank")
    p = quiet_rfm(
        time_since_last=x[perm], n_purchases=x[perm], total_spend=x[perm], bins=bins, method="rank"
    )
    assert_array_equal(p.f, s.f[perm])


@given(x=large_samples(), bins=st.integers(2, 9))
def test_order_statistics_selection_is_exact(x: np.ndarray, bins: int) -> None:
    with small_selection():
        edges = loyalty_rfm._quantile_edges(x, bins)
        lower, rank_edges, sizes = loyalty_rfm._rank_bins(x, bins)
    assert_array_equal(edges, np.quantile(x, np.arange(1, bins) / bins))
    expected = stable_rank_bins(x, bins)
    assert_array_equal(lower + 1, expected)
    assert_array_equal(sizes, np.bincount(expected, minlength=bins + 1)[1:])
    ends = -((-np.arange(1, bins) * x.size) // bins)
    assert_array_equal(rank_edges, np.sort(x)[ends - 1])


# ------------------------------------------------------------ rfm_scores: errors


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (
            ([1, np.nan], [1, 2], [1, 2]),
            {},
            InputError,
            r"time_since_last must be finite .*index 1",
        ),
        (([1, 2], [1, -3], [1, 2]), {}, InputError, r"n_purchases must be non-negative.*-3"),
        (([1, 2], [1, 2], [1, np.inf]), {}, InputError, "total_spend must be finite"),
        (([1, 2], [1, 2, 3], [1, 2]), {}, InputError, "n_purchases must have the same length"),
        (([], [], []), {}, InputError, "time_since_last must not be empty"),
        ((["a"], [1], [1]), {}, InputTypeError, "time_since_last must hold numbers"),
        (([1, 2], [1, 2], [1, 2]), {"bins": 1}, InputError, "bins must be >= 2"),
        (([1, 2], [1, 2], [1, 2]), {"bins": 2.5}, InputTypeError, "bins must be an integer"),
        (([1, 2], [1, 2], [1, 2]), {"method": "median"}, InputError, "method must be one of"),
        (([1, 2],), {}, InputTypeError, "n_purchases, total_spend required"),
        (([1, 2], [1, 2], [1, 2]), {"method": 3}, InputTypeError, "method must be"),
        (([1, 2], [1, 2], [1, 2]), {"method": ([1], [1])}, InputError, "sequence of 2"),
        (
            ([1, 2], [1, 2], [1, 2]),
            {"method": ([1, 2], [1, 2, 3, 4], [1, 2, 3, 4])},
            InputError,
            r"method.time_since_last must hold bins - 1 = 4 cut points, got 2",
        ),
        (
            ([1, 2], [1, 2], [1, 2]),
            {"bins": 3, "method": ([1, 2], [3, 2], [1, 2])},
            InputError,
            r"method.n_purchases cut points must be non-decreasing.*index 1",
        ),
        (
            ([1, 2], [1, 2], [1, 2]),
            {"bins": 3, "method": ([1, 2], [1, np.nan], [1, 2])},
            InputError,
            "method.n_purchases must be finite",
        ),
    ],
)
def test_rfm_scores_errors(
    args: tuple[object, ...], kwargs: dict[str, object], error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        rfm_scores(**by_name(args), **kwargs)  # type: ignore[arg-type]


def test_rfm_summary_errors() -> None:
    s = make_summary()
    with pytest.raises(InputTypeError, match="n_purchases must be left out"):
        rfm_scores(s, n_purchases=[1, 2, 3, 4])
    with pytest.raises(
        InputTypeError,
        match=r"summary \(rfm_scores. only positional argument\) must be a CustomerSummary",
    ):
        rfm_scores([1, 2, 3])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="positional"):
        rfm_scores(s.recency, s.frequency, s.monetary_value)  # type: ignore[misc]
    no_buyers = s.select(np.array([False, False, False, True]))
    with pytest.raises(InputError, match="no customer with a purchase"):
        rfm_scores(no_buyers)


def test_rfm_edges_are_read_only() -> None:
    s = rfm_scores(time_since_last=[1, 2, 3], n_purchases=[1, 2, 3], total_spend=[1, 2, 3], bins=3)
    assert isinstance(s.edges, RfmEdges)
    with pytest.raises(ValueError, match="read-only"):
        s.r[0] = 9
    with pytest.raises(ValueError, match="read-only"):
        s.edges.time_since_last[0] = 9.0


# ------------------------------------------------------ rfm_scores: per-dimension methods

RFM_DIMS = (("time_since_last", "r"), ("n_purchases", "f"), ("total_spend", "m"))


def dimension_method(bins: int) -> st.SearchStrategy[object]:
    """A method for one dimension: a name, or bins - 1 ascending cut points (list or array)."""
    value = st.one_of(st.integers(0, 6).map(float), st.floats(0, 1e6))
    cuts = st.lists(value, min_size=bins - 1, max_size=bins - 1).map(sorted)
    return st.one_of(st.sampled_from(["quantile", "rank"]), cuts, cuts.map(np.asarray))


def collapse_messages(*args: object, **kwargs: object) -> tuple[RfmScores, list[str]]:
    """Call rfm_scores and return the result with the texts of its collapse warnings."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always", DataQualityWarning)
        s = rfm_scores(**by_name(args), **kwargs)  # type: ignore[arg-type]
    assert all(issubclass(w.category, DataQualityWarning) for w in record)
    return s, [str(w.message) for w in record]


def test_rfm_mixed_methods_fixed_frequency_cuts_do_not_warn() -> None:
    # frequency [1,1,1,1,1,1,2,3,4,5]: its quintiles collapse (test_rfm_ties_skip_scores_and_warn).
    # Cut points (1, 2, 4, 7): 1 -> F1, 2 -> F2, 3..4 -> F3, 5..7 -> F4, 8+ -> F5.
    # Recency and monetary 0..9: quantiles at h = 9k/5 = 1.8, 3.6, 5.4, 7.2 (distinct values,
    # so the quantile is h itself); value 0..1 -> bin 1, 2..3 -> 2, 4..5 -> 3, 6..7 -> 4, 8..9 -> 5.
    freq = [1, 1, 1, 1, 1, 1, 2, 3, 4, 5]
    distinct = list(range(10))
    method = {"time_since_last": "quantile", "n_purchases": [1, 2, 4, 7], "total_spend": "quantile"}
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        s = rfm_scores(
            time_since_last=distinct, n_purchases=freq, total_spend=distinct, method=method
        )
    assert record == []
    assert_array_equal(s.f, [1, 1, 1, 1, 1, 1, 2, 3, 3, 4])
    assert_array_equal(s.m, [1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
    assert_array_equal(s.r, [5, 5, 4, 4, 3, 3, 2, 2, 1, 1])
    assert_allclose(s.edges.time_since_last, [1.8, 3.6, 5.4, 7.2], rtol=1e-14)
    assert_allclose(s.edges.total_spend, [1.8, 3.6, 5.4, 7.2], rtol=1e-14)
    assert_array_equal(s.edges.n_purchases, [1.0, 2.0, 4.0, 7.0])
    assert s.method == "mixed"
    # the same as a tuple in R, F, M order
    t = rfm_scores(
        time_since_last=distinct,
        n_purchases=freq,
        total_spend=distinct,
        method=("quantile", [1, 2, 4, 7], "quantile"),
    )
    for _, attr in RFM_DIMS:
        assert_array_equal(getattr(t, attr), getattr(s, attr))


def test_rfm_mixed_methods_warn_only_for_data_driven_dimensions() -> None:
    freq = [1, 1, 1, 1, 1, 1, 2, 3, 4, 5]
    distinct = list(range(10))
    s, messages = collapse_messages(
        [5.0] * 10, freq, distinct, method=([1, 2, 3, 4], "quantile", "rank")
    )
    # the constant recency has given cut points (no warning); frequency quantiles collapse
    assert len(messages) == 1
    assert messages[0].startswith("n_purchases scores collapse: 3 of 5")
    assert "'n_purchases': [cut points]" in messages[0]
    assert_array_equal(s.r, [1] * 10)  # 5.0 > 4: the highest value bin, recency score 1
    assert_array_equal(s.m, [1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
    assert s.method == "mixed"


def test_rfm_per_dimension_method_names() -> None:
    x = [1.0, 2.0, 3.0, 4.0, 5.0]
    cuts = [1, 2, 3, 4]
    same = rfm_scores(
        time_since_last=x,
        n_purchases=x,
        total_spend=x,
        method={"time_since_last": "rank", "n_purchases": "rank", "total_spend": "rank"},
    )
    assert same.method == "rank"
    assert (
        rfm_scores(
            time_since_last=x, n_purchases=x, total_spend=x, method=(cuts, cuts, cuts)
        ).method
        == "explicit"
    )
    assert (
        rfm_scores(
            time_since_last=x, n_purchases=x, total_spend=x, method={d: cuts for d, _ in RFM_DIMS}
        ).method
        == "explicit"
    )
    assert (
        rfm_scores(time_since_last=x, n_purchases=x, total_spend=x, method=("quantile",) * 3).method
        == "quantile"
    )


def test_rfm_per_dimension_methods_from_summary() -> None:
    s = make_summary()
    method = {"time_since_last": [5, 100], "n_purchases": "quantile", "total_spend": [50, 70]}
    scores = rfm_scores(s, bins=3, method=method)
    # buyers a, b, c: time_since_last 10, 0, 304 -> R 2, 3, 1; spend 60, 100, 10 -> M 2, 3, 1
    ref = rfm_scores(
        time_since_last=[10.0, 0.0, 304.0],
        n_purchases=[3, 1, 2],
        total_spend=[60.0, 100.0, 10.0],
        bins=3,
        method=method,
    )
    assert_array_equal(scores.r, [2, 3, 1, 0])
    assert_array_equal(scores.m, [2, 3, 1, 0])
    assert_array_equal(scores.f[:3], ref.f)
    assert scores.f[3] == 0


@given(cols=rfm_columns(), bins=st.integers(2, 7), data=st.data())
def test_rfm_mixed_methods_equal_the_pure_methods_per_dimension(
    cols: tuple[np.ndarray, ...], bins: int, data: st.DataObject
) -> None:
    choices = [data.draw(dimension_method(bins)) for _ in RFM_DIMS]
    mapping = {dim: choice for (dim, _), choice in zip(RFM_DIMS, choices, strict=True)}
    mixed, mixed_messages = collapse_messages(*cols, bins=bins, method=mapping)
    in_order, tuple_messages = collapse_messages(*cols, bins=bins, method=tuple(choices))
    expected_messages: list[str] = []
    for (dim, attr), choice in zip(RFM_DIMS, choices, strict=True):
        pure_method = choice if isinstance(choice, str) else (choice, choice, choice)
        pure, messages = collapse_messages(*cols, bins=bins, method=pure_method)
        expected_messages += [m for m in messages if m.startswith(f"{dim} scores collapse")]
        for result in (mixed, in_order):
            assert_array_equal(getattr(result, attr), getattr(pure, attr))
            assert_array_equal(getattr(result.edges, dim), getattr(pure.edges, dim))
    # a mixed call warns exactly about the dimensions the pure calls warn about
    assert mixed_messages == expected_messages
    assert tuple_messages == expected_messages
    kinds = {c if isinstance(c, str) else "explicit" for c in choices}
    assert mixed.method == (kinds.pop() if len(kinds) == 1 else "mixed")


ALL_QUANTILE = {"time_since_last": "quantile", "n_purchases": "quantile", "total_spend": "quantile"}


@pytest.mark.parametrize(
    ("method", "error", "match"),
    [
        ({**ALL_QUANTILE, "spend": "rank"}, InputError, r"method has unknown key 'spend'"),
        ({"r": "quantile", "f": "rank", "m": "quantile"}, InputError, "unknown key 'r'"),
        ({**ALL_QUANTILE, 1: "rank"}, InputError, "method has unknown key 1"),
        (
            {"time_since_last": "quantile", "n_purchases": [1, 2, 4, 7]},
            InputError,
            r"method lacks the key\(s\) 'total_spend'",
        ),
        (
            {**ALL_QUANTILE, "time_since_last": "median"},
            InputError,
            r"method\['time_since_last'\] must be 'quantile', 'rank' or bins - 1 = 4 .*'median'",
        ),
        (
            ("quantile", "ranks", "quantile"),
            InputError,
            r"method.n_purchases must be 'quantile', 'rank' or bins - 1 = 4 cut points",
        ),
        (("quantile", "rank"), InputError, "got a sequence of 2"),
        (("quantile", "rank", "rank", [1, 2, 3, 4]), InputError, "got a sequence of 4"),
        (
            {**ALL_QUANTILE, "n_purchases": [1, 2]},
            InputError,
            r"method\['n_purchases'\] must hold bins - 1 = 4 cut points, got 2",
        ),
        (
            {**ALL_QUANTILE, "total_spend": [1, 5, 3, 9]},
            InputError,
            r"method\['total_spend'\] cut points must be non-decreasing.*index 2",
        ),
        (
            ("quantile", [1, 2, np.nan, 4], "rank"),
            InputError,
            "method.n_purchases must be finite",
        ),
        (
            {**ALL_QUANTILE, "n_purchases": None},
            InputTypeError,
            r"method\['n_purchases'\] must be 'quantile', 'rank' or bins - 1 = 4 .* got NoneType",
        ),
        (
            ("quantile", ["a", "b", "c", "d"], "rank"),
            InputTypeError,
            "method.n_purchases must hold",
        ),
        ({"quantile"}, InputTypeError, "method must be .*a mapping.*got set"),
    ],
)
def test_rfm_per_dimension_method_errors(method: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        rfm_scores(
            time_since_last=[1, 2, 3], n_purchases=[1, 2, 3], total_spend=[1, 2, 3], method=method
        )  # type: ignore[arg-type]


# ------------------------------------------------------------------ segments

# The ten-segment (R, F) map as listed in the Notes of rfm_segments, written out cell by
# cell independently of RF_GRID: rows R = 5..1, columns F = 1..5.
RF_MAP = {
    5: ["new", "potential_loyalists", "potential_loyalists", "champions", "champions"],
    4: ["promising", "potential_loyalists", "potential_loyalists", "loyal", "loyal"],
    3: ["about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"],
    2: ["hibernating", "hibernating", "at_risk", "at_risk", "cannot_lose"],
    1: ["hibernating", "hibernating", "at_risk", "at_risk", "cannot_lose"],
}


def test_rf_grid_matches_the_written_out_map() -> None:
    cells = list(itertools.product(range(1, 6), range(1, 6)))
    r = [c[0] for c in cells]
    f = [c[1] for c in cells]
    labels = rfm_segments(r=r, f=f)
    expected = [RF_MAP[ri][fi - 1] for ri, fi in cells]
    assert labels.tolist() == expected
    assert labels.dtype.kind == "U"
    assert len(set(expected)) == 10


def test_rf_grid_partitions_the_25_cells() -> None:
    report = validate_segment_rules(RF_GRID)
    assert report.is_partition
    assert report.dimensions == ("r", "f")
    assert report.gaps.shape == (0, 2)
    assert report.overlaps.shape == (0, 2)
    assert report.unreachable == ()
    assert report.grid.shape == (5, 5)
    assert report.grid[4, 3] == "champions"  # R5 F4
    # every cell named, and by the map above
    for ri in range(1, 6):
        assert report.grid[ri - 1].tolist() == RF_MAP[ri]


def test_rfm_cube_partitions_the_125_cells_and_names_corners() -> None:
    report = validate_segment_rules(RFM_CUBE)
    assert report.is_partition
    assert report.dimensions == ("r", "f", "m")
    assert report.grid.shape == (5, 5, 5)
    # high = 4..5, low = 1..3: (R5, F5, M5) all high; (R1, F5, M4) retain; (R4, F1, M1) develop
    labels = rfm_segments(r=[5, 1, 4, 3], f=[5, 5, 1, 3], m=[5, 4, 1, 3], rules=RFM_CUBE)
    assert labels.tolist() == [
        "important_value",
        "important_retain",
        "general_develop",
        "general_win_back",
    ]


def test_rfm_segments_from_rfm_scores_and_unmatched() -> None:
    s = make_summary()
    scores = rfm_scores(s, bins=5, method=([5, 20, 100, 200], [1, 2, 3, 4], [1, 2, 3, 4]))
    # a: time_since_last 10 -> (5, 20] -> R4; n 3 -> (2, 3] -> F3 -> potential_loyalists
    # b: 0 -> R5; n 1 -> F1 -> new;   c: 304 -> R1; n 2 -> F2 -> hibernating;   d: no purchase
    assert rfm_segments(scores).tolist() == [
        "potential_loyalists",
        "new",
        "hibernating",
        "unclassified",
    ]
    assert rfm_segments(scores, unmatched="no_purchase").tolist()[-1] == "no_purchase"


def test_rfm_segments_first_match_wins_and_catch_all() -> None:
    rules = {"vip": {"m": (5, 5)}, "active": {"r": (4, 5)}, "other": {}}
    out = rfm_segments(r=[5, 5, 1], f=[1, 1, 1], m=[5, 1, 1], rules=rules)
    assert out.tolist() == ["vip", "active", "other"]
    assert rfm_segments(r=[], f=[], rules=RF_GRID).tolist() == []


def test_validate_segment_rules_reports_gaps_overlaps_and_dead_rules() -> None:
    rules = {
        "top": {"r": (4, 5)},
        "high": {"r": 5},  # entirely inside "top": never wins
        "mid": {"r": (2, 3), "f": (1, 3)},
        "ghost": {"r": (6, 7)},  # outside 1..bins
    }
    report = validate_segment_rules(rules, bins=5)
    # gaps: R1 (all F) and R2..3 with F4..5 -> 5 + 4 = 9 cells
    assert report.gaps.tolist() == [
        [1, 1],
        [1, 2],
        [1, 3],
        [1, 4],
        [1, 5],
        [2, 4],
        [2, 5],
        [3, 4],
        [3, 5],
    ]
    # overlaps: R5 with every F (top and high)
    assert report.overlaps.tolist() == [[5, 1], [5, 2], [5, 3], [5, 4], [5, 5]]
    assert report.overlapping_pairs == (("top", "high"),)
    assert report.unreachable == ("high", "ghost")
    assert not report.is_partition
    assert report.grid[0, 0] == ""


@st.composite
def rule_sets(draw: st.DrawFn) -> dict[str, dict[str, tuple[int, int]]]:
    n_rules = draw(st.integers(1, 6))
    rules: dict[str, dict[str, tuple[int, int]]] = {}
    for k in range(n_rules):
        spec: dict[str, tuple[int, int]] = {}
        for dim in draw(st.sets(st.sampled_from(["r", "f", "m"]))):
            lo = draw(st.integers(1, 6))
            hi = draw(st.integers(lo, 6))
            spec[dim] = (lo, hi)
        rules[f"s{k}"] = spec
    return rules


@given(
    rules=rule_sets(),
    scores=st.lists(st.tuples(*[st.integers(0, 6)] * 3), min_size=1, max_size=30),
    table=st.booleans(),
)
def test_rfm_segments_equal_a_brute_force_first_match(
    rules: dict[str, dict[str, tuple[int, int]]],
    scores: list[tuple[int, int, int]],
    table: bool,
) -> None:
    r, f, m = (list(c) for c in zip(*scores, strict=True))
    # both code paths: one lookup table over the cells, or rule by rule
    with module_settings(_MAX_LOOKUP_CELLS=loyalty_segments._MAX_LOOKUP_CELLS if table else 0):
        out = rfm_segments(r=r, f=f, m=m, rules=rules, unmatched="-").tolist()
    expected = []
    for cell in scores:
        values = dict(zip("rfm", cell, strict=True))
        name = next(
            (
                n
                for n, spec in rules.items()
                if all(lo <= values[d] <= hi for d, (lo, hi) in spec.items())
            ),
            "-",
        )
        expected.append(name)
    assert out == expected


@given(rules=rule_sets(), bins=st.integers(1, 6))
def test_validate_segment_rules_is_consistent_with_rfm_segments(
    rules: dict[str, dict[str, tuple[int, int]]], bins: int
) -> None:
    report = validate_segment_rules(rules, bins=bins)
    d = len(report.dimensions)
    cells = np.array(list(itertools.product(range(1, bins + 1), repeat=d)))
    cols = [cells[:, k] for k in range(d)]
    labels = rfm_segments(**dict(zip("rfm", cols, strict=False)), rules=rules, unmatched="")
    assert_array_equal(labels, report.grid.reshape(-1))
    assert (labels == "").sum() == report.gaps.shape[0]
    winners = set(labels.tolist()) - {""}
    assert set(report.unreachable) == set(rules) - winners
    assert report.is_partition == (
        report.gaps.shape[0] == 0 and report.overlaps.shape[0] == 0 and not report.unreachable
    )


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: rfm_segments(r=[1], f=[1], rules=[("a", {})]), InputTypeError, "rules must be a"),
        (lambda: rfm_segments(r=[1], f=[1], rules={}), InputError, "at least one segment"),
        (
            lambda: rfm_segments(r=[1], f=[1], rules={"a": {"x": (1, 2)}}),
            InputError,
            r"rules\['a'\] has an unknown dimension 'x'",
        ),
        (
            lambda: rfm_segments(r=[1], f=[1], rules={"a": {"r": (3, 2)}}),
            InputError,
            r"rules\['a'\]\['r'\] must satisfy 1 <= low <= high, got \(3, 2\)",
        ),
        (
            lambda: rfm_segments(r=[1], f=[1], rules={"a": {"r": (True, 2)}}),
            InputTypeError,
            "must hold two integer scores",
        ),
        (
            lambda: rfm_segments(r=[1], f=[1], rules={"a": {"r": "5"}}),
            InputTypeError,
            r"must be a score or a \(low, high\) pair",
        ),
        (
            lambda: rfm_segments(r=[1], f=[1], rules={"a": [1]}),
            InputTypeError,
            r"rules\['a'\] must",
        ),
        (lambda: rfm_segments(r=[1], f=[1], rules={"": {}}), InputTypeError, "non-empty strings"),
        (lambda: rfm_segments(r=[1], f=[1], rules=RFM_CUBE), InputTypeError, "m is required"),
        (lambda: rfm_segments(r=[1, -1], f=[1, 1]), InputError, r"r must be non-negative.*-1"),
        (lambda: rfm_segments(r=[1, 2], f=[1.5, 1]), InputError, "f must hold whole numbers"),
        (lambda: rfm_segments(r=[1, 2], f=[1]), InputError, "f must have the same length as r"),
        (lambda: rfm_segments(r=[1]), InputTypeError, "r and f are required"),
        (
            lambda: rfm_segments([1], [1]),  # type: ignore[misc]
            TypeError,
            "positional",
        ),
        (
            lambda: rfm_segments([1]),  # type: ignore[arg-type]
            InputTypeError,
            r"scores \(rfm_segments. only positional argument\) must be an RfmScores",
        ),
        (lambda: rfm_segments(r=[1], f=[1], unmatched=3), InputTypeError, "unmatched must be"),
        (
            lambda: rfm_segments(
                rfm_scores(time_since_last=[1, 2], n_purchases=[1, 2], total_spend=[1, 2], bins=2),
                f=[1, 2],
            ),
            InputTypeError,
            "f must be left out when an RfmScores is given",
        ),
        (lambda: validate_segment_rules(RF_GRID, bins=0), InputError, "bins must be >= 1"),
        (lambda: validate_segment_rules(5), InputTypeError, "rules must be a mapping"),
    ],
)
def test_segment_errors(call: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call()  # type: ignore[operator]


# ------------------------------------------------------------- loyalty_class


def test_loyalty_class_hand_cases_and_boundaries() -> None:
    # rules: 0 -> potential; >= 4 occasions and last <= 365 days -> loyal; >= 2 -> old; 1 -> new
    n = [0, 1, 1, 2, 4, 4, 3, 9]
    since = [np.nan, 0.0, 900.0, 5.0, 365.0, 366.0, 1.0, 0.0]
    out = loyalty_class(n, since, min_tenure=0)
    assert out.tolist() == ["potential", "new", "new", "old", "loyal", "old", "old", "loyal"]
    assert set(out.tolist()) <= set(LOYALTY_CLASSES)
    # thresholds are keyword arguments
    assert loyalty_class([3], [1.0], loyal_min_purchases=3, min_tenure=0).tolist() == ["loyal"]
    assert loyalty_class([4], [10.0], active_within=5, min_tenure=0).tolist() == ["old"]
    # a year in weeks is 52
    assert loyalty_class([4, 4], [52.0, 53.0], time_unit="W", min_tenure=0).tolist() == [
        "loyal",
        "old",
    ]


def test_loyalty_class_from_summary_and_observation_end() -> None:
    s = make_summary()
    # a: 3 occasions, 10 days ago; b: 1; c: 2; d: none. With loyal_min_purchases=3:
    assert loyalty_class(s, loyal_min_purchases=3, min_tenure=0).tolist() == [
        "loyal",
        "new",
        "old",
        "potential",
    ]
    # as of 2025-03-27 (361 days after 2024-03-31) a's last purchase is 371 days back: not loyal
    later = loyalty_class(s, observation_end="2025-03-27", loyal_min_purchases=3, min_tenure=0)
    assert later.tolist() == ["old", "new", "old", "potential"]
    # as of 2025-03-20 (354 days later): 364 days <= 365, still loyal
    assert (
        loyalty_class(
            s, observation_end="2025-03-20", loyal_min_purchases=3, min_tenure=0
        ).tolist()[0]
        == "loyal"
    )


@given(
    n=st.lists(st.integers(0, 10), min_size=1, max_size=20),
    data=st.data(),
)
def test_loyalty_class_is_monotone(n: list[int], data: st.DataObject) -> None:
    since = data.draw(st.lists(st.floats(0, 800), min_size=len(n), max_size=len(n)))
    rank = {c: i for i, c in enumerate(LOYALTY_CLASSES)}
    base = [rank[c] for c in loyalty_class(n, since, min_tenure=0).tolist()]
    more = [rank[c] for c in loyalty_class([k + 1 for k in n], since, min_tenure=0).tolist()]
    recent = [rank[c] for c in loyalty_class(n, [t / 2 for t in since], min_tenure=0).tolist()]
    assert all(b <= m for b, m in zip(base, more, strict=True))
    assert all(b <= r for b, r in zip(base, recent, strict=True))
    perm = data.draw(st.permutations(range(len(n))))
    permuted = loyalty_class([n[i] for i in perm], [since[i] for i in perm], min_tenure=0).tolist()
    assert permuted == [loyalty_class(n, since, min_tenure=0).tolist()[i] for i in perm]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: loyalty_class([1, -1], [1.0, 1.0]), "n_purchases must be non-negative"),
        (lambda: loyalty_class([1], [np.nan]), r"time_since_last must be a non-negative.*index 0"),
        (lambda: loyalty_class([1, 2], [1.0]), "time_since_last must have the same length"),
        (lambda: loyalty_class([1]), "time_since_last is required"),
        (
            lambda: loyalty_class([1], [1.0], observation_end="2024-01-01"),
            "observation_end applies to a Customer",
        ),
        (lambda: loyalty_class([1], [1.0], loyal_min_purchases=1), "loyal_min_purchases must"),
        (lambda: loyalty_class([1], [1.0], active_within=-1), "active_within must be >= 0"),
        (lambda: loyalty_class([1], [1.0], time_unit="Q"), "time_unit must be one of"),
        (lambda: loyalty_class(make_summary(), [1.0]), "time_since_last must be left out"),
        (
            lambda: loyalty_class(make_summary(), observation_end="2024-03-01"),
            "observation_end must not fall in a period before",
        ),
        (
            lambda: loyalty_class(make_summary(), time_unit="W"),
            "time_unit must match the summary's time unit 'D'",
        ),
    ],
)
def test_loyalty_class_errors(call: object, match: str) -> None:
    # a missing or unexpected companion argument is a TypeError, as in Python's own calls
    companion = ("is required", "applies to", "left out")
    error = InputTypeError if any(word in match for word in companion) else InputError
    with pytest.raises(error, match=match):
        call()  # type: ignore[operator]


def test_observation_end_needs_a_dated_summary() -> None:
    from crmcore import CustomerSummary

    s = CustomerSummary.from_arrays([1, 0], [3.0, 0.0], [5.0, 2.0])
    assert loyalty_class(s, loyal_min_purchases=2, min_tenure=0).tolist() == ["loyal", "new"]
    with pytest.raises(InputError, match="observation_end needs a summary built by summarize"):
        loyalty_class(s, observation_end="2024-01-01")


# --------------------------------------------------------------- visit_level


def test_visit_level_hand_cases() -> None:
    # rate = visits / (tenure / 365):
    #   1 visit -> passer_by; 3 / (300/365) = 3.65 < 4 -> customer; 6 / (360/365) = 6.08 -> regular
    #   20 / (365/365) = 20 -> premium; 120 / (700/365) = 62.6 -> devotee
    #   10 visits in 30 days: tenure below a quarter (91.25 days) -> customer
    #   4 visits in exactly 365 days: rate 4.0 = regular_rate -> regular
    out = visit_level([1, 3, 6, 20, 120, 10, 4], [10, 300, 360, 365, 700, 30, 365])
    assert out.tolist() == [
        "passer_by",
        "customer",
        "regular",
        "premium",
        "devotee",
        "customer",
        "regular",
    ]
    assert visit_level([0], [np.nan]).tolist() == ["passer_by"]
    assert visit_level([12], [1.0], time_unit="Y").tolist() == ["premium"]
    # 3 visits over 3 months: 3 / (3/12) = 12 a year = premium_rate -> premium
    assert visit_level([3], [3.0], time_unit="M").tolist() == ["premium"]
    assert visit_level([3], [3.0], time_unit="M", premium_rate=12.5).tolist() == ["regular"]


def test_visit_level_from_summary() -> None:
    s = make_summary()
    # T (days from the first purchase to 2024-03-31): a 21 + 29 + 31 = 81, b 0, c 365;
    # n 3, 1, 2, 0. a: tenure 81 < 91.25 days (a quarter) -> customer; b: passer_by;
    # c: 2 / (365/365) = 2 < 4 -> customer; d: passer_by
    assert visit_level(s).tolist() == ["customer", "passer_by", "customer", "passer_by"]
    # with min_tenure = 30 days a's rate counts: 3 / (81/365) = 13.5 >= 12 -> premium
    assert visit_level(s, min_tenure=30).tolist()[0] == "premium"


@given(
    n=st.lists(st.integers(0, 200), min_size=1, max_size=20),
    data=st.data(),
)
def test_visit_level_is_monotone_in_visits(n: list[int], data: st.DataObject) -> None:
    tenure = data.draw(st.lists(st.floats(0, 2_000), min_size=len(n), max_size=len(n)))
    rank = {c: i for i, c in enumerate(VISIT_LEVELS)}
    base = [rank[c] for c in visit_level(n, tenure).tolist()]
    more = [rank[c] for c in visit_level([k + 3 for k in n], tenure).tolist()]
    assert all(b <= m for b, m in zip(base, more, strict=True))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"regular_rate": 20, "premium_rate": 10}, r"premium_rate must be >= regular_rate"),
        ({"devotee_rate": 5}, r"devotee_rate must be >= premium_rate \(12.0\), got 5.0"),
        ({"regular_rate": 0}, "regular_rate must be > 0"),
        ({"min_tenure": 0}, "min_tenure must be > 0"),
        ({"customer_min_visits": 0}, "customer_min_visits must be >= 1"),
    ],
)
def test_visit_level_errors(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(InputError, match=match):
        visit_level([2], [30.0], **kwargs)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"tenure must be a non-negative.*tenure=-1.0"):
        visit_level([2], [-1.0])


# -------------------------------------------------------------- ladder_stage


def test_ladder_stage_hand_cases_and_precedence() -> None:
    n = [0, 0, 0, 1, 2, 5, 5, 1, 1, 4]
    since = [np.nan, np.nan, np.nan, 9.0, 9.0, 9.0, 900.0, 9.0, 9.0, 9.0]
    stages = ladder_stage(
        n,
        since,
        qualified=[0, 1, 0, 0, 0, 0, 0, 0, 0, 0],
        promoter=[0, 0, 1, 0, 0, 0, 0, 0, 1, 0],
        member=[0, 0, 0, 0, 0, 0, 0, 1, 0, 1],
        n_referrals=[0, 0, 0, 0, 0, 0, 0, 0, 0, 3],
        min_tenure=0,
    )
    assert stages.dtype.kind == "U"  # labels are strings, the values of LadderStage
    assert [LadderStage(x) for x in stages] == [
        LadderStage.PROSPECT,
        LadderStage.QUALIFIED_PROSPECT,
        LadderStage.QUALIFIED_PROSPECT,  # a non-buying promoter has shown interest
        LadderStage.FIRST_TIME_BUYER,
        LadderStage.REPEAT_BUYER,
        LadderStage.LOYAL,
        LadderStage.REPEAT_BUYER,  # 5 purchases but the last 900 days ago: not loyal
        LadderStage.FIRST_TIME_BUYER,  # a one-time buyer who joined is not a member
        LadderStage.FIRST_TIME_BUYER,  # a one-time promoter is not an advocate
        LadderStage.ADVOCATE,  # loyal, member and referrer: every rung below holds
    ]


def test_ladder_stage_from_summary_and_records() -> None:
    s = make_summary()
    day = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
    base = [
        Customer(id="a", name="A", acquired=day),
        Customer(id="b", name="B", acquired=day, member_since=day),
        Customer(id="c", name="C", acquired=day),
        Customer(id="d", name="D", acquired=day, referred_by="c"),
    ]
    inputs = ladder_inputs(base, s.customer_ids, observation_end="2024-03-31")
    assert inputs.member.tolist() == [False, True, False, False]
    assert inputs.n_referrals.tolist() == [0, 0, 1, 0]
    stages = ladder_stage(
        s,
        member=inputs.member,
        n_referrals=inputs.n_referrals,
        loyal_min_purchases=3,
        min_tenure=0,
    )
    # b (one purchase, member) and c (two purchases, referrer) climb no higher than their
    # purchases allow
    assert stages.tolist() == ["loyal", "first_time_buyer", "repeat_buyer", "prospect"]


def test_ladder_inputs_does_not_leak_after_observation_end() -> None:
    t0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    t1 = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
    base = [
        Customer(id=1, name="A", acquired=t0, member_since=t1),  # joins after observation_end
        Customer(id=2, name="B", acquired=t1, referred_by=1),  # acquired after observation_end
        Customer(id=3, name="C", acquired=t0, referred_by=1),
    ]
    inputs = ladder_inputs(
        base, [3, 2, 1, 99], observation_end=dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    )
    assert inputs.member.tolist() == [False, False, False, False]
    assert inputs.n_referrals.tolist() == [0, 0, 1, 0]
    later = ladder_inputs(base, [3, 2, 1, 99], observation_end="2024-06-01")
    assert later.member.tolist() == [False, False, True, False]
    assert later.n_referrals.tolist() == [0, 0, 2, 0]
    empty = ladder_inputs([], [1, 2], observation_end="2024-06-01")
    assert empty.member.tolist() == [False, False]


@given(data=st.data(), n=st.lists(st.integers(0, 8), min_size=1, max_size=15))
def test_ladder_stage_never_drops_when_a_flag_is_added(data: st.DataObject, n: list[int]) -> None:
    size = len(n)
    since = data.draw(st.lists(st.floats(0, 800), min_size=size, max_size=size))
    flags = {
        name: data.draw(st.lists(st.booleans(), min_size=size, max_size=size))
        for name in ("member", "promoter", "qualified")
    }
    refs = data.draw(st.lists(st.integers(0, 3), min_size=size, max_size=size))
    base = ladder_stage(n, since, n_referrals=refs, min_tenure=0, **flags)  # type: ignore[arg-type]
    for name in flags:
        more = dict(flags)
        more[name] = [True] * size
        raised = ladder_stage(n, since, n_referrals=refs, min_tenure=0, **more)  # type: ignore[arg-type]
        assert all(LadderStage(b) <= LadderStage(r) for b, r in zip(base, raised, strict=True))
    bought = ladder_stage([k + 1 for k in n], since, n_referrals=refs, min_tenure=0, **flags)  # type: ignore[arg-type]
    assert all(LadderStage(b) <= LadderStage(r) for b, r in zip(base, bought, strict=True))


def test_ladder_errors() -> None:
    with pytest.raises(InputError, match=r"member must have one value per customer \(2\)"):
        ladder_stage([1, 2], [1.0, 1.0], member=[True])
    with pytest.raises(InputError, match="promoter must hold booleans"):
        ladder_stage([1], [1.0], promoter=[0.5])
    with pytest.raises(InputError, match="n_referrals must be non-negative"):
        ladder_stage([1], [1.0], n_referrals=[-1])
    with pytest.raises(InputError, match="n_referrals must have one value per customer"):
        ladder_stage([1], [1.0], n_referrals=[1, 2])
    with pytest.raises(InputTypeError, match="customers must hold Customer objects"):
        ladder_inputs(["a"], ["a"], observation_end="2024-01-01")  # type: ignore[list-item]
    with pytest.raises(InputError, match="customer_ids must be distinct; 1 repeats"):
        ladder_inputs([], [1, 1], observation_end="2024-01-01")
    with pytest.raises(InputError, match="observation_end must be an ISO date"):
        ladder_inputs([], [1], observation_end="yesterday")


# ------------------------------------------------------------ referral_counts


@given(
    ids=st.lists(st.integers(0, 30), unique=True, max_size=12),
    refs=st.lists(st.one_of(st.none(), st.integers(0, 40)), max_size=30),
)
def test_referral_counts_equal_brute_force(ids: list[int], refs: list[int | None]) -> None:
    out = referral_counts(ids, refs)
    assert out.tolist() == [sum(r == i for r in refs) for i in ids]


def test_referral_counts_strings_nan_and_errors() -> None:
    assert referral_counts(["x", "y"], [np.nan, "y", "y", None]).tolist() == [0, 2]
    assert referral_counts([5, 6], []).tolist() == [0, 0]
    assert referral_counts([], [1, 2]).tolist() == []
    with pytest.raises(InputError, match="customer_ids must be distinct; 'b' repeats"):
        referral_counts(["a", "b", "b"], [])
    with pytest.raises(InputError, match="customer_ids must be 1-dimensional"):
        referral_counts([[1, 2]], [])
    with pytest.raises(InputTypeError, match=r"cannot be ordered|comparable"):
        referral_counts([1, 2], ["1"])


# ----------------------------------------------------------- customer_status


def test_customer_status_hand_cases() -> None:
    n = [3, 1, 2, 0, 0, 0, 4]
    since = [20.0, 500.0, 365.0, np.nan, np.nan, np.nan, 10.0]
    out = customer_status(
        n,
        since,
        targeted=[0, 0, 0, 1, 0, 0, 1],
        prospects=[1, 1, 1, 0, 1, 0, 1],
    )
    assert out.tolist() == [
        CustomerStatus.ACTUAL,
        CustomerStatus.LOST,  # 500 days > 365
        CustomerStatus.ACTUAL,  # exactly the window
        CustomerStatus.TARGET,  # targeted wins over not being a prospect
        CustomerStatus.POTENTIAL,
        CustomerStatus.NON_CUSTOMER,
        CustomerStatus.ACTUAL,  # a targeted buyer is still an actual customer
    ]
    assert (out == "lost").tolist() == [False, True, False, False, False, False, False]
    assert customer_status([1], [100.0], active_within=90).tolist() == [CustomerStatus.LOST]


def test_customer_status_from_summary() -> None:
    s = make_summary()
    # a 10 days, b 0, c 304 days, d no purchase (but in the log: potential)
    out = customer_status(s, active_within=180)
    assert out.tolist() == ["actual", "actual", "lost", "potential"]
    out = customer_status(s, targeted=[False, False, False, True])
    assert out.tolist() == ["actual", "actual", "actual", "target"]


@given(data=st.data(), n=st.lists(st.integers(0, 5), min_size=1, max_size=15))
def test_customer_status_wider_window_never_loses_more(data: st.DataObject, n: list[int]) -> None:
    since = data.draw(st.lists(st.floats(0, 1_000), min_size=len(n), max_size=len(n)))
    w1 = data.draw(st.floats(0, 1_000))
    w2 = w1 + data.draw(st.floats(0, 500))
    narrow = customer_status(n, since, active_within=w1)
    wide = customer_status(n, since, active_within=w2)
    lost_narrow = narrow == CustomerStatus.LOST
    lost_wide = wide == CustomerStatus.LOST
    assert np.all(lost_narrow >= lost_wide)
    assert ((narrow == "actual") | (narrow == "lost")).sum() == sum(k > 0 for k in n)


def test_customer_status_errors() -> None:
    with pytest.raises(InputError, match="active_within must be >= 0"):
        customer_status([1], [1.0], active_within=-2)
    with pytest.raises(InputError, match=r"targeted must have one value per customer \(1\)"):
        customer_status([1], [1.0], targeted=[1, 0])
    with pytest.raises(InputError, match="prospects must hold booleans"):
        customer_status([0], [np.nan], prospects=[3])


# --------------------------------------------------------- recommended_level

# Kotler's grid (rows: many, medium, few customers; columns: low, medium, high margin)
KOTLER = {
    ("many", "low"): RelationshipLevel.BASIC,
    ("many", "medium"): RelationshipLevel.REACTIVE,
    ("many", "high"): RelationshipLevel.ACCOUNTABLE,
    ("medium", "low"): RelationshipLevel.REACTIVE,
    ("medium", "medium"): RelationshipLevel.ACCOUNTABLE,
    ("medium", "high"): RelationshipLevel.PROACTIVE,
    ("few", "low"): RelationshipLevel.ACCOUNTABLE,
    ("few", "medium"): RelationshipLevel.PROACTIVE,
    ("few", "high"): RelationshipLevel.PARTNERSHIP,
}
COUNTS = {"many": 1_000_000, "medium": 2_000, "few": 30}
MARGINS = {"low": 0.04, "medium": 0.2, "high": 0.5}


@pytest.mark.parametrize(("size", "margin"), list(KOTLER))
def test_recommended_level_grid(size: str, margin: str) -> None:
    assert recommended_level(COUNTS[size], MARGINS[margin]) is KOTLER[(size, margin)]


def test_recommended_level_boundaries_and_arrays() -> None:
    # few: n <= 100; many: n > 10,000; low margin < 0.10; high margin >= 0.30
    n = [100, 101, 10_000, 10_001]
    out = recommended_level(n, [0.10, 0.10, 0.30, 0.0999])
    assert out.dtype.kind == "U"
    assert [RelationshipLevel(x) for x in out] == [
        RelationshipLevel.PROACTIVE,  # few + medium
        RelationshipLevel.ACCOUNTABLE,  # medium + medium
        RelationshipLevel.PROACTIVE,  # medium + high
        RelationshipLevel.BASIC,  # many + low
    ]
    grid = recommended_level(np.array([[20], [20_000]]), np.array([0.5, 0.05]))
    assert grid.shape == (2, 2)
    assert grid[0, 0] == RelationshipLevel.PARTNERSHIP.value
    assert grid[1, 1] == RelationshipLevel.BASIC.value
    assert recommended_level(500, 0.05, customer_cuts=(1_000, 5_000)) is (
        RelationshipLevel.ACCOUNTABLE
    )
    assert recommended_level(500, -0.2) is RelationshipLevel.REACTIVE  # a loss is a low margin


@given(
    n=st.floats(0, 1e7),
    m=st.floats(-1, 1),
    dn=st.floats(0, 1e7),
    dm=st.floats(0, 1),
)
def test_recommended_level_monotone(n: float, m: float, dn: float, dm: float) -> None:
    level = recommended_level(n, m)
    assert recommended_level(n + dn, m) <= level  # more customers: never a closer relationship
    assert recommended_level(n, min(m + dm, 1.0)) >= level  # higher margin: never a looser one


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((50, 25), {}, InputError, r"margin must be at most 1.0.*25.0"),
        ((-1, 0.2), {}, InputError, "n_customers must be non-negative"),
        ((np.nan, 0.2), {}, InputError, "n_customers must be finite"),
        (([1, 2, 3], [0.1, 0.2]), {}, InputError, "must broadcast together"),
        ((5, 0.1), {"customer_cuts": (100, 10)}, InputError, "customer_cuts must be in increasing"),
        ((5, 0.1), {"margin_cuts": 0.3}, InputTypeError, "margin_cuts must be a pair"),
        (("many", 0.1), {}, InputTypeError, "n_customers must hold numbers"),
    ],
)
def test_recommended_level_errors(
    args: tuple[object, object], kwargs: dict[str, object], error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        recommended_level(*args, **kwargs)  # type: ignore[call-overload]


# -------------------------------------------------------------- health_score


def test_health_score_hand_worked() -> None:
    # (20*47 + 15*59 + 22*21) / (20 + 15 + 22) = (940 + 885 + 462) / 57 = 2287/57 = 40.1228...
    expected = float(Fraction(2287, 57))
    assert_allclose(health_score([47, 59, 21], [20, 15, 22]), expected, rtol=1e-15)
    assert round(health_score([47, 59, 21], [20, 15, 22]), 2) == 40.12  # type: ignore[arg-type]


def test_health_score_missing_measures() -> None:
    nan = np.nan
    x = [[47, 59, 21], [47, nan, 21], [nan, nan, 21]]
    w = [20, 15, 22]
    # renormalize: row 2 = (940 + 462) / 42 = 1402/42 = 33.381; row 3 = 21
    assert_allclose(health_score(x, w), [2287 / 57, 1402 / 42, 21.0], rtol=1e-14)
    # zero: row 2 = 1402 / 57 = 24.596; row 3 = 462 / 57 = 8.105
    assert_allclose(
        health_score(x, w, missing="zero"), [2287 / 57, 1402 / 57, 462 / 57], rtol=1e-14
    )
    with pytest.raises(InputError, match=r"must not be missing \(NaN\) with missing='raise'"):
        health_score(x, w, missing="raise")
    assert_allclose(health_score([[10, 20]], [1, 1], missing="raise"), [15.0])


@st.composite
def health_inputs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    k = draw(st.integers(1, 5))
    n = draw(st.integers(1, 8))
    rows = draw(
        st.lists(st.lists(st.floats(0, 100), min_size=k, max_size=k), min_size=n, max_size=n)
    )
    w = draw(st.lists(st.floats(0.01, 50), min_size=k, max_size=k))
    return np.asarray(rows, dtype=np.float64), np.asarray(w, dtype=np.float64)


@given(inputs=health_inputs(), scale=st.floats(0.01, 100), data=st.data())
def test_health_score_properties(
    inputs: tuple[np.ndarray, np.ndarray], scale: float, data: st.DataObject
) -> None:
    x, w = inputs
    score = health_score(x, w)
    assert isinstance(score, np.ndarray)
    assert np.all((score >= 0) & (score <= 100))
    assert np.all(score >= x.min(axis=1) - 1e-9)
    assert np.all(score <= x.max(axis=1) + 1e-9)
    assert_allclose(health_score(x, w * scale), score, rtol=1e-12, atol=1e-12)  # weight scale
    perm = data.draw(st.permutations(range(w.size)))
    assert_allclose(health_score(x[:, perm], w[perm]), score, rtol=1e-12, atol=1e-12)
    for i in range(x.shape[0]):  # rows equal the one-customer form
        assert_allclose(health_score(x[i], w), score[i], rtol=1e-12, atol=1e-12)
    j = data.draw(st.integers(0, w.size - 1))
    better = x.copy()
    better[:, j] = np.minimum(better[:, j] + 10, 100)
    assert np.all(health_score(better, w) >= score - 1e-9)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (([120, 50], [1, 1]), {}, InputError, r"measures must be at most 100.0.*120.0"),
        (([-1, 50], [1, 1]), {}, InputError, "measures must be at least 0.0"),
        (([np.inf, 50], [1, 1]), {}, InputError, "measures must not be infinite"),
        (([10, 50], [1, -1]), {}, InputError, "weights must be non-negative"),
        (([10, 50], [0, 0]), {}, InputError, "at least one positive"),
        (([10, 50], [1, 1, 1]), {}, InputError, r"one value per measure \(2\), got 3"),
        ((5.0, [1]), {}, InputError, "measures must be 1-dimensional .* got 0"),
        (([[[1.0]]], [1]), {}, InputError, "got 3 dimensions"),
        (([10, 50], [1, 1]), {"missing": "drop"}, InputError, "missing must be one of"),
        (
            ([[np.nan, 50.0], [np.nan, np.nan]], [1, 0]),
            {},
            InputError,
            r"no weight for 2 of 2 customers \(first at row 0\)",
        ),
        ((["a"], [1]), {}, InputTypeError, "measures must hold numbers"),
    ],
)
def test_health_score_errors(
    args: tuple[object, object], kwargs: dict[str, object], error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        health_score(*args, **kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- band


def test_band_reference() -> None:
    labels = ["red", "amber", "green"]
    scores = [0.0, 39.99, 40.0, 69.9, 70.0, 100.0]
    assert band(scores, [40, 70], labels).tolist() == [
        "red",
        "red",
        "amber",
        "amber",
        "green",
        "green",
    ]
    assert band(scores, [40, 70], labels, closed="right").tolist() == [
        "red",
        "red",
        "red",
        "amber",
        "amber",
        "green",
    ]
    one = band(health_score([47, 59, 21], [20, 15, 22]), [40, 70], labels)
    assert type(one) is str  # one score: a Python str
    assert one == "amber"  # 40.12 >= 40
    assert band(np.array([[10.0, 80.0]]), [50], ["low", "high"]).tolist() == [["low", "high"]]


@given(
    scores=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=30),
    edges=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=5)
    .filter(lambda e: len(set(e)) == len(e))
    .map(sorted),
    closed=st.sampled_from(["left", "right"]),
)
def test_band_equals_brute_force_and_is_monotone(
    scores: list[float], edges: list[float], closed: str
) -> None:
    labels = [f"b{k}" for k in range(len(edges) + 1)]
    out = band(scores, edges, labels, closed=closed).tolist()  # type: ignore[arg-type]
    for s, label in zip(scores, out, strict=True):
        k = sum(s >= e for e in edges) if closed == "left" else sum(s > e for e in edges)
        assert label == labels[k]
    order = np.argsort(scores)
    idx = [labels.index(out[i]) for i in order]
    assert idx == sorted(idx)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (([50.0], [70, 40], ["a", "b", "c"]), {}, InputError, "edges must be strictly increasing"),
        (([50.0], [40, 40], ["a", "b", "c"]), {}, InputError, "edges must be strictly increasing"),
        (([50.0], [40, 70], ["a", "b"]), {}, InputError, r"len\(edges\) \+ 1 = 3 labels, got 2"),
        (([np.nan], [40], ["a", "b"]), {}, InputError, "scores must be finite"),
        (([50.0], [], ["a"]), {}, InputError, "edges must not be empty"),
        (([50.0], [40], "ab"), {}, InputTypeError, "labels must be a sequence of strings"),
        (([50.0], [40], ["a", 2]), {}, InputTypeError, "labels must hold strings; found int"),
        (([50.0], [40], ["a", "b"]), {"closed": "both"}, InputError, "closed must be one of"),
    ],
)
def test_band_errors(
    args: tuple[object, ...], kwargs: dict[str, object], error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        band(*args, **kwargs)  # type: ignore[arg-type]


# ------------------------------------------------------------------- exports


def test_all_is_sorted_and_exported_by_metrics() -> None:
    from crmcore import metrics

    for name in loyalty.__all__:
        assert getattr(metrics, name) is getattr(loyalty, name)


@pytest.mark.parametrize("scale", [1e308, 1e-300])
def test_health_score_weights_near_the_float_limits(scale: float) -> None:
    # Only the ratios of the weights count: (50·1 + 60·1) / 2 = 55 for any common scale,
    # also where the weighted sum of 1e308 weights would overflow.
    assert_allclose(health_score([50, 60], [scale, scale]), 55.0, rtol=1e-15)
    w = [scale * 0.25, scale * 0.75]  # representable for both scales
    assert_allclose(health_score([[50, 60], [0, 100]], w), [57.5, 75.0], rtol=1e-15)


def test_loyalty_class_errors_name_the_argument_passed() -> None:
    # The count argument is called n_purchases (as in customer_status), and so is the message.
    with pytest.raises(InputError, match="n_purchases must be non-negative"):
        loyalty_class(n_purchases=[-1, 2], time_since_last=[1.0, 2.0])


def test_validate_segment_rules_bounds_the_cells() -> None:
    # (R, F) rules: bins^2 cells; 1024^2 = 2^20 is the most checked, 1025^2 is refused.
    assert validate_segment_rules(RF_GRID, bins=1024).bins == 1024
    with pytest.raises(InputError, match=r"bins: 1025\^2 = 1050625 score cells exceed"):
        validate_segment_rules(RF_GRID, bins=1025)
    with pytest.raises(InputError, match=r"bins: 102\^3 = 1061208 score cells exceed"):
        validate_segment_rules(RFM_CUBE, bins=102)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: health_score([[1, 2], [3]], [1, 1]), "measures"),
        (lambda: band([[1, 2], [3]], [50], ["low", "high"]), "scores"),
        (lambda: recommended_level([[1, 2], [3]], [0.1, 0.2]), "n_customers"),
    ],
)
def test_ragged_lists_name_the_argument(call: object, name: str) -> None:
    with pytest.raises(InputError, match=f"{name} must be a rectangular array"):
        call()  # type: ignore[operator]


# ---------------------------------------------------------------- found by the API fuzz test


@pytest.mark.parametrize("bad", [None, "abc", object(), float("nan")])
def test_ladder_inputs_refuses_non_sequence_customers(bad: object) -> None:
    # Leaked "'NoneType' object is not iterable" before.
    with pytest.raises(InputTypeError, match="customers must be a sequence of Customer"):
        ladder_inputs(bad, [1, 2], observation_end="2024-01-01")  # type: ignore[arg-type]


def test_ladder_inputs_and_recommended_level_refuse_ragged_lists() -> None:
    # Leaked numpy's "inhomogeneous shape" ValueError before; ragged is a shape problem.
    with pytest.raises(InputError, match="customer_ids must be a flat sequence"):
        ladder_inputs([], [[1, 2], [3]], observation_end="2024-01-01")
    with pytest.raises(InputError, match="margin must be a rectangular array"):
        recommended_level(np.array([10.0, 20.0]), [[0.1, 0.2], [0.3]])


@pytest.mark.parametrize("bad", [["a"], 1.5, object()])
def test_rfm_positional_argument_errors_name_the_argument(bad: object) -> None:
    with pytest.raises(InputTypeError, match=r"^summary \(rfm_scores"):
        rfm_scores(bad)  # type: ignore[arg-type]
    with pytest.raises(InputTypeError, match=r"^scores \(rfm_segments"):
        rfm_segments(bad)  # type: ignore[arg-type]


def test_rfm_edges_constructor_validates_and_copies() -> None:
    tsl = np.array([10.0, 20.0])
    edges = RfmEdges(time_since_last=tsl, n_purchases=[1, 3], total_spend=(20, 50))
    tsl[0] = 99.0  # the caller's array is not aliased
    assert edges.time_since_last.tolist() == [10.0, 20.0]
    assert edges.n_purchases.dtype == np.float64
    assert not edges.total_spend.flags.writeable
    with pytest.raises(InputError, match="n_purchases must be finite"):
        RfmEdges(time_since_last=[1.0], n_purchases=[np.nan], total_spend=[1.0])
    with pytest.raises(InputError, match="total_spend cut points must be non-decreasing"):
        RfmEdges(time_since_last=[1.0, 2.0], n_purchases=[1.0, 2.0], total_spend=[5.0, 1.0])
    with pytest.raises(InputError, match="same length"):
        RfmEdges(time_since_last=[1.0, 2.0], n_purchases=[1.0], total_spend=[5.0, 6.0])
    with pytest.raises(InputError, match="time_since_last must be 1-dimensional"):
        RfmEdges(time_since_last=np.nan, n_purchases=[1.0], total_spend=[5.0])
    with pytest.raises(InputTypeError, match="time_since_last must be array-like"):
        RfmEdges(time_since_last=None, n_purchases=[1.0], total_spend=[5.0])  # type: ignore[arg-type]
