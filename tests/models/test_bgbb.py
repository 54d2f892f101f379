"""Tests of the BG/BB model (crmcore.models.bgbb).

Reference values: the formulas of Fader, Hardie & Shang (2010) evaluated with
mpmath at 40-50 digits by the ``_mp_*`` functions below (finite sums of beta
functions exactly as printed); the exact identity that the likelihoods of all
2^n purchase sequences sum to 1; Monte Carlo draws from an independent numpy
simulator written here; parameter recovery on draws from
:mod:`crmcore.simulate`. The published estimates for the 1995 donations cohort
(alpha = 1.204, beta = 0.750, gamma = 0.657, delta = 2.783, LL = -33,225.6) are
reproduced on the shipped data set (:func:`crmcore.datasets.donations`) in
tests/models/test_published.py; here they serve as a realistic parameter point.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from crmcore import InteractionTable, summarize_discrete
from crmcore.errors import ConvergenceError, InputError, InputTypeError
from crmcore.models import bgbb
from crmcore.models.bgbb import BgBbFit, BgBbParams
from crmcore.simulate import bgbb_histories

DONATIONS = BgBbParams(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)


def _params(theta):
    alpha, beta, gamma, delta = theta
    return BgBbParams(alpha=alpha, beta=beta, gamma=gamma, delta=delta)


# --------------------------------------------------------------------------- independent references
# Fader, Hardie & Shang (2010), Marketing Science 29(6):
#   L = B(α+x, β+n-x)/B(α,β) B(γ, δ+n)/B(γ,δ)
#       + Σ_{i=0}^{n-t_x-1} B(α+x, β+t_x-x+i)/B(α,β) B(γ+1, δ+t_x+i)/B(γ,δ)          (eq. 5)
#   P(X(n)=k) = C(n,k) B(α+k, β+n-k)/B(α,β) B(γ, δ+n)/B(γ,δ)
#               + Σ_{i=k}^{n-1} C(i,k) B(α+k, β+i-k)/B(α,β) B(γ+1, δ+i)/B(γ,δ)      (eq. 6)
#   E[X(n)] = α/(α+β) Σ_{t=1}^{n} B(γ, δ+t)/B(γ,δ)                                  (eq. 7)
#   P(alive at n+1) = B(α+x, β+n-x)/B(α,β) B(γ, δ+n+1)/B(γ,δ) / L                    (eq. 11)
#   E[X(n,n+n*)|..] = B(α+x+1, β+n-x)/B(α,β) Σ_{t=1}^{n*} B(γ, δ+n+t)/B(γ,δ) / L      (eq. 13)
B = mp.beta


def _mp_lik(theta, x, tx, n):
    a, b, g, d = map(mp.mpf, theta)
    lik = B(a + x, b + n - x) / B(a, b) * B(g, d + n) / B(g, d)
    for i in range(n - tx):
        lik += B(a + x, b + tx - x + i) / B(a, b) * B(g + 1, d + tx + i) / B(g, d)
    return lik


def _mp_loglik(theta, x, tx, n):
    with mp.workdps(50):
        return mp.log(_mp_lik(theta, x, tx, n))


def _mp_palive(theta, x, tx, n):
    with mp.workdps(50):
        a, b, g, d = map(mp.mpf, theta)
        first = B(a + x, b + n - x) / B(a, b) * B(g, d + n + 1) / B(g, d)
        return first / _mp_lik(theta, x, tx, n)


# (params, x, t_x, n, log L)
LOGLIK_CASES = [
    ((1.204, 0.75, 0.657, 2.783), 0, 0, 6, -1.1672624726738937),
    ((1.204, 0.75, 0.657, 2.783), 6, 6, 6, -2.1822484476182999),
    ((1.204, 0.75, 0.657, 2.783), 3, 5, 6, -5.6158947463614154),
    ((1.204, 0.75, 0.657, 2.783), 1, 1, 6, -2.288531685666258),
    ((1.204, 0.75, 0.657, 2.783), 4, 6, 6, -5.3849365380992094),
    ((0.5, 2.0, 1.0, 1.0), 2, 10, 20, -9.305288479922406),
    ((1e-4, 1e4, 1e-4, 1e4), 0, 0, 1000, -9.5314270249481069e-6),
    ((1e4, 1e-4, 1e4, 1e-4), 1000, 1000, 1000, -3362.6938817631515),
    ((2.0, 3.0, 0.01, 100.0), 50, 400, 500, -162.49664148837081),
    ((1.0, 1.0, 1.0, 1.0), 0, 0, 0, 0.0),
    ((1e4, 1e4, 1e-4, 1e-4), 500, 999, 1000, -693.86547164004823),
    ((0.5, 0.5, 0.5, 0.5), 5000, 9000, 10000, -6201.7678522374888),
    ((1e-4, 1e-4, 1e4, 1e-4), 1, 1, 10000, -19.113927929513644),
    ((1e4, 1e-4, 1e-4, 1e4), 10000, 10000, 10000, -0.00013863443573695157),
    ((1e-4, 1e4, 1e4, 1e4), 0, 0, 10000, -9.9999998500100008e-9),
]

# (params, x, t_x, n, P(alive at n+1))
PALIVE_CASES = [
    ((1.204, 0.75, 0.657, 2.783), 6, 6, 6, 0.93040254237288135),
    ((1.204, 0.75, 0.657, 2.783), 3, 3, 6, 0.094972789381250266),
    ((1.204, 0.75, 0.657, 2.783), 0, 0, 6, 0.10801658416867419),
    ((1.204, 0.75, 0.657, 2.783), 2, 4, 6, 0.58951411643369788),
    ((0.5, 2.0, 1.0, 1.0), 2, 10, 20, 0.25439991439240837),
    ((2.0, 3.0, 0.01, 100.0), 50, 400, 500, 0.030950791297300466),
    ((1e4, 1e-4, 1e-4, 1e4), 10000, 10000, 10000, 0.99999999500000002),
]

# (params, n, E[X(n)])
EXPECTED_CASES = [
    ((1.204, 0.75, 0.657, 2.783), 1, 0.49849027635619241),
    ((1.204, 0.75, 0.657, 2.783), 5, 1.9377072082850392),
    ((1.204, 0.75, 0.657, 2.783), 6, 2.2196313934872988),
    ((1.0, 1.0, 1.0, 2.0), 10, 1.6032106782106782),  # gamma = 1 exactly
    ((1.0, 1.0, 1.000000001, 2.0), 10, 1.6032106767680475),  # gamma near 1
    ((1.0, 1.0, 0.5, 2.0), 300, 21.111036783376575),
    ((1.0, 3.0, 5.0, 2.0), 1000, 0.12499999995580086),
]

# (params, n*, x, t_x, n, E[X(n, n+n*)])
CONDITIONAL_CASES = [
    ((1.204, 0.75, 0.657, 2.783), 5, 6, 6, 6, 3.7521156075998147),
    ((1.204, 0.75, 0.657, 2.783), 5, 3, 3, 6, 0.22350823004860282),
    ((1.204, 0.75, 0.657, 2.783), 5, 0, 0, 6, 0.072802877475043007),
    ((1.204, 0.75, 0.657, 2.783), 1, 2, 4, 6, 0.23746583216665426),
    ((1.0, 1.0, 1.0, 2.0), 10, 3, 5, 8, 0.83596425396928493),
    ((0.5, 2.0, 1.0, 1.0), 100, 2, 10, 20, 1.0769321906368739),
]

# (params, k, n, P(X(n) = k))
PMF_CASES = [
    ((1.204, 0.75, 0.657, 2.783), 0, 6, 0.31121774326384936),
    ((1.204, 0.75, 0.657, 2.783), 3, 6, 0.10026311502480369),
    ((1.204, 0.75, 0.657, 2.783), 6, 6, 0.11278764820774683),
    ((1.204, 0.75, 0.657, 2.783), 0, 1, 0.50150972364380759),
    ((0.5, 2.0, 1.0, 1.0), 5, 50, 0.0071539986559987885),
    ((2.0, 3.0, 0.01, 100.0), 100, 300, 0.0058343861440040906),
]


# --------------------------------------------------------------------------- reference values


@pytest.mark.parametrize(("theta", "x", "tx", "n", "expected"), LOGLIK_CASES)
def test_log_likelihood_per_customer_matches_mpmath(theta, x, tx, n, expected):
    got = bgbb.log_likelihood_per_customer(_params(theta), [x], [tx], n)
    # log L near 0 (L near 1) is known to ~1e-15 absolute.
    assert_allclose(got, [expected], rtol=1e-12, atol=1e-14)


def test_reference_functions_reproduce_pinned_values():
    theta, x, tx, n, expected = LOGLIK_CASES[2]
    assert_allclose(float(_mp_loglik(theta, x, tx, n)), expected, rtol=1e-15)
    theta, x, tx, n, expected = PALIVE_CASES[3]
    assert_allclose(float(_mp_palive(theta, x, tx, n)), expected, rtol=1e-15)


@pytest.mark.parametrize(("theta", "x", "tx", "n", "expected"), PALIVE_CASES)
def test_probability_alive_matches_mpmath(theta, x, tx, n, expected):
    got = bgbb.probability_alive(_params(theta), [x], [tx], n)
    assert_allclose(got, [expected], rtol=1e-12)


@pytest.mark.parametrize(("theta", "n", "expected"), EXPECTED_CASES)
def test_expected_purchases_matches_mpmath(theta, n, expected):
    got = bgbb.expected_purchases(_params(theta), n)
    assert isinstance(got, float)
    assert_allclose(got, expected, rtol=1e-13)


def test_expected_purchases_at_gamma_one_is_the_digamma_limit():
    # γ = 1: E[X(n)] = α/(α+β) δ (ψ(1+δ+n) - ψ(1+δ)) (limit of eq. 7).
    got = bgbb.expected_purchases(BgBbParams(alpha=1.0, beta=1.0, gamma=1.0, delta=2.0), 10)
    expected = 0.5 * 2.0 * float(mp.digamma(13) - mp.digamma(3))
    assert_allclose(got, expected, rtol=1e-14)


@pytest.mark.parametrize("case", CONDITIONAL_CASES)
def test_conditional_expected_purchases_matches_mpmath(case):
    theta, n_star, x, tx, n, expected = case
    got = bgbb.conditional_expected_purchases(_params(theta), n_star, [x], [tx], n)
    assert_allclose(got, [expected], rtol=1e-12)


@pytest.mark.parametrize(("theta", "k", "n", "expected"), PMF_CASES)
def test_purchase_probability_matches_mpmath(theta, k, n, expected):
    got = bgbb.purchase_probability(_params(theta), k, n)
    assert isinstance(got, float)
    assert_allclose(got, expected, rtol=1e-11)


def _all_histories(n):
    """Every (x, t_x) with the number of 0/1 sequences of length n it stands for."""
    x, tx, count = [0], [0], [1]
    for last in range(1, n + 1):
        for k in range(1, last + 1):
            x.append(k)
            tx.append(last)
            count.append(math.comb(last - 1, k - 1))
    return np.array(x), np.array(tx), np.array(count, dtype=float)


@pytest.mark.parametrize(
    "theta", [(1.204, 0.75, 0.657, 2.783), (0.1, 5.0, 3.0, 0.2), (20, 1, 1, 20)]
)
def test_sequence_likelihoods_sum_to_one(theta):
    # L(x, t_x, n) is the probability of one 0/1 sequence with that (x, t_x):
    # over all 2^n sequences the likelihoods sum to 1, and P(alive at n+1)
    # averages to the marginal survival B(γ, δ+n+1)/B(γ, δ).
    n = 9
    x, tx, count = _all_histories(n)
    assert count.sum() == 2**n
    p = _params(theta)
    lik = np.exp(bgbb.log_likelihood_per_customer(p, x, tx, n))
    assert_allclose(count @ lik, 1.0, rtol=1e-13)
    alive = bgbb.probability_alive(p, x, tx, n)
    g, d = theta[2], theta[3]
    with mp.workdps(30):
        marginal = float(B(g, d + n + 1) / B(g, d))
    assert_allclose(count @ (lik * alive), marginal, rtol=1e-12)


def test_log_likelihood_is_the_weighted_total():
    p = DONATIONS
    total = bgbb.log_likelihood(p, [0, 6, 3], [0, 6, 5], 6, weights=[2, 1, 3])
    expected = 2 * LOGLIK_CASES[0][4] + LOGLIK_CASES[1][4] + 3 * LOGLIK_CASES[2][4]
    assert_allclose(total, expected, rtol=1e-13)


# --------------------------------------------------------------------------- gradient


@pytest.mark.parametrize(
    "theta", [(1.204, 0.75, 0.657, 2.783), (0.3, 5.0, 2.0, 0.1), (1.0, 1.0, 1.0, 1.0)]
)
def test_analytic_gradient_matches_central_differences(theta):
    from crmcore.summary import compress

    x = np.array([0, 1, 2, 3, 3, 6, 2, 0])
    tx = np.array([0, 1, 4, 3, 6, 6, 5, 0])
    n = np.array([6, 6, 6, 6, 6, 6, 8, 8])
    data = compress(x, tx, n, np.array([10, 3, 4, 2, 5, 6, 1.0, 2.0]))
    obj = bgbb._Objective(data)
    th = np.array(theta, dtype=float)
    _, grad = obj(th)
    num = np.empty(4)
    for j in range(4):
        up, down = th.copy(), th.copy()
        up[j] *= np.exp(1e-6)
        down[j] *= np.exp(-1e-6)
        num[j] = (obj(up)[0] - obj(down)[0]) / (up[j] - down[j])
    assert_allclose(grad, num, rtol=1e-6, atol=1e-7)


# --------------------------------------------------------------------------- Monte Carlo


def _draw(theta, n, size, seed, n_future=0):
    """Independent simulator stepping through the opportunities: at the start of
    each opportunity a living customer dies with probability θ, otherwise buys
    with probability p (FHS 2010, section 2)."""
    a, b, g, d = theta
    rng = np.random.default_rng(seed)
    p = rng.beta(a, b, size)
    th = rng.beta(g, d, size)
    alive = np.ones(size, dtype=bool)
    buys = np.zeros((size, n + n_future), dtype=bool)
    for t in range(n + n_future):
        alive &= rng.random(size) >= th
        buys[:, t] = alive & (rng.random(size) < p)
        if t == n - 1:
            alive_n = alive.copy()
    x = buys[:, :n].sum(axis=1)
    last = np.where(x > 0, n - np.argmax(buys[:, :n][:, ::-1], axis=1), 0)
    alive_next = alive_n & (rng.random(size) >= th)  # survives the start of n+1
    return x, last, alive_n, alive_next, buys[:, n:].sum(axis=1)


def test_closed_forms_match_monte_carlo():
    theta = (1.204, 0.75, 0.657, 2.783)
    p = _params(theta)
    n, size = 6, 100_000
    x, tx, _, _, hold = _draw(theta, n, size, seed=3, n_future=5)
    se = x.std() / np.sqrt(size)
    assert abs(x.mean() - bgbb.expected_purchases(p, n)) < 4 * se
    pmf = bgbb.purchase_probability(p, np.arange(n + 1), n)
    freq = np.bincount(x, minlength=n + 1) / size
    assert np.all(np.abs(freq - pmf) < 4 * np.sqrt(pmf * (1 - pmf) / size))
    ce = bgbb.conditional_expected_purchases(p, 5, x, tx, n)
    for k in (0, 2, 6):
        sel = x == k
        assert abs(ce[sel].mean() - hold[sel].mean()) < 4 * hold[sel].std() / np.sqrt(sel.sum())


def test_probability_alive_matches_monte_carlo():
    # The draw knows who survives the start of opportunity n+1.
    theta = (1.204, 0.75, 0.657, 2.783)
    n, size = 6, 100_000
    x, tx, _, alive_next, _ = _draw(theta, n, size, seed=4)
    pa = bgbb.probability_alive(_params(theta), x, tx, n)
    assert abs(pa.mean() - alive_next.mean()) < 4 * np.sqrt(0.25 / size)
    sel = (x == 2) & (tx == 3)
    assert abs(pa[sel].mean() - alive_next[sel].mean()) < 4 * np.sqrt(0.25 / sel.sum())


@settings(max_examples=30)
@given(
    theta=st.tuples(
        st.floats(0.05, 20.0), st.floats(0.05, 20.0), st.floats(0.05, 20.0), st.floats(0.05, 20.0)
    ),
    n=st.integers(0, 60),
)
def test_pmf_sums_to_one_and_gives_the_mean(theta, n):
    p = _params(theta)
    k = np.arange(n + 1)
    pmf = bgbb.purchase_probability(p, k, n)
    assert_allclose(pmf.sum(), 1.0, rtol=1e-12)
    assert_allclose(k @ pmf, bgbb.expected_purchases(p, n), rtol=1e-10, atol=1e-14)


# --------------------------------------------------------------------------- properties

_theta = st.tuples(
    st.floats(1e-3, 1e3), st.floats(1e-3, 1e3), st.floats(1e-3, 1e3), st.floats(1e-3, 1e3)
)


@st.composite
def _histories(draw, max_rows=6):
    n = draw(st.integers(0, 40))
    rows = draw(st.integers(1, max_rows))
    tx = np.array(draw(st.lists(st.integers(0, n), min_size=rows, max_size=rows)))
    share = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=rows, max_size=rows)))
    x = np.where(tx > 0, 1 + np.floor(share * (tx - 1) + 0.5), 0).astype(int)
    return x, tx, n


@given(theta=_theta, h=_histories())
def test_probability_alive_is_a_probability_and_likelihood_finite(theta, h):
    x, tx, n = h
    p = _params(theta)
    pa = bgbb.probability_alive(p, x, tx, n)
    assert np.all((pa >= 0) & (pa <= 1))
    ll = bgbb.log_likelihood_per_customer(p, x, tx, n)
    assert np.all(np.isfinite(ll) & (ll <= 1e-12))


@given(theta=_theta, h=_histories(), data=st.data())
def test_log_likelihood_is_order_invariant(theta, h, data):
    x, tx, n = h
    perm = np.array(data.draw(st.permutations(list(range(x.size)))))
    p = _params(theta)
    assert_allclose(
        bgbb.log_likelihood(p, x, tx, n),
        bgbb.log_likelihood(p, x[perm], tx[perm], n),
        rtol=1e-12,
        atol=1e-12,
    )


@given(theta=_theta, h=_histories(), a=st.integers(0, 50), b=st.integers(0, 50))
def test_conditional_expectation_nonnegative_and_nondecreasing(theta, h, a, b):
    x, tx, n = h
    p = _params(theta)
    lo = bgbb.conditional_expected_purchases(p, min(a, b), x, tx, n)
    hi = bgbb.conditional_expected_purchases(p, max(a, b), x, tx, n)
    assert np.all(lo >= 0)
    assert np.all(hi >= lo * (1 - 1e-12))


@given(theta=_theta, n=st.integers(1, 30))
def test_alive_probability_grows_with_recency(theta, n):
    # Same x = 1, later t_x: likelier still alive.
    p = _params(theta)
    tx = np.arange(1, n + 1)
    pa = bgbb.probability_alive(p, np.ones(n, dtype=int), tx, n)
    assert np.all(np.diff(pa) >= -1e-12)


def test_weights_equal_exploded_rows():
    x = np.array([0, 1, 2, 3, 6])
    tx = np.array([0, 1, 4, 6, 6])
    w = np.array([40, 10, 7, 5, 8])
    p = DONATIONS
    assert_allclose(
        bgbb.log_likelihood(p, x, tx, 6, weights=w),
        bgbb.log_likelihood(p, np.repeat(x, w), np.repeat(tx, w), 6),
        rtol=1e-13,
    )
    fw = bgbb.fit(x, tx, 6, weights=w)
    fe = bgbb.fit(np.repeat(x, w), np.repeat(tx, w), 6)
    assert isinstance(fw, BgBbFit)
    assert_allclose(fw.params.as_array(), fe.params.as_array(), rtol=1e-8)
    assert_allclose(fw.log_likelihood, fe.log_likelihood, rtol=1e-12)
    assert fw.n_customers == fe.n_customers == w.sum()


def test_fit_accepts_a_discrete_summary_and_methods_delegate():
    # A log of yearly donations: customers 1-3 first gave in 2020.
    ids = [1, 1, 1, 2, 3, 3, 4]
    times = np.array(
        [
            "2020-03-01",
            "2021-05-01",
            "2023-01-09",
            "2020-07-01",
            "2020-02-01",
            "2024-04-04",
            "2021-01-01",
        ],
        dtype="datetime64[ns]",
    )
    table = InteractionTable.from_arrays(ids, times)
    summary = summarize_discrete(table, start="2020-01-01", period="Y", n_periods=5)
    assert summary.frequency.tolist() == [2, 0, 1]
    p = DONATIONS
    assert_allclose(
        bgbb.probability_alive(p, summary),
        bgbb.probability_alive(p, summary.frequency, summary.recency, 5),
    )
    h = bgbb_histories(1.204, 0.75, 0.657, 2.783, n_periods=6, n_customers=5000, rng=2)
    f = bgbb.fit(h.frequency, h.recency, 6)
    assert f.converged
    assert_allclose(f.probability_alive(summary), bgbb.probability_alive(f.params, summary))
    assert_allclose(
        f.conditional_expected_purchases(3, summary),
        bgbb.conditional_expected_purchases(f.params, 3, summary),
    )
    assert f.expected_purchases(4) == bgbb.expected_purchases(f.params, 4)
    assert f.purchase_probability(1, 4) == bgbb.purchase_probability(f.params, 1, 4)
    assert_allclose(
        f.log_likelihood_per_customer(h.frequency, h.recency, 6).sum(), f.log_likelihood
    )


def test_parameter_recovery_within_three_standard_errors():
    # 50,000 customers per draw, four draws (fast: a cohort with n = 6 has at
    # most 28 distinct histories): each estimate within 3 standard errors, and
    # the standard errors match the spread of the estimates.
    truth = np.array([1.204, 0.75, 0.657, 2.783])
    rng = np.random.default_rng(7)
    estimates, ses = [], []
    for _ in range(4):
        h = bgbb_histories(*truth, n_periods=6, n_customers=50_000, rng=rng)
        f = bgbb.fit(h.frequency, h.recency, 6)
        est, se = f.params.as_array(), f.standard_errors.as_array()
        assert np.all(np.abs(est - truth) < 3 * se), (est, se)
        estimates.append(est)
        ses.append(se)
    spread = np.std(estimates, axis=0, ddof=1)
    mean_se = np.mean(ses, axis=0)
    assert np.all(spread < 3 * mean_se)
    assert np.all(spread > mean_se / 10)


# --------------------------------------------------------------------------- stability


def test_extreme_inputs_give_finite_results_without_warnings():
    grid = [1e-4, 1.0, 1e4]
    x = np.array([0, 1, 10_000, 5_000, 1])
    tx = np.array([0, 1, 10_000, 9_999, 10_000])
    n = 10_000
    for a in grid:
        for b in grid:
            for g in grid:
                for d in grid:
                    p = BgBbParams(alpha=a, beta=b, gamma=g, delta=d)
                    ll = bgbb.log_likelihood_per_customer(p, x, tx, n)
                    assert np.all(np.isfinite(ll)), (a, b, g, d)
                    pa = bgbb.probability_alive(p, x, tx, n)
                    assert np.all((pa >= 0) & (pa <= 1))
                    ce = bgbb.conditional_expected_purchases(p, 100, x, tx, n)
                    assert np.all(np.isfinite(ce) & (ce >= 0))
                    assert np.isfinite(bgbb.expected_purchases(p, 10_000))


def _mp_expected(theta, n):
    # Eq. (7) of Fader, Hardie & Shang (2010) with 50-digit mpmath log-gamma functions.
    mp.mp.dps = 50
    a, b, g, d = (mp.mpf(t) for t in theta)
    n = mp.mpf(n)
    if g == 1:
        return a / (a + b) * d * (mp.digamma(1 + d + n) - mp.digamma(1 + d))
    log_r = (
        mp.loggamma(g + d) + mp.loggamma(1 + d + n) - mp.loggamma(g + d + n) - mp.loggamma(1 + d)
    )
    return a / (a + b) * d / (g - 1) * (1 - mp.exp(log_r))


_HORIZONS = [1, 7, 99, 100, 101, 10**6, 10**6 + 1, 10**9, 10**12, 10**14, 10**15]
_THETAS = [
    (1.204, 0.750, 0.657, 2.783),  # the donations cohort (FHS 2010)
    (1.0, 1.0, 1.0, 2.0),  # gamma = 1: the digamma limit
    (2.0, 3.0, 1.0 + 1e-9, 5.0),
    (0.5, 0.5, 1e-8, 1e-8),
    (3.0, 1.0, 5.0, 1e8),
    (1e8, 1e8, 1e8, 1e8),
    (1.0, 1.0, 1.5, 150.0),
]


@pytest.mark.parametrize("theta", _THETAS)
def test_expected_purchases_at_long_horizons_match_mpmath_and_increase(theta):
    got = bgbb.expected_purchases(_params(theta), _HORIZONS)
    expected = [float(_mp_expected(theta, n)) for n in _HORIZONS]
    assert_allclose(got, expected, rtol=1e-11)
    assert np.all(np.diff(got) >= -4e-15 * got[1:])  # non-decreasing up to rounding


def test_conditional_expected_purchases_at_long_horizons_match_mpmath():
    # The n_future dependence is the telescoped sum of eq. (13) of FHS (2010):
    # S(n*) ∝ Γ(1+δ+n)/Γ(γ+δ+n) - Γ(1+δ+n+n*)/Γ(γ+δ+n+n*); its ratio to S(1) is free
    # of the likelihood. 50-digit mpmath log-gamma functions.
    mp.mp.dps = 50
    _, _, g, d = (mp.mpf(t) for t in DONATIONS.as_array())
    n = 6

    def s(n_star):
        def r(m):
            return mp.exp(mp.loggamma(1 + d + m) - mp.loggamma(g + d + m))

        return r(n) - r(n + n_star)

    futures = [1, 10**6 + 5, 10**12, 10**15]
    got = np.array(
        [bgbb.conditional_expected_purchases(DONATIONS, k, [2], [4], n)[0] for k in futures]
    )
    expected = [float(s(k) / s(1)) for k in futures]
    assert_allclose(got / got[0], expected, rtol=1e-11)


def test_long_histories_are_bounded_and_fast():
    # probability_alive(p, [1], [1], [10**8]) used to build a 1e8-wide grid (35 s); the
    # likelihood has one term per opportunity, so n_periods is bounded with a clear error.
    with pytest.raises(InputError, match=r"n_periods must be at most 100000 .*1e\+08"):
        bgbb.probability_alive(DONATIONS, [1], [1], [10**8])
    with pytest.raises(InputError, match="n_periods must be at most 100000"):
        bgbb.probability_alive(DONATIONS, [1], [1], 10**15)
    with pytest.raises(InputError, match="n_periods must be at most 100000"):
        bgbb.purchase_probability(DONATIONS, 1, 10**6)
    with pytest.raises(InputError, match=r"n_periods must be at most 1000000000000000"):
        bgbb.expected_purchases(DONATIONS, 10**16)
    with pytest.raises(InputError, match=r"n_future must be at most 1000000000000000"):
        bgbb.conditional_expected_purchases(DONATIONS, 10**16, [1], [1], 6)
    # k beyond n is simply impossible, whatever its size (no table of k entries).
    assert bgbb.purchase_probability(DONATIONS, [0, 10**18], 5)[1] == 0.0
    # The largest accepted history still works: one customer, 100,000 opportunities.
    pa = bgbb.probability_alive(DONATIONS, [1], [1], bgbb.MAX_PERIODS)
    assert 0.0 < pa[0] < 1e-3


def test_huge_customers_and_parameters_finite_without_warnings():
    # frequency 1e5 (= n), zero recency, 1e5 opportunities; parameters 1e-8 and 1e8.
    x = np.array([100_000, 0, 1, 50_000])
    tx = np.array([100_000, 0, 100_000, 99_999])
    for theta in [(1e-8,) * 4, (1e8,) * 4, (1e-8, 1e8, 1e-8, 1e8), (1e8, 1e-8, 1e8, 1e-8)]:
        p = _params(theta)
        ll = bgbb.log_likelihood_per_customer(p, x, tx, 100_000)
        assert np.all(np.isfinite(ll)), theta
        pa = bgbb.probability_alive(p, x, tx, 100_000)
        assert np.all((pa >= 0) & (pa <= 1)), theta
        ce = bgbb.conditional_expected_purchases(p, 10**15, x, tx, 100_000)
        assert np.all(np.isfinite(ce) & (ce >= 0)), theta
        ep = bgbb.expected_purchases(p, [1, 10**15])
        assert np.all(np.isfinite(ep) & (ep >= 0)), theta


# --------------------------------------------------------------------------- errors


def test_params_are_validated():
    with pytest.raises(InputError, match=r"delta must be > 0\.0"):
        BgBbParams(alpha=1.0, beta=1.0, gamma=1.0, delta=-2.0)
    with pytest.raises(InputTypeError, match="alpha must be a real number"):
        BgBbParams(alpha=None, beta=1.0, gamma=1.0, delta=1.0)


def test_histories_are_validated():
    p = DONATIONS
    with pytest.raises(InputError, match="recency must be at least frequency"):
        bgbb.log_likelihood(p, [3], [2], 6)
    with pytest.raises(InputError, match="recency must not exceed n_periods"):
        bgbb.probability_alive(p, [1], [7], 6)
    with pytest.raises(InputError, match="recency must be 0 where frequency is 0"):
        bgbb.probability_alive(p, [0], [2], 6)
    with pytest.raises(InputError, match="frequency must be non-negative"):
        bgbb.probability_alive(p, [-1], [0], 6)
    with pytest.raises(InputError, match="frequency must hold whole numbers"):
        bgbb.probability_alive(p, [1.5], [2], 6)
    with pytest.raises(InputError, match="n_periods must have the same length as frequency"):
        bgbb.probability_alive(p, [1, 1], [1, 2], [6, 6, 6])
    with pytest.raises(InputError, match="n_periods must be >= 0"):
        bgbb.probability_alive(p, [0], [0], -1)
    with pytest.raises(InputTypeError, match="recency and n_periods are required"):
        bgbb.probability_alive(p, [1])
    with pytest.raises(InputTypeError, match="params must be BgBbParams"):
        bgbb.probability_alive((1, 1, 1, 1), [1], [1], 2)


def test_prediction_arguments_are_validated():
    p = DONATIONS
    with pytest.raises(InputError, match="n_future must be non-negative"):
        bgbb.conditional_expected_purchases(p, -1, [1], [1], 6)
    with pytest.raises(InputError, match="n_periods must be non-negative"):
        bgbb.expected_purchases(p, [1, -2])
    with pytest.raises(InputError, match="k must hold whole numbers"):
        bgbb.purchase_probability(p, 0.5, 6)
    with pytest.raises(InputError, match="k and n_periods must broadcast together"):
        bgbb.purchase_probability(p, [1, 2], [3, 4, 5])


def test_bad_inputs_raise_crmcore_errors_naming_the_argument():
    p = DONATIONS
    # All weights 0: nothing to sum (used to fail inside numpy's max of an empty array).
    with pytest.raises(InputError, match="weights must not all be 0"):
        bgbb.log_likelihood(p, [1, 0], [1, 0], 6, weights=[0, 0])
    assert bgbb.log_likelihood(p, [], [], 6) == 0.0
    # Integers beyond the float range (used to raise OverflowError).
    with pytest.raises(
        InputError,
        match=r"alpha must (be( a)? finite|fit in a 64-bit)",
    ):
        BgBbParams(alpha=10**400, beta=1.0, gamma=1.0, delta=1.0)
    with pytest.raises(
        InputError,
        match=r"n_periods must (be( a)? finite|fit in a 64-bit)",
    ):
        bgbb.expected_purchases(p, [10**400])
    with pytest.raises(
        InputError, match=r"n_periods must (be at most 100000|fit in a 64-bit integer)"
    ):
        bgbb.probability_alive(p, [1], [1], 10**400)
    with pytest.raises(InputError, match="n_periods must be a flat sequence"):
        bgbb.expected_purchases(p, [[1, 2], [3]])
    with pytest.raises(InputTypeError, match="k must be a whole number or an array of them"):
        bgbb.purchase_probability(p, None, 3)


def test_fit_rejects_bad_input():
    with pytest.raises(InputTypeError, match="initial must be BgBbParams"):
        bgbb.fit([1, 0], [1, 0], 6, initial=[1, 1, 1, 1])
    with pytest.raises(InputError, match="weights must be non-negative"):
        bgbb.fit([1, 0], [1, 0], 6, weights=[1, -1])
    with pytest.raises(InputError, match="at least one customer"):
        bgbb.fit([1, 0], [1, 0], 6, weights=[0, 0])


def test_fit_on_degenerate_data_raises_convergence_error():
    # Everybody buys at every opportunity: p -> 1 and theta -> 0 are not identified.
    with pytest.raises(ConvergenceError, match="BG/BB"):
        bgbb.fit([6], [6], 6, weights=[100])


def test_empty_and_scalar_shapes():
    p = DONATIONS
    assert bgbb.probability_alive(p, [], [], 6).shape == (0,)
    assert bgbb.log_likelihood_per_customer(p, [], [], 6).shape == (0,)
    assert bgbb.expected_purchases(p, [[1, 2], [3, 0]]).shape == (2, 2)
    assert bgbb.purchase_probability(p, 7, 6) == 0.0


@given(
    theta=st.tuples(*[st.floats(-8.0, 8.0).map(lambda e: float(10.0**e))] * 4),
    n=st.lists(st.integers(0, 10**15), min_size=2, max_size=6),
)
# Hunt profile: gamma 2.4e7, delta 1.8e-7 (everyone churns after the first
# opportunity, E[X(n)] ~ 3.6e-15 and flat to 1e-21 relative). The value is
# exp of a sum of logs of magnitude ~33, so each n carries ~3.5e-15 relative
# rounding (checked against mpmath at 50 digits) and E[X(5)] came out 7e-15
# below E[X(3)]: more than the old fixed 4e-15 allowed.
@example(theta=(1.0, 1.0, 24362325.98151701, 10.0**-6.75), n=[3, 5])
def test_expected_purchases_finite_and_non_decreasing_up_to_the_horizon_bound(theta, n):
    # E[X(n)] is a sum of non-negative terms over t = 1..n (FHS 2010, eq. 7).
    nn = np.sort(np.array(n))
    got = bgbb.expected_purchases(_params(theta), nn)
    assert np.all(np.isfinite(got) & (got >= 0))
    # Non-decreasing up to rounding. The result is exp(s) with s a sum of a
    # few logs, so its relative rounding is a few ulps of |s| = |ln E[X(n)]|,
    # not a few ulps of 1: allow twice 8 ulps of (1 + |s|) per neighbour pair.
    rel = 16 * np.finfo(float).eps * (1.0 + np.abs(np.log(np.where(got > 0, got, 1.0))))
    assert np.all(np.diff(got) >= -rel[1:] * got[1:])


@pytest.mark.parametrize(
    "call",
    [
        lambda n: bgbb.fit([0, 1], [0, 1], n),
        lambda n: bgbb.probability_alive(DONATIONS, [0, 1], [0, 1], n),
        lambda n: bgbb.log_likelihood(DONATIONS, [0, 1], [0, 1], n),
        lambda n: bgbb.conditional_expected_purchases(DONATIONS, 3, [0, 1], [0, 1], n),
    ],
)
def test_ragged_n_periods_raises_input_error_naming_it(call):
    # Fuzz finding: a ragged n_periods leaked numpy's ValueError.
    with pytest.raises(InputError, match="n_periods must be a flat sequence"):
        call([[6, 6], [6]])
