"""Predictive intervals of purchase counts (crmcore.models.uncertainty.purchase_count_interval).

References: the BG/NBD count of a customer just acquired is equation (8) of
Fader, Hardie & Lee (2005), evaluated by hand below for small parameters; the
other cases against a brute-force quantile (the fits' conditional PMF summed
over n = 0..400 per customer with ``np.cumsum`` and ``np.searchsorted``, one
customer at a time); the coverage on calibration/holdout data sets simulated
with crmcore.simulate from known parameters.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from crmcore import CustomerSummary
from crmcore import simulate as sim
from crmcore.errors import InputError, InputTypeError
from crmcore.models import bgbb, bgcnbd, bgnbd, gamma_gamma, ggomnbd, mbgcnbd, mbgnbd, pareto_nbd
from crmcore.models import uncertainty as unc
from crmcore.summary import DiscreteSummary

TRUE_BG = (0.5, 4.0, 0.6, 2.5)
TRUE_P = bgnbd.BgNbdParams(r=0.5, alpha=4.0, a=0.6, b=2.5)


def _plain(cls, params, cov=None):
    k = params.as_array().size
    return cls(
        params=params,
        standard_errors=params,
        covariance=np.eye(k) * 1e-3 * np.outer(params.as_array(), params.as_array())
        if cov is None
        else cov,
        log_likelihood=0.0,
        n_customers=1000.0,
        converged=True,
        n_iterations=1,
    )


def _brute(f, n_future, rows, level):
    """Quantiles by summing the PMF of each customer separately (one customer at a time)."""
    lo, hi = [], []
    ns = np.arange(400)
    for x, tx, big_t in zip(*rows, strict=True):
        pmf = f.conditional_purchase_count_probability(ns, n_future, int(x), float(tx), big_t)
        cdf = np.cumsum(pmf)
        lo.append(int(np.searchsorted(cdf, (1 - level) / 2 - 1e-12)))
        hi.append(int(np.searchsorted(cdf, (1 + level) / 2 - 1e-12)))
    return np.array(lo), np.array(hi)


def test_new_customer_by_hand_equation_8():
    # r = alpha = 1, a = 2, b = 1, t = 3, x = t_x = T = 0: alpha/(alpha+t) = 1/4, and by eq. (8)
    # P(0) = 1/4; P(1) = B(2,2)/B(2,1) (1/4)(3/4) + B(3,1)/B(2,1) (1 - 1/4) = 1/16 + 1/2;
    # CDF(0) = 0.25, CDF(1) = 0.8125
    f = _plain(bgnbd.BgNbdFit, bgnbd.BgNbdParams(r=1.0, alpha=1.0, a=2.0, b=1.0))
    s = CustomerSummary.from_arrays([0], [0.0], [0.0])
    for level, lo, hi in ((0.4, 1, 1), (0.6, 0, 1), (0.2, 1, 1)):
        ci = unc.purchase_count_interval(f, s, t=3.0, level=level)
        assert (ci.lower[0], ci.upper[0]) == (lo, hi), level
    # t = 1: alpha/(alpha+t) = 1/2; P(0) = 1/2, P(1) = (1/3)(1/4) + (2/3)(1/2) = 5/12,
    # P(2) = (1/6)(1/8) + (1/6)(1/4) = 1/16: CDF 0.5, 0.9167, 0.9792
    for level, hi in ((0.8, 1), (0.9, 2), (0.95, 2), (0.96, 3)):
        assert unc.purchase_count_interval(f, s, t=1.0, level=level).upper[0] == hi, level
    ci = unc.purchase_count_interval(f, s, t=1.0)
    assert ci.quantity == "purchase_count"
    assert ci.method == "pmf"
    assert ci.n_draws == 0
    assert_allclose(ci.point, f.conditional_expected_purchases(1.0, s), rtol=1e-12)


@pytest.mark.parametrize(
    "fit",
    [
        _plain(bgnbd.BgNbdFit, bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)),
        _plain(mbgnbd.MbgNbdFit, mbgnbd.MbgNbdParams(r=0.5, alpha=4.0, a=0.6, b=2.5)),
        _plain(
            pareto_nbd.ParetoNbdFit,
            pareto_nbd.ParetoNbdParams(r=0.55, alpha=10.6, s=0.61, beta=11.7),
        ),
    ],
    ids=["bgnbd", "mbgnbd", "pareto_nbd"],
)
def test_quantiles_match_brute_force_per_customer(fit):
    h = sim.bgnbd_histories(*TRUE_BG, T=39.0, n_customers=40, rng=7)
    s = CustomerSummary.from_arrays(h.frequency, h.recency, h.T)
    for level in (0.5, 0.9, 0.99):
        ci = unc.purchase_count_interval(fit, s, t=30.0, level=level)
        lo, hi = _brute(fit, 30.0, (h.frequency, h.recency, h.T), level)
        assert_array_equal(ci.lower, lo)
        assert_array_equal(ci.upper, hi)
    assert np.all(ci.lower <= ci.point)


def test_bgbb_quantiles_match_brute_force():
    f = _plain(bgbb.BgBbFit, bgbb.BgBbParams(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783))
    d = sim.bgbb_histories(1.2, 0.75, 0.66, 2.8, n_periods=6, n_customers=30, rng=5)
    ds = DiscreteSummary(
        customer_ids=np.arange(30),
        frequency=d.frequency,
        recency=d.recency,
        n_periods=6,
        start=np.datetime64("2020-01-01", "ns"),
        period="Y",
    )
    ci = unc.purchase_count_interval(f, ds, t=5, level=0.8)
    lo, hi = [], []
    for x, tx in zip(d.frequency, d.recency, strict=True):
        cdf = np.cumsum(
            f.conditional_purchase_count_probability(np.arange(6), 5, int(x), int(tx), 6)
        )
        lo.append(np.searchsorted(cdf, 0.1 - 1e-12))
        hi.append(np.searchsorted(cdf, 0.9 - 1e-12))
    assert_array_equal(ci.lower, lo)
    assert_array_equal(ci.upper, hi)
    assert np.all(ci.upper <= 5)


def test_draws_mix_the_pmf_and_tend_to_the_pmf_as_the_covariance_vanishes():
    p = bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
    h = sim.bgnbd_histories(*TRUE_BG, T=39.0, n_customers=30, rng=2)
    s = CustomerSummary.from_arrays(h.frequency, h.recency, h.T)
    tiny = _plain(bgnbd.BgNbdFit, p, cov=np.diag((p.as_array() * 1e-7) ** 2))
    a = unc.purchase_count_interval(tiny, s, t=39.0)
    b = unc.purchase_count_interval(tiny, s, t=39.0, n_draws=20, rng=1)
    assert_array_equal(a.lower, b.lower)
    assert_array_equal(a.upper, b.upper)
    assert_allclose(a.total_upper, b.total_upper, rtol=1e-4)
    assert b.method == "draws"
    assert b.n_draws == 20
    # a wide covariance: the mixture's mean is the draws' mean of the expected counts, and
    # its tails are at least as long on the whole
    wide = _plain(bgnbd.BgNbdFit, p, cov=np.diag((p.as_array() * 0.3) ** 2))
    c = unc.purchase_count_interval(wide, s, t=39.0, n_draws=200, rng=1)
    d = wide.sample_params(200, rng=np.random.default_rng(1))
    want = np.mean(
        [bgnbd.conditional_expected_purchases(d.params(i), 39.0, s) for i in range(200)], axis=0
    )
    assert_allclose(c.point, want, rtol=1e-10)
    assert c.upper.sum() >= a.upper.sum()
    assert c.total_upper - c.total_lower > a.total_upper - a.total_lower


def test_interval_coverage_takes_count_intervals_on_a_holdout():
    h = sim.bgnbd_histories(*TRUE_BG, T=39.0, n_customers=300, duration_holdout=20.0, rng=4)
    s = CustomerSummary.from_arrays(h.frequency, h.recency, h.T)
    f = _plain(bgnbd.BgNbdFit, TRUE_P)
    ci = unc.purchase_count_interval(f, s, t=20.0, level=0.9)
    cov = unc.interval_coverage(ci, h.frequency_holdout)
    assert cov.n_customers == 300
    inside = (ci.lower <= h.frequency_holdout) & (h.frequency_holdout <= ci.upper)
    assert cov.coverage == pytest.approx(inside.mean())
    assert cov.coverage > 0.8


def test_count_interval_errors():
    f = _plain(bgnbd.BgNbdFit, TRUE_P)
    s = CustomerSummary.from_arrays([1, 2], [5.0, 30.0], [39.0, 39.0])
    with pytest.raises(InputError, match=r"t must be >= 0\.0"):
        unc.purchase_count_interval(f, s, t=-1.0)
    with pytest.raises(InputError, match=r"level must be < 1\.0"):
        unc.purchase_count_interval(f, s, t=1.0, level=1.0)
    with pytest.raises(InputError, match="n_draws must be >= 2"):
        unc.purchase_count_interval(f, s, t=1.0, n_draws=1)
    with pytest.raises(InputTypeError, match="t is required"):
        unc.purchase_count_interval(f, s, t=None)
    g = gamma_gamma.fit([1, 2, 2, 3, 5, 8], [12.0, 30.0, 25.0, 18.5, 40.0, 22.0])
    with pytest.raises(InputTypeError, match="fit must be a BgNbdFit, MbgNbdFit"):
        unc.purchase_count_interval(g, s, t=1.0)
    busy = _plain(bgnbd.BgNbdFit, bgnbd.BgNbdParams(r=5.0, alpha=0.01, a=0.01, b=100.0))
    with pytest.raises(InputError, match="t is too long for a count interval: a customer"):
        unc.purchase_count_interval(busy, s, t=1e5)


def test_count_interval_refuses_a_quantile_beyond_the_cap(monkeypatch):
    f = _plain(bgnbd.BgNbdFit, TRUE_P)
    # the second customer's 95% quantile is above 5 (brute force: the PMF's cumulative sum
    # stays below 0.95 through n = 5), the first's is 1
    s = CustomerSummary.from_arrays([1, 20], [5.0, 38.0], [39.0, 39.0])
    cdf = np.cumsum(
        bgnbd.conditional_purchase_count_probability(TRUE_P, np.arange(6), 39.0, 20, 38.0, 39.0)
    )
    assert cdf[-1] < 0.95
    monkeypatch.setattr(unc, "_MAX_COUNT", 5)
    with pytest.raises(InputError, match="upper quantile of 1 customers' counts lies beyond 5"):
        unc.purchase_count_interval(f, s, t=39.0)


@pytest.mark.slow
def test_count_intervals_cover_simulated_holdouts_as_the_model_says():
    """On calibration/holdout data sets simulated from known BG/NBD parameters, fitted on
    the calibration period, the share of holdout counts inside the 80% intervals (with the
    parameters' uncertainty integrated over draws) matches the coverage the intervals
    promise (sum of P(lower <= X <= upper) over the customers, from the PMF) within Monte
    Carlo error, and is at least the level."""
    level, t = 0.8, 26.0
    inside, promised, var = 0.0, 0.0, 0.0
    n_total = 0
    for k in range(5):
        h = sim.bgnbd_histories(*TRUE_BG, T=39.0, n_customers=3000, duration_holdout=t, rng=70 + k)
        s = CustomerSummary.from_arrays(h.frequency, h.recency, h.T)
        f = bgnbd.fit(s)
        ci = unc.purchase_count_interval(f, s, t=t, level=level, n_draws=100, rng=k)
        y = h.frequency_holdout
        inside += float(np.sum((ci.lower <= y) & (y <= ci.upper)))
        # the promise at the true parameters: P(lower <= X <= upper) summed count by count
        p_in = np.zeros(y.size)
        for n in range(int(ci.upper.max()) + 1):
            pmf = bgnbd.conditional_purchase_count_probability(
                TRUE_P, np.full(y.size, n), t, h.frequency, h.recency, h.T
            )
            p_in += np.where((ci.lower <= n) & (n <= ci.upper), pmf, 0.0)
        promised += float(p_in.sum())
        var += float(np.sum(p_in * (1 - p_in)))
        n_total += y.size
    sd = math.sqrt(var) / n_total
    assert abs(inside / n_total - promised / n_total) < 4 * sd + 0.01, (inside, promised)
    assert inside / n_total > level - 4 * sd


@settings(deadline=None)
@given(
    params=st.tuples(
        st.floats(0.05, 5.0), st.floats(0.5, 50.0), st.floats(0.05, 5.0), st.floats(0.05, 10.0)
    ),
    history=st.tuples(st.integers(0, 30), st.floats(0.0, 1.0)),
    t=st.floats(0.0, 60.0),
    levels=st.tuples(st.floats(0.05, 0.95), st.floats(0.05, 0.95)),
)
def test_count_intervals_nest_and_keep_their_promise(params, history, t, levels):
    r, alpha, a, b = params
    x, share = history
    lo_level, hi_level = sorted(levels)
    f = _plain(bgnbd.BgNbdFit, bgnbd.BgNbdParams(r=r, alpha=alpha, a=a, b=b))
    big_t = 40.0
    tx = share * big_t if x > 0 else 0.0
    s = CustomerSummary.from_arrays([x], [tx], [big_t])
    narrow = unc.purchase_count_interval(f, s, t=t, level=lo_level)
    wide = unc.purchase_count_interval(f, s, t=t, level=hi_level)
    assert wide.lower[0] <= narrow.lower[0] <= narrow.upper[0] <= wide.upper[0]
    # the promise: P(lower <= X <= upper) >= level, by the PMF summed by hand
    lo, hi = int(wide.lower[0]), int(wide.upper[0])
    pmf = f.conditional_purchase_count_probability(np.arange(hi + 1), t, x, tx, big_t)
    assert pmf[lo:].sum() >= hi_level - 1e-9
    assert wide.total_lower <= wide.total_point <= wide.total_upper


# --------------------------------------------------------------------------- GGompertz/NBD, CNBD-k

GG_P = ggomnbd.GGompertzNbdParams(r=0.6, alpha=8.0, b=0.05, s=0.8, beta=1.5)
BGC_P = bgcnbd.BgCnbdParams(r=1.2, alpha=6.0, a=0.7, b=2.5, k=3)
MBGC_P = mbgcnbd.MbgCnbdParams(r=1.2, alpha=6.0, a=0.7, b=2.5, k=2)


def _other_fit(cls, params, scale=0.05):
    theta = params.as_array()
    extra = {}
    if cls is not ggomnbd.GGompertzNbdFit:  # the CNBD-k fits report r, alpha, a, b given k
        extra["standard_errors"] = bgnbd.BgNbdParams(r=0.1, alpha=0.1, a=0.1, b=0.1)
    return cls(
        params=params,
        standard_errors=extra.get("standard_errors", params),
        covariance=np.diag((scale * theta) ** 2),
        log_likelihood=0.0,
        n_customers=1000.0,
        converged=True,
        n_iterations=1,
    )


OTHER = [
    (ggomnbd.GGompertzNbdFit, GG_P),
    (bgcnbd.BgCnbdFit, BGC_P),
    (mbgcnbd.MbgCnbdFit, MBGC_P),
]


@pytest.mark.parametrize(("cls", "params"), OTHER)
def test_other_models_quantiles_match_the_pmfs_cumulative_sums(cls, params):
    f = _other_fit(cls, params)
    rows = (
        np.array([0, 0, 1, 3, 3, 8, 15]),
        np.array([0.0, 0.0, 5.0, 20.0, 38.0, 30.0, 39.0]),
        np.array([0.0, 39.0, 39.0, 39.0, 39.0, 39.0, 40.0]),
    )
    s = CustomerSummary.from_arrays(*rows)
    for level, t in ((0.8, 26.0), (0.5, 52.0), (0.95, 10.0)):
        ci = unc.purchase_count_interval(f, s, t=t, level=level)
        lo, hi = _brute(f, t, rows, level)
        assert_array_equal(ci.lower, lo)
        assert_array_equal(ci.upper, hi)
        assert_allclose(ci.point, f.conditional_expected_purchases(t, *rows), rtol=1e-12)
        assert ci.method == "pmf"


@pytest.mark.parametrize(("cls", "params"), OTHER)
def test_other_models_draws_average_the_pmfs_of_the_drawn_fits(cls, params):
    # with draws the distribution is the average of the drawn fits' PMFs: the quantiles of
    # that mixture, rebuilt here from uncertainty's own draws (the same seed), and the mean
    f = _other_fit(cls, params, scale=0.2)
    rows = (np.array([0, 2, 6]), np.array([0.0, 20.0, 35.0]), np.array([39.0, 39.0, 39.0]))
    s = CustomerSummary.from_arrays(*rows)
    ci = unc.purchase_count_interval(f, s, t=26.0, level=0.8, n_draws=8, rng=3)
    fits = unc._draw_fits(f, 8, 3)
    ns = np.arange(300)
    for i in range(3):
        pmf = np.mean(
            [
                g.conditional_purchase_count_probability(
                    ns, 26.0, int(rows[0][i]), rows[1][i], rows[2][i]
                )
                for g in fits
            ],
            axis=0,
        )
        cdf = np.cumsum(pmf)
        assert ci.lower[i] == np.searchsorted(cdf, 0.1 - 1e-12)
        assert ci.upper[i] == np.searchsorted(cdf, 0.9 - 1e-12)
        assert_allclose(ci.point[i], ns @ pmf, rtol=1e-6)
    if cls is not ggomnbd.GGompertzNbdFit:
        assert all(g.params.k == params.k for g in fits)  # k is given, not drawn
    assert ci.n_draws == 8


def _new_customer_counts(cls, params, t, n, seed):
    """Repeat purchases in (T, T + t] of simulated customers with no repeat purchase in (0, T]."""
    theta = params.as_array()
    if cls is ggomnbd.GGompertzNbdFit:
        h = sim.ggomnbd_histories(*theta, T=30.0, n_customers=n, duration_holdout=t, rng=seed)
    elif cls is bgcnbd.BgCnbdFit:
        h = sim.bgcnbd_histories(
            *theta, params.k, T=30.0, n_customers=n, duration_holdout=t, rng=seed
        )
    else:
        h = sim.mbgcnbd_histories(
            *theta, params.k, T=30.0, n_customers=n, duration_holdout=t, rng=seed
        )
    quiet = h.frequency == 0
    return h.frequency_holdout[quiet]


@pytest.mark.parametrize(("cls", "params"), OTHER)
def test_other_models_monte_carlo_counts_of_quiet_customers(cls, params):
    # customers with no repeat purchase by T = 30 (x = t_x = 0) are a history that a
    # simulation can select exactly: their holdout counts follow the conditional PMF
    t = 20.0
    y = _new_customer_counts(cls, params, t, 20_000, seed=5)
    f = _other_fit(cls, params)
    s = CustomerSummary.from_arrays([0], [0.0], [30.0])
    ns = np.arange(60)
    pmf = f.conditional_purchase_count_probability(ns, t, 0, 0.0, 30.0)
    freq = np.bincount(y, minlength=ns.size)[: ns.size] / y.size
    sd = np.sqrt(pmf * (1 - pmf) / y.size)
    assert np.all(np.abs(freq - pmf) < 5 * sd + 1e-3)
    for level in (0.5, 0.8, 0.9):
        ci = unc.purchase_count_interval(f, s, t=t, level=level)
        inside = float(np.mean((ci.lower[0] <= y) & (y <= ci.upper[0])))
        promised = float(pmf[int(ci.lower[0]) : int(ci.upper[0]) + 1].sum())
        assert abs(inside - promised) < 5 * math.sqrt(promised * (1 - promised) / y.size) + 1e-3
        assert promised >= level - 1e-12


@pytest.mark.parametrize(("cls", "params"), OTHER)
def test_other_models_intervals_cover_simulated_holdouts(cls, params):
    """Every simulated customer (any history) at the true parameters: the share of holdout
    counts inside the 80% intervals matches the promised coverage (from the PMF) within
    Monte Carlo error and is at least the level."""
    theta = params.as_array()
    t, level = 20.0, 0.8
    kw = {"T": 39.0, "n_customers": 3000, "duration_holdout": t, "rng": 9}
    if cls is ggomnbd.GGompertzNbdFit:
        h = sim.ggomnbd_histories(*theta, **kw)
    elif cls is bgcnbd.BgCnbdFit:
        h = sim.bgcnbd_histories(*theta, params.k, **kw)
    else:
        h = sim.mbgcnbd_histories(*theta, params.k, **kw)
    f = _other_fit(cls, params)
    s = CustomerSummary.from_arrays(h.frequency, h.recency, h.T)
    ci = unc.purchase_count_interval(f, s, t=t, level=level)
    y = h.frequency_holdout
    p_in = np.zeros(y.size)
    for n in range(int(ci.upper.max()) + 1):
        pmf = f.conditional_purchase_count_probability(
            np.full(y.size, n), t, h.frequency, h.recency, h.T
        )
        p_in += np.where((ci.lower <= n) & (n <= ci.upper), pmf, 0.0)
    sd = math.sqrt(float(np.sum(p_in * (1 - p_in)))) / y.size
    inside = float(np.mean((ci.lower <= y) & (y <= ci.upper)))
    assert abs(inside - p_in.mean()) < 4 * sd + 0.005
    assert np.all(p_in >= level - 1e-9)
    cov = unc.interval_coverage(ci, y)
    assert cov.coverage > level - 4 * sd


def test_other_models_errors():
    p = GG_P
    nan = np.full((5, 5), np.nan)
    boundary = ggomnbd.GGompertzNbdFit(
        params=p,
        standard_errors=p,
        covariance=nan,
        log_likelihood=0.0,
        n_customers=1.0,
        converged=True,
        n_iterations=1,
        at_boundary=True,
    )
    s = CustomerSummary.from_arrays([1], [5.0], [39.0])
    assert unc.purchase_count_interval(boundary, s, t=10.0).upper.size == 1  # no draws: fine
    with pytest.raises(InputError, match="covariance must be finite"):
        unc.purchase_count_interval(boundary, s, t=10.0, n_draws=10)
    with pytest.raises(InputTypeError, match="summary must be a CustomerSummary"):
        unc.purchase_count_interval(_other_fit(bgcnbd.BgCnbdFit, BGC_P), [1], t=10.0)
