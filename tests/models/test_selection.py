"""Tests of the information criteria of every fit and of crmcore.models.selection.

Reference values are computed here by hand from each fit's log-likelihood, its
number of parameters (counted from the model's definition) and its number of
customers (counted from the data), and the chi-square(1) tail in closed form,
``P(chi2_1 >= x) = erfc(sqrt(x / 2))``; the calibration of the
likelihood-ratio test is checked on sBG cohorts drawn by an independent numpy
simulator.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from crmcore import simulate as sim
from crmcore.errors import InputError, InputTypeError
from crmcore.models import bdw, bgbb, bgnbd, gamma_gamma, mbgnbd, pareto_nbd, sbg, selection
from crmcore.models.bdw import BdwParams
from crmcore.models.selection import LikelihoodRatioTest

HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]  # Fader & Hardie (2007)
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]


def _fits():
    """(fit, number of parameters, number of customers as counted from the data)."""
    h = sim.bgnbd_histories(0.5, 4.0, 0.6, 2.5, T=39.0, n_customers=60, rng=3)
    w = np.where(np.arange(60) % 2 == 0, 1.0, 2.0)  # 30 customers of weight 1, 30 of 2: 90
    d = sim.bgbb_histories(1.2, 0.75, 0.66, 2.8, n_periods=6, n_customers=60, rng=3)
    n = np.full(d.frequency.shape, d.n_periods)
    freq = np.arange(60) % 5  # 12 customers without repeat purchases
    spend = sim.gamma_gamma_spend(6.25, 3.74, 15.44, frequency=np.maximum(freq, 1), rng=3)
    return [
        (bgnbd.fit(h.frequency, h.recency, h.T, weights=w), 4, 90.0),
        (mbgnbd.fit(h.frequency, h.recency, h.T, weights=w), 4, 90.0),
        (pareto_nbd.fit(h.frequency, h.recency, h.T, weights=w), 4, 90.0),
        (bgbb.fit(d.frequency, d.recency, n), 4, 60.0),
        # only the 48 repeat customers enter the Gamma-Gamma likelihood
        (gamma_gamma.fit(freq, np.where(freq > 0, spend.monetary_value, 0.0)), 3, 48.0),
        (sbg.fit(REGULAR), 2, 1000.0),
        (bdw.fit([REGULAR, HIGH_END[:5]]), 3, 2000.0),
    ]


@pytest.fixture(scope="module")
def fits():
    return _fits()


def test_aic_and_bic_by_hand_for_every_model(fits):
    for f, k, n in fits:
        assert f.n_customers == n, type(f).__name__
        ll = f.log_likelihood
        assert_allclose(f.aic(), -2 * ll + 2 * k, rtol=1e-15, err_msg=type(f).__name__)
        assert_allclose(f.bic(), -2 * ll + k * math.log(n), rtol=1e-15, err_msg=type(f).__name__)
        assert isinstance(f.aic(), float)
        assert isinstance(f.bic(), float)


def test_likelihood_ratio_test_by_hand():
    for alive in (HIGH_END, REGULAR, HIGH_END[:5]):
        restricted, full = sbg.fit(alive), bdw.fit(alive)
        test = selection.likelihood_ratio_test(restricted, full)
        assert isinstance(test, LikelihoodRatioTest)
        statistic = 2 * (full.log_likelihood - restricted.log_likelihood)
        assert_allclose(test.statistic, statistic, rtol=1e-15)
        assert test.df == 1
        assert_allclose(test.p_value, math.erfc(math.sqrt(statistic / 2)), rtol=1e-12)
        assert "c = 1" in test.nesting


def test_likelihood_ratio_test_on_the_published_cohorts():
    # Regular segment: c is not significantly different from 1 (p = 0.25); high end,
    # 7 years: the BdW model fits significantly better (statistic 11.7).
    reg = selection.likelihood_ratio_test(sbg.fit(REGULAR), bdw.fit(REGULAR))
    high = selection.likelihood_ratio_test(sbg.fit(HIGH_END), bdw.fit(HIGH_END))
    assert reg.p_value > 0.05
    assert high.p_value < 0.001


def test_a_full_fit_at_the_restricted_maximum_gives_zero():
    # Data from an exact sBG survival curve: the BdW maximum is at c = 1 and the same
    # (alpha, beta); the two log-likelihoods agree up to the optimiser's tolerance and
    # the statistic is reported as >= 0.
    p = sbg.SbgParams(alpha=1.5, beta=4.0)
    alive = 1e6 * sbg.survival(p, np.arange(9))
    test = selection.likelihood_ratio_test(sbg.fit(alive), bdw.fit(alive))
    assert 0.0 <= test.statistic < 1e-5
    assert test.p_value > 0.99


def test_errors(fits):
    restricted, full = sbg.fit(REGULAR), bdw.fit(REGULAR)
    with pytest.raises(InputError, match=r"restricted \(BdwFit\) and full \(SbgFit\) are not"):
        selection.likelihood_ratio_test(full, restricted)
    with pytest.raises(InputError, match="not nested"):
        selection.likelihood_ratio_test(fits[0][0], fits[1][0])  # BG/NBD vs MBG/NBD
    with pytest.raises(InputError, match="not nested"):
        selection.likelihood_ratio_test(restricted, restricted)
    with pytest.raises(InputError, match=r"n_customers differ: restricted 1000\.0, full 2000\.0"):
        selection.likelihood_ratio_test(restricted, bdw.fit([REGULAR, REGULAR]))
    with pytest.raises(InputTypeError, match="full must be a model fit result"):
        selection.likelihood_ratio_test(restricted, -1680.0)
    with pytest.raises(InputTypeError, match="restricted must be a model fit result"):
        selection.likelihood_ratio_test(None, full)
    # a "full" fit below the restricted maximum: built at a poor point on purpose
    poor = bdw.BdwFit(
        params=BdwParams(alpha=1.0, beta=1.0, c=1.0),
        standard_errors=full.standard_errors,
        covariance=full.covariance,
        log_likelihood=bdw.log_likelihood(BdwParams(alpha=1.0, beta=1.0, c=1.0), REGULAR),
        n_customers=1000.0,
        converged=True,
        n_iterations=0,
    )
    with pytest.raises(InputError, match=r"full\.log_likelihood must be at least"):
        selection.likelihood_ratio_test(restricted, poor)


def _sbg_cohort(alpha, beta, *, size, n_periods, rng):
    """Independent draw: θ ~ Beta(α, β), period of churn T ~ Geometric(θ) on 1, 2, ..."""
    life = rng.geometric(rng.beta(alpha, beta, size))
    return (life[None, :] > np.arange(n_periods + 1)[:, None]).sum(axis=1)


@pytest.mark.slow
def test_statistic_is_chi_square_one_under_the_sbg_model():
    # 300 cohorts of 2,000 customers, 8 periods, drawn from the sBG model (c = 1):
    # the statistic is >= 0 and its distribution is chi-square(1): rejection rate at
    # 5 % within 3 binomial standard errors, and a Kolmogorov-Smirnov distance
    # against the chi-square(1) distribution below its 1 % critical value 1.63/sqrt(n).
    rng = np.random.default_rng(11)
    stats = []
    for _ in range(300):
        alive = _sbg_cohort(0.704, 1.182, size=2_000, n_periods=8, rng=rng)
        stats.append(selection.likelihood_ratio_test(sbg.fit(alive), bdw.fit(alive)).statistic)
    x = np.sort(np.array(stats))
    assert np.all(x >= 0)
    rejected = np.mean(x > 3.841458820694124)  # chi2_1 95 % quantile
    assert abs(rejected - 0.05) < 3 * math.sqrt(0.05 * 0.95 / x.size)
    cdf = np.array([math.erf(math.sqrt(v / 2)) for v in x])
    ecdf_hi = np.arange(1, x.size + 1) / x.size
    ecdf_lo = np.arange(x.size) / x.size
    ks = max(np.max(ecdf_hi - cdf), np.max(cdf - ecdf_lo))
    assert ks < 1.63 / math.sqrt(x.size)
