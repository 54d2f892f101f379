"""Tests of the shared maximum-likelihood driver."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from crmcore.errors import ConvergenceError, ConvergenceWarning, InputError, InputTypeError
from crmcore.models._inputs import prepare_fit_data
from crmcore.models._mle import (
    distinct_values,
    log_curvature,
    maximize_likelihood,
    numerical_gradient,
)
from crmcore.summary import CustomerSummary


def _gamma_objective(y: np.ndarray, w: np.ndarray):
    """Gamma(shape k, rate lam) log-likelihood with analytic gradient."""
    from scipy.special import digamma, gammaln

    def objective(theta):
        k, lam = theta
        ll = w * (k * np.log(lam) - gammaln(k) + (k - 1) * np.log(y) - lam * y)
        gk = w * (np.log(lam) - digamma(k) + np.log(y))
        gl = w * (k / lam - y)
        return float(ll.sum()), np.array([gk.sum(), gl.sum()])

    return objective


def test_exponential_rate_closed_form():
    # Exponential(rate lam): MLE lam = n / sum(y); observed information n / lam^2,
    # so SE = lam / sqrt(n) (closed form).
    y = np.array([0.5, 1.5, 2.0, 4.0])

    def objective(theta):
        lam = theta[0]
        return float(y.size * np.log(lam) - lam * y.sum()), np.array([y.size / lam - y.sum()])

    res = maximize_likelihood(objective, [3.0], names=("lam",), model="exp", n_customers=4)
    lam = 4 / 8.0
    assert_allclose(res.estimates, [lam], rtol=1e-9)
    assert_allclose(res.standard_errors, [lam / 2], rtol=1e-5)
    assert_allclose(res.log_likelihood, 4 * np.log(lam) - lam * 8.0, rtol=1e-12)
    assert_allclose(res.hessian, [[-4 / lam**2]], rtol=1e-5)
    assert res.converged
    assert res.n_iterations >= 1
    assert res.names == ("lam",)


def test_normal_se_closed_form_and_covariance_symmetric():
    # Normal(mu, sigma): MLE mu = mean, sigma^2 = mean squared deviation;
    # information diag(n / sigma^2, 2n / sigma^2).
    y = np.array([1.0, 2.0, 4.0, 7.0, 11.0])
    n = y.size

    def objective(theta):
        mu, sigma = theta
        z = (y - mu) / sigma
        return float(np.sum(-0.5 * z**2 - np.log(sigma))), np.array(
            [np.sum(z) / sigma, np.sum(z**2 - 1) / sigma]
        )

    res = maximize_likelihood(
        objective, [1.0, 1.0], names=("mu", "sigma"), model="n", n_customers=n
    )
    sigma = np.sqrt(np.mean((y - y.mean()) ** 2))
    assert_allclose(res.estimates, [y.mean(), sigma], rtol=1e-8)
    assert_allclose(res.standard_errors, [sigma / np.sqrt(n), sigma / np.sqrt(2 * n)], rtol=1e-5)
    assert_allclose(res.covariance, res.covariance.T)
    assert_allclose(res.gradient, 0.0, atol=1e-6)


def test_numerical_gradient_matches_analytic():
    rng = np.random.default_rng(1)
    y = rng.gamma(2.5, 1 / 3.0, size=200)
    w = np.ones_like(y)
    analytic = _gamma_objective(y, w)
    numeric = numerical_gradient(lambda th: analytic(th)[0])
    theta = np.array([1.7, 2.2])
    assert_allclose(numeric(theta)[1], analytic(theta)[1], rtol=1e-6)
    a = maximize_likelihood(analytic, [1.0, 1.0], names=("k", "lam"), model="g", n_customers=200)
    b = maximize_likelihood(numeric, [1.0, 1.0], names=("k", "lam"), model="g", n_customers=200)
    assert_allclose(a.estimates, b.estimates, rtol=1e-5)
    assert_allclose(a.standard_errors, b.standard_errors, rtol=1e-3)


def test_gamma_recovery_and_scale_invariance_of_start():
    rng = np.random.default_rng(7)
    y = rng.gamma(3.0, 1 / 0.01, size=5000)  # large values: rate 0.01
    obj = _gamma_objective(y, np.ones_like(y))
    res1 = maximize_likelihood(obj, [1.0, 1.0], names=("k", "lam"), model="g", n_customers=5000)
    res2 = maximize_likelihood(obj, [50.0, 1e-4], names=("k", "lam"), model="g", n_customers=5000)
    assert_allclose(res1.estimates, res2.estimates, rtol=1e-7)
    assert abs(res1.estimates[0] - 3.0) < 3 * res1.standard_errors[0]


def test_curvature_from_elsewhere_is_corrected_by_bfgs_updates():
    # Newton steps with the Hessian of another data set (gamma shape 0.5 instead of 3)
    # from that data set's estimates: a fixed matrix would zigzag without reaching the
    # maximum; corrected by BFGS updates after each step it reaches the full search's
    # estimates in a few steps
    rng = np.random.default_rng(7)
    y = rng.gamma(3.0, 1 / 0.01, size=5000)
    y2 = rng.gamma(0.5, 1 / 0.01, size=5000)
    obj = _gamma_objective(y, np.ones_like(y))
    names = ("k", "lam")
    full = maximize_likelihood(obj, [1.0, 1.0], names=names, model="g", n_customers=5000)
    other = maximize_likelihood(
        _gamma_objective(y2, np.ones_like(y2)), [1.0, 1.0], names=names, model="g", n_customers=5000
    )
    curv = log_curvature(other, 5000)
    res = maximize_likelihood(
        obj, other.estimates, names=names, model="g", n_customers=5000, curvature=curv
    )
    assert_allclose(res.estimates, full.estimates, rtol=1e-8)
    assert res.n_iterations < 25


@given(st.integers(1, 40), st.floats(0.1, 10.0))
def test_weights_scale_log_likelihood_and_se(k, rate):
    # Repeating the data k times multiplies the total log-likelihood by k and
    # divides the standard errors by sqrt(k) (information is additive).
    y = np.array([0.3, 1.1, 2.4, 0.7]) / rate

    def make(weight):
        def objective(theta):
            lam = theta[0]
            return weight * float(y.size * np.log(lam) - lam * y.sum()), weight * np.array(
                [y.size / lam - y.sum()]
            )

        return objective

    one = maximize_likelihood(make(1.0), [1.0], names=("lam",), model="e", n_customers=4)
    many = maximize_likelihood(make(float(k)), [1.0], names=("lam",), model="e", n_customers=4 * k)
    assert_allclose(many.estimates, one.estimates, rtol=1e-8)
    assert_allclose(many.log_likelihood, k * one.log_likelihood, rtol=1e-8)
    assert_allclose(many.standard_errors * np.sqrt(k), one.standard_errors, rtol=1e-4)


def test_boundary_raises_convergence_error():
    # log-likelihood log(theta) increases without bound: the estimate runs to infinity.
    def objective(theta):
        return float(np.log(theta[0])), np.array([1.0 / theta[0]])

    with pytest.raises(ConvergenceError, match="runs to infinity"):
        maximize_likelihood(objective, [1.0], names=("b",), model="toy", n_customers=1)


def test_flat_direction_raises_convergence_error():
    # Only the product mu*nu is identified: the Hessian is singular.
    def objective(theta):
        p = theta[0] * theta[1]
        return float(-((p - 2.0) ** 2)), np.array(
            [-2 * (p - 2.0) * theta[1], -2 * (p - 2.0) * theta[0]]
        )

    with pytest.raises(ConvergenceError, match="do not identify"):
        maximize_likelihood(objective, [1.0, 1.0], names=("mu", "nu"), model="toy", n_customers=1)


def test_boundary_error_carries_the_model_limit_hint():
    def objective(theta):
        return float(np.log(theta[0])), np.array([1.0 / theta[0]])

    with pytest.raises(ConvergenceError, match=r"runs to infinity.*toy advice"):
        maximize_likelihood(
            objective, [1.0], names=("b",), model="toy", n_customers=1, limit_hint="toy advice"
        )


def test_huge_relative_standard_error_warns_and_is_not_converged():
    # Exponential rate from a total weight of 0.001 customers with mean 2: MLE 0.5,
    # relative standard error 1 / sqrt(0.001) = 31.6 (closed form) > MAX_RELATIVE_SE.
    w = 0.001

    def objective(theta):
        lam = theta[0]
        return float(w * (np.log(lam) - 2.0 * lam)), np.array([w * (1.0 / lam - 2.0)])

    with pytest.warns(ConvergenceWarning, match=r"do not identify lam .*lam 31\.6.*toy limit"):
        res = maximize_likelihood(
            objective, [1.0], names=("lam",), model="toy", n_customers=w, limit_hint="toy limit"
        )
    assert not res.converged
    assert_allclose(res.estimates, [0.5], rtol=1e-8)
    assert_allclose(res.standard_errors, [0.5 / np.sqrt(w)], rtol=1e-4)


def test_near_singular_information_warns_naming_the_parameters():
    # -(mu nu - 2)^2 - 1e-12 (log mu)^2 - (log kappa)^2: the product mu nu is pinned, mu
    # alone only by a 1e-12 curvature, so (closed form at the maximum mu = nu = sqrt 2,
    # kappa = 1) the standard error of log mu is about 1/sqrt(2e-12) = 7e5, the
    # correlation of (log mu, log nu) is -1 + O(1e-12) (condition number ~1e12 > 1e8),
    # while kappa is well identified and must not be named.
    eps = 1e-12

    def objective(theta):
        mu, nu, kappa = theta
        p = mu * nu
        value = -((p - 2.0) ** 2) - eps * np.log(mu) ** 2 - np.log(kappa) ** 2
        grad = np.array(
            [
                -2 * (p - 2.0) * nu - 2 * eps * np.log(mu) / mu,
                -2 * (p - 2.0) * mu,
                -2 * np.log(kappa) / kappa,
            ]
        )
        return float(value), grad

    with pytest.warns(ConvergenceWarning, match=r"do not identify mu and nu .*near-singular"):
        res = maximize_likelihood(
            objective, [1.0, 1.0, 1.0], names=("mu", "nu", "kappa"), model="toy", n_customers=1
        )
    assert not res.converged


def test_non_finite_start_raises():
    def objective(theta):
        return float("nan"), np.array([0.0])

    with pytest.raises(ConvergenceError, match="not finite at the starting point"):
        maximize_likelihood(objective, [1.0], names=("x",), model="toy", n_customers=1)


def test_bad_initial_and_scale():
    def objective(theta):
        return 0.0, np.zeros(1)

    with pytest.raises(InputError, match="initial must be positive"):
        maximize_likelihood(objective, [0.0], names=("x",), model="t", n_customers=1)
    with pytest.raises(InputError, match="initial must hold 2 values"):
        maximize_likelihood(objective, [1.0], names=("x", "y"), model="t", n_customers=1)
    with pytest.raises(InputError, match="n_customers must be >"):
        maximize_likelihood(objective, [1.0], names=("x",), model="t", n_customers=0)


def test_prepare_histories_summary_and_arrays():
    s = CustomerSummary.from_arrays([0, 2, 0], [0.0, 3.0, 0.0], [5.0, 5.0, 5.0])
    c = prepare_fit_data(s, None, None, None)
    assert c.frequency.tolist() == [0.0, 2.0]
    assert c.weights.tolist() == [2.0, 1.0]
    c2 = prepare_fit_data(s, None, None, [1.0, 0.0, 3.0])
    assert c2.weights.tolist() == [4.0]
    with pytest.raises(InputTypeError, match="recency and T must be left out"):
        prepare_fit_data(s, [0.0], None, None)
    with pytest.raises(InputTypeError, match="recency and T are required"):
        prepare_fit_data([1], None, None, None)
    with pytest.raises(InputError, match="at least one customer"):
        prepare_fit_data([1], [1.0], [2.0], [0.0])
    with pytest.raises(InputError, match="weights must have one value per summary row"):
        prepare_fit_data(s, None, None, [1.0])
    with pytest.raises(InputError, match="recency must not exceed T"):
        prepare_fit_data([1], [3.0], [2.0], None)


@given(st.lists(st.integers(0, 5), min_size=1, max_size=30))
def test_distinct_values_roundtrip(values):
    arr = np.sort(np.array(values, dtype=float))
    vals, idx = distinct_values(arr)
    assert_allclose(vals[idx], arr)
    assert_allclose(vals, np.unique(arr))


def test_models_package_without_scipy_names_the_extra():
    code = (
        "import sys\n"
        "sys.modules['scipy'] = None\n"
        "try:\n"
        "    import crmcore.models\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install crmcore[models]" in out.stdout


# --- the same error for the same wrong call, in every model ------------------------------------
# A summary together with the arrays it replaces (or arrays without their companions) is a wrong
# combination of arguments: InputTypeError (a TypeError, as Python's for a missing or unexpected
# argument), from the fits (prepare_fit_data) and from the predictions (the models' helpers).


def _wrong_calls():
    from crmcore.models import bgbb, bgnbd, gamma_gamma, mbgnbd, pareto_nbd
    from crmcore.summary import DiscreteSummary

    s = CustomerSummary.from_arrays([0, 2], [0.0, 3.0], [5.0, 5.0], monetary_value=[0.0, 4.0])
    d = DiscreteSummary(
        customer_ids=np.array([1, 2]),
        frequency=np.array([0, 2]),
        recency=np.array([0, 3]),
        n_periods=4,
        start=np.datetime64("2020-01-01", "ns"),
        period="Y",
    )
    bg = bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
    mbg = mbgnbd.MbgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
    pn = pareto_nbd.ParetoNbdParams(r=0.55, alpha=10.58, s=0.61, beta=11.67)
    bb = bgbb.BgBbParams(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
    gg = gamma_gamma.GammaGammaParams(p=6.25, q=3.74, v=15.44)
    tx, t = [0.0, 3.0], [5.0, 5.0]
    calls = {}
    for name, mod, params in (
        ("bgnbd", bgnbd, bg),
        ("mbgnbd", mbgnbd, mbg),
        ("pareto_nbd", pareto_nbd, pn),
    ):
        calls[f"{name}.fit"] = (lambda m=mod: m.fit(s, tx, t), lambda m=mod: m.fit([0, 2], tx))
        calls[f"{name}.probability_alive"] = (
            lambda m=mod, p=params: m.probability_alive(p, s, tx, t),
            lambda m=mod, p=params: m.probability_alive(p, [0, 2], tx),
        )
        calls[f"{name}.conditional_expected_purchases"] = (
            lambda m=mod, p=params: m.conditional_expected_purchases(p, 4.0, s, None, t),
            lambda m=mod, p=params: m.conditional_expected_purchases(p, 4.0, [0, 2]),
        )
        calls[f"{name}.log_likelihood"] = (
            lambda m=mod, p=params: m.log_likelihood(p, s, tx),
            lambda m=mod, p=params: m.log_likelihood(p, [0, 2], None, t),
        )
    calls["bgbb.fit"] = (lambda: bgbb.fit(d, [0, 3], 4), lambda: bgbb.fit([0, 2], [0, 3]))
    calls["bgbb.probability_alive"] = (
        lambda: bgbb.probability_alive(bb, d, None, 4),
        lambda: bgbb.probability_alive(bb, [0, 2], None, 4),
    )
    calls["gamma_gamma.fit"] = (
        lambda: gamma_gamma.fit(s, [0.0, 4.0]),
        lambda: gamma_gamma.fit([0, 2]),
    )
    calls["gamma_gamma.conditional_expected_spend"] = (
        lambda: gamma_gamma.conditional_expected_spend(gg, s, [0.0, 4.0]),
        lambda: gamma_gamma.conditional_expected_spend(gg, [0, 2]),
    )
    return calls


_CALLS = _wrong_calls()


@pytest.mark.parametrize("name", sorted(_CALLS))
def test_wrong_argument_combination_raises_input_type_error_everywhere(name):
    with_summary, without_companions = _CALLS[name]
    with pytest.raises(InputTypeError, match="must be left out when frequency is a"):
        with_summary()
    with pytest.raises(InputTypeError, match="required unless frequency is a"):
        without_companions()


def test_secant_update_fits_the_step_and_stays_positive_definite() -> None:
    # BFGS: the updated curvature maps the step onto the change of the gradient it made
    # (the secant equation), stays symmetric positive definite, and is left alone when
    # the change shows no positive curvature along the step.
    from crmcore.models._mle import _secant_update

    rng = np.random.default_rng(3)
    for _ in range(20):
        a = rng.normal(size=(4, 4))
        neg_h = a @ a.T + 4 * np.eye(4)
        b = rng.normal(size=(4, 4))
        true = b @ b.T + np.eye(4)
        step = rng.normal(size=4)
        change = true @ step
        out = _secant_update(neg_h, step, change)
        np.testing.assert_allclose(out @ step, change, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(out, out.T)
        assert np.linalg.eigvalsh(out).min() > 0
        assert _secant_update(neg_h, step, -change) is neg_h


@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, 4), st.floats(0.0, 1.0), st.sampled_from([5.0, 9.0]) | st.floats(1, 50)
        ),
        min_size=1,
        max_size=40,
    ),
    weighted=st.booleans(),
)
def test_fit_data_without_ties_in_t_are_the_rows_grouped_by_frequency(
    rows: list[tuple[int, float, float]], weighted: bool
) -> None:
    # Reference: crmcore.compress. Where two rows share T, prepare_fit_data is compress;
    # where none does (nothing can merge), the same rows and weights, stably sorted by
    # frequency only.
    from crmcore import compress

    x = np.array([float(r[0]) for r in rows])
    big_t = np.array([r[2] for r in rows])
    tx = np.where(x > 0, np.array([r[1] for r in rows]) * big_t, 0.0)
    w = np.linspace(0.5, 2.0, x.size) if weighted else None
    got = prepare_fit_data(x, tx, big_t, w)
    ref = compress(x, tx, big_t, w)
    if np.unique(big_t).size < big_t.size:
        for name in ("frequency", "recency", "T", "weights"):
            np.testing.assert_array_equal(getattr(got, name), getattr(ref, name))
    else:
        order = np.argsort(x, kind="stable")
        np.testing.assert_array_equal(got.frequency, x[order])
        np.testing.assert_array_equal(got.recency, tx[order])
        np.testing.assert_array_equal(got.T, big_t[order])
        np.testing.assert_array_equal(got.weights, np.ones(x.size) if w is None else w[order])
        assert got.n_customers == pytest.approx(ref.n_customers, rel=1e-14)
