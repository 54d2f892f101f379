"""Bad inputs of every public simulator raise crmcore errors naming the argument;
documented bounds on sizes, durations and dates; properties of every simulator
(same seed, same draws; caller's arrays untouched; results read-only).

The bounds are those documented in the docstrings (n_customers <= 10**8,
n_periods <= 10**6, durations in days <= 36,525, the datetime64[ns] range).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from crmcore import CrmError, InputError, InputTypeError
from crmcore.simulate import (
    CampaignOptions,
    CatalogOptions,
    RefundOptions,
    SupportOptions,
    SurveyOptions,
    bgbb_histories,
    bgnbd_histories,
    customer_base,
    gamma_gamma_spend,
    mbgnbd_histories,
    pareto_nbd_histories,
    sbg_cohort,
)

START, END = "2024-01-01", "2025-06-30"
BAD_VALUES = [math.nan, -1, None, "x"]
HUGE = 10**12

FOUR = {"r": 0.3, "alpha": 4.0, "a": 0.8, "b": 2.5}
PARETO = {"r": 0.55, "alpha": 10.6, "s": 0.61, "beta": 11.7}
BGBB = {"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.78}

# (function, valid keyword arguments, arguments for which None is a valid value)
CALLS: list[tuple[Callable[..., Any], dict[str, Any], set[str]]] = [
    (
        bgnbd_histories,
        {**FOUR, "T": 10.0, "n_customers": 5, "duration_holdout": 1.0, "rng": 1},
        set(),
    ),
    (
        mbgnbd_histories,
        {**FOUR, "T": 10.0, "n_customers": 5, "duration_holdout": 1.0, "rng": 1},
        set(),
    ),
    (
        pareto_nbd_histories,
        {**PARETO, "T": 10.0, "n_customers": 5, "duration_holdout": 1.0, "rng": 1},
        set(),
    ),
    (
        bgbb_histories,
        {**BGBB, "n_periods": 4, "n_customers": 5, "n_periods_holdout": 2, "rng": 1},
        set(),
    ),
    (sbg_cohort, {"alpha": 0.7, "beta": 1.2, "n_customers": 5, "n_periods": 4, "rng": 1}, set()),
    (
        gamma_gamma_spend,
        {"p": 6.25, "q": 3.74, "v": 15.44, "frequency": [0, 1, 2], "rng": 1},
        set(),
    ),
    (
        customer_base,
        {
            "n_customers": 5,
            "start": START,
            "observation_end": END,
            "acquisition_days": 10.0,
            "model": "bgnbd",
            "purchase": (0.3, 4.0, 0.8, 2.5),
            "spend": (6.25, 3.74, 15.44),
            "time_unit": "W",
            "catalog": CatalogOptions(),
            "surveys": SurveyOptions(),
            "support": SupportOptions(),
            "campaigns": [CampaignOptions(name="c", send_day=100.0)],
            "refunds": RefundOptions(),
            "source_shares": {"consumer": 1.0},
            "rng": 1,
        },
        {"purchase", "catalog", "surveys", "support", "refunds", "source_shares"},
    ),
]
# Options: the class, required keyword arguments, fields for which None is valid.
OPTIONS: list[tuple[type, dict[str, Any], set[str]]] = [
    (SurveyOptions, {}, set()),
    (SupportOptions, {}, set()),
    (RefundOptions, {}, set()),
    (CatalogOptions, {}, {"category_shares", "channel_shares", "region_shares"}),
    (CampaignOptions, {"name": "c", "send_day": 1.0}, set()),
]


def _argument_cases() -> list[Any]:
    cases = []
    for fn, kwargs, none_ok in CALLS:
        for arg in kwargs:
            for bad in BAD_VALUES:
                if bad is None and arg in none_ok:
                    continue
                cases.append(pytest.param(fn, kwargs, arg, bad, id=f"{fn.__name__}-{arg}-{bad!r}"))
    return cases


@pytest.mark.parametrize(("fn", "kwargs", "arg", "bad"), _argument_cases())
def test_bad_argument_raises_naming_it(
    fn: Callable[..., Any], kwargs: dict[str, Any], arg: str, bad: object
) -> None:
    fn(**kwargs)  # the valid call works
    with pytest.raises(CrmError, match=rf"^{re.escape(arg)}\b") as info:
        fn(**{**kwargs, arg: bad})
    assert isinstance(info.value, InputError | InputTypeError)


def _option_cases() -> list[Any]:
    cases = []
    for cls, required, none_ok in OPTIONS:
        for field in attrs.fields(cls):
            for bad in BAD_VALUES:
                if bad is None and field.name in none_ok:
                    continue
                if bad == "x" and field.name == "name":  # any non-empty name is valid
                    continue
                cases.append(
                    pytest.param(
                        cls, required, field.name, bad, id=f"{cls.__name__}-{field.name}-{bad!r}"
                    )
                )
    return cases


@pytest.mark.parametrize(("cls", "required", "field", "bad"), _option_cases())
def test_bad_option_raises_naming_it(
    cls: type, required: dict[str, Any], field: str, bad: object
) -> None:
    with pytest.raises(CrmError, match=rf"^{cls.__name__}\.{field}\b"):
        cls(**{**required, field: bad})


# ----------------------------------------------------------------------------- bounds

SIZE_CASES = [
    (bgnbd_histories, CALLS[0][1], "n_customers", "n_customers must be <= 100000000"),
    (mbgnbd_histories, CALLS[1][1], "n_customers", "n_customers must be <= 100000000"),
    (pareto_nbd_histories, CALLS[2][1], "n_customers", "n_customers must be <= 100000000"),
    (bgbb_histories, CALLS[3][1], "n_customers", "n_customers must be <= 100000000"),
    (bgbb_histories, CALLS[3][1], "n_periods", "n_periods must be <= 1000000"),
    (bgbb_histories, CALLS[3][1], "n_periods_holdout", "n_periods_holdout must be <= 1000000"),
    (sbg_cohort, CALLS[4][1], "n_customers", "n_customers must be <= 100000000"),
    (sbg_cohort, CALLS[4][1], "n_periods", "n_periods must be <= 1000000"),
    (customer_base, CALLS[6][1], "n_customers", "n_customers must be <= 100000000"),
    (customer_base, CALLS[6][1], "acquisition_days", "acquisition_days must be <= 36525.0"),
]


@pytest.mark.parametrize(
    ("fn", "kwargs", "arg", "message"),
    SIZE_CASES,
    ids=[f"{c[0].__name__}-{c[2]}" for c in SIZE_CASES],
)
def test_huge_sizes_raise_without_allocating(
    fn: Callable[..., Any], kwargs: dict[str, Any], arg: str, message: str
) -> None:
    # 10**12 customers or periods would need terabytes (sbg_cohort counts per period).
    with pytest.raises(InputError, match=re.escape(message)):
        fn(**{**kwargs, arg: HUGE})


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: SurveyOptions(delay_days=1e9), "SurveyOptions.delay_days must be <= 36525.0"),
        (lambda: SupportOptions(delay_days=1e300), "SupportOptions.delay_days must be <= 36525.0"),
        (lambda: RefundOptions(delay_days=4e4), "RefundOptions.delay_days must be <= 36525.0"),
        (lambda: CampaignOptions(name="c", send_day=1e20), "CampaignOptions.send_day must be <="),
        (
            lambda: CampaignOptions(name="c", send_day=1.0, response_days=1e20),
            "CampaignOptions.response_days must be <=",
        ),
        (
            lambda: SupportOptions(median_response_hours=1e12),
            "SupportOptions.median_response_hours must be <= 876600.0",
        ),
        (
            lambda: CatalogOptions(products_per_category=HUGE),
            "CatalogOptions.products_per_category must be <= 100000",
        ),
    ],
)
def test_huge_durations_and_catalogues_raise(make: Callable[[], Any], message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        make()


def test_response_times_beyond_100_years_raise() -> None:
    # exp(40 * N(0, 1)) reaches 1e30 hours among a few hundred contacts.
    support = SupportOptions(contact_rate=1.0, response_sigma=40.0)
    with pytest.raises(
        InputError, match=r"support response times reach .*SupportOptions.response_sigma"
    ):
        customer_base(300, start=START, observation_end=END, support=support, rng=1)


def test_calendar_longer_than_100_years_raises() -> None:
    with pytest.raises(InputError, match=r"observation_end must be at most 36525 days"):
        customer_base(5, start="1800-01-01", observation_end="2200-01-01", rng=1)


@pytest.mark.parametrize(
    ("arg", "value"),
    [
        ("start", dt.datetime(1600, 1, 1)),
        ("start", dt.date(1677, 9, 1)),
        ("observation_end", dt.datetime(2262, 5, 1)),
        ("observation_end", np.datetime64("3000-01-01", "D")),
        ("observation_end", "3000-01-01"),
        ("start", "1500-01-01"),
    ],
)
def test_dates_outside_datetime64_ns_raise(arg: str, value: object) -> None:
    kwargs: dict[str, Any] = {"start": "2200-01-01", "observation_end": "2250-01-01", "rng": 1}
    with pytest.raises(InputError, match=rf"^{arg} must lie between 1678-01-01 and 2261-12-31"):
        customer_base(5, **{**kwargs, arg: value})


def test_delays_near_the_end_of_datetime64_do_not_wrap() -> None:
    # Times near 2262-04-11 plus delays of up to 100 years would overflow int64
    # nanoseconds; every row must still lie within [start, observation_end].
    start, end = np.datetime64("2261-09-01", "ns"), np.datetime64("2261-12-01", "ns")
    base = customer_base(
        300,
        start=start,
        observation_end=end,
        acquisition_days=30.0,
        time_unit="D",
        surveys=SurveyOptions(response_rate=1.0, delay_days=36_525.0),
        support=SupportOptions(contact_rate=1.0, delay_days=36_525.0),
        refunds=RefundOptions(probability=1.0, delay_days=36_525.0),
        campaigns=[CampaignOptions(name="c", send_day=60.0, response_days=36_525.0)],
        rng=2,
    )
    t = base.table
    assert np.all((t.times >= start) & (t.times <= end))
    assert int(t.kind_mask("refund").sum()) > 0


# ----------------------------------------------------------------------------- properties

seeds = st.integers(0, 2**32)


def _arrays(result: Any) -> dict[str, np.ndarray]:
    out = {}
    for f in attrs.fields(type(result)):
        value = getattr(result, f.name)
        if isinstance(value, np.ndarray):
            out[f.name] = value
        elif attrs.has(type(value)):
            out.update({f"{f.name}.{k}": v for k, v in _arrays(value).items()})
    return out


@given(index=st.integers(0, len(CALLS) - 1), seed=seeds)
def test_same_seed_same_draws_and_generator_equals_seed(index: int, seed: int) -> None:
    fn, kwargs, _ = CALLS[index]
    one = _arrays(fn(**{**kwargs, "rng": seed}))
    two = _arrays(fn(**{**kwargs, "rng": seed}))
    three = _arrays(fn(**{**kwargs, "rng": np.random.default_rng(seed)}))
    assert one.keys() == two.keys() == three.keys()
    for name, arr in one.items():
        assert_array_equal(arr, two[name], err_msg=name)
        assert_array_equal(arr, three[name], err_msg=name)
        assert not arr.flags.writeable, name


@given(
    T=st.lists(st.floats(0.0, 200.0), min_size=1, max_size=20),
    freq=st.lists(st.integers(0, 30), min_size=1, max_size=20),
    seed=seeds,
)
def test_caller_arrays_are_neither_mutated_nor_aliased(
    T: list[float], freq: list[int], seed: int
) -> None:
    t = np.asarray(T)
    t_before = t.copy()
    for fn, params in (
        (bgnbd_histories, FOUR),
        (mbgnbd_histories, FOUR),
        (pareto_nbd_histories, PARETO),
    ):
        h = fn(**params, T=t, duration_holdout=3.0, rng=seed)
        assert_array_equal(t, t_before)
        assert not np.shares_memory(h.T, t)
        assert np.all(h.frequency >= 0)
        assert np.all((h.recency >= 0) & (h.recency <= t))
        assert np.all(h.frequency_holdout >= 0)
    f = np.asarray(freq, dtype=np.int64)
    s = gamma_gamma_spend(6.25, 3.74, 15.44, frequency=f, rng=seed)
    assert_array_equal(f, freq)
    assert not np.shares_memory(s.frequency, f)
    assert np.all(s.monetary_value >= 0)


@given(
    n=st.integers(1, 40),
    periods=st.integers(1, 30),
    holdout=st.integers(0, 10),
    seed=seeds,
)
def test_discrete_counts_are_bounded(n: int, periods: int, holdout: int, seed: int) -> None:
    h = bgbb_histories(
        **BGBB, n_periods=periods, n_customers=n, n_periods_holdout=holdout, rng=seed
    )
    assert np.all((h.frequency >= 0) & (h.frequency <= h.recency) & (h.recency <= periods))
    assert np.all((h.frequency_holdout >= 0) & (h.frequency_holdout <= holdout))
    c = sbg_cohort(0.7, 1.2, n_customers=n, n_periods=periods, rng=seed)
    assert c.alive[0] == n
    assert np.all(c.alive >= 0)
    assert np.all(np.diff(c.alive) <= 0)
    assert np.all((c.survival >= 0) & (c.survival <= 1))


@given(
    n=st.integers(1, 25),
    probability=st.floats(0.0, 1.0),
    delay=st.floats(0.0, 400.0),
    extra=st.floats(0.0, 2.0),
    seed=seeds,
)
def test_every_row_lies_in_the_observation_window(
    n: int, probability: float, delay: float, extra: float, seed: int
) -> None:
    base = customer_base(
        n,
        start=START,
        observation_end=END,
        catalog=CatalogOptions(extra_items_mean=extra),
        surveys=SurveyOptions(response_rate=probability, delay_days=delay),
        support=SupportOptions(contact_rate=probability, delay_days=delay),
        refunds=RefundOptions(probability=probability, delay_days=max(delay, 0.01)),
        campaigns=[CampaignOptions(name="c", send_day=delay, response_days=max(delay, 0.01))],
        rng=seed,
    )
    t, h = base.table, base.histories
    assert np.all((t.times >= np.datetime64(START)) & (t.times <= np.datetime64(END)))
    assert np.all(t.amounts >= 0)
    assert np.all((h.recency >= 0) & (h.recency <= h.T))
    assert np.all(h.frequency >= 0)
    assert t.n_customers == n


@pytest.mark.parametrize(
    ("fn", "params"),
    [(bgnbd_histories, FOUR), (mbgnbd_histories, FOUR)],
)
@pytest.mark.parametrize("holdout", [1e300, 10**18])
def test_huge_duration_holdout_is_named(fn: Callable[..., Any], params: Any, holdout: Any) -> None:
    # The refusal blamed T and the rates only; the fuzz test wants the argument at fault named.
    with pytest.raises(
        InputError,
        match=r"holdout purchase count .* length and time unit of "
        r"duration_holdout",
    ):
        fn(**params, T=10.0, n_customers=5, duration_holdout=holdout, rng=1)
