"""Tracking series of covariate fits (clv.tracking and uncertainty.tracking_interval).

References: a covariate fit at all-zero covariates is the plain model (Fader &
Hardie 2007, note 019: the likelihood at zero covariates is the plain one), so
its tracking series must equal the plain fit's; with covariates the expected
cumulative repeat purchases are the sum over customers of each customer's own
E[X(age)] (Fader, Hardie & Lee 2005, the tracking plot), computed below by a
loop over customers and weeks with the plain models' public
``expected_purchases`` at the parameters of the customer (alpha_i = alpha
exp(-g_p z_i); BG/MBG: a_i = a exp(g_d w_i), b_i = b exp(g_d w_i); Pareto/NBD:
beta_i = beta exp(-g_d w_i), CLVTools' parameterisation).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from crmcore import InteractionTable
from crmcore.errors import InputError, InputTypeError
from crmcore.models import _covariates as cov
from crmcore.models import bgnbd, clv, mbgnbd, pareto_nbd
from crmcore.models import uncertainty as unc

BG_P = bgnbd.BgNbdParams(r=0.5, alpha=4.0, a=0.6, b=2.5)
MBG_P = mbgnbd.MbgNbdParams(r=0.5, alpha=4.0, a=0.6, b=2.5)
PN_P = pareto_nbd.ParetoNbdParams(r=0.55, alpha=10.6, s=0.61, beta=11.7)
MODELS = [
    (cov.BgNbdCovariateFit, bgnbd, BG_P),
    (cov.MbgNbdCovariateFit, mbgnbd, MBG_P),
    (cov.ParetoNbdCovariateFit, pareto_nbd, PN_P),
]
START = np.datetime64("2024-01-01", "ns")  # a Monday: ISO week j holds days 7j .. 7j + 6
END_DAY = 100  # observation_end, days after START
END = "2024-04-10"


def _spd(k, seed):
    g = np.random.default_rng(seed)
    a = g.normal(size=(k, k))
    c = a @ a.T + k * np.eye(k)
    sd = np.linspace(0.05, 0.2, k)
    d = np.sqrt(np.diag(c))
    return c / np.outer(d, d) * np.outer(sd, sd)


def _fit(cls, params, *, coef=(0.4, -0.3), kp=1, kd=1, seed=0):
    k = 4 + kp + kd
    return cls(
        params=params,
        standard_errors=params,
        purchase_coefficients=np.array(coef[:kp]),
        purchase_standard_errors=np.full(kp, 0.1),
        purchase_names=tuple(f"z{j}" for j in range(kp)),
        dropout_coefficients=np.array(coef[kp : kp + kd]),
        dropout_standard_errors=np.full(kd, 0.1),
        dropout_names=tuple(f"w{j}" for j in range(kd)),
        covariance=_spd(k, seed),
        log_likelihood=-100.0,
        n_customers=1000.0,
        converged=True,
        n_iterations=1,
        time_unit="W",
    )


def _plain(module, params):
    cls = {bgnbd: bgnbd.BgNbdFit, mbgnbd: mbgnbd.MbgNbdFit, pareto_nbd: pareto_nbd.ParetoNbdFit}
    return cls[module](
        params=params,
        standard_errors=params,
        covariance=np.eye(4) * 1e-3,
        log_likelihood=0.0,
        n_customers=1.0,
        converged=True,
        n_iterations=1,
        time_unit="W",
    )


def _table(n=40, seed=0, late=3):
    """n customers with purchase days in [0, 110); ``late`` of them only after END_DAY."""
    g = np.random.default_rng(seed)
    first = g.integers(0, 60, size=n)
    first[:late] = END_DAY + 2  # no purchase by observation_end
    days = np.concatenate([first, first + g.integers(0, 30, size=n)])
    ids = np.concatenate([np.arange(n), np.arange(n)])
    times = START + days.astype("timedelta64[D]")
    return InteractionTable.from_arrays([f"c{i:03d}" for i in ids], times), first


def _brute(module, params, coef, covariates, first):
    """Sum over customers and ISO weeks of E[X(age)] at the customer's own parameters."""
    n_weeks = END_DAY // 7 + 1
    out = np.zeros(n_weeks)
    gp, gd = coef
    z, w = covariates
    for i, day in enumerate(first):
        if day > END_DAY:
            continue
        if module is pareto_nbd:
            p = pareto_nbd.ParetoNbdParams(
                r=params.r,
                alpha=params.alpha * np.exp(-gp * z[i]),
                s=params.s,
                beta=params.beta * np.exp(-gd * w[i]),
            )
        else:
            p = type(params)(
                r=params.r,
                alpha=params.alpha * np.exp(-gp * z[i]),
                a=params.a * np.exp(gd * w[i]),
                b=params.b * np.exp(gd * w[i]),
            )
        for j in range(n_weeks):
            last = min(7 * j + 6, END_DAY)
            if last >= day:
                out[j] += module.expected_purchases(p, (last - day) / 7.0)
    return out


@pytest.mark.parametrize(("cls", "module", "params"), MODELS)
def test_zero_covariates_give_the_plain_fits_series(cls, module, params):
    table, _ = _table()
    f = _fit(cls, params)
    zero = np.zeros((table.n_customers, 1))
    got = clv.tracking(
        f, table, observation_end=END, purchase_covariates=zero, dropout_covariates=zero
    )
    want = clv.tracking(_plain(module, params), table, observation_end=END)
    assert_allclose(got.expected_cumulative, want.expected_cumulative, rtol=1e-12)
    assert_allclose(got.expected_incremental, want.expected_incremental, rtol=1e-12, atol=1e-15)
    assert_array_equal(got.actual_cumulative, want.actual_cumulative)
    assert got.n_customers == want.n_customers


@pytest.mark.parametrize(("cls", "module", "params"), MODELS)
def test_series_is_the_sum_of_each_customers_own_expectation(cls, module, params):
    table, first = _table()
    g = np.random.default_rng(3)
    z = g.normal(size=table.n_customers)
    w = g.normal(size=table.n_customers)
    f = _fit(cls, params, coef=(0.4, -0.3))
    tr = clv.tracking(
        f, table, observation_end=END, purchase_covariates=z, dropout_covariates={"w0": w}
    )
    want = _brute(module, params, (0.4, -0.3), (z, w), first)
    assert_allclose(tr.expected_cumulative, want, rtol=1e-10)
    assert tr.n_customers == table.n_customers - 3


def test_blocks_of_cells_do_not_change_the_series(monkeypatch):
    table, _ = _table()
    z = np.random.default_rng(1).normal(size=(table.n_customers, 1))
    for cls, _module, params in MODELS:
        f = _fit(cls, params)
        kw = {"observation_end": END, "purchase_covariates": z, "dropout_covariates": -z}
        whole = clv.tracking(f, table, **kw).expected_cumulative
        with monkeypatch.context() as m:
            m.setattr(clv, "_TRACKING_CELLS", 7)
            assert_allclose(clv.tracking(f, table, **kw).expected_cumulative, whole, rtol=1e-13)


def test_covariate_tracking_errors_name_the_matrix():
    table, _ = _table(n=5, late=0)
    f = _fit(cov.BgNbdCovariateFit, BG_P)
    z = np.zeros(5)
    with pytest.raises(InputError, match="purchase_covariates is missing"):
        clv.tracking(f, table, observation_end=END, dropout_covariates=z)
    with pytest.raises(InputError, match=r"one row per customer \(5, the customers of the table"):
        clv.tracking(f, table, observation_end=END, purchase_covariates=z, dropout_covariates=z[:4])
    with pytest.raises(InputError, match="purchase_covariates must have 1 columns"):
        clv.tracking(
            f,
            table,
            observation_end=END,
            purchase_covariates=np.zeros((5, 2)),
            dropout_covariates=z,
        )
    with pytest.raises(InputError, match="must name the fit's covariates"):
        clv.tracking(
            f, table, observation_end=END, purchase_covariates={"age": z}, dropout_covariates=z
        )
    with pytest.raises(InputError, match="must stay within"):
        clv.tracking(
            f, table, observation_end=END, purchase_covariates=z + 1e3, dropout_covariates=z
        )
    with pytest.raises(InputError, match="purchase_covariates must be left out"):
        clv.tracking(_plain(bgnbd, BG_P), table, observation_end=END, purchase_covariates=z)
    with pytest.raises(InputError, match="dropout_covariates is missing"):
        unc.tracking_interval(f, table, observation_end=END, purchase_covariates=z)
    with pytest.raises(InputTypeError, match="fit must be a BgNbdFit, MbgNbdFit or ParetoNbdFit"):
        unc.tracking_interval(BG_P, table, observation_end=END)


# --------------------------------------------------------------------------- intervals


@pytest.mark.parametrize(("cls", "module", "params"), MODELS)
def test_intervals_are_reproducible_and_bracket_the_point(cls, module, params):
    table, _ = _table()
    z = np.random.default_rng(2).normal(size=(table.n_customers, 1))
    f = _fit(cls, params)
    kw = {"observation_end": END, "purchase_covariates": z, "dropout_covariates": z**2}
    point = clv.tracking(f, table, **kw)
    a = unc.tracking_interval(f, table, n_draws=40, rng=5, **kw)
    b = unc.tracking_interval(f, table, n_draws=40, rng=5, **kw)
    c = unc.tracking_interval(f, table, n_draws=40, rng=6, **kw)
    for name in ("cumulative_lower", "cumulative_upper", "incremental_lower", "incremental_upper"):
        assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.cumulative_upper, c.cumulative_upper)
    for ti in (a, unc.tracking_interval(f, table, method="delta", **kw)):
        assert_allclose(ti.expected_cumulative, point.expected_cumulative, rtol=1e-12)
        assert_allclose(ti.expected_incremental, point.expected_incremental, rtol=1e-12)
        started = ti.expected_cumulative > 0
        assert np.all(ti.cumulative_lower[started] < ti.expected_cumulative[started])
        assert np.all(ti.expected_cumulative[started] < ti.cumulative_upper[started])
        assert np.all(ti.incremental_lower <= ti.expected_incremental)
        assert np.all(ti.expected_incremental <= ti.incremental_upper)
    assert a.n_draws == 40
    assert a.method == "draws"


def test_interval_draws_do_not_depend_on_the_blocks(monkeypatch):
    table, _ = _table()
    z = np.random.default_rng(2).normal(size=(table.n_customers, 1))
    f = _fit(cov.ParetoNbdCovariateFit, PN_P)
    kw = {"observation_end": END, "purchase_covariates": z, "dropout_covariates": z}
    whole = unc.tracking_interval(f, table, n_draws=30, rng=1, **kw)
    monkeypatch.setattr(unc, "_CHUNK_CELLS", 30 * 4)  # four reporting periods per block
    monkeypatch.setattr(clv, "_TRACKING_CELLS", 50)
    split = unc.tracking_interval(f, table, n_draws=30, rng=1, **kw)
    for name in ("cumulative_lower", "cumulative_upper", "incremental_lower", "incremental_upper"):
        assert_allclose(getattr(split, name), getattr(whole, name), rtol=1e-12)


def test_plain_fit_intervals_unchanged_by_the_single_pass():
    # the cumulative bounds are the quantiles of each draw's running total, the incremental
    # ones those of its differences: recomputed here from the fit's own draws
    table, first = _table()
    f = _plain(bgnbd, BG_P)
    ti = unc.tracking_interval(f, table, observation_end=END, n_draws=50, rng=4, level=0.8)
    seed = int(np.random.default_rng(4).integers(2**62))
    draws = f.sample_params(50, rng=seed)
    z = np.zeros(first.size)
    series = np.array(
        [_brute(bgnbd, draws.params(d), (0.0, 0.0), (z, z), first) for d in range(50)]
    )
    assert_allclose(ti.cumulative_lower, np.quantile(series, 0.1, axis=0), rtol=1e-9)
    assert_allclose(ti.cumulative_upper, np.quantile(series, 0.9, axis=0), rtol=1e-9)
    inc = np.diff(series, axis=1, prepend=0.0)
    assert_allclose(ti.incremental_upper, np.quantile(inc, 0.9, axis=0), rtol=1e-9)


# --------------------------------------------------------------------------- properties


@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from(range(len(MODELS))),
    st.floats(-1.5, 1.5),
    st.floats(-1.5, 1.5),
)
def test_customer_order_does_not_matter_and_series_are_monotone(seed, which, gp, gd):
    cls, _, params = MODELS[which]
    g = np.random.default_rng(seed)
    n = int(g.integers(1, 25))
    first = g.integers(0, 90, size=n)
    days = np.concatenate([first, first + g.integers(0, 40, size=n)])
    z = np.round(g.normal(size=(n, 1)), 1)  # repeated rows too
    w = g.normal(size=(n, 1))
    f = _fit(cls, params, coef=(gp, gd))
    times = START + days.astype("timedelta64[D]")
    ids = np.concatenate([np.arange(n), np.arange(n)])
    t1 = InteractionTable.from_arrays([f"c{i:03d}" for i in ids], times)
    perm = g.permutation(n)  # customer i becomes perm[i]: its row of covariates moves along
    rows = g.permutation(ids.size)  # and the log's rows are shuffled
    t2 = InteractionTable.from_arrays([f"c{perm[i]:03d}" for i in ids[rows]], times[rows])
    z2, w2 = np.empty_like(z), np.empty_like(w)
    z2[perm], w2[perm] = z, w
    a = clv.tracking(f, t1, observation_end=END, purchase_covariates=z, dropout_covariates=w)
    b = clv.tracking(f, t2, observation_end=END, purchase_covariates=z2, dropout_covariates=w2)
    assert_allclose(a.expected_cumulative, b.expected_cumulative, rtol=1e-12, atol=1e-300)
    assert np.all(np.diff(a.expected_cumulative) >= 0)
    assert np.all(a.expected_incremental >= 0)
    ti = unc.tracking_interval(
        f, t1, observation_end=END, purchase_covariates=z, dropout_covariates=w, n_draws=20
    )
    assert np.all(np.diff(ti.cumulative_lower) >= 0)
    assert np.all(np.diff(ti.cumulative_upper) >= 0)
    assert np.all(ti.cumulative_lower <= ti.cumulative_upper)
    assert np.all(ti.incremental_lower >= 0)
