"""Tests of the Gamma-Gamma spend model (crmcore.models.gamma_gamma).

Reference values: the density of a customer's mean spend and the posterior
mean spend obtained by integrating over nu numerically with mpmath (an
independent route to the closed forms of Fader & Hardie 2013), Monte Carlo
draws with numpy, and parameter recovery on data from crmcore.simulate.
"""

from __future__ import annotations

import warnings

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from crmcore.errors import ConvergenceError, CrmError, InputError, InputTypeError
from crmcore.models import gamma_gamma as gg
from crmcore.models.gamma_gamma import GammaGammaFit, GammaGammaParams
from crmcore.simulate import gamma_gamma_spend
from crmcore.summary import CustomerSummary

# --------------------------------------------------------------------------- mpmath references
# Given nu, the mean m of x transactions z ~ Gamma(p, rate nu) is Gamma(p x, rate x nu);
# nu ~ Gamma(q, rate v). The marginal density of m and the posterior mean of the
# customer's mean spend p / nu are integrals over nu, done here by quadrature:
#   f(m | x) = ∫ Gamma(m; px, x nu) Gamma(nu; q, v) dnu
#   E[p/nu | x, m] = ∫ (p/nu) Gamma(m; px, x nu) Gamma(nu; q, v) dnu / f(m | x)


def _mp_gamma_pdf(y, shape, rate):
    return rate**shape * y ** (shape - 1) * mp.exp(-rate * y) / mp.gamma(shape)


def _mp_integrand(theta, x, m, weight):
    p, q, v = map(mp.mpf, theta)
    x, m = mp.mpf(x), mp.mpf(m)

    def f(nu):
        return weight(p, nu) * _mp_gamma_pdf(m, p * x, x * nu) * _mp_gamma_pdf(nu, q, v)

    # the posterior of nu is Gamma(px+q, v+xm): split the range around its mode
    mode = max(p * x + q - 1, mp.mpf("0.5")) / (v + x * m)
    return mp.quad(f, [0, mode / 4, mode, 4 * mode, 40 * mode, mp.inf])


def _mp_log_density(theta, x, m):
    return mp.log(_mp_integrand(theta, x, m, lambda p, nu: 1))


def _mp_posterior_spend(theta, x, m):
    num = _mp_integrand(theta, x, m, lambda p, nu: p / nu)
    return num / _mp_integrand(theta, x, m, lambda p, nu: 1)


# (params (p, q, v), x, m, log f(m | x)) from _mp_log_density at mp.dps = 30
DENSITY_CASES = [
    ((6.25, 3.74, 15.44), 1, 20.0, -3.5941964929491958),
    ((6.25, 3.74, 15.44), 4, 35.0, -4.0473487973345823),
    ((6.25, 3.74, 15.44), 30, 12.5, -4.0459030793609802),
    ((0.5, 0.8, 2.0), 2, 0.01, -0.24105414684991225),
    ((2.0, 10.0, 500.0), 7, 60.0, -4.9169814665909702),
    ((20.0, 1.5, 0.1), 1, 3.0, -2.2725656407447346),
]
# (params, x, m, E[p/nu | x, m]) from _mp_posterior_spend at mp.dps = 30
POSTERIOR_CASES = [
    ((6.25, 3.74, 15.44), 1, 20.0, 24.638487208008898),
    ((6.25, 3.74, 15.44), 10, 20.0, 20.639178418148375),
    ((6.25, 3.74, 15.44), 2, 50.0, 47.342519685039369),
    ((0.5, 0.8, 2.0), 2, 0.01, 1.2624999999999999),
    ((2.0, 10.0, 500.0), 7, 60.0, 80.0),
    ((20.0, 1.5, 0.1), 1, 3.0, 3.024390243902439),
]


def _params(theta):
    p, q, v = theta
    return GammaGammaParams(p=p, q=q, v=v)


@pytest.mark.parametrize("case", DENSITY_CASES)
def test_log_density_matches_numerical_integration(case):
    theta, x, m, expected = case
    got = gg.log_likelihood_per_customer(_params(theta), [x], [m])
    assert_allclose(got, [expected], rtol=1e-12)


@pytest.mark.parametrize("case", POSTERIOR_CASES)
def test_conditional_expected_spend_matches_numerical_integration(case):
    theta, x, m, expected = case
    got = gg.conditional_expected_spend(_params(theta), [x], [m])
    assert_allclose(got, [expected], rtol=1e-12)


def test_tables_agree_with_mpmath_integration():
    with mp.workdps(30):
        theta, x, m, expected = DENSITY_CASES[1]
        assert_allclose(float(_mp_log_density(theta, x, m)), expected, rtol=1e-13)
        theta, x, m, expected = POSTERIOR_CASES[4]
        assert_allclose(float(_mp_posterior_spend(theta, x, m)), expected, rtol=1e-13)


def test_expected_spend_closed_form_and_infinite_mean():
    # E[p/nu] with nu ~ Gamma(q, v): p v / (q - 1) for q > 1, infinite otherwise.
    assert_allclose(gg.expected_spend(_params((6.25, 3.74, 15.44))), 6.25 * 15.44 / 2.74)
    assert gg.expected_spend(_params((2.0, 1.0, 3.0))) == np.inf
    assert gg.expected_spend(_params((2.0, 0.5, 3.0))) == np.inf
    # customers without repeat purchase get the population mean
    p = _params((6.25, 3.74, 15.44))
    assert_allclose(gg.conditional_expected_spend(p, [0], [0.0]), [gg.expected_spend(p)])
    # posterior mean infinite when p x + q <= 1
    q = _params((0.2, 0.5, 3.0))
    assert_allclose(gg.conditional_expected_spend(q, [1, 3], [5.0, 5.0]), [np.inf, 0.2 * 18 / 0.1])


# --------------------------------------------------------------------------- Monte Carlo


def _draw(theta, x, seed):
    p, q, v = theta
    rng = np.random.default_rng(seed)
    nu = rng.gamma(q, 1.0 / v, x.size)
    m = rng.gamma(p * x, 1.0 / (x * nu))
    return m, p / nu


def test_posterior_mean_matches_monte_carlo_by_spend_band():
    # E[p/nu | customers in a band of (x, m)] = mean prediction over the band.
    theta = (4.0, 3.0, 20.0)
    rng = np.random.default_rng(1)
    x = rng.integers(1, 8, 200_000)
    m, true_mean = _draw(theta, x, 2)
    pred = gg.conditional_expected_spend(_params(theta), x, m)
    edges = np.quantile(m, [0, 0.2, 0.4, 0.6, 0.8, 1.0])
    band = np.clip(np.searchsorted(edges, m, side="right") - 1, 0, 4)
    for k in range(5):
        sel = band == k
        se = true_mean[sel].std() / np.sqrt(sel.sum())
        assert abs(pred[sel].mean() - true_mean[sel].mean()) < 4 * se


# --------------------------------------------------------------------------- fitting


def test_fit_weights_equal_exploded_rows():
    theta = (4.0, 3.0, 20.0)
    rng = np.random.default_rng(3)
    x = rng.integers(1, 6, 300)
    m, _ = _draw(theta, x, 4)
    w = rng.integers(1, 4, x.size)
    weighted = gg.fit(x, m, weights=w)
    exploded = gg.fit(np.repeat(x, w), np.repeat(m, w))
    assert_allclose(weighted.params.as_array(), exploded.params.as_array(), rtol=1e-6)
    assert_allclose(weighted.log_likelihood, exploded.log_likelihood, rtol=1e-10)
    assert_allclose(
        weighted.standard_errors.as_array(), exploded.standard_errors.as_array(), rtol=1e-4
    )
    assert weighted.n_customers == w.sum()


def test_fit_skips_non_repeat_customers_and_accepts_summary():
    theta = (4.0, 3.0, 20.0)
    rng = np.random.default_rng(5)
    x = rng.integers(0, 6, 2000)
    m, _ = _draw(theta, np.maximum(x, 1), 6)
    m = np.where(x > 0, m, 0.0)
    s = CustomerSummary.from_arrays(x, np.zeros(x.size), np.ones(x.size), monetary_value=m)
    a = gg.fit(s)
    b = gg.fit(x[x > 0], m[x > 0])
    assert isinstance(a, GammaGammaFit)
    assert_allclose(a.params.as_array(), b.params.as_array(), rtol=1e-9)
    assert a.n_customers == (x > 0).sum()
    assert a.converged
    assert a.n_iterations > 0
    assert_allclose(np.sqrt(np.diag(a.covariance)), a.standard_errors.as_array())
    assert_allclose(a.expected_spend(), gg.expected_spend(a.params))
    assert_allclose(a.conditional_expected_spend(s), gg.conditional_expected_spend(a.params, x, m))
    assert_allclose(
        a.log_likelihood_per_customer(x, m).sum(), gg.log_likelihood(a.params, s), rtol=1e-12
    )
    assert_allclose(a.log_likelihood, gg.log_likelihood(a.params, x, m), rtol=1e-12)


def test_currency_unit_rescales_v_only():
    # Spend in cents: v is multiplied by 100, p and q unchanged; each density
    # of the mean is divided by 100.
    theta = (4.0, 3.0, 20.0)
    rng = np.random.default_rng(7)
    x = rng.integers(1, 6, 3000)
    m, _ = _draw(theta, x, 8)
    euros = gg.fit(x, m)
    cents = gg.fit(x, m * 100)
    assert_allclose(cents.params.p, euros.params.p, rtol=1e-5)
    assert_allclose(cents.params.q, euros.params.q, rtol=1e-5)
    assert_allclose(cents.params.v, 100 * euros.params.v, rtol=1e-5)
    assert_allclose(cents.log_likelihood, euros.log_likelihood - x.size * np.log(100), rtol=1e-9)


@pytest.mark.slow
def test_parameter_recovery_with_crmcore_simulate():
    theta = (6.25, 3.74, 15.44)
    rng = np.random.default_rng(9)
    freq = rng.integers(1, 10, 50_000)
    sim = gamma_gamma_spend(*theta, frequency=freq, rng=10)
    f = gg.fit(sim.frequency, sim.monetary_value)
    z = (f.params.as_array() - np.array(theta)) / f.standard_errors.as_array()
    assert np.all(np.abs(z) < 3), z


@pytest.mark.slow
def test_standard_errors_match_spread_over_repetitions():
    theta = (6.25, 3.74, 15.44)
    freq = np.random.default_rng(11).integers(1, 10, 5000)
    estimates, ses = [], []
    for seed in range(8):
        sim = gamma_gamma_spend(*theta, frequency=freq, rng=200 + seed)
        f = gg.fit(sim.frequency, sim.monetary_value)
        estimates.append(f.params.as_array())
        ses.append(f.standard_errors.as_array())
    ratio = np.std(estimates, axis=0, ddof=1) / np.mean(ses, axis=0)
    assert np.all((ratio > 0.45) & (ratio < 1.8)), ratio


# --------------------------------------------------------------------------- stability


def test_extreme_inputs_are_finite_without_warnings():
    grid = [1e-4, 1e-2, 1.0, 1e2, 1e4]
    x = np.array([1, 1, 10_000, 10_000, 7])
    m = np.array([1e-6, 1e6, 1e-6, 1e6, 30.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for p in grid:
            for q in grid:
                for v in grid:
                    params = GammaGammaParams(p=p, q=q, v=v)
                    ll = gg.log_likelihood_per_customer(params, x, m)
                    assert np.all(np.isfinite(ll))
                    ce = gg.conditional_expected_spend(params, x, m)
                    assert np.all(ce > 0)
                    assert np.all(np.isfinite(ce) | (p * x + q <= 1))


# --------------------------------------------------------------------------- properties

positive = st.floats(-2.0, 2.0).map(lambda e: float(10.0**e))
params_st = st.builds(GammaGammaParams, p=positive, q=positive, v=positive)
spends = st.lists(st.tuples(st.integers(1, 500), st.floats(0.01, 1e4)), min_size=1, max_size=8).map(
    lambda rows: (np.array([r[0] for r in rows]), np.array([r[1] for r in rows]))
)


@given(params_st, spends)
@settings(max_examples=60)
def test_posterior_mean_lies_between_prior_mean_and_own_mean(params, data):
    x, m = data
    ce = gg.conditional_expected_spend(params, x, m)
    if params.q > 1:
        prior = gg.expected_spend(params)
        lo, hi = np.minimum(prior, m), np.maximum(prior, m)
        assert np.all(ce >= lo * (1 - 1e-12))
        assert np.all(ce <= hi * (1 + 1e-12))
    # more spend, more expected spend
    ce2 = gg.conditional_expected_spend(params, x, m * 1.5)
    finite = np.isfinite(ce)
    assert np.all(ce2[finite] > ce[finite])


@given(params_st, spends, st.randoms(use_true_random=False))
@settings(max_examples=40)
def test_log_likelihood_order_invariant_and_additive(params, data, rnd):
    x, m = data
    order = list(range(x.size))
    rnd.shuffle(order)
    total = gg.log_likelihood(params, x, m)
    assert_allclose(gg.log_likelihood(params, x[order], m[order]), total, rtol=1e-10)
    per = gg.log_likelihood_per_customer(params, x, m)
    assert_allclose(per.sum(), total, rtol=1e-10, atol=1e-9)


# --------------------------------------------------------------------------- errors


def test_errors():
    p = GammaGammaParams(p=1.0, q=2.0, v=3.0)
    with pytest.raises(InputError, match="monetary_value must be positive where frequency > 0"):
        gg.fit([1, 2], [3.0, 0.0])
    with pytest.raises(InputError, match="at least one repeat customer"):
        gg.fit([0, 0], [0.0, 0.0])
    with pytest.raises(InputError, match="monetary_value must have the same length"):
        gg.conditional_expected_spend(p, [1, 2], [3.0])
    with pytest.raises(InputError, match="frequency must be non-negative"):
        gg.log_likelihood(p, [-1], [3.0])
    with pytest.raises(InputError, match="weights must be non-negative"):
        gg.fit([1, 2], [3.0, 4.0], weights=[1.0, -2.0])
    with pytest.raises(InputTypeError, match="params must be GammaGammaParams"):
        gg.expected_spend((1.0, 2.0, 3.0))
    with pytest.raises(InputTypeError, match="initial must be GammaGammaParams"):
        gg.fit([1, 2], [3.0, 4.0], initial=(1.0, 2.0, 3.0))
    with pytest.raises(InputTypeError, match="monetary_value is required"):
        gg.conditional_expected_spend(p, [1, 2])
    with pytest.raises(InputError, match=r"v must be > 0\.0"):
        GammaGammaParams(p=1.0, q=1.0, v=-1.0)


def test_convergence_messages_give_spend_advice_not_a_time_unit(monkeypatch):
    # Identical mean spends: the transaction values show no variation at all, so p runs to
    # infinity (the gamma density of one transaction's value concentrates on its mean).
    with pytest.raises(ConvergenceError, match=r"p runs to infinity.*spend") as err:
        gg.fit([1, 2, 3, 4], [10.0, 10.0, 10.0, 10.0])
    assert "time unit" not in str(err.value)
    assert " T " not in str(err.value)
    # The advice for a failed search is the model's own (the model has no time axis).
    seen = {}
    real = gg.maximize_likelihood

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(gg, "maximize_likelihood", spy)
    gg.fit([1, 2, 2, 3, 5, 8], [12.0, 30.0, 25.0, 18.5, 40.0, 22.0])
    assert "time unit" not in seen["hint"]
    assert "currency unit" in seen["hint"]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: GammaGammaParams(p=10**400, q=1.0, v=1.0),
            r"p must (be( a)? finite|fit in a 64-bit)",
        ),
        (
            lambda: gg.fit([10**400, 1], [10.0, 12.0]),
            r"frequency must (be( a)? finite|fit in a 64-bit)",
        ),
        (
            lambda: gg.fit([1, 2], [10**400, 12.0]),
            r"monetary_value must (be( a)? finite|fit in a 64-bit)",
        ),
        (
            lambda: gg.fit([1, 2], [10.0, 12.0], weights=[10**400, 1]),
            r"weights must (be( a)? finite|fit in a 64-bit)",
        ),
    ],
)
def test_integers_beyond_the_float_range_raise_input_error(call, match):
    # Python ints beyond 1.8e308 used to escape as a bare OverflowError.
    with pytest.raises(InputError, match=match):
        call()


def test_extreme_parameters_and_customers_are_finite_without_warnings():
    # Frequencies up to 1e6, mean spends from 1e-300 to 1e300, parameters 1e-8 .. 1e8.
    x = np.array([1, 1_000_000, 1_000_000, 3])
    m = np.array([1e-300, 1e300, 5.0, 1e-8])
    for p in (1e-8, 1.0, 1e8):
        for q in (1e-8, 1.0, 1e8):
            for v in (1e-8, 1.0, 1e8):
                params = GammaGammaParams(p=p, q=q, v=v)
                ll = gg.log_likelihood_per_customer(params, x, m)
                assert np.all(np.isfinite(ll)), (p, q, v)
                ce = gg.conditional_expected_spend(params, x, m)
                # infinite exactly where the posterior mean diverges (p x + q <= 1)
                assert np.array_equal(np.isinf(ce), p * x + q <= 1), (p, q, v)
    # p (v + x m) overflows although the posterior mean p (v + x m)/(p x + q - 1) is
    # 1e8 (1 + 1e306) / 1e14 = 1e300 (closed form).
    big = gg.conditional_expected_spend(GammaGammaParams(p=1e8, q=1.0, v=1.0), [10**6], [1e300])
    assert_allclose(big, [1e300], rtol=1e-12)


def test_huge_weight_gives_no_runtime_warning():
    # Fuzz finding: weights=[1e300, ...] overflowed inside the objective while the search
    # probed extreme parameters (RuntimeWarning: overflow in matmul). The MLE depends on
    # the weights only through their ratios, so the fit either succeeds or raises a
    # crmcore error; never a numpy warning (pytest turns warnings into errors).
    x = [1, 2, 3, 4, 5, 2, 1]
    m = [10.0, 20.0, 15.0, 12.0, 30.0, 22.0, 9.0]
    try:
        f = gg.fit(x, m, weights=[1e300] + [1] * 6)
    except CrmError:
        return
    assert np.isfinite([f.params.p, f.params.q, f.params.v]).all()
