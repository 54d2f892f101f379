"""The closed form of the Pareto/NBD P(a purchase in (T, T+t] | alive at T).

``P = 1 - ρ - k(T) + ρ k(T+t)`` (integration by parts of the quadrature's integral; see
``pareto_nbd._log_purchase_given_alive_closed``) serves where it is at least
``_CLOSED_MIN``; the Gauss-Legendre quadrature ``pareto_nbd._log_purchase_given_alive``
(the previous implementation, kept for short horizons and for the points where H is not
evaluated) is the oracle. Both are checked against an mpmath quadrature of the integral.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from crmcore.models import pareto_nbd
from crmcore.models.pareto_nbd import ParetoNbdParams
from crmcore.simulate import pareto_nbd_histories


def _closed(theta, x, big_t, t):
    th = np.asarray(theta, dtype=np.float64)
    return pareto_nbd._log_purchase_given_alive_closed(
        th, np.asarray(t, float), np.asarray(x, float), np.asarray(big_t, float)
    )


def _quadrature(theta, x, big_t, t):
    th = np.asarray(theta, dtype=np.float64)
    x, big_t, t = (np.asarray(v, float) for v in (x, big_t, t))
    with np.errstate(divide="ignore"):
        return np.concatenate(
            [
                pareto_nbd._log_purchase_given_alive(
                    th, t[i : i + 1024, None], x[i : i + 1024], big_t[i : i + 1024]
                )
                for i in range(0, x.size, 1024)
            ]
        )


# mpmath (40 digits) of P(purchase | alive) = ∫_0^t n/A (1+u/A)^-(n+1) (1+u/B)^-s du,
# n = r+x, A = α+T, B = β+T, by mp.quad split at 0, σ 4^k (< t) and t,
# σ = 1/((n+1)/A + s/B):
#   f = lambda u: n / A * (1 + u / A) ** -(n + 1) * (1 + u / B) ** -s
# (theta, x, T, t, value, closed form used)
MPMATH_CASES = [
    ((0.55, 10.58, 0.61, 11.67), 2, 38.86, 39.0, 0.68010015087896433, True),  # α < β
    ((0.55, 11.67, 0.61, 10.58), 5, 20.0, 39.0, 0.89192307148955643, True),  # α > β
    ((0.55, 10.0, 0.61, 10.00000000001), 3, 30.0, 39.0, 0.8030644694518095, True),  # α ≈ β
    ((0.55, 10.58, 0.61, 11.67), 5000, 300.0, 0.01, 0.14871011699788351, True),  # huge x
    ((0.55, 10.58, 0.61, 11.67), 0, 1e-9, 39.0, 0.40398020811417709, True),  # T ≈ 0
    ((0.55, 10.58, 0.61, 11.67), 3, 1e5, 2000.0, 0.067474859139458742, True),  # very old T
    ((0.55, 10.58, 0.61, 11.67), 3, 1e5, 39.0, 0.0013829618624669679, False),  # small: quadrature
    ((0.55, 100.0, 0.61, 0.5), 100, 0.01, 1.0, 0.4598183693080877, False),  # H not evaluated
    ((2.0, 0.5, 0.3, 200.0), 10, 1.0, 5.0, 0.99979664663790801, False),  # α << β, CF: quadrature
    ((2.0, 0.5, 0.3, 200.0), 2, 1.0, 5.0, 0.9964507987664452, True),  # α << β, Taylor near z = 1
    ((0.3, 0.5, 2.0, 200.0), 0, 1.0, 50.0, 0.60268192476888949, True),  # α << β, n < 1
    ((0.2, 80.0, 3.0, 1.0), 0, 5.0, 1e4, 0.0066048880036674921, False),  # α >> β, small
    ((1.0, 718.0, 9.0, 0.5), 215, 0.0, 1.0, 0.018404307596224561, False),  # continued fraction
]


@pytest.mark.parametrize("case", MPMATH_CASES)
def test_closed_form_matches_mpmath(case):
    theta, x, big_t, t, expected, used = case
    got = _closed(theta, [x], [big_t], [t])[0]
    assert np.isnan(got) != used
    if used:
        assert_allclose(np.exp(got), expected, rtol=1e-14)
    quad = _quadrature(theta, [x], [big_t], [t])[0]
    assert_allclose(np.exp(quad), expected, rtol=1e-14)


@pytest.mark.parametrize("case", MPMATH_CASES)
def test_public_function_matches_mpmath(case):
    # P(alive) is checked against mpmath in test_pareto_nbd.py; here the factor after it
    theta, x, big_t, t, expected, _ = case
    p = ParetoNbdParams(**dict(zip(("r", "alpha", "s", "beta"), theta, strict=True)))
    got = pareto_nbd.conditional_purchase_probability(p, t, [x], [0.5 * big_t * (x > 0)], [big_t])
    alive = pareto_nbd.probability_alive(p, [x], [0.5 * big_t * (x > 0)], [big_t])
    assert_allclose(got, alive * expected, rtol=1e-13)


def test_closed_form_matches_the_quadrature_on_simulated_customers():
    # 20,000 customers per parameter set, horizons log-uniform over 1e-4 to 1e3: where the
    # closed form serves (P >= 0.01) its absolute error is a few 1e-16 (three terms in
    # [0, 1] and the relative error of H), so 1e-12 relative holds with room (measured:
    # 1e-13 at most on 200,000 customers per set); below 0.01 the quadrature serves
    rng = np.random.default_rng(5)
    for theta in [
        (0.55, 10.58, 0.61, 11.67),
        (0.55, 11.67, 0.61, 10.58),
        (2.0, 3.0, 0.3, 50.0),
        (0.2, 80.0, 3.0, 1.0),
        (5.0, 10.0, 5.0, 10.0 + 1e-9),
    ]:
        n = 20_000
        sim = pareto_nbd_histories(*theta, T=rng.uniform(0.01, 300.0, n), rng=4)
        x, big_t = sim.frequency.astype(float), sim.T
        t = np.exp(rng.uniform(np.log(1e-4), np.log(1e3), n))
        closed = _closed(theta, x, big_t, t)
        quad = _quadrature(theta, x, big_t, t)
        used = ~np.isnan(closed)
        assert used.sum() > n // 5
        # NaN only below the switch or where H would come from the continued fraction
        p_, q_ = max(theta[1], theta[3]), min(theta[1], theta[3])
        cf = (p_ - q_) / (p_ + big_t) > 0.75
        assert np.all((np.exp(quad[~used]) < 0.0101) | cf[~used])
        assert_allclose(np.exp(closed[used]), np.exp(quad[used]), rtol=1e-12)


_positive = st.floats(1e-3, 1e3)


@st.composite
def _customers(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    n = draw(st.integers(1, 20))
    x = np.array(draw(st.lists(st.integers(0, 2000), min_size=n, max_size=n)), dtype=float)
    big_t = np.array(draw(st.lists(st.floats(0.0, 1e4), min_size=n, max_size=n)))
    t = np.array(draw(st.lists(st.floats(0.0, 1e4), min_size=n, max_size=n)))
    return x, big_t, t


@given(st.tuples(_positive, _positive, _positive, _positive), _customers())
def test_closed_form_agrees_with_the_quadrature(theta, customers):
    x, big_t, t = customers
    closed = _closed(theta, x, big_t, t)
    quad = _quadrature(theta, x, big_t, t)
    used = ~np.isnan(closed)
    # the closed form serves from 0.01 only (the quadrature's own error is ~1e-15)
    assert np.all(np.exp(quad[used]) >= pareto_nbd._CLOSED_MIN * (1 - 1e-12))
    assert_allclose(np.exp(closed[used]), np.exp(quad[used]), rtol=1e-12)
    # the public function: the closed form or the quadrature, times P(alive)
    p = ParetoNbdParams(**dict(zip(("r", "alpha", "s", "beta"), theta, strict=True)))
    tx = 0.5 * big_t * (x > 0)
    got = pareto_nbd.conditional_purchase_probability(p, t, x, tx, big_t)
    alive = pareto_nbd.probability_alive(p, x, tx, big_t)
    assert_allclose(got, np.minimum(alive * np.exp(quad), alive), rtol=1e-12, atol=1e-300)
    assert np.all(got <= alive)
    assert np.all(got[t == 0.0] == 0.0)


def test_mpmath_integrand_agrees_with_the_reference_quadrature():
    # the table's integral, recomputed for the first case at 30 digits (guards its transcription)
    r, al, s, be = (mp.mpf(v) for v in (0.55, 10.58, 0.61, 11.67))
    n, a_t, b_t = r + 2, al + mp.mpf(38.86), be + mp.mpf(38.86)
    with mp.workdps(30):
        v = mp.quad(lambda u: n / a_t * (1 + u / a_t) ** -(n + 1) * (1 + u / b_t) ** -s, [0, 1, 39])
    assert abs(float(v) - MPMATH_CASES[0][4]) < 1e-15


@given(st.tuples(_positive, _positive, _positive, _positive), _customers())
def test_alive_by_count_is_the_likelihood_terms_to_the_bit(theta, customers):
    # the count-block evaluation of log P(alive) (shared with the closed form) against the
    # previous set-up of the points (_Rows, kept as the oracle): the same arithmetic per point
    x, big_t, _ = customers
    tx = np.where(x > 0, 0.3 * big_t, 0.0)
    th = np.array(theta)
    got, _ = pareto_nbd._alive_by_count(th, x, tx, big_t, None)
    rows = pareto_nbd._Rows(x, tx, big_t, merge=False)
    want = pareto_nbd._log_alive_rows(th, rows, rows.px, rows.ptau, rows.blocks)
    np.testing.assert_array_equal(got, want)
