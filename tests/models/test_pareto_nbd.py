"""Tests of the Pareto/NBD model (crmcore.models.pareto_nbd).

Reference values: the paper's own closed forms (Fader & Hardie 2005 note,
Schmittlein, Morrison & Colombo 1987; Fader & Hardie 2006 for P(X(t) = n))
evaluated with mpmath at 40-50 digits by the ``_mp_*`` functions below (the
Gauss hypergeometric functions exactly as printed, no transformation); Monte
Carlo draws from an independent numpy simulator written here; parameter
recovery on draws from :mod:`crmcore.simulate`. The published CDNOW estimates
(r = 0.55, alpha = 10.58, s = 0.61, beta = 11.67, LL = -9595.0) are checked
outside the test suite, the data set may not be copied here.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from crmcore.errors import ConvergenceError, InputError, InputTypeError
from crmcore.models import pareto_nbd
from crmcore.models.pareto_nbd import ParetoNbdFit, ParetoNbdParams
from crmcore.simulate import pareto_nbd_histories
from crmcore.summary import CustomerSummary

CDNOW = ParetoNbdParams(r=0.55, alpha=10.58, s=0.61, beta=11.67)


def _params(theta: tuple[float, float, float, float]) -> ParetoNbdParams:
    r, alpha, s, beta = theta
    return ParetoNbdParams(r=r, alpha=alpha, s=s, beta=beta)


# --------------------------------------------------------------------------- independent references
# The formulas of Fader & Hardie (2005), "A note on deriving the Pareto/NBD model
# and related expressions", with c = r+s+x:
#   L = Γ(r+x) α^r β^s / Γ(r) [ (α+T)^-(r+x) (β+T)^-s + s/c A0 ]              (eq. 22)
#   A0 = F(t_x) - F(T),  F(t) = 2F1(c, s+1; c+1; (α-β)/(α+t)) / (α+t)^c   (α >= β)
#                        F(t) = 2F1(c, r+x; c+1; (β-α)/(β+t)) / (β+t)^c   (α < β)
#   P(alive) = 1 / (1 + s/c (α+T)^(r+x) (β+T)^s A0)                         (eq. 23)
#   E[Y(t)|..] = P(alive) (r+x)(β+T) / ((α+T)(s-1)) [1 - ((β+T)/(β+T+t))^(s-1)]  (eq. 27)
#   E[X(t)] = r β / (α (s-1)) [1 - (β/(β+t))^(s-1)]                         (SMC 1987)
# and P(X(t)=n) (Fader & Hardie 2006) as alive-at-t plus died-at-τ<t:
#   NB(n) (β/(β+t))^s + Γ(r+n)/(Γ(r) n!) α^r s β^s ∫_0^t τ^n (α+τ)^-(r+n) (β+τ)^-(s+1) dτ,
#   the integral by mpmath's tanh-sinh quadrature split at α, β.


def _mp_a0(theta, x, tx, T):
    r, al, s, be, tx, T = map(mp.mpf, (*theta, tx, T))
    c = r + s + x
    if al >= be:

        def f(t):
            z = (al - be) / (al + t)
            return mp.hyp2f1(c, s + 1, c + 1, z, maxprec=100000) / (al + t) ** c
    else:

        def f(t):
            z = (be - al) / (be + t)
            return mp.hyp2f1(c, r + x, c + 1, z, maxprec=100000) / (be + t) ** c

    return f(tx) - f(T)


def _mp_loglik(theta, x, tx, T):
    with mp.workdps(50):
        r, al, s, be = map(mp.mpf, theta)
        Tm = mp.mpf(T)
        lead = mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(al) + s * mp.log(be)
        inner = (al + Tm) ** (-(r + x)) * (be + Tm) ** (-s) + s / (r + s + x) * _mp_a0(
            theta, x, tx, T
        )
        return lead + mp.log(inner)


def _mp_palive(theta, x, tx, T):
    with mp.workdps(50):
        r, al, s, be = map(mp.mpf, theta)
        Tm = mp.mpf(T)
        a0 = _mp_a0(theta, x, tx, T)
        return 1 / (1 + s / (r + s + x) * (al + Tm) ** (r + x) * (be + Tm) ** s * a0)


# Tables printed by the functions above (and by mp.quad for P(X(t) = n)).
# (params (r, alpha, s, beta), x, t_x, T, log-likelihood)
LOGLIK_CASES = [
    ((0.55, 10.58, 0.61, 11.67), 0, 0.0, 38.86, -0.51702515088753849),
    ((0.55, 10.58, 0.61, 11.67), 2, 30.43, 38.86, -9.5619812608429639),
    ((0.55, 10.58, 0.61, 11.67), 1, 1.71, 38.86, -4.4507725494538166),
    ((0.55, 10.58, 0.61, 11.67), 50, 38.0, 38.86, -50.528293528068003),
    ((0.55, 11.67, 0.61, 10.58), 5, 10.0, 38.86, -14.794362385464778),  # alpha < beta
    ((1.0, 1.0, 1.0, 1.0), 4, 2.0, 5.0, -5.13015594965118),  # alpha = beta
    ((0.5, 5.0, 0.5, 40.0), 1, 0.5, 30.0, -4.6431178285784837),  # z near 1, small b
    ((0.5, 5.0, 0.5, 40.0), 20, 0.5, 30.0, 0.43933021315555634),  # z near 1, b >= 10
    ((0.5, 1e4, 0.5, 1.0), 100, 0.5, 30.0, -560.47887915817586),  # 1 - z ~ 1e-4, large c
    ((0.5, 1e4, 0.5, 1.0), 2, 0.0, 3.0, -18.708862708095557),
    ((1e-4, 1e4, 1e-4, 1e-4), 0, 0.0, 1e4, -6.9195359591533936e-5),  # 1 - z ~ 1e-8
    ((1e4, 1e-4, 1e4, 1e4), 10000, 9999.0, 1e4, -187274.50785392475),
    ((1e-4, 1e-4, 1e-4, 1e4), 10000, 1e4, 1e4, -10012.897596331839),
    ((1e4, 1e4, 1e-4, 1e-4), 0, 0.0, 1e4, -7.0550576292059274),
    ((0.3, 1e4, 0.5, 1e-4), 1, 0.0, 1.0, -10.414315750236144),
    ((5.0, 0.01, 0.8, 5.0), 200, 1.0, 2.0, 848.76074300760793),  # Γ(205) ~ 1e376
    ((0.5, 10.0, 0.7, 1000.0), 100, 0.5, 10000.0, 116.18701123744023),
    # T - t_x tiny: I = (T - t_x) times the integrand (midpoint); log L near 0 is
    # known to ~1e-16 (r |ln α| + s |ln β|) absolute, hence atol below
    ((53.0, 101.0, 8.0, 1.0), 0, 0.0, 1e-9, -5.2475247314591711e-10),
    ((2.0, 1e4, 1.5, 0.5), 300, 1.0, 1.0 + 1e-9, -1344.167268306171),
]

# (params, x, t_x, T, P(alive))
PALIVE_CASES = [
    ((0.55, 10.58, 0.61, 11.67), 2, 30.43, 38.86, 0.86841091713209172),
    ((0.55, 10.58, 0.61, 11.67), 0, 0.0, 38.86, 0.29377395046742047),
    ((0.55, 10.58, 0.61, 11.67), 1, 1.0, 38.0, 0.15485975078890685),
    ((0.55, 10.58, 0.61, 11.67), 1, 30.0, 38.0, 0.88438376362938629),
    ((0.55, 11.67, 0.61, 10.58), 7, 5.0, 38.86, 0.0014440616005802104),
    ((0.5, 5.0, 0.5, 40.0), 1, 0.5, 30.0, 0.42394973429615382),
    ((0.5, 1e4, 0.5, 1.0), 2, 0.0, 3.0, 0.49987501770763501),
    ((1e-4, 1e4, 1e-4, 1e-4), 0, 0.0, 1e4, 0.99815950835193277),
]

# (params, t, x, t_x, T, E[Y(t) | x, t_x, T]); s = 1 uses the limit
# (r+x)/(α+T) (β+T) log(1 + t/(β+T)) P(alive).
CONDITIONAL_CASES = [
    ((0.55, 10.58, 0.61, 11.67), 39.0, 2, 30.43, 38.86, 1.450371374791711),
    ((0.55, 10.58, 0.61, 11.67), 39.0, 0, 0.0, 38.86, 0.10582535589031975),
    ((0.55, 10.58, 0.61, 11.67), 10.0, 10, 35.0, 38.86, 1.8697448741206656),
    ((0.55, 10.58, 1.0, 11.67), 39.0, 2, 30.43, 38.86, 1.1847004781592812),
    ((0.55, 10.58, 2.5, 11.67), 39.0, 2, 30.43, 38.86, 0.57054638320209184),
    ((0.5, 5.0, 0.5, 40.0), 52.0, 20, 0.5, 30.0, 1.9377233187270543e-13),
]

# (params, t, E[X(t)])
EXPECTED_CASES = [
    ((0.55, 10.58, 0.61, 11.67), 39.0, 1.2023523628319926),
    ((0.55, 10.58, 0.61, 11.67), 78.0, 1.8899983705311563),
    ((0.55, 10.58, 0.61, 11.67), 1e-06, 5.1984875768009096e-8),
    ((0.55, 10.58, 2.5, 11.67), 39.0, 0.35973935670788499),
    ((1e-4, 1e4, 1e-4, 1e-4), 1e4, 9.9825945341766418e-5),
    ((1e4, 1e-4, 1e4, 1e4), 1e4, 100010001.00010001),
]

# (params, n, t, P(X(t) = n))
PMF_CASES = [
    ((0.55, 10.58, 0.61, 11.67), 0, 39.0, 0.59601979187789221),
    ((0.55, 10.58, 0.61, 11.67), 1, 39.0, 0.16510575094241086),
    ((0.55, 10.58, 0.61, 11.67), 2, 39.0, 0.082032530660833778),
    ((0.55, 10.58, 0.61, 11.67), 10, 39.0, 0.0041413357395718502),
    ((0.55, 10.58, 0.61, 11.67), 0, 0.5, 0.97523944012161132),
    ((0.5, 5.0, 0.5, 40.0), 3, 52.0, 0.065452869097777105),
    ((2.0, 1.0, 3.0, 0.5), 5, 20.0, 0.0054881532436057945),
    ((0.55, 11.67, 0.61, 10.58), 50, 100.0, 3.2489861574872311e-5),
    ((1.0, 0.5, 0.1, 100.0), 200, 100.0, 0.0017752529702614447),
]


# --------------------------------------------------------------------------- reference values


@pytest.mark.parametrize(("theta", "x", "tx", "T", "expected"), LOGLIK_CASES)
def test_log_likelihood_per_customer_matches_mpmath(theta, x, tx, T, expected):
    got = pareto_nbd.log_likelihood_per_customer(_params(theta), [x], [tx], [T])
    assert_allclose(got, [expected], rtol=1e-10, atol=1e-13)


def test_reference_function_reproduces_a_pinned_value():
    # The pinned tables were printed by _mp_loglik / _mp_palive; recompute two cheap rows.
    theta, x, tx, T, expected = LOGLIK_CASES[1]
    assert_allclose(float(_mp_loglik(theta, x, tx, T)), expected, rtol=1e-15)
    theta, x, tx, T, expected = PALIVE_CASES[0]
    assert_allclose(float(_mp_palive(theta, x, tx, T)), expected, rtol=1e-15)


def test_log_likelihood_is_the_weighted_total():
    theta, x, tx, T, expected = LOGLIK_CASES[1]
    total = pareto_nbd.log_likelihood(_params(theta), [x, 0], [tx, 0.0], [T, 38.86], weights=[3, 2])
    assert_allclose(total, 3 * expected + 2 * LOGLIK_CASES[0][4], rtol=1e-12)


def test_zero_observation_time_has_likelihood_one():
    # T = 0: nothing could happen, L = 1 exactly (both terms of eq. 22 collapse).
    got = pareto_nbd.log_likelihood_per_customer(CDNOW, [0], [0.0], [0.0])
    assert_allclose(got, [0.0], atol=1e-15)


@pytest.mark.parametrize(("theta", "x", "tx", "T", "expected"), PALIVE_CASES)
def test_probability_alive_matches_mpmath(theta, x, tx, T, expected):
    got = pareto_nbd.probability_alive(_params(theta), [x], [tx], [T])
    assert_allclose(got, [expected], rtol=1e-10)


@pytest.mark.parametrize("case", CONDITIONAL_CASES)
def test_conditional_expected_purchases_matches_mpmath(case):
    theta, t, x, tx, T, expected = case
    got = pareto_nbd.conditional_expected_purchases(_params(theta), t, [x], [tx], [T])
    assert_allclose(got, [expected], rtol=1e-10)


@pytest.mark.parametrize(("theta", "t", "expected"), EXPECTED_CASES)
def test_expected_purchases_matches_mpmath(theta, t, expected):
    assert_allclose(pareto_nbd.expected_purchases(_params(theta), t), expected, rtol=1e-12)


def test_expected_purchases_at_s_equal_one_is_the_logarithmic_limit():
    # s = 1: E[X(t)] = r β/α log(1 + t/β) (limit of the SMC formula).
    p = ParetoNbdParams(r=0.55, alpha=10.58, s=1.0, beta=11.67)
    assert_allclose(
        pareto_nbd.expected_purchases(p, 39.0), 0.55 * 11.67 / 10.58 * np.log1p(39 / 11.67)
    )
    near = ParetoNbdParams(r=0.55, alpha=10.58, s=1.0 + 1e-9, beta=11.67)
    assert_allclose(
        pareto_nbd.expected_purchases(near, 39.0),
        pareto_nbd.expected_purchases(p, 39.0),
        rtol=1e-8,
    )


@pytest.mark.parametrize(("theta", "n", "t", "expected"), PMF_CASES)
def test_purchase_probability_matches_mpmath(theta, n, t, expected):
    got = pareto_nbd.purchase_probability(_params(theta), n, t)
    assert isinstance(got, float)
    assert_allclose(got, expected, rtol=1e-9)


def test_purchase_probability_at_time_zero():
    got = pareto_nbd.purchase_probability(CDNOW, [0, 1, 5], 0.0)
    assert_allclose(got, [1.0, 0.0, 0.0])


def test_published_cdnow_fit_reproduces_its_log_likelihood():
    # Not the data (which may not be copied), but a check of the likelihood's
    # scale: the fit result of the public doc example is reproducible.
    f = pareto_nbd.fit(
        [0, 1, 1, 2, 2, 3, 5, 7],
        [0, 2, 30, 10, 35, 20, 36, 38],
        [39] * 8,
        weights=[600, 80, 60, 40, 50, 30, 25, 15],
    )
    assert isinstance(f, ParetoNbdFit)
    direct = pareto_nbd.log_likelihood(
        f.params,
        [0, 1, 1, 2, 2, 3, 5, 7],
        [0, 2, 30, 10, 35, 20, 36, 38],
        [39] * 8,
        weights=[600, 80, 60, 40, 50, 30, 25, 15],
    )
    assert_allclose(f.log_likelihood, direct, rtol=1e-12)
    assert f.converged
    assert f.n_customers == 900.0
    assert f.covariance.shape == (4, 4)


# --------------------------------------------------------------------------- gradient


def _fd_gradient(data, theta, h=1e-6):
    obj = pareto_nbd._Objective(data)
    grad = np.empty(4)
    for j in range(4):
        up, down = theta.copy(), theta.copy()
        up[j] *= np.exp(h)
        down[j] *= np.exp(-h)
        grad[j] = (obj(up)[0] - obj(down)[0]) / (up[j] - down[j])
    return grad


@pytest.mark.parametrize(
    "theta",
    [
        (0.55, 10.58, 0.61, 11.67),  # alpha < beta, small z
        (0.55, 11.67, 0.61, 10.58),  # alpha > beta
        (0.5, 5.0, 0.5, 40.0),  # Taylor expansions near z = 1, continued fraction
        (0.5, 1e4, 0.5, 1.0),  # quadrature rows
        (1.0, 3.0, 1.0, 3.0),  # alpha = beta
    ],
)
def test_analytic_gradient_matches_central_differences(theta):
    # Central differences of the (mpmath-checked) log-likelihood in log-parameters.
    from crmcore.summary import compress

    x = np.array([0, 0, 1, 1, 2, 3, 5, 8, 20, 100, 3])
    tx = np.array([0, 0, 0.5, 20.0, 2.0, 29.0, 10.0, 30.0, 0.5, 25.0, 30.0])
    T = np.array([30.0, 12.0, 30.0, 30.0, 30.0, 30.0, 30.0, 31.0, 30.0, 30.0, 30.0])
    data = compress(x, tx, T)
    th = np.array(theta)
    value, grad = pareto_nbd._Objective(data)(th)
    assert np.isfinite(value)
    assert_allclose(grad, _fd_gradient(data, th), rtol=2e-6, atol=1e-6)


# --------------------------------------------------------------------------- Monte Carlo


def _draw(theta, T, n, seed, holdout=0.0):
    """Independent simulator of the SMC (1987) story: λ ~ Γ(r, α), μ ~ Γ(s, β),
    lifetime τ ~ Exp(μ), purchases Poisson(λ) on (0, min(τ, T)]."""
    r, alpha, s, beta = theta
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    mu = rng.gamma(s, 1.0 / beta, n)
    tau = rng.exponential(1.0 / mu)
    live = np.minimum(tau, T)
    x = rng.poisson(lam * live)
    # the last of x uniform times on (0, live)
    tx = np.where(x > 0, live * rng.beta(np.maximum(x, 1), 1.0), 0.0)
    hold = rng.poisson(lam * np.clip(np.minimum(tau, T + holdout) - T, 0.0, None))
    return x, tx, np.full(n, float(T)), tau > T, hold


def test_closed_forms_match_monte_carlo():
    theta = (0.55, 10.58, 0.61, 11.67)
    p = _params(theta)
    n = 200_000
    x, tx, T, alive, hold = _draw(theta, 39.0, n, seed=11, holdout=39.0)
    # E[X(39)] of a new customer
    se = x.std() / np.sqrt(n)
    assert abs(x.mean() - pareto_nbd.expected_purchases(p, 39.0)) < 4 * se
    # P(X(39) = k), k = 0..4
    pmf = pareto_nbd.purchase_probability(p, np.arange(5), 39.0)
    freq = np.bincount(x, minlength=5)[:5] / n
    assert np.all(np.abs(freq - pmf) < 4 * np.sqrt(pmf * (1 - pmf) / n))
    # P(alive) averaged over customers equals the share alive at T (law of total probability)
    pa = pareto_nbd.probability_alive(p, x, tx, T)
    assert abs(pa.mean() - alive.mean()) < 4 * np.sqrt(0.25 / n)
    # the same within a slice of histories (x = 1, early last purchase)
    sl = (x == 1) & (tx < 10)
    assert abs(pa[sl].mean() - alive[sl].mean()) < 4 * np.sqrt(0.25 / sl.sum())
    # conditional expectation of the next 39 periods, averaged by calibration frequency
    ce = pareto_nbd.conditional_expected_purchases(p, 39.0, x, tx, T)
    for k in (0, 1, 2):
        sel = x == k
        se_k = hold[sel].std() / np.sqrt(sel.sum())
        assert abs(ce[sel].mean() - hold[sel].mean()) < 4 * se_k


@settings(max_examples=25)
@given(
    r=st.floats(0.2, 5.0),
    alpha=st.floats(0.5, 100.0),
    s=st.floats(0.05, 5.0),
    beta=st.floats(0.1, 100.0),
    t=st.floats(0.1, 100.0),
)
def test_pmf_sums_to_one_and_gives_the_mean(r, alpha, s, beta, t):
    from scipy.stats import nbinom

    p = ParetoNbdParams(r=r, alpha=alpha, s=s, beta=beta)
    # X(t) is at most the count of a customer who never dies, NB(r, α/(α+t)):
    # truncate where that tail is below 1e-13.
    k = np.arange(int(nbinom.isf(1e-13, r, alpha / (alpha + t))) + 2)
    pmf = pareto_nbd.purchase_probability(p, k, t)
    assert np.all((pmf >= 0) & (pmf <= 1))
    assert_allclose(pmf.sum(), 1.0, atol=1e-10)
    assert_allclose((k * pmf).sum(), pareto_nbd.expected_purchases(p, t), rtol=1e-8, atol=1e-12)


# --------------------------------------------------------------------------- properties

_theta = st.tuples(
    st.floats(1e-3, 1e3), st.floats(1e-3, 1e3), st.floats(1e-3, 1e3), st.floats(1e-3, 1e3)
)


@st.composite
def _histories(draw, max_rows=6):
    n = draw(st.integers(1, max_rows))
    T = np.array(draw(st.lists(st.floats(0.0, 500.0), min_size=n, max_size=n)))
    share = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)))
    x = np.array(draw(st.lists(st.integers(0, 300), min_size=n, max_size=n)))
    tx = np.where(x > 0, T * share, 0.0)
    return x, tx, T


@given(theta=_theta, h=_histories())
def test_probability_alive_is_a_probability_and_likelihood_finite(theta, h):
    x, tx, T = h
    p = _params(theta)
    pa = pareto_nbd.probability_alive(p, x, tx, T)
    assert np.all((pa >= 0) & (pa <= 1))
    ll = pareto_nbd.log_likelihood_per_customer(p, x, tx, T)
    assert np.all(np.isfinite(ll))


@settings(max_examples=40)
@given(theta=_theta, h=_histories(), scale=st.sampled_from([7.0, 24.0, 1 / 7]))
def test_time_unit_rescales_alpha_beta_only(theta, h, scale):
    # Measuring time in units 1/scale as long multiplies T, t_x, α, β by scale:
    # P(alive) and expectations are unchanged and each log-likelihood shifts by
    # -x log(scale) (the density of the x purchase times).
    x, tx, T = h
    p = _params(theta)
    q = ParetoNbdParams(r=p.r, alpha=p.alpha * scale, s=p.s, beta=p.beta * scale)
    assert_allclose(
        pareto_nbd.probability_alive(q, x, tx * scale, T * scale),
        pareto_nbd.probability_alive(p, x, tx, T),
        rtol=1e-8,
        atol=1e-12,
    )
    assert_allclose(
        pareto_nbd.log_likelihood_per_customer(q, x, tx * scale, T * scale),
        pareto_nbd.log_likelihood_per_customer(p, x, tx, T) - x * np.log(scale),
        rtol=1e-9,
        atol=1e-9,
    )
    assert_allclose(
        pareto_nbd.conditional_expected_purchases(q, 10.0 * scale, x, tx * scale, T * scale),
        pareto_nbd.conditional_expected_purchases(p, 10.0, x, tx, T),
        rtol=1e-8,
        atol=1e-300,
    )


@given(theta=_theta, h=_histories(), data=st.data())
def test_log_likelihood_is_order_invariant(theta, h, data):
    x, tx, T = h
    perm = np.array(data.draw(st.permutations(list(range(x.size)))))
    p = _params(theta)
    a = pareto_nbd.log_likelihood(p, x, tx, T)
    b = pareto_nbd.log_likelihood(p, x[perm], tx[perm], T[perm])
    assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@given(theta=_theta, h=_histories(), t1=st.floats(0.0, 100.0), t2=st.floats(0.0, 100.0))
def test_conditional_expectation_nonnegative_and_nondecreasing(theta, h, t1, t2):
    x, tx, T = h
    p = _params(theta)
    lo, hi = min(t1, t2), max(t1, t2)
    a = pareto_nbd.conditional_expected_purchases(p, lo, x, tx, T)
    b = pareto_nbd.conditional_expected_purchases(p, hi, x, tx, T)
    assert np.all(a >= 0)
    assert np.all(b >= a * (1 - 1e-12))


@given(theta=_theta, x=st.integers(1, 200), T=st.floats(1.0, 500.0))
def test_probability_alive_grows_with_recency(theta, x, T):
    # The later the last purchase, the likelier the customer is still alive.
    p = _params(theta)
    tx = np.linspace(0.0, T, 7)
    pa = pareto_nbd.probability_alive(p, np.full(7, x), tx, np.full(7, T))
    assert np.all(np.diff(pa) >= -1e-12)
    assert_allclose(pa[-1], 1.0)


def test_weights_equal_exploded_rows():
    x = np.array([0, 1, 1, 3, 7])
    tx = np.array([0.0, 2.0, 30.0, 20.0, 38.0])
    T = np.array([39.0, 39.0, 35.0, 39.0, 39.0])
    w = np.array([30, 5, 4, 3, 2])
    p = CDNOW
    assert_allclose(
        pareto_nbd.log_likelihood(p, x, tx, T, weights=w),
        pareto_nbd.log_likelihood(p, np.repeat(x, w), np.repeat(tx, w), np.repeat(T, w)),
        rtol=1e-12,
    )
    fw = pareto_nbd.fit(x, tx, T, weights=w)
    fe = pareto_nbd.fit(np.repeat(x, w), np.repeat(tx, w), np.repeat(T, w))
    assert_allclose(fw.params.as_array(), fe.params.as_array(), rtol=1e-8)
    assert_allclose(fw.log_likelihood, fe.log_likelihood, rtol=1e-12)
    assert fw.n_customers == fe.n_customers == w.sum()


def test_fit_accepts_a_customer_summary_and_methods_delegate():
    h = pareto_nbd_histories(0.55, 10.58, 0.61, 11.67, T=39.0, n_customers=1500, rng=5)
    summary = CustomerSummary.from_arrays(h.frequency, h.recency, h.T, time_unit="W")
    f = pareto_nbd.fit(summary)
    g = pareto_nbd.fit(h.frequency, h.recency, h.T)
    assert_allclose(f.params.as_array(), g.params.as_array(), rtol=1e-10)
    assert_allclose(f.probability_alive(summary), pareto_nbd.probability_alive(f.params, summary))
    assert_allclose(
        f.conditional_expected_purchases(10.0, summary),
        pareto_nbd.conditional_expected_purchases(f.params, 10.0, summary),
    )
    assert_allclose(
        f.expected_purchases([1.0, 2.0]), pareto_nbd.expected_purchases(f.params, [1.0, 2.0])
    )
    assert f.purchase_probability(1, 3.0) == pareto_nbd.purchase_probability(f.params, 1, 3.0)
    assert_allclose(f.log_likelihood_per_customer(summary).sum(), f.log_likelihood, rtol=1e-10)


def test_fit_uses_a_sample_for_the_start_on_many_histories(monkeypatch):
    # More distinct histories than _SAMPLE_ROWS: the search starts from a fit to
    # a systematic sample; the optimum must be the same as from another start.
    monkeypatch.setattr(pareto_nbd, "_SAMPLE_ROWS", 300)
    h = pareto_nbd_histories(0.55, 10.58, 0.61, 11.67, T=39.0, n_customers=3000, rng=8)
    f = pareto_nbd.fit(h.frequency, h.recency, h.T)
    g = pareto_nbd.fit(
        h.frequency, h.recency, h.T, initial=ParetoNbdParams(r=1, alpha=5, s=1, beta=5)
    )
    assert_allclose(f.params.as_array(), g.params.as_array(), rtol=1e-5)
    assert_allclose(f.log_likelihood, g.log_likelihood, rtol=1e-12)


@pytest.mark.slow
def test_parameter_recovery_within_three_standard_errors():
    # 50,000 customers drawn with known parameters; repeated draws: the standard
    # errors match the spread of the estimates.
    truth = np.array([0.55, 10.58, 0.61, 11.67])
    rng = np.random.default_rng(2024)
    estimates, ses = [], []
    for _ in range(3):
        T = rng.uniform(20.0, 52.0, 50_000)
        h = pareto_nbd_histories(*truth, T=T, rng=rng)
        f = pareto_nbd.fit(h.frequency, h.recency, h.T)
        est, se = f.params.as_array(), f.standard_errors.as_array()
        assert np.all(np.abs(est - truth) < 3 * se), (est, se)
        estimates.append(est)
        ses.append(se)
    spread = np.std(estimates, axis=0, ddof=1)
    mean_se = np.mean(ses, axis=0)
    # three draws: the sample sd is within a factor 3 of the asymptotic SE
    assert np.all(spread < 3 * mean_se)
    assert np.all(spread > mean_se / 10)


# --------------------------------------------------------------------------- stability


def test_extreme_inputs_give_finite_results_without_warnings():
    # pytest turns numpy warnings into errors; every combination must be finite.
    grid = [1e-4, 1.0, 1e4]
    x = np.array([0, 1, 10, 10_000, 10_000, 5])
    tx = np.array([0.0, 0.0, 1e-3, 9999.0, 10_000.0, 0.0])
    T = np.array([0.0, 1e4, 1e4, 1e4, 1e4, 1.0])
    for r in grid:
        for alpha in grid:
            for s in grid:
                for beta in grid:
                    p = ParetoNbdParams(r=r, alpha=alpha, s=s, beta=beta)
                    ll = pareto_nbd.log_likelihood_per_customer(p, x, tx, T)
                    assert np.all(np.isfinite(ll)), (r, alpha, s, beta, ll)
                    pa = pareto_nbd.probability_alive(p, x, tx, T)
                    assert np.all((pa >= 0) & (pa <= 1))
                    ce = pareto_nbd.conditional_expected_purchases(p, 52.0, x, tx, T)
                    assert np.all(np.isfinite(ce) & (ce >= 0))
                    _, grad = pareto_nbd._Objective(_compressed(x, tx, T))(p.as_array())
                    assert np.all(np.isfinite(grad))


@settings(max_examples=40)
@given(
    theta=_theta,
    customer=st.tuples(st.integers(0, 10**6), st.floats(0.0, 1.0), st.floats(0.0, 1e7)),
    t=st.floats(0.0, 1e7),
)
def test_huge_frequency_zero_recency_and_old_customers_are_finite(theta, customer, t):
    # Up to a million repeat purchases, recency 0 or anywhere up to T, T up to 1e7
    # time units: every prediction finite, in its range, and no numpy warning.
    x, share, T = customer
    p = _params(theta)
    xs = np.array([x, x, 0])
    tx = np.array([0.0, share * T, 0.0]) * (xs > 0)
    big_t = np.array([T, T, T])
    ll = pareto_nbd.log_likelihood_per_customer(p, xs, tx, big_t)
    pa = pareto_nbd.probability_alive(p, xs, tx, big_t)
    ce = pareto_nbd.conditional_expected_purchases(p, t, xs, tx, big_t)
    cp = pareto_nbd.conditional_purchase_probability(p, t, xs, tx, big_t)
    e = pareto_nbd.expected_purchases(p, t)
    assert np.all(np.isfinite(ll))
    assert np.all((pa >= 0) & (pa <= 1))
    assert np.all(np.isfinite(ce) & (ce >= 0))
    assert np.all((cp >= 0) & (cp <= pa))
    assert np.isfinite(e)
    assert e >= 0


@pytest.mark.parametrize("t", [5e-324, 1e-310, 1e-300])
def test_subnormal_times_give_finite_predictions(t):
    # The smallest positive floats as horizons. P(X(t) = 0) -> 1 and, to first order in
    # t (Fader & Hardie 2006 with the death integral ~ t^(n+1)/(n+1) α^-(r+n) β^-(s+1)),
    # P(X(t) = 1) = r t / α; the one-step limits of the conditional predictions bound them.
    pmf = pareto_nbd.purchase_probability(CDNOW, [0, 1, 2], t)
    assert np.all(np.isfinite(pmf))
    assert pmf[0] == 1.0
    assert_allclose(pmf[1], 0.55 / 10.58 * t, rtol=1e-9, atol=0.0 if t > 1e-308 else 1e-323)
    assert pmf[2] == 0.0
    e = pareto_nbd.expected_purchases(CDNOW, t)
    assert 0.0 <= e <= 0.55 / 10.58 * t * (1 + 1e-12)
    ce = pareto_nbd.conditional_expected_purchases(CDNOW, t, [2, 0], [30.0, 0.0], [38.0, 38.0])
    cp = pareto_nbd.conditional_purchase_probability(CDNOW, t, [2, 0], [30.0, 0.0], [38.0, 38.0])
    assert np.all(np.isfinite(ce) & (ce >= 0) & np.isfinite(cp) & (cp >= 0))


def _compressed(x, tx, T):
    from crmcore.summary import compress

    return compress(x, tx, T)


def test_extreme_pmf_is_finite():
    for theta in [(1e-4, 1e4, 1e-4, 1e-4), (1e4, 1e-4, 1e4, 1e4), (1e-4, 1e-4, 1e4, 1e4)]:
        pmf = pareto_nbd.purchase_probability(_params(theta), [0, 1, 100, 10_000], 1e4)
        assert np.all(np.isfinite(pmf) & (pmf >= 0) & (pmf <= 1))


# --------------------------------------------------------------------------- errors


def test_params_are_validated():
    with pytest.raises(InputError, match=r"alpha must be > 0\.0"):
        ParetoNbdParams(r=1.0, alpha=0.0, s=1.0, beta=1.0)
    with pytest.raises(InputError, match="beta must be finite"):
        ParetoNbdParams(r=1.0, alpha=1.0, s=1.0, beta=float("inf"))
    with pytest.raises(InputTypeError, match="r must be a real number"):
        ParetoNbdParams(r="1", alpha=1.0, s=1.0, beta=1.0)


def test_functions_reject_bad_input():
    with pytest.raises(InputTypeError, match="params must be ParetoNbdParams"):
        pareto_nbd.probability_alive((1, 1, 1, 1), [1], [1.0], [2.0])
    with pytest.raises(InputError, match="recency must not exceed T"):
        pareto_nbd.log_likelihood(CDNOW, [1], [3.0], [2.0])
    with pytest.raises(InputError, match="recency must be 0 where frequency is 0"):
        pareto_nbd.probability_alive(CDNOW, [0], [1.0], [2.0])
    with pytest.raises(InputError, match="T must have the same length as frequency"):
        pareto_nbd.conditional_expected_purchases(CDNOW, 1.0, [1], [0.5], [2.0, 3.0])
    with pytest.raises(InputError, match=r"t must be >= 0\.0"):
        pareto_nbd.conditional_expected_purchases(CDNOW, -1.0, [1], [0.5], [2.0])
    with pytest.raises(InputError, match="t must be non-negative"):
        pareto_nbd.expected_purchases(CDNOW, [1.0, -2.0])
    with pytest.raises(InputError, match="n must be non-negative"):
        pareto_nbd.purchase_probability(CDNOW, [-1], 2.0)
    with pytest.raises(InputError, match="n and t must broadcast together"):
        pareto_nbd.purchase_probability(CDNOW, [1, 2], [1.0, 2.0, 3.0])
    with pytest.raises(InputTypeError, match="recency and T are required"):
        pareto_nbd.probability_alive(CDNOW, [1])
    s = CustomerSummary.from_arrays([1], [0.5], [2.0])
    with pytest.raises(
        InputTypeError, match="must be left out when frequency is a CustomerSummary"
    ):
        pareto_nbd.probability_alive(CDNOW, s, [0.5], [2.0])


def test_purchase_probability_takes_counts_of_any_shape():
    # As in the BG/NBD and MBG/NBD models: a 2-d table of counts against a column of
    # times; each cell is the scalar call.
    n = np.array([[0, 1, 2], [3, 4, 5]])
    t = np.array([[10.0], [39.0]])
    got = pareto_nbd.purchase_probability(CDNOW, n, t)
    assert got.shape == (2, 3)
    for i in range(2):
        for j in range(3):
            expected = pareto_nbd.purchase_probability(CDNOW, int(n[i, j]), float(t[i, 0]))
            assert_allclose(got[i, j], expected, rtol=1e-15)
    assert pareto_nbd.purchase_probability(CDNOW, n, 39.0).shape == (2, 3)


def test_integers_beyond_the_float_range_raise_input_error():
    # float(10**400) overflows; every argument reports it under its own name.
    big = 10**400
    for name in ("r", "alpha", "s", "beta"):
        kw = {"r": 1.0, "alpha": 1.0, "s": 1.0, "beta": 1.0, name: big}
        with pytest.raises(
            InputError,
            match=rf"^{name} must (be( a)? finite|fit in a 64-bit)",
        ):
            ParetoNbdParams(**kw)
    with pytest.raises(
        InputError,
        match=r"^t must (be( a)? finite|fit in a 64-bit)",
    ):
        pareto_nbd.expected_purchases(CDNOW, big)
    with pytest.raises(
        InputError,
        match=r"^t must (be( a)? finite|fit in a 64-bit)",
    ):
        pareto_nbd.conditional_expected_purchases(CDNOW, big, [1], [1.0], [2.0])
    with pytest.raises(
        InputError,
        match=r"^t must (be( a)? finite|fit in a 64-bit)",
    ):
        pareto_nbd.conditional_purchase_probability(CDNOW, big, [1], [1.0], [2.0])
    with pytest.raises(
        InputError,
        match=r"^n must (be( a)? finite|fit in a 64-bit)",
    ):
        pareto_nbd.purchase_probability(CDNOW, [big], 1.0)
    with pytest.raises(
        InputError,
        match=r"^frequency must (be( a)? finite|fit in a 64-bit)",
    ):
        pareto_nbd.probability_alive(CDNOW, [big], [1.0], [2.0])
    with pytest.raises(
        InputError,
        match=r"^T must (be( a)? finite|fit in a 64-bit)",
    ):
        pareto_nbd.log_likelihood_per_customer(CDNOW, [1], [1.0], [big])
    with pytest.raises(
        InputError,
        match=r"^recency must (be( a)? finite|fit in a 64-bit)",
    ):
        pareto_nbd.fit([1], [big], [2.0])


def test_fit_rejects_bad_input():
    with pytest.raises(InputTypeError, match="initial must be ParetoNbdParams"):
        pareto_nbd.fit([1, 0], [1.0, 0.0], [2.0, 2.0], initial=(1, 1, 1, 1))
    with pytest.raises(InputError, match="weights must be non-negative"):
        pareto_nbd.fit([1, 0], [1.0, 0.0], [2.0, 2.0], weights=[1, -1])
    with pytest.raises(InputError, match="at least one customer"):
        pareto_nbd.fit([1, 0], [1.0, 0.0], [2.0, 2.0], weights=[0, 0])


def test_fit_without_repeat_purchases_raises_convergence_error():
    # Nobody buys again: r/alpha -> 0 is not identified, the driver says so.
    with pytest.raises(ConvergenceError, match="Pareto/NBD"):
        pareto_nbd.fit([0, 0, 0], [0.0, 0.0, 0.0], [10.0, 20.0, 30.0], weights=[100, 100, 100])


def test_empty_input_gives_empty_output():
    assert pareto_nbd.probability_alive(CDNOW, [], [], []).shape == (0,)
    assert pareto_nbd.log_likelihood_per_customer(CDNOW, [], [], []).shape == (0,)
    assert pareto_nbd.conditional_expected_purchases(CDNOW, 1.0, [], [], []).shape == (0,)


# ------------------------------------------------------------------------ P(purchase in (T, T+t])
# Reference, independent of the 1-d integral the module evaluates: P(alive) (_mp_palive) times
# the model's own statement averaged over the posterior given alive at T, a 2-d mpmath
# quadrature at mp.dps = 20 over λ ~ Γ(r+x, α+T), μ ~ Γ(s, β+T) of
#   P(next purchase before death and before T+t | λ, μ) = λ/(λ+μ) (1 - exp(-(λ+μ) t)):
#   f = lambda lam, mu: gamma_pdf(lam; r+x, α+T) gamma_pdf(mu; s, β+T) lam/(lam+mu)
#                       * -expm1(-(lam+mu) t)
#   _mp_palive(theta, x, tx, T) * mp.quad(f, [0, 1/(α+T+t)/10, 1/(α+T), 10/(α+T), inf],
#                                          [0, 0.05, 0.5, 5, inf])
# (the same quadrature agrees with the module's tanh-sinh rule to 1.5e-15 on the first cases).
PURCHASE_CASES = [
    ((0.55, 10.58, 0.61, 11.67), 2, 30.43, 38.86, 39.0, 0.59060639576647455),
    ((0.55, 10.58, 0.61, 11.67), 0, 0.0, 38.86, 39.0, 0.068538216245915686),
    ((0.55, 10.58, 0.61, 11.67), 5, 20.0, 39.0, 1e-4, 4.0287893581979894e-6),
    ((1.2, 2.0, 0.8, 30.0), 25, 50.0, 52.0, 10.0, 0.93767856691241509),
]


@pytest.mark.parametrize("case", PURCHASE_CASES)
def test_conditional_purchase_probability_mpmath(case):
    theta, x, tx, T, t, expected = case
    got = pareto_nbd.conditional_purchase_probability(_params(theta), t, [x], [tx], [T])
    assert_allclose(got, [expected], rtol=1e-11)


def test_conditional_purchase_probability_matches_crmcore_simulate():
    # Share of simulated customers (true parameters, continued past T by crmcore.simulate's
    # holdout) with a purchase in (T, T+t], per frequency group. Measured: |z| <= 1.2 in every
    # group for t = 1 and 39 (200k customers).
    theta = (0.55, 10.58, 0.61, 11.67)
    p = _params(theta)
    for t, seed in ((1.0, 11), (39.0, 12)):
        sim = pareto_nbd_histories(
            *theta, T=39.0, n_customers=100_000, duration_holdout=t, rng=seed
        )
        pred = pareto_nbd.conditional_purchase_probability(p, t, sim.frequency, sim.recency, sim.T)
        hit = sim.frequency_holdout > 0
        x = sim.frequency
        for group in (x >= 0, x == 0, x == 1, (x >= 2) & (x < 6), x >= 6):
            k = group.sum()
            share = hit[group].mean()
            assert abs(pred[group].mean() - share) < 4 * np.sqrt(share * (1 - share) / k) + 1e-4


@settings(max_examples=60)
@given(theta=_theta, h=_histories(), t1=st.floats(0.0, 200.0), dt=st.floats(0.0, 200.0))
def test_conditional_purchase_probability_bounds_monotone_and_limit(theta, h, t1, dt):
    x, tx, T = h
    p = _params(theta)
    q1 = pareto_nbd.conditional_purchase_probability(p, t1, x, tx, T)
    q2 = pareto_nbd.conditional_purchase_probability(p, t1 + dt, x, tx, T)
    q0 = pareto_nbd.conditional_purchase_probability(p, 0.0, x, tx, T)
    pa = pareto_nbd.probability_alive(p, x, tx, T)
    # exactly, without tolerance: both come from the same log P(alive)
    assert np.all((q1 >= 0) & (q1 <= pa))
    assert np.all(q2 >= q1 * (1 - 1e-10))
    assert np.all(q0 == 0.0)


@settings(max_examples=60)
@given(theta=_theta, h=_histories(), t=st.floats(1e-8, 200.0))
def test_conditional_purchase_probability_closed_form_when_alpha_equals_beta(theta, h, t):
    # α = β: λ+μ ~ Γ(r+x+s, α+T) independent of λ/(λ+μ) ~ Beta(r+x, s), so
    # P / P(alive) = (r+x)/(r+x+s) (1 - ((α+T)/(α+T+t))^(r+x+s)).
    r, alpha, s, _ = theta
    x, tx, T = h
    p = ParetoNbdParams(r=r, alpha=alpha, s=s, beta=alpha)
    n = r + x
    expected = n / (n + s) * -np.expm1(-(n + s) * np.log1p(t / (alpha + T)))
    got = pareto_nbd.conditional_purchase_probability(p, t, x, tx, T)
    assert_allclose(got, pareto_nbd.probability_alive(p, x, tx, T) * expected, rtol=1e-9)


def test_conditional_purchase_probability_summary_fit_and_errors():
    s = CustomerSummary.from_arrays([2, 0], [10.0, 0.0], [20.0, 20.0])
    direct = pareto_nbd.conditional_purchase_probability(
        CDNOW, 5.0, [2, 0], [10.0, 0.0], [20.0, 20.0]
    )
    assert_allclose(pareto_nbd.conditional_purchase_probability(CDNOW, 5.0, s), direct)
    x, tx, T, *_ = _draw((0.55, 10.58, 0.61, 11.67), 39.0, 3000, seed=5)
    f = pareto_nbd.fit(x, tx, T)
    assert_allclose(
        f.conditional_purchase_probability(5.0, s),
        pareto_nbd.conditional_purchase_probability(f.params, 5.0, s),
    )
    assert pareto_nbd.conditional_purchase_probability(CDNOW, 5.0, [], [], []).shape == (0,)
    with pytest.raises(InputError, match=r"t must be >= 0\.0"):
        pareto_nbd.conditional_purchase_probability(CDNOW, -1.0, s)
    with pytest.raises(InputTypeError, match="params must be ParetoNbdParams"):
        pareto_nbd.conditional_purchase_probability((0.55, 10.58, 0.61, 11.67), 1.0, s)
    with pytest.raises(InputTypeError, match="must be left out"):
        pareto_nbd.conditional_purchase_probability(CDNOW, 1.0, s, [1.0], [2.0])


def test_ragged_n_raises_input_error_naming_n():
    # Fuzz finding: a ragged list of counts leaked numpy's ValueError.
    p = ParetoNbdParams(r=0.55, alpha=10.58, s=0.61, beta=11.67)
    with pytest.raises(InputError, match="n must be a flat sequence"):
        pareto_nbd.purchase_probability(p, [[1, 2], [3]], 39.0)


@pytest.mark.parametrize(
    "theta",
    [
        (0.55, 10.58, 0.61, 11.67),  # CDNOW: alpha < beta
        (2.0, 30.0, 15.0, 3.0),  # alpha > beta
        (0.8, 1000.0, 0.5, 1.0),  # some points left to the quadrature (hard)
    ],
)
def test_fit_evaluation_into_buffers_equals_the_row_terms(
    theta: tuple[float, float, float, float],
) -> None:
    # The fit's evaluation writes into buffers kept with the rows (_fit_total); the
    # reference is the per-row computation shared with the predictions (_row_terms):
    # the same total and gradient to rounding, and the same again on a second call
    # (the buffers carry nothing over).
    rng = np.random.default_rng(11)
    n = 3_000
    x = np.concatenate([rng.poisson(2.0, n - 3).astype(float), [70.0, 70.0, 80.0]])
    big_t = rng.uniform(1.0, 40.0, n)
    big_t[-3:] = 10.0
    tx = np.where(x > 0, big_t * rng.uniform(0.0, 1.0, n), 0.0)
    tx[-3:] = [3.0, 8.0, 9.5]
    rows = pareto_nbd._Rows(x, tx, big_t, rng.uniform(0.5, 2.0, n))
    th = np.array(theta)
    want_grad = np.zeros(4)
    want = pareto_nbd._row_terms(th, rows, want_grad).total
    for _ in range(2):
        grad = np.zeros(4)
        total = pareto_nbd._fit_total(th, rows, grad)
        assert total == pytest.approx(want, rel=1e-13)
        assert_allclose(grad, want_grad, rtol=1e-11, atol=1e-9 * np.abs(want_grad).max())
    if theta[1] == 1000.0:
        pts = pareto_nbd._points(th, rows.px, rows.ptau, rows.blocks, True)
        assert pts.hard.any()


def test_fit_matches_the_central_difference_fit_on_continuous_histories() -> None:
    # The fit before issue 14's second pass (central-difference Hessian for the standard
    # errors, Newton steps with the sample's curvature and no secant updates) as the
    # reference: 30,000 continuous histories (a sample fit gives the start). Same
    # estimates within the optimiser's tolerance, a log-likelihood no lower, standard
    # errors to 1e-5 (forward against central differences).
    from crmcore.models import _mle
    from crmcore.simulate import pareto_nbd_histories

    big_t = np.random.default_rng(7).uniform(1.0, 78.0, 30_000)
    h = pareto_nbd_histories(0.55, 10.58, 0.61, 11.67, T=big_t, rng=4)
    new = pareto_nbd.fit(h.frequency, h.recency, h.T)
    original = _mle.maximize_likelihood
    update = _mle._secant_update

    def central(*args: object, **kwargs: object) -> _mle.MleResult:
        kwargs["forward_hessian"] = False
        return original(*args, **kwargs)  # type: ignore[arg-type]

    try:
        pareto_nbd.maximize_likelihood = central  # type: ignore[assignment]
        _mle._secant_update = lambda neg_h, step, change: neg_h  # type: ignore[assignment]
        old = pareto_nbd.fit(h.frequency, h.recency, h.T)
    finally:
        pareto_nbd.maximize_likelihood = original  # type: ignore[assignment]
        _mle._secant_update = update  # type: ignore[assignment]
    se = old.standard_errors.as_array()
    assert (np.abs(new.params.as_array() - old.params.as_array()) / se).max() < 1e-3
    assert new.log_likelihood - old.log_likelihood >= -1e-9
    assert_allclose(new.standard_errors.as_array(), se, rtol=1e-5)
