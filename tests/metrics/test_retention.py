"""Tests of crmcore.metrics.retention: rates, cohorts, Kaplan-Meier, tenure, economics."""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections import defaultdict
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats

from crmcore.errors import InputError, InputTypeError
from crmcore.metrics.retention import (
    CohortMatrix,
    SurvivalCurve,
    churn_rate,
    cohort_matrix,
    gross_revenue_retention,
    kaplan_meier,
    net_revenue_retention,
    repeat_purchase_rate,
    restricted_mean_survival,
    retention_economics,
    retention_rate,
    tenure_from_dates,
    tenure_from_relationships,
)
from crmcore.records import Relationship
from crmcore.summary import summarize
from crmcore.table import InteractionTable

UTC = dt.UTC
DAY = np.timedelta64(1, "D")

# A small Kaplan-Meier sample worked by hand (see test_kaplan_meier_hand_worked_reference).
KM_DURATIONS = [1, 2, 2, 3, 4, 4, 5, 6]
KM_EVENTS = [1, 1, 0, 1, 0, 1, 1, 0]


# ---------------------------------------------------------------- retention / churn


def test_retention_and_churn_reference():
    # Hand: (190 - 30)/200 = 0.8; churn 40/200 = 0.2.
    assert retention_rate(200, 190, 30) == 0.8
    assert_allclose(churn_rate(200, 190, 30), 0.2)
    assert isinstance(retention_rate(200, 190, 30), float)
    rates = retention_rate([200, 100, 50], [190, 95, 50], [30, 5, 0])
    assert_allclose(rates, [0.8, 0.9, 1.0])
    # Scalars broadcast against arrays.
    assert_allclose(churn_rate(100, [90, 100], 10), [0.2, 0.1])


@given(st.integers(1, 10**6), st.data())
def test_retention_bounds_and_complement(start, data):
    kept = data.draw(st.integers(0, start))
    new = data.draw(st.integers(0, 10**6))
    r = retention_rate(start, kept + new, new)
    assert 0.0 <= r <= 1.0
    assert r == float(Fraction(kept, start))
    assert_allclose(r + churn_rate(start, kept + new, new), 1.0)


def test_retention_errors():
    with pytest.raises(InputError, match=r"start must be at least 1.*index 0: start=0"):
        retention_rate(0, 5, 5)
    with pytest.raises(
        InputError, match=r"new must not exceed end.*index 1: start=10, end=3, new=4"
    ):
        retention_rate([10, 10], [5, 3], [1, 4])
    with pytest.raises(InputError, match=r"end - new \(customers kept\) must not exceed start"):
        churn_rate(10, 30, 5)
    with pytest.raises(InputError, match=r"end must be non-negative"):
        retention_rate(10, -1, 0)
    with pytest.raises(InputError, match="start must hold whole numbers"):
        retention_rate(10.5, 5, 0)
    with pytest.raises(InputError, match="must have the same length"):
        retention_rate([10, 10], [5, 5, 5], [0, 0])
    with pytest.raises(InputError, match="start must be finite"):
        retention_rate(np.nan, 5, 0)


# ---------------------------------------------------------------- repeat purchase


def test_repeat_purchase_rate_reference_and_summary():
    # Hand: buyers with counts 1, 3, 2, 1 → 2 of 4 repeat.
    assert repeat_purchase_rate([1, 3, 0, 2, 1]) == 0.5
    table = InteractionTable.from_arrays(
        [1, 1, 2, 3, 3, 3],
        np.array(
            ["2024-01-01", "2024-01-01", "2024-01-02", "2024-01-01", "2024-01-05", "2024-01-09"],
            dtype="datetime64[D]",
        ),
    )
    summary = summarize(table, observation_end="2024-01-31")
    # Customer 1 bought twice on one day: one occasion. Customer 3 repeats.
    assert repeat_purchase_rate(summary) == pytest.approx(1 / 3)


@given(st.lists(st.integers(0, 20), min_size=1).filter(any))
def test_repeat_purchase_rate_bounds_and_order(counts):
    r = repeat_purchase_rate(counts)
    assert 0 <= r <= 1
    assert r == repeat_purchase_rate(sorted(counts))


def test_repeat_purchase_errors():
    with pytest.raises(InputError, match="no customer has a purchase"):
        repeat_purchase_rate([0, 0, 0])
    with pytest.raises(InputError, match=r"purchases must be non-negative.*index 1"):
        repeat_purchase_rate([1, -1])
    with pytest.raises(InputError, match="purchases must not be empty"):
        repeat_purchase_rate([])


# ---------------------------------------------------------------- revenue retention


def test_revenue_retention_reference():
    # Hand: start base = customers 0..2 (230); end revenue 120 + 0 + 60 = 180;
    # gross caps customer 0 at 100 → 160. Customer 3 (new, 500) is excluded.
    start, end = [100, 50, 80, 0], [120, 0, 60, 500]
    assert_allclose(net_revenue_retention(start, end), 180 / 230)
    assert_allclose(gross_revenue_retention(start, end), 160 / 230)
    # Aggregate identity: (start + expansion - contraction - churn)/start =
    # (230 + 20 - 20 - 50)/230.
    assert_allclose(net_revenue_retention(start, end), (230 + 20 - 20 - 50) / 230)
    assert net_revenue_retention([10], [25]) == 2.5


# Zero or at least 1e-290: scaled by the factor below (1e-3..1e3) the values stay normal
# floats, so the scaled input the property builds is exact to rounding (a subnormal such
# as 5e-324 times 0.5 would underflow to 0 in the test itself, not in the code).
revenue = st.one_of(st.just(0.0), st.floats(1e-290, 1e6))
revenues = st.lists(st.tuples(revenue, revenue), min_size=1, max_size=40).filter(
    lambda rows: any(s > 0 for s, _ in rows)
)


@given(revenues, st.floats(1e-3, 1e3))
def test_revenue_retention_properties(rows, factor):
    s = [a for a, _ in rows]
    e = [b for _, b in rows]
    nrr, grr = net_revenue_retention(s, e), gross_revenue_retention(s, e)
    assert 0 <= grr <= 1
    assert grr <= nrr * (1 + 1e-12)
    assert_allclose(net_revenue_retention([x * factor for x in s], [x * factor for x in e]), nrr)
    assert_allclose(gross_revenue_retention([x * factor for x in s], [x * factor for x in e]), grr)


def test_revenue_retention_near_the_float_limits():
    # [1e308, 1e308] -> [1.5e308, 0.5e308]: NRR (1.5 + 0.5)/2 = 1, GRR (1 + 0.5)/2 = 0.75,
    # although the sums overflow a float.
    s, e = [1e308, 1e308], [1.5e308, 0.5e308]
    assert_allclose(net_revenue_retention(s, e), 1.0, rtol=1e-15)
    assert_allclose(gross_revenue_retention(s, e), 0.75, rtol=1e-15)


def test_revenue_retention_errors():
    with pytest.raises(InputError, match="start_revenue must have a positive value"):
        net_revenue_retention([0, 0], [1, 2])
    with pytest.raises(InputError, match=r"end_revenue must be non-negative.*index 0"):
        gross_revenue_retention([1, 2], [-1, 2])
    with pytest.raises(InputError, match="end_revenue must have the same length"):
        net_revenue_retention([1, 2], [1])
    with pytest.raises(InputError, match="start_revenue must be finite"):
        net_revenue_retention([np.nan], [1])


# ---------------------------------------------------------------- cohort matrix


def _table(ids, days, kinds=None):
    times = np.datetime64("2024-01-01", "ns") + np.asarray(days, dtype=np.int64) * DAY
    return InteractionTable.from_arrays(ids, times, kinds=kinds)


def brute_force_cohorts(ids, times, kinds, observation_end):
    """Reference: dicts and loops over customers, months as (year, month) tuples."""
    cut = observation_end.astype("datetime64[ns]")
    months = defaultdict(set)
    for cid, t, k in zip(ids, times, kinds, strict=True):
        if k == "purchase" and t <= cut:
            d = t.astype("datetime64[D]").item()
            months[cid].add(d.year * 12 + d.month - 1)
    last_d = cut.astype("datetime64[D]").item()
    last = last_d.year * 12 + last_d.month - 1
    cohorts = sorted({min(m) for m in months.values()})
    width = last - cohorts[0] + 1
    counts = np.zeros((len(cohorts), width))
    sizes = np.zeros(len(cohorts), dtype=int)
    for m in months.values():
        row = cohorts.index(min(m))
        sizes[row] += 1
        for month in m:
            counts[row, month - min(m)] += 1
    for row, c in enumerate(cohorts):
        counts[row, last - c + 1 :] = np.nan
    means = []
    for k in range(width):
        obs = [r for r, c in enumerate(cohorts) if last - c >= k]
        means.append(sum(counts[r, k] for r in obs) / sum(sizes[r] for r in obs))
    return cohorts, sizes, counts, np.array(means)


def test_cohort_matrix_hand_example():
    # Customers 1 (Jan, Feb, Mar), 2 (Jan), 3 (Feb, Mar); as of 31 March.
    # Jan cohort {1, 2}: active 2, 1, 1; Feb cohort {3}: 1, 1, not yet observable.
    table = _table([1, 2, 1, 3, 3, 1], [2, 19, 41, 32, 68, 74])
    m = cohort_matrix(table, observation_end="2024-03-31")
    assert_array_equal(m.cohorts, np.array(["2024-01-01", "2024-02-01"], dtype="datetime64[ns]"))
    assert m.sizes.tolist() == [2, 1]
    assert_array_equal(m.counts, [[2, 1, 1], [1, 1, np.nan]])
    assert_array_equal(m.rates, [[1, 0.5, 0.5], [1, 1, np.nan]])
    # Size-weighted column means: (2+1)/3, (1+1)/(2+1), 1/2; the NaN cell is excluded.
    assert_allclose(m.column_means, [1, 2 / 3, 0.5])
    assert m.offsets.tolist() == [0, 1, 2]
    assert m.observable.tolist() == [[True, True, True], [True, True, False]]
    assert m.period == "M"


def test_cohort_matrix_ignores_other_kinds_and_later_rows():
    base = _table([1, 2, 1], [2, 40, 45])
    noisy = _table(
        [1, 2, 1, 1, 3, 2],
        [2, 40, 45, 200, 10, 50],
        kinds=["purchase", "purchase", "purchase", "purchase", "complaint", "support"],
    )
    a = cohort_matrix(base, observation_end="2024-03-01")
    b = cohort_matrix(noisy, observation_end="2024-03-01")
    assert_array_equal(a.counts, b.counts)
    assert_array_equal(a.sizes, b.sizes)


def test_cohort_matrix_weekly_labels_start_on_monday():
    # 2024-01-01 is a Monday; day 7 (8 January) starts the next week.
    m = cohort_matrix(_table([1, 2], [3, 7]), observation_end="2024-01-10", period="W")
    assert_array_equal(m.cohorts, np.array(["2024-01-01", "2024-01-08"], dtype="datetime64[ns]"))
    assert m.counts.shape == (2, 2)


logs = st.lists(
    st.tuples(
        st.integers(0, 7), st.integers(0, 400), st.sampled_from(["purchase"] * 3 + ["visit"])
    ),
    min_size=1,
    max_size=40,
)


@given(logs, st.integers(0, 450))
def test_cohort_matrix_matches_brute_force(rows, cut_day):
    ids = [r[0] for r in rows]
    times = np.datetime64("2024-01-01", "ns") + np.array([r[1] for r in rows]) * DAY
    kinds = [r[2] for r in rows]
    observation_end = np.datetime64("2024-01-01", "ns") + cut_day * DAY
    if not any(k == "purchase" and t <= observation_end for t, k in zip(times, kinds, strict=True)):
        return
    table = InteractionTable.from_arrays(ids, times, kinds=kinds)
    m = cohort_matrix(table, observation_end=observation_end)
    cohorts, sizes, counts, means = brute_force_cohorts(ids, times, kinds, observation_end)
    got = [(d.year * 12 + d.month - 1) for d in m.cohorts.astype("datetime64[D]").tolist()]
    assert got == cohorts
    assert m.sizes.tolist() == sizes.tolist()
    assert_array_equal(m.counts, counts)
    assert_allclose(m.column_means, means)
    rates = m.rates[m.observable]
    assert ((rates >= 0) & (rates <= 1)).all()


@given(logs, st.lists(st.booleans(), min_size=8, max_size=8))
def test_cohort_matrix_pooled_equals_whole(rows, side):
    ids = np.array([r[0] for r in rows])
    days = [r[1] for r in rows]
    table = _table(ids, days)
    observation_end = "2025-03-01"
    whole = cohort_matrix(table, observation_end=observation_end)
    parts = []
    for flag in (True, False):
        mask = np.array([side[i] == flag for i in ids])
        if mask.any():
            parts.append(cohort_matrix(table.select(mask), observation_end=observation_end))
    pooled = CohortMatrix.combine(parts)
    assert_array_equal(pooled.cohorts, whole.cohorts)
    assert_array_equal(pooled.sizes, whole.sizes)
    assert_array_equal(pooled.counts, whole.counts)
    assert_allclose(pooled.column_means, whole.column_means)


def test_cohort_matrix_errors():
    table = _table([1], [10])
    with pytest.raises(InputError, match="table has no purchase at or before observation_end"):
        cohort_matrix(table, observation_end="2023-12-31")
    with pytest.raises(InputError, match="period must be one of"):
        cohort_matrix(table, observation_end="2024-12-31", period="Q")
    with pytest.raises(InputTypeError, match="table must be an InteractionTable"):
        cohort_matrix([1, 2], observation_end="2024-12-31")  # type: ignore[arg-type]
    a = cohort_matrix(table, observation_end="2024-12-31")
    b = cohort_matrix(table, observation_end="2024-11-30")
    with pytest.raises(InputError, match="parts must share period and observation_end"):
        CohortMatrix.combine([a, b])
    with pytest.raises(InputError, match="parts must hold at least one CohortMatrix"):
        CohortMatrix.combine([])


# ---------------------------------------------------------------- Kaplan-Meier


def test_kaplan_meier_hand_worked_reference():
    # Product-limit estimate (Kaplan & Meier 1958) by hand: at risk 8, 7, 5, 4, 2 at
    # t = 1..5 with one event each -> 7/8 = 0.875, ·6/7 = 0.75, ·4/5 = 0.6, ·3/4 = 0.45,
    # ·1/2 = 0.225.
    # Interval at t = 1 by hand: S = 7/8, Greenwood Σ = 1/(8·7) = 1/56;
    # log S = -0.133531, V = (1/56)/0.133531² = 1.001471, √V = 1.000735;
    # log(-log S) = -2.013364; ± 1.959964·1.000735 = ± 1.961404;
    # lower = exp(-exp(-0.051960)) = 0.38700, upper = exp(-exp(-3.974768)) = 0.98139.
    c = kaplan_meier(KM_DURATIONS, KM_EVENTS)
    assert_allclose(c.times, [1, 2, 3, 4, 5])
    assert_allclose(c.survival, [0.875, 0.75, 0.6, 0.45, 0.225], rtol=1e-14)
    assert_allclose(c.interval[0], [0.3870, 0.9814], atol=5e-5)
    assert c.at_risk.tolist() == [8, 7, 5, 4, 2]
    assert c.events.tolist() == [1, 1, 1, 1, 1]
    assert (c.n, c.max_duration, c.confidence) == (8, 6.0, 0.95)


def test_kaplan_meier_matches_scipy_ecdf_log_log():
    # Independent implementation: scipy.stats.ecdf on CensoredData, whose
    # "log-log" interval is the exponential Greenwood interval.
    rng = np.random.default_rng(3)
    d = np.round(rng.exponential(5, 200), 1)
    e = rng.random(200) < 0.7
    e[np.argmax(d)] = False  # keep S above 0, where scipy's interval is defined
    c = kaplan_meier(d, e, confidence=0.9)
    ref = stats.ecdf(stats.CensoredData(uncensored=d[e], right=d[~e]))
    assert_allclose(c.survival, ref.sf.evaluate(c.times), rtol=1e-12)
    with warnings.catch_warnings():
        # scipy warns that its interval is undefined where S = 1 (before the
        # first event); we compare only at event times, where S < 1.
        warnings.simplefilter("ignore", RuntimeWarning)
        ci = ref.sf.confidence_interval(0.9, method="log-log")
    positive = c.survival > 0
    assert_allclose(c.interval[positive, 0], ci.low.evaluate(c.times)[positive], rtol=1e-9)
    assert_allclose(c.interval[positive, 1], ci.high.evaluate(c.times)[positive], rtol=1e-9)


def test_kaplan_meier_brute_force_product_limit():
    # Brute force: for every distinct event time, count at risk and events with loops.
    d = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]
    e = [1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 1]
    s, times, surv = 1.0, [], []
    for t in sorted({x for x, f in zip(d, e, strict=True) if f}):
        n = sum(1 for x in d if x >= t)
        k = sum(1 for x, f in zip(d, e, strict=True) if f and x == t)
        s *= 1 - k / n
        times.append(t)
        surv.append(s)
    c = kaplan_meier(d, e)
    assert_allclose(c.times, times)
    assert_allclose(c.survival, surv, rtol=1e-14)


def test_kaplan_meier_curve_reaching_zero_and_no_events():
    c = kaplan_meier([1, 2, 3], [1, 1, 1])
    assert_allclose(c.survival, [2 / 3, 1 / 3, 0])
    assert c.interval[-1].tolist() == [0.0, 0.0]
    assert np.isfinite(c.interval).all()
    empty = kaplan_meier([4.0, 5.0], [False, False])
    assert empty.times.size == 0
    assert empty.survival_at([4.5]).tolist() == [1.0]


def test_survival_at_step_function():
    c = kaplan_meier(KM_DURATIONS, KM_EVENTS)
    assert_allclose(c.survival_at([0, 0.99, 1, 2.5, 5, 6]), [1, 1, 0.875, 0.75, 0.225, 0.225])
    with pytest.raises(InputError, match=r"t must not exceed max_duration=6\.0"):
        c.survival_at([7])


survival_data = st.lists(st.tuples(st.integers(0, 30), st.booleans()), min_size=1, max_size=50)


@given(survival_data, st.randoms(use_true_random=False))
def test_kaplan_meier_properties(rows, random):
    d = [r[0] for r in rows]
    e = [r[1] for r in rows]
    c = kaplan_meier(d, e)
    assert ((c.survival >= 0) & (c.survival <= 1)).all()
    assert (np.diff(c.survival) <= 0).all()
    assert (np.diff(c.at_risk) < 0).all()
    assert (
        (c.interval[:, 0] <= c.survival + 1e-12) & (c.survival <= c.interval[:, 1] + 1e-12)
    ).all()
    assert ((c.interval >= 0) & (c.interval <= 1)).all()
    assert c.events.sum() == sum(e)
    shuffled = list(rows)
    random.shuffle(shuffled)
    c2 = kaplan_meier([r[0] for r in shuffled], [r[1] for r in shuffled])
    assert_array_equal(c.survival, c2.survival)
    assert_array_equal(c.interval, c2.interval)


def test_kaplan_meier_errors():
    with pytest.raises(InputError, match=r"durations must be non-negative.*index 1"):
        kaplan_meier([1, -2], [1, 1])
    with pytest.raises(InputError, match=r"events must hold booleans.*index 0"):
        kaplan_meier([1, 2], [2, 1])
    with pytest.raises(InputError, match="events must have the same length as durations"):
        kaplan_meier([1, 2], [1])
    with pytest.raises(InputError, match="durations must not be empty"):
        kaplan_meier([], [])
    with pytest.raises(InputError, match="durations must be finite"):
        kaplan_meier([np.nan], [1])
    with pytest.raises(InputError, match="confidence must be < 1"):
        kaplan_meier([1], [1], confidence=1)


# ---------------------------------------------------------------- restricted mean


def test_restricted_mean_reference():
    c = kaplan_meier(KM_DURATIONS, KM_EVENTS)
    # Hand: areas 1·1 + 0.875 + 0.75 + 0.6 + 0.45 = 3.675 up to t = 5,
    # plus 0.225·0.5 to 5.5.
    assert_allclose(restricted_mean_survival(c, 5).mean, 3.675)
    assert_allclose(restricted_mean_survival(c, 5.5).mean, 3.7875)
    assert_allclose(restricted_mean_survival(c, 0.5).mean, 0.5)
    # Variance by hand at τ = 2: A_1 = ∫_1^2 S = 0.875, A_2 = 0;
    # Var = 0.875²·1/(8·7) → SE = 0.875/√56.
    assert_allclose(restricted_mean_survival(c, 2).standard_error, 0.875 / math.sqrt(56))


def test_restricted_mean_without_censoring_is_sample_mean():
    # Identity: without censoring the area under the KM curve up to the
    # largest time is the sample mean, and its variance Σ(x - x̄)²/n².
    x = np.array([1.0, 2.0, 3.0, 7.0, 8.0, 8.0, 12.5])
    r = restricted_mean_survival(kaplan_meier(x, np.ones(x.size)), x.max())
    assert_allclose(r.mean, x.mean())
    assert_allclose(r.standard_error, math.sqrt(x.var() / x.size))
    # Beyond the largest time the curve is 0: the horizon may exceed it.
    assert_allclose(restricted_mean_survival(kaplan_meier(x, np.ones(x.size)), 100).mean, x.mean())


@given(survival_data, st.floats(0.1, 30), st.floats(0.1, 30))
def test_restricted_mean_monotone_and_bounded(rows, h1, h2):
    c = kaplan_meier([r[0] for r in rows], [r[1] for r in rows])
    lo, hi = sorted((h1, h2))
    reached_zero = c.survival.size and c.survival[-1] == 0
    if hi > c.max_duration and not reached_zero:
        return
    a, b = restricted_mean_survival(c, lo), restricted_mean_survival(c, hi)
    # The area under S on [0, lo] lies in [0, lo]; it is 0 exactly when S drops to 0 at
    # time 0 (every subject had its event at 0), and positive otherwise (S = 1 before the
    # first event time, and S stays positive on a stretch after 0 when that time is 0).
    s_after_zero = c.survival[0] if c.times.size and c.times[0] == 0 else 1.0
    assert 0 <= a.mean <= lo + 1e-12
    assert (a.mean > 0) == (s_after_zero > 0)
    assert a.mean <= b.mean + 1e-12
    assert a.standard_error >= 0


def test_restricted_mean_is_zero_when_everyone_leaves_at_time_zero():
    # One event at time 0: S(t) = 0 for all t >= 0, so the area under it is 0 for any
    # horizon (the curve has reached 0, so a horizon past the data is allowed).
    c = kaplan_meier([0.0], [True])
    r = restricted_mean_survival(c, 5.0)
    assert r.mean == 0.0
    assert r.standard_error == 0.0


def test_restricted_mean_errors():
    c = kaplan_meier(KM_DURATIONS, KM_EVENTS)
    with pytest.raises(
        InputError, match=r"horizon must not exceed the largest observed duration \(6.0\)"
    ):
        restricted_mean_survival(c, 7)
    with pytest.raises(InputError, match="horizon must be > 0"):
        restricted_mean_survival(c, 0)
    with pytest.raises(InputTypeError, match="curve must be a SurvivalCurve"):
        restricted_mean_survival("curve", 3)  # type: ignore[arg-type]
    assert isinstance(c, SurvivalCurve)


# ---------------------------------------------------------------- tenure


def _rel(cid, since, ended=None):
    return Relationship(
        customer_id=cid,
        stage="repeat_buyer",
        level="reactive",
        status="lost" if ended else "actual",
        since=since,
        ended=ended,
    )


def test_tenure_from_relationships_reference():
    cet = dt.timezone(dt.timedelta(hours=1))
    rels = [
        # Ended before observation_end: an event after 30 days.
        _rel("a", dt.datetime(2023, 1, 1, tzinfo=UTC), dt.datetime(2023, 1, 31, tzinfo=UTC)),
        # Still running: censored at observation_end after 59 days.
        _rel("b", dt.datetime(2023, 1, 1, tzinfo=UTC)),
        # Ends after observation_end: censored at observation_end (the end must not leak).
        _rel("c", dt.datetime(2023, 2, 1, tzinfo=UTC), dt.datetime(2023, 6, 1, tzinfo=UTC)),
        # Begins after observation_end: left out.
        _rel("d", dt.datetime(2023, 4, 1, tzinfo=UTC)),
        # Aware in another zone: 2023-01-02 00:00+01:00 is 2023-01-01 23:00 UTC,
        # ends 2023-01-03 23:00 UTC → 2 days.
        _rel("e", dt.datetime(2023, 1, 2, tzinfo=cet), dt.datetime(2023, 1, 4, tzinfo=cet)),
    ]
    t = tenure_from_relationships(rels, observation_end="2023-03-01")
    assert t.customer_ids.tolist() == ["a", "b", "c", "e"]
    assert t.index.tolist() == [0, 1, 2, 4]
    assert_allclose(t.durations, [30, 59, 28, 2])
    assert t.events.tolist() == [True, False, False, True]
    weeks = tenure_from_relationships(rels, observation_end="2023-03-01", time_unit="W")
    assert_allclose(weeks.durations, np.array([30, 59, 28, 2]) / 7)
    hours = tenure_from_relationships(rels[:1], observation_end="2023-03-01", time_unit="h")
    assert_allclose(hours.durations, [720])


def test_tenure_from_dates_accepts_none_nat_and_pandas():
    pd = pytest.importorskip("pandas")
    since = pd.Series(pd.to_datetime(["2023-01-01", "2023-01-10"], utc=True))
    ended = pd.Series(pd.to_datetime(["2023-01-05", None], utc=True))
    t = tenure_from_dates(since, ended, observation_end="2023-01-20")
    assert_allclose(t.durations, [4, 10])
    assert t.events.tolist() == [True, False]
    objects = np.array([dt.datetime(2023, 1, 3, tzinfo=UTC), None], dtype=object)
    t2 = tenure_from_dates(since, objects, observation_end="2023-01-20")
    assert_allclose(t2.durations, [2, 10])
    none = tenure_from_dates(since, [None, None], observation_end="2023-01-20")
    assert none.events.tolist() == [False, False]


def test_tenure_feeds_kaplan_meier():
    since = np.array(["2023-01-01"] * 4, dtype="datetime64[D]")
    ended = np.array(["2023-01-11", "2023-01-21", "NaT", "2023-02-11"], dtype="datetime64[D]")
    t = tenure_from_dates(since, ended, observation_end="2023-02-01")
    c = kaplan_meier(t.durations, t.events)
    # Events at 10 and 20 days; 31 days censored twice (one end after observation_end).
    assert_allclose(c.times, [10, 20])
    assert_allclose(c.survival, [0.75, 0.5])


day_offsets = st.lists(
    st.tuples(st.integers(0, 300), st.one_of(st.none(), st.integers(0, 300))),
    min_size=1,
    max_size=30,
)


@given(day_offsets, st.integers(0, 400), st.integers(0, 400))
def test_tenure_never_leaks_after_observation_end(rows, cut1, cut2):
    base = np.datetime64("2023-01-01", "ns")
    since = np.array([base + s * DAY for s, _ in rows])
    ended = np.array(
        [np.datetime64("NaT", "ns") if e is None else base + (s + e) * DAY for s, e in rows]
    )
    early, late = sorted((cut1, cut2))
    if not any(s <= early for s, _ in rows):
        return
    a = tenure_from_dates(since, ended, observation_end=base + early * DAY)
    assert (a.durations >= 0).all()
    assert (a.durations <= early).all()
    # Changing anything after observation_end (ends, relationships starting later) changes nothing.
    moved = np.where(np.isnat(ended) | (ended > base + early * DAY), base + 999 * DAY, ended)
    b = tenure_from_dates(since, moved, observation_end=base + early * DAY)
    assert_array_equal(a.durations, b.durations)
    assert_array_equal(a.events, b.events)
    # A later observation_end keeps every row and never shortens a duration.
    c = tenure_from_dates(since, ended, observation_end=base + late * DAY)
    assert set(a.index.tolist()) <= set(c.index.tolist())
    later = dict(zip(c.index.tolist(), c.durations.tolist(), strict=True))
    assert all(later[i] >= d for i, d in zip(a.index.tolist(), a.durations.tolist(), strict=True))


def test_tenure_spans_beyond_int64_nanoseconds():
    # 1700-01-01 to 2200-01-01: 500 years, more than int64 nanoseconds hold (~292 years);
    # the day count comes from the calendar of the standard library.
    days = (dt.date(2200, 1, 1) - dt.date(1700, 1, 1)).days  # 182,622
    t = tenure_from_dates(["1700-01-01"], [None], observation_end="2200-01-01")
    assert_allclose(t.durations, [days], rtol=1e-15)
    assert t.events.tolist() == [False]
    ended = np.array(["2250-06-01T12:00"], dtype="datetime64[ns]")
    t = tenure_from_dates(["1690-01-01"], ended, observation_end="2260-01-01", time_unit="h")
    hours = (dt.datetime(2250, 6, 1, 12) - dt.datetime(1690, 1, 1)).total_seconds() / 3600
    assert_allclose(t.durations, [hours], rtol=1e-15)
    assert t.events.tolist() == [True]


def test_tenure_ended_outside_the_datetime_range_is_refused():
    # A datetime64 end in the year 1600 cannot be held in nanoseconds; it used to wrap around
    # to a date in the future and count the relationship as running.
    ended = np.array(["1600-01-01", "NaT"], dtype="datetime64[D]")
    with pytest.raises(InputError, match="ended must lie"):
        tenure_from_dates(["1700-01-01", "1700-01-01"], ended, observation_end="2000-01-01")


def test_tenure_errors():
    since = np.array(["2023-01-10", "2023-01-10"], dtype="datetime64[D]")
    with pytest.raises(InputError, match=r"ended must not be before since.*index 1"):
        tenure_from_dates(
            since,
            np.array(["NaT", "2023-01-01"], dtype="datetime64[D]"),
            observation_end="2023-02-01",
        )
    with pytest.raises(InputError, match="every relationship begins after observation_end"):
        tenure_from_dates(since, [None, None], observation_end="2023-01-01")
    with pytest.raises(InputError, match="ended must have the same length as since"):
        tenure_from_dates(since, [None], observation_end="2023-02-01")
    with pytest.raises(InputError, match="since must not hold missing times"):
        tenure_from_dates(
            np.array(["NaT"], dtype="datetime64[D]"), [None], observation_end="2023-02-01"
        )
    with pytest.raises(InputError, match="time_unit must be one of"):
        tenure_from_dates(since, [None, None], observation_end="2023-02-01", time_unit="M")
    with pytest.raises(InputError, match="relationships must not be empty"):
        tenure_from_relationships([], observation_end="2023-02-01")
    with pytest.raises(InputTypeError, match="found tuple at index 0"):
        tenure_from_relationships([("a", 1)], observation_end="2023-02-01")  # type: ignore[list-item]


# ---------------------------------------------------------------- retention economics


def test_retention_economics_reference():
    # Closed form: after n years -AC + m·q(1 - q^n)/(1 - q) with q = r/(1 + d).
    r, d, m, ac, n = 0.9, 0.1, 100.0, 150.0, 10
    res = retention_economics(0.1, years=n, margin=m, acquisition_cost=ac, discount_rate=d)
    q = r / (1 + d)
    assert_allclose(res.cumulative_profit[-1], -ac + m * q * (1 - q**n) / (1 - q))
    assert_allclose(res.customers, 0.9 ** np.arange(1, 11))
    assert res.years.tolist() == list(range(1, 11))
    # Limit: the geometric series m·q/(1 - q) with q = r/(1 + d) is m·r/(1 + d - r), for
    # m = 100, r = 0.8, d = 0.1: 80/0.3 = 266.667 (Gupta & Lehmann 2003's margin multiple,
    # payments at period end); 400 years reach it.
    long = retention_economics(0.2, years=400, margin=100, discount_rate=0.1)
    assert_allclose(long.cumulative_profit[-1], 800 / 3, rtol=1e-12)
    # 5% versus 10% churn over 10 years: 0.95^10 = 0.5987, 0.9^10 = 0.3487.
    low = retention_economics(0.05, years=10, margin=100)
    assert_allclose(low.customers[-1], 0.95**10)


def test_retention_economics_payback():
    res = retention_economics(0.0, years=5, margin=100, acquisition_cost=250)
    assert res.payback_year == 3
    assert retention_economics(0.5, years=3, margin=10, acquisition_cost=100).payback_year is None


@given(
    st.floats(0, 1),
    st.floats(0, 1),
    st.integers(1, 40),
    st.floats(0.01, 1e4),
    st.floats(0, 0.5),
)
def test_retention_economics_lower_churn_is_better(c1, c2, years, margin, d):
    lo, hi = sorted((c1, c2))
    a = retention_economics(lo, years=years, margin=margin, discount_rate=d)
    b = retention_economics(hi, years=years, margin=margin, discount_rate=d)
    assert (a.customers >= b.customers).all()
    assert (a.cumulative_profit >= b.cumulative_profit - 1e-9).all()
    assert (np.diff(a.customers) <= 0).all()


def test_retention_economics_errors():
    with pytest.raises(InputError, match=r"churn_rate must be <= 1\.0"):
        retention_economics(1.5, years=3, margin=10)
    with pytest.raises(InputError, match=r"years must be >= 1"):
        retention_economics(0.1, years=0, margin=10)
    with pytest.raises(InputError, match=r"discount_rate must be >= 0\.0"):
        retention_economics(0.1, years=3, margin=10, discount_rate=-0.1)
    with pytest.raises(InputError, match="margin must be finite"):
        retention_economics(0.1, years=3, margin=math.nan)


def test_retention_economics_bounds_and_extremes():
    # A horizon beyond 100,000 years is refused at once instead of allocating gigabytes.
    with pytest.raises(InputError, match="years must be <= 100000"):
        retention_economics(0.1, years=10**9, margin=100)
    # A huge discount rate: (1 + d)^t overflows; the discounted profits are 0 after year 1
    # (100 · 0.9 / 1e300 = 9e-299 in year 1, then below the smallest float).
    r = retention_economics(0.1, years=5, margin=100, discount_rate=1e300)
    assert_allclose(r.profit[0], 9e-299, rtol=1e-14)
    assert (r.profit[2:] == 0).all()
    with pytest.raises(InputError, match="margin: the cumulative profit exceeds the largest"):
        retention_economics(0.0, years=3, margin=1e308)


# ---------------------------------------------------------------- found by the API fuzz test


@pytest.mark.parametrize("bad", [None, float("nan"), object()])
def test_sequence_arguments_refuse_non_sequences(bad: object) -> None:
    # Leaked "object is not iterable" TypeErrors before.
    with pytest.raises(InputTypeError, match="relationships must be a sequence of Relationship"):
        tenure_from_relationships(bad, observation_end="2024-01-01")  # type: ignore[arg-type]
    with pytest.raises(InputTypeError, match="parts must be a sequence of CohortMatrix"):
        CohortMatrix.combine(bad)  # type: ignore[arg-type]


def test_tenure_from_dates_takes_a_tz_aware_datetime_index() -> None:
    pd = pytest.importorskip("pandas")
    # Berlin is UTC+1 in January and UTC+2 in June (CET/CEST), so these are the
    # UTC instants 2023-01-01T23:00 and 2023-06-01T22:00.
    since = pd.DatetimeIndex(["2023-01-02 00:00", "2023-06-02 00:00"]).tz_localize("Europe/Berlin")
    ended = pd.DatetimeIndex(["2023-01-12 00:00", "NaT"]).tz_localize("Europe/Berlin")
    got = tenure_from_dates(since, ended, observation_end="2023-06-11T22:00", time_unit="D")
    assert got.durations.tolist() == [10.0, 10.0]
    assert got.events.tolist() == [True, False]
