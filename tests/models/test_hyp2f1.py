"""Direct tests of the Pareto/NBD hypergeometric engine (crmcore.models._hyp2f1).

Every reference value is computed here with mpmath at 40 digits from the
definitions (``mp.hyp2f1`` for H = 2F1(1, a; a+b; z), ``mp.diff`` for its
derivatives, the closed form of Fader & Hardie (2005) for the likelihood's
integral, ``mp.quad`` for the integral of P(X(t) = n)), never from the code
under test.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
from numpy.testing import assert_allclose

from crmcore.models import _hyp2f1

mp.mp.dps = 40


def _mp_log_h(a, b, z):
    return mp.log(mp.hyp2f1(1, a, a + b, z))


# (a, b, z): the power series (z <= 0.1), the Taylor bands (0.1 < z <= 0.75),
# the chain of expansions near 1 (b < 10, c <= 60), the continued fraction
# (b >= 10), extreme shapes and z within 1e-9 of 1.
H_POINTS = [
    (0.55, 1.61, 0.0),
    (0.55, 1.61, 0.05),
    (2.5, 1.61, 0.3),
    (2.5, 1.61, 0.7),
    (1.3, 1.5, 0.9),
    (1.3, 1.5, 0.999),
    (1.3, 1.5, 1.0 - 1e-9),
    (40.0, 3.0, 0.99),
    (1.61, 25.0, 0.95),
    (500.0, 1.61, 0.2),
    (1e-4, 1.0001, 0.6),
    (1e4, 1.5, 0.001),
    # middle bands at large c = a + b - 1 (a Pareto/NBD customer with x = 49 and
    # alpha < beta): the Taylor expansions there lost 1e-7 .. 1e-5 in log H
    (1.619712263373362, 49.53993851878907, 0.4640541315852461),
    (1.6, 58.0, 0.4),
    (3.0, 50.0, 0.3),
    (10.0, 50.0, 0.6),
    (55.0, 3.0, 0.15),
]


@pytest.mark.parametrize(("a", "b", "z"), H_POINTS)
def test_log_h_block_matches_mpmath(a, b, z):
    out = np.full((4, 1), np.nan)  # points left to the quadrature stay NaN
    _hyp2f1.log_h_block(a, b, np.array([z]), np.array([1.0 - z]), out)
    if np.isnan(out[0, 0]):  # left to the quadrature of the integral
        pytest.skip("point served by the quadrature")
    ref = _mp_log_h(a, b, z)
    d_a = mp.diff(lambda u: _mp_log_h(u, b, z), a)
    d_b = mp.diff(lambda u: _mp_log_h(a, u, z), b)
    d_z = mp.diff(lambda u: _mp_log_h(a, b, u), z) if z > 0 else mp.mpf(a) / (a + b)
    assert_allclose(out[0, 0], float(ref), rtol=1e-13, atol=1e-15)
    assert_allclose(out[1:, 0], [float(d_a), float(d_b), float(d_z)], rtol=1e-8, atol=1e-12)


def test_log_h_block_leaves_unstable_points_to_the_quadrature():
    # c = a + b - 1 > 60 with b < 10 and z within 0.01 of 1: no expansion is
    # both fast and accurate there, so the point is marked NaN.
    out = np.full((4, 1), np.nan)
    _hyp2f1.log_h_block(80.0, 2.0, np.array([0.999]), np.array([0.001]), out)
    assert np.isnan(out[0, 0])


def _mp_log_integral(theta, x, tx, big_t):
    # Fader & Hardie (2005), eq. (22): s I = s/(r+s+x) A0 with
    # A0 = F(t_x) - F(T), F(τ) = 2F1(c, s+1; c+1; (α-β)/(α+τ)) / (α+τ)^c for α >= β
    # and 2F1(c, r+x; c+1; (β-α)/(β+τ)) / (β+τ)^c otherwise, c = r+s+x.
    r, al, s, be = map(mp.mpf, theta)
    c = r + s + x

    def big_f(tau):
        tau = mp.mpf(tau)
        if al >= be:
            return mp.hyp2f1(c, s + 1, c + 1, (al - be) / (al + tau)) / (al + tau) ** c
        return mp.hyp2f1(c, r + x, c + 1, (be - al) / (be + tau)) / (be + tau) ** c

    return mp.log((big_f(tx) - big_f(big_t)) / c)


# (theta = (r, alpha, s, beta), x, t_x, T)
INTEGRAL_CASES = [
    ((0.55, 10.58, 0.61, 11.67), 2, 30.43, 38.86),
    ((0.55, 10.58, 0.61, 11.67), 0, 0.0, 38.86),
    ((1e-4, 1e-4, 1e4, 1e4), 3, 2.0, 50.0),
    ((2.0, 1e4, 0.5, 1e-3), 50, 10.0, 1000.0),
    ((0.3, 1e-3, 2.0, 500.0), 1000, 99.0, 100.0),
]


@pytest.mark.parametrize(("theta", "x", "tx", "big_t"), INTEGRAL_CASES)
def test_log_integral_matches_mpmath_quadrature(theta, x, tx, big_t):
    got, grad = _hyp2f1.log_integral(
        np.array(theta), np.array([float(x)]), np.array([tx]), np.array([big_t]), True
    )
    assert grad is not None
    ref = _mp_log_integral(theta, x, tx, big_t)
    assert_allclose(got[0], float(ref), rtol=1e-12)
    for k in range(4):  # d log I / d(r, alpha, s, beta) by mpmath differentiation

        def shifted(u, k=k):
            th = list(theta)
            th[k] = u
            return _mp_log_integral(th, x, tx, big_t)

        assert_allclose(grad[k, 0], float(mp.diff(shifted, theta[k])), rtol=1e-7, atol=1e-12)


def _mp_log_death(theta, n, t):
    r, al, s, be = map(mp.mpf, theta)
    t = mp.mpf(t)
    f = lambda u: u**n * (al + u) ** -(r + n) * (be + u) ** -(s + 1)  # noqa: E731
    # geometric pieces from 0 to t resolve the power-law shape at every scale
    pts = [mp.mpf(0)] + [t * mp.mpf(10) ** -k for k in range(40, 0, -1)]
    pts += list(mp.linspace(t / 10, t, 50))[1:]
    return mp.log(mp.quad(f, pts))


# (theta, n, t): ordinary, large n, very long and very short periods (the
# short ones use the expansion; 5e-324 is the smallest subnormal float).
DEATH_CASES = [
    ((0.55, 10.58, 0.61, 11.67), 0, 39.0),
    ((0.55, 10.58, 0.61, 11.67), 3, 39.0),
    ((0.55, 10.58, 0.61, 11.67), 200, 78.0),
    ((2.0, 0.5, 1.5, 1e4), 5, 1e6),
    ((0.55, 10.58, 0.61, 11.67), 1, 1e-7),
    ((0.55, 10.58, 0.61, 11.67), 0, 1e-300),
    ((0.55, 10.58, 0.61, 11.67), 2, 5e-324),
]


@pytest.mark.parametrize(("theta", "n", "t"), DEATH_CASES)
def test_log_death_integral_matches_mpmath_quadrature(theta, n, t):
    got = _hyp2f1.log_death_integral(np.array(theta), np.array([float(n)]), np.array([t]))
    ref = _mp_log_death(theta, n, t)
    assert np.isfinite(got[0])
    assert_allclose(got[0], float(ref), rtol=1e-11)
