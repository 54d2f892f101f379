"""Tests of the MBG/NBD model (crmcore.models.mbgnbd).

Reference values: the closed forms of Batislam, Denizel & Filiztekin (2007)
evaluated with mpmath at 50 digits (the ``_mp_*`` functions of
``test_bgnbd`` with shift s = 1: a possible dropout right after the first
purchase); Monte Carlo draws from the independent numpy simulator of
``test_bgnbd``.
"""

from __future__ import annotations

import warnings

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from crmcore.errors import ConvergenceError, InputError, InputTypeError
from crmcore.models import bgnbd, mbgnbd
from crmcore.models.mbgnbd import MbgNbdFit, MbgNbdParams
from crmcore.simulate import mbgnbd_histories
from crmcore.summary import CustomerSummary
from tests.models.test_bgnbd import (
    _mp_conditional,
    _mp_loglik,
    _mp_palive,
    _mp_unconditional,
    histories,
)
from tests.models.test_bgnbd import simulate as _simulate_bg


def simulate(theta, T, n, *, holdout=0.0, seed=0):
    """Independent numpy draws of the MBG/NBD story (see test_bgnbd.simulate)."""
    return _simulate_bg(theta, T, n, holdout=holdout, seed=seed, shift=1)


# Tables printed by the test_bgnbd._mp_* functions with s = 1 at mp.dps = 50.
# (params (r, alpha, a, b), x, t_x, T, log-likelihood)
LOGLIK_CASES = [
    ((0.25, 4.0, 0.8, 2.5), 0, 0.0, 40.0, -0.41792826204498037),
    ((0.25, 4.0, 0.8, 2.5), 200, 38.0, 40.0, 100.78690976099133),
    ((0.243, 4.414, 0.793, 2.426), 2, 30.43, 38.86, -9.6871826362499614),
    ((0.243, 4.414, 0.793, 2.426), 1, 1.71, 38.86, -4.9386320735746953),
    ((1.0, 1.0, 2.0, 3.0), 10000, 9999.0, 10000.0, -10020.622403834172),
    ((0.0001, 0.0001, 0.0001, 0.0001), 3, 2.0, 5.0, -14.039308726432597),
    ((10000.0, 10000.0, 10000.0, 10000.0), 5, 4.0, 10.0, -8.1563532385988577),
    ((10000.0, 0.0001, 0.0001, 10000.0), 50, 10.0, 10000.0, -114802.27075567115),
    ((0.5, 2.0, 3.0, 0.5), 7, 0.0, 20.0, -4.920446223122861),
    ((0.5, 2.0, 3.0, 0.5), 0, 0.0, 0.0, 0.0),
    ((2.0, 0.5, 1.5, 4.0), 1, 0.001, 0.001, 1.0618466220133368),
    ((0.5, 2.0, 3.0, 0.5), 20, 15.5, 52.0, -28.701181040080917),
]
# (params, x, t_x, T, P(alive))
PALIVE_CASES = [
    ((0.25, 4.0, 0.8, 2.5), 0, 0.0, 40.0, 0.63180322083695404),
    ((0.25, 4.0, 0.8, 2.5), 200, 38.0, 40.0, 0.022275300070991094),
    ((0.243, 4.414, 0.793, 2.426), 2, 30.43, 38.86, 0.77441924262364617),
    ((0.243, 4.414, 0.793, 2.426), 1, 1.71, 38.86, 0.27544736912296504),
    ((1.0, 1.0, 2.0, 3.0), 10000, 9999.0, 10000.0, 0.99945677476191281),
    ((0.0001, 0.0001, 0.0001, 0.0001), 3, 2.0, 5.0, 0.99947945428763622),
    ((10000.0, 10000.0, 10000.0, 10000.0), 5, 4.0, 10.0, 0.0024768169442337075),
    ((10000.0, 0.0001, 0.0001, 10000.0), 50, 10.0, 10000.0, 1.1111400263285286e-30142),
    ((0.5, 2.0, 3.0, 0.5), 7, 0.0, 20.0, 3.8680747055983597e-8),
    ((0.5, 2.0, 3.0, 0.5), 0, 0.0, 0.0, 0.14285714285714286),
    ((2.0, 0.5, 1.5, 4.0), 1, 0.001, 0.001, 0.76923076923076923),
    ((0.5, 2.0, 3.0, 0.5), 20, 15.5, 52.0, 6.3509768217327856e-10),
]
# (params, x, t_x, T, t, E[Y(t) | x, t_x, T])
CONDITIONAL_CASES = [
    ((0.243, 4.414, 0.793, 2.426), 2, 30.43, 38.86, 39.0, 1.3404974284912132),
    ((0.243, 4.414, 0.793, 2.426), 0, 0.0, 38.86, 39.0, 0.1274613825456613),
    ((0.243, 4.414, 0.793, 2.426), 1, 1.71, 38.86, 1000.0, 2.7033057751483779),
    ((0.25, 4.0, 0.8, 2.5), 200, 38.0, 40.0, 52.0, 3.7803432261495102),
    ((0.5, 2.0, 3.0, 0.5), 20, 15.5, 52.0, 10.0, 1.9294170327924117e-9),
    ((2.0, 0.5, 1.5, 4.0), 1, 0.001, 0.001, 5.0, 5.5753344344733964),
    ((0.5, 2.0, 1.00001, 2.0), 3, 10.0, 30.0, 26.0, 0.3190640337290083),
    ((1.0, 1.0, 2.0, 3.0), 10000, 9999.0, 10000.0, 100.0, 98.956605913672228),
    ((0.3, 10.0, 0.2, 5.0), 0, 0.0, 1.0, 10000.0, 122.56909155536363),
    ((0.25, 4.0, 0.8, 2.5), 5, 30.0, 40.0, 1e-06, 8.4446515301188329e-8),
    ((5.0, 0.0001, 2.5, 0.01), 4, 3.0, 8.0, 52.0, 0.00099086141173463002),
    ((0.0001, 1.0, 50.0, 200.0), 0, 0.0, 5.0, 100.0, 0.00059015429094101039),
]
# (params, t, E[X(t)])
UNCONDITIONAL_CASES = [
    ((0.243, 4.414, 0.793, 2.426), 39.0, 0.9911265335840404),
    ((0.243, 4.414, 0.793, 2.426), 78.0, 1.5804734554010733),
    ((0.243, 4.414, 0.793, 2.426), 1e-05, 4.1490020525779704e-7),
    ((0.5, 2.0, 3.0, 0.5), 52.0, 0.18179581715721132),
    ((0.5, 2.0, 1.00001, 2.0), 26.0, 1.799616516208725),
    ((2.0, 0.5, 1.5, 4.0), 1000.0, 7.654898419894408),
    ((0.0001, 0.0001, 0.5, 0.7), 10.0, 0.07762499229202914),
    ((0.3, 10.0, 0.2, 5.0), 10000.0, 132.61272582710031),
]
# (params, n, t, P(X(t) = n))
PMF_CASES = [
    ((0.243, 4.414, 0.793, 2.426), 0, 39.0, 0.67878399819351314),
    ((0.243, 4.414, 0.793, 2.426), 1, 39.0, 0.13703024082634011),
    ((0.243, 4.414, 0.793, 2.426), 7, 39.0, 0.0077039743385495114),
    ((0.243, 4.414, 0.793, 2.426), 30, 78.0, 0.00031221795451274722),
    ((0.5, 2.0, 3.0, 0.5), 3, 52.0, 0.0070991016207296588),
    ((2.0, 0.5, 1.5, 4.0), 100, 100.0, 0.00011823945384706929),
    ((2.0, 0.5, 1.5, 4.0), 0, 0.0, 1.0),
    ((2.0, 0.5, 1.5, 4.0), 2, 0.0, 0.0),
]


def _params(theta):
    r, alpha, a, b = theta
    return MbgNbdParams(r=r, alpha=alpha, a=a, b=b)


# --------------------------------------------------------------------------- reference values


@pytest.mark.parametrize(("theta", "x", "tx", "T", "expected"), LOGLIK_CASES)
def test_log_likelihood_per_customer_mpmath(theta, x, tx, T, expected):
    got = mbgnbd.log_likelihood_per_customer(_params(theta), [x], [tx], [T])
    assert_allclose(got, [expected], rtol=1e-11, atol=1e-11)


def test_no_repeat_purchase_closed_form():
    # x = 0: L = b/(a+b) (α/(α+T))^r + a/(a+b)  (alive with prob. 1-p, or dropped
    # out at time 0 with prob. p), P(alive) = 1 / (1 + a/b ((α+T)/α)^r); by hand.
    r, alpha, a, b, T = 0.25, 4.0, 0.8, 2.5, 40.0
    p = MbgNbdParams(r=r, alpha=alpha, a=a, b=b)
    ll = mbgnbd.log_likelihood_per_customer(p, [0], [0.0], [T])
    assert_allclose(ll, [np.log(b / (a + b) * (alpha / (alpha + T)) ** r + a / (a + b))])
    pa = mbgnbd.probability_alive(p, [0], [0.0], [T])
    assert_allclose(pa, [1 / (1 + a / b * ((alpha + T) / alpha) ** r)])


def test_unconditional_relates_to_bgnbd():
    # E_MBG[X(t)] = E[(1-p) (1 - E e^{-λ p t}) / p] = b/(a+b) E_BG[X(t)] with b -> b+1.
    for t in (1.0, 39.0, 500.0):
        m = mbgnbd.expected_purchases(MbgNbdParams(r=0.4, alpha=3.0, a=1.7, b=2.0), t)
        g = bgnbd.expected_purchases(bgnbd.BgNbdParams(r=0.4, alpha=3.0, a=1.7, b=3.0), t)
        assert_allclose(m, 2.0 / 3.7 * g, rtol=1e-12)


@pytest.mark.parametrize(("theta", "x", "tx", "T", "expected"), PALIVE_CASES)
def test_probability_alive_mpmath(theta, x, tx, T, expected):
    got = mbgnbd.probability_alive(_params(theta), [x], [tx], [T])
    # (r + x) log((α+T)/(α+t_x)) amplifies rounding for r = 1e4: 1e-10
    assert_allclose(got, [expected], rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("case", CONDITIONAL_CASES)
def test_conditional_expected_purchases_mpmath(case):
    theta, x, tx, T, t, expected = case
    got = mbgnbd.conditional_expected_purchases(_params(theta), t, [x], [tx], [T])
    # a = 1.00001 sits at the edge of the interpolation across a = 1: 1e-9
    assert_allclose(got, [expected], rtol=1e-9)


@pytest.mark.parametrize(("theta", "t", "expected"), UNCONDITIONAL_CASES)
def test_expected_purchases_mpmath(theta, t, expected):
    got = mbgnbd.expected_purchases(_params(theta), t)
    assert isinstance(got, float)
    assert_allclose(got, expected, rtol=1e-9)


@pytest.mark.parametrize(("theta", "n", "t", "expected"), PMF_CASES)
def test_purchase_probability_mpmath(theta, n, t, expected):
    got = mbgnbd.purchase_probability(_params(theta), n, t)
    assert isinstance(got, float)
    assert_allclose(got, expected, rtol=1e-10, atol=1e-300)


def test_tables_agree_with_mpmath_functions():
    # The tables above are what the _mp_* functions print (guards against typos).
    with mp.workdps(50):
        theta, x, tx, T, expected = LOGLIK_CASES[2]
        assert_allclose(float(_mp_loglik(theta, x, tx, T, s=1)), expected, rtol=1e-14)
        theta, x, tx, T, expected = PALIVE_CASES[3]
        assert_allclose(float(_mp_palive(theta, x, tx, T, s=1)), expected, rtol=1e-14)
        theta, x, tx, T, t, expected = CONDITIONAL_CASES[0]
        assert_allclose(float(_mp_conditional(theta, (x, tx, T), t, s=1)), expected, rtol=1e-14)
        theta, t, expected = UNCONDITIONAL_CASES[0]
        assert_allclose(float(_mp_unconditional(theta, t, s=1)), expected, rtol=1e-14)


def test_expectations_at_a_equal_one_are_finite_and_continuous():
    # a = 1 makes the closed form 0/0; the value is the limit from both sides.
    p = [MbgNbdParams(r=0.5, alpha=2.0, a=1.0 + d, b=2.0) for d in (-1e-4, 0.0, 1e-4)]
    e = [mbgnbd.expected_purchases(q, 26.0) for q in p]
    assert_allclose(e[1], 0.5 * (e[0] + e[2]), rtol=1e-6)
    c = [mbgnbd.conditional_expected_purchases(q, 26.0, [3], [10.0], [30.0])[0] for q in p]
    assert_allclose(c[1], 0.5 * (c[0] + c[2]), rtol=1e-6)


# --------------------------------------------------------------------------- Monte Carlo

THETA_MC = (0.5, 6.0, 0.9, 2.5)


def test_expected_purchases_and_pmf_match_monte_carlo():
    n = 200_000
    t = 30.0
    x, *_ = simulate(THETA_MC, t, n, seed=1)
    p = _params(THETA_MC)
    mean = mbgnbd.expected_purchases(p, t)
    assert abs(x.mean() - mean) < 4 * x.std() / np.sqrt(n)
    ks = np.arange(6)
    pmf = mbgnbd.purchase_probability(p, ks, t)
    freq = np.array([(x == k).mean() for k in ks])
    assert np.all(np.abs(freq - pmf) < 4 * np.sqrt(pmf * (1 - pmf) / n))


def test_conditional_expectation_and_p_alive_match_monte_carlo():
    # E[Y | x] = E[E[Y | x, t_x, T] | x]: compare group means of the
    # prediction with the simulated holdout purchases, and P(alive) with the
    # share of customers still active.
    n = 200_000
    x, tx, T, alive, y = simulate(THETA_MC, 20.0, n, holdout=15.0, seed=2)
    p = _params(THETA_MC)
    pred = mbgnbd.conditional_expected_purchases(p, 15.0, x, tx, T)
    pa = mbgnbd.probability_alive(p, x, tx, T)
    for group in (x == 0, x == 1, x == 2, (x >= 3) & (x < 6), x >= 6):
        k = group.sum()
        assert abs(pred[group].mean() - y[group].mean()) < 4 * y[group].std() / np.sqrt(k) + 1e-3
        assert abs(pa[group].mean() - alive[group].mean()) < 4 * np.sqrt(0.25 / k)


def test_crmcore_simulate_holdout_matches_conditional_expectation():
    # The same identity with the package's own simulator (crmcore.simulate).
    sim = mbgnbd_histories(*THETA_MC, T=25.0, n_customers=100_000, duration_holdout=10.0, rng=3)
    p = _params(THETA_MC)
    pred = mbgnbd.conditional_expected_purchases(p, 10.0, sim.frequency, sim.recency, sim.T)
    y = sim.frequency_holdout
    assert abs(pred.mean() - y.mean()) < 4 * y.std() / np.sqrt(y.size)
    pa = mbgnbd.probability_alive(p, sim.frequency, sim.recency, sim.T)
    assert abs(pa.mean() - sim.alive.mean()) < 4 * np.sqrt(0.25 / y.size)


@pytest.mark.parametrize("theta", [THETA_MC, (0.243, 4.414, 0.793, 2.426), (2.0, 0.5, 1.5, 4.0)])
def test_pmf_sums_to_one_and_mean_matches(theta):
    p = _params(theta)
    t = 39.0
    n = np.arange(0, 4000)
    pmf = mbgnbd.purchase_probability(p, n, t)
    assert_allclose(pmf.sum(), 1.0, rtol=1e-9)
    assert_allclose((n * pmf).sum(), mbgnbd.expected_purchases(p, t), rtol=1e-8)


# --------------------------------------------------------------------------- fitting


def test_fit_weights_equal_exploded_rows():
    x, tx, T, *_ = simulate(THETA_MC, 30.0, 400, seed=4)
    w = np.random.default_rng(5).integers(1, 4, x.size)
    weighted = mbgnbd.fit(x, tx, T, weights=w)
    exploded = mbgnbd.fit(np.repeat(x, w), np.repeat(tx, w), np.repeat(T, w))
    assert_allclose(weighted.params.as_array(), exploded.params.as_array(), rtol=1e-6)
    assert_allclose(weighted.log_likelihood, exploded.log_likelihood, rtol=1e-10)
    assert_allclose(
        weighted.standard_errors.as_array(), exploded.standard_errors.as_array(), rtol=1e-4
    )
    assert weighted.n_customers == exploded.n_customers == w.sum()


def test_fit_summary_equals_arrays_and_result_methods_delegate():
    x, tx, T, *_ = simulate(THETA_MC, 30.0, 2000, seed=6)
    s = CustomerSummary.from_arrays(x, tx, T, time_unit="W")
    a = mbgnbd.fit(s)
    b = mbgnbd.fit(x, tx, T)
    assert isinstance(a, MbgNbdFit)
    assert_allclose(a.params.as_array(), b.params.as_array(), rtol=1e-9)
    assert a.converged
    assert a.n_iterations > 0
    assert a.covariance.shape == (4, 4)
    assert_allclose(np.sqrt(np.diag(a.covariance)), a.standard_errors.as_array())
    p = a.params
    assert_allclose(a.expected_purchases(10.0), mbgnbd.expected_purchases(p, 10.0))
    assert_allclose(a.purchase_probability(2, 10.0), mbgnbd.purchase_probability(p, 2, 10.0))
    assert_allclose(a.probability_alive(s), mbgnbd.probability_alive(p, x, tx, T))
    assert_allclose(
        a.conditional_expected_purchases(5.0, x, tx, T),
        mbgnbd.conditional_expected_purchases(p, 5.0, x, tx, T),
    )
    assert_allclose(
        a.log_likelihood_per_customer(x, tx, T).sum(), mbgnbd.log_likelihood(p, x, tx, T)
    )
    assert_allclose(a.log_likelihood, mbgnbd.log_likelihood(p, s), rtol=1e-12)


def test_fit_time_unit_rescales_alpha_only():
    # Weeks to days: alpha is multiplied by 7, r, a, b unchanged; P(alive) and
    # expectations over the same calendar span unchanged.
    x, tx, T, *_ = simulate(THETA_MC, 30.0, 3000, seed=7)
    weeks = mbgnbd.fit(x, tx, T)
    days = mbgnbd.fit(x, tx * 7, T * 7)
    pw, pd = weeks.params, days.params
    assert_allclose([pd.r, pd.a, pd.b], [pw.r, pw.a, pw.b], rtol=1e-5)
    assert_allclose(pd.alpha, 7 * pw.alpha, rtol=1e-5)
    assert_allclose(
        mbgnbd.probability_alive(pd, x, tx * 7, T * 7),
        mbgnbd.probability_alive(pw, x, tx, T),
        rtol=1e-5,
    )
    assert_allclose(
        mbgnbd.conditional_expected_purchases(pd, 70.0, x, tx * 7, T * 7),
        mbgnbd.conditional_expected_purchases(pw, 10.0, x, tx, T),
        rtol=1e-5,
    )
    assert_allclose(days.log_likelihood, weeks.log_likelihood - np.log(7) * x.sum(), rtol=1e-9)


def test_fit_initial_and_convergence_error():
    x, tx, T, *_ = simulate(THETA_MC, 30.0, 2000, seed=8)
    start = MbgNbdParams(r=2.0, alpha=1.0, a=3.0, b=1.0)
    assert_allclose(
        mbgnbd.fit(x, tx, T, initial=start).params.as_array(),
        mbgnbd.fit(x, tx, T).params.as_array(),
        rtol=1e-5,
    )
    # Nobody ever buys again: the purchase process is not identified.
    with pytest.raises(ConvergenceError, match="MBG/NBD"):
        mbgnbd.fit([0, 0, 0], [0.0, 0.0, 0.0], [10.0, 20.0, 30.0])


@pytest.mark.slow
def test_parameter_recovery_within_three_standard_errors():
    # 50,000 customers drawn by crmcore.simulate with known parameters.
    theta = (0.3, 5.0, 0.8, 2.5)
    rng = np.random.default_rng(11)
    T = rng.uniform(20.0, 52.0, 50_000)
    sim = mbgnbd_histories(*theta, T=T, rng=12)
    f = mbgnbd.fit(sim.frequency, sim.recency, sim.T)
    z = (f.params.as_array() - np.array(theta)) / f.standard_errors.as_array()
    assert np.all(np.abs(z) < 3), z


@pytest.mark.slow
def test_standard_errors_match_spread_over_repetitions():
    theta = (0.3, 5.0, 0.8, 2.5)
    estimates, ses = [], []
    for seed in range(8):
        sim = mbgnbd_histories(*theta, T=40.0, n_customers=8000, rng=100 + seed)
        f = mbgnbd.fit(sim.frequency, sim.recency, sim.T)
        estimates.append(f.params.as_array())
        ses.append(f.standard_errors.as_array())
    ratio = np.std(estimates, axis=0, ddof=1) / np.mean(ses, axis=0)
    assert np.all((ratio > 0.45) & (ratio < 1.8)), ratio


# --------------------------------------------------------------------------- stability


def test_extreme_inputs_are_finite_without_warnings():
    grid = [1e-4, 1e-2, 1.0, 1e2, 1e4]
    x = np.array([0, 1, 10_000, 10_000, 3, 50])
    tx = np.array([0.0, 0.0, 0.0, 9_999.0, 1e-4, 10_000.0])
    T = np.array([0.0, 1e-4, 10_000.0, 10_000.0, 10_000.0, 10_000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for r in grid:
            for alpha in grid:
                for a in grid[::2]:
                    for b in grid[::2]:
                        p = MbgNbdParams(r=r, alpha=alpha, a=a, b=b)
                        ll = mbgnbd.log_likelihood_per_customer(p, x, tx, T)
                        pa = mbgnbd.probability_alive(p, x, tx, T)
                        ce = mbgnbd.conditional_expected_purchases(p, 52.0, x, tx, T)
                        assert np.all(np.isfinite(ll))
                        assert np.all((pa >= 0) & (pa <= 1))
                        assert np.all(np.isfinite(ce) & (ce >= 0))
                        e = mbgnbd.expected_purchases(p, [0.0, 1e-3, 52.0, 1e4])
                        assert np.all(np.isfinite(e) & (e >= 0))
                        pmf = mbgnbd.purchase_probability(p, [0, 1, 100, 10_000], 52.0)
                        assert np.all((pmf >= 0) & (pmf <= 1))


# --------------------------------------------------------------------------- properties

positive = st.floats(-2.0, 2.0).map(lambda e: float(10.0**e))
params_st = st.builds(MbgNbdParams, r=positive, alpha=positive, a=positive, b=positive)


@given(params_st, histories(), st.floats(0.0, 100.0), st.floats(0, 100))
@settings(max_examples=60)
def test_conditional_expectation_nonnegative_and_monotone_in_t(p, h, t1, dt):
    x, tx, T = h
    e1 = mbgnbd.conditional_expected_purchases(p, t1, x, tx, T)
    e2 = mbgnbd.conditional_expected_purchases(p, t1 + dt, x, tx, T)
    assert np.all(e1 >= 0)
    assert np.all(e2 >= e1 * (1 - 1e-9))
    pa = mbgnbd.probability_alive(p, x, tx, T)
    assert np.all((pa >= 0) & (pa <= 1))


@given(params_st, histories(), st.randoms(use_true_random=False))
@settings(max_examples=40)
def test_log_likelihood_order_invariant_and_additive(p, h, rnd):
    x, tx, T = h
    order = list(range(x.size))
    rnd.shuffle(order)
    total = mbgnbd.log_likelihood(p, x, tx, T)
    assert_allclose(mbgnbd.log_likelihood(p, x[order], tx[order], T[order]), total, rtol=1e-10)
    per = mbgnbd.log_likelihood_per_customer(p, x, tx, T)
    assert_allclose(per.sum(), total, rtol=1e-10, atol=1e-9)


@given(params_st, st.floats(0.0, 500.0))
@settings(max_examples=40)
def test_expected_purchases_monotone_and_bounded_by_pure_nbd(p, t):
    # Dropout can only remove purchases: E[X(t)] <= r t / alpha (no dropout).
    r, alpha = p.r, p.alpha
    e = mbgnbd.expected_purchases(p, [t, t + 1.0])
    assert 0 <= e[0] <= e[1] * (1 + 1e-12)
    assert e[0] <= r * t / alpha * (1 + 1e-9) + 1e-300


# --------------------------------------------------------------------------- errors


def test_params_validation():
    with pytest.raises(InputError, match=r"alpha must be > 0\.0"):
        MbgNbdParams(r=1.0, alpha=0.0, a=1.0, b=1.0)
    with pytest.raises(InputError, match="b must be finite"):
        MbgNbdParams(r=1.0, alpha=1.0, a=1.0, b=float("nan"))
    with pytest.raises(InputTypeError, match="r must be a real number"):
        MbgNbdParams(r="1", alpha=1.0, a=1.0, b=1.0)


def test_input_errors():
    p = MbgNbdParams(r=1.0, alpha=1.0, a=1.0, b=1.0)
    with pytest.raises(InputError, match="recency must not exceed T"):
        mbgnbd.probability_alive(p, [1], [3.0], [2.0])
    with pytest.raises(InputError, match="frequency must hold whole numbers"):
        mbgnbd.log_likelihood_per_customer(p, [1.5], [1.0], [2.0])
    with pytest.raises(InputError, match=r"t must be >= 0\.0"):
        mbgnbd.conditional_expected_purchases(p, -1.0, [1], [1.0], [2.0])
    with pytest.raises(InputError, match="n must be non-negative"):
        mbgnbd.purchase_probability(p, [-1], 1.0)
    with pytest.raises(InputError, match="t must be non-negative"):
        mbgnbd.expected_purchases(p, [1.0, -2.0])
    with pytest.raises(InputError, match="n and t must broadcast"):
        mbgnbd.purchase_probability(p, [1, 2], [1.0, 2.0, 3.0])
    with pytest.raises(InputError, match="params must be MbgNbdParams"):
        mbgnbd.probability_alive((1, 1, 1, 1), [1], [1.0], [2.0])
    with pytest.raises(InputTypeError, match="recency and T are required"):
        mbgnbd.probability_alive(p, [1])
    with pytest.raises(InputError, match="weights must be non-negative"):
        mbgnbd.fit([1, 2], [1.0, 2.0], [3.0, 3.0], weights=[1.0, -1.0])
    with pytest.raises(InputError, match="at least one customer"):
        mbgnbd.fit([1, 2], [1.0, 2.0], [3.0, 3.0], weights=[0.0, 0.0])
    with pytest.raises(InputError, match="initial must be MbgNbdParams"):
        mbgnbd.fit([1, 2], [1.0, 2.0], [3.0, 3.0], initial=(1, 1, 1, 1))


# ------------------------------------------------------------------------ P(purchase in (T, T+t])
# Reference: P(alive) * (1 - ((α+T)/(α+T+t))^(r+x)) with the MBG/NBD P(alive) (dropout only right
# after a purchase, so the first purchase after T comes first), at mp.dps = 30:
#   _mp_palive(theta, x, tx, T, s=1) * (1 - ((al + T) / (al + T + mp.mpf(t))) ** (r + x))
PURCHASE_CASES = [
    ((0.243, 4.414, 0.793, 2.426), 2, 30.43, 38.86, 39.0, 0.59114587984134691),
    ((0.243, 4.414, 0.793, 2.426), 0, 0.0, 38.86, 39.0, 0.09211531461880041),
    ((0.5, 6.0, 0.9, 2.5), 7, 20.0, 25.0, 1e-6, 1.786359416398586e-7),
    ((2.0, 0.5, 1.5, 4.0), 40, 30.0, 31.0, 5.0, 0.88145526662557603),
]


@pytest.mark.parametrize("case", PURCHASE_CASES)
def test_conditional_purchase_probability_mpmath(case):
    theta, x, tx, T, t, expected = case
    got = mbgnbd.conditional_purchase_probability(_params(theta), t, [x], [tx], [T])
    assert_allclose(got, [expected], rtol=1e-12)
    mp.mp.dps = 30
    r, al = map(mp.mpf, theta[:2])
    ref = _mp_palive(theta, x, tx, T, s=1) * (1 - ((al + T) / (al + T + mp.mpf(t))) ** (r + x))
    assert_allclose(float(ref), expected, rtol=1e-14)


def test_conditional_purchase_probability_matches_crmcore_simulate():
    # Share of simulated customers (true parameters, continued past T) with a purchase in
    # (T, T+t], per frequency group. Measured: |z| <= 1.4 in every group (200k customers).
    p = _params(THETA_MC)
    for t, seed in ((1.0, 7), (15.0, 8)):
        sim = mbgnbd_histories(*THETA_MC, T=25.0, n_customers=100_000, duration_holdout=t, rng=seed)
        pred = mbgnbd.conditional_purchase_probability(p, t, sim.frequency, sim.recency, sim.T)
        hit = sim.frequency_holdout > 0
        x = sim.frequency
        for group in (x >= 0, x == 0, x == 1, (x >= 2) & (x < 6), x >= 6):
            k = group.sum()
            share = hit[group].mean()
            assert abs(pred[group].mean() - share) < 4 * np.sqrt(share * (1 - share) / k) + 1e-4


_positive = st.floats(-2.0, 2.0).map(lambda e: float(10.0**e))


@given(
    st.builds(MbgNbdParams, r=_positive, alpha=_positive, a=_positive, b=_positive),
    histories(),
    st.floats(0.0, 100.0),
    st.floats(0.0, 100.0),
)
@settings(max_examples=60)
def test_conditional_purchase_probability_bounds_monotone_and_limit(p, h, t1, dt):
    x, tx, T = h
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        q1 = mbgnbd.conditional_purchase_probability(p, t1, x, tx, T)
        q2 = mbgnbd.conditional_purchase_probability(p, t1 + dt, x, tx, T)
        q0 = mbgnbd.conditional_purchase_probability(p, 0.0, x, tx, T)
    pa = mbgnbd.probability_alive(p, x, tx, T)
    assert np.all((q1 >= 0) & (q1 <= pa * (1 + 1e-12)))
    assert np.all(q2 >= q1 * (1 - 1e-12))
    assert np.all(q0 == 0.0)


def test_conditional_purchase_probability_summary_fit_and_errors():
    p = _params(THETA_MC)
    s = CustomerSummary.from_arrays([2, 0], [10.0, 0.0], [20.0, 20.0])
    direct = mbgnbd.conditional_purchase_probability(p, 5.0, [2, 0], [10.0, 0.0], [20.0, 20.0])
    assert_allclose(mbgnbd.conditional_purchase_probability(p, 5.0, s), direct)
    f = mbgnbd.fit(*simulate(THETA_MC, 30.0, 2000, seed=6)[:3])
    assert_allclose(
        f.conditional_purchase_probability(5.0, s),
        mbgnbd.conditional_purchase_probability(f.params, 5.0, s),
    )
    with pytest.raises(InputError, match=r"t must be >= 0\.0"):
        mbgnbd.conditional_purchase_probability(p, -1.0, s)
    with pytest.raises(InputError, match="params must be MbgNbdParams"):
        mbgnbd.conditional_purchase_probability(bgnbd.BgNbdParams(r=1, alpha=1, a=1, b=1), 1.0, s)
    with pytest.raises(InputTypeError, match="must be left out"):
        mbgnbd.conditional_purchase_probability(p, 1.0, s, [1.0], [2.0])
