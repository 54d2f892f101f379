"""Inputs are never mutated and never aliased.

Every constructor that keeps an array must keep its own copy: after the call
the caller's array is still writeable and unchanged, and writing to it later
leaves the result alone. Each stored column is tried with a numpy array, a
pandas Series over that array, the Series' ``to_numpy()`` (which shares its
memory) and a polars Series.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
import pytest

from crmcore.summary import (
    CompressedHistories,
    CustomerSummary,
    DiscreteSummary,
    compress,
    summarize,
    summarize_discrete,
)
from crmcore.table import InteractionTable
from tests.support import require

pd = require("pandas", "test")
pl = require("polars", "test")

N = 4
TIMES = np.array(["2024-01-01", "2024-01-02", "2024-01-05", "2024-02-01"], dtype="datetime64[ns]")


def _numpy(a: np.ndarray[Any, Any]) -> Any:
    return a


def _pandas(a: np.ndarray[Any, Any]) -> Any:
    return pd.Series(a, copy=False)


def _pandas_to_numpy(a: np.ndarray[Any, Any]) -> Any:
    out = pd.Series(a, copy=False).to_numpy()
    if a.dtype.kind != "O":  # pandas keeps strings in its own str dtype
        assert np.shares_memory(out, a)  # the case under test: a view of the caller's data
    return out


def _polars(a: np.ndarray[Any, Any]) -> Any:
    return pl.Series(a)


FORMS: dict[str, Callable[[np.ndarray[Any, Any]], Any]] = {
    "numpy": _numpy,
    "pandas": _pandas,
    "pandas.to_numpy": _pandas_to_numpy,
    "polars": _polars,
}


def _changed(a: np.ndarray[Any, Any]) -> Any:
    """A value different from a[0] of the same kind (written into the caller's array)."""
    kind = a.dtype.kind
    if kind == "M":
        return a[0] + np.timedelta64(1, "D")
    if kind == "m":
        return a[0] + np.timedelta64(1, "s")
    if kind == "b":
        return not a[0]
    if kind in "iu":
        return a[0] + 1
    if kind == "f":
        return a[0] + 0.5
    return "changed"


def _same(a: Any, b: Any) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind in "fc" and b.dtype.kind in "fc":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def _check(
    build: Callable[[Any], Any],
    column: np.ndarray[Any, Any],
    read: Callable[[Any], Any],
    form: str,
) -> None:
    """Build with ``form(column)``; the caller's ``column`` must stay its own."""
    caller = column.copy()
    before = caller.copy()
    result = build(FORMS[form](caller))
    stored = np.array(read(result), copy=True)
    assert caller.flags.writeable, "the caller's array was made read-only"
    assert _same(caller, before), "the caller's array was changed"
    caller[0] = _changed(caller)
    assert _same(read(result), stored), "the result aliases the caller"


# InteractionTable.from_arrays: every column.

TABLE_COLUMNS: dict[str, np.ndarray[Any, Any]] = {
    "customer_ids": np.array([3, 1, 3, 2], dtype=np.int64),
    "times": TIMES,
    "kinds": np.array([0, 0, 0, 0], dtype=np.int64),
    "amounts": np.array([1.0, 2.0, 3.0, 4.0]),
    "channels": np.array([0, 1, 0, 1], dtype=np.int64),
    "margins": np.array([0.5, -1.0, np.nan, 2.0]),
    "products": np.array(["p", "q", "p", "r"], dtype=object),
    "categories": np.array([1, 2, 1, 2], dtype=np.int64),
    "regions": np.array([1.5, 2.5, 1.5, 2.5]),
    "campaigns": np.array(["c", "d", "c", "c"], dtype=object),
    "in_control_group": np.array([True, False, False, True]),
    "discounted": np.array([False, False, True, True]),
    "survey_scores": np.array([np.nan, 7.0, np.nan, 9.0]),
    "survey_scale_min": np.array([np.nan, 0.0, np.nan, 0.0]),
    "survey_scale_max": np.array([np.nan, 10.0, np.nan, 10.0]),
    "resolved_at_first_contact": np.array([-1, 1, 0, -1], dtype=np.int64),
    "response_times": np.array([1, 2, 3, 4], dtype="timedelta64[s]").astype("timedelta64[ns]"),
    "survey_questions": np.array(["", "nps", "", "nps"], dtype=object),
    "order_ids": np.array(["o1", "o2", "o1", ""], dtype=object),
    "lead_sources": np.array(["web", "", "fair", "web"], dtype=object),
    "opportunity_stages": np.array([-1, -1, -1, -1], dtype=np.int64),
}
_SURVEY = ("survey_scores", "survey_scale_min", "survey_scale_max")


def _table_kwargs() -> dict[str, Any]:
    return {k: c.copy() for k, c in TABLE_COLUMNS.items() if k not in ("customer_ids", "times")}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("column", TABLE_COLUMNS)
def test_interaction_table_from_arrays(column: str, form: str) -> None:
    if form == "polars" and TABLE_COLUMNS[column].dtype.kind == "O":
        pytest.skip("polars has no object columns")

    def build(value: Any) -> InteractionTable:
        kwargs = _table_kwargs()
        ids, times = TABLE_COLUMNS["customer_ids"].copy(), TABLE_COLUMNS["times"].copy()
        if column == "customer_ids":
            ids = value
        elif column == "times":
            times = value
        else:
            kwargs[column] = value
        return InteractionTable.from_arrays(ids, times, **kwargs)

    def read(table: InteractionTable) -> Any:
        if column == "customer_ids":
            return table.row_customer_ids()
        return getattr(table, column)

    _check(build, TABLE_COLUMNS[column], read, form)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("rows", ["mask", "indices"])
def test_interaction_table_select_leaves_the_rows_alone(rows: str, form: str) -> None:
    table = InteractionTable.from_arrays(TABLE_COLUMNS["customer_ids"], TIMES, **_table_kwargs())
    column = np.array([True, False, True, True]) if rows == "mask" else np.array([0, 2, 3])
    _check(table.select, column, lambda t: t.amounts, form)


def test_interaction_table_select_copies_the_table() -> None:
    table = InteractionTable.from_arrays(TABLE_COLUMNS["customer_ids"], TIMES, **_table_kwargs())
    part = table.select(np.arange(len(table)))
    for field in attrs.fields(InteractionTable):
        col = getattr(part, field.name)
        assert not np.shares_memory(col, getattr(table, field.name)), field.name
        assert not col.flags.writeable, field.name


# CustomerSummary.from_arrays: every column.

SUMMARY_COLUMNS: dict[str, np.ndarray[Any, Any]] = {
    "frequency": np.array([2, 0, 1, 3], dtype=np.int64),
    "recency": np.array([3.0, 0.0, 1.0, 4.0]),
    "T": np.array([5.0, 2.0, 4.0, 6.0]),
    "monetary_value": np.array([10.0, 0.0, 5.0, 2.0]),
    "total_spend": np.array([25.0, 3.0, 9.0, 10.0]),
    "n_transactions": np.array([3, 1, 2, 5], dtype=np.int64),
    "customer_ids": np.array([40, 10, 30, 20], dtype=np.int64),
    "frequency_holdout": np.array([1, 0, 2, 0], dtype=np.int64),
    "monetary_value_holdout": np.array([4.0, 0.0, 3.5, 0.0]),
}
SUMMARY_FLOATS = {"first_spend": np.array([5.0, 3.0, 4.0, 4.0])}


def _summary_kwargs(column: str, value: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {k: c.copy() for k, c in SUMMARY_COLUMNS.items()}
    kwargs["duration_holdout"] = 3.0
    kwargs[column] = value
    return kwargs


def _by_input_order(summary: CustomerSummary, column: str) -> Any:
    """The stored column in the caller's row order (the summary sorts rows by id)."""
    order = np.argsort(np.argsort(SUMMARY_COLUMNS["customer_ids"]))
    return np.asarray(getattr(summary, column))[order]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("column", [*SUMMARY_COLUMNS, "first_spend"])
def test_customer_summary_from_arrays(column: str, form: str) -> None:
    def build(value: Any) -> CustomerSummary:
        kwargs = _summary_kwargs(column, value)
        if column == "first_spend":
            del kwargs["total_spend"]
        return CustomerSummary.from_arrays(**kwargs)

    data = SUMMARY_COLUMNS.get(column, SUMMARY_FLOATS.get(column))
    assert data is not None
    _check(build, data, lambda s: _by_input_order(s, column), form)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("column", ["frequency", "recency", "T", "monetary_value"])
def test_customer_summary_from_arrays_without_ids(column: str, form: str) -> None:
    # Without customer_ids the rows keep the caller's order: no reordering copy is made.
    def build(value: Any) -> CustomerSummary:
        kwargs = {k: SUMMARY_COLUMNS[k].copy() for k in ("frequency", "recency", "T")}
        kwargs[column] = value
        return CustomerSummary.from_arrays(**kwargs)

    _check(build, SUMMARY_COLUMNS[column], lambda s: getattr(s, column), form)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("rows", ["mask", "indices"])
def test_customer_summary_select_leaves_the_rows_alone(rows: str, form: str) -> None:
    summary = CustomerSummary.from_arrays(**_summary_kwargs("T", SUMMARY_COLUMNS["T"]))
    column = np.array([True, False, True, True]) if rows == "mask" else np.array([0, 2, 3])
    _check(summary.select, column, lambda s: s.T, form)


def test_customer_summary_concat_and_select_share_nothing() -> None:
    summary = CustomerSummary.from_arrays(**_summary_kwargs("T", SUMMARY_COLUMNS["T"]))
    for result in (CustomerSummary.concat([summary]), summary.select(np.arange(N))):
        for name, col in result.columns().items():
            assert not np.shares_memory(col, summary.columns()[name]), name
            assert not col.flags.writeable, name


# compress: every column.

HISTORY_COLUMNS: dict[str, np.ndarray[Any, Any]] = {
    "frequency": np.array([2.0, 0.0, 1.0, 3.0]),
    "recency": np.array([3.0, 0.0, 1.0, 4.0]),
    "T": np.array([5.0, 2.0, 4.0, 6.0]),
    "weights": np.array([1.0, 2.0, 3.0, 4.0]),
}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("column", HISTORY_COLUMNS)
def test_compress(column: str, form: str) -> None:
    def build(value: Any) -> CompressedHistories:
        kwargs = {k: c.copy() for k, c in HISTORY_COLUMNS.items()}
        kwargs[column] = value
        return compress(**kwargs)

    # compress sorts by (frequency, recency, T); here that order is fixed by frequency.
    order = np.argsort(np.argsort(HISTORY_COLUMNS["frequency"]))
    _check(build, HISTORY_COLUMNS[column], lambda c: getattr(c, column)[order], form)


def test_customer_summary_from_arrays_with_no_customers() -> None:
    ids = np.array([], dtype=np.int64)
    summary = CustomerSummary.from_arrays([], [], [], customer_ids=ids)
    assert ids.flags.writeable
    assert not np.shares_memory(summary.customer_ids, ids)


# Direct construction: the attrs constructors copy a caller's arrays too.


def _built_by_crmcore() -> dict[type, Any]:
    kinds = np.array([0, 0, 0, 0], dtype=np.int64)
    table = InteractionTable.from_arrays(
        TABLE_COLUMNS["customer_ids"], TIMES, **{**_table_kwargs(), "kinds": kinds}
    )
    return {
        InteractionTable: table,
        CustomerSummary: summarize(table, observation_end="2024-03-01", time_unit="D"),
        DiscreteSummary: summarize_discrete(table, start="2024-01-01", period="D", n_periods=40),
        CompressedHistories: compress(**HISTORY_COLUMNS),
    }


def _array_fields(obj: Any) -> dict[str, np.ndarray[Any, Any]]:
    fields = {f.name: getattr(obj, f.name) for f in attrs.fields(type(obj))}
    return {k: a for k, a in fields.items() if isinstance(a, np.ndarray)}


@pytest.mark.parametrize(
    "cls",
    [InteractionTable, CustomerSummary, DiscreteSummary, CompressedHistories],
    ids=lambda c: c.__name__,
)
def test_direct_constructor_copies_caller_arrays(cls: type) -> None:
    made = _built_by_crmcore()[cls]
    fields = {f.name: getattr(made, f.name) for f in attrs.fields(cls)}
    arrays = _array_fields(made)
    assert arrays, "no array field to check"
    for name, own in arrays.items():
        caller = own.copy()  # writeable, the caller's
        before = caller.copy()
        result = cls(**{**fields, name: caller})
        stored = getattr(result, name)
        assert not np.shares_memory(stored, caller), f"{name}: the result aliases the caller"
        assert not stored.flags.writeable, f"{name}: stored array is writeable"
        assert caller.flags.writeable, f"{name}: the caller's array was made read-only"
        assert _same(caller, before), f"{name}: the caller's array was changed"
        # A read-only view of the caller's memory is no protection: copied too.
        view = caller[:]
        view.flags.writeable = False
        assert not np.shares_memory(getattr(cls(**{**fields, name: view}), name), caller), name

    # What crmcore built is read-only and owns its data: stored as is, so the
    # from_arrays / summarize / compress paths pay no second copy.
    again = cls(**fields)
    for name, own in arrays.items():
        assert getattr(again, name) is own, name
