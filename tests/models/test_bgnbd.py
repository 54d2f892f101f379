"""Tests of the BG/NBD model (crmcore.models.bgnbd).

Reference values: the paper's own closed forms evaluated with mpmath at 50
digits (no log-space tricks, no transformation of the hypergeometric
function), via the script kept in ``_mp_*`` below; Monte Carlo draws from an
independent numpy simulator written here; the published CDNOW estimates are
checked outside the test suite (the data set may not be copied here).
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
from crmcore.models import bgnbd
from crmcore.models.bgnbd import BgNbdFit, BgNbdParams
from crmcore.simulate import bgnbd_histories
from crmcore.summary import CustomerSummary

# --------------------------------------------------------------------------- independent references
# mpmath versions of the paper's formulas, with shift s = 0 (BG/NBD) or 1 (MBG/NBD):
#   L = B(a,b+x+s)/B(a,b) Γ(r+x)α^r/(Γ(r)(α+T)^(r+x))
#       + 1{x+s>0} B(a+1,b+x+s-1)/B(a,b) Γ(r+x)α^r/(Γ(r)(α+t_x)^(r+x))      (FHL 2005 eq. 6)
#   P(alive) = 1 / (1 + 1{x+s>0} a/(b+x+s-1) ((α+T)/(α+t_x))^(r+x))         (FHL 2008 note)
#   E[Y(t)|..] = P(alive) (a+b+x+s-1)/(a-1)
#                [1 - ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x+s; a+b+x+s-1; t/(α+T+t))]  (eq. 10)
#   E[X(t)] = lead (1 - (α/(α+t))^r 2F1(r, b+s; a+b+s-1; t/(α+t))),
#             lead = (a+b-1)/(a-1) (BG, eq. 9) or b/(a-1) (MBG)
#   P(X(t)=n) = B(a,b+n+s)/B(a,b) NB(n) + 1{n+s>0} B(a+1,b+n+s-1)/B(a,b)
#               [1 - Σ_{j<n} NB(j)],  NB(j) = Γ(r+j)/(Γ(r) j!) (α/(α+t))^r (t/(α+t))^j  (eq. 8)


def _mp_loglik(theta, x, tx, T, *, s=0):
    r, al, a, b, tx, T = map(mp.mpf, (*theta, tx, T))
    g = mp.gamma(r + x) * al**r / mp.gamma(r)
    first = mp.beta(a, b + x + s) / mp.beta(a, b) * g / (al + T) ** (r + x)
    second = 0
    if x + s > 0:
        second = mp.beta(a + 1, b + x + s - 1) / mp.beta(a, b) * g / (al + tx) ** (r + x)
    return mp.log(first + second)


def _mp_palive(theta, x, tx, T, *, s=0):
    r, al, a, b, tx, T = map(mp.mpf, (*theta, tx, T))
    if x + s == 0:
        return mp.mpf(1)
    return 1 / (1 + a / (b + x + s - 1) * ((al + T) / (al + tx)) ** (r + x))


def _mp_conditional(theta, history, t, *, s=0):
    x, tx, T = history
    r, al, a, b, tx, T, t = map(mp.mpf, (*theta, tx, T, t))
    z = t / (al + T + t)
    f = mp.hyp2f1(r + x, b + x + s, a + b + x + s - 1, z, maxprec=10000)
    h = (a + b + x + s - 1) / (a - 1) * (1 - ((al + T) / (al + T + t)) ** (r + x) * f)
    return h * _mp_palive(theta, x, tx, T, s=s)


def _mp_unconditional(theta, t, *, s=0):
    r, al, a, b, t = map(mp.mpf, (*theta, t))
    lead = (a + b - 1) / (a - 1) if s == 0 else b / (a - 1)
    f = mp.hyp2f1(r, b + s, a + b - 1 + s, t / (al + t), maxprec=10000)
    return lead * (1 - (al / (al + t)) ** r * f)


# Tables printed by the functions above at mp.dps = 50 (BG/NBD, s = 0).
# (params (r, alpha, a, b), x, t_x, T, log-likelihood)
LOGLIK_CASES = [
    ((0.25, 4.0, 0.8, 2.5), 0, 0.0, 40.0, -0.59947381819959264),  # issue's pinned value
    ((0.25, 4.0, 0.8, 2.5), 200, 38.0, 40.0, 100.79569309270645),  # issue: 100.7957
    ((0.243, 4.414, 0.793, 2.426), 2, 30.43, 38.86, -9.4586063070662712),
    ((0.243, 4.414, 0.793, 2.426), 1, 1.71, 38.86, -4.4690932750325885),
    ((1.0, 1.0, 2.0, 3.0), 10000, 9999.0, 10000.0, -10020.622203859828),
    ((1e-4, 1e-4, 1e-4, 1e-4), 3, 2.0, 5.0, -14.039015168784372),
    ((1e4, 1e4, 1e4, 1e4), 5, 4.0, 10.0, -7.4633562568629781),
    ((1e4, 1e-4, 1e-4, 1e4), 50, 10.0, 10000.0, -114802.27065615376),
    ((0.5, 2.0, 3.0, 0.5), 7, 0.0, 20.0, -4.4408731480184077),
    ((0.5, 2.0, 3.0, 0.5), 0, 0.0, 0.0, 0.0),
    ((2.0, 0.5, 1.5, 4.0), 1, 0.001, 0.001, 1.3803003531318715),
    ((0.5, 2.0, 3.0, 0.5), 20, 15.5, 52.0, -28.514595084531485),
]
PALIVE_CASES = [
    ((0.25, 4.0, 0.8, 2.5), 0, 0.0, 40.0, 1.0),
    ((0.25, 4.0, 0.8, 2.5), 200, 38.0, 40.0, 0.022167737073085942),
    ((0.243, 4.414, 0.793, 2.426), 2, 30.43, 38.86, 0.72657857008067291),
    ((0.243, 4.414, 0.793, 2.426), 1, 1.71, 38.86, 0.21210098537737908),
    ((1.0, 1.0, 2.0, 3.0), 10000, 9999.0, 10000.0, 0.99945672047975774),
    ((1e-4, 1e-4, 1e-4, 1e-4), 3, 2.0, 5.0, 0.99921939760390369),
    ((1e4, 1e4, 1e4, 1e4), 5, 4.0, 10.0, 0.0024765699994127484),
    ((1e4, 1e-4, 1e-4, 1e4), 50, 10.0, 10000.0, 0.0),  # 1.11e-30142 in mpmath
    ((0.5, 2.0, 3.0, 0.5), 7, 0.0, 20.0, 3.3523314288080029e-8),
    ((0.5, 2.0, 3.0, 0.5), 0, 0.0, 0.0, 1.0),
    ((2.0, 0.5, 1.5, 4.0), 1, 0.001, 0.001, 0.72727272727272727),
    ((0.5, 2.0, 3.0, 0.5), 20, 15.5, 52.0, 6.0411730745183441e-10),
]
# (params, x, t_x, T, t, E[Y(t) | x, t_x, T])
CONDITIONAL_CASES = [
    ((0.243, 4.414, 0.793, 2.426), 2, 30.43, 38.86, 39.0, 1.2260281747671445),  # FHL 2005: 1.226
    ((0.243, 4.414, 0.793, 2.426), 0, 0.0, 38.86, 39.0, 0.19509805201126264),
    ((0.243, 4.414, 0.793, 2.426), 1, 1.71, 38.86, 1000.0, 1.8453484429933649),
    ((0.25, 4.0, 0.8, 2.5), 200, 38.0, 40.0, 52.0, 3.7574984884584741),
    ((0.5, 2.0, 3.0, 0.5), 20, 15.5, 52.0, 10.0, 1.8193607355406537e-9),
    ((2.0, 0.5, 1.5, 4.0), 1, 0.001, 0.001, 5.0, 4.7114566916095967),
    ((0.5, 2.0, 1.00001, 2.0), 3, 10.0, 30.0, 26.0, 0.2547159692008261),
    ((1.0, 1.0, 2.0, 3.0), 10000, 9999.0, 10000.0, 100.0, 98.956502659757914),
    ((0.3, 10.0, 0.2, 5.0), 0, 0.0, 1.0, 10000.0, 123.07544794809907),
    ((0.25, 4.0, 0.8, 2.5), 5, 30.0, 40.0, 1e-06, 8.0812944305549235e-8),
    ((5.0, 1e-4, 2.5, 0.01), 4, 3.0, 8.0, 52.0, 0.00063427625992573399),
    ((1e-4, 1.0, 50.0, 200.0), 0, 0.0, 5.0, 100.0, 0.00073632607156382833),
]
# (params, t, E[X(t)])
UNCONDITIONAL_CASES = [
    ((0.243, 4.414, 0.793, 2.426), 39.0, 1.1967231933208169),
    ((0.243, 4.414, 0.793, 2.426), 78.0, 1.8605190579427686),
    ((0.243, 4.414, 0.793, 2.426), 1e-05, 5.5052087836828711e-7),
    ((0.5, 2.0, 3.0, 0.5), 52.0, 0.97048168213969313),
    ((0.5, 2.0, 1.00001, 2.0), 26.0, 2.296530397238104),
    ((2.0, 0.5, 1.5, 4.0), 1000.0, 8.6547405412644125),
    ((1e-4, 1e-4, 0.5, 0.7), 10.0, 0.078609128264040301),
    ((0.3, 10.0, 0.2, 5.0), 10000.0, 132.98986443451947),
]
# (params, n, t, P(X(t) = n))
PMF_CASES = [
    ((0.243, 4.414, 0.793, 2.426), 0, 39.0, 0.5737863520960094),
    ((0.243, 4.414, 0.793, 2.426), 1, 39.0, 0.19939528083591145),
    ((0.243, 4.414, 0.793, 2.426), 7, 39.0, 0.0086954288041552611),
    ((0.243, 4.414, 0.793, 2.426), 30, 78.0, 0.00032246631883261201),
    ((0.5, 2.0, 3.0, 0.5), 3, 52.0, 0.017992704948131551),
    ((2.0, 0.5, 1.5, 4.0), 100, 100.0, 0.00012098853975764285),
    ((2.0, 0.5, 1.5, 4.0), 0, 0.0, 1.0),
    ((2.0, 0.5, 1.5, 4.0), 2, 0.0, 0.0),
]


def _params(theta):
    r, alpha, a, b = theta
    return BgNbdParams(r=r, alpha=alpha, a=a, b=b)


# --------------------------------------------------------------------------- independent simulator


def simulate(theta, T, n, *, holdout=0.0, seed=0, shift=0):
    """Draw (x, t_x, T, alive, holdout purchases) from the (M)BG/NBD story with numpy.

    λ ~ Gamma(r, rate α), p ~ Beta(a, b); with ``shift`` = 1 the customer drops
    out at time 0 with probability p. After each purchase she drops out with
    probability p, so she makes J ~ Geometric(p) purchases at the points of a
    Poisson(λ) process. Given N(T) = m arrivals, the x-th is T·Beta(x, m-x+1).
    """
    r, alpha, a, b = theta
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    dead0 = rng.random(n) < p if shift else np.zeros(n, dtype=bool)
    j = rng.geometric(p)
    big_t = np.broadcast_to(np.asarray(T, dtype=float), (n,))
    m = rng.poisson(lam * big_t)
    x = np.where(dead0, 0, np.minimum(j, m))
    tx = np.where(x > 0, big_t * rng.beta(np.maximum(x, 1), np.maximum(m - x + 1, 1)), 0.0)
    alive = ~dead0 & (j > m)
    y = np.where(alive, np.minimum(j - m, rng.poisson(lam * holdout)), 0)
    return x, np.minimum(tx, big_t), big_t.copy(), alive, y


# --------------------------------------------------------------------------- reference values


@pytest.mark.parametrize(("theta", "x", "tx", "T", "expected"), LOGLIK_CASES)
def test_log_likelihood_per_customer_mpmath(theta, x, tx, T, expected):
    got = bgnbd.log_likelihood_per_customer(_params(theta), [x], [tx], [T])
    assert_allclose(got, [expected], rtol=1e-11, atol=1e-11)


def test_issue_pinned_values():
    # Values pinned in the issue for r=0.25, alpha=4, a=0.8, b=2.5, T=40.
    p = BgNbdParams(r=0.25, alpha=4.0, a=0.8, b=2.5)
    got = bgnbd.log_likelihood_per_customer(p, [0, 200], [0.0, 38.0], [40.0, 40.0])
    assert_allclose(got[0], -0.59947382, atol=5e-9)
    assert_allclose(got[1], 100.7957, atol=5e-5)
    total = bgnbd.log_likelihood(p, [0, 200], [0.0, 38.0], [40.0, 40.0])
    assert_allclose(total, -0.59947382 + 100.79569309, rtol=1e-9)


@pytest.mark.parametrize(("theta", "x", "tx", "T", "expected"), PALIVE_CASES)
def test_probability_alive_mpmath(theta, x, tx, T, expected):
    got = bgnbd.probability_alive(_params(theta), [x], [tx], [T])
    # (r + x) log((α+T)/(α+t_x)) amplifies rounding for r = 1e4: 1e-10
    assert_allclose(got, [expected], rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("case", CONDITIONAL_CASES)
def test_conditional_expected_purchases_mpmath(case):
    theta, x, tx, T, t, expected = case
    got = bgnbd.conditional_expected_purchases(_params(theta), t, [x], [tx], [T])
    # a = 1.00001 sits at the edge of the interpolation across a = 1: 1e-9
    assert_allclose(got, [expected], rtol=1e-9)


@pytest.mark.parametrize(("theta", "t", "expected"), UNCONDITIONAL_CASES)
def test_expected_purchases_mpmath(theta, t, expected):
    got = bgnbd.expected_purchases(_params(theta), t)
    assert isinstance(got, float)
    assert_allclose(got, expected, rtol=1e-9)


@pytest.mark.parametrize(("theta", "n", "t", "expected"), PMF_CASES)
def test_purchase_probability_mpmath(theta, n, t, expected):
    got = bgnbd.purchase_probability(_params(theta), n, t)
    assert isinstance(got, float)
    assert_allclose(got, expected, rtol=1e-10, atol=1e-300)


def test_tables_agree_with_mpmath_functions():
    # The tables above are what the _mp_* functions print (guards against typos).
    with mp.workdps(50):
        theta, x, tx, T, expected = LOGLIK_CASES[2]
        assert_allclose(float(_mp_loglik(theta, x, tx, T)), expected, rtol=1e-14)
        theta, x, tx, T, expected = PALIVE_CASES[3]
        assert_allclose(float(_mp_palive(theta, x, tx, T)), expected, rtol=1e-14)
        theta, x, tx, T, t, expected = CONDITIONAL_CASES[0]
        assert_allclose(float(_mp_conditional(theta, (x, tx, T), t)), expected, rtol=1e-14)
        theta, t, expected = UNCONDITIONAL_CASES[0]
        assert_allclose(float(_mp_unconditional(theta, t)), expected, rtol=1e-14)


def test_expectations_at_a_equal_one_are_finite_and_continuous():
    # a = 1 makes the closed form 0/0; the value is the limit from both sides.
    p = [BgNbdParams(r=0.5, alpha=2.0, a=1.0 + d, b=2.0) for d in (-1e-4, 0.0, 1e-4)]
    e = [bgnbd.expected_purchases(q, 26.0) for q in p]
    assert_allclose(e[1], 0.5 * (e[0] + e[2]), rtol=1e-6)
    c = [bgnbd.conditional_expected_purchases(q, 26.0, [3], [10.0], [30.0])[0] for q in p]
    assert_allclose(c[1], 0.5 * (c[0] + c[2]), rtol=1e-6)


# E[(1 - (1 + p u)^-n) / p], p ~ Beta(a, beta): the factor of every expectation, at
# extreme arguments where scipy's hyp2f1 fails and the quadrature fallback runs (first
# eight) or the Euler form is used (last four). Reference: mpmath at 40 digits of
# (a+beta-1)/(a-1) [1 - 2F1(n, a-1; a+beta-1; -u)] (maxprec=20000).
# (n, a, beta, u, value)
KERNEL_CASES = [
    (
        12.46503489364764,
        1494.2038741606716,
        0.00011205071452119416,
        1708836.5028731986,
        1.000000075040466,
    ),
    (
        2004.6779718925357,
        405.18912190854184,
        4.899070488024443,
        8480.685502245444,
        1.012120738096294,
    ),
    (
        2.2335718716845934,
        9464.165900531802,
        0.000112924503627189,
        0.10487110488054055,
        0.19968603905920032,
    ),
    (
        23.173696645524693,
        1550.9225908498825,
        0.0012420477102833415,
        1.8749473893656867,
        1.0000008013375818,
    ),
    (
        0.12923239466329617,
        0.003929947289547028,
        3193.085569656348,
        1511.4956097493398,
        195.17223505365325,
    ),
    (
        0.1358163341746731,
        7.775162494687686,
        1034.0508425044159,
        131693.72542618075,
        91.52523418492521,
    ),
    (
        198.05529598923889,
        2454.4989971948585,
        0.8986563492323995,
        10168.87579429655,
        1.0003662754092257,
    ),
    (
        0.0015930732129662885,
        0.03167854139956349,
        1295.2999630804836,
        539.5336629869082,
        0.8549059364150987,
    ),
    (
        0.014397719560836327,
        4.640452968284374,
        58.79309038518205,
        14.384754557344179,
        0.14357229827959236,
    ),
    (
        0.0002127101390476929,
        0.00020977115393762188,
        25.872339767583206,
        957269.5514278752,
        203.23847155776056,
    ),
    (
        0.00013558794678123515,
        49.19201278866514,
        17.997475847061754,
        0.023728293767682183,
        3.1896422251170605e-06,
    ),
    (
        320.7464908198423,
        3.5662093482566957,
        31.5733030789367,
        8632.906298934913,
        13.303479098608145,
    ),
]


def test_expectation_kernel_at_extreme_arguments():
    from crmcore.models.bgnbd import _expected_until_dropout

    n, a, beta, u, expected = (np.array(c) for c in zip(*KERNEL_CASES, strict=True))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = _expected_until_dropout(n, a, beta, u)
    assert_allclose(got, expected, rtol=1e-7)


# --------------------------------------------------------------------------- Monte Carlo

THETA_MC = (0.5, 6.0, 0.9, 2.5)


def test_expected_purchases_and_pmf_match_monte_carlo():
    n = 200_000
    t = 30.0
    x, *_ = simulate(THETA_MC, t, n, seed=1)
    p = _params(THETA_MC)
    mean = bgnbd.expected_purchases(p, t)
    assert abs(x.mean() - mean) < 4 * x.std() / np.sqrt(n)
    ks = np.arange(6)
    pmf = bgnbd.purchase_probability(p, ks, t)
    freq = np.array([(x == k).mean() for k in ks])
    assert np.all(np.abs(freq - pmf) < 4 * np.sqrt(pmf * (1 - pmf) / n))


def test_conditional_expectation_and_p_alive_match_monte_carlo():
    # E[Y | x] = E[E[Y | x, t_x, T] | x]: compare group means of the
    # prediction with the simulated holdout purchases, and P(alive) with the
    # share of customers still active.
    n = 200_000
    x, tx, T, alive, y = simulate(THETA_MC, 20.0, n, holdout=15.0, seed=2)
    p = _params(THETA_MC)
    pred = bgnbd.conditional_expected_purchases(p, 15.0, x, tx, T)
    pa = bgnbd.probability_alive(p, x, tx, T)
    for group in (x == 0, x == 1, x == 2, (x >= 3) & (x < 6), x >= 6):
        k = group.sum()
        assert abs(pred[group].mean() - y[group].mean()) < 4 * y[group].std() / np.sqrt(k) + 1e-3
        assert abs(pa[group].mean() - alive[group].mean()) < 4 * np.sqrt(0.25 / k)


def test_crmcore_simulate_holdout_matches_conditional_expectation():
    # The same identity with the package's own simulator (crmcore.simulate).
    sim = bgnbd_histories(*THETA_MC, T=25.0, n_customers=100_000, duration_holdout=10.0, rng=3)
    p = _params(THETA_MC)
    pred = bgnbd.conditional_expected_purchases(p, 10.0, sim.frequency, sim.recency, sim.T)
    y = sim.frequency_holdout
    assert abs(pred.mean() - y.mean()) < 4 * y.std() / np.sqrt(y.size)
    pa = bgnbd.probability_alive(p, sim.frequency, sim.recency, sim.T)
    assert abs(pa.mean() - sim.alive.mean()) < 4 * np.sqrt(0.25 / y.size)


@pytest.mark.parametrize("theta", [THETA_MC, (0.243, 4.414, 0.793, 2.426), (2.0, 0.5, 1.5, 4.0)])
def test_pmf_sums_to_one_and_mean_matches(theta):
    p = _params(theta)
    t = 39.0
    n = np.arange(0, 4000)
    pmf = bgnbd.purchase_probability(p, n, t)
    assert_allclose(pmf.sum(), 1.0, rtol=1e-9)
    assert_allclose((n * pmf).sum(), bgnbd.expected_purchases(p, t), rtol=1e-8)


# --------------------------------------------------------------------------- fitting


def test_fit_weights_equal_exploded_rows():
    x, tx, T, *_ = simulate(THETA_MC, 30.0, 400, seed=4)
    w = np.random.default_rng(5).integers(1, 4, x.size)
    weighted = bgnbd.fit(x, tx, T, weights=w)
    exploded = bgnbd.fit(np.repeat(x, w), np.repeat(tx, w), np.repeat(T, w))
    assert_allclose(weighted.params.as_array(), exploded.params.as_array(), rtol=1e-6)
    assert_allclose(weighted.log_likelihood, exploded.log_likelihood, rtol=1e-10)
    assert_allclose(
        weighted.standard_errors.as_array(), exploded.standard_errors.as_array(), rtol=1e-4
    )
    assert weighted.n_customers == exploded.n_customers == w.sum()


def test_fit_summary_equals_arrays_and_result_methods_delegate():
    x, tx, T, *_ = simulate(THETA_MC, 30.0, 2000, seed=6)
    s = CustomerSummary.from_arrays(x, tx, T, time_unit="W")
    a = bgnbd.fit(s)
    b = bgnbd.fit(x, tx, T)
    assert isinstance(a, BgNbdFit)
    assert_allclose(a.params.as_array(), b.params.as_array(), rtol=1e-9)
    assert a.converged
    assert a.n_iterations > 0
    assert a.covariance.shape == (4, 4)
    assert_allclose(np.sqrt(np.diag(a.covariance)), a.standard_errors.as_array())
    p = a.params
    assert_allclose(a.expected_purchases(10.0), bgnbd.expected_purchases(p, 10.0))
    assert_allclose(a.purchase_probability(2, 10.0), bgnbd.purchase_probability(p, 2, 10.0))
    assert_allclose(a.probability_alive(s), bgnbd.probability_alive(p, x, tx, T))
    assert_allclose(
        a.conditional_expected_purchases(5.0, x, tx, T),
        bgnbd.conditional_expected_purchases(p, 5.0, x, tx, T),
    )
    assert_allclose(
        a.log_likelihood_per_customer(x, tx, T).sum(), bgnbd.log_likelihood(p, x, tx, T)
    )
    assert_allclose(a.log_likelihood, bgnbd.log_likelihood(p, s), rtol=1e-12)


def test_fit_time_unit_rescales_alpha_only():
    # Weeks to days: alpha is multiplied by 7, r, a, b unchanged; P(alive) and
    # expectations over the same calendar span unchanged.
    x, tx, T, *_ = simulate(THETA_MC, 30.0, 3000, seed=7)
    weeks = bgnbd.fit(x, tx, T)
    days = bgnbd.fit(x, tx * 7, T * 7)
    pw, pd = weeks.params, days.params
    assert_allclose([pd.r, pd.a, pd.b], [pw.r, pw.a, pw.b], rtol=1e-5)
    assert_allclose(pd.alpha, 7 * pw.alpha, rtol=1e-5)
    assert_allclose(
        bgnbd.probability_alive(pd, x, tx * 7, T * 7),
        bgnbd.probability_alive(pw, x, tx, T),
        rtol=1e-5,
    )
    assert_allclose(
        bgnbd.conditional_expected_purchases(pd, 70.0, x, tx * 7, T * 7),
        bgnbd.conditional_expected_purchases(pw, 10.0, x, tx, T),
        rtol=1e-5,
    )
    assert_allclose(days.log_likelihood, weeks.log_likelihood - np.log(7) * x.sum(), rtol=1e-9)


def test_fit_initial_and_convergence_error():
    x, tx, T, *_ = simulate(THETA_MC, 30.0, 2000, seed=8)
    start = BgNbdParams(r=2.0, alpha=1.0, a=3.0, b=1.0)
    assert_allclose(
        bgnbd.fit(x, tx, T, initial=start).params.as_array(),
        bgnbd.fit(x, tx, T).params.as_array(),
        rtol=1e-5,
    )
    # Nobody ever buys again: the purchase process is not identified.
    with pytest.raises(ConvergenceError, match="BG/NBD"):
        bgnbd.fit([0, 0, 0], [0.0, 0.0, 0.0], [10.0, 20.0, 30.0])


@pytest.mark.slow
def test_parameter_recovery_within_three_standard_errors():
    # 50,000 customers drawn by crmcore.simulate with known parameters.
    theta = (0.3, 5.0, 0.8, 2.5)
    rng = np.random.default_rng(11)
    T = rng.uniform(20.0, 52.0, 50_000)
    sim = bgnbd_histories(*theta, T=T, rng=12)
    f = bgnbd.fit(sim.frequency, sim.recency, sim.T)
    z = (f.params.as_array() - np.array(theta)) / f.standard_errors.as_array()
    assert np.all(np.abs(z) < 3), z


@pytest.mark.slow
def test_standard_errors_match_spread_over_repetitions():
    theta = (0.3, 5.0, 0.8, 2.5)
    estimates, ses = [], []
    for seed in range(8):
        sim = bgnbd_histories(*theta, T=40.0, n_customers=8000, rng=100 + seed)
        f = bgnbd.fit(sim.frequency, sim.recency, sim.T)
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
                        p = BgNbdParams(r=r, alpha=alpha, a=a, b=b)
                        ll = bgnbd.log_likelihood_per_customer(p, x, tx, T)
                        pa = bgnbd.probability_alive(p, x, tx, T)
                        ce = bgnbd.conditional_expected_purchases(p, 52.0, x, tx, T)
                        assert np.all(np.isfinite(ll))
                        assert np.all((pa >= 0) & (pa <= 1))
                        assert np.all(np.isfinite(ce) & (ce >= 0))
                        e = bgnbd.expected_purchases(p, [0.0, 1e-3, 52.0, 1e4])
                        assert np.all(np.isfinite(e) & (e >= 0))
                        pmf = bgnbd.purchase_probability(p, [0, 1, 100, 10_000], 52.0)
                        assert np.all((pmf >= 0) & (pmf <= 1))


# --------------------------------------------------------------------------- properties

positive = st.floats(-2.0, 2.0).map(lambda e: float(10.0**e))
params_st = st.builds(BgNbdParams, r=positive, alpha=positive, a=positive, b=positive)


@st.composite
def histories(draw, n_max=6):
    n = draw(st.integers(1, n_max))
    T = np.array(draw(st.lists(st.floats(0.0, 200.0), min_size=n, max_size=n)))
    x = np.array(draw(st.lists(st.integers(0, 300), min_size=n, max_size=n)))
    share = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)))
    tx = np.where(x > 0, share * T, 0.0)
    return x, tx, T


@given(params_st, histories(), st.floats(0.0, 100.0), st.floats(0, 100))
@settings(max_examples=60)
def test_conditional_expectation_nonnegative_and_monotone_in_t(p, h, t1, dt):
    x, tx, T = h
    e1 = bgnbd.conditional_expected_purchases(p, t1, x, tx, T)
    e2 = bgnbd.conditional_expected_purchases(p, t1 + dt, x, tx, T)
    assert np.all(e1 >= 0)
    assert np.all(e2 >= e1 * (1 - 1e-9))
    pa = bgnbd.probability_alive(p, x, tx, T)
    assert np.all((pa >= 0) & (pa <= 1))


@given(params_st, histories(), st.randoms(use_true_random=False))
@settings(max_examples=40)
def test_log_likelihood_order_invariant_and_additive(p, h, rnd):
    x, tx, T = h
    order = list(range(x.size))
    rnd.shuffle(order)
    total = bgnbd.log_likelihood(p, x, tx, T)
    assert_allclose(bgnbd.log_likelihood(p, x[order], tx[order], T[order]), total, rtol=1e-10)
    per = bgnbd.log_likelihood_per_customer(p, x, tx, T)
    assert_allclose(per.sum(), total, rtol=1e-10, atol=1e-9)


@given(params_st, st.floats(0.0, 500.0))
@settings(max_examples=40)
def test_expected_purchases_monotone_and_bounded_by_pure_nbd(p, t):
    # Dropout can only remove purchases: E[X(t)] <= r t / alpha (no dropout).
    r, alpha = p.r, p.alpha
    e = bgnbd.expected_purchases(p, [t, t + 1.0])
    assert 0 <= e[0] <= e[1] * (1 + 1e-12)
    assert e[0] <= r * t / alpha * (1 + 1e-9) + 1e-300


# --------------------------------------------------------------------------- errors


def test_params_validation():
    with pytest.raises(InputError, match=r"alpha must be > 0\.0"):
        BgNbdParams(r=1.0, alpha=0.0, a=1.0, b=1.0)
    with pytest.raises(InputError, match="b must be finite"):
        BgNbdParams(r=1.0, alpha=1.0, a=1.0, b=float("nan"))
    with pytest.raises(InputTypeError, match="r must be a real number"):
        BgNbdParams(r="1", alpha=1.0, a=1.0, b=1.0)


def test_input_errors():
    p = BgNbdParams(r=1.0, alpha=1.0, a=1.0, b=1.0)
    with pytest.raises(InputError, match="recency must not exceed T"):
        bgnbd.probability_alive(p, [1], [3.0], [2.0])
    with pytest.raises(InputError, match="frequency must hold whole numbers"):
        bgnbd.log_likelihood_per_customer(p, [1.5], [1.0], [2.0])
    with pytest.raises(InputError, match=r"t must be >= 0\.0"):
        bgnbd.conditional_expected_purchases(p, -1.0, [1], [1.0], [2.0])
    with pytest.raises(InputError, match="n must be non-negative"):
        bgnbd.purchase_probability(p, [-1], 1.0)
    with pytest.raises(InputError, match="t must be non-negative"):
        bgnbd.expected_purchases(p, [1.0, -2.0])
    with pytest.raises(InputError, match="n and t must broadcast"):
        bgnbd.purchase_probability(p, [1, 2], [1.0, 2.0, 3.0])
    with pytest.raises(InputError, match="params must be BgNbdParams"):
        bgnbd.probability_alive((1, 1, 1, 1), [1], [1.0], [2.0])
    with pytest.raises(InputTypeError, match="recency and T are required"):
        bgnbd.probability_alive(p, [1])
    with pytest.raises(InputError, match="weights must be non-negative"):
        bgnbd.fit([1, 2], [1.0, 2.0], [3.0, 3.0], weights=[1.0, -1.0])
    with pytest.raises(InputError, match="at least one customer"):
        bgnbd.fit([1, 2], [1.0, 2.0], [3.0, 3.0], weights=[0.0, 0.0])
    with pytest.raises(InputError, match="initial must be BgNbdParams"):
        bgnbd.fit([1, 2], [1.0, 2.0], [3.0, 3.0], initial=(1, 1, 1, 1))


# ------------------------------------------------------------------------ P(purchase in (T, T+t])
# Reference: P(alive) * (1 - ((α+T)/(α+T+t))^(r+x)), the first purchase after T coming before any
# dropout chance; _mp_palive at mp.dps = 30 times the bracket in mpmath (no log1p/expm1):
#   mp.dps = 30; r, al = map(mp.mpf, theta[:2])
#   _mp_palive(theta, x, tx, T) * (1 - ((al + T) / (al + T + mp.mpf(t))) ** (r + x))
PURCHASE_CASES = [
    ((0.243, 4.414, 0.793, 2.426), 2, 30.43, 38.86, 39.0, 0.55462713791700444),
    ((0.243, 4.414, 0.793, 2.426), 0, 0.0, 38.86, 39.0, 0.14455054078331845),
    ((0.5, 6.0, 0.9, 2.5), 7, 20.0, 25.0, 1e-6, 1.7330155648799249e-7),
    ((2.0, 0.5, 1.5, 4.0), 40, 30.0, 31.0, 5.0, 0.87906890322597204),
]


@pytest.mark.parametrize("case", PURCHASE_CASES)
def test_conditional_purchase_probability_mpmath(case):
    theta, x, tx, T, t, expected = case
    got = bgnbd.conditional_purchase_probability(_params(theta), t, [x], [tx], [T])
    assert_allclose(got, [expected], rtol=1e-12)
    mp.mp.dps = 30
    r, al = map(mp.mpf, theta[:2])
    ref = _mp_palive(theta, x, tx, T) * (1 - ((al + T) / (al + T + mp.mpf(t))) ** (r + x))
    assert_allclose(float(ref), expected, rtol=1e-14)


def test_conditional_purchase_probability_matches_crmcore_simulate():
    # Customers drawn with the true parameters and continued past T for t (the holdout of
    # crmcore.simulate): the share with a holdout purchase, per frequency group, against the mean
    # prediction. Measured: |z| <= 1.2 in every group for t = 1 and 15 (200k customers).
    p = _params(THETA_MC)
    for t, seed in ((1.0, 7), (15.0, 8)):
        sim = bgnbd_histories(*THETA_MC, T=25.0, n_customers=100_000, duration_holdout=t, rng=seed)
        pred = bgnbd.conditional_purchase_probability(p, t, sim.frequency, sim.recency, sim.T)
        hit = sim.frequency_holdout > 0
        x = sim.frequency
        for group in (x >= 0, x == 0, x == 1, (x >= 2) & (x < 6), x >= 6):
            k = group.sum()
            share = hit[group].mean()
            assert abs(pred[group].mean() - share) < 4 * np.sqrt(share * (1 - share) / k) + 1e-4


@given(params_st, histories(), st.floats(0.0, 100.0), st.floats(0.0, 100.0))
@settings(max_examples=60)
def test_conditional_purchase_probability_bounds_monotone_and_limit(p, h, t1, dt):
    x, tx, T = h
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        q1 = bgnbd.conditional_purchase_probability(p, t1, x, tx, T)
        q2 = bgnbd.conditional_purchase_probability(p, t1 + dt, x, tx, T)
        q0 = bgnbd.conditional_purchase_probability(p, 0.0, x, tx, T)
    pa = bgnbd.probability_alive(p, x, tx, T)
    assert np.all((q1 >= 0) & (q1 <= pa * (1 + 1e-12)))
    assert np.all(q2 >= q1 * (1 - 1e-12))
    assert np.all(q0 == 0.0)
    # short horizons, no cancellation: with n = r+x, u = t/(α+T),
    # n u - n (n+1) u^2 / 2 <= 1 - (1+u)^-n <= n u
    n, u = p.r + x, 1e-9 / (p.alpha + T)
    tiny = bgnbd.conditional_purchase_probability(p, 1e-9, x, tx, T)
    assert np.all(tiny <= pa * n * u * (1 + 1e-12))
    assert np.all(tiny >= pa * (n * u - n * (n + 1) * u**2 / 2) * (1 - 1e-12))


def test_conditional_purchase_probability_summary_fit_and_errors():
    p = _params(THETA_MC)
    s = CustomerSummary.from_arrays([2, 0], [10.0, 0.0], [20.0, 20.0])
    direct = bgnbd.conditional_purchase_probability(p, 5.0, [2, 0], [10.0, 0.0], [20.0, 20.0])
    assert_allclose(bgnbd.conditional_purchase_probability(p, 5.0, s), direct)
    f = bgnbd.fit(*simulate(THETA_MC, 30.0, 2000, seed=6)[:3])
    assert_allclose(
        f.conditional_purchase_probability(5.0, s),
        bgnbd.conditional_purchase_probability(f.params, 5.0, s),
    )
    with pytest.raises(InputError, match=r"t must be >= 0\.0"):
        bgnbd.conditional_purchase_probability(p, -1.0, s)
    with pytest.raises(InputError, match="recency must not exceed T"):
        bgnbd.conditional_purchase_probability(p, 1.0, [1], [3.0], [2.0])
    with pytest.raises(InputError, match="params must be BgNbdParams"):
        bgnbd.conditional_purchase_probability(THETA_MC, 1.0, s)
    with pytest.raises(InputTypeError, match="must be left out"):
        bgnbd.conditional_purchase_probability(p, 1.0, s, [1.0], [2.0])
