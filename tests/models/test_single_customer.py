"""One customer as plain numbers, and one forecast horizon per customer, in every model.

Every per-customer function (and the fitted models' methods) takes Python
scalars or 0-d arrays for a single customer and returns a Python float; the
horizon of the conditional predictions is one number for all customers or
one value per customer.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from crmcore.errors import InputError
from crmcore.models import bgbb, bgnbd, gamma_gamma, mbgnbd, pareto_nbd

CDNOW_BG = bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)  # FHL 2005, CDNOW
CDNOW_MBG = mbgnbd.MbgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
CDNOW_PNBD = pareto_nbd.ParetoNbdParams(r=0.55, alpha=10.58, s=0.61, beta=11.67)
DONATIONS = bgbb.BgBbParams(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
SPEND = gamma_gamma.GammaGammaParams(p=6.25, q=3.74, v=15.44)

X = [2, 0, 7, 1]
TX = [30.43, 0.0, 38.0, 5.0]
T = [38.86, 38.86, 39.0, 20.0]


def _fit(module, params):
    cls = {bgnbd: bgnbd.BgNbdFit, mbgnbd: mbgnbd.MbgNbdFit, pareto_nbd: pareto_nbd.ParetoNbdFit}
    return cls[module](
        params=params,
        standard_errors=params,
        covariance=np.eye(4),
        log_likelihood=0.0,
        n_customers=1.0,
        converged=True,
        n_iterations=0,
    )


def test_cdnow_probability_alive_of_one_customer_matches_mpmath():
    # FHL (2005, eq. 6 and the 2008 note on P(alive)):
    # P(alive) = 1 / (1 + a/(b+x-1) ((α+T)/(α+t_x))^(r+x)), x > 0; evaluated in mpmath.
    r, alpha, a, b = map(mp.mpf, ("0.243", "4.414", "0.793", "2.426"))
    x, tx, big_t = 2, mp.mpf("30.43"), mp.mpf("38.86")
    expected = 1 / (1 + a / (b + x - 1) * ((alpha + big_t) / (alpha + tx)) ** (r + x))
    assert float(expected) == pytest.approx(0.7266, abs=5e-5)
    got = _fit(bgnbd, CDNOW_BG).probability_alive(2, 30.43, 38.86)
    assert type(got) is float
    assert got == pytest.approx(float(expected), rel=1e-12)
    got0d = bgnbd.probability_alive(CDNOW_BG, np.array(2), np.array(30.43), np.float64(38.86))
    assert type(got0d) is float
    assert got0d == got


def _continuous_calls(module, params):
    fit = _fit(module, params)
    return {
        "probability_alive": lambda *h: module.probability_alive(params, *h),
        "log_likelihood_per_customer": lambda *h: module.log_likelihood_per_customer(params, *h),
        "conditional_expected_purchases": lambda *h: module.conditional_expected_purchases(
            params, 39.0, *h
        ),
        "conditional_purchase_probability": lambda *h: module.conditional_purchase_probability(
            params, 39.0, *h
        ),
        "fit.probability_alive": fit.probability_alive,
        "fit.conditional_expected_purchases": lambda *h: fit.conditional_expected_purchases(
            39.0, *h
        ),
        "fit.conditional_purchase_probability": lambda *h: fit.conditional_purchase_probability(
            39.0, *h
        ),
        "fit.log_likelihood_per_customer": fit.log_likelihood_per_customer,
    }


CONTINUOUS = [(bgnbd, CDNOW_BG), (mbgnbd, CDNOW_MBG), (pareto_nbd, CDNOW_PNBD)]
CASES = [
    (m, p, name)
    for m, p in CONTINUOUS
    for name in _continuous_calls(m, p)  # the names only
]


@pytest.mark.parametrize(
    ("module", "params", "name"), CASES, ids=[f"{m.__name__[15:]}-{n}" for m, _, n in CASES]
)
def test_scalar_customer_gives_the_float_of_the_array_call(module, params, name):
    call = _continuous_calls(module, params)[name]
    many = call(X, TX, T)
    for i in range(len(X)):
        one = call(X[i], TX[i], T[i])
        assert type(one) is float
        assert one == pytest.approx(float(many[i]), rel=1e-12, abs=1e-300)
        assert call(np.array(X[i]), np.array(TX[i]), np.array(T[i])) == one


@pytest.mark.parametrize("module", [bgnbd, mbgnbd, pareto_nbd])
def test_expected_at_several_horizons_for_one_customer_is_a_row(module):
    params = dict(CONTINUOUS)[module]
    fit = _fit(module, params)
    row = fit.conditional_expected_purchases_at([10.0, 39.0], 2, 30.43, 38.86)
    assert row.shape == (2,)
    assert_allclose(row, fit.conditional_expected_purchases_at([10.0, 39.0], X, TX, T)[0])


@pytest.mark.parametrize("module", [bgnbd, mbgnbd, pareto_nbd])
@pytest.mark.parametrize(
    "fn", ["conditional_expected_purchases", "conditional_purchase_probability"]
)
def test_one_horizon_per_customer_equals_separate_calls(module, fn):
    params = dict(CONTINUOUS)[module]
    f = getattr(module, fn)
    t = [1.0, 39.0, 0.0, 400.0]
    got = f(params, t, X, TX, T)
    for i, ti in enumerate(t):
        assert got[i] == pytest.approx(float(f(params, ti, X, TX, T)[i]), rel=1e-12, abs=1e-300)
    with pytest.raises(InputError, match=r"t must be one number, or one value per customer \(4\)"):
        f(params, [1.0, 2.0], X, TX, T)
    with pytest.raises(InputError, match="t must be non-negative"):
        f(params, [1.0, -2.0, 1.0, 1.0], X, TX, T)


@given(
    t=st.lists(st.floats(0.0, 1e4), min_size=4, max_size=4),
    which=st.sampled_from(
        [
            (m, fn)
            for m, _ in CONTINUOUS
            for fn in ("conditional_expected_purchases", "conditional_purchase_probability")
        ]
    ),
)
def test_per_customer_horizon_property(t, which):
    module, fn = which
    params = dict(CONTINUOUS)[module]
    f = getattr(module, fn)
    got = f(params, t, X, TX, T)
    singles = [
        f(params, ti, xi, txi, big_ti) for ti, xi, txi, big_ti in zip(t, X, TX, T, strict=True)
    ]
    assert_allclose(got, singles, rtol=1e-12, atol=0)


def test_bgbb_single_customer_and_per_customer_horizon():
    x, tx, n = [6, 3, 0, 2], [6, 3, 0, 5], 6
    for fn in (bgbb.probability_alive, bgbb.log_likelihood_per_customer):
        many = fn(DONATIONS, x, tx, n)
        for i in range(len(x)):
            one = fn(DONATIONS, x[i], tx[i], n)
            assert type(one) is float
            assert one == pytest.approx(float(many[i]), rel=1e-12)
    one = bgbb.conditional_expected_purchases(DONATIONS, 5, np.array(6), 6, np.int64(6))
    assert type(one) is float
    horizons = [0, 5, 1, 10]
    got = bgbb.conditional_expected_purchases(DONATIONS, horizons, x, tx, n)
    for i, k in enumerate(horizons):
        assert got[i] == pytest.approx(
            bgbb.conditional_expected_purchases(DONATIONS, k, x[i], tx[i], n), rel=1e-12
        )
    assert got[0] == 0.0
    with pytest.raises(InputError, match="n_future must be one number, or one value per"):
        bgbb.conditional_expected_purchases(DONATIONS, [1, 2], x, tx, n)


def test_gamma_gamma_single_customer():
    x, m = [1, 0, 5], [20.0, 0.0, 35.5]
    for fn in (gamma_gamma.conditional_expected_spend, gamma_gamma.log_likelihood_per_customer):
        many = fn(SPEND, x, m)
        for i in range(len(x)):
            one = fn(SPEND, x[i], m[i])
            assert type(one) is float
            assert one == pytest.approx(float(many[i]), rel=1e-12)
