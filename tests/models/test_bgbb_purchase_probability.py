"""BG/BB: P(at least one transaction in the next n_future opportunities | history).

References: brute-force enumeration of the death time with mpmath beta
functions (50 digits), Monte Carlo from crmcore.simulate's BG/BB simulator,
and P(alive at n+1) E[p | ...] for one opportunity (Fader, Hardie & Shang
2010, equation (11) with the posterior mean of p).
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from crmcore.errors import InputError
from crmcore.models import bgbb
from crmcore.simulate import bgbb_histories

P = bgbb.BgBbParams(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
mpmath.mp.dps = 50


def _brute(params, x, tx, n, n_star):
    """1 - P(history and no transaction in n+1..n+n*) / P(history), by the death time.

    A customer dead from the start of opportunity tau on (tau = N+1: alive
    through N) saw the specific sequence with probability
    E[p^x (1-p)^(min(tau-1, N) - x)] E[theta (1-theta)^(tau-1)] (no theta
    factor for tau = N+1); tau - 1 >= t_x is needed.
    """
    a, b, g, d = (
        mpmath.mpf(float(q)) for q in (params.alpha, params.beta, params.gamma, params.delta)
    )

    def seq(big_n):
        total = mpmath.mpf(0)
        for tau in range(tx + 1, big_n + 2):
            alive = min(tau - 1, big_n)
            e_p = mpmath.beta(a + x, b + alive - x) / mpmath.beta(a, b)
            if tau == big_n + 1:
                e_t = mpmath.beta(g, d + big_n) / mpmath.beta(g, d)
            else:
                e_t = mpmath.beta(g + 1, d + tau - 1) / mpmath.beta(g, d)
            total += e_p * e_t
        return total

    return float(1 - seq(n + n_star) / seq(n))


@pytest.mark.parametrize(
    ("x", "tx", "n", "n_star"),
    [(6, 6, 6, 5), (3, 3, 6, 5), (0, 0, 6, 5), (3, 6, 6, 1), (2, 4, 7, 3), (1, 1, 0 + 4, 12)],
)
def test_matches_brute_force_enumeration(x, tx, n, n_star):
    got = bgbb.conditional_purchase_probability(P, n_star, x, tx, n)
    assert got == pytest.approx(_brute(P, x, tx, n, n_star), rel=1e-12)


def test_one_opportunity_is_alive_times_posterior_mean_of_p():
    x, tx, n = np.array([6, 3, 0, 2]), np.array([6, 3, 0, 5]), 6
    alive = bgbb.probability_alive(P, x, tx, n)
    mean_p = (P.alpha + x) / (P.alpha + P.beta + n)  # Beta(α+x, β+n-x) posterior mean
    assert_allclose(
        bgbb.conditional_purchase_probability(P, 1, x, tx, n), alive * mean_p, rtol=1e-12
    )


def test_is_not_alive_times_no_purchase_of_a_survivor():
    # P(alive at n+1) (1 - E[(1-p)^n*]) forgets deaths inside the window: it is larger
    x, tx, n, n_star = 3, 6, 6, 10
    alive = bgbb.probability_alive(P, x, tx, n)
    a, b = P.alpha + x, P.beta + n - x
    naive = alive * (1 - float(mpmath.beta(a, b + n_star) / mpmath.beta(a, b)))
    exact = bgbb.conditional_purchase_probability(P, n_star, x, tx, n)
    assert exact == pytest.approx(_brute(P, x, tx, n, n_star), rel=1e-12)
    assert exact < naive - 0.05


def test_monte_carlo():
    sim = bgbb_histories(
        P.alpha,
        P.beta,
        P.gamma,
        P.delta,
        n_periods=6,
        n_customers=200_000,
        n_periods_holdout=5,
        rng=20240611,
    )
    bought = sim.frequency_holdout > 0
    for x, tx in [(6, 6), (0, 0), (3, 6), (1, 1)]:
        rows = (sim.frequency == x) & (sim.recency == tx)
        assert rows.sum() > 2000
        share = bought[rows].mean()
        se = np.sqrt(share * (1 - share) / rows.sum())
        predicted = bgbb.conditional_purchase_probability(P, 5, x, tx, 6)
        assert abs(share - predicted) < 4 * se + 1e-3, (x, tx, share, predicted)


def test_fit_method_summary_and_single_customer():
    f = bgbb.BgBbFit(
        params=P,
        standard_errors=P,
        covariance=np.eye(4),
        log_likelihood=-1.0,
        n_customers=1.0,
        converged=True,
        n_iterations=1,
    )
    many = f.conditional_purchase_probability([0, 2, 40], [6, 3, 0], [6, 3, 0], 6)
    assert many[0] == 0.0
    assert many[2] == pytest.approx(_brute(P, 0, 0, 6, 40), rel=1e-12)
    one = f.conditional_purchase_probability(2, 3, 3, 6)
    assert isinstance(one, float)
    assert one == pytest.approx(_brute(P, 3, 3, 6, 2), rel=1e-12)


def test_errors():
    with pytest.raises(InputError, match="n_future must be non-negative"):
        bgbb.conditional_purchase_probability(P, -1, [1], [1], 6)
    with pytest.raises(InputError, match="n_future"):
        bgbb.conditional_purchase_probability(P, bgbb.MAX_PERIODS + 1, [1], [1], 6)
    with pytest.raises(InputError, match="n_future must be one number, or one value per customer"):
        bgbb.conditional_purchase_probability(P, [1, 2, 3], [1, 2], [1, 2], 6)
    with pytest.raises(InputError, match="recency must be at least frequency"):
        bgbb.conditional_purchase_probability(P, 1, [2], [1], 6)


params_st = st.builds(
    bgbb.BgBbParams,
    alpha=st.floats(0.05, 50.0),
    beta=st.floats(0.05, 50.0),
    gamma=st.floats(0.05, 50.0),
    delta=st.floats(0.05, 50.0),
)


@settings(deadline=None)
@given(params_st, st.integers(0, 40), st.data())
def test_property_bounded_monotone_and_likelihood_ratio(params, n, data):
    x = data.draw(st.integers(0, n))
    tx = 0 if x == 0 else data.draw(st.integers(x, n))
    horizons = np.array([0, 1, 2, 5, 30, 500])
    got = np.array([bgbb.conditional_purchase_probability(params, h, x, tx, n) for h in horizons])
    alive = bgbb.probability_alive(params, x, tx, n)
    assert np.all(np.isfinite(got))
    assert got[0] == 0.0
    assert np.all(got <= alive * (1 + 1e-12) + 1e-300)
    assert np.all(np.diff(got) >= -1e-12 * got[1:])
    # equal to 1 - L(x, t_x, n + n*) / L(x, t_x, n) where that difference does not cancel
    theta = params.as_array()
    log_l = bgbb._row_likelihood(
        theta, np.array([x * 1.0]), np.array([tx * 1.0]), np.array([n * 1.0])
    )[0]
    for h, value in zip(horizons[1:], got[1:], strict=True):
        log_l2 = bgbb._row_likelihood(
            theta, np.array([x * 1.0]), np.array([tx * 1.0]), np.array([n + h * 1.0])
        )[0]
        ratio = -np.expm1(log_l2[0] - log_l[0])
        if ratio > 1e-6:
            assert value == pytest.approx(ratio, rel=1e-8)
