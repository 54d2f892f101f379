"""Cohort covariates of the sBG model (crmcore.models._cohort_covariates).

Cohort g has the plain sBG model at alpha_g = alpha exp(gamma_a.z_g), beta_g =
beta exp(gamma_b.z_g). References: the plain model's functions at each cohort's
SbgParams (tested against Fader & Hardie 2007 in test_sbg.py), the published
estimates of Fader & Hardie (2007) for their two segments, central finite
differences, and draws of crmcore.simulate.sbg_cohort at known parameters.
"""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given
from numpy.testing import assert_allclose

from crmcore.errors import ConvergenceError, InputError
from crmcore.models import _cohort_covariates as cc
from crmcore.models import sbg
from crmcore.simulate import sbg_cohort

HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
Z = np.array([[0.0, 1.0], [1.0, 0.0], [-0.5, 2.0]])
GA = np.array([0.3, -0.2])
GB = np.array([-0.4, 0.5])


def _hand_fit(base=(0.7, 1.2), ga=GA, gb=GB, names=("z0", "z1")):
    p = sbg.SbgParams(alpha=base[0], beta=base[1])
    k = len(ga)
    return cc.SbgCovariateFit(
        params=p,
        standard_errors=p,
        alpha_coefficients=np.asarray(ga, dtype=float),
        alpha_standard_errors=np.full(k, 0.1),
        beta_coefficients=np.asarray(gb, dtype=float),
        beta_standard_errors=np.full(k, 0.1),
        covariate_names=names,
        covariance=np.eye(2 + 2 * k),
        log_likelihood=-1.0,
        n_customers=10.0,
        converged=True,
        n_iterations=1,
    )


def _by_hand(base, ga, gb, z):
    return [
        sbg.SbgParams(
            alpha=base[0] * np.exp(float(np.dot(ga, zi))),
            beta=base[1] * np.exp(float(np.dot(gb, zi))),
        )
        for zi in z
    ]


def test_predictions_are_the_plain_model_at_each_cohorts_parameters():
    fit = _hand_fit()
    t = np.array([0, 1, 5, 12])
    surv = fit.survival(t, Z)
    ret = fit.implied_retention_rate(t[1:], Z)
    life = fit.expected_lifetime(Z)
    assert surv.shape == (3, 4)
    assert ret.shape == (3, 3)
    for g, p in enumerate(_by_hand((0.7, 1.2), GA, GB, Z)):
        got = fit.cohort_params(Z)[g]
        assert_allclose([got.alpha, got.beta], [p.alpha, p.beta], rtol=1e-14)
        assert_allclose(surv[g], sbg.survival(p, t), rtol=1e-13)
        assert_allclose(ret[g], sbg.implied_retention_rate(p, t[1:]), rtol=1e-13)
        assert_allclose(life[g], sbg.expected_lifetime(p), rtol=1e-13)
    assert fit.survival(3, Z).shape == (3,)


def test_zero_covariates_are_the_plain_model():
    fit = _hand_fit()
    plain = sbg.SbgParams(alpha=0.7, beta=1.2)
    t = np.array([1, 4, 30])
    got = fit.survival(t, np.zeros((2, 2)))
    assert_allclose(got, np.stack([sbg.survival(plain, t)] * 2), rtol=1e-15)


def test_saturated_fit_of_two_segments_is_the_papers_two_fits():
    # One 0/1 covariate for two cohorts: each cohort gets its own (alpha, beta), the
    # estimates of Fader & Hardie (2007), high end 0.668 / 3.806, regular 0.704 / 1.182.
    fit = sbg.fit([HIGH_END, REGULAR], cohort_covariates={"regular": [0.0, 1.0]})
    assert isinstance(fit, sbg.SbgCovariateFit)
    per = fit.cohort_params({"regular": [0.0, 1.0]})
    assert_allclose([per[0].alpha, per[0].beta], [0.668, 3.806], atol=6e-4)
    assert_allclose([per[1].alpha, per[1].beta], [0.704, 1.182], atol=6e-4)
    separate = sbg.fit(HIGH_END).log_likelihood + sbg.fit(REGULAR).log_likelihood
    assert_allclose(fit.log_likelihood, separate, rtol=1e-9)
    assert fit.covariance_names == ("log_alpha", "log_beta", "alpha:regular", "beta:regular")
    assert fit.covariance.shape == (4, 4)
    assert fit.n_customers == 2000.0


def test_fit_equals_the_plain_fit_of_the_pooled_cohorts_when_the_covariate_changes_nothing():
    # Four cohorts, pairs of identical survivor series with covariate 0 and 1: gamma = 0 at
    # the maximum and the base parameters are the plain fit of the pooled (summed) cohorts.
    a = [1000, 820, 700, 615, 552, 505, 468]
    b = [500, 380, 301, 250, 214, 187, 166]
    fit = sbg.fit(np.array([a, b, a, b], dtype=float), cohort_covariates=[0.0, 0.0, 1.0, 1.0])
    pooled = sbg.fit(2 * (np.array(a, dtype=float) + np.array(b, dtype=float)))
    assert_allclose(fit.params.as_array(), pooled.params.as_array(), rtol=1e-4)
    assert_allclose(fit.alpha_coefficients, [0.0], atol=1e-5)
    assert_allclose(fit.beta_coefficients, [0.0], atol=1e-5)
    assert_allclose(fit.log_likelihood, pooled.log_likelihood, rtol=1e-10)
    assert fit.covariate_names == ("z0",)


def test_cohorts_of_different_lengths():
    # Lengths may differ (as in bdw.fit); the total is the sum of the plain log-likelihoods.
    fit = sbg.fit([HIGH_END, REGULAR[:5], HIGH_END[:4]], cohort_covariates=[0.0, 1.0, 0.5])
    per = fit.cohort_params([0.0, 1.0, 0.5])
    total = sum(
        sbg.log_likelihood(p, c)
        for p, c in zip(per, [HIGH_END, REGULAR[:5], HIGH_END[:4]], strict=True)
    )
    assert_allclose(fit.log_likelihood, total, rtol=1e-10)


def test_gradient_matches_finite_differences():
    # Reference: central differences of the total log-likelihood, step 1e-6 in u.
    cohorts = [np.array(c, dtype=float) for c in (HIGH_END, REGULAR, REGULAR[:4])]
    obj = cc._Objective(cohorts, Z)
    u = np.array([np.log(0.8), np.log(2.0), 0.2, -0.1, 0.3, 0.4])
    value, g = obj(u)
    per = _by_hand((0.8, 2.0), u[2:4], u[4:6], Z)
    assert_allclose(
        value, sum(sbg.log_likelihood(p, c) for p, c in zip(per, cohorts, strict=True)), rtol=1e-12
    )
    eye = np.eye(u.size)
    num = np.array([(obj(u + 1e-6 * e)[0] - obj(u - 1e-6 * e)[0]) / 2e-6 for e in eye])
    assert_allclose(g, num, rtol=1e-6, atol=1e-4)


def test_recovers_known_coefficients_from_simulated_cohorts():
    # Nine cohorts of 20 000 customers over 12 periods with alpha_g, beta_g from known
    # coefficients; the estimates lie within 4 standard errors of the truth.
    z = np.linspace(-1.0, 1.0, 9)
    ga, gb = 0.5, -0.3
    cohorts = [
        sbg_cohort(
            0.8 * np.exp(ga * zg), 2.5 * np.exp(gb * zg), n_customers=20_000, n_periods=12, rng=i
        ).alive
        for i, zg in enumerate(z)
    ]
    fit = sbg.fit(cohorts, cohort_covariates={"price": z})
    est = np.concatenate(
        [np.log(fit.params.as_array()), fit.alpha_coefficients, fit.beta_coefficients]
    )
    truth = np.array([np.log(0.8), np.log(2.5), ga, gb])
    se = np.sqrt(np.diag(fit.covariance))
    assert np.all(np.abs(est - truth) < 4 * se), (est, truth, se)
    assert_allclose(fit.alpha_standard_errors, se[2:3], rtol=1e-12)
    assert np.all(se < 0.15)


@pytest.mark.slow
def test_standard_errors_match_the_spread_of_refits():
    # 50 sets of six cohorts of 5000 customers over 10 periods with one covariate: the
    # spread of the coefficients across sets is the reported standard error, within the
    # sampling error of a standard deviation from 50 draws (~10%; 30% allowed).
    z = np.linspace(-1.0, 1.0, 6)
    est, ses = [], []
    for rep in range(50):
        cohorts = [
            sbg_cohort(
                0.8 * np.exp(0.5 * zg),
                2.5 * np.exp(-0.3 * zg),
                n_customers=5000,
                n_periods=10,
                rng=1000 * rep + i,
            ).alive
            for i, zg in enumerate(z)
        ]
        fit = sbg.fit(cohorts, cohort_covariates=z)
        est.append([fit.alpha_coefficients[0], fit.beta_coefficients[0]])
        ses.append([fit.alpha_standard_errors[0], fit.beta_standard_errors[0]])
    spread = np.std(est, axis=0, ddof=1)
    assert_allclose(spread, np.mean(ses, axis=0), rtol=0.3)


def test_errors():
    with pytest.raises(InputError, match="alive must hold several cohorts"):
        sbg.fit(HIGH_END, cohort_covariates=[1.0])
    with pytest.raises(InputError, match=r"cohort_covariates must have one row per cohort \(2"):
        sbg.fit([HIGH_END, REGULAR], cohort_covariates=[0.0, 1.0, 2.0])
    with pytest.raises(
        InputError, match=r"cohort_covariates\['a'\] must have one value per cohort"
    ):
        sbg.fit([HIGH_END, REGULAR], cohort_covariates={"a": [0.0]})
    with pytest.raises(InputError, match=r"cohort_covariates column 'z0' must vary across"):
        sbg.fit([HIGH_END, REGULAR], cohort_covariates=[1.0, 1.0])
    with pytest.raises(InputError, match=r"cohort_covariates must be finite.*row 1, column 0"):
        sbg.fit([HIGH_END, REGULAR], cohort_covariates=[[0.0], [np.nan]])
    with pytest.raises(InputError, match=r"alive\[1\] must not increase"):
        sbg.fit([HIGH_END, [10, 11]], cohort_covariates=[0.0, 1.0])
    with pytest.raises(ConvergenceError, match="nobody churned in any cohort"):
        sbg.fit([[10, 10, 10], [5, 5, 5]], cohort_covariates=[0.0, 1.0])
    fit = _hand_fit()
    with pytest.raises(InputError, match="cohort_covariates is missing: the fit has 2 cohort"):
        fit.survival(3)
    with pytest.raises(InputError, match=r"cohort_covariates must have 2 columns \(z0, z1\)"):
        fit.survival(3, np.ones((2, 3)))
    with pytest.raises(InputError, match=r"missing \['z1'\], unknown \['q'\]"):
        fit.expected_lifetime({"z0": [1.0], "q": [2.0]})
    with pytest.raises(InputError, match=r"cohort_covariates times the fit's coefficients"):
        fit.survival(3, [[400.0, 0.0]])
    with pytest.raises(InputError, match="t must"):
        fit.survival(-1, Z)


@given(
    ga=st.floats(-3, 3),
    gb=st.floats(-3, 3),
    z=st.floats(-10, 10),
    t=st.integers(0, 10_000),
)
def test_property_a_cohort_is_the_plain_model_at_its_parameters(ga, gb, z, t):
    fit = _hand_fit(ga=[ga], gb=[gb], names=("z",))
    p = _by_hand((0.7, 1.2), [ga], [gb], [[z]])[0]
    got = fit.survival(t, [[z]])[0]
    assert 0.0 <= got <= 1.0
    assert_allclose(got, sbg.survival(p, t), rtol=1e-12, atol=1e-300)
