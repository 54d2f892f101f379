"""CustomerSummary.litt: the sum of the log times between purchase occasions."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from crmcore import CustomerSummary, InteractionTable, summarize
from crmcore.errors import InputError
from crmcore.simulate import bgcnbd_histories

DAY_NS = 86_400 * 10**9


def log_table(customers: list[int], hours: list[int]) -> InteractionTable:
    times = np.datetime64("2024-01-01", "ns") + np.array(hours, dtype=np.int64) * 3_600 * 10**9
    return InteractionTable.from_arrays(customers, times, amounts=np.ones(len(customers)))


def brute_litt(
    customers: list[int], hours: list[int], end_hour: int, period_hours: int, unit_hours: float
) -> dict[int, float]:
    """Loop over the log: distinct periods per customer, log of each gap in the unit."""
    periods: dict[int, set[int]] = defaultdict(set)
    for c, h in zip(customers, hours, strict=True):
        if h < end_hour:
            periods[c].add(h // period_hours)
    out = {}
    for c, ps in periods.items():
        seq = sorted(ps)
        out[c] = math.fsum(
            math.log((q - p) * period_hours / unit_hours) for p, q in itertools.pairwise(seq)
        )
    return out


logs = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 24 * 60)), min_size=1, max_size=60)


@given(rows=logs, period=st.sampled_from(["h", "D", "W"]), unit=st.sampled_from(["h", "D", "W"]))
def test_litt_equals_a_loop_over_the_log(rows, period, unit):
    hours = {"h": 1, "D": 24, "W": 168}
    if hours[unit] > hours[period]:
        return  # a unit longer than the period does not divide it (refused by summarize)
    customers = [c for c, _ in rows]
    times = [h for _, h in rows]
    table = log_table(customers, times)
    end_hour = 24 * 61  # 2024-03-02: every row is before, in one period of its own or not
    s = summarize(table, observation_end="2024-03-01T23:00", period=period, time_unit=unit)
    want = brute_litt(customers, times, end_hour, hours[period], hours[unit])
    got = dict(zip(s.customer_ids.tolist(), s.litt.tolist(), strict=True))
    assert got.keys() == want.keys()
    for c in want:
        assert_allclose(got[c], want[c], rtol=1e-12, atol=1e-12)
    # the bound of from_arrays holds for every summary
    assert np.all(
        s.litt
        <= s.frequency * np.log(np.maximum(s.recency, 1e-300) / np.maximum(s.frequency, 1)) + 1e-9
    )


@given(rows=logs, seed=st.integers(0, 2**32 - 1))
def test_litt_does_not_depend_on_row_order(rows, seed):
    customers = [c for c, _ in rows]
    times = [h for _, h in rows]
    order = np.random.default_rng(seed).permutation(len(rows))
    a = summarize(log_table(customers, times), observation_end="2024-03-01")
    b = summarize(
        log_table([customers[i] for i in order], [times[i] for i in order]),
        observation_end="2024-03-01",
    )
    assert_allclose(a.litt, b.litt, rtol=1e-12, atol=1e-12)


def test_litt_by_hand_and_in_weeks():
    # a: purchases on days 0 (twice), 3, 10 -> gaps 3 and 7 days; b: one purchase
    t = log_table([1, 1, 1, 1, 2], [0, 5, 72, 240, 24])
    d = summarize(t, observation_end="2024-01-20")
    assert_allclose(d.litt, [math.log(3) + math.log(7), 0.0], rtol=1e-15)
    w = summarize(t, observation_end="2024-01-20", time_unit="W")
    assert_allclose(w.litt, [math.log(3 / 7) + math.log(1.0), 0.0], rtol=1e-15)
    # a gap is counted in the unit: litt moves by x log(7) from weeks to days
    assert_allclose(d.litt, w.litt + w.frequency * math.log(7), rtol=1e-15)
    # the holdout part does not enter
    h = summarize(t, observation_end="2024-01-20", calibration_end="2024-01-05")
    assert_allclose(h.litt, [math.log(3), 0.0], rtol=1e-15)
    assert "litt" in d.columns()
    assert d.select(np.array([1])).litt.tolist() == [0.0]


def test_concat_and_update_equal_the_whole():
    rng = np.random.default_rng(4)
    customers = rng.integers(0, 40, 600).tolist()
    hours = rng.integers(0, 24 * 200, 600).tolist()
    whole = summarize(log_table(customers, hours), observation_end="2024-07-01")
    even = [i for i, c in enumerate(customers) if c % 2 == 0]
    odd = [i for i, c in enumerate(customers) if c % 2 == 1]
    parts = [
        summarize(
            log_table([customers[i] for i in rows], [hours[i] for i in rows]),
            observation_end="2024-07-01",
        )
        for rows in (even, odd)
    ]
    merged = CustomerSummary.concat(parts)
    assert_allclose(merged.litt, whole.litt, rtol=1e-12)
    # update: the log up to April, then the rest (the first new purchase may merge into
    # the last old occasion, when both fall on the same day)
    cut = 24 * 91
    old = [i for i, h in enumerate(hours) if h < cut]
    new = [i for i, h in enumerate(hours) if h >= cut - 12]  # some rows of the cut's day too
    new = [i for i in new if i not in set(old)]
    s_old = summarize(
        log_table([customers[i] for i in old], [hours[i] for i in old]),
        observation_end="2024-03-31T23:00",
    )
    s_new = s_old.update(
        log_table([customers[i] for i in new], [hours[i] for i in new]),
        observation_end="2024-07-01",
    )
    assert_allclose(s_new.litt, whole.litt, rtol=1e-12)


def test_from_arrays_checks_and_keeps_litt():
    s = CustomerSummary.from_arrays([2, 0], [4.0, 0.0], [5.0, 5.0], litt=[1.0, 0.0])
    assert s.litt.tolist() == [1.0, 0.0]
    assert not s.litt.flags.writeable
    assert CustomerSummary.from_arrays([2], [4.0], [5.0]).litt is None
    ids = CustomerSummary.from_arrays(
        [2, 0], [4.0, 0.0], [5.0, 5.0], litt=[1.0, 0.0], customer_ids=["b", "a"]
    )
    assert ids.litt.tolist() == [0.0, 1.0]
    with pytest.raises(InputError, match=r"litt must not exceed frequency \* log"):
        CustomerSummary.from_arrays([2], [4.0], [5.0], litt=[1.5])
    with pytest.raises(InputError, match="litt must be 0 where frequency is 0"):
        CustomerSummary.from_arrays([0], [0.0], [5.0], litt=[0.1])
    with pytest.raises(InputError, match="litt must be finite"):
        CustomerSummary.from_arrays([1], [1.0], [5.0], litt=[np.nan])
    with pytest.raises(InputError, match="summaries must all have litt, or none"):
        CustomerSummary.concat(
            [s, CustomerSummary.from_arrays([1], [1.0], [5.0], customer_ids=[9])]
        )


def test_simulated_litt_respects_its_bound_and_matches_erlang_gaps():
    # Erlang-k gaps: E[log gap] = digamma(k) - log(lambda); with k = 1, E[litt | x] depends
    # on lambda only through x and T, and litt <= x log(t_x / x) always.
    h = bgcnbd_histories(2.0, 8.0, 0.8, 2.5, 3, T=52.0, n_customers=20_000, rng=3)
    x = h.frequency
    bound = np.where(x > 0, x * np.log(np.maximum(h.recency, 1e-300) / np.maximum(x, 1)), 0.0)
    assert np.all(h.litt <= bound + 1e-9)
    assert np.all(h.litt[x == 0] == 0.0)
    # the average log gap of customers with many purchases is close to
    # log(mean gap) + digamma(k) - log(k) (Erlang-k: log of a Gamma(k) / k)
    many = x >= 20
    mean_log_gap = h.litt[many] / x[many]
    log_mean_gap = np.log(h.recency[many] / x[many])
    from scipy.special import digamma

    assert abs(np.mean(mean_log_gap - log_mean_gap) - (digamma(3) - math.log(3))) < 0.02
