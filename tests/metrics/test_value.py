"""Tests of crmcore.metrics.value: ABC/Pareto, Lorenz/Gini, tiers, pyramid, value matrix,
buyer types, historical value and the CLV margin multiple."""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from crmcore import CustomerSummary, InteractionTable
from crmcore.errors import InputError, InputTypeError
from crmcore.metrics import (
    CUSTOMER_PYRAMID,
    VALUE_QUADRANTS,
    SpendThresholds,
    abc_classes,
    buyer_type,
    clv_margin_multiple,
    gini,
    historical_value,
    lorenz_curve,
    pareto_share,
    pyramid,
    spend_tiers,
    value_matrix,
)
from crmcore.metrics.value import _sort_with_order

# ----------------------------------------------------------------------------- strategies

# Small non-negative integers produce many ties and keep exact rational references cheap.
int_values = st.lists(st.integers(0, 20), min_size=1, max_size=30).filter(lambda xs: sum(xs) > 0)
# Zero or normal floats far from underflow, so that scaling by 2**-20 stays exact.
float_values = st.lists(
    st.one_of(st.just(0.0), st.floats(1e-200, 1e6)), min_size=1, max_size=40
).filter(lambda xs: sum(xs) > 0)
CLASS_RANK = {"A": 0, "B": 1, "C": 2}


def brute_abc(values: list[int], a: Fraction, b: Fraction) -> tuple[list[str], list[Fraction]]:
    """The ABC rule written out with exact fractions, O(n^2): a customer's share is the share
    of total value held by the customers worth at least as much; A up to ``a``, B up to
    ``b``, C beyond."""
    total = sum(values)
    shares = [Fraction(sum(x for x in values if x >= xi), total) for xi in values]
    labels = ["A" if s <= a else "B" if s <= b else "C" for s in shares]
    return labels, shares


def brute_lorenz(values: list[int]) -> list[Fraction]:
    xs = sorted(values)
    total = sum(xs)
    return [Fraction(sum(xs[:k]), total) for k in range(len(xs) + 1)]


def brute_gini(values: list[int]) -> Fraction:
    """Mean absolute difference over all ordered pairs, divided by twice the mean."""
    n = len(values)
    total = sum(abs(x - y) for x in values for y in values)
    return Fraction(total, 2 * n * sum(values))


# ----------------------------------------------------------------------------- ordering helper


def _with_near_ties(draw_values: list[float], steps: list[int]) -> np.ndarray:
    out = np.array(draw_values, dtype=np.float64)
    for i, k in enumerate(steps):
        for _ in range(k):
            out[i] = np.nextafter(out[i], np.inf)
    return out


@given(
    st.lists(
        st.sampled_from([-3.0, -1e-300, -0.0, 0.0, 5e-324, 1.0, 2.0, 1e300]),
        min_size=1,
        max_size=60,
    ).flatmap(
        lambda xs: st.tuples(
            st.just(xs), st.lists(st.integers(0, 3), min_size=len(xs), max_size=len(xs))
        )
    )
)
def test_sort_with_order_handles_near_ties_signs_and_zero(data: tuple[list[float], list[int]]):
    # Values one ulp apart share their truncated key; they must still come out sorted.
    x = _with_near_ties(*data)
    order, ordered = _sort_with_order(x)
    assert_array_equal(np.sort(order), np.arange(x.size))
    assert_array_equal(ordered, x[order])
    assert np.all(ordered[1:] >= ordered[:-1])


def test_sort_with_order_large_array_with_near_ties():
    # 2**17 values: 17 index bits are truncated, so values within 2**17 ulps collide.
    rng = np.random.default_rng(3)
    base = rng.choice([1.0, 7.5, 1e6], size=1 << 17)
    x = base + rng.integers(0, 1 << 17, size=base.size) * np.spacing(base)
    order, ordered = _sort_with_order(x)
    assert_array_equal(ordered, np.sort(x))
    assert_array_equal(x[order], ordered)


# ----------------------------------------------------------------------------- abc_classes


def test_abc_hand_worked_example():
    # Hand-worked: sorted 50, 30, 10, 5, 5 of total 100; cumulative shares 0.5, 0.8, 0.9, and
    # 1.0 for the tied 5s (their whole tie group counts) -> A, A, B, C, C.
    r = abc_classes([50.0, 10.0, 5.0, 30.0, 5.0])
    assert r.labels.tolist() == ["A", "B", "C", "A", "C"]
    assert_allclose(r.shares, [0.5, 0.9, 1.0, 0.8, 1.0], rtol=1e-15)
    assert r.cutoffs == (0.8, 0.95)
    assert r.class_counts.tolist() == [2, 1, 2]
    assert_allclose(r.class_shares, [0.8, 0.1, 0.1], rtol=1e-15)


def test_abc_tie_group_straddling_the_cutoff_moves_together():
    # Hand-worked: 30, 30, 30, 10 of 100. The tie group of 30s reaches 0.9 > 0.8, so all three
    # are B (not A, A, B as a rank-by-rank rule would give); the 10 reaches 1.0 -> C.
    r = abc_classes([30, 10, 30, 30])
    assert r.labels.tolist() == ["B", "C", "B", "B"]
    assert_allclose(r.shares, [0.9, 1.0, 0.9, 0.9])


def test_abc_one_dominant_customer_leaves_a_empty():
    # Hand-worked: 90 of 100 held by one customer: its share 0.9 > 0.8 -> B; the rest -> C.
    r = abc_classes([90, 5, 5])
    assert r.labels.tolist() == ["B", "C", "C"]
    assert r.class_counts.tolist() == [0, 1, 2]


def test_abc_zero_values_are_c_and_b_when_last_cutoff_is_one():
    # Documented: value 0 has cumulative share 1.
    assert abc_classes([8, 2, 0, 0]).labels.tolist() == ["A", "C", "C", "C"]
    r = abc_classes([8, 2, 0], cutoffs=(0.8, 1.0))
    assert r.labels.tolist() == ["A", "B", "B"]


def test_abc_relative_tolerance_of_cutoff():
    # share = (8 + e) / (10 + e) = 0.8 + 0.2 e / (10 + e). With e = 8e-12 the relative excess
    # over 0.8 is ~2e-13 < 1e-12 -> A; with e = 8e-11 it is ~2e-12 > 1e-12 -> B.
    assert abc_classes([8.0 + 8e-12, 2.0]).labels[0] == "A"
    assert abc_classes([8.0 + 8e-11, 2.0]).labels[0] == "B"


def test_abc_accepts_summary_pandas_and_polars():
    import pandas as pd
    import polars as pl

    s = CustomerSummary.from_arrays(
        [1, 1, 1], [1.0, 1.0, 1.0], [2.0, 2.0, 2.0], monetary_value=[60.0, 30.0, 10.0]
    )
    # total_spend = monetary_value * frequency = 60, 30, 10.
    assert abc_classes(s).labels.tolist() == ["A", "B", "C"]
    assert abc_classes(pd.Series([60.0, 30.0, 10.0])).labels.tolist() == ["A", "B", "C"]
    assert abc_classes(pl.Series([60.0, 30.0, 10.0])).labels.tolist() == ["A", "B", "C"]


def test_abc_result_is_read_only():
    r = abc_classes([1.0, 2.0])
    with pytest.raises(ValueError, match="read-only"):
        r.shares[0] = 0.0


@given(int_values, st.sampled_from([(0.8, 0.95), (0.5, 0.9), (0.7, 1.0), (0.2, 0.3)]))
def test_abc_matches_exact_brute_force(values: list[int], cutoffs: tuple[float, float]):
    a, b = (Fraction(c).limit_denominator(100) for c in cutoffs)
    labels, shares = brute_abc(values, a, b)
    r = abc_classes(values, cutoffs=cutoffs)
    assert r.labels.tolist() == labels
    assert_allclose(r.shares, [float(s) for s in shares], rtol=1e-13)
    assert r.class_counts.tolist() == [labels.count(c) for c in "ABC"]
    assert_allclose(r.class_shares.sum(), 1.0, rtol=1e-12)


@given(float_values, st.randoms(use_true_random=False))
def test_abc_order_invariance(values: list[float], rnd):
    perm = list(range(len(values)))
    rnd.shuffle(perm)
    r = abc_classes(values)
    p = abc_classes([values[i] for i in perm])
    assert p.labels.tolist() == [r.labels[i] for i in perm]
    assert_array_equal(p.shares, r.shares[perm])


@given(float_values)
def test_abc_larger_value_never_gets_worse_class(values: list[float]):
    r = abc_classes(values)
    x = np.asarray(values)
    rank = np.array([CLASS_RANK[c] for c in r.labels])
    order = np.argsort(x, kind="stable")
    # Walking up the values, the class rank never increases.
    assert np.all(np.diff(rank[order]) <= 0)
    # Equal values share a class.
    for v in np.unique(x):
        assert len(set(r.labels[x == v].tolist())) == 1


@given(float_values, st.integers(-20, 20), st.floats(0.01, 1e4))
def test_abc_scale_invariance(values: list[float], power: int, factor: float):
    r = abc_classes(values)
    # A power of two scales every partial sum exactly: identical labels and shares.
    exact = abc_classes(np.asarray(values) * 2.0**power)
    assert_array_equal(exact.labels, r.labels)
    assert_array_equal(exact.shares, r.shares)
    # Any other positive factor keeps the shares up to rounding.
    assert_allclose(abc_classes(np.asarray(values) * factor).shares, r.shares, rtol=1e-12)


@pytest.mark.parametrize(
    ("values", "cutoffs", "error", "match"),
    [
        ([], (0.8, 0.95), InputError, "values must not be empty"),
        ([1.0, -1.0], (0.8, 0.95), InputError, r"values must be non-negative.*index 1"),
        ([1.0, np.nan], (0.8, 0.95), InputError, r"values must be finite.*index 1"),
        ([0.0, 0.0], (0.8, 0.95), InputError, "values must have a positive total"),
        (["a", "b"], (0.8, 0.95), InputTypeError, "values must hold numbers"),
        ([1.0], (0.95, 0.8), InputError, r"cutoffs must satisfy 0 < cutoffs\[0\] < cutoffs\[1\]"),
        ([1.0], (80, 95), InputError, "cutoffs must satisfy"),
        ([1.0], (0.0, 0.5), InputError, "cutoffs must satisfy"),
        ([1.0], 0.8, InputTypeError, "cutoffs must be a pair"),
        ([1.0], (0.8, float("nan")), InputError, r"cutoffs\[1\] must be finite"),
    ],
)
def test_abc_errors(values, cutoffs, error, match):
    with pytest.raises(error, match=match):
        abc_classes(values, cutoffs=cutoffs)


# ----------------------------------------------------------------------------- Lorenz, Gini


def test_lorenz_reference_fractions():
    # Fractions: sorted 1, 2, 3, 4 of 10 -> 0, 1/10, 3/10, 6/10, 1.
    c = lorenz_curve([4, 1, 3, 2])
    assert_allclose(c.population_share, [0, 0.25, 0.5, 0.75, 1])
    assert_allclose(c.value_share, [0, 0.1, 0.3, 0.6, 1.0], rtol=1e-15)


@given(int_values)
def test_lorenz_matches_fractions_and_is_convex_below_diagonal(values: list[int]):
    c = lorenz_curve(values)
    assert_allclose(c.value_share, [float(f) for f in brute_lorenz(values)], rtol=1e-13, atol=0)
    assert c.value_share[0] == 0.0
    assert c.value_share[-1] == 1.0
    assert np.all(c.value_share <= c.population_share + 1e-12)
    slopes = np.diff(c.value_share)
    assert np.all(np.diff(slopes) >= -1e-12)


def test_gini_reference_values():
    # Fractions: sum_{i,j} |x_i - x_j| = 20 for 1..4, / (2 * 16 * 2.5) = 1/4.
    assert_allclose(gini([1, 2, 3, 4]), 0.25, rtol=1e-15)
    # One holder of everything: (n - 1) / n.
    assert_allclose(gini([0, 0, 0, 0, 7.0]), 0.8, rtol=1e-15)
    # Equal values: 0 exactly, and a single customer: 0.
    assert gini([3.3] * 7) == 0.0
    assert gini([5.0]) == 0.0


@given(int_values)
def test_gini_matches_mean_absolute_difference(values: list[int]):
    assert_allclose(gini(values), float(brute_gini(values)), rtol=1e-12, atol=1e-15)


@given(float_values)
def test_gini_bounds_and_lorenz_area(values: list[float]):
    g = gini(values)
    n = len(values)
    assert 0.0 <= g <= (n - 1) / n < 1.0
    c = lorenz_curve(values)
    # One minus twice the area under the piecewise linear Lorenz curve (trapezoids).
    area = np.sum(np.diff(c.population_share) * (c.value_share[1:] + c.value_share[:-1]) / 2)
    assert_allclose(g, 1 - 2 * area, atol=1e-12)


@given(float_values, st.floats(1e-3, 1e3), st.randoms(use_true_random=False))
def test_gini_scale_and_order_invariance(values: list[float], factor: float, rnd):
    g = gini(values)
    shuffled = list(values)
    rnd.shuffle(shuffled)
    assert_allclose(gini(np.asarray(values) * factor), g, rtol=1e-10, atol=1e-14)
    assert_allclose(gini(shuffled), g, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    ("func", "values", "match"),
    [
        (gini, [], "values must not be empty"),
        (gini, [1.0, -2.0], "values must be non-negative"),
        (gini, [0.0], "values must have a positive total"),
        (lorenz_curve, [np.inf], "values must be finite"),
        (lorenz_curve, [[1.0, 2.0]], "values must be 1-dimensional"),
    ],
)
def test_concentration_errors(func, values, match):
    with pytest.raises(InputError, match=match):
        func(values)


# ----------------------------------------------------------------------------- pareto_share


def test_pareto_reference_values():
    # Hand-worked on 1, 2, 3, 4 (total 10): top half holds 4 + 3 = 7; top 20% is 0.8 of the
    # largest customer: 3.2 / 10; the whole base holds everything; nobody holds nothing.
    assert_allclose(pareto_share([1, 2, 3, 4], top=0.5), 0.7)
    assert_allclose(pareto_share([1, 2, 3, 4], top=0.2), 0.32)
    assert pareto_share([1, 2, 3, 4], top=1.0) == 1.0
    assert pareto_share([1, 2, 3, 4], top=0.0) == 0.0
    # A classic 80/20 base: 20 customers hold 80 of 100 among 100 customers.
    assert_allclose(pareto_share([4.0] * 20 + [0.25] * 80), 0.8)


@given(int_values, st.fractions(0, 1, max_denominator=50))
def test_pareto_matches_interpolated_lorenz(values: list[int], top: Fraction):
    # Exact: 1 - L(1 - p) with L linear between the Lorenz points k/n.
    lor = brute_lorenz(values)
    n = len(values)
    h = (1 - top) * n
    k = math.floor(h)
    exact = lor[k] if k == n else lor[k] + (h - k) * (lor[k + 1] - lor[k])
    assert_allclose(pareto_share(values, top=float(top)), float(1 - exact), atol=1e-12)


@given(float_values, st.floats(0, 1), st.floats(0, 1))
def test_pareto_bounds_monotone_and_scale(values: list[float], p: float, q: float):
    lo, hi = sorted((p, q))
    a, b = pareto_share(values, top=lo), pareto_share(values, top=hi)
    assert lo - 1e-12 <= a <= b + 1e-12 <= 1.0 + 1e-12
    assert_allclose(pareto_share(np.asarray(values) * 3.7, top=hi), b, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(
    ("top", "error", "match"),
    [
        (1.5, InputError, "top must be <= 1.0"),
        (-0.1, InputError, "top must be >= 0.0"),
        ("20%", InputTypeError, "top must be a real number"),
    ],
)
def test_pareto_errors(top, error, match):
    with pytest.raises(error, match=match):
        pareto_share([1.0, 2.0], top=top)


# ----------------------------------------------------------------------------- spend tiers

TH = SpendThresholds(silver_spend=500, silver_frequency=1, vip_spend=2000, vip_frequency=2)


def test_spend_tiers_reference():
    # Hand-worked against the rule: both spend and frequency must reach a tier; thresholds
    # are inclusive.
    spend = [2500, 2500, 600, 100, 2000, 500, 1999.99]
    freq = [3.0, 0.5, 1.0, 4.0, 2.0, 1.0, 5.0]
    expected = ["vip", "ordinary", "silver", "ordinary", "vip", "silver", "silver"]
    assert spend_tiers(spend, purchase_frequency=freq, thresholds=TH).tolist() == expected


def test_spend_tiers_from_summary_uses_total_spend_and_purchases():
    s = CustomerSummary.from_arrays([3, 0], [10.0, 0.0], [20.0, 20.0], monetary_value=[800.0, 0.0])
    # total_spend = 2400 and 0, n_purchases = 4 and 1.
    assert spend_tiers(s, thresholds=TH).tolist() == ["vip", "ordinary"]


@given(
    st.lists(st.tuples(st.floats(0, 5000), st.floats(0, 10)), min_size=1, max_size=20),
    st.floats(0, 3000),
    st.floats(0, 5),
)
def test_spend_tiers_monotone(rows, extra_spend, extra_freq):
    spend, freq = (np.array(c) for c in zip(*rows, strict=True))
    rank = {"ordinary": 0, "silver": 1, "vip": 2}
    before = [rank[t] for t in spend_tiers(spend, purchase_frequency=freq, thresholds=TH)]
    more = spend_tiers(spend + extra_spend, purchase_frequency=freq + extra_freq, thresholds=TH)
    after = [rank[t] for t in more]
    assert all(b >= a for a, b in zip(before, after, strict=True))


def test_spend_tiers_errors():
    with pytest.raises(InputError, match="purchase_frequency must be non-negative"):
        spend_tiers([1.0], purchase_frequency=[-1.0], thresholds=TH)
    with pytest.raises(InputError, match="purchase_frequency must have the same length as total"):
        spend_tiers([1.0, 2.0], purchase_frequency=[1.0], thresholds=TH)
    with pytest.raises(InputTypeError, match="purchase_frequency is required"):
        spend_tiers([1.0], thresholds=TH)
    with pytest.raises(TypeError, match="positional"):
        spend_tiers([1.0], [1.0], thresholds=TH)  # type: ignore[misc]
    with pytest.raises(InputTypeError, match="thresholds must be a SpendThresholds"):
        spend_tiers([1.0], purchase_frequency=[1.0], thresholds={"vip": 1})  # type: ignore[arg-type]
    with pytest.raises(InputError, match="vip_frequency must be at least silver_frequency"):
        SpendThresholds(silver_spend=1, silver_frequency=3, vip_spend=2, vip_frequency=2)
    with pytest.raises(InputError, match=r"silver_spend must be >= 0\.0"):
        SpendThresholds(silver_spend=-1, silver_frequency=0, vip_spend=2, vip_frequency=2)


@pytest.mark.parametrize(
    ("field", "value"), [("silver_spend", None), ("vip_frequency", "2"), ("vip_spend", "abc")]
)
def test_spend_thresholds_refuse_none_and_strings(field: str, value: object) -> None:
    kwargs: dict[str, object] = {
        "silver_spend": 1,
        "silver_frequency": 1,
        "vip_spend": 2,
        "vip_frequency": 2,
    }
    kwargs[field] = value
    with pytest.raises(InputTypeError, match=f"{field} must be a real number"):
        SpendThresholds(**kwargs)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- pyramid


def test_pyramid_curry_layers_on_100_distinct_customers():
    # 1..100: top 1% = {100}, big 4% = {96..99}, medium 15% = {81..95}, small 80% = {1..80}.
    values = np.arange(1.0, 101.0)
    p = pyramid(values)
    assert p.band_names == ("top", "big", "medium", "small")
    assert p.counts.tolist() == [1, 4, 15, 80]
    assert p.labels[99] == "top"
    assert set(p.labels[95:99]) == {"big"}
    assert set(p.labels[80:95]) == {"medium"}
    assert set(p.labels[:80]) == {"small"}
    # Totals by arithmetic series: 100; 96+..+99 = 390; 81+..+95 = 1320; 1+..+80 = 3240.
    assert_allclose(p.totals, [100, 390, 1320, 3240])
    assert_allclose(p.value_shares, np.array([100, 390, 1320, 3240]) / 5050)


@given(
    st.lists(st.integers(-5, 20), min_size=1, max_size=30).filter(lambda xs: sum(xs) > 0),
    st.sampled_from([CUSTOMER_PYRAMID, (("gold", 0.25), ("rest", 0.75)), (("all", 1.0),)]),
)
def test_pyramid_matches_exact_rule(values: list[int], bands):
    # Brute force with fractions: population share = #{x_j >= x_i} / n, first band whose
    # cumulative fraction reaches it.
    n = len(values)
    bounds = np.cumsum([Fraction(f).limit_denominator(1000) for _, f in bands])
    names = [b for b, _ in bands]
    expected = []
    for xi in values:
        share = Fraction(sum(1 for x in values if x >= xi), n)
        expected.append(names[next(i for i, b in enumerate(bounds) if share <= b)])
    p = pyramid(values, bands=bands)
    assert p.labels.tolist() == expected
    assert p.counts.sum() == n
    assert_allclose(p.totals.sum(), sum(values))


@given(float_values, st.randoms(use_true_random=False))
def test_pyramid_order_invariance(values: list[float], rnd):
    perm = list(range(len(values)))
    rnd.shuffle(perm)
    p = pyramid(values)
    q = pyramid([values[i] for i in perm])
    assert q.labels.tolist() == [p.labels[i] for i in perm]


def test_pyramid_errors():
    with pytest.raises(InputError, match="bands fractions must sum to 1"):
        pyramid([1.0], bands=[("a", 0.5), ("b", 0.4)])
    with pytest.raises(InputError, match="bands must have distinct names"):
        pyramid([1.0], bands=[("a", 0.5), ("a", 0.5)])
    with pytest.raises(InputError, match=r"bands\[0\] fraction must be > 0.0"):
        pyramid([1.0], bands=[("a", 0.0), ("b", 1.0)])
    with pytest.raises(InputTypeError, match=r"bands\[0\] must be a \(name, fraction\) pair"):
        pyramid([1.0], bands=[0.5, 0.5])  # type: ignore[list-item]
    with pytest.raises(InputError, match="values must have a positive total"):
        pyramid([-1.0, 1.0])


# ----------------------------------------------------------------------------- value matrix


def test_value_matrix_reference():
    # Medians: current (20 + 50) / 2 = 35, potential (40 + 80) / 2 = 60; high means > split.
    m = value_matrix([10, 50, 20, 70], [90, 5, 40, 80])
    assert m.labels.tolist() == [
        "low_current_high_potential",
        "high_current_low_potential",
        "low_current_low_potential",
        "high_current_high_potential",
    ]
    assert (m.current_split, m.potential_split) == (35.0, 60.0)
    assert m.counts.tolist() == [1, 1, 1, 1]
    # Mean split: 37.5 and 53.75. A value equal to an explicit split is low.
    assert value_matrix([10, 50], [1, 2], split="mean").current_split == 30.0
    explicit = value_matrix([10, 50], [1, 2], split=(10.0, 1.5))
    assert explicit.labels.tolist() == ["low_current_low_potential", "high_current_high_potential"]


@given(
    st.lists(st.tuples(st.floats(-1e3, 1e3), st.floats(-1e3, 1e3)), min_size=1, max_size=20),
    st.floats(0, 100),
)
def test_value_matrix_monotone_with_fixed_split(rows, bump):
    cur, pot = (np.array(c) for c in zip(*rows, strict=True))
    split = (0.0, 0.0)
    before = value_matrix(cur, pot, split=split).labels
    after = value_matrix(cur + bump, pot + bump, split=split).labels
    for b, a in zip(before, after, strict=True):
        # Raising both values never turns "high" into "low" on either axis.
        assert not (b.startswith("high_current") and a.startswith("low_current"))
        assert not (b.endswith("high_potential") and a.endswith("low_potential"))
    assert value_matrix(cur, pot).counts.sum() == len(rows)
    assert set(before.tolist()) <= set(VALUE_QUADRANTS)


def test_value_matrix_errors():
    with pytest.raises(InputError, match="potential_value must have the same length"):
        value_matrix([1, 2], [1])
    with pytest.raises(InputError, match="split must be 'median', 'mean' or a pair"):
        value_matrix([1], [1], split="mode")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="current_value must be finite"):
        value_matrix([np.nan], [1])
    with pytest.raises(InputError, match=r"got an array of shape \(3,\)"):
        value_matrix([1], [1], split=np.array([1.0, 2.0, 3.0]))  # type: ignore[arg-type]


def test_value_matrix_split_as_array_and_huge_values():
    # A numpy pair works like a tuple: current split 15, potential split 50 (given).
    m = value_matrix([10, 20], [90, 5], split=np.array([15.0, 50.0]))  # type: ignore[arg-type]
    assert m.labels.tolist() == ["low_current_high_potential", "high_current_low_potential"]
    # Median and mean of [1e308, 1.5e308] are 1.25e308 although their sum overflows.
    big = [1e308, 1.5e308]
    for split in ("median", "mean"):
        m = value_matrix(big, big, split=split)
        assert_allclose([m.current_split, m.potential_split], [1.25e308] * 2, rtol=1e-15)


# ----------------------------------------------------------------------------- buyer types


def _buyer_table(**extra):
    times = np.array(
        [
            "2024-01-05",  # ann: new product 4 days after launch
            "2024-02-20",  # ann: gadget 19 days after its launch
            "2024-09-01",  # bob: new 244 days after launch
            "2024-03-01",  # cy: old product, discounted
            "2024-03-02",  # cy: old product, discounted
            "2024-03-15",  # dee: new, 74 days after launch
            "2024-04-01",  # dee: old, discounted (1 of 2 -> share 0.5)
            "2023-12-20",  # eve: new, pre-order before launch (delay 0)
            "2024-05-01",  # fay: a complaint, no purchase
        ],
        dtype="datetime64[ns]",
    )
    return InteractionTable.from_arrays(
        ["ann", "ann", "bob", "cy", "cy", "dee", "dee", "eve", "fay"],
        times,
        kinds=["purchase"] * 8 + ["complaint"],
        amounts=[10, 10, 10, 10, 10, 10, 10, 10, 0],
        products=["new", "gadget", "new", "old", "old", "new", "old", "new", None],
        discounted=[False, False, False, True, True, False, True, False, False],
        **extra,
    )


LAUNCH = {"new": "2024-01-01", "gadget": dt.date(2024, 2, 1)}


def test_buyer_type_reference():
    b = buyer_type(_buyer_table(), launch_dates=LAUNCH)
    assert b.customer_ids.tolist() == ["ann", "bob", "cy", "dee", "eve", "fay"]
    # ann: median(4, 19) = 11.5 <= 30 -> lighthouse; bob: 244 > 180 -> rational;
    # cy: all discounted -> profit_seeking; dee: share 0.5 >= 0.5 -> profit_seeking;
    # eve: pre-order counts as day 0 -> lighthouse; fay: no purchase.
    assert b.labels.tolist() == [
        "lighthouse",
        "rational",
        "profit_seeking",
        "profit_seeking",
        "lighthouse",
        "no_purchase",
    ]
    assert_allclose(b.median_days_after_launch[[0, 1, 3, 4]], [11.5, 244.0, 74.0, 0.0])
    assert np.isnan(b.median_days_after_launch[2])
    assert b.n_launched_products.tolist() == [2, 1, 0, 1, 1, 0]
    assert_allclose(b.discount_share[:5], [0.0, 0.0, 1.0, 0.5, 0.0])
    assert b.n_purchases.tolist() == [2, 1, 2, 2, 1, 0]
    # With a stricter discount threshold dee becomes a follower (74 days <= 180).
    b2 = buyer_type(_buyer_table(), launch_dates=LAUNCH, discount_share=0.75)
    assert b2.labels[3] == "follower"


@given(st.randoms(use_true_random=False))
def test_buyer_type_row_order_invariance(rnd):
    t = _buyer_table()
    perm = list(range(len(t)))
    rnd.shuffle(perm)
    shuffled = t.select(np.array(perm))
    a = buyer_type(t, launch_dates=LAUNCH)
    b = buyer_type(shuffled, launch_dates=LAUNCH)
    assert_array_equal(a.labels, b.labels)
    assert_allclose(a.median_days_after_launch, b.median_days_after_launch)


def test_buyer_type_group_median_against_brute_force():
    # Random adoption delays of many products per customer; the vectorised per-customer
    # median must equal numpy's median of the per-product first purchases.
    rng = np.random.default_rng(11)
    n = 400
    cust = rng.integers(0, 15, n)
    prod = rng.integers(0, 12, n)
    days = rng.integers(0, 400, n)
    times = np.datetime64("2024-01-01", "ns") + days * np.timedelta64(86_400_000_000_000, "ns")
    table = InteractionTable.from_arrays(
        cust,
        times,
        amounts=np.ones(n),
        products=[f"p{p}" for p in prod],
        discounted=np.zeros(n, bool),
    )
    launch = {f"p{p}": "2024-01-01" for p in range(12)}
    b = buyer_type(table, launch_dates=launch)
    for c in range(15):
        firsts = [
            days[(cust == c) & (prod == p)].min()
            for p in range(12)
            if ((cust == c) & (prod == p)).any()
        ]
        assert_allclose(b.median_days_after_launch[c], np.median(firsts))
        assert b.n_launched_products[c] == len(firsts)


def test_buyer_type_without_labelled_or_any_purchases():
    # Only complaints and unlabelled purchases: nobody has an adoption delay.
    t = InteractionTable.from_arrays(
        [1, 2],
        np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[ns]"),
        kinds=["purchase", "complaint"],
        amounts=[5.0, 0.0],
        products=np.array([None, None], dtype=object),
        discounted=[False, False],
    )
    b = buyer_type(t, launch_dates=LAUNCH)
    assert b.labels.tolist() == ["rational", "no_purchase"]
    assert b.n_launched_products.tolist() == [0, 0]


def test_buyer_type_errors():
    t = _buyer_table()
    with pytest.raises(InputError, match="follower_days must be at least lighthouse_days"):
        buyer_type(t, launch_dates=LAUNCH, lighthouse_days=200)
    with pytest.raises(InputError, match=r"discount_share must be <= 1\.0"):
        buyer_type(t, launch_dates=LAUNCH, discount_share=50)
    with pytest.raises(InputTypeError, match="launch_dates must be a mapping"):
        buyer_type(t, launch_dates=["2024-01-01"])  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"launch_dates\['new'\] must be an ISO date"):
        buyer_type(t, launch_dates={"new": "soon"})
    no_flags = InteractionTable.from_arrays(
        [1], np.array(["2024-01-01"], "datetime64[ns]"), products=["new"]
    )
    with pytest.raises(InputError, match="table must have a discounted column"):
        buyer_type(no_flags, launch_dates=LAUNCH)
    no_products = InteractionTable.from_arrays([1], np.array(["2024-01-01"], "datetime64[ns]"))
    with pytest.raises(InputError, match="table must have a products column"):
        buyer_type(no_products, launch_dates=LAUNCH)
    with pytest.raises(InputTypeError, match="table must be an InteractionTable"):
        buyer_type([1, 2], launch_dates=LAUNCH)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- historical value


def _margin_table():
    times = np.array(
        ["2022-06-01", "2024-03-01", "2024-05-01", "2024-06-01", "2025-02-01", "2024-07-01"],
        dtype="datetime64[ns]",
    )
    return InteractionTable.from_arrays(
        ["a", "a", "b", "b", "b", "c"],
        times,
        kinds=["purchase", "purchase", "purchase", "refund", "purchase", "complaint"],
        amounts=[100.0, 50.0, 80.0, 30.0, 999.0, 0.0],
        margins=[20.0, 10.0, 16.0, 6.0, 500.0, np.nan],
    )


def test_historical_value_reference():
    t = _margin_table()
    hv = historical_value(t, observation_end="2024-12-31")
    # a: 20 + 10; b: 16 - 6 (the refund gives back 30/80 of the sale's margin 16, i.e. 6);
    # the 2025 purchase is after observation_end;
    # c has only a complaint (its unknown margin is not counted).
    assert_allclose(hv.realised, [30.0, 10.0, 0.0])
    assert hv.n_rows.tolist() == [2, 2, 0]
    assert_allclose(hv.value, hv.realised)
    # Yearly compounding at 10%: the 2022 margin is two calendar years back: 20 * 1.1**2 + 10.
    assert_allclose(
        historical_value(t, observation_end="2024-12-31", rate=0.1).value, [34.2, 10.0, 0.0]
    )
    # Monthly compounding at 1%: 2022-06 -> 2024-12 is 30 months, 2024-03 -> 9, 2024-05 -> 7,
    # 2024-06 -> 6.
    monthly = historical_value(t, observation_end="2024-12-31", rate=0.01, period="M").value
    assert_allclose(monthly[:2], [20 * 1.01**30 + 10 * 1.01**9, 16 * 1.01**7 - 6 * 1.01**6])
    # Revenue instead of margin, refunds ignored.
    amounts = historical_value(t, observation_end="2024-12-31", measure="amount", refunds="ignore")
    assert_allclose(amounts.realised, [150.0, 80.0, 0.0])


def test_historical_value_refund_of_a_loss_making_sale():
    """Refund margins are the margin given back, signed as at the sale.

    The practice counts loss-making customers (甚至会造成企业的亏损); when goods sold at a loss
    come back, the loss is undone. Hand-worked: sale margin -5, full refund margin -5:
    -5 - (-5) = 0; a half refund gives back -2.5: -5 - (-2.5) = -2.5; a profitable customer
    (sale 12, refund of a third gives back 4) keeps 12 - 4 = 8.
    """
    times = np.array(
        ["2024-01-05", "2024-01-20", "2024-02-01", "2024-02-03", "2024-03-01", "2024-03-09"],
        dtype="datetime64[ns]",
    )
    t = InteractionTable.from_arrays(
        ["full", "full", "half", "half", "gain", "gain"],
        times,
        kinds=["purchase", "refund"] * 3,
        amounts=[40.0, 40.0, 40.0, 20.0, 60.0, 20.0],
        margins=[-5.0, -5.0, -5.0, -2.5, 12.0, 4.0],
    )
    hv = historical_value(t, observation_end="2024-12-31")
    assert hv.customer_ids.tolist() == ["full", "gain", "half"]
    assert_allclose(hv.realised, [0.0, 8.0, -2.5], rtol=0, atol=0)
    # The refund raises the value of the loss-making customers above the sale alone.
    before = historical_value(t, observation_end="2024-12-31", refunds="ignore")
    assert_allclose(before.realised, [-5.0, 12.0, -5.0], rtol=0, atol=0)
    # Amounts stay money returned, whatever sign was stored: 40 - 40, 60 - 20, 40 - 20.
    signed = InteractionTable.from_arrays(
        ["full", "full", "half", "half", "gain", "gain"],
        times,
        kinds=["purchase", "refund"] * 3,
        amounts=[40.0, -40.0, 40.0, 20.0, 60.0, -20.0],
    )
    amounts = historical_value(signed, observation_end="2024-12-31", measure="amount")
    assert_allclose(amounts.realised, [0.0, 40.0, 20.0], rtol=0, atol=0)


@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=8),
    st.floats(0.0, 1.0),
)
def test_historical_value_full_refunds_cancel(margins, fraction):
    """A refund of a share of every sale leaves (1 - share) of the margin, whatever its sign."""
    n = len(margins)
    m = np.array(margins)
    times = np.arange(2 * n).astype("datetime64[D]").astype("datetime64[ns]")
    t = InteractionTable.from_arrays(
        np.zeros(2 * n, dtype=np.int64),
        times,
        kinds=["purchase"] * n + ["refund"] * n,
        amounts=np.ones(2 * n),
        margins=np.concatenate([m, fraction * m]),
    )
    hv = historical_value(t, observation_end="2030-01-01")
    assert_allclose(hv.realised, [(1 - fraction) * m.sum()], atol=1e-6 * (1 + np.abs(m).sum()))


@given(st.floats(0, 0.5), st.randoms(use_true_random=False))
def test_historical_value_properties(rate, rnd):
    t = _margin_table()
    perm = list(range(len(t)))
    rnd.shuffle(perm)
    a = historical_value(t, observation_end="2025-03-01", rate=rate)
    b = historical_value(t.select(np.array(perm)), observation_end="2025-03-01", rate=rate)
    assert_allclose(a.value, b.value)
    # Pooled equals whole: customer values add up to the sum over rows.
    assert_allclose(a.realised.sum(), 20 + 10 + 16 - 6 + 500)
    # Compounding at a non-negative rate never lowers the value of a customer with only gains.
    assert a.value[0] >= a.realised[0]


def test_historical_value_errors():
    t = _margin_table()
    with pytest.raises(InputError, match=r"rate must be > -1\.0"):
        historical_value(t, observation_end="2024-12-31", rate=-1.0)
    with pytest.raises(InputError, match="measure must be one of 'margin', 'amount'"):
        historical_value(t, observation_end="2024-12-31", measure="profit")  # type: ignore[arg-type]
    no_margin = InteractionTable.from_arrays([1], np.array(["2024-01-01"], "datetime64[ns]"))
    with pytest.raises(InputError, match="table must have a margins column"):
        historical_value(no_margin, observation_end="2024-12-31")
    unknown = InteractionTable.from_arrays(
        [1, 1],
        np.array(["2024-01-01", "2024-02-01"], "datetime64[ns]"),
        amounts=[5.0, 6.0],
        margins=[1.0, np.nan],
    )
    with pytest.raises(InputError, match=r"margins must be known.*index 1"):
        historical_value(unknown, observation_end="2024-12-31")
    with pytest.raises(InputError, match="observation_end must be an ISO date"):
        historical_value(t, observation_end="yesterday")


# ----------------------------------------------------------------------------- CLV multiple


def test_clv_margin_multiple_closed_forms():
    # Margin multiple (Gupta & Lehmann 2003), the sum of the geometric series m·(r/(1+d))^t:
    # payments at period end m·r/(1 + d - r) = 100 * 0.8 / (1.1 - 0.8); at period start
    # m·(1 + d)/(1 + d - r) = 100 * 1.1 / (1.1 - 0.8).
    assert_allclose(clv_margin_multiple(100.0, 0.8, 0.1), 800 / 3, rtol=1e-14)
    assert_allclose(clv_margin_multiple(100.0, 0.8, 0.1, timing="start"), 1100 / 3, rtol=1e-14)
    assert isinstance(clv_margin_multiple(100.0, 0.8, 0.1), float)


@pytest.mark.parametrize("timing", ["end", "start"])
@pytest.mark.parametrize(
    ("m", "r", "d", "h"),
    [
        (100.0, 0.8, 0.1, 1),
        (100.0, 0.8, 0.1, 7),
        (-3.0, 0.95, 0.0, 40),
        (10.0, 1.0, 0.0, 12),
        (10.0, 0.0, 0.2, 5),
        (1.0, 1.0, 1e-9, 1000),
    ],
)
def test_clv_finite_horizon_matches_brute_force_loop(m, r, d, h, timing):
    # Brute force: add the H discounted, survival-weighted payments one by one.
    first = 1 if timing == "end" else 0
    expected = sum(m * r**t / (1 + d) ** t for t in range(first, first + h))
    assert_allclose(clv_margin_multiple(m, r, d, timing=timing, horizon=h), expected, rtol=1e-12)


def test_clv_near_one_against_mpmath():
    # q = r / (1 + d) within 1e-12 of 1: 50-digit mpmath closed form of the finite sum.
    m, r, d, h = 1.0, 1.0 - 1e-12, 0.0, 10**6
    with mpmath.workdps(50):
        q = mpmath.mpf(r) / (1 + mpmath.mpf(d))
        exact = m * q * (1 - q**h) / (1 - q)
    assert_allclose(clv_margin_multiple(m, r, d, horizon=h), float(exact), rtol=1e-9)


@given(st.floats(0, 0.99), st.floats(0, 0.5), st.integers(1, 200))
def test_clv_finite_sum_increases_to_the_infinite_one(r, d, h):
    inf = clv_margin_multiple(100.0, r, d)
    fin = clv_margin_multiple(100.0, r, d, horizon=h)
    longer = clv_margin_multiple(100.0, r, d, horizon=h + 1)
    assert fin <= longer + 1e-9 <= inf + 2e-9 * max(1.0, inf)
    # Paying at the start adds the payment made now: start = m + end.
    start = clv_margin_multiple(100.0, r, d, timing="start")
    assert_allclose(start, 100.0 + inf, rtol=1e-12)


def test_clv_broadcasts_arrays():
    out = clv_margin_multiple([100.0, 200.0], 0.8, [0.1, 0.1])
    assert isinstance(out, np.ndarray)
    assert_allclose(out, [800 / 3, 1600 / 3])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"retention": 1.2}, InputError, "retention must be at most 1.0"),
        ({"retention": 1.0, "discount_rate": 0.0}, InputError, "the infinite sum diverges"),
        ({"discount_rate": -0.1}, InputError, "discount_rate must be at least 0.0"),
        ({"margin": np.nan}, InputError, "margin must be finite"),
        ({"horizon": 0}, InputError, "horizon must be >= 1"),
        ({"horizon": 2.5}, InputTypeError, "horizon must be an integer"),
        ({"timing": "middle"}, InputError, "timing must be one of 'end', 'start'"),
        ({"margin": [1.0, 2.0], "retention": [0.5, 0.5, 0.5]}, InputError, "must broadcast"),
    ],
)
def test_clv_errors(kwargs, error, match):
    args = {"margin": 100.0, "retention": 0.8, "discount_rate": 0.1} | kwargs
    m, r, d = args.pop("margin"), args.pop("retention"), args.pop("discount_rate")
    with pytest.raises(error, match=match):
        clv_margin_multiple(m, r, d, **args)


# ----------------------------------------------------------------------------- extreme scales

# Shares do not depend on the unit: [2, 2, 1] (times any scale) holds 2/5, 2/5, 1/5 of the
# total, whether the unit makes the values 1e308 (their sum overflows a float) or 1e-300.
SCALES = [1e308 / 2, 1e-300]


@pytest.mark.parametrize("scale", SCALES)
def test_shares_are_scale_free_near_the_float_limits(scale: float) -> None:
    x = np.array([2.0, 2.0, 1.0]) * scale
    c = lorenz_curve(x)
    assert_allclose(c.value_share, [0.0, 0.2, 0.6, 1.0], rtol=1e-15)
    # Gini of [1, 2, 2] by the population form sum_i (2i - n - 1) x_(i) / (n sum x):
    # (-2·1 + 0·2 + 2·2) / (3·5) = 2/15.
    assert_allclose(gini(x), 2 / 15, rtol=1e-15)
    r = abc_classes(x)
    assert r.labels.tolist() == ["A", "A", "C"]  # the two tied 2s share 4/5 = 0.8 <= 0.8
    assert_allclose(r.class_shares, [0.8, 0.0, 0.2], rtol=1e-15)
    # top 20% of 3 customers = 0.6 customer: 0.6 of a 2 -> 1.2 / 5 = 0.24
    assert_allclose(pareto_share(x), 0.24, rtol=1e-14)


def test_pyramid_near_the_float_limits() -> None:
    # Shares as in test_shares_are_scale_free...: the band totals are representable here.
    tiny = pyramid(np.array([2.0, 2.0, 1.0]) * 1e-300, bands=[("top", 0.5), ("rest", 0.5)])
    # ranks 1 and 2 are tied (both 2): population share 2/3 > 0.5, so all fall in "rest"
    assert tiny.counts.tolist() == [0, 3]
    assert_allclose(tiny.totals, [0.0, 5e-300], rtol=1e-15)
    big = pyramid([1e308, 1e307, 1e307, 1e307], bands=[("top", 0.25), ("rest", 0.75)])
    assert_allclose(big.totals, [1e308, 3e307], rtol=1e-15)
    assert_allclose(big.value_shares, [10 / 13, 3 / 13], rtol=1e-14)
    with pytest.raises(InputError, match="values: the total of band 'rest' exceeds the largest"):
        pyramid([1e308, 1e308, 1e308, 1e308], bands=[("top", 0.25), ("rest", 0.75)])


def test_clv_margin_multiple_near_the_float_limits() -> None:
    # 1e-300 · 0.8 / 0.3 (closed form as in test_clv_margin_multiple_closed_forms)
    assert_allclose(clv_margin_multiple(1e-300, 0.8, 0.1), 1e-300 * 8 / 3, rtol=1e-14)
    # 1e308 · 0.5 / 0.6 = 8.33e307 is representable although 1e308 / 0.6 is not
    assert_allclose(clv_margin_multiple(1e308, 0.5, 0.1), 1e308 / 6 * 5, rtol=1e-14)
    with pytest.raises(InputError, match="margin: the lifetime value exceeds the largest float"):
        clv_margin_multiple(1e308, 0.8, 0.1)


def test_clv_margin_multiple_ragged_margin():
    with pytest.raises(InputError, match="margin must be a rectangular array"):
        clv_margin_multiple([[1.0, 2.0], [3.0]], 0.5, 0.1)  # type: ignore[arg-type]
