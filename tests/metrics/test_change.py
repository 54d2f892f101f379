"""Tests of crmcore.metrics.change: period change, customer flows, revenue tree."""

from __future__ import annotations

import datetime as dt
import math

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from crmcore import InteractionTable
from crmcore.errors import InputError, InputTypeError
from crmcore.metrics import (
    CUSTOMER_FLOW_STATUSES,
    new_lapsed_repeating,
    period_change,
    revenue_tree,
)
from crmcore.metrics.change import _as_period
from tests.strategies import purchase_logs

NS = "datetime64[ns]"

# ----------------------------------------------------------------------------- period_change


def test_period_change_reference():
    # Hand-worked: 100 -> 120 is +20 (+20%); 120 -> 0 is -120 (-100%); 0 -> 30 has no
    # relative change (zero base: NaN and the flag, no infinity and no warning).
    c = period_change([100.0, 120.0, 0.0, 30.0])
    assert_allclose(c.current, [120, 0, 30])
    assert_allclose(c.base, [100, 120, 0])
    assert_allclose(c.difference, [20, -120, 30])
    assert_allclose(c.relative[:2], [0.2, -1.0])
    assert np.isnan(c.relative[2])
    assert c.zero_base.tolist() == [False, False, True]
    assert c.lag == 1


def test_period_change_negative_base_and_year_over_year():
    # A loss shrinking from -10 to -5 is +50% (relative to |base|).
    assert_allclose(period_change([-10.0, -5.0]).relative, [0.5])
    # Monthly series, lag 12: month 13 against month 1 (同比), month 14 against month 2.
    monthly = np.arange(1.0, 15.0)
    yoy = period_change(monthly, lag=12)
    assert_allclose(yoy.difference, [12.0, 12.0])
    assert_allclose(yoy.relative, [12.0, 6.0])


@given(
    st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=30).flatmap(
        lambda xs: st.tuples(st.just(xs), st.integers(1, len(xs) - 1))
    )
)
def test_period_change_properties(data):
    values, lag = data
    c = period_change(values, lag=lag)
    x = np.asarray(values)
    assert c.difference.size == x.size - lag
    assert_array_equal(c.current, x[lag:])
    assert_array_equal(c.base, x[:-lag])
    assert_array_equal(c.zero_base, x[:-lag] == 0)
    # Finite wherever the base is not 0 and the ratio fits in a float (subnormal bases do not).
    ok = ~c.zero_base & np.isfinite(c.relative)
    nonzero = ~c.zero_base
    assert np.all(np.isfinite(c.relative[nonzero]) | (np.abs(c.base[nonzero]) < 1e-300))
    # relative * |base| gives the difference back, and its sign is the sign of the change.
    assert_allclose(c.relative[ok] * np.abs(c.base[ok]), c.difference[ok], rtol=1e-12, atol=1e-9)
    assert np.all(np.sign(c.relative[ok]) == np.sign(c.difference[ok]))
    assert np.all(np.isnan(c.relative[c.zero_base]))


@pytest.mark.parametrize(
    ("values", "lag", "error", "match"),
    [
        ([1.0], 1, InputError, "values must hold more than lag=1 values, got 1"),
        ([1.0, 2.0], 0, InputError, "lag must be >= 1"),
        ([1.0, 2.0], 1.5, InputTypeError, "lag must be an integer"),
        ([1.0, np.inf], 1, InputError, r"values must be finite.*index 1"),
        ([], 1, InputError, "values must not be empty"),
    ],
)
def test_period_change_errors(values, lag, error, match):
    with pytest.raises(error, match=match):
        period_change(values, lag=lag)


# ----------------------------------------------------------------------------- periods


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("2024", "2024-01-01", "2025-01-01"),
        ("2024-02", "2024-02-01", "2024-03-01"),  # leap year: 29 days
        ("2024-02-29", "2024-02-29", "2024-03-01"),
        (dt.date(2024, 3, 5), "2024-03-05", "2024-03-06"),
        (np.datetime64("2023-12"), "2023-12-01", "2024-01-01"),
        (("2024-01-15", "2024-02-15"), "2024-01-15", "2024-02-15"),
        (
            (dt.datetime(2024, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=2))), "2024-01-02"),
            "2023-12-31T23:00",
            "2024-01-02",
        ),
    ],
)
def test_period_forms(period, start, end):
    s, e = _as_period(period, "period_1")
    assert s == np.datetime64(start, "ns")
    assert e == np.datetime64(end, "ns")


@pytest.mark.parametrize(
    ("period", "error", "match"),
    [
        ("2024-W05", InputError, "period_1 must be a \\(start, end\\) pair or a calendar label"),
        ("2024-01-01T10", InputError, "period_1 as a label must name a year, month or day"),
        (("2024-02-01", "2024-01-01"), InputError, "period_1 must end after it starts"),
        (("2024-02-01", "2024-02-01"), InputError, "period_1 must end after it starts"),
        (2024, InputTypeError, "period_1 must be a \\(start, end\\) pair"),
        (("2024-01-01",), InputTypeError, "period_1 must be a \\(start, end\\) pair"),
        (("2024-01-01", None), InputTypeError, r"period_1\[1\] must be a datetime"),
        # calendar labels outside datetime64[ns] (1677-09-21 .. 2262-04-11) are refused,
        # not wrapped around
        ("2500", InputError, "period_1 must lie"),
        ("1600-01", InputError, "period_1 must lie"),
    ],
)
def test_period_errors(period, error, match):
    with pytest.raises(error, match=match):
        _as_period(period, "period_1")


# ----------------------------------------------------------------------------- customer flow


def _flow_table():
    times = np.array(
        [
            "2023-11-05",
            "2024-01-10",
            "2024-02-03",
            "2024-01-20",
            "2024-02-14",
            "2024-02-20",
            "2024-02-21",
            "2024-03-01",
            "2024-02-10",
        ],
        dtype=NS,
    )
    return InteractionTable.from_arrays(
        ["old", "kept", "kept", "gone", "fresh", "old", "kept", "late", "fresh"],
        times,
        kinds=["purchase"] * 8 + ["complaint"],
        amounts=[5.0, 10.0, 12.0, 7.0, 4.0, 6.0, 3.0, 9.0, 0.0],
    )


def test_new_lapsed_repeating_reference():
    # Hand-worked: January buyers kept (10) and gone (7); February buyers kept (12 + 3),
    # fresh (4, first purchase ever), old (6, bought in 2023, not in January); late buys in
    # March only; the complaint of fresh is not a purchase.
    f = new_lapsed_repeating(_flow_table(), "2024-01", "2024-02")
    assert f.customer_ids.tolist() == ["fresh", "gone", "kept", "late", "old"]
    assert f.status.tolist() == ["new", "lapsed", "repeating", "inactive", "reactivated"]
    assert (f.n_new, f.n_reactivated, f.n_repeating, f.n_lapsed) == (1, 1, 1, 1)
    assert (f.n_customers_1, f.n_customers_2) == (2, 3)
    assert (f.revenue_1, f.revenue_2) == (17.0, 25.0)
    assert (f.revenue_new, f.revenue_reactivated, f.revenue_lapsed) == (4.0, 6.0, 7.0)
    assert (f.revenue_repeating_1, f.revenue_repeating_2) == (10.0, 15.0)


def test_new_lapsed_repeating_pairs_with_a_gap():
    # Periods with a gap between them: 'late' bought in March, between the two periods, so in
    # April it is reactivated, not new.
    t = _flow_table()
    extra = InteractionTable.from_arrays(
        ["late"], np.array(["2024-04-02"], dtype=NS), amounts=[1.0]
    )
    merged = InteractionTable.from_arrays(
        np.concatenate([t.row_customer_ids(), extra.row_customer_ids()]),
        np.concatenate([t.times, extra.times]),
        kinds=np.concatenate([t.kinds, extra.kinds]),
        amounts=np.concatenate([t.amounts, extra.amounts]),
    )
    f = new_lapsed_repeating(merged, ("2024-01-01", "2024-02-01"), "2024-04")
    assert dict(zip(f.customer_ids.tolist(), f.status.tolist(), strict=True))["late"] == (
        "reactivated"
    )


def _brute_flow(log, p1, p2):
    """Sets of customers per period, written with Python loops."""
    s1, e1 = (np.datetime64(x, "ns") for x in p1)
    s2, e2 = (np.datetime64(x, "ns") for x in p2)
    buy = log["kinds"] == "purchase"
    in1 = {
        int(c) for c, t, b in zip(log["ids"], log["times"], buy, strict=True) if b and s1 <= t < e1
    }
    in2 = {
        int(c) for c, t, b in zip(log["ids"], log["times"], buy, strict=True) if b and s2 <= t < e2
    }
    before = {int(c) for c, t, b in zip(log["ids"], log["times"], buy, strict=True) if b and t < s2}
    rev2 = {}
    for c, t, b, a in zip(log["ids"], log["times"], buy, log["amounts"], strict=True):
        if b and s2 <= t < e2:
            rev2[int(c)] = rev2.get(int(c), 0.0) + a
    return in1, in2, before, rev2


@given(purchase_logs(max_rows=40, max_customers=6))
def test_new_lapsed_repeating_matches_sets(log):
    p1, p2 = ("2024-01-01", "2024-01-21"), ("2024-01-25", "2024-03-01")
    table = InteractionTable.from_arrays(
        log["ids"], log["times"], kinds=log["kinds"], amounts=log["amounts"]
    )
    f = new_lapsed_repeating(table, p1, p2)
    in1, in2, before, rev2 = _brute_flow(log, p1, p2)
    status = dict(zip(table.customer_ids.tolist(), f.status.tolist(), strict=True))
    assert {c for c, s in status.items() if s == "repeating"} == in1 & in2
    assert {c for c, s in status.items() if s == "lapsed"} == in1 - in2
    assert {c for c, s in status.items() if s == "new"} == in2 - before
    assert {c for c, s in status.items() if s == "reactivated"} == (in2 - in1) & before
    assert set(f.status.tolist()) <= set(CUSTOMER_FLOW_STATUSES)
    # The bridges between the periods.
    assert f.n_customers_2 - f.n_customers_1 == f.n_new + f.n_reactivated - f.n_lapsed
    assert_allclose(
        f.revenue_2 - f.revenue_1,
        f.revenue_new
        + f.revenue_reactivated
        + f.revenue_repeating_2
        - f.revenue_repeating_1
        - f.revenue_lapsed,
        atol=1e-9,
    )
    assert_allclose(f.revenue_new, sum(rev2.get(c, 0.0) for c in in2 - before), atol=1e-9)


def test_new_lapsed_repeating_errors():
    t = _flow_table()
    with pytest.raises(InputError, match="period_2 must start at or after the end of period_1"):
        new_lapsed_repeating(t, "2024-02", "2024-01")
    with pytest.raises(InputError, match="period_2 must start at or after the end of period_1"):
        new_lapsed_repeating(t, "2024", "2024-06")
    with pytest.raises(InputTypeError, match="table must be an InteractionTable"):
        new_lapsed_repeating({"ids": [1]}, "2024-01", "2024-02")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="period_1 as a label must name a year, month or day"):
        new_lapsed_repeating(t, "2024-01-01T05", "2024-02")


# ----------------------------------------------------------------------------- revenue tree


def _tree_table():
    times = np.array(
        ["2023-03-01", "2023-05-01", "2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01"],
        dtype=NS,
    )
    return InteractionTable.from_arrays(
        ["a", "b", "a", "a", "c", "c"],
        times,
        kinds=["purchase"] * 5 + ["refund"],
        amounts=[50.0, 50.0, 40.0, 40.0, 40.0, 40.0],
    )


def test_revenue_tree_reference_against_mpmath():
    # 2023: 2 buyers, 2 orders, 100; 2024: 2 buyers, 3 orders, 120 (the refund is not an order).
    # LMDI weights and logs evaluated independently with 40-digit mpmath.
    tree = revenue_tree(_tree_table(), "2023", "2024")
    assert (tree.revenue_1, tree.revenue_2, tree.change) == (100.0, 120.0, 20.0)
    assert (tree.n_customers_1, tree.n_customers_2, tree.n_orders_1, tree.n_orders_2) == (
        2,
        2,
        2,
        3,
    )
    assert (tree.orders_per_customer_1, tree.orders_per_customer_2) == (1.0, 1.5)
    assert (tree.spend_per_order_1, tree.spend_per_order_2) == (50.0, 40.0)
    with mpmath.workdps(40):
        weight = (mpmath.mpf(120) - 100) / (mpmath.log(120) - mpmath.log(100))
        opc = float(weight * mpmath.log(mpmath.mpf(3) / 2))
        spo = float(weight * mpmath.log(mpmath.mpf(40) / 50))
    assert tree.contribution_customers == 0.0
    assert_allclose(tree.contribution_orders_per_customer, opc, rtol=1e-14)
    assert_allclose(tree.contribution_spend_per_order, spo, rtol=1e-14)


def test_revenue_tree_equal_revenue_and_near_equal():
    # Same revenue in both periods: the log mean is the revenue itself, contributions cancel.
    times = np.array(["2023-01-05", "2024-01-05", "2024-01-06"], dtype=NS)
    t = InteractionTable.from_arrays(["a", "a", "b"], times, amounts=[100.0, 50.0, 50.0])
    tree = revenue_tree(t, "2023", "2024")
    assert tree.change == 0.0
    # Customers doubled (ln 2), orders per customer unchanged, spend per order halved (ln 1/2).
    assert_allclose(tree.contribution_customers, 100 * math.log(2), rtol=1e-15)
    assert tree.contribution_orders_per_customer == 0.0
    assert_allclose(tree.contribution_spend_per_order, -100 * math.log(2), rtol=1e-15)
    # Revenues 1e-9 apart: the log mean stays accurate (mpmath reference).
    t2 = InteractionTable.from_arrays(
        ["a", "a"], np.array(["2023-01-05", "2024-01-05"], NS), amounts=[100.0, 100.0 + 1e-9]
    )
    tree2 = revenue_tree(t2, "2023", "2024")
    with mpmath.workdps(40):
        r1, r2 = mpmath.mpf(100.0), mpmath.mpf(100.0 + 1e-9)
        spo = float((r2 - r1) / (mpmath.log(r2) - mpmath.log(r1)) * mpmath.log(r2 / r1))
    assert_allclose(tree2.contribution_spend_per_order, spo, rtol=1e-12)


def _brute_factors(log, start, end):
    s, e = np.datetime64(start, "ns"), np.datetime64(end, "ns")
    rows = [
        (int(c), a)
        for c, t, k, a in zip(log["ids"], log["times"], log["kinds"], log["amounts"], strict=True)
        if k == "purchase" and s <= t < e
    ]
    revenue = math.fsum(a for _, a in rows)
    customers = len({c for c, _ in rows})
    return revenue, customers, len(rows)


@given(purchase_logs(max_rows=40, max_customers=8))
def test_revenue_tree_matches_loops_and_adds_up(log):
    table = InteractionTable.from_arrays(
        log["ids"], log["times"], kinds=log["kinds"], amounts=log["amounts"]
    )
    p1, p2 = ("2024-01-01", "2024-01-25"), ("2024-01-25", "2024-03-01")
    b1, b2 = _brute_factors(log, *p1), _brute_factors(log, *p2)
    if b1[0] <= 0 or b2[0] <= 0:
        with pytest.raises(InputError, match="must hold purchases with positive revenue"):
            revenue_tree(table, p1, p2)
        return
    tree = revenue_tree(table, p1, p2)
    assert_allclose((tree.revenue_1, tree.revenue_2), (b1[0], b2[0]), rtol=1e-12)
    assert (tree.n_customers_1, tree.n_orders_1) == (b1[1], b1[2])
    assert (tree.n_customers_2, tree.n_orders_2) == (b2[1], b2[2])
    parts = (
        tree.contribution_customers,
        tree.contribution_orders_per_customer,
        tree.contribution_spend_per_order,
    )
    # LMDI: the contributions add up to the change with no residual.
    assert_allclose(sum(parts), tree.change, atol=1e-9 * max(tree.revenue_1, tree.revenue_2))
    # Swapping the periods negates every contribution.
    back = revenue_tree(table, p2, p1)
    assert_allclose(
        (
            back.contribution_customers,
            back.contribution_orders_per_customer,
            back.contribution_spend_per_order,
        ),
        tuple(-p for p in parts),
        rtol=1e-12,
        atol=1e-12,
    )


def test_revenue_tree_errors():
    t = _tree_table()
    with pytest.raises(
        InputError, match=r"period_1 must hold purchases with positive revenue.*0 purchase rows"
    ):
        revenue_tree(t, "2022", "2024")
    zero = InteractionTable.from_arrays(
        ["a", "a"], np.array(["2023-01-05", "2024-01-05"], NS), amounts=[0.0, 10.0]
    )
    with pytest.raises(InputError, match="period_1 must hold purchases with positive revenue"):
        revenue_tree(zero, "2023", "2024")
    with pytest.raises(InputError, match="period_2 must end after it starts"):
        revenue_tree(t, "2023", ("2024-05-01", "2024-01-01"))
    with pytest.raises(InputTypeError, match="table must be an InteractionTable"):
        revenue_tree(None, "2023", "2024")  # type: ignore[arg-type]


def test_revenue_tree_without_purchases_names_the_table() -> None:
    # An empty table got a message naming only period_1 (the fuzz test's empty selection).
    t = np.array(["2023-03-01", "2024-02-01"], dtype="datetime64[ns]")
    table = InteractionTable.from_arrays(["a", "a"], t, amounts=[5.0, 6.0])
    empty = table.select(np.zeros(2, dtype=bool))
    with pytest.raises(
        InputError, match=r"period_1 must hold purchases .* 0 purchase rows of table"
    ):
        revenue_tree(empty, "2023", "2024")
