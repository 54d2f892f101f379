"""Covariates of the Gamma-Gamma spend model (crmcore.models._spend_covariates).

Customer i has the plain model at v_i = v exp(gamma.z_i). References: the plain
model's functions at each customer's GammaGammaParams (tested against the closed
forms of Fader & Hardie 2013 in test_gamma_gamma.py), the closed form of the
simulator's mean spend, central finite differences, and mpmath for extreme values.
"""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given
from mpmath import mp
from numpy.testing import assert_allclose

from crmcore import CustomerSummary
from crmcore.errors import InputError, InputTypeError
from crmcore.models import _spend_covariates as sp
from crmcore.models import gamma_gamma as gg
from crmcore.simulate import gamma_gamma_spend

BASE = (6.0, 4.0, 15.0)
X = np.array([1.0, 2.0, 5.0, 1.0, 3.0])
M = np.array([20.0, 35.0, 12.5, 60.0, 8.0])
Z = np.array([[0.5, 1.0], [-1.0, 0.0], [2.0, 1.0], [0.0, 0.0], [-0.3, 1.0]])
GAMMA = np.array([0.4, -0.7])


def _hand_fit(base=BASE, gamma=GAMMA, names=("z0", "z1")):
    """A fit result at chosen values (the constructor, as the fuzz baseline builds it)."""
    p = gg.GammaGammaParams(p=base[0], q=base[1], v=base[2])
    k = len(gamma)
    return sp.GammaGammaCovariateFit(
        params=p,
        standard_errors=p,
        spend_coefficients=np.asarray(gamma, dtype=float),
        spend_standard_errors=np.full(k, 0.1),
        spend_names=names,
        covariance=np.eye(3 + k),
        log_likelihood=-1.0,
        n_customers=10.0,
        converged=True,
        n_iterations=1,
    )


def _per_customer(base, gamma, z):
    return [
        gg.GammaGammaParams(p=base[0], q=base[1], v=base[2] * np.exp(float(np.dot(gamma, zi))))
        for zi in z
    ]


def test_predictions_are_the_plain_model_at_the_customers_v():
    fit = _hand_fit()
    cond = fit.conditional_expected_spend(X, M, spend_covariates=Z)
    ll = fit.log_likelihood_per_customer(X, M, spend_covariates=Z)
    mean = fit.expected_spend(Z)
    for i, p in enumerate(_per_customer(BASE, GAMMA, Z)):
        assert_allclose(cond[i], gg.conditional_expected_spend(p, X[i], M[i]), rtol=1e-13)
        assert_allclose(ll[i], gg.log_likelihood_per_customer(p, X[i], M[i]), rtol=1e-12)
        assert_allclose(mean[i], gg.expected_spend(p), rtol=1e-13)
    # frequency 0: the customer's population mean p v_i / (q - 1)
    got = fit.conditional_expected_spend([0], [0.0], spend_covariates=[[1.0, 1.0]])
    assert_allclose(got, 6.0 * 15.0 * np.exp(0.4 - 0.7) / 3.0, rtol=1e-13)
    assert fit.log_likelihood_per_customer([0], [0.0], spend_covariates=[[1.0, 1.0]])[0] == 0.0


def test_zero_covariates_are_the_plain_model():
    fit = _hand_fit()
    plain = gg.GammaGammaParams(p=BASE[0], q=BASE[1], v=BASE[2])
    zero = np.zeros((5, 2))
    assert_allclose(
        fit.conditional_expected_spend(X, M, spend_covariates=zero),
        gg.conditional_expected_spend(plain, X, M),
        rtol=1e-14,
    )
    assert_allclose(
        fit.log_likelihood_per_customer(X, M, spend_covariates=zero),
        gg.log_likelihood_per_customer(plain, X, M),
        rtol=1e-13,
    )


def test_fit_equals_the_plain_fit_when_the_covariate_changes_nothing():
    # Two identical groups with covariate 0 and 1: gamma = 0 at the maximum and the base
    # parameters and log-likelihood are the plain fit's on the same rows.
    s = gamma_gamma_spend(*BASE, frequency=np.tile([1, 2, 3, 5, 8], 120), rng=4)
    x = np.concatenate([s.frequency, s.frequency])
    m = np.concatenate([s.monetary_value, s.monetary_value])
    group = np.repeat([0.0, 1.0], s.frequency.size)
    plain = gg.fit(x, m)
    cov = gg.fit(x, m, spend_covariates={"g": group})
    assert isinstance(cov, gg.GammaGammaCovariateFit)
    assert_allclose(cov.params.as_array(), plain.params.as_array(), rtol=1e-4)
    assert_allclose(cov.spend_coefficients, [0.0], atol=1e-5)
    assert_allclose(cov.log_likelihood, plain.log_likelihood, rtol=1e-10)
    assert cov.spend_names == ("g",)
    assert cov.covariance_names == ("log_p", "log_q", "log_v", "spend:g")
    assert cov.covariance.shape == (4, 4)
    assert cov.aic() == pytest.approx(plain.aic() + 2.0, rel=1e-9)


def test_gradient_matches_finite_differences():
    # Reference: central differences of the total log-likelihood, step 1e-6 in u.
    rng = np.random.default_rng(3)
    x = rng.integers(1, 9, size=300).astype(float)
    m = rng.gamma(4.0, 10.0, size=300)
    z = rng.normal(size=(300, 2))
    w = rng.integers(1, 4, size=300).astype(float)
    obj = sp._Objective(x, m, w, z)
    u = np.array([np.log(3.0), np.log(5.0), np.log(40.0), 0.3, -0.2])
    value, g = obj(u)
    # the value is the weighted sum of the per-customer densities at v_i
    per = sp._loglik_terms(3.0, 5.0, np.log(40.0) + z @ u[3:], x, m)
    assert_allclose(value, float(w @ per), rtol=1e-12)
    eye = np.eye(u.size)
    num = np.array([(obj(u + 1e-6 * e)[0] - obj(u - 1e-6 * e)[0]) / 2e-6 for e in eye])
    assert_allclose(g, num, rtol=1e-6, atol=1e-5)


def test_hessian_matches_finite_differences():
    # Reference: central differences of the analytic gradient, step 1e-5 in u.
    rng = np.random.default_rng(4)
    x = rng.integers(1, 9, size=300).astype(float)
    m = rng.gamma(4.0, 10.0, size=300)
    z = rng.normal(size=(300, 2))
    w = rng.integers(1, 4, size=300).astype(float)
    obj = sp._Objective(x, m, w, z)
    u = np.array([np.log(3.0), np.log(5.0), np.log(40.0), 0.3, -0.2])
    eye = np.eye(u.size)
    num = np.array([(obj(u + 1e-5 * e)[1] - obj(u - 1e-5 * e)[1]) / 2e-5 for e in eye])
    assert_allclose(obj.hessian(u), 0.5 * (num + num.T), rtol=1e-6, atol=1e-4)


def test_large_data_newton_path_agrees_with_the_driver(monkeypatch):
    # Above twice _SAMPLE_ROWS rows the fit starts from a sample and finishes with Newton
    # steps; with a small threshold it must give the driver's estimates and covariance.
    gen = np.random.default_rng(21)
    x = gen.integers(1, 8, size=6000)
    z = gen.normal(size=6000)
    s = gamma_gamma_spend(*BASE, frequency=x, rng=22, spend_covariates=z, spend_coefficients=[0.3])
    direct = gg.fit(s.frequency, s.monetary_value, spend_covariates=z)
    monkeypatch.setattr(sp, "_SAMPLE_ROWS", 1000)
    newton = gg.fit(s.frequency, s.monetary_value, spend_covariates=z)
    assert_allclose(newton.params.as_array(), direct.params.as_array(), rtol=1e-5)
    assert_allclose(newton.spend_coefficients, direct.spend_coefficients, rtol=1e-5)
    assert_allclose(newton.covariance, direct.covariance, rtol=1e-3, atol=1e-9)
    assert_allclose(newton.log_likelihood, direct.log_likelihood, rtol=1e-12)


def test_recovers_known_coefficients():
    # 20 000 repeat customers, two covariates with known coefficients: estimates within
    # 4 standard errors of the truth, and those errors small (<0.02).
    gen = np.random.default_rng(11)
    n = 20_000
    x = gen.integers(1, 8, size=n)
    z = np.column_stack([gen.normal(size=n), (gen.random(n) < 0.3).astype(float)])
    s = gamma_gamma_spend(
        *BASE, frequency=x, rng=12, spend_covariates=z, spend_coefficients=[0.4, -0.5]
    )
    fit = gg.fit(s.frequency, s.monetary_value, spend_covariates={"age": z[:, 0], "vip": z[:, 1]})
    assert fit.spend_names == ("age", "vip")
    assert np.all(np.abs(fit.spend_coefficients - [0.4, -0.5]) < 4 * fit.spend_standard_errors)
    assert np.all(fit.spend_standard_errors < 0.02)
    # q (shape across customers) and p v/(q-1) (mean spend at z = 0) near the truth
    assert abs(fit.params.q - 4.0) < 4 * fit.standard_errors.q
    assert_allclose(gg.expected_spend(fit.params), 6.0 * 15.0 / 3.0, rtol=0.05)
    # standard errors of the base parameters are the delta method's from the log scale
    assert_allclose(
        fit.standard_errors.as_array(),
        fit.params.as_array() * np.sqrt(np.diag(fit.covariance)[:3]),
        rtol=1e-10,
    )


@pytest.mark.slow
def test_standard_errors_match_the_spread_of_refits():
    # 60 data sets of 3000 repeat customers with one covariate: the standard deviation of
    # the coefficient across data sets is the standard error the fits report, within the
    # sampling error of a standard deviation from 60 draws (~9%; 30% allowed).
    rng = np.random.default_rng(41)
    est, ses = [], []
    for rep in range(60):
        x = rng.integers(1, 6, size=3000)
        z = rng.normal(size=3000)
        s = gamma_gamma_spend(
            *BASE, frequency=x, rng=200 + rep, spend_covariates=z, spend_coefficients=[0.3]
        )
        fit = gg.fit(s.frequency, s.monetary_value, spend_covariates=z)
        est.append([fit.spend_coefficients[0], np.log(fit.params.q)])
        ses.append([fit.spend_standard_errors[0], np.sqrt(fit.covariance[1, 1])])
    spread = np.std(est, axis=0, ddof=1)
    assert_allclose(spread, np.mean(ses, axis=0), rtol=0.3)
    bias = abs(np.mean(est, axis=0)[0] - 0.3)
    assert bias < 3 * spread[0] / np.sqrt(60) + 0.005, (bias, spread)


def test_simulator_covariates_and_unchanged_draws():
    # E[mean spend | z] = p v exp(gamma z) / (q - 1): the group ratio is e^gamma (e^0.6).
    z = np.repeat([0.0, 1.0], 40_000)
    x = np.full(z.size, 4)
    s = gamma_gamma_spend(*BASE, frequency=x, rng=7, spend_covariates=z, spend_coefficients=[0.6])
    ratio = s.monetary_value[z == 1].mean() / s.monetary_value[z == 0].mean()
    assert_allclose(ratio, np.exp(0.6), rtol=0.03)
    # without covariates (or with zero effect) the draws are those of before
    plain = gamma_gamma_spend(*BASE, frequency=x[:50], rng=8)
    same = gamma_gamma_spend(
        *BASE, frequency=x[:50], rng=8, spend_covariates=np.zeros(50), spend_coefficients=[1.0]
    )
    assert_allclose(same.monetary_value, plain.monetary_value, rtol=1e-15)
    with pytest.raises(InputTypeError, match="spend_coefficients is required"):
        gamma_gamma_spend(*BASE, frequency=x, rng=1, spend_covariates=z)
    with pytest.raises(InputError, match=r"spend_covariates must have one row per customer \(3\)"):
        gamma_gamma_spend(
            *BASE, frequency=[1, 2, 3], rng=1, spend_covariates=z, spend_coefficients=[1.0]
        )


def test_summary_and_weights():
    # A summary's rows without repeat purchase are left out with their covariate rows;
    # integer weights equal repeated rows.
    s = gamma_gamma_spend(*BASE, frequency=np.tile([0, 1, 2, 4], 150), rng=9)
    z = np.linspace(-1.0, 1.0, s.frequency.size)
    big_t = np.full(s.frequency.size, 30.0)
    summary = CustomerSummary.from_arrays(
        s.frequency,
        np.where(s.frequency > 0, 10.0, 0.0),
        big_t,
        monetary_value=s.monetary_value,
    )
    by_summary = gg.fit(summary, spend_covariates=z)
    by_arrays = gg.fit(s.frequency, s.monetary_value, spend_covariates=z)
    assert_allclose(by_summary.spend_coefficients, by_arrays.spend_coefficients, rtol=1e-10)
    w = np.tile([1.0, 2.0, 3.0], 200)
    weighted = gg.fit(s.frequency, s.monetary_value, spend_covariates=z, weights=w)
    rep = np.repeat(np.arange(w.size), w.astype(int))
    repeated = gg.fit(s.frequency[rep], s.monetary_value[rep], spend_covariates=z[rep])
    assert_allclose(weighted.spend_coefficients, repeated.spend_coefficients, rtol=1e-6)
    assert weighted.n_customers == repeated.n_customers


def test_extreme_covariate_effects_are_finite():
    # |gamma.z| = 30 moves v by e^30; the density stays finite and matches mpmath.
    fit = _hand_fit(gamma=[1.0], names=("z",))
    ll = fit.log_likelihood_per_customer(
        [3, 3, 2000], [25.0, 25.0, 25.0], spend_covariates=[[30.0], [-30.0], [30.0]]
    )
    assert np.all(np.isfinite(ll))
    mp.dps = 40
    p, q = mp.mpf(6), mp.mpf(4)
    for i, (x, eta) in enumerate([(3, 30), (3, -30), (2000, 30)]):
        vi = mp.mpf(15) * mp.exp(eta)
        px = p * x
        ref = (
            mp.loggamma(px + q)
            - mp.loggamma(px)
            - mp.loggamma(q)
            + q * mp.log(vi)
            + (px - 1) * mp.log(25)
            + px * mp.log(x)
            - (px + q) * mp.log(vi + x * 25)
        )
        assert_allclose(ll[i], float(ref), rtol=1e-12)
    cond = fit.conditional_expected_spend([3, 3], [25.0, 25.0], spend_covariates=[[30.0], [-30.0]])
    assert np.all(np.isfinite(cond))


def test_errors_name_the_covariates():
    x, m = X, M
    with pytest.raises(InputError, match=r"spend_covariates must have one row per customer \(5"):
        gg.fit(x, m, spend_covariates=np.ones((4, 1)))
    with pytest.raises(InputError, match=r"spend_covariates column 'c' must vary"):
        gg.fit(x, m, spend_covariates={"c": np.ones(5)})
    with pytest.raises(InputError, match=r"spend_covariates must be finite.*row 1, column 0"):
        gg.fit(x, m, spend_covariates=[[0.0], [np.nan], [1.0], [2.0], [3.0]])
    fit = _hand_fit()
    with pytest.raises(InputError, match="spend_covariates is missing: the fit has 2 spend"):
        fit.conditional_expected_spend(x, m)
    with pytest.raises(InputError, match=r"spend_covariates must have 2 columns \(z0, z1\)"):
        fit.conditional_expected_spend(x, m, spend_covariates=np.ones((5, 3)))
    with pytest.raises(InputError, match=r"missing \['z1'\], unknown \['zz'\]"):
        fit.expected_spend({"z0": [1.0], "zz": [2.0]})
    with pytest.raises(InputError, match=r"spend_covariates times the fit's coefficients"):
        fit.log_likelihood_per_customer([1], [2.0], spend_covariates=[[200.0, 0.0]])
    with pytest.raises(InputTypeError, match="monetary_value is required"):
        gg.fit(x, spend_covariates=Z)


@given(
    g=st.floats(-3, 3),
    z=st.floats(-10, 10),
    x=st.integers(0, 3000),
    m=st.floats(1e-3, 1e5),
)
def test_property_a_customer_is_the_plain_model_at_its_v(g, z, x, m):
    fit = _hand_fit(gamma=[g], names=("z",))
    p = _per_customer(BASE, [g], [[z]])[0]
    mm = m if x > 0 else 0.0
    got = fit.conditional_expected_spend([x], [mm], spend_covariates=[[z]])[0]
    assert np.isfinite(got)
    assert_allclose(got, gg.conditional_expected_spend(p, x, mm), rtol=1e-12)
    ll = fit.log_likelihood_per_customer([x], [mm], spend_covariates=[[z]])[0]
    assert_allclose(ll, gg.log_likelihood_per_customer(p, x, mm), rtol=1e-9, atol=1e-9)
