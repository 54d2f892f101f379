"""Tests of the GGompertz/NBD model (crmcore.models.ggomnbd).

Reference values: the model's integrals as printed by Bemmaor & Glady (2012)
(likelihood, eq. 6) and the conditional expectation as corrected by Adler
(2022), evaluated with mpmath's quadrature at 30 digits by the ``_mp_*``
functions below; the Pareto/NBD limit b -> 0 with beta/b fixed against
:mod:`crmcore.models.pareto_nbd`; Monte Carlo draws from
:func:`crmcore.simulate.ggomnbd_histories` (tested on its own in
tests/test_simulate.py); the death-time integral through the breakpoint grid
against the per-row march as first implemented (tests/models/_ggomnbd_oracle.py).
The published CDNOW estimates are checked outside the test suite (the data set
may not be copied here).
"""

from __future__ import annotations

import warnings

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from crmcore.errors import ConvergenceWarning, CrmWarning, InputError, InputTypeError
from crmcore.models import ggomnbd, pareto_nbd
from crmcore.models.ggomnbd import GGompertzNbdParams
from crmcore.simulate import ggomnbd_histories
from crmcore.summary import CustomerSummary

from ._ggomnbd_oracle import log_death_integral as _oracle_integral

PAPER = GGompertzNbdParams(r=0.553, alpha=10.578, b=0.0002, s=0.603, beta=0.0026)  # Table 2
NAMES = ("r", "alpha", "b", "s", "beta")


def _params(theta: tuple[float, ...]) -> GGompertzNbdParams:
    return GGompertzNbdParams(**dict(zip(NAMES, theta, strict=True)))


def _simulate(theta, T, rng, holdout=0.0):
    """Draw (x, t_x, T, alive at T, holdout purchases) with crmcore.simulate.ggomnbd_histories."""
    h = ggomnbd_histories(*theta, T=T, duration_holdout=holdout, rng=rng)
    return h.frequency, h.recency, h.T, h.alive, h.frequency_holdout


# --------------------------------------------------------------------------- mpmath references
# S(τ) = (β/(β + e^(bτ) - 1))^s,  f(τ) = -S'(τ) = s b β^s e^(bτ) (β + e^(bτ) - 1)^-(s+1)
# L = Γ(r+x) α^r / Γ(r) [ (α+T)^-(r+x) S(T) + ∫_{t_x}^T (α+τ)^-(r+x) f(τ) dτ ]   (B&G eq. 6)
# E[Y(t)|..] = P(alive) (r+x)/(α+T) ∫_0^t S(T+u)/S(T) du                       (Adler 2022)

mp.mp.dps = 30


def _mp_surv(th, tau):
    _r, _al, b, s, be = th
    return (be / (be + mp.expm1(b * tau))) ** s


def _mp_death(th, tau):
    _r, _al, b, s, be = th
    return s * b * be**s * mp.exp(b * tau) / (be + mp.expm1(b * tau)) ** (s + 1)


def _mp_cuts(lo, hi, scales):
    pts = {mp.mpf(lo), mp.mpf(hi)}
    for sc_ in scales:
        for k in (0.01, 0.1, 1, 10, 100):
            if lo < lo + sc_ * k < hi:
                pts.add(lo + sc_ * k)
    return sorted(pts)


def _mp_ll(theta, x, tx, T):
    th = [mp.mpf(q) for q in theta]
    r, al, b, _s, _be = th
    x, tx, T = mp.mpf(x), mp.mpf(tx), mp.mpf(T)
    a1 = (al + T) ** (-(r + x)) * _mp_surv(th, T)
    i = 0
    if tx < T:
        cuts = _mp_cuts(tx, T, [(al + tx) / (r + x), 1 / b])
        i = mp.quad(lambda u: (al + u) ** (-(r + x)) * _mp_death(th, u), cuts)
    c = mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(al)
    return c + mp.log(a1 + i), a1 / (a1 + i)


def _mp_conditional(theta, t, x, tx, T, *, kind="mean", delta=0):
    th = [mp.mpf(q) for q in theta]
    r, al, b, _s, be = th
    x, tx, T = mp.mpf(x), mp.mpf(tx), mp.mpf(T)
    alive = _mp_ll(theta, x, tx, T)[1]
    a = al + T

    def f(u):
        v = _mp_surv(th, T + u) / _mp_surv(th, T) * mp.exp(-delta * u)
        return v * (1 + u / a) ** (-(r + x + 1)) if kind == "buy" else v

    end = mp.mpf(10) ** 5 if t == "inf" else mp.mpf(t)
    cuts = _mp_cuts(0, end, [a / (r + x + 1), 1 / b, be / b])
    return alive * (r + x) / a * mp.quad(f, [*cuts, mp.inf] if t == "inf" else cuts)


def _mp_pmf(theta, n, t):
    th = [mp.mpf(q) for q in theta]
    r, al, _b, _s, _be = th
    n, t = mp.mpf(n), mp.mpf(t)

    def nb(tau):
        lc = mp.loggamma(r + n) - mp.loggamma(r) - mp.loggamma(n + 1)
        return mp.exp(lc) * (al / (al + tau)) ** r * (tau / (al + tau)) ** n

    mode = min(n * al / r, t)
    cuts = sorted({mp.mpf(0), t} | {q for q in (mode / 2, mode, 2 * mode, al) if 0 < q < t})
    return nb(t) * _mp_surv(th, t) + mp.quad(lambda u: nb(u) * _mp_death(th, u), cuts)


THETAS = [
    (0.553, 10.578, 0.0002, 0.603, 0.0026),  # CDNOW, Table 2 (β < 1, near the Pareto limit)
    (1.2, 3.0, 0.5, 2.0, 40.0),  # β > 1: the death density peaks inside
    (0.3, 50.0, 0.05, 5.0, 3.0),
    (0.75, 7.6, 0.0174, 2000.0, 950.0),  # near the pure-Gompertz ridge (s, β large)
    (0.5, 10.0, 0.01, 0.01, 100.0),
]
HISTORIES = [(0, 0.0, 40.0), (3, 10.0, 40.0), (30, 39.0, 40.0)]


@pytest.mark.parametrize("theta", THETAS)
def test_log_likelihood_and_probability_alive_match_mpmath(theta):
    p = _params(theta)
    for x, tx, T in HISTORIES:
        ll, alive = _mp_ll(theta, x, tx, T)
        assert_allclose(ggomnbd.log_likelihood_per_customer(p, x, tx, T), float(ll), rtol=1e-11)
        assert_allclose(ggomnbd.probability_alive(p, x, tx, T), float(alive), rtol=1e-10)


@pytest.mark.parametrize("theta", THETAS[:3])
def test_conditional_forecasts_match_mpmath(theta):
    p = _params(theta)
    for x, tx, T in HISTORIES:
        ce = ggomnbd.conditional_expected_purchases(p, 20.0, x, tx, T)
        buy = ggomnbd.conditional_purchase_probability(p, 20.0, x, tx, T)
        dert = ggomnbd.discounted_expected_residual_purchases(p, x, tx, T, discount_rate=0.01)
        assert_allclose(ce, float(_mp_conditional(theta, 20, x, tx, T)), rtol=1e-9)
        assert_allclose(buy, float(_mp_conditional(theta, 20, x, tx, T, kind="buy")), rtol=1e-9)
        if x == 3:  # the infinite integral is slow in mpmath: one history
            ref = _mp_conditional(theta, "inf", x, tx, T, delta=mp.mpf("0.01"))
            assert_allclose(dert, float(ref), rtol=1e-9)


@pytest.mark.parametrize("theta", THETAS[:3])
def test_unconditional_predictions_match_mpmath(theta):
    p = _params(theta)
    r, al, b, s, be = (mp.mpf(q) for q in theta)
    th = (r, al, b, s, be)
    expected = r / al * mp.quad(lambda u: _mp_surv(th, u), _mp_cuts(0, 30, [1 / b, be / b]))
    assert_allclose(ggomnbd.expected_purchases(p, 30.0), float(expected), rtol=1e-10)
    got = ggomnbd.purchase_probability(p, [0, 1, 5, 40], 30.0)
    assert_allclose(got, [float(_mp_pmf(theta, n, 30.0)) for n in (0, 1, 5, 40)], rtol=1e-10)


def test_pinned_values_at_the_published_cdnow_estimates():
    # mpmath at the Table 2 estimates (computed by _mp_ll/_mp_conditional above, 30 digits)
    ll, alive = _mp_ll(PAPER.as_array(), 2, 30.43, 38.86)
    assert_allclose(float(ll), -9.506196051968175, rtol=1e-14)  # pins the reference itself
    assert_allclose(ggomnbd.log_likelihood_per_customer(PAPER, 2, 30.43, 38.86), float(ll))
    assert_allclose(ggomnbd.probability_alive(PAPER, 2, 30.43, 38.86), float(alive), rtol=1e-12)


def test_zero_observation_time_has_likelihood_one_and_alive():
    assert ggomnbd.log_likelihood_per_customer(PAPER, 0, 0.0, 0.0) == 0.0
    assert ggomnbd.probability_alive(PAPER, 0, 0.0, 0.0) == 1.0
    assert ggomnbd.probability_alive(PAPER, 4, 30.0, 30.0) == 1.0


def test_analytic_gradient_matches_central_differences():
    x, tx, T, _, _ = _simulate((0.8, 8.0, 0.1, 0.5, 2.0), np.full(300, 52.0), rng=5)
    data = ggomnbd.inp.prepare_fit_data(x, tx, T, None)
    objective = ggomnbd._Objective(data)
    for theta in (np.array(THETAS[1]), np.array(THETAS[0]), np.array([0.8, 8.0, 0.1, 0.5, 2.0])):
        _, grad = objective(theta)
        for i in range(5):
            h = theta[i] * 1e-6
            e = np.zeros(5)
            e[i] = h
            num = (objective(theta + e)[0] - objective(theta - e)[0]) / (2 * h)
            assert_allclose(grad[i], num, rtol=1e-5, atol=1e-6 * abs(theta[i]) ** -1)


# --------------------------------------------------------------------------- Pareto/NBD limit


@pytest.mark.parametrize("b", [1e-7, 1e-9])
def test_small_b_approaches_the_pareto_nbd(b):
    # S(τ) = (β/(β + e^(bτ) - 1))^s -> (β_P/(β_P + τ))^s with β_P = β/b as b -> 0
    pp = pareto_nbd.ParetoNbdParams(r=0.55, alpha=10.58, s=0.61, beta=11.67)
    gp = GGompertzNbdParams(r=0.55, alpha=10.58, b=b, s=0.61, beta=11.67 * b)
    x, tx, T = np.array([0, 2, 7, 1]), np.array([0.0, 30.43, 38.0, 1.0]), np.full(4, 38.86)
    tol = 1e3 * b * 40  # the first-order difference is of order b T
    for name, args in [
        ("log_likelihood_per_customer", (x, tx, T)),
        ("probability_alive", (x, tx, T)),
        ("conditional_expected_purchases", (39.0, x, tx, T)),
        ("conditional_purchase_probability", (39.0, x, tx, T)),
        ("expected_purchases", (np.array([1.0, 39.0, 78.0]),)),
        ("purchase_probability", (np.arange(6), 39.0)),
    ]:
        got = getattr(ggomnbd, name)(gp, *args)
        want = getattr(pareto_nbd, name)(pp, *args)
        assert_allclose(got, want, rtol=tol, err_msg=name)


# --------------------------------------------------------------------------- Monte Carlo


def test_forecasts_match_monte_carlo():
    theta = (0.8, 6.0, 0.08, 0.7, 1.5)
    p = _params(theta)
    n = 40_000
    x, tx, T, alive, later = _simulate(theta, np.full(n, 40.0), rng=11, holdout=20.0)
    # P(alive | history) averages to the share alive; the conditional forecasts to the holdout
    pa = ggomnbd.probability_alive(p, x, tx, T)
    assert abs(pa.mean() - alive.mean()) < 4 * np.sqrt(alive.mean() * (1 - alive.mean()) / n)
    ce = ggomnbd.conditional_expected_purchases(p, 20.0, x, tx, T)
    assert abs(ce.mean() - later.mean()) < 4 * later.std() / np.sqrt(n)
    buy = ggomnbd.conditional_purchase_probability(p, 20.0, x, tx, T)
    share = (later > 0).mean()
    assert abs(buy.mean() - share) < 4 * np.sqrt(share * (1 - share) / n)
    # by frequency group too: the customers with x = 0 and with x >= 5
    for group in (x == 0, x >= 5):
        m = int(group.sum())
        assert abs(pa[group].mean() - alive[group].mean()) < 4 * 0.5 / np.sqrt(m)
        assert abs(ce[group].mean() - later[group].mean()) < 4 * later[group].std() / np.sqrt(m)
    # the counts of new customers over (0, 40]
    pmf = ggomnbd.purchase_probability(p, np.arange(6), 40.0)
    freq = np.bincount(x, minlength=6)[:6] / n
    assert_allclose(pmf, freq, atol=4 * np.sqrt(0.25 / n))
    assert abs(ggomnbd.expected_purchases(p, 40.0) - x.mean()) < 4 * x.std() / np.sqrt(n)


def test_dert_is_the_discounted_sum_of_conditional_increments():
    # DERT = ∫ e^(-δu) dE[Y(u)]: a fine Riemann-Stieltjes sum of conditional expectations
    p = _params(THETAS[1])
    delta = 0.05
    grid = np.linspace(0.0, 600.0, 60_001)
    n = grid.size
    ce = ggomnbd.conditional_expected_purchases(
        p, grid, np.full(n, 3), np.full(n, 10.0), np.full(n, 40.0)
    )
    mid = np.exp(-delta * (grid[1:] + grid[:-1]) / 2)
    total = float(mid @ np.diff(ce))
    got = ggomnbd.discounted_expected_residual_purchases(p, 3, 10.0, 40.0, discount_rate=delta)
    assert_allclose(got, total, rtol=1e-6)


def test_pmf_sums_to_one_and_gives_the_mean():
    for theta in THETAS[:3]:
        p = _params(theta)
        pmf = ggomnbd.purchase_probability(p, np.arange(3000), 30.0)
        assert_allclose(pmf.sum(), 1.0, atol=1e-9)
        assert_allclose(pmf @ np.arange(3000), ggomnbd.expected_purchases(p, 30.0), rtol=1e-8)


# --------------------------------------------------------------------------- fitting


def test_parameter_recovery_within_three_standard_errors():
    theta = (0.8, 8.0, 0.1, 0.5, 2.0)
    x, tx, T, _, _ = _simulate(theta, np.full(6000, 52.0), rng=21)
    f = ggomnbd.fit(x, tx, T)
    assert f.converged
    z = (f.params.as_array() - np.array(theta)) / f.standard_errors.as_array()
    assert np.all(np.abs(z) < 3), z
    assert_allclose(f.log_likelihood, ggomnbd.log_likelihood(f.params, x, tx, T))


def test_fit_accepts_a_summary_weights_and_methods_delegate():
    x, tx, T, _, _ = _simulate((0.8, 8.0, 0.1, 0.5, 2.0), np.full(3000, 52.0), rng=1)
    s = CustomerSummary.from_arrays(x, tx, T, time_unit="W")
    f = ggomnbd.fit(s)
    assert f.time_unit == "W"
    assert f.n_customers == 3000.0
    p = f.params
    assert_allclose(f.probability_alive(s), ggomnbd.probability_alive(p, x, tx, T))
    assert_allclose(
        f.conditional_expected_purchases(10.0, s),
        ggomnbd.conditional_expected_purchases(p, 10.0, x, tx, T),
    )
    assert_allclose(
        f.discounted_expected_residual_purchases(s, discount_rate=0.01),
        ggomnbd.discounted_expected_residual_purchases(p, x, tx, T, discount_rate=0.01),
    )
    pred = f.predict(s, 10.0)
    assert_allclose(pred.probability_of_purchase, f.conditional_purchase_probability(10.0, s))
    # a summary in days: times and rates converted into weeks
    days = CustomerSummary.from_arrays(x, tx * 7, T * 7, time_unit="D")
    assert_allclose(
        f.conditional_expected_purchases(70.0, days), f.conditional_expected_purchases(10.0, s)
    )
    assert_allclose(
        f.discounted_expected_residual_purchases(days, discount_rate=0.01 / 7),
        f.discounted_expected_residual_purchases(s, discount_rate=0.01),
    )


def test_time_unit_rescales_alpha_and_b_only():
    x, tx, T = np.array([0, 2, 5]), np.array([0.0, 10.0, 30.0]), np.full(3, 40.0)
    p = _params(THETAS[1])
    q = GGompertzNbdParams(r=p.r, alpha=p.alpha * 7, b=p.b / 7, s=p.s, beta=p.beta)
    assert_allclose(
        ggomnbd.probability_alive(q, x, tx * 7, T * 7), ggomnbd.probability_alive(p, x, tx, T)
    )
    assert_allclose(
        ggomnbd.log_likelihood_per_customer(q, x, tx * 7, T * 7),
        ggomnbd.log_likelihood_per_customer(p, x, tx, T) - x * np.log(7),
    )


# --------------------------------------------------------------------------- stress


def test_extreme_inputs_are_finite_without_warnings():
    x = np.array([0, 1, 10_000, 10_000, 500])
    tx = np.array([0.0, 1e-9, 0.001, 99.999, 50.0])
    T = np.array([1e-9, 1e4, 100.0, 100.0, 1e3])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for theta in [
            (1e-4, 1e-4, 1e-4, 1e-4, 1e-4),
            (1e4, 1e4, 1e-4, 1e4, 1e4),
            (0.5, 10.0, 10.0, 0.01, 1e4),
            (1e-4, 1e4, 1.0, 1e4, 1e-4),
            (2.0, 1.0, 1e-12, 0.5, 1e-11),
        ]:
            p = _params(theta)
            ll = ggomnbd.log_likelihood_per_customer(p, x, tx, T)
            pa = ggomnbd.probability_alive(p, x, tx, T)
            ce = ggomnbd.conditional_expected_purchases(p, 52.0, x, tx, T)
            buy = ggomnbd.conditional_purchase_probability(p, 52.0, x, tx, T)
            dert = ggomnbd.discounted_expected_residual_purchases(p, x, tx, T, discount_rate=0.1)
            pmf = ggomnbd.purchase_probability(p, [0, 10, 1000], [1e-9, 52.0, 1e4])
            for arr in (ll, pa, ce, buy, dert, pmf):
                assert np.all(np.isfinite(arr)), (theta, arr)
            assert np.all((pa >= 0) & (pa <= 1))
            assert np.all(buy <= pa)


def test_log_likelihood_matches_mpmath_for_a_huge_frequency():
    theta = (0.5, 10.0, 0.05, 1.0, 3.0)
    ll, alive = _mp_ll(theta, 10_000, 20.0, 52.0)
    p = _params(theta)
    assert_allclose(
        ggomnbd.log_likelihood_per_customer(p, 10_000, 20.0, 52.0), float(ll), rtol=1e-12
    )
    assert_allclose(
        ggomnbd.probability_alive(p, 10_000, 20.0, 52.0), float(alive), rtol=1e-8, atol=1e-300
    )


# --------------------------------------------------------------------------- properties

positive = st.floats(1e-3, 1e3)
histories = st.tuples(st.integers(0, 200), st.floats(0.0, 1.0), st.floats(0.01, 200.0)).map(
    lambda h: (h[0], 0.0 if h[0] == 0 else h[1] * h[2], h[2])
)


@settings(deadline=None)
@given(
    theta=st.tuples(positive, positive, st.floats(1e-4, 2.0), positive, positive),
    h=histories,
    t1=st.floats(0.0, 100.0),
    dt=st.floats(0.0, 100.0),
)
def test_bounds_and_monotonicity(theta, h, t1, dt):
    p = _params(theta)
    x, tx, T = h
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pa = ggomnbd.probability_alive(p, x, tx, T)
        assert 0.0 <= pa <= 1.0
        assert np.isfinite(ggomnbd.log_likelihood_per_customer(p, x, tx, T))
        c1 = ggomnbd.conditional_expected_purchases(p, t1, x, tx, T)
        c2 = ggomnbd.conditional_expected_purchases(p, t1 + dt, x, tx, T)
        assert 0.0 <= c1 <= c2 * (1 + 1e-12)
        b1 = ggomnbd.conditional_purchase_probability(p, t1, x, tx, T)
        b2 = ggomnbd.conditional_purchase_probability(p, t1 + dt, x, tx, T)
        assert 0.0 <= b1 <= b2 * (1 + 1e-12) + 1e-300
        assert b2 <= pa * (1 + 1e-12)
        e1 = ggomnbd.expected_purchases(p, t1)
        assert 0.0 <= e1 <= ggomnbd.expected_purchases(p, t1 + dt) * (1 + 1e-12)


@settings(deadline=None)
@given(
    theta=st.tuples(positive, positive, st.floats(1e-4, 2.0), positive, positive), data=st.data()
)
def test_log_likelihood_is_order_invariant(theta, data):
    rows = data.draw(st.lists(histories, min_size=2, max_size=8))
    x, tx, T = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
    order = data.draw(st.permutations(range(len(rows))))
    p = _params(theta)
    a = ggomnbd.log_likelihood(p, x, tx, T)
    b = ggomnbd.log_likelihood(p, x[order], tx[order], T[order])
    assert_allclose(a, b, rtol=1e-12)
    per = ggomnbd.log_likelihood_per_customer(p, x, tx, T)
    assert_allclose(
        ggomnbd.log_likelihood_per_customer(p, x[order], tx[order], T[order]), per[order]
    )


@settings(deadline=None)
@given(
    theta=st.tuples(positive, positive, st.floats(1e-4, 2.0), positive, positive),
    x=st.integers(1, 50),
    T=st.floats(1.0, 100.0),
)
def test_probability_alive_grows_with_recency(theta, x, T):
    p = _params(theta)
    tx = np.linspace(0.0, T, 9)
    pa = ggomnbd.probability_alive(p, np.full(9, x), tx, np.full(9, T))
    assert np.all(np.diff(pa) >= -1e-12)


# --------------------------------------------------------------------------- errors


def test_params_are_validated():
    with pytest.raises(InputError, match="b must be > 0"):
        GGompertzNbdParams(r=1.0, alpha=1.0, b=0.0, s=1.0, beta=1.0)
    with pytest.raises(InputError, match="beta must be"):
        GGompertzNbdParams(r=1.0, alpha=1.0, b=1.0, s=1.0, beta=float("nan"))
    with pytest.raises(InputTypeError, match="params must be GGompertzNbdParams"):
        ggomnbd.probability_alive(
            pareto_nbd.ParetoNbdParams(r=1, alpha=1, s=1, beta=1), 1, 1.0, 2.0
        )


def test_functions_reject_bad_input():
    with pytest.raises(InputError, match="recency must not exceed T"):
        ggomnbd.log_likelihood(PAPER, [1], [5.0], [4.0])
    with pytest.raises(InputError, match="t must be >= 0"):
        ggomnbd.conditional_expected_purchases(PAPER, -1.0, 1, 1.0, 2.0)
    with pytest.raises(InputError, match="discount_rate must be > 0"):
        ggomnbd.discounted_expected_residual_purchases(PAPER, 1, 1.0, 2.0, discount_rate=-0.1)
    with pytest.raises(InputError, match="n must hold whole numbers"):
        ggomnbd.purchase_probability(PAPER, 1.5, 3.0)
    with pytest.raises(InputTypeError, match="recency and T are required"):
        ggomnbd.probability_alive(PAPER, [1])
    with pytest.raises(InputTypeError, match="initial must be GGompertzNbdParams"):
        ggomnbd.fit([1, 2], [1.0, 2.0], [3.0, 3.0], initial=1.0)
    with pytest.raises(InputError, match="T must have the same length"):
        ggomnbd.conditional_purchase_probability(PAPER, 1.0, [1], [1.0], [2.0, 2.0])


def test_empty_input_and_single_customer():
    empty = np.zeros(0)
    assert ggomnbd.probability_alive(PAPER, empty, empty, empty).shape == (0,)
    assert ggomnbd.conditional_expected_purchases(PAPER, 1.0, empty, empty, empty).shape == (0,)
    assert ggomnbd.discounted_expected_residual_purchases(
        PAPER, empty, empty, empty, discount_rate=0.1
    ).shape == (0,)
    one = ggomnbd.conditional_expected_purchases(PAPER, 10.0, 2, 30.43, 38.86)
    assert isinstance(one, float)
    many = ggomnbd.conditional_expected_purchases(
        PAPER, [10.0, 20.0], [2, 2], [30.43, 30.43], [38.86, 38.86]
    )
    assert many[0] == one
    assert many[1] > one
    assert isinstance(ggomnbd.purchase_probability(PAPER, 1, 2.0), float)
    assert isinstance(ggomnbd.expected_purchases(PAPER, 2.0), float)


def test_fit_is_at_least_as_likely_as_the_nested_pareto_nbd():
    # the Pareto/NBD is the limit b -> 0 of the model: its maximum bounds the GGompertz/NBD one
    from crmcore.simulate import pareto_nbd_histories

    h = pareto_nbd_histories(0.55, 10.58, 0.61, 11.67, T=39.0, n_customers=2000, rng=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CrmWarning)
        f = ggomnbd.fit(h.frequency, h.recency, h.T)
        limit = pareto_nbd.fit(h.frequency, h.recency, h.T)
    assert f.log_likelihood >= limit.log_likelihood - 1e-6


def test_fit_from_a_sample_reaches_the_full_search(monkeypatch):
    # Above _SAMPLE_ROWS distinct histories the fit starts from a fit to a sample and takes
    # Newton steps with its Hessian (BFGS-corrected) instead of the quasi-Newton search
    # (31 iterations before this path, 35 for the search from the default start): the
    # same maximum, in fewer iterations
    rng = np.random.default_rng(3)
    h = ggomnbd_histories(0.8, 8.0, 0.1, 0.5, 2.0, T=rng.uniform(1.0, 78.0, 6000), rng=4)
    data = ggomnbd.inp.prepare_fit_data(h.frequency, h.recency, h.T, None)
    start = dict(zip(ggomnbd._NAMES, ggomnbd._default_initial(data).tolist(), strict=True))
    full = ggomnbd.fit(h.frequency, h.recency, h.T, initial=GGompertzNbdParams(**start))
    # a third of the rows: continuous histories reach the fit sorted by frequency only (no
    # two share T, nothing merges), so a sample of every k-th row is stratified by x alone,
    # and a sixth of 6,000 rows left beta unidentified
    monkeypatch.setattr(ggomnbd, "_SAMPLE_ROWS", 2000)
    f = ggomnbd.fit(h.frequency, h.recency, h.T)
    assert f.converged
    z = (f.params.as_array() - full.params.as_array()) / full.standard_errors.as_array()
    assert np.max(np.abs(z)) < 1e-5
    assert f.log_likelihood >= full.log_likelihood - 1e-6
    assert_allclose(f.standard_errors.as_array(), full.standard_errors.as_array(), rtol=1e-5)
    assert f.n_iterations < 25


def test_clv_functions_accept_a_ggompertz_fit():
    # residual_lifetime_value, new_customer_value and customer_lifetime_value need
    # conditional_expected_purchases_at, which a GGompertz/NBD fit lacked (InputTypeError).
    # References: each column is conditional_expected_purchases at its horizon, and the
    # CLV formulas' definitions (value = margin * spend * DERT; DERT of a new customer).
    from crmcore.models import clv, gamma_gamma

    x = np.array([0, 2, 7, 1])
    s = CustomerSummary.from_arrays(
        x,
        [0.0, 30.43, 38.0, 1.0],
        np.full(4, 38.86),
        monetary_value=[0.0, 20.0, 35.0, 12.0],
        time_unit="W",
    )
    f = ggomnbd.GGompertzNbdFit(
        params=PAPER,
        standard_errors=PAPER,
        covariance=np.eye(5),
        log_likelihood=0.0,
        n_customers=4.0,
        converged=True,
        n_iterations=0,
        time_unit="W",
    )
    at = f.conditional_expected_purchases_at([0.0, 10.0, 39.0], s)
    assert at.shape == (4, 3)
    for k, t in enumerate([0.0, 10.0, 39.0]):
        assert_allclose(at[:, k], f.conditional_expected_purchases(t, s), rtol=1e-14)
    spend = gamma_gamma.GammaGammaFit(
        params=gamma_gamma.GammaGammaParams(p=6.25, q=3.74, v=15.44),
        standard_errors=gamma_gamma.GammaGammaParams(p=1.0, q=1.0, v=1.0),
        covariance=np.eye(3),
        log_likelihood=0.0,
        n_customers=4.0,
        converged=True,
        n_iterations=0,
    )
    rlv = clv.residual_lifetime_value(f, spend, s, discount_rate=0.002, margin=0.3)
    dert = f.discounted_expected_residual_purchases(s, discount_rate=0.002)
    assert_allclose(rlv.discounted_expected_residual_purchases, dert, rtol=1e-14)
    assert_allclose(rlv.value, 0.3 * rlv.expected_spend * dert, rtol=1e-14)
    new = clv.new_customer_value(f, expected_spend=35.0, discount_rate=0.002)
    want = 35.0 * ggomnbd.discounted_expected_residual_purchases(
        PAPER, 0, 0.0, 0.0, discount_rate=0.002
    )
    assert new == pytest.approx(want, rel=1e-14)
    cv = clv.customer_lifetime_value(f, spend, s, horizon=39.0, step=1.0, discount_rate=0.002)
    assert np.all(np.isfinite(cv.clv))
    assert np.all(cv.clv >= 0)


def test_full_cdnow_log_fits_at_the_pareto_nbd_limit():
    # On the full CDNOW log (23,570 customers, weeks 1-39) the search runs to b -> 0, where
    # the information matrix is singular: it raised ConvergenceError. The likelihood is
    # largest in the Pareto/NBD limit there: the fit is that limit, flagged, and agrees with
    # the Pareto/NBD module (an independent implementation: hypergeometric functions).
    from crmcore import datasets, summarize

    summary = summarize(
        datasets.cdnow(),
        observation_end=datasets.CDNOW_OBSERVATION_END,
        calibration_end=datasets.CDNOW_CALIBRATION_END,
        time_unit="W",
        period="D",
    )
    with pytest.warns(ConvergenceWarning, match="Pareto/NBD limit"):
        f = ggomnbd.fit(summary)
    limit = pareto_nbd.fit(summary)
    assert f.at_boundary
    assert f.converged
    r, alpha, b, s, beta = f.params.as_array()
    assert_allclose([r, alpha, s, beta / b], limit.params.as_array(), rtol=1e-8)
    assert_allclose(f.log_likelihood, limit.log_likelihood, rtol=1e-10)
    se = f.standard_errors.as_array()
    assert_allclose(se[[0, 1, 3]], limit.standard_errors.as_array()[:3], rtol=1e-8)
    assert np.isnan(se[2])
    assert np.isnan(se[4])
    assert_allclose(
        f.conditional_expected_purchases(39.0, summary),
        limit.conditional_expected_purchases(39.0, summary),
        rtol=1e-7,
        atol=1e-12,
    )
    assert_allclose(f.probability_alive(summary), limit.probability_alive(summary), rtol=1e-7)


# --------------------------------------------------------------------------- breakpoint grid


def _grid_rows(rows):
    x, tx, T = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
    live = tx < T
    return x[live], tx[live], T[live]


def _assert_grid_matches_oracle(theta, x, lo, hi):
    theta = np.asarray(theta, dtype=float)
    want, want_g = _oracle_integral(theta, x, lo, hi, True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got, got_g = ggomnbd._log_death_integral_rows(theta, x, lo, hi, True, grid=True)
    fin = np.isfinite(want)
    np.testing.assert_array_equal(np.isfinite(got), fin)
    # the log of the integral to 1e-12 relative (absolute below 1), the gradient to 1e-8
    assert_allclose(got[fin], want[fin], rtol=1e-12, atol=1e-12)
    assert_allclose(got_g[:, fin], want_g[:, fin], rtol=1e-8, atol=1e-8)


# times on a grid of days in weeks (as crmcore.summarize rounds them), so that rows share
# breakpoints; frequencies from a few values, so that they share the integrand
day_rows = st.tuples(
    st.sampled_from([0, 1, 2, 5, 40]), st.integers(0, 400), st.integers(1, 400)
).map(lambda h: (h[0], (0 if h[0] == 0 else min(h[1], h[2] - 1)) / 7, h[2] / 7))


@settings(deadline=None)
@given(
    theta=st.tuples(positive, positive, st.floats(1e-4, 2.0), positive, positive),
    rows=st.lists(day_rows, min_size=1, max_size=60),
)
def test_grid_integral_matches_the_first_implementation(theta, rows):
    _assert_grid_matches_oracle(theta, *_grid_rows(rows))


@pytest.mark.parametrize("theta", THETAS)
def test_grid_integral_matches_the_first_implementation_at_extremes(theta):
    # long and short intervals, huge frequencies, breakpoints a float spacing apart, a single
    # row per frequency, many rows sharing one frequency
    rows = [(0, 0.0, 1e-9), (0, 0.0, 1e4), (3, 1.0, 1e4), (3, 9999.0, 1e4), (20_000, 1.0, 2.0)]
    rows += [(20_000, 0.0, 1e-3), (7, 5.0, np.nextafter(5.0, 6.0)), (7, 0.0, 5.0)]
    rows += [(2, k / 7, 300 / 7) for k in range(0, 300, 3)]
    rows += [(2, 0.0, k / 7) for k in range(1, 300, 7)]
    _assert_grid_matches_oracle(theta, *_grid_rows(rows))


def test_grid_is_used_on_daily_histories_only():
    # the rows of a 10,000-customer daily base share their breakpoints; continuous times do not
    T = np.random.default_rng(2).integers(1, 60, 10_000) / 7
    h = ggomnbd_histories(0.8, 8.0, 0.05, 0.5, 2.0, T=T, rng=3)
    days = np.floor(h.recency * 7) / 7
    live = days < h.T
    g = ggomnbd._Grid(h.frequency[live].astype(float), days[live], h.T[live])
    assert g.pays
    h = ggomnbd_histories(0.8, 8.0, 0.05, 0.5, 2.0, T=np.linspace(1.0, 80.0, 600), rng=3)
    live = h.recency < h.T
    g = ggomnbd._Grid(h.frequency[live].astype(float), h.recency[live], h.T[live])
    assert not g.pays


def test_grid_integral_with_segments_far_below_the_largest():
    # found under the hunt profile: the second row's segment is e^-731 of the first's, so its
    # partial sums were subnormal numbers and lost all but a few digits
    theta = (55.0, 3.25, 1.0, 84.0, 468.0)
    rows = [(40, 32 / 7, 33 / 7), (40, 99 / 7, 100 / 7)]
    _assert_grid_matches_oracle(theta, *_grid_rows(rows))


@pytest.mark.parametrize(
    ("theta", "t"),
    [((1.0, 1.0, 0.625, 2.0, 177.0), 18.0), ((1.0, 1.0, 0.625, 2.0, 177.0), 19.0)],
)
def test_expected_purchases_beside_the_complex_singularity(theta, t):
    """β > 1 puts singularities of S at (log(β-1) ± iπ)/b, here 8.27 ± 5.03i: a quadrature
    piece running past them erred by 2e-7, so E[X(18)] came out above E[X(19)] (found by
    test_bounds_and_monotonicity under the hunt profile). Reference: mpmath, 30 digits."""
    r, al, b, s, be = (mp.mpf(q) for q in theta)
    th = (r, al, b, s, be)
    cuts = sorted({mp.mpf(0), mp.mpf(t), mp.log(be - 1) / b})
    expected = r / al * mp.quad(lambda u: _mp_surv(th, u), cuts)
    assert_allclose(ggomnbd.expected_purchases(_params(theta), t), float(expected), rtol=1e-12)


@pytest.mark.parametrize("t", [21.0, 23.0])
def test_conditional_expectation_beside_the_complex_singularity(t):
    """The same for the conditional expectation (θ and history of the hunt's second case)."""
    theta = (1.0, 1.0, 0.53125, 2.0, 329.0)
    got = ggomnbd.conditional_expected_purchases(_params(theta), t, 0, 0.0, 1.0)
    assert_allclose(got, float(_mp_conditional(theta, t, 0, 0.0, 1.0)), rtol=1e-11)


# --------------------------------------------------------------------------- conditional P(alive)


def _alive_later_by_mpmath(p: GGompertzNbdParams, x: int, tx: float, T: float, t: float) -> float:
    # Bayes with lambda integrated out in closed form (gamma-Poisson) and eta integrated
    # out through the population survival S(u) = (beta / (beta + e^(bu) - 1))^s; the death
    # time before T by quadrature of the population density f = -S':
    # P(alive at T+t | x, tx, T) = (a+T)^-(r+x) S(T+t) /
    #   [(a+T)^-(r+x) S(T) + int_tx^T (a+u)^-(r+x) f(u) du]
    mp.mp.dps = 30
    r, a, b, s, beta = (mp.mpf(q) for q in (p.r, p.alpha, p.b, p.s, p.beta))

    def surv(u):
        return (beta / (beta + mp.exp(b * u) - 1)) ** s

    def dens(u):
        return s * b * mp.exp(b * u) * beta**s / (beta + mp.exp(b * u) - 1) ** (s + 1)

    alive = (a + T) ** -(r + x)
    dead = mp.quad(lambda u: (a + u) ** -(r + x) * dens(u), [tx, T]) if tx < T else 0
    return float(alive * surv(T + t) / (alive * surv(T) + dead))


@pytest.mark.parametrize(
    ("theta", "x", "tx", "T", "t"),
    [
        ((0.553, 10.578, 0.0002, 0.603, 0.0026), 2, 30.43, 38.86, 52.0),
        ((0.553, 10.578, 0.0002, 0.603, 0.0026), 0, 0.0, 38.86, 10.0),
        ((1.2, 3.0, 0.05, 2.0, 4.0), 7, 20.0, 60.0, 30.0),
        ((0.4, 20.0, 0.3, 0.5, 0.2), 1, 1.0, 5.0, 2.5),
    ],
)
def test_conditional_probability_alive_matches_mpmath(theta, x, tx, T, t):
    p = GGompertzNbdParams(**dict(zip(("r", "alpha", "b", "s", "beta"), theta, strict=True)))
    got = ggomnbd.conditional_probability_alive(p, t, x, tx, T)
    assert isinstance(got, float)
    assert_allclose(got, _alive_later_by_mpmath(p, x, tx, T, t), rtol=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    history=st.tuples(st.integers(0, 10_000), st.floats(0.0, 1.0), st.floats(0.0, 1e4)),
    horizons=st.tuples(st.floats(0.0, 1e6), st.floats(0.0, 1e6)),
    b=st.floats(1e-8, 5.0),
    beta=st.floats(1e-4, 1e4),
)
def test_conditional_probability_alive_bounds_and_monotone(history, horizons, b, beta):
    p = GGompertzNbdParams(r=0.7, alpha=5.0, b=b, s=0.8, beta=beta)
    x, share, T = history
    tx = share * T if x > 0 else 0.0
    now = ggomnbd.probability_alive(p, x, tx, T)
    lo, hi = sorted(horizons)
    later = ggomnbd.conditional_probability_alive(p, [0.0, lo, hi], [x] * 3, [tx] * 3, [T] * 3)
    assert np.all(np.isfinite(later))
    assert later[0] == pytest.approx(now, rel=1e-12, abs=1e-300)
    assert 0.0 <= later[2] <= later[1] <= later[0] <= 1.0


def test_conditional_probability_alive_tends_to_pareto_nbd_as_b_goes_to_0():
    # b -> 0 with beta = b * beta_pareto: the Gompertz lifetime becomes the exponential one
    b = 1e-9
    p = GGompertzNbdParams(r=0.553, alpha=10.578, b=b, s=0.603, beta=b * 11.67)
    q = pareto_nbd.ParetoNbdParams(r=0.553, alpha=10.578, s=0.603, beta=11.67)
    args = ([0.0, 13.0, 52.0], [2, 0, 5], [30.43, 0.0, 10.0], [38.86, 38.86, 38.86])
    assert_allclose(
        ggomnbd.conditional_probability_alive(p, *args),
        pareto_nbd.conditional_probability_alive(q, *args),
        rtol=1e-6,
    )


def test_conditional_probability_alive_on_a_fit_converts_units_and_refuses_bad_t():
    h = ggomnbd_histories(0.8, 8.0, 0.1, 0.5, 2.0, T=30.0, n_customers=300, rng=1)
    fit = ggomnbd.GGompertzNbdFit(
        params=PAPER,
        standard_errors=PAPER,
        covariance=np.eye(5),
        log_likelihood=-1.0,
        n_customers=300.0,
        converged=True,
        n_iterations=1,
        time_unit="W",
    )
    # a summary in days: the horizon of 28 days and the histories converted into weeks
    days = CustomerSummary.from_arrays(h.frequency, h.recency * 7, h.T * 7, time_unit="D")
    assert_allclose(
        fit.conditional_probability_alive(28.0, days),
        ggomnbd.conditional_probability_alive(PAPER, 4.0, h.frequency, h.recency, h.T),
        rtol=1e-12,
    )
    with pytest.raises(InputError, match="t must be >= 0"):
        ggomnbd.conditional_probability_alive(PAPER, -1.0, 2, 30.43, 38.86)
    with pytest.raises(InputTypeError):
        ggomnbd.conditional_probability_alive(PAPER, 1.0, [2, 1])


# --------------------------------------------------------------------------- conditional PMF
# Reference by Bayes' rule, independent of the "new customer with updated parameters"
# argument of the code: latent λ ~ Gamma(r, α) and death time τ with density f(τ) (η
# integrated out). Given (λ, τ) the history has likelihood λ^x e^(-λ min(τ, T)) (τ > t_x)
# and the future count is Poisson(λ (min(τ, T+t) - T)) (0 when τ <= T). λ is integrated
# in closed form (gamma-Poisson), τ by mp.quad over (t_x, T) and (T, T+t), plus S(T+t).


def _mp_count_pmf(theta, n, t, hist):
    th = [mp.mpf(q) for q in theta]
    r, al, b, _s, _be = th
    n, t, x, tx, T = (mp.mpf(q) for q in (n, t, *hist))

    def k(a, c):  # E_λ[λ^x e^(-λ a) (λc)^n e^(-λc) / n!]
        log = (
            mp.loggamma(r + x + n)
            - mp.loggamma(r)
            - mp.loggamma(n + 1)
            + r * mp.log(al)
            - (r + x + n) * mp.log(al + a + c)
        )
        return mp.exp(log) * (c**n if n > 0 else 1)

    def k0(a):  # the same with no future purchase and no future time
        return mp.exp(
            mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(al) - (r + x) * mp.log(al + a)
        )

    past = mp.quad(lambda u: k0(u) * _mp_death(th, u), _mp_cuts(tx, T, [al + tx, 1 / b]))
    history = past + k0(T) * _mp_surv(th, T)
    future = k(T, t) * _mp_surv(th, T + t)
    if t > 0:
        cuts = _mp_cuts(T, T + t, [(al + T) / (r + x + n + 1), 1 / b])
        future += mp.quad(lambda u: k(T, u - T) * _mp_death(th, u), cuts)
    if n == 0:
        future += past
    return future / history


@pytest.mark.parametrize(
    ("theta", "n", "t", "hist"),
    [
        (THETAS[0], 2, 39.0, (2, 30.43, 38.86)),  # CDNOW (β < 1)
        (THETAS[1], 0, 5.0, (3, 10.0, 40.0)),  # β > 1, an inactive-looking customer
        (THETAS[2], 3, 60.0, (1, 5.0, 20.0)),
        (THETAS[4], 1, 25.0, (4, 29.0, 30.0)),
    ],
)
def test_conditional_purchase_count_probability_matches_mpmath(theta, n, t, hist):
    got = ggomnbd.conditional_purchase_count_probability(_params(theta), n, t, *hist)
    assert isinstance(got, float)
    assert_allclose(got, float(_mp_count_pmf(theta, n, t, hist)), rtol=1e-9)


@pytest.mark.parametrize("theta", THETAS[:3])
def test_conditional_pmf_sums_to_one_and_gives_the_mean(theta):
    p = _params(theta)
    counts = np.arange(2000)
    for x, tx, T in [(0, 0.0, 40.0), (5, 30.0, 40.0)]:
        pmf = ggomnbd.conditional_purchase_count_probability(p, counts, 30.0, x, tx, T)
        assert pmf[-50:].sum() < 1e-15  # the tail beyond n = 2000 is negligible
        assert_allclose(pmf.sum(), 1.0, rtol=1e-10)
        mean = ggomnbd.conditional_expected_purchases(p, 30.0, x, tx, T)
        assert_allclose(pmf @ counts, mean, rtol=1e-8)


@pytest.mark.parametrize("theta", THETAS)
def test_conditional_pmf_at_zero_is_one_minus_the_purchase_probability(theta):
    p = _params(theta)
    x, tx, T = (np.array(c, dtype=float) for c in zip(*HISTORIES, strict=True))
    t = np.array([0.0, 5.0, 52.0])
    none = ggomnbd.conditional_purchase_count_probability(p, 0, t, x, tx, T)
    assert_allclose(
        none, 1.0 - ggomnbd.conditional_purchase_probability(p, t, x, tx, T), rtol=1e-10
    )


def test_conditional_pmf_tends_to_pareto_nbd_as_b_goes_to_0():
    # b -> 0 with beta = b * beta_pareto: β' = 1 + (β-1) e^(-bT) -> b (beta_pareto + T)
    b = 1e-9
    p = GGompertzNbdParams(r=0.553, alpha=10.578, b=b, s=0.603, beta=b * 11.67)
    q = pareto_nbd.ParetoNbdParams(r=0.553, alpha=10.578, s=0.603, beta=11.67)
    args = ([0, 1, 3, 0], [39.0, 13.0, 52.0, 52.0], [2, 0, 5, 7], [30.43, 0.0, 10.0, 38.0])
    T = [38.86] * 4
    assert_allclose(
        ggomnbd.conditional_purchase_count_probability(p, *args, T),
        pareto_nbd.conditional_purchase_count_probability(q, *args, T),
        rtol=1e-6,
    )


def test_pmf_rows_match_the_scalar_pmf_row_by_row():
    # one march over rows of different (r, α, β), β below, at and above 1 (where the
    # Gompertz factors' singularity changes), against _pmf at each row's parameters
    rows = [
        (0.553, 10.578, 0.0026, 2.0, 39.0),
        (3.0, 50.0, 1.0, 0.0, 20.0),
        (1.2, 3.0, 40.0, 7.0, 5.0),
        (30.0, 40.0, 0.9, 15.0, 100.0),
        (0.5, 10.0, 1.0 + 1e-9, 1.0, 0.0),
    ]
    b, s = 0.05, 0.8
    r, alpha, beta, n, t = (np.array(c) for c in zip(*rows, strict=True))
    got = ggomnbd._pmf_rows((r, alpha, b, s, beta), n, t)
    for i, (ri, ai, bi, ni, ti) in enumerate(rows):
        want = ggomnbd._pmf(np.array([ri, ai, b, s, bi]), np.array([ni]), np.array([ti]))
        assert_allclose(got[i], want[0], rtol=1e-13)


def test_conditional_pmf_on_a_fit_and_a_summary():
    h = ggomnbd_histories(0.8, 8.0, 0.1, 0.5, 2.0, T=30.0, n_customers=200, rng=3)
    fit = ggomnbd.GGompertzNbdFit(
        params=PAPER,
        standard_errors=PAPER,
        covariance=np.eye(5),
        log_likelihood=-1.0,
        n_customers=200.0,
        converged=True,
        n_iterations=1,
        time_unit="W",
    )
    days = CustomerSummary.from_arrays(h.frequency, h.recency * 7, h.T * 7, time_unit="D")
    want = ggomnbd.conditional_purchase_count_probability(
        PAPER, 1, 4.0, h.frequency, h.recency, h.T
    )
    assert_allclose(fit.conditional_purchase_count_probability(1, 28.0, days), want, rtol=1e-12)
    # one count per customer, and a customer just acquired (x = t_x = T = 0)
    counts = np.arange(200) % 4
    per = ggomnbd.conditional_purchase_count_probability(
        PAPER, counts, 4.0, h.frequency, h.recency, h.T
    )
    for k in range(4):
        mine = counts == k
        one = ggomnbd.conditional_purchase_count_probability(
            PAPER, k, 4.0, h.frequency[mine], h.recency[mine], h.T[mine]
        )
        assert_allclose(per[mine], one, rtol=1e-14)
    assert_allclose(
        ggomnbd.conditional_purchase_count_probability(PAPER, [0, 2], 39.0, 0, 0.0, 0.0),
        ggomnbd.purchase_probability(PAPER, [0, 2], 39.0),
        rtol=1e-12,
    )


@settings(deadline=None)
@given(
    theta=st.tuples(
        st.floats(1e-3, 1e3),
        st.floats(1e-3, 1e3),
        st.floats(1e-8, 5.0),
        st.floats(1e-3, 1e3),
        st.floats(1e-4, 1e4),
    ),
    history=st.tuples(st.integers(0, 10_000), st.floats(0.0, 1.0), st.floats(0.0, 1e4)),
    n=st.integers(0, 10_000),
    t=st.floats(0.0, 1e4),
)
def test_conditional_pmf_is_a_probability_on_extreme_inputs(theta, history, n, t):
    x, share, T = history
    tx = share * T if x > 0 else 0.0
    p = _params(theta)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = ggomnbd.conditional_purchase_count_probability(p, [0, 1, n], t, x, tx, T)
    assert np.all(np.isfinite(got))
    assert np.all((got >= 0.0) & (got <= 1.0))
    assert got[:2].sum() <= 1.0 + 1e-9
    if n > 1:
        assert got[[0, 1, 2]].sum() <= 1.0 + 1e-9


def test_conditional_pmf_rejects_bad_counts_and_horizons():
    with pytest.raises(InputError, match="n must be non-negative"):
        ggomnbd.conditional_purchase_count_probability(PAPER, -1, 39.0, 2, 30.43, 38.86)
    with pytest.raises(InputError, match="n must hold whole numbers"):
        ggomnbd.conditional_purchase_count_probability(PAPER, 1.5, 39.0, 2, 30.43, 38.86)
    with pytest.raises(InputError, match="t must be >= 0"):
        ggomnbd.conditional_purchase_count_probability(PAPER, 1, -1.0, 2, 30.43, 38.86)
    with pytest.raises(InputError, match="n must be one number, or one value per customer"):
        ggomnbd.conditional_purchase_count_probability(
            PAPER, [1, 2], 1.0, [2] * 3, [3.0] * 3, [5.0] * 3
        )
