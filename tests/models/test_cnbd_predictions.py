"""Conditional predictions of BG/CNBD-k and MBG/CNBD-k beyond the expected purchases.

conditional_probability_alive, conditional_purchase_count_probability,
discounted_expected_residual_purchases, and the bound E[Y] >= P(Y > 0) of
conditional_expected_purchases. References: Monte Carlo draws of
:mod:`crmcore.simulate` (event by event, not from these formulas), the k = 1
models (BG/NBD, MBG/NBD), scipy's adaptive quadrature of
delta exp(-delta t) E[Y(t)] (the DERT integrated by parts, brute force), and
mpmath sums of the formulas written out here.
"""

from __future__ import annotations

import warnings
from typing import Any

import mpmath as mp
import numpy as np
import pytest
import scipy.integrate
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from crmcore.errors import InputError, InputTypeError
from crmcore.models import bgcnbd, bgnbd, mbgcnbd, mbgnbd
from crmcore.simulate import bgcnbd_histories, mbgcnbd_histories

# (module, params class, shift s, k = 1 module, its params class, simulator)
MODELS = [
    (bgcnbd, bgcnbd.BgCnbdParams, 0, bgnbd, bgnbd.BgNbdParams, bgcnbd_histories),
    (mbgcnbd, mbgcnbd.MbgCnbdParams, 1, mbgnbd, mbgnbd.MbgNbdParams, mbgcnbd_histories),
]
IDS = ["bgcnbd", "mbgcnbd"]
TRUE = (2.0, 8.0, 0.8, 2.5)


def params_of(cls: Any, k: int, theta: tuple[float, ...] = TRUE) -> Any:
    r, alpha, a, b = theta
    return cls(r=r, alpha=alpha, a=a, b=b, k=k)


# --------------------------------------------------------------------------- E[Y] >= P(Y > 0)


@pytest.mark.parametrize("m", MODELS, ids=IDS)
def test_expected_purchases_keep_the_last_phase_for_tiny_horizons(m):
    # k = 3, one repeat purchase just before T, t = 1e-20: the only way to buy that soon is
    # to be one event short of a purchase (J = 2), a phase of posterior weight ~ y^2 ~ 1e-33.
    # Its term w_2 I_z(1, R+2) ~ 1e-33 * 1e-20 outweighs the others (~ z^3, w_1 z^2), so
    # E[Y] ~ P(Y > 0) ~ P(alive) w_2 z; the old code dropped weights below 1e-20 (E was
    # 5.5e-57 against P = 6.1e-53).
    mod, cls, _, _, _, _ = m
    p = params_of(cls, 3, (1.0, 4.0, 0.8, 2.5))
    expected = mod.conditional_expected_purchases(p, 1e-20, 1, 0.5 - 1e-16, 0.5)
    buy = mod.conditional_purchase_probability(p, 1e-20, 1, 0.5 - 1e-16, 0.5)
    assert buy > 0.0
    assert expected >= buy * (1 - 1e-12)
    assert expected <= buy * (1 + 1e-6)  # at most one purchase in so short a time


extreme = st.one_of(
    st.floats(1e-300, 1e-12), st.floats(1e-12, 1.0), st.floats(1.0, 1e3), st.just(0.0)
)


@pytest.mark.parametrize("m", MODELS, ids=IDS)
@given(
    x=st.one_of(st.integers(0, 3), st.integers(0, 10_000)),
    T=st.floats(1e-6, 1e4),
    gap=extreme,
    t=st.one_of(st.floats(1e-300, 1e-10), st.floats(1e-10, 100.0)),
    theta=st.tuples(
        st.floats(0.01, 50.0), st.floats(0.01, 100.0), st.floats(0.01, 20.0), st.floats(0.01, 20.0)
    ),
    k=st.integers(1, 12),
)
def test_expected_purchases_are_at_least_the_purchase_probability(m, *, x, T, gap, t, theta, k):
    mod, cls, _, _, _, _ = m
    tx = max(T - gap, 0.0) if x > 0 else 0.0
    p = params_of(cls, k, theta)
    try:
        expected = mod.conditional_expected_purchases(p, t, x, tx, T)
    except InputError:  # a series beyond 100,000 terms is refused (see test_cnbd.py)
        return
    buy = mod.conditional_purchase_probability(p, t, x, tx, T)
    assert np.isfinite(expected)
    assert expected >= buy * (1 - 1e-12)


# ------------------------------------------------------------------ k = 1 is BG/NBD, MBG/NBD

HIST = (np.array([0, 2, 5, 0, 40]), np.array([0.0, 30.0, 20.0, 0.0, 37.5]))
HIST_T = np.array([38.0, 38.0, 38.0, 0.0, 38.0])


@pytest.mark.parametrize("m", MODELS, ids=IDS)
def test_k1_equals_the_bgnbd_family(m):
    # The closed forms of the k = 1 models (Fader, Hardie & Lee 2005; Batislam et al. 2007)
    # against this module at k = 1, through the public functions and through the series
    # the module sums for k > 1 (forced at k = 1).
    mod, cls, s, ref, ref_cls, _ = m
    theta = (0.7, 5.0, 0.9, 2.2)
    p, q = params_of(cls, 1, theta), ref_cls(r=0.7, alpha=5.0, a=0.9, b=2.2)
    x, tx = HIST
    T = HIST_T
    t = np.array([3.0, 20.0, 52.0, 7.0, 0.5])
    hist = (x.astype(float), tx, T)
    th = np.array(theta)
    want = ref.conditional_probability_alive(q, t, x, tx, T)
    assert_allclose(mod.conditional_probability_alive(p, t, x, tx, T), want, rtol=1e-12)
    assert_allclose(bgcnbd._alive_later(th, 1, t, hist, s, closed_form=False), want, rtol=1e-12)
    for n in range(5):
        nn = np.full(x.size, float(n))
        want = ref.conditional_purchase_count_probability(q, n, t, x, tx, T)
        got = mod.conditional_purchase_count_probability(p, n, t, x, tx, T)
        assert_allclose(got, want, rtol=1e-12)
        series = bgcnbd._count_pmf(th, 1, nn, t, hist, shift=s, closed_form=False)
        assert_allclose(series, want, rtol=1e-12)
    for rate in (0.003, 0.05, 2.0):
        want = ref.discounted_expected_residual_purchases(q, x, tx, T, discount_rate=rate)
        got = mod.discounted_expected_residual_purchases(p, x, tx, T, discount_rate=rate)
        assert_allclose(got, want, rtol=1e-12)
        series = bgcnbd._dert_k(th, 1, rate, hist, s, closed_form=False)
        assert_allclose(series, want, rtol=1e-12)


# --------------------------------------------------------------------------- references


def mp_alive_later(theta, k, t, hist, s):
    """P(alive at T + t) as the sum over J and m of the docstring, in mpmath (40 digits)."""
    mp.mp.dps = 40
    x, tx, T = hist
    r, al, a, b = (mp.mpf(q) for q in theta)
    big_r = r + k * x
    y = (mp.mpf(T) - tx) / (al + T)
    terms = [mp.rf(big_r, j) * y**j / mp.factorial(j) for j in range(k)]
    w = [q / mp.fsum(terms) for q in terms]
    alive_terms = mp.beta(a, b + x + s) / mp.beta(a, b) * mp.fsum(terms) / (al + T) ** big_r
    dead = mp.beta(a + 1, b + x + s - 1) / mp.beta(a, b) / (al + tx) ** big_r if x + s > 0 else 0
    alive = alive_terms / (alive_terms + dead)
    z = mp.mpf(t) / (al + T + t)
    bp = b + x + s

    def nb(e, shape):
        return (
            mp.exp(mp.loggamma(shape + e) - mp.loggamma(shape) - mp.loggamma(e + 1))
            * (1 - z) ** shape
            * z**e
        )

    total = 0
    for j in range(k):
        shape = big_r + j
        stay = 0
        for n in range(400):
            lo, hi = max(k * n - j, 0), k * n - j + k - 1
            p_m = mp.fsum(nb(e, shape) for e in range(lo, hi + 1))
            stay += mp.beta(a, bp + n) / mp.beta(a, bp) * p_m
        total += w[j] * stay
    return float(alive * total)


@pytest.mark.parametrize("m", MODELS, ids=IDS)
@pytest.mark.parametrize(
    ("k", "x", "tx", "T", "t"),
    [(2, 2, 30.0, 38.0, 10.0), (3, 0, 0.0, 20.0, 39.0), (5, 7, 12.0, 40.0, 3.0)],
)
def test_conditional_probability_alive_against_mpmath(m, *, k, x, tx, T, t):
    mod, cls, s, _, _, _ = m
    theta = (1.0, 4.0, 0.8, 2.5)
    got = mod.conditional_probability_alive(params_of(cls, k, theta), t, x, tx, T)
    assert_allclose(got, mp_alive_later(theta, k, t, (x, tx, T), s), rtol=1e-11)


@pytest.mark.parametrize("m", MODELS, ids=IDS)
@pytest.mark.parametrize(("k", "rate"), [(2, 0.05), (3, 0.1), (5, 0.02)])
def test_dert_equals_the_discounted_sum_of_expected_purchases(m, k, rate):
    # Brute force: the discounted purchases sum_i exp(-d t_i) (E[Y(t_i + h)] - E[Y(t_i)])
    # on a fine grid (a Riemann-Stieltjes sum, midpoint discount, error O(h^2)), and
    # scipy's adaptive quadrature of d exp(-d t) E[Y(t)] (the same integral by parts).
    mod, cls, _, _, _, _ = m
    p = params_of(cls, k)
    x, tx, T = 2, 30.0, 38.0
    dert = mod.discounted_expected_residual_purchases(p, x, tx, T, discount_rate=rate)
    stop = 40.0 / rate
    grid = np.linspace(0.0, stop, 4_001)
    e = mod.conditional_expected_purchases(
        p, grid, [x] * grid.size, [tx] * grid.size, [T] * grid.size
    )
    mid = (grid[1:] + grid[:-1]) / 2
    stieltjes = float(np.sum(np.exp(-rate * mid) * np.diff(e)))
    assert_allclose(dert, stieltjes, rtol=1e-4)  # the sum errs by O((rate h)^2)

    def integrand(u):
        return rate * np.exp(-rate * u) * mod.conditional_expected_purchases(p, u, x, tx, T)

    quad, _ = scipy.integrate.quad(integrand, 0.0, stop, limit=500, epsabs=0.0, epsrel=1e-12)
    assert_allclose(dert, quad, rtol=1e-10)


# --------------------------------------------------------------------------- Monte Carlo


@pytest.mark.slow
@pytest.mark.parametrize("m", MODELS, ids=IDS)
def test_conditional_alive_and_counts_match_the_simulator(m):
    # 60,000 customers drawn with k = 3 and a holdout of 30 periods: by frequency group,
    # the share still active at T + 30 (dropout_time > T + 30) and the shares with
    # 0, 1, 2, 3 holdout purchases, within 4.5 standard errors of the means of the
    # predictions.
    mod, cls, _, _, _, sim = m
    k, t = 3, 30.0
    T = np.random.default_rng(2).uniform(10.0, 52.0, 60_000)
    h = sim(*TRUE, k, T=T, duration_holdout=t, rng=7)
    p = params_of(cls, k)
    args = (h.frequency, h.recency, h.T)
    later = mod.conditional_probability_alive(p, t, *args)
    for lo, hi in [(0, 1), (1, 3), (3, 8), (8, 10**6)]:
        g = (h.frequency >= lo) & (h.frequency < hi)
        size = g.sum()
        actual = (h.dropout_time[g] > h.T[g] + t).astype(float)
        se = actual.std() / np.sqrt(size) + 1e-12
        assert abs(later[g].mean() - actual.mean()) < 4.5 * se
        for n in range(4):
            pmf = mod.conditional_purchase_count_probability(
                p, n, t, h.frequency[g], h.recency[g], h.T[g]
            )
            actual = (h.frequency_holdout[g] == n).astype(float)
            se = actual.std() / np.sqrt(size) + 1e-12
            assert abs(pmf.mean() - actual.mean()) < 4.5 * se


# --------------------------------------------------------------------------- properties

thetas = st.tuples(
    st.floats(0.05, 20.0), st.floats(0.05, 50.0), st.floats(0.05, 10.0), st.floats(0.05, 10.0)
)
histories = st.integers(0, 60).flatmap(
    lambda x: st.tuples(st.just(x), st.floats(0.0, 1.0), st.floats(0.1, 100.0))
)


@pytest.mark.parametrize("m", MODELS, ids=IDS)
@given(h=histories, theta=thetas, k=st.integers(1, 12), t=st.floats(0.0, 100.0))
def test_conditional_probability_alive_properties(m, h, theta, k, t):
    mod, cls, _, _, _, _ = m
    x, frac, T = h
    tx = frac * T if x > 0 else 0.0
    p = params_of(cls, k, theta)
    alive = mod.probability_alive(p, x, tx, T)
    now = mod.conditional_probability_alive(p, 0.0, x, tx, T)
    later = mod.conditional_probability_alive(p, t, x, tx, T)
    more = mod.conditional_probability_alive(p, t + 10.0, x, tx, T)
    assert_allclose(now, alive, rtol=1e-12)  # k = 1: the BG/NBD module rounds its own way
    assert 0.0 <= more <= later * (1 + 1e-12) + 1e-300
    assert later <= alive
    # surviving to T + t needs being alive at T and no dropout after the purchases of
    # (T, T+t]; so P(alive at T+t) >= P(alive) - P(Y(t) > 0)
    buy = mod.conditional_purchase_probability(p, t, x, tx, T)
    assert later >= alive - buy - 1e-12


@pytest.mark.parametrize("m", MODELS, ids=IDS)
@given(h=histories, theta=thetas, k=st.integers(1, 12), t=st.floats(0.0, 60.0))
def test_conditional_pmf_sums_to_one_and_matches_the_mean(m, h, theta, k, t):
    mod, cls, _, _, _, _ = m
    x, frac, T = h
    tx = frac * T if x > 0 else 0.0
    p = params_of(cls, k, theta)
    try:
        expected = mod.conditional_expected_purchases(p, t, x, tx, T)
    except InputError:  # a series beyond 100,000 terms is refused (see test_cnbd.py)
        return
    # the counts up to 40 standard deviations of the count of a customer who never drops
    # out, N/k with N ~ NB(R + k, z): beyond, the pmf is below 1e-300
    big_r = theta[0] + k * (x + 1)
    z = t / (theta[1] + T + t)
    mean = big_r * z / (1 - z) / k
    sd = np.sqrt(big_r * z) / (1 - z) / k
    n = np.arange(int(mean + 40 * sd + 50))
    pmf = mod.conditional_purchase_count_probability(p, n, t, x, tx, T)
    assert np.all((pmf >= 0) & (pmf <= 1))
    assert abs(pmf.sum() - 1.0) < 1e-9
    assert_allclose((n * pmf).sum(), expected, rtol=1e-8, atol=1e-12)
    buy = mod.conditional_purchase_probability(p, t, x, tx, T)
    assert_allclose(1.0 - pmf[0], buy, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("m", MODELS, ids=IDS)
@given(
    h=histories,
    theta=thetas,
    k=st.integers(1, 8),
    rate=st.floats(0.05, 5.0),
)
def test_dert_properties(m, h, theta, k, rate):
    mod, cls, _, _, _, _ = m
    x, frac, T = h
    tx = frac * T if x > 0 else 0.0
    p = params_of(cls, k, theta)
    dert = mod.discounted_expected_residual_purchases(p, x, tx, T, discount_rate=rate)
    more = mod.discounted_expected_residual_purchases(p, x, tx, T, discount_rate=2 * rate)
    assert 0.0 <= more <= dert * (1 + 1e-10)
    # the purchases of (T, T + 1/rate] are discounted by at least exp(-1)
    e = mod.conditional_expected_purchases(p, 1.0 / rate, x, tx, T)
    assert dert >= np.exp(-1.0) * e * (1 - 1e-9)
    # a customer as numbers equals her row in a batch
    batch = mod.discounted_expected_residual_purchases(
        p, [x, 1], [tx, 0.5], [T, 1.0], discount_rate=rate
    )
    assert batch[0] == dert


# --------------------------------------------------------------------------- stress and errors


@pytest.mark.parametrize("m", MODELS, ids=IDS)
@pytest.mark.parametrize("k", [2, 12, 30])
def test_extreme_histories_are_finite_without_warnings(m, k):
    mod, cls, _, _, _, _ = m
    x = np.array([0, 1, 10_000, 10_000, 10_000, 5000])
    tx = np.array([0.0, 1e-6, 52.0, 1.0, 51.99, 30.0])
    T = np.array([1e4, 52.0, 52.0, 52.0, 52.0, 1e4])
    for theta in [(0.3, 0.5, 0.7, 1.2), (1e-3, 1e3, 1e-3, 1e3), (50.0, 1e-3, 30.0, 1e-3)]:
        p = params_of(cls, k, theta)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            alive = mod.probability_alive(p, x, tx, T)
            later = mod.conditional_probability_alive(p, 10.0, x, tx, T)
            pmf0 = mod.conditional_purchase_count_probability(p, 0, 10.0, x, tx, T)
            pmf_big = mod.conditional_purchase_count_probability(p, 10_000, 10.0, x, tx, T)
            dert = mod.discounted_expected_residual_purchases(p, x, tx, T, discount_rate=50.0)
            dert_low = mod.discounted_expected_residual_purchases(p, x, tx, T, discount_rate=1e-6)
        for out in (later, pmf0, pmf_big, dert, dert_low):
            assert np.all(np.isfinite(out))
        assert np.all((later >= 0) & (later <= alive))
        assert np.all((pmf0 >= 0) & (pmf0 <= 1) & (pmf_big >= 0) & (pmf_big <= 1))
        assert np.all((dert >= 0) & (dert_low >= dert))


@pytest.mark.parametrize("m", MODELS, ids=IDS)
def test_errors(m):
    mod, cls, _, _, ref_cls, _ = m
    p = params_of(cls, 2)
    with pytest.raises(InputError, match="t must be >= 0"):
        mod.conditional_probability_alive(p, -1.0, [1], [2.0], [4.0])
    with pytest.raises(InputError, match="t must be finite"):
        mod.conditional_probability_alive(p, np.inf, [1], [2.0], [4.0])
    with pytest.raises(InputError, match="n must hold whole numbers"):
        mod.conditional_purchase_count_probability(p, 1.5, 3.0, [1], [2.0], [4.0])
    with pytest.raises(InputError, match="n must be non-negative"):
        mod.conditional_purchase_count_probability(p, -1, 3.0, [1], [2.0], [4.0])
    with pytest.raises(InputError, match="recency must not exceed T"):
        mod.conditional_purchase_count_probability(p, 1, 3.0, [1], [5.0], [4.0])
    with pytest.raises(InputError, match=r"discount_rate must be > 0\.0"):
        mod.discounted_expected_residual_purchases(p, [1], [2.0], [4.0], discount_rate=0.0)
    with pytest.raises(InputError, match="discount_rate must be finite"):
        mod.discounted_expected_residual_purchases(p, [1], [2.0], [4.0], discount_rate=np.nan)
    with pytest.raises(InputTypeError, match="params must be"):
        mod.conditional_probability_alive(
            ref_cls(r=1.0, alpha=1.0, a=1.0, b=1.0), 1.0, [1], [2.0], [4.0]
        )
    # a series beyond 100,000 terms is refused at once, naming the argument to change
    with pytest.raises(InputError, match="t is too long for these histories"):
        mod.conditional_probability_alive(p, 1e12, [1], [2.0], [4.0])


# --------------------------------------------------------------------------- fits, CLV, predict


def fit_of(m: Any, k: int) -> Any:
    mod, cls, _, _, ref_cls, _ = m
    p = params_of(cls, k)
    fit_cls = bgcnbd.BgCnbdFit if mod is bgcnbd else mbgcnbd.MbgCnbdFit
    return fit_cls(
        params=p,
        standard_errors=ref_cls(r=0.1, alpha=0.1, a=0.1, b=0.1),
        covariance=np.eye(4),
        log_likelihood=-1.0,
        n_customers=100.0,
        converged=True,
        n_iterations=1,
        time_unit="W",
    )


@pytest.mark.parametrize("m", MODELS, ids=IDS)
def test_fit_methods_convert_units_and_clv_accepts_the_fits(m):
    # the fit's methods are the module functions at its parameters, in the fit's time unit;
    # residual_lifetime_value and new_customer_value use the fit's DERT
    from crmcore import CustomerSummary
    from crmcore.models import clv, gamma_gamma

    mod, _, _, _, _, _ = m
    f = fit_of(m, 3)
    p = f.params
    x, tx, T = [2, 0, 5], [30.0, 0.0, 20.0], [38.0, 38.0, 38.0]
    assert_allclose(
        f.conditional_probability_alive(10.0, x, tx, T),
        mod.conditional_probability_alive(p, 10.0, x, tx, T),
        rtol=0,
    )
    assert_allclose(
        f.conditional_purchase_count_probability(1, 10.0, x, tx, T),
        mod.conditional_purchase_count_probability(p, 1, 10.0, x, tx, T),
        rtol=0,
    )
    # a summary in days: times / 7, a daily rate * 7
    days = CustomerSummary.from_arrays(
        x, np.array(tx) * 7, np.array(T) * 7, monetary_value=[20.0, 0.0, 30.0], time_unit="D"
    )
    weekly = mod.discounted_expected_residual_purchases(p, x, tx, T, discount_rate=0.07)
    assert_allclose(
        f.discounted_expected_residual_purchases(days, discount_rate=0.01), weekly, rtol=1e-12
    )
    assert_allclose(
        f.conditional_probability_alive(70.0, days),
        mod.conditional_probability_alive(p, 10.0, x, tx, T),
        rtol=1e-12,
    )
    g = gamma_gamma.GammaGammaParams(p=6.25, q=3.74, v=15.44)
    spend = gamma_gamma.GammaGammaFit(
        params=g,
        standard_errors=g,
        covariance=np.eye(3),
        log_likelihood=-1.0,
        n_customers=10.0,
        converged=True,
        n_iterations=1,
    )
    weeks = CustomerSummary.from_arrays(x, tx, T, monetary_value=[20.0, 0.0, 30.0], time_unit="W")
    value = clv.residual_lifetime_value(f, spend, weeks, discount_rate=0.01, margin=0.5)
    dert = mod.discounted_expected_residual_purchases(p, x, tx, T, discount_rate=0.01)
    per = spend.conditional_expected_spend(np.array([2.0, 5.0]), np.array([20.0, 30.0]))
    assert_allclose(value.value[[0, 2]], 0.5 * per * dert[[0, 2]], rtol=1e-12)
    new = clv.new_customer_value(f, expected_spend=35.0, discount_rate=0.01, margin=0.5)
    dert0 = mod.discounted_expected_residual_purchases(p, 0, 0.0, 0.0, discount_rate=0.01)
    assert_allclose(new, 0.5 * 35.0 * dert0, rtol=1e-12)


@pytest.mark.parametrize("m", MODELS, ids=IDS)
def test_predict_has_the_columns_of_the_bgnbd_family(m):
    from crmcore import CustomerSummary

    mod, _, _, ref, ref_cls, _ = m
    f = fit_of(m, 2)
    q = ref_cls(r=2.0, alpha=8.0, a=0.8, b=2.5)
    ref_fit = (bgnbd.BgNbdFit if ref is bgnbd else mbgnbd.MbgNbdFit)(
        params=q,
        standard_errors=q,
        covariance=np.eye(4),
        log_likelihood=-1.0,
        n_customers=100.0,
        converged=True,
        n_iterations=1,
        time_unit="W",
    )
    s = CustomerSummary.from_arrays([2, 0, 5], [30.0, 0.0, 20.0], [38.0, 38.0, 38.0], time_unit="W")
    got = f.predict(s, 13.0)
    assert list(got.columns()) == list(ref_fit.predict(s, 13.0).columns())
    assert_allclose(got.probability_alive, mod.probability_alive(f.params, s), rtol=0)
    assert_allclose(
        got.expected_purchases, mod.conditional_expected_purchases(f.params, 13.0, s), rtol=0
    )


@pytest.mark.parametrize("m", MODELS, ids=IDS)
def test_repeated_histories_give_the_same_digits_as_alone(m):
    # Large calls evaluate each distinct (x, t_x, T, t) once (DERT: each (x, T)); every row
    # must equal the value computed for it in a small call.
    mod, cls, _, _, _, sim = m
    h = sim(*TRUE, 3, T=np.floor(np.linspace(5.0, 60.0, 6000)), n_customers=None, rng=33)
    x, tx, T = h.frequency, np.floor(h.recency), h.T
    p = params_of(cls, 3)
    t = np.where(np.arange(x.size) % 2 == 0, 10.0, 20.0)
    rows = np.arange(0, x.size, 7)
    big = mod.conditional_probability_alive(p, t, x, tx, T)
    small = mod.conditional_probability_alive(p, t[rows], x[rows], tx[rows], T[rows])
    assert np.array_equal(big[rows], small)
    big = mod.discounted_expected_residual_purchases(p, x, tx, T, discount_rate=0.05)
    small = mod.discounted_expected_residual_purchases(
        p, x[rows], tx[rows], T[rows], discount_rate=0.05
    )
    assert np.array_equal(big[rows], small)
