"""Tests of ``sample_params`` and of crmcore.models.uncertainty.

References: the draws are checked against the fit's own covariance with
statistical tolerances (standard errors of a sample mean and of a sample
covariance of normal draws, Anderson 2003, ch. 3); the points of every interval
against the fits' prediction methods (an independent code path); the coverage
of the intervals by repeated simulation from known parameters with the
simulator of crmcore.simulate.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from crmcore import CustomerSummary, InteractionTable
from crmcore import simulate as sim
from crmcore.errors import InputError, InputTypeError
from crmcore.models import bdw, bgbb, bgnbd, clv, gamma_gamma, mbgnbd, pareto_nbd, sbg
from crmcore.models import uncertainty as unc
from crmcore.summary import DiscreteSummary

REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]  # Fader & Hardie (2007)
TRUE_BG = (0.5, 4.0, 0.6, 2.5)


def _histories(n=600, seed=3, holdout=0.0, params=TRUE_BG):
    return sim.bgnbd_histories(*params, T=39.0, n_customers=n, duration_holdout=holdout, rng=seed)


@pytest.fixture(scope="module")
def bg():
    h = _histories()
    s = CustomerSummary.from_arrays(h.frequency, h.recency, h.T, time_unit="W")
    return bgnbd.fit(s), s


@pytest.fixture(scope="module")
def all_fits():
    h = _histories(n=300)
    d = sim.bgbb_histories(1.2, 0.75, 0.66, 2.8, n_periods=6, n_customers=300, rng=3)
    freq = np.arange(300) % 5
    spend = sim.gamma_gamma_spend(6.25, 3.74, 15.44, frequency=np.maximum(freq, 1), rng=3)
    return [
        bgnbd.fit(h.frequency, h.recency, h.T),
        mbgnbd.fit(h.frequency, h.recency, h.T),
        pareto_nbd.fit(h.frequency, h.recency, h.T),
        bgbb.fit(d.frequency, d.recency, np.full(300, 6)),
        gamma_gamma.fit(freq, np.where(freq > 0, spend.monetary_value, 0.0)),
        sbg.fit(REGULAR),
        bdw.fit(REGULAR),
    ]


# --------------------------------------------------------------------------- sample_params


def test_sample_params_moments_on_the_log_scale_for_every_model(all_fits):
    n = 40_000
    for f in all_fits:
        name = type(f).__name__
        d = f.sample_params(n, rng=11)
        theta = f.params.as_array()
        # the fit's covariance is on the natural scale: the log-scale one by the delta method
        c_log = np.asarray(f.covariance) / np.outer(theta, theta)
        u = np.log(d.values)
        se_mean = np.sqrt(np.diag(c_log) / n)
        assert np.all(np.abs(u.mean(axis=0) - np.log(theta)) < 5 * se_mean), name
        sd = np.sqrt(np.diag(c_log))
        # sample correlation-scale covariance: sd of an entry ~ sqrt((1 + rho^2) / n)
        got = np.cov(u.T) / np.outer(sd, sd)
        want = c_log / np.outer(sd, sd)
        assert np.all(np.abs(got - want) < 5 * np.sqrt(2.0 / n)), name
        assert d.names == tuple(f.params.__attrs_attrs__[j].name for j in range(theta.size))
        assert set(d.columns()) == set(d.names)
        assert all(not c.flags.writeable for c in d.columns().values())
        assert type(d.params(0)) is type(f.params)


def test_sample_params_reproducible_by_seed(bg):
    f, _ = bg
    a = f.sample_params(50, rng=7).values
    b = f.sample_params(50, rng=np.random.default_rng(7)).values
    c = f.sample_params(50, rng=8).values
    assert_allclose(a, b, rtol=0, atol=0)
    assert not np.allclose(a, c)


def test_sample_params_errors(bg):
    f, _ = bg
    with pytest.raises(InputError, match="n_draws must be >= 1"):
        f.sample_params(0, rng=0)
    with pytest.raises(InputTypeError, match="rng must be an int seed"):
        f.sample_params(3, rng=None)
    with pytest.raises(InputError, match="rng must be a non-negative seed"):
        f.sample_params(3, rng=-1)
    bad = bgnbd.BgNbdFit(
        params=f.params,
        standard_errors=f.params,
        covariance=-np.eye(4),
        log_likelihood=0.0,
        n_customers=1.0,
        converged=True,
        n_iterations=1,
    )
    with pytest.raises(InputError, match="covariance must be positive semi-definite"):
        bad.sample_params(3, rng=0)
    wrong = bgnbd.BgNbdFit(
        params=f.params,
        standard_errors=f.params,
        covariance=np.eye(3),
        log_likelihood=0.0,
        n_customers=1.0,
        converged=True,
        n_iterations=1,
    )
    with pytest.raises(InputError, match=r"covariance must be a \(4, 4\) matrix"):
        wrong.sample_params(3, rng=0)
    with pytest.raises(InputError, match="index must be <= 2"):
        f.sample_params(3, rng=0).params(3)


# --------------------------------------------------------------------------- intervals


QUANTITY_METHODS = {
    "probability_alive": lambda f, s, t: f.probability_alive(s),
    "expected_purchases": lambda f, s, t: f.conditional_expected_purchases(t, s),
    "purchase_probability": lambda f, s, t: f.conditional_purchase_probability(t, s),
}


def test_points_equal_the_fits_predictions(all_fits):
    h = _histories(n=40, seed=5)
    s = CustomerSummary.from_arrays(h.frequency, h.recency, h.T)
    d = sim.bgbb_histories(1.2, 0.75, 0.66, 2.8, n_periods=6, n_customers=40, rng=5)
    ds = DiscreteSummary(
        customer_ids=np.arange(40),
        frequency=d.frequency,
        recency=d.recency,
        n_periods=6,
        start=np.datetime64("2020-01-01", "ns"),
        period="Y",
    )
    for f in all_fits[:4]:
        summary, t = (ds, 3) if isinstance(f, bgbb.BgBbFit) else (s, 20.0)
        for q, method in QUANTITY_METHODS.items():
            pi = unc.prediction_interval(
                f, q, summary, t=None if q == "probability_alive" else t, n_draws=20, rng=1
            )
            want = method(f, summary, t)
            assert_allclose(pi.point, want, rtol=1e-12, err_msg=f"{type(f).__name__} {q}")
            assert_allclose(pi.total_point, want.sum(), rtol=1e-12)
            assert np.all(pi.lower <= pi.upper)
            assert pi.columns()["customer_ids"].tolist() == summary.customer_ids.tolist()
    g = all_fits[4]
    sm = CustomerSummary.from_arrays(
        [0, 2, 5], [0.0, 3.0, 30.0], [39.0] * 3, monetary_value=[0.0, 20.0, 35.0]
    )
    pi = unc.prediction_interval(g, "expected_spend", sm, n_draws=20, rng=1)
    assert_allclose(pi.point, g.conditional_expected_spend(sm), rtol=1e-12)


def test_unit_conversion_matches_the_fit(bg):
    f, s = bg  # fitted in weeks
    days = CustomerSummary.from_arrays(
        s.frequency[:30], s.recency[:30] * 7, s.T[:30] * 7, time_unit="D"
    )
    pi = unc.prediction_interval(f, "expected_purchases", days, t=70.0, n_draws=10, rng=0)
    assert_allclose(pi.point, f.conditional_expected_purchases(70.0, days), rtol=1e-12)
    weeks = f.conditional_expected_purchases(10.0, s.frequency[:30], s.recency[:30], s.T[:30])
    assert_allclose(pi.point, weeks, rtol=1e-9)


def test_same_seed_same_interval_and_chunks_do_not_matter(bg, monkeypatch):
    f, s = bg
    a = unc.prediction_interval(f, "probability_alive", s, n_draws=30, rng=4)
    b = unc.prediction_interval(f, "probability_alive", s, n_draws=30, rng=4)
    assert_allclose(a.lower, b.lower, rtol=0, atol=0)
    monkeypatch.setattr(unc, "_CHUNK_CELLS", 100)  # chunks of 3 distinct histories
    c = unc.prediction_interval(f, "probability_alive", s, n_draws=30, rng=4)
    assert_allclose(c.lower, a.lower, rtol=0, atol=0)
    assert_allclose(c.upper, a.upper, rtol=0, atol=0)
    assert_allclose(c.total_lower, a.total_lower, rtol=1e-12)


@settings(deadline=None)
@given(lo=st.floats(0.05, 0.9), hi=st.floats(0.05, 0.95), seed=st.integers(0, 2**32))
def test_intervals_nest_as_the_level_grows(bg, lo, hi, seed):
    f, s = bg
    s = s.select(np.arange(60))
    lo, hi = min(lo, hi), max(lo, hi)
    for method in ("draws", "delta"):
        a = unc.prediction_interval(
            f, "expected_purchases", s, t=10.0, level=lo, n_draws=20, rng=seed, method=method
        )
        b = unc.prediction_interval(
            f, "expected_purchases", s, t=10.0, level=hi, n_draws=20, rng=seed, method=method
        )
        assert np.all(b.lower <= a.lower + 1e-12)
        assert np.all(a.upper <= b.upper + 1e-12)
        assert b.total_lower <= a.total_lower + 1e-9
        assert a.total_upper <= b.total_upper + 1e-9


def test_delta_intervals_contain_the_point_and_match_draws_on_totals(bg):
    f, s = bg
    for q, t in (
        ("probability_alive", None),
        ("expected_purchases", 39.0),
        ("purchase_probability", 39.0),
    ):
        d = unc.prediction_interval(f, q, s, t=t, method="delta")
        assert d.n_draws == 0
        assert np.all(d.lower <= d.point)
        assert np.all(d.point <= d.upper)
        if q != "expected_purchases":
            assert np.all((d.lower >= 0) & (d.upper <= 1))
        m = unc.prediction_interval(f, q, s, t=t, n_draws=4000, rng=2)
        # totals: within a tenth of the width (Monte Carlo error of 4000 draws ~ 3%)
        width = m.total_upper - m.total_lower
        assert abs(d.total_lower - m.total_lower) < 0.1 * width, q
        assert abs(d.total_upper - m.total_upper) < 0.1 * width, q
        # per customer: within a fifth of the width where the width is not negligible
        w = m.upper - m.lower
        big = w > 1e-3
        assert np.all(np.abs(d.lower - m.lower)[big] < 0.2 * w[big] + 1e-6), q


def test_probability_alive_without_repeat_purchase_is_certain(bg):
    f, _ = bg
    s = CustomerSummary.from_arrays([0], [0.0], [20.0])
    for method in ("draws", "delta"):
        pi = unc.prediction_interval(f, "probability_alive", s, method=method, n_draws=10)
        assert pi.lower.tolist() == pi.upper.tolist() == [1.0]


def test_clv_interval_point_equals_customer_lifetime_value(bg):
    f, s = bg
    freq = np.asarray(s.frequency)
    spend = sim.gamma_gamma_spend(6.25, 3.74, 15.44, frequency=np.maximum(freq, 1), rng=3)
    m = np.where(freq > 0, spend.monetary_value, 0.0)
    sm = CustomerSummary.from_arrays(s.frequency, s.recency, s.T, monetary_value=m, time_unit="W")
    g = gamma_gamma.fit(sm)
    want = clv.customer_lifetime_value(f, g, sm, horizon=52, step=4, discount_rate=0.002)
    for method in ("draws", "delta"):
        pi = unc.clv_interval(
            f, g, sm, horizon=52, step=4, discount_rate=0.002, n_draws=40, method=method
        )
        assert_allclose(pi.point, want.clv, rtol=1e-12)
        assert np.all(pi.lower <= pi.upper)
        assert pi.total_lower < want.clv.sum() < pi.total_upper
    with pytest.raises(InputTypeError, match="purchase_fit must be a BgNbdFit"):
        unc.clv_interval(g, g, sm, horizon=52, step=4, discount_rate=0.002)


def test_tracking_interval_expected_equals_tracking(bg):
    f, _ = bg
    times = np.array(
        ["2024-01-01", "2024-01-10", "2024-01-03", "2024-01-20", "2024-02-02"],
        dtype="datetime64[ns]",
    )
    table = InteractionTable.from_arrays(["a", "a", "b", "b", "b"], times)
    tr = clv.tracking(f, table, observation_end="2024-02-10")
    for method in ("draws", "delta"):
        ti = unc.tracking_interval(
            f, table, observation_end="2024-02-10", n_draws=30, method=method
        )
        assert_allclose(ti.expected_cumulative, tr.expected_cumulative, rtol=1e-12)
        assert_allclose(ti.expected_incremental, tr.expected_incremental, rtol=1e-12, atol=1e-15)
        assert np.all(ti.cumulative_lower <= ti.cumulative_upper)
        assert next(iter(ti.columns())) == "period_start"


def test_interval_errors(bg, all_fits):
    f, s = bg
    with pytest.raises(InputError, match=r"level must be > 0\.0"):
        unc.prediction_interval(f, "probability_alive", s, level=0.0)
    with pytest.raises(InputError, match="n_draws must be <= 100000"):
        unc.prediction_interval(f, "probability_alive", s, n_draws=10**6)
    with pytest.raises(InputError, match="method must be one of"):
        unc.prediction_interval(f, "probability_alive", s, method="bayes")
    with pytest.raises(InputError, match="quantity must be one of"):
        unc.prediction_interval(f, "clv", s)
    with pytest.raises(InputTypeError, match="t is required"):
        unc.prediction_interval(f, "expected_purchases", s)
    with pytest.raises(InputTypeError, match="t must be left out"):
        unc.prediction_interval(f, "probability_alive", s, t=3.0)
    with pytest.raises(InputError, match=r"t must be >= 0\.0"):
        unc.prediction_interval(f, "expected_purchases", s, t=-3.0)
    with pytest.raises(InputTypeError, match="needs a GammaGammaFit"):
        unc.prediction_interval(f, "expected_spend", s)
    with pytest.raises(InputTypeError, match="predicts expected_spend only"):
        unc.prediction_interval(all_fits[4], "probability_alive", s)
    with pytest.raises(InputTypeError, match="fit must be a BgNbdFit"):
        unc.prediction_interval(all_fits[5], "probability_alive", s)
    with pytest.raises(InputTypeError, match="summary must be a DiscreteSummary"):
        unc.prediction_interval(all_fits[3], "probability_alive", s)
    with pytest.raises(InputTypeError, match="summary must be a CustomerSummary"):
        unc.prediction_interval(f, "probability_alive", [1, 2])
    with pytest.raises(InputTypeError, match="fit must be a BgNbdFit or ParetoNbdFit"):
        unc.parametric_bootstrap(all_fits[1], s, 5, rng=0)


# --------------------------------------------------------------------------- bootstrap


@pytest.mark.slow
def test_bootstrap_agrees_with_the_normal_approximation_on_a_small_case():
    h = _histories(n=400, seed=21)
    s = CustomerSummary.from_arrays(h.frequency, h.recency, h.T)
    f = bgnbd.fit(s)
    boot = unc.parametric_bootstrap(f, s, 60, rng=1)
    normal_sd = np.sqrt(np.diag(f.sample_params(2, rng=0).log_covariance))
    boot_sd = np.sqrt(np.diag(boot.log_covariance))
    # 60 replicates: the sd of a sample sd is about sd / sqrt(120), 9%; the normal
    # approximation on 400 customers is itself rough for b: allow 40%
    assert np.all(np.abs(boot_sd / normal_sd - 1) < 0.4), (boot_sd, normal_sd)
    assert boot.values.shape == (60, 4)


# --------------------------------------------------------------------------- coverage


@pytest.mark.slow
def test_ninety_percent_intervals_cover_the_truth_about_ninety_percent_of_the_time():
    """The interval of the total expected holdout purchases (P(alive)-weighted) at the
    fitted parameters should cover the same total at the true parameters in about 90% of
    repeated simulations (the interval describes the parameter uncertainty)."""
    true = bgnbd.BgNbdParams(r=TRUE_BG[0], alpha=TRUE_BG[1], a=TRUE_BG[2], b=TRUE_BG[3])
    reps, covered, covered_delta, per_customer = 60, 0, 0, []
    for k in range(reps):
        h = _histories(n=500, seed=1000 + k)
        s = CustomerSummary.from_arrays(h.frequency, h.recency, h.T)
        f = bgnbd.fit(s)
        truth = bgnbd.conditional_expected_purchases(true, 39.0, s)
        pi = unc.prediction_interval(f, "expected_purchases", s, t=39.0, n_draws=200, rng=k)
        covered += pi.total_lower <= truth.sum() <= pi.total_upper
        per_customer.append(np.mean((pi.lower <= truth) & (truth <= pi.upper)))
        d = unc.prediction_interval(f, "expected_purchases", s, t=39.0, method="delta")
        covered_delta += d.total_lower <= truth.sum() <= d.total_upper
    # binomial(60, 0.9): sd 0.039; 3 sd below and above
    mc = 3 * math.sqrt(0.9 * 0.1 / reps)
    assert abs(covered / reps - 0.9) < mc, covered
    assert abs(covered_delta / reps - 0.9) < mc, covered_delta
    assert abs(np.mean(per_customer) - 0.9) < mc, np.mean(per_customer)


def test_private_helper_draws_unconstrained_parameters_as_they_are():
    # the shared helper for fits with coefficients of either sign (log_scale=False)
    import attrs

    from crmcore.models import _draws

    @attrs.frozen(kw_only=True)
    class _P:
        rate: float
        gamma: float

        def as_array(self):
            return np.array([self.rate, self.gamma])

    p = _P(rate=2.0, gamma=-0.05)
    cov = np.array([[0.04, 0.0], [0.0, 0.01]])  # natural scale: sd(log rate) = 0.1
    d = _draws.sample_params(p, cov, 40_000, 3, log_scale=np.array([True, False]))
    n = 40_000
    assert abs(np.log(d.values[:, 0]).mean() - math.log(2.0)) < 5 * 0.1 / math.sqrt(n)
    assert abs(np.log(d.values[:, 0]).std() - 0.1) < 5 * 0.1 / math.sqrt(2 * n)
    assert abs(d.values[:, 1].mean() + 0.05) < 5 * 0.1 / math.sqrt(n)
    assert abs(d.values[:, 1].std() - 0.1) < 5 * 0.1 / math.sqrt(2 * n)
    assert (d.values[:, 1] > 0).any()  # the sign is free
    assert_allclose(d.estimates, [2.0, -0.05])


def test_private_column_quantiles_equal_numpy_quantile():
    # the partition-based quantiles of the draws against numpy.quantile's linear method
    g = np.random.default_rng(5)
    for n, probs in ((200, (0.05, 0.95)), (2, (0.25, 0.75)), (37, (0.5 - 1e-9, 0.5 + 1e-9))):
        block = g.gamma(0.5, size=(n, 300))
        want = np.quantile(block, probs, axis=0)
        lo, hi = unc._column_quantiles(block.copy(), np.array(probs))
        assert_allclose(lo, want[0], rtol=1e-14, atol=1e-300)
        assert_allclose(hi, want[1], rtol=1e-14, atol=1e-300)


def test_draws_use_the_kernels_with_the_values_of_the_public_methods(all_fits):
    # P(alive) at a draw by the private kernel path equals the public method's value
    h = _histories(n=50, seed=9)
    for f in all_fits[:3]:
        g = unc._at_u(f, np.log(f.params.as_array()) + 0.01)
        want = g.probability_alive(h.frequency, h.recency, h.T)
        got = unc._alive(g, h.frequency.astype(float), h.recency, h.T)
        assert_allclose(got, want, rtol=0, atol=0)
