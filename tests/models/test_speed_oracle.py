"""The faster prediction numerics against the previous implementation (issue 14).

The reference of every value here is the code as it was before the speed
work, kept in ``tests/models/_speed_oracle.py``: P(alive) within 1e-12
relative (1 / (1 + e^d) in chunks, log1p through log, the terms in x from one
table; rows with x = 0 get the 1.0 the formula gives), the expected
purchases within 1e-12 relative or, where H is interpolated per count (many
customers), at least as close to mpmath as the previous code; P(at least one
purchase) and the Gamma-Gamma expected spend within 1e-12 relative (their
formulas now multiply where they added logs). The Pareto/NBD P(alive) of
many customers is the likelihood's terms to the bit. The fast validation
paths must accept and refuse exactly what the full checks do.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from crmcore import _validation as v
from crmcore.errors import CrmError
from crmcore.models import bgnbd, gamma_gamma, mbgnbd, pareto_nbd
from tests.models import _speed_oracle as old

positive = st.floats(1e-3, 1e3)  # parameters spanning six orders of magnitude


@st.composite
def histories(draw: st.DrawFn, max_size: int = 40) -> tuple[np.ndarray, ...]:
    n = draw(st.integers(1, max_size))
    x = np.array(draw(st.lists(st.integers(0, 2000), min_size=n, max_size=n)), dtype=np.float64)
    big_t = np.array(draw(st.lists(st.floats(0.0, 1e4), min_size=n, max_size=n)))
    share = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)))
    tx = np.where(x > 0, big_t * share, 0.0)
    return x, np.minimum(tx, big_t), big_t


@given(
    st.tuples(positive, positive, positive, positive),
    histories(),
    st.sampled_from([0, 1]),
    st.floats(0.0, 1e3),
)
def test_bgnbd_family_predictions_match_the_previous_code(theta, hist, shift, t):
    th = np.array(theta)
    x, tx, big_t = hist
    tt = np.broadcast_to(t, x.shape)
    assert_allclose(
        bgnbd._probability_alive(th, x, tx, big_t, shift),
        old._probability_alive(th, x, tx, big_t, shift),
        rtol=1e-12,
        atol=1e-300,
    )
    assert_allclose(
        bgnbd._conditional_expectation_each(th, tt, hist, shift),
        old._conditional_expectation_each(th, tt, hist, shift),
        rtol=1e-12,
        atol=1e-300,
    )
    assert_allclose(
        bgnbd._conditional_purchase_probability(th, tt, hist, shift),
        old._conditional_purchase_probability(th, tt, hist, shift),
        rtol=1e-12,
        atol=1e-300,
    )


@pytest.mark.parametrize("shift", [0, 1])
def test_extreme_histories_match_the_previous_code(shift):
    # thousands of purchases, recency at 0 and at T, T = 0 and huge, tiny and huge parameters
    x = np.array([0, 1, 5000, 5000, 1, 1e6, 0, 3, 2], dtype=np.float64)
    big_t = np.array([0.0, 1e-9, 1e6, 1e6, 1e300, 50.0, 1e6, 7.0, 1.0])
    tx = np.array([0.0, 0.0, 0.0, 1e6, 1e300, 49.0, 0.0, 7.0, 1e-300])
    for theta in ([1e-8, 1e-8, 1e-8, 1e-8], [1e8, 1e8, 1e8, 1e8], [0.243, 4.414, 1.0, 2.426]):
        th = np.array(theta)
        hist = (x, tx, big_t)
        tt = np.broadcast_to(39.0, x.shape)
        assert_allclose(
            bgnbd._probability_alive(th, *hist, shift),
            old._probability_alive(th, *hist, shift),
            rtol=1e-12,
            atol=1e-300,
        )
        assert_allclose(
            bgnbd._conditional_expectation_each(th, tt, hist, shift),
            old._conditional_expectation_each(th, tt, hist, shift),
            rtol=1e-12,
            atol=1e-300,
        )
        assert_allclose(
            bgnbd._conditional_purchase_probability(th, tt, hist, shift),
            old._conditional_purchase_probability(th, tt, hist, shift),
            rtol=1e-12,
            atol=1e-300,
        )


@pytest.mark.parametrize("shift", [0, 1])
def test_repeated_pairs_are_merged_and_give_the_same_values(shift):
    # daily histories: T in whole days, so (x, T) pairs repeat and are computed once each
    rng = np.random.default_rng(5)
    n = 30_000
    big_t = rng.integers(1, 400, n) / 7.0
    x = rng.geometric(0.4, n) - 1.0
    tx = np.where(x > 0, np.floor(rng.uniform(0, 1, n) * big_t * 7) / 7, 0.0)
    pairs = bgnbd._distinct_pairs(x, big_t)
    assert pairs is not None
    xk, tk, inverse = pairs
    assert xk.size < n // 5
    assert_array_equal(xk[inverse], x)
    assert_array_equal(tk[inverse], big_t)
    th = np.array([0.243, 4.414, 0.793, 2.426])
    tt = np.broadcast_to(39.0, x.shape)
    # the pairs of a count are then many: interpolated in sqrt(1 + u), within 1e-12
    assert_allclose(
        bgnbd._conditional_expectation_each(th, tt, (x, tx, big_t), shift),
        old._conditional_expectation_each(th, tt, (x, tx, big_t), shift),
        rtol=1e-12,
    )


def test_continuous_times_are_not_merged():
    rng = np.random.default_rng(6)
    n = 30_000
    assert bgnbd._distinct_pairs(np.zeros(n), rng.uniform(1, 78, n)) is None


@given(
    st.tuples(st.floats(1e-3, 1e8), st.floats(1e-3, 1e3), st.floats(1e-3, 1e3)),
    st.lists(st.tuples(st.integers(0, 10**6), st.floats(0.0, 1e306)), min_size=1, max_size=30),
)
def test_expected_spend_matches_the_previous_code(theta, rows):
    params = gamma_gamma.GammaGammaParams(p=theta[0], q=theta[1], v=theta[2])
    x = np.array([r[0] for r in rows], dtype=np.float64)
    m = np.array([r[1] if r[0] == 0 else max(r[1], 1e-300) for r in rows])
    assert_allclose(
        gamma_gamma._conditional_spend(params, x, m),
        old._conditional_spend(params, x, m),
        rtol=1e-12,
        atol=1e-300,
    )


special = st.sampled_from([0.0, -0.0, 1.0, 2.5, -1.0, np.nan, np.inf, 1e300, 2.0**63])


@given(
    st.lists(st.tuples(special, special, special), min_size=1, max_size=6),
    st.sampled_from(["float", "int"]),
)
def test_fast_validation_accepts_and_refuses_as_the_full_checks(rows, kind):
    f = np.array([r[0] for r in rows])
    if kind == "int":
        if not np.isfinite(f).all() or np.abs(f).max() >= 2.0**62:
            return
        f = f.astype(np.int64)
    tx = np.array([r[1] for r in rows])
    big_t = np.array([r[2] for r in rows])
    try:  # the full checks (lists never take the fast path)
        want = v.as_histories(f.tolist(), tx.tolist(), big_t.tolist())
    except CrmError as exc:
        with pytest.raises(type(exc), match=re.escape(str(exc))):
            v.as_histories(f, tx, big_t)
        return
    got = v.as_histories(f, tx, big_t)
    for a, b in zip(got, want, strict=True):
        assert_array_equal(a, b)
        assert not np.signbit(a).any() or np.signbit(b).any()
    assert got[0] is not f


@given(
    st.lists(st.tuples(special, special), min_size=1, max_size=6),
    st.sampled_from(["float", "int"]),
)
def test_fast_spend_validation_accepts_and_refuses_as_the_full_checks(rows, kind):
    f = np.array([r[0] for r in rows])
    if kind == "int":
        if not np.isfinite(f).all() or np.abs(f).max() >= 2.0**62:
            return
        f = f.astype(np.int64)
    m = np.array([r[1] for r in rows])
    try:
        want = gamma_gamma._spend_arrays(f.tolist(), m.tolist())
    except CrmError as exc:
        with pytest.raises(type(exc), match=re.escape(str(exc))):
            gamma_gamma._spend_arrays(f, m)
        return
    got = gamma_gamma._spend_arrays(f, m)
    assert_array_equal(got[0], want[0])
    assert_array_equal(got[1], want[1])
    assert got[2] is want[2] is False


@given(
    st.tuples(positive, positive, positive, positive),
    histories(max_size=20),
    st.sampled_from([0.0, 1e-9, 0.5, 39.0, 1e4, 1e12]),
)
def test_pareto_purchase_given_alive_matches_the_previous_code(theta, hist, t):
    # only the quadrature pieces that start before t are evaluated now
    th = np.array(theta)
    x, _, big_t = hist
    tt = np.full((x.size, 1), t)
    with np.errstate(divide="ignore"):
        got = pareto_nbd._log_purchase_given_alive(th, tt, x, big_t)
        want = old._log_purchase_given_alive(th, tt, x, big_t)
    assert_allclose(np.exp(got), np.exp(want), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("module", [bgnbd, mbgnbd, pareto_nbd])
def test_fit_from_a_sample_reaches_the_same_maximum(module):
    # 50,000 continuous histories: the fit starts from a 20,000-row sample's estimates and
    # Hessian; the reference is the full quasi-Newton search from the default start
    from crmcore import simulate
    from crmcore.models import _inputs

    draw = {
        bgnbd: (simulate.bgnbd_histories, (0.243, 4.414, 0.793, 2.426)),  # CDNOW, FHL (2005)
        mbgnbd: (simulate.mbgnbd_histories, (0.525, 6.183, 0.891, 1.614)),
        pareto_nbd: (simulate.pareto_nbd_histories, (0.55, 10.58, 0.61, 11.67)),
    }
    func, truth = draw[module]
    sim = func(*truth, T=np.random.default_rng(11).uniform(1.0, 78.0, 50_000), rng=12)
    x, tx, big_t = sim.frequency.astype(np.float64), sim.recency, sim.T
    got = module.fit(x, tx, big_t)
    data = _inputs.prepare_fit_data(x, tx, big_t, None)
    if module is pareto_nbd:
        want = module._fit_compressed(data, module._default_initial(data))
    else:
        shift = 0 if module is bgnbd else 1
        want = bgnbd._fit_compressed(data, bgnbd._default_initial(data), shift, "BG/NBD")
    assert got.n_iterations < want.n_iterations
    assert_allclose(got.params.as_array(), want.estimates, rtol=1e-6)
    assert_allclose(got.standard_errors.as_array(), want.standard_errors, rtol=1e-5)
    assert got.log_likelihood == pytest.approx(want.log_likelihood, rel=1e-12)


@st.composite
def populations(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """4,096 customers over a few counts (many per count), T over a drawn range, continuous."""
    counts = draw(st.lists(st.sampled_from([0, 1, 2, 7, 40, 300, 5000]), min_size=1, max_size=4))
    t_lo = draw(st.floats(0.0, 1e4))
    t_hi = t_lo + draw(st.floats(0.0, 1e4))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    n = 4096
    x = np.asarray(counts, dtype=np.float64)[rng.integers(0, len(counts), n)]
    big_t = rng.uniform(t_lo, t_hi, n)
    tx = np.where(x > 0, big_t * rng.uniform(0.0, 1.0, n), 0.0)
    return x, np.minimum(tx, big_t), big_t


def _exact_h(n: float, a: float, beta: float, u: float) -> float:
    """E[(1 - (1 + p u)^-n) / p], p ~ Beta(a, beta), by mpmath: c/(a-1) (1 - 2F1(n, a-1; c; -u))."""
    import mpmath

    with mpmath.workdps(60):
        am = mpmath.mpf(a) if a != 1.0 else mpmath.mpf(1) + mpmath.mpf(10) ** -40
        c = am + beta - 1
        return float(c / (am - 1) * (1 - mpmath.hyp2f1(n, am - 1, c, -mpmath.mpf(u))))


@given(
    st.tuples(positive, positive, positive, positive),
    populations(),
    st.sampled_from([0, 1]),
    st.sampled_from([1e-6, 0.5, 39.0, 1e4]),
)
def test_interpolated_expectation_matches_the_previous_code(theta, hist, shift, t):
    # many customers per count: H is interpolated in sqrt(1 + u) per count. It agrees with the
    # previous pointwise evaluation within 1e-12, or, where that one carried a larger rounding
    # error (the Euler form cancels when r is tiny), is at least as close to mpmath as it was.
    th = np.array(theta)
    x, _, big_t = hist
    tt = np.broadcast_to(t, x.shape)
    got = bgnbd._conditional_expectation_each(th, tt, hist, shift)
    want = old._conditional_expectation_each(th, tt, hist, shift)
    off = np.flatnonzero(~np.isclose(got, want, rtol=1e-12, atol=1e-300))
    alive = bgnbd._probability_alive(th, *hist, shift)
    r, alpha, a, b = theta
    for i in off[:: max(1, off.size // 4)]:
        exact = _exact_h(r + x[i], a, b + x[i] + shift, t / (alpha + big_t[i]))
        err_new = abs(got[i] / alive[i] - exact)
        err_old = abs(want[i] / alive[i] - exact)
        assert err_new <= max(1e-12 * exact, 1.5 * err_old), (i, got[i], want[i], exact)


@given(
    st.lists(st.tuples(special, special), min_size=1, max_size=6),
    st.sampled_from([1, 70_000]),
)
def test_spend_read_path_accepts_and_refuses_as_the_full_checks(rows, repeat):
    # float64 arrays only read by the expected spend: no copy, the same verdict (also past
    # the first chunk of 65,536 rows), and the values of the full path bit for bit
    f = np.tile(np.array([r[0] for r in rows]), repeat)
    m = np.tile(np.array([r[1] for r in rows]), repeat)
    params = gamma_gamma.GammaGammaParams(p=6.25, q=3.74, v=15.44)
    try:
        x, mm, _ = gamma_gamma._spend_arrays(f.tolist(), m.tolist())
    except CrmError:
        assert gamma_gamma._spend_arrays_read(f, m) is None
        return
    read = gamma_gamma._spend_arrays_read(f, m)
    assert read is not None
    assert read[0] is f
    assert read[1] is m
    got = gamma_gamma.conditional_expected_spend(params, f, m)
    assert_array_equal(got, gamma_gamma._conditional_spend(params, x, mm))
    assert_allclose(got, old._conditional_spend(params, x, mm), rtol=1e-12)


@given(st.tuples(positive, positive, positive, positive), populations(), st.sampled_from([0, 1]))
def test_alive_of_many_customers_is_the_previous_code(theta, hist, shift):
    # in chunks, log1p through log, the terms in x from a table: within 1e-12 of the previous
    # code, and exactly 1.0 where x = 0 (BG/NBD); huge counts, zero recency, very old T included
    th = np.array(theta)
    got = bgnbd._probability_alive(th, *hist, shift)
    assert_allclose(got, old._probability_alive(th, *hist, shift), rtol=1e-12, atol=1e-300)
    assert_array_equal(got[hist[0] == 0] == 1.0, shift == 0)


@given(
    st.tuples(positive, positive, positive, positive),
    populations(),
    st.sampled_from([1.0, 0.5, 0.0]),
)
def test_pareto_alive_of_many_customers_is_the_likelihood_terms(theta, hist, at_t):
    # from 4,096 rows P(alive) sorts the rows itself and evaluates log H without derivatives:
    # the same points as the likelihood's set-up, so the same values to the bit; and within
    # 1e-12 of log A1 - log(A1 + s I) from the likelihood's terms
    x, tx, big_t = hist
    tx = np.where(x > 0, tx + at_t * (big_t - tx), 0.0)  # some recency at T
    th = np.array(theta)
    got = pareto_nbd._log_probability_alive(th, x, tx, big_t)
    rows = pareto_nbd._Rows(x, tx, big_t, merge=False)
    assert_array_equal(got, pareto_nbd._log_alive_rows(th, rows, rows.px, rows.ptau, rows.blocks))
    terms = pareto_nbd._row_terms(th, rows, None)
    with np.errstate(all="ignore"):
        want = np.minimum(terms.log_a1 - terms.log_rest, 0.0)
    assert_allclose(np.exp(got), np.exp(want), rtol=1e-12, atol=1e-300)


@given(
    st.lists(st.tuples(special, special, special), min_size=1, max_size=6),
    st.sampled_from(["float", "int"]),
    st.sampled_from([1, 70_000]),
)
def test_histories_read_path_accepts_and_refuses_as_the_full_checks(rows, kind, repeat):
    # int64 or float64 arrays of the predictions: checked in chunks of 65,536 rows, no copy of
    # float64 arrays (read-only views), the same verdict and values as the full checks
    from crmcore.models import _inputs

    f = np.tile(np.array([r[0] for r in rows]), repeat)
    if kind == "int":
        if not np.isfinite(f).all() or np.abs(f).max() >= 2.0**62:
            return
        f = f.astype(np.int64)
    tx = np.tile(np.array([r[1] for r in rows]), repeat)
    big_t = np.tile(np.array([r[2] for r in rows]), repeat)
    try:
        want = v.as_histories(f.tolist(), tx.tolist(), big_t.tolist())
    except CrmError as exc:
        assert _inputs._read_histories(f, tx, big_t) is None
        with pytest.raises(type(exc), match=re.escape(str(exc))):
            _inputs.histories(f, tx, big_t)
        return
    got = _inputs.histories(f, tx, big_t)
    read = _inputs._read_histories(f, tx, big_t) is not None
    assert read == (kind == "int" or not np.signbit(f).any())  # -0.0 counts: a copy
    for a, b in zip(got[:3], want, strict=True):
        assert_array_equal(a, b)
        assert not np.signbit(a).any() or np.signbit(b).any()
        assert a.flags.writeable != read
    if read:
        assert np.shares_memory(got.tx, tx)
        assert np.shares_memory(got.T, big_t)
        assert np.shares_memory(got.x, f) == (kind == "float")
    assert all(a.flags.writeable for a in (f, tx, big_t))


def test_histories_read_path_refuses_a_bad_row_in_a_later_chunk():
    from crmcore.models import _inputs

    n = 3 * 65_536
    x = np.ones(n)
    tx = np.full(n, 1.0)
    big_t = np.full(n, 2.0)
    for arr, value, message in (
        (x, 1.5, "frequency must hold whole numbers"),
        (x, 0.0, "recency must be 0 where frequency is 0"),
        (tx, 3.0, "recency must not exceed T"),
        (big_t, np.inf, "T must be finite"),
    ):
        bad = arr.copy()
        bad[n - 5] = value
        args = [bad if arr is a else a for a in (x, tx, big_t)]
        assert _inputs._read_histories(*args) is None
        with pytest.raises(CrmError, match=message):
            _inputs.histories(*args)
    # -0.0 counts are valid, but read as 0.0 in a copy
    x[n - 5], tx[n - 5] = -0.0, 0.0
    assert _inputs._read_histories(x, tx, big_t) is None
    h = _inputs.histories(x, tx, big_t)
    assert not np.signbit(h.x).any()
    assert not np.shares_memory(h.x, x)


@pytest.mark.parametrize("shift", [0, 1])
def test_alive_rows_beyond_the_fast_formulas_match_the_previous_code(shift):
    # rows where a fast step does not apply fall back to the previous formulas: recency at T
    # (1 + u rounds to 1), log-odds beyond exp's range (subnormal P(alive)), horizons with
    # y < 1/16 (and t = 0), and a count beyond the table's range in a later chunk
    rng = np.random.default_rng(8)
    n = 3 * bgnbd._ALIVE_CHUNK + 17
    x = rng.integers(0, 30, n).astype(np.float64)
    big_t = rng.uniform(1.0, 78.0, n)
    tx = np.where(x > 0, big_t * rng.uniform(0.0, 1.0, n), 0.0)
    tx[::97] = np.where(x[::97] > 0, big_t[::97], 0.0)  # recency at T
    # log-odds of death about 720 (e^d overflows); counts far beyond the earlier chunks' table
    # and beyond its cap
    x[-3:] = [100.0, 1.0e7, 2.0]
    tx[-3:] = [0.0, 1e-3, 5.0]
    big_t[-3:] = [6091.0, 1e6, 5.0]
    th = np.array([0.243, 4.414, 0.793, 2.426])
    t = rng.choice([0.0, 1e-9, 1e-3, 0.5, 39.0, 1e5], n)
    hist = (x, tx, big_t)
    alive = bgnbd._probability_alive(th, *hist, shift)
    want = old._probability_alive(th, *hist, shift)
    assert_allclose(alive, want, rtol=1e-12, atol=0.0)
    assert 0.0 < alive[-3] < 1e-300  # subnormal, as before
    assert_allclose(
        bgnbd._conditional_purchase_probability(th, t, hist, shift),
        old._conditional_purchase_probability(th, t, hist, shift),
        rtol=1e-12,
        atol=0.0,
    )


@given(
    st.lists(st.tuples(special, special, special), min_size=1, max_size=6),
    st.sampled_from(["float", "int"]),
    st.sampled_from([1, 20_000]),
    st.sampled_from([bgnbd, mbgnbd]),
)
def test_alive_read_path_checks_each_chunk_as_the_full_checks(rows, kind, repeat, module):
    # P(alive) and P(at least one purchase) of plain arrays check each chunk of 16,384 rows as
    # they read it: the same errors as the full checks, the same values bit for bit
    f = np.tile(np.array([r[0] for r in rows]), repeat)
    if kind == "int":
        if not np.isfinite(f).all() or np.abs(f).max() >= 2.0**62:
            return
        f = f.astype(np.int64)
    tx = np.tile(np.array([r[1] for r in rows]), repeat)
    big_t = np.tile(np.array([r[2] for r in rows]), repeat)
    params = (bgnbd.BgNbdParams if module is bgnbd else mbgnbd.MbgNbdParams)(
        r=0.243, alpha=4.414, a=0.793, b=2.426
    )
    lists = (f.tolist(), tx.tolist(), big_t.tolist())
    for call in (
        lambda *h: module.probability_alive(params, *h),
        lambda *h: module.conditional_purchase_probability(params, 39.0, *h),
    ):
        try:
            want = call(*lists)
        except CrmError as exc:
            with pytest.raises(type(exc), match=re.escape(str(exc))):
                call(f, tx, big_t)
            continue
        assert_array_equal(call(f, tx, big_t), want)
