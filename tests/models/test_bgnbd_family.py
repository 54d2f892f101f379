"""Tests shared by the BG/NBD and MBG/NBD models, run once for each.

Every test takes the ``model`` fixture (or a ``model`` parameter), a
:class:`tests.models._bgnbd_family.Model`; the reference values, their mpmath
sources and the independent simulator live in :mod:`tests.models._bgnbd_family`.
Model-specific tests stay in ``test_bgnbd.py`` and ``test_mbgnbd.py``.
"""

from __future__ import annotations

import warnings

import mpmath as mp
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from crmcore.errors import ConvergenceError, InputError, InputTypeError
from crmcore.summary import CustomerSummary
from tests.models._bgnbd_family import (
    BG,
    MBG,
    MODELS,
    _mp_conditional,
    _mp_loglik,
    _mp_palive,
    _mp_unconditional,
    histories,
    thetas,
)

THETA_MC = (0.5, 6.0, 0.9, 2.5)
IDS = [m.name for m in MODELS]


@pytest.fixture(params=MODELS, ids=IDS)
def model(request):
    return request.param


def _cases(attr):
    """(model, case) pairs of one table of every model, for parametrize."""
    pairs = [(m, c) for m in MODELS for c in getattr(m, attr)]
    ids = [f"{m.name}-{i}" for m in MODELS for i in range(len(getattr(m, attr)))]
    return pytest.mark.parametrize(("model", "case"), pairs, ids=ids)


# --------------------------------------------------------------------------- reference values


@_cases("loglik_cases")
def test_log_likelihood_per_customer_mpmath(model, case):
    theta, x, tx, T, expected = case
    got = model.module.log_likelihood_per_customer(model.params(theta), [x], [tx], [T])
    assert_allclose(got, [expected], rtol=1e-11, atol=1e-11)


@_cases("palive_cases")
def test_probability_alive_mpmath(model, case):
    theta, x, tx, T, expected = case
    got = model.module.probability_alive(model.params(theta), [x], [tx], [T])
    # (r + x) log((α+T)/(α+t_x)) amplifies rounding for r = 1e4: 1e-10
    assert_allclose(got, [expected], rtol=1e-10, atol=1e-300)


@_cases("conditional_cases")
def test_conditional_expected_purchases_mpmath(model, case):
    theta, x, tx, T, t, expected = case
    got = model.module.conditional_expected_purchases(model.params(theta), t, [x], [tx], [T])
    # a = 1.00001 sits at the edge of the interpolation across a = 1: 1e-9
    assert_allclose(got, [expected], rtol=1e-9)


@_cases("unconditional_cases")
def test_expected_purchases_mpmath(model, case):
    theta, t, expected = case
    got = model.module.expected_purchases(model.params(theta), t)
    assert isinstance(got, float)
    assert_allclose(got, expected, rtol=1e-9)


@_cases("pmf_cases")
def test_purchase_probability_mpmath(model, case):
    theta, n, t, expected = case
    got = model.module.purchase_probability(model.params(theta), n, t)
    assert isinstance(got, float)
    assert_allclose(got, expected, rtol=1e-10, atol=1e-300)


def test_tables_agree_with_mpmath_functions(model):
    # The tables are what the _mp_* functions print (guards against typos).
    s = model.shift
    with mp.workdps(50):
        theta, x, tx, T, expected = model.loglik_cases[2]
        assert_allclose(float(_mp_loglik(theta, x, tx, T, s=s)), expected, rtol=1e-14)
        theta, x, tx, T, expected = model.palive_cases[3]
        assert_allclose(float(_mp_palive(theta, x, tx, T, s=s)), expected, rtol=1e-14)
        theta, x, tx, T, t, expected = model.conditional_cases[0]
        assert_allclose(float(_mp_conditional(theta, (x, tx, T), t, s=s)), expected, rtol=1e-14)
        theta, t, expected = model.unconditional_cases[0]
        assert_allclose(float(_mp_unconditional(theta, t, s=s)), expected, rtol=1e-14)


def test_expectations_at_a_equal_one_are_finite_and_continuous(model):
    # a = 1 makes the closed form 0/0; the value is the limit from both sides.
    m = model.module
    p = [model.params((0.5, 2.0, 1.0 + d, 2.0)) for d in (-1e-4, 0.0, 1e-4)]
    e = [m.expected_purchases(q, 26.0) for q in p]
    assert_allclose(e[1], 0.5 * (e[0] + e[2]), rtol=1e-6)
    c = [m.conditional_expected_purchases(q, 26.0, [3], [10.0], [30.0])[0] for q in p]
    assert_allclose(c[1], 0.5 * (c[0] + c[2]), rtol=1e-6)


# --------------------------------------------------------------------------- Monte Carlo


def test_expected_purchases_and_pmf_match_monte_carlo(model):
    n = 200_000
    t = 30.0
    x, *_ = model.simulate(THETA_MC, t, n, seed=1)
    p = model.params(THETA_MC)
    mean = model.module.expected_purchases(p, t)
    assert abs(x.mean() - mean) < 4 * x.std() / np.sqrt(n)
    ks = np.arange(6)
    pmf = model.module.purchase_probability(p, ks, t)
    freq = np.array([(x == k).mean() for k in ks])
    assert np.all(np.abs(freq - pmf) < 4 * np.sqrt(pmf * (1 - pmf) / n))


def test_conditional_expectation_and_p_alive_match_monte_carlo(model):
    # E[Y | x] = E[E[Y | x, t_x, T] | x]: compare group means of the
    # prediction with the simulated holdout purchases, and P(alive) with the
    # share of customers still active.
    n = 200_000
    x, tx, T, alive, y = model.simulate(THETA_MC, 20.0, n, holdout=15.0, seed=2)
    p = model.params(THETA_MC)
    pred = model.module.conditional_expected_purchases(p, 15.0, x, tx, T)
    pa = model.module.probability_alive(p, x, tx, T)
    for group in (x == 0, x == 1, x == 2, (x >= 3) & (x < 6), x >= 6):
        k = group.sum()
        assert abs(pred[group].mean() - y[group].mean()) < 4 * y[group].std() / np.sqrt(k) + 1e-3
        assert abs(pa[group].mean() - alive[group].mean()) < 4 * np.sqrt(0.25 / k)


def test_crmcore_simulate_holdout_matches_conditional_expectation(model):
    # The same identity with the package's own simulator (crmcore.simulate).
    sim = model.package_simulator(
        *THETA_MC, T=25.0, n_customers=100_000, duration_holdout=10.0, rng=3
    )
    p = model.params(THETA_MC)
    pred = model.module.conditional_expected_purchases(p, 10.0, sim.frequency, sim.recency, sim.T)
    y = sim.frequency_holdout
    assert abs(pred.mean() - y.mean()) < 4 * y.std() / np.sqrt(y.size)
    pa = model.module.probability_alive(p, sim.frequency, sim.recency, sim.T)
    assert abs(pa.mean() - sim.alive.mean()) < 4 * np.sqrt(0.25 / y.size)


@pytest.mark.parametrize("theta", [THETA_MC, (0.243, 4.414, 0.793, 2.426), (2.0, 0.5, 1.5, 4.0)])
def test_pmf_sums_to_one_and_mean_matches(model, theta):
    p = model.params(theta)
    t = 39.0
    n = np.arange(0, 4000)
    pmf = model.module.purchase_probability(p, n, t)
    assert_allclose(pmf.sum(), 1.0, rtol=1e-9)
    assert_allclose((n * pmf).sum(), model.module.expected_purchases(p, t), rtol=1e-8)


# --------------------------------------------------------------------------- fitting


def test_fit_weights_equal_exploded_rows(model):
    m = model.module
    x, tx, T, *_ = model.simulate(THETA_MC, 30.0, 400, seed=4)
    w = np.random.default_rng(5).integers(1, 4, x.size)
    weighted = m.fit(x, tx, T, weights=w)
    exploded = m.fit(np.repeat(x, w), np.repeat(tx, w), np.repeat(T, w))
    assert_allclose(weighted.params.as_array(), exploded.params.as_array(), rtol=1e-6)
    assert_allclose(weighted.log_likelihood, exploded.log_likelihood, rtol=1e-10)
    assert_allclose(
        weighted.standard_errors.as_array(), exploded.standard_errors.as_array(), rtol=1e-4
    )
    assert weighted.n_customers == exploded.n_customers == w.sum()


def test_fit_summary_equals_arrays_and_result_methods_delegate(model):
    m = model.module
    x, tx, T, *_ = model.simulate(THETA_MC, 30.0, 2000, seed=6)
    s = CustomerSummary.from_arrays(x, tx, T, time_unit="W")
    a = m.fit(s)
    b = m.fit(x, tx, T)
    assert isinstance(a, model.fit_cls)
    assert_allclose(a.params.as_array(), b.params.as_array(), rtol=1e-9)
    assert a.converged
    assert a.n_iterations > 0
    assert a.covariance.shape == (4, 4)
    assert_allclose(np.sqrt(np.diag(a.covariance)), a.standard_errors.as_array())
    p = a.params
    assert_allclose(a.expected_purchases(10.0), m.expected_purchases(p, 10.0))
    assert_allclose(a.purchase_probability(2, 10.0), m.purchase_probability(p, 2, 10.0))
    assert_allclose(a.probability_alive(s), m.probability_alive(p, x, tx, T))
    assert_allclose(
        a.conditional_expected_purchases(5.0, x, tx, T),
        m.conditional_expected_purchases(p, 5.0, x, tx, T),
    )
    assert_allclose(a.log_likelihood_per_customer(x, tx, T).sum(), m.log_likelihood(p, x, tx, T))
    assert_allclose(a.log_likelihood, m.log_likelihood(p, s), rtol=1e-12)
    # several horizons at once: the columns are the one-horizon values
    at = a.conditional_expected_purchases_at([0.0, 5.0, 52.0], s)
    assert at.shape == (x.size, 3)
    for k, t in enumerate((0.0, 5.0, 52.0)):
        assert_allclose(at[:, k], m.conditional_expected_purchases(p, t, s), rtol=1e-14)
    with pytest.raises(InputError, match="t must be 1-dimensional"):
        a.conditional_expected_purchases_at([[1.0]], s)
    with pytest.raises(InputError, match="t must be non-negative"):
        a.conditional_expected_purchases_at([1.0, -1.0], s)


def test_fit_time_unit_rescales_alpha_only(model):
    # Weeks to days: alpha is multiplied by 7, r, a, b unchanged; P(alive) and
    # expectations over the same calendar span unchanged.
    m = model.module
    x, tx, T, *_ = model.simulate(THETA_MC, 30.0, 3000, seed=7)
    weeks = m.fit(x, tx, T)
    days = m.fit(x, tx * 7, T * 7)
    pw, pd = weeks.params, days.params
    assert_allclose([pd.r, pd.a, pd.b], [pw.r, pw.a, pw.b], rtol=1e-5)
    assert_allclose(pd.alpha, 7 * pw.alpha, rtol=1e-5)
    assert_allclose(
        m.probability_alive(pd, x, tx * 7, T * 7), m.probability_alive(pw, x, tx, T), rtol=1e-5
    )
    assert_allclose(
        m.conditional_expected_purchases(pd, 70.0, x, tx * 7, T * 7),
        m.conditional_expected_purchases(pw, 10.0, x, tx, T),
        rtol=1e-5,
    )
    assert_allclose(days.log_likelihood, weeks.log_likelihood - np.log(7) * x.sum(), rtol=1e-9)


def test_fit_initial_and_convergence_error(model):
    m = model.module
    x, tx, T, *_ = model.simulate(THETA_MC, 30.0, 2000, seed=8)
    start = model.params((2.0, 1.0, 3.0, 1.0))
    assert_allclose(
        m.fit(x, tx, T, initial=start).params.as_array(),
        m.fit(x, tx, T).params.as_array(),
        rtol=1e-5,
    )
    # Nobody ever buys again: the purchase process is not identified.
    with pytest.raises(ConvergenceError, match=model.name):
        m.fit([0, 0, 0], [0.0, 0.0, 0.0], [10.0, 20.0, 30.0])


@pytest.mark.slow
def test_parameter_recovery_within_three_standard_errors(model):
    # 50,000 customers drawn by crmcore.simulate with known parameters.
    theta = (0.3, 5.0, 0.8, 2.5)
    rng = np.random.default_rng(11)
    T = rng.uniform(20.0, 52.0, 50_000)
    sim = model.package_simulator(*theta, T=T, rng=12)
    f = model.module.fit(sim.frequency, sim.recency, sim.T)
    z = (f.params.as_array() - np.array(theta)) / f.standard_errors.as_array()
    assert np.all(np.abs(z) < 3), z


@pytest.mark.slow
def test_standard_errors_match_spread_over_repetitions(model):
    theta = (0.3, 5.0, 0.8, 2.5)
    estimates, ses = [], []
    for seed in range(8):
        sim = model.package_simulator(*theta, T=40.0, n_customers=8000, rng=100 + seed)
        f = model.module.fit(sim.frequency, sim.recency, sim.T)
        estimates.append(f.params.as_array())
        ses.append(f.standard_errors.as_array())
    ratio = np.std(estimates, axis=0, ddof=1) / np.mean(ses, axis=0)
    assert np.all((ratio > 0.45) & (ratio < 1.8)), ratio


# --------------------------------------------------------------------------- stability


def test_extreme_inputs_are_finite_without_warnings(model):
    m = model.module
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
                        p = model.params((r, alpha, a, b))
                        ll = m.log_likelihood_per_customer(p, x, tx, T)
                        pa = m.probability_alive(p, x, tx, T)
                        ce = m.conditional_expected_purchases(p, 52.0, x, tx, T)
                        assert np.all(np.isfinite(ll))
                        assert np.all((pa >= 0) & (pa <= 1))
                        assert np.all(np.isfinite(ce) & (ce >= 0))
                        e = m.expected_purchases(p, [0.0, 1e-3, 52.0, 1e4])
                        assert np.all(np.isfinite(e) & (e >= 0))
                        pmf = m.purchase_probability(p, [0, 1, 100, 10_000], 52.0)
                        assert np.all((pmf >= 0) & (pmf <= 1))


@settings(max_examples=40)
@given(
    theta=thetas,
    customer=st.tuples(st.integers(0, 10**6), st.floats(0.0, 1.0), st.floats(0.0, 1e7)),
    t=st.floats(0.0, 1e7),
)
@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_huge_frequency_zero_recency_and_old_customers_are_finite(model, theta, customer, t):
    # Up to a million repeat purchases, recency 0 or anywhere up to T, T up to 1e7
    # time units: every prediction finite, in its range, and no numpy warning.
    x, share, T = customer
    m = model.module
    p = model.params(theta)
    xs = np.array([x, x, 0])
    tx = np.array([0.0, share * T, 0.0]) * (xs > 0)
    big_t = np.array([T, T, T])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ll = m.log_likelihood_per_customer(p, xs, tx, big_t)
        pa = m.probability_alive(p, xs, tx, big_t)
        ce = m.conditional_expected_purchases(p, t, xs, tx, big_t)
        cp = m.conditional_purchase_probability(p, t, xs, tx, big_t)
        e = m.expected_purchases(p, t)
    assert np.all(np.isfinite(ll))
    assert np.all((pa >= 0) & (pa <= 1))
    assert np.all(np.isfinite(ce) & (ce >= 0))
    assert np.all((cp >= 0) & (cp <= pa))
    assert np.isfinite(e)
    assert e >= 0


# --------------------------------------------------------------------------- properties


@given(thetas, histories(), st.floats(0.0, 100.0), st.floats(0, 100))
@settings(max_examples=60)
@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_conditional_expectation_nonnegative_and_monotone_in_t(model, theta, h, t1, dt):
    m = model.module
    p = model.params(theta)
    x, tx, T = h
    e1 = m.conditional_expected_purchases(p, t1, x, tx, T)
    e2 = m.conditional_expected_purchases(p, t1 + dt, x, tx, T)
    assert np.all(e1 >= 0)
    assert np.all(e2 >= e1 * (1 - 1e-9))
    pa = m.probability_alive(p, x, tx, T)
    assert np.all((pa >= 0) & (pa <= 1))


@given(thetas, histories(), st.randoms(use_true_random=False))
@settings(max_examples=40)
@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_log_likelihood_order_invariant_and_additive(model, theta, h, rnd):
    m = model.module
    p = model.params(theta)
    x, tx, T = h
    order = list(range(x.size))
    rnd.shuffle(order)
    total = m.log_likelihood(p, x, tx, T)
    assert_allclose(m.log_likelihood(p, x[order], tx[order], T[order]), total, rtol=1e-10)
    per = m.log_likelihood_per_customer(p, x, tx, T)
    assert_allclose(per.sum(), total, rtol=1e-10, atol=1e-9)


@given(thetas, st.floats(0.0, 500.0))
@settings(max_examples=40)
@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_expected_purchases_monotone_and_bounded_by_pure_nbd(model, theta, t):
    # Dropout can only remove purchases: E[X(t)] <= r t / alpha (no dropout).
    p = model.params(theta)
    r, alpha = p.r, p.alpha
    e = model.module.expected_purchases(p, [t, t + 1.0])
    assert 0 <= e[0] <= e[1] * (1 + 1e-12)
    assert e[0] <= r * t / alpha * (1 + 1e-9) + 1e-300


# --------------------------------------------------------------------------- errors


def test_params_validation(model):
    cls = model.params_cls
    with pytest.raises(InputError, match=r"alpha must be > 0\.0"):
        cls(r=1.0, alpha=0.0, a=1.0, b=1.0)
    with pytest.raises(InputError, match="b must be finite"):
        cls(r=1.0, alpha=1.0, a=1.0, b=float("nan"))
    with pytest.raises(InputTypeError, match="r must be a real number"):
        cls(r="1", alpha=1.0, a=1.0, b=1.0)


def test_input_errors(model):
    m = model.module
    cls = model.params_cls.__name__
    p = model.params((1.0, 1.0, 1.0, 1.0))
    with pytest.raises(InputError, match="recency must not exceed T"):
        m.probability_alive(p, [1], [3.0], [2.0])
    with pytest.raises(InputError, match="frequency must hold whole numbers"):
        m.log_likelihood_per_customer(p, [1.5], [1.0], [2.0])
    with pytest.raises(InputError, match=r"t must be >= 0\.0"):
        m.conditional_expected_purchases(p, -1.0, [1], [1.0], [2.0])
    with pytest.raises(InputError, match="n must be non-negative"):
        m.purchase_probability(p, [-1], 1.0)
    with pytest.raises(InputError, match="t must be non-negative"):
        m.expected_purchases(p, [1.0, -2.0])
    with pytest.raises(InputError, match="n and t must broadcast"):
        m.purchase_probability(p, [1, 2], [1.0, 2.0, 3.0])
    with pytest.raises(InputTypeError, match=f"params must be {cls}"):
        m.probability_alive((1, 1, 1, 1), [1], [1.0], [2.0])
    with pytest.raises(InputTypeError, match="recency and T are required"):
        m.probability_alive(p, [1])
    with pytest.raises(InputError, match="weights must be non-negative"):
        m.fit([1, 2], [1.0, 2.0], [3.0, 3.0], weights=[1.0, -1.0])
    with pytest.raises(InputError, match="at least one customer"):
        m.fit([1, 2], [1.0, 2.0], [3.0, 3.0], weights=[0.0, 0.0])
    with pytest.raises(InputTypeError, match=f"initial must be {cls}"):
        m.fit([1, 2], [1.0, 2.0], [3.0, 3.0], initial=(1, 1, 1, 1))


def test_integers_beyond_the_float_range_raise_input_error(model):
    # float(10**400) overflows; every argument reports it under its own name.
    m = model.module
    big = 10**400
    p = model.params((1.0, 1.0, 1.0, 1.0))
    for name in ("r", "alpha", "a", "b"):
        kw = {"r": 1.0, "alpha": 1.0, "a": 1.0, "b": 1.0, name: big}
        with pytest.raises(
            InputError,
            match=rf"^{name} must (be( a)? finite|fit in a 64-bit)",
        ):
            model.params_cls(**kw)
    with pytest.raises(
        InputError,
        match=r"^t must (be( a)? finite|fit in a 64-bit)",
    ):
        m.expected_purchases(p, big)
    with pytest.raises(
        InputError,
        match=r"^t must (be( a)? finite|fit in a 64-bit)",
    ):
        m.expected_purchases(p, [1.0, big])
    with pytest.raises(
        InputError,
        match=r"^t must (be( a)? finite|fit in a 64-bit)",
    ):
        m.conditional_expected_purchases(p, big, [1], [1.0], [2.0])
    with pytest.raises(
        InputError,
        match=r"^t must (be( a)? finite|fit in a 64-bit)",
    ):
        m.conditional_purchase_probability(p, big, [1], [1.0], [2.0])
    with pytest.raises(
        InputError,
        match=r"^n must (be( a)? finite|fit in a 64-bit)",
    ):
        m.purchase_probability(p, big, 1.0)
    with pytest.raises(
        InputError,
        match=r"^t must (be( a)? finite|fit in a 64-bit)",
    ):
        m.purchase_probability(p, 1, [big])
    with pytest.raises(
        InputError,
        match=r"^frequency must (be( a)? finite|fit in a 64-bit)",
    ):
        m.probability_alive(p, [big], [1.0], [2.0])
    with pytest.raises(
        InputError,
        match=r"^recency must (be( a)? finite|fit in a 64-bit)",
    ):
        m.log_likelihood_per_customer(p, [1], [big], [2.0])
    with pytest.raises(
        InputError,
        match=r"^T must (be( a)? finite|fit in a 64-bit)",
    ):
        m.fit([1], [1.0], [big])
    with pytest.raises(
        InputError,
        match=r"^weights must (be( a)? finite|fit in a 64-bit)",
    ):
        m.log_likelihood(p, [1], [1.0], [2.0], weights=[big])


# ------------------------------------------------------------------------ P(purchase in (T, T+t])


@_cases("purchase_cases")
def test_conditional_purchase_probability_mpmath(model, case):
    theta, x, tx, T, t, expected = case
    got = model.module.conditional_purchase_probability(model.params(theta), t, [x], [tx], [T])
    assert_allclose(got, [expected], rtol=1e-12)
    mp.mp.dps = 30
    r, al = map(mp.mpf, theta[:2])
    ref = _mp_palive(theta, x, tx, T, s=model.shift) * (
        1 - ((al + T) / (al + T + mp.mpf(t))) ** (r + x)
    )
    assert_allclose(float(ref), expected, rtol=1e-14)


def test_conditional_purchase_probability_matches_crmcore_simulate(model):
    # Customers drawn with the true parameters and continued past T for t (the holdout of
    # crmcore.simulate): the share with a holdout purchase, per frequency group, against the
    # mean prediction. Measured (200k customers, t = 1 and 15): |z| <= 1.2 in every group for
    # BG/NBD, <= 1.4 for MBG/NBD.
    m = model.module
    p = model.params(THETA_MC)
    for t, seed in ((1.0, 7), (15.0, 8)):
        sim = model.package_simulator(
            *THETA_MC, T=25.0, n_customers=100_000, duration_holdout=t, rng=seed
        )
        pred = m.conditional_purchase_probability(p, t, sim.frequency, sim.recency, sim.T)
        hit = sim.frequency_holdout > 0
        x = sim.frequency
        for group in (x >= 0, x == 0, x == 1, (x >= 2) & (x < 6), x >= 6):
            k = group.sum()
            share = hit[group].mean()
            assert abs(pred[group].mean() - share) < 4 * np.sqrt(share * (1 - share) / k) + 1e-4


# P(alive) underflows for this customer (162 purchases, all at time 0, observed until 19:
# log-odds of death 163 log(19.237/0.237) ~ 717); P(purchase) once came out as 1.05e-309 > 0.
_UNDERFLOW = (
    (1.0, 0.237, 1.0, 1.0),
    (np.array([0, 162]), np.array([0.0, 0.0]), np.array([0.0, 19.0])),
    1.0,
    0.0,
)


@given(thetas, histories(), st.floats(0.0, 100.0), st.floats(0.0, 100.0))
@example(*_UNDERFLOW)
@settings(max_examples=60)
@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_conditional_purchase_probability_bounds_monotone_and_limit(model, theta, h, t1, dt):
    m = model.module
    p = model.params(theta)
    x, tx, T = h
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        q1 = m.conditional_purchase_probability(p, t1, x, tx, T)
        q2 = m.conditional_purchase_probability(p, t1 + dt, x, tx, T)
        q0 = m.conditional_purchase_probability(p, 0.0, x, tx, T)
    pa = m.probability_alive(p, x, tx, T)
    # exactly, without tolerance: both come from the same log P(alive)
    assert np.all((q1 >= 0) & (q1 <= pa))
    assert np.all(q2 >= q1 * (1 - 1e-12))
    assert np.all(q0 == 0.0)
    # short horizons, no cancellation: with n = r+x, u = t/(α+T),
    # n u - n (n+1) u^2 / 2 <= 1 - (1+u)^-n <= n u
    n, u = p.r + x, 1e-9 / (p.alpha + T)
    tiny = m.conditional_purchase_probability(p, 1e-9, x, tx, T)
    assert np.all(tiny <= pa * n * u * (1 + 1e-12))
    assert np.all(tiny >= pa * (n * u - n * (n + 1) * u**2 / 2) * (1 - 1e-12))


def test_conditional_purchase_probability_summary_fit_and_errors(model):
    m = model.module
    cls = model.params_cls.__name__
    other = (MBG if model is BG else BG).params(THETA_MC)
    p = model.params(THETA_MC)
    s = CustomerSummary.from_arrays([2, 0], [10.0, 0.0], [20.0, 20.0])
    direct = m.conditional_purchase_probability(p, 5.0, [2, 0], [10.0, 0.0], [20.0, 20.0])
    assert_allclose(m.conditional_purchase_probability(p, 5.0, s), direct)
    f = m.fit(*model.simulate(THETA_MC, 30.0, 2000, seed=6)[:3])
    assert_allclose(
        f.conditional_purchase_probability(5.0, s),
        m.conditional_purchase_probability(f.params, 5.0, s),
    )
    with pytest.raises(InputError, match=r"t must be >= 0\.0"):
        m.conditional_purchase_probability(p, -1.0, s)
    with pytest.raises(InputError, match="recency must not exceed T"):
        m.conditional_purchase_probability(p, 1.0, [1], [3.0], [2.0])
    for wrong in (THETA_MC, other):
        with pytest.raises(InputTypeError, match=f"params must be {cls}"):
            m.conditional_purchase_probability(wrong, 1.0, s)
    with pytest.raises(InputTypeError, match="must be left out"):
        m.conditional_purchase_probability(p, 1.0, s, [1.0], [2.0])


def test_ragged_n_raises_input_error_naming_n(model):
    # Fuzz finding: a ragged list of counts leaked numpy's ValueError.
    p = model.params((0.243, 4.414, 0.793, 2.426))
    with pytest.raises(InputError, match="n must be a flat sequence"):
        model.module.purchase_probability(p, [[1, 2], [3]], 39.0)
    with pytest.raises(InputError, match="t must be a flat sequence"):
        model.module.purchase_probability(p, 1, [[1.0, 2.0], [3.0]])
