"""Tests of the shifted-beta-geometric model (crmcore.models.sbg).

Reference values: the survivor table of Fader & Hardie (2007) (shipped as
:func:`crmcore.datasets.retention_survivors`; the published estimates are
checked in tests/models/test_published.py); the model's beta-function
formulas and Fader & Hardie (2010)'s hypergeometric DERL evaluated with mpmath
at 40 digits (``_mp_*`` below); Monte Carlo draws from an independent numpy
simulator written here; parameter recovery on cohorts drawn with
:func:`crmcore.simulate.sbg_cohort`.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from crmcore.datasets import retention_survivors
from crmcore.errors import ConvergenceError, ConvergenceWarning, InputError, InputTypeError
from crmcore.models import sbg
from crmcore.models.sbg import SbgParams
from crmcore.simulate import sbg_cohort

# Fader & Hardie (2007): customers of the "high end" and "regular" segments still
# active at the start of years 0-7, the years the model is fitted on (published
# estimates: high end alpha = 0.668, beta = 3.806; regular alpha = 0.704, beta = 1.182).
HIGH_END = retention_survivors("high_end")[:8].tolist()
REGULAR = retention_survivors("regular")[:8].tolist()

# --------------------------------------------------------------------------- independent references
#   S(t) = B(α, β+t)/B(α, β),  P(T=t) = B(α+1, β+t-1)/B(α, β)          (FH 2007, eqs. 2-3)
#   LL = Σ_t (alive[t-1] - alive[t]) ln P(T=t) + alive[n] ln S(n)
#   DERL = B(α, β+n)/B(α, β+n-1) 2F1(1, β+n; α+β+n; 1/(1+d)),  n - 1 renewals (FH 2010)
B = mp.beta


def _mp_loglik(alpha, beta, alive):
    with mp.workdps(40):
        a, b = mp.mpf(alpha), mp.mpf(beta)
        n = len(alive) - 1
        total = alive[n] * mp.log(B(a, b + n) / B(a, b))
        for t in range(1, n + 1):
            total += (alive[t - 1] - alive[t]) * mp.log(B(a + 1, b + t - 1) / B(a, b))
        return total


def _mp_derl(alpha, beta, n_renewals, d):
    with mp.workdps(40):
        a, b, n = mp.mpf(alpha), mp.mpf(beta), n_renewals + 1
        z = 1 / (1 + mp.mpf(d))
        return B(a, b + n) / B(a, b + n - 1) * mp.hyp2f1(1, b + n, a + b + n, z)


# (alpha, beta, alive, log-likelihood), printed by _mp_loglik
LOGLIK_CASES = [
    (0.668, 3.806, HIGH_END, -1611.1581503549219),
    (0.704, 1.182, REGULAR, -1680.2651905533525),
    (1e-4, 1e4, [1e4, 9999, 9999, 9990], -184.20890720955415),
    (1e4, 1e-4, [100, 1, 0], -18.420781748951694),
]

# (alpha, beta, n_renewals, d, DERL), printed by _mp_derl (and checked there against
# mpmath's nsum of Σ_t S(n+t)/S(n-1) (1+d)^-t where that converges)
DERL_CASES = [
    (0.668, 3.806, 0, 0.1, 5.4148560483740402),
    (0.668, 3.806, 7, 0.1, 7.5299495309109691),
    (0.704, 1.182, 4, 0.1, 5.89442285984416),
    (3.8, 15.2, 0, 0.05, 4.0010593598854117),
    (2.5, 1.0, 10, 0.01, 6.353424804120447),
    (0.5, 1.0, 100, 0.01, 76.458102170611316),
    (1e-4, 1e4, 0, 0.1, 10.999998791207599),
    (1e4, 1e-4, 0, 0.1, 1.0000909156200451e-8),
    (0.3, 2.0, 5, 1e-4, 1437.4280849583972),
    (5.0, 2.0, 3, 1e-6, 1.2499975000112499),
    (0.668, 3.806, 1000, 0.1, 10.920832758373332),
]

# (alpha, beta, t, S(t)) = B(α, β+t)/B(α, β) with mpmath
SURVIVAL_CASES = [
    (0.704, 1.182, 7, 0.23905064169324442),
    (0.704, 1.182, 1000, 0.0080047040193076474),
    (1e-4, 1e4, 10**6, 0.99953858948082223),
    (1e4, 1e-4, 3, 1.999700000003e-16),
    (2.0, 3.0, 10**7, 1.199999160000444e-13),
]


# --------------------------------------------------------------------------- reference values


@pytest.mark.parametrize(("alpha", "beta", "alive", "expected"), LOGLIK_CASES)
def test_log_likelihood_matches_mpmath(alpha, beta, alive, expected):
    got = sbg.log_likelihood(SbgParams(alpha=alpha, beta=beta), alive)
    assert_allclose(got, expected, rtol=1e-12)


def test_reference_function_reproduces_a_pinned_value():
    alpha, beta, alive, expected = LOGLIK_CASES[0]
    assert_allclose(float(_mp_loglik(alpha, beta, alive)), expected, rtol=1e-15)
    alpha, beta, nr, d, expected = DERL_CASES[1]
    assert_allclose(float(_mp_derl(alpha, beta, nr, d)), expected, rtol=1e-15)


def test_log_likelihood_per_customer_by_outcome():
    # ln P(T=1..3) and ln S(3) for α = 1.5, β = 2.5 with mpmath:
    expected = [-0.98082925301172624, -1.6739764335716715, -2.2129729343043586]
    expected.append(-1.1143606456362489)
    alive = [10, 6, 3, 2]
    p = SbgParams(alpha=1.5, beta=2.5)
    got = sbg.log_likelihood_per_customer(p, alive)
    assert_allclose(got, expected, rtol=1e-13)
    weights = np.array([4, 3, 1, 2])  # churned in periods 1, 2, 3; still active
    assert_allclose(weights @ got, sbg.log_likelihood(p, alive), rtol=1e-13)


@pytest.mark.parametrize(("alpha", "beta", "n_renewals", "d", "expected"), DERL_CASES)
def test_derl_matches_mpmath(alpha, beta, n_renewals, d, expected):
    got = sbg.discounted_expected_residual_lifetime(
        SbgParams(alpha=alpha, beta=beta), n_renewals, discount_rate=d
    )
    assert isinstance(got, float)
    assert_allclose(got, expected, rtol=1e-10)


@pytest.mark.parametrize(("alpha", "beta", "t", "expected"), SURVIVAL_CASES)
def test_survival_matches_mpmath(alpha, beta, t, expected):
    got = sbg.survival(SbgParams(alpha=alpha, beta=beta), t)
    assert_allclose(got, expected, rtol=1e-10)


def test_implied_retention_rate_closed_form_and_ratio_of_survivals():
    p = SbgParams(alpha=0.704, beta=1.182)
    t = np.arange(1, 30)
    s = sbg.survival(p, np.arange(0, 30))
    assert_allclose(sbg.implied_retention_rate(p, t), s[1:] / s[:-1], rtol=1e-13)
    # r(1) = 1 - α/(α+β): one minus the mean churn probability
    assert_allclose(sbg.implied_retention_rate(p, 1), 1.182 / (0.704 + 1.182), rtol=1e-15)


def test_expected_lifetime_closed_form_and_infinite_case():
    # E[T] = (α+β-1)/(α-1) = 18/2.8 for α = 3.8, β = 15.2; also 1 + DERL(d = 0, 0 renewals).
    p = SbgParams(alpha=3.8, beta=15.2)
    assert_allclose(sbg.expected_lifetime(p), 18.0 / 2.8, rtol=1e-15)
    undiscounted = sbg.discounted_expected_residual_lifetime(p, 0, discount_rate=0.0)
    assert_allclose(1 + undiscounted, 18.0 / 2.8, rtol=1e-15)
    # a tiny discount rate gives nearly the undiscounted value (continuity at d = 0)
    tiny = sbg.discounted_expected_residual_lifetime(p, 0, discount_rate=1e-9)
    assert_allclose(tiny, undiscounted, rtol=1e-7)
    assert sbg.expected_lifetime(SbgParams(alpha=1.0, beta=2.0)) == math.inf
    assert sbg.expected_lifetime(SbgParams(alpha=0.704, beta=1.182)) == math.inf
    assert sbg.discounted_expected_residual_lifetime(
        SbgParams(alpha=0.7, beta=1.0), [0, 3], discount_rate=0.0
    ).tolist() == [math.inf, math.inf]


# --------------------------------------------------------------------------- gradient, Monte Carlo


def test_analytic_gradient_matches_central_differences():
    alive = np.array(REGULAR, dtype=float)
    for theta in ([0.704, 1.182], [3.0, 0.2], [0.05, 40.0]):
        th = np.array(theta)
        _, grad = sbg._log_likelihood_and_gradient(th, alive)
        num = np.empty(2)
        for j in range(2):
            up, down = th.copy(), th.copy()
            up[j] *= np.exp(1e-5)
            down[j] *= np.exp(-1e-5)
            num[j] = (
                sbg._log_likelihood_and_gradient(up, alive)[0]
                - sbg._log_likelihood_and_gradient(down, alive)[0]
            ) / (up[j] - down[j])
        assert_allclose(grad, num, rtol=1e-7, atol=1e-6)


def _lifetimes(alpha, beta, size, seed):
    """Independent draw: θ ~ Beta(α, β), period of churn T ~ Geometric(θ) on 1, 2, ..."""
    rng = np.random.default_rng(seed)
    theta = rng.beta(alpha, beta, size)
    return rng.geometric(theta)


def test_survival_and_derl_match_monte_carlo():
    alpha, beta = 1.5, 2.5
    p = SbgParams(alpha=alpha, beta=beta)
    size = 400_000
    life = _lifetimes(alpha, beta, size, seed=1)
    t = np.arange(0, 8)
    share = (life[None, :] > t[:, None]).mean(axis=1)  # active at the start of period t
    s = sbg.survival(p, t)
    assert np.all(np.abs(share - s) < 4 * np.sqrt(s * (1 - s) / size) + 1e-12)
    # DERL after 2 renewals: among customers who renewed twice (T > 3 ... renewal k
    # made means T > k), discounted count of the renewals 3, 4, ...
    d, n_r = 0.1, 2
    alive = life > n_r
    future = life[alive] - 1 - n_r  # further renewals made
    k = np.arange(1, 200)
    discounted = ((k[None, :] <= future[:, None]) * (1 + d) ** -(k - 1.0)).sum(axis=1)
    derl = sbg.discounted_expected_residual_lifetime(p, n_r, discount_rate=d)
    se = discounted.std() / np.sqrt(discounted.size)
    assert abs(discounted.mean() - derl) < 4 * se


def test_parameter_recovery_within_three_standard_errors():
    # Cohorts of 50,000 drawn by crmcore.simulate; the likelihood of a cohort is
    # a function of its 9 survivor counts, so the fits are instantaneous.
    truth = np.array([0.704, 1.182])
    rng = np.random.default_rng(3)
    est, ses = [], []
    for _ in range(5):
        cohort = sbg_cohort(*truth, n_customers=50_000, n_periods=8, rng=rng)
        f = sbg.fit(cohort.alive)
        e, se = f.params.as_array(), f.standard_errors.as_array()
        assert np.all(np.abs(e - truth) < 3 * se), (e, se)
        est.append(e)
        ses.append(se)
    spread = np.std(est, axis=0, ddof=1)
    assert np.all(spread < 3 * np.mean(ses, axis=0))
    assert np.all(spread > np.mean(ses, axis=0) / 10)


def test_pure_geometric_churn_warns_that_alpha_and_beta_are_not_identified():
    # Every customer churns with probability 0.1 each period (900 = 0.9 * 1000, ...):
    # the retention rate does not rise, which the sBG model reaches only in the limit
    # alpha, beta -> infinity with alpha / (alpha + beta) = 0.1 (Fader & Hardie 2007,
    # eq. 4: r(t) = (beta + t - 1) / (alpha + beta + t - 1) constant only in that limit).
    # The pooled churn probability (1000 - 729) / (1000 + 900 + 810) = 0.1 is exact.
    with pytest.warns(ConvergenceWarning, match=r"alpha and beta.*geometric churn.*0\.1 per"):
        f = sbg.fit([1000, 900, 810, 729])
    assert not f.converged
    assert_allclose(f.params.alpha / (f.params.alpha + f.params.beta), 0.1, rtol=1e-3)


def test_well_identified_simulated_cohort_fits_without_warning():
    # A cohort of 20,000 drawn by crmcore.simulate from alpha = 0.704, beta = 1.182
    # (Fader & Hardie 2007, regular segment); pytest turns any warning into an error.
    cohort = sbg_cohort(0.704, 1.182, n_customers=20_000, n_periods=8, rng=11)
    f = sbg.fit(cohort.alive)
    assert f.converged
    assert np.all(f.standard_errors.as_array() < f.params.as_array())


# --------------------------------------------------------------------------- properties

_ab = st.tuples(st.floats(1e-3, 1e3), st.floats(1e-3, 1e3))


@given(ab=_ab, t=st.lists(st.integers(0, 10_000), min_size=1, max_size=8))
def test_survival_is_a_decreasing_probability(ab, t):
    p = SbgParams(alpha=ab[0], beta=ab[1])
    tt = np.sort(np.array(t))
    s = sbg.survival(p, tt)
    assert np.all((s >= 0) & (s <= 1))
    assert np.all(np.diff(s) <= 1e-15)


@given(ab=_ab, t=st.integers(1, 10_000))
def test_implied_retention_rate_rises_over_time(ab, t):
    p = SbgParams(alpha=ab[0], beta=ab[1])
    r = sbg.implied_retention_rate(p, [t, t + 1])
    assert 0 < r[0] <= r[1] < 1


@given(
    ab=_ab,
    n=st.integers(0, 1000),
    d=st.floats(1e-4, 10.0),
    k=st.floats(1.01, 10.0),
)
def test_derl_falls_with_the_discount_rate_and_rises_with_tenure(ab, n, d, k):
    p = SbgParams(alpha=ab[0], beta=ab[1])
    low, high = (
        sbg.discounted_expected_residual_lifetime(p, n, discount_rate=d),
        (sbg.discounted_expected_residual_lifetime(p, n, discount_rate=d * k)),
    )
    assert np.isfinite(low)
    assert high <= low * (1 + 1e-10)
    later = sbg.discounted_expected_residual_lifetime(p, n + 1, discount_rate=d)
    assert later >= low * (1 - 1e-10)
    # bounded by the undiscounted next-renewal probability times 1/(1 - 1/(1+d))
    assert low <= (1 + d) / d * (1 + 1e-10)


@given(
    ab=_ab,
    churn=st.lists(st.integers(0, 300), min_size=1, max_size=10),
    still=st.integers(0, 1000),
)
def test_log_likelihood_is_finite_and_counts_add_up(ab, churn, still):
    # alive[t] = still + churners after period t
    alive = still + np.concatenate([np.cumsum(churn[::-1])[::-1], [0]])
    if alive[0] == 0:
        alive = alive + 1
    p = SbgParams(alpha=ab[0], beta=ab[1])
    total = sbg.log_likelihood(p, alive)
    per = sbg.log_likelihood_per_customer(p, alive)
    assert np.isfinite(total)
    counts = np.append(alive[:-1] - alive[1:], alive[-1])
    assert_allclose(counts @ per, total, rtol=1e-12, atol=1e-9)


# --------------------------------------------------------------------------- errors


def test_alive_is_validated():
    with pytest.raises(InputError, match="alive must not increase"):
        sbg.fit([1000, 600, 700])
    with pytest.raises(InputError, match="cohort size, must be positive"):
        sbg.fit([0, 0, 0])
    with pytest.raises(InputError, match="at least one later count"):
        sbg.fit([1000])
    with pytest.raises(InputError, match="alive must be non-negative"):
        sbg.log_likelihood(SbgParams(alpha=1, beta=1), [10, -1])
    with pytest.raises(InputError, match="alive must be 1-dimensional"):
        sbg.fit([[10, 5], [10, 5]])
    with pytest.raises(InputTypeError, match="alive must hold numbers"):
        sbg.fit(["a", "b"])


def test_arguments_are_validated():
    p = SbgParams(alpha=1.0, beta=2.0)
    with pytest.raises(InputError, match="t must be non-negative"):
        sbg.survival(p, [1, -1])
    with pytest.raises(InputError, match="t must be at least 1"):
        sbg.implied_retention_rate(p, 0)
    with pytest.raises(InputError, match="t must hold whole numbers"):
        sbg.survival(p, 1.5)
    with pytest.raises(InputError, match=r"discount_rate must be >= 0\.0"):
        sbg.discounted_expected_residual_lifetime(p, 1, discount_rate=-0.5)
    with pytest.raises(InputTypeError, match="discount_rate must be a real number"):
        sbg.discounted_expected_residual_lifetime(p, 1, discount_rate="0.1")
    with pytest.raises(InputError, match="n_renewals must be non-negative"):
        sbg.discounted_expected_residual_lifetime(p, -1, discount_rate=0.1)
    with pytest.raises(InputTypeError, match="params must be SbgParams"):
        sbg.survival((1.0, 2.0), 1)
    with pytest.raises(InputTypeError, match="initial must be SbgParams"):
        sbg.fit(REGULAR, initial=(1.0, 1.0))
    with pytest.raises(InputError, match=r"beta must be > 0\.0"):
        SbgParams(alpha=1.0, beta=0.0)


def test_fit_on_unidentified_cohorts_raises():
    # Nobody ever leaves: the churn probabilities are not identified (they go to 0).
    with pytest.raises(ConvergenceError, match="nobody churned"):
        sbg.fit([1000, 1000, 1000, 1000])
    # Everybody leaves at once: heterogeneity is not identified.
    with pytest.raises(ConvergenceError, match="whole cohort churned"):
        sbg.fit([1000, 0, 0])
    # One period shows only the mean churn probability alpha / (alpha + beta).
    with pytest.raises(InputError, match="at least two periods"):
        sbg.fit([1000, 500])


def test_shapes():
    p = SbgParams(alpha=1.0, beta=2.0)
    assert isinstance(sbg.survival(p, 3), float)
    assert sbg.survival(p, [[0, 1], [2, 3]]).shape == (2, 2)
    assert sbg.survival(p, []).shape == (0,)
    assert sbg.implied_retention_rate(p, [1, 2, 3]).shape == (3,)
    f = sbg.fit(REGULAR)
    assert f.survival(3) == sbg.survival(f.params, 3)
    assert f.implied_retention_rate(3) == sbg.implied_retention_rate(f.params, 3)
    assert f.expected_lifetime() == sbg.expected_lifetime(f.params)
    assert f.discounted_expected_residual_lifetime(2, discount_rate=0.1) == (
        sbg.discounted_expected_residual_lifetime(f.params, 2, discount_rate=0.1)
    )
    assert_allclose(
        f.log_likelihood_per_customer(REGULAR), sbg.log_likelihood_per_customer(f.params, REGULAR)
    )


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: SbgParams(alpha=10**400, beta=1.0),
            r"alpha must (be( a)? finite|fit in a 64-bit)",
        ),
        (
            lambda: sbg.fit([10**400, 1]),
            r"alive must (be( a)? finite|fit in a 64-bit)",
        ),
        (
            lambda: sbg.survival(SbgParams(alpha=1, beta=1), [10**400]),
            r"t must (be( a)? finite|fit in a 64-bit)",
        ),
        (
            lambda: sbg.discounted_expected_residual_lifetime(
                SbgParams(alpha=1, beta=1), 1, discount_rate=10**400
            ),
            r"discount_rate must (be( a)? finite|fit in a 64-bit)",
        ),
        (
            lambda: sbg.survival(SbgParams(alpha=1, beta=1), [[1, 2], [3]]),
            "t must be a flat sequence",
        ),
        (lambda: sbg.implied_retention_rate(SbgParams(alpha=1, beta=1), None), "t must be a whole"),
    ],
)
def test_oversized_ragged_or_missing_arguments_raise_crmcore_errors(call, match):
    # Python ints beyond 1.8e308 used to raise OverflowError, ragged lists a bare
    # ValueError, and None a misleading "t must be finite ... t=nan".
    with pytest.raises((InputError, InputTypeError), match=match):
        call()


def test_extreme_parameters_and_horizons_are_finite_without_warnings():
    for alpha in (1e-8, 1.0, 1e8):
        for beta in (1e-8, 1.0, 1e8):
            p = SbgParams(alpha=alpha, beta=beta)
            s = sbg.survival(p, [0, 1, 10**5, 10**5 + 1, 10**15])
            assert np.all(np.isfinite(s) & (s >= 0) & (s <= 1)), (alpha, beta)
            assert np.all(np.diff(s) <= 0)
            r = sbg.implied_retention_rate(p, [1, 10**15])
            assert np.all(np.isfinite(r))
            d = sbg.discounted_expected_residual_lifetime(p, [0, 10**9], discount_rate=0.1)
            assert np.all(np.isfinite(d) & (d > 0)), (alpha, beta)
            ll = sbg.log_likelihood(p, [1000, 869, 743, 653])
            assert np.isfinite(ll), (alpha, beta)
