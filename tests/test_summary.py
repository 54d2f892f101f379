"""Tests of summarize, CustomerSummary, summarize_discrete and compress."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from crmcore import (
    CompressedHistories,
    CustomerSummary,
    InputError,
    InputTypeError,
    InteractionTable,
    compress,
    summarize,
    summarize_discrete,
)
from crmcore.metrics.value import abc_classes, gini
from crmcore.summary import _history_order
from tests.strategies import purchase_logs


def _table(ids: list[Any], times: list[str], amounts: list[float], **kw: Any) -> InteractionTable:
    return InteractionTable.from_arrays(
        ids, np.array(times, dtype="datetime64[ns]"), amounts=amounts, **kw
    )


# --- hand-worked cases -------------------------------------------------------------------


def test_same_day_purchases_merge_into_one_occasion() -> None:
    # Customer 1 buys twice on 2024-01-01 (10 + 5 -> one occasion of 15), then on 01-11 (20)
    # and 01-21 (30). Occasions: day 0, 10, 20 -> frequency 2, recency 20 days, T to 01-31 =
    # 30 days, repeat spend (20 + 30) / 2 = 25, total 65.
    table = _table(
        [1, 1, 1, 1],
        ["2024-01-01T08:00", "2024-01-01T20:00", "2024-01-11T12:00", "2024-01-21"],
        [10.0, 5.0, 20.0, 30.0],
    )
    s = summarize(table, observation_end="2024-01-31")
    assert s.frequency.tolist() == [2]
    assert_allclose(s.recency, [20.0])
    assert_allclose(s.T, [30.0])
    assert_allclose(s.monetary_value, [25.0])
    assert_allclose(s.total_spend, [65.0])
    assert s.n_purchases.tolist() == [3]
    assert s.n_transactions.tolist() == [4]
    assert_allclose(s.time_since_last, [10.0])
    assert s.first_purchase[0] == np.datetime64("2024-01-01", "ns")
    assert s.last_purchase[0] == np.datetime64("2024-01-21", "ns")


def test_single_purchase_customer() -> None:
    # One purchase on 03-01, observation ends 03-08: frequency 0, recency 0, T 7 days,
    # monetary value 0 (no repeat occasion) but total spend 12.
    s = summarize(_table(["x"], ["2024-03-01T10:00"], [12.0]), observation_end="2024-03-08")
    assert s.frequency.tolist() == [0]
    assert_allclose(
        [s.recency[0], s.T[0], s.monetary_value[0], s.total_spend[0]], [0.0, 7.0, 0.0, 12.0]
    )
    assert s.has_purchase.tolist() == [True]


def test_purchases_after_observation_end_are_excluded_not_counted() -> None:
    # "b" buys only after the end: kept with has_purchase False, zeros and NaT.
    # "a" buys on the end day itself (included) and the day after (excluded).
    table = _table(
        ["a", "a", "a", "b"],
        ["2024-01-01", "2024-01-10T23:59", "2024-01-11T00:00", "2024-01-12"],
        [1.0, 2.0, 4.0, 8.0],
    )
    s = summarize(table, observation_end=dt.date(2024, 1, 10))
    assert s.customer_ids.tolist() == ["a", "b"]
    assert s.frequency.tolist() == [1, 0]
    assert_allclose(s.recency, [9.0, 0.0])
    assert_allclose(s.T, [9.0, 0.0])
    assert_allclose(s.total_spend, [3.0, 0.0])
    assert s.has_purchase.tolist() == [True, False]
    assert np.isnat(s.first_purchase[1])
    assert not np.isnan(s.monetary_value).any()


def test_customer_without_purchase_keeps_a_row() -> None:
    table = InteractionTable.from_arrays(
        [1, 2],
        np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[ns]"),
        kinds=["purchase", "complaint"],
        amounts=[5.0, 0.0],
    )
    s = summarize(table, observation_end="2024-01-05")
    assert s.customer_ids.tolist() == [1, 2]
    assert s.has_purchase.tolist() == [True, False]
    assert s.frequency.tolist() == [0, 0]
    assert_allclose(s.T, [4.0, 0.0])


def test_days_and_weeks_are_consistent() -> None:
    # A 10-day gap is 10/7 weeks; T of 24 days is 24/7 weeks.
    table = _table([1, 1], ["2024-01-01", "2024-01-11"], [1.0, 1.0])
    d = summarize(table, observation_end="2024-01-25", time_unit="D")
    w = summarize(table, observation_end="2024-01-25", time_unit="W")
    h = summarize(table, observation_end="2024-01-25", time_unit="h")
    assert_allclose(d.recency, [10.0])
    assert_allclose(w.recency, [10.0 / 7.0])
    assert_allclose(w.T, [24.0 / 7.0])
    assert_allclose(h.T, [24.0 * 24.0])
    assert_array_equal(d.frequency, w.frequency)


def test_weekly_periods_start_on_monday() -> None:
    # 2024-01-07 is a Sunday, 2024-01-08 a Monday: two occasions with period="W";
    # 2024-01-08 and 2024-01-14 (Sunday) share one week.
    t1 = _table([1, 1], ["2024-01-07", "2024-01-08"], [1.0, 1.0])
    t2 = _table([1, 1], ["2024-01-08", "2024-01-14"], [1.0, 1.0])
    assert summarize(t1, observation_end="2024-02-01", period="W", time_unit="W").frequency[0] == 1
    assert summarize(t2, observation_end="2024-02-01", period="W", time_unit="W").frequency[0] == 0


def test_monthly_periods_and_units() -> None:
    # Purchases in Jan, Jan, Mar; end in Jun: frequency 1, recency 2 months, T 5 months.
    table = _table([1, 1, 1], ["2024-01-02", "2024-01-30", "2024-03-15"], [1.0, 2.0, 3.0])
    s = summarize(table, observation_end="2024-06-01", period="M", time_unit="M")
    assert s.frequency.tolist() == [1]
    assert_allclose([s.recency[0], s.T[0]], [2.0, 5.0])
    y = summarize(table, observation_end="2024-06-01", period="M", time_unit="Y")
    assert_allclose(y.T, [5.0 / 12.0])


def test_calibration_holdout_split() -> None:
    # cal end 01-10, obs end 01-31.
    # a: 01-01, 01-05 | 01-20 (10), 01-20 (5), 01-25 (6) -> cal freq 1, holdout occasions 2,
    #    holdout mean spend (15 + 6) / 2 = 10.5, T = 9 days (to calibration_end).
    # b: first purchase 01-15 (holdout only) -> left out of the calibration summary.
    # c: 01-02 only -> freq 0, holdout 0.
    table = _table(
        ["a", "a", "a", "a", "a", "b", "c"],
        [
            "2024-01-01",
            "2024-01-05",
            "2024-01-20T01",
            "2024-01-20T02",
            "2024-01-25",
            "2024-01-15",
            "2024-01-02",
        ],
        [1.0, 2.0, 10.0, 5.0, 6.0, 7.0, 3.0],
    )
    s = summarize(table, observation_end="2024-01-31", calibration_end="2024-01-10")
    assert s.customer_ids.tolist() == ["a", "c"]
    assert s.frequency.tolist() == [1, 0]
    assert_allclose(s.T, [9.0, 8.0])
    assert s.frequency_holdout is not None
    assert s.monetary_value_holdout is not None
    assert s.frequency_holdout.tolist() == [2, 0]
    assert_allclose(s.monetary_value_holdout, [10.5, 0.0])
    assert s.duration_holdout == pytest.approx(21.0)
    assert_allclose(s.total_spend, [3.0, 3.0])


def test_mixed_kinds_only_purchases_count() -> None:
    table = InteractionTable.from_arrays(
        [1, 1, 1],
        np.array(["2024-01-01", "2024-01-03", "2024-01-05"], dtype="datetime64[ns]"),
        kinds=["purchase", "refund", "purchase"],
        amounts=[10.0, 4.0, 6.0],
    )
    s = summarize(table, observation_end="2024-01-05")
    assert s.frequency.tolist() == [1]
    assert_allclose(s.total_spend, [16.0])


# --- an independent brute-force summary for property tests -------------------------------


def _brute_force(
    log: dict[str, Any], end: np.datetime64
) -> dict[Any, tuple[int, float, float, float]]:
    """Per customer (frequency, recency, T, monetary) in days, with dicts and loops."""
    days: dict[Any, dict[int, float]] = defaultdict(dict)
    seen: set[Any] = set()
    end_day = int(end.astype("datetime64[D]").astype(np.int64))
    for cid, t, a, k in zip(log["ids"], log["times"], log["amounts"], log["kinds"], strict=True):
        seen.add(int(cid))
        day = int(t.astype("datetime64[D]").astype(np.int64))
        if k != "purchase" or day > end_day:
            continue
        days[int(cid)][day] = days[int(cid)].get(day, 0.0) + float(a)
    out = {}
    for cid in seen:
        occ = days.get(cid, {})
        if not occ:
            out[cid] = (0, 0.0, 0.0, 0.0)
            continue
        ordered = sorted(occ)
        freq = len(ordered) - 1
        repeat = [occ[d] for d in ordered[1:]]
        out[cid] = (
            freq,
            float(ordered[-1] - ordered[0]),
            float(end_day - ordered[0]),
            sum(repeat) / freq if freq else 0.0,
        )
    return out


END = np.datetime64("2024-02-10", "ns")


@given(purchase_logs())
def test_summarize_matches_brute_force(log: dict[str, Any]) -> None:
    table = InteractionTable.from_arrays(
        log["ids"], log["times"], amounts=log["amounts"], kinds=log["kinds"]
    )
    s = summarize(table, observation_end=END)
    expected = _brute_force(log, END)
    assert s.customer_ids.tolist() == sorted(expected)
    exp = np.array([expected[c] for c in s.customer_ids.tolist()])
    assert_array_equal(s.frequency, exp[:, 0].astype(int))
    assert_allclose(s.recency, exp[:, 1])
    assert_allclose(s.T, exp[:, 2])
    assert_allclose(s.monetary_value, exp[:, 3], rtol=1e-9, atol=1e-9)


@given(purchase_logs(), st.randoms(use_true_random=False))
def test_summarize_is_invariant_to_row_order(log: dict[str, Any], rnd: Any) -> None:
    order = list(range(log["ids"].size))
    rnd.shuffle(order)
    a = InteractionTable.from_arrays(
        log["ids"], log["times"], amounts=log["amounts"], kinds=log["kinds"]
    )
    b = InteractionTable.from_arrays(
        log["ids"][order],
        log["times"][order],
        amounts=log["amounts"][order],
        kinds=log["kinds"][order],
    )
    sa = summarize(a, observation_end=END, time_unit="W")
    sb = summarize(b, observation_end=END, time_unit="W")
    for name, col in sa.columns().items():
        other = sb.columns()[name]
        if col.dtype.kind == "f":
            assert_allclose(col, other, rtol=1e-12, atol=1e-9)
        else:
            assert_array_equal(col, other)


@given(purchase_logs(), st.sampled_from(["h", "D", "W"]), st.sampled_from(["h", "D", "W"]))
def test_bounds_and_frequency_definition(log: dict[str, Any], period: Any, unit: Any) -> None:
    from crmcore.summary import period_index

    table = InteractionTable.from_arrays(
        log["ids"], log["times"], amounts=log["amounts"], kinds=log["kinds"]
    )
    try:
        s = summarize(table, observation_end=END, period=period, time_unit=unit)
    except InputError:
        return
    assert (s.recency >= 0).all()
    assert (s.recency <= s.T).all()
    assert ((s.frequency == 0) <= (s.recency == 0)).all()
    # frequency = distinct purchase periods - 1
    p = period_index(log["times"], period)
    end_p = period_index(END, period)
    for i, cid in enumerate(s.customer_ids.tolist()):
        mask = (log["ids"] == cid) & (log["kinds"] == "purchase") & (p <= end_p)
        distinct = np.unique(p[mask]).size
        assert s.frequency[i] == max(distinct - 1, 0)


@given(purchase_logs(), st.integers(0, 5))
def test_concat_of_partitions_equals_whole(log: dict[str, Any], cut: int) -> None:
    table = InteractionTable.from_arrays(
        log["ids"], log["times"], amounts=log["amounts"], kinds=log["kinds"]
    )
    whole = summarize(table, observation_end=END, calibration_end="2024-01-20")
    part_a = log["ids"] % 2 == cut % 2
    parts = []
    for mask in (part_a, ~part_a):
        if mask.any():
            sub = table.select(mask)
            parts.append(summarize(sub, observation_end=END, calibration_end="2024-01-20"))
    merged = CustomerSummary.concat(parts[::-1])
    for name, col in whole.columns().items():
        other = merged.columns()[name]
        if col.dtype.kind == "f":
            assert_allclose(col, other, rtol=1e-12, atol=1e-9)
        else:
            assert_array_equal(col, other)


# --- CustomerSummary construction -------------------------------------------------------


def test_from_arrays_sorts_by_id_and_derives_fields() -> None:
    s = CustomerSummary.from_arrays(
        [2, 0], [4.0, 0.0], [10.0, 6.0], monetary_value=[5.0, 0.0], customer_ids=["z", "a"]
    )
    assert s.customer_ids.tolist() == ["a", "z"]
    assert s.frequency.tolist() == [0, 2]
    assert_allclose(s.total_spend, [0.0, 10.0])
    assert_allclose(s.time_since_last, [6.0, 6.0])


_NUMERIC_COLUMNS = (
    "customer_ids",
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "n_purchases",
    "n_transactions",
    "total_spend",
    "first_spend",
    "time_since_last",
    "has_purchase",
)


def _rebuilt(s: CustomerSummary, **kw: Any) -> CustomerSummary:
    """The summary ``s`` again, through from_arrays (as if its statistics came from SQL)."""
    return CustomerSummary.from_arrays(
        s.frequency,
        s.recency,
        s.T,
        monetary_value=s.monetary_value,
        customer_ids=s.customer_ids,
        time_unit=s.time_unit,
        **kw,
    )


def test_from_arrays_with_totals_equals_summarize() -> None:
    # Hand-made log to 2024-01-31 (days). "a": 01-01 (10 + 5 merge into one occasion of 15),
    # 01-11 (20), 01-21 (30): x=2, t_x=20, T=30, m=25, total 65, first 15, 4 rows.
    # "b": one purchase of 8 on 01-05: x=0, T=26, total = first = 8.
    # "c": 01-02 (12), 01-30 (4.5 + 0.5 same day): x=1, t_x=28, T=29, m=5, total 17, first 12.
    table = _table(
        ["a", "a", "a", "a", "b", "c", "c", "c"],
        [
            "2024-01-01T08",
            "2024-01-01T20",
            "2024-01-11",
            "2024-01-21",
            "2024-01-05",
            "2024-01-02",
            "2024-01-30T09",
            "2024-01-30T18",
        ],
        [10.0, 5.0, 20.0, 30.0, 8.0, 12.0, 4.5, 0.5],
    )
    s = summarize(table, observation_end="2024-01-31")
    assert_allclose(s.total_spend, [65.0, 8.0, 17.0])
    assert_allclose(s.first_spend, [15.0, 8.0, 12.0])
    # reversed rows: from_arrays sorts by id, and the totals must follow their customers
    rev = slice(None, None, -1)
    variants = [
        {"total_spend": s.total_spend[rev], "n_transactions": s.n_transactions[rev]},
        {"first_spend": s.first_spend[rev], "n_transactions": s.n_transactions[rev]},
        {
            "total_spend": s.total_spend[rev],
            "first_spend": s.first_spend[rev],
            "n_transactions": s.n_transactions[rev],
        },
    ]
    for kw in variants:
        r = CustomerSummary.from_arrays(
            s.frequency[rev],
            s.recency[rev],
            s.T[rev],
            monetary_value=s.monetary_value[rev],
            customer_ids=s.customer_ids[rev],
            **kw,
        )
        for name in _NUMERIC_COLUMNS:
            got, want = getattr(r, name), getattr(s, name)
            assert got.dtype == want.dtype, name
            if want.dtype.kind == "f":
                assert_allclose(got, want, err_msg=name)
            else:
                assert_array_equal(got, want, err_msg=name)
    # the metrics that read total_spend now agree (they did not with the repeat spend alone)
    r = _rebuilt(s, total_spend=s.total_spend)
    assert_allclose(gini(r), gini(s))
    assert abc_classes(r).labels.tolist() == abc_classes(s).labels.tolist()
    assert gini(_rebuilt(s)) != pytest.approx(gini(s))


@given(purchase_logs())
def test_from_arrays_with_totals_round_trips_summarize(log: dict[str, Any]) -> None:
    table = InteractionTable.from_arrays(
        log["ids"], log["times"], amounts=log["amounts"], kinds=log["kinds"]
    )
    s = summarize(table, observation_end="2024-03-15")
    s = s.select(s.has_purchase)
    r = _rebuilt(s, total_spend=s.total_spend, n_transactions=s.n_transactions)
    for name in _NUMERIC_COLUMNS:
        assert_allclose(getattr(r, name), getattr(s, name), atol=1e-9, err_msg=name)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"total_spend": [40.0]}, r"total_spend must be at least monetary_value \* frequency"),
        ({"total_spend": [np.inf]}, "total_spend must be finite"),
        ({"total_spend": [-1.0]}, "total_spend must be non-negative"),
        ({"total_spend": [60.0, 1.0]}, "total_spend must have the same length"),
        ({"first_spend": [np.nan]}, "first_spend must be finite"),
        ({"first_spend": [-3.0]}, "first_spend must be non-negative"),
        (
            {"total_spend": [70.0], "first_spend": [15.0]},
            r"total_spend must equal first_spend \+ monetary_value \* frequency",
        ),
        ({"n_transactions": [2]}, r"n_transactions must be at least frequency \+ 1"),
        ({"n_transactions": [3.5]}, "n_transactions must hold whole numbers"),
    ],
)
def test_from_arrays_rejects_inconsistent_totals(kwargs: dict[str, Any], match: str) -> None:
    # x=2 repeat purchases of mean 25: the repeat spend is 50, so the total is at least 50
    with pytest.raises(InputError, match=match):
        CustomerSummary.from_arrays([2], [3.0], [4.0], monetary_value=[25.0], **kwargs)


def test_from_arrays_total_within_rounding_of_repeat_spend() -> None:
    # 3 x 0.1 in floating point is 0.30000000000000004; a SQL total of 0.3 is accepted and the
    # first spend is clipped at 0, as summarize clips the monetary value.
    s = CustomerSummary.from_arrays([3], [1.0], [2.0], monetary_value=[0.1], total_spend=[0.3])
    assert s.first_spend.tolist() == [0.0]
    assert_allclose(s.total_spend, [0.3])


def test_arrays_are_read_only() -> None:
    s = CustomerSummary.from_arrays([1], [1.0], [2.0])
    with pytest.raises(ValueError, match="read-only"):
        s.frequency[0] = 3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"frequency": [-1], "recency": [0.0], "T": [1.0]}, "frequency must be non-negative"),
        ({"frequency": [1.5], "recency": [0.0], "T": [1.0]}, "frequency must hold whole numbers"),
        ({"frequency": [1], "recency": [3.0], "T": [1.0]}, "recency must not exceed T"),
        ({"frequency": [0], "recency": [0.5], "T": [1.0]}, "recency must be 0 where frequency"),
        ({"frequency": [1], "recency": [np.nan], "T": [1.0]}, "recency must be finite"),
        ({"frequency": [1, 2], "recency": [0.0], "T": [1.0]}, "recency must have the same length"),
    ],
)
def test_from_arrays_rejects_bad_histories(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(InputError, match=match):
        CustomerSummary.from_arrays(kwargs["frequency"], kwargs["recency"], kwargs["T"])


def test_from_arrays_rejects_duplicate_ids_and_negative_spend() -> None:
    with pytest.raises(InputError, match="customer_ids must be distinct"):
        CustomerSummary.from_arrays([0, 0], [0.0, 0.0], [1.0, 1.0], customer_ids=[3, 3])
    with pytest.raises(InputError, match="monetary_value must be non-negative"):
        CustomerSummary.from_arrays([1], [0.5], [1.0], monetary_value=[-2.0])


def test_concat_rejects_overlap_and_mismatched_settings() -> None:
    a = CustomerSummary.from_arrays([1], [1.0], [2.0], customer_ids=[1])
    with pytest.raises(InputError, match="disjoint customers"):
        CustomerSummary.concat([a, a])
    b = CustomerSummary.from_arrays([1], [1.0], [2.0], customer_ids=[2], time_unit="W")
    with pytest.raises(InputError, match="must share time_unit"):
        CustomerSummary.concat([a, b])
    with pytest.raises(InputError, match="at least one"):
        CustomerSummary.concat([])
    with pytest.raises(InputTypeError, match="CustomerSummary objects"):
        CustomerSummary.concat([a, "b"])  # type: ignore[list-item]


# --- summarize errors ----------------------------------------------------------------------


def test_summarize_errors() -> None:
    table = _table([1], ["2024-01-01"], [1.0])
    with pytest.raises(InputError, match="period must be one of"):
        summarize(table, observation_end="2024-02-01", period="Q")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="does not divide period"):
        summarize(table, observation_end="2024-02-01", period="D", time_unit="M")
    with pytest.raises(InputError, match="calibration_end must fall in a period before"):
        summarize(table, observation_end="2024-02-01", calibration_end="2024-02-01")
    with pytest.raises(InputTypeError, match="table must be an InteractionTable"):
        summarize([1, 2], observation_end="2024-02-01")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="observation_end must be an ISO date"):
        summarize(table, observation_end="yesterday")
    with pytest.raises(InputTypeError, match="observation_end must be a datetime"):
        summarize(table, observation_end=3.5)


def test_aware_observation_end_is_converted_to_utc() -> None:
    # 2024-01-02 01:00 at UTC+05:00 is 2024-01-01 20:00 UTC: the purchase on 01-02 UTC is out.
    table = _table([1, 1], ["2024-01-01", "2024-01-02T03:00"], [1.0, 1.0])
    tz = dt.timezone(dt.timedelta(hours=5))
    s = summarize(table, observation_end=dt.datetime(2024, 1, 2, 1, tzinfo=tz))
    assert s.frequency.tolist() == [0]


# --- summarize_discrete -------------------------------------------------------------------


def test_summarize_discrete_hand_worked() -> None:
    # Cohort 2020 (first purchase in 2020): customer 1 buys in 2021 and 2023 -> x=2, t_x=3;
    # customer 2 buys in 2020 only -> x=0, t_x=0. Customer 3 first bought in 2019: not in the
    # cohort. Customer 4 buys twice in 2022 and in 2027 (beyond n=4) -> x=1, t_x=2.
    table = _table(
        [1, 1, 1, 2, 3, 3, 4, 4, 4, 4],
        [
            "2020-03-01",
            "2021-05-01",
            "2023-01-09",
            "2020-07-01",
            "2019-05-05",
            "2020-05-05",
            "2020-01-01",
            "2022-02-02",
            "2022-03-03",
            "2027-01-01",
        ],
        [1.0] * 10,
    )
    d = summarize_discrete(table, start="2020-06-01", period="Y", n_periods=4)
    assert d.customer_ids.tolist() == [1, 2, 4]
    assert d.frequency.tolist() == [2, 0, 1]
    assert d.recency.tolist() == [3, 0, 2]
    assert d.n_periods == 4
    assert d.start == np.datetime64("2020-01-01", "ns")


def test_summarize_discrete_errors() -> None:
    table = _table([1], ["2020-01-01"], [1.0])
    with pytest.raises(InputError, match="n_periods must be >= 1"):
        summarize_discrete(table, start="2020-01-01", n_periods=0)
    with pytest.raises(InputTypeError, match="n_periods must be an integer"):
        summarize_discrete(table, start="2020-01-01", n_periods=2.5)  # type: ignore[arg-type]


# --- compress -----------------------------------------------------------------------------


@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 2)), min_size=1, max_size=30
    )
)
def test_compress_preserves_weighted_multiset(rows: list[tuple[int, int, int]]) -> None:
    x = np.array([r[0] for r in rows])
    tx = np.where(x > 0, np.array([r[1] for r in rows], dtype=float), 0.0)
    t = tx + np.array([r[2] for r in rows])
    c = compress(x, tx, t)
    assert c.n_customers == len(rows)
    # every distinct row appears once, with its count
    counts: dict[tuple[float, float, float], int] = defaultdict(int)
    for row in zip(x.tolist(), tx.tolist(), t.tolist(), strict=True):
        counts[(float(row[0]), row[1], row[2])] += 1
    got = {
        (a, b, cc): w
        for a, b, cc, w in zip(
            c.frequency.tolist(), c.recency.tolist(), c.T.tolist(), c.weights.tolist(), strict=True
        )
    }
    assert got == counts
    # merge equals whole
    half = len(rows) // 2
    parts = [compress(x[:half], tx[:half], t[:half]), compress(x[half:], tx[half:], t[half:])]
    merged = CompressedHistories.combine(parts)
    assert_array_equal(merged.frequency, c.frequency)
    assert_array_equal(merged.weights, c.weights)


@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from([0, 1, 2, 70_000, 2**40]),
            st.sampled_from([-0.0, 0.0, 0.5, 1.0]) | st.floats(0, 10),
            st.sampled_from([1.0, 2.0]) | st.floats(1, 20),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_history_order_is_the_lexsort_order(rows: list[tuple[int, float, float]]) -> None:
    # compress sorts by (x, t_x, T) with cheaper stable argsorts than np.lexsort (the
    # reference): the same permutation, ties (and -0.0 against 0.0) in input order, with
    # distinct and tied T, counts below and above 2**16
    x = np.array([float(r[0]) for r in rows])
    tx = np.array([r[1] for r in rows])
    t = np.array([r[2] for r in rows])
    assert_array_equal(_history_order(x, tx, t), np.lexsort((t, tx, x)))


def test_compress_weights_and_errors() -> None:
    c = compress([1, 1, 0], [2.0, 2.0, 0.0], [5.0, 5.0, 5.0], weights=[2.0, 3.0, 0.0])
    assert c.frequency.tolist() == [1.0]
    assert c.weights.tolist() == [5.0]
    with pytest.raises(InputError, match="weights must be non-negative"):
        compress([1], [1.0], [2.0], weights=[-1.0])
    with pytest.raises(InputError, match="recency must not exceed T"):
        compress([1], [3.0], [2.0])
    with pytest.raises(InputError, match="at least one"):
        CompressedHistories.combine([])


# --- incremental update -------------------------------------------------------------------


@given(purchase_logs(max_hours=24 * 40), st.integers(0, 24 * 40), st.sampled_from(["D", "W"]))
def test_update_equals_summary_of_the_whole(
    log: dict[str, Any], cut_hour: int, period: Any
) -> None:
    # Split the log by time at a cut; summarise part 1 up to the cut, fold in part 2.
    from tests.strategies import BASE, HOUR_NS

    cut = BASE + np.timedelta64(cut_hour * HOUR_NS, "ns")
    end = BASE + np.timedelta64(24 * 45 * HOUR_NS, "ns")
    early = log["times"] <= cut
    whole = InteractionTable.from_arrays(
        log["ids"], log["times"], amounts=log["amounts"], kinds=log["kinds"]
    )
    expected = summarize(whole, observation_end=end, period=period, time_unit="D")
    late_rows = ~early
    if not early.any() or not late_rows.any():
        return
    part1 = whole.select(early)
    part2 = whole.select(late_rows)
    got = summarize(part1, observation_end=cut, period=period, time_unit="D").update(
        part2, observation_end=end
    )
    assert got.observation_end == expected.observation_end
    for name, col in expected.columns().items():
        other = got.columns()[name]
        if col.dtype.kind == "f":
            assert_allclose(other, col, rtol=1e-9, atol=1e-9, err_msg=name)
        else:
            assert_array_equal(other, col, err_msg=name)


def test_update_merges_same_day_purchase_on_the_boundary() -> None:
    # Old: customer 1 buys 01-01 (5) and 01-03 09:00 (2); summary up to 01-03 12:00.
    # New: 01-03 18:00 (3) -> merges with the 01-03 occasion: frequency stays 1,
    # repeat spend 2 + 3 = 5; then 01-05 (4): frequency 2, monetary (5 + 4) / 2 = 4.5.
    old = _table([1, 1], ["2024-01-01", "2024-01-03T09"], [5.0, 2.0])
    s = summarize(old, observation_end="2024-01-03T12")
    new = _table([1, 1], ["2024-01-03T18", "2024-01-05"], [3.0, 4.0])
    u = s.update(new, observation_end="2024-01-06")
    assert u.frequency.tolist() == [2]
    assert_allclose(u.monetary_value, [4.5])
    assert_allclose(u.T, [5.0])
    assert_allclose(u.first_spend, [5.0])


def test_update_errors() -> None:
    old = _table([1], ["2024-01-05"], [5.0])
    s = summarize(old, observation_end="2024-01-10")
    with pytest.raises(InputError, match="purchases before the period"):
        s.update(_table([1], ["2024-01-02"], [1.0]), observation_end="2024-01-20")
    with pytest.raises(InputError, match="observation_end must not be before"):
        s.update(_table([1], ["2024-01-12"], [1.0]), observation_end="2024-01-08")
    with pytest.raises(InputError, match="made by summarize"):
        CustomerSummary.from_arrays([1], [1.0], [2.0]).update(old, observation_end="2024-02-01")
    with pytest.raises(InputTypeError, match="new_table must be an InteractionTable"):
        s.update([1], observation_end="2024-02-01")  # type: ignore[arg-type]


def test_summarize_discrete_bounds_n_periods_by_the_supported_dates() -> None:
    # 10**18 periods tried to allocate a customers x periods matrix ("array is too big").
    t = np.array(["2020-01-05", "2020-02-07"], dtype="datetime64[ns]")
    table = InteractionTable.from_arrays(["a", "a"], t)
    with pytest.raises(InputError, match="n_periods must end inside the supported dates"):
        summarize_discrete(table, start="2020-01-01", period="M", n_periods=10**18)
    # The last whole month that fits: 2020-01 + 2903 months = 2261-12 (12 * 242 - 1).
    d = summarize_discrete(table, start="2020-01-01", period="M", n_periods=2903)
    assert (d.frequency.tolist(), d.recency.tolist(), d.n_periods) == ([1], [1], 2903)
    with pytest.raises(InputError, match="at most 2903 periods"):
        summarize_discrete(table, start="2020-01-01", period="M", n_periods=2904)


def test_spend_columns_are_float_when_the_calibration_holds_no_purchase() -> None:
    # Customer 1 buys only in the holdout (left out), customer 2 only after the end
    # (kept, without a purchase): the calibration period holds no purchase at all, and
    # the spends are float zeros (they were int64 zeros: np.bincount of nothing is int).
    table = _table([1, 2], ["2024-01-05", "2024-02-01"], [5.0, 7.0])
    s = summarize(table, observation_end="2024-01-10", calibration_end="2024-01-02")
    assert s.customer_ids.tolist() == [2]
    for name in ("total_spend", "first_spend", "monetary_value"):
        col = getattr(s, name)
        assert col.dtype == np.float64, name
        assert col.tolist() == [0.0], name


def test_spend_sums_beyond_the_largest_float_are_an_input_error() -> None:
    # two purchases of 1e308 add up to 2e308 > 1.798e308: the sum is not representable
    times = np.array(["2024-01-01", "2024-02-01", "2024-01-05"], dtype="datetime64[ns]")
    table = InteractionTable.from_arrays(
        customer_ids=["a", "a", "b"], times=times, amounts=[1e308, 1e308, 5.0]
    )
    with pytest.raises(InputError, match=r"customer 'a' add up to more than the largest float"):
        summarize(table, observation_end="2024-03-01")
    # the same sum reached by an update of a summary
    first = summarize(
        InteractionTable.from_arrays(
            customer_ids=["a", "b"], times=times[[0, 2]], amounts=[1e308, 5.0]
        ),
        observation_end="2024-01-10",
    )
    later = InteractionTable.from_arrays(customer_ids=["a"], times=times[[1]], amounts=[1e308])
    with pytest.raises(InputError, match=r"new_table amounts: .*customer 'a'"):
        first.update(later, observation_end="2024-03-01")
