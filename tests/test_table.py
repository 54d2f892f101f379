"""Tests of InteractionTable.from_arrays and factorize_ids."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from crmcore import InputError, InputTypeError, InteractionTable
from crmcore.table import KIND_CODES, factorize_ids

DAYS = np.array(["2024-01-01", "2024-01-02", "2024-01-03"], dtype="datetime64[D]")


def test_factorize_sorts_ids_and_maps_rows() -> None:
    uniques, codes = factorize_ids(np.array([10**12, 5, 10**12, -3]))
    assert uniques.tolist() == [-3, 5, 10**12]
    assert codes.tolist() == [2, 1, 2, 0]
    uniques, codes = factorize_ids(["b", "a", "b"])
    assert uniques.tolist() == ["a", "b"]
    assert codes.tolist() == [1, 0, 1]


@given(st.lists(st.integers(-(2**40), 2**40), min_size=1, max_size=50))
def test_factorize_round_trips_integers(ids: list[int]) -> None:
    arr = np.array(ids, dtype=np.int64)
    uniques, codes = factorize_ids(arr)
    assert_array_equal(uniques[codes], arr)
    assert (np.diff(uniques) > 0).all()


@given(st.lists(st.integers(0, 30), min_size=1, max_size=50))
def test_factorize_dense_path_matches_unique(ids: list[int]) -> None:
    arr = np.array(ids)
    uniques, codes = factorize_ids(arr)
    ref_u, ref_c = np.unique(arr, return_inverse=True)
    assert_array_equal(uniques, ref_u)
    assert_array_equal(codes, ref_c)


def test_factorize_errors() -> None:
    with pytest.raises(InputError, match=r"^ids must not hold missing ids"):
        factorize_ids(np.array([1.0, np.nan]))
    with pytest.raises(InputError, match=r"^ids must not hold missing ids"):
        factorize_ids(np.array(["a", None], dtype=object))
    with pytest.raises(InputTypeError, match="mutually comparable"):
        factorize_ids(np.array([1, "1"], dtype=object))
    with pytest.raises(InputTypeError, match="got booleans"):
        factorize_ids([True, False])


def _brute_force(values: list[Any]) -> tuple[list[Any], list[int]]:
    """Distinct ids by ``sorted(set(...))`` and each row's index among them."""
    distinct = sorted(set(values))
    index = {x: i for i, x in enumerate(distinct)}
    return distinct, [index[x] for x in values]


# Small alphabets (shared prefixes, "a" vs "a\x00b"), wide code points, surrogates, NULs.
_ID_TEXT = st.one_of(
    st.text(alphabet="ab\x00", max_size=6),
    st.text(alphabet="0123456789", max_size=25),
    st.text(alphabet=st.characters(codec=None), max_size=12),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz-@.", min_size=20, max_size=70),
)


@given(st.lists(_ID_TEXT, min_size=1, max_size=60))
def test_factorize_strings_matches_brute_force(ids: list[str]) -> None:
    # Object arrays keep every string as given (trailing NULs too); 'U' arrays hold
    # what numpy stores (trailing NULs dropped), in native and in swapped byte order.
    for arr in (
        np.array(ids, dtype=object),
        np.array(ids, dtype=str),
        np.array(ids, dtype=str).astype(np.array(ids, dtype=str).dtype.newbyteorder()),
    ):
        values = arr.tolist()
        uniques, codes = factorize_ids(arr)
        ref_uniques, ref_codes = _brute_force(values)
        assert uniques.dtype == arr.dtype
        assert uniques.tolist() == ref_uniques
        assert codes.dtype == np.int64
        assert codes.tolist() == ref_codes


@given(st.lists(st.text(alphabet="xy", max_size=4), min_size=1, max_size=40))
def test_factorize_strings_packed_sort_equals_argsort(ids: list[str]) -> None:
    from crmcore.table import _dense_codes

    keys = np.array([int("1" + s.replace("x", "0").replace("y", "1"), 2) for s in ids])
    keys = keys.astype(np.uint64)
    packed_codes, packed_rows = _dense_codes(keys, (keys.size - 1).bit_length())
    sorted_codes, sorted_rows = _dense_codes(keys, None)
    assert_array_equal(packed_codes, sorted_codes)
    assert_array_equal(keys[packed_rows], keys[sorted_rows])
    assert_array_equal(keys[packed_rows], np.unique(keys))


def test_factorize_strings_edge_cases() -> None:
    # Trailing and inner NULs, empty strings, lone surrogates and np.str_ in object arrays.
    ids = ["a", "a\x00", "", "\x00", "a\x00b", "\ud800", np.str_("b"), "a", ""]
    uniques, codes = factorize_ids(np.array(ids, dtype=object))
    ref_uniques, ref_codes = _brute_force(ids)
    assert uniques.dtype == object
    assert uniques.tolist() == ref_uniques
    assert codes.tolist() == ref_codes
    # Only empty strings; one id; a lone surrogate in a 'U' array; ids too long to pack.
    for arr in (
        np.array(["", ""]),
        np.array([""], dtype=object),
        np.array(["\ud800", "z", "\ud800"]),
        np.array(["\ud800", "z", "\ud800"], dtype=object),
    ):
        uniques, codes = factorize_ids(arr)
        assert (uniques.tolist(), codes.tolist()) == _brute_force(arr.tolist())
    rng = np.random.default_rng(3)
    long_ids = ["".join(rng.choice(list("abcdefgh"), 200)) for _ in range(30)] * 2
    for arr in (np.array(long_ids), np.array(long_ids, dtype=object)):
        uniques, codes = factorize_ids(arr)
        assert uniques.tolist() == _brute_force(long_ids)[0]
        assert codes.tolist() == _brute_force(long_ids)[1]


def test_factorize_string_columns_of_many_rows() -> None:
    # Enough rows and characters for several packed keys per string, compared with np.unique.
    rng = np.random.default_rng(11)
    words = np.array(["".join(w) for w in rng.choice(list("abcdefghij0123"), (2000, 30))])
    ids = words[rng.integers(0, words.size, 20_000)]
    ref_uniques, ref_codes = np.unique(ids, return_inverse=True)
    for arr in (ids, ids.astype(object), pd.Series(ids).to_numpy(), pl.Series(ids).to_numpy()):
        uniques, codes = factorize_ids(arr)
        assert_array_equal(uniques, ref_uniques)
        assert_array_equal(codes, ref_codes)
    t = InteractionTable.from_arrays(pd.Series(ids), np.full(ids.size, DAYS[0]))
    assert t.customer_ids.dtype == object
    assert_array_equal(t.row_customer_ids(), ids)


def test_factorize_mixed_objects_take_the_general_path() -> None:
    with pytest.raises(InputTypeError, match="mutually comparable"):
        factorize_ids(np.array(["a", 1, "b"], dtype=object))
    with pytest.raises(InputError, match=r"must not hold missing ids.*index 2"):
        factorize_ids(np.array(["a", "b", np.nan], dtype=object))
    uniques, codes = factorize_ids(np.array([3, 1, 3], dtype=object))
    assert uniques.tolist() == [1, 3]
    assert codes.tolist() == [1, 0, 1]


def test_from_arrays_defaults_and_columns() -> None:
    t = InteractionTable.from_arrays([3, 1, 3], DAYS, amounts=[1.0, 2.0, 3.0])
    assert t.customer_ids.tolist() == [1, 3]
    assert t.kinds.tolist() == [KIND_CODES["purchase"]] * 3  # type: ignore[index]
    assert t.times.dtype == np.dtype("datetime64[ns]")
    assert t.is_purchase.all()
    assert t.row_customer_ids().tolist() == [3, 1, 3]
    assert not t.amounts.flags.writeable
    no_amount = InteractionTable.from_arrays([1], DAYS[:1])
    assert no_amount.amounts.tolist() == [0.0]


def test_from_arrays_accepts_pandas_and_polars_columns() -> None:
    # A timezone-aware pandas column at UTC+02:00 is converted to UTC.
    idx = pd.Series(pd.to_datetime(["2024-01-01 01:00", "2024-01-01 03:00"])).dt.tz_localize(
        "Etc/GMT-2"
    )
    t = InteractionTable.from_arrays(pd.Series(["a", "b"]), idx, amounts=pd.Series([1.0, 2.0]))
    assert t.times.tolist() == [
        np.datetime64("2023-12-31T23:00", "ns").item(),
        np.datetime64("2024-01-01T01:00", "ns").item(),
    ]
    # polars columns, naive (taken as UTC) and aware
    naive = pl.Series([dt.datetime(2024, 1, 1, 5), dt.datetime(2024, 1, 2, 5)])
    t2 = InteractionTable.from_arrays(pl.Series([1, 2]), naive, amounts=pl.Series([3.0, 4.0]))
    assert t2.times[0] == np.datetime64("2024-01-01T05:00", "ns")
    aware = naive.dt.replace_time_zone("Etc/GMT-5")
    t3 = InteractionTable.from_arrays([1, 2], aware)
    assert t3.times[0] == np.datetime64("2024-01-01T00:00", "ns")


def test_from_arrays_converts_aware_datetimes_and_rejects_mixtures() -> None:
    tz = dt.timezone(dt.timedelta(hours=-3))
    times = [dt.datetime(2024, 1, 1, 22, tzinfo=tz), dt.datetime(2024, 1, 2, tzinfo=dt.UTC)]
    t = InteractionTable.from_arrays([1, 1], times)
    assert t.times[0] == np.datetime64("2024-01-02T01:00", "ns")
    with pytest.raises(InputError, match=r"times mixes timezone-aware and naive.*index 1"):
        InteractionTable.from_arrays([1, 1], [times[0], dt.datetime(2024, 1, 2)])


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"amounts": [1.0, np.nan, 2.0]}, InputError, r"amounts must be finite.*index 1"),
        ({"amounts": [1.0, np.inf, 2.0]}, InputError, "amounts must be finite"),
        ({"amounts": [1.0, -2.0, 2.0]}, InputError, r"purchases must be non-negative.*-2.0"),
        ({"amounts": [1.0, 2.0]}, InputError, "amounts must have the same length"),
        ({"amounts": ["a", "b", "c"]}, InputTypeError, "amounts must hold numbers"),
        (
            {"kinds": ["purchase", "gift", "visit"]},
            InputError,
            r"kinds has an unknown value 'gift'",
        ),
        ({"kinds": [0, 9, 1]}, InputError, "kinds codes must lie in"),
        ({"channels": ["online", "fax", "store"]}, InputError, "channels has an unknown value"),
        (
            {"survey_scores": [3.0, np.nan, np.nan]},
            InputTypeError,
            "needs survey_scale_min",
        ),
        (
            {
                "survey_scores": [11.0, np.nan, np.nan],
                "survey_scale_min": [0, np.nan, np.nan],
                "survey_scale_max": [10, np.nan, np.nan],
            },
            InputError,
            "survey_scores must lie inside their scale",
        ),
        ({"in_control_group": [1, 2, 0]}, InputError, "in_control_group must hold booleans"),
        ({"resolved_at_first_contact": [1, 0, 5]}, InputError, "resolved_at_first_contact must"),
        ({"products": ["a", "b"]}, InputError, "products must have 3 values"),
    ],
)
def test_from_arrays_rejects_bad_columns(kwargs: dict[str, Any], exc: type, match: str) -> None:
    with pytest.raises(exc, match=match):
        InteractionTable.from_arrays([1, 2, 3], DAYS, **kwargs)


def test_from_arrays_rejects_bad_times_and_lengths() -> None:
    with pytest.raises(InputError, match="times must have the same length"):
        InteractionTable.from_arrays([1, 2], DAYS)
    with pytest.raises(InputError, match=r"times must not hold missing times \(NaT\)"):
        InteractionTable.from_arrays(
            [1, 2], np.array(["2024-01-01", "NaT"], dtype="datetime64[ns]")
        )
    with pytest.raises(InputTypeError, match="times must hold datetimes"):
        InteractionTable.from_arrays([1, 2], [1.5, 2.5])
    with pytest.raises(InputTypeError, match="times must hold datetimes; found int"):
        InteractionTable.from_arrays([1, 2], np.array([dt.datetime(2024, 1, 1), 3], dtype=object))


def test_negative_refund_amounts_are_allowed_and_response_times_checked() -> None:
    t = InteractionTable.from_arrays(
        [1, 1], DAYS[:2], kinds=["purchase", "refund"], amounts=[5.0, -5.0]
    )
    assert t.amounts.tolist() == [5.0, -5.0]
    with pytest.raises(InputError, match="response_times must not be negative"):
        InteractionTable.from_arrays(
            [1, 1], DAYS[:2], response_times=np.array([-1, 2], dtype="timedelta64[s]")
        )


def test_select_refactorises_customers() -> None:
    t = InteractionTable.from_arrays(
        [5, 7, 5], DAYS, amounts=[1.0, 2.0, 3.0], products=["p", "q", "r"]
    )
    sub = t.select(np.array([True, False, True]))
    assert sub.customer_ids.tolist() == [5]
    assert sub.products is not None
    assert sub.products.tolist() == ["p", "r"]
    with pytest.raises(InputError, match="rows mask must have length 3"):
        t.select(np.array([True, False]))


def test_kind_mask() -> None:
    t = InteractionTable.from_arrays([1, 2], DAYS[:2], kinds=["visit", "purchase"])
    assert t.kind_mask("visit").tolist() == [True, False]
    with pytest.raises(InputError, match="kind must be one of"):
        t.kind_mask("gift")


def test_from_arrays_takes_a_tz_aware_datetime_index() -> None:
    # A DatetimeIndex has tz_convert itself (no .dt accessor): AttributeError before.
    # 2024-01-03 00:00 in Berlin (CET, UTC+1) is 2024-01-02T23:00 UTC.
    times = pd.DatetimeIndex(["2024-01-03 00:00", "2024-07-01 02:00"]).tz_localize("Europe/Berlin")
    table = InteractionTable.from_arrays(["a", "b"], times)
    expected = np.array(["2024-01-02T23:00", "2024-07-01T00:00"], dtype="datetime64[ns]")
    assert_array_equal(table.times, expected)


def test_factorize_dense_integers_at_the_ends_of_their_type() -> None:
    # Dense ids near the top of uint64 (above 2**63: their offsets from the smallest
    # are computed in the ids' own type) and int8 ids across its whole range; the
    # reference is np.unique (found raising OverflowError for the uint64 ids).
    for ids in (
        np.array([2**63 + 5, 2**63 + 1, 2**64 - 1, 2**63 + 1], dtype=np.uint64),
        np.array([-3, 5, -3, 127, -128], dtype=np.int8),
        np.array([4, 0, 2, 0], dtype=np.intp),
    ):
        uniques, codes = factorize_ids(ids)
        ref, inverse = np.unique(ids, return_inverse=True)
        assert uniques.dtype == ids.dtype
        assert uniques.tolist() == ref.tolist()
        assert codes.tolist() == inverse.tolist()
