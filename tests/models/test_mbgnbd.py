"""MBG/NBD-only tests (crmcore.models.mbgnbd).

The tests MBG/NBD shares with BG/NBD (reference tables after Batislam,
Denizel & Filiztekin 2007, Monte Carlo, fitting, stability, properties,
errors) run for both models in ``test_bgnbd_family.py``; the reference values
and their mpmath sources are in ``_bgnbd_family.py``.
"""

from __future__ import annotations

import numpy as np
from numpy.testing import assert_allclose

from crmcore.models import bgnbd, mbgnbd
from crmcore.models.mbgnbd import MbgNbdParams


def test_no_repeat_purchase_closed_form():
    # x = 0: L = b/(a+b) (α/(α+T))^r + a/(a+b)  (alive with prob. 1-p, or dropped
    # out at time 0 with prob. p), P(alive) = 1 / (1 + a/b ((α+T)/α)^r); by hand.
    r, alpha, a, b, T = 0.25, 4.0, 0.8, 2.5, 40.0
    p = MbgNbdParams(r=r, alpha=alpha, a=a, b=b)
    ll = mbgnbd.log_likelihood_per_customer(p, [0], [0.0], [T])
    assert_allclose(ll, [np.log(b / (a + b) * (alpha / (alpha + T)) ** r + a / (a + b))])
    pa = mbgnbd.probability_alive(p, [0], [0.0], [T])
    assert_allclose(pa, [1 / (1 + a / b * ((alpha + T) / alpha) ** r)])


def test_unconditional_relates_to_bgnbd():
    # E_MBG[X(t)] = E[(1-p) (1 - E e^{-λ p t}) / p] = b/(a+b) E_BG[X(t)] with b -> b+1.
    for t in (1.0, 39.0, 500.0):
        m = mbgnbd.expected_purchases(MbgNbdParams(r=0.4, alpha=3.0, a=1.7, b=2.0), t)
        g = bgnbd.expected_purchases(bgnbd.BgNbdParams(r=0.4, alpha=3.0, a=1.7, b=3.0), t)
        assert_allclose(m, 2.0 / 3.7 * g, rtol=1e-12)
