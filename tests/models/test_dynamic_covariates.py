"""Time-varying covariates of the Pareto/NBD model (crmcore.models._dynamic_covariates).

References used below: the time-invariant covariate model (covariates constant
over time, Fader & Hardie 2007 / CLVTools' static covariates, itself tested
against mpmath), the plain Pareto/NBD likelihood (all covariates 0), a brute
force of the model's definition (purchase and dropout processes given λ and
μ, closed-form per period, mixed over the gamma distributions by scipy's
adaptive double quadrature), central finite differences for the gradient, and simulation from
the generative process for the recovery of coefficients.
"""

from __future__ import annotations

import warnings
from typing import Any

import attrs
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given
from numpy.testing import assert_allclose
from scipy import integrate
from scipy import special as sc

from crmcore import InteractionTable, summarize
from crmcore.errors import InputError, InputTypeError
from crmcore.models import _dynamic_covariates as dc
from crmcore.models import pareto_nbd
from crmcore.models.pareto_nbd import (
    ParetoNbdParams,
    ParetoNbdTimeVaryingFit,
    TimeVaryingCovariates,
)
from crmcore.simulate import pareto_nbd_time_varying

BASE = (0.8, 5.0, 0.7, 12.0)


def _fit_at(u: np.ndarray, kp: int, kd: int, time_unit: str = "W", period: str = "W") -> Any:
    names = ParetoNbdParams(r=1.0, alpha=1.0, s=1.0, beta=1.0)
    r, a, s, b = np.exp(u[:4])
    return ParetoNbdTimeVaryingFit(
        params=ParetoNbdParams(r=r, alpha=a, s=s, beta=b),
        standard_errors=names,
        purchase_coefficients=u[4 : 4 + kp],
        purchase_standard_errors=np.zeros(kp),
        purchase_names=tuple(f"z{j}" for j in range(kp)),
        dropout_coefficients=u[4 + kp :],
        dropout_standard_errors=np.zeros(kd),
        dropout_names=tuple(f"w{j}" for j in range(kd)),
        covariance=np.eye(4 + kp + kd),
        log_likelihood=0.0,
        n_customers=1.0,
        converged=True,
        n_iterations=0,
        time_unit=time_unit,
        period=period,
    )


@pytest.fixture(scope="module")
def static_case() -> tuple[Any, ...]:
    """Covariates constant over time: one value per customer, repeated in every period."""
    n, k = 400, 40
    gen = np.random.default_rng(11)
    z = gen.normal(size=(n, 1))
    w = gen.normal(size=(n, 1))
    sim = pareto_nbd_time_varying(
        *BASE,
        n_customers=n,
        n_periods=k,
        start="2024-01-01",
        rng=5,
        purchase_coefficients=[0.6],
        dropout_coefficients=[-0.4],
        purchase_covariates=np.repeat(z[:, None, :], k, axis=1),
        dropout_covariates=np.repeat(w[:, None, :], k, axis=1),
    )
    s = summarize(sim.table, observation_end=sim.observation_end, period="h", time_unit="W")
    return sim, s, z[:, 0], w[:, 0]


@pytest.fixture(scope="module")
def static_fit(static_case: tuple[Any, ...]) -> Any:
    _, s, z, w = static_case
    return pareto_nbd.fit(s, purchase_covariates={"z0": z}, dropout_covariates={"w0": w})


@pytest.fixture(scope="module")
def varying_case() -> tuple[Any, ...]:
    sim = pareto_nbd_time_varying(
        *BASE,
        n_customers=300,
        n_periods=30,
        start="2024-01-01",
        rng=7,
        purchase_coefficients=[0.5, -0.3],
        dropout_coefficients=[0.4],
        future_periods=6,
    )
    s = summarize(sim.table, observation_end=sim.observation_end, period="D", time_unit="W")
    return sim, s


# --------------------------------------------------------------------------- (a), (b) identities


def test_constant_covariates_give_the_static_likelihood(
    static_case: tuple[Any, ...], static_fit: Any
) -> None:
    sim, s, z, w = static_case
    u = np.array([np.log(0.7), np.log(4.0), np.log(0.6), np.log(9.0), 0.3, -0.4])
    f = _fit_at(u, 1, 1)
    got = f.log_likelihood_per_customer(s, sim.table, sim.covariates)
    static = _static_at(static_fit, u)
    ref = static.log_likelihood_per_customer(
        s, purchase_covariates={"z0": z}, dropout_covariates={"w0": w}
    )
    assert_allclose(got, ref, rtol=1e-10, atol=1e-10)
    alive = static.probability_alive(s, purchase_covariates={"z0": z}, dropout_covariates={"w0": w})
    assert_allclose(f.probability_alive(s, sim.covariates), alive, rtol=1e-10, atol=1e-12)


def _static_at(static: Any, u: np.ndarray) -> Any:
    """The time-invariant covariate fit, moved to the point u."""
    r, a, sh, b = np.exp(u[:4])
    return attrs.evolve(
        static,
        params=ParetoNbdParams(r=r, alpha=a, s=sh, beta=b),
        purchase_coefficients=u[4:5],
        dropout_coefficients=u[5:6],
    )


def test_constant_covariates_fit_equals_the_static_fit(
    static_case: tuple[Any, ...], static_fit: Any
) -> None:
    sim, s, _, _ = static_case
    f = pareto_nbd.fit_time_varying(s, sim.table, sim.covariates, purchase="z0", dropout="w0")
    g = static_fit
    assert_allclose(f.log_likelihood, g.log_likelihood, rtol=1e-10)
    assert_allclose(f.params.as_array(), g.params.as_array(), rtol=1e-5)
    assert_allclose(f.purchase_coefficients, g.purchase_coefficients, rtol=1e-5, atol=1e-6)
    assert_allclose(f.dropout_coefficients, g.dropout_coefficients, rtol=1e-5, atol=1e-6)
    assert_allclose(f.covariance, g.covariance, rtol=1e-3, atol=1e-8)
    assert f.covariance_names == g.covariance_names


def test_zero_covariates_give_the_plain_likelihood(varying_case: tuple[Any, ...]) -> None:
    sim, s = varying_case
    cols = sim.covariates.columns()
    zero = TimeVaryingCovariates.from_long(
        cols["customer_ids"],
        cols["period_starts"],
        {name: np.zeros(len(sim.covariates)) for name in sim.covariates.names},
        period="W",
    )
    u = np.array([np.log(0.5), np.log(3.0), np.log(0.9), np.log(7.0), 1.5, -2.0, 0.7])
    got = _fit_at(u, 2, 1).log_likelihood_per_customer(s, sim.table, zero)
    params = ParetoNbdParams(r=0.5, alpha=3.0, s=0.9, beta=7.0)
    ref = pareto_nbd.log_likelihood_per_customer(params, s.frequency, s.recency, s.T)
    assert_allclose(got, ref, rtol=1e-11, atol=1e-11)


# --------------------------------------------------------------------------- (c) brute force


def _tiny() -> tuple[InteractionTable, Any, TimeVaryingCovariates]:
    """One customer, purchases on 3, 10 and 20 January 2024, weekly covariates."""
    times = np.array(["2024-01-03T10", "2024-01-10T08", "2024-01-20T23"], dtype="datetime64[ns]")
    table = InteractionTable.from_arrays(["a"] * 3, times)
    s = summarize(table, observation_end="2024-02-06", period="D", time_unit="W")
    weeks = np.arange(np.datetime64("2024-01-01"), np.datetime64("2024-02-12"), 7)
    cov = TimeVaryingCovariates.from_long(
        ["a"] * weeks.size,
        weeks,
        {"z0": [0.5, -1.0, 2.0, 0.3, -0.7, 1.1], "w0": [1.0, 0.2, -0.5, 1.5, 0.0, -1.2]},
        period="W",
    )
    return table, s, cov


def _brute_force(u: np.ndarray) -> float:
    """Mix the likelihood given (λ, μ) over the gamma distributions by numerical quadrature.

    Given λ and μ, with piecewise-constant rates on the weeks, the likelihood
    is (product of the purchase intensities) times [P(alive at T) + ∫ density
    of dropout in (t_x, T)], each period's dropout part in closed form; the
    mixture over λ = e^v, μ = e^w is a double integral by scipy's adaptive
    quadrature.
    """
    r, alpha, s, beta = np.exp(u[:4])
    gp, gd = float(u[4]), float(u[5])
    z = [0.5, -1.0, 2.0, 0.3, -0.7, 1.1]
    w = [1.0, 0.2, -0.5, 1.5, 0.0, -1.2]
    # weeks since the first purchase (Wed 3 Jan, day start): Mondays at 5/7, 12/7, ...
    big_t = 34 / 7  # 6 Feb (day start) - 3 Jan
    edges = [0.0] + [(5 + 7 * k) / 7 for k in range(5) if (5 + 7 * k) / 7 < big_t] + [big_t]
    segs = [
        (edges[k], edges[k + 1], np.exp(gp * z[k]), np.exp(gd * w[k]))
        for k in range(len(edges) - 1)
    ]
    purchases = [(1.0, 1), (17 / 7, 2)]  # (time, week) of the repeat purchases
    tx = purchases[-1][0]
    big_a = sum(a * (e1 - e0) for e0, e1, a, _ in segs)
    big_b = sum(b * (e1 - e0) for e0, e1, _, b in segs)
    log_rates = sum(gp * z[k] for _, k in purchases)

    def integrand(lv: float, lm: float) -> float:
        lam, mu = np.exp(lv), np.exp(lm)
        alive = np.exp(-lam * big_a - mu * big_b)
        drop = 0.0
        a0 = b0 = 0.0
        for e0, e1, a, b in segs:
            lo = max(e0, tx)
            if e1 > lo:
                k = lam * a + mu * b
                drop += (
                    mu
                    * b
                    * np.exp(-lam * (a0 + a * (lo - e0)) - mu * (b0 + b * (lo - e0)))
                    * -np.expm1(-k * (e1 - lo))
                    / k
                )
            a0 += a * (e1 - e0)
            b0 += b * (e1 - e0)
        # gamma densities in log lambda, log mu (the Jacobian gives shape, not shape - 1)
        log_mix = (
            r * np.log(alpha)
            + r * lv
            - alpha * lam
            - sc.gammaln(r)
            + s * np.log(beta)
            + s * lm
            - beta * mu
            - sc.gammaln(s)
        )
        return float(np.exp(log_mix + 2 * lv) * (alive + drop))

    total, _ = integrate.dblquad(integrand, -40, 8, -40, 8, epsabs=0, epsrel=1e-12)
    return float(np.log(total) + log_rates)


@pytest.mark.parametrize(
    "u",
    [
        [np.log(0.8), np.log(5.0), np.log(0.7), np.log(12.0), 0.4, -0.3],
        [np.log(2.0), np.log(1.5), np.log(1.3), np.log(2.0), -0.6, 0.8],
    ],
)
def test_likelihood_against_brute_force(u: list[float]) -> None:
    table, s, cov = _tiny()
    assert s.frequency.tolist() == [2]
    got = _fit_at(np.array(u), 1, 1).log_likelihood_per_customer(s, table, cov)
    assert_allclose(got[0], _brute_force(np.array(u)), rtol=1e-8)


# --------------------------------------------------------------------------- (e) gradient


def test_gradient_matches_finite_differences(varying_case: tuple[Any, ...]) -> None:
    sim, s = varying_case
    lay = dc._layout(s, sim.table, sim.covariates, (("z0", "z1"), ("w0",)))
    engine = dc._Engine(lay)
    u = np.array([np.log(0.6), np.log(4.0), np.log(0.8), np.log(10.0), 0.4, -0.2, 0.3])
    _, grad = engine.value_grad(u)
    h = 1e-6
    fd = [
        (engine.value_grad(u + h * e, False)[0] - engine.value_grad(u - h * e, False)[0]) / (2 * h)
        for e in np.eye(u.size)
    ]
    assert_allclose(grad, fd, rtol=1e-6, atol=1e-5)


# --------------------------------------------------------------------------- (d) recovery


def test_recovers_coefficients_small() -> None:
    sim = pareto_nbd_time_varying(
        *BASE,
        n_customers=1500,
        n_periods=52,
        start="2024-01-01",
        rng=21,
        purchase_coefficients=[0.7],
        dropout_coefficients=[-0.5],
    )
    s = summarize(sim.table, observation_end=sim.observation_end, period="h", time_unit="W")
    f = pareto_nbd.fit_time_varying(s, sim.table, sim.covariates, purchase="z0", dropout="w0")
    assert abs(f.purchase_coefficients[0] - 0.7) < 4 * f.purchase_standard_errors[0]
    assert abs(f.dropout_coefficients[0] + 0.5) < 4 * f.dropout_standard_errors[0]
    assert f.converged


@pytest.mark.slow
def test_recovers_coefficients_large() -> None:
    truth = np.array([0.8, 5.0, 0.7, 12.0])
    sim = pareto_nbd_time_varying(
        *truth,
        n_customers=8000,
        n_periods=52,
        start="2024-01-01",
        rng=22,
        purchase_coefficients=[0.6, -0.4],
        dropout_coefficients=[0.5],
    )
    s = summarize(sim.table, observation_end=sim.observation_end, period="h", time_unit="W")
    f = pareto_nbd.fit_time_varying(
        s, sim.table, sim.covariates, purchase=["z0", "z1"], dropout=["w0"]
    )
    est = np.r_[f.purchase_coefficients, f.dropout_coefficients]
    se = np.r_[f.purchase_standard_errors, f.dropout_standard_errors]
    assert np.all(np.abs(est - [0.6, -0.4, 0.5]) < 4 * se)
    base_se = f.standard_errors.as_array()
    assert np.all(np.abs(f.params.as_array() - truth) < 4 * base_se)


# --------------------------------------------------------------------------- predictions


def test_forecast_matches_static_closed_form(static_case: tuple[Any, ...], static_fit: Any) -> None:
    sim, s, z, w = static_case
    k = 40
    cols = sim.covariates.columns()
    # extend the constant covariates 10 weeks beyond the end
    ids = np.repeat(np.arange(len(z)), k + 10)
    weeks = np.tile(np.arange(k + 10), len(z)) * 7
    starts = np.datetime64("2024-01-01", "D") + weeks.astype("timedelta64[D]")
    cov = TimeVaryingCovariates.from_long(
        ids, starts, {"z0": np.repeat(z, k + 10), "w0": np.repeat(w, k + 10)}, period="W"
    )
    assert len(cols["customer_ids"]) == len(z) * k
    u = np.array([np.log(0.7), np.log(4.0), np.log(0.6), np.log(9.0), 0.3, -0.4])
    f = _fit_at(u, 1, 1)
    static = _static_at(static_fit, u)
    for t in (0.5, 3.0, 9.5):
        got = f.conditional_expected_purchases(t, s, cov)
        ref = static.conditional_expected_purchases(
            t, s, purchase_covariates={"z0": z}, dropout_covariates={"w0": w}
        )
        assert_allclose(got, ref, rtol=1e-10, atol=1e-13)


def test_forecast_needs_the_future_rows(varying_case: tuple[Any, ...]) -> None:
    sim, s = varying_case
    f = _fit_at(np.array([0.0, 1.0, 0.0, 2.0, 0.1, 0.1, 0.1]), 2, 1)
    assert np.all(f.conditional_expected_purchases(5.0, s, sim.covariates) >= 0)
    with pytest.raises(InputError, match="covariates must cover every period of the forecast"):
        f.conditional_expected_purchases(7.5, s, sim.covariates)


# --------------------------------------------------------------------------- (f) validation


def test_from_long_validation() -> None:
    ok = {"z": [1.0, 2.0]}
    with pytest.raises(InputError, match=r"name each \(customer, period\) once.*row 1"):
        TimeVaryingCovariates.from_long([1, 1], ["2024-01-01", "2024-01-01"], ok)
    with pytest.raises(InputError, match=r"consecutive periods.*period starting 2024-01-08"):
        TimeVaryingCovariates.from_long([1, 1], ["2024-01-01", "2024-01-15"], ok)
    with pytest.raises(InputError, match=r"period_starts must be starts of ISO weeks.*index 1"):
        TimeVaryingCovariates.from_long([1, 1], ["2024-01-01", "2024-01-09"], ok)
    with pytest.raises(InputError, match=r"covariates\['z'\] must be finite.*index 1"):
        TimeVaryingCovariates.from_long([1, 1], ["2024-01-01", "2024-01-08"], {"z": [1, np.nan]})
    with pytest.raises(InputTypeError, match=r"covariates\['z'\] must be numeric"):
        TimeVaryingCovariates.from_long([1, 1], ["2024-01-01", "2024-01-08"], {"z": ["a", "b"]})
    with pytest.raises(InputError, match="one value per row of customer_ids"):
        TimeVaryingCovariates.from_long([1, 1], ["2024-01-01", "2024-01-08"], {"z": [1.0]})
    with pytest.raises(InputError, match="at least one covariate"):
        TimeVaryingCovariates.from_long([1], ["2024-01-01"], {})
    with pytest.raises(InputError, match="customer_ids must not hold missing ids"):
        TimeVaryingCovariates.from_long([1.0, np.nan], ["2024-01-01", "2024-01-08"], ok)
    with pytest.raises(InputError, match="period must be one of"):
        TimeVaryingCovariates.from_long([1], ["2024-01-01"], {"z": [1.0]}, period="week")


def test_fit_validation(varying_case: tuple[Any, ...]) -> None:
    sim, s = varying_case
    cov = sim.covariates
    with pytest.raises(InputError, match="at least one covariate; got neither"):
        pareto_nbd.fit_time_varying(s, sim.table, cov)
    with pytest.raises(InputError, match=r"purchase must name covariates.*unknown \['x'\]"):
        pareto_nbd.fit_time_varying(s, sim.table, cov, purchase=["x"])
    with pytest.raises(InputTypeError, match="covariates must be a TimeVaryingCovariates"):
        pareto_nbd.fit_time_varying(s, sim.table, {"z0": 1.0}, purchase=["z0"])  # type: ignore[arg-type]
    # a customer without rows
    keep = cov.customer_ids != 3
    cols = cov.columns()
    part = TimeVaryingCovariates.from_long(
        cols["customer_ids"][keep],
        cols["period_starts"][keep],
        {n: cols[n][keep] for n in cov.names},
    )
    with pytest.raises(InputError, match=r"rows for every customer.*\(first: customer 3\)"):
        pareto_nbd.fit_time_varying(s, sim.table, part, purchase=["z0"])
    # missing the first periods of every customer
    late = cols["period_starts"] >= np.datetime64("2024-01-08")
    short = TimeVaryingCovariates.from_long(
        cols["customer_ids"][late],
        cols["period_starts"][late],
        {n: cols[n][late] for n in cov.names},
    )
    with pytest.raises(InputError, match="cover every period from the first purchase"):
        pareto_nbd.fit_time_varying(s, sim.table, short, purchase=["z0"])
    # a table that is not the summary's
    i = int(np.argmax(s.frequency))
    rows_of = sim.table.row_customer_ids() == s.customer_ids[i]
    other = sim.table.select(~(rows_of & (sim.table.times >= s.last_purchase[i])))
    with pytest.raises(InputError, match="table must be the interaction table the summary"):
        pareto_nbd.fit_time_varying(s, other, cov, purchase=["z0"])
    # a covariate that never varies
    flat = TimeVaryingCovariates.from_long(
        cols["customer_ids"], cols["period_starts"], {"c": np.ones(len(cov))}
    )
    with pytest.raises(InputError, match="purchase covariate 'c' must vary"):
        pareto_nbd.fit_time_varying(s, sim.table, flat, purchase=["c"])
    # monthly covariates with a weekly summary
    monthly = TimeVaryingCovariates.from_long([0], ["2024-01-01"], {"z0": [1.0]}, period="M")
    with pytest.raises(InputError, match="must be of one family"):
        pareto_nbd.fit_time_varying(s, sim.table, monthly, purchase=["z0"])


def test_purchase_on_a_period_boundary_takes_the_new_period() -> None:
    # the repeat purchase at Monday 8 Jan 00:00 takes week 2's z (3.0), not week 1's (1.0)
    times = np.array(["2024-01-03T10", "2024-01-08T00"], dtype="datetime64[ns]")
    table = InteractionTable.from_arrays(["a", "a"], times)
    s = summarize(table, observation_end="2024-01-14", period="h", time_unit="W")
    cov = TimeVaryingCovariates.from_long(
        ["a", "a"], ["2024-01-01", "2024-01-08"], {"z0": [1.0, 3.0]}, period="W"
    )
    lay = dc._layout(s, table, cov, (("z0",), ()))
    assert lay.sum_zp.tolist() == [[3.0]]


# --------------------------------------------------------------------------- (g) properties

_SMALL = pareto_nbd_time_varying(
    *BASE,
    n_customers=60,
    n_periods=12,
    start="2024-01-01",
    rng=9,
    purchase_coefficients=[0.5, -0.3],
    dropout_coefficients=[0.4],
)
_SMALL_SUMMARY = summarize(
    _SMALL.table, observation_end=_SMALL.observation_end, period="D", time_unit="W"
)
_NAMES = (("z0", "z1"), ("w0",))


def _daily(cov: TimeVaryingCovariates) -> TimeVaryingCovariates:
    """Each week split into its seven days, with the week's values."""
    cols = cov.columns()
    days = np.arange(7).astype("timedelta64[D]")
    return TimeVaryingCovariates.from_long(
        np.repeat(cols["customer_ids"], 7),
        (cols["period_starts"][:, None] + days[None, :]).reshape(-1),
        {n: np.repeat(cols[n], 7) for n in cov.names},
        period="D",
    )


_LAYOUTS = {
    "weekly": dc._layout(_SMALL_SUMMARY, _SMALL.table, _SMALL.covariates, _NAMES),
    "daily": dc._layout(_SMALL_SUMMARY, _SMALL.table, _daily(_SMALL.covariates), _NAMES),
}


def _u(g: tuple[float, ...]) -> np.ndarray:
    return np.array([np.log(0.6), np.log(4.0), np.log(0.8), np.log(10.0), *g])


@given(
    st.lists(st.booleans(), min_size=60, max_size=60), st.floats(-1.0, 1.0), st.floats(-1.0, 1.0)
)
def test_customers_do_not_affect_each_other(keep: list[bool], gp: float, gd: float) -> None:
    # each customer's value is the same whichever other customers are fitted with it
    mask = np.asarray(keep)
    if not mask.any():
        return
    u = _u((gp, -gp, gd))
    base = dc._terms(u, _LAYOUTS["weekly"], want_grad=False).loglik
    part = dc._layout(_SMALL_SUMMARY.select(mask), _SMALL.table, _SMALL.covariates, _NAMES)
    assert_allclose(dc._terms(u, part, want_grad=False).loglik, base[mask], rtol=1e-12, atol=1e-12)


@given(st.permutations(list(range(720))))
def test_row_order_of_the_long_table_does_not_matter(perm: list[int]) -> None:
    cols = _SMALL.covariates.columns()
    p = np.asarray(perm)
    moved = TimeVaryingCovariates.from_long(
        cols["customer_ids"][p],
        cols["period_starts"][p],
        {n: cols[n][p] for n in ("z0", "z1", "w0")},
    )
    for name in ("customer_ids", "period_starts", "values"):
        assert np.array_equal(getattr(moved, name), getattr(_SMALL.covariates, name))


@given(st.floats(-2.0, 2.0), st.floats(-2.0, 2.0), st.floats(-2.0, 2.0))
def test_splitting_periods_changes_nothing(g1: float, g2: float, g3: float) -> None:
    u = _u((g1, g2, g3))
    weekly = dc._terms(u, _LAYOUTS["weekly"], want_grad=True)
    daily = dc._terms(u, _LAYOUTS["daily"], want_grad=True)
    assert_allclose(daily.loglik, weekly.loglik, rtol=1e-10, atol=1e-10)
    assert daily.grad is not None
    assert weekly.grad is not None
    assert_allclose(daily.grad, weekly.grad, rtol=1e-7, atol=1e-8)


_SIGNED = TimeVaryingCovariates.from_long(
    _SMALL.covariates.customer_ids,
    _SMALL.covariates.period_starts,
    {
        "z0": np.where(np.arange(len(_SMALL.covariates)) % 2 == 0, 1.0, -1.0),
        "z1": np.zeros(len(_SMALL.covariates)),
        "w0": np.where(np.arange(len(_SMALL.covariates)) % 3 == 0, 1.0, -1.0),
    },
)
_SIGNED_LAYOUT = dc._layout(_SMALL_SUMMARY, _SMALL.table, _SIGNED, _NAMES)


@given(
    st.floats(-30.0, 30.0),
    st.floats(-30.0, 30.0),
    st.floats(-3.0, 3.0),
    st.floats(-3.0, 3.0),
    st.floats(-3.0, 5.0),
)
def test_extreme_effects_stay_finite(ep: float, ed: float, lr: float, ls: float, la: float) -> None:
    u = np.array([lr, la, ls, np.log(10.0), ep, 0.0, ed])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = dc._terms(u, _SIGNED_LAYOUT, want_grad=True)
    assert np.all(np.isfinite(t.loglik))
    alive = np.exp(t.log_alive)
    assert np.all((alive >= 0) & (alive <= 1))
    assert t.grad is not None
    assert np.all(np.isfinite(t.grad))


def test_chunks_of_the_integral_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    u = _u((0.4, -0.3, 0.5))
    whole = dc._terms(u, _LAYOUTS["daily"], want_grad=True)
    monkeypatch.setattr(dc, "_CHUNK", 37)
    assert len(dc._chunks(np.arange(_LAYOUTS["daily"].cust.size), _LAYOUTS["daily"].cust)) > 5
    cut = dc._terms(u, _LAYOUTS["daily"], want_grad=True)
    assert_allclose(cut.loglik, whole.loglik, rtol=1e-13, atol=1e-13)
    assert cut.grad is not None
    assert whole.grad is not None
    assert_allclose(cut.grad, whole.grad, rtol=1e-12, atol=1e-12)
