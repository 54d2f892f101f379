"""Hypothesis properties of the core's public functions, each against an independent oracle.

The oracles are brute force in plain Python (collections.Counter, datetime
arithmetic, loops over rows), never the code under test.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from crmcore._periods import period_index, period_start
from crmcore._validation import as_int_array, as_timestamp
from crmcore.summary import (
    CompressedHistories,
    CustomerSummary,
    compress,
    summarize,
    summarize_discrete,
)
from crmcore.table import InteractionTable
from tests.strategies import purchase_logs


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[int], list[float], list[float], list[float]]:
    """Valid (x, t_x, T, weight) rows with many ties, so that compression merges rows."""
    n = draw(st.integers(min_value=0, max_value=30))
    xs, txs, ts, ws = [], [], [], []
    for _ in range(n):
        x = draw(st.integers(0, 3))
        t = float(draw(st.integers(1, 4)))
        tx = 0.0 if x == 0 else float(draw(st.integers(0, int(t))))
        xs.append(x)
        txs.append(tx)
        ts.append(t)
        ws.append(float(draw(st.integers(0, 3))))
    return xs, txs, ts, ws


def _as_counter(c: CompressedHistories) -> Counter[tuple[float, float, float]]:
    out: Counter[tuple[float, float, float]] = Counter()
    for x, tx, t, w in zip(c.frequency, c.recency, c.T, c.weights, strict=True):
        out[(float(x), float(tx), float(t))] += float(w)
    return out


@given(histories())
def test_compress_matches_a_counter(
    h: tuple[list[int], list[float], list[float], list[float]],
) -> None:
    xs, txs, ts, ws = h
    expected: Counter[tuple[float, float, float]] = Counter()
    for row in zip(xs, txs, ts, ws, strict=True):
        if row[3] > 0:
            expected[(float(row[0]), row[1], row[2])] += row[3]
    got = compress(xs, txs, ts, ws)
    assert _as_counter(got) == expected
    assert len(got) == len(expected)  # each distinct history once
    keys = list(zip(got.frequency, got.recency, got.T, strict=True))
    assert keys == sorted(keys)


@given(histories(), st.integers(min_value=0, max_value=30))
def test_combine_of_parts_equals_compress_of_the_whole(
    h: tuple[list[int], list[float], list[float], list[float]], cut: int
) -> None:
    xs, txs, ts, ws = h
    cut = min(cut, len(xs))
    a = compress(xs[:cut], txs[:cut], ts[:cut], ws[:cut])
    b = compress(xs[cut:], txs[cut:], ts[cut:], ws[cut:])
    whole = compress(xs, txs, ts, ws)
    merged = CompressedHistories.combine([a, b])
    for name in ("frequency", "recency", "T", "weights"):
        assert_array_equal(getattr(merged, name), getattr(whole, name))


@given(purchase_logs(), st.integers(min_value=1, max_value=5), st.sampled_from(["D", "W"]))
def test_summarize_discrete_matches_brute_force(log: dict[str, Any], n: int, period: str) -> None:
    table = InteractionTable.from_arrays(log["ids"], log["times"], kinds=log["kinds"])
    start = log["times"][0]
    got = summarize_discrete(table, start=start, period=period, n_periods=n)  # type: ignore[arg-type]
    unit = np.timedelta64(1, "D") if period == "D" else np.timedelta64(7, "D")
    monday = np.datetime64("1970-01-05")  # weeks start on Monday

    def index(t: np.datetime64) -> int:
        return int((t.astype("datetime64[D]") - monday) // unit)

    periods: dict[int, set[int]] = {}
    for cid, t, kind in zip(log["ids"], log["times"], log["kinds"], strict=True):
        if kind == "purchase":
            periods.setdefault(int(cid), set()).add(index(t))
    s = index(start)
    cohort = sorted(c for c, ps in periods.items() if min(ps) == s)
    assert got.customer_ids.tolist() == cohort
    for c, x, tx in zip(cohort, got.frequency.tolist(), got.recency.tolist(), strict=True):
        opportunities = sorted(p - s for p in periods[c] if 1 <= p - s <= n)
        assert x == len(opportunities)
        assert tx == (opportunities[-1] if opportunities else 0)


@given(purchase_logs(), st.data())
def test_table_select_equals_building_from_the_rows(log: dict[str, Any], data: Any) -> None:
    n = log["ids"].size
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    whole = InteractionTable.from_arrays(
        log["ids"], log["times"], kinds=log["kinds"], amounts=log["amounts"]
    )
    part = whole.select(mask)
    direct = InteractionTable.from_arrays(
        log["ids"][mask], log["times"][mask], kinds=log["kinds"][mask], amounts=log["amounts"][mask]
    )
    for name in ("customer_ids", "customer_codes", "times", "kinds", "amounts"):
        assert_array_equal(getattr(part, name), getattr(direct, name))
    # the same rows by their indices
    by_index = whole.select(np.flatnonzero(mask))
    assert_array_equal(by_index.customer_codes, part.customer_codes)


@given(purchase_logs(), st.data())
def test_summary_select_keeps_the_chosen_rows(log: dict[str, Any], data: Any) -> None:
    table = InteractionTable.from_arrays(log["ids"], log["times"], amounts=log["amounts"])
    s = summarize(table, observation_end="2024-03-15")
    chosen = data.draw(st.sets(st.integers(0, len(s) - 1)))
    rows = np.array(sorted(chosen), dtype=np.int64)
    part = s.select(rows)
    for name, col in part.columns().items():
        assert_array_equal(col, s.columns()[name][rows], err_msg=name)
    mask = np.zeros(len(s), dtype=bool)
    mask[rows] = True
    assert_array_equal(s.select(mask).customer_ids, part.customer_ids)


@given(purchase_logs(), st.integers(min_value=0, max_value=40))
def test_summary_of_a_subset_of_customers_equals_selecting_them(
    log: dict[str, Any], seed: int
) -> None:
    table = InteractionTable.from_arrays(log["ids"], log["times"], amounts=log["amounts"])
    end = "2024-03-15"
    keep_ids = np.unique(log["ids"])[np.random.default_rng(seed).random(table.n_customers) < 0.5]
    rows = np.isin(log["ids"], keep_ids)
    direct = summarize(table.select(rows), observation_end=end)
    selected = summarize(table, observation_end=end)
    selected = selected.select(np.isin(selected.customer_ids, keep_ids))
    for name, col in direct.columns().items():
        assert_array_equal(col, selected.columns()[name], err_msg=name)


times_in_range = st.datetimes(
    min_value=dt.datetime(1678, 1, 2), max_value=dt.datetime(2261, 12, 30)
)


@given(times_in_range, st.sampled_from(["h", "D", "W", "M", "Y"]))
def test_period_start_is_the_start_of_the_period_holding_the_time(
    when: dt.datetime, period: str
) -> None:
    t = np.datetime64(when, "ns")
    idx = int(period_index(t, period))
    start = period_start(np.array([idx, idx + 1]), period)
    assert start[0] <= t < start[1]
    begin = start[0].astype("datetime64[us]").item()
    if period == "W":
        assert begin.weekday() == 0  # a Monday
    if period in ("D", "W", "M", "Y"):
        assert begin.time() == dt.time(0)
    if period in ("M", "Y"):
        assert begin.day == 1
    if period == "Y":
        assert begin.month == 1


offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59)


@given(times_in_range, offsets, st.sampled_from(["{}:{}", "{}{}"]))
def test_iso_strings_with_offsets_agree_with_python(
    when: dt.datetime, minutes: int, style: str
) -> None:
    zone = dt.timezone(dt.timedelta(minutes=minutes))
    local = when.replace(tzinfo=zone)
    sign = "+" if minutes >= 0 else "-"
    hh, mm = divmod(abs(minutes), 60)
    text = local.replace(tzinfo=None).isoformat() + sign + style.format(f"{hh:02d}", f"{mm:02d}")
    expected = local.astimezone(dt.UTC).replace(tzinfo=None)  # Python's own conversion
    assert as_timestamp(text, "t") == np.datetime64(expected, "ns")
    assert as_timestamp(local, "t") == np.datetime64(expected, "ns")


@given(st.lists(st.integers(min_value=-(2**53), max_value=2**53), min_size=1, max_size=20))
def test_as_int_array_round_trips_whole_floats(values: list[int]) -> None:
    floats = [float(v) for v in values]  # exact: |v| <= 2**53
    assert as_int_array(floats, "n").tolist() == values


@given(purchase_logs(), st.integers(min_value=1, max_value=40))
def test_from_arrays_round_trips_a_summary(log: dict[str, Any], seed: int) -> None:
    table = InteractionTable.from_arrays(log["ids"], log["times"], amounts=log["amounts"])
    s = summarize(table, observation_end="2024-03-15")
    buyers = s.select(s.has_purchase)
    order = np.random.default_rng(seed).permutation(len(buyers))  # from_arrays sorts by id
    rebuilt = CustomerSummary.from_arrays(
        buyers.frequency[order],
        buyers.recency[order],
        buyers.T[order],
        monetary_value=buyers.monetary_value[order],
        total_spend=buyers.total_spend[order],
        customer_ids=buyers.customer_ids[order],
    )
    for name in ("customer_ids", "frequency", "recency", "T", "monetary_value", "total_spend"):
        assert_array_equal(getattr(rebuilt, name), getattr(buyers, name), err_msg=name)
