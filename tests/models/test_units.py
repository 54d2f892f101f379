"""Fits record the time unit of their data; predictions on summaries in another unit convert.

References: the same prediction on a summary of the same log in the fit's own
unit (no conversion), and the scaling law of the models (changing weeks to
days multiplies alpha, and beta of Pareto/NBD, by 7 and leaves the rest).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from crmcore import CustomerSummary, summarize
from crmcore.errors import InputError
from crmcore.models import bgnbd, clv, gamma_gamma, mbgnbd, pareto_nbd
from crmcore.simulate import customer_base

BG = bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
MBG = mbgnbd.MbgNbdParams(r=0.5, alpha=6.0, a=0.9, b=3.0)
PNBD = pareto_nbd.ParetoNbdParams(r=0.55, alpha=10.6, s=0.61, beta=11.7)
GG = gamma_gamma.GammaGammaParams(p=6.25, q=3.74, v=15.44)


def _fit(module, cls, params, time_unit):
    return getattr(module, cls)(
        params=params,
        standard_errors=params,
        covariance=np.eye(4),
        log_likelihood=-1.0,
        n_customers=1.0,
        converged=True,
        n_iterations=1,
        time_unit=time_unit,
    )


FITS = [
    (bgnbd, "BgNbdFit", BG),
    (mbgnbd, "MbgNbdFit", MBG),
    (pareto_nbd, "ParetoNbdFit", PNBD),
]


@pytest.fixture(scope="module")
def log():
    base = customer_base(
        300, start="2024-01-01", observation_end="2024-09-30", time_unit="W", rng=5
    )
    table = base.table
    weekly = summarize(table, observation_end="2024-09-30", period="D", time_unit="W")
    daily = summarize(table, observation_end="2024-09-30", period="D", time_unit="D")
    hourly = summarize(table, observation_end="2024-09-30", period="D", time_unit="h")
    monthly = summarize(table, observation_end="2024-09-30", period="M", time_unit="M")
    return weekly, daily, hourly, monthly


@pytest.mark.parametrize(("module", "cls", "params"), FITS)
def test_weekly_fit_on_daily_summary_equals_weekly_summary(log, module, cls, params):
    weekly, daily, hourly, _ = log
    f = _fit(module, cls, params, "W")
    assert_allclose(f.probability_alive(daily), f.probability_alive(weekly), rtol=1e-12)
    assert_allclose(f.probability_alive(hourly), f.probability_alive(weekly), rtol=1e-12)
    assert_allclose(
        f.conditional_expected_purchases(7 * 13, daily),
        f.conditional_expected_purchases(13, weekly),
        rtol=1e-10,
    )
    assert_allclose(
        f.conditional_purchase_probability(7 * 4.5, daily),
        f.conditional_purchase_probability(4.5, weekly),
        rtol=1e-10,
    )
    assert_allclose(
        f.conditional_expected_purchases_at([7.0, 70.0], daily),
        f.conditional_expected_purchases_at([1.0, 10.0], weekly),
        rtol=1e-10,
    )
    per_customer = np.arange(len(daily), dtype=float) % 5
    assert_allclose(
        f.conditional_expected_purchases(7 * per_customer, daily),
        f.conditional_expected_purchases(per_customer, weekly),
        rtol=1e-10,
    )


def _in_days(params):
    fields = {a.name: getattr(params, a.name) for a in type(params).__attrs_attrs__}
    fields["alpha"] *= 7
    if "beta" in fields and isinstance(params, pareto_nbd.ParetoNbdParams):
        fields["beta"] *= 7
    return type(params)(**fields)


@pytest.mark.parametrize(("module", "cls", "params"), FITS)
def test_daily_fit_with_rescaled_rates_agrees_with_weekly_fit(log, module, cls, params):
    _, daily, _, _ = log
    week = _fit(module, cls, params, "W")
    day = _fit(module, cls, _in_days(params), "D")
    assert_allclose(week.probability_alive(daily), day.probability_alive(daily), rtol=1e-10)
    assert_allclose(
        week.conditional_expected_purchases(30, daily),
        day.conditional_expected_purchases(30, daily),
        rtol=1e-9,
    )


def test_unknown_unit_and_arrays_are_not_converted(log):
    _, daily, _, _ = log
    f = _fit(bgnbd, "BgNbdFit", BG, None)
    assert_allclose(
        f.probability_alive(daily),
        bgnbd.probability_alive(BG, daily.frequency, daily.recency, daily.T),
    )
    w = _fit(bgnbd, "BgNbdFit", BG, "W")
    assert w.probability_alive(2, 30.43, 38.86) == bgnbd.probability_alive(BG, 2, 30.43, 38.86)


def test_units_that_do_not_convert_raise_naming_both(log):
    *_, monthly = log
    f = _fit(pareto_nbd, "ParetoNbdFit", PNBD, "W")
    with pytest.raises(InputError, match=r"time unit 'M' but the fit was made in time unit 'W'"):
        f.probability_alive(monthly)
    with pytest.raises(InputError, match=r"'M'.*'W'"):
        f.conditional_expected_purchases(4, monthly)


def test_fit_records_the_time_unit(log):
    weekly, daily, _, _ = log
    assert bgnbd.fit(weekly).time_unit == "W"
    x, tx, big_t = daily.frequency, daily.recency, daily.T
    assert mbgnbd.fit(x, tx, big_t, time_unit="D").time_unit == "D"
    assert bgnbd.fit(x, tx, big_t).time_unit is None
    with pytest.raises(InputError, match="summary's time unit 'W'; got 'D'"):
        bgnbd.fit(weekly, time_unit="D")
    with pytest.raises(InputError, match="time_unit must be one of"):
        pareto_nbd.fit(x, tx, big_t, time_unit="week")
    with pytest.raises(InputError, match="time_unit must be one of"):
        _fit(bgnbd, "BgNbdFit", BG, "fortnight")


@pytest.fixture(scope="module")
def spend():
    return gamma_gamma.GammaGammaFit(
        params=GG,
        standard_errors=GG,
        covariance=np.eye(3),
        log_likelihood=-1.0,
        n_customers=1.0,
        converged=True,
        n_iterations=1,
    )


@pytest.mark.parametrize("discounting", ["discrete", "continuous"])
def test_clv_on_daily_summary_equals_weekly(log, spend, discounting):
    weekly, daily, _, _ = log
    f = _fit(bgnbd, "BgNbdFit", BG, "W")
    d_week = 0.01
    # the same discount factors at every time: (1+d_w)^(1/7) - 1 per day (discrete), d_w/7
    d_day = (1 + d_week) ** (1 / 7) - 1 if discounting == "discrete" else d_week / 7
    ref = clv.customer_lifetime_value(
        f, spend, weekly, horizon=52, step=4, discount_rate=d_week, discounting=discounting
    )
    got = clv.customer_lifetime_value(
        f, spend, daily, horizon=364, step=28, discount_rate=d_day, discounting=discounting
    )
    assert_allclose(got.clv, ref.clv, rtol=1e-9)
    assert_allclose(got.expected_purchases, ref.expected_purchases, rtol=1e-10)


@pytest.mark.parametrize(
    ("unit", "discounting", "expected"),
    [
        # hand computed: (1.1)^(1/12) - 1, 0.1/12, (1.1)^(7/365.25) - 1, 0.1 * 7/365.25
        ("M", "discrete", 1.1 ** (1 / 12) - 1),
        ("M", "continuous", 0.1 / 12),
        ("W", "discrete", 1.1 ** (7 / 365.25) - 1),
        ("W", "continuous", 0.1 * 7 / 365.25),
    ],
)
def test_clv_annual_discount_rate(log, spend, unit, discounting, expected):
    weekly, _, _, monthly = log
    s = monthly if unit == "M" else weekly
    f = _fit(bgnbd, "BgNbdFit", BG, None)
    got = clv.customer_lifetime_value(
        f, spend, s, horizon=12, step=1, annual_discount_rate=0.1, discounting=discounting
    )
    assert got.discount_rate == pytest.approx(expected, rel=1e-12)
    ref = clv.customer_lifetime_value(
        f, spend, s, horizon=12, step=1, discount_rate=expected, discounting=discounting
    )
    assert_allclose(got.clv, ref.clv, rtol=1e-12)


def test_clv_discount_arguments_and_units_errors(log, spend):
    weekly, _, _, monthly = log
    f = _fit(bgnbd, "BgNbdFit", BG, "W")
    with pytest.raises(InputError, match="exactly one of discount_rate"):
        clv.customer_lifetime_value(f, spend, weekly, horizon=4, step=1)
    with pytest.raises(InputError, match="exactly one of discount_rate"):
        clv.customer_lifetime_value(
            f, spend, weekly, horizon=4, step=1, discount_rate=0.0, annual_discount_rate=0.1
        )
    with pytest.raises(InputError, match="annual_discount_rate must be >= 0"):
        clv.customer_lifetime_value(f, spend, weekly, horizon=4, step=1, annual_discount_rate=-1)
    with pytest.raises(InputError, match=r"time unit 'M' but the fit was made in time unit 'W'"):
        clv.customer_lifetime_value(f, spend, monthly, horizon=4, step=1, discount_rate=0.0)


def test_tracking_uses_the_fit_unit(log):
    base = customer_base(40, start="2024-01-01", observation_end="2024-04-30", rng=3)
    week = _fit(bgnbd, "BgNbdFit", BG, "W")
    day = _fit(bgnbd, "BgNbdFit", _in_days(BG), "D")
    a = clv.tracking(week, base.table, observation_end="2024-04-30", time_unit="W")
    b = clv.tracking(day, base.table, observation_end="2024-04-30", time_unit="W")
    assert_allclose(a.expected_cumulative, b.expected_cumulative, rtol=1e-10)
    c = clv.tracking(week, base.table, observation_end="2024-04-30", time_unit="D")
    assert_allclose(c.expected_cumulative[-1], a.expected_cumulative[-1], rtol=1e-10)
    month = _fit(bgnbd, "BgNbdFit", BG, "M")
    with pytest.raises(InputError, match=r"'W' but the fit was made in time unit 'M'"):
        clv.tracking(month, base.table, observation_end="2024-04-30", time_unit="W")


@settings(deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 30), st.floats(0.0, 1.0), st.floats(0.01, 60.0), st.floats(0.0, 50.0)
        ),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from(FITS),
)
def test_property_days_summary_equals_weeks_summary(rows, model):
    # the same histories given in weeks and in days (x 7) through summaries
    x = np.array([r[0] for r in rows])
    big_t = np.array([r[2] for r in rows])
    tx = np.where(x > 0, np.array([r[1] for r in rows]) * big_t, 0.0)
    t = np.array([r[3] for r in rows])
    weeks = CustomerSummary.from_arrays(x, tx, big_t, time_unit="W")
    days = CustomerSummary.from_arrays(x, tx * 7, big_t * 7, time_unit="D")
    f = _fit(*model, "W")
    assert_allclose(f.probability_alive(days), f.probability_alive(weeks), rtol=1e-9, atol=1e-300)
    assert_allclose(
        f.conditional_expected_purchases(t * 7, days),
        f.conditional_expected_purchases(t, weeks),
        rtol=1e-8,
        atol=1e-300,
    )


def test_holdout_comparison_and_frequency_histogram_convert(log):
    base = customer_base(300, start="2024-01-01", observation_end="2024-09-30", rng=8)
    kw = {"observation_end": "2024-09-30", "calibration_end": "2024-06-30", "period": "D"}
    weekly = summarize(base.table, time_unit="W", **kw)
    daily = summarize(base.table, time_unit="D", **kw)
    f = _fit(bgnbd, "BgNbdFit", BG, "W")
    a = clv.holdout_comparison(f, weekly)
    b = clv.holdout_comparison(f, daily)
    assert_allclose(b.expected, a.expected, rtol=1e-10)
    assert b.duration_holdout == pytest.approx(7 * a.duration_holdout)
    h_w = clv.frequency_histogram(f, weekly)
    h_d = clv.frequency_histogram(f, daily)
    assert_allclose(h_d.expected, h_w.expected, rtol=1e-10)
