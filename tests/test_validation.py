"""Validation at the public boundary: dates, integer and float ranges, row selections.

Every refused input raises a crmcore error naming the argument; nothing wraps
around silently, leaks a numpy warning (the suite turns warnings into errors)
or raises a raw IndexError, KeyError, OverflowError or ValueError.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore._periods import period_index, period_start
from crmcore._validation import (
    as_bool_array,
    as_datetime_array,
    as_float_array,
    as_int_array,
    as_timestamp,
    check_float,
    check_int,
    ndim_of,
    readonly_unless_frozen,
    span_between,
)
from crmcore.errors import InputError, InputTypeError
from crmcore.summary import CompressedHistories, CustomerSummary, compress, summarize
from crmcore.table import InteractionTable, factorize_ids
from tests.support import require

pd = require("pandas", "test")

RANGE = r"must lie between 1678-01-01 and 2261-12-31"


def _table() -> InteractionTable:
    times = np.array(["2024-01-01", "2024-01-03", "2024-01-05"], dtype="datetime64[ns]")
    return InteractionTable.from_arrays([1, 2, 1], times, amounts=[5.0, 6.0, 7.0])


# Dates outside datetime64[ns]: refused in every form, never wrapped around.


def test_summarize_refuses_an_observation_end_numpy_would_wrap() -> None:
    # "1500-01-01" used to become 2084-07-20 (the int64 nanoseconds wrap around).
    with pytest.raises(InputError, match=f"observation_end {RANGE}"):
        summarize(_table(), observation_end="1500-01-01")


OUT_OF_RANGE: list[Any] = [
    "1500-01-01",
    "2300-01-01",
    "1677-12-31T23:59",
    "2262-01-01",
    "1500-01-01T10:00+02:00",
    dt.datetime(1500, 1, 1),
    dt.datetime(2262, 1, 1, tzinfo=dt.UTC),
    dt.date(2300, 1, 1),
    np.datetime64("1500-01-01"),
    np.datetime64("1677", "Y"),  # the year 1677 starts before the range
    np.datetime64("3000", "Y"),
    np.datetime64("1677-12", "M"),
    np.datetime64("9999-12-31T23:59:59", "s"),
    np.array("1500-01-01", dtype="datetime64[D]"),
    np.array("2300-01-01T00", dtype="datetime64[h]"),
]


@pytest.mark.parametrize("value", OUT_OF_RANGE, ids=repr)
def test_as_timestamp_refuses_times_outside_the_range(value: Any) -> None:
    with pytest.raises(InputError, match=f"^calibration_end {RANGE}"):
        as_timestamp(value, "calibration_end")


def test_as_timestamp_refuses_pandas_timestamps_outside_the_range() -> None:
    early = pd.Timestamp(np.datetime64("1500-01-01", "s"))
    with pytest.raises(InputError, match=f"start {RANGE}"):
        as_timestamp(early, "start")


@pytest.mark.parametrize(
    "values",
    [
        np.array(["2024-01-01", "1500-01-01"]),
        ["2024-01-01", "2300-01-01"],
        np.array(["2024-01-01", "1677"], dtype="datetime64[Y]"),
        np.array(["2024-01-01", "3000-01-01"], dtype="datetime64[D]"),
        np.array([dt.datetime(2024, 1, 1), dt.datetime(1500, 1, 1)], dtype=object),
        np.array(["2024-01-01", np.datetime64("2300-01-01")], dtype=object),
        ["2024-01-01T00:00+01:00", "2300-01-01T00:00+01:00"],
    ],
    ids=repr,
)
def test_as_datetime_array_refuses_times_outside_the_range(values: Any) -> None:
    with pytest.raises(InputError, match=rf"times(\[1\])? {RANGE}"):
        as_datetime_array(values, "times")


def test_a_pandas_column_outside_the_range_is_refused() -> None:
    column = pd.Series(np.array(["2024-01-01", "1500-01-01"], dtype="datetime64[s]"))
    with pytest.raises(InputError, match=f"times {RANGE}"):
        InteractionTable.from_arrays([1, 2], column)


def test_the_range_keeps_every_calendar_period_representable() -> None:
    # The earliest accepted time: its year, month and week start inside datetime64[ns]
    # too (1678-01-01 is a Saturday, its ISO week starts on Monday 1677-12-27, which
    # the table refuses as a time but period_start must still not wrap for 'Y'/'M').
    earliest = as_timestamp("1678-01-01", "start")
    assert earliest == np.datetime64("1678-01-01", "ns")
    for period in ("h", "D", "M", "Y"):
        start = period_start(np.asarray([period_index(earliest, period)]), period)[0]
        assert start == np.datetime64("1678-01-01", "ns"), period
    latest = as_timestamp("2261-12-31T23:59:59.999999999", "end")
    # the last nanosecond before 2262, by Python's exact calendar arithmetic
    seconds = (dt.datetime(2262, 1, 1) - dt.datetime(1970, 1, 1)) // dt.timedelta(seconds=1)
    assert int(latest.astype(np.int64)) == seconds * 10**9 - 1
    # one day earlier than the range was accepted before and wrapped for period='Y'
    with pytest.raises(InputError, match=RANGE):
        as_timestamp("1677-12-31", "start")


# UTC offsets in ISO strings: applied, without numpy's timezone warning.


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        # hand-computed: local time minus the offset
        ("2024-01-01T00:00+02:00", "2023-12-31T22:00"),
        ("2024-01-01T00:00Z", "2024-01-01T00:00"),
        ("2024-01-01 10:00-05:30", "2024-01-01T15:30"),
        ("2024-01-01T10:00:00.5+0530", "2024-01-01T04:30:00.5"),
        ("2024-01-01T10+05", "2024-01-01T05:00"),
        ("2024-03-01T00:30+01:00", "2024-02-29T23:30"),
    ],
)
def test_iso_offsets_are_applied_without_a_warning(text: str, utc: str) -> None:
    assert as_timestamp(text, "observation_end") == np.datetime64(utc, "ns")
    got = as_datetime_array(np.array([text, text]), "times")
    assert got.tolist() == [np.datetime64(utc, "ns").item()] * 2


def test_summarize_takes_an_observation_end_with_an_offset() -> None:
    # 2024-01-06T01:00+02:00 is 2024-01-05T23:00 UTC: day 4 after the first purchase.
    s = summarize(_table(), observation_end="2024-01-06T01:00+02:00")
    assert s.T.tolist() == [4.0, 2.0]


def test_strings_mixing_offsets_and_none_are_refused() -> None:
    with pytest.raises(InputError, match="times mixes timezone-aware and naive"):
        as_datetime_array(["2024-01-01T00:00+01:00", "2024-01-02T00:00"], "times")


@pytest.mark.parametrize("text", ["now", "today", " Today "])
def test_the_clock_is_never_read(text: str) -> None:
    with pytest.raises(InputError, match="never reads the clock"):
        as_timestamp(text, "observation_end")
    with pytest.raises(InputError, match="never reads the clock"):
        as_datetime_array([text], "times")


# Missing times where a time is required.


@pytest.mark.parametrize(
    "value",
    [np.array("NaT", dtype="datetime64[ns]"), pd.NaT],
    ids=repr,
)
def test_as_timestamp_refuses_nat(value: Any) -> None:
    with pytest.raises(InputError, match="start must be a point in time"):
        as_timestamp(value, "start")


@pytest.mark.parametrize(
    "values",
    [
        np.array([dt.datetime(2024, 1, 1), None], dtype=object),
        pd.Series([pd.Timestamp("2024-01-01"), pd.NaT], dtype=object),
        np.array(["2024-01-01", np.nan], dtype=object),
    ],
    ids=repr,
)
def test_as_datetime_array_refuses_missing_times(values: Any) -> None:
    with pytest.raises(InputError, match=r"times must not hold missing times \(NaT\)"):
        as_datetime_array(values, "times")


def test_a_zero_dimensional_datetime_array_is_a_timestamp() -> None:
    value = np.array("2024-05-01T12", dtype="datetime64[h]")
    assert as_timestamp(value, "start") == np.datetime64("2024-05-01T12:00", "ns")


# Spans longer than int64 nanoseconds hold (about 292 years).


def test_span_between_does_not_overflow() -> None:
    start = np.datetime64("1678-01-01", "ns")
    end = np.datetime64("2261-12-31", "ns")
    days = (dt.date(2261, 12, 31) - dt.date(1678, 1, 1)).days  # Python's exact calendar
    assert days == 213_300
    assert float(span_between(start, end, "D")) == days
    assert float(span_between(end, start, "W")) == -days / 7
    # numpy's own subtraction wraps around here: the reason for the helper
    assert (end - start).astype(np.int64) < 0


ns_times = st.integers(
    min_value=int(np.datetime64("1678-01-01", "ns").astype(np.int64)),
    max_value=int(np.datetime64("2261-12-31T23:59:59.999999999", "ns").astype(np.int64)),
)


@given(ns_times, ns_times, st.sampled_from(["W", "D", "h", "s", "ns"]))
def test_span_between_matches_exact_integer_arithmetic(a: int, b: int, unit: str) -> None:
    unit_ns = {"W": 7 * 86_400 * 10**9, "D": 86_400 * 10**9, "h": 3_600 * 10**9, "s": 10**9}
    exact = (b - a) / unit_ns.get(unit, 1)  # Python ints: no overflow
    got = float(span_between(np.datetime64(a, "ns"), np.datetime64(b, "ns"), unit))
    assert got == pytest.approx(exact, rel=1e-12, abs=1e-9 * 86_400e9 / unit_ns.get(unit, 1))


# time_unit and period: checked against the known periods.


@pytest.mark.parametrize("time_unit", ["bogus", 1, "", None, "d"])
def test_from_arrays_refuses_an_unknown_time_unit(time_unit: Any) -> None:
    with pytest.raises(InputError, match="time_unit must be one of 'h', 'D', 'W', 'M', 'Y'"):
        CustomerSummary.from_arrays([1], [2.0], [3.0], time_unit=time_unit)


@pytest.mark.parametrize("period", ["month", "", None, 7])
def test_period_index_refuses_an_unknown_period(period: Any) -> None:
    times = np.array(["2024-01-01"], dtype="datetime64[ns]")
    with pytest.raises(InputError, match="period must be one of"):
        period_index(times, period)
    with pytest.raises(InputError, match="period must be one of"):
        period_start(np.array([0]), period)


def test_period_index_refuses_nat() -> None:
    times = np.array(["2024-01-01", "NaT"], dtype="datetime64[ns]")
    with pytest.raises(InputError, match=r"times must not hold missing times.*index 1"):
        period_index(times, "D")
    with pytest.raises(InputError, match="times must be a point in time, got NaT"):
        period_index(np.datetime64("NaT", "ns"), "M")


def test_period_index_refuses_numbers() -> None:
    with pytest.raises(InputTypeError, match="times must hold numpy datetime64"):
        period_index(np.array([1, 2]), "D")


# Integers beyond int64 and floats beyond the float range.


def test_compress_refuses_a_frequency_beyond_int64() -> None:
    # 1e300 used to leak "invalid value encountered in cast" and become -2**63.
    with pytest.raises(InputError, match=r"frequency must fit in a 64-bit integer.*1e\+300"):
        compress([1e300], [0.0], [1.0])


@pytest.mark.parametrize(
    "values",
    [
        [2.0**63],
        [-(2.0**64)],
        [2**63],
        [10**30, 1],
        [-(2**63) - 1],
        np.array([2**64 - 1], dtype=np.uint64),
        np.array([1, 10**25], dtype=object),
    ],
    ids=repr,
)
def test_as_int_array_refuses_values_beyond_int64(values: Any) -> None:
    with pytest.raises(InputError, match="n_periods must fit in a 64-bit integer"):
        as_int_array(values, "n_periods")


def test_as_int_array_keeps_the_extremes_of_int64() -> None:
    assert as_int_array([-(2.0**63)], "n").tolist() == [-(2**63)]
    assert as_int_array([2**63 - 1], "n").tolist() == [2**63 - 1]
    # a list mixing floats and ints is a float array: 2**63 - 1 rounds up to 2.0**63
    with pytest.raises(InputError, match="n must fit in a 64-bit integer"):
        as_int_array([0.5 - 0.5, 2**63 - 1], "n")


@pytest.mark.parametrize(
    "value", [2**63, -(2**63) - 1, 10**400, 10**5000], ids=["2**63", "-2**63-1", "1e400", "1e5000"]
)
def test_check_int_refuses_values_beyond_int64(value: int) -> None:
    with pytest.raises(InputError, match="n must fit in a 64-bit integer"):
        check_int(value, "n")


@pytest.mark.parametrize("value", [10**400, -(10**309)])
def test_check_float_refuses_integers_beyond_the_float_range(value: int) -> None:
    with pytest.raises(InputError, match="discount must be a finite number within the float"):
        check_float(value, "discount")


def test_as_float_array_refuses_integers_beyond_the_float_range() -> None:
    with pytest.raises(InputError, match=r"amounts must be finite.*about 401 digits"):
        as_float_array([1, 10**400], "amounts")
    with pytest.raises(InputError, match=r"amounts must be finite.*about 5001 digits"):
        as_float_array([10**5000], "amounts")  # too long even for str()


# Ragged and nested inputs.

RAGGED: list[Any] = [[[1], [1, 2]], [1, [2, 3]], np.array([1, [2]], dtype=object)]


@pytest.mark.parametrize("helper", [as_float_array, as_int_array, as_bool_array])
@pytest.mark.parametrize("values", RAGGED, ids=repr)
def test_numeric_helpers_refuse_ragged_input(helper: Any, values: Any) -> None:
    with pytest.raises(InputError, match=r"^weights must (be a flat sequence|hold numbers, not)"):
        helper(values, "weights")


@pytest.mark.parametrize("values", RAGGED[:2], ids=repr)
def test_as_datetime_array_refuses_ragged_input(values: Any) -> None:
    with pytest.raises(InputError, match=r"^times must be a flat sequence"):
        as_datetime_array(values, "times")


def test_from_arrays_names_a_ragged_column() -> None:
    times = np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[ns]")
    with pytest.raises(InputError, match=r"^amounts must be a flat sequence"):
        InteractionTable.from_arrays([1, 2], times, amounts=[[1.0], [2.0, 3.0]])
    with pytest.raises(InputError, match=r"^customer_ids must be a flat sequence"):
        InteractionTable.from_arrays([[1], [2, 3]], times)


# Row selections.

BAD_ROWS: list[tuple[Any, type[Exception], str]] = [
    (np.array([1.0, 0.0, 1.0]), InputTypeError, "got dtype float64"),
    (None, InputTypeError, "got None"),
    (np.int64(1), InputError, "got a scalar 1"),
    (1, InputError, "got a scalar 1"),
    (np.array([[0, 1]]), InputError, r"got shape \(1, 2\)"),
    (np.array([0, 3]), InputError, r"indices must lie in 0..2.*index 1: rows=3"),
    (np.array([-1]), InputError, r"indices must lie in 0..2"),
    (np.array([True, False]), InputError, "mask must have length 3, got 2"),
    (np.array(["a"]), InputTypeError, "got dtype <U1"),
]


@pytest.mark.parametrize(("rows", "error", "message"), BAD_ROWS, ids=repr)
def test_table_select_refuses_bad_rows(rows: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=f"^rows .*{message}"):
        _table().select(rows)


@pytest.mark.parametrize(("rows", "error", "message"), BAD_ROWS, ids=repr)
def test_summary_select_refuses_bad_rows(rows: Any, error: type[Exception], message: str) -> None:
    summary = CustomerSummary.from_arrays([1, 0, 2], [2.0, 0.0, 3.0], [4.0, 4.0, 5.0])
    with pytest.raises(error, match=f"^rows .*{message}"):
        summary.select(rows)


def test_select_refuses_repeated_rows() -> None:
    with pytest.raises(InputError, match=r"rows indices must not repeat.*index 2: rows=0"):
        _table().select(np.array([0, 1, 0]))
    summary = CustomerSummary.from_arrays([1, 0], [2.0, 0.0], [4.0, 4.0])
    with pytest.raises(InputError, match="rows indices must be increasing and distinct"):
        summary.select(np.array([1, 1]))
    with pytest.raises(InputError, match="rows indices must be increasing and distinct"):
        summary.select(np.array([1, 0]))


def test_select_takes_an_empty_selection() -> None:
    assert len(_table().select([])) == 0
    assert len(CustomerSummary.from_arrays([1], [2.0], [4.0]).select([])) == 0


# Sequences of objects: None and strangers are named with their position.


def test_concat_names_what_it_refuses() -> None:
    s = CustomerSummary.from_arrays([1], [2.0], [4.0])
    with pytest.raises(InputTypeError, match="summaries must be a sequence of CustomerSummary"):
        CustomerSummary.concat(None)  # type: ignore[arg-type]
    with pytest.raises(InputTypeError, match=r"summaries must hold .* found NoneType at index 1"):
        CustomerSummary.concat([s, None])  # type: ignore[list-item]
    with pytest.raises(InputTypeError, match="found CompressedHistories at index 0"):
        CustomerSummary.concat([compress([1], [2.0], [4.0])])  # type: ignore[list-item]


def test_combine_names_what_it_refuses() -> None:
    c = compress([1], [2.0], [4.0])
    with pytest.raises(InputTypeError, match="parts must be a sequence of CompressedHistories"):
        CompressedHistories.combine(None)  # type: ignore[arg-type]
    with pytest.raises(InputTypeError, match=r"parts must hold .* found NoneType at index 1"):
        CompressedHistories.combine([c, None])  # type: ignore[list-item]
    s = CustomerSummary.from_arrays([1], [2.0], [4.0])
    with pytest.raises(InputTypeError, match="found CustomerSummary at index 0"):
        CompressedHistories.combine([s])  # type: ignore[list-item]


def test_from_records_names_what_it_refuses() -> None:
    with pytest.raises(InputTypeError, match="records must be a sequence of Interaction"):
        InteractionTable.from_records(None)  # type: ignore[arg-type]
    with pytest.raises(InputTypeError, match=r"records must hold .* found NoneType at index 0"):
        InteractionTable.from_records([None])  # type: ignore[list-item]


# factorize_ids names the argument it was given.


def test_factorize_ids_names_its_argument() -> None:
    with pytest.raises(InputError, match=r"^ids must not hold missing ids"):
        factorize_ids([1.0, float("nan")])
    with pytest.raises(InputError, match=r"^referrers must not hold missing ids"):
        factorize_ids([1.0, float("nan")], "referrers")
    with pytest.raises(InputError, match=r"^ids must be a flat sequence"):
        factorize_ids([[1], [2, 3]])


@pytest.mark.parametrize("new_id", ["x", "1"])
def test_update_refuses_ids_of_another_kind(new_id: str) -> None:
    # numpy joined int ids with str ids as strings: customer "1" merged into customer 1.
    s = summarize(_table(), observation_end="2024-01-05")
    new = InteractionTable.from_arrays(
        [new_id], np.array(["2024-01-06"], dtype="datetime64[ns]"), amounts=[1.0]
    )
    with pytest.raises(InputTypeError, match=r"^new_table.customer_ids \(together with"):
        s.update(new, observation_end="2024-01-07")


def test_concat_refuses_ids_of_another_kind() -> None:
    a = CustomerSummary.from_arrays([1], [2.0], [4.0], customer_ids=[1])
    b = CustomerSummary.from_arrays([0], [0.0], [3.0], customer_ids=["1"])
    with pytest.raises(InputTypeError, match="customer_ids must be mutually comparable"):
        CustomerSummary.concat([a, b])


# ---------------------------------------------------------------- helpers for the fuzz findings


def test_ragged_lists_are_an_input_error_everywhere() -> None:
    # One rule: a ragged nested list is a shape problem (InputError), whichever helper sees it.
    ragged = [[1.0, 2.0], [3.0]]
    with pytest.raises(InputError, match="x must be a rectangular array"):
        ndim_of(ragged, "x")
    with pytest.raises(InputError, match="x must be a flat sequence"):
        as_float_array(ragged, "x")
    assert ndim_of([[1, 2], [3, 4]], "x") == 2
    assert ndim_of(3.0, "x") == 0


def test_as_datetime_array_takes_tz_aware_pandas_index_series_and_array() -> None:
    pd = pytest.importorskip("pandas")
    # 2024-01-03 00:00 in Berlin (CET, UTC+1) is 2024-01-02T23:00 UTC.
    idx = pd.DatetimeIndex(["2024-01-03 00:00"]).tz_localize("Europe/Berlin")
    expected = np.array(["2024-01-02T23:00"], dtype="datetime64[ns]")
    for column in (idx, pd.Series(idx), idx.array):
        np.testing.assert_array_equal(as_datetime_array(column, "t"), expected)


def test_readonly_unless_frozen_copies_only_what_someone_else_can_write() -> None:
    mine = np.arange(3.0)
    mine.flags.writeable = False
    assert readonly_unless_frozen(mine) is mine  # read-only and owning its data: kept
    caller = np.arange(3.0)
    out = readonly_unless_frozen(caller)
    assert not np.shares_memory(out, caller)
    assert not out.flags.writeable
    view = caller[:]
    view.flags.writeable = False  # read-only, but the caller can still write through `caller`
    assert not np.shares_memory(readonly_unless_frozen(view), caller)
    assert readonly_unless_frozen([1, 2]).tolist() == [1, 2]


def test_readonly_unless_frozen_keeps_read_only_views_of_frozen_memory() -> None:
    # The columns of one allocation (summarize's result block): rows of a read-only
    # array owning its memory cannot be made writeable, so they are kept as they are.
    block = np.zeros((2, 3))
    rows = [block[0], block[1].view(np.int64)]
    for row in rows:
        row.flags.writeable = False
    block.flags.writeable = False
    for row in rows:
        assert readonly_unless_frozen(row) is row
        with pytest.raises(ValueError, match="WRITEABLE"):
            row.flags.writeable = True
    # a read-only view of an owner that is still writeable is copied
    owner = np.zeros((2, 3))
    view = owner[0]
    view.flags.writeable = False
    assert not np.shares_memory(readonly_unless_frozen(view), owner)


def test_period_index_refuses_ragged_and_missing_times() -> None:
    # A ragged list leaked numpy's "inhomogeneous shape" ValueError before.
    with pytest.raises(InputError, match="times must be a flat sequence"):
        period_index([[1, 2], [3]], "M")  # type: ignore[arg-type]
    with pytest.raises(InputTypeError, match="times must be array-like, got None"):
        period_index(None, "M")  # type: ignore[arg-type]
