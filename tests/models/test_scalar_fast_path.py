"""The scalar fast path of the BG/NBD and MBG/NBD per-customer predictions.

One customer given as plain numbers (Python or numpy scalars, 0-d arrays) is
validated and scored without arrays. The reference of every value here is the
array path: the same customer inside a batch of customers, whose numerics the
other test files check against the papers and mpmath.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from crmcore.errors import CrmError
from crmcore.models import _inputs, bgnbd, mbgnbd, pareto_nbd

MODULES = {bgnbd: bgnbd.BgNbdParams, mbgnbd: mbgnbd.MbgNbdParams}
CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # FHL (2005), CDNOW


def _alive(module, params, t, hist):
    return module.probability_alive(params, *hist)


def _buy(module, params, t, hist):
    return module.conditional_purchase_probability(params, t, *hist)


def _expected(module, params, t, hist):
    return module.conditional_expected_purchases(params, t, *hist)


CALLS = [_alive, _buy, _expected]


def _log_uniform(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi).map(lambda e: 10.0**e)


@st.composite
def _customers(draw):
    big_t = draw(st.one_of(st.just(0.0), _log_uniform(-6, 12), st.sampled_from([1e300, 1e308])))
    x = draw(st.one_of(st.integers(0, 50), st.integers(0, 10**15), st.just(2**62)))
    if x == 0:
        tx = 0.0
    else:
        tx = draw(
            st.one_of(st.just(0.0), st.just(big_t), st.floats(0.0, 1.0).map(lambda f: f * big_t))
        )
    # horizons up to 1e8 periods: beyond, the array path itself gives NaN for huge x (see report)
    t = draw(st.one_of(st.just(0.0), _log_uniform(-8, 8)))
    return x, tx, big_t, t


_PARAMS = st.fixed_dictionaries(
    {
        "r": _log_uniform(-4, 4),
        "alpha": _log_uniform(-4, 6),
        "a": st.one_of(_log_uniform(-4, 4), st.floats(0.99999, 1.00001)),
        "b": _log_uniform(-4, 4),
    }
)


@given(params=_PARAMS, customer=_customers(), module=st.sampled_from(list(MODULES)))
def test_scalar_path_equals_the_same_customer_inside_an_array(params, customer, module):
    p = MODULES[module](**params)
    x, tx, big_t, t = customer
    # the customer between two others, so that batch-wide choices (series length) differ
    xs, txs, ts = [3, x, 0], [1.0, tx, 0.0], [2.0, big_t, 5.0]
    for call in CALLS:
        one = call(module, p, t, (x, tx, big_t))
        batch = call(module, p, t, (xs, txs, ts))
        assert type(one) is float
        assert np.isfinite(one)
        assert_allclose(one, batch[1], rtol=1e-13, atol=1e-290, err_msg=call.__name__)


def _histories_forbidden(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("the array path was taken")

    monkeypatch.setattr(_inputs, "histories", boom)


@pytest.mark.parametrize("module", list(MODULES))
@pytest.mark.parametrize(
    "customer",
    [
        (2, 30.43, 38.86, 39),
        (np.int64(2), np.float64(30.43), np.float64(38.86), np.float64(39.0)),
        (np.array(2), np.array(30.43), np.array(38.86), np.array(39.0)),
        (np.uint8(2), np.float32(30.5), np.float16(38.5), np.int32(39)),
        (2.0, 30, 39, 39),
    ],
)
def test_plain_numbers_take_the_scalar_path(monkeypatch, module, customer):
    p = MODULES[module](**CDNOW)
    x, tx, big_t, t = customer
    expected = [
        call(module, p, float(t), ([int(x)], [float(tx)], [float(big_t)]))[0] for call in CALLS
    ]
    _histories_forbidden(monkeypatch)
    for call, want in zip(CALLS, expected, strict=True):
        got = call(module, p, t, (x, tx, big_t))
        assert type(got) is float
        assert got == pytest.approx(want, rel=1e-14)


def test_fit_methods_take_the_scalar_path(monkeypatch):
    p = bgnbd.BgNbdParams(**CDNOW)
    f = bgnbd.BgNbdFit(
        params=p,
        standard_errors=p,
        covariance=np.eye(4),
        log_likelihood=0.0,
        n_customers=1.0,
        converged=True,
        n_iterations=0,
    )
    _histories_forbidden(monkeypatch)
    # FHL (2008) P(alive) of the CDNOW customer x=2, t_x=30.43, T=38.86: 0.7266 (also
    # checked against mpmath in test_single_customer.py)
    assert f.probability_alive(2, 30.43, 38.86) == pytest.approx(0.7266, abs=5e-5)
    assert type(f.conditional_purchase_probability(39, 2, 30.43, 38.86)) is float
    assert type(f.conditional_expected_purchases(39, 2, 30.43, 38.86)) is float


BAD = [
    (-1, 0.0, 5.0, 1.0),  # negative frequency
    (1.5, 1.0, 5.0, 1.0),  # fractional frequency
    (2**63, 1.0, 5.0, 1.0),  # beyond int64
    (2, 6.0, 5.0, 1.0),  # recency > T
    (0, 1.0, 5.0, 1.0),  # recency without repeat purchase
    (2, float("nan"), 5.0, 1.0),
    (2, 1.0, float("inf"), 1.0),
    (2, 1.0, 10**400, 1.0),
    (2, -1.0, 5.0, 1.0),
    (np.float64(np.nan), 1.0, 5.0, 1.0),
    (np.array(-3), 0.0, 5.0, 1.0),
    (2, 1.0, 5.0, -1.0),  # negative horizon
    (2, 1.0, 5.0, float("nan")),
    (2, 1.0, 5.0, 10**400),
    (2, 1.0, 5.0, True),
]


@pytest.mark.parametrize("module", list(MODULES))
@pytest.mark.parametrize("bad", BAD)
def test_a_bad_scalar_raises_what_it_raises_inside_an_array(module, bad):
    p = MODULES[module](**CDNOW)
    x, tx, big_t, t = bad
    for call in CALLS:
        if call is _alive and not (type(t) is float and t == 1.0):
            continue  # no horizon
        with pytest.raises(CrmError) as in_array:
            call(module, p, t, ([x], [tx], [big_t]))
        with pytest.raises(type(in_array.value), match=f"^{re.escape(str(in_array.value))}$"):
            call(module, p, t, (x, tx, big_t))


PNBD = pareto_nbd.ParetoNbdParams(r=0.55, alpha=10.58, s=0.61, beta=11.67)  # FHL (2005), CDNOW


@pytest.mark.parametrize(
    "customer",
    [(2, 30.43, 38.86), (np.int64(2), np.array(30.43), np.float32(38.5)), (0, 0.0, 0.0)],
)
def test_pareto_nbd_probability_alive_validates_one_customer_without_arrays(monkeypatch, customer):
    x, tx, big_t = customer
    expected = pareto_nbd.probability_alive(PNBD, [int(x)], [float(tx)], [float(big_t)])[0]
    _histories_forbidden(monkeypatch)
    got = pareto_nbd.probability_alive(PNBD, x, tx, big_t)
    assert type(got) is float
    assert got == expected  # same numerics on the same one-element arrays


@pytest.mark.parametrize("bad", [b[:3] for b in BAD if type(b[3]) is float and b[3] == 1.0])
def test_pareto_nbd_bad_scalar_raises_what_it_raises_inside_an_array(bad):
    x, tx, big_t = bad
    with pytest.raises(CrmError) as in_array:
        pareto_nbd.probability_alive(PNBD, [x], [tx], [big_t])
    with pytest.raises(type(in_array.value), match=f"^{re.escape(str(in_array.value))}$"):
        pareto_nbd.probability_alive(PNBD, x, tx, big_t)
