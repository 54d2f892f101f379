"""Time-invariant covariates of BG/NBD, MBG/NBD and Pareto/NBD (crmcore.models._covariates).

Customer i has the plain model's likelihood at its own parameters (CLVTools'
parameterisation): alpha_i = alpha exp(-gamma_p.z_i) and, for BG/NBD and
MBG/NBD, a_i = a exp(gamma_d.w_i), b_i = b exp(gamma_d.w_i); for Pareto/NBD
beta_i = beta exp(-gamma_d.w_i). The references below are the plain models'
functions at those per-customer parameters (tested against mpmath in their
own files), mpmath itself for the extreme cases, closed forms of the
simulator, and the spread of refits for the standard errors.
"""

from __future__ import annotations

import warnings

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given
from mpmath import mp
from numpy.testing import assert_allclose
from scipy import special as sc

from crmcore import CustomerSummary
from crmcore.errors import InputError, InputTypeError
from crmcore.models import _covariates, _hyp2f1, bgnbd, mbgnbd, pareto_nbd
from crmcore.simulate import bgnbd_histories, mbgnbd_histories, pareto_nbd_histories
from tests.models import test_pareto_nbd as pnbd_ref
from tests.models._bgnbd_family import _mp_loglik

MODELS = {
    "bgnbd": (bgnbd, bgnbd.BgNbdParams, ("r", "alpha", "a", "b"), 0),
    "mbgnbd": (mbgnbd, mbgnbd.MbgNbdParams, ("r", "alpha", "a", "b"), 1),
    "pareto_nbd": (pareto_nbd, pareto_nbd.ParetoNbdParams, ("r", "alpha", "s", "beta"), 0),
}
BASE = {
    "bgnbd": (0.25, 4.0, 0.8, 2.5),
    "mbgnbd": (0.25, 4.0, 0.8, 2.5),
    "pareto_nbd": (0.55, 10.6, 0.61, 11.7),
}
DRAW = {"bgnbd": bgnbd_histories, "mbgnbd": mbgnbd_histories, "pareto_nbd": pareto_nbd_histories}


def _customer_params(name, base, gamma_p, gamma_d, *, z, w):
    """Per-customer parameter objects of the plain model (the definition, by hand)."""
    module, params_type, names, _ = MODELS[name]
    out = []
    for zi, wi in zip(z, w, strict=True):
        p = dict(zip(names, base, strict=True))
        p["alpha"] *= np.exp(-float(np.dot(gamma_p, zi)))
        if name == "pareto_nbd":
            p["beta"] *= np.exp(-float(np.dot(gamma_d, wi)))
        else:
            p["a"] *= np.exp(float(np.dot(gamma_d, wi)))
            p["b"] *= np.exp(float(np.dot(gamma_d, wi)))
        out.append(params_type(**p))
    return module, out


def _hand_fit(name, base, gamma_p, gamma_d, *, names_p=("z0", "z1"), names_d=("z0",)):
    """A covariate fit built by hand (no optimiser), for predictions at known parameters."""
    _, params_type, names, _ = MODELS[name]
    cls = {
        "bgnbd": _covariates.BgNbdCovariateFit,
        "mbgnbd": _covariates.MbgNbdCovariateFit,
        "pareto_nbd": _covariates.ParetoNbdCovariateFit,
    }[name]
    params = params_type(**dict(zip(names, base, strict=True)))
    k = len(gamma_p) + len(gamma_d)
    return cls(
        params=params,
        standard_errors=params,
        purchase_coefficients=np.asarray(gamma_p, dtype=float),
        purchase_standard_errors=np.ones(len(gamma_p)),
        purchase_names=names_p,
        dropout_coefficients=np.asarray(gamma_d, dtype=float),
        dropout_standard_errors=np.ones(len(gamma_d)),
        dropout_names=names_d,
        covariance=np.eye(4 + k),
        log_likelihood=0.0,
        n_customers=1.0,
        converged=True,
        n_iterations=0,
    )


HIST = (
    np.array([0, 1, 4, 12, 0]),
    np.array([0.0, 3.0, 20.5, 38.0, 0.0]),
    np.array([40.0, 40.0, 39.0, 40.0, 10.0]),
)
Z = np.array([[0.5, -1.0], [1.5, 0.2], [-0.7, 0.0], [0.0, 2.0], [1.0, 1.0]])
W = np.array([[1.0], [-0.5], [0.3], [-2.0], [0.0]])
GP, GD = np.array([0.4, -0.3]), np.array([0.6])


# --------------------------------------------------------------------------- definition


@pytest.mark.parametrize("name", list(MODELS))
def test_predictions_are_the_plain_model_at_the_customers_parameters(name):
    # Reference: the plain model's own functions at alpha_i (a_i, b_i / beta_i) built by hand.
    fit = _hand_fit(name, BASE[name], GP, GD)
    module, per = _customer_params(name, BASE[name], GP, GD, z=Z, w=W)
    x, tx, big_t = HIST
    cov = {"purchase_covariates": Z, "dropout_covariates": W}
    got = {
        "alive": fit.probability_alive(x, tx, big_t, **cov),
        "expected": fit.conditional_expected_purchases(13.0, x, tx, big_t, **cov),
        "buy": fit.conditional_purchase_probability(13.0, x, tx, big_t, **cov),
        "loglik": fit.log_likelihood_per_customer(x, tx, big_t, **cov),
    }
    for i, p in enumerate(per):
        h = (x[i], tx[i], big_t[i])
        assert_allclose(got["alive"][i], module.probability_alive(p, *h), rtol=1e-12)
        assert_allclose(
            got["expected"][i], module.conditional_expected_purchases(p, 13.0, *h), rtol=1e-10
        )
        assert_allclose(
            got["buy"][i], module.conditional_purchase_probability(p, 13.0, *h), rtol=1e-10
        )
        assert_allclose(got["loglik"][i], module.log_likelihood_per_customer(p, *h), rtol=1e-11)


@pytest.mark.parametrize("name", list(MODELS))
def test_zero_covariates_are_the_plain_model(name):
    # With z = w = 0 every customer has the base parameters: the plain model's values.
    fit = _hand_fit(name, BASE[name], GP, GD)
    module, params_type, names, _ = MODELS[name]
    plain = params_type(**dict(zip(names, BASE[name], strict=True)))
    x, tx, big_t = HIST
    zero = {"purchase_covariates": np.zeros((5, 2)), "dropout_covariates": np.zeros((5, 1))}
    assert_allclose(
        fit.probability_alive(x, tx, big_t, **zero),
        module.probability_alive(plain, x, tx, big_t),
        rtol=1e-13,
    )
    assert_allclose(
        fit.log_likelihood_per_customer(x, tx, big_t, **zero),
        module.log_likelihood_per_customer(plain, x, tx, big_t),
        rtol=1e-12,
    )


@pytest.mark.parametrize("name", list(MODELS))
def test_fit_equals_the_plain_fit_when_the_covariate_changes_nothing(name):
    # Two groups with identical histories and covariate 0 and 1: the group parameters are
    # equal at the maximum, so gamma = 0 and the base parameters are the plain fit's, with
    # the same log-likelihood (reference: the plain fit on the same rows).
    module, _, _, _ = MODELS[name]
    h = DRAW[name](*BASE[name], T=39.0, n_customers=600, rng=5)
    x, tx, big_t = (np.concatenate([a, a]) for a in (h.frequency, h.recency, h.T))
    group = np.repeat([0.0, 1.0], 600)
    plain = module.fit(x, tx, big_t)
    cov = module.fit(x, tx, big_t, purchase_covariates={"g": group}, dropout_covariates=group)
    assert_allclose(cov.params.as_array(), plain.params.as_array(), rtol=2e-5)
    assert_allclose(cov.purchase_coefficients, [0.0], atol=2e-5)
    assert_allclose(cov.dropout_coefficients, [0.0], atol=2e-5)
    assert_allclose(cov.log_likelihood, plain.log_likelihood, rtol=1e-10)
    assert cov.purchase_names == ("g",)
    assert cov.dropout_names == ("z0",)
    assert cov.covariance_names[4:] == ("purchase:g", "dropout:z0")


# --------------------------------------------------------------------------- gradients


@pytest.mark.parametrize(
    ("model", "shift", "name"),
    [("bg", 0, "bgnbd"), ("bg", 1, "mbgnbd"), ("pareto", 0, "pareto_nbd")],
)
@pytest.mark.parametrize("dropout", [True, False])
def test_gradient_and_hessian_match_finite_differences(model, shift, name, dropout):
    # Reference: central differences of the total log-likelihood (gradient) and of the
    # analytic gradient (Hessian), step 1e-6 / 1e-5 in u.
    rng = np.random.default_rng(3)
    h = DRAW[name](*BASE[name], T=52.0, n_customers=400, rng=1)
    z = rng.normal(size=(400, 2))
    data = _covariates._fit_data(
        h.frequency, h.recency, h.T, weights=None, covariates=(z, z[:, ::-1] if dropout else None)
    )
    engine = _covariates._Engine(data, model, shift)
    u = np.concatenate(
        [np.log(np.array(BASE[name]) * 1.2), [0.2, -0.1], [0.3, 0.5] if dropout else []]
    )
    _, g = engine.value_grad(u)
    eye = np.eye(u.size)
    num = np.array(
        [
            (engine.value_grad(u + 1e-6 * e)[0] - engine.value_grad(u - 1e-6 * e)[0]) / 2e-6
            for e in eye
        ]
    )
    assert_allclose(g, num, rtol=1e-5, atol=1e-4)
    hess = engine.hessian(u)
    num_h = np.array(
        [
            (engine.value_grad(u + 1e-5 * e)[1] - engine.value_grad(u - 1e-5 * e)[1]) / 2e-5
            for e in eye
        ]
    )
    assert_allclose(hess, 0.5 * (num_h + num_h.T), rtol=1e-5, atol=1e-4)
    engine.value_grad(u)  # forward differences start from the last gradient at u
    assert_allclose(engine.hessian(u, central=False), hess, rtol=1e-4, atol=1e-3)


# --------------------------------------------------------------------------- numerics


def test_extreme_covariates_and_thousands_of_purchases_are_finite():
    # |gamma.z| = 30 in both processes and 5000 purchases: finite, no warning, and the BG/NBD
    # log-likelihood equals mpmath's at the customer's parameters (FHL 2005 eq. 6, 50 digits).
    mp.dps = 50
    x = np.array([0, 5000, 5000, 3, 1])
    tx = np.array([0.0, 39.0, 2.0, 20.0, 1e-9])
    big_t = np.array([40.0, 40.0, 40.0, 40.0, 40.0])
    z = np.array([[30.0], [-30.0], [30.0], [-30.0], [30.0]])
    w = np.array([[-30.0], [30.0], [-30.0], [30.0], [30.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in MODELS:
            fit = _hand_fit(name, BASE[name], [1.0], [1.0], names_p=("z",), names_d=("w",))
            cov = {"purchase_covariates": z, "dropout_covariates": w}
            ll = fit.log_likelihood_per_customer(x, tx, big_t, **cov)
            alive = fit.probability_alive(x, tx, big_t, **cov)
            buy = fit.conditional_purchase_probability(10.0, x, tx, big_t, **cov)
            exp = fit.conditional_expected_purchases(10.0, x, tx, big_t, **cov)
            for arr in (ll, alive, buy, exp):
                assert np.all(np.isfinite(arr)), (name, arr)
            assert np.all((alive >= 0) & (alive <= 1))
            assert np.all(buy <= alive)
            if name != "pareto_nbd":
                _, per = _customer_params(name, BASE[name], [1.0], [1.0], z=z, w=w)
                shift = MODELS[name][3]
                for i, p in enumerate(per):
                    ref = _mp_loglik(p.as_array(), int(x[i]), tx[i], big_t[i], s=shift)
                    assert_allclose(ll[i], float(ref), rtol=1e-9)
            data = _covariates._fit_data(x, tx, big_t, weights=None, covariates=(z, w))
            model = "pareto" if name == "pareto_nbd" else "bg"
            engine = _covariates._Engine(data, model, MODELS[name][3])
            value, grad = engine.value_grad(np.concatenate([np.log(BASE[name]), [1.0, 1.0]]))
            assert np.isfinite(value)
            assert np.all(np.isfinite(grad))


def test_pareto_extreme_matches_mpmath():
    # Pareto/NBD customer with alpha_i = alpha e^-30 (z = 30) and beta_i = beta e^30: the
    # log-likelihood at the customer's parameters from mpmath (Fader & Hardie 2005 eq. 22,
    # the reference of test_pareto_nbd.py).
    fit = _hand_fit("pareto_nbd", BASE["pareto_nbd"], [1.0], [1.0], names_p=("z",), names_d=("w",))
    x, tx, big_t = np.array([3, 50]), np.array([20.0, 30.0]), np.array([40.0, 40.0])
    z, w = np.array([[30.0], [-5.0]]), np.array([[-30.0], [5.0]])
    got = fit.log_likelihood_per_customer(x, tx, big_t, purchase_covariates=z, dropout_covariates=w)
    _, per = _customer_params("pareto_nbd", BASE["pareto_nbd"], [1.0], [1.0], z=z, w=w)
    for i, p in enumerate(per):
        ref = pnbd_ref._mp_loglik(tuple(p.as_array()), int(x[i]), tx[i], big_t[i])
        assert_allclose(got[i], float(ref), rtol=1e-9)


# --------------------------------------------------------------------------- fitting


@pytest.mark.parametrize("name", ["bgnbd", "mbgnbd"])
def test_recovers_known_coefficients(name):
    # 6000 customers drawn with gamma_p = (0.5, -0.3), gamma_d = 0.4: every estimate within
    # 4 standard errors of the truth.
    module = MODELS[name][0]
    rng = np.random.default_rng(11)
    z = rng.normal(size=(6000, 2))
    w = rng.normal(size=6000)
    h = DRAW[name](
        *BASE[name],
        T=52.0,
        rng=12,
        purchase_covariates=z,
        purchase_coefficients=[0.5, -0.3],
        dropout_covariates=w,
        dropout_coefficients=[0.4],
    )
    fit = module.fit(
        h.frequency, h.recency, h.T, purchase_covariates=z, dropout_covariates={"w": w}
    )
    assert fit.converged
    err = (fit.purchase_coefficients - [0.5, -0.3]) / fit.purchase_standard_errors
    assert np.all(np.abs(err) < 4), err
    assert abs(fit.dropout_coefficients[0] - 0.4) < 4 * fit.dropout_standard_errors[0]
    assert np.all(
        np.abs(np.log(fit.params.as_array() / BASE[name]))
        < 4 * np.sqrt(np.diag(fit.covariance)[:4])
    )
    assert fit.covariance.shape == (7, 7)
    assert not fit.covariance.flags.writeable


@pytest.mark.slow
def test_pareto_recovers_known_coefficients():
    # As above for Pareto/NBD (beta_i = beta exp(-gamma_d.w_i)), 4000 customers.
    rng = np.random.default_rng(21)
    z = rng.normal(size=(4000, 1))
    h = pareto_nbd_histories(
        *BASE["pareto_nbd"],
        T=52.0,
        rng=22,
        purchase_covariates=z,
        purchase_coefficients=[0.5],
        dropout_covariates=z,
        dropout_coefficients=[-0.4],
    )
    fit = pareto_nbd.fit(h.frequency, h.recency, h.T, purchase_covariates=z, dropout_covariates=z)
    assert abs(fit.purchase_coefficients[0] - 0.5) < 4 * fit.purchase_standard_errors[0]
    assert abs(fit.dropout_coefficients[0] + 0.4) < 4 * fit.dropout_standard_errors[0]


@pytest.mark.slow
def test_standard_errors_match_the_spread_of_refits():
    # 60 data sets of 3000 BG/NBD customers with one purchase and one dropout covariate: the
    # standard deviation of the estimates across data sets is the standard error the fits
    # report, within the sampling error of a standard deviation from 60 draws (~9%; 30%).
    rng = np.random.default_rng(31)
    est, ses = [], []
    for rep in range(60):
        z = rng.normal(size=3000)
        h = bgnbd_histories(
            *BASE["bgnbd"],
            T=52.0,
            rng=100 + rep,
            purchase_covariates=z,
            purchase_coefficients=[0.5],
            dropout_covariates=z,
            dropout_coefficients=[0.3],
        )
        fit = bgnbd.fit(h.frequency, h.recency, h.T, purchase_covariates=z, dropout_covariates=z)
        est.append([fit.purchase_coefficients[0], fit.dropout_coefficients[0]])
        ses.append([fit.purchase_standard_errors[0], fit.dropout_standard_errors[0]])
    spread = np.std(est, axis=0, ddof=1)
    assert_allclose(spread, np.mean(ses, axis=0), rtol=0.3)
    bias = np.abs(np.mean(est, axis=0) - [0.5, 0.3])
    assert np.all(bias < 3 * spread / np.sqrt(60) + 0.01), (bias, spread)


def test_large_data_newton_path_agrees_with_the_driver(monkeypatch):
    # Above 2 * _SAMPLE_ROWS customers the fit is a sample fit finished by Newton steps on
    # all customers; with a small threshold that path runs here, and gives the shared
    # driver's optimum and standard errors on the same data.
    rng = np.random.default_rng(41)
    z = rng.normal(size=(5000, 2))
    h = bgnbd_histories(
        *BASE["bgnbd"],
        T=52.0,
        rng=42,
        purchase_covariates=z,
        purchase_coefficients=[0.5, 0.1],
        dropout_covariates=z[:, :1],
        dropout_coefficients=[0.3],
    )
    args = (h.frequency, h.recency, h.T)
    kw = {"purchase_covariates": z, "dropout_covariates": z[:, :1]}
    direct = bgnbd.fit(*args, **kw)
    monkeypatch.setattr(_covariates, "_SAMPLE_ROWS", 1000)
    newton = bgnbd.fit(*args, **kw)
    # the Newton steps stop when the step left is below 1e-4 standard errors (_SE_TOL)
    se = np.sqrt(np.diag(direct.covariance))
    assert np.max(np.abs(_covariates._u_of(newton) - _covariates._u_of(direct)) / se) < 2e-4
    # the covariance is the exact Hessian's at a point within 2e-5 sqrt(n) standard errors
    # of the maximum (_HESS_DRIFT): within a few 1e-5 in units of the standard errors
    diff = (newton.covariance - direct.covariance) / np.outer(se, se)
    assert np.max(np.abs(diff)) < 1e-4
    assert newton.log_likelihood - direct.log_likelihood > -1e-7


def test_summary_and_weights():
    # A summary gives the fit of its arrays (and its time unit); a row of weight 0 is the
    # fit without that row; weight 2 everywhere doubles n and keeps the estimates.
    rng = np.random.default_rng(51)
    h = bgnbd_histories(*BASE["bgnbd"], T=39.0, n_customers=800, rng=52)
    z = rng.normal(size=(800, 1))
    s = CustomerSummary.from_arrays(h.frequency, h.recency, h.T, time_unit="W")
    fit = bgnbd.fit(s, purchase_covariates=z)
    arrays = bgnbd.fit(h.frequency, h.recency, h.T, purchase_covariates=z)
    assert fit.n_customers == 800.0
    assert fit.time_unit == "W"
    assert_allclose(fit.purchase_coefficients, arrays.purchase_coefficients, rtol=1e-12)
    out = fit.predict(s, 10.0, purchase_covariates=z)
    assert out.probability_alive.shape == (800,)
    assert list(out.columns())[:2] == ["customer_ids", "probability_alive"]
    weights = np.ones(800)
    weights[0] = 0.0
    dropped = bgnbd.fit(h.frequency, h.recency, h.T, purchase_covariates=z, weights=weights)
    without = bgnbd.fit(h.frequency[1:], h.recency[1:], h.T[1:], purchase_covariates=z[1:])
    assert dropped.n_customers == 799.0
    assert_allclose(dropped.purchase_coefficients, without.purchase_coefficients, rtol=1e-9)
    double = bgnbd.fit(
        h.frequency, h.recency, h.T, purchase_covariates=z, weights=np.full(800, 2.0)
    )
    assert double.n_customers == 1600.0
    assert_allclose(double.params.as_array(), arrays.params.as_array(), rtol=1e-6)
    assert_allclose(
        double.purchase_standard_errors, arrays.purchase_standard_errors / np.sqrt(2), rtol=1e-4
    )


# --------------------------------------------------------------------------- errors


def test_errors_name_the_covariates():
    h = bgnbd_histories(*BASE["bgnbd"], T=39.0, n_customers=300, rng=61)
    z = np.random.default_rng(62).normal(size=(300, 2))
    args = (h.frequency, h.recency, h.T)
    with pytest.raises(
        InputError,
        match=r"purchase_covariates must have one row per customer \(300, as the histories",
    ):
        bgnbd.fit(*args, purchase_covariates=z[:10])
    with pytest.raises(
        InputError, match=r"dropout_covariates must be finite.*first at row \d+, column \d+: nan"
    ):
        bgnbd.fit(*args, dropout_covariates=np.where(z > 2.5, np.nan, z))
    with pytest.raises(InputError, match=r"purchase_covariates column 'c' must vary"):
        bgnbd.fit(*args, purchase_covariates={"a": z[:, 0], "c": np.zeros(300)})
    with pytest.raises(InputTypeError, match=r"purchase_covariates must map covariate names"):
        bgnbd.fit(*args, purchase_covariates={1: z[:, 0]})
    fit = _hand_fit("bgnbd", BASE["bgnbd"], GP, GD, names_p=("age", "vip"), names_d=("tenure",))
    x, tx, big_t = HIST
    with pytest.raises(InputError, match=r"purchase_covariates is missing: .* \(age, vip\)"):
        fit.probability_alive(x, tx, big_t, dropout_covariates=W)
    with pytest.raises(InputError, match=r"purchase_covariates must have 2 columns \(age, vip\)"):
        fit.probability_alive(x, tx, big_t, purchase_covariates=Z[:, :1], dropout_covariates=W)
    with pytest.raises(InputError, match=r"missing \['vip'\], unknown \['vp'\]"):
        fit.probability_alive(
            x, tx, big_t, purchase_covariates={"age": Z[:, 0], "vp": Z[:, 1]}, dropout_covariates=W
        )
    with pytest.raises(
        InputError, match=r"dropout_covariates must have one row per customer \(5, as the"
    ):
        fit.probability_alive(x, tx, big_t, purchase_covariates=Z, dropout_covariates=W[:3])
    with pytest.raises(InputError, match=r"purchase_covariates must be finite"):
        fit.probability_alive(
            x, tx, big_t, purchase_covariates=np.where(Z > 1, np.inf, Z), dropout_covariates=W
        )
    only_p = _hand_fit("bgnbd", BASE["bgnbd"], GP, [], names_p=("age", "vip"), names_d=())
    with pytest.raises(InputError, match=r"dropout_covariates must be left out"):
        only_p.probability_alive(x, tx, big_t, purchase_covariates=Z, dropout_covariates=W)


def test_prediction_refuses_covariate_effects_beyond_e50():
    # |gamma . z| up to MAX_EFFECT = 50 is finite in every model (the extreme test runs 30);
    # beyond, an InputError names the covariates and the rule.
    fit = _hand_fit("pareto_nbd", BASE["pareto_nbd"], [1.0], [1.0], names_p=("z",), names_d=("w",))
    ok = fit.probability_alive(
        [3, 0],
        [20.0, 0.0],
        [40.0, 40.0],
        purchase_covariates=[[50.0], [-50.0]],
        dropout_covariates=[[-50.0], [50.0]],
    )
    assert np.all(np.isfinite(ok))
    with pytest.raises(
        InputError,
        match=r"dropout_covariates times the fit's coefficients must stay within \+-50.*1 of 2",
    ):
        fit.probability_alive(
            [3, 0],
            [20.0, 0.0],
            [40.0, 40.0],
            purchase_covariates=[[1.0], [1.0]],
            dropout_covariates=[[0.0], [1e300]],
        )


def test_mapping_columns_are_matched_by_name():
    fit = _hand_fit("bgnbd", BASE["bgnbd"], GP, GD, names_p=("age", "vip"), names_d=("tenure",))
    x, tx, big_t = HIST
    a = fit.probability_alive(x, tx, big_t, purchase_covariates=Z, dropout_covariates=W)
    b = fit.probability_alive(
        x,
        tx,
        big_t,
        purchase_covariates={"vip": Z[:, 1], "age": Z[:, 0]},
        dropout_covariates={"tenure": W[:, 0]},
    )
    assert_allclose(a, b, rtol=0, atol=0)
    one = fit.probability_alive(1, 3.0, 40.0, purchase_covariates=Z[1:2], dropout_covariates=W[1:2])
    assert isinstance(one, float)
    assert_allclose(one, a[1], rtol=1e-15)


def test_simulator_covariates():
    # E[lambda_i] = r / alpha_i = r exp(gamma_p z_i) / alpha: the mean latent rate of the
    # group z = 1 over that of z = 0 is e^gamma_p (here e^0.8 = 2.2255), within 3%.
    z = np.repeat([0.0, 1.0], 40_000)
    h = bgnbd_histories(
        *BASE["bgnbd"], T=52.0, rng=71, purchase_covariates=z, purchase_coefficients=[0.8]
    )
    assert h.frequency.size == 80_000
    ratio = h.lam[z == 1].mean() / h.lam[z == 0].mean()
    assert_allclose(ratio, np.exp(0.8), rtol=0.03)
    # Pareto/NBD: E[mu_i] = s exp(gamma_d w_i) / beta.
    hp = pareto_nbd_histories(
        *BASE["pareto_nbd"], T=52.0, rng=72, dropout_covariates=z, dropout_coefficients=[-0.5]
    )
    assert_allclose(hp.mu[z == 1].mean() / hp.mu[z == 0].mean(), np.exp(-0.5), rtol=0.05)
    with pytest.raises(InputTypeError, match="purchase_coefficients is required"):
        bgnbd_histories(*BASE["bgnbd"], T=52.0, rng=1, purchase_covariates=z)
    with pytest.raises(InputError, match=r"dropout_coefficients must have one value per column"):
        mbgnbd_histories(
            *BASE["mbgnbd"], T=52.0, rng=1, dropout_covariates=z, dropout_coefficients=[1.0, 2.0]
        )
    with pytest.raises(
        InputError, match=r"purchase_covariates must have one row per customer \(5\)"
    ):
        pareto_nbd_histories(
            *BASE["pareto_nbd"],
            T=[1.0] * 5,
            rng=1,
            purchase_covariates=z,
            purchase_coefficients=[1.0],
        )


# --------------------------------------------------------------------------- properties


@given(
    gp=st.floats(-3, 3),
    gd=st.floats(-3, 3),
    z=st.floats(-10, 10),
    w=st.floats(-10, 10),
    x=st.integers(0, 300),
    share=st.floats(0, 1),
    big_t=st.floats(0.5, 200),
    name=st.sampled_from(list(MODELS)),
)
def test_property_a_customer_is_the_plain_model_at_its_parameters(  # noqa: PLR0917
    gp, gd, z, w, x, share, big_t, name
):
    tx = share * big_t if x > 0 else 0.0
    fit = _hand_fit(name, BASE[name], [gp], [gd], names_p=("z",), names_d=("w",))
    module, per = _customer_params(name, BASE[name], [gp], [gd], z=[[z]], w=[[w]])
    cov = {"purchase_covariates": [[z]], "dropout_covariates": [[w]]}
    alive = fit.probability_alive([x], [tx], [big_t], **cov)[0]
    assert 0.0 <= alive <= 1.0
    assert_allclose(alive, module.probability_alive(per[0], x, tx, big_t), rtol=1e-9, atol=1e-300)
    ll = fit.log_likelihood_per_customer([x], [tx], [big_t], **cov)[0]
    # The reference subtracts log B(a_i, b_i) from a term of the same size, which loses
    # up to a few hundred ulps of |log B| when a_i, b_i are scaled up by e^(gamma_d w)
    # (mpmath agrees with crmcore there: found by the hunt profile); allow that much.
    if name == "pareto_nbd":
        slack = 1e-12
    else:
        slack = 1e-13 * abs(float(sc.betaln(per[0].a, per[0].b))) + 1e-12
    assert_allclose(
        ll, module.log_likelihood_per_customer(per[0], x, tx, big_t), rtol=1e-9, atol=slack
    )


def test_per_customer_quadrature_is_the_engine_quadrature():
    # The rare rows the hypergeometric engine leaves out go to a quadrature vectorised over
    # customers with their own alpha_i, beta_i. Reference: the engine's quadrature for one
    # (alpha, beta) at a time (checked against mpmath in test_hyp2f1.py), row by row.
    rng = np.random.default_rng(81)
    n = 200
    x = rng.integers(0, 3000, n).astype(float)
    big_t = rng.uniform(1, 100, n)
    tx = np.where(x > 0, big_t * rng.uniform(0, 0.999, n), 0.0)
    alpha, beta = np.exp(rng.uniform(-8, 8, n)), np.exp(rng.uniform(-8, 8, n))
    got, grad = _covariates._integral_each(0.7, 1.3, alpha, beta, (x, tx, big_t))
    for i in range(n):
        theta = np.array([0.7, alpha[i], 1.3, beta[i]])
        ref, ref_grad = _hyp2f1.log_integral(
            theta, x[i : i + 1], tx[i : i + 1], big_t[i : i + 1], True
        )
        assert_allclose(got[i], ref[0], rtol=1e-14)
        assert_allclose(grad[:, i], ref_grad[:, 0], rtol=1e-13)


# --------------------------------------------------------------------------- fast paths


def test_newton_step_is_the_maximum_of_a_quadratic():
    # f(u) = -(u - m)' A (u - m) / 2: gradient -A (u - m), Hessian -A; the Newton step goes
    # to m in one, and its length in standard errors (covariance A^-1) is
    # sqrt((u - m)' A (u - m)) (closed form).
    a = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
    m = np.array([0.3, -1.0, 2.0])
    u = np.array([1.0, 0.5, -0.5])
    out = _covariates._newton_step(-a, -a @ (u - m))
    assert out is not None
    step, length = out
    assert_allclose(u + step, m, rtol=1e-14)
    assert_allclose(length, np.sqrt((u - m) @ a @ (u - m)), rtol=1e-14)
    assert _covariates._newton_step(a, a @ (u - m)) is None  # not concave: no step


def test_pareto_terms_in_groups_equal_one_customer_at_a_time():
    # The engine sorts customers into groups of one (x, alpha_i >= beta_i) and evaluates t_x
    # and T of a group in one call. Reference: each customer alone (a group of one; that path
    # is checked against mpmath in test_pareto_extreme_matches_mpmath and test_hyp2f1.py).
    # Customers share x with alpha_i on both sides of beta_i, |gamma.z| up to 30, t_x = T,
    # x = 0 and thousands of purchases: all finite, no warning.
    rng = np.random.default_rng(5)
    n = 300
    x = rng.choice([0.0, 1.0, 2.0, 7.0, 49.0, 3000.0], n)
    big_t = rng.uniform(1.0, 80.0, n)
    tx = np.where(x > 0, big_t * rng.choice([0.2, 0.9, 1.0], n), 0.0)
    la = np.log(10.0) + rng.choice([-30.0, -1.0, 0.0, 0.05, 1.0, 30.0], n)
    lb = np.log(11.0) + rng.choice([-30.0, -0.5, 0.0, 0.5, 30.0], n)
    r, s = 0.55, 0.61
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = _covariates._pareto_terms(r, s, la, lb, (x, tx, big_t), want_grad=True)
        assert got.grad is not None
        for i in range(n):
            one = _covariates._pareto_terms(
                r,
                s,
                la[i : i + 1],
                lb[i : i + 1],
                (x[i : i + 1], tx[i : i + 1], big_t[i : i + 1]),
                want_grad=True,
            )
            assert one.grad is not None
            assert_allclose(got.loglik[i], one.loglik[0], rtol=1e-13, atol=1e-13)
            assert_allclose(got.log_alive[i], one.log_alive[0], rtol=1e-13, atol=1e-13)
            assert_allclose(got.grad[:, i], one.grad[:, 0], rtol=1e-12, atol=1e-12)
    for arr in (got.loglik, got.log_alive, got.grad):
        assert np.all(np.isfinite(arr))


def test_pareto_newton_path_agrees_with_the_driver(monkeypatch):
    # As test_large_data_newton_path_agrees_with_the_driver, for Pareto/NBD: the Newton steps
    # (sample included) reach the shared driver's optimum on all customers, to 2e-4 standard
    # errors, with its covariance, in a few steps on all customers.
    rng = np.random.default_rng(7)
    n = 2000
    z = rng.normal(size=(n, 1))
    w = rng.normal(size=(n, 1))
    h = pareto_nbd_histories(
        *BASE["pareto_nbd"],
        T=rng.uniform(10.0, 78.0, n),
        rng=8,
        purchase_covariates=z,
        purchase_coefficients=[0.4],
        dropout_covariates=w,
        dropout_coefficients=[-0.3],
    )
    args = (h.frequency, h.recency, h.T)
    kw = {"purchase_covariates": z, "dropout_covariates": w}
    direct = pareto_nbd.fit(*args, **kw)
    monkeypatch.setattr(_covariates, "_SAMPLE_ROWS", 1000)  # Pareto/NBD samples 400
    newton = pareto_nbd.fit(*args, **kw)
    assert newton.n_iterations <= 8 < direct.n_iterations
    se = np.sqrt(np.diag(direct.covariance))
    assert np.max(np.abs(_covariates._u_of(newton) - _covariates._u_of(direct)) / se) < 2e-4
    diff = (newton.covariance - direct.covariance) / np.outer(se, se)
    assert np.max(np.abs(diff)) < 1e-4
    assert newton.log_likelihood - direct.log_likelihood > -1e-7
