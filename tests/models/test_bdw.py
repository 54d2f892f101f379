"""Tests of the beta-discrete-Weibull model (crmcore.models.bdw).

Reference values: the sBG model (crmcore.models.sbg, itself checked against
Fader & Hardie 2007 and mpmath), which the BdW model must reproduce at c = 1;
the model's beta-function formulas evaluated with mpmath at 40 digits
(``_mp_*`` below); the polarisation indices Fader et al. (2018) report for the
high-end segment; Monte Carlo draws and parameter recovery from an independent
numpy simulator written here (theta ~ Beta, churn by the discrete Weibull).
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from crmcore.errors import ConvergenceError, InputError, InputTypeError
from crmcore.models import bdw, sbg
from crmcore.models.bdw import BdwFit, BdwParams
from crmcore.models.sbg import SbgParams

# Fader & Hardie (2007), survivors of the "high end" and "regular" segments at the
# start of years 0-7 (the same table as tests/models/test_sbg.py).
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]

# --------------------------------------------------------------------------- independent references
#   S(t) = B(α, β + t^c) / B(α, β),   P(T = t) = S(t-1) - S(t)            (Fader et al. 2018)
#   DERL(d | n renewals) = Σ_{k>=1} S(n+k)/S(n) (1+d)^-(k-1)             (Fader & Hardie 2010)
B = mp.beta


def _mp_survival(alpha, beta, c, t):
    with mp.workdps(40):
        a, b, cc = mp.mpf(alpha), mp.mpf(beta), mp.mpf(c)
        return B(a, b + mp.mpf(t) ** cc) / B(a, b)


def _mp_loglik(alpha, beta, c, alive):
    with mp.workdps(40):
        n = len(alive) - 1
        s = [_mp_survival(alpha, beta, c, t) for t in range(n + 1)]
        total = alive[n] * mp.log(s[n])
        for t in range(1, n + 1):
            total += (alive[t - 1] - alive[t]) * mp.log(s[t - 1] - s[t])
        return total


# (alpha, beta, c, t, S(t)), printed by _mp_survival
SURVIVAL_CASES = [
    (0.5, 1.5, 0.6, 7, 0.53364247920428482),
    (0.083, 0.25, 1.25, 10, 0.58304977862264917),
    (4.75, 14.25, 0.75, 3, 0.53156963001942855),
    (2.0, 3.0, 2.5, 1000, 1.1999997343687209e-14),
    (1e-4, 1e4, 0.5, 10**6, 0.99999046857292945),
    (1e3, 1e-2, 0.3, 5, 1.2394529750372006e-7),
]

# (alpha, beta, c, alive, log-likelihood), printed by _mp_loglik
LOGLIK_CASES = [
    (0.214, 1.427, 1.724, HIGH_END, -1605.3145020503276),
    (1.5, 2.5, 0.7, [10, 6, 3, 2], -14.343765128730494),
    (5.0, 40.0, 3.0, HIGH_END, -6756.1265851431161),
]

# (alpha, beta, c, n_renewals, d, DERL): mpmath nsum (40 digits) of the defining series
DERL_CASES = [
    (0.5, 1.5, 0.6, 0, 0.1, 5.8815846578685325),
    (0.5, 1.5, 0.6, 7, 0.1, 9.1654830533683024),
    (4.75, 14.25, 1.25, 2, 0.05, 1.9944696858095869),
    (2.0, 3.0, 2.5, 10, 0.01, 2.0025498461217548),
]

# (alpha, beta, c, E[T]) = 1 + Σ_{t>=1} S(t): mpmath nsum(method="euler-maclaurin"),
# confirmed by an mpmath head sum to 200 plus the quadrature of the tail
# (mpmath's default nsum method is off by 7e-9 on the first case: slow t^-3 tail).
LIFETIME_CASES = [
    (2.0, 3.0, 1.5, 2.3571844489779702),
    (4.75, 14.25, 1.25, 3.428146406097251),
    (3.0, 2.0, 2.0, 1.4907710647736977),
]


def _lifetimes(alpha, beta, c, size, rng):
    """Independent draw: θ ~ Beta(α, β); given θ, P(T > t) = (1 - θ)^(t^c), t = 0, 1, ...

    With U uniform, T > t exactly when ln U / ln(1 - θ) >= t^c, so
    T = floor((ln U / ln(1 - θ))^(1/c)) + 1.
    """
    theta = rng.beta(alpha, beta, size)
    u = rng.random(size)
    with np.errstate(divide="ignore", over="ignore"):
        ratio = np.log(u) / np.log1p(-theta)
        life = np.floor(ratio ** (1.0 / c)) + 1.0
    return np.minimum(life, 1e15)


def _cohort(alpha, beta, c, *, size, n_periods, rng):
    life = _lifetimes(alpha, beta, c, size, rng)
    t = np.arange(n_periods + 1)
    return (life[None, :] > t[:, None]).sum(axis=1)


# --------------------------------------------------------------------------- c = 1 is the sBG model

SBG_POINTS = [(0.704, 1.182), (0.668, 3.806), (3.8, 15.2), (1e-3, 50.0), (40.0, 0.3), (2.5, 150.2)]


@pytest.mark.parametrize(("alpha", "beta"), SBG_POINTS)
def test_c_one_reproduces_the_sbg_model(alpha, beta):
    p = BdwParams(alpha=alpha, beta=beta, c=1.0)
    q = SbgParams(alpha=alpha, beta=beta)
    t = np.array([0, 1, 2, 7, 50, 1000, 10**5, 10**6])
    assert_allclose(bdw.survival(p, t[:6]), sbg.survival(q, t[:6]), rtol=1e-12, atol=0)
    # sbg sums 1e5 log1p terms there, which costs it ~3e-12 (mpmath: at α = 40,
    # β = 0.3, t = 1e5 bdw is within 4e-14 of B(α, β+t)/B(α, β), sbg 3.3e-12)
    assert_allclose(bdw.survival(p, t[6:]), sbg.survival(q, t[6:]), rtol=1e-10, atol=0)
    assert_allclose(
        bdw.implied_retention_rate(p, t[1:]), sbg.implied_retention_rate(q, t[1:]), rtol=1e-12
    )
    for alive in (HIGH_END, REGULAR, [10, 6, 3, 2]):
        assert_allclose(bdw.log_likelihood(p, alive), sbg.log_likelihood(q, alive), rtol=1e-12)
        assert_allclose(
            bdw.log_likelihood_per_customer(p, alive),
            sbg.log_likelihood_per_customer(q, alive),
            rtol=1e-12,
        )
    n = [0, 3, 1000]
    for d in (0.1, 1e-3, 1e-7):
        assert_allclose(
            bdw.discounted_expected_residual_lifetime(p, n, discount_rate=d),
            sbg.discounted_expected_residual_lifetime(q, n, discount_rate=d),
            rtol=1e-10,
        )
    assert_allclose(bdw.expected_lifetime(p), sbg.expected_lifetime(q), rtol=1e-10)
    assert_allclose(
        bdw.discounted_expected_residual_lifetime(p, n, discount_rate=0.0),
        sbg.discounted_expected_residual_lifetime(q, n, discount_rate=0.0),
        rtol=1e-10,
    )


@pytest.mark.parametrize("alive", [HIGH_END, REGULAR])
def test_sbg_estimates_are_a_stationary_point_of_the_bdw_likelihood_in_alpha_and_beta(alive):
    # At c = 1 the BdW likelihood is the sBG likelihood, so the sBG fit maximises it
    # over (alpha, beta): the gradient there vanishes in those two directions, and the
    # BdW maximum (c free) is at least as high.
    g = sbg.fit(alive)
    theta = np.array([g.params.alpha, g.params.beta, 1.0])
    value, grad = bdw._log_likelihood_and_gradient(theta, bdw._Data.of(bdw._cohorts(alive)))
    assert_allclose(value, g.log_likelihood, rtol=1e-12)
    assert np.all(np.abs(grad[:2] * theta[:2]) < 1e-4)
    f = bdw.fit(alive)
    assert f.log_likelihood >= g.log_likelihood - 1e-9


def test_analytic_gradient_matches_central_differences():
    data = bdw._Data.of(bdw._cohorts([HIGH_END, REGULAR[:5]]))
    for theta in ([0.704, 1.182, 1.0], [0.214, 1.427, 1.724], [3.0, 150.0, 0.4], [0.05, 0.2, 2.5]):
        th = np.array(theta)
        _, grad = bdw._log_likelihood_and_gradient(th, data)
        num = np.empty(3)
        for j in range(3):
            up, down = th.copy(), th.copy()
            up[j] *= np.exp(1e-6)
            down[j] *= np.exp(-1e-6)
            num[j] = (
                bdw._log_likelihood_and_gradient(up, data)[0]
                - bdw._log_likelihood_and_gradient(down, data)[0]
            ) / (up[j] - down[j])
        assert_allclose(grad, num, rtol=1e-6, atol=1e-5)


# --------------------------------------------------------------------------- reference values


@pytest.mark.parametrize(("alpha", "beta", "c", "t", "expected"), SURVIVAL_CASES)
def test_survival_matches_mpmath(alpha, beta, c, t, expected):
    got = bdw.survival(BdwParams(alpha=alpha, beta=beta, c=c), t)
    assert isinstance(got, float)
    assert_allclose(got, expected, rtol=1e-11)


@pytest.mark.parametrize(("alpha", "beta", "c", "alive", "expected"), LOGLIK_CASES)
def test_log_likelihood_matches_mpmath(alpha, beta, c, alive, expected):
    got = bdw.log_likelihood(BdwParams(alpha=alpha, beta=beta, c=c), alive)
    assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize(("alpha", "beta", "c", "n_renewals", "d", "expected"), DERL_CASES)
def test_derl_matches_mpmath(alpha, beta, c, n_renewals, d, expected):  # noqa: PLR0917
    got = bdw.discounted_expected_residual_lifetime(
        BdwParams(alpha=alpha, beta=beta, c=c), n_renewals, discount_rate=d
    )
    assert_allclose(got, expected, rtol=1e-11)


@pytest.mark.parametrize(("alpha", "beta", "c", "expected"), LIFETIME_CASES)
def test_expected_lifetime_matches_mpmath(alpha, beta, c, expected):
    p = BdwParams(alpha=alpha, beta=beta, c=c)
    assert_allclose(bdw.expected_lifetime(p), expected, rtol=1e-11)
    undiscounted = bdw.discounted_expected_residual_lifetime(p, 0, discount_rate=0.0)
    assert_allclose(1 + undiscounted, expected, rtol=1e-11)
    # continuity at d = 0
    tiny = bdw.discounted_expected_residual_lifetime(p, 0, discount_rate=1e-9)
    assert_allclose(tiny, undiscounted, rtol=1e-7)


def test_reference_functions_reproduce_pinned_values():
    alpha, beta, c, t, expected = SURVIVAL_CASES[0]
    assert_allclose(float(_mp_survival(alpha, beta, c, t)), expected, rtol=1e-15)
    alpha, beta, c, alive, expected = LOGLIK_CASES[1]
    assert_allclose(float(_mp_loglik(alpha, beta, c, alive)), expected, rtol=1e-15)


def test_infinite_mean_lifetime_when_c_alpha_at_most_one():
    # S(t) ~ Γ(α+β)/Γ(β) t^(-cα): the sum of S diverges when cα <= 1.
    for alpha, c in ((0.5, 2.0), (0.9, 1.1), (2.0, 0.4)):
        p = BdwParams(alpha=alpha, beta=2.0, c=c)
        assert bdw.expected_lifetime(p) == math.inf
        assert bdw.discounted_expected_residual_lifetime(p, [0, 3], discount_rate=0.0).tolist() == [
            math.inf,
            math.inf,
        ]
        assert math.isfinite(bdw.discounted_expected_residual_lifetime(p, 0, discount_rate=1e-6))


# --------------------------------------------------------------------------- published results


def test_fit_reproduces_the_published_polarisation_of_the_high_end_segment():
    # Fader et al. (2018) fit both models to the first five years (years 0-4) of the
    # high-end segment and report polarisation indices phi = 1 / (alpha + beta + 1) of
    # 0.099 (sBG) and 0.335 (BdW): heterogeneity looks larger once positive duration
    # dependence (c > 1) takes part of the rising retention. (The paper itself was not
    # at hand; the two indices are as quoted from it in a public replication notebook,
    # github.com/abdullahau/customer-analytics, BdW-Model.qmd.)
    alive = HIGH_END[:5]
    g = sbg.fit(alive)
    f = bdw.fit(alive)
    assert round(1 / (g.params.alpha + g.params.beta + 1), 3) == 0.099
    assert round(1 / (f.params.alpha + f.params.beta + 1), 3) == 0.335
    assert f.params.c > 1
    assert f.converged
    assert_allclose(f.log_likelihood, bdw.log_likelihood(f.params, alive), rtol=1e-12)


@pytest.mark.parametrize("alive", [HIGH_END, REGULAR])
def test_fit_on_the_published_cohorts_is_a_maximum(alive):
    f = bdw.fit(alive)
    assert isinstance(f, BdwFit)
    assert f.n_customers == 1000.0
    assert f.converged
    assert np.all(f.standard_errors.as_array() > 0)
    assert f.covariance.shape == (3, 3)
    assert not f.covariance.flags.writeable
    # no neighbouring point (1 % in any direction) does better
    best = f.log_likelihood
    for j in range(3):
        for k in (0.99, 1.01):
            th = f.params.as_array()
            th[j] *= k
            other = bdw.log_likelihood(BdwParams(alpha=th[0], beta=th[1], c=th[2]), alive)
            assert other < best
    # the same maximum from another starting point
    g = bdw.fit(alive, initial=BdwParams(alpha=0.3, beta=3.0, c=0.8))
    assert_allclose(g.params.as_array(), f.params.as_array(), rtol=1e-4)


# --------------------------------------------------------------------------- Monte Carlo, recovery


@pytest.mark.slow
def test_survival_and_derl_match_monte_carlo():
    alpha, beta, c = 0.8, 2.0, 1.6
    p = BdwParams(alpha=alpha, beta=beta, c=c)
    size = 400_000
    life = _lifetimes(alpha, beta, c, size, np.random.default_rng(1))
    t = np.arange(0, 8)
    share = (life[None, :] > t[:, None]).mean(axis=1)
    s = bdw.survival(p, t)
    assert np.all(np.abs(share - s) < 4 * np.sqrt(s * (1 - s) / size) + 1e-12)
    d, n_r = 0.1, 2
    future = life[life > n_r] - 1 - n_r  # further renewals made
    k = np.arange(1, 300)
    discounted = ((k[None, :] <= np.minimum(future, 400)[:, None]) * (1 + d) ** -(k - 1.0)).sum(
        axis=1
    )
    derl = bdw.discounted_expected_residual_lifetime(p, n_r, discount_rate=d)
    se = discounted.std() / np.sqrt(discounted.size)
    assert abs(discounted.mean() - derl) < 4 * se


@pytest.mark.slow
@pytest.mark.parametrize("truth", [(0.7, 1.2, 0.6), (2.0, 5.0, 1.5)])
def test_parameter_recovery(truth):
    # Cohorts of 50,000 drawn by the simulator above; each fit sees 9 survivor counts.
    # The likelihood is far from quadratic in (alpha, beta) (the Wald interval of a
    # small alpha is too narrow), so each draw is judged by the likelihood-ratio
    # statistic at the truth, below the 99.9 % quantile of chi-square(3) (16.27), and
    # the draws together by their mean.
    rng = np.random.default_rng(5)
    p_true = BdwParams(alpha=truth[0], beta=truth[1], c=truth[2])
    est, ses = [], []
    for _ in range(6):
        alive = _cohort(*truth, size=50_000, n_periods=8, rng=rng)
        f = bdw.fit(alive)
        assert f.converged
        assert 0 <= 2 * (f.log_likelihood - bdw.log_likelihood(p_true, alive)) < 16.27
        est.append(f.params.as_array())
        ses.append(f.standard_errors.as_array())
    mean, se = np.mean(est, axis=0), np.mean(ses, axis=0)
    assert np.all(np.abs(mean - truth) < 3 * se / np.sqrt(len(est)) + 0.05 * np.array(truth))


@pytest.mark.slow
def test_several_cohorts_of_different_lengths_fit_together():
    # Four cohorts acquired one period apart, observed to the same date: the
    # likelihood adds up, and the estimates recover the common parameters.
    truth = np.array([1.0, 3.0, 1.3])
    rng = np.random.default_rng(8)
    cohorts = [_cohort(*truth, size=30_000, n_periods=n, rng=rng) for n in (8, 7, 6, 5)]
    f = bdw.fit(cohorts)
    assert f.n_customers == 120_000.0
    assert np.all(np.abs(f.params.as_array() - truth) < 3.5 * f.standard_errors.as_array())
    total = sum(bdw.log_likelihood(f.params, k) for k in cohorts)
    assert_allclose(f.log_likelihood, total, rtol=1e-12)
    # equal-length cohorts as a 2-D array, one per row
    square = np.array([k[:6] for k in cohorts])
    assert_allclose(
        bdw.log_likelihood(f.params, square),
        sum(bdw.log_likelihood(f.params, k[:6]) for k in cohorts),
        rtol=1e-12,
    )


# --------------------------------------------------------------------------- properties

_abc = st.tuples(st.floats(1e-3, 1e3), st.floats(1e-3, 1e3), st.floats(0.05, 5.0))


@given(abc=_abc, t=st.lists(st.integers(0, 1_000_000), min_size=1, max_size=8))
def test_survival_is_a_non_increasing_probability(abc, t):
    p = BdwParams(alpha=abc[0], beta=abc[1], c=abc[2])
    tt = np.sort(np.array(t))
    s = bdw.survival(p, tt)
    assert np.all((s >= 0) & (s <= 1))
    assert np.all(np.diff(s) <= 1e-15)
    r = bdw.implied_retention_rate(p, np.maximum(tt, 1))
    assert np.all((r >= 0) & (r <= 1))


@given(
    ab=st.tuples(st.floats(1e-2, 1e2), st.floats(1e-2, 1e2)),
    c=st.floats(0.05, 1.0),
    t=st.integers(1, 10_000),
)
def test_retention_rate_never_falls_when_c_is_at_most_one(ab, c, t):
    # Each customer's churn probability 1 - (1-θ)^(t^c - (t-1)^c) falls with t when
    # c <= 1, and a mixture of decreasing hazards has a decreasing hazard.
    p = BdwParams(alpha=ab[0], beta=ab[1], c=c)
    r = bdw.implied_retention_rate(p, [t, t + 1])
    assert r[1] >= r[0] * (1 - 1e-9)


@given(mean=st.floats(0.05, 0.5), c=st.floats(1.2, 4.0))
def test_retention_rate_falls_when_customers_are_alike_and_c_exceeds_one(mean, c):
    # α + β = 1e6: θ is practically the same for everyone, so the cohort's retention
    # rate (1-θ)^(t^c - (t-1)^c) falls with t when c > 1.
    p = BdwParams(alpha=mean * 1e6, beta=(1 - mean) * 1e6, c=c)
    r = bdw.implied_retention_rate(p, [1, 2, 3])
    assert r[0] > r[1] > r[2] or r[2] == 0.0


@given(
    abc=_abc,
    lengths=st.lists(st.integers(1, 8), min_size=2, max_size=4),
    seed=st.integers(0, 2**32 - 1),
)
def test_order_of_cohorts_is_irrelevant_and_counts_add_up(abc, lengths, seed):
    rng = np.random.default_rng(seed)
    cohorts = [
        np.concatenate([[1000.0], np.sort(rng.integers(0, 1000, n))[::-1].astype(float)])
        for n in lengths
    ]
    p = BdwParams(alpha=abc[0], beta=abc[1], c=abc[2])
    total = bdw.log_likelihood(p, cohorts)
    assert_allclose(bdw.log_likelihood(p, cohorts[::-1]), total, rtol=1e-12)
    assert_allclose(sum(bdw.log_likelihood(p, k) for k in cohorts), total, rtol=1e-12)
    per = bdw.log_likelihood_per_customer(p, cohorts)
    weights = np.concatenate([np.append(k[:-1] - k[1:], k[-1]) for k in cohorts])
    with np.errstate(invalid="ignore"):
        assert_allclose(np.nansum(weights * per), total, rtol=1e-12)


@given(abc=_abc, n=st.integers(0, 1000), d=st.floats(1e-3, 10.0))
def test_derl_is_finite_and_bounded_by_the_undiscounted_geometric_sum(abc, n, d):
    p = BdwParams(alpha=abc[0], beta=abc[1], c=abc[2])
    value = bdw.discounted_expected_residual_lifetime(p, n, discount_rate=d)
    assert np.isfinite(value)
    assert 0 <= value <= (1 + d) / d * (1 + 1e-10)
    higher = bdw.discounted_expected_residual_lifetime(p, n, discount_rate=2 * d)
    assert higher <= value * (1 + 1e-10)


# --------------------------------------------------------------------------- errors


def test_alive_is_validated():
    with pytest.raises(InputError, match="alive must not increase"):
        bdw.fit([1000, 600, 700, 500])
    with pytest.raises(InputError, match="cohort size, must be positive"):
        bdw.fit([0, 0, 0, 0])
    with pytest.raises(InputError, match="at least one later count"):
        bdw.fit([1000])
    with pytest.raises(InputError, match="alive must be non-negative"):
        bdw.log_likelihood(BdwParams(alpha=1, beta=1, c=1), [10, -1])
    with pytest.raises(InputError, match=r"alive\[1\] must not increase"):
        bdw.fit([[1000, 900, 800, 700], [500, 600]])
    with pytest.raises(InputError, match="not a mix"):
        bdw.fit([[1000, 900, 800, 700], 500])
    with pytest.raises(InputTypeError, match="alive must hold numbers"):
        bdw.fit(["a", "b"])
    with pytest.raises(InputError, match="alive must be 1-dimensional"):
        bdw.fit(np.ones((2, 2, 2)))


def test_arguments_are_validated():
    p = BdwParams(alpha=1.0, beta=2.0, c=0.5)
    with pytest.raises(InputError, match="t must be non-negative"):
        bdw.survival(p, [1, -1])
    with pytest.raises(InputError, match="t must be at least 1"):
        bdw.implied_retention_rate(p, 0)
    with pytest.raises(InputError, match="t must hold whole numbers"):
        bdw.survival(p, 1.5)
    with pytest.raises(InputError, match=r"discount_rate must be >= 0\.0"):
        bdw.discounted_expected_residual_lifetime(p, 1, discount_rate=-0.5)
    with pytest.raises(InputTypeError, match="discount_rate must be a real number"):
        bdw.discounted_expected_residual_lifetime(p, 1, discount_rate="0.1")
    with pytest.raises(InputError, match="n_renewals must be non-negative"):
        bdw.discounted_expected_residual_lifetime(p, -1, discount_rate=0.1)
    with pytest.raises(InputTypeError, match="params must be BdwParams"):
        bdw.survival(SbgParams(alpha=1.0, beta=2.0), 1)
    with pytest.raises(InputTypeError, match="initial must be BdwParams"):
        bdw.fit(REGULAR, initial=(1.0, 1.0, 1.0))
    with pytest.raises(InputError, match=r"c must be > 0\.0"):
        BdwParams(alpha=1.0, beta=1.0, c=-1.0)
    with pytest.raises(InputError, match=r"c must (be( a)? finite|fit in a 64-bit)"):
        BdwParams(alpha=1.0, beta=1.0, c=math.inf)


def test_fit_on_unidentified_cohorts_raises():
    with pytest.raises(ConvergenceError, match="nobody churned"):
        bdw.fit([1000, 1000, 1000, 1000])
    with pytest.raises(ConvergenceError, match="churned completely in the first period"):
        bdw.fit([[1000, 0, 0, 0], [10, 0]])
    with pytest.raises(InputError, match="at least three periods"):
        bdw.fit([1000, 500, 300])
    with pytest.raises(InputError, match="at least three periods"):
        bdw.fit([[1000, 500, 300], [800, 300]])


def test_shapes_and_fit_methods():
    p = BdwParams(alpha=1.0, beta=2.0, c=0.7)
    assert isinstance(bdw.survival(p, 3), float)
    assert bdw.survival(p, [[0, 1], [2, 3]]).shape == (2, 2)
    assert bdw.survival(p, []).shape == (0,)
    assert bdw.implied_retention_rate(p, [1, 2, 3]).shape == (3,)
    assert bdw.discounted_expected_residual_lifetime(p, [[1, 2]], discount_rate=0.1).shape == (
        1,
        2,
    )
    f = bdw.fit(REGULAR)
    assert f.survival(3) == bdw.survival(f.params, 3)
    assert f.implied_retention_rate(3) == bdw.implied_retention_rate(f.params, 3)
    assert f.expected_lifetime() == bdw.expected_lifetime(f.params)
    assert f.discounted_expected_residual_lifetime(2, discount_rate=0.1) == (
        bdw.discounted_expected_residual_lifetime(f.params, 2, discount_rate=0.1)
    )
    assert_allclose(
        f.log_likelihood_per_customer(REGULAR), bdw.log_likelihood_per_customer(f.params, REGULAR)
    )
    assert bdw.log_likelihood_per_customer(p, [[10, 5], [8, 6, 1]]).shape == (5,)


def test_inputs_are_not_mutated():
    alive = np.array(HIGH_END, dtype=float)
    cohorts = [alive, alive[:5].copy()]
    before = [k.copy() for k in cohorts]
    bdw.fit(cohorts)
    for k, b in zip(cohorts, before, strict=True):
        assert np.array_equal(k, b)


def test_extreme_parameters_and_horizons_are_finite_without_warnings():
    for alpha in (1e-8, 1.0, 1e8):
        for beta in (1e-8, 1.0, 1e8):
            for c in (0.01, 1.0, 30.0):
                p = BdwParams(alpha=alpha, beta=beta, c=c)
                s = bdw.survival(p, [0, 1, 2, 10**5, 10**6, 10**15])
                assert np.all(np.isfinite(s) & (s >= 0) & (s <= 1)), (alpha, beta, c)
                assert np.all(np.diff(s) <= 0)
                r = bdw.implied_retention_rate(p, [1, 2, 10**6])
                assert np.all(np.isfinite(r))
                d = bdw.discounted_expected_residual_lifetime(p, [0, 10**6], discount_rate=0.1)
                assert np.all(np.isfinite(d) & (d >= 0)), (alpha, beta, c)
                e = bdw.expected_lifetime(p)
                assert e >= 1, (alpha, beta, c)
                ll = bdw.log_likelihood(p, [1000, 869, 743, 653])
                assert not np.isnan(ll), (alpha, beta, c)
