"""Tests of crmcore.metrics.satisfaction: NPS, CSAT, CES, ACSI and service metrics."""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import stats

from crmcore.errors import InputError, InputTypeError
from crmcore.metrics.satisfaction import (
    CesResult,
    ComplaintRate,
    NpsResult,
    ProportionResult,
    RateResult,
    acsi,
    ces,
    complaint_rate,
    csat,
    csat_from_counts,
    first_contact_resolution_rate,
    nps,
    nps_difference,
    nps_from_counts,
    response_time_stats,
)
from crmcore.table import InteractionTable

# 50 promoters, 30 passives, 20 detractors (worked by hand in test_nps_hand_worked_values).
SAMPLE = np.array([10] * 25 + [9] * 25 + [8] * 15 + [7] * 15 + [6] * 10 + [0] * 10)

nps_answers = st.lists(st.integers(0, 10), min_size=1, max_size=60)
csat_answers = st.lists(st.integers(1, 5), min_size=1, max_size=60)
ces_answers = st.lists(st.integers(1, 7), min_size=2, max_size=60)


def wilson_by_quadratic(k, n, z):
    """Wilson limits as the roots of (p̂ - π)² = z² π(1 - π)/n (an independent route)."""
    p = k / n
    # (1 + z²/n) π² - (2p̂ + z²/n) π + p̂² = 0
    roots = np.roots([1 + z * z / n, -(2 * p + z * z / n), p * p])
    return sorted(float(r.real) for r in roots)


# ---------------------------------------------------------------- NPS reference values


def test_nps_hand_worked_values():
    # By hand: p = 0.5, d = 0.2 -> score 100(p - d) = 30; SE = 100·√((p + d - (p - d)²)/n)
    # = 100·√(0.61/100) = 7.8102; Wald 30 ± 1.959964·7.8102 = [14.692, 45.308],
    # adjusted Wald [14.051, 44.201] (Rocks 2016 adjustment, checked by hand:
    # p' = 50.75/103, d' = 20.75/103, SE' = √((p'+d'-(p'-d')²)/103)).
    r = nps(SAMPLE)
    assert (r.n, r.promoters, r.passives, r.detractors) == (100, 50, 30, 20)
    assert r.score == 30.0
    assert_allclose(r.standard_error, 7.8102, atol=5e-5)
    assert_allclose(r.interval, [14.692, 45.308], atol=5e-4)
    adj = nps(SAMPLE, interval="adjusted_wald")
    assert adj.score == 30.0
    assert_allclose(adj.interval, [14.051, 44.201], atol=5e-4)
    assert (r.interval_method, adj.interval_method, r.confidence) == ("wald", "adjusted_wald", 0.95)


def test_nps_standard_error_equals_population_sd_of_answer_values():
    # Independent route: code each answer +1/0/-1 and take numpy's population
    # standard deviation divided by √n (the variance of a mean).
    values = np.where(SAMPLE >= 9, 1.0, np.where(SAMPLE <= 6, -1.0, 0.0))
    expected = 100 * values.std() / math.sqrt(values.size)
    assert_allclose(nps(SAMPLE).standard_error, expected, rtol=1e-13)


def test_nps_other_confidence_uses_its_normal_quantile():
    # 90%: z = 1.6448536269514722 (scipy.stats.norm.ppf(0.95)).
    r = nps(SAMPLE, confidence=0.9)
    z = stats.norm.ppf(0.95)
    assert_allclose(r.interval, [30 - z * r.standard_error, 30 + z * r.standard_error])


def test_nps_group_boundaries():
    # 6 is a detractor, 7 and 8 passives, 9 a promoter (Reichheld 2003).
    r = nps([6, 7, 8, 9])
    assert (r.promoters, r.passives, r.detractors) == (1, 2, 1)
    assert r.score == 0.0


def test_nps_all_promoters_clips_interval():
    r = nps([10, 9, 10])
    assert r.score == 100.0
    assert r.standard_error == 0.0
    assert r.interval == (100.0, 100.0)
    adj = nps([10, 9, 10], interval="adjusted_wald")
    assert adj.interval[1] <= 100.0
    assert adj.interval[0] < 100.0


def test_nps_bootstrap_is_reproducible_and_close_to_wald_for_large_n():
    answers = np.repeat(SAMPLE, 30)  # n = 3000, same shares
    a = nps(answers, interval="bootstrap", rng=7, n_resamples=4000)
    b = nps(answers, interval="bootstrap", rng=np.random.default_rng(7), n_resamples=4000)
    assert a.interval == b.interval
    wald = nps(answers)
    assert_allclose(a.interval, wald.interval, atol=0.6)
    assert a.interval_method == "bootstrap"


def test_nps_accepts_floats_holding_whole_numbers_and_pandas():
    pd = pytest.importorskip("pandas")
    assert nps(pd.Series([10.0, 0.0, 8.0])).score == 0.0
    assert nps(np.array([10, 3], dtype=np.uint8)).score == 0.0


def test_nps_from_counts_matches_nps():
    assert nps_from_counts(50, 30, 20) == nps(SAMPLE)
    assert nps_from_counts(np.int64(50), 30, 20).score == 30.0


def test_nps_combine_reference():
    parts = [nps(SAMPLE[:37]), nps(SAMPLE[37:80]), nps(SAMPLE[80:])]
    assert NpsResult.combine(parts) == nps(SAMPLE)
    adj = NpsResult.combine(parts, interval="adjusted_wald", confidence=0.9)
    assert adj == nps(SAMPLE, interval="adjusted_wald", confidence=0.9)


def test_nps_difference_reference():
    # a = 50/30/20, b = 40/30/30: SE_a² = 61, SE_b² = 69 (points²), so
    # SE = √130 = 11.40175; z = 20/√130; p = 2·(1 - Φ(z)) from scipy.stats.norm.
    d = nps_difference(nps_from_counts(50, 30, 20), nps_from_counts(40, 30, 30))
    assert d.difference == 20.0
    assert_allclose(d.standard_error, math.sqrt(130), rtol=1e-13)
    assert_allclose(d.z, 20 / math.sqrt(130), rtol=1e-13)
    assert_allclose(d.p_value, 2 * stats.norm.sf(20 / math.sqrt(130)), rtol=1e-12)
    z = stats.norm.ppf(0.975)
    assert_allclose(d.interval, [20 - z * math.sqrt(130), 20 + z * math.sqrt(130)])


def test_nps_difference_accepts_raw_answers_and_is_antisymmetric():
    a, b = SAMPLE, np.array([10, 3, 3, 8, 9, 0, 6])
    ab, ba = nps_difference(a, b), nps_difference(b, a)
    assert_allclose(ab.difference, -ba.difference)
    assert_allclose(ab.p_value, ba.p_value)
    same = nps_difference(SAMPLE, SAMPLE)
    assert same.difference == 0.0
    assert same.p_value == 1.0


# ---------------------------------------------------------------- NPS properties


@given(nps_answers, st.data())
def test_nps_better_answer_never_lowers_score(answers, data):
    i = data.draw(st.integers(0, len(answers) - 1))
    better = list(answers)
    better[i] = data.draw(st.integers(answers[i], 10))
    assert nps(better).score >= nps(answers).score


@given(nps_answers, st.sampled_from(["wald", "adjusted_wald"]))
def test_nps_bounds_and_interval(answers, method):
    r = nps(answers, interval=method)
    assert -100 <= r.score <= 100
    assert -100 <= r.interval[0] <= r.interval[1] <= 100
    assert r.standard_error >= 0
    if method == "wald":
        assert r.interval[0] <= r.score <= r.interval[1]
    assert r.promoters + r.passives + r.detractors == r.n == len(answers)


@given(nps_answers, st.randoms(use_true_random=False))
def test_nps_order_invariant(answers, random):
    shuffled = list(answers)
    random.shuffle(shuffled)
    assert nps(shuffled) == nps(answers)


@given(st.lists(nps_answers, min_size=1, max_size=5))
def test_nps_pooled_equals_whole(chunks):
    whole = [x for chunk in chunks for x in chunk]
    pooled = NpsResult.combine([nps(c) for c in chunks])
    assert pooled == nps(whole)


@given(nps_answers)
def test_nps_score_is_exact_fraction(answers):
    # Brute force with exact rationals: (#promoters - #detractors)/n × 100.
    p = sum(1 for x in answers if x >= 9)
    d = sum(1 for x in answers if x <= 6)
    assert_allclose(nps(answers).score, float(Fraction(100 * (p - d), len(answers))), rtol=1e-15)


# ---------------------------------------------------------------- NPS errors


def test_nps_errors():
    with pytest.raises(InputError, match="scores must not be empty"):
        nps([])
    with pytest.raises(InputError, match=r"scores must hold whole numbers.*index 2: scores=7.5"):
        nps([10, 3, 7.5])
    with pytest.raises(InputError, match=r"scores must be at most 10.*index 1: scores=11"):
        nps([10, 11])
    with pytest.raises(InputError, match=r"scores must be non-negative.*index 0: scores=-1"):
        nps([-1, 5])
    with pytest.raises(InputError, match=r"scores must be finite.*index 1"):
        nps([10.0, np.nan])
    with pytest.raises(InputTypeError, match="scores must hold integers"):
        nps(["10", "9"])
    with pytest.raises(InputError, match="interval must be one of"):
        nps([10], interval="exact")
    with pytest.raises(InputTypeError, match="rng is required for interval='bootstrap'"):
        nps([10, 3], interval="bootstrap")
    with pytest.raises(InputError, match="n_resamples must be >= 100"):
        nps([10, 3], interval="bootstrap", rng=1, n_resamples=5)
    with pytest.raises(InputError, match="confidence must be < 1"):
        nps([10], confidence=1.0)
    with pytest.raises(InputError, match="the NPS of zero answers is undefined"):
        nps_from_counts(0, 0, 0)
    with pytest.raises(InputError, match="detractors must be >= 0"):
        nps_from_counts(3, 1, -1)
    with pytest.raises(InputError, match="parts must hold at least one NpsResult"):
        NpsResult.combine([])
    with pytest.raises(InputTypeError, match="found int at index 1"):
        NpsResult.combine([nps([10]), 3])  # type: ignore[list-item]
    with pytest.raises(InputTypeError, match="rng is required"):
        NpsResult.combine([nps([10, 3], interval="bootstrap", rng=1)])
    with pytest.raises(InputError, match="both samples have a standard error of 0"):
        nps_difference([10, 10], [0, 0, 0])
    with pytest.raises(InputError, match=r"b must be at most 10.*index 0: b=12"):
        nps_difference([10], [12])


# ---------------------------------------------------------------- CSAT


def test_csat_hand_worked_reference():
    # 60 of 100 -> 60 points; Wilson (1927) score interval by hand, z = 1.959964:
    # (p̂ + z²/2n ± z·√(p̂(1-p̂)/n + z²/4n²)) / (1 + z²/n) = [50.20, 69.06].
    answers = [5] * 35 + [4] * 25 + [3] * 20 + [2] * 10 + [1] * 10
    r = csat(answers)
    assert (r.score, r.n, r.k) == (60.0, 100, 60)
    assert_allclose(r.interval, [50.20, 69.06], atol=5e-3)
    # The same limits as the roots of Wilson's quadratic.
    assert_allclose(np.array(r.interval) / 100, wilson_by_quadratic(60, 100, 1.959963984540054))


def test_csat_top_box_and_scale():
    # 7-point scale, top 3 boxes = 5, 6, 7 → 3 of 6 answers.
    r = csat([1, 4, 5, 6, 7, 3], scale=7, top_box=3)
    assert (r.score, r.k, r.n) == (50.0, 3, 6)
    # Top box only on 5 points.
    assert csat([5, 4, 4, 5], top_box=1).score == 50.0


def test_csat_extremes_stay_in_bounds():
    # k = 0: Wilson lower limit is exactly 0; upper z²/(n + z²) (hand algebra).
    r = csat_from_counts(0, 10)
    z2 = 1.959963984540054**2
    assert r.interval[0] == 0.0
    assert_allclose(r.interval[1], 100 * z2 / (10 + z2))
    assert csat_from_counts(10, 10).interval[1] == 100.0


@given(csat_answers, st.data())
def test_csat_better_answer_never_lowers_score(answers, data):
    i = data.draw(st.integers(0, len(answers) - 1))
    better = list(answers)
    better[i] = data.draw(st.integers(answers[i], 5))
    assert csat(better).score >= csat(answers).score


@given(st.lists(csat_answers, min_size=1, max_size=5))
def test_csat_pooled_equals_whole(chunks):
    whole = [x for c in chunks for x in c]
    assert ProportionResult.combine([csat(c) for c in chunks]) == csat(whole)


@given(st.integers(0, 500), st.integers(1, 500))
def test_wilson_contains_share_and_matches_quadratic(k, n):
    k = min(k, n)
    r = csat_from_counts(k, n)
    assert 0 <= r.interval[0] <= r.score <= r.interval[1] <= 100
    assert_allclose(
        np.array(r.interval) / 100,
        wilson_by_quadratic(k, n, 1.959963984540054),
        atol=1e-9,
    )


def test_csat_errors():
    with pytest.raises(InputError, match=r"scores must be at least 1.*index 1: scores=0"):
        csat([5, 0])
    with pytest.raises(InputError, match=r"scores must be at most 5.*index 0: scores=6"):
        csat([6])
    with pytest.raises(InputError, match="scores must hold whole numbers"):
        csat([4.5])
    with pytest.raises(InputError, match="scores must not be empty"):
        csat([])
    with pytest.raises(InputError, match="top_box must be <= 4"):
        csat([5], top_box=5)
    with pytest.raises(InputError, match="scale must be >= 2"):
        csat([1], scale=1)
    with pytest.raises(InputError, match="k must not exceed n"):
        csat_from_counts(5, 4)
    with pytest.raises(InputError, match="a share of zero answers is undefined"):
        csat_from_counts(0, 0)


# ---------------------------------------------------------------- CES


def test_ces_matches_scipy_t_interval():
    answers = [7, 6, 6, 5, 3, 2, 7, 5]
    r = ces(answers)
    x = np.array(answers, dtype=float)
    # Independent: scipy.stats.t.interval with the standard error from scipy.stats.sem.
    low, high = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert r.mean == 5.125
    assert_allclose(r.standard_error, stats.sem(x), rtol=1e-13)
    assert_allclose(r.interval, [low, high], rtol=1e-12)
    # Hand: 6 of 8 answers above the midpoint 4.
    assert (r.n_agreeing, r.share_agreeing) == (6, 0.75)


def test_ces_interval_uses_printed_t_quantiles():
    # Answers 1 and 3: mean 2, s = √2, SE = 1, so the 95% half-width is
    # t_{0.975, 1} = 12.706 (printed t table, NIST/SEMATECH 1.3.6.7.2).
    r = ces([1, 3])
    assert_allclose(r.interval, [2 - 12.706, 2 + 12.706], atol=5e-4)
    # Eleven answers 4, 4, ..., 4, 6: df = 10, t_{0.975, 10} = 2.228.
    answers = [4] * 10 + [6]
    r = ces(answers)
    se = np.std(answers, ddof=1) / math.sqrt(11)
    assert_allclose(r.interval[1] - r.mean, 2.228 * se, rtol=2e-4)


def test_ces_effort_direction_counts_low_answers():
    # Original 5-point effort scale: 1-2 are low effort (favourable), 3 is neutral.
    r = ces([1, 2, 3, 4, 5, 1], scale=5, direction="effort")
    assert (r.n_agreeing, r.direction, r.scale) == (3, "effort", 5)
    assert_allclose(r.share_agreeing, 0.5)


def test_ces_constant_answers_have_zero_width_interval():
    r = ces([6, 6, 6])
    assert r.interval == (6.0, 6.0)


@given(st.lists(ces_answers, min_size=1, max_size=4))
def test_ces_pooled_equals_whole(chunks):
    whole = [x for c in chunks for x in c]
    pooled = CesResult.combine([ces(c) for c in chunks])
    direct = ces(whole)
    assert pooled.n == direct.n
    assert pooled.n_agreeing == direct.n_agreeing
    assert_allclose(pooled.mean, direct.mean, rtol=1e-12)
    assert_allclose(pooled.sum_squared_deviations, direct.sum_squared_deviations, atol=1e-9)
    assert_allclose(pooled.interval, direct.interval, rtol=1e-9, atol=1e-9)


@given(ces_answers)
def test_ces_bounds(answers):
    r = ces(answers)
    assert 1 <= r.mean <= 7
    assert r.interval[0] <= r.mean <= r.interval[1]
    assert 0 <= r.share_agreeing <= 1


def test_ces_errors():
    with pytest.raises(InputError, match="at least 2 answers for a Student-t interval, got 1"):
        ces([5])
    with pytest.raises(InputError, match=r"scores must be at most 7.*index 2: scores=8"):
        ces([5, 6, 8])
    with pytest.raises(InputError, match="direction must be one of"):
        ces([5, 6], direction="ease")
    with pytest.raises(InputError, match="parts must share scale and direction"):
        CesResult.combine([ces([5, 6]), ces([1, 2], scale=5, direction="effort")])


# ---------------------------------------------------------------- ACSI


def test_acsi_reference():
    # Hand: (7.2·0.4 + 6.9·0.35 + 6.5·0.25)/9·100 = 6.92/9·100 = 76.888...
    assert_allclose(acsi([8.2, 7.9, 7.5], [0.4, 0.35, 0.25]), 692 / 9, rtol=1e-13)
    # Equal weights: mean (x̄ - 1)/9 → (9 + 0)/2/9·100 = 50.
    assert_allclose(acsi([10, 1]), 50.0)
    # Other scale: 1-5 ratings, 4 → (4 - 1)/4·100 = 75.
    assert_allclose(acsi([4.0], scale=5), 75.0)


@given(
    st.lists(st.floats(1, 10), min_size=1, max_size=8),
    st.data(),
    st.floats(0.01, 100),
)
def test_acsi_bounds_and_weight_scale_invariance(means, data, factor):
    w = data.draw(st.lists(st.floats(0.01, 5), min_size=len(means), max_size=len(means)))
    value = acsi(means, w)
    assert 0 <= value <= 100
    assert_allclose(acsi(means, [x * factor for x in w]), value, rtol=1e-12)


def test_acsi_errors():
    with pytest.raises(InputError, match=r"item_means must be at least 1.0.*index 0"):
        acsi([0.5, 8])
    with pytest.raises(InputError, match="weights must have the same length as item_means"):
        acsi([5, 8], [1.0])
    with pytest.raises(InputError, match="weights must not all be 0"):
        acsi([5, 8], [0, 0])
    with pytest.raises(InputError, match=r"weights must be non-negative.*index 1"):
        acsi([5, 8], [1, -1])
    with pytest.raises(InputError, match="item_means must not be empty"):
        acsi([])


# ---------------------------------------------------------------- first-contact resolution


def test_fcr_reference_and_table():
    r = first_contact_resolution_rate([True, False, True, True])
    assert (r.rate, r.k, r.n) == (0.75, 3, 4)
    assert_allclose(r.interval, wilson_by_quadratic(3, 4, 1.959963984540054))
    table = InteractionTable.from_arrays(
        [1, 1, 2, 3, 3],
        np.array(["2024-01-01"] * 5, dtype="datetime64[D]"),
        kinds=["support", "support", "support", "purchase", "support"],
        resolved_at_first_contact=[1, 0, 1, -1, -1],
    )
    t = first_contact_resolution_rate(table)
    assert (t.k, t.n) == (2, 3)


@given(st.lists(st.lists(st.booleans(), min_size=1, max_size=20), min_size=1, max_size=4))
def test_fcr_pooled_equals_whole(chunks):
    whole = [x for c in chunks for x in c]
    pooled = RateResult.combine([first_contact_resolution_rate(c) for c in chunks])
    assert pooled == first_contact_resolution_rate(whole)
    assert 0 <= pooled.interval[0] <= pooled.rate <= pooled.interval[1] <= 1


def test_fcr_errors():
    with pytest.raises(InputError, match=r"resolved must hold booleans.*index 1"):
        first_contact_resolution_rate([1, 2])
    with pytest.raises(InputError, match="resolved must not be empty"):
        first_contact_resolution_rate([])
    table = InteractionTable.from_arrays([1], np.array(["2024-01-01"], dtype="datetime64[D]"))
    with pytest.raises(InputError, match="no resolved_at_first_contact column"):
        first_contact_resolution_rate(table)
    unknown = InteractionTable.from_arrays(
        [1], np.array(["2024-01-01"], dtype="datetime64[D]"), resolved_at_first_contact=[-1]
    )
    with pytest.raises(InputError, match="no row of the table has a known first-contact"):
        first_contact_resolution_rate(unknown)


# ---------------------------------------------------------------- response times


def test_response_time_reference():
    # Hand: sorted 30, 45, 60, 90, 240 minutes; median 60; p90 at position
    # 0.9·4 = 3.6 → 90 + 0.6·150 = 180; mean 465/5 = 93.
    times = np.array([240, 30, 90, 45, 60], dtype="timedelta64[m]")
    s = response_time_stats(times, time_unit="min")
    assert (s.median, s.p90, s.mean, s.max, s.n, s.time_unit) == (
        60.0,
        180.0,
        93.0,
        240.0,
        5,
        "min",
    )
    h = response_time_stats(times)  # hours by default
    assert_allclose([h.median, h.p90, h.mean], [1.0, 3.0, 1.55])
    objects = response_time_stats([dt.timedelta(minutes=90), dt.timedelta(hours=2)])
    assert_allclose([objects.median, objects.max], [1.75, 2.0])
    floats = response_time_stats([1.0, 3.0, 2.0], time_unit="D")
    assert (floats.median, floats.time_unit) == (2.0, "D")


def test_response_time_from_table_skips_unknown():
    table = InteractionTable.from_arrays(
        [1, 2, 3],
        np.array(["2024-01-01"] * 3, dtype="datetime64[D]"),
        response_times=np.array([3600, "NaT", 7200], dtype="timedelta64[s]"),
    )
    s = response_time_stats(table, time_unit="h")
    assert (s.n, s.median) == (2, 1.5)


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=40))
def test_response_time_order_and_unit_scaling(seconds):
    times = np.array(seconds, dtype="timedelta64[s]")
    s = response_time_stats(times, time_unit="s")
    m = response_time_stats(times, time_unit="min")
    assert s.median <= s.p90 <= s.max
    assert_allclose([m.median, m.p90, m.mean], [s.median / 60, s.p90 / 60, s.mean / 60])


def test_response_time_errors():
    with pytest.raises(InputError, match=r"response_times must be non-negative.*index 1"):
        response_time_stats([1.0, -2.0])
    with pytest.raises(InputError, match=r"must not hold missing durations \(NaT\).*index 1"):
        response_time_stats(np.array([1, "NaT"], dtype="timedelta64[s]"))
    with pytest.raises(InputError, match="response_times must not be empty"):
        response_time_stats(np.array([], dtype="timedelta64[s]"))
    with pytest.raises(InputError, match="unit must be one of"):
        response_time_stats([1.0], time_unit="week")
    with pytest.raises(InputTypeError, match="response_times must hold numbers"):
        response_time_stats(["fast"])
    with pytest.raises(InputTypeError, match="response_times must hold durations only"):
        response_time_stats([dt.timedelta(hours=1), "late"])


# ---------------------------------------------------------------- complaints


def test_complaint_rate_reference_and_table():
    r = complaint_rate(12, n_customers=400, n_transactions=3000)
    assert (r.per_customer, r.per_1000_transactions) == (0.03, 4.0)
    table = InteractionTable.from_arrays(
        [1, 1, 2, 2, 3],
        np.array(["2024-01-01"] * 5, dtype="datetime64[D]"),
        kinds=["purchase", "complaint", "purchase", "purchase", "complaint"],
    )
    t = complaint_rate(table)
    # 2 complaints, 3 customers, 3 purchase rows.
    assert (t.n_complaints, t.n_customers, t.n_transactions) == (2, 3, 3)
    assert_allclose([t.per_customer, t.per_1000_transactions], [2 / 3, 2000 / 3])
    assert complaint_rate(table, n_customers=10).n_customers == 10


@given(
    st.lists(st.tuples(st.integers(0, 50), st.integers(1, 100), st.integers(1, 1000)), min_size=1)
)
def test_complaint_rate_pooled_equals_whole(parts):
    pooled = ComplaintRate.combine(
        [complaint_rate(c, n_customers=n, n_transactions=t) for c, n, t in parts]
    )
    whole = complaint_rate(
        sum(p[0] for p in parts),
        n_customers=sum(p[1] for p in parts),
        n_transactions=sum(p[2] for p in parts),
    )
    assert pooled == whole


def test_complaint_rate_errors():
    with pytest.raises(InputError, match="n_customers must be >= 1"):
        complaint_rate(3, n_customers=0, n_transactions=5)
    with pytest.raises(InputTypeError, match="n_transactions is required"):
        complaint_rate(3, n_customers=4)
    with pytest.raises(InputError, match="complaints must be >= 0"):
        complaint_rate(-1, n_customers=4, n_transactions=5)
    only_complaints = InteractionTable.from_arrays(
        [1], np.array(["2024-01-01"], dtype="datetime64[D]"), kinds=["complaint"]
    )
    with pytest.raises(InputError, match="the table has no purchase rows"):
        complaint_rate(only_complaints)


@pytest.mark.parametrize("scale", [1e308 / 2, 1e-300])
def test_response_time_stats_near_the_float_limits(scale):
    # [2, 2, 1] in any unit: median 2, p90 2 (type 7: h = 1.8 between two 2s), mean 5/3,
    # max 2; the sum of the 1e308 values overflows a float, their mean does not.
    s = response_time_stats(np.array([2.0, 2.0, 1.0]) * scale)
    assert_allclose([s.median, s.p90, s.mean, s.max], np.array([2, 2, 5 / 3, 2]) * scale)


def test_response_time_stats_long_durations_do_not_wrap():
    # 10^6 and 2·10^6 days (~2,700 and ~5,500 years) exceed int64 nanoseconds (~292 years);
    # the statistics are in days: median 1.5e6, p90 1e6 + 0.9·1e6, mean 1.5e6.
    s = response_time_stats(np.array([10**6, 2 * 10**6], dtype="timedelta64[D]"), time_unit="D")
    assert_allclose([s.median, s.p90, s.mean, s.max], [1.5e6, 1.9e6, 1.5e6, 2e6])
    with pytest.raises(InputTypeError, match="response_times must be durations of a fixed length"):
        response_time_stats(np.array([1], dtype="timedelta64[Y]"))


def test_size_arguments_are_bounded():
    with pytest.raises(InputError, match="n_resamples must be <= 1000000"):
        nps([9, 10, 3], interval="bootstrap", rng=1, n_resamples=10**12)
    with pytest.raises(InputError, match="scale must be <= 1000"):
        csat([1, 2], scale=10**6)
    with pytest.raises(InputError, match="scale must fit in a 64-bit integer"):
        csat([1, 2], scale=10**400)
    with pytest.raises(InputError, match="scale must"):
        acsi([8.0], scale=10**400)
    with pytest.raises(InputError, match="scale must be <= 1000"):
        ces([1, 2], scale=10**6)
    with pytest.raises(InputError, match="scale must fit in a 64-bit integer"):
        ces([1, 2], scale=10**30)


def test_ragged_lists_name_the_argument():
    with pytest.raises(InputError, match="response_times must be a rectangular array"):
        response_time_stats([[1.0, 2.0], [3.0]])


@pytest.mark.parametrize(
    ("cls", "part"),
    [
        (NpsResult, nps([10, 3])),
        (ProportionResult, csat([5, 1])),
        (RateResult, first_contact_resolution_rate([True, False])),
        (CesResult, ces([7, 2])),
        (ComplaintRate, complaint_rate(1, n_customers=5, n_transactions=9)),
    ],
)
@pytest.mark.parametrize("parts", [None, math.nan, object(), "abc"])
def test_combine_refuses_a_non_sequence(cls: Any, part: Any, parts: Any) -> None:
    # Found by the fuzz test: combine(None) / combine(nan) leaked "object is not iterable".
    with pytest.raises(InputTypeError, match="parts must be a sequence of"):
        cls.combine(parts)
    with pytest.raises(InputTypeError, match="found NoneType at index 1"):
        cls.combine([part, None])
    with pytest.raises(InputError, match="at least one"):
        cls.combine([])
