"""Tests of InteractionTable.from_records: records to columns."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from crmcore.errors import InputError, InputTypeError
from crmcore.records import Channel, Interaction, InteractionKind, OpportunityStage
from crmcore.table import InteractionTable

UTC = dt.UTC
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
PST = dt.timezone(dt.timedelta(hours=-8))
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)

OPTIONAL_COLUMNS = (
    "channels",
    "margins",
    "products",
    "categories",
    "regions",
    "campaigns",
    "survey_scores",
    "survey_scale_min",
    "survey_scale_max",
    "resolved_at_first_contact",
    "response_times",
)


def utc_ns(when: dt.datetime) -> int:
    """Nanoseconds since 1970-01-01 UTC by exact datetime arithmetic (no numpy)."""
    return ((when - EPOCH) // dt.timedelta(microseconds=1)) * 1000


def rec(**changes: Any) -> Interaction:
    fields: dict[str, Any] = {
        "customer_id": "a",
        "timestamp": dt.datetime(2024, 1, 1, tzinfo=UTC),
        "kind": "purchase",
        "amount": 1.0,
    }
    fields.update(changes)
    return Interaction(**fields)


def test_times_in_other_zones_become_utc() -> None:
    records = [
        # 09:30 at +05:30 is 04:00 UTC.
        rec(timestamp=dt.datetime(2024, 5, 1, 9, 30, tzinfo=IST)),
        # 20:00 at -08:00 is 04:00 UTC on the next day.
        rec(timestamp=dt.datetime(2024, 5, 1, 20, 0, tzinfo=PST)),
        rec(timestamp=dt.datetime(2024, 5, 2, 7, 15, 0, 123456, tzinfo=UTC)),
    ]
    table = InteractionTable.from_records(records)
    assert table.times.dtype == np.dtype("datetime64[ns]")
    expected = np.array(
        ["2024-05-01T04:00", "2024-05-02T04:00", "2024-05-02T07:15:00.123456"],
        dtype="datetime64[ns]",
    )
    assert_array_equal(table.times, expected)


def test_daylight_saving_fold_is_resolved_by_fold() -> None:
    # 2024-11-03 01:30 happens twice in New York: first at EDT (UTC-4) = 05:30 UTC,
    # then, with fold=1, at EST (UTC-5) = 06:30 UTC.
    new_york = zoneinfo.ZoneInfo("America/New_York")
    first = dt.datetime(2024, 11, 3, 1, 30, tzinfo=new_york)
    second = dt.datetime(2024, 11, 3, 1, 30, fold=1, tzinfo=new_york)
    table = InteractionTable.from_records([rec(timestamp=first), rec(timestamp=second)])
    expected = np.array(["2024-11-03T05:30", "2024-11-03T06:30"], dtype="datetime64[ns]")
    assert_array_equal(table.times, expected)


def test_ids_kinds_and_amounts() -> None:
    records = [
        rec(customer_id="b", kind="purchase", amount=12.5),
        rec(customer_id="a", kind="refund", amount=-2.0),
        rec(customer_id="b", kind="visit", amount=None),
        rec(customer_id="c", kind=InteractionKind.MARKETING, amount=None),
    ]
    table = InteractionTable.from_records(records)
    assert table.customer_ids.tolist() == ["a", "b", "c"]
    assert table.customer_codes.tolist() == [1, 0, 1, 2]
    assert table.row_customer_ids().tolist() == ["b", "a", "b", "c"]
    # Codes are the positions in InteractionKind: purchase 0, refund 1, visit 5, marketing 6.
    assert table.kinds.tolist() == [0, 1, 5, 6]
    assert table.is_purchase.tolist() == [True, False, False, False]
    # A missing amount becomes 0.
    assert_allclose(table.amounts, [12.5, -2.0, 0.0, 0.0])
    assert len(table) == 4
    assert table.n_customers == 3


def test_integer_ids_are_sorted_numerically() -> None:
    table = InteractionTable.from_records([rec(customer_id=10), rec(customer_id=9)])
    assert table.customer_ids.tolist() == [9, 10]
    assert table.customer_codes.tolist() == [1, 0]


def test_optional_columns_absent_when_no_record_sets_them() -> None:
    table = InteractionTable.from_records([rec(), rec(kind="visit", amount=None)])
    for name in OPTIONAL_COLUMNS:
        assert getattr(table, name) is None, name
    # The flags always exist (their record default is False).
    assert table.in_control_group is not None
    assert table.discounted is not None
    assert table.in_control_group.tolist() == [False, False]
    assert table.discounted.tolist() == [False, False]


def test_optional_columns_with_missing_markers() -> None:
    records = [
        rec(
            channel="online",
            margin=3.5,
            product="tea",
            category="drinks",
            region="north",
            campaign="spring",
            in_control_group=True,
            discounted=True,
            resolved_at_first_contact=True,
            response_time=dt.timedelta(minutes=5),
        ),
        rec(kind="support", amount=None, resolved_at_first_contact=False),
        rec(kind="complaint", amount=None, channel=Channel.FIELD_SALES),
    ]
    table = InteractionTable.from_records(records)
    assert table.channels is not None
    # Channel codes are positions in Channel (online 1, field_sales 5); -1 means unknown.
    assert table.channels.tolist() == [1, -1, 5]
    assert table.margins is not None
    assert_allclose(table.margins, [3.5, np.nan, np.nan])
    assert table.products is not None
    assert table.products.tolist() == ["tea", None, None]
    assert table.categories is not None
    assert table.categories.tolist() == ["drinks", None, None]
    assert table.regions is not None
    assert table.regions.tolist() == ["north", None, None]
    assert table.campaigns is not None
    assert table.campaigns.tolist() == ["spring", None, None]
    assert table.in_control_group is not None
    assert table.in_control_group.tolist() == [True, False, False]
    assert table.discounted is not None
    assert table.discounted.tolist() == [True, False, False]
    assert table.resolved_at_first_contact is not None
    assert table.resolved_at_first_contact.tolist() == [1, 0, -1]
    assert table.response_times is not None
    assert table.response_times.dtype == np.dtype("timedelta64[ns]")
    # 5 minutes = 300 s = 3e11 ns.
    assert table.response_times[0] == np.timedelta64(300_000_000_000, "ns")
    assert np.isnat(table.response_times[1:]).all()


def test_survey_scale_columns() -> None:
    records = [
        rec(kind="survey", amount=None, survey_score=9, survey_scale=(0, 10)),
        rec(kind="survey", amount=None, survey_score=4, survey_scale=(1, 5)),
        rec(),
        rec(kind="support", amount=None, survey_score=2, survey_scale=(1, 7)),
    ]
    table = InteractionTable.from_records(records)
    assert table.survey_scores is not None
    assert table.survey_scale_min is not None
    assert table.survey_scale_max is not None
    assert_allclose(table.survey_scores, [9.0, 4.0, np.nan, 2.0])
    # Rows without an answer carry NaN for their scale too.
    assert_allclose(table.survey_scale_min, [0.0, 1.0, np.nan, 1.0])
    assert_allclose(table.survey_scale_max, [10.0, 5.0, np.nan, 7.0])


def test_columns_are_read_only() -> None:
    table = InteractionTable.from_records(
        [rec(channel="store", margin=1.0, response_time=dt.timedelta(0))]
    )
    for field in ("customer_codes", "times", "kinds", "amounts", "channels", "margins"):
        column = getattr(table, field)
        assert not column.flags.writeable, field
        with pytest.raises(ValueError, match="read-only"):
            column[0] = column[0]


def test_accepts_any_iterable() -> None:
    table = InteractionTable.from_records(rec(customer_id=i) for i in range(3))
    assert table.customer_ids.tolist() == [0, 1, 2]


def test_empty_input_gives_an_empty_table() -> None:
    table = InteractionTable.from_records([])
    assert len(table) == 0
    assert table.n_customers == 0
    assert table.times.shape == (0,)
    assert table.amounts.shape == (0,)


def test_rejects_objects_that_are_not_interactions() -> None:
    with pytest.raises(InputTypeError, match="found dict at index 1"):
        InteractionTable.from_records([rec(), rec().to_dict()])  # type: ignore[list-item]


def test_rejects_ids_that_cannot_be_ordered() -> None:
    with pytest.raises(InputTypeError, match="customer_ids must be mutually comparable"):
        InteractionTable.from_records([rec(customer_id=1), rec(customer_id="1")])


# Hypothesis: columns agree with the records, row by row.

zones = st.sampled_from([UTC, IST, PST]) | st.builds(
    dt.timezone,
    st.integers(min_value=-86399, max_value=86399).map(lambda s: dt.timedelta(seconds=s)),
)
record_times = st.datetimes(
    min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1), timezones=zones
)


@st.composite
def interactions(draw: st.DrawFn) -> Interaction:
    kind = draw(st.sampled_from(InteractionKind))
    amount = draw(st.floats(min_value=0, max_value=1e6))
    survey = kind is InteractionKind.SURVEY or draw(st.booleans())
    return Interaction(
        customer_id=draw(st.integers(min_value=0, max_value=5)),
        timestamp=draw(record_times),
        kind=kind,
        amount=None if kind not in ("purchase", "refund") and draw(st.booleans()) else amount,
        channel=draw(st.none() | st.sampled_from(Channel)),
        margin=draw(st.none() | st.floats(min_value=-1e3, max_value=1e3)),
        survey_score=draw(st.integers(min_value=1, max_value=5)) if survey else None,
        survey_scale=(1, 5),
        response_time=draw(
            st.none() | st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=99))
        ),
        lead_source=draw(st.none() | st.sampled_from(["web", "fair"]))
        if kind in (InteractionKind.LEAD, InteractionKind.OPPORTUNITY)
        else None,
        opportunity_stage=draw(st.sampled_from(OpportunityStage))
        if kind is InteractionKind.OPPORTUNITY
        else None,
    )


@given(st.lists(interactions(), min_size=1, max_size=12))
def test_columns_agree_with_records(records: list[Interaction]) -> None:
    table = InteractionTable.from_records(records)
    assert len(table) == len(records)
    assert table.row_customer_ids().tolist() == [r.customer_id for r in records]
    assert table.customer_ids.tolist() == sorted({r.customer_id for r in records})
    assert table.times.astype(np.int64).tolist() == [utc_ns(r.timestamp) for r in records]
    kinds = list(InteractionKind)
    assert table.kinds.tolist() == [kinds.index(r.kind) for r in records]
    assert_allclose(table.amounts, [0.0 if r.amount is None else r.amount for r in records])
    channels = list(Channel)
    if any(r.channel is not None for r in records):
        assert table.channels is not None
        assert table.channels.tolist() == [
            -1 if r.channel is None else channels.index(r.channel) for r in records
        ]
    else:
        assert table.channels is None
    if any(r.survey_score is not None for r in records):
        assert table.survey_scores is not None
        assert_allclose(
            table.survey_scores,
            [np.nan if r.survey_score is None else r.survey_score for r in records],
        )
    if any(r.response_time is not None for r in records):
        assert table.response_times is not None
        expected = [
            None if r.response_time is None else r.response_time // dt.timedelta(microseconds=1)
            for r in records
        ]
        got = [
            None if np.isnat(x) else int(x.astype(np.int64)) // 1000 for x in table.response_times
        ]
        assert got == expected
    stages = list(OpportunityStage)
    if any(r.opportunity_stage is not None for r in records):
        assert table.opportunity_stages is not None
        assert table.opportunity_stages.tolist() == [
            -1 if r.opportunity_stage is None else stages.index(r.opportunity_stage)
            for r in records
        ]
    else:
        assert table.opportunity_stages is None
    if any(r.lead_source is not None for r in records):
        assert table.lead_sources is not None
        assert table.lead_sources.tolist() == [r.lead_source for r in records]
    else:
        assert table.lead_sources is None


@given(st.lists(interactions(), min_size=1, max_size=12), st.randoms(use_true_random=False))
def test_row_order_is_kept(records: list[Interaction], random: Any) -> None:
    shuffled = list(records)
    random.shuffle(shuffled)
    a = InteractionTable.from_records(records)
    b = InteractionTable.from_records(shuffled)
    assert sorted(zip(a.row_customer_ids().tolist(), a.times.tolist(), strict=True)) == sorted(
        zip(b.row_customer_ids().tolist(), b.times.tolist(), strict=True)
    )
    assert b.times.astype(np.int64).tolist() == [utc_ns(r.timestamp) for r in shuffled]


# Times and durations numpy's nanosecond types cannot hold are refused, never wrapped.


def test_times_outside_the_nanosecond_range_are_refused() -> None:
    record = rec(timestamp=dt.datetime(1600, 1, 1, tzinfo=UTC))
    with pytest.raises(InputError, match=r"times\[0\] must lie between 1678-01-01 and 2261"):
        InteractionTable.from_records([record])


def test_huge_response_times_are_not_called_negative() -> None:
    record = rec(kind="support", amount=None, response_time=dt.timedelta(days=200_000))
    with pytest.raises(InputError, match="response_time at index 0 is too long") as info:
        InteractionTable.from_records([record])
    assert "negative" not in str(info.value)


def test_integer_ids_keep_an_integer_dtype() -> None:
    table = InteractionTable.from_records([rec(customer_id=2), rec(customer_id=1)])
    columns = InteractionTable.from_arrays(
        [2, 1], np.array(["2024-01-01", "2024-01-01"], dtype="datetime64[D]")
    )
    assert table.customer_ids.dtype == columns.customer_ids.dtype
