"""Tests of crmcore.models.clv: lifetime value and model checks.

References are brute force: explicit loops over customers, steps and
periods calling the model's own per-customer functions, and hand-computed
values for stub models whose expectations are linear in time.
"""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from crmcore import InteractionTable, summarize
from crmcore.errors import InputError, InputTypeError
from crmcore.models import bgbb, bgnbd, clv, gamma_gamma, pareto_nbd
from crmcore.simulate import pareto_nbd_histories
from crmcore.summary import CustomerSummary
from tests.models._bgnbd_family import simulate

THETA = (0.5, 6.0, 0.9, 2.5)


@attrs.frozen
class _LinearParams:
    rate: float


@attrs.frozen
class _LinearFit:
    """Stub purchase model: every customer buys `rate` times per time unit, forever."""

    params: _LinearParams

    def conditional_expected_purchases(self, t, frequency, recency=None, T=None):
        return np.full(np.asarray(frequency).shape, self.params.rate * t)

    def conditional_expected_purchases_at(self, t, frequency, recency=None, T=None):
        ones = np.ones(np.asarray(frequency).shape)
        return self.params.rate * ones[:, None] * np.asarray(t, dtype=float)[None, :]

    def expected_purchases(self, t):
        return self.params.rate * np.asarray(t, dtype=float)


@attrs.frozen
class _FlatSpend:
    value: float

    def conditional_expected_spend(self, frequency, monetary_value=None):
        return np.full(np.asarray(frequency).shape, self.value)


def _bg_fit():
    x, tx, T, *_ = simulate(THETA, 30.0, 3000, seed=21)
    return bgnbd.fit(x, tx, T)


@pytest.fixture(scope="module")
def bg_fit():
    return _bg_fit()


@pytest.fixture(scope="module")
def gg_fit():
    rng = np.random.default_rng(22)
    x = rng.integers(1, 6, 2000)
    nu = rng.gamma(3.0, 1 / 20.0, x.size)
    m = rng.gamma(4.0 * x, 1 / (x * nu))
    return gamma_gamma.fit(x, m)


def _summary(n=50, seed=23):
    x, tx, T, *_ = simulate(THETA, 30.0, n, seed=seed)
    m = np.where(x > 0, np.random.default_rng(seed).uniform(5, 50, n), 0.0)
    return CustomerSummary.from_arrays(x, np.round(tx, 1), T, monetary_value=m, time_unit="W")


# --------------------------------------------------------------------------- CLV


def test_clv_stub_models_hand_computed():
    # 2 purchases per week, spend 10, margin 0.3, 5% per week, steps ending at 4, 8, 10:
    # CLV = 0.3 * 10 * (8/1.05^4 + 8/1.05^8 + 4/1.05^10)
    s = CustomerSummary.from_arrays([1, 0], [2.0, 0.0], [5.0, 5.0], monetary_value=[7.0, 0.0])
    v = clv.customer_lifetime_value(
        _LinearFit(_LinearParams(2.0)),
        _FlatSpend(10.0),
        s,
        horizon=10,
        step=4,
        discount_rate=0.05,
        margin=0.3,
    )
    expected = 0.3 * 10 * (8 / 1.05**4 + 8 / 1.05**8 + 4 / 1.05**10)
    assert_allclose(v.clv, [expected, expected], rtol=1e-13)
    assert_allclose(v.step_ends, [4, 8, 10])
    assert_allclose(v.discount_factors, 1.05 ** -np.array([4.0, 8.0, 10.0]))
    assert_allclose(v.expected_purchases, [20.0, 20.0])
    assert (v.horizon, v.step, v.discount_rate, v.margin, v.discounting, v.time_unit) == (
        10.0,
        4.0,
        0.05,
        0.3,
        "discrete",
        "D",
    )
    cont = clv.customer_lifetime_value(
        _LinearFit(_LinearParams(2.0)),
        _FlatSpend(10.0),
        s,
        horizon=10,
        step=4,
        discount_rate=0.05,
        margin=0.3,
        discounting="continuous",
    )
    expected_c = 0.3 * 10 * (8 * np.exp(-0.2) + 8 * np.exp(-0.4) + 4 * np.exp(-0.5))
    assert_allclose(cont.clv, [expected_c, expected_c], rtol=1e-13)


@pytest.mark.parametrize("discounting", ["discrete", "continuous"])
def test_clv_bgnbd_matches_loop_over_steps(bg_fit, gg_fit, discounting):
    s = _summary()
    v = clv.customer_lifetime_value(
        bg_fit, gg_fit, s, horizon=52, step=4, discount_rate=0.003, discounting=discounting
    )
    x, tx, T, m = s.frequency, s.recency, s.T, s.monetary_value
    spend = gamma_gamma.conditional_expected_spend(gg_fit.params, x, m)
    brute = np.zeros(len(s))
    previous = np.zeros(len(s))
    for k in range(1, 14):
        t = 4.0 * k
        cum = np.array(
            [
                bgnbd.conditional_expected_purchases(bg_fit.params, t, [x[i]], [tx[i]], [T[i]])[0]
                for i in range(len(s))
            ]
        )
        factor = 1.003**-t if discounting == "discrete" else np.exp(-0.003 * t)
        brute += (cum - previous) * factor
        previous = cum
    assert_allclose(v.clv, spend * brute, rtol=1e-10)
    assert_allclose(v.expected_purchases, previous, rtol=1e-10)
    assert_allclose(v.expected_spend, spend)


def test_clv_any_fit_with_the_protocol_method_is_accepted(bg_fit, gg_fit):
    # A fit crmcore does not know, with conditional_expected_purchases_at written as a
    # loop over horizons of the model's one-horizon function, gives the same CLV.
    @attrs.frozen
    class Wrapped:
        inner: bgnbd.BgNbdFit

        def conditional_expected_purchases_at(self, t, frequency, recency=None, T=None):
            cols = [
                self.inner.conditional_expected_purchases(float(u), frequency, recency, T)
                for u in t
            ]
            return np.column_stack(cols)

    s = _summary(200, seed=24)
    fast = clv.customer_lifetime_value(bg_fit, gg_fit, s, horizon=26, step=2, discount_rate=0.01)
    slow = clv.customer_lifetime_value(
        Wrapped(bg_fit), gg_fit, s, horizon=26, step=2, discount_rate=0.01
    )
    assert_allclose(fast.clv, slow.clv, rtol=1e-12)


def test_clv_pareto_nbd_matches_loop_over_steps(gg_fit):
    # Pareto/NBD through the same protocol; reference: a loop over steps of the
    # model's public one-horizon function.
    sim = pareto_nbd_histories(0.55, 10.58, 0.61, 11.67, T=39.0, n_customers=3000, rng=53)
    fit = pareto_nbd.fit(sim.frequency, sim.recency, sim.T)
    s = _summary(60, seed=54)
    v = clv.customer_lifetime_value(fit, gg_fit, s, horizon=20, step=5, discount_rate=0.01)
    spend = gg_fit.conditional_expected_spend(s)
    brute = np.zeros(len(s))
    previous = np.zeros(len(s))
    for t in (5.0, 10.0, 15.0, 20.0):
        cum = pareto_nbd.conditional_expected_purchases(fit.params, t, s)
        brute += (cum - previous) * 1.01**-t
        previous = cum
    assert_allclose(v.clv, spend * brute, rtol=1e-12)
    at = fit.conditional_expected_purchases_at([0.0, 5.0, 20.0], s)
    assert at.shape == (len(s), 3)
    assert_allclose(at[:, 2], previous, rtol=1e-14)
    with pytest.raises(InputError, match="t must be 1-dimensional"):
        fit.conditional_expected_purchases_at([[1.0]], s)


def test_clv_zero_for_rows_without_purchase(bg_fit, gg_fit):
    times = np.array(["2024-01-01", "2024-02-01", "2024-01-05"], dtype="datetime64[ns]")
    table = InteractionTable.from_arrays(
        ["a", "a", "b"], times, kinds=["purchase", "purchase", "visit"], amounts=[10, 20, 0]
    )
    s = summarize(table, observation_end="2024-03-01", time_unit="W")
    v = clv.customer_lifetime_value(bg_fit, gg_fit, s, horizon=52, step=4, discount_rate=0.0)
    assert s.has_purchase.tolist() == [True, False]
    assert v.clv[0] > 0
    assert v.clv[1] == 0
    assert v.customer_ids.tolist() == ["a", "b"]


_BG_FIT = _bg_fit()
_SMALL = _summary(20, seed=25)


@given(
    st.floats(1.0, 100.0),
    st.floats(0.5, 10.0),
    st.floats(0.0, 0.05),
    st.floats(0.0, 1.0),
)
@settings(max_examples=30)
def test_clv_monotone_in_horizon_and_rate_linear_in_margin(horizon, step, rate, margin):
    fit = _BG_FIT
    spend = _FlatSpend(12.0)
    s = _SMALL
    step = min(step, horizon)
    base = clv.customer_lifetime_value(
        fit, spend, s, horizon=horizon, step=step, discount_rate=rate, margin=margin
    )
    longer = clv.customer_lifetime_value(
        fit, spend, s, horizon=horizon + step, step=step, discount_rate=rate, margin=margin
    )
    dearer = clv.customer_lifetime_value(
        fit, spend, s, horizon=horizon, step=step, discount_rate=rate + 0.01, margin=margin
    )
    assert np.all(base.clv >= 0)
    assert np.all(longer.clv >= base.clv * (1 - 1e-12))
    assert np.all(dearer.clv <= base.clv * (1 + 1e-12))
    full = clv.customer_lifetime_value(
        fit, spend, s, horizon=horizon, step=step, discount_rate=rate
    )
    assert_allclose(base.clv, margin * full.clv, rtol=1e-12, atol=1e-300)


def test_clv_errors(bg_fit, gg_fit):
    s = _summary(5)
    kw = {"horizon": 52, "step": 4, "discount_rate": 0.01}
    with pytest.raises(InputError, match="step must not exceed horizon"):
        clv.customer_lifetime_value(bg_fit, gg_fit, s, horizon=4, step=5, discount_rate=0.0)
    with pytest.raises(InputError, match=r"discount_rate must be >= 0\.0"):
        clv.customer_lifetime_value(bg_fit, gg_fit, s, horizon=4, step=2, discount_rate=-0.1)
    with pytest.raises(InputError, match=r"margin must be <= 1\.0"):
        clv.customer_lifetime_value(bg_fit, gg_fit, s, margin=1.5, **kw)
    with pytest.raises(InputError, match="discounting must be one of"):
        clv.customer_lifetime_value(bg_fit, gg_fit, s, discounting="yearly", **kw)
    with pytest.raises(InputTypeError, match="summary must be a CustomerSummary"):
        clv.customer_lifetime_value(bg_fit, gg_fit, [1, 2], **kw)


def _bgbb_fit():
    # a BG/BB fit as bgbb.fit returns it (values from Fader, Hardie & Shang 2010, table 2)
    p = bgbb.BgBbParams(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
    return bgbb.BgBbFit(
        params=p,
        standard_errors=p,
        covariance=np.eye(4),
        log_likelihood=-33225.6,
        n_customers=11104.0,
        converged=True,
        n_iterations=30,
    )


@pytest.mark.parametrize(
    "not_a_fit",
    [None, "bgnbd", bgnbd.BgNbdParams(r=0.5, alpha=6.0, a=0.9, b=2.5), _bgbb_fit()],
    ids=["None", "str", "params", "bgbb-fit"],
)
def test_clv_refuses_what_is_not_a_purchase_fit(not_a_fit, bg_fit, gg_fit):
    s = _summary(5)
    kw = {"horizon": 52, "step": 4, "discount_rate": 0.01}
    with pytest.raises(InputTypeError, match="purchase_fit must be a fitted model with"):
        clv.customer_lifetime_value(not_a_fit, gg_fit, s, **kw)
    with pytest.raises(InputTypeError, match="spend_fit must be a fitted model with"):
        clv.customer_lifetime_value(bg_fit, not_a_fit, s, **kw)


def test_model_checks_refuse_what_is_not_a_purchase_fit(bg_fit):
    s = CustomerSummary.from_arrays([0, 1], [0.0, 30.0], [39.0, 39.0])
    for not_a_fit in (None, "bgnbd", bg_fit.params, _bgbb_fit()):
        with pytest.raises(InputTypeError, match=r"^fit must be a fitted model with"):
            clv.holdout_comparison(not_a_fit, s, [0, 1], duration_holdout=39.0)
        with pytest.raises(InputTypeError, match=r"^fit must be a fitted model with"):
            clv.frequency_histogram(not_a_fit, s, max_frequency=1)


def test_integers_beyond_the_float_range_raise_input_error(bg_fit, gg_fit):
    s = _summary(3)
    kw = {"horizon": 52, "step": 4, "discount_rate": 0.01, "margin": 0.5}
    for name in kw:
        bad = {**kw, name: 10**400}
        with pytest.raises(
            InputError,
            match=rf"^{name} must (be( a)? finite|fit in a 64-bit)",
        ):
            clv.customer_lifetime_value(bg_fit, gg_fit, s, **bad)
    with pytest.raises(
        InputError,
        match=r"^duration_holdout must (be( a)? finite|fit in a 64-bit)",
    ):
        clv.holdout_comparison(bg_fit, s, [0] * len(s), duration_holdout=10**400)


def test_clv_step_count_is_bounded(bg_fit, gg_fit):
    # horizon / step beyond MAX_STEPS (10,000) would build a customers x steps matrix of
    # any size (1e300 / 1e-300 steps): a clear error instead; the bound itself is accepted.
    s = _summary(3)
    assert clv.MAX_STEPS == 10_000
    with pytest.raises(InputError, match=r"horizon / step must be at most 10000 \(MAX_STEPS\)"):
        clv.customer_lifetime_value(bg_fit, gg_fit, s, horizon=1e300, step=1e-300, discount_rate=0)
    with pytest.raises(InputError, match="horizon / step must be at most 10000"):
        clv.customer_lifetime_value(bg_fit, gg_fit, s, horizon=10_001, step=1, discount_rate=0)
    v = clv.customer_lifetime_value(bg_fit, gg_fit, s, horizon=10_000, step=1, discount_rate=0)
    assert v.step_ends.size == 10_000
    assert np.all(np.isfinite(v.clv))


# --------------------------------------------------------------------------- holdout comparison


def _table_with_holdout():
    rng = np.random.default_rng(31)
    n = 300
    ids = np.repeat(np.arange(n), 6)
    days = rng.integers(0, 200, ids.size)
    first = rng.integers(0, 60, n)
    days = np.maximum(days, first[ids])
    keep = rng.random(ids.size) < 0.5
    keep[np.searchsorted(ids, np.arange(n))] = True  # every customer buys at least once
    times = np.datetime64("2024-01-01", "ns") + (days[keep] * 86400 * 10**9).astype(
        "timedelta64[ns]"
    )
    return InteractionTable.from_arrays(ids[keep], times, amounts=rng.uniform(5, 50, keep.sum()))


def test_holdout_comparison_brute_force(bg_fit):
    table = _table_with_holdout()
    s = summarize(table, observation_end="2024-07-18", calibration_end="2024-04-30", time_unit="W")
    hc = clv.holdout_comparison(bg_fit, s)
    assert hc.frequency.tolist() == list(range(8))
    buyers = np.flatnonzero(s.has_purchase)
    for k in range(8):
        rows = [i for i in buyers if min(s.frequency[i], 7) == k]
        assert hc.n_customers[k] == len(rows)
        if rows:
            actual = np.mean([s.frequency_holdout[i] for i in rows])
            expected = np.mean(
                [
                    bgnbd.conditional_expected_purchases(
                        bg_fit.params,
                        s.duration_holdout,
                        [s.frequency[i]],
                        [s.recency[i]],
                        [s.T[i]],
                    )[0]
                    for i in rows
                ]
            )
            assert_allclose(hc.actual[k], actual, rtol=1e-12)
            assert_allclose(hc.expected[k], expected, rtol=1e-10)
    assert_allclose(hc.actual_total, s.frequency_holdout[buyers].sum())
    assert hc.duration_holdout == s.duration_holdout
    # explicit holdout counts and duration give the same
    again = clv.holdout_comparison(
        bg_fit, s, s.frequency_holdout, duration_holdout=s.duration_holdout, max_frequency=7
    )
    assert_allclose(again.expected, hc.expected)


def test_holdout_comparison_errors(bg_fit):
    s = CustomerSummary.from_arrays([0, 1], [0.0, 1.0], [3.0, 3.0])
    with pytest.raises(InputTypeError, match="holdout is required"):
        clv.holdout_comparison(bg_fit, s)
    with pytest.raises(InputTypeError, match="duration_holdout is required"):
        clv.holdout_comparison(bg_fit, s, [0, 1])
    with pytest.raises(InputError, match="holdout must have the same length"):
        clv.holdout_comparison(bg_fit, s, [0, 1, 2], duration_holdout=2.0)
    with pytest.raises(InputError, match="holdout must be non-negative"):
        clv.holdout_comparison(bg_fit, s, [0, -1], duration_holdout=2.0)
    with pytest.raises(InputTypeError, match="calibration must be a CustomerSummary"):
        clv.holdout_comparison(bg_fit, [0, 1], [0, 1], duration_holdout=2.0)


# --------------------------------------------------------------------------- frequency histogram


def test_frequency_histogram_brute_force(bg_fit):
    s = _summary(400, seed=41)
    h = clv.frequency_histogram(bg_fit, s, max_frequency=6)
    expected = np.zeros(7)
    for i in range(len(s)):
        for k in range(6):
            expected[k] += bgnbd.purchase_probability(bg_fit.params, k, float(s.T[i]))
    expected[6] = len(s) - expected[:6].sum()
    actual = np.array([(np.minimum(s.frequency, 6) == k).sum() for k in range(7)], dtype=float)
    assert_allclose(h.expected, expected, rtol=1e-10)
    assert_allclose(h.actual, actual)
    chi2 = ((actual - expected) ** 2 / expected).sum()
    assert_allclose(h.chi_square, chi2, rtol=1e-10)
    assert h.degrees_of_freedom == 2  # 7 bins - 1 - 4 parameters
    assert_allclose(h.p_value, np.exp(-chi2 / 2), rtol=1e-10)  # chi-square(2) tail


def test_frequency_histogram_errors(bg_fit):
    s = _summary(20)
    with pytest.raises(InputError, match="max_frequency must be >= 1"):
        clv.frequency_histogram(bg_fit, s, max_frequency=0)
    with pytest.raises(InputTypeError, match="summary must be a CustomerSummary"):
        clv.frequency_histogram(bg_fit, [1, 2])


# --------------------------------------------------------------------------- tracking


def test_tracking_brute_force(bg_fit):
    # Days merged into occasions, reported per ISO week; expected value by a
    # loop over customers and weeks of E[X(end of week - first purchase day)].
    times = np.array(
        [
            "2024-01-01T10",  # a: first (Monday, week 0)
            "2024-01-01T15",  # a: same day, same occasion
            "2024-01-09",  # a: repeat in week 1
            "2024-01-20",  # a: repeat in week 2
            "2024-01-04",  # b: first (Thursday, week 0)
            "2024-01-17",  # b: repeat in week 2
            "2024-01-10",  # c: first (week 1)
            "2024-01-30",  # c: after the end, ignored
        ],
        dtype="datetime64[ns]",
    )
    table = InteractionTable.from_arrays(["a", "a", "a", "a", "b", "b", "c", "c"], times)
    tr = clv.tracking(bg_fit, table, observation_end="2024-01-21", period="D", time_unit="W")
    assert tr.period_start.astype("datetime64[D]").astype(str).tolist() == [
        "2024-01-01",
        "2024-01-08",
        "2024-01-15",
    ]
    assert tr.actual_incremental.tolist() == [0.0, 1.0, 2.0]
    assert tr.actual_cumulative.tolist() == [0.0, 1.0, 3.0]
    assert tr.n_customers == 3
    first_day = {"a": 0, "b": 3, "c": 9}  # days after 2024-01-01
    week_last_day = [6, 13, 20]  # last day inside each week (observation ends on day 20)
    expected = []
    for last in week_last_day:
        total = 0.0
        for day in first_day.values():
            if last >= day:
                total += bgnbd.expected_purchases(bg_fit.params, (last - day) / 7)
        expected.append(total)
    assert_allclose(tr.expected_cumulative, expected, rtol=1e-12)
    assert_allclose(tr.expected_incremental, np.diff(expected, prepend=0.0), rtol=1e-12)


def test_tracking_errors(bg_fit):
    table = InteractionTable.from_arrays(["a"], np.array(["2024-01-01"], dtype="datetime64[ns]"))
    with pytest.raises(InputError, match="no purchase by observation_end"):
        clv.tracking(bg_fit, table, observation_end="2023-01-01")
    with pytest.raises(InputError, match="does not divide"):
        clv.tracking(bg_fit, table, observation_end="2024-02-01", period="D", time_unit="M")
    with pytest.raises(InputTypeError, match="table must be an InteractionTable"):
        clv.tracking(bg_fit, [1], observation_end="2024-02-01")
    # BG/BB counts discrete opportunities, not calendar time; parameters are not a fit
    for not_a_fit in (_bgbb_fit(), bg_fit.params, None):
        with pytest.raises(InputTypeError, match="fit must be a fitted model with"):
            clv.tracking(not_a_fit, table, observation_end="2024-02-01")


def test_clv_mbgnbd_fast_path_equals_loop(gg_fit):
    from crmcore.models import mbgnbd

    x, tx, T, *_ = simulate(THETA, 30.0, 2000, seed=51, shift=1)
    fit = mbgnbd.fit(x, tx, T)
    s = _summary(100, seed=52)
    v = clv.customer_lifetime_value(fit, gg_fit, s, horizon=12, step=4, discount_rate=0.0)
    by_hand = fit.conditional_expected_purchases(12.0, s)
    spend = gg_fit.conditional_expected_spend(s)
    assert_allclose(v.clv, spend * by_hand, rtol=1e-10)


@pytest.mark.parametrize("k", [clv.MAX_FREQUENCY + 1, 10**18])
def test_max_frequency_is_bounded(bg_fit, k):
    # Fuzz finding: max_frequency=10**18 tried to allocate one group per frequency (EiB).
    s = _summary(20)
    with pytest.raises(InputError, match="max_frequency must be <= 1000"):
        clv.frequency_histogram(bg_fit, s, max_frequency=k)
    with pytest.raises(InputError, match="max_frequency must be <= 1000"):
        clv.holdout_comparison(
            bg_fit, s, np.zeros(len(s), dtype=int), duration_holdout=5.0, max_frequency=k
        )
