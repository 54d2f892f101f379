"""P(alive) at T + t, the conditional PMF of future purchases and DERT of every purchase model.

Reference values and their provenance:

* mpmath at 30 digits, from the papers' formulas as printed: P(alive)
  (Fader, Hardie & Lee 2008 note for BG/NBD, Batislam et al. 2007 for
  MBG/NBD, equation (11) of Fader, Hardie & Shang 2010 for BG/BB), the
  Gauss hypergeometric function of the survival factor, the sums and
  integrals of the count distributions (equation (8) of Fader, Hardie & Lee
  2005; Fader & Hardie 2006 for Pareto/NBD; equation (6) of Fader, Hardie &
  Shang 2010), the confluent hypergeometric U of the Pareto/NBD DERT
  (appendix of Fader, Hardie & Lee 2005, "RFM and CLV"), the hypergeometric
  form of the BG/BB DERT (Fader, Hardie & Shang 2010) and
  mpmath's quadrature of the BG/NBD DERT integral;
* Monte Carlo over histories drawn by :mod:`crmcore.simulate` (the
  simulator's latent dropout times and holdout counts): averaged over the
  customers, P(alive at T + t | history) and P(Y = n | history) must give
  the simulated shares (law of total probability);
* closed-form limits: t = 0 gives P(alive); δ -> 0 gives the expected
  purchases over the whole future; the DERT-based value is the limit of the
  step-wise CLV with continuous discounting.
"""

from __future__ import annotations

import os
import warnings

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from crmcore.errors import InputError, InputTypeError
from crmcore.models import bgbb, bgnbd, clv, gamma_gamma, mbgnbd, pareto_nbd
from crmcore.simulate import bgbb_histories, bgnbd_histories, mbgnbd_histories, pareto_nbd_histories
from crmcore.summary import CustomerSummary

mp.mp.dps = 30

# the hunt profile draws its 1000 examples here too (a number in @settings would cap it)
HUNT = os.environ.get("HYPOTHESIS_PROFILE") == "hunt"


def _examples(n: int) -> int:
    return 1000 if HUNT else n


BG = bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
MBG = mbgnbd.MbgNbdParams(r=0.25, alpha=4.0, a=0.8, b=2.5)
PNBD = pareto_nbd.ParetoNbdParams(r=0.55, alpha=10.58, s=0.61, beta=11.67)
BB = bgbb.BgBbParams(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)

CONTINUOUS = [(bgnbd, BG, 0), (mbgnbd, MBG, 1), (pareto_nbd, PNBD, None)]

# (x, t_x, T) of a few customers, from none to many purchases
HISTORIES = [(0, 0.0, 0.0), (0, 0.0, 38.0), (1, 2.0, 38.0), (2, 30.43, 38.86), (7, 37.0, 39.0)]


# --------------------------------------------------------------------------- mpmath references


def _mp_alive_bg(p: bgnbd.BgNbdParams, x: int, tx: float, big_t: float, s: int) -> mp.mpf:
    if x + s == 0:
        return mp.mpf(1)
    ratio = (mp.mpf(p.alpha) + big_t) / (mp.mpf(p.alpha) + tx)
    return 1 / (1 + mp.mpf(p.a) / (p.b + x + s - 1) * ratio ** (p.r + x))


def _mp_nb(r: mp.mpf, alpha: mp.mpf, n: int, t: float) -> mp.mpf:
    t = mp.mpf(t)
    return (
        mp.gamma(r + n)
        / (mp.gamma(r) * mp.factorial(n))
        * (alpha / (alpha + t)) ** r
        * (t / (alpha + t)) ** n
    )


def _mp_pmf_bg(p: bgnbd.BgNbdParams, n: int, t: float, hist: tuple, s: int) -> mp.mpf:
    """Conditional PMF: P(alive) P_new(n; r+x, α+T, a, b+x+s) + 1{n=0} P(dead), eq. (8) of FHL."""
    x, tx, big_t = hist
    alive = _mp_alive_bg(p, x, tx, big_t, s)
    r1, a1, b1 = mp.mpf(p.r) + x, mp.mpf(p.alpha) + big_t, mp.mpf(p.b) + x + s
    a = mp.mpf(p.a)
    tail = 1 - mp.fsum(_mp_nb(r1, a1, j, t) for j in range(n))  # P(NB >= n)
    new = mp.beta(a, b1 + n) / mp.beta(a, b1) * _mp_nb(r1, a1, n, t)
    if n > 0:
        new += mp.beta(a + 1, b1 + n - 1) / mp.beta(a, b1) * tail
    return alive * new + (1 - alive if n == 0 else 0)


def _mp_pmf_pnbd(p: pareto_nbd.ParetoNbdParams, n: int, t: float, hist: tuple) -> mp.mpf:
    """Fader & Hardie (2006) for a new customer with (r+x, α+T, s, β+T), times P(alive)."""
    x, tx, big_t = hist
    alive = mp.mpf(pareto_nbd.probability_alive(p, x, tx, big_t))  # tested in its own file
    r1, a1, b1, s = mp.mpf(p.r) + x, mp.mpf(p.alpha) + big_t, mp.mpf(p.beta) + big_t, mp.mpf(p.s)
    t = mp.mpf(t)
    coef = mp.gamma(r1 + n) / (mp.gamma(r1) * mp.factorial(n))
    integral = mp.quad(
        lambda u: u**n * (a1 + u) ** (-(r1 + n)) * (b1 + u) ** (-(s + 1)), mp.linspace(0, t, 30)
    )
    new = _mp_nb(r1, a1, n, t) * (b1 / (b1 + t)) ** s + coef * a1**r1 * s * b1**s * integral
    return alive * new + (1 - alive if n == 0 else 0)


def _mp_bgbb_terms(p: bgbb.BgBbParams, x: int, tx: int, n: int) -> tuple[mp.mpf, mp.mpf]:
    """(likelihood L, first term: alive through n), equation (5) of Fader, Hardie & Shang."""
    al, be, ga, de = (mp.mpf(q) for q in (p.alpha, p.beta, p.gamma, p.delta))
    first = mp.beta(al + x, be + n - x) / mp.beta(al, be) * mp.beta(ga, de + n) / mp.beta(ga, de)
    rest = mp.fsum(
        mp.beta(al + x, be + tx - x + i)
        / mp.beta(al, be)
        * mp.beta(ga + 1, de + tx + i)
        / mp.beta(ga, de)
        for i in range(n - tx)
    )
    return first + rest, first


def _mp_pmf_bgbb(p: bgbb.BgBbParams, k: int, m: int, hist: tuple[int, int, int]) -> mp.mpf:
    """P_n P_new(k; m, α+x, β+n-x, γ, δ+n) + 1{k=0} (1 - P_n), eq. (6) for P_new."""
    x, tx, n = hist
    like, first = _mp_bgbb_terms(p, x, tx, n)
    pn = first / like
    al, be, ga, de = (mp.mpf(q) for q in (p.alpha + x, p.beta + n - x, p.gamma, p.delta + n))
    if k > m:
        new = mp.mpf(0)
    else:
        new = (
            mp.binomial(m, k)
            * mp.beta(al + k, be + m - k)
            / mp.beta(al, be)
            * mp.beta(ga, de + m)
            / mp.beta(ga, de)
        )
        new += mp.fsum(
            mp.binomial(i, k)
            * mp.beta(al + k, be + i - k)
            / mp.beta(al, be)
            * mp.beta(ga + 1, de + i)
            / mp.beta(ga, de)
            for i in range(k, m)
        )
    return pn * new + (1 - pn if k == 0 else 0)


# --------------------------------------------------------------------------- P(alive) at T + t


@pytest.mark.parametrize(("module", "params", "shift"), CONTINUOUS[:2])
@pytest.mark.parametrize("hist", [*HISTORIES, (10_000, 100.0, 101.0), (300, 10.0, 500.0)])
@pytest.mark.parametrize("t", [0.0, 1e-6, 3.0, 52.0, 1e5])
def test_bg_alive_later_against_mpmath(module, params, shift, hist, t) -> None:
    x, tx, big_t = hist
    u = mp.mpf(t) / (params.alpha + big_t)
    ref = _mp_alive_bg(params, x, tx, big_t, shift) * mp.hyp2f1(
        params.r + x, params.a, params.a + params.b + x + shift, -u
    )
    got = module.conditional_probability_alive(params, t, x, tx, big_t)
    assert isinstance(got, float)
    assert_allclose(got, float(ref), rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("hist", HISTORIES)
@pytest.mark.parametrize("t", [0.0, 3.0, 52.0, 1e6])
def test_pareto_alive_later_is_alive_times_lifetime_survival(hist, t) -> None:
    x, tx, big_t = hist
    alive = pareto_nbd.probability_alive(PNBD, x, tx, big_t)
    ref = alive * float((mp.mpf(PNBD.beta + big_t) / (PNBD.beta + big_t + t)) ** PNBD.s)
    got = pareto_nbd.conditional_probability_alive(PNBD, t, x, tx, big_t)
    assert_allclose(got, ref, rtol=1e-12)


@pytest.mark.parametrize(("x", "tx", "n"), [(6, 6, 6), (3, 3, 6), (0, 0, 6), (2, 5, 10), (0, 0, 0)])
@pytest.mark.parametrize("m", [0, 1, 5, 1000])
def test_bgbb_alive_later_against_mpmath(x, tx, n, m) -> None:
    like, first = _mp_bgbb_terms(BB, x, tx, n)
    ga, de = mp.mpf(BB.gamma), mp.mpf(BB.delta)
    ref = first / like * mp.beta(ga, de + n + 1 + m) / mp.beta(ga, de + n)
    got = bgbb.conditional_probability_alive(BB, m, x, tx, n)
    assert_allclose(got, float(ref), rtol=1e-11)


@pytest.mark.parametrize(("module", "params", "_s"), CONTINUOUS)
def test_alive_later_at_zero_is_probability_alive(module, params, _s) -> None:
    x, tx, big_t = (np.array(c, dtype=float) for c in zip(*HISTORIES, strict=True))
    assert_allclose(
        module.conditional_probability_alive(params, 0.0, x, tx, big_t),
        module.probability_alive(params, x, tx, big_t),
        rtol=1e-13,
    )


def test_bgbb_alive_later_at_zero_is_probability_alive() -> None:
    x, tx = np.array([6, 3, 0, 2]), np.array([6, 3, 0, 5])
    assert_allclose(
        bgbb.conditional_probability_alive(BB, 0, x, tx, 6),
        bgbb.probability_alive(BB, x, tx, 6),
        rtol=1e-12,
    )


# --------------------------------------------------------------------------- the conditional PMF


@pytest.mark.parametrize(("module", "params", "shift"), CONTINUOUS[:2])
@pytest.mark.parametrize("hist", HISTORIES)
@pytest.mark.parametrize("n", [0, 1, 2, 9])
def test_bg_conditional_pmf_against_mpmath(module, params, shift, hist, n) -> None:
    ref = _mp_pmf_bg(params, n, 39.0, hist, shift)
    got = module.conditional_purchase_count_probability(params, n, 39.0, *hist)
    assert_allclose(got, float(ref), rtol=1e-10)


@pytest.mark.parametrize("hist", HISTORIES)
@pytest.mark.parametrize("n", [0, 1, 3])
def test_pareto_conditional_pmf_against_mpmath(hist, n) -> None:
    ref = _mp_pmf_pnbd(PNBD, n, 39.0, hist)
    got = pareto_nbd.conditional_purchase_count_probability(PNBD, n, 39.0, *hist)
    assert_allclose(got, float(ref), rtol=1e-9)


@pytest.mark.parametrize(("x", "tx", "n"), [(6, 6, 6), (3, 3, 6), (0, 0, 6), (2, 5, 10)])
@pytest.mark.parametrize(("k", "m"), [(0, 5), (1, 5), (5, 5), (6, 5), (3, 20)])
def test_bgbb_conditional_pmf_against_mpmath(x, tx, n, k, m) -> None:
    ref = _mp_pmf_bgbb(BB, k, m, (x, tx, n))
    got = bgbb.conditional_purchase_count_probability(BB, k, m, x, tx, n)
    assert_allclose(got, float(ref), rtol=1e-10, atol=1e-300)


def _pmf_rows(module, params, t, hist, n_max):
    x, tx, big_t = hist
    ks = np.arange(n_max + 1)
    return np.array(
        [
            module.conditional_purchase_count_probability(
                params, k, t, np.full(len(x), x), np.full(len(x), tx), np.full(len(x), big_t)
            )
            for k in ks
        ]
    )


@pytest.mark.parametrize(("module", "params", "_s"), CONTINUOUS)
@pytest.mark.parametrize("hist", HISTORIES)
def test_conditional_pmf_sums_to_one_with_the_conditional_mean(module, params, _s, hist) -> None:
    x, tx, big_t = hist
    ks = np.arange(600)
    probs = module.conditional_purchase_count_probability(
        params, ks, 20.0, np.full(ks.size, x), np.full(ks.size, tx), np.full(ks.size, big_t)
    )
    assert_allclose(probs.sum(), 1.0, atol=1e-9)
    mean = module.conditional_expected_purchases(params, 20.0, x, tx, big_t)
    assert_allclose((ks * probs).sum(), mean, rtol=1e-8)


@pytest.mark.parametrize(("x", "tx", "n"), [(6, 6, 6), (3, 3, 6), (0, 0, 6)])
def test_bgbb_conditional_pmf_sums_to_one_with_the_conditional_mean(x, tx, n) -> None:
    ks = np.arange(11)
    probs = bgbb.conditional_purchase_count_probability(BB, ks, 10, x, tx, n)
    assert_allclose(probs.sum(), 1.0, rtol=1e-12)
    mean = bgbb.conditional_expected_purchases(BB, 10, x, tx, n)
    assert_allclose((ks * probs).sum(), mean, rtol=1e-11)


# --------------------------------------------------------------------------- Monte Carlo


def _simulated(model: str, n_customers: int, holdout: float):
    if model == "bgnbd":
        return bgnbd_histories(
            BG.r,
            BG.alpha,
            BG.a,
            BG.b,
            T=39.0,
            n_customers=n_customers,
            duration_holdout=holdout,
            rng=11,
        )
    if model == "mbgnbd":
        return mbgnbd_histories(
            MBG.r,
            MBG.alpha,
            MBG.a,
            MBG.b,
            T=39.0,
            n_customers=n_customers,
            duration_holdout=holdout,
            rng=12,
        )
    return pareto_nbd_histories(
        PNBD.r,
        PNBD.alpha,
        PNBD.s,
        PNBD.beta,
        T=39.0,
        n_customers=n_customers,
        duration_holdout=holdout,
        rng=13,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("model", "module", "params"),
    [("bgnbd", bgnbd, BG), ("mbgnbd", mbgnbd, MBG), ("pareto_nbd", pareto_nbd, PNBD)],
)
def test_monte_carlo_against_the_simulator(model, module, params) -> None:
    t = 26.0
    h = _simulated(model, 40_000, t)
    hist = (h.frequency, h.recency, h.T)
    n = h.frequency.size
    # P(alive at T + t): the average over customers is the simulated share
    share = np.mean(h.dropout_time > h.T + t)
    got = np.mean(module.conditional_probability_alive(params, t, *hist))
    assert abs(got - share) < 4.5 * np.sqrt(share * (1 - share) / n)
    # P(Y = k | history) for k = 0..3
    for k in range(4):
        share = np.mean(h.frequency_holdout == k)
        got = np.mean(module.conditional_purchase_count_probability(params, k, t, *hist))
        assert abs(got - share) < 4.5 * np.sqrt(share * (1 - share) / n) + 1e-4, k


@pytest.mark.slow
def test_bgbb_monte_carlo_against_the_simulator() -> None:
    m = 5
    h = bgbb_histories(
        BB.alpha,
        BB.beta,
        BB.gamma,
        BB.delta,
        n_periods=6,
        n_customers=40_000,
        n_periods_holdout=m,
        rng=14,
    )
    n = h.frequency.size
    share = np.mean(h.lifetime >= 6 + m + 1)
    got = np.mean(bgbb.conditional_probability_alive(BB, m, h.frequency, h.recency, 6))
    assert abs(got - share) < 4.5 * np.sqrt(share * (1 - share) / n)
    for k in range(m + 1):
        share = np.mean(h.frequency_holdout == k)
        got = np.mean(
            bgbb.conditional_purchase_count_probability(BB, k, m, h.frequency, h.recency, 6)
        )
        assert abs(got - share) < 4.5 * np.sqrt(share * (1 - share) / n) + 1e-4, k


# --------------------------------------------------------------------------- DERT


def _mp_dert_bg(p, hist, delta, shift) -> float:
    """P(alive) (r'/α') ∫_0^∞ e^(-δu) 2F1(r'+1, a; a+b'; -u/α') du, by mpmath."""
    x, tx, big_t = hist
    r1, a1, b1 = mp.mpf(p.r) + x, mp.mpf(p.alpha) + big_t, mp.mpf(p.b) + x + shift
    a = mp.mpf(p.a)

    def rate(u):
        return mp.exp(-delta * u) * mp.hyp2f1(r1 + 1, a, a + b1, -u / a1)

    cuts = [0, a1 / (r1 + 1), a1, 10 * a1, 1 / mp.mpf(delta), 10 / mp.mpf(delta), mp.inf]
    cuts = [*sorted(set(cuts[:-1])), mp.inf]
    return float(_mp_alive_bg(p, x, tx, big_t, shift) * r1 / a1 * mp.quad(rate, cuts))


@pytest.mark.parametrize(("module", "params", "shift"), CONTINUOUS[:2])
@pytest.mark.parametrize(
    ("hist", "delta"),
    [
        ((0, 0.0, 0.0), 0.002),
        ((2, 30.43, 38.86), 0.3),
        pytest.param((7, 37.0, 39.0), 1e-4, marks=pytest.mark.slow),
        pytest.param((0, 0.0, 38.0), 0.002, marks=pytest.mark.slow),
        pytest.param((1, 2.0, 38.0), 1e-4, marks=pytest.mark.slow),
        pytest.param((300, 10.0, 500.0), 0.002, marks=pytest.mark.slow),
    ],
)
def test_bg_dert_against_mpmath(module, params, shift, hist, delta) -> None:
    got = module.discounted_expected_residual_purchases(params, *hist, discount_rate=delta)
    assert isinstance(got, float)
    assert_allclose(got, _mp_dert_bg(params, hist, delta, shift), rtol=1e-10)


@pytest.mark.parametrize("hist", [*HISTORIES, (10_000, 100.0, 101.0)])
@pytest.mark.parametrize("delta", [1e-6, 0.002, 0.3, 50.0])
@pytest.mark.parametrize("s", [0.05, 0.61, 3.0, 80.0])
def test_pareto_dert_against_hyperu(hist, delta, s) -> None:
    p = pareto_nbd.ParetoNbdParams(r=0.55, alpha=10.58, s=s, beta=11.67)
    x, tx, big_t = hist
    alive = pareto_nbd.probability_alive(p, x, tx, big_t)
    z = mp.mpf(delta) * (p.beta + big_t)
    # α^r β^s δ^(s-1) Γ(r+x+1) U(s,s;δ(β+T)) / (Γ(r)(α+T)^(r+x+1) L), rewritten with P(alive)
    ref = alive * (p.r + x) / (p.alpha + big_t) / delta * z**s * mp.hyperu(s, s, z)
    got = pareto_nbd.discounted_expected_residual_purchases(p, x, tx, big_t, discount_rate=delta)
    assert_allclose(got, float(ref), rtol=1e-11)


@pytest.mark.parametrize(("x", "tx", "n"), [(6, 6, 6), (3, 3, 6), (0, 0, 6), (2, 5, 10), (0, 0, 0)])
@pytest.mark.parametrize("d", [1e-4, 0.1, 3.0])
def test_bgbb_dert_against_the_hypergeometric_form(x, tx, n, d) -> None:
    like, _ = _mp_bgbb_terms(BB, x, tx, n)
    al, be, ga, de = (mp.mpf(q) for q in (BB.alpha, BB.beta, BB.gamma, BB.delta))
    ref = (
        mp.beta(al + x + 1, be + n - x)
        / mp.beta(al, be)
        * mp.beta(ga, de + n + 1)
        / (mp.beta(ga, de) * (1 + mp.mpf(d)))
        * mp.hyp2f1(1, de + n + 1, ga + de + n + 1, 1 / (1 + mp.mpf(d)))
        / like
    )
    got = bgbb.discounted_expected_residual_purchases(BB, x, tx, n, discount_rate=d)
    assert_allclose(got, float(ref), rtol=1e-11)


def test_dert_tends_to_the_lifetime_expectation_as_the_rate_vanishes() -> None:
    hist = (2, 30.43, 38.86)
    # BG/NBD with a > 1: P(alive) (a+b+x-1)/(a-1)
    p = bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=3.5, b=2.426)
    limit = bgnbd.probability_alive(p, *hist) * (p.a + p.b + 2 - 1) / (p.a - 1)
    got = bgnbd.discounted_expected_residual_purchases(p, *hist, discount_rate=1e-9)
    assert_allclose(got, limit, rtol=1e-6)
    q = mbgnbd.MbgNbdParams(r=0.243, alpha=4.414, a=3.5, b=2.426)
    limit = mbgnbd.probability_alive(q, *hist) * (q.a + q.b + 2) / (q.a - 1)
    got = mbgnbd.discounted_expected_residual_purchases(q, *hist, discount_rate=1e-9)
    assert_allclose(got, limit, rtol=1e-6)
    # Pareto/NBD with s > 1: P(alive) (r+x)(β+T)/((α+T)(s-1))
    w = pareto_nbd.ParetoNbdParams(r=0.55, alpha=10.58, s=2.5, beta=11.67)
    limit = (
        pareto_nbd.probability_alive(w, *hist)
        * (w.r + 2)
        * (w.beta + 38.86)
        / ((w.alpha + 38.86) * (w.s - 1))
    )
    got = pareto_nbd.discounted_expected_residual_purchases(w, *hist, discount_rate=1e-9)
    assert_allclose(got, limit, rtol=1e-6)
    # BG/BB with γ > 1: P_n (α+x)/(α+β+n) (δ+n)/(γ-1)
    b = bgbb.BgBbParams(alpha=1.204, beta=0.750, gamma=2.5, delta=2.783)
    like, first = _mp_bgbb_terms(b, 3, 5, 6)
    limit = float(first / like * (b.alpha + 3) / (b.alpha + b.beta + 6) * (b.delta + 6) / 1.5)
    got = bgbb.discounted_expected_residual_purchases(b, 3, 5, 6, discount_rate=1e-4)
    assert_allclose(got, limit, rtol=2e-3)  # the error of the limit is O(d)


# --------------------------------------------------------------------------- properties

params_bg = st.tuples(
    st.floats(0.01, 50.0), st.floats(0.01, 500.0), st.floats(0.01, 50.0), st.floats(0.01, 50.0)
)
history = st.tuples(st.integers(0, 10_000), st.floats(0.0, 1.0), st.floats(0.0, 5000.0))


def _hist(h: tuple[int, float, float]) -> tuple[int, float, float]:
    x, share, big_t = h
    return x, (share * big_t if x > 0 else 0.0), big_t


@settings(max_examples=_examples(60))
@given(
    theta=params_bg,
    h=history,
    t=st.floats(0.0, 1e5),
    dt=st.floats(0.0, 1e4),
    model=st.sampled_from(CONTINUOUS),
)
def test_alive_later_is_bounded_and_non_increasing(theta, h, t, dt, model) -> None:
    module, params, _ = model
    p = type(params)(**dict(zip(params.__annotations__, theta, strict=True)))
    x, tx, big_t = _hist(h)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        now = module.probability_alive(p, x, tx, big_t)
        one = module.conditional_probability_alive(p, t, x, tx, big_t)
        two = module.conditional_probability_alive(p, t + dt, x, tx, big_t)
        arr = module.conditional_probability_alive(p, [t, t + dt], [x, x], [tx, tx], [big_t] * 2)
    assert 0.0 <= two <= one * (1 + 1e-9) + 1e-300
    assert one <= now * (1 + 1e-12)
    assert_allclose(arr, [one, two], rtol=1e-12, atol=1e-300)  # scalar == array element


@settings(max_examples=_examples(60))
@given(
    theta=params_bg,
    h=history,
    t=st.floats(0.0, 1000.0),
    n=st.integers(0, 20_000),
    model=st.sampled_from(CONTINUOUS),
)
def test_conditional_pmf_is_a_probability_and_scalar_equals_array(theta, h, t, n, model) -> None:
    module, params, _ = model
    p = type(params)(**dict(zip(params.__annotations__, theta, strict=True)))
    x, tx, big_t = _hist(h)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        one = module.conditional_purchase_count_probability(p, n, t, x, tx, big_t)
        arr = module.conditional_purchase_count_probability(
            p, [n, 0], t, [x, x], [tx, tx], [big_t] * 2
        )
    assert 0.0 <= one <= 1.0
    assert_allclose(arr[0], one, rtol=1e-12, atol=1e-300)  # scalar == array element
    assert arr[1] >= 1.0 - module.probability_alive(p, x, tx, big_t) - 1e-12  # P(Y=0) >= P(dead)


@settings(max_examples=_examples(40))
@given(
    theta=params_bg,
    h=history,
    delta=st.floats(1e-5, 10.0),
    factor=st.floats(1.01, 100.0),
    model=st.sampled_from(CONTINUOUS),
)
def test_dert_is_finite_and_decreasing_in_the_rate(theta, h, delta, factor, model) -> None:
    module, params, _ = model
    p = type(params)(**dict(zip(params.__annotations__, theta, strict=True)))
    x, tx, big_t = _hist(h)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        low = module.discounted_expected_residual_purchases(p, x, tx, big_t, discount_rate=delta)
        high = module.discounted_expected_residual_purchases(
            p, x, tx, big_t, discount_rate=delta * factor
        )
        arr = module.discounted_expected_residual_purchases(
            p, [x, 0], [tx, 0.0], [big_t, 0.0], discount_rate=delta
        )
    assert np.isfinite(low)
    assert low >= 0.0
    assert high <= low * (1 + 1e-9)
    assert_allclose(arr[0], low, rtol=1e-12, atol=1e-300)


@settings(max_examples=_examples(40))
@given(
    theta=st.tuples(*(st.floats(0.01, 50.0) for _ in range(4))),
    x=st.integers(0, 200),
    gap=st.integers(0, 200),
    m=st.integers(0, 300),
    k=st.integers(0, 300),
    d=st.floats(1e-3, 10.0),
)
def test_bgbb_predictions_are_bounded(*, theta, x, gap, m, k, d) -> None:
    p = bgbb.BgBbParams(alpha=theta[0], beta=theta[1], gamma=theta[2], delta=theta[3])
    tx = x + gap // 2 if x > 0 else 0
    n = max(tx, x) + gap
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        alive = bgbb.conditional_probability_alive(p, m, x, tx, n)
        pmf = bgbb.conditional_purchase_count_probability(p, k, m, x, tx, n)
        dert = bgbb.discounted_expected_residual_purchases(p, x, tx, n, discount_rate=d)
    assert 0.0 <= alive <= bgbb.probability_alive(p, x, tx, n) * (1 + 1e-12)
    assert 0.0 <= pmf <= 1.0
    assert (pmf == 0.0) if k > m else True
    assert np.isfinite(dert)
    assert dert >= 0.0


# --------------------------------------------------------------------------- stress and errors


@pytest.mark.parametrize(("module", "params", "_s"), CONTINUOUS)
def test_extreme_customers_are_finite_without_warnings(module, params, _s) -> None:
    x = np.array([0, 10_000, 10_000, 1, 5000])
    tx = np.array([0.0, 1.0, 1e4, 1e-9, 0.5])
    big_t = np.array([0.0, 1e4, 1e4, 1e6, 1e5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for t in (1e-9, 1e6):
            a = module.conditional_probability_alive(params, t, x, tx, big_t)
            assert np.all(np.isfinite(a))
            assert np.all((a >= 0) & (a <= 1))
            for n in (0, 1, 10_000):
                q = module.conditional_purchase_count_probability(params, n, t, x, tx, big_t)
                assert np.all(np.isfinite(q))
                assert np.all((q >= 0) & (q <= 1))
        for d in (1e-8, 1e3):
            v = module.discounted_expected_residual_purchases(params, x, tx, big_t, discount_rate=d)
            assert np.all(np.isfinite(v))
            assert np.all(v >= 0)


@pytest.mark.parametrize(("module", "params", "_s"), CONTINUOUS)
def test_errors_name_the_argument(module, params, _s) -> None:
    with pytest.raises(InputError, match="t must be >= 0"):
        module.conditional_probability_alive(params, -1.0, 2, 1.0, 3.0)
    with pytest.raises(InputError, match="n must hold whole numbers"):
        module.conditional_purchase_count_probability(params, 1.5, 1.0, 2, 1.0, 3.0)
    with pytest.raises(InputError, match=r"n must be one number, or one value per customer \(2\)"):
        module.conditional_purchase_count_probability(
            params, [1, 2, 3], 1.0, [2, 2], [1.0] * 2, [3.0] * 2
        )
    with pytest.raises(InputError, match="discount_rate must be > 0"):
        module.discounted_expected_residual_purchases(params, 2, 1.0, 3.0, discount_rate=0.0)
    with pytest.raises(InputError, match="discount_rate must be finite"):
        module.discounted_expected_residual_purchases(params, 2, 1.0, 3.0, discount_rate=np.inf)
    with pytest.raises(InputError, match="recency must not exceed T"):
        module.discounted_expected_residual_purchases(params, 2, 5.0, 3.0, discount_rate=0.1)
    with pytest.raises(InputTypeError, match="discount_rate"):
        module.discounted_expected_residual_purchases(params, 2, 1.0, 3.0, discount_rate="0.1")


def test_bgbb_errors_name_the_argument() -> None:
    with pytest.raises(InputError, match=r"discount_rate must be >= 0\.0001"):
        bgbb.discounted_expected_residual_purchases(BB, 6, 6, 6, discount_rate=1e-5)
    with pytest.raises(InputError, match="n_future must be at most"):
        bgbb.conditional_purchase_count_probability(BB, 1, 10**6, 6, 6, 6)
    with pytest.raises(InputError, match="k must be non-negative"):
        bgbb.conditional_purchase_count_probability(BB, -1, 5, 6, 6, 6)
    with pytest.raises(InputError, match="n_future must be non-negative"):
        bgbb.conditional_probability_alive(BB, -1, 6, 6, 6)


# --------------------------------------------------------------------------- fits and CLV


def _fit(module, params, unit="W"):
    cls = {bgnbd: bgnbd.BgNbdFit, mbgnbd: mbgnbd.MbgNbdFit, pareto_nbd: pareto_nbd.ParetoNbdFit}
    return cls[module](
        params=params,
        standard_errors=params,
        covariance=np.eye(4),
        log_likelihood=-1.0,
        n_customers=100.0,
        converged=True,
        n_iterations=1,
        time_unit=unit,
    )


SPEND = gamma_gamma.GammaGammaFit(
    params=gamma_gamma.GammaGammaParams(p=6.25, q=3.74, v=15.44),
    standard_errors=gamma_gamma.GammaGammaParams(p=1.19, q=0.29, v=4.16),
    covariance=np.eye(3),
    log_likelihood=-4055.9,
    n_customers=946.0,
    converged=True,
    n_iterations=15,
)


@pytest.mark.parametrize(("module", "params", "_s"), CONTINUOUS)
def test_fit_methods_convert_a_summary_in_days(module, params, _s) -> None:
    f = _fit(module, params)
    weeks = CustomerSummary.from_arrays([2, 0], [30.0, 0.0], [38.0, 38.0], time_unit="W")
    days = CustomerSummary.from_arrays([2, 0], [210.0, 0.0], [266.0, 266.0], time_unit="D")
    assert_allclose(
        f.discounted_expected_residual_purchases(days, discount_rate=0.01 / 7),
        f.discounted_expected_residual_purchases(weeks, discount_rate=0.01),
        rtol=1e-12,
    )
    assert_allclose(
        f.conditional_probability_alive(70.0, days),
        f.conditional_probability_alive(10.0, weeks),
        rtol=1e-12,
    )
    assert_allclose(
        f.conditional_purchase_count_probability(1, 70.0, days),
        f.conditional_purchase_count_probability(1, 10.0, weeks),
        rtol=1e-12,
    )


@pytest.mark.parametrize(("module", "params", "_s"), CONTINUOUS)
def test_residual_value_is_the_limit_of_the_stepwise_clv(module, params, _s) -> None:
    f = _fit(module, params)
    s = CustomerSummary.from_arrays(
        [2, 0, 5],
        [30.43, 0.0, 20.0],
        [38.86, 38.86, 30.0],
        monetary_value=[22.35, 0.0, 40.0],
        time_unit="W",
    )
    rate = 0.05  # per week: the forecast over 2000 weeks misses e^-100 of it
    res = clv.residual_lifetime_value(f, SPEND, s, discount_rate=rate, margin=0.3)
    steps = clv.customer_lifetime_value(
        f,
        SPEND,
        s,
        horizon=2000.0,
        step=0.2,
        discount_rate=rate,
        discounting="continuous",
        margin=0.3,
    )
    # purchases discounted at the end of 0.2-week steps: within a factor e^(-0.01) of DERT
    assert_allclose(steps.clv, res.value * np.exp(-rate * 0.1), rtol=2e-3)
    assert list(res.columns()) == [
        "customer_ids",
        "value",
        "discounted_expected_residual_purchases",
        "expected_spend",
    ]


def test_new_customer_value_is_margin_spend_dert() -> None:
    f = _fit(pareto_nbd, PNBD)
    dert = pareto_nbd.discounted_expected_residual_purchases(PNBD, 0, 0.0, 0.0, discount_rate=0.01)
    got = clv.new_customer_value(f, expected_spend=35.0, discount_rate=0.01, margin=0.5)
    assert_allclose(got, 0.5 * 35.0 * dert, rtol=1e-15)
    yearly = clv.new_customer_value(f, expected_spend=35.0, annual_discount_rate=0.52, margin=0.5)
    weekly = 0.52 * 7 / 365.25
    assert_allclose(
        yearly,
        clv.new_customer_value(f, expected_spend=35.0, discount_rate=weekly, margin=0.5),
        rtol=1e-12,
    )


def test_value_errors() -> None:
    f = _fit(bgnbd, BG)
    s = CustomerSummary.from_arrays([2], [30.0], [38.0], monetary_value=[20.0], time_unit="W")
    with pytest.raises(InputError, match="give exactly one of discount_rate"):
        clv.residual_lifetime_value(f, SPEND, s)
    with pytest.raises(InputTypeError, match="purchase_fit must be a fitted model"):
        clv.residual_lifetime_value(BG, SPEND, s, discount_rate=0.1)
    b = bgbb.BgBbFit(
        params=BB,
        standard_errors=BB,
        covariance=np.eye(4),
        log_likelihood=-1.0,
        n_customers=1.0,
        converged=True,
        n_iterations=1,
    )
    with pytest.raises(InputTypeError, match="purchase_fit must be a fitted model"):
        clv.residual_lifetime_value(b, SPEND, s, discount_rate=0.1)
    with pytest.raises(InputError, match="margin must be <= 1"):
        clv.residual_lifetime_value(f, SPEND, s, discount_rate=0.1, margin=2.0)
    with pytest.raises(InputError, match="annual_discount_rate needs a known time unit"):
        clv.new_customer_value(_fit(bgnbd, BG, None), expected_spend=1.0, annual_discount_rate=0.1)


@pytest.mark.parametrize(("module", "params", "_s"), CONTINUOUS)
def test_one_customer_with_several_counts_gives_her_distribution(module, params, _s) -> None:
    dist = module.conditional_purchase_count_probability(params, [0, 1, 2], 39.0, 2, 30.43, 38.86)
    each = [
        module.conditional_purchase_count_probability(params, k, 39.0, 2, 30.43, 38.86)
        for k in range(3)
    ]
    assert_allclose(dist, each, rtol=1e-13)
    dist = bgbb.conditional_purchase_count_probability(BB, [0, 1, 2], 5, 6, 6, 6)
    each = [bgbb.conditional_purchase_count_probability(BB, k, 5, 6, 6, 6) for k in range(3)]
    assert_allclose(dist, each, rtol=1e-13)


def test_alive_later_where_scipys_hyp2f1_fails() -> None:
    # n - a a whole number (r + x - a = 772): scipy's hyp2f1 returns NaN there (hunt profile)
    p = bgnbd.BgNbdParams(r=1.0, alpha=1.0, a=1.0, b=16.0)
    ref = _mp_alive_bg(p, 772, 0.0, 0.0, 0) * mp.hyp2f1(773, 1, 789, -3294)
    got = bgnbd.conditional_probability_alive(p, 3294.0, 772, 0.0, 0.0)
    assert_allclose(got, float(ref), rtol=1e-12)
