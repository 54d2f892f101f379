"""fit.predict(summary, t, ...): one result equal to the separate calls.

References: the separate per-customer calls of each fit
(probability_alive, conditional_expected_purchases,
conditional_purchase_probability), gamma_gamma.conditional_expected_spend and
clv.customer_lifetime_value on the same summary.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from crmcore import InteractionTable, summarize, summarize_discrete
from crmcore.errors import InputError, InputTypeError
from crmcore.models import bgbb, bgnbd, clv, gamma_gamma, mbgnbd, pareto_nbd
from crmcore.simulate import customer_base
from crmcore.table import PURCHASE_CODE

BG = bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
MBG = mbgnbd.MbgNbdParams(r=0.5, alpha=6.0, a=0.9, b=3.0)
PNBD = pareto_nbd.ParetoNbdParams(r=0.55, alpha=10.6, s=0.61, beta=11.7)
DONATIONS = bgbb.BgBbParams(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
GG = gamma_gamma.GammaGammaParams(p=6.25, q=3.74, v=15.44)


def _fit(cls, params, **extra):
    k = len(params.as_array())
    return cls(
        params=params,
        standard_errors=params,
        covariance=np.eye(k),
        log_likelihood=-1.0,
        n_customers=1.0,
        converged=True,
        n_iterations=1,
        **extra,
    )


FITS = [
    (bgnbd.BgNbdFit, BG),
    (mbgnbd.MbgNbdFit, MBG),
    (pareto_nbd.ParetoNbdFit, PNBD),
]
SPEND = _fit(gamma_gamma.GammaGammaFit, GG)


@pytest.fixture(scope="module")
def summaries():
    base = customer_base(
        200, start="2024-01-01", observation_end="2024-09-30", time_unit="W", rng=11
    )
    # a customer with a non-purchase interaction only: a row without purchase
    times = np.concatenate([base.table.times, np.array(["2024-05-01"], dtype="datetime64[ns]")])
    assert np.all(base.table.kinds == PURCHASE_CODE)
    ids = np.concatenate([base.table.customer_ids[base.table.customer_codes], [10_000]])
    kinds = np.concatenate([np.full(len(base.table), "purchase"), ["visit"]])
    amounts = np.concatenate([base.table.amounts, [0.0]])
    table = InteractionTable.from_arrays(ids, times, kinds=kinds, amounts=amounts)
    weekly = summarize(table, observation_end="2024-09-30", period="D", time_unit="W")
    daily = summarize(table, observation_end="2024-09-30", period="D", time_unit="D")
    return weekly, daily


@pytest.mark.parametrize(("cls", "params"), FITS)
def test_predict_equals_the_separate_calls(summaries, cls, params):
    weekly, _ = summaries
    f = _fit(cls, params, time_unit="W")
    r = f.predict(weekly, 26.0)
    assert_array_equal(r.customer_ids, weekly.customer_ids)
    assert_allclose(r.probability_alive, f.probability_alive(weekly), rtol=0, atol=0)
    assert_allclose(r.expected_purchases, f.conditional_expected_purchases(26.0, weekly), rtol=0)
    assert_allclose(
        r.probability_of_purchase, f.conditional_purchase_probability(26.0, weekly), rtol=0
    )
    assert r.expected_spend is None
    assert r.clv is None
    assert r.t == 26.0
    assert r.time_unit == "W"
    assert list(r.columns()) == [
        "customer_ids",
        "probability_alive",
        "expected_purchases",
        "probability_of_purchase",
    ]


@pytest.mark.parametrize("discounting", ["discrete", "continuous"])
@pytest.mark.parametrize(("cls", "params"), FITS)
def test_predict_with_spend_and_clv(summaries, cls, params, discounting):
    weekly, _ = summaries
    f = _fit(cls, params, time_unit="W")
    r = f.predict(
        weekly, 52, spend_fit=SPEND, discount_rate=0.002, discounting=discounting, margin=0.3
    )
    ref = clv.customer_lifetime_value(
        f,
        SPEND,
        weekly,
        horizon=52,
        step=1,
        discount_rate=0.002,
        discounting=discounting,
        margin=0.3,
    )
    assert_allclose(r.clv, ref.clv, rtol=0)
    buyers = weekly.has_purchase
    assert not buyers.all()
    spend = gamma_gamma.conditional_expected_spend(
        GG, weekly.frequency[buyers], weekly.monetary_value[buyers]
    )
    assert_allclose(r.expected_spend[buyers], spend, rtol=1e-15)
    assert np.all(r.expected_spend[~buyers] == 0)
    frame = pd.DataFrame(r.columns())
    assert list(frame.columns)[-2:] == ["expected_spend", "clv"]
    assert len(frame) == len(weekly)
    # spend without discount: no clv
    r2 = f.predict(weekly, 52, spend_fit=SPEND)
    assert r2.clv is None
    assert_allclose(r2.expected_spend, r.expected_spend, rtol=0)
    # an annual rate
    r3 = f.predict(weekly, 52, spend_fit=SPEND, annual_discount_rate=0.1, discounting=discounting)
    ref3 = clv.customer_lifetime_value(
        f, SPEND, weekly, horizon=52, step=1, annual_discount_rate=0.1, discounting=discounting
    )
    assert_allclose(r3.clv, ref3.clv, rtol=0)


def test_predict_converts_units(summaries):
    weekly, daily = summaries
    f = _fit(bgnbd.BgNbdFit, BG, time_unit="W")
    w = f.predict(weekly, 10.0, spend_fit=SPEND, discount_rate=0.01)
    d = f.predict(daily, 70.0, spend_fit=SPEND, discount_rate=(1.01) ** (1 / 7) - 1, step=7)
    for name in ("probability_alive", "expected_purchases", "probability_of_purchase", "clv"):
        assert_allclose(getattr(d, name), getattr(w, name), rtol=1e-9, err_msg=name)
    assert d.time_unit == "D"
    assert d.t == 70.0


def test_bgbb_predict_equals_the_separate_calls():
    times = np.array(
        ["2020-02-01", "2021-03-01", "2023-01-05", "2020-06-01", "2021-06-01", "2022-01-01"],
        dtype="datetime64[ns]",
    )
    table = InteractionTable.from_arrays([1, 1, 1, 2, 3, 3], times)
    s = summarize_discrete(table, start="2020-01-01", period="Y", n_periods=4)
    f = _fit(bgbb.BgBbFit, DONATIONS)
    r = f.predict(s, 5)
    assert_allclose(r.probability_alive, f.probability_alive(s), rtol=0)
    assert_allclose(r.expected_purchases, f.conditional_expected_purchases(5, s), rtol=0)
    assert_allclose(r.probability_of_purchase, f.conditional_purchase_probability(5, s), rtol=0)
    assert r.time_unit is None
    assert r.t == 5.0
    assert next(iter(r.columns())) == "customer_ids"
    with pytest.raises(InputError, match="do not apply to a model of discrete"):
        clv.predict(f, s, 5, spend_fit=SPEND)
    with pytest.raises(InputTypeError, match="n_future must be an integer"):
        f.predict(s, 2.5)


def test_predict_errors(summaries):
    weekly, _ = summaries
    f = _fit(bgnbd.BgNbdFit, BG, time_unit="W")
    with pytest.raises(InputError, match="needs spend_fit"):
        f.predict(weekly, 4, discount_rate=0.01)
    with pytest.raises(InputError, match="exactly one of discount_rate"):
        f.predict(weekly, 4, spend_fit=SPEND, discount_rate=0.01, annual_discount_rate=0.1)
    with pytest.raises(InputError, match=r"t / step must be at most 10000"):
        f.predict(weekly, 1e300, spend_fit=SPEND, discount_rate=0.01, step=4.0)
    with pytest.raises(InputTypeError, match="purchase_fit must be a fitted purchase model"):
        clv.predict(SPEND, weekly, 4.0)
    with pytest.raises(InputError, match="t must be >= 0"):
        f.predict(weekly, -1.0)
    with pytest.raises(InputTypeError, match="summary must be a CustomerSummary"):
        f.predict([1, 2], 4.0)
    with pytest.raises(InputTypeError, match="summary must be a DiscreteSummary for a BG/BB"):
        _fit(bgbb.BgBbFit, DONATIONS).predict(weekly, 4)
    with pytest.raises(InputTypeError, match="spend_fit must be a fitted model"):
        f.predict(weekly, 4.0, spend_fit=GG)


def test_predict_horizon_zero(summaries):
    weekly, _ = summaries
    r = _fit(pareto_nbd.ParetoNbdFit, PNBD).predict(weekly, 0, spend_fit=SPEND, discount_rate=0.1)
    assert np.all(r.expected_purchases == 0)
    assert np.all(r.probability_of_purchase == 0)
    assert np.all(r.clv == 0)


@pytest.mark.parametrize(("cls", "params"), FITS)
def test_predict_with_a_spend_covariate_fit(summaries, cls, params):
    from crmcore.models import _spend_covariates as spc

    weekly, _ = summaries
    f = _fit(cls, params, time_unit="W")
    g = spc.GammaGammaCovariateFit(
        params=GG,
        standard_errors=GG,
        spend_coefficients=np.array([0.4]),
        spend_standard_errors=np.array([0.1]),
        spend_names=("z",),
        covariance=np.eye(4),
        log_likelihood=-1.0,
        n_customers=1.0,
        converged=True,
        n_iterations=1,
    )
    n = len(weekly)
    z = {"z": np.linspace(-1.0, 1.0, n)}
    r = f.predict(weekly, 52, spend_fit=g, spend_covariates=z, discount_rate=0.002)
    buyers = weekly.has_purchase
    # reference: the plain Gamma-Gamma formula at each buyer's v_i = v exp(0.4 z_i) (the
    # parameterisation of the covariate fit), an independent path
    vi = GG.v * np.exp(0.4 * z["z"][buyers])
    x, m = weekly.frequency[buyers], weekly.monetary_value[buyers]
    want = GG.p * (vi + x * m) / (GG.p * x + GG.q - 1.0)
    assert_allclose(r.expected_spend[buyers], want, rtol=1e-12)
    assert np.all(r.expected_spend[~buyers] == 0)
    # the CLV: expected spend times the discounted purchases of the plain CLV with spend 1
    ref = clv.customer_lifetime_value(f, SPEND, weekly, horizon=52, step=1, discount_rate=0.002)
    plain_spend = np.where(buyers, ref.expected_spend, 1.0)
    assert_allclose(r.clv[buyers], (ref.clv / plain_spend * r.expected_spend)[buyers], rtol=1e-12)
    r2 = f.predict(weekly, 52, spend_fit=g, spend_covariates=z)
    assert_allclose(r2.expected_spend, r.expected_spend, rtol=0)
    with pytest.raises(InputError, match="spend_covariates is missing"):
        f.predict(weekly, 52, spend_fit=g)
    with pytest.raises(InputError, match="spend_covariates must be left out"):
        f.predict(weekly, 52, spend_fit=SPEND, spend_covariates=z)
    with pytest.raises(InputError, match="spend_covariates must be left out without spend_fit"):
        f.predict(weekly, 52, spend_covariates=z)
    with pytest.raises(InputError, match=r"spend_covariates\['z'\] must have one value"):
        f.predict(weekly, 52, spend_fit=g, spend_covariates={"z": np.zeros(3)})


def test_covariate_purchase_fit_predict_passes_spend_covariates(summaries):
    from crmcore.models import _covariates as cov
    from crmcore.models import _spend_covariates as spc

    weekly, _ = summaries
    n = len(weekly)
    f = cov.BgNbdCovariateFit(
        params=BG,
        standard_errors=BG,
        purchase_coefficients=np.zeros(0),
        purchase_standard_errors=np.zeros(0),
        purchase_names=(),
        dropout_coefficients=np.zeros(0),
        dropout_standard_errors=np.zeros(0),
        dropout_names=(),
        covariance=np.eye(4),
        log_likelihood=-1.0,
        n_customers=1.0,
        converged=True,
        n_iterations=1,
        time_unit="W",
    )
    g = spc.GammaGammaCovariateFit(
        params=GG,
        standard_errors=GG,
        spend_coefficients=np.array([-0.3]),
        spend_standard_errors=np.array([0.1]),
        spend_names=("z",),
        covariance=np.eye(4),
        log_likelihood=-1.0,
        n_customers=1.0,
        converged=True,
        n_iterations=1,
    )
    z = np.linspace(2.0, -2.0, n)
    r = f.predict(weekly, 26.0, spend_fit=g, spend_covariates=z)
    buyers = weekly.has_purchase
    vi = GG.v * np.exp(-0.3 * z[buyers])  # v_i = v exp(gamma z_i)
    x, m = weekly.frequency[buyers], weekly.monetary_value[buyers]
    assert_allclose(
        r.expected_spend[buyers], GG.p * (vi + x * m) / (GG.p * x + GG.q - 1.0), rtol=1e-12
    )
    with pytest.raises(InputError, match="spend_covariates is missing"):
        f.predict(weekly, 26.0, spend_fit=g)
