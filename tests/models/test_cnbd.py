"""BG/CNBD-k and MBG/CNBD-k (crmcore.models.bgcnbd, crmcore.models.mbgcnbd).

Reference values come from independent sources: the BG/NBD and MBG/NBD
modules (k = 1 is the same model), mpmath evaluations of the formulas of
Platzer & Reutterer (2016) written out here (likelihood, P(alive), the pmf
and the series of the expectations with mpmath's incomplete beta), and Monte
Carlo draws of :mod:`crmcore.simulate`, whose process is drawn event by event
in distribution, not from these formulas.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from crmcore.errors import InputError, InputTypeError
from crmcore.models import bgcnbd, bgnbd, mbgcnbd, mbgnbd
from crmcore.simulate import bgcnbd_histories, mbgcnbd_histories
from crmcore.summary import CustomerSummary, compress

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


# --------------------------------------------------------------------------- mpmath references


def mp_loglik_alive(
    theta: tuple[float, ...], k: int, x: int, tx: float, T: float, *, litt: float, s: int
) -> tuple[float, float]:
    """Log-likelihood and P(alive) of Platzer & Reutterer (2016), term by term in mpmath."""
    mp.mp.dps = 40
    r, al, a, b = (mp.mpf(q) for q in theta)
    big_r = r + k * x
    pre = (k - 1) * mp.mpf(litt) - x * mp.loggamma(k)
    pre += mp.loggamma(big_r) - mp.loggamma(r) + r * mp.log(al)
    u = mp.mpf(T) - mp.mpf(tx)
    alive = (
        mp.beta(a, b + x + s)
        / mp.beta(a, b)
        * mp.fsum(
            mp.rf(big_r, j) * u**j / (mp.factorial(j) * (al + T) ** (big_r + j)) for j in range(k)
        )
    )
    dead = mp.beta(a + 1, b + x + s - 1) / mp.beta(a, b) / (al + tx) ** big_r if x + s > 0 else 0
    return float(pre + mp.log(alive + dead)), float(alive / (alive + dead))


def mp_tail(n: int, big_r: Any, z: Any) -> Any:
    """P(NB(R, z) >= n) = I_z(n, R), mpmath's regularised incomplete beta."""
    if n <= 0:
        return mp.mpf(1)
    return mp.betainc(n, big_r, 0, z, regularized=True)


def mp_series(big_r: Any, z: Any, first: int, k: int, *, a: Any, bp: Any, terms: int) -> Any:
    """sum_{m=1}^{terms} B(a, b'+m-1)/B(a, b') P(NB >= first + (m-1) k)."""
    return mp.fsum(
        mp.beta(a, bp + m - 1) / mp.beta(a, bp) * mp_tail(first + (m - 1) * k, big_r, z)
        for m in range(1, terms + 1)
    )


def mp_conditional(
    theta: tuple[float, ...], k: int, t: float, hist: tuple[int, float, float], s: int
) -> tuple[float, float]:
    """Expected purchases and P(purchase) in (T, T+t] (the series of the docstrings), mpmath."""
    mp.mp.dps = 30
    x, tx, T = hist
    r, al, a, b = (mp.mpf(q) for q in theta)
    big_r = r + k * x
    y = (mp.mpf(T) - tx) / (al + T)
    terms = [mp.rf(big_r, j) * y**j / mp.factorial(j) for j in range(k)]
    w = [q / mp.fsum(terms) for q in terms]
    _, alive = mp_loglik_alive(theta, k, x, tx, T, litt=0.0, s=s)
    z = mp.mpf(t) / (al + T + t)
    expected = mp.fsum(
        w[j] * mp_series(big_r + j, z, k - j, k, a=a, bp=b + x + s, terms=120) for j in range(k)
    )
    buy = mp.fsum(w[j] * mp_tail(k - j, big_r + j, z) for j in range(k))
    return float(alive * expected), float(alive * buy)


# --------------------------------------------------------------------------- k = 1 is BG/NBD


@pytest.mark.parametrize("m", MODELS, ids=IDS)
def test_k1_equals_the_bgnbd_family(m):
    mod, cls, _, ref, ref_cls, sim = m
    # Same model: every function equals BG/NBD (s = 0) or MBG/NBD (s = 1) on simulated data.
    h = sim(*TRUE, 1, T=np.linspace(5.0, 60.0, 3000), rng=31)
    p = params_of(cls, 1, (0.7, 3.0, 0.9, 2.2))
    q = ref_cls(r=0.7, alpha=3.0, a=0.9, b=2.2)
    args = (h.frequency, h.recency, h.T)
    total = mod.log_likelihood(p, *args)
    assert_allclose(total, ref.log_likelihood(q, *args), rtol=1e-12)
    assert_allclose(
        mod.log_likelihood_per_customer(p, *args),
        ref.log_likelihood_per_customer(q, *args),
        rtol=1e-12,
    )
    # litt does not enter when k = 1
    assert mod.log_likelihood(p, *args, litt=h.litt) == total
    assert_allclose(mod.probability_alive(p, *args), ref.probability_alive(q, *args), rtol=1e-12)
    assert_allclose(
        mod.conditional_expected_purchases(p, 20.0, *args),
        ref.conditional_expected_purchases(q, 20.0, *args),
        rtol=1e-12,
    )
    assert_allclose(
        mod.conditional_purchase_probability(p, 20.0, *args),
        ref.conditional_purchase_probability(q, 20.0, *args),
        rtol=1e-10,
    )
    t = np.array([0.0, 1.0, 39.0, 400.0])
    assert_allclose(mod.expected_purchases(p, t), ref.expected_purchases(q, t), rtol=1e-12)
    n = np.arange(6)
    assert_allclose(
        mod.purchase_probability(p, n, 39.0), ref.purchase_probability(q, n, 39.0), rtol=1e-10
    )


@pytest.mark.parametrize("m", MODELS, ids=IDS)
def test_k1_fit_equals_the_bgnbd_family_fit(m):
    mod, _, _, ref, _, sim = m
    h = sim(*TRUE, 1, T=np.linspace(5.0, 60.0, 3000), rng=32)
    f = mod.fit(h.frequency, h.recency, h.T, k=1)
    g = ref.fit(h.frequency, h.recency, h.T)
    assert_allclose(f.params.as_array(), g.params.as_array(), rtol=1e-5)
    assert_allclose(f.log_likelihood, g.log_likelihood, rtol=1e-10)


def test_series_with_k1_equals_the_closed_form():
    # The series of the expectations, forced with k = 1, against BG/NBD's hypergeometric form.
    t = np.array([0.5, 10.0, 39.0, 300.0])
    z = t / (3.0 + t)
    series = bgcnbd._renewal_series(np.full(4, 0.7), z, np.ones(4), 1, a=0.9, bp=np.full(4, 2.2))
    closed = bgnbd.expected_purchases(bgnbd.BgNbdParams(r=0.7, alpha=3.0, a=0.9, b=2.2), t)
    assert_allclose(series, closed, rtol=1e-12)


# --------------------------------------------------------------------------- mpmath pins

POINTS = [  # (k, x, t_x, T, litt): litt within its bound x log(t_x / x)
    (2, 0, 0.0, 40.0, 0.0),
    (3, 3, 30.0, 40.0, 6.0),
    (3, 5, 39.0, 40.0, 9.0),
    (7, 1, 2.0, 40.0, 0.5),
    (12, 20, 35.0, 52.0, -5.0),
]


@pytest.mark.parametrize("m", MODELS, ids=IDS)
@pytest.mark.parametrize(("k", "x", "tx", "T", "litt"), POINTS)
def test_likelihood_and_alive_against_mpmath(m, *, k, x, tx, T, litt):
    mod, cls, s, _, _, _ = m
    theta = (1.0, 4.0, 0.8, 2.5)
    ll, alive = mp_loglik_alive(theta, k, x, tx, T, litt=litt, s=s)
    p = params_of(cls, k, theta)
    assert_allclose(mod.log_likelihood_per_customer(p, x, tx, T, litt=litt), ll, rtol=1e-13)
    assert_allclose(mod.probability_alive(p, x, tx, T), alive, rtol=1e-13)


@pytest.mark.parametrize("m", MODELS, ids=IDS)
@pytest.mark.parametrize(
    ("k", "x", "tx", "T", "t"),
    [(2, 2, 30.0, 38.0, 39.0), (4, 0, 0.0, 20.0, 5.0), (3, 6, 33.0, 34.0, 80.0)],
)
def test_conditional_predictions_against_mpmath(m, *, k, x, tx, T, t):
    mod, cls, s, _, _, _ = m
    theta = (1.0, 4.0, 0.8, 2.5)
    expected, buy = mp_conditional(theta, k, t, (x, tx, T), s)
    p = params_of(cls, k, theta)
    assert_allclose(mod.conditional_expected_purchases(p, t, x, tx, T), expected, rtol=1e-11)
    assert_allclose(mod.conditional_purchase_probability(p, t, x, tx, T), buy, rtol=1e-11)


@pytest.mark.parametrize("m", MODELS, ids=IDS)
@pytest.mark.parametrize("k", [2, 5])
def test_unconditional_and_pmf_against_mpmath(m, k):
    mod, cls, s, _, _, _ = m
    mp.mp.dps = 30
    r, al, a, b = (mp.mpf(q) for q in (1.0, 4.0, 0.8, 2.5))
    p = params_of(cls, k, (1.0, 4.0, 0.8, 2.5))
    for t in (3.0, 39.0):
        z = mp.mpf(t) / (al + t)
        # E[X(t)] = sum_n B(a, b+n-1+s)/B(a, b) I_z(k n, r)
        want = mp.fsum(
            mp.beta(a, b + n - 1 + s) / mp.beta(a, b) * mp_tail(k * n, r, z) for n in range(1, 150)
        )
        assert_allclose(mod.expected_purchases(p, t), float(want), rtol=1e-11)
        for n in range(4):
            p_m = mp_tail(k * n, r, z) - mp_tail(k * (n + 1), r, z)
            pmf = mp.beta(a, b + n + s) / mp.beta(a, b) * p_m
            if n + s > 0:
                pmf += mp.beta(a + 1, b + n + s - 1) / mp.beta(a, b) * mp_tail(k * n, r, z)
            assert_allclose(mod.purchase_probability(p, n, t), float(pmf), rtol=1e-11)


# --------------------------------------------------------------------------- Monte Carlo


@pytest.mark.slow
@pytest.mark.parametrize("m", MODELS, ids=IDS)
def test_predictions_match_the_simulator(m):
    mod, cls, _, _, _, sim = m
    # 100,000 customers drawn with k = 3: the latent alive share, the holdout purchases
    # and the share buying in the holdout, by frequency group, within 4.5 standard errors.
    k = 3
    T = np.random.default_rng(1).uniform(10.0, 52.0, 100_000)
    h = sim(*TRUE, k, T=T, duration_holdout=30.0, rng=5)
    p = params_of(cls, k)
    args = (h.frequency, h.recency, h.T)
    alive = mod.probability_alive(p, *args)
    expected = mod.conditional_expected_purchases(p, 30.0, *args)
    buy = mod.conditional_purchase_probability(p, 30.0, *args)
    for lo, hi in [(0, 1), (1, 3), (3, 8), (8, 10**6)]:
        m = (h.frequency >= lo) & (h.frequency < hi)
        n = m.sum()
        for pred, actual in [
            (alive, h.alive.astype(float)),
            (expected, h.frequency_holdout.astype(float)),
            (buy, (h.frequency_holdout > 0).astype(float)),
        ]:
            se = actual[m].std() / np.sqrt(n) + 1e-12
            assert abs(pred[m].mean() - actual[m].mean()) < 4.5 * se
    # unconditional: new customers over 30 periods
    g = sim(*TRUE, k, T=30.0, n_customers=100_000, rng=6)
    se = g.frequency.std() / np.sqrt(g.frequency.size)
    assert abs(mod.expected_purchases(p, 30.0) - g.frequency.mean()) < 4.5 * se
    pmf = mod.purchase_probability(p, np.arange(4), 30.0)
    for n in range(4):
        share = (g.frequency == n).mean()
        assert abs(pmf[n] - share) < 4.5 * math.sqrt(share * (1 - share) / g.frequency.size)


# --------------------------------------------------------------------------- fitting


@pytest.mark.slow
@pytest.mark.parametrize("m", MODELS, ids=IDS)
def test_recovers_k3_histories(m):
    mod, _, _, _, _, sim = m
    h = sim(*TRUE, 3, T=np.random.default_rng(2).uniform(10.0, 52.0, 20_000), rng=7)
    f = mod.fit(h.frequency, h.recency, h.T, litt=h.litt)
    assert f.k == 3
    assert f.converged
    profile = f.log_likelihood_by_k
    assert profile.shape == (12,)
    assert int(np.argmax(profile)) == 2
    assert_allclose(profile[2], f.log_likelihood, rtol=1e-12)
    est = f.params.as_array()
    se = f.standard_errors.as_array()
    assert np.all(np.abs(est - np.array(TRUE)) < 4.0 * se)
    assert np.all(np.abs(est / np.array(TRUE) - 1) < 0.15)
    # the fit's log-likelihood is the function's at the estimates
    assert_allclose(
        mod.log_likelihood(f.params, h.frequency, h.recency, h.T, litt=h.litt),
        f.log_likelihood,
        rtol=1e-12,
    )
    # with k given the same estimates come back, without a profile
    g = mod.fit(h.frequency, h.recency, h.T, litt=h.litt, k=3)
    assert g.log_likelihood_by_k is None
    assert_allclose(g.params.as_array(), est, rtol=1e-5)


@pytest.mark.parametrize("m", MODELS, ids=IDS)
def test_fit_on_a_summary_uses_its_litt_and_weights(m):
    mod, _, _, _, _, sim = m
    h = sim(*TRUE, 2, T=40.0, n_customers=3000, rng=8)
    summ = CustomerSummary.from_arrays(h.frequency, h.recency, h.T, litt=h.litt, time_unit="W")
    f = mod.fit(summ, k=2)
    g = mod.fit(h.frequency, h.recency, h.T, litt=h.litt, k=2, time_unit="W")
    assert_allclose(f.params.as_array(), g.params.as_array(), rtol=1e-10)
    assert f.time_unit == "W"
    # doubling every weight doubles the log-likelihood
    w = mod.fit(h.frequency, h.recency, h.T, litt=h.litt, k=2, weights=np.full(3000, 2.0))
    assert_allclose(w.log_likelihood, 2 * g.log_likelihood, rtol=1e-9)
    # the fit's methods convert a summary in days into the fit's weeks (litt included)
    days = CustomerSummary.from_arrays(
        h.frequency, h.recency * 7, h.T * 7, litt=h.litt + h.frequency * np.log(7), time_unit="D"
    )
    assert_allclose(f.probability_alive(days), f.probability_alive(summ), rtol=1e-12)
    assert_allclose(
        f.log_likelihood_per_customer(days), f.log_likelihood_per_customer(summ), rtol=1e-9
    )
    pred = f.predict(summ, 10.0)
    assert_allclose(pred.expected_purchases, f.conditional_expected_purchases(10.0, summ))
    at = f.conditional_expected_purchases_at([0.0, 10.0], summ)
    assert_allclose(at[:, 1], pred.expected_purchases, rtol=1e-12)
    assert np.all(at[:, 0] == 0.0)


def test_objective_gradient_matches_finite_differences():
    h = bgcnbd_histories(*TRUE, 3, T=np.linspace(10.0, 52.0, 2000), rng=9)
    data = compress(h.frequency, h.recency, h.T)
    theta = np.array([1.7, 6.0, 0.9, 2.2])
    for shift in (0, 1):
        for k in (1, 3, 12):
            obj = bgcnbd._objective(data, k, shift)
            _, grad = obj(theta)
            for i in range(4):
                e = np.zeros(4)
                e[i] = 1e-6 * theta[i]
                num = (obj(theta + e)[0] - obj(theta - e)[0]) / (2 * e[i])
                assert_allclose(grad[i], num, rtol=1e-5, atol=1e-3)


# --------------------------------------------------------------------------- stress


@pytest.mark.parametrize("m", MODELS, ids=IDS)
@pytest.mark.parametrize("k", [2, 12, 30])
def test_extreme_histories_are_finite_without_warnings(m, k):
    mod, cls, _, _, _, _ = m
    x = np.array([0, 1, 10_000, 10_000, 10_000, 5000])
    tx = np.array([0.0, 1e-6, 52.0, 1.0, 51.99, 30.0])
    T = np.array([1e4, 52.0, 52.0, 52.0, 52.0, 1e4])
    litt = np.where(x > 0, x * np.log(np.maximum(tx, 1e-300) / np.maximum(x, 1)) - 1.0, 0.0)
    p = params_of(cls, k, (0.3, 0.5, 0.7, 1.2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ll = mod.log_likelihood_per_customer(p, x, tx, T, litt=litt)
        alive = mod.probability_alive(p, x, tx, T)
        buy = mod.conditional_purchase_probability(p, 10.0, x, tx, T)
        expected = mod.conditional_expected_purchases(p, 10.0, x, tx, T)
        uncond = mod.expected_purchases(p, np.array([0.0, 1e-8, 200.0]))
        pmf = mod.purchase_probability(p, np.array([0, 1, 10_000]), 52.0)
    for out in (ll, alive, buy, expected, uncond, pmf):
        assert np.all(np.isfinite(out))
    assert np.all((alive >= 0) & (alive <= 1))
    assert np.all(buy <= alive)
    assert np.all(expected >= buy * (1 - 1e-12))
    # a very frequent buyer who just bought is alive and buys about as often as before
    assert alive[2] > 0.999
    assert expected[2] > 100


# --------------------------------------------------------------------------- properties

histories = st.integers(0, 60).flatmap(
    lambda x: st.tuples(
        st.just(x),
        st.floats(0.0, 1.0),
        st.floats(0.1, 100.0),
    )
)


@pytest.mark.parametrize("m", MODELS, ids=IDS)
@given(
    h=histories,
    theta=st.tuples(
        st.floats(0.05, 20.0), st.floats(0.05, 50.0), st.floats(0.05, 10.0), st.floats(0.05, 10.0)
    ),
    k=st.integers(1, 12),
    t=st.floats(0.0, 100.0),
)
def test_prediction_properties(m, h, theta, k, t):
    mod, cls, s, _, _, _ = m
    x, frac, T = h
    tx = frac * T if x > 0 else 0.0
    p = params_of(cls, k, theta)
    alive = mod.probability_alive(p, x, tx, T)
    buy = mod.conditional_purchase_probability(p, t, x, tx, T)
    buy_more = mod.conditional_purchase_probability(p, t + 10.0, x, tx, T)
    expected = mod.conditional_expected_purchases(p, t, x, tx, T)
    expected_more = mod.conditional_expected_purchases(p, t + 10.0, x, tx, T)
    assert 0.0 <= buy <= alive <= 1.0
    assert buy_more >= buy * (1 - 1e-12)
    assert expected_more >= expected * (1 - 1e-10)
    assert expected >= buy * (1 - 1e-9)  # E[Y] >= P(Y > 0)
    if x + s == 0:
        assert alive == 1.0
    # one customer as numbers equals its row in a batch
    batch = mod.conditional_expected_purchases(p, t, [x, 0], [tx, 0.0], [T, 1.0])
    assert batch[0] == expected


@pytest.mark.parametrize("m", MODELS, ids=IDS)
@given(t=st.floats(0.0, 200.0), k=st.integers(1, 12))
def test_pmf_sums_to_one_and_matches_the_mean(m, t, k):
    mod, cls, _, _, _, _ = m
    p = params_of(cls, k, (1.0, 4.0, 1.5, 2.5))
    n = np.arange(20_000)  # the tail beyond is below 1e-9 of the mean for t <= 200
    pmf = mod.purchase_probability(p, n, t)
    assert abs(pmf.sum() - 1.0) < 1e-8
    assert_allclose((n * pmf).sum(), mod.expected_purchases(p, t), rtol=1e-7, atol=1e-12)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("m", MODELS, ids=IDS)
def test_errors(m):
    mod, cls, _, _, ref_cls, _ = m
    p = params_of(cls, 2)
    with pytest.raises(InputError, match="litt is required for k > 1"):
        mod.log_likelihood(p, [1], [2.0], [4.0])
    with pytest.raises(InputError, match="litt is required for k > 1"):
        mod.fit([1, 0], [2.0, 0.0], [4.0, 4.0])
    with pytest.raises(InputError, match="litt must be 0 where frequency is 0"):
        mod.log_likelihood(p, [0], [0.0], [4.0], litt=[0.5])
    with pytest.raises(InputError, match=r"litt must not exceed frequency \* log"):
        mod.log_likelihood_per_customer(p, [2], [4.0], [5.0], litt=[1.5])
    with pytest.raises(InputError, match="litt must have the same length as frequency"):
        mod.log_likelihood(p, [1, 1], [2.0, 2.0], [4.0, 4.0], litt=[0.1])
    with pytest.raises(InputError, match="litt must be finite"):
        mod.log_likelihood(p, [1], [2.0], [4.0], litt=[-np.inf])
    with pytest.raises(InputError, match="k must be <= 30"):
        cls(r=1.0, alpha=1.0, a=1.0, b=1.0, k=31)
    with pytest.raises(InputTypeError, match="k must be an integer"):
        cls(r=1.0, alpha=1.0, a=1.0, b=1.0, k=2.0)
    with pytest.raises(InputError, match="k must be >= 1"):
        mod.fit([1], [2.0], [4.0], litt=[0.5], k=0)
    with pytest.raises(InputTypeError, match="params must be"):
        mod.probability_alive(ref_cls(r=1.0, alpha=1.0, a=1.0, b=1.0), [1], [2.0], [4.0])
    with pytest.raises(InputTypeError, match="initial must be"):
        mod.fit([1], [2.0], [4.0], k=1, initial=p)
    s_ = CustomerSummary.from_arrays([1], [2.0], [4.0])
    with pytest.raises(InputError, match=r"litt is required for k > 1.*the summary has none"):
        mod.fit(s_, k=2)
    with pytest.raises(InputError, match="litt must be left out when frequency is a Cust"):
        mod.log_likelihood(p, s_, litt=[0.1])
    with pytest.raises(InputError, match="t must be >= 0"):
        mod.conditional_expected_purchases(p, -1.0, [1], [2.0], [4.0])
    # a horizon whose series would run beyond 100,000 terms is refused at once
    with pytest.raises(InputError, match="t is too long for these histories"):
        mod.conditional_expected_purchases(p, 1e12, [1], [2.0], [4.0])
    with pytest.raises(InputError, match="t is too long for these histories"):
        mod.expected_purchases(p, 1e300)


@pytest.mark.parametrize("m", MODELS, ids=IDS)
def test_repeated_histories_give_the_same_digits_as_alone(m):
    # Large calls evaluate each distinct (x, t_x, T, t) once; every row must equal the value
    # computed for it in a small call (below the size where rows are merged).
    mod, cls, _, _, _, sim = m
    h = sim(*TRUE, 3, T=np.floor(np.linspace(5.0, 60.0, 6000)), n_customers=None, rng=33)
    x, tx, T = h.frequency, np.floor(h.recency), h.T
    p = params_of(cls, 3)
    t = np.where(np.arange(x.size) % 2 == 0, 10.0, 20.0)
    big_e = mod.conditional_expected_purchases(p, t, x, tx, T)
    big_b = mod.conditional_purchase_probability(p, t, x, tx, T)
    rows = np.arange(0, x.size, 7)
    assert np.array_equal(
        big_e[rows], mod.conditional_expected_purchases(p, t[rows], x[rows], tx[rows], T[rows])
    )
    assert np.array_equal(
        big_b[rows], mod.conditional_purchase_probability(p, t[rows], x[rows], tx[rows], T[rows])
    )
