"""Conditional predictions of BG/CNBD-k and MBG/CNBD-k beyond the expected purchases.

conditional_probability_alive, conditional_purchase_count_probability,
discounted_expected_residual_purchases, and the bound E[Y] >= P(Y > 0) of
conditional_expected_purchases. References: Monte Carlo draws of
:mod:`crmcore.simulate` (event by event, not from these formulas), the k = 1
models (BG/NBD, MBG/NBD), scipy's adaptive quadrature of
delta exp(-delta t) E[Y(t)] (the DERT integrated by parts, brute force), and
mpmath sums of the formulas written out here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import InputError
from crmcore.models import bgcnbd, bgnbd, mbgcnbd, mbgnbd
from crmcore.simulate import bgcnbd_histories, mbgcnbd_histories

# (module, params class, shift s, k = 1 module, its params class, simulator)
MODELS = [
    (bgcnbd, bgcnbd.BgCnbdParams, 0, bgnbd, bgnbd.BgNbdParams, bgcnbd_histories),
    (mbgcnbd, mbgcnbd.MbgCnbdParams, 1, mbgnbd, mbgnbd.MbgNbdParams, mbgcnbd_histories),
]
IDS = ["bgcnbd", "mbgcnbd"]
TRUE = (2.0, 8.0, 0.8, 2.5)


def params_of(cls: Any, k: int, theta: tuple[float, ...] = TRUE) -> Any:
    r, alpha, a, b = theta
    return cls(r=r, alpha=alpha, a=a, b=b, k=k)


# --------------------------------------------------------------------------- E[Y] >= P(Y > 0)


@pytest.mark.parametrize("m", MODELS, ids=IDS)
def test_expected_purchases_keep_the_last_phase_for_tiny_horizons(m):
    # k = 3, one repeat purchase just before T, t = 1e-20: the only way to buy that soon is
    # to be one event short of a purchase (J = 2), a phase of posterior weight ~ y^2 ~ 1e-33.
    # Its term w_2 I_z(1, R+2) ~ 1e-33 * 1e-20 outweighs the others (~ z^3, w_1 z^2), so
    # E[Y] ~ P(Y > 0) ~ P(alive) w_2 z; the old code dropped weights below 1e-20 (E was
    # 5.5e-57 against P = 6.1e-53).
    mod, cls, _, _, _, _ = m
    p = params_of(cls, 3, (1.0, 4.0, 0.8, 2.5))
    expected = mod.conditional_expected_purchases(p, 1e-20, 1, 0.5 - 1e-16, 0.5)
    buy = mod.conditional_purchase_probability(p, 1e-20, 1, 0.5 - 1e-16, 0.5)
    assert buy > 0.0
    assert expected >= buy * (1 - 1e-12)
    assert expected <= buy * (1 + 1e-6)  # at most one purchase in so short a time


extreme = st.one_of(
    st.floats(1e-300, 1e-12), st.floats(1e-12, 1.0), st.floats(1.0, 1e3), st.just(0.0)
)


@pytest.mark.parametrize("m", MODELS, ids=IDS)
@given(
    x=st.one_of(st.integers(0, 3), st.integers(0, 10_000)),
    T=st.floats(1e-6, 1e4),
    gap=extreme,
    t=st.one_of(st.floats(1e-300, 1e-10), st.floats(1e-10, 100.0)),
    theta=st.tuples(
        st.floats(0.01, 50.0), st.floats(0.01, 100.0), st.floats(0.01, 20.0), st.floats(0.01, 20.0)
    ),
    k=st.integers(1, 12),
)
def test_expected_purchases_are_at_least_the_purchase_probability(m, *, x, T, gap, t, theta, k):
    mod, cls, _, _, _, _ = m
    tx = max(T - gap, 0.0) if x > 0 else 0.0
    p = params_of(cls, k, theta)
    try:
        expected = mod.conditional_expected_purchases(p, t, x, tx, T)
    except InputError:  # a series beyond 100,000 terms is refused (see test_cnbd.py)
        return
    buy = mod.conditional_purchase_probability(p, t, x, tx, T)
    assert np.isfinite(expected)
    assert expected >= buy * (1 - 1e-12)
