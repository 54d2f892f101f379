"""Tests of the private normal and Student-t routines (crmcore._tdist)."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import stats

from crmcore._tdist import normal_cdf, normal_ppf, normal_sf, t_cdf, t_ppf, t_sf
from crmcore.errors import InputError

probabilities = st.floats(min_value=1e-12, max_value=1 - 1e-12).filter(lambda p: p != 0.5)
dfs = st.floats(min_value=0.05, max_value=1e7)


# ---------------------------------------------------------------- reference values


def test_normal_ppf_published_values():
    # Φ^-1(0.975) = 1.959963984540054 and Φ^-1(0.995) = 2.5758293035489004,
    # Φ^-1(0.9) = 1.2815515655446004: the standard values quoted in every table
    # (e.g. Abramowitz & Stegun 26.2), to 16 digits as given by mpmath below.
    assert_allclose(normal_ppf(0.975), 1.959963984540054, rtol=1e-15)
    assert_allclose(normal_ppf(0.995), 2.5758293035489004, rtol=1e-15)
    assert_allclose(normal_ppf(0.9), 1.2815515655446004, rtol=1e-15)
    assert_allclose(normal_ppf(0.025), -1.959963984540054, rtol=1e-15)


@pytest.mark.parametrize("p", [1e-300, 1e-100, 1e-20, 1e-5, 0.02, 0.03, 0.3, 0.5 - 1e-12, 0.8])
def test_normal_ppf_matches_mpmath(p):
    # Independent: √2·erfinv(2p - 1) in 50-digit arithmetic, or for far tails
    # the root of mpmath's ncdf found with findroot.
    mpmath.mp.dps = 50
    x0 = normal_ppf(p)
    exact = mpmath.findroot(lambda x: mpmath.log(mpmath.ncdf(x)) - mpmath.log(p), x0)
    assert_allclose(x0, float(exact), rtol=1e-14)


def test_normal_tails_match_erfc():
    # Φ(-x) = erfc(x/√2)/2: 1 - Φ(1.96) = 0.024997895148220435 (mpmath ncdf).
    assert_allclose(normal_sf(1.96), 0.024997895148220435, rtol=1e-14)
    assert_allclose(normal_cdf(-1.96), 0.024997895148220435, rtol=1e-14)
    assert_allclose(normal_cdf(0.0), 0.5)


@pytest.mark.parametrize(
    ("p", "df", "table"),
    [
        # Two-sided 95% and 90%, 99% critical values from a printed t table
        # (NIST/SEMATECH e-Handbook of Statistical Methods, 1.3.6.7.2), 3 decimals.
        (0.975, 1, 12.706),
        (0.975, 2, 4.303),
        (0.975, 5, 2.571),
        (0.975, 10, 2.228),
        (0.975, 30, 2.042),
        (0.975, 100, 1.984),
        (0.95, 5, 2.015),
        (0.95, 20, 1.725),
        (0.995, 20, 2.845),
        (0.999, 3, 10.215),
    ],
)
def test_t_ppf_matches_printed_table(p, df, table):
    assert_allclose(t_ppf(p, df), table, atol=5e-4)
    assert_allclose(t_ppf(1 - p, df), -table, atol=5e-4)


@pytest.mark.parametrize("df", [1, 2, 2.5, 3, 4, 7.5, 10, 30, 100, 1000, 5e4])
@pytest.mark.parametrize("p", [1e-30, 1e-8, 0.001, 0.025, 0.2, 0.3, 0.49, 0.9, 0.975])
def test_t_ppf_matches_scipy(p, df):
    # Independent implementation: scipy.stats.t (Boost's inverse incomplete beta).
    assert_allclose(t_ppf(p, df), stats.t.ppf(p, df), rtol=1e-11)


@pytest.mark.parametrize(
    ("p", "df"),
    [(0.975, 9e4), (1e-20, 3e4), (0.7, 2e5), (0.975, 1e9), (0.5 + 1e-9, 4), (0.5 - 1e-12, 30)],
)
def test_t_ppf_matches_mpmath(p, df):
    # Independent: root of ½·I_{v/(v+t²)}(v/2, ½) = min(p, 1 - p) with 40-digit
    # mpmath (large df, and next to the centre, where scipy loses digits).
    mpmath.mp.dps = 40
    v = mpmath.mpf(df)
    q = mpmath.mpf(min(p, 1 - p))

    def tail(t):
        x = v / (v + t * t)
        return mpmath.log(mpmath.betainc(v / 2, 0.5, 0, x, regularized=True) / 2) - mpmath.log(q)

    exact = mpmath.findroot(tail, abs(t_ppf(p, df)))
    assert_allclose(abs(t_ppf(p, df)), float(exact), rtol=2e-12)


def test_t_ppf_closed_forms_in_far_tails():
    # df = 1: t = cot(π q) ≈ 1/(π q) for tiny q; df = 2: t ≈ 1/√(2q).
    assert_allclose(t_ppf(1e-300, 1), -1 / (math.pi * 1e-300), rtol=1e-14)
    assert_allclose(t_ppf(1e-200, 2), -1 / math.sqrt(2e-200), rtol=1e-14)
    # df = 3 far tail against scipy's survival-function inverse.
    assert_allclose(t_ppf(1e-100, 3), stats.t.isf(1e-100, 3) * -1, rtol=1e-11)


@pytest.mark.parametrize(
    ("p", "df"),
    [(1e-150, 0.5), (1e-154, 0.5), (1e-92, 0.3), (0.2, 0.05), (0.4, 0.01), (1e-5, 0.1)],
)
def test_t_ppf_below_one_degree_of_freedom_matches_mpmath(p, df):
    # df < 1 and small p: quantiles up to 1e307. Independent: root in log t of
    # log(½·I_{v/(v+t²)}(v/2, ½)) = log p with 40-digit mpmath.
    mpmath.mp.dps = 40
    v = mpmath.mpf(df)

    def tail(log_t):
        t = mpmath.exp(log_t)
        x = v / (v + t * t)
        return mpmath.log(mpmath.betainc(v / 2, 0.5, 0, x, regularized=True) / 2) - mpmath.log(p)

    ours = t_ppf(p, df)
    exact = mpmath.exp(mpmath.findroot(tail, math.log(-ours)))
    assert_allclose(-ours, float(exact), rtol=1e-11)


def test_t_ppf_beyond_the_float_range_raises():
    # With df = 1/2, P(T > 1.797e308) = 2.39e-155 (mpmath, 40 digits: the incomplete
    # beta above), so the quantile for p = 1e-300 is about 1e600: not a float.
    with pytest.raises(InputError, match=r"p=1e-300 with df=0\.5 exceeds the float range"):
        t_ppf(1e-300, 0.5)
    with pytest.raises(InputError, match="exceeds the float range"):
        t_ppf(1 - 1e-16, 0.01)


@pytest.mark.parametrize(("df", "closed"), [(1.0, "cauchy"), (2.0, "two")])
@pytest.mark.parametrize("shift", [-1e-12, 1e-12])
@pytest.mark.parametrize("p", [1e-300, 1e-30, 0.01, 0.3])
def test_t_ppf_general_path_next_to_closed_forms(df, closed, shift, p):
    # df = 1 ± 1e-12 and 2 ± 1e-12 go through the Newton iteration; the quantile moves
    # by at most |d log t / d df| * 1e-12 < 1e-9 relative from the closed forms
    # (Cauchy: t = -cot(π p); df = 2: t = (2p - 1)/√(2 p (1 - p))).
    expected = (
        -1.0 / math.tan(math.pi * p)
        if closed == "cauchy"
        else ((2 * p - 1) / math.sqrt(2 * p * (1 - p)))
    )
    assert_allclose(t_ppf(p, df + shift), expected, rtol=1e-8)


def test_t_cdf_near_centre_matches_cauchy_closed_form():
    # df = 1 is the Cauchy distribution: P(T <= t) = 1/2 + atan(t)/π (mpmath, 40 digits:
    # 0.49999968169011383 at t = -1e-6).
    assert_allclose(t_cdf(-1e-6, 1), 0.49999968169011383, rtol=1e-15)


def test_t_ppf_infinite_df_is_normal():
    assert t_ppf(0.975, math.inf) == normal_ppf(0.975)


@pytest.mark.parametrize("df", [1, 3, 12.5, 200, 5e4, 1e6])
@pytest.mark.parametrize("t", [-40.0, -2.0, -0.01, 0.0, 0.3, 2.5, 9.0])
def test_t_cdf_matches_scipy(t, df):
    assert_allclose(t_cdf(t, df), stats.t.cdf(t, df), rtol=1e-11, atol=1e-300)
    assert_allclose(t_sf(t, df), stats.t.sf(t, df), rtol=1e-11, atol=1e-300)


# ---------------------------------------------------------------- properties


@given(probabilities)
def test_normal_ppf_inverts_cdf_and_is_odd(p):
    x = normal_ppf(p)
    assert_allclose(normal_cdf(x), p, rtol=1e-12)
    q = 1 - p
    assert normal_ppf(q) == -normal_ppf(1 - q)


@given(probabilities, dfs)
def test_t_ppf_inverts_cdf(p, df):
    t = t_ppf(p, df)
    if p < 0.5:
        assert_allclose(t_cdf(t, df), p, rtol=1e-9)
    else:
        assert_allclose(t_sf(t, df), 1 - p, rtol=1e-9)


@given(probabilities, dfs, st.floats(min_value=1.01, max_value=100))
def test_t_quantile_heavier_than_normal_and_shrinks_with_df(p, df, factor):
    t_small, t_large = abs(t_ppf(p, df)), abs(t_ppf(p, df * factor))
    z = abs(normal_ppf(p))
    assert t_small >= t_large * (1 - 1e-11)
    assert t_large >= z * (1 - 1e-11)


@given(st.floats(min_value=1e-9, max_value=0.49), st.floats(min_value=1e-9, max_value=0.49), dfs)
def test_t_ppf_increasing_in_p(p1, p2, df):
    lo, hi = sorted((p1, p2))
    assert t_ppf(lo, df) <= t_ppf(hi, df)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("p", [0.0, 1.0, -0.1, math.nan])
def test_probability_outside_unit_interval_raises(p):
    with pytest.raises(InputError, match="p must lie strictly between 0 and 1"):
        t_ppf(p, 3)
    with pytest.raises(InputError, match="p must lie strictly between 0 and 1"):
        normal_ppf(p)


@pytest.mark.parametrize("df", [0.0, -1.0, math.nan])
def test_nonpositive_df_raises(df):
    with pytest.raises(InputError, match="df must be positive"):
        t_ppf(0.9, df)
    with pytest.raises(InputError, match="df must be positive"):
        t_cdf(1.0, df)


def test_nan_t_raises():
    with pytest.raises(InputError, match="t must not be NaN"):
        t_sf(np.nan, 4)
